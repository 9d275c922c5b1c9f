/* test_revenue.c — the "revenue" and "virality" analyses and the metrics
 * beyond the contract (signups_organic/paid, onboarding_completion,
 * feature_adoption/breadth, active_days_per_week, grr, contraction_mrr,
 * churned_mrr), each on a small dataset computed by hand (the arithmetic is in
 * the comments). */
#include "../test.h"
#include "qtest.h"
#include "flywheel/config.h"
#include "flywheel/dataset.h"
#include "flywheel/meta.h"
#include "flywheel/metrics.h"
#include "flywheel/query.h"
#include "flywheel/store.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define at qt_at
#define ev(type, when, user, anon, name, group, props, traits) \
	qt_event(type, NULL, qt_at(when), user, anon, name, group, props, traits)

#define T(when, user, name) ev(FW_MSG_TRACK, when, user, "", name, "", "", "")
#define TP(when, user, name, props) ev(FW_MSG_TRACK, when, user, "", name, "", props, "")
#define TG(when, user, name, group) ev(FW_MSG_TRACK, when, user, "", name, group, "", "")
#define PLAN(when, user, group, mrr) \
	ev(FW_MSG_TRACK, when, user, "", "Plan Changed", group, "{\"plan\":\"p\",\"mrr\":" mrr "}", "")
#define GROUP(when, user, group, traits) ev(FW_MSG_GROUP, when, user, "", "", group, "", traits)
#define IDENTIFY(when, user, traits) ev(FW_MSG_IDENTIFY, when, user, "", "", "", "", traits)

/* A fixture: a function filling `out` (at most 64 events) with the events. */
#define FIXTURE(name, ...)                                         \
	static size_t name(struct fw_event *out)                   \
	{                                                          \
		struct fw_event e[] = {__VA_ARGS__};               \
		memcpy(out, e, sizeof e);                          \
		return FW_ARRAY_LEN(e);                            \
	}

/* A store and metadata holding `e`, with the PLG facts and a dataset. */

static void open_fixture(struct qt *f, size_t (*events)(struct fw_event *))
{
	struct fw_event e[64];
	size_t n = events(e);
	qt_open(f);
	qt_store(f, e, n);
}

/* (Re)load the facts after a config change. */
#define load qt_load
#define close_fixture qt_close

/* Run a request; returns the parsed answer (NULL on error, message in err). */
static const struct fw_json *query(struct qt *f, const char *request, struct fw_err *err)
{
	int rc;
	return qt_run(f, request, at("2026-06-15"), &rc, err);
}

/* A member by path: "periods.1.mrr_end" (numbers index arrays). */
static const struct fw_json *get(const struct fw_json *v, const char *path)
{
	char part[64];
	while (v && *path) {
		size_t n = strcspn(path, ".");
		snprintf(part, sizeof part, "%.*s", (int)n, path);
		path += n + (path[n] == '.');
		if (v->type == FW_JSON_ARRAY) {
			const struct fw_json *c = v->u.child;
			for (long i = atol(part); c && i > 0; i--)
				c = c->next;
			v = c;
		} else {
			v = fw_json_get(v, part);
		}
	}
	return v;
}

static void num_is(const struct fw_json *root, const char *path, double want)
{
	const struct fw_json *v = get(root, path);
	if (!v || v->type != FW_JSON_NUMBER || fabs(v->u.num - want) > 1e-9 * fmax(1, fabs(want))) {
		struct fw_buf b = {0};
		if (v)
			fw_json_write_value(&b, v);
		fprintf(stderr, "  %s: got %s, want %.12g\n", path, v ? b.data : "(absent)", want);
		fw_buf_release(&b);
		fw_test_failures++;
	}
}

static void str_is(const struct fw_json *root, const char *path, const char *want)
{
	const struct fw_json *v = get(root, path);
	if (!v || v->type != FW_JSON_STRING || !fw_str_eq(v->u.str, want)) {
		fprintf(stderr, "  %s: got %.*s, want \"%s\"\n", path, v ? (int)v->raw.len : 9,
			v ? v->raw.p : "(absent)", want);
		fw_test_failures++;
	}
}

static void null_is(const struct fw_json *root, const char *path)
{
	const struct fw_json *v = get(root, path);
	if (!v || v->type != FW_JSON_NULL) {
		fprintf(stderr, "  %s: want null\n", path);
		fw_test_failures++;
	}
}

/* The items of a "people" answer, as "a,b,c". */
static void items_are(const struct fw_json *root, const char *want, size_t total)
{
	char got[512] = "";
	size_t k = 0;
	const struct fw_json *items = get(root, "people.items");
	for (const struct fw_json *c = items ? items->u.child : NULL; c; c = c->next)
		k += (size_t)snprintf(got + k, sizeof got - k, "%s%.*s", k ? "," : "",
				      (int)c->u.str.len, c->u.str.p);
	CHECK_EQ_STR(got, want);
	num_is(root, "people.total", (double)total);
}

static void near(struct fw_metric_value v, double want, const char *what)
{
	if (!v.has || fabs(v.v - want) > 1e-9 * fmax(1, fabs(want))) {
		fprintf(stderr, "  %s: got %s%.12g, want %.12g\n", what, v.has ? "" : "null ", v.v, want);
		fw_test_failures++;
	}
}

