/*
 * test_export.c — the usage export (export.h) on a generated data directory:
 * seven accounts (one only in `$usage` records naming no person, one with a
 * created_at trait before its first record, anchors on the 29th, 30th, 31st
 * and Feb 29 2028), count, max, unique and sum meters (the last two on
 * anniversary periods), properties as numbers, as strings and bad, records
 * naming no account, and plan changes by event and by group trait (one at a
 * period's very end, two in the same millisecond, a number, an unknown plan).
 * Every row is checked against an aggregation written here from the
 * generator's own record of what each event means; CSV against JSON; bytes
 * against a re-run and against a run after compaction into segments.
 */
#include "../query/qtest.h"
#include "../test.h"
#include "flywheel/billing.h"
#include "flywheel/export.h"
#include "flywheel/json.h"
#include "flywheel/server.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define DAY FW_MS_PER_DAY

static const char CONFIG[] =
	"default_plan: free\n"
	"plans:\n"
	"  free: {limits: {seats: 2, api_calls: {limit: 50, hard: false}, storage_gb: 10,"
	" spend: {limit: 100, hard: false}}}\n"
	"  team: {price: 49, limits: {seats: 10, api_calls: 500, editors: 3}}\n"
	"  pro: {price: 99}\n"
	"meters:\n"
	"  api_calls: {events: [API Call, Batch Call]}\n"
	"  storage_gb: {events: [Storage Measured], aggregate: max, property: gb}\n"
	"  editors: {events: [Doc Edited], aggregate: unique, property: editor, period: anniversary}\n"
	"  spend: {events: [Charge], aggregate: sum, property: amount, period: anniversary}\n";

/* ---- the generator ---- */

/* One record and what it means: the meter it feeds (NULL: none) with what. */
struct gev {
	struct fw_event e;
	const char *meter;
	double num;
	const char *key; /* unique meters: the value's JSON text */
	const char *plan; /* a plan change to this plan */
	size_t order;     /* generation order: ties keep it */
};

struct gen {
	FW_VEC(struct gev) v;
	struct fw_arena a;
	uint64_t rng;
};

static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static const char *fmt(struct gen *g, const char *f, ...) __attribute__((format(printf, 2, 3)));
static const char *fmt(struct gen *g, const char *f, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(tmp, sizeof tmp, f, ap);
	va_end(ap);
	return fw_arena_strndup(&g->a, tmp, (size_t)n);
}

static struct gev *add(struct gen *g, int type, int64_t t, const char *user, const char *name,
		       const char *group, const char *props, const char *traits)
{
	struct gev x = {.e = qt_event(type, NULL, t, user ? user : "", "", name, group, props,
				      traits ? traits : ""),
			.order = g->v.n};
	FW_PUSH(g->v, x);
	return &g->v.v[g->v.n - 1];
}

struct acct_spec {
	const char *id, *created, *created_at;
};

static const struct acct_spec ACCOUNTS[] = {
	{"acme", "2027-10-31T08:00:00Z", NULL},
	{"beta", "2027-11-29T10:00:00Z", NULL},
	{"gamma, inc", "2027-11-30T00:00:00Z", NULL},
	{"delta \"d\"", "2027-12-15T12:00:00Z", NULL},
	{"epsilon", "2028-02-29T09:00:00Z", NULL},
	{"zeta", "2028-01-10T00:00:00Z", "2027-11-05T00:00:00Z"},
};
#define GHOST "ghost"

static int64_t END_MS;

