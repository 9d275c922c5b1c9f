/*
 * test_billing.c — the entitlement engine (billing.h) driven directly, with a
 * test store: `emit` keeps a copy of every record the engine writes (stored
 * or not), drops repeats of a message id as the event store does, can fail
 * durable writes, and can run a hook in the middle of a write (a second
 * check while the first one's record is being written). Events "ingested"
 * go into the same log, so a restart is a fresh engine fed the log.
 *
 * Covered: every limit kind (count, sum, unique, max, seats, features), hard
 * and soft limits, unlimited plans, near-limit and denial prompts and the
 * upgrade target, the exact records written and their once-a-day message
 * ids; preflight; errors; calendar and anniversary periods at their edges
 * (leap and common Februaries, an account created on the 31st);
 * idempotency (the table, the store's deduplication, a failed write);
 * reservations under concurrency; the feed (own records, a restart); plan
 * changes by event time; trials (start, reminders, expiry, conversion).
 */
#include "../test.h"
#include "flywheel/billing.h"
#include "flywheel/config.h"
#include "flywheel/dict.h"
#include "flywheel/json.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#define DAY FW_MS_PER_DAY
#define HOUR 3600000LL

static int64_t at(const char *iso)
{
	int64_t ms = 0;
	if (fw_time_parse_iso(iso, strlen(iso), &ms)) {
		fprintf(stderr, "bad time %s\n", iso);
		abort();
	}
	return ms;
}

/* A NUL-terminated copy of `s` (a ring of buffers: for messages and CHECKs). */
static const char *S(struct fw_str s)
{
	static char ring[8][4096];
	static int k;
	char *b = ring[k++ & 7];
	snprintf(b, sizeof ring[0], "%.*s", (int)s.len, s.p ? s.p : "");
	return b;
}

static const char *iso(int64_t ms)
{
	static char ring[8][32];
	static int k;
	char *b = ring[k++ & 7];
	fw_time_format_iso(ms, b);
	return b;
}

/* ---- the test store ---- */

struct rec {
	struct fw_event ev; /* strings point into text */
	char *text;
	int stored;   /* 0: a repeat of a message id the store held */
	int durable;  /* written with `durable` */
	uint64_t seq; /* log position, when stored */
};

struct coll {
	pthread_mutex_t mu;
	struct rec *v;
	size_t n, cap;
	struct fw_dict ids;
	uint64_t next_seq;
	int fail_durable;	 /* answer durable writes with FW_EIO */
	void (*hook)(void *arg); /* run once at the start of the next write */
	void *hook_arg;
};

static struct fw_str copy_str(char **to, struct fw_str s)
{
	struct fw_str o = {*to, s.len};
	if (s.len)
		memcpy(*to, s.p, s.len);
	*to += s.len;
	return o;
}

/* The lock is held. */
static void coll_add(struct coll *c, const struct fw_event *e, int stored, int durable)
{
	size_t len = (size_t)e->message_id.len + e->event.len + e->user_id.len +
		     e->anonymous_id.len + e->group_id.len + e->previous_id.len +
		     e->properties.len + e->traits.len + e->context.len + 1;
	struct rec r = {.ev = *e, .stored = stored, .durable = durable};
	r.text = malloc(len);
	char *p = r.text;
	r.ev.message_id = copy_str(&p, e->message_id);
	r.ev.event = copy_str(&p, e->event);
	r.ev.user_id = copy_str(&p, e->user_id);
	r.ev.anonymous_id = copy_str(&p, e->anonymous_id);
	r.ev.group_id = copy_str(&p, e->group_id);
	r.ev.previous_id = copy_str(&p, e->previous_id);
	r.ev.properties = copy_str(&p, e->properties);
	r.ev.traits = copy_str(&p, e->traits);
	r.ev.context = copy_str(&p, e->context);
	if (stored)
		r.seq = c->next_seq++;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->v = realloc(c->v, c->cap * sizeof *c->v);
	}
	c->v[c->n++] = r;
}

/* Append to the log unless the message id is there; 1 if stored. */
static int coll_append(struct coll *c, const struct fw_event *e, int durable)
{
	int isnew = fw_dict_find(&c->ids, e->message_id.p, e->message_id.len) == UINT32_MAX;
	if (isnew)
		fw_dict_intern(&c->ids, e->message_id.p, e->message_id.len);
	coll_add(c, e, isnew, durable);
	return isnew;
}

static int emit(void *ctx, const struct fw_event *ev, size_t n, uint8_t *stored, int durable,
		struct fw_err *err)
{
	struct coll *c = ctx;
	pthread_mutex_lock(&c->mu);
	void (*hook)(void *) = c->hook;
	void *arg = c->hook_arg;
	c->hook = NULL;
	pthread_mutex_unlock(&c->mu);
	if (hook)
		hook(arg);
	pthread_mutex_lock(&c->mu);
	if (durable && c->fail_durable) {
		pthread_mutex_unlock(&c->mu);
		return fw_error(err, FW_EIO, "test: the disk refuses to sync");
	}
	for (size_t i = 0; i < n; i++)
		stored[i] = (uint8_t)coll_append(c, &ev[i], durable);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static void coll_release(struct coll *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].text);
	free(c->v);
	fw_dict_release(&c->ids);
	pthread_mutex_destroy(&c->mu);
}

/* ---- a fixture: config, store, engine ---- */

struct fx {
	struct fw_config cfg;
	struct coll col;
	struct fw_billing *b;
	uint64_t fed; /* the log is fed up to here */
	int nmid;
};

static int fx_open(struct fx *f, const char *yaml)
{
	memset(f, 0, sizeof *f);
	char path[400];
	snprintf(path, sizeof path, "%s/flywheel.yaml", fw_test_tmpdir());
	FILE *fp = fopen(path, "wb");
	if (!fp) {
		fw_test_failures++;
		return -1;
	}
	fputs(yaml, fp);
	fclose(fp);
	struct fw_config_error errs[16];
	size_t n = 0;
	struct fw_err err = {0};
	int rc = fw_config_load(&f->cfg, path, errs, 16, &n, &err);
	if (rc) {
		fprintf(stderr, "  config: %s\n", err.msg);
		for (size_t i = 0; i < n && i < 16; i++)
			fprintf(stderr, "    %d:%d: %s\n", errs[i].line, errs[i].column,
				errs[i].msg);
		fw_test_failures++;
		return rc;
	}
	pthread_mutex_init(&f->col.mu, NULL);
	fw_dict_init(&f->col.ids);
	f->b = fw_billing_new(&f->cfg, emit, &f->col);
	fw_billing_set_ready(f->b, 1);
	return 0;
}

static void fx_close(struct fx *f)
{
	fw_billing_free(f->b);
	coll_release(&f->col);
	fw_config_release(&f->cfg);
}

/* Feed the engine what the log holds past where it is (the server's billing
 * thread does this every 20 ms). */
static void catch_up(struct fx *f)
{
	for (size_t i = 0; i < f->col.n; i++)
		if (f->col.v[i].stored && f->col.v[i].seq >= f->fed)
			fw_billing_feed(f->b, f->col.v[i].seq, &f->col.v[i].ev);
	f->fed = f->col.next_seq;
	fw_billing_fed_to(f->b, f->fed);
}

/* A restart: a fresh engine reads the whole log with its feed clock at
 * `now`, then is ready. */
static void fx_restart(struct fx *f, int64_t now)
{
	fw_billing_free(f->b);
	f->b = fw_billing_new(&f->cfg, emit, &f->col);
	f->fed = 0;
	fw_billing_set_now(f->b, now);
	catch_up(f);
	CHECK_EQ_INT(fw_billing_next_seq(f->b), f->col.next_seq);
	fw_billing_set_ready(f->b, 1);
}

/* An event that came in through an SDK: into the log, then the feed. */
static void ingest(struct fx *f, int type, int64_t t, const char *user, const char *group,
		   const char *name, const char *body)
{
	char mid[32];
	snprintf(mid, sizeof mid, "sdk-%d", ++f->nmid);
	struct fw_event e = {.time_ms = t,
			     .received_ms = t,
			     .type = (uint8_t)type,
			     .source = FW_SRC_SEGMENT,
			     .message_id = fw_str_c(mid),
			     .user_id = fw_str_c(user),
			     .group_id = fw_str_c(group)};
	if (type == FW_MSG_GROUP) {
		e.traits = fw_str_c(body);
	} else {
		e.event = fw_str_c(name);
		e.properties = fw_str_c(body);
	}
	pthread_mutex_lock(&f->col.mu);
	coll_append(&f->col, &e, 1);
	pthread_mutex_unlock(&f->col.mu);
	catch_up(f);
}

static void track(struct fx *f, int64_t t, const char *user, const char *group, const char *name,
		  const char *props)
{
	ingest(f, FW_MSG_TRACK, t, user, group, name, props);
}

/* Records written, by name: all attempts, or only those the store kept. */
static int nemitted(struct fx *f, const char *name)
{
	int n = 0;
	for (size_t i = 0; i < f->col.n; i++)
		n += fw_str_eq(f->col.v[i].ev.event, name) &&
		     f->col.v[i].ev.source == FW_SRC_INTERNAL;
	return n;
}

static int nstored(struct fx *f, const char *name)
{
	int n = 0;
	for (size_t i = 0; i < f->col.n; i++)
		n += fw_str_eq(f->col.v[i].ev.event, name) && f->col.v[i].stored &&
		     f->col.v[i].ev.source == FW_SRC_INTERNAL;
	return n;
}

/* The k-th (0-based) record named `name` the engine wrote, stored or not. */
static const struct rec *written(struct fx *f, const char *name, int k)
{
	for (size_t i = 0; i < f->col.n; i++)
		if (fw_str_eq(f->col.v[i].ev.event, name) &&
		    f->col.v[i].ev.source == FW_SRC_INTERNAL && k-- == 0)
			return &f->col.v[i];
	return NULL;
}

/* One record exactly: name, message id, person, account, time, properties. */
static void check_rec(int line, const struct rec *r, const char *name, const char *id,
		      const char *user, const char *group, int64_t t, const char *props)
{
	if (!r) {
		fprintf(stderr, "  test_billing.c:%d: no record %s\n", line, name);
		fw_test_failures++;
		return;
	}
	int bad = !fw_str_eq(r->ev.event, name) || !fw_str_eq(r->ev.message_id, id) ||
		  !fw_str_eq(r->ev.user_id, user) || !fw_str_eq(r->ev.group_id, group) ||
		  r->ev.time_ms != t || !fw_str_eq(r->ev.properties, props) ||
		  r->ev.source != FW_SRC_INTERNAL || r->ev.type != FW_MSG_TRACK;
	if (bad) {
		fprintf(stderr,
			"  test_billing.c:%d: record\n    got  %s id=%s user=%s group=%s t=%s "
			"src=%d %s\n"
			"    want %s id=%s user=%s group=%s t=%s src=%d %s\n",
			line, S(r->ev.event), S(r->ev.message_id), S(r->ev.user_id),
			S(r->ev.group_id), iso(r->ev.time_ms), r->ev.source, S(r->ev.properties),
			name, id, user, group, iso(t), FW_SRC_INTERNAL, props);
		fw_test_failures++;
	}
}

/* ---- checks ---- */

struct ck {
	const char *acct, *user, *meter, *feature, *value, *rid;
	double q; /* 0: 1 (use q0 for a quantity of 0) */
	int q0, preflight;
	int64_t now;
};

static struct fw_check check_of(struct ck k)
{
	struct fw_check c = {.account = fw_str_c(k.acct ? k.acct : "A"),
			     .user_id = fw_str_c(k.user ? k.user : ""),
			     .kind = k.feature ? FW_CHECK_FEATURE : FW_CHECK_METER,
			     .feature = fw_str_c(k.feature ? k.feature : ""),
			     .meter = fw_str_c(k.meter ? k.meter : ""),
			     .quantity = k.q0  ? 0
					 : k.q ? k.q
					       : 1,
			     .value = fw_str_c(k.value ? k.value : ""),
			     .consume = !k.preflight,
			     .request_id = fw_str_c(k.rid ? k.rid : ""),
			     .now_ms = k.now};
	return c;
}

static int run(struct fx *f, struct ck k, struct fw_check_result *r, struct fw_err *err)
{
	struct fw_check c = check_of(k);
	struct fw_err scratch = {0};
	return fw_billing_check(f->b, &c, r, err ? err : &scratch);
}

/* A check that must succeed (rc 0). */
static struct fw_check_result ok_run(int line, struct fx *f, struct ck k)
{
	struct fw_check_result r;
	struct fw_err err = {0};
	int rc = run(f, k, &r, &err);
	if (rc) {
		fprintf(stderr, "  test_billing.c:%d: check rc %d: %s\n", line, rc, err.msg);
		fw_test_failures++;
	}
	return r;
}
#define RUN(f, ...) ok_run(__LINE__, f, (struct ck){__VA_ARGS__})

static const char *prompt_to(const struct fw_check_result *r)
{
	return r->prompt.show && r->prompt.to ? r->prompt.to->name : "(none)";
}

static const char *unlocks(const struct fw_check_result *r)
{
	static char b[256];
	b[0] = 0;
	for (size_t i = 0; i < r->prompt.nunlocks; i++)
		snprintf(b + strlen(b), sizeof b - strlen(b), "%s%s", i ? "," : "",
			 r->prompt.unlocks[i]);
	return b;
}

