/* test_cohorts.c — the "retention", "stickiness", "lifecycle" and "trends"
 * kinds of POST /api/v1/query on a small fixture whose every number is
 * worked out by hand in the comments (the definitions are in docs/query/).
 *
 * The fixture (7 people, 2 accounts, January–February 2026). Weeks start on
 * Monday: W-1 = 12-29..01-04, W0 = 01-05..01-11, W1 = 01-12..01-18,
 * W2 = 01-19..01-25, W3 = 01-26..02-01, W4 = 02-02..02-08. All active events
 * except `$feature_flag_called` (the default inactive_events).
 *
 *   alice  Signed Up 01-05 10:00 (organic); Project Created 01-06; Report Viewed
 *          01-06, 01-12 00:00:00.000, 01-25 23:59:59.999; Task Completed 02-02.
 *          active days 05 06 12 25 02-02 → weeks {0,1,2,4}               [acme]
 *   bob    as anon_bob: page 01-04, Signed Up 01-07 12:00 (paid); identify
 *          joins anon_bob → bob 01-07 12:05; Report Viewed "2026-01-19T01:00+05:30"
 *          (= 01-18 19:30Z, W1); Task Completed "2026-01-19T05:30+05:30"
 *          (= 01-19 00:00Z, W2). active days 04 07 18 19 → weeks {-1,0,1,2} [acme]
 *   carol  Signed Up 01-11 23:59:59.999 (organic); Report Viewed 01-12 00:00:00.000;
 *          $feature_flag_called 01-20 (inactive); Report Viewed 02-01.
 *          active days 11 12 02-01 → weeks {0,1,3}                          [beta]
 *   dave   no Signed Up: identify with created_at 01-13 08:00 is the sign-up;
 *          Report Viewed 01-13; Project Created 01-14; Task Completed 01-27;
 *          Report Viewed 01-31 23:59:59.999. days 13 14 27 31 → weeks {1,3}   [beta]
 *   erin   Project Created 01-13 20:00 (before her sign-up: not an activation);
 *          Signed Up 01-14 09:00 (organic) — a later copy of that message id
 *          says 01-05 and is dropped; Report Viewed 01-21, 01-22.
 *          days 13 14 21 22 → weeks {1,2}
 *   frank  Signed Up 01-20 08:00 (paid); Project Created 01-20 09:00; Report
 *          Viewed 01-27 and "2026-02-01T01:00+05:30" (= 01-31 19:30Z).
 *          days 20 27 31 → weeks {2,3}
 *   gina   Signed Up 02-03 (organic). week {4}
 */
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

#define ev(type, id, when, user, anon, name, group, props, traits) \
	qt_event(type, id, qt_at(when), user, anon, name, group, props, traits)

/* track by a user id, with an account and properties */
#define T(when, user, name, group, props) ev(FW_MSG_TRACK, NULL, when, user, "", name, group, props, "")

struct fixture {
	struct qt q;
	struct fw_err err;
};

/* Store `e` (then `later`: copies of message ids already stored), apply the
 * identities, build the snapshot. */
static void fixture_open(struct fixture *f, const struct fw_event *e, size_t n,
			 const struct fw_event *later, size_t nlater)
{
	memset(f, 0, sizeof *f);
	qt_open(&f->q);
	qt_store(&f->q, e, n);
	if (nlater)
		qt_store(&f->q, later, nlater);
	qt_load(&f->q);
}

static void fixture_close(struct fixture *f)
{
	qt_close(&f->q);
}

/* Run a request written with single quotes for readability ('kind' → "kind").
 * Returns the parsed answer (NULL after a failed CHECK) or, with want_err,
 * the error message. */
static const struct fw_json *run(struct fixture *f, const char *req, int want_err, const char **msg)
{
	int rc;
	const struct fw_json *answer = qt_run(&f->q, req, fw_now_ms(), &rc, &f->err);
	if (want_err) {
		if (rc != FW_EINVAL) {
			fprintf(stderr, "  %s: expected a 400, got rc %d\n", req, rc);
			fw_test_failures++;
		}
		*msg = fw_arena_strndup(&f->q.arena, f->err.msg, strlen(f->err.msg));
		return NULL;
	}
	if (rc) {
		fprintf(stderr, "  %s: failed: %s\n", req, f->err.msg);
		fw_test_failures++;
	}
	return answer;
}

static const struct fw_json *ask(struct fixture *f, const char *req)
{
	return run(f, req, 0, NULL);
}

/* The value at a dotted path ("cohorts.0.retained"; numbers index arrays). */
static const struct fw_json *at(const struct fw_json *v, const char *path)
{
	char part[64];
	while (v && *path) {
		size_t n = strcspn(path, ".");
		snprintf(part, sizeof part, "%.*s", (int)n, path);
		path += n + (path[n] == '.');
		if (v->type == FW_JSON_ARRAY) {
			const struct fw_json *c = v->u.child;
			for (long i = strtol(part, NULL, 10); c && i > 0; i--)
				c = c->next;
			v = c;
		} else {
			v = fw_json_get(v, part);
		}
	}
	return v;
}

/* Compact JSON text of the value at path ("(absent)" if none). */
static const char *text_at(struct fixture *f, const struct fw_json *root, const char *path)
{
	const struct fw_json *v = at(root, path);
	if (!v)
		return "(absent)";
	struct fw_buf b = {0};
	fw_json_write_value(&b, v);
	char *s = fw_arena_strndup(&f->q.arena, b.data, b.len);
	fw_buf_release(&b);
	return s;
}