/* A random metered (or not) event of `user` at t. */
static void random_event(struct gen *g, int64_t t, const char *user, const char *group)
{
	unsigned r = (unsigned)(rnd(g) % 100);
	struct gev *x;
	if (r < 40) {
		x = add(g, FW_MSG_TRACK, t, user, rnd(g) % 4 ? "API Call" : "Batch Call", group, "{}", NULL);
		x->meter = "api_calls";
		x->num = 1;
	} else if (r < 50) {
		unsigned q = (unsigned)(rnd(g) % 60), how = (unsigned)(rnd(g) % 6);
		if (how == 0) {
			add(g, FW_MSG_TRACK, t, user, "Storage Measured", group, "{\"gb\":\"lots\"}", NULL);
		} else if (how == 1) {
			add(g, FW_MSG_TRACK, t, user, "Storage Measured", group, "{\"size\":3}", NULL);
		} else {
			x = add(g, FW_MSG_TRACK, t, user, "Storage Measured", group,
				how == 2 ? fmt(g, "{\"gb\":\"%g\"}", q / 4.0) : fmt(g, "{\"gb\":%g}", q / 4.0),
				NULL);
			x->meter = "storage_gb";
			x->num = q / 4.0;
		}
	} else if (r < 65) {
		unsigned k = (unsigned)(rnd(g) % 10);
		if (k < 7) {
			x = add(g, FW_MSG_TRACK, t, user, "Doc Edited", group, fmt(g, "{\"editor\":\"e%u\"}", k), NULL);
			x->key = fmt(g, "\"e%u\"", k);
		} else if (k < 9) {
			x = add(g, FW_MSG_TRACK, t, user, "Doc Edited", group, fmt(g, "{\"editor\":%u}", k - 7), NULL);
			x->key = fmt(g, "%u", k - 7);
		} else {
			add(g, FW_MSG_TRACK, t, user, "Doc Edited", group, "{\"editor\":null}", NULL);
			return;
		}
		x->meter = "editors";
	} else if (r < 75) {
		unsigned cents = (unsigned)(rnd(g) % 5000), how = (unsigned)(rnd(g) % 5);
		if (how == 0) {
			add(g, FW_MSG_TRACK, t, user, "Charge", group, "{\"amount\":\"abc\"}", NULL);
			return;
		}
		const char *text = fmt(g, "%u.%02u", cents / 100, cents % 100);
		x = add(g, FW_MSG_TRACK, t, user, "Charge", group,
			how == 1 ? fmt(g, "{\"amount\":\"%s\"}", text) : fmt(g, "{\"amount\":%s}", text), NULL);
		x->meter = "spend";
		x->num = strtod(text, NULL);
	} else if (r < 85) {
		add(g, FW_MSG_PAGE, t, user, "$pageview", group, "{\"name\":\"Docs\"}", NULL);
	} else if (r < 92) {
		/* a metered event that names no account: metered nowhere */
		add(g, FW_MSG_TRACK, t, user, rnd(g) % 2 ? "API Call" : "Charge", "", "{\"amount\":5}", NULL);
	} else {
		/* the engine's own usage records, for the person who acted */
		unsigned k = (unsigned)(rnd(g) % 3);
		if (k == 0) {
			x = add(g, FW_MSG_TRACK, t, user, FW_USAGE_EVENT, group,
				"{\"meter\":\"api_calls\",\"quantity\":3,\"request_id\":\"r\"}", NULL);
			x->meter = "api_calls";
			x->num = 3;
		} else if (k == 1) {
			x = add(g, FW_MSG_TRACK, t, user, FW_USAGE_EVENT, group,
				"{\"meter\":\"api_calls\",\"quantity\":\"2.5\"}", NULL);
			x->meter = "api_calls";
			x->num = 2.5;
		} else {
			x = add(g, FW_MSG_TRACK, t, user, FW_USAGE_EVENT, group,
				"{\"meter\":\"editors\",\"value\":\"e1\"}", NULL);
			x->meter = "editors";
			x->key = "\"e1\"";
		}
		x->e.source = FW_SRC_INTERNAL;
	}
}

