/*
 * test_score.c — PQL scoring by hand: one account per row of the default
 * PQL table (DESIGN.md) landing with exactly that rule's points; each
 * sales-assist trigger and the route it gives; the activation guard; decay;
 * at-risk and expansion; and an incremental update (a snapshot of the first
 * half plus the second half fed record by record) matching a full rescore
 * of everything, unit by unit, on generated data.
 */
#include "../query/qtest.h"
#include "../test.h"
#include "flywheel/json.h"
#include "flywheel/score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define DAY 86400000LL
static int64_t NOW;

/* Events of one hand-built person: `n` events named `name` starting `start`
 * days after NOW - 60 days, `gap` days apart. */
struct hb {
	struct fw_event ev[4096];
	size_t n;
	struct fw_arena a;
};

static const char *fmt(struct hb *h, const char *f, const char *x)
{
	char tmp[512];
	int n = snprintf(tmp, sizeof tmp, f, x);
	return fw_arena_strndup(&h->a, tmp, (size_t)n);
}

static void add(struct hb *h, int type, int64_t t, const char *user, const char *name,
		const char *group, const char *props, const char *traits)
{
	if (h->n < FW_ARRAY_LEN(h->ev))
		h->ev[h->n++] = qt_event(type, NULL, t, user, "", name, group, props, traits);
}

/* A person `user` in account `group` who signed up 60 days before NOW. */
static void person(struct hb *h, const char *user, const char *group, const char *traits)
{
	int64_t t0 = NOW - 60 * DAY;
	add(h, FW_MSG_IDENTIFY, t0, user, "", "", "", traits ? traits : "{}");
	add(h, FW_MSG_GROUP, t0, user, "", group, "", "{}");
	add(h, FW_MSG_TRACK, t0, user, "Signed Up", group, "{}", "");
}

static void events(struct hb *h, const char *user, const char *group, const char *name, int n,
		   double start_day, double gap_days, const char *props)
{
	for (int i = 0; i < n; i++)
		add(h, FW_MSG_TRACK, NOW - 60 * DAY + (int64_t)((start_day + i * gap_days) * DAY) + 1000,
		    user, name, group, props ? props : "{}", "");
}

static void fw_config_list_set(struct fw_config_list *l, const char *const *items)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	for (l->n = 0; items[l->n]; l->n++)
		l->items[l->n] = strdup(items[l->n]);
}

static void setup(struct qt *f)
{
	qt_open(f);
	NOW = qt_at("2026-06-01T00:00:00Z");
	fw_config_list_set(&f->cfg.core_features, (const char *[]){"Task Created", "Comment Added", "File Uploaded", NULL});
	fw_config_list_set(&f->cfg.onboarding_steps, (const char *[]){"Profile Completed", "Tour Finished", NULL});
}

static struct fw_scorer *score(struct qt *f, struct hb *h)
{
	qt_store(f, h->ev, h->n);
	qt_load(f);
	struct fw_scorer *sc = fw_scorer_new(&f->cfg, f->m);
	struct fw_err err;
	CHECK(fw_scorer_rebase(sc, f->d, f->plg, NOW, &err) == 0);
	return sc;
}

/* The breakdown of a unit, parsed. */
static const struct fw_json *unit(struct fw_scorer *sc, struct fw_arena *a, int which,
				  const char *key)
{
	struct fw_buf b = {0};
	if (fw_scorer_unit_json(sc, which, fw_str_c(key), &b)) {
		fprintf(stderr, "  no %s %s\n", which ? "account" : "person", key);
		fw_test_failures++;
		return NULL;
	}
	struct fw_json *j;
	struct fw_json_error je;
	char *text = fw_arena_strndup(a, b.data, b.len);
	fw_buf_release(&b);
	CHECK(fw_json_parse(a, text, strlen(text), &j, &je) == 0);
	return j;
}

static double num(const struct fw_json *o, const char *k)
{
	const struct fw_json *v = o ? fw_json_get(o, k) : NULL;
	return v && v->type == FW_JSON_NUMBER ? v->u.num : NAN;
}