static void null(struct fw_metric_value v, const char *what)
{
	if (v.has) {
		fprintf(stderr, "  %s: got %.12g, want null\n", what, v.v);
		fw_test_failures++;
	}
}

static void bad_request(struct qt *f, const char *request, const char *want)
{
	struct fw_err err;
	const struct fw_json *r = query(f, request, &err);
	CHECK(r == NULL);
	CHECK_EQ_INT(err.code, FW_EINVAL);
	if (!strstr(err.msg, want)) {
		fprintf(stderr, "  %s: error \"%s\" does not say \"%s\"\n", request, err.msg, want);
		fw_test_failures++;
	}
}

/*
 * Accounts and their plan changes (MRR at a time includes the changes at
 * that very time; a change exactly at a boundary belongs to the period that
 * ends there):
 *   acA  pays 100 since 2025-12-10 (group call with plan and mrr); 01-10 → 150;
 *        01-20 → 120; 03-01 00:00 → 0 (exactly at the Feb/Mar boundary)
 *   acB  free from 01-05; 01-15 → 50; 02-10 → 0; 03-05 → 70 (paid before)
 *   acC  pays 200 since 2025-11-01; 02-03 → 80; 02-20 → 0; 02-25 → 90
 *   acD  02-14 → 30, 02-15 → 0 (paid only inside Feb); 03-10 → 40
 *   acE  03-31 23:59:59.999 → 60 (group call); 04-01 00:00 → 65 (at `to`)
 *   acF  01-03 → -5: a negative mrr pays nothing
 *   acG  a group call with plan alone: no plan change
 *   acH  01-25 12:00 → 40, the same ms → 45 (log order: 45 wins)
 * MRR at 01-01: A 100 + C 200 = 300 (2 paying)
 *        02-01: A 120 + B 50 + C 200 + H 45 = 415 (4)
 *        03-01: C 90 + H 45 = 135 (2; A's change at 03-01 00:00 counts)
 *        04-01: B 70 + C 90 + D 40 + E 65 + H 45 = 310 (5)
 */
FIXTURE(revenue_events,
	GROUP("2025-11-01T00:00:00Z", "u1", "acC", "{\"plan\":\"ent\",\"mrr\":200}"),
	GROUP("2025-12-10T00:00:00Z", "u1", "acA", "{\"plan\":\"pro\",\"mrr\":100}"),
	PLAN("2026-01-03T00:00:00Z", "u1", "acF", "-5"),
	GROUP("2026-01-05T00:00:00Z", "u2", "acB", "{\"plan\":\"free\",\"mrr\":0}"),
	GROUP("2026-01-06T00:00:00Z", "u2", "acG", "{\"plan\":\"pro\"}"),
	PLAN("2026-01-10T00:00:00Z", "u1", "acA", "150"),
	PLAN("2026-01-15T00:00:00Z", "u2", "acB", "50"),
	PLAN("2026-01-20T00:00:00Z", "u1", "acA", "120"),
	PLAN("2026-01-25T12:00:00Z", "u3", "acH", "40"),
	PLAN("2026-01-25T12:00:00Z", "u3", "acH", "45"),
	PLAN("2026-02-03T00:00:00Z", "u1", "acC", "80"),
	PLAN("2026-02-10T00:00:00Z", "u2", "acB", "0"),
	PLAN("2026-02-14T00:00:00Z", "u4", "acD", "30"),
	PLAN("2026-02-15T00:00:00Z", "u4", "acD", "0"),
	PLAN("2026-02-20T00:00:00Z", "u1", "acC", "0"),
	PLAN("2026-02-25T00:00:00Z", "u1", "acC", "90"),
	PLAN("2026-03-01T00:00:00Z", "u1", "acA", "0"),
	PLAN("2026-03-05T00:00:00Z", "u2", "acB", "70"),
	PLAN("2026-03-10T00:00:00Z", "u4", "acD", "40"),
	GROUP("2026-03-31T23:59:59.999Z", "u5", "acE", "{\"plan\":\"pro\",\"mrr\":60}"),
	PLAN("2026-04-01T00:00:00Z", "u5", "acE", "65")
)