static int cmp_gev(const void *a, const void *b)
{
	const struct gev *x = a, *y = b;
	if (x->e.time_ms != y->e.time_ms)
		return x->e.time_ms < y->e.time_ms ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void generate(struct gen *g)
{
	g->rng = 0x9E3779B97F4A7C15ULL;
	END_MS = qt_at("2028-05-20T00:00:00Z");
	for (size_t k = 0; k < FW_ARRAY_LEN(ACCOUNTS); k++) {
		const struct acct_spec *s = &ACCOUNTS[k];
		int64_t created = qt_at(s->created);
		const char *users[4];
		int64_t joined[4];
		for (int j = 0; j < 4; j++) {
			users[j] = fmt(g, "%s-u%d", s->id, j);
			joined[j] = created + j * (int64_t)(9 + 3 * k) * DAY + (int64_t)(rnd(g) % DAY);
		}
		joined[0] = created; /* the group call that creates the account */
		add(g, FW_MSG_GROUP, created, users[0], "", s->id, "",
		    s->created_at ? fmt(g, "{\"name\":\"Z\",\"created_at\":\"%s\"}", s->created_at)
				  : "{\"name\":\"A\"}");
		for (int j = 1; j < 4; j++)
			add(g, FW_MSG_TRACK, joined[j], users[j], "Signed Up", s->id, "{}", NULL);
		for (int i = 0; i < 900; i++) {
			int64_t t = created + (int64_t)(rnd(g) % (uint64_t)(END_MS - created));
			int j = (int)(rnd(g) % 4);
			while (joined[j] > t)
				j--;
			random_event(g, t, users[j], s->id);
		}
	}
	/* an account only `$usage` records name, with no person */
	for (int i = 0; i < 40; i++) {
		int64_t t = qt_at("2027-12-20T05:00:00Z") + (int64_t)(rnd(g) % (130 * DAY));
		struct gev *x;
		if (i % 2) {
			x = add(g, FW_MSG_TRACK, t, NULL, FW_USAGE_EVENT, GHOST,
				"{\"meter\":\"api_calls\",\"quantity\":2}", NULL);
			x->meter = "api_calls";
			x->num = 2;
		} else {
			x = add(g, FW_MSG_TRACK, t, NULL, FW_USAGE_EVENT, GHOST,
				fmt(g, "{\"meter\":\"editors\",\"value\":\"g%d\"}", i % 7), NULL);
			x->meter = "editors";
			x->key = fmt(g, "\"g%d\"", i % 7);
		}
		x->e.source = FW_SRC_INTERNAL;
	}
	/* plan changes */
	struct gev *x;
	x = add(g, FW_MSG_TRACK, qt_at("2028-01-31T00:00:00.000Z"), "acme-u0", "Plan Changed", "acme",
		"{\"plan\":\"team\",\"mrr\":49}", NULL);
	x->plan = "team";
	x = add(g, FW_MSG_GROUP, qt_at("2028-02-10T00:00:00Z"), "beta-u0", "", "beta", "",
		"{\"plan\":\"team\"}");
	x->plan = "team";
	x = add(g, FW_MSG_TRACK, qt_at("2028-03-05T12:00:00Z"), "beta-u0", "Plan Changed", "beta",
		"{\"plan\":\"pro\",\"mrr\":99}", NULL);
	x->plan = "pro";
	x = add(g, FW_MSG_TRACK, qt_at("2028-03-05T12:00:00Z"), "beta-u1", "Plan Changed", "beta",
		"{\"plan\":\"team\",\"mrr\":49}", NULL);
	x->plan = "team";
	add(g, FW_MSG_TRACK, qt_at("2027-12-10T00:00:00Z"), "gamma, inc-u0", "Plan Changed",
	    "gamma, inc", "{\"plan\":5}", NULL);
	x = add(g, FW_MSG_TRACK, qt_at("2028-01-15T00:00:00Z"), "gamma, inc-u0", "Plan Changed",
		"gamma, inc", "{\"plan\":\"enterprise\"}", NULL);
	x->plan = "enterprise";
	add(g, FW_MSG_TRACK, qt_at("2027-12-20T00:00:00Z"), "delta \"d\"-u0", "Plan Changed", "",
	    "{\"plan\":\"team\"}", NULL);
	add(g, FW_MSG_GROUP, qt_at("2028-03-01T00:00:00Z"), "epsilon-u0", "", "epsilon", "",
	    "{\"plan\":\"\"}");
	/* log order = time order (ties in generation order), so that a
	 * member's first record is also the first the metadata sees */
	qsort(g->v.v, g->v.n, sizeof *g->v.v, cmp_gev);
	for (size_t i = 0; i < g->v.n; i++)
		g->v.v[i].order = i;
}

/* ---- the expected export, computed here ---- */

static int mdays(int64_t y, unsigned m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : d[m - 1];
}

/* Period starts fall on `day` of each month, or its last day: walk months
 * from two before t's to the one that holds it. */
static void xperiod(int64_t t, unsigned day, int64_t *start, int64_t *end)
{
	int64_t y;
	unsigned m, d;
	fw_civil_from_days(fw_day_floor(t) / DAY, &y, &m, &d);
	m = m <= 2 ? m + 10 : m - 2;
	y = m >= 11 ? y - 1 : y;
	for (int k = 0; k < 4; k++) {
		unsigned nm = m == 12 ? 1 : m + 1;
		int64_t ny = m == 12 ? y + 1 : y;
		int64_t s = fw_days_from_civil(y, m, day < (unsigned)mdays(y, m) ? day : (unsigned)mdays(y, m)) * DAY;
		int64_t e = fw_days_from_civil(ny, nm, day < (unsigned)mdays(ny, nm) ? day : (unsigned)mdays(ny, nm)) * DAY;
		if (s <= t && t < e) {
			*start = s;
			*end = e;
			return;
		}
		y = ny;
		m = nm;
	}
	abort();
}

struct xcell {
	const char *account, *meter;
	int64_t start, end;
	double value;
	long double sum;
	uint64_t records;
	const char *keys[64];
	size_t nkeys;
	int matched;
};

struct model {
	struct xcell cells[3000];
	size_t n;
	int64_t from, to, now;
};

static struct xcell *xcell(struct model *m, const char *account, const char *meter,
			   int64_t start, int64_t end)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->cells[i].account, account) && !strcmp(m->cells[i].meter, meter) &&
		    m->cells[i].start == start)
			return &m->cells[i];
	if (m->n == FW_ARRAY_LEN(m->cells))
		abort();
	struct xcell *c = &m->cells[m->n++];
	memset(c, 0, sizeof *c);
	c->account = account;
	c->meter = meter;
	c->start = start;
	c->end = end;
	return c;
}

static const char *group_of(const struct gev *x)
{
	static char buf[8][64];
	static int k;
	char *b = buf[k++ % 8];
	snprintf(b, 64, "%.*s", (int)x->e.group_id.len, x->e.group_id.p ? x->e.group_id.p : "");
	return b;
}

/* The billing anchor: the earliest record the metadata saw naming the
 * account with a person (or its group call), or the created_at trait; for
 * the account no person names, its earliest record. */
static int64_t xanchor(const struct gen *g, const char *account)
{
	int64_t best = INT64_MAX;
	for (size_t k = 0; k < FW_ARRAY_LEN(ACCOUNTS); k++)
		if (!strcmp(ACCOUNTS[k].id, account) && ACCOUNTS[k].created_at)
			best = qt_at(ACCOUNTS[k].created_at);
	for (size_t i = 0; i < g->v.n; i++) {
		const struct gev *x = &g->v.v[i];
		if (x->e.time_ms < best && fw_str_eq(x->e.group_id, account))
			best = x->e.time_ms;
	}
	return best;
}

