/*
 * bench/entitlements/inproc.c — the entitlement engine (src/bill/billing.c)
 * measured in-process, without HTTP: `make bench` builds it as
 * $(BUILD)/entitlements_inproc against libflywheel.a; bench/entitlements/run.sh
 * runs it.
 *
 * The engine gets bench/entitlements/flywheel.yaml (free and pro plans;
 * meters api_calls = count, storage_mb = sum, active_users = unique; seats)
 * and N accounts (--accounts, 10,000; every 5th on pro) whose state is fed
 * through fw_billing_feed as the server's billing thread would: a group call
 * naming the plan, a `$usage` record for api_calls, File Uploaded, Dashboard
 * Viewed and API Call events, all in the current month; seats set directly.
 * Usage is skewed (share of the limit = u² × 1.05, u uniform): ~13 % of free
 * accounts are at 80 % of a limit or more and ~2 % past it.
 *
 * Cases (each check timed alone with clock_gettime; p50/p99/p999 and
 * checks/s from the loop's wall time, single thread unless said):
 *   preflight   meter checks, consume = 0: api_calls 50 %, storage_mb 25 %,
 *               active_users (a new viewer) 15 %, seats 10 %; also on 2 threads
 *   feature     reports 70 %, sso 15 %, export 15 % (free accounts are denied
 *               sso/export: a denial and a prompt record each)
 *   consume     consuming checks, unique request ids, emit does nothing (the
 *               engine alone); api_calls 70 %, storage_mb 20 %, active_users 10 %.
 *               Every 1024 checks their own `$usage` records are fed back
 *               (untimed), as the server's feed would within ~20 ms
 *   durable     consuming checks against a real embedded store in a temporary
 *               directory (--tmp): emit = fw_store_append + fw_store_wait, i.e.
 *               the answer waits for fdatasync (group commit); 1 and 8 threads,
 *               and a feed thread scanning the store as the server's does
 *   feed        meter update cost per ingested event: fw_billing_feed of
 *               --events (1M) generated events with properties (35 % API Call,
 *               10 % File Uploaded, 15 % Dashboard Viewed, 40 % three unmetered
 *               names), fw_billing_take_dirty every 10,000 as the server does,
 *               ns/event; again with the unmetered events' properties left out
 *               (what the server's scan hands the feed: ids only for names no
 *               meter reads); and the same counting in SQLite (WAL,
 *               synchronous=NORMAL and FULL; one INSERT ... ON CONFLICT DO
 *               UPDATE SET value = value + ? per metered event, INSERT OR IGNORE
 *               into a table of values first for the unique meter,
 *               transactions of 1,000 events). SQLite is handed each event's
 *               account, meter, amount and value already extracted (untimed),
 *               so the ratio is a lower bound.
 *
 * Output: a readable table on stderr, one JSON object on stdout.
 *   --ndjson FILE --usage-dir DIR: instead, write the same accounts as Segment
 *   NDJSON (group calls, events) for `flywheel import`, and their api_calls
 *   seed as POST /api/v1/usage batches (DIR/usage-NNN.json), then exit.
 */
#include "flywheel/billing.h"
#include "flywheel/config.h"
#include "flywheel/store.h"
#include "flywheel/timeutil.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- options ---- */
static int g_accounts = 10000;
static long g_checks = 1000000;   /* per noop case, at most */
static double g_seconds = 3;      /* per case, at most */
static double g_durable_seconds = 3;
static long g_events = 1000000;
static const char *g_config = "bench/entitlements/flywheel.yaml";
static const char *g_tmp = "/tmp";
static const char *g_ndjson, *g_usage_dir;
static int g_skip_sqlite_full, g_skip_sqlite;

/* ---- small things ---- */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}
static double rng_unit(uint64_t *s) { return (double)(rng_next(s) >> 11) / 9007199254740992.0; }
static uint32_t rng_below(uint64_t *s, uint32_t n) { return (uint32_t)(rng_next(s) % n); }

static inline int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "entitlements_inproc: %s: %s\n", what, msg);
	exit(1);
}

static char (*g_acct)[16]; /* "acct_00042" */
static int is_pro(int i) { return i % 5 == 0; }
static int members_of(int i) { return 1 + i % 4; }

/* Share of a limit an account's seed usage is at (u² × 1.05). */
static double usage_share(uint64_t *r) { double u = rng_unit(r); return u * u * 1.05; }

/* ---- the seed: what every engine starts with ---- */

struct seed_acct {
	double api, storage; /* seed usage */
	int viewers;         /* distinct Dashboard Viewed viewers */
};
static struct seed_acct *g_seed;
static int64_t g_period_start, g_now0;

static void make_seed(void)
{
	uint64_t r = 42;
	g_seed = calloc((size_t)g_accounts, sizeof *g_seed);
	g_acct = calloc((size_t)g_accounts, sizeof *g_acct);
	for (int i = 0; i < g_accounts; i++) {
		snprintf(g_acct[i], sizeof g_acct[i], "acct_%05d", i);
		int pro = is_pro(i);
		g_seed[i].api = floor(usage_share(&r) * (pro ? 1000000 : 10000));
		g_seed[i].storage = floor(usage_share(&r) * (pro ? 100000 : 500));
		g_seed[i].viewers = (int)(usage_share(&r) * (pro ? 50 : 20));
	}
	g_now0 = fw_now_ms();
	g_period_start = fw_period_at(g_now0, 0, 0).start_ms;
}

