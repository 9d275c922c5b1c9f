/* test_funnel.c — the "funnel" query kind (src/query/funnel.c) on small stores
 * whose every number is worked out by hand in the comments, then against a
 * brute force (every path enumerated) on random data, then its bad requests.
 *
 * Requests are written with ' for " to keep them readable. Summaries compare
 * a whole funnel at once: counts "8 5 2"; dropped/pending per step
 * "0/0 3/0 3/0"; median/p90 seconds per step "- 7200/86400 3600/7200". */
#include "../test.h"
#include "qtest.h"
#include "flywheel/config.h"
#include "flywheel/dataset.h"
#include "flywheel/meta.h"
#include "flywheel/query.h"
#include "flywheel/store.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define at qt_at
/* An event at `ms`; JSON texts must outlive the store append. */
#define ev_ms(type, ms, user, anon, name, group, props) \
	qt_event(type, NULL, ms, user, anon, name, group, props, "")

#define T(when, user, name) ev_ms(FW_MSG_TRACK, at(when), user, "", name, "", "")
#define TP(when, user, name, props) ev_ms(FW_MSG_TRACK, at(when), user, "", name, "", props)
#define TG(when, user, name, group) ev_ms(FW_MSG_TRACK, at(when), user, "", name, group, "")

static void fx_open(struct qt *x, struct fw_event *e, size_t n)
{
	qt_open(x);
	qt_store(x, e, n);
	qt_load(x);
}

#define fx_close qt_close

/* Run a request (' stands for "); the answer's root, or NULL with *rc and err. */
static const struct fw_json *ask_rc(struct qt *x, const char *text, int *rc, struct fw_err *err)
{
	return qt_run(x, text, at("2026-06-01"), rc, err);
}

static const struct fw_json *ask(struct qt *x, const char *text)
{
	int rc;
	struct fw_err err;
	const struct fw_json *r = ask_rc(x, text, &rc, &err);
	if (rc) {
		fprintf(stderr, "  request failed (%d): %s\n  %s\n", rc, err.msg, text);
		fw_test_failures++;
	}
	return r;
}

/* Member i of an array. */
static const struct fw_json *nth(const struct fw_json *a, int i)
{
	if (!a || a->type != FW_JSON_ARRAY)
		return NULL;
	const struct fw_json *c = a->u.child;
	while (c && i--)
		c = c->next;
	return c;
}

static double num(const struct fw_json *o, const char *key)
{
	const struct fw_json *v = fw_json_get(o, key);
	return v && v->type == FW_JSON_NUMBER ? v->u.num : NAN;
}

static char sbuf[8][512];
static int sidx;

/* "8 5 2": count per step. */
static const char *counts(const struct fw_json *steps)
{
	char *b = sbuf[sidx++ % 8];
	size_t n = 0;
	b[0] = 0;
	for (const struct fw_json *s = steps ? steps->u.child : NULL; s; s = s->next)
		n += (size_t)snprintf(b + n, 512 - n, "%s%g", n ? " " : "", num(s, "count"));
	return b;
}

/* "0/0 3/0 3/0": dropped/pending per step. */
static const char *status(const struct fw_json *steps)
{
	char *b = sbuf[sidx++ % 8];
	size_t n = 0;
	b[0] = 0;
	for (const struct fw_json *s = steps ? steps->u.child : NULL; s; s = s->next)
		n += (size_t)snprintf(b + n, 512 - n, "%s%g/%g", n ? " " : "", num(s, "dropped"),
				      num(s, "pending"));
	return b;
}

/* "- 7200/86400 3600/7200": median/p90 seconds per step, "-" for null. */
static const char *times(const struct fw_json *steps)
{
	char *b = sbuf[sidx++ % 8];
	size_t n = 0;
	b[0] = 0;
	for (const struct fw_json *s = steps ? steps->u.child : NULL; s; s = s->next) {
		double m = num(s, "median_seconds"), p = num(s, "p90_seconds");
		if (isnan(m))
			n += (size_t)snprintf(b + n, 512 - n, "%s-", n ? " " : "");
		else
			n += (size_t)snprintf(b + n, 512 - n, "%s%.15g/%.15g", n ? " " : "", m, p);
	}
	return b;
}

/* "p2 p5 (5)": a page of people and the total. */
static const char *people(const struct fw_json *root)
{
	char *b = sbuf[sidx++ % 8];
	size_t n = 0;
	const struct fw_json *p = fw_json_get(root, "people");
	b[0] = 0;
	for (const struct fw_json *c = fw_json_get_arr(p, "items") ? fw_json_get_arr(p, "items")->u.child : NULL; c; c = c->next)
		n += (size_t)snprintf(b + n, 512 - n, "%.*s ", (int)c->u.str.len, c->u.str.p);
	snprintf(b + n, 512 - n, "(%g)", num(p, "total"));
	return b;
}

static void near(double got, double want, const char *what)
{
	if (!(fabs(got - want) <= 1e-12 * fmax(1, fabs(want)))) {
		fprintf(stderr, "  %s: got %.17g, want %.17g\n", what, got, want);
		fw_test_failures++;
	}
}

/* ---- ordered: counts, conversions, times, window, ties, merge, status ---- */

/* Steps Signed Up -> Project Created -> Invite Sent, window 1 day.
 *   p1  SU 10:00, PC 11:00, IS 13:00                      reach 3; 3600 s, 7200 s
 *   p2  SU 10:00, PC exactly 24 h later                    reach 2; 86400 s
 *   p3  SU 10:00, PC 24 h + 1 ms later                     reach 1
 *   p4  SU 10:00, PC 10:00 (same ms), IS 12:00              reach 1 (not strictly later)
 *   p5  anonymous SU 09:00 and PC 09:30, identify joins anon5 to p5 at 10:00,
 *       IS 10:30 as p5                                      reach 3; 1800 s, 3600 s
 *   p6  PC 08:00, then SU 09:00                             reach 1
 *   p7  PC only                                             not counted
 *   p8  SU 03-01 10:00 (reaches 1: PC is 50 h later), SU 03-03 00:00, PC 03-03 12:00
 *       -> the second SU gets further                       reach 2; 43200 s
 *   p9  SU 03-04 10:00, SU 11:00, PC 12:00: both reach 2, the earliest wins
 *                                                           reach 2; 7200 s (not 3600)
 * counts 8 (p1-6, p8, p9), 5 (p1 p2 p5 p8 p9), 2 (p1 p5)
 * step 2 times 1800 3600 7200 43200 86400: median rank ceil(2.5) = 3 -> 7200,
 *   p90 rank ceil(4.5) = 5 -> 86400;  step 3: 3600 7200 -> rank 1 = 3600, rank 2 = 7200
 * conversion 5/8, 2/5; overall 1, 5/8, 2/8.
 * channel of the chosen SU: organic p1 p3 p6 p8 (the 03-03 SU), paid p2 p5 p9 (the 10:00
 * SU), none p4. */