#define CHECK_AT(f, root, path, want) CHECK_EQ_STR(text_at(f, root, path), want)

static void check_num(const struct fw_json *root, const char *path, double want, int line)
{
	const struct fw_json *v = at(root, path);
	if (!v || v->type != FW_JSON_NUMBER || fabs(v->u.num - want) > 1e-12 * fmax(1, fabs(want))) {
		fprintf(stderr, "  line %d: %s: got %s%.15g, want %.15g\n", line, path,
			v && v->type == FW_JSON_NUMBER ? "" : "no number ", v ? v->u.num : 0, want);
		fw_test_failures++;
	}
}
#define CHECK_NUM(root, path, want) check_num(root, path, want, __LINE__)

static void check_error(struct fixture *f, const char *req, const char *part)
{
	const char *msg = "";
	run(f, req, 1, &msg);
	if (!strstr(msg, part)) {
		fprintf(stderr, "  %s: error \"%s\" does not say \"%s\"\n", req, msg, part);
		fw_test_failures++;
	}
}

static void open_main(struct fixture *f)
{
	const char *org = "{\"channel\":\"organic\"}", *paid = "{\"channel\":\"paid\"}";
	struct fw_event e[] = {
		T("2026-01-05T10:00:00Z", "alice", "Signed Up", "acme", org),
		T("2026-01-06T09:00:00Z", "alice", "Project Created", "acme", ""),
		T("2026-01-06T15:00:00Z", "alice", "Report Viewed", "acme", ""),
		T("2026-01-12T00:00:00.000Z", "alice", "Report Viewed", "acme", ""),
		T("2026-01-25T23:59:59.999Z", "alice", "Report Viewed", "acme", ""),
		T("2026-02-02T08:00:00Z", "alice", "Task Completed", "acme", ""),
		ev(FW_MSG_PAGE, NULL, "2026-01-04T12:00:00Z", "", "anon_bob", "$pageview", "acme", "", ""),
		ev(FW_MSG_TRACK, NULL, "2026-01-07T12:00:00Z", "", "anon_bob", "Signed Up", "acme", paid, ""),
		ev(FW_MSG_IDENTIFY, NULL, "2026-01-07T12:05:00Z", "bob", "anon_bob", "", "", "", "{}"),
		T("2026-01-19T01:00:00+05:30", "bob", "Report Viewed", "acme", ""),
		T("2026-01-19T05:30:00+05:30", "bob", "Task Completed", "acme", ""),
		T("2026-01-11T23:59:59.999Z", "carol", "Signed Up", "beta", org),
		T("2026-01-12T00:00:00.000Z", "carol", "Report Viewed", "beta", ""),
		T("2026-01-20T10:00:00Z", "carol", "$feature_flag_called", "beta", ""),
		T("2026-02-01T10:00:00Z", "carol", "Report Viewed", "beta", ""),
		ev(FW_MSG_IDENTIFY, NULL, "2026-01-13T08:00:00Z", "dave", "", "", "", "", "{\"created_at\":\"2025-06-01\"}"),
		T("2026-01-13T09:00:00Z", "dave", "Report Viewed", "beta", ""),
		T("2026-01-14T09:00:00Z", "dave", "Project Created", "beta", ""),
		T("2026-01-27T09:00:00Z", "dave", "Task Completed", "beta", ""),
		T("2026-01-31T23:59:59.999Z", "dave", "Report Viewed", "beta", ""),
		T("2026-01-13T20:00:00Z", "erin", "Project Created", "", ""),
		ev(FW_MSG_TRACK, "dup-erin", "2026-01-14T09:00:00Z", "erin", "", "Signed Up", "", org, ""),
		T("2026-01-21T10:00:00Z", "erin", "Report Viewed", "", ""),
		T("2026-01-22T10:00:00Z", "erin", "Report Viewed", "", ""),
		T("2026-01-20T08:00:00Z", "frank", "Signed Up", "", paid),
		T("2026-01-20T09:00:00Z", "frank", "Project Created", "", ""),
		T("2026-01-27T09:00:00Z", "frank", "Report Viewed", "", ""),
		T("2026-02-01T01:00:00+05:30", "frank", "Report Viewed", "", ""),
		T("2026-02-03T10:00:00Z", "gina", "Signed Up", "", org),
	};
	/* a second copy of erin's sign-up claiming 01-05: dropped */
	struct fw_event dup[] = {
		ev(FW_MSG_TRACK, "dup-erin", "2026-01-05T09:00:00Z", "erin", "", "Signed Up", "", org, ""),
	};
	fixture_open(f, e, FW_ARRAY_LEN(e), dup, FW_ARRAY_LEN(dup));
}

/* ---- retention ---- */