static const char *str(const struct fw_json *o, const char *k, char *buf, size_t n)
{
	struct fw_str s = o ? fw_json_get_str(o, k) : (struct fw_str){0};
	snprintf(buf, n, "%.*s", (int)s.len, s.p ? s.p : "");
	return buf;
}

/* "rule=points,rule=points" of the rules with points, in rule order. */
static const char *reasons(const struct fw_json *u, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = 0;
	const struct fw_json *rules = u ? fw_json_get_arr(u, "rules") : NULL;
	for (const struct fw_json *r = rules ? rules->u.child : NULL; r; r = r->next) {
		double p = num(r, "points");
		if (p > 0) {
			char name[64];
			k += (size_t)snprintf(buf + k, n - k, "%s%s=%g", k ? "," : "",
					      str(r, "rule", name, sizeof name), p);
		}
	}
	return buf;
}

static void expect(struct fw_scorer *sc, struct fw_arena *a, int which, const char *key,
		   const char *want_reasons, int want_score, const char *want_route, int line)
{
	const struct fw_json *u = unit(sc, a, which, key);
	char got[512], route[64];
	reasons(u, got, sizeof got);
	str(u, "route", route, sizeof route);
	if (strcmp(got, want_reasons) || num(u, "score") != want_score || strcmp(route, want_route)) {
		fprintf(stderr, "  test_score.c:%d: %s %s: reasons \"%s\" score %g route %s; expected \"%s\" %d %s\n",
			line, which ? "account" : "person", key, got, num(u, "score"), route,
			want_reasons, want_score, want_route);
		fw_test_failures++;
	}
}
#define EXPECT(sc, a, w, k, r, s, rt) expect(sc, a, w, k, r, s, rt, __LINE__)

/* One account per row of the default PQL table. Every person is activated
 * (a `Project Created`) unless the row is about projects, so the route is
 * the score's. */