static const char *period_of(const struct fw_check_result *r)
{
	static char b[80];
	snprintf(b, sizeof b, "%s..%s", iso(r->period.start_ms), iso(r->period.end_ms));
	return b;
}

/* GET /api/v1/entitlements/ACCOUNT, parsed into `a`. */
static const struct fw_json *account(struct fx *f, const char *acct, int64_t now,
				     struct fw_arena *a)
{
	struct fw_buf b = {0};
	fw_billing_account_json(f->b, fw_str_c(acct), now, &b);
	char *text = fw_arena_strndup(a, b.data, b.len);
	fw_buf_release(&b);
	struct fw_json *j = NULL;
	struct fw_json_error je;
	if (fw_json_parse(a, text, strlen(text), &j, &je)) {
		fprintf(stderr, "  account JSON does not parse: %s\n", text);
		fw_test_failures++;
		return NULL;
	}
	return j;
}

static double num(const struct fw_json *o, const char *key)
{
	const struct fw_json *v = o ? fw_json_get(o, key) : NULL;
	if (!v || v->type != FW_JSON_NUMBER)
		return NAN;
	return v->is_int ? (double)v->i : v->u.num;
}

static const struct fw_json *meter_entry(const struct fw_json *acct, const char *meter)
{
	const struct fw_json *ms = acct ? fw_json_get(acct, "meters") : NULL;
	for (const struct fw_json *m = ms ? ms->u.child : NULL; m; m = m->next)
		if (fw_str_eq(fw_json_get_str(m, "meter"), meter))
			return m;
	return NULL;
}

/* The meter's usage now, as GET /api/v1/entitlements/ACCOUNT shows it (a
 * check would write a prompt near the limit). */
static double usage_of(struct fx *f, const char *acct, const char *meter, int64_t now)
{
	struct fw_arena a = {0};
	double u = num(meter_entry(account(f, acct, now, &a), meter), "usage");
	fw_arena_release(&a);
	return u;
}

/* The notes of one tick. */
struct notes {
	struct fw_trial_note *v;
	size_t n;
};

static struct notes tick(struct fx *f, int64_t now)
{
	struct notes x = {0};
	struct fw_err err = {0};
	int rc = fw_billing_tick(f->b, now, &x.v, &x.n, &err);
	if (rc) {
		fprintf(stderr, "  tick at %s: rc %d %s\n", iso(now), rc, err.msg);
		fw_test_failures++;
	}
	return x;
}

static int nnotes(const struct notes *x, enum fw_trial_news what, const char *acct)
{
	int n = 0;
	for (size_t i = 0; i < x->n; i++)
		n += x->v[i].what == what && !strcmp(x->v[i].account, acct);
	return n;
}

static const struct fw_trial_note *note(const struct notes *x, enum fw_trial_news what,
					const char *acct)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->v[i].what == what && !strcmp(x->v[i].account, acct))
			return &x->v[i];
	return NULL;
}

/* ---- configs ---- */

static const char CFG[] =
    "default_plan: free\n"
    "plans:\n"
    "  free:\n"
    "    price: 0\n"
    "    limits:\n"
    "      seats: 3\n"
    "      api_calls: 10\n"
    "      tokens: {limit: 1000, hard: false}\n"
    "      projects: 2\n"
    "      workers: 4\n"
    "    upgrade_to: pro\n"
    "  trial: {price: 0, trial_days: 14, trial_ends_to: free, limits: {seats: 10}, features: "
    "[sso]}\n"
    "  pro:\n"
    "    price: 49\n"
    "    limits: {seats: 20, api_calls: 100000, tokens: 100000}\n"
    "    features: [sso, audit_log]\n"
    "    upgrade_to: enterprise\n"
    "  enterprise: {price: 499, features: [sso, audit_log, scim]}\n"
    "meters:\n"
    "  api_calls: {events: [API Call]}\n"
    "  tokens: {events: [Completion], aggregate: sum, property: tokens}\n"
    "  projects: {events: [Project Created], aggregate: unique, property: project_id}\n"
    "  workers: {events: [Workers Measured], aggregate: max, property: n}\n"
    "  storage_gb: {events: [Storage Measured], aggregate: sum, property: gb, period: "
    "anniversary}\n"
    "entitlements:\n"
    "  prompt_share: 0.8\n";

/* ---- limit kinds ---- */

TEST(billing_count_meter_hard_limit_prompts_and_records)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	char rid[16];
	for (int i = 1; i <= 10; i++) {
		snprintf(rid, sizeof rid, "r%d", i);
		struct fw_check_result r =
		    RUN(&f, .user = "u1", .meter = "api_calls", .rid = rid, .now = now);
		CHECK_EQ_INT(r.allowed, 1);
		CHECK_EQ_INT(r.consumed, 1);
		CHECK_EQ_INT(r.replayed, 0);
		CHECK_EQ_INT(r.has_limit, 1);
		CHECK_EQ_INT(r.hard, 1);
		CHECK(r.limit == 10);
		CHECK_EQ_INT((int)r.usage, i - 1);
		CHECK_EQ_INT((int)r.remaining, 10 - i);
		CHECK_EQ_STR(r.plan_name, "free");
		CHECK_EQ_STR(period_of(&r), "2026-03-01T00:00:00.000Z..2026-04-01T00:00:00.000Z");
		CHECK_EQ_INT(r.reset_ms, at("2026-04-01T00:00:00Z"));
		/* 8 of 10 is prompt_share: near the limit, with the prompt */
		CHECK_EQ_INT(r.reason, i < 8 ? FW_CHECK_OK : FW_CHECK_NEAR_LIMIT);
		CHECK_EQ_INT(r.prompt.show, i >= 8);
		if (i >= 8) {
			CHECK_EQ_STR(prompt_to(&r), "pro");
			CHECK(r.prompt.limit == 100000);
		}
	}
	struct fw_check_result d =
	    RUN(&f, .user = "u1", .meter = "api_calls", .rid = "r11", .now = now);
	CHECK_EQ_INT(d.allowed, 0);
	CHECK_EQ_INT(d.reason, FW_CHECK_LIMIT);
	CHECK_EQ_INT(d.consumed, 0);
	CHECK(d.usage == 10 && d.remaining == 0 && d.limit == 10 && d.overage == 0);
	CHECK_EQ_STR(prompt_to(&d), "pro");
	CHECK(d.prompt.to && d.prompt.to->price == 49);
	CHECK(d.prompt.limit == 100000);
	CHECK_EQ_STR(unlocks(&d), "sso,audit_log");
	CHECK(usage_of(&f, "A", "api_calls", now) == 10); /* nothing consumed by the denial */

	/* the records: ten $usage, one prompt a day, one Limit Reached a day */
	CHECK_EQ_INT(nstored(&f, FW_USAGE_EVENT), 10);
	check_rec(__LINE__, written(&f, FW_USAGE_EVENT, 0), "$usage", "fw:use:r1", "u1", "A", now,
		  "{\"meter\":\"api_calls\",\"quantity\":1,\"request_id\":\"r1\"}");
	check_rec(__LINE__, written(&f, FW_USAGE_EVENT, 9), "$usage", "fw:use:r10", "u1", "A", now,
		  "{\"meter\":\"api_calls\",\"quantity\":1,\"request_id\":\"r10\"}");
	CHECK_EQ_INT(written(&f, FW_USAGE_EVENT, 0)->durable, 1);
	CHECK_EQ_INT(nemitted(&f, FW_PROMPT_SHOWN_EVENT), 4); /* checks 8, 9, 10 and the denial */
	CHECK_EQ_INT(nstored(&f, FW_PROMPT_SHOWN_EVENT), 1);
	for (int k = 0; k < 4; k++)
		CHECK_EQ_STR(S(written(&f, FW_PROMPT_SHOWN_EVENT, k)->ev.message_id),
			     "fw:prompt:A:api_calls:u1:2026-03-10");
	check_rec(__LINE__, written(&f, FW_PROMPT_SHOWN_EVENT, 0), FW_PROMPT_SHOWN_EVENT,
		  "fw:prompt:A:api_calls:u1:2026-03-10", "u1", "A", now + 1,
		  "{\"limit\":\"api_calls\",\"plan\":\"free\",\"upgrade_to\":\"pro\",\"price\":49,"
		  "\"reason\":\"near_limit\"}");
	check_rec(__LINE__, written(&f, FW_PROMPT_SHOWN_EVENT, 3), FW_PROMPT_SHOWN_EVENT,
		  "fw:prompt:A:api_calls:u1:2026-03-10", "u1", "A", now + 1,
		  "{\"limit\":\"api_calls\",\"plan\":\"free\",\"upgrade_to\":\"pro\",\"price\":49,"
		  "\"reason\":\"denied\"}");
	CHECK_EQ_INT(nemitted(&f, FW_LIMIT_REACHED_EVENT), 1);
	check_rec(
	    __LINE__, written(&f, FW_LIMIT_REACHED_EVENT, 0), FW_LIMIT_REACHED_EVENT,
	    "fw:limit:A:api_calls:u1:2026-03-10", "u1", "A", now,
	    "{\"limit\":\"api_calls\",\"plan\":\"free\",\"usage\":10,\"max\":10,\"requested\":1,"
	    "\"hard\":true}");
	CHECK_EQ_INT(written(&f, FW_LIMIT_REACHED_EVENT, 0)->durable, 0);

	/* a second denial the same day: the same message ids, nothing new kept */
	d = RUN(&f, .user = "u1", .meter = "api_calls", .q = 3, .rid = "r12", .now = now + HOUR);
	CHECK_EQ_INT(d.allowed, 0);
	CHECK_EQ_INT(nemitted(&f, FW_LIMIT_REACHED_EVENT), 2);
	CHECK_EQ_INT(nstored(&f, FW_LIMIT_REACHED_EVENT), 1);
	CHECK_EQ_STR(S(written(&f, FW_LIMIT_REACHED_EVENT, 1)->ev.message_id),
		     "fw:limit:A:api_calls:u1:2026-03-10");
	CHECK_EQ_INT(nstored(&f, FW_PROMPT_SHOWN_EVENT), 1);
	/* another person, and the next day: new ids */
	RUN(&f, .user = "u2", .meter = "api_calls", .rid = "r13", .now = now + HOUR);
	RUN(&f, .user = "u1", .meter = "api_calls", .rid = "r14", .now = now + DAY);
	CHECK_EQ_INT(nstored(&f, FW_LIMIT_REACHED_EVENT), 3);
	CHECK_EQ_STR(S(written(&f, FW_LIMIT_REACHED_EVENT, 2)->ev.message_id),
		     "fw:limit:A:api_calls:u2:2026-03-10");
	CHECK_EQ_STR(S(written(&f, FW_LIMIT_REACHED_EVENT, 3)->ev.message_id),
		     "fw:limit:A:api_calls:u1:2026-03-11");
	CHECK_EQ_INT(nstored(&f, FW_PROMPT_SHOWN_EVENT), 3);

	/* the engine's own records fed back count nothing again */
	catch_up(&f);
	CHECK(usage_of(&f, "A", "api_calls", now + DAY) == 10);
	struct fw_arena a = {0};
	const struct fw_json *j = account(&f, "A", now + DAY, &a);
	const struct fw_json *m = meter_entry(j, "api_calls");
	CHECK(num(m, "usage") == 10);
	CHECK(num(m, "limit") == 10);
	CHECK(num(m, "remaining") == 0);
	CHECK(num(m, "records") == 10);
	CHECK(num(m, "denials") == 4);
	CHECK_EQ_STR(S(fw_json_get_str(m, "resets_at")), "2026-04-01T00:00:00.000Z");
	fw_arena_release(&a);
	fx_close(&f);
}

TEST(billing_sum_meter_soft_limit_overage)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	fw_billing_set_now(f.b, now);
	track(&f, now - HOUR, "u1", "A", "Completion", "{\"tokens\":600}");
	track(&f, now - HOUR, "u1", "A", "Completion",
	      "{\"tokens\":\"100\"}"); /* a string holding a number */
	track(&f, now - HOUR, "u1", "A", "Completion", "{\"other\":5}"); /* no property: nothing */
	track(&f, now - HOUR, "u1", "B", "Completion", "{\"tokens\":5000}"); /* another account */
	CHECK(usage_of(&f, "A", "tokens", now) == 700);

	struct fw_check_result r =
	    RUN(&f, .user = "u1", .meter = "tokens", .q = 100, .preflight = 1, .now = now);
	CHECK_EQ_INT(r.reason, FW_CHECK_NEAR_LIMIT); /* 800 of 1000 */
	CHECK(r.remaining == 300);		     /* a preflight: what is left now */
	CHECK_EQ_INT(r.hard, 0);
	CHECK_EQ_STR(prompt_to(&r), "pro");

	track(&f, now - HOUR, "u1", "A", "Completion", "{\"tokens\":200}");
	r = RUN(&f, .user = "u1", .meter = "tokens", .q = 200, .rid = "t1", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(r.reason, FW_CHECK_OVERAGE);
	CHECK_EQ_INT(r.consumed, 1);
	CHECK(r.usage == 900 && r.overage == 100 && r.remaining == 0 && r.limit == 1000);
	CHECK_EQ_STR(prompt_to(&r), "pro");
	CHECK(r.prompt.limit == 100000);
	check_rec(
	    __LINE__, written(&f, FW_LIMIT_REACHED_EVENT, 0), FW_LIMIT_REACHED_EVENT,
	    "fw:limit:A:tokens:u1:2026-03-10", "u1", "A", now,
	    "{\"limit\":\"tokens\",\"plan\":\"free\",\"usage\":900,\"max\":1000,\"requested\":200,"
	    "\"hard\":false}");
	check_rec(__LINE__, written(&f, FW_PROMPT_SHOWN_EVENT, 1), FW_PROMPT_SHOWN_EVENT,
		  "fw:prompt:A:tokens:u1:2026-03-10", "u1", "A", now + 1,
		  "{\"limit\":\"tokens\",\"plan\":\"free\",\"upgrade_to\":\"pro\",\"price\":49,"
		  "\"reason\":\"overage\"}");
	r = RUN(&f, .user = "u1", .meter = "tokens", .q = 50, .rid = "t2", .now = now);
	CHECK_EQ_INT(r.reason, FW_CHECK_OVERAGE);
	CHECK(r.usage == 1100 && r.overage == 150);
	CHECK(usage_of(&f, "A", "tokens", now) == 1150);
	CHECK(usage_of(&f, "B", "tokens", now) == 5000);
	fx_close(&f);
}