TEST(retention_weekly_first_time)
{
	struct fixture f;
	open_main(&f);
	/* cohorts W0..W3 by sign-up week: W0 alice bob carol (carol at 23:59:59.999
	 * on Sunday; erin's dropped 01-05 copy does not move her), W1 dave (identify)
	 * erin, W2 frank, W3 nobody (gina signs up in W4, outside).
	 *   W0  k0 all 3; k1 (W1) a b c 3; k2 (W2) a (01-25 23:59:59.999) b (01-19
	 *       00:00Z, written +05:30) = 2 (carol's W2 is $feature_flag_called only);
	 *       k3 (W3) c = 1; k4 (W4) a = 1
	 *   W1  k0 d e 2; k1 (W2) e 1; k2 (W3) d 1; k3 k4 0
	 *   W2  k0 f; k1 (W3) f; then 0
	 * curve: k0 6/6, k1 (3+1+1)/6, k2 (2+1+0)/6, k3 1/6, k4 1/6, over 4 cohorts */
	const struct fw_json *r = ask(&f, "{'kind':'retention','period':'week','periods':5,"
					  "'from':'2026-01-05','to':'2026-02-02'}");
	CHECK_AT(&f, r, "cohorts.0", "{\"cohort\":\"2026-01-05\",\"size\":3,\"retained\":[3,3,2,1,1],"
				     "\"rates\":[1,1,0.6666666666666666,0.3333333333333333,0.3333333333333333]}");
	CHECK_AT(&f, r, "cohorts.1.retained", "[2,1,1,0,0]");
	CHECK_AT(&f, r, "cohorts.2.retained", "[1,1,0,0,0]");
	CHECK_AT(&f, r, "cohorts.3", "{\"cohort\":\"2026-01-26\",\"size\":0,\"retained\":[0,0,0,0,0],"
				     "\"rates\":[null,null,null,null,null]}");
	CHECK_AT(&f, r, "cohorts.4", "(absent)");
	CHECK_AT(&f, r, "curve.0", "{\"period\":0,\"cohorts\":4,\"size\":6,\"retained\":6,\"rate\":1}");
	CHECK_AT(&f, r, "curve.1.retained", "5");
	CHECK_AT(&f, r, "curve.2.retained", "3");
	CHECK_NUM(r, "curve.3.rate", 1.0 / 6);
	CHECK_AT(&f, r, "curve.4.retained", "1");
	CHECK_AT(&f, r, "from", "\"2026-01-05\"");
	CHECK_AT(&f, r, "to", "\"2026-02-02\"");
	CHECK_AT(&f, r, "event", "null");

	/* on_or_after: retained at k if active in week c+k or later. Last active
	 * week: alice 4, bob 2, carol 3, dave 3, erin 2, frank 3.
	 *   W0: k0..k2 all 3, k3 a c 2, k4 a 1;  W1: k0 k1 d e 2, k2 d 1;  W2: k0 k1 f */
	r = ask(&f, "{'kind':'retention','periods':5,'from':'2026-01-05','to':'2026-02-02',"
		    "'mode':'on_or_after'}");
	CHECK_AT(&f, r, "cohorts.0.retained", "[3,3,3,2,1]");
	CHECK_AT(&f, r, "cohorts.1.retained", "[2,2,1,0,0]");
	CHECK_AT(&f, r, "cohorts.2.retained", "[1,1,0,0,0]");
	CHECK_AT(&f, r, "mode", "\"on_or_after\"");

	/* activated_only: Project Created at or after sign-up: alice (01-06 ≥ 01-05),
	 * dave (01-14 ≥ his identify 01-13), frank (09:00 ≥ 08:00); erin's was
	 * before her sign-up; bob and carol never. */
	r = ask(&f, "{'kind':'retention','periods':5,'from':'2026-01-05','to':'2026-02-02',"
		    "'activated_only':true}");
	CHECK_AT(&f, r, "cohorts.0.size", "1");
	CHECK_AT(&f, r, "cohorts.0.retained", "[1,1,1,0,1]");
	CHECK_AT(&f, r, "cohorts.1.retained", "[1,0,1,0,0]");
	CHECK_AT(&f, r, "cohorts.2.retained", "[1,1,0,0,0]");

	/* where on the sign-up event: channel paid = bob (W0), frank (W2); dave's
	 * sign-up is an identify, with no event properties: left out */
	r = ask(&f, "{'kind':'retention','periods':5,'from':'2026-01-05','to':'2026-02-02',"
		    "'where':[{'property':'channel','value':'paid'}]}");
	CHECK_AT(&f, r, "cohorts.0.retained", "[1,1,1,0,0]");
	CHECK_AT(&f, r, "cohorts.1.size", "0");
	CHECK_AT(&f, r, "cohorts.2.retained", "[1,1,0,0,0]");

	/* return_event Report Viewed: weeks a {0,1,2} b {1} c {1,3} d {1,3} e {2} f {3}
	 *   W0 (a b c): k0 a; k1 a b c; k2 a; k3 c; k4 none   W1 (d e): d, e, d, 0, 0
	 *   W2 (f): 0, 1, 0, 0, 0 */
	r = ask(&f, "{'kind':'retention','periods':5,'from':'2026-01-05','to':'2026-02-02',"
		    "'return_event':'Report Viewed'}");
	CHECK_AT(&f, r, "cohorts.0.retained", "[1,3,1,1,0]");
	CHECK_AT(&f, r, "cohorts.1.retained", "[1,1,1,0,0]");
	CHECK_AT(&f, r, "cohorts.2.retained", "[0,1,0,0,0]");
	CHECK_AT(&f, r, "return_event", "\"Report Viewed\"");

	/* cohort event Report Viewed (first time): a W0; b (01-18 19:30Z) c d W1;
	 * e W2; f W3. k1: a (W1) ✓; b (W2 01-19) ✓ c ✗ d ✗; e (W3) ✗; f (W4) ✗ */
	r = ask(&f, "{'kind':'retention','periods':2,'from':'2026-01-05','to':'2026-02-02',"
		    "'event':'Report Viewed'}");
	CHECK_AT(&f, r, "cohorts.0.retained", "[1,1]");
	CHECK_AT(&f, r, "cohorts.1.retained", "[3,1]");
	CHECK_AT(&f, r, "cohorts.2.retained", "[1,0]");
	CHECK_AT(&f, r, "cohorts.3.retained", "[1,0]");
	fixture_close(&f);
}