TEST(score_each_default_rule)
{
	struct qt f;
	setup(&f);
	static struct hb h;
	memset(&h, 0, sizeof h);
	const char *rows[] = {"onb", "inv2", "inv5", "integ", "days", "core", "items", "streak",
			      "limit", "pricing", "pages", "premium", "pay", "icp", "industry", "none"};
	for (size_t i = 0; i < FW_ARRAY_LEN(rows); i++) {
		const char *u = fmt(&h, "u_%s", rows[i]), *g = fmt(&h, "a_%s", rows[i]);
		person(&h, u, g, NULL);
		if (strcmp(rows[i], "items"))
			events(&h, u, g, "Project Created", 1, 0.1, 0, NULL);
	}
	events(&h, "u_onb", "a_onb", "Profile Completed", 1, 0.2, 0, NULL);
	events(&h, "u_onb", "a_onb", "Tour Finished", 1, 0.3, 0, NULL);
	events(&h, "u_inv2", "a_inv2", "Invite Sent", 2, 1, 1, NULL);
	events(&h, "u_inv5", "a_inv5", "Invite Sent", 5, 1, 0.01, NULL);
	events(&h, "u_integ", "a_integ", "Integration Connected", 1, 1, 0, NULL);
	/* five active days in the first 14, two apart: no 7-day streak */
	events(&h, "u_days", "a_days", "Page Loaded", 5, 1, 2, NULL);
	events(&h, "u_core", "a_core", "Task Created", 1, 1, 0, NULL);
	events(&h, "u_core", "a_core", "Comment Added", 1, 1.1, 0, NULL);
	events(&h, "u_core", "a_core", "File Uploaded", 1, 1.2, 0, NULL);
	events(&h, "u_items", "a_items", "Project Created", 10, 0.5, 0.01, NULL);
	/* seven consecutive days from day 30: after the first 14 */
	events(&h, "u_streak", "a_streak", "Page Loaded", 7, 30, 1, NULL);
	events(&h, "u_limit", "a_limit", "Limit Reached", 1, 2, 0, "{\"limit\":\"seats\"}");
	events(&h, "u_pricing", "a_pricing", "Pricing Viewed", 2, 2, 1, NULL);
	add(&h, FW_MSG_PAGE, NOW - 50 * DAY, "u_pages", "$pageview", "a_pages", "{\"name\":\"Pricing\"}", "");
	add(&h, FW_MSG_PAGE, NOW - 49 * DAY, "u_pages", "$pageview", "a_pages", "{\"name\":\"Pricing\"}", "");
	add(&h, FW_MSG_PAGE, NOW - 49 * DAY, "u_pages", "$pageview", "a_pages", "{\"name\":\"Docs\"}", "");
	events(&h, "u_premium", "a_premium", "Premium Feature Attempted", 1, 2, 0, NULL);
	events(&h, "u_pay", "a_pay", "Payment Info Entered", 1, 2, 0, NULL);
	add(&h, FW_MSG_GROUP, NOW - 59 * DAY, "u_icp", "", "a_icp", "", "{\"employees\":200}");
	add(&h, FW_MSG_GROUP, NOW - 59 * DAY, "u_industry", "", "a_industry", "", "{\"industry\":\"software\",\"employees\":5000}");
	struct fw_scorer *sc = score(&f, &h);
	struct fw_arena a = {0};
	EXPECT(sc, &a, 1, "a_onb", "onboarding_completed=10", 10, "nurture");
	EXPECT(sc, &a, 1, "a_inv2", "invited_team=15", 15, "nurture");
	EXPECT(sc, &a, 1, "a_inv5", "invited_team=25", 25, "nurture");
	EXPECT(sc, &a, 1, "a_integ", "integration_connected=20", 20, "nurture");
	EXPECT(sc, &a, 1, "a_days", "active_days_first_14=15", 15, "nurture");
	EXPECT(sc, &a, 1, "a_core", "core_features_used=20", 20, "nurture");
	EXPECT(sc, &a, 1, "a_items", "created_items=15", 15, "nurture");
	EXPECT(sc, &a, 1, "a_streak", "active_streak_7=25", 25, "nurture");
	EXPECT(sc, &a, 1, "a_limit", "hit_plan_limit=30", 30, "nurture");
	EXPECT(sc, &a, 1, "a_pricing", "viewed_pricing=15", 15, "nurture");
	EXPECT(sc, &a, 1, "a_pages", "viewed_pricing=15", 15, "nurture");
	EXPECT(sc, &a, 1, "a_premium", "premium_feature_attempted=20", 20, "nurture");
	EXPECT(sc, &a, 1, "a_pay", "payment_info_entered=40", 40, "nurture");
	EXPECT(sc, &a, 1, "a_icp", "icp_company_size=10", 10, "nurture");
	EXPECT(sc, &a, 1, "a_industry", "target_industry=10", 10, "nurture");
	EXPECT(sc, &a, 1, "a_none", "", 0, "nurture");
	/* a person's trait rules read their account's traits */
	EXPECT(sc, &a, 0, "u_icp", "icp_company_size=10", 10, "nurture");
	fw_arena_release(&a);
	fw_scorer_free(sc);
	qt_close(&f);
}