static void fixture_a(struct qt *x)
{
	struct fw_event e[] = {
		TP("2026-03-02T10:00:00Z", "p1", "Signed Up", "{\"channel\":\"organic\"}"),
		T("2026-03-02T11:00:00Z", "p1", "Project Created"),
		T("2026-03-02T13:00:00Z", "p1", "Invite Sent"),
		TP("2026-03-02T10:00:00Z", "p2", "Signed Up", "{\"channel\":\"paid\"}"),
		T("2026-03-03T10:00:00Z", "p2", "Project Created"),
		TP("2026-03-02T10:00:00Z", "p3", "Signed Up", "{\"channel\":\"organic\"}"),
		T("2026-03-03T10:00:00.001Z", "p3", "Project Created"),
		T("2026-03-02T10:00:00Z", "p4", "Signed Up"),
		T("2026-03-02T10:00:00Z", "p4", "Project Created"),
		T("2026-03-02T12:00:00Z", "p4", "Invite Sent"),
		ev_ms(FW_MSG_TRACK, at("2026-03-02T09:00:00Z"), "", "anon5", "Signed Up", "", "{\"channel\":\"paid\"}"),
		ev_ms(FW_MSG_TRACK, at("2026-03-02T09:30:00Z"), "", "anon5", "Project Created", "", ""),
		ev_ms(FW_MSG_IDENTIFY, at("2026-03-02T10:00:00Z"), "p5", "anon5", "", "", ""),
		T("2026-03-02T10:30:00Z", "p5", "Invite Sent"),
		T("2026-03-02T08:00:00Z", "p6", "Project Created"),
		TP("2026-03-02T09:00:00Z", "p6", "Signed Up", "{\"channel\":\"organic\"}"),
		T("2026-03-02T08:00:00Z", "p7", "Project Created"),
		TP("2026-03-01T10:00:00Z", "p8", "Signed Up", "{\"channel\":\"paid\"}"),
		TP("2026-03-03T00:00:00Z", "p8", "Signed Up", "{\"channel\":\"organic\"}"),
		T("2026-03-03T12:00:00Z", "p8", "Project Created"),
		TP("2026-03-04T10:00:00Z", "p9", "Signed Up", "{\"channel\":\"paid\"}"),
		TP("2026-03-04T11:00:00Z", "p9", "Signed Up", "{\"channel\":\"organic\"}"),
		T("2026-03-04T12:00:00Z", "p9", "Project Created"),
	};
	fx_open(x, e, FW_ARRAY_LEN(e));
}

#define STEPS_A "'steps':['Signed Up','Project Created',{'event':'Invite Sent'}]"

TEST(funnel_ordered_hand_computed)
{
	struct qt x;
	fixture_a(&x);
	const struct fw_json *r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'as_of':'2026-03-10'}");
	const struct fw_json *s = fw_json_get(r, "steps");
	CHECK_EQ_STR(counts(s), "8 5 2");
	/* all windows closed on 03-10: dropped at 2: p3 p4 p6; at 3: p2 p8 p9 */
	CHECK_EQ_STR(status(s), "0/0 3/0 3/0");
	CHECK_EQ_STR(times(s), "- 7200/86400 3600/7200");
	CHECK(isnan(num(nth(s, 0), "conversion")));
	near(num(nth(s, 0), "overall"), 1, "overall 1");
	near(num(nth(s, 1), "conversion"), 5.0 / 8, "conversion 2");
	near(num(nth(s, 2), "conversion"), 2.0 / 5, "conversion 3");
	near(num(nth(s, 2), "overall"), 2.0 / 8, "overall 3");
	near(num(r, "window_seconds"), 86400, "window_seconds");
	CHECK(strstr(x.out.data, "{\"kind\":\"funnel\",\"unit\":\"person\",\"mode\":\"ordered\"") != NULL);
	CHECK(strstr(x.out.data, "\"step\":2,\"event\":\"Project Created\",\"count\":5,") != NULL);
	CHECK(fw_json_get(r, "breakdown") == NULL && fw_json_get(r, "people") == NULL);

	/* from/to bound the first step only: [03-02, 03-04) drops p9 (03-04 10:00); p8's
	 * 03-01 SU is out, its 03-03 one in -> 7 5-1=4 2; times 1800 3600 43200 86400 */
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'from':'2026-03-02','to':'2026-03-04','as_of':'2026-03-10'}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "7 4 2");
	CHECK_EQ_STR(times(fw_json_get(r, "steps")), "- 3600/86400 3600/7200");
	/* only [03-01, 03-02): p8's first SU, which reaches 1 */
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'from':'2026-03-01','to':'2026-03-02','as_of':'2026-03-10'}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "1 0 0");
	/* a 2-day window: p3 converts (24 h + 1 ms), p8's first SU reaches PC at 50 h? no (> 48 h),
	 * p1's and p5's IS already counted -> 8 6 2 */
	r = ask(&x, "{'kind':'funnel'," STEPS_A ",'window':2,'as_of':'2026-03-10'}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "8 6 2");
	fx_close(&x);
}

TEST(funnel_dropped_vs_pending)
{
	struct qt x;
	fixture_a(&x);
	/* as_of 03-03 09:00: windows (chosen SU + 24 h) still open: p2 p3 p4 (to 03-03 10:00),
	 * p8 (to 03-04 00:00), p9 (to 03-05 10:00), and p6 exactly at its end (09:00) -> pending.
	 * step 2: pending p3 p4 p6; step 3: pending p2 p8 p9 */
	const struct fw_json *r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'as_of':'2026-03-03T09:00:00Z'}");
	CHECK_EQ_STR(status(fw_json_get(r, "steps")), "0/0 0/3 0/3");
	CHECK(strstr(x.out.data, "\"as_of\":\"2026-03-03T09:00:00.000Z\"") != NULL);
	/* 1 ms later p6's window has closed */
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'as_of':'2026-03-03T09:00:00.001Z'}");
	CHECK_EQ_STR(status(fw_json_get(r, "steps")), "0/0 1/2 0/3");
	/* without as_of, "now" (2026-06-01 in these tests) closes every window */
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A "}");
	CHECK_EQ_STR(status(fw_json_get(r, "steps")), "0/0 3/0 3/0");
	fx_close(&x);
}