TEST(revenue_by_month)
{
	struct qt f;
	struct fw_err err;
	open_fixture(&f, revenue_events);
	load(&f);
	const struct fw_json *r =
		query(&f, "{\"kind\":\"revenue\",\"from\":\"2026-01-01\",\"to\":\"2026-04-01\"}", &err);
	CHECK(r != NULL);
	str_is(r, "kind", "revenue");
	str_is(r, "period", "month");
	str_is(r, "from", "2026-01-01");
	str_is(r, "to", "2026-04-01");
	str_is(r, "periods.0.start", "2026-01-01");
	str_is(r, "periods.0.end", "2026-02-01");
	str_is(r, "periods.2.end", "2026-04-01");
	/* January: A 100 → 120 expansion 20 (per change: +50 then −30);
	 * B 0 → 50 and H 0 → 45 new. 300 + 95 + 20 = 415.
	 * NRR = (300 + 20) / 300; GRR = 300 / 300 */
	num_is(r, "periods.0.mrr_start", 300);
	num_is(r, "periods.0.mrr_end", 415);
	num_is(r, "periods.0.paying_start", 2);
	num_is(r, "periods.0.paying_end", 4);
	num_is(r, "periods.0.new", 95);
	num_is(r, "periods.0.new_accounts", 2);
	num_is(r, "periods.0.expansion", 20);
	num_is(r, "periods.0.expansion_accounts", 1);
	num_is(r, "periods.0.contraction", 0);
	num_is(r, "periods.0.churn", 0);
	num_is(r, "periods.0.nrr", 320.0 / 300);
	num_is(r, "periods.0.grr", 1);
	/* February: A 120 → 0 and B 50 → 0 churn 170; C 200 → 90 contraction 110
	 * (through 80, 0 and 90); D 0 → 0 no movement. 415 − 170 − 110 = 135 */
	num_is(r, "periods.1.mrr_start", 415);
	num_is(r, "periods.1.mrr_end", 135);
	num_is(r, "periods.1.churn", 170);
	num_is(r, "periods.1.churn_accounts", 2);
	num_is(r, "periods.1.contraction", 110);
	num_is(r, "periods.1.contraction_accounts", 1);
	num_is(r, "periods.1.new", 0);
	num_is(r, "periods.1.reactivation", 0);
	num_is(r, "periods.1.nrr", 135.0 / 415);
	num_is(r, "periods.1.grr", 135.0 / 415);
	/* March: B 0 → 70 and D 0 → 40 reactivation (both paid before; D only
	 * inside February); E 0 → 65 new (its 04-01 00:00 change is at the end).
	 * 135 + 110 + 65 = 310; C and H unchanged: NRR = GRR = 1 */
	num_is(r, "periods.2.mrr_start", 135);
	num_is(r, "periods.2.mrr_end", 310);
	num_is(r, "periods.2.reactivation", 110);
	num_is(r, "periods.2.reactivation_accounts", 2);
	num_is(r, "periods.2.new", 65);
	num_is(r, "periods.2.new_accounts", 1);
	num_is(r, "periods.2.nrr", 1);
	num_is(r, "periods.2.grr", 1);
	CHECK(get(r, "periods.3") == NULL);
	/* the range as one period: A 100 → 0 churn; C 200 → 90 contraction;
	 * B, D, E, H new (none paid before 01-01): 70 + 40 + 65 + 45 = 220.
	 * NRR = GRR = 90 / 300 */
	num_is(r, "range.mrr_start", 300);
	num_is(r, "range.mrr_end", 310);
	num_is(r, "range.new", 220);
	num_is(r, "range.new_accounts", 4);
	num_is(r, "range.reactivation", 0);
	num_is(r, "range.churn", 100);
	num_is(r, "range.contraction", 110);
	num_is(r, "range.expansion", 0);
	num_is(r, "range.nrr", 0.3);
	num_is(r, "range.grr", 0.3);

	/* the accounts behind a number */
	r = query(&f, "{\"kind\":\"revenue\",\"from\":\"2026-01-01\",\"to\":\"2026-04-01\","
		      "\"people\":{\"period\":\"2026-02-01\",\"movement\":\"churn\"}}", &err);
	CHECK(r != NULL);
	items_are(r, "acA,acB", 2);
	str_is(r, "people.unit", "account");
	r = query(&f, "{\"kind\":\"revenue\",\"from\":\"2026-01-01\",\"to\":\"2026-04-01\","
		      "\"people\":{\"movement\":\"new\",\"offset\":1,\"limit\":2}}", &err);
	CHECK(r != NULL);
	items_are(r, "acD,acE", 4); /* acB acD acE acH, page 2..3 */
	r = query(&f, "{\"kind\":\"revenue\",\"from\":\"2026-01-01\",\"to\":\"2026-04-01\","
		      "\"people\":{\"period\":\"2026-03-01\",\"movement\":\"reactivation\"}}", &err);
	CHECK(r != NULL);
	items_are(r, "acB,acD", 2);

	/* the metrics over the same range count each plan change (docs/metrics.md):
	 * expansion_mrr: A 100 → 150 (+50), H 40 → 45 (+5) = 55;
	 * contraction_mrr: A 150 → 120 (30), C 200 → 80 (120) = 150;
	 * churned_mrr: A 120 (03-01 is inside), B 50, C 80, D 30 = 280;
	 * nrr = grr = 90 / 300; the period before had nobody paying at its start */
	struct fw_metrics m;
	fw_metrics_compute(f.plg, at("2026-01-01"), at("2026-04-01"), &m);
	near(m.cur[FW_M_EXPANSION_MRR], 55, "expansion_mrr");
	near(m.cur[FW_M_CONTRACTION_MRR], 150, "contraction_mrr");
	near(m.cur[FW_M_CHURNED_MRR], 280, "churned_mrr");
	near(m.cur[FW_M_NRR], 0.3, "nrr");
	near(m.cur[FW_M_GRR], 0.3, "grr");
	null(m.prev[FW_M_GRR], "previous grr");
	near(m.prev[FW_M_CHURNED_MRR], 0, "previous churned_mrr");
	near(m.prev[FW_M_CONTRACTION_MRR], 0, "previous contraction_mrr");
	/* February alone: C 200 → 80 contraction 120; churned A? no (03-01 is
	 * outside [02-01, 03-01)): B 50, D 30, C 80 = 160. GRR: paying at 02-01
	 * A 120, B 50, C 200, H 45 = 415; at 03-01 A 0, B 0, C 90, H 45 → 135 */
	fw_metrics_compute(f.plg, at("2026-02-01"), at("2026-03-01"), &m);
	near(m.cur[FW_M_CONTRACTION_MRR], 120, "feb contraction_mrr");
	near(m.cur[FW_M_CHURNED_MRR], 160, "feb churned_mrr");
	near(m.cur[FW_M_GRR], 135.0 / 415, "feb grr");
	near(m.cur[FW_M_NRR], 135.0 / 415, "feb nrr");
	/* January: A 100 → 150 → 120 kept 100 of 100, C kept 200: GRR 1, NRR 320/300 */
	fw_metrics_compute(f.plg, at("2026-01-01"), at("2026-02-01"), &m);
	near(m.cur[FW_M_GRR], 1, "jan grr");
	near(m.cur[FW_M_NRR], 320.0 / 300, "jan nrr");
	near(m.cur[FW_M_CONTRACTION_MRR], 30, "jan contraction_mrr");
	near(m.cur[FW_M_EXPANSION_MRR], 55, "jan expansion_mrr");
	close_fixture(&f);
}