static const char *xplan(const struct gen *g, const char *account, int64_t end)
{
	const char *plan = "free";
	for (size_t i = 0; i < g->v.n; i++) /* time order, ties in log order */
		if (g->v.v[i].plan && g->v.v[i].e.time_ms < end && fw_str_eq(g->v.v[i].e.group_id, account))
			plan = g->v.v[i].plan;
	return plan;
}

static int xlimit(const char *plan, const char *meter, double *limit)
{
	static const struct {
		const char *plan, *meter;
		double limit;
	} limits[] = {{"free", "seats", 2},	{"free", "api_calls", 50}, {"free", "storage_gb", 10},
		      {"free", "spend", 100},	{"team", "seats", 10},	   {"team", "api_calls", 500},
		      {"team", "editors", 3}};
	for (size_t i = 0; i < FW_ARRAY_LEN(limits); i++)
		if (!strcmp(limits[i].plan, plan) && !strcmp(limits[i].meter, meter)) {
			*limit = limits[i].limit;
			return 1;
		}
	return 0;
}

static void expect(const struct gen *g, struct model *m)
{
	for (size_t i = 0; i < g->v.n; i++) {
		const struct gev *x = &g->v.v[i];
		const char *account = group_of(x);
		if (!x->meter || !account[0])
			continue;
		int anniversary = !strcmp(x->meter, "editors") || !strcmp(x->meter, "spend");
		unsigned day = 1;
		if (anniversary) {
			int64_t y;
			unsigned mo;
			fw_civil_from_days(fw_day_floor(xanchor(g, account)) / DAY, &y, &mo, &day);
		}
		int64_t s, e;
		xperiod(x->e.time_ms, day, &s, &e);
		if (s < m->from || s >= m->to)
			continue;
		struct xcell *c = xcell(m, x->e.group_id.p, x->meter, s, e);
		if (!strcmp(x->meter, "storage_gb")) {
			if (!c->records || x->num > c->value)
				c->value = x->num;
		} else if (!strcmp(x->meter, "editors")) {
			size_t k = 0;
			while (k < c->nkeys && strcmp(c->keys[k], x->key))
				k++;
			if (k == c->nkeys)
				c->keys[c->nkeys++] = x->key;
			c->value = (double)c->nkeys;
		} else {
			c->sum += x->num;
			c->value = (double)c->sum;
		}
		c->records++;
	}
	/* seats: the accounts the metadata knows, every month from the one its
	 * anchor falls in, up to the one now is in */
	for (size_t k = 0; k < FW_ARRAY_LEN(ACCOUNTS); k++) {
		const char *account = ACCOUNTS[k].id;
		int64_t anchor = xanchor(g, account);
		for (int64_t s = m->from, e; s < m->to && s <= m->now; s = e) {
			int64_t dummy;
			xperiod(s, 1, &dummy, &e);
			if (e <= anchor)
				continue;
			int64_t before = e < m->now ? e : m->now;
			/* members: people whose first record naming the account came before */
			const char *seen[64];
			size_t nseen = 0, members = 0;
			for (size_t i = 0; i < g->v.n; i++) {
				const struct gev *x = &g->v.v[i];
				if (!fw_str_eq(x->e.group_id, account) || !x->e.user_id.len)
					continue;
				size_t j = 0;
				while (j < nseen && !fw_str_eq(x->e.user_id, seen[j]))
					j++;
				if (j < nseen)
					continue;
				seen[nseen++] = x->e.user_id.p;
				members += x->e.time_ms < before;
			}
			struct xcell *c = xcell(m, account, "seats", s, e);
			c->value = (double)members;
		}
	}
}

/* ---- reading the export ---- */

struct fixture {
	struct fw_server *srv;
	struct gen g;
	struct model *m;
};

static int open_fixture(struct fixture *f)
{
	memset(f, 0, sizeof *f);
	const char *dir = fw_test_tmpdir();
	char path[512];
	snprintf(path, sizeof path, "%s/flywheel.yaml", dir);
	FILE *fp = fopen(path, "w");
	if (!fp)
		return -1;
	fputs(CONFIG, fp);
	fclose(fp);
	struct fw_server_options so = {.data_dir = dir};
	struct fw_err err = {0};
	if (fw_server_open(&so, &f->srv, &err)) {
		fprintf(stderr, "  fw_server_open: %s\n", err.msg);
		fw_test_failures++;
		return -1;
	}
	generate(&f->g);
	/* qt_event's strings must outlive the store call: they do (arena, literals) */
	uint64_t ticket = 0;
	for (size_t i = 0; i < f->g.v.n; i += 512) {
		struct fw_event batch[512];
		size_t k = f->g.v.n - i < 512 ? f->g.v.n - i : 512;
		for (size_t j = 0; j < k; j++)
			batch[j] = f->g.v.v[i + j].e;
		CHECK(fw_store_append(f->srv->store, batch, k, NULL, &ticket, &err) == 0);
	}
	CHECK(fw_store_wait(f->srv->store, ticket, &err) == 0);
	f->m = calloc(1, sizeof *f->m);
	f->m->from = qt_at("2027-11-01");
	f->m->to = qt_at("2028-05-01");
	f->m->now = qt_at("2028-04-10T12:00:00Z");
	expect(&f->g, f->m);
	return 0;
}