TEST(billing_unique_meter_counts_a_value_once)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	fw_billing_set_now(f.b, now);
	track(&f, now - HOUR, "u1", "A", "Project Created", "{\"project_id\":\"p1\"}");
	track(&f, now - HOUR, "u1", "A", "Project Created", "{\"project_id\":\"p1\"}");
	CHECK(usage_of(&f, "A", "projects", now) == 1);

	/* p1 is already there: allowed, counts nothing */
	struct fw_check_result r =
	    RUN(&f, .meter = "projects", .value = "\"p1\"", .rid = "pa", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK(r.usage == 1 && r.remaining == 1);
	CHECK_EQ_INT(r.reason, FW_CHECK_OK);
	CHECK(usage_of(&f, "A", "projects", now) == 1);
	/* "1" and 1 are different values */
	r = RUN(&f, .meter = "projects", .value = "\"1\"", .rid = "pb", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(r.reason, FW_CHECK_NEAR_LIMIT);
	CHECK(r.usage == 1 && r.remaining == 0);
	CHECK(usage_of(&f, "A", "projects", now) == 2);
	r = RUN(&f, .meter = "projects", .value = "1", .rid = "pc", .now = now);
	CHECK_EQ_INT(r.allowed, 0);
	CHECK_EQ_INT(r.reason, FW_CHECK_LIMIT);
	/* at the limit, an existing value is still allowed */
	r = RUN(&f, .meter = "projects", .value = "\"p1\"", .rid = "pd", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK(r.usage == 2);
	CHECK(usage_of(&f, "A", "projects", now) == 2);
	check_rec(__LINE__, written(&f, FW_USAGE_EVENT, 0), "$usage", "fw:use:pa", "", "A", now,
		  "{\"meter\":\"projects\",\"quantity\":1,\"value\":\"p1\",\"request_id\":\"pa\"}");
	/* a consuming check of a unique meter needs the value */
	struct fw_check_result x;
	struct fw_err err = {0};
	CHECK_EQ_INT(run(&f, (struct ck){.meter = "projects", .rid = "pe", .now = now}, &x, &err),
		     FW_EINVAL);
	CHECK(strstr(err.msg, "value") != NULL);
	/* the log read again gives the same set */
	catch_up(&f);
	CHECK(usage_of(&f, "A", "projects", now) == 2);
	fx_restart(&f, now);
	CHECK(usage_of(&f, "A", "projects", now) == 2);
	r = RUN(&f, .meter = "projects", .value = "\"p2\"", .rid = "pf", .now = now);
	CHECK_EQ_INT(r.allowed, 0);
	fx_close(&f);
}

TEST(billing_max_meter_is_the_level)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	fw_billing_set_now(f.b, now);
	struct fw_check_result r = RUN(&f, .meter = "workers", .q = 3, .rid = "w1", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(r.reason, FW_CHECK_OK);
	CHECK(r.usage == 0 && r.remaining == 1);
	CHECK(usage_of(&f, "A", "workers", now) == 3);
	/* a lower level leaves the max where it is */
	r = RUN(&f, .meter = "workers", .q = 2, .rid = "w2", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK(r.usage == 3 && r.remaining == 1);
	CHECK(usage_of(&f, "A", "workers", now) == 3);
	r = RUN(&f, .meter = "workers", .q = 4, .rid = "w3", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(r.reason, FW_CHECK_NEAR_LIMIT);
	CHECK(r.remaining == 0);
	r = RUN(&f, .user = "u1", .meter = "workers", .q = 5, .rid = "w4", .now = now);
	CHECK_EQ_INT(r.allowed, 0);
	CHECK_EQ_INT(r.reason, FW_CHECK_LIMIT);
	CHECK(usage_of(&f, "A", "workers", now) == 4);
	check_rec(__LINE__, written(&f, FW_LIMIT_REACHED_EVENT, 0), FW_LIMIT_REACHED_EVENT,
		  "fw:limit:A:workers:u1:2026-03-10", "u1", "A", now,
		  "{\"limit\":\"workers\",\"plan\":\"free\",\"usage\":4,\"max\":4,\"requested\":5,"
		  "\"hard\":true}");
	check_rec(__LINE__, written(&f, FW_USAGE_EVENT, 0), "$usage", "fw:use:w1", "", "A", now,
		  "{\"meter\":\"workers\",\"quantity\":3,\"request_id\":\"w1\"}");
	track(&f, now, "u1", "A", "Workers Measured", "{\"n\":2}");
	CHECK(usage_of(&f, "A", "workers", now) == 4);
	fx_restart(&f, now);
	CHECK(usage_of(&f, "A", "workers", now) == 4);
	fx_close(&f);
}

TEST(billing_seats_never_consume)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	fw_billing_set_seats(f.b, fw_str_c("A"), 3);
	struct fw_check_result r =
	    RUN(&f, .user = "u1", .meter = "seats", .preflight = 1, .now = now);
	CHECK_EQ_INT(r.allowed, 0);
	CHECK_EQ_INT(r.reason, FW_CHECK_LIMIT);
	CHECK(r.usage == 3 && r.limit == 3 && r.remaining == 0);
	CHECK_EQ_INT(r.reset_ms, 0);
	CHECK_EQ_STR(prompt_to(&r), "pro");
	CHECK(r.prompt.limit == 20);
	check_rec(__LINE__, written(&f, FW_LIMIT_REACHED_EVENT, 0), FW_LIMIT_REACHED_EVENT,
		  "fw:limit:A:seats:u1:2026-03-10", "u1", "A", now,
		  "{\"limit\":\"seats\",\"plan\":\"free\",\"usage\":3,\"max\":3,\"requested\":1,"
		  "\"hard\":true}");
	/* a "consuming" seats check needs no request id and counts nothing */
	fw_billing_set_seats(f.b, fw_str_c("A"), 2);
	r = RUN(&f, .meter = "seats", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(r.consumed, 0);
	CHECK_EQ_INT(r.reason, FW_CHECK_NEAR_LIMIT);
	CHECK_EQ_INT(nemitted(&f, FW_USAGE_EVENT), 0);
	fw_billing_set_seats(f.b, fw_str_c("A"), 1);
	r = RUN(&f, .meter = "seats", .preflight = 1, .now = now);
	CHECK_EQ_INT(r.reason, FW_CHECK_OK);
	CHECK(r.usage == 1);
	fx_close(&f);
}

TEST(billing_features_gate_and_prompt)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	struct fw_check_result r = RUN(&f, .user = "u1", .feature = "sso", .now = now);
	CHECK_EQ_INT(r.allowed, 0);
	CHECK_EQ_INT(r.reason, FW_CHECK_FEATURE_DENIED);
	CHECK_EQ_INT(r.has_limit, 0);
	CHECK_EQ_INT(r.consumed, 0);
	CHECK_EQ_STR(prompt_to(&r), "pro");
	CHECK(r.prompt.limit < 0);
	CHECK_EQ_STR(unlocks(&r), "sso,audit_log");
	check_rec(__LINE__, written(&f, FW_FEATURE_ATTEMPTED_EVENT, 0), FW_FEATURE_ATTEMPTED_EVENT,
		  "fw:feature:A:sso:u1:2026-03-10", "u1", "A", now,
		  "{\"feature\":\"sso\",\"plan\":\"free\"}");
	check_rec(__LINE__, written(&f, FW_PROMPT_SHOWN_EVENT, 0), FW_PROMPT_SHOWN_EVENT,
		  "fw:prompt:A:sso:u1:2026-03-10", "u1", "A", now + 1,
		  "{\"feature\":\"sso\",\"plan\":\"free\",\"upgrade_to\":\"pro\",\"price\":49,"
		  "\"reason\":\"denied\"}");
	CHECK_EQ_INT(nemitted(&f, FW_LIMIT_REACHED_EVENT), 0);
	/* scim: pro (upgrade_to) lacks it, its upgrade_to enterprise has it */
	r = RUN(&f, .user = "u1", .feature = "scim", .now = now);
	CHECK_EQ_INT(r.allowed, 0);
	CHECK_EQ_STR(prompt_to(&r), "enterprise");
	CHECK_EQ_STR(unlocks(&r), "sso,audit_log,scim");
	/* on pro: sso allowed and nothing written; scim offers only what it adds */
	struct fw_err err = {0};
	CHECK_EQ_INT(fw_billing_set_plan(f.b, fw_str_c("P"), fw_str_c(""), "pro", -1, now, &err),
		     0);
	int before = (int)f.col.n;
	r = RUN(&f, .acct = "P", .user = "u9", .feature = "sso", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(r.reason, FW_CHECK_OK);
	CHECK_EQ_INT(r.prompt.show, 0);
	CHECK_EQ_INT((int)f.col.n, before);
	r = RUN(&f, .acct = "P", .user = "u9", .feature = "scim", .now = now);
	CHECK_EQ_STR(prompt_to(&r), "enterprise");
	CHECK_EQ_STR(unlocks(&r), "scim");
	/* an unknown feature is an error, naming it */
	struct fw_check_result x;
	CHECK_EQ_INT(run(&f, (struct ck){.feature = "nope", .now = now}, &x, &err), FW_EINVAL);
	CHECK(strstr(err.msg, "no plan has the feature \"nope\"") != NULL);
	fx_close(&f);
}

TEST(billing_plan_without_the_limit_is_unlimited)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	struct fw_err err = {0};
	CHECK_EQ_INT(
	    fw_billing_set_plan(f.b, fw_str_c("E"), fw_str_c(""), "enterprise", -1, now, &err), 0);
	struct fw_check k = check_of(
	    (struct ck){.acct = "E", .meter = "api_calls", .q = 100000, .rid = "e1", .now = now});
	struct fw_check_result r;
	CHECK_EQ_INT(fw_billing_check(f.b, &k, &r, &err), 0);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(r.consumed, 1);
	CHECK_EQ_INT(r.has_limit, 0);
	CHECK_EQ_INT(r.reason, FW_CHECK_OK);
	CHECK_EQ_INT(r.prompt.show, 0);
	struct fw_buf b = {0};
	fw_check_result_json(&k, &r, &b);
	fw_buf_add(&b, "", 1);
	CHECK(strstr(b.data, "\"limit\":null,\"remaining\":null") != NULL);
	CHECK(strstr(b.data, "\"upgrade\":null") != NULL);
	fw_buf_release(&b);
	/* free has no storage_gb limit either */
	r = RUN(&f, .meter = "storage_gb", .q = 1e6, .rid = "s1", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(r.has_limit, 0);
	struct fw_arena a = {0};
	const struct fw_json *m = meter_entry(account(&f, "E", now, &a), "api_calls");
	CHECK(m && fw_json_get(m, "limit") && fw_json_get(m, "limit")->type == FW_JSON_NULL);
	CHECK(num(m, "usage") == 100000);
	fw_arena_release(&a);
	fx_close(&f);
}

static const char CFG_UPGRADES[] =
    "default_plan: basic\n"
    "plans:\n"
    "  basic: {price: 0, limits: {api_calls: 10}}\n"
    "  trial: {price: 5, trial_days: 14, limits: {api_calls: 1000}}\n"
    "  starter: {price: 19, limits: {api_calls: 50}, features: [exports], upgrade_to: business}\n"
    "  growth: {price: 99, limits: {api_calls: 500}, features: [exports, sso]}\n"
    "  business: {price: 199, limits: {api_calls: 5000}, features: [exports, sso, audit_log]}\n"
    "  free2: {price: 0, limits: {api_calls: 10}, upgrade_to: starter}\n"
    "  lone: {price: 0, limits: {api_calls: 10}, upgrade_to: growth}\n"
    "meters:\n"
    "  api_calls: {events: [API Call]}\n";

TEST(billing_upgrade_target_follows_upgrade_to_then_cheapest_fit)
{
	struct fx f;
	if (fx_open(&f, CFG_UPGRADES))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	struct fw_err err = {0};
	CHECK_EQ_INT(fw_billing_set_plan(f.b, fw_str_c("F2"), fw_str_c(""), "free2", -1, now, &err),
		     0);
	CHECK_EQ_INT(
	    fw_billing_set_plan(f.b, fw_str_c("ST"), fw_str_c(""), "starter", -1, now, &err), 0);
	CHECK_EQ_INT(fw_billing_set_plan(f.b, fw_str_c("L"), fw_str_c(""), "lone", -1, now, &err),
		     0);
	struct fw_check_result r;
	/* no upgrade_to: the cheapest pricier plan that fits (never a trial) */
	r = RUN(&f, .acct = "B", .meter = "api_calls", .q = 11, .preflight = 1, .now = now);
	CHECK_EQ_STR(prompt_to(&r), "starter");
	CHECK(r.prompt.limit == 50);
	CHECK_EQ_STR(unlocks(&r), "exports");
	r = RUN(&f, .acct = "B", .meter = "api_calls", .q = 100, .preflight = 1, .now = now);
	CHECK_EQ_STR(prompt_to(&r), "growth");
	/* near the limit: the plan must have room past this limit */
	r = RUN(&f, .acct = "B", .meter = "api_calls", .q = 8, .preflight = 1, .now = now);
	CHECK_EQ_INT(r.reason, FW_CHECK_NEAR_LIMIT);
	CHECK_EQ_STR(prompt_to(&r), "starter");
	/* upgrade_to when it fits */
	r = RUN(&f, .acct = "F2", .meter = "api_calls", .q = 11, .preflight = 1, .now = now);
	CHECK_EQ_STR(prompt_to(&r), "starter");
	/* upgrade_to too small: along its upgrade_to */
	r = RUN(&f, .acct = "F2", .meter = "api_calls", .q = 100, .preflight = 1, .now = now);
	CHECK_EQ_STR(prompt_to(&r), "business");
	r = RUN(&f, .acct = "ST", .meter = "api_calls", .q = 60, .preflight = 1, .now = now);
	CHECK_EQ_STR(prompt_to(&r), "business");
	CHECK_EQ_STR(unlocks(&r), "sso,audit_log");
	/* upgrade_to too small and the chain ends: the cheapest pricier plan that fits */
	r = RUN(&f, .acct = "L", .meter = "api_calls", .q = 600, .preflight = 1, .now = now);
	CHECK_EQ_STR(prompt_to(&r), "business");
	/* nothing fits: denied without a prompt, and no prompt record */
	int prompts = nemitted(&f, FW_PROMPT_SHOWN_EVENT);
	r = RUN(&f, .acct = "B", .user = "u1", .meter = "api_calls", .q = 6000, .preflight = 1,
		.now = now);
	CHECK_EQ_INT(r.allowed, 0);
	CHECK_EQ_INT(r.prompt.show, 0);
	CHECK(r.prompt.to == NULL);
	CHECK_EQ_INT(nemitted(&f, FW_PROMPT_SHOWN_EVENT), prompts);
	CHECK_EQ_STR(S(written(&f, FW_LIMIT_REACHED_EVENT, nemitted(&f, FW_LIMIT_REACHED_EVENT) - 1)
			   ->ev.message_id),
		     "fw:limit:B:api_calls:u1:2026-03-10");
	/* a feature: the cheapest pricier plan with it */
	r = RUN(&f, .acct = "B", .feature = "sso", .now = now);
	CHECK_EQ_STR(prompt_to(&r), "growth");
	r = RUN(&f, .acct = "F2", .feature = "audit_log", .now = now);
	CHECK_EQ_STR(prompt_to(&r), "business");
	fx_close(&f);
}

/* ---- preflight and errors ---- */

TEST(billing_preflight_and_errors)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	struct fw_check_result r;
	struct fw_err err = {0};
	r = RUN(&f, .meter = "api_calls", .q = 5, .preflight = 1, .rid = "pf1", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(r.consumed, 0);
	CHECK(r.usage == 0 && r.remaining == 10);
	r = RUN(&f, .meter = "api_calls", .q = 5, .preflight = 1, .rid = "pf1", .now = now);
	CHECK_EQ_INT(r.replayed, 0);
	CHECK(r.usage == 0);
	/* a preflight past the limit is a denial (recorded), never a $usage */
	r = RUN(&f, .user = "u1", .meter = "api_calls", .q = 11, .preflight = 1, .now = now);
	CHECK_EQ_INT(r.allowed, 0);
	CHECK_EQ_INT(nemitted(&f, FW_USAGE_EVENT), 0);
	CHECK_EQ_INT(nstored(&f, FW_LIMIT_REACHED_EVENT), 1);
	/* the error answers */
	CHECK_EQ_INT(run(&f, (struct ck){.meter = "api_calls", .now = now}, &r, &err), FW_EINVAL);
	CHECK(strstr(err.msg, "request_id") != NULL);
	CHECK_EQ_INT(run(&f, (struct ck){.meter = "api_callz", .rid = "x", .now = now}, &r, &err),
		     FW_EINVAL);
	CHECK(strstr(err.msg, "no meter \"api_callz\"") != NULL);
	CHECK_EQ_INT(
	    run(&f, (struct ck){.meter = "api_callz", .preflight = 1, .now = now}, &r, &err),
	    FW_EINVAL);
	CHECK_EQ_INT(run(&f, (struct ck){.feature = "teleport", .now = now}, &r, &err), FW_EINVAL);
	CHECK_EQ_INT(
	    run(&f, (struct ck){.meter = "api_calls", .q = -1, .rid = "x", .now = now}, &r, &err),
	    FW_EINVAL);
	CHECK_EQ_INT(
	    run(&f, (struct ck){.meter = "api_calls", .q = NAN, .rid = "x", .now = now}, &r, &err),
	    FW_EINVAL);
	CHECK_EQ_INT(
	    run(&f, (struct ck){.meter = "api_calls", .q0 = 1, .rid = "x", .now = now}, &r, &err),
	    FW_EINVAL);
	CHECK_EQ_INT(run(&f, (struct ck){.acct = "", .meter = "api_calls", .rid = "x", .now = now},
			 &r, &err),
		     FW_EINVAL);
	CHECK_EQ_INT(nemitted(&f, FW_USAGE_EVENT), 0);
	CHECK(usage_of(&f, "A", "api_calls", now) == 0);
	/* before the feed has read the log: retry later */
	struct fw_billing *cold = fw_billing_new(&f.cfg, emit, &f.col);
	struct fw_check k = check_of((struct ck){.meter = "api_calls", .rid = "c1", .now = now});
	CHECK_EQ_INT(fw_billing_check(cold, &k, &r, &err), FW_EAGAIN);
	k.consume = 0;
	CHECK_EQ_INT(fw_billing_check(cold, &k, &r, &err), FW_EAGAIN);
	CHECK_EQ_INT(fw_billing_ready(cold), 0);
	fw_billing_free(cold);
	CHECK_EQ_INT(nemitted(&f, FW_USAGE_EVENT), 0);
	fx_close(&f);
}

/* ---- billing periods ---- */

TEST(billing_period_calendar_month_end)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	fw_billing_set_now(f.b, at("2026-01-20T00:00:00Z"));
	track(&f, at("2026-01-10T00:00:00Z"), "u1", "A", "API Call", "{}");
	track(&f, at("2026-01-31T23:59:59.998Z"), "u1", "A", "API Call", "{}");
	track(&f, at("2025-12-31T23:59:59.999Z"), "u1", "A", "API Call", "{}"); /* last period */
	int64_t end = at("2026-01-31T23:59:59.999Z"), feb = at("2026-02-01T00:00:00Z");
	struct fw_check_result r = RUN(&f, .meter = "api_calls", .rid = "e1", .now = end);
	CHECK(r.usage == 2);
	CHECK_EQ_INT(r.consumed, 1);
	CHECK_EQ_STR(period_of(&r), "2026-01-01T00:00:00.000Z..2026-02-01T00:00:00.000Z");
	CHECK_EQ_INT(r.reset_ms, feb);
	CHECK(usage_of(&f, "A", "api_calls", end) == 3);
	/* one millisecond later: February, from zero */
	r = RUN(&f, .meter = "api_calls", .preflight = 1, .now = feb);
	CHECK(r.usage == 0 && r.remaining == 10);
	CHECK_EQ_STR(period_of(&r), "2026-02-01T00:00:00.000Z..2026-03-01T00:00:00.000Z");
	r = RUN(&f, .meter = "api_calls", .rid = "e2", .now = feb);
	CHECK(r.usage == 0);
	CHECK(usage_of(&f, "A", "api_calls", feb) == 1);
	/* a late January event does not count in February; a February one does */
	fw_billing_set_now(f.b, feb + 5000);
	track(&f, end, "u1", "A", "API Call", "{}");
	CHECK(usage_of(&f, "A", "api_calls", feb + 5000) == 1);
	track(&f, feb, "u1", "A", "API Call", "{}");
	CHECK(usage_of(&f, "A", "api_calls", feb + 5000) == 2);
	/* the feed of the own records changes nothing */
	catch_up(&f);
	CHECK(usage_of(&f, "A", "api_calls", feb + 5000) == 2);
	/* a fresh engine on the same log in February: February's three */
	fx_restart(&f, feb + 6000);
	CHECK(usage_of(&f, "A", "api_calls", feb + 6000) == 2);
	fx_close(&f);
}

TEST(billing_period_february_leap_and_common)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	fw_billing_set_now(f.b, at("2028-02-15T00:00:00Z"));
	struct fw_check_result r = RUN(&f, .acct = "L", .meter = "api_calls", .rid = "l1",
				       .now = at("2028-02-29T00:00:00Z"));
	CHECK_EQ_STR(period_of(&r), "2028-02-01T00:00:00.000Z..2028-03-01T00:00:00.000Z");
	CHECK(usage_of(&f, "L", "api_calls", at("2028-02-29T23:59:59.999Z")) == 1);
	r = RUN(&f, .acct = "L", .meter = "api_calls", .preflight = 1,
		.now = at("2028-03-01T00:00:00Z"));
	CHECK(r.usage == 0);
	CHECK_EQ_STR(period_of(&r), "2028-03-01T00:00:00.000Z..2028-04-01T00:00:00.000Z");

	r = RUN(&f, .acct = "C", .meter = "api_calls", .rid = "c1",
		.now = at("2027-02-28T23:59:59.999Z"));
	CHECK_EQ_STR(period_of(&r), "2027-02-01T00:00:00.000Z..2027-03-01T00:00:00.000Z");
	CHECK(usage_of(&f, "C", "api_calls", at("2027-02-28T23:59:59.999Z")) == 1);
	r = RUN(&f, .acct = "C", .meter = "api_calls", .preflight = 1,
		.now = at("2027-03-01T00:00:00Z"));
	CHECK(r.usage == 0);
	CHECK_EQ_INT(r.reset_ms, at("2027-04-01T00:00:00Z"));
	fx_close(&f);
}

/* An anniversary meter of an account created on the 31st: Feb 28 or 29, then Mar 31. */
static void anniversary_year(struct fx *f, const char *acct, int leap)
{
	const char *y = leap ? "2028" : "2027";
	const char *feb_last = leap ? "29" : "28";
	char created[40], t1[40], t2[40], t3[40], t4[40], want[120];
	snprintf(created, sizeof created, "%s-01-31T10:00:00Z", y);
	fw_billing_set_created(f->b, fw_str_c(acct), at(created));
	/* the day before February's last day: still the period from Jan 31 */
	snprintf(t1, sizeof t1, "%s-02-%02dT23:59:59.999Z", y, atoi(feb_last) - 1);
	struct fw_check_result r =
	    RUN(f, .acct = acct, .meter = "storage_gb", .q = 5, .rid = t1, .now = at(t1));
	snprintf(want, sizeof want, "%s-01-31T00:00:00.000Z..%s-02-%sT00:00:00.000Z", y, y,
		 feb_last);
	CHECK_EQ_STR(period_of(&r), want);
	CHECK(usage_of(f, acct, "storage_gb", at(t1)) == 5);
	/* February's last day starts the next period */
	snprintf(t2, sizeof t2, "%s-02-%sT00:00:00.000Z", y, feb_last);
	r = RUN(f, .acct = acct, .meter = "storage_gb", .q = 2, .rid = t2, .now = at(t2));
	CHECK(r.usage == 0);
	snprintf(want, sizeof want, "%s-02-%sT00:00:00.000Z..%s-03-31T00:00:00.000Z", y, feb_last,
		 y);
	CHECK_EQ_STR(period_of(&r), want);
	snprintf(t3, sizeof t3, "%s-03-30T23:59:59.999Z", y);
	CHECK(usage_of(f, acct, "storage_gb", at(t3)) == 2);
	/* then March 31 */
	snprintf(t4, sizeof t4, "%s-03-31T00:00:00.000Z", y);
	r = RUN(f, .acct = acct, .meter = "storage_gb", .preflight = 1, .q0 = 1, .now = at(t4));
	CHECK(r.usage == 0);
	snprintf(want, sizeof want, "%s-03-31T00:00:00.000Z..%s-04-30T00:00:00.000Z", y, y);
	CHECK_EQ_STR(period_of(&r), want);
}

TEST(billing_period_anniversary_created_on_the_31st)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	anniversary_year(&f, "N28", 1);
	anniversary_year(&f, "N27", 0);
	/* events of the previous anniversary period do not count */
	fw_billing_set_created(f.b, fw_str_c("N26"), at("2026-01-31T10:00:00Z"));
	fw_billing_set_now(f.b, at("2026-03-05T00:00:00Z"));
	track(&f, at("2026-02-27T23:00:00Z"), "u", "N26", "Storage Measured", "{\"gb\":7}");
	track(&f, at("2026-02-28T01:00:00Z"), "u", "N26", "Storage Measured", "{\"gb\":3}");
	struct fw_check_result r = RUN(&f, .acct = "N26", .meter = "storage_gb", .preflight = 1,
				       .q0 = 1, .now = at("2026-03-05T00:00:00Z"));
	CHECK_EQ_STR(period_of(&r), "2026-02-28T00:00:00.000Z..2026-03-31T00:00:00.000Z");
	CHECK(r.usage == 3);
	fx_close(&f);
}

/* The server's billing thread feeds an account's first events, then recounts
 * its members and tells the engine when it was created (src/net/billing.c:
 * feed, then recount -> fw_billing_set_created). Learning the creation time
 * must not throw away what was counted in the period it gives. */
TEST(billing_anniversary_usage_survives_learning_the_creation_time)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-05-20T10:00:00Z"), first = at("2026-05-20T09:00:00Z");
	fw_billing_set_now(f.b, now);
	track(&f, first, "u1", "Z", "Storage Measured", "{\"gb\":7}");
	CHECK(usage_of(&f, "Z", "storage_gb", now) == 7);
	fw_billing_set_created(f.b, fw_str_c("Z"), first);
	struct fw_check_result r =
	    RUN(&f, .acct = "Z", .meter = "storage_gb", .preflight = 1, .q0 = 1, .now = now);
	CHECK_EQ_STR(period_of(&r), "2026-05-20T00:00:00.000Z..2026-06-20T00:00:00.000Z");
	CHECK(r.usage == 7);
	/* the same with a consuming check before the creation time is known */
	RUN(&f, .acct = "Y", .meter = "storage_gb", .q = 3, .rid = "y1", .now = now);
	fw_billing_set_created(f.b, fw_str_c("Y"), first);
	CHECK(usage_of(&f, "Y", "storage_gb", now) == 3);
	/* what a restart would say: the log read with the creation known first */
	fw_billing_free(f.b);
	f.b = fw_billing_new(&f.cfg, emit, &f.col);
	f.fed = 0;
	fw_billing_set_created(f.b, fw_str_c("Z"), first);
	fw_billing_set_created(f.b, fw_str_c("Y"), first);
	fw_billing_set_now(f.b, now);
	catch_up(&f);
	fw_billing_set_ready(f.b, 1);
	CHECK(usage_of(&f, "Z", "storage_gb", now) == 7);
	CHECK(usage_of(&f, "Y", "storage_gb", now) == 3);
	fx_close(&f);
}