TEST(funnel_breakdown_and_people)
{
	struct qt x;
	fixture_a(&x);
	/* organic p1 p3 p6 p8: 4, step 2 p1 p8 (3600, 43200), step 3 p1 (7200);
	 * paid p2 p5 p9: 3, step 2 all (86400 1800 7200 -> rank 2 7200, rank 3 86400), step 3 p5
	 * (3600); none: p4 -> 1 0 0. Rows by units entering: organic, paid, then null. */
	const struct fw_json *r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'breakdown':'channel','as_of':'2026-03-10'}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "8 5 2");
	const struct fw_json *b = fw_json_get(r, "breakdown");
	CHECK(b && b->len == 3);
	CHECK(fw_str_eq(fw_json_get_str(nth(b, 0), "value"), "organic"));
	CHECK(strstr(x.out.data, "{\"value\":\"organic\",\"entered\":4,\"converted\":1,\"overall\":0.25,\"steps\":[") != NULL);
	CHECK(strstr(x.out.data, "{\"value\":null,\"entered\":1,\"converted\":0,\"overall\":0,") != NULL);
	CHECK_EQ_STR(counts(fw_json_get(nth(b, 0), "steps")), "4 2 1");
	CHECK_EQ_STR(times(fw_json_get(nth(b, 0), "steps")), "- 3600/43200 7200/7200");
	CHECK_EQ_STR(status(fw_json_get(nth(b, 0), "steps")), "0/0 2/0 1/0");
	CHECK(fw_str_eq(fw_json_get_str(nth(b, 1), "value"), "paid"));
	CHECK_EQ_STR(counts(fw_json_get(nth(b, 1), "steps")), "3 3 1");
	CHECK_EQ_STR(times(fw_json_get(nth(b, 1), "steps")), "- 7200/86400 3600/3600");
	CHECK(fw_json_get(nth(b, 2), "value")->type == FW_JSON_NULL);
	CHECK_EQ_STR(counts(fw_json_get(nth(b, 2), "steps")), "1 0 0");
	near(num(r, "breakdown_values"), 3, "breakdown_values");
	/* breakdown_limit keeps the top rows; the totals still cover everyone */
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'breakdown':'channel','breakdown_limit':1}");
	CHECK(fw_json_get(r, "breakdown")->len == 1);
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "8 5 2");

	/* people: converted at step 2 = p1 p2 p5 p8 p9, sorted by key, paged */
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'people':{'step':2}}");
	CHECK_EQ_STR(people(r), "p1 p2 p5 p8 p9 (5)");
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'people':{'step':2,'offset':1,'limit':2}}");
	CHECK_EQ_STR(people(r), "p2 p5 (5)");
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'people':{'step':2,'offset':9}}");
	CHECK_EQ_STR(people(r), "(5)");
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'people':{'step':2,'status':'dropped'}}");
	CHECK_EQ_STR(people(r), "p3 p4 p6 (3)");
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'as_of':'2026-03-03T09:00:00.001Z','people':{'step':2,'status':'pending'}}");
	CHECK_EQ_STR(people(r), "p3 p4 (2)");
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'people':{'step':1,'status':'dropped'}}");
	CHECK_EQ_STR(people(r), "(0)");
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'people':{'step':3}}");
	CHECK_EQ_STR(people(r), "p1 p5 (2)");
	/* people of one breakdown row: organic entering = p1 p3 p6 p8; absent channel = p4 */
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'breakdown':'channel','people':{'step':1,'breakdown':'organic'}}");
	CHECK_EQ_STR(people(r), "p1 p3 p6 p8 (4)");
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'breakdown':'channel','people':{'step':1,'breakdown':null}}");
	CHECK_EQ_STR(people(r), "p4 (1)");
	r = ask(&x, "{'kind':'funnel','window':'1d'," STEPS_A ",'breakdown':'channel','people':{'step':1,'breakdown':'tv'}}");
	CHECK_EQ_STR(people(r), "(0)");
	fx_close(&x);
}

/* ---- modes ---- */

/* Steps A -> B -> C, window 1 day, minutes after 10:00 on 03-02:
 *   q1  A0 B1 C2         ordered 3    strict 3 (1, 1)    any 3 (B 1, C 2)
 *   q2  A0 X1 B2 C3      ordered 3    strict 1 (X)       any 3 (B 2, C 3)
 *   q3  A0 C1 B2         ordered 2    strict 1           any 3 (B 2, C 1)
 *   q4  A0 B1 A2 B3 C4   ordered 3 from A0 (B1, C4: 1, 3);  strict: A0 B1 then A -> 2,
 *                        A2 B3 C4 -> 3, chosen A2 (1, 1);  any 3 from A0 (B 1, C 4)
 *   q5  B0 A1 C2         1 in all modes (B before A does not count)
 *   q6  A0 C1            1 in all modes (any_order: C without B is still step 1)
 * ordered 6 4 3; step 2 times 1 2 2 1 min -> sorted 60 60 120 120: rank 2 = 60, rank 4 = 120;
 *   step 3: q1 60, q2 60, q4 180 -> rank 2 = 60, rank 3 = 180
 * strict 6 2 2; step 2: q1 60, q4 60; step 3 the same
 * any_order 6 4 4, times from A: B 60 120 120 60 -> 60/120; C 120 180 60 240 -> sorted
 *   60 120 180 240: rank 2 = 120, rank 4 = 240 */
static void fixture_modes(struct qt *x)
{
	static const char *const paths[][6] = {
		{"q1", "A0", "B1", "C2"},         {"q2", "A0", "X1", "B2", "C3"},
		{"q3", "A0", "C1", "B2"},         {"q4", "A0", "B1", "A2", "B3", "C4"},
		{"q5", "B0", "A1", "C2"},         {"q6", "A0", "C1"},
	};
	static char names[64][2];
	struct fw_event e[64];
	size_t n = 0;
	for (size_t p = 0; p < FW_ARRAY_LEN(paths); p++)
		for (int i = 1; i < 6 && paths[p][i]; i++) {
			names[n][0] = paths[p][i][0];
			names[n][1] = 0;
			e[n] = ev_ms(FW_MSG_TRACK, at("2026-03-02T10:00:00Z") + (paths[p][i][1] - '0') * 60000,
				     paths[p][0], "", names[n], "", "");
			n++;
		}
	fx_open(x, e, n);
}