static int64_t seed_time(uint64_t *r)
{
	int64_t span = g_now0 - g_period_start - 1000;
	return g_period_start + (span > 0 ? (int64_t)(rng_next(r) % (uint64_t)span) : 0);
}

static uint64_t g_feed_seq;
static struct fw_store *g_sink; /* seed into this store instead of the engine */
static uint64_t g_sink_ticket;

static void feed_one(struct fw_billing *b, uint8_t type, uint8_t source, const char *name,
		     const char *acct, const char *user, const char *mid, const char *props,
		     int64_t t)
{
	struct fw_event e = {.time_ms = t, .received_ms = t, .type = type, .source = source,
			     .message_id = fw_str_c(mid), .event = fw_str_c(name),
			     .user_id = fw_str_c(user), .group_id = fw_str_c(acct)};
	if (type == FW_MSG_GROUP)
		e.traits = fw_str_c(props);
	else
		e.properties = fw_str_c(props);
	if (g_sink) { /* into the store, for the feed thread to read */
		struct fw_err err;
		if (fw_store_append(g_sink, &e, 1, NULL, &g_sink_ticket, &err))
			die("seed append", err.msg);
		return;
	}
	fw_billing_feed(b, g_feed_seq++, &e);
}

/* Feed the seed into a fresh engine. Returns the records fed. */
static uint64_t seed_engine(struct fw_billing *b)
{
	uint64_t r = 7, n0 = g_feed_seq;
	char user[32], mid[64], props[256];
	struct fw_arena scratch = {0};
	for (int i = 0; i < g_accounts; i++) {
		const char *a = g_acct[i];
		struct seed_acct *s = &g_seed[i];
		for (int k = 0; k < members_of(i); k++) {
			snprintf(user, sizeof user, "u_%05d_%d", i, k);
			snprintf(mid, sizeof mid, "seed-g-%d-%d", i, k);
			if (k == 0)
				snprintf(props, sizeof props, "{\"name\":\"Account %d\",\"plan\":\"%s\"}", i,
					 is_pro(i) ? "pro" : "free");
			else
				snprintf(props, sizeof props, "{\"name\":\"Account %d\"}", i);
			feed_one(b, FW_MSG_GROUP, FW_SRC_SEGMENT, "", a, user, mid, props, g_period_start);
		}
		fw_billing_set_seats(b, fw_str_c(a), members_of(i));
		snprintf(user, sizeof user, "u_%05d_0", i);
		/* a usage report written before a restart */
		snprintf(mid, sizeof mid, "fw:use:seed-api-%d", i);
		snprintf(props, sizeof props,
			 "{\"meter\":\"api_calls\",\"quantity\":%.0f,\"idempotency_key\":\"seed-api-%d\"}",
			 s->api, i);
		feed_one(b, FW_MSG_TRACK, FW_SRC_INTERNAL, FW_USAGE_EVENT, a, "", mid, props,
			 seed_time(&r));
		snprintf(mid, sizeof mid, "seed-f-%d", i);
		snprintf(props, sizeof props, "{\"size_mb\":%.0f,\"file_type\":\"csv\"}", s->storage);
		feed_one(b, FW_MSG_TRACK, FW_SRC_SEGMENT, "File Uploaded", a, user, mid, props,
			 seed_time(&r));
		for (int k = 0; k < s->viewers; k++) {
			snprintf(mid, sizeof mid, "seed-d-%d-%d", i, k);
			snprintf(props, sizeof props, "{\"viewer\":\"u_%05d_%d\",\"dashboard\":\"usage\"}",
				 i, k);
			feed_one(b, FW_MSG_TRACK, FW_SRC_SEGMENT, "Dashboard Viewed", a, user, mid, props,
				 seed_time(&r));
		}
		for (int k = 0; k < 5; k++) {
			snprintf(mid, sizeof mid, "seed-a-%d-%d", i, k);
			feed_one(b, FW_MSG_TRACK, FW_SRC_SEGMENT, "API Call", a, user, mid,
				 "{\"endpoint\":\"/v1/items\",\"status\":200}", seed_time(&r));
		}
		if (i % 1000 == 999) {
			struct fw_str *ids;
			fw_billing_take_dirty(b, &ids, &scratch);
			fw_arena_reset(&scratch);
		}
	}
	struct fw_str *ids;
	fw_billing_take_dirty(b, &ids, &scratch);
	fw_arena_release(&scratch);
	return g_feed_seq - n0;
}

/* The same accounts for a server: NDJSON for `flywheel import` and the
 * api_calls seed as usage report batches. */