/* ---- idempotency ---- */

static int same_answer(int line, const struct fw_check_result *a, const struct fw_check_result *b)
{
	int same = a->allowed == b->allowed && a->reason == b->reason &&
		   a->consumed == b->consumed && a->usage == b->usage &&
		   a->remaining == b->remaining && a->overage == b->overage &&
		   a->prompt.show == b->prompt.show && a->prompt.to == b->prompt.to;
	if (!same) {
		fprintf(stderr,
			"  test_billing.c:%d: answers differ:\n"
			"    first:  allowed %d reason %d consumed %d usage %g remaining %g "
			"overage %g prompt %s\n"
			"    replay: allowed %d reason %d consumed %d usage %g remaining %g "
			"overage %g prompt %s\n",
			line, a->allowed, a->reason, a->consumed, a->usage, a->remaining,
			a->overage, prompt_to(a), b->allowed, b->reason, b->consumed, b->usage,
			b->remaining, b->overage, prompt_to(b));
		fw_test_failures++;
	}
	return same;
}

TEST(billing_same_request_id_gets_the_first_answer)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	fw_billing_set_now(f.b, now);
	for (int i = 0; i < 7; i++)
		track(&f, now - HOUR, "u1", "A", "API Call", "{}");
	struct fw_check_result first =
	    RUN(&f, .user = "u1", .meter = "api_calls", .rid = "same", .now = now);
	CHECK_EQ_INT(first.reason, FW_CHECK_NEAR_LIMIT);
	CHECK_EQ_INT(first.replayed, 0);
	struct fw_check_result again =
	    RUN(&f, .user = "u1", .meter = "api_calls", .rid = "same", .now = now + 1000);
	CHECK_EQ_INT(again.replayed, 1);
	same_answer(__LINE__, &first, &again);
	CHECK(usage_of(&f, "A", "api_calls", now) == 8);
	CHECK_EQ_INT(nemitted(&f, FW_USAGE_EVENT), 1); /* the repeat writes nothing */
	/* even with another quantity, the repeat is the same request */
	again =
	    RUN(&f, .user = "u1", .meter = "api_calls", .q = 2, .rid = "same", .now = now + 2000);
	CHECK_EQ_INT(again.replayed, 1);
	CHECK(usage_of(&f, "A", "api_calls", now) == 8);
	/* a denial is an answer too */
	struct fw_check_result no =
	    RUN(&f, .user = "u1", .meter = "api_calls", .q = 5, .rid = "big", .now = now);
	CHECK_EQ_INT(no.allowed, 0);
	int lr = nemitted(&f, FW_LIMIT_REACHED_EVENT);
	again = RUN(&f, .user = "u1", .meter = "api_calls", .q = 5, .rid = "big", .now = now);
	CHECK_EQ_INT(again.replayed, 1);
	same_answer(__LINE__, &no, &again);
	CHECK_EQ_INT(nemitted(&f, FW_LIMIT_REACHED_EVENT), lr);
	struct fw_billing_stats st;
	fw_billing_stats(f.b, &st);
	CHECK_EQ_INT(st.consumed, 1);
	fx_close(&f);
}