TEST(funnel_modes)
{
	struct qt x;
	fixture_modes(&x);
	const char *req = "{'kind':'funnel','steps':['A','B','C'],'window':'1d','as_of':'2026-03-10','mode':'%s'}";
	char buf[256];
	snprintf(buf, sizeof buf, req, "ordered");
	const struct fw_json *r = ask(&x, buf);
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "6 4 3");
	CHECK_EQ_STR(times(fw_json_get(r, "steps")), "- 60/120 60/180");
	CHECK_EQ_STR(status(fw_json_get(r, "steps")), "0/0 2/0 1/0");
	snprintf(buf, sizeof buf, req, "strict");
	r = ask(&x, buf);
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "6 2 2");
	CHECK_EQ_STR(times(fw_json_get(r, "steps")), "- 60/60 60/60");
	CHECK(strstr(x.out.data, "\"mode\":\"strict\"") != NULL);
	snprintf(buf, sizeof buf, req, "any_order");
	r = ask(&x, buf);
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "6 4 4");
	CHECK_EQ_STR(times(fw_json_get(r, "steps")), "- 60/120 120/240");
	/* a 2-minute window: ordered q1 (C at 2) 3; q2 B2 2; q3 B2 2; q4 A0 B1 (C4 too late)
	 * but A2 B3 C4 fits -> 3 from A2 (1, 1) -> 6 4 2.  any_order: q1 3, q2 B2 but C3 out -> 2,
	 * q3 3 (C1 B2), q4 3 (A0: B1, C4 out; A2: B3 C4) -> 6 4 3 */
	snprintf(buf, sizeof buf, "{'kind':'funnel','steps':['A','B','C'],'window':'2m','as_of':'2026-03-10'}");
	r = ask(&x, buf);
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "6 4 2");
	CHECK_EQ_STR(times(fw_json_get(r, "steps")), "- 60/120 60/60");
	snprintf(buf, sizeof buf, "{'kind':'funnel','steps':['A','B','C'],'window':'2m','mode':'any_order'}");
	r = ask(&x, buf);
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "6 4 3");
	fx_close(&x);
}

/* Steps A -> B (within 10 min) -> C (within 10 min), window 1 day; times after 10:00:
 *   r1  A 0, B 5 m, B 9 m, C 18 m   B at 5 m cannot reach C (13 m); B at 9 m can (9 m)
 *                                    -> reach 3, path A B9 C18: 540 s, 540 s
 *   r2  A 0, B 11 m                  -> 1
 *   r3  A 0, B 10 m exactly, C 20 m + 1 ms   -> 2 (600 s)
 *   r4  A 0, A 30 m, B 35 m, C 40 m  first A: B too late; second A -> 3 (300 s, 300 s)
 *   r5  A 0, B 0, C 5 m              B not after A -> 1
 * counts 5 3 2; step 2: 540 600 300 -> sorted 300 540 600: rank 2 = 540, rank 3 = 600;
 * step 3: 540 300 -> 300/540.
 * Without `within`: r1 greedy B5 C18 (300, 780), r2 2 (660), r3 3 (600, 600.001),
 * r4 from the first A: B 35 m, C 40 m (2100, 300), r5 1 -> 5 4 3;
 * step 2 300 660 600 2100 -> sorted 300 600 660 2100: rank 2 = 600, rank 4 = 2100;
 * step 3 780 600.001 300 -> sorted 300 600.001 780: rank 2 = 600.001, rank 3 = 780. */