TEST(retention_as_of_reports_started_periods)
{
	struct fixture f;
	open_main(&f);
	/* as_of Wed 01-21 00:00: weeks W0 W1 W2 have started (W3 has not), so
	 * W0 reaches k0..k2, W1 k0 k1, W2 k0, W3 nothing. Events after as_of still
	 * count (as in the funnel): alice's 01-25, erin's 01-21 10:00.
	 *   W0 [3,3,2]   W1 [2,1]   W2 [1]   W3 []
	 * curve: k0 3 cohorts 6/6; k1 2 cohorts (3+1)/5; k2 1 cohort 2/3 */
	const struct fw_json *r = ask(&f, "{'kind':'retention','periods':5,'from':'2026-01-05',"
					  "'to':'2026-02-02','as_of':'2026-01-21'}");
	CHECK_AT(&f, r, "cohorts.0.retained", "[3,3,2]");
	CHECK_AT(&f, r, "cohorts.1.retained", "[2,1]");
	CHECK_AT(&f, r, "cohorts.2.retained", "[1]");
	CHECK_AT(&f, r, "cohorts.3", "{\"cohort\":\"2026-01-26\",\"size\":0,\"retained\":[],\"rates\":[]}");
	CHECK_AT(&f, r, "curve", "[{\"period\":0,\"cohorts\":3,\"size\":6,\"retained\":6,\"rate\":1},"
				 "{\"period\":1,\"cohorts\":2,\"size\":5,\"retained\":4,\"rate\":0.8},"
				 "{\"period\":2,\"cohorts\":1,\"size\":3,\"retained\":2,\"rate\":0.6666666666666666}]");
	CHECK_AT(&f, r, "as_of", "\"2026-01-21T00:00:00.000Z\"");
	/* the default range: the last `periods` weeks up to as_of (W-1..W1 for 3
	 * periods with as_of in W1): bob's pre-merge visit is no sign-up */
	r = ask(&f, "{'kind':'retention','periods':3,'as_of':'2026-01-14T12:00:00Z'}");
	CHECK_AT(&f, r, "from", "\"2025-12-29\"");
	CHECK_AT(&f, r, "to", "\"2026-01-19\"");
	CHECK_AT(&f, r, "cohorts.1.size", "3");
	CHECK_AT(&f, r, "cohorts.2.size", "2"); /* dave, and erin (01-14 09:00, before as_of) */
	fixture_close(&f);
}

TEST(retention_recurring_day_month_account)
{
	struct fixture f;
	open_main(&f);
	/* recurring, any active event: W0 = everyone active in W0 (a b c), W1 = a b c d e.
	 *   W0: k1 (W1) a b c, k2 (W2) a b → [3,3,2]
	 *   W1: k1 (W2) a b e, k2 (W3) c d → [5,3,2] */
	const struct fw_json *r = ask(&f, "{'kind':'retention','cohort':'recurring','periods':3,"
					  "'from':'2026-01-05','to':'2026-01-19'}");
	CHECK_AT(&f, r, "cohorts.0.retained", "[3,3,2]");
	CHECK_AT(&f, r, "cohorts.1.retained", "[5,3,2]");
	CHECK_AT(&f, r, "cohorts.1.size", "5");

	/* daily: cohorts 01-11 (carol, at 23:59:59.999), 01-12 (none), 01-13 (dave)
	 *   carol: 01-11 ✓, 01-12 00:00:00.000 ✓, 01-13 ✗;  dave: 13 ✓ 14 ✓ 15 ✗ */
	r = ask(&f, "{'kind':'retention','period':'day','periods':3,'from':'2026-01-11','to':'2026-01-14'}");
	CHECK_AT(&f, r, "cohorts.0.retained", "[1,1,0]");
	CHECK_AT(&f, r, "cohorts.1.retained", "[0,0,0]");
	CHECK_AT(&f, r, "cohorts.2.retained", "[1,1,0]");

	/* monthly: January a b c d e f; k1 (February): alice 02-02, carol 02-01;
	 * dave's 01-31 23:59:59.999 and frank's 02-01T01:00+05:30 are January → [6,2];
	 * February: gina → [1,0] */
	r = ask(&f, "{'kind':'retention','period':'month','periods':2,'from':'2026-01-01','to':'2026-03-01'}");
	CHECK_AT(&f, r, "cohorts.0.retained", "[6,2]");
	CHECK_AT(&f, r, "cohorts.1.retained", "[1,0]");
	CHECK_AT(&f, r, "cohorts.1.cohort", "\"2026-02-01\"");

	/* accounts: the first Signed Up among the account's events — acme alice 01-05,
	 * beta carol 01-11: both W0. Active weeks: acme {-1,0,1,2,4}, beta {0,1,3}
	 * (carol's W2 event is inactive) → [2,2,1,1,1] */
	r = ask(&f, "{'kind':'retention','unit':'account','periods':5,'from':'2026-01-05','to':'2026-02-02'}");
	CHECK_AT(&f, r, "cohorts.0.retained", "[2,2,1,1,1]");
	CHECK_AT(&f, r, "cohorts.1.size", "0");
	CHECK_AT(&f, r, "unit", "\"account\"");
	fixture_close(&f);
}