/* "The same request id always gets the first answer back" (billing.h): the
 * whole answer, its upgrade prompt included — not the first answer's numbers
 * with the prompt of the account's state now. */
TEST(billing_replay_carries_the_first_answers_prompt)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	struct fw_check_result first = RUN(&f, .meter = "api_calls", .rid = "early", .now = now);
	CHECK_EQ_INT(first.reason, FW_CHECK_OK);
	CHECK_EQ_INT(first.prompt.show, 0);
	char rid[16];
	for (int i = 0; i < 9; i++) {
		snprintf(rid, sizeof rid, "fill%d", i);
		RUN(&f, .meter = "api_calls", .rid = rid, .now = now);
	}
	CHECK(usage_of(&f, "A", "api_calls", now) == 10);
	struct fw_check_result again = RUN(&f, .meter = "api_calls", .rid = "early", .now = now);
	CHECK_EQ_INT(again.replayed, 1);
	same_answer(__LINE__, &first, &again);
	CHECK_EQ_INT(again.prompt.show, 0);
	fx_close(&f);
}

/* A repeat older than the engine's memory: the store says the message id is
 * there (stored[0] = 0), so it is not counted. */
TEST(billing_repeat_the_store_already_holds_is_not_counted)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	RUN(&f, .meter = "api_calls", .rid = "old", .now = now);
	CHECK(usage_of(&f, "A", "api_calls", now) == 1);
	/* an engine that never read that record (it forgot it) */
	fw_billing_free(f.b);
	f.b = fw_billing_new(&f.cfg, emit, &f.col);
	fw_billing_set_ready(f.b, 1);
	struct fw_check_result r = RUN(&f, .meter = "api_calls", .rid = "old", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(r.consumed, 0);
	CHECK_EQ_INT(r.replayed, 1);
	CHECK(usage_of(&f, "A", "api_calls", now) == 0);
	CHECK_EQ_INT(nstored(&f, FW_USAGE_EVENT), 1);
	CHECK_EQ_INT(nemitted(&f, FW_USAGE_EVENT), 2);
	r = RUN(&f, .meter = "api_calls", .rid = "old", .now = now);
	CHECK_EQ_INT(r.replayed, 1);
	CHECK_EQ_INT(r.consumed, 0);
	CHECK(usage_of(&f, "A", "api_calls", now) == 0);
	struct fw_billing_stats st;
	fw_billing_stats(f.b, &st);
	CHECK_EQ_INT(st.consumed, 0);
	fx_close(&f);
}

/* ---- reservations, failed writes, checks in flight ---- */

struct inflight {
	struct fx *f;
	struct ck k[3];
	int nk;
	int rc[3];
	struct fw_check_result r[3];
};

/* Runs the checks of `arg` while the first check's record is being written. */
static void inflight_hook(void *arg)
{
	struct inflight *x = arg;
	for (int i = 0; i < x->nk; i++)
		x->rc[i] = run(x->f, x->k[i], &x->r[i], NULL);
}