/* Routes by score tier, each trigger, and the activation guard. */
TEST(score_routes_triggers_and_guard)
{
	struct qt f;
	setup(&f);
	fw_config_list_set(&f.cfg.scoring.triggers[FW_TRIGGER_ENTERPRISE_DOMAIN].list,
			   (const char *[]){"bigcorp.com", NULL});
	static struct hb h;
	memset(&h, 0, sizeof h);
	/* tiers: 45 upgrade campaign, 70 inside sales, 110 account executive */
	const struct {
		const char *id;
		const char *names[4];
	} tiers[] = {
		{"t45", {"Limit Reached", "Pricing Viewed", NULL}},        /* 30 + 0 (one view) + ... */
		{"t70", {"Payment Info Entered", "Limit Reached", NULL}},  /* 40 + 30 */
		{"t110", {"Payment Info Entered", "Limit Reached", "Premium Feature Attempted", "Integration Connected"}},
	};
	for (size_t i = 0; i < FW_ARRAY_LEN(tiers); i++) {
		const char *u = fmt(&h, "u_%s", tiers[i].id), *g = fmt(&h, "a_%s", tiers[i].id);
		person(&h, u, g, NULL);
		events(&h, u, g, "Project Created", 1, 0.1, 0, NULL);
		for (int k = 0; k < 4 && tiers[i].names[k]; k++)
			events(&h, u, g, tiers[i].names[k], 1, 1 + k * 0.1, 0, NULL);
	}
	events(&h, "u_t45", "a_t45", "Integration Connected", 1, 1.5, 0, NULL); /* 30 + 20 = 50 */
	/* the same 110 points, not activated: held at upgrade campaign */
	person(&h, "u_guard", "a_guard", NULL);
	const char *big[] = {"Payment Info Entered", "Limit Reached", "Premium Feature Attempted", "Integration Connected"};
	for (int k = 0; k < 4; k++)
		events(&h, "u_guard", "a_guard", big[k], 1, 1 + k * 0.1, 0, NULL);
	/* active people: five members active in the last 7 days, activated */
	for (int m = 0; m < 5; m++) {
		const char *u = fmt(&h, "u_team5_%s", (const char[][2]){"a", "b", "c", "d", "e"}[m]);
		person(&h, u, "a_team5", NULL);
		events(&h, u, "a_team5", "Project Created", 1, 55, 0, NULL);
	}
	for (int m = 0; m < 4; m++) {
		const char *u = fmt(&h, "u_team4_%s", (const char[][2]){"a", "b", "c", "d"}[m]);
		person(&h, u, "a_team4", NULL);
		events(&h, u, "a_team4", "Project Created", 1, 55, 0, NULL);
	}
	/* enterprise domain and procurement route without activation */
	person(&h, "u_ent", "a_ent", "{\"email\":\"Jo@BigCorp.com\"}");
	person(&h, "u_proc", "a_proc", NULL);
	events(&h, "u_proc", "a_proc", "Procurement Requested", 1, 5, 0, "{\"type\":\"msa\"}");
	/* 20 people of acme.io on free plans, activated; 20 at gmail.com */
	for (int m = 0; m < 20; m++) {
		char u[32], g[32], t[96];
		snprintf(u, sizeof u, "u_acme%d", m);
		snprintf(g, sizeof g, "a_acme%d", m);
		snprintf(t, sizeof t, "{\"email\":\"p%d@acme.io\"}", m);
		person(&h, fmt(&h, "%s", u), fmt(&h, "%s", g), fmt(&h, "%s", t));
		events(&h, fmt(&h, "%s", u), fmt(&h, "%s", g), "Project Created", 1, 1, 0, NULL);
		snprintf(u, sizeof u, "u_gm%d", m);
		snprintf(g, sizeof g, "a_gm%d", m);
		snprintf(t, sizeof t, "{\"email\":\"p%d@gmail.com\"}", m);
		person(&h, fmt(&h, "%s", u), fmt(&h, "%s", g), fmt(&h, "%s", t));
		events(&h, fmt(&h, "%s", u), fmt(&h, "%s", g), "Project Created", 1, 1, 0, NULL);
	}
	struct fw_scorer *sc = score(&f, &h);
	struct fw_arena a = {0};
	EXPECT(sc, &a, 1, "a_t45", "integration_connected=20,hit_plan_limit=30", 50, "upgrade_campaign");
	EXPECT(sc, &a, 1, "a_t70", "hit_plan_limit=30,payment_info_entered=40", 70, "inside_sales");
	EXPECT(sc, &a, 1, "a_t110",
	       "integration_connected=20,hit_plan_limit=30,premium_feature_attempted=20,payment_info_entered=40",
	       110, "account_executive");
	EXPECT(sc, &a, 1, "a_guard",
	       "integration_connected=20,hit_plan_limit=30,premium_feature_attempted=20,payment_info_entered=40",
	       110, "upgrade_campaign");
	EXPECT(sc, &a, 1, "a_team5", "", 0, "inside_sales");
	EXPECT(sc, &a, 1, "a_team4", "", 0, "nurture");
	EXPECT(sc, &a, 1, "a_ent", "", 0, "account_executive");
	EXPECT(sc, &a, 0, "u_ent", "", 0, "account_executive");
	EXPECT(sc, &a, 1, "a_proc", "", 0, "account_executive");
	EXPECT(sc, &a, 1, "a_acme7", "", 0, "inside_sales");
	EXPECT(sc, &a, 1, "a_gm7", "", 0, "nurture");
	const struct fw_json *u = unit(sc, &a, 1, "a_team5");
	char buf[128];
	const struct fw_json *trig = u ? fw_json_get_arr(u, "triggers") : NULL;
	CHECK(trig && trig->len == 1 && !strcmp(str(u, "cause", buf, sizeof buf),
						"score 0; trigger active_people -> inside_sales"));
	u = unit(sc, &a, 1, "a_guard");
	CHECK(strstr(str(u, "cause", buf, sizeof buf), "held at upgrade_campaign until activation"));
	fw_arena_release(&a);
	fw_scorer_free(sc);
	qt_close(&f);
}