static void write_ndjson(const char *path, const char *dir)
{
	FILE *f = fopen(path, "w");
	if (!f)
		die(path, strerror(errno));
	uint64_t r = 7;
	char ts[32];
	long lines = 0;
	for (int i = 0; i < g_accounts; i++) {
		const char *a = g_acct[i];
		struct seed_acct *s = &g_seed[i];
		fw_time_format_iso(g_period_start, ts);
		for (int k = 0; k < members_of(i); k++, lines++)
			fprintf(f,
				"{\"type\":\"group\",\"groupId\":\"%s\",\"userId\":\"u_%05d_%d\",\"traits\":{"
				"\"name\":\"Account %d\"%s%s%s},\"timestamp\":\"%s\",\"messageId\":\"seed-g-%d-%d\"}\n",
				a, i, k, i, k ? "" : ",\"plan\":\"", k ? "" : is_pro(i) ? "pro" : "free",
				k ? "" : "\"", ts, i, k);
		(void)seed_time(&r); /* the same times as seed_engine */
		fw_time_format_iso(seed_time(&r), ts);
		fprintf(f,
			"{\"type\":\"track\",\"event\":\"File Uploaded\",\"userId\":\"u_%05d_0\",\"properties\":"
			"{\"size_mb\":%.0f,\"file_type\":\"csv\"},\"context\":{\"groupId\":\"%s\"},\"timestamp\":"
			"\"%s\",\"messageId\":\"seed-f-%d\"}\n",
			i, s->storage, a, ts, i);
		lines++;
		for (int k = 0; k < s->viewers; k++, lines++) {
			fw_time_format_iso(seed_time(&r), ts);
			fprintf(f,
				"{\"type\":\"track\",\"event\":\"Dashboard Viewed\",\"userId\":\"u_%05d_0\","
				"\"properties\":{\"viewer\":\"u_%05d_%d\",\"dashboard\":\"usage\"},\"context\":{"
				"\"groupId\":\"%s\"},\"timestamp\":\"%s\",\"messageId\":\"seed-d-%d-%d\"}\n",
				i, i, k, a, ts, i, k);
		}
		for (int k = 0; k < 5; k++, lines++) {
			fw_time_format_iso(seed_time(&r), ts);
			fprintf(f,
				"{\"type\":\"track\",\"event\":\"API Call\",\"userId\":\"u_%05d_0\",\"properties\":"
				"{\"endpoint\":\"/v1/items\",\"status\":200},\"context\":{\"groupId\":\"%s\"},"
				"\"timestamp\":\"%s\",\"messageId\":\"seed-a-%d-%d\"}\n",
				i, a, ts, i, k);
		}
	}
	if (fclose(f))
		die(path, strerror(errno));
	mkdir(dir, 0755);
	int per = 500, files = 0;
	for (int i = 0; i < g_accounts; i += per, files++) {
		char p[4096];
		snprintf(p, sizeof p, "%s/usage-%03d.json", dir, files);
		FILE *u = fopen(p, "w");
		if (!u)
			die(p, strerror(errno));
		fprintf(u, "{\"batch\":[");
		for (int k = i; k < i + per && k < g_accounts; k++)
			fprintf(u,
				"%s{\"account_id\":\"%s\",\"meter\":\"api_calls\",\"quantity\":%.0f,"
				"\"idempotency_key\":\"seed-api-%d\"}",
				k > i ? "," : "", g_acct[k], g_seed[k].api, k);
		fprintf(u, "]}\n");
		fclose(u);
	}
	printf("{\"lines\":%ld,\"usage_files\":%d,\"accounts\":%d}\n", lines, files, g_accounts);
}

/* ---- emit callbacks ---- */

static int emit_noop(void *ctx, const struct fw_event *ev, size_t n, uint8_t *stored,
		     int durable, struct fw_err *err)
{
	for (size_t i = 0; i < n; i++)
		stored[i] = 1;
	return 0;
}

static int emit_store(void *ctx, const struct fw_event *ev, size_t n, uint8_t *stored,
		      int durable, struct fw_err *err)
{
	struct fw_store *s = ctx;
	uint64_t ticket;
	int rc = fw_store_append(s, ev, n, stored, &ticket, err);
	if (!rc && durable)
		rc = fw_store_wait(s, ticket, err);
	return rc;
}

/* ---- checks ---- */

enum kind { K_PREFLIGHT, K_FEATURE, K_CONSUME };

struct worker {
	pthread_t th;
	int id;
	enum kind kind;
	struct fw_billing *b;
	long max;
	int64_t deadline_ns;
	uint64_t rng;
	uint32_t *lat; /* ns */
	size_t n, cap;
	uint64_t allowed, denied, prompts, errors, near, over, replayed;
	int64_t t0, t1;
	char first_error[512];
	/* K_CONSUME, engine alone: own records fed back (single thread only) */
	int feed_back;
	char (*rids)[48];
	int nrids;
};

static pthread_barrier_t g_barrier;

static const char *const features[] = {"reports", "sso", "export"};

static void make_check(struct worker *w, long k, struct fw_check *c, char *val, char *rid)
{
	uint32_t x = rng_below(&w->rng, 100);
	*c = (struct fw_check){.account = fw_str_c(g_acct[rng_below(&w->rng, (uint32_t)g_accounts)]),
			       .quantity = 1, .kind = FW_CHECK_METER};
	int acct_i = atoi(c->account.p + 5);
	if (w->kind == K_FEATURE) {
		c->kind = FW_CHECK_FEATURE;
		c->feature = fw_str_c(features[x < 70 ? 0 : x < 85 ? 1 : 2]);
		c->user_id = fw_str_c("u_bench");
		return;
	}
	if (w->kind == K_PREFLIGHT) {
		if (x < 50) {
			c->meter = fw_str_c("api_calls");
		} else if (x < 75) {
			c->meter = fw_str_c("storage_mb");
			c->quantity = 5;
		} else if (x < 90) {
			c->meter = fw_str_c("active_users");
			snprintf(val, 48, "\"u_%05d_new\"", acct_i);
			c->value = fw_str_c(val);
		} else {
			c->meter = fw_str_c("seats");
		}
		return;
	}
	c->consume = 1;
	c->user_id = fw_str_c("u_bench");
	snprintf(rid, 48, "inproc-%d-%d-%ld", (int)getpid(), w->id, k);
	c->request_id = fw_str_c(rid);
	if (x < 70) {
		c->meter = fw_str_c("api_calls");
	} else if (x < 90) {
		c->meter = fw_str_c("storage_mb");
	} else {
		c->meter = fw_str_c("active_users");
		/* half already counted, half new */
		snprintf(val, 48, "\"u_%05d_%u\"", acct_i, rng_below(&w->rng, 2 * 10));
		c->value = fw_str_c(val);
	}
}