TEST(billing_reservation_holds_and_failed_write_undoes_it)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	fw_billing_set_now(f.b, now);
	for (int i = 0; i < 9; i++)
		track(&f, now - HOUR, "u1", "A", "API Call", "{}");
	/* while check x (the 10th of 10) is being written: a second check is
	 * denied by x's reservation, and a repeat of x is told to retry */
	struct inflight in = {.f = &f, .nk = 3};
	in.k[0] = (struct ck){.user = "u2", .meter = "api_calls", .rid = "y", .now = now};
	in.k[1] = (struct ck){.meter = "api_calls", .rid = "x", .now = now};
	in.k[2] = (struct ck){.meter = "api_calls", .q0 = 1, .preflight = 1, .now = now};
	f.col.hook = inflight_hook;
	f.col.hook_arg = &in;
	f.col.fail_durable = 1;
	struct fw_check_result r;
	struct fw_err err = {0};
	CHECK_EQ_INT(run(&f, (struct ck){.meter = "api_calls", .rid = "x", .now = now}, &r, &err),
		     FW_EIO);
	CHECK_EQ_INT(in.rc[0], 0);
	CHECK_EQ_INT(in.r[0].allowed, 0);
	CHECK(in.r[0].usage == 10);
	CHECK_EQ_INT(in.rc[1], FW_ECONFLICT);
	CHECK_EQ_INT(in.rc[2], 0);
	CHECK(in.r[2].usage == 10);
	/* the write failed: the reservation is gone, nothing was recorded */
	CHECK(usage_of(&f, "A", "api_calls", now) == 9);
	CHECK_EQ_INT(nstored(&f, FW_USAGE_EVENT), 0);
	/* and the same request id may be tried again */
	f.col.fail_durable = 0;
	r = RUN(&f, .meter = "api_calls", .rid = "x", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(r.consumed, 1);
	CHECK_EQ_INT(r.replayed, 0);
	CHECK(r.usage == 9);
	CHECK(usage_of(&f, "A", "api_calls", now) == 10);
	CHECK_EQ_INT(nstored(&f, FW_USAGE_EVENT), 1);
	/* a written reservation holds against a check in flight too */
	struct inflight in2 = {.f = &f, .nk = 1};
	in2.k[0] = (struct ck){.acct = "B", .meter = "api_calls", .q = 2, .rid = "b2", .now = now};
	for (int i = 0; i < 8; i++) {
		char rid[16];
		snprintf(rid, sizeof rid, "b%d", 10 + i);
		RUN(&f, .acct = "B", .meter = "api_calls", .rid = rid, .now = now);
	}
	f.col.hook = inflight_hook;
	f.col.hook_arg = &in2;
	r = RUN(&f, .acct = "B", .meter = "api_calls", .q = 2, .rid = "b1", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(in2.rc[0], 0);
	CHECK_EQ_INT(in2.r[0].allowed, 0);
	CHECK(usage_of(&f, "B", "api_calls", now) == 10);
	fx_close(&f);
}

/* A unique value being added by one check is not a second value for another
 * check adding the same value at the same moment. */
TEST(billing_unique_value_in_flight_is_not_counted_twice)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	fw_billing_set_now(f.b, now);
	track(&f, now - HOUR, "u1", "A", "Project Created", "{\"project_id\":\"p0\"}");
	struct inflight in = {.f = &f, .nk = 1};
	in.k[0] = (struct ck){.meter = "projects", .value = "\"p1\"", .rid = "y", .now = now};
	f.col.hook = inflight_hook;
	f.col.hook_arg = &in;
	struct fw_check_result r =
	    RUN(&f, .meter = "projects", .value = "\"p1\"", .rid = "x", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(in.rc[0], 0);
	CHECK_EQ_INT(in.r[0].allowed, 1); /* p0 and p1 are 2 of 2 */
	CHECK(usage_of(&f, "A", "projects", now) == 2);
	fx_close(&f);
}

/* ---- concurrency ---- */

#define CC_THREADS 8
#define CC_PER 2000
#define CC_IDS (CC_THREADS * CC_PER / 2)
#define CC_LIMIT 5000

struct cc_answer {
	int n, allowed[2], consumed[2], replayed[2];
};

struct cc {
	struct fx *f;
	int t;
	struct cc_answer *ans;
	pthread_mutex_t *mu;
	int64_t now;
	int errors, over;
	long conflicts;
};

static void *cc_main(void *arg)
{
	struct cc *c = arg;
	for (int k = 0; k < CC_PER; k++) {
		/* ids 8j+t and 8j+t+1: each id is used by threads t-1 and t */
		int id = CC_THREADS * (k / 2) + (k % 2 ? (c->t + 1) % CC_THREADS : c->t);
		char rid[32];
		snprintf(rid, sizeof rid, "req-%d", id);
		struct fw_check_result r;
		int rc;
		long tries = 0;
		while ((rc = run(c->f,
				 (struct ck){
				     .user = "u", .meter = "api_calls", .rid = rid, .now = c->now},
				 &r, NULL)) == FW_ECONFLICT &&
		       tries++ < 10000000)
			sched_yield();
		c->conflicts += tries;
		if (rc) {
			c->errors++;
			continue;
		}
		if (r.usage > CC_LIMIT || (r.allowed && r.usage + 1 > CC_LIMIT))
			c->over++;
		pthread_mutex_lock(c->mu);
		struct cc_answer *a = &c->ans[id];
		if (a->n < 2) {
			a->allowed[a->n] = r.allowed;
			a->consumed[a->n] = r.consumed;
			a->replayed[a->n] = r.replayed;
		}
		a->n++;
		pthread_mutex_unlock(c->mu);
	}
	return NULL;
}

TEST(billing_concurrent_consuming_checks_stop_at_the_limit)
{
	struct fx f;
	if (fx_open(&f, "plans:\n"
			"  free: {limits: {api_calls: 5000}}\n"
			"meters:\n"
			"  api_calls: {events: [API Call]}\n"))
		return;
	struct cc_answer *ans = calloc(CC_IDS, sizeof *ans);
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct cc cs[CC_THREADS];
	pthread_t th[CC_THREADS];
	for (int t = 0; t < CC_THREADS; t++) {
		cs[t] = (struct cc){
		    .f = &f, .t = t, .ans = ans, .mu = &mu, .now = at("2026-03-10T12:00:00Z")};
		pthread_create(&th[t], NULL, cc_main, &cs[t]);
	}
	int errors = 0, over = 0;
	long conflicts = 0;
	for (int t = 0; t < CC_THREADS; t++) {
		pthread_join(th[t], NULL);
		errors += cs[t].errors;
		over += cs[t].over;
		conflicts += cs[t].conflicts;
	}
	CHECK_EQ_INT(errors, 0);
	CHECK_EQ_INT(over, 0);
	int allowed_ids = 0, firsts = 0, inconsistent = 0, wrong_n = 0;
	for (int id = 0; id < CC_IDS; id++) {
		struct cc_answer *a = &ans[id];
		if (a->n != 2) {
			wrong_n++;
			continue;
		}
		if (a->allowed[0] != a->allowed[1] || a->consumed[0] != a->consumed[1] ||
		    a->replayed[0] + a->replayed[1] != 1)
			inconsistent++;
		allowed_ids += a->allowed[0];
		for (int i = 0; i < 2; i++)
			firsts += a->consumed[i] && !a->replayed[i];
	}
	CHECK_EQ_INT(wrong_n, 0);
	CHECK_EQ_INT(inconsistent, 0);
	CHECK_EQ_INT(allowed_ids, CC_LIMIT);
	CHECK_EQ_INT(firsts, CC_LIMIT);
	CHECK(usage_of(&f, "A", "api_calls", at("2026-03-10T12:00:00Z")) == CC_LIMIT);
	CHECK_EQ_INT(nstored(&f, FW_USAGE_EVENT), CC_LIMIT);
	CHECK_EQ_INT(nemitted(&f, FW_USAGE_EVENT), CC_LIMIT);
	struct fw_billing_stats st;
	fw_billing_stats(f.b, &st);
	CHECK_EQ_INT(st.consumed, CC_LIMIT);
	/* read back from the log: the same */
	fx_restart(&f, at("2026-03-10T12:00:00Z"));
	CHECK(usage_of(&f, "A", "api_calls", at("2026-03-10T12:00:00Z")) == CC_LIMIT);
	if (fw_test_failures)
		fprintf(stderr, "  (%ld ECONFLICT retries)\n", conflicts);
	free(ans);
	fx_close(&f);
}

/* ---- the feed and restarts ---- */

TEST(billing_feed_skips_own_records_and_restart_restores_usage)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	fw_billing_set_now(f.b, now);
	track(&f, now - HOUR, "u1", "A", "API Call", "{}");
	struct fw_check_result first[4];
	char rid[16];
	for (int i = 0; i < 4; i++) {
		snprintf(rid, sizeof rid, "k%d", i);
		first[i] = RUN(&f, .user = "u1", .meter = "api_calls", .rid = rid, .now = now);
	}
	CHECK(usage_of(&f, "A", "api_calls", now) == 5);
	/* the $usage records come back through the feed: counted once */
	catch_up(&f);
	CHECK(usage_of(&f, "A", "api_calls", now) == 5);
	struct fw_billing_stats st;
	fw_billing_stats(f.b, &st);
	CHECK_EQ_INT(st.fed, 5);
	/* a $usage record sent with a write key counts nothing */
	track(&f, now - HOUR, "", "A", "$usage", "{\"meter\":\"api_calls\",\"quantity\":2}");
	CHECK(usage_of(&f, "A", "api_calls", now) == 5);
	/* after a restart: the same usage, and each request id its answer */
	fx_restart(&f, now);
	CHECK(usage_of(&f, "A", "api_calls", now) == 5);
	for (int i = 0; i < 4; i++) {
		snprintf(rid, sizeof rid, "k%d", i);
		struct fw_check_result r =
		    RUN(&f, .user = "u1", .meter = "api_calls", .rid = rid, .now = now);
		CHECK_EQ_INT(r.replayed, 1);
		CHECK_EQ_INT(r.allowed, 1);
		CHECK_EQ_INT(r.consumed, 1);
		CHECK(r.usage == first[i].usage);
		CHECK(r.remaining == first[i].remaining);
	}
	CHECK(usage_of(&f, "A", "api_calls", now) == 5);
	struct fw_check_result r =
	    RUN(&f, .user = "u1", .meter = "api_calls", .rid = "k9", .now = now);
	CHECK_EQ_INT(r.replayed, 0);
	CHECK_EQ_INT(r.consumed, 1);
	CHECK(usage_of(&f, "A", "api_calls", now) == 6);
	fx_close(&f);
}

/* After a restart the first answer comes back whole: a near-limit answer
 * stays near_limit, an overage keeps its overage. */
TEST(billing_restart_replay_keeps_reason_and_overage)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	fw_billing_set_now(f.b, now);
	for (int i = 0; i < 7; i++)
		track(&f, now - HOUR, "u1", "A", "API Call", "{}");
	struct fw_check_result near = RUN(&f, .meter = "api_calls", .rid = "near", .now = now);
	CHECK_EQ_INT(near.reason, FW_CHECK_NEAR_LIMIT);
	track(&f, now - HOUR, "u1", "A", "Completion", "{\"tokens\":950}");
	struct fw_check_result over =
	    RUN(&f, .meter = "tokens", .q = 100, .rid = "over", .now = now);
	CHECK_EQ_INT(over.reason, FW_CHECK_OVERAGE);
	CHECK(over.overage == 50);
	fx_restart(&f, now);
	struct fw_check_result r = RUN(&f, .meter = "api_calls", .rid = "near", .now = now);
	CHECK_EQ_INT(r.replayed, 1);
	same_answer(__LINE__, &near, &r);
	r = RUN(&f, .meter = "tokens", .q = 100, .rid = "over", .now = now);
	CHECK_EQ_INT(r.replayed, 1);
	same_answer(__LINE__, &over, &r);
	fx_close(&f);
}

/* The log read at start holds plan changes until it is read (billing.h):
 * the answers it gives back for request ids must still be those of the
 * account's plan, not of default_plan. */
TEST(billing_restart_replay_uses_the_accounts_plan)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	fw_billing_set_now(f.b, now);
	track(&f, now - DAY, "u1", "P", "Plan Changed", "{\"plan\":\"pro\",\"mrr\":49}");
	struct fw_check_result first =
	    RUN(&f, .acct = "P", .meter = "api_calls", .q = 20, .rid = "p1", .now = now);
	CHECK_EQ_INT(first.allowed, 1);
	CHECK(first.remaining == 100000 - 20);
	fx_restart(&f, now);
	CHECK_EQ_STR(RUN(&f, .acct = "P", .feature = "sso", .now = now).plan_name, "pro");
	struct fw_check_result r =
	    RUN(&f, .acct = "P", .meter = "api_calls", .q = 20, .rid = "p1", .now = now);
	CHECK_EQ_INT(r.replayed, 1);
	same_answer(__LINE__, &first, &r);
	fx_close(&f);
}

TEST(billing_usage_reports_once_per_key)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	fw_billing_set_now(f.b, now);
	struct fw_usage_report u = {.account = fw_str_c("A"),
				    .meter = fw_str_c("tokens"),
				    .key = fw_str_c("k1"),
				    .quantity = 400,
				    .time_ms = now - HOUR,
				    .now_ms = now};
	int replayed = -1;
	struct fw_err err = {0};
	CHECK_EQ_INT(fw_billing_report(f.b, &u, &replayed, &err), 0);
	CHECK_EQ_INT(replayed, 0);
	check_rec(__LINE__, written(&f, FW_USAGE_EVENT, 0), "$usage", "fw:use:k1", "", "A",
		  now - HOUR, "{\"meter\":\"tokens\",\"quantity\":400,\"idempotency_key\":\"k1\"}");
	CHECK_EQ_INT(fw_billing_report(f.b, &u, &replayed, &err), 0);
	CHECK_EQ_INT(replayed, 1);
	CHECK(usage_of(&f, "A", "tokens", now) == 400);
	/* limits do not apply */
	u.key = fw_str_c("k2");
	u.quantity = 5000;
	CHECK_EQ_INT(fw_billing_report(f.b, &u, &replayed, &err), 0);
	CHECK(usage_of(&f, "A", "tokens", now) == 5400);
	/* an earlier period: recorded, not in the current usage */
	u.key = fw_str_c("k3");
	u.quantity = 7;
	u.time_ms = at("2026-02-27T00:00:00Z");
	CHECK_EQ_INT(fw_billing_report(f.b, &u, &replayed, &err), 0);
	CHECK_EQ_INT(replayed, 0);
	CHECK(usage_of(&f, "A", "tokens", now) == 5400);
	/* errors */
	u.key = fw_str_c("");
	CHECK_EQ_INT(fw_billing_report(f.b, &u, &replayed, &err), FW_EINVAL);
	CHECK(strstr(err.msg, "idempotency_key") != NULL);
	u.key = fw_str_c("k4");
	u.meter = fw_str_c("seats");
	CHECK_EQ_INT(fw_billing_report(f.b, &u, &replayed, &err), FW_EINVAL);
	u.meter = fw_str_c("nope");
	CHECK_EQ_INT(fw_billing_report(f.b, &u, &replayed, &err), FW_EINVAL);
	u.meter = fw_str_c("projects");
	CHECK_EQ_INT(fw_billing_report(f.b, &u, &replayed, &err), FW_EINVAL);
	catch_up(&f);
	CHECK(usage_of(&f, "A", "tokens", now) == 5400);
	fx_restart(&f, now);
	CHECK(usage_of(&f, "A", "tokens", now) == 5400);
	u = (struct fw_usage_report){.account = fw_str_c("A"),
				     .meter = fw_str_c("tokens"),
				     .key = fw_str_c("k1"),
				     .quantity = 400,
				     .time_ms = now,
				     .now_ms = now};
	CHECK_EQ_INT(fw_billing_report(f.b, &u, &replayed, &err), 0);
	CHECK_EQ_INT(replayed, 1);
	CHECK(usage_of(&f, "A", "tokens", now) == 5400);
	fx_close(&f);
}

/* ---- plans ---- */