TEST(revenue_by_week_and_day)
{
	struct qt f;
	struct fw_err err;
	open_fixture(&f, revenue_events);
	load(&f);
	/* weeks from Wednesday 02-11 to Wednesday 03-04: [02-11, 02-16) (clipped),
	 * [02-16, 02-23), [02-23, 03-02), [03-02, 03-04) (clipped).
	 * MRR at 02-11: A 120 + C 80 + H 45 = 245 (B churned on 02-10).
	 *   week 1: D 0 → 30 → 0 inside it: no movement; 245
	 *   week 2: C 80 → 0 churn 80; 165
	 *   week 3: C 0 → 90 reactivation; A 120 → 0 on 03-01 churn; 135
	 *   week 4: nothing (B's 03-05 is after `to`); 135 */
	const struct fw_json *r = query(&f, "{\"kind\":\"revenue\",\"period\":\"week\","
					    "\"from\":\"2026-02-11\",\"to\":\"2026-03-04\"}", &err);
	CHECK(r != NULL);
	str_is(r, "period", "week");
	str_is(r, "periods.0.start", "2026-02-11");
	str_is(r, "periods.0.end", "2026-02-16");
	str_is(r, "periods.3.start", "2026-03-02");
	str_is(r, "periods.3.end", "2026-03-04");
	CHECK(get(r, "periods.4") == NULL);
	num_is(r, "periods.0.mrr_start", 245);
	num_is(r, "periods.0.mrr_end", 245);
	num_is(r, "periods.0.new_accounts", 0);
	num_is(r, "periods.0.reactivation_accounts", 0);
	num_is(r, "periods.1.churn", 80);
	num_is(r, "periods.1.mrr_end", 165);
	num_is(r, "periods.1.nrr", 165.0 / 245);
	num_is(r, "periods.2.reactivation", 90);
	num_is(r, "periods.2.churn", 120);
	num_is(r, "periods.2.mrr_end", 135);
	num_is(r, "periods.2.paying_start", 2); /* A and H; C pays nothing at 02-23 */
	num_is(r, "periods.2.nrr", 45.0 / 165);
	num_is(r, "periods.2.grr", 45.0 / 165);
	num_is(r, "periods.3.mrr_end", 135);
	/* days: H's two same-millisecond changes on 01-25 are one move, 0 → 45 */
	r = query(&f, "{\"kind\":\"revenue\",\"period\":\"day\",\"from\":\"2026-01-25\","
		      "\"to\":\"2026-01-27\"}", &err);
	CHECK(r != NULL);
	num_is(r, "periods.0.new", 45);
	num_is(r, "periods.0.new_accounts", 1);
	num_is(r, "periods.1.new", 0);
	num_is(r, "periods.1.mrr_start", 415);
	/* before anything: no paying account, NRR and GRR null */
	r = query(&f, "{\"kind\":\"revenue\",\"from\":\"2025-01-01\",\"to\":\"2025-03-01\"}", &err);
	CHECK(r != NULL);
	num_is(r, "periods.0.mrr_start", 0);
	null_is(r, "periods.0.nrr");
	null_is(r, "periods.1.grr");
	null_is(r, "range.nrr");
	/* the default: the 12 months up to the one holding now (2026-06-15) */
	r = query(&f, "{\"kind\":\"revenue\"}", &err);
	CHECK(r != NULL);
	str_is(r, "from", "2025-07-01");
	str_is(r, "to", "2026-07-01");
	str_is(r, "periods.11.start", "2026-06-01");

	bad_request(&f, "{\"kind\":\"revenue\",\"period\":\"year\"}",
		    "period: expected one of \"day\", \"week\", \"month\"");
	bad_request(&f, "{\"kind\":\"revenue\",\"from\":\"2026-01-01T12:00:00Z\",\"to\":\"2026-02-01\"}",
		    "whole UTC days");
	bad_request(&f, "{\"kind\":\"revenue\",\"from\":\"2026-02-01\",\"to\":\"2026-01-01\"}",
		    "from: must be before to");
	bad_request(&f, "{\"kind\":\"revenue\",\"from\":\"someday\"}", "from: expected a date");
	bad_request(&f, "{\"kind\":\"revenue\",\"period\":\"day\",\"from\":\"2000-01-01\",\"to\":\"2026-01-01\"}",
		    "more than 5000 day periods");
	bad_request(&f, "{\"kind\":\"revenue\",\"from\":\"2026-01-01\",\"to\":\"2026-04-01\","
			"\"people\":{\"period\":\"2026-01-02\",\"movement\":\"new\"}}",
		    "people.period: no period starts on 2026-01-02");
	bad_request(&f, "{\"kind\":\"revenue\",\"people\":{\"period\":\"2026-01-01\"}}",
		    "people.movement: expected one of");
	bad_request(&f, "{\"kind\":\"revenue\",\"people\":{\"movement\":\"upsell\"}}",
		    "people.movement: expected one of \"new\"");
	bad_request(&f, "{\"kind\":\"revenue\",\"people\":{\"movement\":\"new\",\"period\":3}}",
		    "people.period: expected the start day");
	bad_request(&f, "{\"kind\":\"revenue\",\"people\":{\"movement\":\"new\",\"limit\":0}}",
		    "people.limit: expected a whole number");
	close_fixture(&f);
}