static void record(struct worker *w, int64_t ns)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 1 << 16;
		w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
		if (!w->lat)
			die("memory", "out of memory");
	}
	w->lat[w->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static void feed_back(struct worker *w)
{
	char mid[64];
	for (int i = 0; i < w->nrids; i++) {
		snprintf(mid, sizeof mid, "fw:use:%s", w->rids[i]);
		/* as the store hands it back: the engine recognises its own record */
		struct fw_event e = {.time_ms = g_now0, .type = FW_MSG_TRACK, .source = FW_SRC_INTERNAL,
				     .message_id = fw_str_c(mid), .event = fw_str_c(FW_USAGE_EVENT),
				     .group_id = fw_str_c("acct_00000")};
		fw_billing_feed(w->b, g_feed_seq++, &e);
	}
	w->nrids = 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char val[48], rid[48];
	struct fw_check c;
	struct fw_check_result r;
	struct fw_err err;
	pthread_barrier_wait(&g_barrier);
	w->t0 = now_ns();
	for (long k = 0; k < w->max; k++) {
		if ((k & 63) == 0 && now_ns() >= w->deadline_ns)
			break;
		make_check(w, k, &c, val, rid);
		c.now_ms = fw_now_ms();
		int64_t t0 = now_ns();
		int rc = fw_billing_check(w->b, &c, &r, &err);
		int64_t t1 = now_ns();
		record(w, t1 - t0);
		if (rc) {
			if (!w->errors++)
				snprintf(w->first_error, sizeof w->first_error, "%s", err.msg);
			continue;
		}
		if (r.allowed)
			w->allowed++;
		else
			w->denied++;
		w->prompts += r.prompt.show;
		w->near += r.reason == FW_CHECK_NEAR_LIMIT;
		w->over += r.reason == FW_CHECK_OVERAGE;
		w->replayed += r.replayed;
		if (w->feed_back && r.consumed) {
			memcpy(w->rids[w->nrids++], rid, sizeof rid);
			if (w->nrids == 1024)
				feed_back(w);
		}
	}
	w->t1 = now_ns();
	return NULL;
}

static int cmpu(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(const uint32_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)(p / 100.0 * (double)n);
	return v[i >= n ? n - 1 : i];
}

static FILE *g_json; /* the JSON object being written (stdout) */
static int g_json_first = 1;

static void json_key(const char *k)
{
	fprintf(g_json, "%s\"%s\":", g_json_first ? "" : ",", k);
	g_json_first = 0;
}

/* Run one case on `threads` threads; prints a row and a JSON member. */
static void run_case(const char *name, const char *what, struct fw_billing *b, enum kind kind,
		     int threads, long max, double seconds, int feed_back_own)
{
	struct worker *ws = calloc((size_t)threads, sizeof *ws);
	pthread_barrier_init(&g_barrier, NULL, (unsigned)threads + 1);
	int64_t deadline = now_ns() + (int64_t)(seconds * 1e9);
	for (int i = 0; i < threads; i++) {
		ws[i] = (struct worker){.id = i, .kind = kind, .b = b, .max = max / threads,
					.deadline_ns = deadline, .rng = 1000 + (uint64_t)i * 7919 + kind,
					.feed_back = feed_back_own};
		if (feed_back_own)
			ws[i].rids = malloc(1024 * sizeof *ws[i].rids);
		pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
	}
	pthread_barrier_wait(&g_barrier);
	for (int i = 0; i < threads; i++)
		pthread_join(ws[i].th, NULL);
	for (int i = 0; i < threads; i++)
		if (ws[i].feed_back)
			feed_back(&ws[i]);
	size_t n = 0;
	int64_t t0 = INT64_MAX, t1 = 0;
	struct worker tot = {0};
	for (int i = 0; i < threads; i++) {
		n += ws[i].n;
		t0 = ws[i].t0 < t0 ? ws[i].t0 : t0;
		t1 = ws[i].t1 > t1 ? ws[i].t1 : t1;
		tot.allowed += ws[i].allowed, tot.denied += ws[i].denied;
		tot.prompts += ws[i].prompts, tot.errors += ws[i].errors;
		tot.near += ws[i].near, tot.over += ws[i].over, tot.replayed += ws[i].replayed;
		if (ws[i].errors && !tot.first_error[0])
			memcpy(tot.first_error, ws[i].first_error, sizeof tot.first_error);
	}
	uint32_t *all = malloc((n + 1) * sizeof *all);
	size_t p = 0;
	for (int i = 0; i < threads; i++) {
		memcpy(all + p, ws[i].lat, ws[i].n * sizeof *all);
		p += ws[i].n;
		free(ws[i].lat);
		free(ws[i].rids);
	}
	qsort(all, n, sizeof *all, cmpu);
	double secs = (double)(t1 - t0) / 1e9, rate = n / secs;
	double share = n ? 100.0 / (double)n : 0;
	fprintf(stderr,
		"  %-26s %2d thr %9zu checks %11.0f/s  p50 %8.2f µs  p99 %8.2f µs  p999 %8.2f µs  max "
		"%9.2f µs  denied %4.1f%% prompts %4.1f%% errors %llu\n",
		name, threads, n, rate, pct(all, n, 50) / 1e3, pct(all, n, 99) / 1e3,
		pct(all, n, 99.9) / 1e3, n ? all[n - 1] / 1e3 : 0.0, tot.denied * share,
		tot.prompts * share, (unsigned long long)tot.errors);
	if (tot.errors)
		fprintf(stderr, "    first error: %s\n", tot.first_error);
	json_key(name);
	fprintf(g_json,
		"{\"what\":\"%s\",\"threads\":%d,\"checks\":%zu,\"seconds\":%.3f,\"checks_per_s\":%.0f,"
		"\"p50_us\":%.3f,\"p99_us\":%.3f,\"p999_us\":%.3f,\"max_us\":%.3f,\"allowed\":%llu,"
		"\"denied\":%llu,\"near_limit\":%llu,\"overage\":%llu,\"prompts\":%llu,\"replayed\":%llu,"
		"\"errors\":%llu}",
		what, threads, n, secs, rate, pct(all, n, 50) / 1e3, pct(all, n, 99) / 1e3,
		pct(all, n, 99.9) / 1e3, n ? all[n - 1] / 1e3 : 0.0, (unsigned long long)tot.allowed,
		(unsigned long long)tot.denied, (unsigned long long)tot.near,
		(unsigned long long)tot.over, (unsigned long long)tot.prompts,
		(unsigned long long)tot.replayed, (unsigned long long)tot.errors);
	free(all);
	free(ws);
	pthread_barrier_destroy(&g_barrier);
}

/* ---- the durable case: a real store and the server's feed loop ---- */

struct feeder {
	pthread_t th;
	struct fw_store *store;
	struct fw_billing *b;
	atomic_int stop;
	uint64_t fed, scans;
};

static int feed_cb(void *ctx, uint64_t seq, const struct fw_event *e)
{
	struct feeder *f = ctx;
	fw_billing_feed(f->b, seq, e);
	f->fed++;
	return 0;
}

/* As src/net/billing.c: feed what is durable, sleep 20 ms when nothing was new. */
static void *feeder_main(void *arg)
{
	struct feeder *f = arg;
	while (!atomic_load(&f->stop)) {
		struct fw_store_stats st;
		fw_store_stats(f->store, &st);
		uint64_t from = fw_billing_next_seq(f->b);
		struct fw_err err;
		if (from < st.durable_seq) {
			struct fw_scan q = {.from_seq = from, .to_seq = st.durable_seq, .durable_only = 1};
			if (fw_store_scan(f->store, &q, feed_cb, f, &err))
				fprintf(stderr, "  feed: %s\n", err.msg);
			else
				fw_billing_fed_to(f->b, st.durable_seq);
			f->scans++;
		}
		if (fw_billing_next_seq(f->b) == from)
			usleep(20000);
	}
	return NULL;
}

static void rm_rf(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "entitlements_inproc: could not remove %s\n", dir);
}