TEST(billing_plan_is_the_latest_change_by_event_time)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-03-10T12:00:00Z");
	fw_billing_set_now(f.b, now);
	struct fw_arena a = {0};
	struct fw_check_result r = RUN(&f, .feature = "sso", .now = now);
	CHECK_EQ_STR(r.plan_name, "free");
	track(&f, now - 5 * DAY, "u1", "A", "Plan Changed", "{\"plan\":\"pro\",\"mrr\":40}");
	r = RUN(&f, .feature = "sso", .now = now);
	CHECK_EQ_STR(r.plan_name, "pro");
	CHECK_EQ_INT(r.allowed, 1);
	CHECK(num(account(&f, "A", now, &a), "mrr") == 40);
	/* an older change fed later changes nothing */
	track(&f, now - 9 * DAY, "u1", "A", "Plan Changed",
	      "{\"plan\":\"enterprise\",\"mrr\":499}");
	ingest(&f, FW_MSG_GROUP, now - 8 * DAY, "u1", "A", NULL, "{\"plan\":\"free\"}");
	r = RUN(&f, .feature = "sso", .now = now);
	CHECK_EQ_STR(r.plan_name, "pro");
	/* a group call with a plan trait is a change; without mrr, the plan's price */
	ingest(&f, FW_MSG_GROUP, now - 2 * DAY, "u1", "A", NULL,
	       "{\"plan\":\"enterprise\",\"name\":\"Acme\"}");
	r = RUN(&f, .feature = "scim", .now = now);
	CHECK_EQ_STR(r.plan_name, "enterprise");
	CHECK_EQ_INT(r.allowed, 1);
	CHECK(num(account(&f, "A", now, &a), "mrr") == 499);
	/* a group call without a plan changes nothing */
	ingest(&f, FW_MSG_GROUP, now - DAY, "u1", "A", NULL, "{\"name\":\"Acme Inc\"}");
	CHECK_EQ_STR(RUN(&f, .feature = "scim", .now = now).plan_name, "enterprise");
	/* a plan the config does not know: kept, no features, no limits */
	track(&f, now - HOUR, "u1", "A", "Plan Changed", "{\"plan\":\"legacy\",\"mrr\":10}");
	r = RUN(&f, .feature = "sso", .now = now);
	CHECK_EQ_STR(r.plan_name, "legacy");
	CHECK(r.plan == NULL);
	CHECK_EQ_INT(r.allowed, 0);
	r = RUN(&f, .meter = "api_calls", .q = 1e6, .rid = "l1", .now = now);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_INT(r.has_limit, 0);
	const struct fw_json *j = account(&f, "A", now, &a);
	CHECK(j && fw_json_get(j, "known_plan") &&
	      fw_json_get(j, "known_plan")->type == FW_JSON_FALSE);
	/* by the API: now, with the plan's price or the mrr given */
	struct fw_err err = {0};
	int64_t t = now + 1000;
	CHECK_EQ_INT(fw_billing_set_plan(f.b, fw_str_c("A"), fw_str_c("u1"), "pro", -1, t, &err),
		     0);
	char id[64];
	snprintf(id, sizeof id, "fw:plan:A:%lld:pro", (long long)t);
	check_rec(__LINE__, written(&f, "Plan Changed", 0), "Plan Changed", id, "u1", "A", t,
		  "{\"plan\":\"pro\",\"mrr\":49,\"previous_plan\":\"legacy\",\"reason\":\"api\"}");
	CHECK_EQ_INT(written(&f, "Plan Changed", 0)->durable, 1);
	CHECK_EQ_STR(RUN(&f, .feature = "sso", .now = t).plan_name, "pro");
	CHECK_EQ_INT(
	    fw_billing_set_plan(f.b, fw_str_c("A"), fw_str_c(""), "enterprise", 450, t + 1, &err),
	    0);
	CHECK(num(account(&f, "A", t + 1, &a), "mrr") == 450);
	CHECK_EQ_INT(
	    fw_billing_set_plan(f.b, fw_str_c("A"), fw_str_c(""), "platinum", -1, t + 2, &err),
	    FW_EINVAL);
	CHECK_EQ_INT(
	    fw_billing_set_plan(f.b, fw_str_c("A"), fw_str_c(""), "trial", -1, t + 2, &err),
	    FW_EINVAL);
	CHECK(strstr(err.msg, "trial") != NULL);
	CHECK_EQ_INT(fw_billing_set_plan(f.b, fw_str_c(""), fw_str_c(""), "pro", -1, t + 2, &err),
		     FW_EINVAL);
	/* the API's changes read back from the log */
	catch_up(&f);
	fx_restart(&f, t + 5);
	CHECK_EQ_STR(RUN(&f, .feature = "scim", .now = t + 5).plan_name, "enterprise");
	CHECK(num(account(&f, "A", t + 5, &a), "mrr") == 450);
	fw_arena_release(&a);
	fx_close(&f);
}

/* ---- trials ---- */

TEST(billing_trial_start_and_expiry)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t t0 = at("2026-04-01T08:00:00Z"), end = t0 + 14 * DAY, ends = 0;
	fw_billing_set_now(f.b, t0);
	struct fw_err err = {0};
	CHECK_EQ_INT(
	    fw_billing_start_trial(f.b, fw_str_c("A"), fw_str_c("u1"), NULL, t0, &ends, &err), 0);
	CHECK_EQ_INT(ends, end);
	check_rec(__LINE__, written(&f, "Plan Changed", 0), "Plan Changed", "fw:trial-plan:A", "u1",
		  "A", t0,
		  "{\"plan\":\"trial\",\"mrr\":0,\"previous_plan\":\"free\",\"reason\":\"trial_"
		  "started\"}");
	char props[200];
	snprintf(props, sizeof props,
		 "{\"plan\":\"trial\",\"trial_days\":14,\"trial_started_ms\":%lld,\"trial_ends_"
		 "ms\":%lld}",
		 (long long)t0, (long long)end);
	check_rec(__LINE__, written(&f, FW_TRIAL_STARTED_EVENT, 0), FW_TRIAL_STARTED_EVENT,
		  "fw:trial-started:A", "u1", "A", t0, props);
	struct fw_check_result r = RUN(&f, .feature = "sso", .now = t0 + HOUR);
	CHECK_EQ_INT(r.allowed, 1);
	CHECK_EQ_STR(r.plan_name, "trial");
	CHECK_EQ_INT(r.trial, 1);
	CHECK_EQ_INT(r.trial_ends_ms, end);
	/* one trial per account; a plan that is no trial; a plan that does not exist */
	CHECK_EQ_INT(
	    fw_billing_start_trial(f.b, fw_str_c("A"), fw_str_c(""), NULL, t0 + HOUR, &ends, &err),
	    FW_ECONFLICT);
	CHECK(strstr(err.msg, "already had a trial") != NULL);
	CHECK_EQ_INT(
	    fw_billing_start_trial(f.b, fw_str_c("B"), fw_str_c(""), "pro", t0, &ends, &err),
	    FW_EINVAL);
	CHECK_EQ_INT(
	    fw_billing_start_trial(f.b, fw_str_c("B"), fw_str_c(""), "nope", t0, &ends, &err),
	    FW_EINVAL);
	/* the tick tells of the start once */
	catch_up(&f);
	struct notes n = tick(&f, t0 + HOUR);
	CHECK_EQ_INT(n.n, 1);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_STARTED, "A"), 1);
	const struct fw_trial_note *x = note(&n, FW_TRIAL_STARTED, "A");
	if (x) {
		CHECK_EQ_STR(x->plan, "trial");
		CHECK_EQ_INT(x->started_ms, t0);
		CHECK_EQ_INT(x->ends_ms, end);
	}
	free(n.v);
	n = tick(&f, t0 + 2 * HOUR);
	CHECK_EQ_INT(n.n, 0);
	free(n.v);
	/* a millisecond before the end: still running */
	n = tick(&f, end - 1 - 25 * HOUR); /* (the 1-day reminder is not due yet either) */
	free(n.v);
	CHECK_EQ_INT(nemitted(&f, FW_TRIAL_EXPIRED_EVENT), 0);
	/* past the end: Plan Changed to trial_ends_to dated at the end, and Trial Expired */
	fw_billing_set_now(f.b, end + 2 * HOUR);
	n = tick(&f, end + 2 * HOUR);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_EXPIRED, "A"), 1);
	x = note(&n, FW_TRIAL_EXPIRED, "A");
	if (x) {
		CHECK_EQ_STR(x->to_plan, "free");
		CHECK_EQ_INT(x->at_ms, end);
		CHECK_EQ_INT(x->started_ms, t0);
	}
	free(n.v);
	char id[64];
	snprintf(id, sizeof id, "fw:trial-ends-to:A:%lld", (long long)t0);
	check_rec(__LINE__, written(&f, "Plan Changed", 1), "Plan Changed", id, "", "A", end,
		  "{\"plan\":\"free\",\"mrr\":0,\"previous_plan\":\"trial\",\"reason\":\"trial_"
		  "expired\"}");
	snprintf(id, sizeof id, "fw:trial-expired:A:%lld", (long long)t0);
	snprintf(props, sizeof props,
		 "{\"plan\":\"trial\",\"to_plan\":\"free\",\"trial_started_ms\":%lld}",
		 (long long)t0);
	check_rec(__LINE__, written(&f, FW_TRIAL_EXPIRED_EVENT, 0), FW_TRIAL_EXPIRED_EVENT, id, "",
		  "A", end, props);
	r = RUN(&f, .feature = "sso", .now = end + 2 * HOUR);
	CHECK_EQ_STR(r.plan_name, "free");
	CHECK_EQ_INT(r.trial, 0);
	CHECK_EQ_INT(r.allowed, 0);
	/* once */
	catch_up(&f);
	n = tick(&f, end + 3 * HOUR);
	CHECK_EQ_INT(n.n, 0);
	free(n.v);
	CHECK_EQ_INT(nemitted(&f, FW_TRIAL_EXPIRED_EVENT), 1);
	struct fw_arena a = {0};
	const struct fw_json *tr = fw_json_get(account(&f, "A", end + 3 * HOUR, &a), "trial");
	CHECK_EQ_STR(S(fw_json_get_str(tr, "state")), "ended");
	CHECK_EQ_STR(S(fw_json_get_str(tr, "ends_at")), iso(end));
	/* a restart reads the expiry from the log and writes nothing again */
	fx_restart(&f, end + 4 * HOUR);
	n = tick(&f, end + 4 * HOUR);
	CHECK(nnotes(&n, FW_TRIAL_EXPIRED, "A") <= 1);
	free(n.v);
	CHECK_EQ_INT(nemitted(&f, FW_TRIAL_EXPIRED_EVENT), 1);
	CHECK_EQ_INT(nemitted(&f, "Plan Changed"), 2);
	CHECK_EQ_STR(RUN(&f, .feature = "sso", .now = end + 4 * HOUR).plan_name, "free");
	CHECK_EQ_INT(fw_billing_start_trial(f.b, fw_str_c("A"), fw_str_c(""), NULL, end + 4 * HOUR,
					    &ends, &err),
		     FW_ECONFLICT);
	fw_arena_release(&a);
	fx_close(&f);
}

TEST(billing_trial_started_by_an_ingested_plan_change_expires)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t t0 = at("2026-04-01T08:00:00Z"), end = t0 + 14 * DAY;
	fw_billing_set_now(f.b, t0 + 1000);
	track(&f, t0, "u1", "T", "Plan Changed", "{\"plan\":\"trial\",\"mrr\":0}");
	struct fw_check_result r = RUN(&f, .acct = "T", .feature = "sso", .now = t0 + 1000);
	CHECK_EQ_INT(r.trial, 1);
	CHECK_EQ_INT(r.trial_ends_ms, end);
	struct notes n = tick(&f, t0 + 1000);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_STARTED, "T"), 1);
	free(n.v);
	struct fw_err err = {0};
	int64_t ends;
	CHECK_EQ_INT(
	    fw_billing_start_trial(f.b, fw_str_c("T"), fw_str_c(""), NULL, t0 + 2000, &ends, &err),
	    FW_ECONFLICT);
	n = tick(&f, end);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_EXPIRED, "T"), 1);
	free(n.v);
	CHECK_EQ_STR(RUN(&f, .acct = "T", .feature = "sso", .now = end).plan_name, "free");
	CHECK_EQ_INT(
	    written(&f, "Plan Changed", 0) ? written(&f, "Plan Changed", 0)->ev.time_ms : 0, end);
	fx_close(&f);
}

TEST(billing_trial_reminders_once_per_day_count)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t t0 = at("2026-04-01T08:00:00Z"), end = t0 + 14 * DAY, ends;
	struct fw_err err = {0};
	CHECK_EQ_INT(
	    fw_billing_start_trial(f.b, fw_str_c("A"), fw_str_c(""), NULL, t0, &ends, &err), 0);
	CHECK_EQ_INT(
	    fw_billing_start_trial(f.b, fw_str_c("B"), fw_str_c(""), NULL, t0, &ends, &err), 0);
	struct notes n = tick(&f, t0 + 1000);
	CHECK_EQ_INT(n.n, 2); /* both started */
	free(n.v);
	n = tick(&f, end - 3 * DAY - 1);
	CHECK_EQ_INT(n.n, 0);
	free(n.v);
	/* A is looked at when 3 days are left, then 1 */
	n = tick(&f, end - 3 * DAY);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_ENDING, "A"), 1);
	const struct fw_trial_note *x = note(&n, FW_TRIAL_ENDING, "A");
	if (x)
		CHECK_EQ_INT(x->days_left, 3);
	/* (B too: the same trial times) */
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_ENDING, "B"), 1);
	free(n.v);
	n = tick(&f, end - 3 * DAY + HOUR);
	CHECK_EQ_INT(n.n, 0);
	free(n.v);
	n = tick(&f, end - DAY);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_ENDING, "A"), 1);
	x = note(&n, FW_TRIAL_ENDING, "A");
	if (x)
		CHECK_EQ_INT(x->days_left, 1);
	free(n.v);
	n = tick(&f, end - HOUR);
	CHECK_EQ_INT(n.n, 0);
	free(n.v);
	CHECK_EQ_INT(nemitted(&f, FW_TRIAL_EXPIRED_EVENT), 0);
	fx_close(&f);

	/* C is first looked at 12 hours before the end: only the nearest reminder */
	if (fx_open(&f, CFG))
		return;
	CHECK_EQ_INT(
	    fw_billing_start_trial(f.b, fw_str_c("C"), fw_str_c(""), NULL, t0, &ends, &err), 0);
	n = tick(&f, ends - 12 * HOUR);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_ENDING, "C"), 1);
	x = note(&n, FW_TRIAL_ENDING, "C");
	if (x) {
		CHECK_EQ_INT(x->days_left, 1);
		CHECK_EQ_INT(x->ends_ms, end);
	}
	free(n.v);
	n = tick(&f, ends - 11 * HOUR);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_ENDING, "C"), 0);
	free(n.v);
	fx_close(&f);
}