TEST(funnel_per_step_windows)
{
	int64_t t0 = at("2026-03-02T10:00:00Z"), m = 60000;
	struct fw_event e[] = {
		ev_ms(FW_MSG_TRACK, t0, "r1", "", "A", "", ""),
		ev_ms(FW_MSG_TRACK, t0 + 5 * m, "r1", "", "B", "", ""),
		ev_ms(FW_MSG_TRACK, t0 + 9 * m, "r1", "", "B", "", ""),
		ev_ms(FW_MSG_TRACK, t0 + 18 * m, "r1", "", "C", "", ""),
		ev_ms(FW_MSG_TRACK, t0, "r2", "", "A", "", ""),
		ev_ms(FW_MSG_TRACK, t0 + 11 * m, "r2", "", "B", "", ""),
		ev_ms(FW_MSG_TRACK, t0, "r3", "", "A", "", ""),
		ev_ms(FW_MSG_TRACK, t0 + 10 * m, "r3", "", "B", "", ""),
		ev_ms(FW_MSG_TRACK, t0 + 20 * m + 1, "r3", "", "C", "", ""),
		ev_ms(FW_MSG_TRACK, t0, "r4", "", "A", "", ""),
		ev_ms(FW_MSG_TRACK, t0 + 30 * m, "r4", "", "A", "", ""),
		ev_ms(FW_MSG_TRACK, t0 + 35 * m, "r4", "", "B", "", ""),
		ev_ms(FW_MSG_TRACK, t0 + 40 * m, "r4", "", "C", "", ""),
		ev_ms(FW_MSG_TRACK, t0, "r5", "", "A", "", ""),
		ev_ms(FW_MSG_TRACK, t0, "r5", "", "B", "", ""),
		ev_ms(FW_MSG_TRACK, t0 + 5 * m, "r5", "", "C", "", ""),
	};
	struct qt x;
	fx_open(&x, e, FW_ARRAY_LEN(e));
	const struct fw_json *r = ask(&x, "{'kind':'funnel','steps':['A',{'event':'B','within':'10m'},{'event':'C','within':'10m'}],'window':'1d'}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "5 3 2");
	CHECK_EQ_STR(times(fw_json_get(r, "steps")), "- 540/600 300/540");
	r = ask(&x, "{'kind':'funnel','steps':['A','B','C'],'window':'1d'}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "5 4 3");
	CHECK_EQ_STR(times(fw_json_get(r, "steps")), "- 600/2100 600.001/780");
	/* strict with within: r1 A B5 then B -> 2; r2 1; r3 A B10 C -> C too late -> 2;
	 * r4 A30 B35 C40 -> 3; r5 1 -> 5 3 1 */
	r = ask(&x, "{'kind':'funnel','mode':'strict','steps':['A',{'event':'B','within':'10m'},{'event':'C','within':'10m'}],'window':'1d'}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "5 3 1");
	fx_close(&x);
}

/* Steps A -> B -> C, window 1 day, minutes after 10:00:
 *   x1  A0 X1 B2 C3          X between A and C
 *   x2  A0 B1 C2 X3          X after C
 *   x3  A0 X0 B1 C2          X at the same ms as A: not strictly between
 *   x4  A0 B1 X2 C2          X at the same ms as C: not strictly between
 *   x5  A0 X1 B2             no C: the path never matched step 3
 *   x6  A0 X{reason ok}1 B2 C3
 *   x7  A0 B1 X1 C2          X at the same ms as B
 * Exclusion X (reason != ok) between steps 1 and 3: x1 and x7 -> reach 2, dropped at 3;
 *   x6 passes -> 7 7 4, dropped at 3: x1 x7 (excluded) and x5 (window closed).
 * Exclusion X (any) between steps 1 and 2: x1 (X1 < B2), x5, x6 -> reach 1; x7's X is
 *   at B's ms; x2 x3 x4 unaffected -> 7 4 4, dropped at 2: x1 x5 x6.
 * Exclusion X between steps 2 and 3: only an X strictly after B and before C: none (x7's
 *   is at B's ms, x4's at C's) -> 7 7 6 (x5 stops at 2). */
TEST(funnel_exclusions)
{
	static const char *const paths[][6] = {
		{"x1", "A0", "X1", "B2", "C3"}, {"x2", "A0", "B1", "C2", "X3"},
		{"x3", "A0", "X0", "B1", "C2"}, {"x4", "A0", "B1", "X2", "C2"},
		{"x5", "A0", "X1", "B2"},       {"x6", "A0", "Y1", "B2", "C3"},
		{"x7", "A0", "B1", "X1", "C2"},
	};
	static char names[64][2];
	struct fw_event e[64];
	size_t n = 0;
	for (size_t p = 0; p < FW_ARRAY_LEN(paths); p++)
		for (int i = 1; i < 6 && paths[p][i]; i++) {
			int ok = paths[p][i][0] == 'Y';
			names[n][0] = ok ? 'X' : paths[p][i][0];
			names[n][1] = 0;
			e[n] = ev_ms(FW_MSG_TRACK, at("2026-03-02T10:00:00Z") + (paths[p][i][1] - '0') * 60000,
				     paths[p][0], "", names[n], "", ok ? "{\"reason\":\"ok\"}" : "");
			n++;
		}
	/* the store keeps log order for equal times: x4's X2 comes before C2 */
	struct qt x;
	fx_open(&x, e, n);
	const struct fw_json *r = ask(&x, "{'kind':'funnel','steps':['A','B','C'],'window':'1d',"
				     "'exclusions':[{'event':'X','after_step':1,'before_step':3,"
				     "'where':[{'property':'reason','op':'neq','value':'ok'}]}]}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "7 7 4");
	CHECK_EQ_STR(status(fw_json_get(r, "steps")), "0/0 0/0 3/0");
	/* excluded units are dropped even while their window is open */
	r = ask(&x, "{'kind':'funnel','steps':['A','B','C'],'window':'1d','as_of':'2026-03-02T12:00:00Z',"
		    "'exclusions':[{'event':'X','before_step':3,"
		    "'where':[{'property':'reason','op':'neq','value':'ok'}]}]}");
	CHECK_EQ_STR(status(fw_json_get(r, "steps")), "0/0 0/0 2/1");
	r = ask(&x, "{'kind':'funnel','steps':['A','B','C'],'window':'1d',"
		    "'exclusions':[{'event':'X','after_step':1,'before_step':2}]}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "7 4 4");
	CHECK_EQ_STR(status(fw_json_get(r, "steps")), "0/0 3/0 0/0");
	r = ask(&x, "{'kind':'funnel','steps':['A','B','C'],'window':'1d','people':{'step':2,'status':'dropped'},"
		    "'exclusions':[{'event':'X','after_step':1,'before_step':2}]}");
	CHECK_EQ_STR(people(r), "x1 x5 x6 (3)");
	r = ask(&x, "{'kind':'funnel','steps':['A','B','C'],'window':'1d',"
		    "'exclusions':[{'event':'X','after_step':2,'before_step':3}]}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "7 7 6");
	/* strict: x2 A B C -> 3; x4 (A B X) and x7 (A B X) stop at 2 before any C, so the
	 * exclusion has nothing to cut; x1 x3 x5 x6 have X right after A -> 7 3 1 */
	r = ask(&x, "{'kind':'funnel','mode':'strict','steps':['A','B','C'],'window':'1d',"
		    "'exclusions':[{'event':'X','after_step':1,'before_step':3}]}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "7 3 1");
	fx_close(&x);
}

/* Accounts: a1's sign-up (u1) and project (u2) are by two members -> a1 reaches 2;
 * u3 signs up in a2 but creates the project without a group -> a2 reaches 1; u4 names no
 * account. Per person: u1 1, u2 not counted (no SU), u3 2, u4 2 -> 3 2. */
TEST(funnel_accounts)
{
	struct fw_event e[] = {
		TG("2026-03-02T10:00:00Z", "u1", "Signed Up", "a1"),
		TG("2026-03-02T11:00:00Z", "u2", "Project Created", "a1"),
		TG("2026-03-02T10:00:00Z", "u3", "Signed Up", "a2"),
		T("2026-03-02T11:00:00Z", "u3", "Project Created"),
		T("2026-03-02T10:00:00Z", "u4", "Signed Up"),
		T("2026-03-02T10:30:00Z", "u4", "Project Created"),
	};
	struct qt x;
	fx_open(&x, e, FW_ARRAY_LEN(e));
	const struct fw_json *r = ask(&x, "{'kind':'funnel','steps':['Signed Up','Project Created'],'unit':'account','people':{'step':2}}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "2 1");
	CHECK_EQ_STR(times(fw_json_get(r, "steps")), "- 3600/3600");
	CHECK_EQ_STR(people(r), "a1 (1)");
	CHECK(strstr(x.out.data, "\"unit\":\"account\"") != NULL);
	r = ask(&x, "{'kind':'funnel','steps':['Signed Up','Project Created'],'people':{'step':2}}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "3 2");
	CHECK_EQ_STR(times(fw_json_get(r, "steps")), "- 1800/3600");
	CHECK_EQ_STR(people(r), "u3 u4 (2)");
	fx_close(&x);
}

/* Step filters and repeated events: "Page" where path=/pricing, then "Page" (any), then
 * "Buy". v1: /home 0, /pricing 1, /home 2, Buy 3 -> 3 (60, 60); v2: /pricing 0, Buy 1 ->
 * 1 (a second Page is needed); v3: /home 0, /home 1, Buy 2 -> not counted; v4: /pricing 0,
 * /pricing 0 (same ms), Buy 1 -> 1 (the second page is not strictly later) -> 3 1 1 */
TEST(funnel_filters_and_repeated_steps)
{
	int64_t t0 = at("2026-03-02T10:00:00Z"), m = 60000;
	const char *home = "{\"path\":\"/home\"}", *pricing = "{\"path\":\"/pricing\"}";
	struct fw_event e[] = {
		ev_ms(FW_MSG_TRACK, t0, "v1", "", "Page", "", home),
		ev_ms(FW_MSG_TRACK, t0 + m, "v1", "", "Page", "", pricing),
		ev_ms(FW_MSG_TRACK, t0 + 2 * m, "v1", "", "Page", "", home),
		ev_ms(FW_MSG_TRACK, t0 + 3 * m, "v1", "", "Buy", "", ""),
		ev_ms(FW_MSG_TRACK, t0, "v2", "", "Page", "", pricing),
		ev_ms(FW_MSG_TRACK, t0 + m, "v2", "", "Buy", "", ""),
		ev_ms(FW_MSG_TRACK, t0, "v3", "", "Page", "", home),
		ev_ms(FW_MSG_TRACK, t0 + m, "v3", "", "Page", "", home),
		ev_ms(FW_MSG_TRACK, t0 + 2 * m, "v3", "", "Buy", "", ""),
		ev_ms(FW_MSG_TRACK, t0, "v4", "", "Page", "", pricing),
		ev_ms(FW_MSG_TRACK, t0, "v4", "", "Page", "", pricing),
		ev_ms(FW_MSG_TRACK, t0 + m, "v4", "", "Buy", "", ""),
	};
	struct qt x;
	fx_open(&x, e, FW_ARRAY_LEN(e));
	const struct fw_json *r = ask(&x, "{'kind':'funnel','steps':[{'event':'Page','where':[{'property':'path','value':'/pricing'}]},'Page','Buy']}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "3 1 1");
	CHECK_EQ_STR(times(fw_json_get(r, "steps")), "- 60/60 60/60");
	/* strict: v1 /pricing then /home then Buy -> 3 */
	r = ask(&x, "{'kind':'funnel','mode':'strict','steps':[{'event':'Page','where':[{'property':'path','value':'/pricing'}]},'Page','Buy']}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "3 1 1");
	/* a step whose event never happened: everyone stops before it */
	r = ask(&x, "{'kind':'funnel','steps':['Page','Nobody Does This','Buy']}");
	CHECK_EQ_STR(counts(fw_json_get(r, "steps")), "4 0 0");
	fx_close(&x);
}

/* ---- a brute force on random data ---- */

#define RP 30000 /* people, at most */
#define RN 15    /* events per person, at most */

struct rev {
	int64_t t;
	int name; /* 0 A, 1 B, 2 C, 3 X */
	int v;    /* property v: 0 or 1 */
};

struct rfun {
	int mode, k, step[4], filt[4], nexcl, ex_a, ex_b, ex_filt;
	int64_t within[4], window, from, to, as_of;
};

static struct rev rdata[RP][RN];
static int rlen[RP], rpeople;

static int rmatch(const struct rfun *f, const struct rev *e, int j)
{
	return e->name == f->step[j] && (!f->filt[j] || e->v == 1);
}

/* Depth-first over paths in (time, log) order from p[j-1] = unit event at pos[j-1];
 * the first path reaching `goal` in this order is the lexicographically earliest.
 * Returns the furthest reach found (stops at goal). */
static int rdfs(const struct rfun *f, const struct rev *u, int n, int *pos, int j, int goal)
{
	if (j == goal)
		return j;
	int best = j;
	int64_t t1 = u[pos[0]].t, tp = u[pos[j - 1]].t;
	for (int i = pos[j - 1] + 1; i < n; i++) {
		const struct rev *e = &u[i];
		if (f->mode == 1 && i > pos[j - 1] + 1)
			break; /* strict: only the very next event */
		if (!rmatch(f, e, j) || e->t <= tp || e->t - t1 > f->window ||
		    (f->within[j] >= 0 && e->t - tp > f->within[j]))
			continue;
		pos[j] = i;
		int r = rdfs(f, u, n, pos, j + 1, goal);
		if (r > best)
			best = r;
		if (best == goal)
			return best;
	}
	return best;
}

/* One unit: reach, status and times (into t[]) as the definitions say. */
static int rbrute(const struct rfun *f, const struct rev *u, int n, int64_t *times, int *st)
{
	int reach = 0, s1 = -1, pos[4];
	for (int s = 0; s < n; s++) {
		if (!rmatch(f, &u[s], 0) || u[s].t < f->from || u[s].t >= f->to)
			continue;
		int r = 1;
		if (f->mode == 2) {
			for (int j = 1; j < f->k; j++) {
				int found = 0;
				for (int i = 0; i < n; i++)
					found |= rmatch(f, &u[i], j) && u[i].t > u[s].t && u[i].t - u[s].t <= f->window;
				if (!found)
					break;
				r++;
			}
		} else {
			pos[0] = s;
			r = rdfs(f, u, n, pos, 1, f->k);
		}
		if (r > reach) {
			reach = r;
			s1 = s;
		}
	}
	if (!reach)
		return 0;
	int64_t pt[4];
	pt[0] = u[s1].t;
	if (f->mode == 2) {
		for (int j = 1; j < reach; j++) {
			pt[j] = INT64_MAX;
			for (int i = 0; i < n; i++)
				if (rmatch(f, &u[i], j) && u[i].t > pt[0] && u[i].t - pt[0] <= f->window && u[i].t < pt[j])
					pt[j] = u[i].t;
		}
	} else {
		pos[0] = s1;
		rdfs(f, u, n, pos, 1, reach);
		for (int j = 1; j < reach; j++)
			pt[j] = u[pos[j]].t;
	}
	int excluded = 0;
	if (f->nexcl && f->ex_b < reach)
		for (int i = 0; i < n; i++)
			if (u[i].name == 3 && (!f->ex_filt || u[i].v == 1) && u[i].t > pt[f->ex_a] &&
			    u[i].t < pt[f->ex_b]) {
				reach = f->ex_b;
				excluded = 1;
			}
	for (int j = 1; j < reach; j++)
		times[j] = pt[j] - pt[f->mode == 2 ? 0 : j - 1];
	*st = reach == f->k ? 0 : (!excluded && f->as_of - pt[0] <= f->window) ? 2 : 1;
	return reach;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The expected summaries of a random funnel. */
static void rexpect(const struct rfun *f, char *cnt, char *sts, char *tms)
{
	int count[5] = {0}, drop[5] = {0}, pend[5] = {0};
	static int64_t tl[4][RP];
	int nt[4] = {0};
	for (int p = 0; p < rpeople; p++) {
		int64_t t[4];
		int st = 0, r = rbrute(f, rdata[p], rlen[p], t, &st);
		for (int j = 0; j < r; j++)
			count[j]++;
		for (int j = 1; j < r; j++)
			tl[j][nt[j]++] = t[j];
		if (r && r < f->k)
			(st == 1 ? drop : pend)[r]++;
	}
	size_t a = 0, b = 0, c = 0;
	for (int j = 0; j < f->k; j++) {
		a += (size_t)sprintf(cnt + a, "%s%d", j ? " " : "", count[j]);
		b += (size_t)sprintf(sts + b, "%s%d/%d", j ? " " : "", drop[j], pend[j]);
		if (!j || !nt[j]) {
			c += (size_t)sprintf(tms + c, "%s-", j ? " " : "");
			continue;
		}
		qsort(tl[j], (size_t)nt[j], sizeof tl[j][0], cmp_i64);
		size_t n = (size_t)nt[j];
		c += (size_t)sprintf(tms + c, " %.15g/%.15g", tl[j][(n + 1) / 2 - 1] / 1000.0,
				     tl[j][(9 * n + 9) / 10 - 1] / 1000.0);
	}
}

static uint64_t rng = 88172645463325252ull;
static int rnd(int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (int)(rng % (uint64_t)n);
}

static void rrequest(const struct rfun *f, char *out, size_t cap)
{
	static const char *const names[] = {"A", "B", "C", "X"}, *const modes[] = {"ordered", "strict", "any_order"};
	char from[32], to[32], asof[32];
	fw_time_format_iso(f->from, from);
	fw_time_format_iso(f->to, to);
	fw_time_format_iso(f->as_of, asof);
	size_t n = (size_t)snprintf(out, cap, "{'kind':'funnel','mode':'%s','window':'%llds','from':'%s','to':'%s','as_of':'%s','steps':[",
				    modes[f->mode], (long long)(f->window / 1000), from, to, asof);
	for (int j = 0; j < f->k; j++) {
		n += (size_t)snprintf(out + n, cap - n, "%s{'event':'%s'", j ? "," : "", names[f->step[j]]);
		if (f->filt[j])
			n += (size_t)snprintf(out + n, cap - n, ",'where':[{'property':'v','value':1}]");
		if (f->within[j] >= 0)
			n += (size_t)snprintf(out + n, cap - n, ",'within':'%llds'", (long long)(f->within[j] / 1000));
		n += (size_t)snprintf(out + n, cap - n, "}");
	}
	n += (size_t)snprintf(out + n, cap - n, "]");
	if (f->nexcl)
		n += (size_t)snprintf(out + n, cap - n, ",'exclusions':[{'event':'X','after_step':%d,'before_step':%d%s}]",
				      f->ex_a + 1, f->ex_b + 1, f->ex_filt ? ",'where':[{'property':'v','value':1}]" : "");
	snprintf(out + n, cap - n, "}");
}

/* Random people with up to `max_events` events each of A B C X at whole seconds in a
 * 20-minute span (many equal times) and a property v 0/1, and `rounds` random funnels
 * of every mode (repeated steps, step filters, per-step windows, exclusions, ranges,
 * as_of), each compared with the brute force. */
static void random_suite(int npeople, int max_events, int rounds)
{
	int64_t t0 = at("2026-03-02T10:00:00Z");
	static struct fw_event e[RP * RN];
	static char ids[RP][16];
	static const char *const names[] = {"A", "B", "C", "X"};
	size_t n = 0;
	rpeople = npeople;
	for (int p = 0; p < npeople; p++) {
		snprintf(ids[p], sizeof ids[p], "r%05d", p);
		rlen[p] = 1 + rnd(max_events);
		for (int i = 0; i < rlen[p]; i++) {
			struct rev *r = &rdata[p][i];
			r->t = t0 + 60000 * rnd(20) + 1000 * rnd(2);
			r->name = rnd(4);
			r->v = rnd(2);
			e[n++] = ev_ms(FW_MSG_TRACK, r->t, ids[p], "", names[r->name], "",
				       r->v ? "{\"v\":1}" : "{\"v\":0}");
		}
		/* the store orders a person's events by (time, log order): so does the brute force */
		for (int i = 1; i < rlen[p]; i++)
			for (int j = i; j > 0 && rdata[p][j - 1].t > rdata[p][j].t; j--) {
				struct rev tmp = rdata[p][j];
				rdata[p][j] = rdata[p][j - 1];
				rdata[p][j - 1] = tmp;
			}
	}
	struct qt x;
	fx_open(&x, e, n);
	int bad = 0;
	for (int round = 0; round < rounds && bad < 5; round++) {
		struct rfun f = {0};
		f.mode = rnd(3);
		f.k = 2 + rnd(f.mode == 2 ? 2 : 3); /* any_order: 3 distinct events at most */
		for (int j = 0; j < f.k; j++) {
			f.step[j] = rnd(3);
			if (f.mode == 2) /* any_order: distinct events */
				for (int i = 0; i < j; i++)
					if (f.step[i] == f.step[j])
						f.step[j] = (f.step[j] + 1) % 3, i = -1;
			f.filt[j] = rnd(4) == 0;
			f.within[j] = j && f.mode != 2 && rnd(3) == 0 ? 60000 * (1 + rnd(6)) : -1;
		}
		f.window = 60000 * (1 + rnd(15)) + 1000 * rnd(2);
		f.from = t0 + 60000 * (rnd(3) ? 0 : rnd(10));
		f.to = f.from + 60000 * (5 + rnd(20));
		f.as_of = t0 + 60000 * rnd(30);
		if (f.mode != 2 && rnd(3) == 0) {
			f.nexcl = 1;
			f.ex_a = rnd(f.k - 1);
			f.ex_b = f.ex_a + 1 + rnd(f.k - 1 - f.ex_a);
			f.ex_filt = rnd(2);
		}
		char req[1024], cnt[64], sts[64], tms[256];
		rrequest(&f, req, sizeof req);
		rexpect(&f, cnt, sts, tms);
		const struct fw_json *s = fw_json_get(ask(&x, req), "steps");
		if (strcmp(counts(s), cnt) || strcmp(status(s), sts) || strcmp(times(s), tms)) {
			fprintf(stderr, "  %s\n    got  %s | %s | %s\n    want %s | %s | %s\n", req,
				counts(s), status(s), times(s), cnt, sts, tms);
			fw_test_failures++;
			bad++;
		}
	}
	fx_close(&x);
}

TEST(funnel_matches_brute_force)
{
	random_suite(150, 9, 400);
}

/* Over 200k events the units are split across threads: same answers. */
TEST(funnel_matches_brute_force_threaded)
{
	random_suite(RP, RN, 12);
}

/* ---- bad requests ---- */

TEST(funnel_bad_requests)
{
	struct qt x;
	fixture_modes(&x);
	static const char *const cases[][2] = {
		{"{'kind':'funnel'}", "steps: expected an array of steps"},
		{"{'kind':'funnel','steps':['A']}", "steps: a funnel has 2 to 50 steps (this one has 1)"},
		{"{'kind':'funnel','steps':['A',{'where':[]}]}", "steps[1].event: expected an event name"},
		{"{'kind':'funnel','steps':['A','']}", "steps[1].event: expected an event name"},
		{"{'kind':'funnel','steps':['A',3]}", "steps[1]: expected a step such as {\"event\": \"Signed Up\"}"},
		{"{'kind':'funnel','steps':['A',{'event':'B','whithin':'1d'}]}", "steps[1].whithin: not a field here (expected event, where, within)"},
		{"{'kind':'funnel','steps':[{'event':'A','within':'1d'},'B']}", "steps[0].within: the first step has no previous step"},
		{"{'kind':'funnel','steps':['A',{'event':'B','within':'soon'}]}", "steps[1].within: expected a duration"},
		{"{'kind':'funnel','steps':['A',{'event':'B','where':[{'op':'eq'}]}]}", "steps[1].where[0].property: expected a property name"},
		{"{'kind':'funnel','steps':['A','B'],'mode':'fast'}", "mode: expected one of \"ordered\", \"strict\", \"any_order\""},
		{"{'kind':'funnel','steps':['A','B'],'window':'forever'}", "window: expected a duration"},
		{"{'kind':'funnel','steps':['A','B'],'windw':'7d'}", "windw: not a field here (expected steps, from, to, window"},
		{"{'kind':'funnel','steps':['A','B'],'window':'7d','window':'1d'}", "window: given twice"},
		{"{'kind':'funnel','steps':['A','B'],'from':'yesterday'}", "from: expected a date"},
		{"{'kind':'funnel','steps':['A','B'],'as_of':3}", "as_of: expected a date (YYYY-MM-DD) or an ISO-8601 time"},
		{"{'kind':'funnel','steps':['A','B'],'unit':'team'}", "unit: expected one of \"person\", \"account\""},
		{"{'kind':'funnel','steps':['A','B'],'exclusions':[{'event':'B'}]}", "exclusions[0].event: \"B\" is steps[1]; an exclusion must be an event that is not a step"},
		{"{'kind':'funnel','steps':['A','B'],'exclusions':[{'event':'X','after_step':2}]}", "exclusions[0].after_step: expected a whole number from 1 to 1"},
		{"{'kind':'funnel','steps':['A','B','C'],'exclusions':[{'event':'X','after_step':2,'before_step':2}]}", "exclusions[0].before_step: expected a whole number from 3 to 3"},
		{"{'kind':'funnel','steps':['A','B'],'exclusions':{}}", "exclusions: expected an array"},
		{"{'kind':'funnel','steps':['A','B'],'mode':'any_order','exclusions':[{'event':'X'}]}", "exclusions: an any_order funnel has no order between its steps"},
		{"{'kind':'funnel','steps':['A','B','A'],'mode':'any_order'}", "steps[2].event: \"A\" is also steps[0]; in any_order mode every step must be a different event"},
		{"{'kind':'funnel','steps':['A',{'event':'B','within':'1h'}],'mode':'any_order'}", "steps[1].within: per-step windows need an order between steps"},
		{"{'kind':'funnel','steps':['A','B'],'breakdown':3}", "breakdown: expected the name of a property"},
		{"{'kind':'funnel','steps':['A','B'],'breakdown':'x','breakdown_limit':0}", "breakdown_limit: expected a whole number from 1 to 1000"},
		{"{'kind':'funnel','steps':['A','B'],'people':{'step':3}}", "people.step: expected a whole number from 1 to 2"},
		{"{'kind':'funnel','steps':['A','B'],'people':{'status':'lost'}}", "people.status: expected one of \"converted\", \"dropped\", \"pending\""},
		{"{'kind':'funnel','steps':['A','B'],'people':{'breakdown':'x'}}", "people.breakdown: the request has no \"breakdown\" property"},
		{"{'kind':'funnel','steps':['A','B'],'people':{'page':2}}", "people.page: not a field here"},
		{"{'kind':'funnel','steps':['A','B'],'people':{'limit':0}}", "people.limit: expected a whole number"},
	};
	for (size_t i = 0; i < FW_ARRAY_LEN(cases); i++) {
		int rc;
		struct fw_err err;
		ask_rc(&x, cases[i][0], &rc, &err);
		if (rc != FW_EINVAL || strncmp(err.msg, cases[i][1], strlen(cases[i][1]))) {
			fprintf(stderr, "  %s\n    got %d \"%s\"\n    want \"%s…\"\n", cases[i][0], rc,
				err.msg, cases[i][1]);
			fw_test_failures++;
		}
	}
	/* 51 steps */
	char big[2048] = "{'kind':'funnel','steps':[";
	for (int i = 0; i < 51; i++)
		strcat(big, i ? ",'A'" : "'A'");
	strcat(big, "]}");
	int rc;
	struct fw_err err;
	ask_rc(&x, big, &rc, &err);
	CHECK_EQ_STR(err.msg, "steps: a funnel has 2 to 50 steps (this one has 51)");
	/* 50 steps are fine: q1 (A0 B1 C2 ...) goes no further than A */
	big[strlen("{'kind':'funnel','steps':[")] = 0;
	strcat(big, "'A','B'");
	for (int i = 2; i < 50; i++)
		strcat(big, ",'C'");
	strcat(big, "]}");
	const struct fw_json *r = ask(&x, big);
	CHECK(fw_json_get(r, "steps") && fw_json_get(r, "steps")->len == 50);
	fx_close(&x);
}