/* Points halve every half-life of the newest event behind them. */
TEST(score_decay)
{
	struct qt f;
	setup(&f);
	f.cfg.scoring.half_life_days = 7;
	static struct hb h;
	memset(&h, 0, sizeof h);
	person(&h, "u_old", "a_old", NULL);
	events(&h, "u_old", "a_old", "Payment Info Entered", 1, 46, 0, NULL); /* 14 days before NOW */
	person(&h, "u_new", "a_new", NULL);
	events(&h, "u_new", "a_new", "Payment Info Entered", 1, 60, 0, NULL); /* at NOW */
	add(&h, FW_MSG_GROUP, NOW - 59 * DAY, "u_new", "", "a_new", "", "{\"employees\":100}");
	struct fw_scorer *sc = score(&f, &h);
	struct fw_arena a = {0};
	EXPECT(sc, &a, 1, "a_old", "payment_info_entered=10", 10, "nurture");
	/* traits do not decay */
	EXPECT(sc, &a, 1, "a_new", "payment_info_entered=40,icp_company_size=10", 50, "upgrade_campaign");
	fw_arena_release(&a);
	fw_scorer_free(sc);
	qt_close(&f);
}

/* At risk: paying accounts whose usage fell or stopped. Expansion: near the
 * plan's seat limit, or a limit reached this week. */