static void durable_case(const struct fw_config *cfg, int threads)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/fw-ent-inproc.XXXXXX", g_tmp);
	if (!mkdtemp(dir))
		die(dir, strerror(errno));
	struct fw_store *store;
	struct fw_err err;
	struct fw_store_options opt = {0};
	if (fw_store_open_embedded(dir, &opt, &store, &err))
		die("store", err.msg);
	struct fw_billing *b = fw_billing_new(cfg, emit_store, store);
	/* as a server starts: the seed is in the log, the feed reads it, then checks begin */
	g_sink = store;
	seed_engine(b);
	g_sink = NULL;
	if (fw_store_wait(store, g_sink_ticket, &err))
		die("seed wait", err.msg);
	struct fw_store_stats st0;
	fw_store_stats(store, &st0);
	struct feeder f = {.store = store, .b = b};
	pthread_create(&f.th, NULL, feeder_main, &f);
	int64_t w0 = now_ns();
	while (fw_billing_next_seq(b) < st0.records && now_ns() - w0 < 30000000000LL)
		usleep(1000);
	if (fw_billing_next_seq(b) < st0.records)
		die("feed", "the feed thread did not read the seed within 30 s");
	fw_billing_set_ready(b, 1);
	char name[32], what[160];
	snprintf(name, sizeof name, "consume_durable_%dt", threads);
	snprintf(what, sizeof what,
		 "consuming checks, emit = fw_store_append + fw_store_wait (fdatasync) on %s, %d "
		 "thread(s), feed thread running",
		 g_tmp, threads);
	run_case(name, what, b, K_CONSUME, threads, 100000000, g_durable_seconds, 0);
	atomic_store(&f.stop, 1);
	pthread_join(f.th, NULL);
	struct fw_store_stats st;
	fw_store_stats(store, &st);
	uint64_t recs = st.records - st0.records, syncs = st.syncs - st0.syncs;
	fprintf(stderr, "    store: %llu records, %llu fdatasync (%.1f records per sync)\n",
		(unsigned long long)recs, (unsigned long long)syncs, syncs ? (double)recs / syncs : 0);
	fprintf(g_json, ",\"%s_store\":{\"records\":%llu,\"syncs\":%llu}", name,
		(unsigned long long)recs, (unsigned long long)syncs);
	fw_billing_free(b);
	fw_store_close(store);
	rm_rf(dir);
}

/* ---- meter update cost per ingested event ---- */