/*
 * Virality over [2026-03-02, 2026-03-09), window 30 days (the default):
 *   P1 signs up 03-02 10:00, sends 2 invites (03-02, 03-20)
 *   P2 signs up 03-03 10:00, sends 1 invite (on 03-01, before signing up: any time counts)
 *   P3 signs up 02-20 (not in the cohort), sends 1, and I6 accepts it
 * Acceptances naming a cohort member (pairs):
 *   (P1, I1) I1 signs up 03-02 12:01 and activates 03-03      signed up, activated
 *   (P1, I2) accepts twice; signs up 04-01 10:00 = P1 + 30×24 h signed up
 *   (P1, I3) signs up 04-01 10:00:00.001 = P1 + 30 d + 1 ms    too late
 *   (P1, I4) never signs up
 *   (P1, P1) accepts their own invite                          not counted
 *   (P2, I1) I1 signed up before P2 did                        not a sign-up through P2
 *   (P2, I5) I5 signs up by identify with created_at 03-04, activates then
 * cohort: P1 P2 I1 I5 = 4; pairs 6; signed up 3; activated 2; k = 3/4
 * Workspaces created in range, members (people with a message naming it)
 * within 30 days of creation:
 *   W1 created 03-02 10:05 by P1's group call; members P1, I1 (event 03-03),
 *      P2 (identify naming it, 03-06), I4 (page 03-10), I2 (group 03-20): 5;
 *      I5 (04-05) is too late
 *   W2 created 03-04 by I5: 1 member
 *   W3 created_at trait 2026-02-01: created before the range
 *   W4 first event 03-08 23:59:59.999 by P2, then I1 on 03-09: 2
 * → created 3, with ≥ 2 members 2 (W1 W4), with ≥ 5 1 (W1)
 */
FIXTURE(virality_events,
	T("2026-02-20T09:00:00Z", "P3", "Signed Up"),
	T("2026-02-21T09:00:00Z", "P3", "Invite Sent"),
	T("2026-03-01T09:00:00Z", "P2", "Invite Sent"),
	T("2026-03-02T10:00:00Z", "P1", "Signed Up"),
	GROUP("2026-03-02T10:05:00Z", "P1", "W1", "{\"name\":\"One\"}"),
	T("2026-03-02T11:00:00Z", "P1", "Invite Sent"),
	TP("2026-03-02T12:00:00Z", "I1", "Invite Accepted", "{\"inviter_id\":\"P1\"}"),
	T("2026-03-02T12:01:00Z", "I1", "Signed Up"),
	TP("2026-03-02T12:02:00Z", "P1", "Invite Accepted", "{\"inviter_id\":\"P1\"}"),
	TP("2026-03-02T12:03:00Z", "I2", "Invite Accepted", "{\"inviter_id\":\"P1\"}"),
	TP("2026-03-02T12:04:00Z", "I3", "Invite Accepted", "{\"inviter_id\":\"P1\"}"),
	TP("2026-03-02T12:05:00Z", "I4", "Invite Accepted", "{\"inviter_id\":\"P1\"}"),
	TP("2026-03-02T12:06:00Z", "I6", "Invite Accepted", "{\"inviter_id\":\"P3\"}"),
	T("2026-03-03T10:00:00Z", "P2", "Signed Up"),
	ev(FW_MSG_TRACK, "2026-03-03T11:00:00Z", "I1", "", "Project Created", "W1", "", ""),
	TP("2026-03-03T12:00:00Z", "I1", "Invite Accepted", "{\"inviter_id\":\"P2\"}"),
	TP("2026-03-03T13:00:00Z", "I2", "Invite Accepted", "{\"inviter_id\":\"P1\"}"),
	TP("2026-03-04T08:00:00Z", "I5", "Invite Accepted", "{\"inviter_id\":\"P2\"}"),
	IDENTIFY("2026-03-04T09:00:00Z", "I5", "{\"created_at\":\"2026-01-01\"}"),
	T("2026-03-04T09:30:00Z", "I5", "Project Created"),
	GROUP("2026-03-04T10:00:00Z", "I5", "W2", "{\"name\":\"Two\"}"),
	GROUP("2026-03-05T10:00:00Z", "P3", "W3", "{\"created_at\":\"2026-02-01T00:00:00Z\"}"),
	ev(FW_MSG_IDENTIFY, "2026-03-06T10:00:00Z", "P2", "", "", "W1", "", "{\"plan\":\"x\"}"),
	ev(FW_MSG_TRACK, "2026-03-08T23:59:59.999Z", "P2", "", "Report Viewed", "W4", "", ""),
	ev(FW_MSG_TRACK, "2026-03-09T08:00:00Z", "I1", "", "Report Viewed", "W4", "", ""),
	ev(FW_MSG_PAGE, "2026-03-10T10:00:00Z", "I4", "", "$pageview", "W1", "", ""),
	T("2026-03-20T10:00:00Z", "P1", "Invite Sent"),
	GROUP("2026-03-20T11:00:00Z", "I2", "W1", "{}"),
	T("2026-04-01T10:00:00Z", "I2", "Signed Up"),
	T("2026-04-01T10:00:00.001Z", "I3", "Signed Up"),
	ev(FW_MSG_TRACK, "2026-04-05T10:00:00Z", "I5", "", "Report Viewed", "W1", "", "")
)