TEST(retention_people)
{
	struct fixture f;
	open_main(&f);
	/* W0 at k3 (W3): alice and bob lost, carol retained; pages of one */
	const struct fw_json *r = ask(&f, "{'kind':'retention','periods':5,'from':'2026-01-05','to':'2026-02-02',"
					  "'people':{'cohort':'2026-01-05','period':3,'status':'lost','offset':1,'limit':1}}");
	CHECK_AT(&f, r, "people", "{\"unit\":\"person\",\"total\":2,\"offset\":1,\"limit\":1,\"items\":[\"bob\"]}");
	r = ask(&f, "{'kind':'retention','periods':5,'from':'2026-01-05','to':'2026-02-02',"
		    "'people':{'cohort':'2026-01-05','period':3}}");
	CHECK_AT(&f, r, "people.items", "[\"carol\"]");
	/* a day inside the week names the cohort; without a period, its members */
	r = ask(&f, "{'kind':'retention','periods':5,'from':'2026-01-05','to':'2026-02-02',"
		    "'people':{'cohort':'2026-01-14'}}");
	CHECK_AT(&f, r, "people.items", "[\"dave\",\"erin\"]");
	r = ask(&f, "{'kind':'retention','unit':'account','periods':5,'from':'2026-01-05','to':'2026-02-02',"
		    "'people':{'cohort':'2026-01-05','period':2,'status':'lost'}}");
	CHECK_AT(&f, r, "people.items", "[\"beta\"]");
	CHECK_AT(&f, r, "people.unit", "\"account\"");
	check_error(&f, "{'kind':'retention','periods':5,'from':'2026-01-05','to':'2026-02-02','people':{'cohort':'2026-03-02'}}",
		    "people.cohort: not in the answer's periods (2026-01-05 to 2026-02-01)");
	check_error(&f, "{'kind':'retention','periods':5,'from':'2026-01-05','to':'2026-02-02','as_of':'2026-01-21','people':{'cohort':'2026-01-12','period':2}}",
		    "people.period: period 2 of that cohort has not started yet");
	check_error(&f, "{'kind':'retention','from':'2026-01-05','to':'2026-01-12','people':{'cohort':'2026-01-05','status':'gone'}}",
		    "people.status: expected one of \"retained\", \"lost\"");
	fixture_close(&f);
}

/* ---- stickiness ---- */

TEST(stickiness_weeks_and_months)
{
	struct fixture f;
	open_main(&f);
	/* active days per week:
	 *   W0 (05..11): alice 05 06 → 2; bob 07; carol 11 → [2,1,0,0,0,0,0], mean 4/3
	 *   W1 (12..18): alice 12; bob 18 (19:30Z); carol 12; dave 13 14; erin 13 14
	 *                → [3,2,…], mean 7/5
	 *   W2 (19..25): alice 25; bob 19; erin 21 22; frank 20 → [3,1,…], mean 5/4
	 *   pooled [8,4,0,0,0,0,0] over 12 person-weeks, mean 16/12
	 * `to` 01-28 leaves W3 out: only whole weeks count. */
	const struct fw_json *r = ask(&f, "{'kind':'stickiness','from':'2026-01-05','to':'2026-01-28'}");
	CHECK_AT(&f, r, "periods.0", "{\"period\":\"2026-01-05\",\"days\":7,\"active\":3,"
				     "\"active_days\":[2,1,0,0,0,0,0],\"mean_active_days\":1.3333333333333333}");
	CHECK_AT(&f, r, "periods.1.active_days", "[3,2,0,0,0,0,0]");
	CHECK_NUM(r, "periods.1.mean_active_days", 1.4);
	CHECK_AT(&f, r, "periods.2.active_days", "[3,1,0,0,0,0,0]");
	CHECK_AT(&f, r, "periods.3", "(absent)");
	CHECK_AT(&f, r, "pooled", "{\"periods\":3,\"active\":12,\"active_days\":[8,4,0,0,0,0,0],"
				  "\"mean_active_days\":1.3333333333333333}");
	CHECK_AT(&f, r, "to", "\"2026-01-26\"");
	/* from on a Tuesday: W0 is not whole */
	r = ask(&f, "{'kind':'stickiness','from':'2026-01-06','to':'2026-01-26'}");
	CHECK_AT(&f, r, "periods.0.period", "\"2026-01-12\"");
	CHECK_AT(&f, r, "pooled.periods", "2");

	/* January (31 days): alice 4 (05 06 12 25), bob 4 (04 07 18 19), carol 2,
	 * dave 4 (13 14 27 31), erin 4, frank 3 (20 27 31 19:30Z) → 2:1 3:1 4:4,
	 * mean 21/6 */
	r = ask(&f, "{'kind':'stickiness','period':'month','from':'2026-01-01','to':'2026-02-01'}");
	CHECK_AT(&f, r, "periods.0.days", "31");
	CHECK_AT(&f, r, "periods.0.active_days", "[0,1,1,4,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]");
	CHECK_NUM(r, "periods.0.mean_active_days", 3.5);
	/* February 2026 has 28 days */
	r = ask(&f, "{'kind':'stickiness','period':'month','from':'2026-02-01','to':'2026-03-01'}");
	CHECK_AT(&f, r, "periods.0.days", "28");
	CHECK_AT(&f, r, "periods.0.active", "3"); /* alice 02-02, carol 02-01, gina 02-03 */

	/* accounts: acme W0 05 06 07 → 3, W1 12 18 → 2, W2 19 25 → 2;
	 * beta W0 11 → 1, W1 12 13 14 → 3, W2 none (inactive only) */
	r = ask(&f, "{'kind':'stickiness','unit':'account','from':'2026-01-05','to':'2026-01-26'}");
	CHECK_AT(&f, r, "periods.0.active_days", "[1,0,1,0,0,0,0]");
	CHECK_AT(&f, r, "periods.1.active_days", "[0,1,1,0,0,0,0]");
	CHECK_AT(&f, r, "periods.2.active_days", "[0,1,0,0,0,0,0]");

	/* only Report Viewed: W1 alice carol dave bob 1 day each */
	r = ask(&f, "{'kind':'stickiness','event':'Report Viewed','from':'2026-01-12','to':'2026-01-19'}");
	CHECK_AT(&f, r, "periods.0.active_days", "[4,0,0,0,0,0,0]");

	/* people: 2 active days in W1 */
	r = ask(&f, "{'kind':'stickiness','from':'2026-01-05','to':'2026-01-26','people':{'period':'2026-01-12','days':2}}");
	CHECK_AT(&f, r, "people.items", "[\"dave\",\"erin\"]");
	CHECK_AT(&f, r, "people.total", "2");
	check_error(&f, "{'kind':'stickiness','period':'day'}", "period: expected \"week\" or \"month\"");
	fixture_close(&f);
}