static void close_fixture(struct fixture *f)
{
	fw_server_close(f->srv);
	free(f->g.v.v);
	fw_arena_release(&f->g.a);
	free(f->m);
}

static int run(struct fixture *f, const char *account, enum fw_export_format format,
	       struct fw_buf *out)
{
	struct fw_export_query q = {.from_ms = f->m->from, .to_ms = f->m->to, .format = format,
				    .now_ms = f->m->now, .account = fw_str_c(account)};
	struct fw_err err = {0};
	fw_buf_reset(out);
	int rc = fw_usage_export(f->srv, &q, out, &err);
	if (rc)
		fprintf(stderr, "  fw_usage_export: %s\n", err.msg);
	return rc;
}

static const struct fw_json *parse(struct fw_arena *a, const struct fw_buf *b)
{
	struct fw_json *j = NULL;
	struct fw_json_error je;
	char *copy = fw_arena_strndup(a, b->data, b->len);
	if (fw_json_parse(a, copy, b->len, &j, &je)) {
		fprintf(stderr, "  not JSON: %s at %zu\n", je.msg, je.offset);
		fw_test_failures++;
		return NULL;
	}
	return j;
}

static const char *str(const struct fw_json *o, const char *k)
{
	static char buf[8][128];
	static int n;
	char *b = buf[n++ % 8];
	struct fw_str s = fw_json_get_str(o, k);
	snprintf(b, 128, "%.*s", (int)s.len, s.p ? s.p : "");
	return b;
}

static double num(const struct fw_json *o, const char *k)
{
	const struct fw_json *v = fw_json_get(o, k);
	return v && v->type == FW_JSON_NUMBER ? v->u.num : NAN;
}

static const char *iso(int64_t ms)
{
	static char buf[4][32];
	static int n;
	char *b = buf[n++ % 4];
	fw_time_format_iso(ms, b);
	return b;
}

/* The row of (account, meter, period start), or NULL. */
static const struct fw_json *row(const struct fw_json *root, const char *account_,
				 const char *meter_, const char *start_)
{
	char account[128], meter[128], start[128]; /* str() reuses its buffers */
	snprintf(account, sizeof account, "%s", account_);
	snprintf(meter, sizeof meter, "%s", meter_);
	snprintf(start, sizeof start, "%s", start_);
	const struct fw_json *rows = fw_json_get_arr(root, "rows");
	for (const struct fw_json *r = rows ? rows->u.child : NULL; r; r = r->next)
		if (!strcmp(str(r, "account"), account) && !strcmp(str(r, "meter"), meter) &&
		    !strcmp(str(r, "period_start"), start))
			return r;
	return NULL;
}

/* ---- tests ---- */

TEST(export_xsum_is_order_independent)
{
	double v[2000];
	uint64_t s = 42;
	for (size_t i = 0; i < FW_ARRAY_LEN(v); i++) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		v[i] = (double)(s % 100000) / 100.0 * (s % 3 ? 1 : -1) + (s % 7 == 0 ? 1e9 : 0);
	}
	struct fw_xsum a = {0}, b = {0};
	long double ref = 0;
	for (size_t i = 0; i < FW_ARRAY_LEN(v); i++) {
		fw_xsum_add(&a, v[i]);
		ref += v[i];
	}
	for (size_t i = FW_ARRAY_LEN(v); i-- > 0;)
		fw_xsum_add(&b, v[i]);
	CHECK(fw_xsum_value(&a) == fw_xsum_value(&b));
	CHECK(fabsl(fw_xsum_value(&a) - ref) <= fabsl(ref) * 0x1p-52L);
	/* the famous one: rounded once, whatever the order */
	struct fw_xsum c = {0}, d = {0};
	fw_xsum_add(&c, 0.1), fw_xsum_add(&c, 0.2), fw_xsum_add(&c, 0.3);
	fw_xsum_add(&d, 0.3), fw_xsum_add(&d, 0.2), fw_xsum_add(&d, 0.1);
	CHECK(fw_xsum_value(&c) == fw_xsum_value(&d));
	CHECK(fw_xsum_value(&c) == 0.6);
	/* huge values fall back to a plain sum, without overflow */
	struct fw_xsum h = {0};
	fw_xsum_add(&h, 1.5);
	fw_xsum_add(&h, 1e30);
	fw_xsum_add(&h, -1e30);
	CHECK(fw_xsum_value(&h) == 0 || fw_xsum_value(&h) == 1.5);
	struct fw_xsum e = {0};
	CHECK(fw_xsum_value(&e) == 0);
}

