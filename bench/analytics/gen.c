/*
 * gen.c — the analytics benchmark's dataset (bench/analytics/run.sh).
 *
 * One seeded run writes the same events twice (three times with --full-tsv):
 *   --ndjson FILE  Segment-spec messages, one per line, in time order, for
 *                  `flywheel import`: track and page events, identify calls
 *                  (some joining an anonymous id into the user), group calls;
 *   --tsv FILE     the events alone as person_id, account_id (0 = none),
 *                  name_id, time_ms, for DuckDB and ClickHouse. person_id is
 *                  the person after identity resolution (the generator knows
 *                  which anonymous id belongs to which user; Flywheel works it
 *                  out itself from the identify calls).
 *   --names FILE   name_id<TAB>event name.
 *   --full-tsv FILE (optional) every message of the NDJSON whole, one row per
 *                  line, for ClickHouse's TabSeparated: message_id, type, event
 *                  (track only, '' otherwise: page calls carry no name),
 *                  user_id, anonymous_id, account (groupId or context.groupId,
 *                  '' if none), time_ms, then the properties, traits and
 *                  context objects as the JSON text written in the NDJSON ('' if
 *                  absent); '' for a field the message lacks. The disk figure
 *                  "ClickHouse holding the same events" is taken from it.
 * A JSON summary goes to stdout.
 *
 * Shape: people sign up over the whole range (more towards the end, fewer at
 * weekends), a share of them browse anonymously first; each person has an
 * activity rate, a lifetime (many churn within days, activated people live
 * longer) and a session rate that decays over the first week; sessions are
 * bursts of events seconds apart at plausible hours. Accounts: some sign-ups
 * found one (group call with traits), others are invited into an existing one
 * (the inviter's "Invite Sent", the invitee's "Invite Accepted" with
 * properties.inviter_id); the rest have none. Events of account members carry
 * context.groupId. Anonymous visitors who never sign up are people too.
 *
 * Times are whole seconds and no person has two events in the same second:
 * the funnel definition needs strictly increasing times, and ClickHouse's
 * windowFunnel (seconds, ties in any order) agrees with it only then. Every
 * event lies in [start, start + days).
 *
 * The number of events is exact (--events); people default to events / 100,
 * accounts to people / 5 (10M events -> 100,000 people, 20,000 accounts).
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_S 86400

enum {
	N_SIGNED_UP = 1,
	N_PROJECT_CREATED,
	N_INVITE_SENT,
	N_INVITE_ACCEPTED,
	N_LIMIT_REACHED,
	N_PRICING_VIEWED,
	N_PAGEVIEW,
	N_DASHBOARD_VIEWED,
	N_QUERY_RUN,
	N_REPORT_CREATED,
	N_FILE_UPLOADED,
	N_COMMENT_ADDED,
	N_INTEGRATION_CONNECTED,
	N_SETTINGS_UPDATED,
	N_NAMES, /* 15: names are 1..14 */
	K_IDENTIFY = 20,
	K_IDENTIFY_UPDATE,
	K_GROUP_FOUND,
	K_GROUP_JOIN,
};

static const char *const names[N_NAMES] = {
	[N_SIGNED_UP] = "Signed Up",
	[N_PROJECT_CREATED] = "Project Created",
	[N_INVITE_SENT] = "Invite Sent",
	[N_INVITE_ACCEPTED] = "Invite Accepted",
	[N_LIMIT_REACHED] = "Limit Reached",
	[N_PRICING_VIEWED] = "Pricing Viewed",
	[N_PAGEVIEW] = "$pageview",
	[N_DASHBOARD_VIEWED] = "Dashboard Viewed",
	[N_QUERY_RUN] = "Query Run",
	[N_REPORT_CREATED] = "Report Created",
	[N_FILE_UPLOADED] = "File Uploaded",
	[N_COMMENT_ADDED] = "Comment Added",
	[N_INTEGRATION_CONNECTED] = "Integration Connected",
	[N_SETTINGS_UPDATED] = "Settings Updated",
};