enum { M_API, M_STORAGE, M_USERS, M_NONE };

struct gen_event {
	struct fw_event e;
	int16_t acct, meter;
	double amount;           /* count 1, or size_mb */
	struct fw_str value;     /* the unique meter's value (its JSON text) */
	int64_t period;          /* start of the event's month */
};

static struct gen_event *g_ev;
static char *g_evtext;

static void gen_events(void)
{
	static const char *const unmetered[] = {"Page Viewed", "Button Clicked", "Settings Changed"};
	g_ev = calloc((size_t)g_events, sizeof *g_ev);
	size_t cap = (size_t)g_events * 200, len = 0;
	g_evtext = malloc(cap);
	/* strings first (offsets), pointers after: the buffer does not move */
	size_t *off = malloc((size_t)g_events * 4 * sizeof *off);
	uint64_t r = 99;
	for (long i = 0; i < g_events; i++) {
		struct gen_event *g = &g_ev[i];
		int a = (int)rng_below(&r, (uint32_t)g_accounts);
		uint32_t x = rng_below(&r, 100);
		g->acct = (int16_t)a;
		g->e.time_ms = seed_time(&r);
		g->e.received_ms = g->e.time_ms;
		g->e.type = FW_MSG_TRACK;
		g->e.source = FW_SRC_SEGMENT;
		g->e.group_id = fw_str_c(g_acct[a]);
		size_t mid = len;
		len += (size_t)sprintf(g_evtext + len, "ev-%ld", i) + 1;
		size_t uid = len;
		len += (size_t)sprintf(g_evtext + len, "u_%05d_%u", a, rng_below(&r, 4)) + 1;
		size_t pr = len, vo = 0, vl = 0;
		if (x < 35) {
			g->meter = M_API;
			g->amount = 1;
			g->e.event = fw_str_c("API Call");
			len += (size_t)sprintf(g_evtext + len,
					       "{\"endpoint\":\"/v1/items/%u\",\"method\":\"GET\",\"status\":200,"
					       "\"duration_ms\":%u}",
					       rng_below(&r, 1000), rng_below(&r, 300));
		} else if (x < 45) {
			g->meter = M_STORAGE;
			g->amount = 1 + rng_below(&r, 50);
			g->e.event = fw_str_c("File Uploaded");
			len += (size_t)sprintf(g_evtext + len,
					       "{\"size_mb\":%.0f,\"file_type\":\"pdf\",\"name\":\"report-%ld.pdf\"}",
					       g->amount, i);
		} else if (x < 60) {
			g->meter = M_USERS;
			g->e.event = fw_str_c("Dashboard Viewed");
			int n = sprintf(g_evtext + len, "{\"viewer\":");
			vo = len + (size_t)n;
			int m = sprintf(g_evtext + len + n, "\"u_%05d_%u\"", a, rng_below(&r, 40));
			vl = (size_t)m;
			len += (size_t)(n + m);
			len += (size_t)sprintf(g_evtext + len, ",\"dashboard\":\"revenue\",\"tab\":%u}",
					       rng_below(&r, 5));
		} else {
			g->meter = M_NONE;
			g->e.event = fw_str_c(unmetered[x % 3]);
			len += (size_t)sprintf(g_evtext + len,
					       "{\"page\":\"/settings/%u\",\"referrer\":\"https://example.com/\","
					       "\"button\":\"save\"}",
					       rng_below(&r, 100));
		}
		size_t prl = len - pr;
		len++;
		off[4 * i] = mid, off[4 * i + 1] = uid, off[4 * i + 2] = pr | prl << 32;
		off[4 * i + 3] = vo | vl << 32;
		g->period = fw_period_at(g->e.time_ms, 0, 0).start_ms;
		if (len + 400 > cap)
			die("gen", "event text buffer too small");
	}
	for (long i = 0; i < g_events; i++) {
		struct gen_event *g = &g_ev[i];
		g->e.message_id = fw_str_c(g_evtext + off[4 * i]);
		g->e.user_id = fw_str_c(g_evtext + off[4 * i + 1]);
		g->e.properties = (struct fw_str){g_evtext + (off[4 * i + 2] & 0xffffffffu),
						  (uint32_t)(off[4 * i + 2] >> 32)};
		g->value = (struct fw_str){g_evtext + (off[4 * i + 3] & 0xffffffffu),
					   (uint32_t)(off[4 * i + 3] >> 32)};
	}
	free(off);
}

/* fw_billing_feed of every generated event into a fresh engine; ns/event.
 * strip_unmetered: hand the unmetered events over without properties. */
static double feed_run(const struct fw_config *cfg, int strip_unmetered, double *check_sum)
{
	struct fw_billing *b = fw_billing_new(cfg, emit_noop, NULL);
	fw_billing_set_ready(b, 1); /* the steady state: live records, fed in log order */
	uint64_t seq = 0;
	struct fw_arena scratch = {0};
	int64_t t0 = now_ns();
	for (long i = 0; i < g_events; i++) {
		const struct fw_event *e = &g_ev[i].e;
		struct fw_event tmp;
		if (strip_unmetered && g_ev[i].meter == M_NONE) {
			tmp = *e;
			tmp.properties = (struct fw_str){0};
			e = &tmp;
		}
		fw_billing_feed(b, seq++, e);
		if (i % 10000 == 9999) {
			struct fw_str *ids;
			fw_billing_take_dirty(b, &ids, &scratch);
			fw_arena_reset(&scratch);
		}
	}
	int64_t t1 = now_ns();
	/* read one account back, so nothing is optimised away and the counts show */
	struct fw_buf out = {0};
	fw_billing_account_json(b, fw_str_c(g_acct[1]), g_now0, &out);
	*check_sum = (double)out.len;
	fw_buf_release(&out);
	fw_arena_release(&scratch);
	fw_billing_free(b);
	return (double)(t1 - t0) / (double)g_events;
}