TEST(virality_funnel_and_workspaces)
{
	struct qt f;
	struct fw_err err;
	open_fixture(&f, virality_events);
	load(&f);
	const char *range = "\"from\":\"2026-03-02\",\"to\":\"2026-03-09\"";
	char req[512];
	snprintf(req, sizeof req, "{\"kind\":\"virality\",%s}", range);
	const struct fw_json *r = query(&f, req, &err);
	CHECK(r != NULL);
	str_is(r, "kind", "virality");
	num_is(r, "window_days", 30);
	num_is(r, "signups", 4);
	num_is(r, "inviters", 2);
	num_is(r, "invites_sent", 3);
	num_is(r, "invites_accepted", 6);
	num_is(r, "invitees_signed_up", 3);
	num_is(r, "invitees_activated", 2);
	num_is(r, "k_factor", 0.75);
	num_is(r, "workspaces.created", 3);
	num_is(r, "workspaces.with_2_members", 2);
	num_is(r, "workspaces.with_5_members", 1);
	/* the k_factor metric over the same range is the same number */
	struct fw_metrics m;
	fw_metrics_compute(f.plg, at("2026-03-02"), at("2026-03-09"), &m);
	near(m.cur[FW_M_K_FACTOR], 0.75, "k_factor metric");

	static const struct {
		const char *status, *items;
		size_t total;
	} lists[] = {
		{"signups", "I1,I5,P1,P2", 4},
		{"inviters", "P1,P2", 2},
		{"invitees_accepted", "I1,I2,I3,I4,I5", 5}, /* 6 pairs, I1 twice */
		{"invitees_signed_up", "I1,I2,I5", 3},
		{"invitees_activated", "I1,I5", 2},
		{"workspaces_2", "W1,W4", 2},
		{"workspaces_5", "W1", 1},
	};
	for (size_t i = 0; i < FW_ARRAY_LEN(lists); i++) {
		snprintf(req, sizeof req, "{\"kind\":\"virality\",%s,\"people\":{\"status\":\"%s\"}}",
			 range, lists[i].status);
		r = query(&f, req, &err);
		CHECK(r != NULL);
		items_are(r, lists[i].items, lists[i].total);
		str_is(r, "people.unit", i >= 5 ? "account" : "person");
	}
	snprintf(req, sizeof req,
		 "{\"kind\":\"virality\",%s,\"people\":{\"status\":\"signups\",\"offset\":3}}", range);
	r = query(&f, req, &err);
	items_are(r, "P2", 4);

	/* a 10-day window: I2 (30 days) no longer counts; W1 has 4 members by 03-12 10:05 */
	snprintf(req, sizeof req, "{\"kind\":\"virality\",%s,\"window\":\"10d\"}", range);
	r = query(&f, req, &err);
	CHECK(r != NULL);
	num_is(r, "window_days", 10);
	num_is(r, "invitees_signed_up", 2);
	num_is(r, "invitees_activated", 2);
	num_is(r, "k_factor", 0.5);
	num_is(r, "workspaces.with_2_members", 2);
	num_is(r, "workspaces.with_5_members", 0);

	/* a range with nobody: counts 0, k-factor null */
	r = query(&f, "{\"kind\":\"virality\",\"from\":\"2027-01-01\",\"to\":\"2027-02-01\"}", &err);
	CHECK(r != NULL);
	num_is(r, "signups", 0);
	null_is(r, "k_factor");
	num_is(r, "workspaces.created", 0);

	bad_request(&f, "{\"kind\":\"virality\",\"window\":\"3x\"}", "window: expected a duration");
	bad_request(&f, "{\"kind\":\"virality\",\"people\":{\"status\":\"nope\"}}",
		    "people.status: expected one of \"signups\"");
	bad_request(&f, "{\"kind\":\"virality\",\"people\":{}}", "people.status");
	bad_request(&f, "{\"kind\":\"virality\",\"from\":\"2026-03-02T01:00:00Z\"}", "whole UTC days");
	close_fixture(&f);
}