/* Session event mix (names 2..14 except Invite Accepted); per-person multipliers below. */
static const double base_weight[N_NAMES] = {
	[N_PROJECT_CREATED] = 4,  [N_INVITE_SENT] = 2,     [N_LIMIT_REACHED] = 1.5,
	[N_PRICING_VIEWED] = 2.5, [N_PAGEVIEW] = 30,       [N_DASHBOARD_VIEWED] = 14,
	[N_QUERY_RUN] = 12,       [N_REPORT_CREATED] = 5,  [N_FILE_UPLOADED] = 5,
	[N_COMMENT_ADDED] = 6,    [N_INTEGRATION_CONNECTED] = 1, [N_SETTINGS_UPDATED] = 3,
};

/* ---- random numbers: xoshiro256** seeded by splitmix64 ---- */

static uint64_t rs[4];

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rnd(void)
{
	uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;
	rs[2] ^= rs[0];
	rs[3] ^= rs[1];
	rs[1] ^= rs[2];
	rs[0] ^= rs[3];
	rs[2] ^= t;
	rs[3] = rotl(rs[3], 45);
	return r;
}

static double unif(void) { return (double)(rnd() >> 11) * 0x1.0p-53; }          /* [0,1) */
static double unif_pos(void) { return ((double)(rnd() >> 11) + 0.5) * 0x1.0p-53; } /* (0,1) */
static double expo(double mean) { return -mean * log(unif_pos()); }
static double gauss(void)
{
	return sqrt(-2 * log(unif_pos())) * cos(6.283185307179586 * unif());
}
static double lognormal(double mu, double sigma) { return exp(mu + sigma * gauss()); }
static int64_t geometric(double mean) /* 0, 1, 2, … with the given mean */
{
	if (mean <= 0)
		return 0;
	return (int64_t)floor(log(unif_pos()) / log(mean / (mean + 1)));
}
static int64_t range_i(int64_t lo, int64_t hi) { return lo + (int64_t)(unif() * (double)(hi - lo)); }

/* ---- records ---- */

struct rec {
	int64_t t;        /* epoch seconds */
	uint32_t person;  /* resolved person, 1-based */
	uint32_t account; /* 0 = none */
	uint32_t aux;     /* Invite Accepted: inviter person */
	uint32_t seq;     /* creation order (tie-breaks) */
	uint8_t kind;     /* name id 1..14, or K_* */
	uint8_t anon;     /* sent with the anonymous id only */
};

static struct rec *recs;
static size_t nrecs, caprecs;

static struct rec *add(int64_t t, uint32_t person, uint32_t account, uint8_t kind, uint8_t anon)
{
	if (nrecs == caprecs) {
		caprecs = caprecs ? caprecs * 2 : 1 << 20;
		recs = realloc(recs, caprecs * sizeof *recs);
		if (!recs) {
			perror("gen: realloc");
			exit(1);
		}
	}
	struct rec *r = &recs[nrecs];
	*r = (struct rec){.t = t, .person = person, .account = account, .kind = kind, .anon = anon,
			  .seq = (uint32_t)nrecs};
	nrecs++;
	return r;
}

static int is_event(const struct rec *r) { return r->kind < N_NAMES; }

