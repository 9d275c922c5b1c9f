/* test_metrics.c — every contract metric on a small dataset computed by hand
 * (the arithmetic is in the comments), current period and previous. */
#include "../test.h"
#include "qtest.h"
#include "flywheel/config.h"
#include "flywheel/meta.h"
#include "flywheel/metrics.h"
#include "flywheel/store.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define at qt_at
#define ev(type, when, user, anon, name, group, props, traits) \
	qt_event(type, NULL, qt_at(when), user, anon, name, group, props, traits)

#define T(when, user, name) ev(FW_MSG_TRACK, when, user, "", name, "", "", "")

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

TEST(metrics_hand_computed)
{
	struct qt f;
	qt_open(&f);
	struct fw_event e[] = {
		/* ws3 pays 50 since 2025-12-20 (a group call with plan AND mrr) */
		ev(FW_MSG_GROUP, "2025-12-20T10:00:00Z", "B", "", "", "ws3", "", "{\"plan\":\"pro\",\"mrr\":50}"),
		/* A: signs up 01-05 10:00, activates 2 h later; days 05 06 10 12 */
		T("2026-01-05T10:00:00Z", "A", "Signed Up"),
		ev(FW_MSG_GROUP, "2026-01-05T10:00:00Z", "A", "", "", "ws1", "", "{\"name\":\"One\"}"),
		T("2026-01-05T12:00:00Z", "A", "Project Created"),
		ev(FW_MSG_TRACK, "2026-01-06T00:00:00Z", "A", "", "Plan Changed", "ws1", "{\"plan\":\"pro\",\"mrr\":100}", ""),
		T("2026-01-06T09:00:00Z", "A", "Report Viewed"),
		T("2026-01-06T09:30:00Z", "A", "Invite Sent"),
		ev(FW_MSG_TRACK, "2026-01-10T00:00:00Z", "A", "", "Plan Changed", "ws1", "{\"plan\":\"business\",\"mrr\":250}", ""),
		T("2026-01-12T09:00:00Z", "A", "Report Viewed"),
		/* B: signs up 01-05 23:00, activates 48 h later; days 05 07 08 12 */
		T("2026-01-05T23:00:00Z", "B", "Signed Up"),
		T("2026-01-07T23:00:00Z", "B", "Project Created"),
		ev(FW_MSG_TRACK, "2026-01-08T12:00:00Z", "B", "", "Plan Changed", "ws3", "{\"plan\":\"free\",\"mrr\":0}", ""),
		T("2026-01-12T10:00:00Z", "B", "Report Viewed"),
		/* C: signs up at midnight 01-06, never activates; days 06 07; ws2 */
		T("2026-01-06T00:00:00Z", "C", "Signed Up"),
		T("2026-01-07T10:00:00Z", "C", "Report Viewed"),
		ev(FW_MSG_GROUP, "2026-01-07T10:00:00Z", "C", "", "", "ws2", "", "{\"name\":\"Two\",\"plan\":\"pro\",\"created_at\":\"2026-01-06T00:00:00Z\"}"),
		/* D: no Signed Up: signs up at the identify carrying created_at; activates exactly 24 h later */
		ev(FW_MSG_IDENTIFY, "2026-01-08T08:00:00Z", "D", "", "", "", "", "{\"created_at\":\"2025-01-01\"}"),
		T("2026-01-09T08:00:00Z", "D", "Project Created"),
		/* E: anonymous sign-up and activation, joined by identify afterwards; day 07 */
		ev(FW_MSG_TRACK, "2026-01-07T10:00:00Z", "", "anon_e", "Signed Up", "", "", ""),
		ev(FW_MSG_TRACK, "2026-01-07T10:30:00Z", "", "anon_e", "Project Created", "", "", ""),
		ev(FW_MSG_IDENTIFY, "2026-01-07T11:00:00Z", "E", "anon_e", "", "", "", ""),
		/* F: invited by A (twice: counts once); day 10 */
		T("2026-01-10T10:00:00Z", "F", "Signed Up"),
		ev(FW_MSG_TRACK, "2026-01-10T10:05:00Z", "F", "", "Invite Accepted", "", "{\"inviter_id\":\"A\"}", ""),
		ev(FW_MSG_TRACK, "2026-01-10T10:06:00Z", "F", "", "Invite Accepted", "", "{\"inviter_id\":\"A\"}", ""),
	};
	qt_store(&f, e, FW_ARRAY_LEN(e));
	qt_load(&f);
	const struct fw_plg *p = f.plg;
	struct fw_metrics r;
	fw_metrics_compute(p, at("2026-01-05"), at("2026-01-12"), &r);
	const struct fw_metric_value *c = r.cur, *pv = r.prev;

	near(c[FW_M_SIGNUPS], 6, "signups");                       /* A B C D E F */
	near(c[FW_M_ACTIVATION_RATE_1D], 3.0 / 6, "activation 1d"); /* A 2h, D 24h, E 30m */
	near(c[FW_M_ACTIVATION_RATE_7D], 4.0 / 6, "activation 7d"); /* + B 48h */
	near(c[FW_M_TTFV_MEDIAN_SECONDS], 7200, "ttfv median");     /* [1800 7200 86400 172800], rank 2 */
	near(c[FW_M_TTFV_P90_SECONDS], 172800, "ttfv p90");         /* rank ceil(3.6) = 4 */
	near(c[FW_M_RETENTION_D1], 3.0 / 6, "retention d1");        /* A 05->06, C 06->07, D 08->09 */
	null(c[FW_M_RETENTION_D7], "retention d7");                 /* sign-up days in [05, 05): none */
	null(c[FW_M_RETENTION_W1], "retention w1");
	/* DAU/MAU by day 05..11: 2/2, 2/3, 3/4, 1/4, 1/5, 2/6, 0/6 -> 3.2 / 7 */
	near(c[FW_M_DAU_MAU], 3.2 / 7, "dau/mau");
	near(c[FW_M_WAU], 6, "wau");
	near(c[FW_M_MAU], 6, "mau");
	near(c[FW_M_FREE_TO_PAID_RATE], 0.5, "free to paid");      /* ws1 converted, ws2 not */
	near(c[FW_M_TIME_TO_CONVERT_MEDIAN_DAYS], 14.0 / 24, "time to convert"); /* ws1: 14 h */
	near(c[FW_M_ACV], 1200, "acv");                             /* 12 x 100 */
	near(c[FW_M_NRR], 0, "nrr");                                /* ws3 50 -> 0 */
	near(c[FW_M_EXPANSION_MRR], 150, "expansion");              /* ws1 100 -> 250 */
	near(c[FW_M_K_FACTOR], 1.0 / 6, "k-factor");                /* A invited F */

	near(pv[FW_M_SIGNUPS], 0, "previous signups");
	null(pv[FW_M_ACTIVATION_RATE_1D], "previous activation");
	null(pv[FW_M_TTFV_MEDIAN_SECONDS], "previous ttfv");
	null(pv[FW_M_DAU_MAU], "previous dau/mau");
	near(pv[FW_M_WAU], 0, "previous wau");
	null(pv[FW_M_FREE_TO_PAID_RATE], "previous free to paid");
	null(pv[FW_M_ACV], "previous acv");
	near(pv[FW_M_NRR], 1, "previous nrr");                      /* ws3 50 -> 50 */
	near(pv[FW_M_EXPANSION_MRR], 0, "previous expansion");
	null(pv[FW_M_K_FACTOR], "previous k-factor");

	struct fw_buf json = {0};
	f.cfg.targets[FW_M_SIGNUPS] = 10;
	fw_metrics_json(&r, &f.cfg, &json);
	CHECK(strstr(json.data, "{\"from\":\"2026-01-05\",\"to\":\"2026-01-12\",\"metrics\":{\"signups\":"
				"{\"value\":6,\"previous\":0,\"target\":10}") != NULL);
	CHECK(strstr(json.data, "\"retention_d7\":{\"value\":null,\"previous\":null}") != NULL);
	fw_buf_release(&json);
	qt_close(&f);
}
