/*
 * demo.c — `flywheel demo`: a realistic sample SaaS company in a fresh data
 * directory, sent through Flywheel's own import pipeline, then the server.
 *
 * The company ("Tasklane", a collaborative project tool) is simulated
 * account by account with a seeded PRNG (xoshiro256**), over the 120 UTC days
 * that end at the start of the current hour (--now overrides it):
 *
 *   acquisition  founders sign up on a growing curve (a launch spike on day
 *                14, fewer at weekends, busy afternoons UTC) from organic and
 *                paid channels; most browse the marketing site anonymously
 *                first and identify at sign-up (identify with both ids);
 *                visitors who never sign up browse and leave.
 *   activation   the first `Project Created`, minutes to weeks after sign-up
 *                (a mixture of log-normals), and for some never.
 *   habit        each person has a lifetime (the unactivated churn within
 *                days, most activated people stay) and a daily probability of
 *                a session that decays from a first-week high; sessions are
 *                bursts of `$pageview`s and core-feature events.
 *   teams        founders invite teammates (`Invite Sent`); an invitee
 *                accepts (`Invite Accepted` with inviter_id, anonymous), then
 *                identifies and signs up. The free plan holds 3 members: the
 *                4th invite hits `Limit Reached` until the account pays.
 *   revenue      free → trial → paid (starter, pro and business per seat),
 *                seat expansion as teams grow, tier upgrades, downgrades and
 *                churn (`Plan Changed` with plan and mrr, a group call with
 *                the plan trait); enterprise teams of big companies go
 *                through `Procurement Requested` (security_review, msa,
 *                invoice) to an enterprise contract.
 *
 * The records are sorted by time (a stable radix sort) and written as
 * Segment-spec JSON lines into 4 MB chunks that go straight to the import
 * pipeline (import.h): the same parser, mapper and store as `flywheel import`
 * and the HTTP routes. Then people and accounts catch up, the log is
 * compacted, and the server starts as `flywheel serve` does. docs/demo.md
 * describes the data for people.
 *
 * Determinism: the same --seed, --scale and end time give byte-identical
 * messages (message ids included).
 */
#include "flywheel/cmd.h"
#include "flywheel/config.h"
#include "flywheel/import.h"
#include "flywheel/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char HELP[] =
	"usage: flywheel demo [--data DIR] [--listen HOST:PORT] [--seed N] [--scale X]\n"
	"                     [--no-serve] [--force]\n\n"
	"Generate a sample SaaS company — 120 days up to now: ~5,000 accounts, ~25,000\n"
	"people, ~2 million events (sign-ups, activation, habit and churn, invites,\n"
	"trials, upgrades, MRR) — in a fresh data directory, through the same import\n"
	"pipeline as `flywheel import`, then start the server and its dashboard.\n"
	"Running it again on the same directory starts the existing demo.\n\n"
	"  --data DIR          where (default ./flywheel-demo); must be empty, new or a demo\n"
	"  --listen HOST:PORT  the server's address (default 127.0.0.1:8080)\n"
	"  --seed N            the random seed (default 1): same seed, same data\n"
	"  --scale X           size factor (default 1; 0.05 = 250 accounts, ~100K events)\n"
	"  --now TIME          end of the data, YYYY-MM-DD[THH:MM:SSZ] (default: this hour)\n"
	"  --no-serve          generate, print the summary and exit\n"
	"  --ndjson FILE       only write the messages as Segment JSON lines ('-' = stdout),\n"
	"                      for `flywheel import` or any other tool\n"
	"  --force             replace a previous demo in DIR (never other data)\n"
	"  --config FILE       serve with this configuration instead of DIR/flywheel.yaml,\n"
	"                      the demo's (core features, onboarding, targets)\n\n"
	"What it generates: docs/demo.md.\n";

#define DAY FW_MS_PER_DAY
#define HOUR 3600000LL
#define MIN 60000LL
#define SEC 1000LL
#define DAYS 120
#define NONE UINT32_MAX
#define MARKER "demo.json"

/* ---- random numbers: xoshiro256**, seeded by splitmix64 ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(struct rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static double unif(struct rng *r) /* [0, 1) */
{
	return (double)(rnd(r) >> 11) * 0x1.0p-53;
}

static double unif_pos(struct rng *r) /* (0, 1) */
{
	return ((double)(rnd(r) >> 11) + 0.5) * 0x1.0p-53;
}

static int chance(struct rng *r, double p)
{
	return unif(r) < p;
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnd(r) >> 32) * n) >> 32);
}

static double expo(struct rng *r, double mean)
{
	return -mean * log(unif_pos(r));
}

static double gauss(struct rng *r)
{
	return sqrt(-2 * log(unif_pos(r))) * cos(6.283185307179586 * unif(r));
}

static double lognorm(struct rng *r, double median, double sigma)
{
	return median * exp(sigma * gauss(r));
}

static int geom(struct rng *r, double mean) /* 0, 1, 2 … with this mean */
{
	if (mean <= 0)
		return 0;
	return (int)floor(log(unif_pos(r)) / log(mean / (mean + 1)));
}