static int cmp_person_time(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->person != y->person)
		return x->person < y->person ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_time(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- time shape ---- */

static int64_t START, END; /* epoch seconds */

static double hour_weight(int64_t t) /* diurnal and weekly shape, max 1 */
{
	double h = (double)((t % DAY_S + DAY_S) % DAY_S) / 3600.0;
	double d = fabs(h - 15.0);
	if (d > 12)
		d = 24 - d;
	double w = 0.2 + 0.8 * exp(-d * d / (2 * 4.5 * 4.5));
	int64_t day = t / DAY_S;
	int wd = (int)((day + 3) % 7); /* 0 = Monday */
	if (wd >= 5)
		w *= 0.5;
	return w;
}

/* A time in [lo, hi) drawn from density(t - lo) * hour_weight(t); density max 1. */
static int64_t sample_time(int64_t lo, int64_t hi, double decay_days, double floor_share)
{
	if (hi <= lo + 1)
		return lo;
	for (int tries = 0; tries < 1000; tries++) {
		int64_t t = range_i(lo, hi);
		double dens = 1.0;
		if (decay_days > 0)
			dens = floor_share + (1 - floor_share) * exp(-(double)(t - lo) / DAY_S / decay_days);
		if (unif() < dens * hour_weight(t))
			return t;
	}
	return range_i(lo, hi);
}

/* ---- people ---- */

struct person {
	int64_t signup;  /* epoch s; 0 for anonymous visitors */
	int64_t life_end;/* last moment of activity */
	uint32_t account;
	uint8_t anon_start, activated, founder;
	double rate;     /* sessions per day at sign-up */
	double per_session;
	double cw[N_NAMES]; /* cumulative name weights */
	uint64_t budget;
};

static uint8_t pick_name(const struct person *p)
{
	double u = unif() * p->cw[N_NAMES - 1];
	for (int i = 2; i < N_NAMES; i++)
		if (u < p->cw[i])
			return (uint8_t)i;
	return N_PAGEVIEW;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- output ---- */

static char *ob;
static size_t on, ocap;
static FILE *ofile;

static void oflush(void)
{
	if (on && fwrite(ob, 1, on, ofile) != on) {
		perror("gen: write ndjson");
		exit(1);
	}
	on = 0;
}
static inline void put(const char *s, size_t n)
{
	memcpy(ob + on, s, n);
	on += n;
}
#define PUTS(s) put(s, sizeof(s) - 1)
static inline void put_c(const char *s) { put(s, strlen(s)); }
static inline void put_u(uint64_t v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		ob[on++] = tmp[--n];
}
static inline void put_hex(uint64_t v, int digits)
{
	static const char hx[] = "0123456789abcdef";
	for (int i = digits - 1; i >= 0; i--)
		ob[on++] = hx[(v >> (4 * i)) & 15];
}
static char (*day_str)[16]; /* "YYYY-MM-DDT" per day from START */
static int64_t ndays_str;
static inline void put_time(int64_t t)
{
	int64_t d = (t - START) / DAY_S, s = (t - START) % DAY_S;
	if (d < 0 || d >= ndays_str) {
		fprintf(stderr, "gen: time out of range\n");
		exit(1);
	}
	ob[on++] = '"';
	put(day_str[d], 11);
	int h = (int)(s / 3600), m = (int)(s / 60 % 60), sec = (int)(s % 60);
	ob[on++] = (char)('0' + h / 10);
	ob[on++] = (char)('0' + h % 10);
	ob[on++] = ':';
	ob[on++] = (char)('0' + m / 10);
	ob[on++] = (char)('0' + m % 10);
	ob[on++] = ':';
	ob[on++] = (char)('0' + sec / 10);
	ob[on++] = (char)('0' + sec % 10);
	PUTS(".000Z\"");
}

/* The full TSV (--full-tsv): each row is cut from the NDJSON line just written to
 * ob, so the JSON texts are byte for byte those of the NDJSON. */
struct span {
	size_t at, len; /* offsets into ob; len 0 = '' */
};
#define MARK(sp) ((sp).at = on)
#define MARK_END(sp) ((sp).len = on - (sp).at)

static FILE *ffile;
static char *fb;
static size_t fbn;
#define FB_CAP (1 << 22)

static void fb_flush(void)
{
	if (fbn && fwrite(fb, 1, fbn, ffile) != fbn) {
		perror("gen: write full tsv");
		exit(1);
	}
	fbn = 0;
}
static void fb_field(const char *s, size_t n, char sep) /* TabSeparated escaping */
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\' || c == '\t' || c == '\n') {
			fb[fbn++] = '\\';
			c = c == '\t' ? 't' : c == '\n' ? 'n' : '\\';
		}
		fb[fbn++] = c;
	}
	fb[fbn++] = sep;
}
static void fb_span(struct span sp, char sep) { fb_field(ob + sp.at, sp.len, sep); }

