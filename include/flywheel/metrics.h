/*
 * metrics.h — the PLG metrics of the interfaces contract (DESIGN.md) and the
 * further ones of its funnel table (enum fw_metric; docs/metrics.md defines
 * every one), each with value, previous (the same length just before `from`)
 * and target.
 *
 * fw_plg_load reads what the metrics need from the store and the metadata
 * once (people resolved through identities, sign-ups, activations, active
 * days, accounts and their plan changes, invites); fw_metrics_compute then
 * answers any range from that in memory. Definitions follow DESIGN.md's
 * fine print exactly; src/query/metrics.c says how, metric by metric.
 */
#ifndef FLYWHEEL_METRICS_H
#define FLYWHEEL_METRICS_H

#include "flywheel/config.h"
#include "flywheel/meta.h"
#include "flywheel/store.h"

struct fw_plg; /* the loaded data */

int fw_plg_load(struct fw_store *s, struct fw_meta *m, const struct fw_config *c,
		struct fw_plg **out, struct fw_err *err);
void fw_plg_free(struct fw_plg *p);

/* An account's MRR at time t (0 with no plan change then); *changed_ms gets
 * the time of the plan change it comes from (INT64_MIN if none). */
double fw_plg_account_mrr(const struct fw_plg *p, struct fw_str group_id, int64_t t,
			  int64_t *changed_ms);

struct fw_metric_value {
	int has; /* 0 = null (empty denominator) */
	double v;
};

struct fw_metrics {
	int64_t from_ms, to_ms;
	struct fw_metric_value cur[FW_M_COUNT], prev[FW_M_COUNT];
	/* feature_adoption per core feature (index = the config's core_features
	 * index); cur/prev[FW_M_FEATURE_ADOPTION].has says whether it is null */
	size_t nfeatures;
	struct fw_metric_value feature_cur[FW_CONFIG_MAX_LIST], feature_prev[FW_CONFIG_MAX_LIST];
};

/* Metrics over [from_ms, to_ms) (day-aligned) and the period before it. */
void fw_metrics_compute(const struct fw_plg *p, int64_t from_ms, int64_t to_ms,
			struct fw_metrics *out);
/* {"from":…,"to":…,"metrics":{name:{"value":…,"previous":…,"target":…}}};
 * feature_adoption's value and previous are {"Feature": share, …} or null. */
void fw_metrics_json(const struct fw_metrics *m, const struct fw_config *c, struct fw_buf *out);

#endif