TEST(billing_trial_conversion)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t t0 = at("2026-04-01T08:00:00Z"), ends, conv = t0 + 5 * DAY + 12 * HOUR;
	struct fw_err err = {0};
	CHECK_EQ_INT(
	    fw_billing_start_trial(f.b, fw_str_c("A"), fw_str_c(""), "trial", t0, &ends, &err), 0);
	struct notes n = tick(&f, t0 + 1000);
	free(n.v);
	CHECK_EQ_INT(fw_billing_set_plan(f.b, fw_str_c("A"), fw_str_c("u1"), "pro", -1, conv, &err),
		     0);
	n = tick(&f, conv + 1000);
	CHECK_EQ_INT(n.n, 1);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_CONVERTED, "A"), 1);
	const struct fw_trial_note *x = note(&n, FW_TRIAL_CONVERTED, "A");
	if (x) {
		CHECK_EQ_STR(x->to_plan, "pro");
		CHECK(x->to_mrr == 49);
		CHECK_EQ_INT(x->at_ms, conv);
		CHECK_EQ_INT(x->started_ms, t0);
		CHECK_EQ_STR(x->plan, "trial");
	}
	free(n.v);
	char id[64], props[300];
	snprintf(id, sizeof id, "fw:trial-converted:A:%lld", (long long)t0);
	snprintf(props, sizeof props,
		 "{\"plan\":\"pro\",\"trial_plan\":\"trial\",\"mrr\":49,\"trial_started_ms\":%lld,"
		 "\"days_to_convert\":5.5,\"during_trial\":true}",
		 (long long)t0);
	check_rec(__LINE__, written(&f, FW_TRIAL_CONVERTED_EVENT, 0), FW_TRIAL_CONVERTED_EVENT, id,
		  "", "A", conv, props);
	n = tick(&f, conv + 2000);
	CHECK_EQ_INT(n.n, 0);
	free(n.v);
	/* no expiry once converted */
	n = tick(&f, ends + HOUR);
	CHECK_EQ_INT(n.n, 0);
	free(n.v);
	CHECK_EQ_INT(nemitted(&f, FW_TRIAL_EXPIRED_EVENT), 0);
	struct fw_arena a = {0};
	const struct fw_json *j = account(&f, "A", ends + HOUR, &a);
	CHECK_EQ_STR(S(fw_json_get_str(j, "plan")), "pro");
	const struct fw_json *tr = fw_json_get(j, "trial");
	CHECK_EQ_STR(S(fw_json_get_str(tr, "state")), "converted");
	CHECK(num(tr, "days_to_convert") == 5.5);
	CHECK_EQ_STR(S(fw_json_get_str(tr, "converted_at")), iso(conv));
	/* after a restart: no second Trial Converted */
	catch_up(&f);
	fx_restart(&f, conv + DAY);
	n = tick(&f, conv + DAY);
	free(n.v);
	CHECK_EQ_INT(nemitted(&f, FW_TRIAL_CONVERTED_EVENT), 1);
	j = account(&f, "A", conv + DAY, &a);
	CHECK(num(fw_json_get(j, "trial"), "days_to_convert") == 5.5);
	fw_arena_release(&a);
	fx_close(&f);
}

/* Before it is ready, the feed may come in any order (segments in row
 * order): plan changes are applied by event time once it is ready, and a
 * trial's records are known whichever comes first. */
TEST(billing_feed_before_ready_in_any_order)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t now = at("2026-05-10T12:00:00Z"), t0 = at("2026-04-01T08:00:00Z"), ends;
	fw_billing_set_now(f.b, now);
	track(&f, now - 5 * DAY, "u1", "A", "Plan Changed", "{\"plan\":\"pro\",\"mrr\":49}");
	ingest(&f, FW_MSG_GROUP, now - 2 * DAY, "u1", "A", NULL,
	       "{\"plan\":\"enterprise\",\"mrr\":450}");
	track(&f, now - 9 * DAY, "u1", "A", "Plan Changed", "{\"plan\":\"free\",\"mrr\":0}");
	for (int i = 0; i < 3; i++)
		track(&f, now - HOUR, "u1", "A", "API Call", "{}");
	struct fw_err err = {0};
	CHECK_EQ_INT(
	    fw_billing_start_trial(f.b, fw_str_c("T"), fw_str_c(""), NULL, t0, &ends, &err), 0);
	struct notes n = tick(&f, ends + HOUR);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_EXPIRED, "T"), 1);
	free(n.v);
	catch_up(&f);
	int expired_before = nemitted(&f, FW_TRIAL_EXPIRED_EVENT);
	int changes_before = nemitted(&f, "Plan Changed");
	/* a restart that reads the log backwards */
	fw_billing_free(f.b);
	f.b = fw_billing_new(&f.cfg, emit, &f.col);
	fw_billing_set_now(f.b, now);
	for (size_t i = f.col.n; i-- > 0;)
		if (f.col.v[i].stored)
			fw_billing_feed(f.b, f.col.v[i].seq, &f.col.v[i].ev);
	fw_billing_fed_to(f.b, f.col.next_seq);
	fw_billing_set_ready(f.b, 1);
	struct fw_check_result r = RUN(&f, .feature = "scim", .now = now);
	CHECK_EQ_STR(r.plan_name, "enterprise");
	struct fw_arena a = {0};
	CHECK(num(account(&f, "A", now, &a), "mrr") == 450);
	CHECK(usage_of(&f, "A", "api_calls", now) == 3);
	CHECK_EQ_STR(RUN(&f, .acct = "T", .feature = "sso", .now = now).plan_name, "free");
	CHECK_EQ_STR(S(fw_json_get_str(fw_json_get(account(&f, "T", now, &a), "trial"), "state")),
		     "ended");
	n = tick(&f, now);
	free(n.v);
	CHECK_EQ_INT(nemitted(&f, FW_TRIAL_EXPIRED_EVENT), expired_before); /* no second expiry */
	CHECK_EQ_INT(nemitted(&f, "Plan Changed"), changes_before);
	fw_arena_release(&a);
	fx_close(&f);
}

/* The server ticks (records written), then queues the webhooks; a crash in
 * between must not lose them: after a restart the engine tells the news
 * again (less than 24 hours old), and rules.db's notes table keeps each
 * once (billing.c, trial_record: "its webhook may not have gone out, so it
 * is news again"). */
TEST(billing_restart_retells_trial_news_not_yet_sent)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t t0 = at("2026-04-01T08:00:00Z"), ends = 0, end = t0 + 14 * DAY;
	struct fw_err err = {0};
	CHECK_EQ_INT(
	    fw_billing_start_trial(f.b, fw_str_c("X"), fw_str_c(""), NULL, t0, &ends, &err), 0);
	CHECK_EQ_INT(fw_billing_start_trial(f.b, fw_str_c("C"), fw_str_c(""), NULL, end - 2 * DAY,
					    &ends, &err),
		     0);
	struct notes n = tick(&f, end - 2 * DAY + 1000);
	free(n.v);
	CHECK_EQ_INT(
	    fw_billing_set_plan(f.b, fw_str_c("C"), fw_str_c(""), "pro", -1, end - HOUR, &err), 0);
	n = tick(&f, end + HOUR);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_EXPIRED, "X"), 1);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_CONVERTED, "C"), 1);
	free(n.v); /* ... and the process dies before queueing them */
	catch_up(&f);
	fx_restart(&f, end + 2 * HOUR);
	n = tick(&f, end + 2 * HOUR);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_EXPIRED, "X"), 1);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_CONVERTED, "C"), 1);
	const struct fw_trial_note *x = note(&n, FW_TRIAL_EXPIRED, "X");
	if (x) {
		CHECK_EQ_STR(x->to_plan, "free");
		CHECK_EQ_INT(x->started_ms, t0);
		CHECK_EQ_INT(x->at_ms, end);
	}
	free(n.v);
	CHECK_EQ_INT(nemitted(&f, FW_TRIAL_EXPIRED_EVENT), 1);
	CHECK_EQ_INT(nemitted(&f, FW_TRIAL_CONVERTED_EVENT), 1);
	fx_close(&f);
}

/* A conversion read from the log at start is history: no Trial Converted,
 * no webhook; the account still shows it (docs/billing.md, Conversion). */
TEST(billing_trial_conversion_read_at_start_writes_nothing)
{
	struct fx f;
	if (fx_open(&f, CFG))
		return;
	int64_t t0 = at("2026-04-01T08:00:00Z"), now = at("2026-04-20T00:00:00Z");
	fw_billing_free(f.b);
	f.b = fw_billing_new(&f.cfg, emit, &f.col); /* not ready: reading the log */
	fw_billing_set_now(f.b, now);
	track(&f, t0, "u1", "H", "Plan Changed", "{\"plan\":\"trial\",\"mrr\":0}");
	track(&f, t0 + 3 * DAY, "u1", "H", "Plan Changed", "{\"plan\":\"pro\",\"mrr\":49}");
	fw_billing_set_ready(f.b, 1);
	struct notes n = tick(&f, now);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_CONVERTED, "H"), 0);
	free(n.v);
	CHECK_EQ_INT(nemitted(&f, FW_TRIAL_CONVERTED_EVENT), 0);
	struct fw_arena a = {0};
	const struct fw_json *tr = fw_json_get(account(&f, "H", now, &a), "trial");
	CHECK_EQ_STR(S(fw_json_get_str(tr, "state")), "converted");
	CHECK(num(tr, "days_to_convert") == 3);
	fw_arena_release(&a);
	/* a conversion seen live, by an ingested plan change, is written */
	track(&f, now - HOUR, "u2", "L", "Plan Changed", "{\"plan\":\"trial\",\"mrr\":0}");
	track(&f, now, "u2", "L", "Plan Changed", "{\"plan\":\"pro\",\"mrr\":60}");
	n = tick(&f, now + 1000);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_CONVERTED, "L"), 1);
	const struct fw_trial_note *x = note(&n, FW_TRIAL_CONVERTED, "L");
	if (x)
		CHECK(x->to_mrr == 60);
	free(n.v);
	CHECK_EQ_INT(nemitted(&f, FW_TRIAL_CONVERTED_EVENT), 1);
	fx_close(&f);
}

/* Two trial plans: the default is the first (billing.h: "NULL: the first
 * plan with trial_days"); an expiry goes to the plan's own trial_ends_to. */
TEST(billing_trial_default_plan_and_trial_ends_to)
{
	struct fx f;
	if (fx_open(&f, "default_plan: free\n"
			"plans:\n"
			"  free: {price: 0}\n"
			"  trial: {price: 0, trial_days: 14, features: [sso]}\n"
			"  trial_short: {price: 0, trial_days: 7, trial_ends_to: lite}\n"
			"  lite: {price: 0, features: [exports]}\n"
			"  pro: {price: 49, features: [sso, exports]}\n"))
		return;
	int64_t t0 = at("2026-04-01T08:00:00Z"), ends = 0;
	struct fw_err err = {0};
	CHECK_EQ_INT(
	    fw_billing_start_trial(f.b, fw_str_c("A"), fw_str_c(""), NULL, t0, &ends, &err), 0);
	CHECK_EQ_STR(RUN(&f, .feature = "sso", .now = t0).plan_name, "trial");
	CHECK_EQ_INT(ends, t0 + 14 * DAY);
	/* trial_ends_to: lite, not default_plan */
	CHECK_EQ_INT(fw_billing_start_trial(f.b, fw_str_c("B"), fw_str_c(""), "trial_short", t0,
					    &ends, &err),
		     0);
	CHECK_EQ_INT(ends, t0 + 7 * DAY);
	struct notes n = tick(&f, t0 + 7 * DAY);
	CHECK_EQ_INT(nnotes(&n, FW_TRIAL_EXPIRED, "B"), 1);
	const struct fw_trial_note *x = note(&n, FW_TRIAL_EXPIRED, "B");
	if (x)
		CHECK_EQ_STR(x->to_plan, "lite");
	free(n.v);
	struct fw_check_result r = RUN(&f, .acct = "B", .feature = "exports", .now = t0 + 7 * DAY);
	CHECK_EQ_STR(r.plan_name, "lite");
	CHECK_EQ_INT(r.allowed, 1);
	char id[64], props[200];
	snprintf(id, sizeof id, "fw:trial-expired:B:%lld", (long long)t0);
	snprintf(props, sizeof props,
		 "{\"plan\":\"trial_short\",\"to_plan\":\"lite\",\"trial_started_ms\":%lld}",
		 (long long)t0);
	const struct rec *e = NULL;
	for (int k = 0;
	     (e = written(&f, FW_TRIAL_EXPIRED_EVENT, k)) && !fw_str_eq(e->ev.group_id, "B"); k++)
		;
	check_rec(__LINE__, e, FW_TRIAL_EXPIRED_EVENT, id, "", "B", t0 + 7 * DAY, props);
	fx_close(&f);
}