static uint64_t seed;
static uint64_t anon_id(uint32_t person) /* 48 bits, a bijection of the person id */
{
	return ((uint64_t)person * 0x9E3779B97F4BULL + (seed & 0xffffffULL)) & 0xffffffffffffULL;
}

static const char *const channels[] = {"organic", "organic", "organic", "paid", "referral", "social"};
static const char *const paths[] = {"/", "/docs", "/blog", "/pricing", "/features", "/app", "/login", "/changelog"};
static const char *const templates[] = {"blank", "kanban", "roadmap", "crm", "sprint"};
static const char *const views[] = {"grid", "list", "chart", "table"};
static const char *const limits[] = {"projects", "seats", "storage", "api_calls"};
static const char *const plans[] = {"pro", "team", "business"};
static const char *const apps[] = {"slack", "github", "jira", "gdrive", "zapier"};
static const char *const settings[] = {"theme", "locale", "notifications", "timezone"};
#define PICK(a) a[rnd() % (sizeof(a) / sizeof(a[0]))]

static void put_properties(const struct rec *r)
{
	switch (r->kind) {
	case N_SIGNED_UP: PUTS("{\"channel\":\""); put_c(PICK(channels)); PUTS("\"}"); break;
	case N_PROJECT_CREATED: PUTS("{\"template\":\""); put_c(PICK(templates)); PUTS("\"}"); break;
	case N_INVITE_SENT: PUTS("{\"role\":\"member\"}"); break;
	case N_INVITE_ACCEPTED: PUTS("{\"inviter_id\":\"u"); put_u(r->aux); PUTS("\"}"); break;
	case N_LIMIT_REACHED: PUTS("{\"limit\":\""); put_c(PICK(limits)); PUTS("\"}"); break;
	case N_PRICING_VIEWED: PUTS("{\"plan\":\""); put_c(PICK(plans)); PUTS("\"}"); break;
	case N_PAGEVIEW: PUTS("{\"path\":\""); put_c(PICK(paths)); PUTS("\"}"); break;
	case N_DASHBOARD_VIEWED: PUTS("{\"view\":\""); put_c(PICK(views)); PUTS("\"}"); break;
	case N_QUERY_RUN: PUTS("{\"rows\":"); put_u(rnd() % 5000); PUTS("}"); break;
	case N_REPORT_CREATED: PUTS("{\"type\":\""); put_c(PICK(views)); PUTS("\"}"); break;
	case N_FILE_UPLOADED: PUTS("{\"kb\":"); put_u(1 + rnd() % 20000); PUTS("}"); break;
	case N_COMMENT_ADDED: PUTS("{\"length\":"); put_u(1 + rnd() % 400); PUTS("}"); break;
	case N_INTEGRATION_CONNECTED: PUTS("{\"app\":\""); put_c(PICK(apps)); PUTS("\"}"); break;
	case N_SETTINGS_UPDATED: PUTS("{\"key\":\""); put_c(PICK(settings)); PUTS("\"}"); break;
	default: PUTS("{}");
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: gen --events N [--people N] [--accounts N] [--days 90] [--start YYYY-MM-DD]\n"
			"           [--seed N] --ndjson FILE --tsv FILE --names FILE [--full-tsv FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t nevents = 10000000, npeople = 0, naccounts = 0;
	int days = 90;
	const char *start_s = "2025-01-06", *ndjson = NULL, *tsv = NULL, *names_path = NULL,
		   *full_tsv = NULL;
	seed = 20250106;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		if (!strcmp(a, "--events")) nevents = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--people")) npeople = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--accounts")) naccounts = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--days")) days = atoi(v);
		else if (!strcmp(a, "--start")) start_s = v;
		else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--ndjson")) ndjson = v;
		else if (!strcmp(a, "--tsv")) tsv = v;
		else if (!strcmp(a, "--names")) names_path = v;
		else if (!strcmp(a, "--full-tsv")) full_tsv = v;
		else usage();
		i++;
	}
	if (!ndjson || !tsv || !names_path || nevents < 1000 || days < 14)
		usage();
	if (!npeople)
		npeople = nevents / 100 < 1000 ? 1000 : nevents / 100;
	if (!naccounts)
		naccounts = npeople / 5;
	uint64_t sx = seed;
	for (int i = 0; i < 4; i++)
		rs[i] = splitmix(&sx);

	struct tm tm = {0};
	if (sscanf(start_s, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		usage();
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	START = (int64_t)timegm(&tm);
	END = START + (int64_t)days * DAY_S;
	ndays_str = days + 1;
	day_str = calloc((size_t)ndays_str, sizeof *day_str);
	for (int64_t d = 0; d < ndays_str; d++) {
		time_t t = (time_t)(START + d * DAY_S);
		struct tm g;
		gmtime_r(&t, &g);
		char tmp[64];
		snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT", g.tm_year + 1900, g.tm_mon + 1, g.tm_mday);
		memcpy(day_str[d], tmp, 12);
	}

	/* people: users (sign up) then anonymous visitors */
	uint32_t nusers = (uint32_t)(npeople * 0.92), nvisitors = (uint32_t)npeople - nusers;
	struct person *P = calloc((size_t)npeople + 2, sizeof *P);
	int64_t *signups = malloc((size_t)nusers * sizeof *signups);
	for (uint32_t i = 0; i < nusers; i++) { /* more sign-ups as the product grows */
		for (;;) {
			int64_t t = range_i(START, END - 3600);
			double growth = (0.6 + 0.4 * (double)(t - START) / (double)(END - START));
			if (unif() < growth * hour_weight(t)) {
				signups[i] = t;
				break;
			}
		}
	}
	qsort(signups, nusers, sizeof *signups, cmp_i64);

	/* accounts: founded or joined through an invite, in sign-up order */
	uint32_t *members = malloc((size_t)nusers * sizeof *members), nmembers = 0, nacc = 0;
	double p_invitee = 0.40, p_found = (double)naccounts / (nusers * (1 - p_invitee));
	if (p_found > 1)
		p_found = 1;
	uint64_t fixed = 0;
	for (uint32_t id = 1; id <= nusers; id++) {
		struct person *p = &P[id];
		p->signup = signups[id - 1];
		p->anon_start = unif() < 0.30;
		p->activated = unif() < 0.62;
		double u = unif(), life_days;
		double fast = p->activated ? 0.10 : 0.55, mid = p->activated ? 0.35 : 0.30;
		life_days = u < fast ? expo(1.5) : u < fast + mid ? expo(20) : expo(300);
		p->life_end = p->signup + (int64_t)(life_days * DAY_S) + 1800;
		if (p->life_end > END - 1)
			p->life_end = END - 1;
		p->rate = lognormal(-0.3, 0.8);
		p->per_session = 2 + lognormal(1.6, 0.6);
		double w[N_NAMES];
		memcpy(w, base_weight, sizeof w);
		w[N_INVITE_SENT] *= lognormal(0, 1.0);
		w[N_LIMIT_REACHED] *= lognormal(0, 1.2);
		w[N_PRICING_VIEWED] *= lognormal(0, 1.0);
		w[N_PROJECT_CREATED] *= lognormal(0, 0.7);
		w[N_INTEGRATION_CONNECTED] *= lognormal(0, 1.0);

		int64_t S = p->signup;
		uint32_t inviter = 0;
		if (nmembers && unif() < p_invitee) {
			double v = unif();
			inviter = members[nmembers - 1 - (uint32_t)(v * v * nmembers)]; /* recent members more often */
			p->account = P[inviter].account;
		} else if (unif() < p_found) {
			p->account = ++nacc;
			p->founder = 1;
			w[N_INVITE_SENT] *= 2.5;
		}
		if (p->account)
			members[nmembers++] = id;
		double c = 0;
		for (int i = 0; i < N_NAMES; i++)
			p->cw[i] = (c += w[i]);

		add(S, id, 0, K_IDENTIFY, 0);
		if (p->founder)
			add(S, id, p->account, K_GROUP_FOUND, 0);
		else if (p->account)
			add(S, id, p->account, K_GROUP_JOIN, 0);
		add(S, id, p->account, N_SIGNED_UP, 0);
		fixed++;
		if (inviter) {
			struct rec *r = add(S + range_i(5, 60), id, p->account, N_INVITE_ACCEPTED, 0);
			r->aux = inviter;
			int64_t ts = S - range_i(300, 2 * DAY_S);
			if (ts < P[inviter].signup + 30)
				ts = P[inviter].signup + 30;
			if (ts >= S)
				ts = S - 1;
			add(ts, inviter, p->account, N_INVITE_SENT, 0);
			fixed += 2;
		}
		if (p->activated) {
			int64_t ta = S + 30 + (int64_t)expo(3 * 3600);
			if (ta < END - 1)
				add(ta, id, p->account, N_PROJECT_CREATED, 0), fixed++;
		}
		if (p->anon_start) { /* browsing before signing up, under the anonymous id */
			int64_t k = 1 + geometric(3);
			for (int64_t j = 0; j < k; j++) {
				int64_t t = S - range_i(60, 7 * DAY_S);
				if (t < START)
					t = START + range_i(0, S - START > 0 ? S - START : 1);
				add(t, id, 0, unif() < 0.75 ? N_PAGEVIEW : N_PRICING_VIEWED, 1);
				fixed++;
			}
		}
		if (unif() < 0.10 && p->life_end > S + 3600) /* a later trait update */
			add(range_i(S + 3600, p->life_end), id, 0, K_IDENTIFY_UPDATE, 0);
	}
	for (uint32_t id = nusers + 1; id <= npeople; id++) { /* anonymous visitors */
		int64_t k = 1 + geometric(4), t = sample_time(START, END - 3600, 0, 0);
		for (int64_t j = 0; j < k; j++) {
			if (j && unif() < 0.2)
				t = sample_time(START, END - 3600, 0, 0);
			else
				t += 5 + (int64_t)expo(40);
			add(t < END - 1 ? t : END - 1, id, 0, unif() < 0.8 ? N_PAGEVIEW : N_PRICING_VIEWED, 1);
			fixed++;
		}
	}

	/* session events: the rest of the budget, split by each user's expected activity */
	uint64_t budget = nevents > fixed ? nevents - fixed : 0;
	double *wcum = malloc(((size_t)nusers + 1) * sizeof *wcum);
	wcum[0] = 0;
	for (uint32_t id = 1; id <= nusers; id++) {
		struct person *p = &P[id];
		double T = (double)(p->life_end - p->signup) / DAY_S;
		double sessions = p->rate * (0.3 * T + 0.7 * 7 * (1 - exp(-T / 7)));
		wcum[id] = wcum[id - 1] + sessions * p->per_session * lognormal(0, 0.3);
	}
	uint64_t prev = 0;
	for (uint32_t id = 1; id <= nusers; id++) {
		uint64_t upto = (uint64_t)llround((double)budget * wcum[id] / wcum[nusers]);
		P[id].budget = upto - prev;
		prev = upto;
	}
	for (uint32_t id = 1; id <= nusers; id++) {
		struct person *p = &P[id];
		uint64_t left = p->budget;
		while (left) {
			uint64_t k = 1 + (uint64_t)geometric(p->per_session);
			if (k > left)
				k = left;
			int64_t t = sample_time(p->signup + 60, p->life_end, 7, 0.3);
			for (uint64_t j = 0; j < k; j++) {
				add(t < END - 1 ? t : END - 1, id, p->account, pick_name(p), 0);
				t += 3 + (int64_t)expo(45);
			}
			left -= k;
		}
	}

	/* no two events of a person in the same second; all inside [START, END) */
	qsort(recs, nrecs, sizeof *recs, cmp_person_time);
	for (size_t i = 0; i < nrecs;) {
		size_t j = i;
		while (j < nrecs && recs[j].person == recs[i].person)
			j++;
		int64_t last = INT64_MIN;
		for (size_t k = i; k < j; k++) {
			if (!is_event(&recs[k]))
				continue;
			if (recs[k].t <= last)
				recs[k].t = last + 1;
			last = recs[k].t;
		}
		int64_t cap = END - 1;
		for (size_t k = j; k-- > i;) {
			if (!is_event(&recs[k]))
				continue;
			if (recs[k].t > cap)
				recs[k].t = cap;
			cap = recs[k].t - 1;
		}
		for (size_t k = i; k < j; k++)
			if (recs[k].t < START)
				recs[k].t = START; /* cannot happen unless a person has > 1 event per second of range */
		i = j;
	}
	qsort(recs, nrecs, sizeof *recs, cmp_time);

	/* write */
	ofile = fopen(ndjson, "w");
	FILE *tf = fopen(tsv, "w");
	FILE *nf = fopen(names_path, "w");
	if (!ofile || !tf || !nf) {
		perror("gen: open output");
		return 1;
	}
	for (int i = 1; i < N_NAMES; i++)
		fprintf(nf, "%d\t%s\n", i, names[i]);
	fclose(nf);
	if (full_tsv) {
		ffile = fopen(full_tsv, "w");
		fb = malloc(FB_CAP);
		if (!ffile || !fb) {
			perror("gen: open full tsv");
			return 1;
		}
	}
	ocap = 1 << 22;
	ob = malloc(ocap + 4096);
	static char tbuf[1 << 20];
	size_t tn = 0;
	uint64_t lines = 0, bytes = 0, ntrack = 0, npage = 0, nident = 0, ngroup = 0, nev = 0,
		 anon_lines = 0;
	uint64_t mid_mul = 0x9E3779B97F4A7C15ULL, mid_xor = splitmix(&sx);
	for (size_t i = 0; i < nrecs; i++) {
		const struct rec *r = &recs[i];
		const struct person *p = &P[r->person];
		int user = r->person <= nusers;
		/* spans of the line for the full TSV */
		struct span s_type = {0}, s_event = {0}, s_user = {0}, s_anon = {0}, s_account = {0},
			    s_mid = {0}, s_props = {0}, s_traits = {0}, s_context = {0};
		PUTS("{\"type\":\"");
		MARK(s_type);
		if (r->kind == N_PAGEVIEW)
			PUTS("page"), npage++;
		else if (is_event(r))
			PUTS("track"), ntrack++;
		else if (r->kind == K_IDENTIFY || r->kind == K_IDENTIFY_UPDATE)
			PUTS("identify"), nident++;
		else
			PUTS("group"), ngroup++;
		MARK_END(s_type);
		PUTS("\"");
		if (is_event(r) && r->kind != N_PAGEVIEW) {
			PUTS(",\"event\":\"");
			MARK(s_event), put_c(names[r->kind]), MARK_END(s_event);
			PUTS("\"");
		} else if (!is_event(r) && r->kind != K_IDENTIFY && r->kind != K_IDENTIFY_UPDATE) {
			PUTS(",\"groupId\":\"");
			MARK(s_account), PUTS("acc_"), put_u(r->account), MARK_END(s_account);
			PUTS("\"");
		}
		if (user && !r->anon) {
			PUTS(",\"userId\":\"");
			MARK(s_user), PUTS("u"), put_u(r->person), MARK_END(s_user);
			PUTS("\"");
		}
		/* Segment sends the anonymous id with every call; before sign-up it is the only id */
		if (!user || r->anon || p->anon_start || r->kind == K_IDENTIFY) {
			PUTS(",\"anonymousId\":\"");
			MARK(s_anon), put_hex(anon_id(r->person), 12), MARK_END(s_anon);
			PUTS("\"");
		}
		anon_lines += !user || r->anon;
		PUTS(",\"timestamp\":");
		put_time(r->t);
		PUTS(",\"messageId\":\"");
		MARK(s_mid);
		put_hex((uint64_t)(i + 1) * mid_mul ^ mid_xor, 16); /* a bijection of i: unique */
		MARK_END(s_mid);
		PUTS("\"");
		if (is_event(r)) {
			PUTS(",\"properties\":");
			MARK(s_props), put_properties(r), MARK_END(s_props);
			if (r->account) {
				PUTS(",\"context\":");
				MARK(s_context), PUTS("{\"groupId\":\""), MARK(s_account), PUTS("acc_"),
					put_u(r->account), MARK_END(s_account), PUTS("\"}"), MARK_END(s_context);
			}
			nev++;
			int n = snprintf(tbuf + tn, 64, "%u\t%u\t%u\t%lld000\n", r->person, r->account,
					 (unsigned)r->kind, (long long)r->t);
			tn += (size_t)n;
			if (tn > sizeof tbuf - 128) {
				if (fwrite(tbuf, 1, tn, tf) != tn) {
					perror("gen: write tsv");
					return 1;
				}
				tn = 0;
			}
		} else if (r->kind == K_IDENTIFY) {
			PUTS(",\"traits\":");
			MARK(s_traits);
			PUTS("{\"email\":\"u");
			put_u(r->person);
			PUTS("@example.com\",\"created_at\":");
			put_time(r->t);
			PUTS("}");
			MARK_END(s_traits);
		} else if (r->kind == K_IDENTIFY_UPDATE) {
			PUTS(",\"traits\":");
			MARK(s_traits);
			PUTS("{\"role\":\"");
			put_c(PICK(settings));
			PUTS("\"}");
			MARK_END(s_traits);
		} else if (r->kind == K_GROUP_FOUND) {
			PUTS(",\"traits\":");
			MARK(s_traits);
			PUTS("{\"name\":\"Company ");
			put_u(r->account);
			PUTS("\",\"plan\":\"free\",\"employees\":");
			put_u(1 + rnd() % 500);
			PUTS("}");
			MARK_END(s_traits);
		}
		PUTS("}\n");
		lines++;
		if (ffile) {
			char tm[24];
			int tml = snprintf(tm, sizeof tm, "%lld000", (long long)r->t);
			fb_span(s_mid, '\t');
			fb_span(s_type, '\t');
			fb_span(s_event, '\t');
			fb_span(s_user, '\t');
			fb_span(s_anon, '\t');
			fb_span(s_account, '\t');
			fb_field(tm, (size_t)tml, '\t');
			fb_span(s_props, '\t');
			fb_span(s_traits, '\t');
			fb_span(s_context, '\n');
			if (fbn > FB_CAP - 8192)
				fb_flush();
		}
		if (on > ocap) {
			bytes += on;
			oflush();
		}
	}
	bytes += on;
	oflush();
	if (tn && fwrite(tbuf, 1, tn, tf) != tn) {
		perror("gen: write tsv");
		return 1;
	}
	if (ffile) {
		fb_flush();
		if (fclose(ffile)) {
			perror("gen: close full tsv");
			return 1;
		}
	}
	if (fclose(ofile) || fclose(tf)) {
		perror("gen: close");
		return 1;
	}
	printf("{\"events\":%llu,\"lines\":%llu,\"bytes\":%llu,\"track\":%llu,\"page\":%llu,"
	       "\"identify\":%llu,\"group\":%llu,\"anonymous_lines\":%llu,\"people\":%llu,\"users\":%u,"
	       "\"anonymous_visitors\":%u,\"accounts\":%u,\"start_ms\":%lld,\"end_ms\":%lld,\"days\":%d,"
	       "\"seed\":%llu}\n",
	       (unsigned long long)nev, (unsigned long long)lines, (unsigned long long)bytes,
	       (unsigned long long)ntrack, (unsigned long long)npage, (unsigned long long)nident,
	       (unsigned long long)ngroup, (unsigned long long)anon_lines, (unsigned long long)npeople,
	       nusers, nvisitors, nacc, (long long)START * 1000, (long long)END * 1000, days,
	       (unsigned long long)seed);
	return 0;
}