/* A bijection on 32 bits: distinct indexes give distinct ids. */
static uint32_t perm32(uint32_t x, uint32_t key)
{
	x += key;
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/* ---- the company's vocabulary ---- */

enum {
	E_SIGNED_UP,
	E_PROFILE_COMPLETED,
	E_PROJECT_CREATED,
	E_TASK_CREATED,
	E_TASK_COMPLETED,
	E_COMMENT_ADDED,
	E_FILE_UPLOADED,
	E_REPORT_EXPORTED,
	E_AUTOMATION_CREATED,
	E_INTEGRATION_CONNECTED,
	E_SEARCH_PERFORMED,
	E_INVITE_SENT,
	E_INVITE_ACCEPTED,
	E_LIMIT_REACHED,
	E_PRICING_VIEWED,
	E_PREMIUM_FEATURE_ATTEMPTED,
	E_PAYMENT_INFO_ENTERED,
	E_TRIAL_STARTED,
	E_PLAN_CHANGED,
	E_PROCUREMENT_REQUESTED,
	E_NAMES,
	R_PAGE = E_NAMES, /* page call ($pageview): aux2 = page */
	R_IDENTIFY,       /* identify with both ids and traits */
	R_GROUP_CREATE,   /* group call with every account trait */
	R_GROUP_JOIN,     /* group call without traits */
	R_GROUP_PLAN,     /* group call with the plan trait: aux2 = plan */
};

static const char *const event_names[E_NAMES] = {
	"Signed Up",          "Profile Completed",     "Project Created",
	"Task Created",       "Task Completed",        "Comment Added",
	"File Uploaded",      "Report Exported",       "Automation Created",
	"Integration Connected", "Search Performed",   "Invite Sent",
	"Invite Accepted",    "Limit Reached",         "Pricing Viewed",
	"Premium Feature Attempted", "Payment Info Entered", "Trial Started",
	"Plan Changed",       "Procurement Requested",
};

/* adoption of the core features (Task Created, Comment Added, File Uploaded,
 * Report Exported, Automation Created: the config's order): bit i of
 * person.features */
static const double core_adoption[] = {0.92, 0.55, 0.42, 0.26, 0.2};

static const struct {
	const char *name, *path;
} pages[] = {
	/* marketing site (anonymous visits) */
	{"Home", "/"},
	{"Pricing", "/pricing"},
	{"Features", "/features"},
	{"Customers", "/customers"},
	{"Blog", "/blog/remote-team-rituals"},
	{"Blog", "/blog/kanban-vs-scrum"},
	{"Templates", "/templates"},
	{"Sign Up", "/signup"},
	/* the product */
	{"Dashboard", "/app"},
	{"Project", "/app/projects"},
	{"Board", "/app/board"},
	{"My Tasks", "/app/tasks"},
	{"Settings", "/app/settings"},
	{"Members", "/app/settings/members"},
	{"Billing", "/app/settings/billing"},
};
enum { PG_HOME, PG_PRICING, PG_SIGNUP = 7, PG_MARKETING = 7, PG_APP = 8, PG_DASHBOARD = 8,
       PG_MEMBERS = 13, PG_BILLING = 14, PG_COUNT = 15 };

/* acquisition channels: `channel` and `utm_source` of the sign-up (either
 * may be absent); paid ones match the default signup.paid_channels */
static const struct {
	const char *channel, *utm_source;
	double weight; /* share of founders */
	double activation;
	int paid;
} channels[] = {
	{"organic", "google", 0.27, 0.64, 0},
	{"organic", NULL, 0.14, 0.66, 0},      /* direct */
	{"referral", "partner", 0.05, 0.70, 0},
	{"content", "newsletter", 0.07, 0.60, 0},
	{"organic", "producthunt", 0.05, 0.55, 0},
	{"paid", "google_ads", 0.19, 0.48, 1},
	{NULL, "linkedin_ads", 0.10, 0.50, 1}, /* only utm_source: paid through it */
	{"paid", "facebook_ads", 0.08, 0.40, 1},
	{"invite", NULL, 0, 0.60, 0},          /* invitees */
};
enum { CH_PRODUCTHUNT = 4, CH_INVITE = 8, CH_FOUNDER_COUNT = 8 };

enum { P_FREE, P_TRIAL, P_STARTER, P_PRO, P_BUSINESS, P_ENTERPRISE, P_COUNT };
static const char *const plan_names[P_COUNT] = {"free", "trial", "starter", "pro", "business",
						"enterprise"};
#define FREE_SEATS 3

static const char *const limits[] = {"seats", "projects", "storage"};
static const char *const pricing_sources[] = {"limit_banner", "nav", "billing_page", "email"};
static const char *const procurement_types[] = {"security_review", "msa", "invoice"};
static const char *const integrations[] = {"slack", "github", "google_drive", "jira", "zapier"};
static const char *const export_formats[] = {"pdf", "csv", "xlsx"};

static const char *const industries[] = {
	"Software", "Fintech", "Healthcare", "E-commerce", "Education", "Media",
	"Manufacturing", "Logistics", "Real Estate", "Consulting", "Marketing", "Nonprofit",
};
static const char *const name_a[] = {
	"North", "Blue", "Bright", "Silver", "Green", "Swift", "Iron", "Cloud", "Pixel",
	"Quantum", "Lumen", "Apex", "Nova", "Orbit", "Pine", "Cedar", "Maple", "Harbor",
	"Summit", "Coral", "Amber", "Falcon", "Echo", "Vertex", "Atlas", "Polar", "Sun",
	"Granite", "Willow", "Beacon", "Copper", "Juniper", "Kite", "Meadow", "Onyx", "River",
};
static const char *const name_b[] = {
	"wind", "leaf", "stack", "loop", "base", "forge", "wave", "field", "point", "path",
	"shift", "scale", "craft", "bit", "mind", "flow", "grid", "light", "stone", "works",
	"line", "gate", "spring", "yard", "dock", "beam", "nest", "peak",
};
static const char *const name_c[] = {
	"Labs", "Analytics", "Studio", "Systems", "Health", "Software", "Logistics", "Media",
	"Capital", "Partners", "Robotics", "Learning", "Commerce", "Design", "Foods", "Energy",
};
static const char *const tlds[] = {".com", ".io", ".co", ".com", ".app", ".dev"};
/* big companies: several of their teams sign up separately, on one domain */
static const struct {
	const char *name, *domain;
	uint32_t employees;
	uint8_t industry;
} enterprises[] = {
	{"Globex", "globex.com", 42000, 7},      {"Initech", "initech.com", 8500, 0},
	{"Umbrella Corp", "umbrella-corp.com", 61000, 2}, {"Hooli", "hooli.com", 23000, 0},
	{"Stark Industries", "stark.com", 78000, 6}, {"Wayne Enterprises", "wayne.com", 54000, 8},
	{"Cyberdyne", "cyberdyne.com", 12000, 6}, {"Tyrell", "tyrell.com", 9600, 2},
	{"Wonka", "wonka.com", 5200, 6},          {"Massive Dynamic", "massivedynamic.com", 31000, 1},
	{"Soylent", "soylent.com", 7400, 3},      {"Aperture", "aperture.com", 15500, 4},
};
static const char *const teams[] = {"Marketing", "Engineering", "Design", "Sales", "Operations",
				    "Finance", "Product", "Support", "Legal", "Data"};
static const char *const first_names[] = {
	"james", "maria", "wei", "aisha", "lucas", "sofia", "noah", "emma", "liam", "olivia",
	"arjun", "priya", "mateo", "chloe", "yuki", "hannah", "omar", "fatima", "david", "sarah",
	"elena", "ivan", "kofi", "amara", "jonas", "lea", "diego", "camila", "ethan", "mia",
	"ravi", "ananya", "tom", "grace", "ali", "zoe", "felix", "nora", "samuel", "isabel",
};
static const char *const last_names[] = {
	"smith", "garcia", "chen", "khan", "silva", "rossi", "muller", "dubois", "nguyen", "kim",
	"patel", "sharma", "lopez", "martin", "tanaka", "schmidt", "haddad", "okafor", "cohen",
	"novak", "jensen", "brown", "wilson", "andersen", "costa", "fischer", "moreau", "park",
	"ali", "walker", "young", "hall", "reyes", "murphy", "kowalski", "berg",
};
static const char *const personal_domains[] = {"gmail.com", "outlook.com", "yahoo.com",
					       "proton.me", "icloud.com"};

/* ---- the model ---- */

enum { K_FOUNDER, K_INVITEE, K_VISITOR };

struct person {
	int64_t signup;     /* ms; 0 = a visitor who never signs up */
	int64_t first_seen; /* first anonymous visit (0: none before sign-up) */
	int64_t activated;  /* first Project Created; 0 = never */
	int64_t life_end;   /* when the habit ends (churn) */
	uint32_t account, inviter;
	float base_p;    /* daily probability of a session, after the first week */
	float per_sess;  /* mean events per session */
	uint8_t kind, channel, features, pref_hour;
	uint8_t personal_email, first_name, last_name, pad;
};

struct account {
	int64_t created;
	uint32_t founder, npeople; /* people founder .. founder + npeople - 1 */
	uint32_t employees;
	uint16_t company; /* name index, or enterprise index when enterprise */
	uint8_t industry, enterprise, team, tld;
	uint32_t first_step, nsteps; /* plan steps in sim.steps */
};

struct plan_step {
	int64_t t;
	uint32_t mrr;
	uint8_t plan, prev, seats, pad;
};

/* One message. kind: E_* (a track), or R_*. */
struct rec {
	int64_t t;
	uint32_t person, account; /* account NONE: no context.groupId */
	uint32_t aux;             /* Plan Changed: mrr; Invite *: the other person */
	uint8_t kind, anon;       /* anon: sent with the anonymous id only */
	uint16_t aux2;            /* page, plan, limit, … */
};

struct sim {
	struct rng r;
	uint64_t seed;
	double scale;
	int64_t start, end; /* [start, end) */
	double *cdf;        /* acquisition by hour of the range, cumulative */
	size_t nbins;
	struct person *people;
	size_t npeople, cappeople;
	struct account *accounts;
	size_t naccounts;
	struct plan_step *steps;
	size_t nsteps, capsteps;
	struct rec *recs;
	size_t nrecs, caprecs;
	/* counts for the summary */
	size_t signups, visitors, invites, accepted, paying;
};

#define GROW(arr, n, cap)                                                        \
	do {                                                                     \
		if ((n) == (cap)) {                                              \
			(cap) = (cap) ? (cap) * 2 : 1024;                        \
			(arr) = fw_xrealloc((arr), (cap) * sizeof *(arr));       \
		}                                                                \
	} while (0)

static void emit(struct sim *s, int64_t t, uint32_t person, uint32_t account, int kind,
		 uint32_t aux, unsigned aux2, int anon)
{
	if (t < s->start || t >= s->end)
		return; /* before the data begins, or not happened yet */
	GROW(s->recs, s->nrecs, s->caprecs);
	s->recs[s->nrecs++] = (struct rec){t, person, account, aux, (uint8_t)kind, (uint8_t)anon,
					   (uint16_t)aux2};
}

static uint32_t new_person(struct sim *s, int kind)
{
	GROW(s->people, s->npeople, s->cappeople);
	struct person *p = &s->people[s->npeople];
	memset(p, 0, sizeof *p);
	p->kind = (uint8_t)kind;
	p->account = p->inviter = NONE;
	p->first_name = (uint8_t)below(&s->r, FW_ARRAY_LEN(first_names));
	p->last_name = (uint8_t)below(&s->r, FW_ARRAY_LEN(last_names));
	p->personal_email = chance(&s->r, 0.12);
	return (uint32_t)s->npeople++;
}

/* Weight of an hour of the day, UTC: Europe and the Americas at work. */
static double hour_weight(int h)
{
	static const double w[24] = {0.25, 0.2, 0.15, 0.12, 0.12, 0.15, 0.25, 0.45,
				     0.7,  0.85, 0.95, 1.0,  1.0,  1.0,  1.0,  1.0,
				     0.95, 0.9,  0.8,  0.7,  0.6,  0.5,  0.4,  0.3};
	return w[h];
}

static int weekend(int64_t ms)
{
	int64_t wd = (fw_day_floor(ms) / DAY + 3) % 7; /* 0 = Monday */
	return wd >= 5;
}

/* Sign-ups (and visits) per hour of the range: growing ~60% over the 120
 * days, a launch on day 14–15, fewer at weekends. */
static void build_curve(struct sim *s)
{
	s->nbins = DAYS * 24;
	s->cdf = fw_xmalloc(s->nbins * sizeof *s->cdf);
	double sum = 0;
	for (size_t b = 0; b < s->nbins; b++) {
		int64_t t = s->start + (int64_t)b * HOUR;
		int d = (int)(b / 24);
		double w = exp(log(1.6) * d / DAYS) * hour_weight((int)(b % 24));
		if (weekend(t))
			w *= 0.55;
		if (d == 14 || d == 15)
			w *= d == 14 ? 3.2 : 1.8;
		if (t + HOUR > s->end)
			w *= t >= s->end ? 0 : (double)(s->end - t) / HOUR;
		sum += w;
		s->cdf[b] = sum;
	}
}

static int64_t draw_time(struct sim *s)
{
	double u = unif(&s->r) * s->cdf[s->nbins - 1];
	size_t lo = 0, hi = s->nbins - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->cdf[mid] <= u)
			lo = mid + 1;
		else
			hi = mid;
	}
	int64_t t = s->start + (int64_t)lo * HOUR + (int64_t)(unif(&s->r) * HOUR);
	return t < s->end ? t : s->end - 1;
}

/* The plan of account a at time t (steps are in time order). */
static int plan_at(const struct sim *s, const struct account *a, int64_t t)
{
	int plan = P_FREE;
	for (uint32_t i = 0; i < a->nsteps; i++) {
		const struct plan_step *st = &s->steps[a->first_step + i];
		if (st->t > t)
			break;
		plan = st->plan;
	}
	return plan;
}

static int paid_plan(int plan)
{
	return plan >= P_STARTER;
}

/* A person's habit: lifetime, daily probability, session length, features. */
static void draw_habit(struct sim *s, uint32_t pi, double activation_p, double long_share)
{
	struct rng *r = &s->r;
	struct person *p = &s->people[pi];
	/* an onboarding checklist shipped on day 80 of the range: more people
	 * activate, and sooner */
	int checklist = p->signup >= s->start + 80 * DAY;
	if (chance(r, activation_p + (checklist ? 0.06 : 0))) {
		/* time to first value: the first session, the first day, days, weeks */
		double u = unif(r) - (checklist ? 0.05 : 0), ttfv;
		if (u < 0.36)
			ttfv = lognorm(r, 8 * MIN, 0.8);
		else if (u < 0.68)
			ttfv = lognorm(r, 1.5 * HOUR, 1.1);
		else if (u < 0.9)
			ttfv = lognorm(r, 2.5 * DAY, 0.5);
		else
			ttfv = lognorm(r, 9 * DAY, 0.45);
		p->activated = p->signup + 30 * SEC + (int64_t)ttfv;
		int stays = chance(r, long_share);
		p->life_end = p->activated + (int64_t)(stays ? expo(r, 260) : expo(r, 12)) * DAY;
		p->base_p = (float)(stays ? 0.35 + 0.5 * unif(r) : 0.2 + 0.3 * unif(r));
	} else {
		p->life_end = p->signup + (int64_t)(expo(r, 2.5) * DAY);
		p->base_p = (float)(0.1 + 0.25 * unif(r));
	}
	double m = lognorm(r, 9.8, 0.45);
	p->per_sess = (float)(m < 2 ? 2 : m > 25 ? 25 : m);
	p->pref_hour = (uint8_t)((draw_time(s) / HOUR) % 24);
	for (size_t i = 0; i < FW_ARRAY_LEN(core_adoption); i++) {
		double a = core_adoption[i];
		if (i == 1 && p->kind == K_INVITEE)
			a = 0.8; /* comments come with a team */
		if (chance(r, a))
			p->features |= (uint8_t)(1u << i);
	}
}