/*
 * The usage metrics over [2026-01-07, 2026-01-26) (Wednesday to Sunday: full
 * weeks 01-12..18 and 01-19..25), with
 *   core_features: [Report Run, Export, Alert Set, Report Run]  (a repeat counts once)
 *   onboarding_steps: [Profile Completed, Tour Finished]
 * Sign-ups and their channel (channel, else utm_source, as a non-empty string):
 *   A  01-07 {channel: paid}                         paid; onboarded (Profile, Tour)
 *   B  01-08 {channel: "", utm_source: CPC}          paid (case ignored); Profile on
 *                                                    01-06 is before the sign-up: not onboarded
 *   C  identify 01-09 {created_at, utm_source: linkedin_ads}  paid; Tour then Profile: onboarded
 *   D  01-10 {channel: organic, utm_source: cpc}     organic (channel comes first)
 *   E  01-11 {channel: 42, utm_source: ads}          paid (a number is no channel); Profile only
 *   F  01-11 {}                                      organic
 *   G  identify 01-10 {created_at, channel: organic}, then Signed Up 01-12 {channel: paid}: paid
 *   H  01-02 {channel: paid}: the previous period
 * signups 7, paid 5 (A B C E G), organic 2; onboarding 2/7
 * Active days (every event but $feature_flag_called; identify is no event):
 *   A 07 08 12 13 14 20 · B 06 08 09 12 (19: flag only) · C 10 15 · D 10 22 ·
 *   E 11 12 · F 11 · G 12 · H 02 12 13 14 20
 * active in range: A..H = 8. Core features used in range:
 *   A Report Run, Export, Alert Set · B Report Run · C Report Run · D Export · H all three
 *   Report Run 4/8, Export 3/8, Alert Set 2/8; breadth (3+1+1+1+3)/8 = 9/8
 * Active days per full week: week 12: A 3, B 1, C 1, E 1, G 1, H 3 (10 days, 6 people);
 *   week 19: A 1, D 1, H 1 (3, 3) → 13/9
 * Previous period [2025-12-19, 2026-01-07): H signs up (paid), not onboarded: 0/1;
 *   active H (01-02), B (01-06), no core feature: adoption 0, breadth 0; full weeks
 *   12-22 and 12-29: H 1 day → 1 (B's 01-06 is in the partial week of 01-05)
 */
FIXTURE(usage_events,
	TP("2026-01-02T10:00:00Z", "H", "Signed Up", "{\"channel\":\"paid\"}"),
	T("2026-01-06T10:00:00Z", "B", "Profile Completed"),
	TP("2026-01-07T10:00:00Z", "A", "Signed Up", "{\"channel\":\"paid\"}"),
	T("2026-01-07T11:00:00Z", "A", "Profile Completed"),
	T("2026-01-08T09:00:00Z", "A", "Tour Finished"),
	TP("2026-01-08T10:00:00Z", "B", "Signed Up", "{\"channel\":\"\",\"utm_source\":\"CPC\"}"),
	T("2026-01-09T10:00:00Z", "B", "Tour Finished"),
	IDENTIFY("2026-01-09T10:00:00Z", "C", "{\"created_at\":\"2026-01-09\",\"utm_source\":\"linkedin_ads\"}"),
	T("2026-01-10T09:00:00Z", "C", "Tour Finished"),
	T("2026-01-10T10:00:00Z", "C", "Profile Completed"),
	TP("2026-01-10T11:00:00Z", "D", "Signed Up", "{\"channel\":\"organic\",\"utm_source\":\"cpc\"}"),
	IDENTIFY("2026-01-10T12:00:00Z", "G", "{\"created_at\":\"2026-01-10\",\"channel\":\"organic\"}"),
	TP("2026-01-11T10:00:00Z", "E", "Signed Up", "{\"channel\":42,\"utm_source\":\"ads\"}"),
	TP("2026-01-11T11:00:00Z", "F", "Signed Up", "{}"),
	T("2026-01-12T09:00:00Z", "A", "Report Run"),
	T("2026-01-12T09:00:00Z", "B", "Report Run"),
	T("2026-01-12T09:00:00Z", "E", "Profile Completed"),
	TP("2026-01-12T09:00:00Z", "G", "Signed Up", "{\"channel\":\"paid\"}"),
	T("2026-01-12T09:00:00Z", "H", "Alert Set"),
	T("2026-01-13T09:00:00Z", "A", "Export"),
	T("2026-01-13T09:00:00Z", "H", "Export"),
	T("2026-01-14T09:00:00Z", "A", "Report Run"),
	ev(FW_MSG_PAGE, "2026-01-14T09:00:00Z", "H", "", "$pageview", "", "", ""),
	T("2026-01-15T09:00:00Z", "C", "Report Run"),
	T("2026-01-15T10:00:00Z", "C", "Report Run"),
	T("2026-01-19T09:00:00Z", "B", "$feature_flag_called"),
	T("2026-01-20T09:00:00Z", "A", "Alert Set"),
	T("2026-01-20T09:00:00Z", "H", "Report Run"),
	T("2026-01-22T09:00:00Z", "D", "Export")
)