TEST(score_at_risk_and_expansion)
{
	struct qt f;
	setup(&f);
	struct fw_config *c = &f.cfg;
	c->nplans = 1;
	c->plans[0].name = strdup("free");
	c->plans[0].nlimits = 1;
	c->plans[0].limits[0].meter = strdup("seats");
	c->plans[0].limits[0].limit = 3;
	static struct hb h;
	memset(&h, 0, sizeof h);
	const char *paid = "{\"plan\":\"pro\",\"mrr\":50}";
	person(&h, "u_drop", "a_drop", NULL);
	add(&h, FW_MSG_GROUP, NOW - 50 * DAY, "u_drop", "", "a_drop", "", paid);
	events(&h, "u_drop", "a_drop", "Page Loaded", 30, 47, 0.2, NULL); /* 30 in the week before */
	events(&h, "u_drop", "a_drop", "Page Loaded", 5, 55, 0.5, NULL);  /* 5 this week */
	person(&h, "u_steady", "a_steady", NULL);
	add(&h, FW_MSG_GROUP, NOW - 50 * DAY, "u_steady", "", "a_steady", "", paid);
	events(&h, "u_steady", "a_steady", "Page Loaded", 30, 47, 0.2, NULL);
	events(&h, "u_steady", "a_steady", "Page Loaded", 25, 54, 0.2, NULL);
	person(&h, "u_quiet", "a_quiet", NULL);
	add(&h, FW_MSG_GROUP, NOW - 50 * DAY, "u_quiet", "", "a_quiet", "", paid);
	events(&h, "u_quiet", "a_quiet", "Page Loaded", 3, 30, 1, NULL); /* quiet for 27 days */
	person(&h, "u_freeq", "a_freeq", NULL); /* quiet but free: not at risk */
	for (int m = 0; m < 3; m++)
		person(&h, fmt(&h, "u_seat%s", (const char[][2]){"a", "b", "c"}[m]), "a_seats", NULL);
	person(&h, "u_lim", "a_lim", NULL);
	events(&h, "u_lim", "a_lim", "Limit Reached", 1, 58, 0, NULL);
	struct fw_scorer *sc = score(&f, &h);
	struct fw_arena a = {0};
	const char *keys[] = {"a_drop", "a_steady", "a_quiet", "a_freeq", "a_seats", "a_lim"};
	const int risk[] = {1, 0, 1, 0, 0, 0}, expand[] = {0, 0, 0, 0, 1, 1};
	for (size_t i = 0; i < FW_ARRAY_LEN(keys); i++) {
		const struct fw_json *u = unit(sc, &a, 1, keys[i]);
		const struct fw_json *r = u ? fw_json_get(u, "at_risk") : NULL,
				     *e = u ? fw_json_get(u, "expansion") : NULL;
		if (!r || !e || (r->type == FW_JSON_TRUE) != risk[i] || (e->type == FW_JSON_TRUE) != expand[i]) {
			fprintf(stderr, "  %s: at_risk/expansion wrong\n", keys[i]);
			fw_test_failures++;
		}
	}
	const struct fw_json *u = unit(sc, &a, 1, "a_drop");
	const struct fw_json *s = u ? fw_json_get_obj(u, "signals") : NULL;
	CHECK(num(s, "active_events_7d") == 5 && num(s, "active_events_prev_7d") == 30 && num(s, "mrr") == 50);
	u = unit(sc, &a, 1, "a_seats");
	s = u ? fw_json_get_obj(u, "signals") : NULL;
	CHECK(num(s, "members") == 3 && num(s, "seat_limit") == 3);
	fw_arena_release(&a);
	fw_scorer_free(sc);
	qt_close(&f);
}

/* ---- incremental == full ---- */

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int feed_rec(void *ctx, uint64_t seq, const struct fw_event *e)
{
	fw_scorer_feed(ctx, seq, e);
	return 0;
}

/* Every unit's state, as text, for comparing two scorers. */
static void states(struct fw_scorer *sc, struct fw_buf *out)
{
	for (int u = 0; u < 2; u++) {
		struct fw_lead_query q = {.unit = u, .route = -1, .limit = 100000};
		fw_scorer_leads_json(sc, &q, out);
	}
}