/* Anonymous visits to the marketing site before `until` (a sign-up, or the
 * last visit of a visitor who never signs up). */
static void browse(struct sim *s, uint32_t pi, int64_t first, int64_t until, int visits)
{
	struct rng *r = &s->r;
	int64_t t = first;
	for (int v = 0; v < visits && t < until; v++) {
		int n = 1 + geom(r, 1.6);
		for (int i = 0; i < n && t < until; i++) {
			unsigned pg = i == 0 && v == 0 ? (chance(r, 0.6) ? PG_HOME : below(r, PG_MARKETING))
						      : below(r, PG_MARKETING);
			emit(s, t, pi, NONE, R_PAGE, 0, pg, 1);
			if (pg == PG_PRICING)
				emit(s, t + 2 * SEC, pi, NONE, E_PRICING_VIEWED, 0, 1, 1);
			t += 8 * SEC + (int64_t)expo(r, 50 * SEC);
		}
		t += (int64_t)lognorm(r, 1.5 * DAY, 1.0);
	}
}

/* One session: a burst of events seconds apart. */
static int64_t session(struct sim *s, uint32_t pi, int64_t t, int n)
{
	struct rng *r = &s->r;
	struct person *p = &s->people[pi];
	uint32_t acc = p->account;
	const struct account *a = &s->accounts[acc];
	emit(s, t, pi, acc, R_PAGE, 0, PG_DASHBOARD, 0);
	for (int i = 0; i < n; i++) {
		t += 5 * SEC + (int64_t)expo(r, 45 * SEC);
		int active = p->activated && t >= p->activated;
		int helper = p->kind == K_INVITEE; /* members work in existing projects */
		/* weights of what happens next */
		double w[16];
		int ev[16], k = 0;
#define W(e, x) (ev[k] = (e), w[k++] = (x))
		W(R_PAGE, 22);
		W(E_SEARCH_PERFORMED, 5);
		if (active || helper) {
			if (p->features & 1) {
				W(E_TASK_CREATED, 15);
				W(E_TASK_COMPLETED, 11);
			}
			if (p->features & 2)
				W(E_COMMENT_ADDED, 9);
			if (p->features & 4)
				W(E_FILE_UPLOADED, 4.5);
			if (p->features & 8)
				W(E_REPORT_EXPORTED, 2.2);
			if (p->features & 16)
				W(E_AUTOMATION_CREATED, 1.1);
		}
		if (active) {
			W(E_PROJECT_CREATED, 1.2);
			W(E_INTEGRATION_CONNECTED, 0.25);
		}
		W(E_PRICING_VIEWED, 0.25);
#undef W
		double tot = 0;
		for (int j = 0; j < k; j++)
			tot += w[j];
		double u = unif(r) * tot;
		int j = 0;
		while (j < k - 1 && u >= w[j])
			u -= w[j++];
		int e = ev[j];
		int plan = plan_at(s, a, t);
		switch (e) {
		case R_PAGE:
			emit(s, t, pi, acc, R_PAGE, 0, PG_APP + below(r, PG_COUNT - PG_APP), 0);
			break;
		case E_AUTOMATION_CREATED:
			/* automations are a paid feature */
			if (plan == P_FREE) {
				emit(s, t, pi, acc, E_PREMIUM_FEATURE_ATTEMPTED, 0, 0, 0);
				if (chance(r, 0.4))
					emit(s, t + 3 * SEC, pi, acc, E_PRICING_VIEWED, 0, 0, 0);
			} else {
				emit(s, t, pi, acc, e, 0, 0, 0);
			}
			break;
		case E_PROJECT_CREATED:
			if (plan == P_FREE && chance(r, 0.15)) {
				emit(s, t, pi, acc, E_LIMIT_REACHED, 3, 1, 0);
				if (chance(r, 0.6))
					emit(s, t + 3 * SEC, pi, acc, E_PRICING_VIEWED, 0, 0, 0);
			} else {
				emit(s, t, pi, acc, e, 0, 0, 0);
			}
			break;
		case E_FILE_UPLOADED:
			if (plan == P_FREE && chance(r, 0.02)) {
				emit(s, t, pi, acc, E_LIMIT_REACHED, 500, 2, 0);
				break;
			}
			emit(s, t, pi, acc, e, 0, 0, 0);
			break;
		case E_PRICING_VIEWED:
			if (paid_plan(plan))
				break;
			emit(s, t, pi, acc, e, 0, 1 + below(r, 3), 0);
			break;
		default:
			emit(s, t, pi, acc, e, 0, 0, 0);
		}
	}
	return t;
}

static int64_t session_start(struct sim *s, const struct person *p, int64_t day)
{
	double h = p->pref_hour + gauss(&s->r) * 2.5;
	h = fmod(h + 48, 24);
	return day + (int64_t)(h * HOUR);
}

static int session_len(struct sim *s, const struct person *p)
{
	return 1 + geom(&s->r, p->per_sess);
}

/* The person's product use from sign-up on: the first session, activation,
 * then days with a session at a decaying probability until churn, and
 * sometimes a return later. */
static void live(struct sim *s, uint32_t pi)
{
	struct rng *r = &s->r;
	struct person *p = &s->people[pi];
	uint32_t acc = p->account;
	int64_t t = p->signup + 10 * SEC;
	if (chance(r, 0.72))
		emit(s, t + (int64_t)lognorm(r, 3 * MIN, 0.8), pi, acc, E_PROFILE_COMPLETED, 0, 0, 0);
	int64_t busy_until = session(s, pi, t, 1 + geom(r, 4));
	if (p->activated) {
		int64_t at = p->activated > busy_until ? p->activated : busy_until + 20 * SEC;
		p->activated = at;
		emit(s, at, pi, acc, E_PROJECT_CREATED, 0, 0, 0);
		busy_until = session(s, pi, at + 10 * SEC, session_len(s, p));
	}
	int64_t day0 = fw_day_floor(p->signup);
	int returns = chance(r, 0.12);
	int64_t back = 0, back_end = 0;
	for (int64_t day = day0 + DAY; day < s->end; day += DAY) {
		double age = (double)(day - day0) / DAY;
		double prob;
		if (day > p->life_end) {
			if (!returns)
				break;
			if (!back) {
				back = p->life_end + (int64_t)(expo(r, 20) * DAY);
				back_end = back + (int64_t)(expo(r, 4) * DAY);
			}
			if (day < fw_day_floor(back))
				continue;
			if (day > back_end)
				break;
			prob = 0.5;
		} else {
			prob = p->base_p * (1 + 1.5 * exp(-age / 3.5)) * exp(-age / 400);
		}
		if (weekend(day))
			prob *= 0.3;
		if (!chance(r, prob > 0.97 ? 0.97 : prob))
			continue;
		int nsess = 1 + chance(r, 0.35) + chance(r, 0.1);
		int64_t t0 = session_start(s, p, day);
		for (int k = 0; k < nsess; k++) {
			if (t0 <= busy_until)
				t0 = busy_until + 20 * MIN;
			busy_until = session(s, pi, t0, session_len(s, p));
			t0 = busy_until + (int64_t)lognorm(r, 3 * HOUR, 0.6);
		}
	}
}

/* Sign-up messages: identify (both ids, traits), Signed Up, the group call. */
static void sign_up(struct sim *s, uint32_t pi, int create)
{
	struct person *p = &s->people[pi];
	emit(s, p->signup - 2 * SEC, pi, NONE, R_IDENTIFY, 0, 0, 0);
	emit(s, p->signup, pi, NONE, E_SIGNED_UP, 0, p->channel, 0);
	emit(s, p->signup + 3 * SEC, pi, p->account, create ? R_GROUP_CREATE : R_GROUP_JOIN, 0, 0, 0);
	s->signups += p->signup < s->end;
}

static uint32_t seats_at(const struct sim *s, const struct account *a, int64_t t)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < a->npeople; i++)
		n += s->people[a->founder + i].signup <= t;
	return n;
}

static uint32_t mrr_of(int plan, uint32_t seats, uint32_t custom)
{
	switch (plan) {
	case P_STARTER: return 29;
	case P_PRO: return 12 * (seats < 3 ? 3 : seats);
	case P_BUSINESS: return 25 * (seats < 5 ? 5 : seats);
	case P_ENTERPRISE: return custom;
	default: return 0;
	}
}

static void add_step(struct sim *s, int64_t t, int plan, int prev, uint32_t seats, uint32_t mrr)
{
	GROW(s->steps, s->nsteps, s->capsteps);
	s->steps[s->nsteps++] = (struct plan_step){t, mrr, (uint8_t)plan, (uint8_t)prev,
						   (uint8_t)(seats > 255 ? 255 : seats), 0};
}

/* An invite from `inviter` at t; accepted, the invitee becomes a member.
 * Returns 1 if accepted (and signed up before the end). */
static int invite(struct sim *s, uint32_t ai, uint32_t inviter, int64_t t)
{
	struct rng *r = &s->r;
	s->invites++;
	if (!chance(r, 0.7)) {
		emit(s, t, inviter, ai, E_INVITE_SENT, NONE, below(r, 60000), 0);
		return 0;
	}
	uint32_t pi = new_person(s, K_INVITEE);
	struct account *a = &s->accounts[ai];
	struct person *p = &s->people[pi];
	p->account = ai;
	p->inviter = inviter;
	p->channel = CH_INVITE;
	p->personal_email = 0;
	int64_t accepted = t + 30 * SEC + (int64_t)lognorm(r, 2 * HOUR, 1.4);
	p->signup = accepted + 40 * SEC;
	a->npeople++;
	emit(s, t, inviter, ai, E_INVITE_SENT, pi, 0, 0);
	if (p->signup >= s->end) {
		p->signup = INT64_MAX; /* still pending */
		return 0;
	}
	emit(s, accepted, pi, ai, E_INVITE_ACCEPTED, inviter, 0, 1);
	s->accepted++;
	draw_habit(s, pi, channels[CH_INVITE].activation, 0.7);
	sign_up(s, pi, 0);
	return 1;
}