/* ---- lifecycle ---- */

TEST(lifecycle_statuses)
{
	struct fixture f;
	open_main(&f);
	/* weeks {…}: alice {0,1,2,4} bob {-1,0,1,2} carol {0,1,3} dave {1,3}
	 * erin {1,2} frank {2,3} gina {4}
	 *   W1: returning a b c; new d e
	 *   W2: returning a b e; new f; dormant c d
	 *   W3: returning f; resurrecting c d; dormant a b e
	 *   W4: resurrecting a; new g; dormant c d f */
	const struct fw_json *r = ask(&f, "{'kind':'lifecycle','from':'2026-01-12','to':'2026-02-09'}");
	CHECK_AT(&f, r, "periods.0", "{\"period\":\"2026-01-12\",\"new\":2,\"returning\":3,"
				     "\"resurrecting\":0,\"dormant\":0,\"active\":5}");
	CHECK_AT(&f, r, "periods.1", "{\"period\":\"2026-01-19\",\"new\":1,\"returning\":3,"
				     "\"resurrecting\":0,\"dormant\":2,\"active\":4}");
	CHECK_AT(&f, r, "periods.2", "{\"period\":\"2026-01-26\",\"new\":0,\"returning\":1,"
				     "\"resurrecting\":2,\"dormant\":3,\"active\":3}");
	CHECK_AT(&f, r, "periods.3", "{\"period\":\"2026-02-02\",\"new\":1,\"returning\":0,"
				     "\"resurrecting\":1,\"dormant\":3,\"active\":2}");
	/* W0 alone: bob's anonymous visit in W-1 (merged into him) makes him
	 * returning; alice and carol are new */
	r = ask(&f, "{'kind':'lifecycle','from':'2026-01-05','to':'2026-01-12'}");
	CHECK_AT(&f, r, "periods.0.new", "2");
	CHECK_AT(&f, r, "periods.0.returning", "1");
	/* W3 alone: carol and dave resurrect from weeks before the window */
	r = ask(&f, "{'kind':'lifecycle','from':'2026-01-26','to':'2026-02-02',"
		    "'people':{'period':'2026-01-28','status':'dormant'}}");
	CHECK_AT(&f, r, "periods.0.resurrecting", "2");
	CHECK_AT(&f, r, "people.items", "[\"alice\",\"bob\",\"erin\"]");
	/* days 01-11, 01-12 (previous: 01-10): carol new on 11 (23:59:59.999),
	 * returning on 12 (00:00:00.000); alice resurrects on 12 */
	r = ask(&f, "{'kind':'lifecycle','period':'day','from':'2026-01-11','to':'2026-01-13'}");
	CHECK_AT(&f, r, "periods.0.new", "1");
	CHECK_AT(&f, r, "periods.1", "{\"period\":\"2026-01-12\",\"new\":0,\"returning\":1,"
				     "\"resurrecting\":1,\"dormant\":0,\"active\":2}");
	/* months: January all six new; February alice carol returning, gina new,
	 * bob dave erin frank dormant (dave's 01-31 23:59:59.999 is January) */
	r = ask(&f, "{'kind':'lifecycle','period':'month','from':'2026-01-01','to':'2026-03-01'}");
	CHECK_AT(&f, r, "periods.0.new", "6");
	CHECK_AT(&f, r, "periods.1", "{\"period\":\"2026-02-01\",\"new\":1,\"returning\":2,"
				     "\"resurrecting\":0,\"dormant\":4,\"active\":3}");
	check_error(&f, "{'kind':'lifecycle','from':'2026-01-05','to':'2026-01-12','people':{'period':'2026-01-05','status':'lost'}}",
		    "people.status: expected one of \"new\", \"returning\", \"resurrecting\", \"dormant\"");
	fixture_close(&f);
}