static void sq(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		die(sql, msg ? msg : "?");
}

/* The same counting in SQLite: ns/event over all events (metered or not). */
static double sqlite_run(const char *sync, uint64_t *rows)
{
	char dir[4096], path[4200];
	snprintf(dir, sizeof dir, "%s/fw-ent-sqlite.XXXXXX", g_tmp);
	if (!mkdtemp(dir))
		die(dir, strerror(errno));
	snprintf(path, sizeof path, "%s/usage.db", dir);
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	sq(db, "PRAGMA journal_mode=WAL");
	char pragma[64];
	snprintf(pragma, sizeof pragma, "PRAGMA synchronous=%s", sync);
	sq(db, pragma);
	sq(db, "CREATE TABLE usage(account TEXT NOT NULL, meter TEXT NOT NULL, period INTEGER NOT NULL,"
	       " value REAL NOT NULL, PRIMARY KEY(account, meter, period))");
	sq(db, "CREATE TABLE uniques(account TEXT NOT NULL, meter TEXT NOT NULL, period INTEGER NOT NULL,"
	       " value TEXT NOT NULL, PRIMARY KEY(account, meter, period, value))");
	sqlite3_stmt *up, *uq;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO usage(account, meter, period, value) VALUES(?1, ?2, ?3, ?4) "
			       "ON CONFLICT(account, meter, period) DO UPDATE SET value = value + ?4",
			       -1, &up, NULL) ||
	    sqlite3_prepare_v2(db,
			       "INSERT OR IGNORE INTO uniques(account, meter, period, value) "
			       "VALUES(?1, ?2, ?3, ?4)",
			       -1, &uq, NULL))
		die("prepare", sqlite3_errmsg(db));
	static const char *const mname[] = {"api_calls", "storage_mb", "active_users"};
	int64_t t0 = now_ns();
	sq(db, "BEGIN");
	for (long i = 0; i < g_events; i++) {
		const struct gen_event *g = &g_ev[i];
		if (i && i % 1000 == 0) {
			sq(db, "COMMIT");
			sq(db, "BEGIN");
		}
		if (g->meter == M_NONE)
			continue;
		const char *acct = g_acct[g->acct];
		double amount = g->amount;
		if (g->meter == M_USERS) {
			sqlite3_bind_text(uq, 1, acct, -1, SQLITE_STATIC);
			sqlite3_bind_text(uq, 2, mname[g->meter], -1, SQLITE_STATIC);
			sqlite3_bind_int64(uq, 3, g->period);
			sqlite3_bind_text(uq, 4, g->value.p, (int)g->value.len, SQLITE_STATIC);
			if (sqlite3_step(uq) != SQLITE_DONE)
				die("insert", sqlite3_errmsg(db));
			sqlite3_reset(uq);
			if (sqlite3_changes(db) == 0)
				continue; /* seen this period */
			amount = 1;
		}
		sqlite3_bind_text(up, 1, acct, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 2, mname[g->meter], -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 3, g->period);
		sqlite3_bind_double(up, 4, amount);
		if (sqlite3_step(up) != SQLITE_DONE)
			die("upsert", sqlite3_errmsg(db));
		sqlite3_reset(up);
	}
	sq(db, "COMMIT");
	int64_t t1 = now_ns();
	sqlite3_stmt *cnt;
	sqlite3_prepare_v2(db, "SELECT count(*) FROM usage", -1, &cnt, NULL);
	sqlite3_step(cnt);
	*rows = (uint64_t)sqlite3_column_int64(cnt, 0);
	sqlite3_finalize(cnt);
	sqlite3_finalize(up);
	sqlite3_finalize(uq);
	sqlite3_close(db);
	rm_rf(dir);
	return (double)(t1 - t0) / (double)g_events;
}