static int cmp_step(const void *x, const void *y)
{
	const struct plan_step *a = x, *b = y;
	return a->t < b->t ? -1 : a->t > b->t;
}

/* The plan changes of a paying account after `t`: seats as members join,
 * tier upgrades, downgrades and churn. */
static void paid_life(struct sim *s, uint32_t ai, int64_t t, int plan, uint32_t custom)
{
	struct rng *r = &s->r;
	struct account *a = &s->accounts[ai];
	const struct person *f = &s->people[a->founder];
	uint32_t seats = seats_at(s, a, t), mrr = mrr_of(plan, seats, custom);
	for (int64_t day = fw_day_floor(t) + DAY; day < s->end; day += DAY) {
		int64_t at = day + 14 * HOUR + (int64_t)(unif(r) * 6 * HOUR);
		uint32_t now_seats = seats_at(s, a, at);
		int next = plan;
		uint32_t next_seats = seats, next_mrr = mrr;
		/* enterprise contracts run for a year; self-serve churns, more
		 * so once its founder stopped using the product */
		double churn = plan == P_ENTERPRISE ? 0 : at > f->life_end ? 0.003 : 0.0004;
		if (chance(r, churn)) {
			next = P_FREE;
			next_mrr = 0;
		} else if (plan == P_STARTER && now_seats > 3) {
			next = P_PRO; /* outgrew starter */
			next_seats = now_seats;
		} else if (plan != P_ENTERPRISE && plan != P_STARTER && now_seats > seats) {
			next_seats = now_seats; /* seats follow the team */
		} else if (plan == P_PRO && chance(r, 0.0009)) {
			next = P_BUSINESS;
		} else if (plan != P_ENTERPRISE && chance(r, 0.0007)) {
			if (plan == P_BUSINESS && chance(r, 0.5))
				next = P_PRO;
			else if (seats > 3)
				next_seats = seats - 1 - (seats > 6 && chance(r, 0.5));
			else if (plan == P_PRO)
				next = P_STARTER;
		} else if (plan == P_ENTERPRISE && chance(r, 0.003)) {
			custom += 100 * (1 + below(r, 8)); /* more seats on the contract */
		}
		if (next != plan || next_seats != seats || (plan == P_ENTERPRISE && custom != mrr)) {
			next_mrr = next == P_FREE ? 0 : mrr_of(next, next_seats, custom);
			if (next_mrr == mrr && next == plan) {
				seats = next_seats;
				continue;
			}
			add_step(s, at, next, plan, next_seats, next_mrr);
			if (next == P_FREE)
				return;
			plan = next;
			seats = next_seats;
			mrr = next_mrr;
		}
	}
}

/* One account: its founder, team, plan path and everyone's product use. */
static void make_account(struct sim *s, uint32_t ai)
{
	struct rng *r = &s->r;
	struct account *a = &s->accounts[ai];
	memset(a, 0, sizeof *a);
	uint32_t fi = new_person(s, K_FOUNDER);
	struct person *f = &s->people[fi];
	a->founder = fi;
	a->npeople = 1;
	f->account = ai;
	f->signup = draw_time(s);
	a->created = f->signup + 3 * SEC;
	/* channel */
	double u = unif(r), acc = 0;
	int ch = 0;
	for (; ch < CH_FOUNDER_COUNT - 1; ch++)
		if (u < (acc += channels[ch].weight))
			break;
	int day = (int)((f->signup - s->start) / DAY);
	if ((day == 14 || day == 15) && chance(r, 0.5))
		ch = CH_PRODUCTHUNT; /* launch day */
	f->channel = (uint8_t)ch;
	/* the company */
	a->enterprise = chance(r, 0.045);
	if (a->enterprise) {
		a->company = (uint16_t)below(r, FW_ARRAY_LEN(enterprises));
		a->employees = enterprises[a->company].employees;
		a->industry = enterprises[a->company].industry;
		f->personal_email = 0;
	} else {
		a->company = (uint16_t)below(r, FW_ARRAY_LEN(name_a) * FW_ARRAY_LEN(name_b) * FW_ARRAY_LEN(name_c));
		double e = lognorm(r, 28, 1.5);
		a->employees = e < 1 ? 1 : e > 20000 ? 20000 : (uint32_t)e;
		a->industry = (uint8_t)below(r, FW_ARRAY_LEN(industries));
		a->tld = (uint8_t)below(r, FW_ARRAY_LEN(tlds));
	}
	/* the team the account wants to be */
	double tu = unif(r);
	int team = tu < 0.36 ? 1 : tu < 0.58 ? 2 : tu < 0.74 ? 3 : tu < 0.87 ? 4 + (int)below(r, 3)
		 : tu < 0.96 ? 7 + (int)below(r, 8) : 15 + (int)below(r, 30);
	if (a->enterprise && team < 4)
		team += 3;
	a->team = (uint8_t)team;
	/* anonymous browsing before the sign-up */
	if (chance(r, 0.75)) {
		int64_t first = f->signup - (chance(r, 0.45) ? (int64_t)lognorm(r, 6 * MIN, 0.7)
							    : (int64_t)lognorm(r, 2 * DAY, 1.0));
		f->first_seen = first;
		browse(s, fi, first, f->signup - 20 * SEC, 1 + geom(r, 1.2));
	}
	emit(s, f->signup - 10 * SEC, fi, NONE, R_PAGE, 0, PG_SIGNUP, 1);
	double act = channels[ch].activation + (team > 1 ? 0.08 : 0);
	draw_habit(s, fi, act, 0.62);
	sign_up(s, fi, 1);

	/* revenue path, decided up front; the team's growth may hurry it */
	double prop = team <= 1 ? 0.04 : team <= 3 ? 0.1 : team <= 8 ? 0.35 : 0.5;
	if (!f->activated)
		prop *= 0.12;
	int trial = chance(r, channels[ch].paid ? 0.36 : 0.22);
	int64_t trial_at = 0, upgrade_at = 0, enterprise_at = 0;
	int converts = 0;
	if (trial) {
		trial_at = (f->activated ? f->activated : f->signup) + (int64_t)lognorm(r, 1.5 * DAY, 1.2);
		converts = chance(r, prop * 2.2 + 0.04 > 0.85 ? 0.85 : prop * 2.2 + 0.04);
	} else if (chance(r, prop)) {
		converts = 1;
		upgrade_at = (f->activated ? f->activated : f->signup) + (int64_t)lognorm(r, 11 * DAY, 0.9);
	}
	if (a->enterprise && team >= 5 && f->activated && chance(r, 0.4)) {
		enterprise_at = f->activated + (int64_t)lognorm(r, 18 * DAY, 0.5);
		converts = 0; /* a contract instead of self-serve */
		upgrade_at = 0;
	}

	/* the team: invites from the founder (and later from members) */
	int members = 1;
	int64_t t = 0;
	if (team > 1 && f->activated)
		t = f->activated + (int64_t)lognorm(r, 3 * HOUR, 1.6);
	else if (team > 1 && chance(r, 0.2))
		t = f->signup + (int64_t)lognorm(r, 1 * DAY, 1.0);
	int blocked = 0;
	while (t && members < team && t < s->end) {
		int batch = 1 + geom(r, 1.5);
		for (int b = 0; b < batch && members < team; b++) {
			/* the free plan holds FREE_SEATS members */
			int on_trial = trial_at && t >= trial_at && t < trial_at + 14 * DAY;
			int paid = (upgrade_at && t >= upgrade_at) || (enterprise_at && t >= enterprise_at) ||
				   (trial_at && converts && t >= trial_at + 14 * DAY);
			if (members >= FREE_SEATS && !on_trial && !paid) {
				if (!blocked) {
					emit(s, t, fi, ai, E_LIMIT_REACHED, FREE_SEATS, 0, 0);
					emit(s, t + 5 * SEC, fi, ai, E_PRICING_VIEWED, 0, 0, 0);
					blocked = 1;
				}
				/* a converting account pays now rather than later */
				if (converts && !trial && upgrade_at > t)
					upgrade_at = t + (int64_t)lognorm(r, 1.5 * DAY, 0.8);
				else if (converts && trial && trial_at > t)
					trial_at = t + (int64_t)lognorm(r, 1 * DAY, 0.8);
				int64_t resume = converts ? (trial ? trial_at : upgrade_at) : enterprise_at;
				if (!resume || resume < t)
					goto team_done;
				t = resume + (int64_t)lognorm(r, 1 * DAY, 1.0);
				break;
			}
			uint32_t inviter = fi;
			if (members > 2 && chance(r, 0.25)) {
				uint32_t m = a->founder + 1 + below(r, a->npeople - 1);
				if (s->people[m].signup < t && s->people[m].life_end > t)
					inviter = m;
			}
			if (s->people[inviter].life_end < t)
				goto team_done; /* nobody left to invite anyone */
			members += invite(s, ai, inviter, t);
			t += 20 * SEC + (int64_t)expo(r, 60 * SEC);
		}
		if (members < team)
			t += (int64_t)(expo(r, 10) * DAY);
	}
team_done:
	f = &s->people[fi];

	/* plan changes */
	a->first_step = (uint32_t)s->nsteps;
	int64_t paid_at = 0;
	int first_paid = P_FREE;
	uint32_t custom = 0;
	if (enterprise_at) {
		paid_at = enterprise_at;
		first_paid = P_ENTERPRISE;
		custom = 100 * (10 + below(r, 31)); /* $1,000–4,000 a month */
	} else if (trial_at && converts) {
		paid_at = trial_at + 14 * DAY;
	} else if (upgrade_at) {
		paid_at = upgrade_at;
	}
	if (paid_at && first_paid != P_ENTERPRISE) {
		uint32_t seats = seats_at(s, a, paid_at);
		first_paid = seats <= 2 && chance(r, 0.6) ? P_STARTER : seats > 10 ? P_BUSINESS : P_PRO;
	}
	if (trial_at) {
		add_step(s, trial_at, P_TRIAL, P_FREE, 0, 0);
		if (!paid_at || paid_at > trial_at + 14 * DAY)
			add_step(s, trial_at + 14 * DAY, P_FREE, P_TRIAL, 0, 0);
	}
	if (paid_at && paid_at < s->end) {
		uint32_t seats = seats_at(s, a, paid_at);
		add_step(s, paid_at, first_paid, P_FREE, seats, mrr_of(first_paid, seats, custom));
		s->paying++;
	}
	a->nsteps = (uint32_t)(s->nsteps - a->first_step);
	if (a->nsteps > 1)
		qsort(s->steps + a->first_step, a->nsteps, sizeof *s->steps, cmp_step);
	for (uint32_t i = 1; i < a->nsteps; i++) /* each step's previous plan */
		s->steps[a->first_step + i].prev = s->steps[a->first_step + i - 1].plan;
	if (paid_at && paid_at < s->end)
		paid_life(s, ai, paid_at, first_paid, custom);
	a->nsteps = (uint32_t)(s->nsteps - a->first_step);
	if (a->nsteps > 1)
		qsort(s->steps + a->first_step, a->nsteps, sizeof *s->steps, cmp_step);
	for (uint32_t i = 0; i < a->nsteps; i++) {
		const struct plan_step *st = &s->steps[a->first_step + i];
		/* the way there: pricing, payment details, procurement */
		if (st->plan == P_TRIAL) {
			emit(s, st->t - 40 * SEC, fi, ai, E_PRICING_VIEWED, 0, 2, 0);
			emit(s, st->t, fi, ai, E_TRIAL_STARTED, 14, P_PRO, 0);
		} else if (st->plan == P_ENTERPRISE && st->prev != P_ENTERPRISE) {
			/* invoice, msa, security review: backwards from the contract,
			 * all after the account's creation */
			int64_t pt = st->t - (int64_t)lognorm(r, 4 * DAY, 0.4);
			for (int k = 2; k >= 0; k--) {
				if (pt < a->created + (k + 1) * HOUR)
					pt = a->created + (k + 1) * HOUR;
				emit(s, pt, fi, ai, E_PROCUREMENT_REQUESTED, 0, (unsigned)k, 0);
				pt -= (int64_t)lognorm(r, 7 * DAY, 0.4);
			}
		} else if (paid_plan(st->plan) && !paid_plan(st->prev)) {
			emit(s, st->t - 3 * MIN, fi, ai, E_PRICING_VIEWED, 0, 2, 0);
			emit(s, st->t - 1 * MIN, fi, ai, E_PAYMENT_INFO_ENTERED, 0, 0, 0);
		}
		emit(s, st->t, fi, ai, E_PLAN_CHANGED, st->mrr, (unsigned)(st->plan | st->prev << 4), 0);
		emit(s, st->t + 2 * SEC, fi, ai, R_GROUP_PLAN, 0, st->plan, 0);
	}
	/* everyone's product use, now that the plan timeline is known */
	for (uint32_t i = 0; i < a->npeople; i++) {
		uint32_t pi = a->founder + i;
		if (s->people[pi].signup < s->end)
			live(s, pi);
	}
}