TEST(metrics_usage_and_channels)
{
	struct qt f;
	open_fixture(&f, usage_events);
	/* without core features or onboarding steps those metrics are null */
	load(&f);
	struct fw_metrics m;
	fw_metrics_compute(f.plg, at("2026-01-07"), at("2026-01-26"), &m);
	null(m.cur[FW_M_ONBOARDING_COMPLETION], "onboarding without steps");
	null(m.cur[FW_M_FEATURE_ADOPTION], "adoption without features");
	null(m.cur[FW_M_FEATURE_BREADTH], "breadth without features");
	near(m.cur[FW_M_SIGNUPS_PAID], 5, "signups_paid");

	const char *features[] = {"Report Run", "Export", "Alert Set", "Report Run"};
	for (size_t i = 0; i < 4; i++)
		f.cfg.core_features.items[f.cfg.core_features.n++] = fw_xstrdup(features[i]);
	f.cfg.onboarding_steps.items[f.cfg.onboarding_steps.n++] = fw_xstrdup("Profile Completed");
	f.cfg.onboarding_steps.items[f.cfg.onboarding_steps.n++] = fw_xstrdup("Tour Finished");
	f.cfg.targets[FW_M_FEATURE_ADOPTION] = 0.4;
	f.cfg.targets[FW_M_GRR] = 0.9;
	load(&f);
	fw_metrics_compute(f.plg, at("2026-01-07"), at("2026-01-26"), &m);
	const struct fw_metric_value *c = m.cur, *pv = m.prev;
	near(c[FW_M_SIGNUPS], 7, "signups");
	near(c[FW_M_SIGNUPS_PAID], 5, "signups_paid");
	near(c[FW_M_SIGNUPS_ORGANIC], 2, "signups_organic");
	near(c[FW_M_ONBOARDING_COMPLETION], 2.0 / 7, "onboarding_completion");
	CHECK(c[FW_M_FEATURE_ADOPTION].has);
	CHECK_EQ_INT(m.nfeatures, 4);
	near(m.feature_cur[0], 0.5, "adoption Report Run");
	near(m.feature_cur[1], 3.0 / 8, "adoption Export");
	near(m.feature_cur[2], 2.0 / 8, "adoption Alert Set");
	near(c[FW_M_FEATURE_BREADTH], 9.0 / 8, "feature_breadth");
	near(c[FW_M_ACTIVE_DAYS_PER_WEEK], 13.0 / 9, "active_days_per_week");
	null(c[FW_M_GRR], "grr: nobody pays");
	near(c[FW_M_CHURNED_MRR], 0, "churned_mrr: nothing");

	near(pv[FW_M_SIGNUPS], 1, "previous signups");
	near(pv[FW_M_SIGNUPS_PAID], 1, "previous signups_paid");
	near(pv[FW_M_SIGNUPS_ORGANIC], 0, "previous signups_organic");
	near(pv[FW_M_ONBOARDING_COMPLETION], 0, "previous onboarding");
	near(m.feature_prev[0], 0, "previous adoption");
	near(pv[FW_M_FEATURE_BREADTH], 0, "previous breadth");
	near(pv[FW_M_ACTIVE_DAYS_PER_WEEK], 1, "previous active days per week");

	struct fw_buf json = {0};
	fw_metrics_json(&m, &f.cfg, &json);
	CHECK(strstr(json.data, "\"feature_adoption\":{\"value\":{\"Report Run\":0.5,\"Export\":0.375,"
				"\"Alert Set\":0.25},\"previous\":{\"Report Run\":0,\"Export\":0,"
				"\"Alert Set\":0},\"target\":0.4}") != NULL);
	CHECK(strstr(json.data, "\"grr\":{\"value\":null,\"previous\":null,\"target\":0.9}") != NULL);
	CHECK(strstr(json.data, "\"signups_paid\":{\"value\":5,\"previous\":1}") != NULL);
	CHECK(strstr(json.data, "\"feature_breadth\":{\"value\":1.125,\"previous\":0}") != NULL);
	/* the 17 contract keys come first, in the contract's order */
	CHECK(strstr(json.data, "\"k_factor\":{") < strstr(json.data, "\"signups_organic\":{"));
	fw_buf_release(&json);

	/* a range with no full week and nobody active: null */
	fw_metrics_compute(f.plg, at("2026-02-04"), at("2026-02-09"), &m);
	null(m.cur[FW_M_ACTIVE_DAYS_PER_WEEK], "no full week");
	null(m.cur[FW_M_FEATURE_ADOPTION], "nobody active");
	null(m.cur[FW_M_FEATURE_BREADTH], "nobody active: breadth");
	null(m.cur[FW_M_ONBOARDING_COMPLETION], "nobody signed up");
	near(m.cur[FW_M_SIGNUPS_ORGANIC], 0, "no sign-ups: 0");
	close_fixture(&f);
}