TEST(export_query_parse)
{
	struct fw_export_query q;
	struct fw_err err = {0};
	CHECK(fw_export_query_parse(&q, "2026-01-01", "2026-02-01", "acme", "csv", 5, &err) == 0);
	CHECK(q.from_ms == qt_at("2026-01-01") && q.to_ms == qt_at("2026-02-01"));
	CHECK(q.format == FW_EXPORT_CSV && fw_str_eq(q.account, "acme") && q.now_ms == 5);
	CHECK(fw_export_query_parse(&q, "2026-01-01", "2026-02-01", "", NULL, 5, &err) == 0);
	CHECK(q.format == FW_EXPORT_JSON && q.account.len == 0);
	CHECK(fw_export_query_parse(&q, NULL, "2026-02-01", NULL, NULL, 0, &err) == FW_EINVAL);
	CHECK(strstr(err.msg, "from and to are required") != NULL);
	CHECK(fw_export_query_parse(&q, "2026-01-01", "", NULL, NULL, 0, &err) == FW_EINVAL);
	CHECK(fw_export_query_parse(&q, "2026-1-1", "2026-02-01", NULL, NULL, 0, &err) == FW_EINVAL);
	CHECK_EQ_STR(err.msg, "from=\"2026-1-1\" is not a day: use YYYY-MM-DD (UTC)");
	CHECK(fw_export_query_parse(&q, "2026-01-01", "2026-02-30", NULL, NULL, 0, &err) == FW_EINVAL);
	CHECK_EQ_STR(err.msg, "to=\"2026-02-30\" is not a day: use YYYY-MM-DD (UTC)");
	CHECK(fw_export_query_parse(&q, "2026-01-01T00:00:00Z", "2026-02-01", NULL, NULL, 0, &err) ==
	      FW_EINVAL);
	CHECK(fw_export_query_parse(&q, "2026-02-01", "2026-02-01", NULL, NULL, 0, &err) == FW_EINVAL);
	CHECK(strstr(err.msg, "the range is empty: to (2026-02-01) must be after from (2026-02-01)") != NULL);
	CHECK(fw_export_query_parse(&q, "2026-01-01", "2027-02-06", NULL, NULL, 0, &err) == FW_EINVAL);
	CHECK(strstr(err.msg, "the range is 401 days; export at most 400 days at a time") != NULL);
	CHECK(fw_export_query_parse(&q, "2026-01-01", "2027-02-05", NULL, NULL, 0, &err) == 0); /* 400 */
	CHECK(fw_export_query_parse(&q, "2026-01-01", "2026-02-01", NULL, "xml", 0, &err) == FW_EINVAL);
	CHECK_EQ_STR(err.msg, "format must be json or csv; got \"xml\"");
}

/* Rows and totals equal the model's, row by row. */
static void check_against_model(struct fixture *f, const struct fw_json *root)
{
	struct model *m = f->m;
	size_t nrows = 0;
	const struct fw_json *rows = fw_json_get_arr(root, "rows");
	struct {
		const char *meter;
		long double value;
		uint64_t records;
	} totals[5] = {{"api_calls", 0, 0}, {"editors", 0, 0}, {"seats", 0, 0}, {"spend", 0, 0},
		       {"storage_gb", 0, 0}};
	int bad = 0;
	for (const struct fw_json *r = rows ? rows->u.child : NULL; r; r = r->next, nrows++) {
		char account[128], meter[128], start[128]; /* str() reuses its buffers */
		snprintf(account, sizeof account, "%s", str(r, "account"));
		snprintf(meter, sizeof meter, "%s", str(r, "meter"));
		snprintf(start, sizeof start, "%s", str(r, "period_start"));
		struct xcell *c = NULL;
		for (size_t i = 0; i < m->n && !c; i++)
			if (!strcmp(m->cells[i].account, account) && !strcmp(m->cells[i].meter, meter) &&
			    !strcmp(iso(m->cells[i].start), start))
				c = &m->cells[i];
		if (!c) {
			if (bad++ < 5)
				fprintf(stderr, "  unexpected row %s %s %s\n", account, meter, start);
			continue;
		}
		c->matched++;
		const char *plan = xplan(&f->g, account, c->end);
		double limit = 0, value = num(r, "value");
		int has_limit = xlimit(plan, meter, &limit);
		double overage = has_limit && c->value > limit ? c->value - limit : 0;
		const struct fw_json *closed = fw_json_get(r, "closed"), *lim = fw_json_get(r, "limit");
		int ok = !strcmp(str(r, "period_end"), iso(c->end)) &&
			 (!strcmp(meter, "spend") ? fabs(value - c->value) <= 1e-9 * fmax(1, fabs(c->value))
						  : value == c->value) &&
			 num(r, "records") == (double)c->records && !strcmp(str(r, "plan"), plan) &&
			 closed && closed->type == (c->end <= m->now ? FW_JSON_TRUE : FW_JSON_FALSE) &&
			 lim && (has_limit ? num(r, "limit") == limit : lim->type == FW_JSON_NULL) &&
			 fabs(num(r, "overage") - overage) <= 1e-9 * fmax(1, overage);
		const char *agg = !strcmp(meter, "api_calls")	 ? "count"
				  : !strcmp(meter, "storage_gb") ? "max"
				  : !strcmp(meter, "editors")	 ? "unique"
				  : !strcmp(meter, "spend")	 ? "sum"
								 : "members";
		ok = ok && !strcmp(str(r, "aggregate"), agg);
		if (!ok && bad++ < 5)
			fprintf(stderr,
				"  row %s %s %s: value %.17g (expected %.17g), records %g (%llu), "
				"plan %s (%s), overage %g (%g), end %s (%s)\n",
				account, meter, start, value, c->value, num(r, "records"),
				(unsigned long long)c->records, str(r, "plan"), plan, num(r, "overage"),
				overage, str(r, "period_end"), iso(c->end));
		for (size_t k = 0; k < FW_ARRAY_LEN(totals); k++)
			if (!strcmp(totals[k].meter, meter)) {
				totals[k].value += c->value;
				totals[k].records += c->records;
			}
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->cells[i].matched != 1 && bad++ < 5)
			fprintf(stderr, "  expected row %s %s %s %s\n", m->cells[i].account, m->cells[i].meter,
				iso(m->cells[i].start), m->cells[i].matched ? "twice" : "missing");
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(nrows, m->n);
	const struct fw_json *t = fw_json_get_obj(root, "totals");
	for (size_t k = 0; k < FW_ARRAY_LEN(totals); k++) {
		const struct fw_json *x = fw_json_get_obj(t, totals[k].meter);
		CHECK(x != NULL);
		CHECK(fabsl((long double)num(x, "value") - totals[k].value) <= 1e-6L);
		CHECK(num(x, "records") == (double)totals[k].records);
	}
	for (size_t i = 0; i < m->n; i++)
		m->cells[i].matched = 0;
}