static void make_visitor(struct sim *s)
{
	struct rng *r = &s->r;
	uint32_t pi = new_person(s, K_VISITOR);
	int64_t first = draw_time(s);
	s->people[pi].first_seen = first;
	browse(s, pi, first, s->end, 1 + geom(r, 0.5));
	s->visitors++;
}

/* Stable LSD radix sort of the records by time (36 bits of ms from start). */
static void sort_recs(struct sim *s)
{
	size_t n = s->nrecs;
	struct rec *tmp = fw_xmalloc(n * sizeof *tmp), *src = s->recs, *dst = tmp;
	static size_t count[4096];
	for (int pass = 0; pass < 3; pass++) {
		int shift = 12 * pass;
		memset(count, 0, sizeof count);
		for (size_t i = 0; i < n; i++)
			count[((uint64_t)(src[i].t - s->start) >> shift) & 4095]++;
		size_t sum = 0;
		for (int b = 0; b < 4096; b++) {
			size_t c = count[b];
			count[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[((uint64_t)(src[i].t - s->start) >> shift) & 4095]++] = src[i];
		struct rec *x = src;
		src = dst;
		dst = x;
	}
	/* three passes: the sorted records are in tmp */
	free(s->recs);
	s->recs = src;
	s->caprecs = n;
}

static void simulate(struct sim *s)
{
	rng_seed(&s->r, s->seed * 0x9e3779b97f4a7c15ULL + 0xf1f1);
	build_curve(s);
	size_t naccounts = (size_t)llround(5000 * s->scale), nvisitors = (size_t)llround(15000 * s->scale);
	if (naccounts < 5)
		naccounts = 5;
	s->accounts = fw_xcalloc(naccounts, sizeof *s->accounts);
	s->naccounts = naccounts;
	for (size_t i = 0; i < naccounts; i++)
		make_account(s, (uint32_t)i);
	for (size_t i = 0; i < nvisitors; i++)
		make_visitor(s);
	sort_recs(s);
}

/* ---- JSON lines ---- */

struct out {
	char *p; /* write position */
};

static inline void put(struct out *o, const char *s, size_t n)
{
	memcpy(o->p, s, n);
	o->p += n;
}
#define PUT(o, lit) put((o), lit, sizeof lit - 1)

static inline void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u(struct out *o, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*o->p++ = tmp[--n];
}

static void put_hex(struct out *o, uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = digits - 1; i >= 0; i--)
		*o->p++ = hex[(v >> (4 * i)) & 15];
}

static void put_2(struct out *o, unsigned v)
{
	*o->p++ = (char)('0' + v / 10);
	*o->p++ = (char)('0' + v % 10);
}

/* "2026-01-02T03:04:05.678Z", the date cached per day */
static void put_time(struct out *o, int64_t ms)
{
	static int64_t cday = INT64_MIN;
	static char date[12];
	int64_t d = fw_day_floor(ms);
	if (d != cday) {
		int64_t y;
		unsigned m, dd;
		fw_civil_from_days(d / DAY, &y, &m, &dd);
		snprintf(date, sizeof date, "%04lld-%02u-%02uT", (long long)y, m, dd);
		cday = d;
	}
	put(o, date, 11);
	int64_t r = ms - d;
	put_2(o, (unsigned)(r / HOUR));
	*o->p++ = ':';
	put_2(o, (unsigned)(r / MIN % 60));
	*o->p++ = ':';
	put_2(o, (unsigned)(r / SEC % 60));
	*o->p++ = '.';
	unsigned frac = (unsigned)(r % 1000);
	*o->p++ = (char)('0' + frac / 100);
	put_2(o, frac % 100);
	*o->p++ = 'Z';
}

static void put_user_id(struct out *o, const struct sim *s, uint32_t pi)
{
	PUT(o, "usr_");
	put_hex(o, perm32(pi, (uint32_t)s->seed * 2654435761U), 8);
}

static void put_anon_id(struct out *o, const struct sim *s, uint32_t pi)
{
	uint64_t x = s->seed ^ ((uint64_t)pi << 20) ^ 0xa11ce;
	uint64_t a = splitmix(&x), b = splitmix(&x);
	put_hex(o, a >> 32, 8);
	*o->p++ = '-';
	put_hex(o, a >> 16, 4);
	*o->p++ = '-';
	put_hex(o, 0x4000 | (a & 0xfff), 4);
	*o->p++ = '-';
	put_hex(o, 0x8000 | (b >> 48 & 0x3fff), 4);
	*o->p++ = '-';
	put_hex(o, b, 12);
}

static void put_account_id(struct out *o, const struct sim *s, uint32_t ai)
{
	PUT(o, "acc_");
	put_hex(o, perm32(ai, (uint32_t)s->seed * 40503U + 7), 8);
}

static void put_company(struct out *o, const struct account *a)
{
	if (a->enterprise) {
		puts_(o, enterprises[a->company].name);
		return;
	}
	size_t nb = FW_ARRAY_LEN(name_b), nc = FW_ARRAY_LEN(name_c);
	puts_(o, name_a[a->company / (nb * nc)]);
	puts_(o, name_b[a->company / nc % nb]);
	*o->p++ = ' ';
	puts_(o, name_c[a->company % nc]);
}

static void put_domain(struct out *o, const struct account *a)
{
	if (a->enterprise) {
		puts_(o, enterprises[a->company].domain);
		return;
	}
	size_t nb = FW_ARRAY_LEN(name_b), nc = FW_ARRAY_LEN(name_c);
	char *p = o->p;
	puts_(o, name_a[a->company / (nb * nc)]);
	*p = (char)(*p - 'A' + 'a');
	puts_(o, name_b[a->company / nc % nb]);
	char *c = o->p;
	puts_(o, name_c[a->company % nc]);
	*c = (char)(*c - 'A' + 'a');
	puts_(o, tlds[a->tld]);
}

static void put_email(struct out *o, const struct sim *s, uint32_t pi)
{
	const struct person *p = &s->people[pi];
	puts_(o, first_names[p->first_name]);
	*o->p++ = '.';
	puts_(o, last_names[p->last_name]);
	if (p->personal_email || p->account == NONE) {
		put_u(o, pi % 97);
		*o->p++ = '@';
		puts_(o, personal_domains[pi % FW_ARRAY_LEN(personal_domains)]);
	} else {
		*o->p++ = '@';
		put_domain(o, &s->accounts[p->account]);
	}
}

static void put_name(struct out *o, const struct person *p)
{
	char *c = o->p;
	puts_(o, first_names[p->first_name]);
	*c = (char)(*c - 'a' + 'A');
	*o->p++ = ' ';
	c = o->p;
	puts_(o, last_names[p->last_name]);
	*c = (char)(*c - 'a' + 'A');
}

/* One message as a Segment-spec JSON line. Values need no escaping: every
 * string comes from the tables above. */