TEST(score_incremental_matches_full)
{
	struct qt f;
	setup(&f);
	f.cfg.scoring.half_life_days = 10;
	static struct hb h;
	memset(&h, 0, sizeof h);
	const char *names[] = {"Signed Up", "Project Created", "Invite Sent", "Integration Connected",
			       "Task Created", "Comment Added", "File Uploaded", "Limit Reached",
			       "Pricing Viewed", "Premium Feature Attempted", "Payment Info Entered",
			       "Page Loaded", "Procurement Requested", "Profile Completed", "Tour Finished"};
	/* 60 people in 15 accounts over 60 days, some anonymous first and
	 * identified later (a merge), with traits */
	for (int i = 0; i < 3600; i++) {
		int p = (int)(next() % 60), acct = p / 4;
		char user[16], anon[16], group[16];
		snprintf(user, sizeof user, "user%d", p);
		snprintf(anon, sizeof anon, "anon%d", p);
		snprintf(group, sizeof group, "acct%d", acct);
		int64_t t = NOW - 60 * DAY + (int64_t)(next() % (60 * DAY));
		int r = (int)(next() % 100);
		const char *uid = fmt(&h, "%s", user), *aid = fmt(&h, "%s", anon), *gid = fmt(&h, "%s", group);
		if (r < 3) {
			char tr[96];
			snprintf(tr, sizeof tr, "{\"email\":\"%s@%s.com\"}", user, p % 3 ? "acme" : "gmail");
			h.ev[h.n++] = qt_event(FW_MSG_IDENTIFY, NULL, t, uid, aid, "", "", "", fmt(&h, "%s", tr));
		} else if (r < 5) {
			char tr[96];
			snprintf(tr, sizeof tr, "{\"employees\":%d,\"plan\":\"pro\",\"mrr\":%d}", (int)(next() % 2000), (int)(next() % 3) * 20);
			h.ev[h.n++] = qt_event(FW_MSG_GROUP, NULL, t, uid, "", "", gid, "", fmt(&h, "%s", tr));
		} else {
			const char *name = names[next() % FW_ARRAY_LEN(names)];
			int anonymous = p % 5 == 0 && next() % 2;
			h.ev[h.n++] = qt_event(FW_MSG_TRACK, NULL, t, anonymous ? "" : uid, aid, name,
					       next() % 4 ? gid : "", "{\"name\":\"Pricing\"}", "");
		}
	}
	size_t half = h.n / 2;
	/* incremental: a snapshot of the first half, the rest fed */
	qt_store(&f, h.ev, half);
	qt_load(&f);
	struct fw_scorer *inc = fw_scorer_new(&f.cfg, f.m);
	struct fw_err err;
	CHECK(fw_scorer_rebase(inc, f.d, f.plg, NOW, &err) == 0);
	struct fw_dataset *first = f.d;
	struct fw_plg *first_plg = f.plg;
	f.d = NULL;
	f.plg = NULL;
	for (size_t i = half; i < h.n; i += 300) {
		size_t k = h.n - i < 300 ? h.n - i : 300;
		qt_store(&f, h.ev + i, k);
		struct fw_scan q = {.from_seq = fw_scorer_next_seq(inc)};
		CHECK(fw_store_scan(f.s, &q, feed_rec, inc, &err) == 0);
		fw_scorer_update(inc, NOW);
	}
	/* full: everything at once */
	qt_load(&f);
	struct fw_scorer *full = fw_scorer_new(&f.cfg, f.m);
	CHECK(fw_scorer_rebase(full, f.d, f.plg, NOW, &err) == 0);
	struct fw_buf a = {0}, b = {0};
	states(inc, &a);
	states(full, &b);
	fw_buf_addc(&a, 0);
	fw_buf_addc(&b, 0);
	if (strcmp(a.data, b.data)) {
		size_t i = 0;
		while (a.data[i] == b.data[i])
			i++;
		if (getenv("FW_DEBUG_SCORE")) {
			struct fw_buf x = {0}, y = {0};
			fw_scorer_unit_json(inc, 0, fw_str_c(getenv("FW_DEBUG_SCORE")), &x);
			fw_scorer_unit_json(full, 0, fw_str_c(getenv("FW_DEBUG_SCORE")), &y);
			fprintf(stderr, "INC %.*s\nFULL %.*s\n", (int)x.len, x.data, (int)y.len, y.data);
		}
		fprintf(stderr, "  incremental and full differ at %zu:\n  inc:  %.200s\n  full: %.200s\n",
			i, a.data + (i > 80 ? i - 80 : 0), b.data + (i > 80 ? i - 80 : 0));
		fw_test_failures++;
	}
	CHECK(strstr(b.data, "\"route\":\"inside_sales\"") || strstr(b.data, "\"route\":\"account_executive\""));
	fw_buf_release(&a);
	fw_buf_release(&b);
	fw_scorer_free(inc);
	fw_scorer_free(full);
	fw_dataset_free(first);
	fw_plg_free(first_plg);
	qt_close(&f);
}