/* RFC 4180 fields of one line; returns the position after it. */
static const char *csv_line(const char *p, char fields[16][128], int *n)
{
	*n = 0;
	for (;;) {
		char *o = fields[(*n)++];
		size_t k = 0;
		if (*p == '"') {
			for (p++; *p && !(*p == '"' && p[1] != '"'); p++) {
				if (*p == '"')
					p++;
				if (k < 127)
					o[k++] = *p;
			}
			p++;
		} else {
			while (*p && *p != ',' && *p != '\r' && *p != '\n')
				if (k < 127)
					o[k++] = *p++;
		}
		o[k] = 0;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\r')
			p++;
		if (*p == '\n')
			p++;
		return p;
	}
}

static void check_csv_equals_json(const struct fw_buf *csv, const struct fw_json *root)
{
	char f[16][128];
	int n;
	const char *p = csv_line(csv->data, f, &n);
	CHECK_EQ_INT(n, 11);
	CHECK_EQ_STR(f[0], "account");
	CHECK_EQ_STR(f[10], "overage");
	const struct fw_json *rows = fw_json_get_arr(root, "rows");
	static const char *const cols[] = {"account", "meter", "aggregate", "period_start",
					   "period_end", "closed", "value", "records", "plan",
					   "limit", "overage"};
	int bad = 0;
	for (const struct fw_json *r = rows ? rows->u.child : NULL; r; r = r->next) {
		CHECK(*p != 0);
		p = csv_line(p, f, &n);
		CHECK_EQ_INT(n, 11);
		for (int k = 0; k < 11 && k < n; k++) {
			const struct fw_json *v = fw_json_get(r, cols[k]);
			char want[128];
			if (v->type == FW_JSON_STRING)
				snprintf(want, sizeof want, "%.*s", (int)v->u.str.len, v->u.str.p);
			else if (v->type == FW_JSON_NULL)
				want[0] = 0;
			else
				snprintf(want, sizeof want, "%.*s", (int)v->raw.len, v->raw.p);
			if (strcmp(want, f[k]) && bad++ < 5)
				fprintf(stderr, "  CSV %s \"%s\", JSON \"%s\"\n", cols[k], f[k], want);
		}
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(*p == 0);
}

TEST(export_matches_an_independent_aggregation)
{
	struct fixture f;
	if (open_fixture(&f))
		return;
	struct fw_buf json = {0}, csv = {0}, again = {0};
	struct fw_arena a = {0};
	CHECK(run(&f, NULL, FW_EXPORT_JSON, &json) == 0);
	const struct fw_json *root = parse(&a, &json);
	if (!root)
		goto out;
	CHECK_EQ_STR(str(root, "from"), "2027-11-01");
	CHECK_EQ_STR(str(root, "to"), "2028-05-01");
	check_against_model(&f, root);

	/* by hand: the plan in force at a period's end */
	const struct fw_json *r;
	/* acme went to team at 2028-01-31 00:00: in force for January... */
	r = row(root, "acme", "api_calls", "2028-01-01T00:00:00.000Z");
	CHECK(r && !strcmp(str(r, "plan"), "team") && num(r, "limit") == 500);
	/* ...but not for the anniversary period that ends at that instant */
	r = row(root, "acme", "editors", "2027-12-31T00:00:00.000Z");
	CHECK(r && !strcmp(str(r, "plan"), "free") && !strcmp(str(r, "period_end"), "2028-01-31T00:00:00.000Z"));
	r = row(root, "acme", "editors", "2028-01-31T00:00:00.000Z");
	CHECK(r && !strcmp(str(r, "plan"), "team") && !strcmp(str(r, "period_end"), "2028-02-29T00:00:00.000Z"));
	/* acme's first anniversary period began on Oct 31: before `from` */
	CHECK(row(root, "acme", "editors", "2027-10-31T00:00:00.000Z") == NULL);
	CHECK(row(root, "acme", "editors", "2027-11-30T00:00:00.000Z") != NULL);
	/* beta: pro and team in one millisecond, team logged last */
	r = row(root, "beta", "api_calls", "2028-03-01T00:00:00.000Z");
	CHECK(r && !strcmp(str(r, "plan"), "team"));
	/* gamma: a number is no plan; an unknown plan has no limits */
	r = row(root, "gamma, inc", "api_calls", "2027-12-01T00:00:00.000Z");
	CHECK(r && !strcmp(str(r, "plan"), "free"));
	r = row(root, "gamma, inc", "api_calls", "2028-02-01T00:00:00.000Z");
	CHECK(r && !strcmp(str(r, "plan"), "enterprise") && fw_json_get(r, "limit")->type == FW_JSON_NULL &&
	      num(r, "overage") == 0);
	/* epsilon, created on Feb 29: periods from the 29th, Feb 28 next year */
	CHECK(row(root, "epsilon", "spend", "2028-02-29T00:00:00.000Z") != NULL);
	CHECK(row(root, "epsilon", "spend", "2028-03-29T00:00:00.000Z") != NULL);
	CHECK(row(root, "epsilon", "spend", "2028-04-29T00:00:00.000Z") != NULL);
	/* zeta's anchor is its created_at trait (Nov 5), not its first record */
	CHECK(row(root, "zeta", "editors", "2028-01-05T00:00:00.000Z") != NULL);
	/* the account no person names: metered, anchored on its first record
	 * (Dec 20 or later), no seats */
	CHECK(row(root, GHOST, "api_calls", "2028-01-01T00:00:00.000Z") != NULL);
	CHECK(row(root, GHOST, "seats", "2028-01-01T00:00:00.000Z") == NULL);
	/* no account: no row */
	CHECK(row(root, "", "api_calls", "2028-01-01T00:00:00.000Z") == NULL);
	/* seats: a month that ended before the account began has none; the
	 * current month is counted up to now; no month after now */
	CHECK(row(root, "epsilon", "seats", "2028-01-01T00:00:00.000Z") == NULL);
	r = row(root, "acme", "seats", "2028-04-01T00:00:00.000Z");
	CHECK(r && fw_json_get(r, "closed")->type == FW_JSON_FALSE && num(r, "value") == 4 &&
	      num(r, "records") == 0 && !strcmp(str(r, "aggregate"), "members"));
	/* soft overage past the free plan's 50 calls, somewhere */
	int overages = 0;
	for (const struct fw_json *x = fw_json_get_arr(root, "rows")->u.child; x; x = x->next)
		overages += !strcmp(str(x, "meter"), "api_calls") && num(x, "overage") > 0 &&
			    num(x, "overage") == num(x, "value") - 50;
	CHECK(overages > 0);

	/* CSV: the same rows, the same number texts */
	CHECK(run(&f, NULL, FW_EXPORT_CSV, &csv) == 0);
	check_csv_equals_json(&csv, root);
	CHECK(strstr(csv.data, "\r\n\"gamma, inc\",api_calls,count,") != NULL);
	CHECK(strstr(csv.data, "\r\n\"delta \"\"d\"\"\",") != NULL);

	/* the same bytes again, and after compaction reorders every record */
	CHECK(run(&f, NULL, FW_EXPORT_JSON, &again) == 0);
	CHECK(again.len == json.len && !memcmp(again.data, json.data, json.len));
	uint64_t compacted = 0;
	struct fw_err err;
	CHECK(fw_store_compact(f.srv->store, &compacted, &err) == 0);
	CHECK(compacted > 0);
	CHECK(run(&f, NULL, FW_EXPORT_JSON, &again) == 0);
	CHECK(again.len == json.len && !memcmp(again.data, json.data, json.len));
	CHECK(run(&f, NULL, FW_EXPORT_CSV, &again) == 0);
	CHECK(again.len == csv.len && !memcmp(again.data, csv.data, csv.len));

	/* one account: exactly its rows of the whole export */
	CHECK(run(&f, "gamma, inc", FW_EXPORT_JSON, &again) == 0);
	const struct fw_json *one = parse(&a, &again);
	size_t n = 0, want = 0;
	for (const struct fw_json *x = one ? fw_json_get_arr(one, "rows")->u.child : NULL; x; x = x->next, n++) {
		const struct fw_json *y = row(root, "gamma, inc", str(x, "meter"), str(x, "period_start"));
		struct fw_buf bx = {0}, by = {0};
		fw_json_write_value(&bx, x);
		if (y)
			fw_json_write_value(&by, y);
		CHECK(y && bx.len == by.len && !memcmp(bx.data, by.data, bx.len));
		fw_buf_release(&bx);
		fw_buf_release(&by);
	}
	for (const struct fw_json *x = fw_json_get_arr(root, "rows")->u.child; x; x = x->next)
		want += !strcmp(str(x, "account"), "gamma, inc");
	CHECK(n == want && n > 0);
	/* an account nobody named: no rows, zero totals */
	CHECK(run(&f, "nobody", FW_EXPORT_JSON, &again) == 0);
	CHECK(strstr(again.data, "\"rows\":[]") != NULL);
out:
	fw_arena_release(&a);
	fw_buf_release(&json);
	fw_buf_release(&csv);
	fw_buf_release(&again);
	close_fixture(&f);
}