static void format_rec(struct out *o, const struct sim *s, const struct rec *x, uint64_t seq,
		       struct rng *r)
{
	const struct person *p = &s->people[x->person];
	const struct account *a = x->account == NONE ? NULL : &s->accounts[x->account];
	int kind = x->kind;
	if (kind < E_NAMES) {
		PUT(o, "{\"type\":\"track\",\"event\":\"");
		puts_(o, event_names[kind]);
		*o->p++ = '"';
	} else if (kind == R_PAGE) {
		PUT(o, "{\"type\":\"page\",\"name\":\"");
		puts_(o, pages[x->aux2].name);
		*o->p++ = '"';
	} else if (kind == R_IDENTIFY) {
		PUT(o, "{\"type\":\"identify\"");
	} else {
		PUT(o, "{\"type\":\"group\",\"groupId\":\"");
		put_account_id(o, s, x->account);
		*o->p++ = '"';
	}
	if (x->anon || kind == R_IDENTIFY) {
		PUT(o, ",\"anonymousId\":\"");
		put_anon_id(o, s, x->person);
		*o->p++ = '"';
	}
	if (!x->anon) {
		PUT(o, ",\"userId\":\"");
		put_user_id(o, s, x->person);
		*o->p++ = '"';
	}
	PUT(o, ",\"timestamp\":\"");
	put_time(o, x->t);
	PUT(o, "\",\"messageId\":\"demo-");
	put_u(o, s->seed);
	*o->p++ = '-';
	put_hex(o, seq, 8);
	*o->p++ = '"';
	switch (kind) {
	case E_SIGNED_UP: {
		PUT(o, ",\"properties\":{");
		const char *sep = "";
		if (channels[x->aux2].channel) {
			PUT(o, "\"channel\":\"");
			puts_(o, channels[x->aux2].channel);
			*o->p++ = '"';
			sep = ",";
		}
		if (channels[x->aux2].utm_source) {
			puts_(o, sep);
			PUT(o, "\"utm_source\":\"");
			puts_(o, channels[x->aux2].utm_source);
			*o->p++ = '"';
			sep = ",";
		}
		puts_(o, sep);
		if (x->aux2 == CH_INVITE) {
			PUT(o, "\"method\":\"invite\",\"inviter_id\":\"");
			put_user_id(o, s, p->inviter);
			PUT(o, "\"}");
		} else {
			static const char *const methods[] = {"email", "google", "github"};
			PUT(o, "\"method\":\"");
			puts_(o, methods[below(r, 3)]);
			PUT(o, "\"}");
		}
		break;
	}
	case E_PROJECT_CREATED:
		PUT(o, ",\"properties\":{\"template\":\"");
		puts_(o, (const char *[]){"blank", "kanban", "roadmap", "sprint"}[below(r, 4)]);
		PUT(o, "\"}");
		break;
	case E_FILE_UPLOADED:
		PUT(o, ",\"properties\":{\"size_kb\":");
		put_u(o, 20 + below(r, 4000));
		*o->p++ = '}';
		break;
	case E_REPORT_EXPORTED:
		PUT(o, ",\"properties\":{\"format\":\"");
		puts_(o, export_formats[below(r, 3)]);
		PUT(o, "\"}");
		break;
	case E_INTEGRATION_CONNECTED:
		PUT(o, ",\"properties\":{\"integration\":\"");
		puts_(o, integrations[below(r, FW_ARRAY_LEN(integrations))]);
		PUT(o, "\"}");
		break;
	case E_INVITE_SENT:
		PUT(o, ",\"properties\":{\"invitee_email\":\"");
		if (x->aux != NONE) {
			put_email(o, s, x->aux);
		} else {
			puts_(o, first_names[x->aux2 % FW_ARRAY_LEN(first_names)]);
			*o->p++ = '.';
			puts_(o, last_names[x->aux2 / 40 % FW_ARRAY_LEN(last_names)]);
			*o->p++ = '@';
			put_domain(o, a);
		}
		PUT(o, "\",\"role\":\"");
		puts_(o, chance(r, 0.15) ? "admin" : "member");
		PUT(o, "\"}");
		break;
	case E_INVITE_ACCEPTED:
		PUT(o, ",\"properties\":{\"inviter_id\":\"");
		put_user_id(o, s, x->aux);
		PUT(o, "\"}");
		break;
	case E_LIMIT_REACHED:
		PUT(o, ",\"properties\":{\"limit\":\"");
		puts_(o, limits[x->aux2]);
		PUT(o, "\",\"plan\":\"free\",\"usage\":");
		put_u(o, x->aux);
		PUT(o, ",\"limit_value\":");
		put_u(o, x->aux);
		*o->p++ = '}';
		break;
	case E_PRICING_VIEWED:
		PUT(o, ",\"properties\":{\"source\":\"");
		puts_(o, pricing_sources[x->aux2]);
		PUT(o, "\"}");
		break;
	case E_PREMIUM_FEATURE_ATTEMPTED:
		PUT(o, ",\"properties\":{\"feature\":\"automations\",\"plan\":\"free\"}");
		break;
	case E_PAYMENT_INFO_ENTERED:
		PUT(o, ",\"properties\":{\"method\":\"card\"}");
		break;
	case E_TRIAL_STARTED:
		PUT(o, ",\"properties\":{\"plan\":\"pro\",\"trial_days\":14}");
		break;
	case E_PLAN_CHANGED:
		PUT(o, ",\"properties\":{\"plan\":\"");
		puts_(o, plan_names[x->aux2 & 15]);
		PUT(o, "\",\"mrr\":");
		put_u(o, x->aux);
		PUT(o, ",\"previous_plan\":\"");
		puts_(o, plan_names[x->aux2 >> 4]);
		PUT(o, "\"}");
		break;
	case E_PROCUREMENT_REQUESTED:
		PUT(o, ",\"properties\":{\"type\":\"");
		puts_(o, procurement_types[x->aux2]);
		PUT(o, "\"}");
		break;
	case R_PAGE:
		PUT(o, ",\"properties\":{\"path\":\"");
		puts_(o, pages[x->aux2].path);
		*o->p++ = '"';
		if (x->anon && p->kind == K_FOUNDER && p->channel != CH_INVITE &&
		    channels[p->channel].utm_source && x->t == p->first_seen) {
			PUT(o, ",\"utm_source\":\"");
			puts_(o, channels[p->channel].utm_source);
			*o->p++ = '"';
		}
		*o->p++ = '}';
		break;
	case R_IDENTIFY:
		PUT(o, ",\"traits\":{\"email\":\"");
		put_email(o, s, x->person);
		PUT(o, "\",\"name\":\"");
		put_name(o, p);
		PUT(o, "\",\"created_at\":\"");
		put_time(o, p->signup);
		PUT(o, "\"}");
		break;
	case R_GROUP_CREATE:
		PUT(o, ",\"traits\":{\"name\":\"");
		put_company(o, a);
		if (a->enterprise) {
			PUT(o, " — ");
			puts_(o, teams[x->account % FW_ARRAY_LEN(teams)]);
		}
		PUT(o, "\",\"domain\":\"");
		put_domain(o, a);
		PUT(o, "\",\"employees\":");
		put_u(o, a->employees);
		PUT(o, ",\"industry\":\"");
		puts_(o, industries[a->industry]);
		PUT(o, "\",\"plan\":\"free\",\"created_at\":\"");
		put_time(o, a->created);
		PUT(o, "\"}");
		break;
	case R_GROUP_PLAN:
		PUT(o, ",\"traits\":{\"plan\":\"");
		puts_(o, plan_names[x->aux2]);
		PUT(o, "\"}");
		break;
	}
	if (a && kind != R_GROUP_CREATE && kind != R_GROUP_JOIN && kind != R_GROUP_PLAN) {
		PUT(o, ",\"context\":{\"groupId\":\"");
		put_account_id(o, s, x->account);
		PUT(o, "\"}");
	}
	PUT(o, "}\n");
}

/* Records to JSON lines, one chunk at a time. */
struct writer {
	const struct sim *s;
	struct rng r; /* property values drawn while writing */
	size_t next;  /* the next record */
};

static void writer_init(struct writer *w, const struct sim *s)
{
	w->s = s;
	w->next = 0;
	rng_seed(&w->r, s->seed ^ 0xf0f0f0f0ULL);
}

/* The next chunk of whole lines (about FW_IMPORT_CHUNK bytes, from malloc),
 * or NULL after the last record. */
static char *writer_chunk(struct writer *w, size_t *len)
{
	if (w->next >= w->s->nrecs)
		return NULL;
	char *chunk = fw_xmalloc(FW_IMPORT_CHUNK + 4096); /* a line is < 1 KB */
	struct out o = {chunk};
	while (w->next < w->s->nrecs && (size_t)(o.p - chunk) < FW_IMPORT_CHUNK) {
		format_rec(&o, w->s, &w->s->recs[w->next], w->next, &w->r);
		w->next++;
	}
	*len = (size_t)(o.p - chunk);
	return chunk;
}

/* ---- the data directory ---- */

static int dir_state(const char *dir, int *is_demo, int *complete)
{
	*is_demo = *complete = 0;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	char path[4200];
	snprintf(path, sizeof path, "%s/" MARKER, dir);
	FILE *f = fopen(path, "r");
	if (f) {
		char buf[512] = {0};
		size_t r = fread(buf, 1, sizeof buf - 1, f);
		buf[r] = 0;
		fclose(f);
		*is_demo = 1;
		*complete = strstr(buf, "\"complete\":true") != NULL;
	}
	return n;
}

/* A string field of DIR/demo.json (written by write_marker, so no escapes). */
static void marker_field(const char *dir, const char *name, char *out, size_t n)
{
	char path[4200], buf[512] = {0}, key[64];
	snprintf(path, sizeof path, "%s/" MARKER, dir);
	snprintf(key, sizeof key, "\"%s\":\"", name);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t r = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[r] = 0;
	const char *p = strstr(buf, key);
	if (p) {
		p += strlen(key);
		snprintf(out, n, "%.*s", (int)strcspn(p, "\""), p);
	}
}