static void feed_cases(const struct fw_config *cfg)
{
	int64_t g0 = now_ns();
	gen_events();
	long metered = 0;
	for (long i = 0; i < g_events; i++)
		metered += g_ev[i].meter != M_NONE;
	fprintf(stderr, "  (generated %ld events, %ld metered, in %.1f s)\n", g_events, metered,
		(double)(now_ns() - g0) / 1e9);
	double sum, full = 1e18, strip = 1e18;
	for (int k = 0; k < 3; k++) { /* the best of three: the first run warms the heap */
		double x = feed_run(cfg, 0, &sum), y = feed_run(cfg, 1, &sum);
		full = x < full ? x : full;
		strip = y < strip ? y : strip;
	}
	uint64_t rows = 0, rows_full = 0;
	double lite = g_skip_sqlite ? 0 : sqlite_run("NORMAL", &rows);
	double lite_full = g_skip_sqlite_full ? 0 : sqlite_run("FULL", &rows_full);
	fprintf(stderr,
		"  %-26s        %9ld events %8.0f ns/event  (%.2f M events/s; best of 3)\n"
		"  %-26s        %9ld events %8.0f ns/event  (unmetered events without properties, as "
		"the server's scan delivers them)\n",
		"feed (fw_billing_feed)", g_events, full, 1e3 / full, "feed, server-shaped", g_events,
		strip);
	if (!g_skip_sqlite)
		fprintf(stderr,
			"  %-26s        %9ld events %8.0f ns/event  (WAL, synchronous=NORMAL; %llu meter "
			"rows)  flywheel is %.1fx faster\n",
			"sqlite upsert", g_events, lite, (unsigned long long)rows, lite / full);
	if (!g_skip_sqlite_full)
		fprintf(stderr,
			"  %-26s        %9ld events %8.0f ns/event  (WAL, synchronous=FULL, the default)  "
			"flywheel is %.1fx faster\n",
			"sqlite upsert (FULL)", g_events, lite_full, lite_full / full);
	json_key("feed");
	fprintf(g_json,
		"{\"events\":%ld,\"metered\":%ld,\"ns_per_event\":%.1f,"
		"\"ns_per_event_unmetered_ids_only\":%.1f,\"sqlite_normal_ns_per_event\":%.1f,"
		"\"sqlite_full_ns_per_event\":%.1f,\"sqlite_rows\":%llu,\"ratio_vs_sqlite_normal\":%.2f,"
		"\"ratio_vs_sqlite_full\":%.2f}",
		g_events, metered, full, strip, lite, lite_full, (unsigned long long)rows,
		lite ? lite / full : 0,
		lite_full ? lite_full / full : 0);
}

/* ---- main ---- */

static double timer_overhead_ns(void)
{
	int64_t t0 = now_ns(), x = 0;
	for (int i = 0; i < 1000000; i++)
		x += now_ns();
	(void)x;
	return (double)(now_ns() - t0) / 1e6;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(n) (!strcmp(a, n) && v && (i++, 1))
		if (OPT("--accounts"))
			g_accounts = atoi(v);
		else if (OPT("--checks"))
			g_checks = atol(v);
		else if (OPT("--seconds"))
			g_seconds = atof(v);
		else if (OPT("--durable-seconds"))
			g_durable_seconds = atof(v);
		else if (OPT("--events"))
			g_events = atol(v);
		else if (OPT("--config"))
			g_config = v;
		else if (OPT("--tmp"))
			g_tmp = v;
		else if (OPT("--ndjson"))
			g_ndjson = v;
		else if (OPT("--usage-dir"))
			g_usage_dir = v;
		else if (OPT("--only"))
			only = v; /* checks | durable | feed */
		else if (!strcmp(a, "--no-sqlite-full"))
			g_skip_sqlite_full = 1;
		else if (!strcmp(a, "--no-sqlite"))
			g_skip_sqlite = g_skip_sqlite_full = 1;
		else {
			fprintf(stderr,
				"usage: entitlements_inproc [--accounts N] [--checks N] [--seconds S]\n"
				"         [--durable-seconds S] [--events N] [--config FILE] [--tmp DIR]\n"
				"         [--only checks|durable|feed] [--no-sqlite-full] [--no-sqlite]\n"
				"       entitlements_inproc --ndjson FILE --usage-dir DIR [--accounts N]\n");
			return 2;
		}
#undef OPT
	}
	if (g_accounts < 1 || g_accounts > 30000)
		die("--accounts", "1 to 30000");
	make_seed();
	if (g_ndjson) {
		if (!g_usage_dir)
			die("--ndjson", "needs --usage-dir");
		write_ndjson(g_ndjson, g_usage_dir);
		return 0;
	}
	struct fw_config cfg;
	struct fw_config_error errs[8];
	size_t nerrs = 0;
	struct fw_err err;
	if (fw_config_load(&cfg, g_config, errs, 8, &nerrs, &err))
		die(g_config, nerrs ? errs[0].msg : err.msg);
	g_json = stdout;
	fprintf(g_json, "{");
	double ov = timer_overhead_ns();
	json_key("timer_overhead_ns");
	fprintf(g_json, "%.1f", ov);
	json_key("accounts");
	fprintf(g_json, "%d", g_accounts);
	fprintf(stderr, "entitlements in-process: %d accounts (every 5th on pro), clock_gettime %.0f ns "
			"per reading (inside each latency)\n",
		g_accounts, ov);

	if (!only || !strcmp(only, "checks")) {
		struct fw_billing *b = fw_billing_new(&cfg, emit_noop, NULL);
		int64_t t0 = now_ns();
		uint64_t fed = seed_engine(b);
		fw_billing_set_ready(b, 1);
		fprintf(stderr, "  (seed: %llu records fed in %.2f s)\n", (unsigned long long)fed,
			(double)(now_ns() - t0) / 1e9);
		run_case("preflight", "preflight meter checks, emit does nothing", b, K_PREFLIGHT, 1,
			 g_checks, g_seconds, 0);
		run_case("preflight_2t", "preflight meter checks on 2 threads", b, K_PREFLIGHT, 2,
			 g_checks, g_seconds, 0);
		run_case("feature", "feature checks, emit does nothing", b, K_FEATURE, 1, g_checks,
			 g_seconds, 0);
		run_case("consume", "consuming checks, emit does nothing, own records fed back", b,
			 K_CONSUME, 1, g_checks, g_seconds, 1);
		fw_billing_free(b);
	}
	if (!only || !strcmp(only, "durable")) {
		durable_case(&cfg, 1);
		durable_case(&cfg, 8);
	}
	if (!only || !strcmp(only, "feed"))
		feed_cases(&cfg);
	fprintf(g_json, "}\n");
	fw_config_release(&cfg);
	return 0;
}