/* ---- trends ---- */

TEST(trends_counts_uniques_active)
{
	struct fixture f;
	open_main(&f);
	/* count per day, any active event: 01-11 carol's sign-up (23:59:59.999);
	 * 01-12 alice + carol at 00:00:00.000; 01-13 dave, erin; 01-14 dave, erin
	 * (her sign-up once: the duplicate is dropped) */
	const struct fw_json *r = ask(&f, "{'kind':'trends','from':'2026-01-11','to':'2026-01-15'}");
	CHECK_AT(&f, r, "series.0.points", "[{\"period\":\"2026-01-11\",\"value\":1},{\"period\":\"2026-01-12\",\"value\":2},"
					   "{\"period\":\"2026-01-13\",\"value\":2},{\"period\":\"2026-01-14\",\"value\":2}]");
	CHECK_AT(&f, r, "series.0.total", "7");
	CHECK_AT(&f, r, "series.0.label", "\"All active events\"");
	CHECK_AT(&f, r, "series.0.math", "\"count\"");

	/* Report Viewed per week W0..W3: 1, 4 (a b c d), 3 (a e e), 4 (c d f f) */
	r = ask(&f, "{'kind':'trends','period':'week','from':'2026-01-05','to':'2026-02-02',"
		    "'series':[{'event':'Report Viewed','label':'views'},{'math':'uniques'}]}");
	CHECK_AT(&f, r, "series.0.points.1", "{\"period\":\"2026-01-12\",\"value\":4}");
	CHECK_AT(&f, r, "series.0.total", "12");
	CHECK_AT(&f, r, "series.0.label", "\"views\"");
	/* uniques per week: 3, 5, 4 (a b e f), 3 (c d f); the range: 6 */
	CHECK_AT(&f, r, "series.1.points.0.value", "3");
	CHECK_AT(&f, r, "series.1.points.1.value", "5");
	CHECK_AT(&f, r, "series.1.points.2.value", "4");
	CHECK_AT(&f, r, "series.1.points.3.value", "3");
	CHECK_AT(&f, r, "series.1.total", "6");

	/* a week cut by the range: 01-07..01-11 bob carol; 01-12..01-13 a c d e */
	r = ask(&f, "{'kind':'trends','period':'week','from':'2026-01-07','to':'2026-01-14',"
		    "'series':[{'math':'uniques'}]}");
	CHECK_AT(&f, r, "series.0.points", "[{\"period\":\"2026-01-05\",\"value\":2},{\"period\":\"2026-01-12\",\"value\":4}]");
	CHECK_AT(&f, r, "series.0.total", "5");

	/* days 18 19 20: DAU 1 (bob 19:30Z) 1 (bob 00:00Z) 1 (frank; carol's flag is
	 * inactive). WAU (7 days ending the day): 18 a b c d e 5; 19 b d e 3; 20
	 * b d e f 4. MAU: 5, 5, 6. DAU/MAU 1/5 1/5 1/6: mean 17/90 */
	r = ask(&f, "{'kind':'trends','from':'2026-01-18','to':'2026-01-21','series':["
		    "{'math':'dau'},{'math':'wau'},{'math':'mau'},{'math':'dau_mau'}]}");
	CHECK_AT(&f, r, "series.0.total", "1");
	CHECK_AT(&f, r, "series.1.points", "[{\"period\":\"2026-01-18\",\"value\":5},{\"period\":\"2026-01-19\",\"value\":3},"
					   "{\"period\":\"2026-01-20\",\"value\":4}]");
	CHECK_AT(&f, r, "series.1.total", "4");
	CHECK_AT(&f, r, "series.2.points.1.value", "5");
	CHECK_AT(&f, r, "series.2.total", "6");
	CHECK_NUM(r, "series.3.points.0.value", 0.2);
	CHECK_NUM(r, "series.3.points.2.value", 1.0 / 6);
	CHECK_NUM(r, "series.3.total", 17.0 / 90);

	/* dau_mau by week W2 (19..25): DAU 1 1 1 1 0 0 1, MAU 5 6 6 6 6 6 6 →
	 * (1/5 + 4/6) / 7 = 13/105 */
	r = ask(&f, "{'kind':'trends','period':'week','from':'2026-01-19','to':'2026-01-26',"
		    "'series':[{'math':'dau_mau'}]}");
	CHECK_NUM(r, "series.0.points.0.value", 13.0 / 105);
	/* no activity within 30 days: MAU 0 every day → null */
	r = ask(&f, "{'kind':'trends','from':'2025-11-01','to':'2025-11-03','series':[{'math':'dau_mau'}]}");
	CHECK_AT(&f, r, "series.0.points.1.value", "null");
	CHECK_AT(&f, r, "series.0.total", "null");

	/* accounts, uniques per week: W0 acme beta; W1 both; W2 acme (beta only
	 * inactive); W3 beta */
	r = ask(&f, "{'kind':'trends','unit':'account','period':'week','from':'2026-01-05','to':'2026-02-02',"
		    "'series':[{'math':'uniques'}]}");
	CHECK_AT(&f, r, "series.0.points.2.value", "1");
	CHECK_AT(&f, r, "series.0.points.3.value", "1");
	CHECK_AT(&f, r, "series.0.total", "2");
	fixture_close(&f);
}