static void remove_files_in(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char path[4400];
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Remove what a demo put in dir (never anything else), unless a server holds it. */
static int clear_demo(const char *dir, struct fw_err *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/LOCK", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) {
		if (fd >= 0)
			close(fd);
		return fw_error(err, FW_EAGAIN, "%s is in use by a running flywheel (stop it first)", dir);
	}
	static const char *const files[] = {MARKER, "flywheel.yaml", "meta.db", "meta.db-wal",
					    "meta.db-shm"};
	for (size_t i = 0; i < FW_ARRAY_LEN(files); i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/log", dir);
	remove_files_in(path);
	snprintf(path, sizeof path, "%s/segments", dir);
	remove_files_in(path);
	close(fd);
	return 0;
}

static int write_file(const char *path, const char *text, struct fw_err *err)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		return fw_error(err, FW_EIO, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

static int write_marker(const char *dir, const struct sim *s, int complete, struct fw_err *err)
{
	char path[4200], end[32], now[32], text[512];
	snprintf(path, sizeof path, "%s/" MARKER, dir);
	fw_time_format_iso(s->end, end);
	fw_time_format_iso(fw_now_ms(), now);
	snprintf(text, sizeof text,
		 "{\"generator\":\"flywheel demo\",\"seed\":%llu,\"scale\":%g,\"end\":\"%s\","
		 "\"generated_at\":\"%s\",\"complete\":%s}\n",
		 (unsigned long long)s->seed, s->scale, end, now, complete ? "true" : "false");
	return write_file(path, text, err);
}

/* The demo's flywheel.yaml: its core features, onboarding and targets
 * (counts scale with --scale). Validated with the config loader. */
static int write_config(const char *dir, double scale, struct fw_err *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/flywheel.yaml", dir);
	struct fw_buf b = {0};
	fw_buf_printf(&b,
		"# flywheel.yaml — written by `flywheel demo` for its sample company, Tasklane\n"
		"# (docs/demo.md). Every key is in docs/config.md; check it with\n"
		"# `flywheel check --config %s`.\n"
		"activation:\n"
		"  event: Project Created\n"
		"core_features: [Task Created, Comment Added, File Uploaded, Report Exported, Automation Created]\n"
		"onboarding_steps: [Profile Completed, Project Created, Invite Sent]\n"
		"targets:\n"
		"  # acquisition (counts per 30 days)\n"
		"  signups: %.0f\n"
		"  signups_organic: %.0f\n"
		"  signups_paid: %.0f\n"
		"  # activation\n"
		"  activation_rate_1d: 0.5\n"
		"  activation_rate_7d: 0.65\n"
		"  ttfv_median_seconds: 1800      # half an hour\n"
		"  ttfv_p90_seconds: 345600       # four days\n"
		"  onboarding_completion: 0.2\n"
		"  # engagement\n"
		"  retention_d1: 0.45\n"
		"  retention_d7: 0.3\n"
		"  retention_w1: 0.55\n"
		"  dau_mau: 0.2\n"
		"  wau: %.0f\n"
		"  mau: %.0f\n"
		"  active_days_per_week: 3\n"
		"  feature_adoption: 0.4\n"
		"  feature_breadth: 1.5\n"
		"  # monetization\n"
		"  free_to_paid_rate: 0.08\n"
		"  time_to_convert_median_days: 14\n"
		"  acv: 2000\n"
		"  nrr: 1.02\n"
		"  grr: 0.97\n"
		"  expansion_mrr: %.0f\n"
		"  contraction_mrr: %.0f\n"
		"  churned_mrr: %.0f\n"
		"  # virality\n"
		"  k_factor: 0.4\n"
		"# PQL scoring (docs/scoring.md): the default rules, with signals fading\n"
		"# over a month, and the big companies' domains as enterprise domains\n"
		"scoring:\n"
		"  half_life_days: 30\n"
		"triggers:\n"
		"  enterprise_domain:\n"
		"    domains: [globex.com, initech.com, umbrella-corp.com, hooli.com, stark.com,\n"
		"              wayne.com, cyberdyne.com, tyrell.com, wonka.com, massivedynamic.com,\n"
		"              soylent.com, aperture.com]\n"
		"# Tasklane's plans: the free plan's 3 seats are why the 4th invite fails\n"
		"default_plan: free\n"
		"plans:\n"
		"  free: {price: 0, limits: {seats: 3, tasks: {limit: 500, hard: false}, automations: 5}, upgrade_to: starter}\n"
		"  trial: {price: 0, trial_days: 14, trial_ends_to: free, limits: {seats: 10}, features: [integrations], upgrade_to: starter}\n"
		"  starter: {price: 29, limits: {seats: 5, automations: 50}, features: [integrations], upgrade_to: pro}\n"
		"  pro: {price: 36, limits: {seats: 50}, features: [integrations, sso], upgrade_to: business}\n"
		"  business: {price: 125, limits: {seats: 200}, features: [integrations, sso, audit_log], upgrade_to: enterprise}\n"
		"  enterprise: {price: 0, features: [integrations, sso, audit_log, scim]}\n"
		"# what the plans limit, per account and calendar month (docs/billing.md)\n"
		"meters:\n"
		"  tasks: {events: [Task Created]}\n"
		"  automations: {events: [Automation Created]}\n"
		"  uploads_kb: {events: [File Uploaded], aggregate: sum, property: size_kb}\n",
		path, 3000 * scale, 2400 * scale, 700 * scale, 5000 * scale, 10000 * scale,
		5000 * scale, 500 * scale, 1500 * scale);
	int rc = write_file(path, b.data, err);
	fw_buf_release(&b);
	if (rc)
		return rc;
	struct fw_config c;
	struct fw_config_error errs[4];
	size_t nerrs = 0;
	rc = fw_config_load(&c, path, errs, 4, &nerrs, err);
	if (rc == FW_EINVAL && nerrs)
		fw_error(err, rc, "%s:%d:%d: %s (a bug in flywheel demo)", path, errs[0].line,
			 errs[0].column, errs[0].msg);
	if (!rc)
		fw_config_release(&c);
	return rc;
}

/* People (after merges) and accounts as the metadata store holds them. */
static void count_meta(const char *dir, long long *people, long long *accounts)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/meta.db", dir);
	*people = *accounts = -1;
	sqlite3 *db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM persons WHERE merged_into IS NULL),"
					   " (SELECT count(*) FROM accounts)", -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW) {
				*people = sqlite3_column_int64(st, 0);
				*accounts = sqlite3_column_int64(st, 1);
			}
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(db);
}

/* ---- the command ---- */

static double secs(int64_t ns)
{
	return (double)ns / 1e9;
}

static void bar(const char *what, double frac, const char *detail)
{
	char b[32];
	int n = (int)(frac * 24 + 0.5);
	for (int i = 0; i < 24; i++)
		b[i] = i < n ? '=' : i == n ? '>' : ' ';
	b[24] = 0;
	fprintf(stderr, "\r\033[K  %-20s [%s] %3.0f%%  %s   ", what, b, frac * 100, detail);
}

static void group_digits(char *out, size_t n, unsigned long long v)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof tmp, "%llu", v), o = 0;
	for (int i = 0; i < len && (size_t)o + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = 0;
}

struct timings {
	int64_t sim, format, import, apply, compact, total;
};

static void run_simulation(struct sim *s, struct timings *tm, int tty)
{
	int64_t t0 = fw_mono_ns();
	if (tty)
		fprintf(stderr, "  simulating…");
	simulate(s);
	tm->sim = fw_mono_ns() - t0;
	char n1[32], n2[32], n3[32], n4[32];
	group_digits(n1, sizeof n1, s->nrecs);
	group_digits(n2, sizeof n2, s->naccounts);
	group_digits(n3, sizeof n3, s->signups);
	group_digits(n4, sizeof n4, s->visitors);
	fprintf(stderr, "%s  simulated            %s messages: %s accounts, %s sign-ups, %s visitors in %.2f s\n",
		tty ? "\r\033[K" : "", n1, n2, n3, n4, secs(tm->sim));
}

/* --ndjson: the messages as JSON lines, to a file or stdout. */
static int write_ndjson(const char *path, struct sim *s, struct fw_err *err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f)
		return fw_error(err, FW_EIO, "cannot write %s: %s", path, strerror(errno));
	struct writer w;
	writer_init(&w, s);
	char *chunk;
	size_t len;
	int rc = 0;
	while (!rc && (chunk = writer_chunk(&w, &len))) {
		if (fwrite(chunk, 1, len, f) != len)
			rc = fw_error(err, FW_EIO, "cannot write %s: %s", path, strerror(errno));
		free(chunk);
	}
	if ((f == stdout ? fflush(f) : fclose(f)) && !rc)
		rc = fw_error(err, FW_EIO, "cannot write %s: %s", path, strerror(errno));
	return rc;
}

/* Import the simulated messages into dir, apply people and accounts, compact. */
static int generate(const char *dir, struct sim *s, struct timings *tm, int tty, struct fw_err *err)
{
	const char *cr = tty ? "\r\033[K" : ""; /* back to the start of the progress line */
	int64_t t0 = fw_mono_ns();
	char n1[32];
	struct fw_server *srv;
	struct fw_server_options so = {.data_dir = dir, .min_free_bytes = FW_MIN_FREE_FROM_CONFIG};
	int rc = fw_server_open(&so, &srv, err);
	if (rc)
		return rc;
	int64_t t1 = fw_mono_ns(), last = t1;
	long nthreads = sysconf(_SC_NPROCESSORS_ONLN);
	struct fw_import *im = fw_import_new(srv, nthreads < 1 ? 2 : nthreads > 64 ? 64 : (int)nthreads);
	struct writer w;
	writer_init(&w, s);
	for (;;) {
		int64_t f0 = fw_mono_ns();
		size_t first = w.next, len;
		char *chunk = writer_chunk(&w, &len);
		tm->format += fw_mono_ns() - f0;
		if (!chunk || fw_import_push(im, chunk, len, "demo", first))
			break;
		if (tty && fw_mono_ns() - last > 100000000LL) {
			struct fw_import_stats st;
			fw_import_stats(im, &st);
			char d[64], n2[32];
			group_digits(n2, sizeof n2, st.stored);
			snprintf(d, sizeof d, "%s stored", n2);
			bar("importing", (double)st.lines / (double)s->nrecs, d);
			last = fw_mono_ns();
		}
	}
	rc = fw_import_finish(im, err);
	struct fw_import_stats st;
	fw_import_stats(im, &st);
	fw_import_free(im);
	tm->import = fw_mono_ns() - t1;
	if (rc)
		goto out;
	group_digits(n1, sizeof n1, st.stored);
	char rate[32];
	group_digits(rate, sizeof rate, (unsigned long long)((double)st.stored / secs(tm->import)));
	fprintf(stderr, "%s  imported             %s events and calls in %.2f s (%s a second; JSON written in %.2f s of it)\n",
		cr, n1, secs(tm->import), rate, secs(tm->format));
	if (st.skipped)
		fprintf(stderr, "flywheel demo: %llu lines skipped (a bug): `flywheel query warnings --data %s`\n",
			(unsigned long long)st.skipped, dir);

	int64_t t2 = fw_mono_ns();
	struct fw_store_stats ss;
	fw_store_stats(srv->store, &ss);
	for (;;) {
		uint64_t n = 0;
		rc = fw_meta_apply(srv->meta, srv->store, 100000, &n, err);
		if (rc || !n)
			break;
		if (tty) {
			double done = (double)fw_meta_applied_seq(srv->meta) / (double)(ss.durable_seq ? ss.durable_seq : 1);
			bar("people and accounts", done, "");
		}
	}
	tm->apply = fw_mono_ns() - t2;
	if (rc)
		goto out;
	fprintf(stderr, "%s  people and accounts  applied in %.2f s\n", cr, secs(tm->apply));
	int64_t t3 = fw_mono_ns();
	if (tty)
		fprintf(stderr, "  compacting…");
	uint64_t compacted = 0;
	rc = fw_store_compact(srv->store, &compacted, err);
	tm->compact = fw_mono_ns() - t3;
	if (rc)
		goto out;
	fw_store_stats(srv->store, &ss);
	group_digits(n1, sizeof n1, compacted);
	fprintf(stderr, "%s  compacted            %s records into %llu segment%s in %.2f s\n",
		cr, n1, (unsigned long long)ss.segments,
		ss.segments == 1 ? "" : "s", secs(tm->compact));
out:
	fw_server_close(srv);
	tm->total = tm->sim + fw_mono_ns() - t0;
	return rc;
}

int fw_cmd_demo(int argc, char **argv)
{
	if (fw_cmd_wants_help(argc, argv)) {
		fputs(HELP, stdout);
		return 0;
	}
	const char *dir = "./flywheel-demo", *listen = NULL, *v, *now_arg = NULL, *ndjson = NULL;
	const char *config = NULL;
	struct sim s = {.seed = 1, .scale = 1};
	int serve = 1, force = 0;
	for (int i = 1; i < argc; i++) {
		if (fw_cmd_opt(argc, argv, &i, "--data", &v))
			dir = v;
		else if (fw_cmd_opt(argc, argv, &i, "--listen", &v))
			listen = v;
		else if (fw_cmd_opt(argc, argv, &i, "--seed", &v))
			s.seed = strtoull(v, NULL, 10);
		else if (fw_cmd_opt(argc, argv, &i, "--scale", &v))
			s.scale = strtod(v, NULL);
		else if (fw_cmd_opt(argc, argv, &i, "--now", &v))
			now_arg = v;
		else if (fw_cmd_opt(argc, argv, &i, "--ndjson", &v))
			ndjson = v;
		else if (fw_cmd_opt(argc, argv, &i, "--config", &v))
			config = v;
		else if (!strcmp(argv[i], "--no-serve"))
			serve = 0;
		else if (!strcmp(argv[i], "--force"))
			force = 1;
		else {
			fprintf(stderr, "flywheel demo: unknown option \"%s\"\n\n%s", argv[i], HELP);
			return 2;
		}
	}
	if (!(s.scale > 0 && s.scale <= 5)) {
		fprintf(stderr, "flywheel demo: --scale wants a number above 0, at most 5 (1 = ~2M events, ~400 MB of memory)\n");
		return 2;
	}
	int64_t now = fw_now_ms();
	if (now_arg && fw_time_parse_iso(now_arg, strlen(now_arg), &now)) {
		fprintf(stderr, "flywheel demo: --now wants YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got \"%s\"\n",
			now_arg);
		return 2;
	}
	if (!now_arg)
		now -= now % HOUR; /* this hour: runs within it give the same data */
	s.end = now;
	s.start = fw_day_floor(now) - (DAYS - 1) * DAY;

	struct fw_err err = {0};
	if (ndjson) {
		struct timings tm = {0};
		run_simulation(&s, &tm, isatty(2));
		int rc = write_ndjson(ndjson, &s, &err);
		free(s.cdf);
		free(s.people);
		free(s.accounts);
		free(s.steps);
		free(s.recs);
		if (rc)
			fprintf(stderr, "flywheel demo: %s\n", err.msg);
		return rc ? 1 : 0;
	}
	int is_demo, complete;
	int n = dir_state(dir, &is_demo, &complete);
	if (n < 0) {
		fprintf(stderr, "flywheel demo: cannot read %s: %s\n", dir, strerror(errno));
		return 1;
	}
	int reuse = 0;
	if (n > 0 && !is_demo) {
		fprintf(stderr,
			"flywheel demo: %s is not empty and holds no demo (no %s in it); the demo\n"
			"never writes over other data: choose another directory with --data DIR\n",
			dir, MARKER);
		return 1;
	}
	if (n > 0 && complete && !force) {
		reuse = 1;
	} else if (n > 0 && clear_demo(dir, &err)) {
		fprintf(stderr, "flywheel demo: %s\n", err.msg);
		return 1;
	}

	if (reuse) {
		char end[40] = "";
		marker_field(dir, "end", end, sizeof end);
		fprintf(stderr, "flywheel demo: %s already holds a demo (data up to %.16s); %s it "
				"(--force generates a new one)\n", dir, end[0] ? end : "?",
			serve ? "starting" : "keeping");
	} else {
		char end[32];
		fw_time_format_iso(s.end, end);
		fprintf(stderr, "flywheel demo: generating Tasklane, a sample SaaS company, into %s\n"
				"  seed %llu, scale %g, %d days up to %.16s UTC\n",
			dir, (unsigned long long)s.seed, s.scale, DAYS, end);
		if (mkdir(dir, 0755) && errno != EEXIST) {
			fprintf(stderr, "flywheel demo: cannot create %s: %s\n", dir, strerror(errno));
			return 1;
		}
		if (write_marker(dir, &s, 0, &err) || write_config(dir, s.scale, &err)) {
			fprintf(stderr, "flywheel demo: %s\n", err.msg);
			return 1;
		}
		struct timings tm = {0};
		run_simulation(&s, &tm, isatty(2));
		int rc = generate(dir, &s, &tm, isatty(2), &err);
		free(s.cdf);
		free(s.people);
		free(s.accounts);
		free(s.steps);
		free(s.recs);
		if (rc) {
			fprintf(stderr, "%sflywheel demo: %s\n", isatty(2) ? "\n" : "", err.msg);
			return 1;
		}
		if (write_marker(dir, &s, 1, &err)) {
			fprintf(stderr, "flywheel demo: %s\n", err.msg);
			return 1;
		}
		fprintf(stderr, "  total                %.2f s (simulation %.2f, import %.2f, people and "
				"accounts %.2f, compaction %.2f)\n",
			secs(tm.total), secs(tm.sim), secs(tm.import), secs(tm.apply), secs(tm.compact));
	}

	/* what is there, and the keys */
	struct fw_server *srv;
	struct fw_server_options so = {.data_dir = dir, .config_path = config,
				       .min_free_bytes = FW_MIN_FREE_FROM_CONFIG};
	if (fw_server_open(&so, &srv, &err)) {
		fprintf(stderr, "flywheel demo: %s\n", err.msg);
		return 1;
	}
	int created;
	struct fw_store_stats ss;
	fw_store_stats(srv->store, &ss);
	int rc = fw_server_load_keys(srv, &created, &err);
	char wkey[256] = "", skey[256] = "";
	if (!rc) {
		snprintf(wkey, sizeof wkey, "%s", srv->write_keys[0]);
		snprintf(skey, sizeof skey, "%s", srv->secret_keys[0]);
	}
	char addr[256], url[300];
	snprintf(addr, sizeof addr, "%s", listen ? listen : srv->cfg.listen);
	size_t alen = strlen(addr);
	if (alen >= 2 && !strcmp(addr + alen - 2, ":0"))
		snprintf(url, sizeof url, "the address below (any free port)");
	else
		snprintf(url, sizeof url, "http://%s/", addr);
	fw_server_close(srv);
	if (rc) {
		fprintf(stderr, "flywheel demo: %s\n", err.msg);
		return 1;
	}
	long long people, accounts;
	count_meta(dir, &people, &accounts);
	char ne[32], np[32], na[32];
	group_digits(ne, sizeof ne, ss.events);
	group_digits(np, sizeof np, (unsigned long long)(people < 0 ? 0 : people));
	group_digits(na, sizeof na, (unsigned long long)(accounts < 0 ? 0 : accounts));
	fprintf(stderr, "flywheel demo: %s events, %s people, %s accounts in %s\n", ne, np, na, dir);
	if (!serve) {
		fprintf(stderr,
			"  write key:   %s\n"
			"  secret key:  %s\n"
			"  start it:    flywheel serve --data %s   (then open http://%s/)\n"
			"  overview:    flywheel report --data %s\n",
			wkey, skey, dir, addr, dir);
		return 0;
	}
	fprintf(stderr,
		"\n  dashboard:   %s\n"
		"  write key:   %s   (SDKs send events with it)\n"
		"  secret key:  %s   (read API: Authorization: Bearer KEY)\n"
		"  overview:    flywheel report --url http://%s --key %s\n\n",
		url, wkey, skey, addr, skey);
	char *sargv[8];
	int sargc = 0;
	sargv[sargc++] = "serve";
	sargv[sargc++] = "--data";
	sargv[sargc++] = (char *)dir;
	if (config) {
		sargv[sargc++] = "--config";
		sargv[sargc++] = (char *)config;
	}
	if (listen) {
		sargv[sargc++] = "--listen";
		sargv[sargc++] = (char *)listen;
	}
	sargv[sargc] = NULL;
	return fw_cmd_serve(sargc, sargv);
}