TEST(trends_breakdown)
{
	struct fixture f;
	open_main(&f);
	/* Signed Up by channel, per month: organic a c e (Jan) g (Feb) = 4;
	 * paid b f (Jan) = 2 */
	const struct fw_json *r = ask(&f, "{'kind':'trends','period':'month','from':'2026-01-01','to':'2026-03-01',"
					  "'breakdown':'channel','series':[{'event':'Signed Up'}]}");
	CHECK_AT(&f, r, "series.0.breakdown_value", "\"organic\"");
	CHECK_AT(&f, r, "series.0.points", "[{\"period\":\"2026-01-01\",\"value\":3},{\"period\":\"2026-02-01\",\"value\":1}]");
	CHECK_AT(&f, r, "series.1.breakdown_value", "\"paid\"");
	CHECK_AT(&f, r, "series.1.total", "2");
	CHECK_AT(&f, r, "series.2", "(absent)");
	/* all active events: 26 (a 6, b 4, c 3, d 4, e 4, f 4, g 1); only the 6
	 * sign-ups carry a channel: the absent value (null) ranks first with 20 */
	r = ask(&f, "{'kind':'trends','period':'month','from':'2026-01-01','to':'2026-03-01','breakdown':'channel'}");
	CHECK_AT(&f, r, "series.0.breakdown_value", "null");
	CHECK_AT(&f, r, "series.0.total", "20");
	CHECK_AT(&f, r, "series.1.total", "4");
	CHECK_AT(&f, r, "series.2.total", "2");
	fixture_close(&f);

	/* 28 values: a ×3, b ×2, c00..c25 once: the top 25 are a, b, c00..c22 (ties
	 * by text); c23 c24 c25 are "$other" (3 events) */
	struct fw_event e[31];
	char props[31][32];
	size_t n = 0;
	for (int i = 0; i < 31; i++) {
		int v = i < 3 ? -2 : i < 5 ? -1 : i - 5; /* a a a b b c00 … c25 */
		if (v == -2)
			snprintf(props[n], sizeof props[n], "{\"v\":\"a\"}");
		else if (v == -1)
			snprintf(props[n], sizeof props[n], "{\"v\":\"b\"}");
		else
			snprintf(props[n], sizeof props[n], "{\"v\":\"c%02d\"}", v);
		e[n] = T("2026-03-02T10:00:00Z", "zed", "Clicked", "", props[n]);
		n++;
	}
	fixture_open(&f, e, n, NULL, 0);
	r = ask(&f, "{'kind':'trends','from':'2026-03-02','to':'2026-03-03','breakdown':'v'}");
	CHECK_AT(&f, r, "series.0.breakdown_value", "\"a\"");
	CHECK_AT(&f, r, "series.0.total", "3");
	CHECK_AT(&f, r, "series.1.total", "2");
	CHECK_AT(&f, r, "series.24.breakdown_value", "\"c22\"");
	CHECK_AT(&f, r, "series.25", "{\"label\":\"All active events\",\"event\":null,\"math\":\"count\","
				     "\"breakdown_value\":\"$other\",\"points\":[{\"period\":\"2026-03-02\",\"value\":3}],\"total\":3}");
	CHECK_AT(&f, r, "series.26", "(absent)");
	fixture_close(&f);
}

TEST(cohort_kinds_bad_requests)
{
	struct fixture f;
	open_main(&f);
	check_error(&f, "{'kind':'retention','periods':0}", "periods: expected a whole number from 1 to 400");
	check_error(&f, "{'kind':'retention','perods':8}", "perods: not a field of retention");
	check_error(&f, "{'kind':'retention','mode':'later'}", "mode: expected one of \"on\", \"on_or_after\"");
	check_error(&f, "{'kind':'retention','activated_only':'yes'}", "activated_only: expected true or false");
	check_error(&f, "{'kind':'retention','from':'2026-02-01','to':'2026-01-01'}", "from: must be before to");
	check_error(&f, "{'kind':'retention','period':'day','from':'2020-01-01','to':'2026-01-01'}",
		    "more than 1000 cohorts");
	check_error(&f, "{'kind':'retention','event':''}", "event: expected an event name");
	check_error(&f, "{'kind':'retention','period':'week','period':'day'}", "period: given twice in retention");
	check_error(&f, "{'kind':'lifecycle','unit':'team'}", "unit: expected one of \"person\", \"account\"");
	check_error(&f, "{'kind':'trends','from':'2026-01-01T12:00:00Z','to':'2026-01-03'}", "whole UTC days");
	check_error(&f, "{'kind':'trends','series':[{'math':'median'}]}", "series[0].math: expected one of");
	check_error(&f, "{'kind':'trends','series':[{'event':'A'},{'evnt':'B'}]}", "series[1].evnt: not a field");
	check_error(&f, "{'kind':'trends','series':[]}", "series: expected an array of 1 to 20");
	check_error(&f, "{'kind':'trends','people':{}}", "people: trends has no people list");
	check_error(&f, "{'kind':'stickiness','where':[{'property':'channel','op':'like'}]}", "where[0].op");
	/* an event nobody sent is no error: zeros */
	const struct fw_json *r = ask(&f, "{'kind':'trends','from':'2026-01-05','to':'2026-01-07','series':[{'event':'Nope'}]}");
	CHECK_AT(&f, r, "series.0.total", "0");
	fixture_close(&f);
}
