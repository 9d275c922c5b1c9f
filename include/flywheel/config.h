/*
 * config.h — flywheel.yaml: what the events mean (sign-up, activation, active
 * and inactive events, core features, onboarding, plans, invites), targets per
 * metric, keys and server settings. One table in src/rules/config.c is the
 * parser, the defaults and the documentation (docs/config.md) at once.
 *
 * Lookup order (every subcommand): --config FILE, else DATA/flywheel.yaml,
 * else ./flywheel.yaml, else the built-in defaults. With no file at all the
 * defaults follow ../shared/DESIGN.md's data conventions.
 */
#ifndef FLYWHEEL_CONFIG_H
#define FLYWHEEL_CONFIG_H

#include "flywheel/base.h"

#define FW_CONFIG_MAX_LIST 64

struct fw_config_list {
	char *items[FW_CONFIG_MAX_LIST];
	size_t n;
};

/* Metric keys, in report order: the 17 of the interfaces contract (DESIGN.md),
 * then the further PLG metrics of the funnel table (docs/metrics.md). */
enum fw_metric {
	FW_M_SIGNUPS,
	FW_M_ACTIVATION_RATE_1D,
	FW_M_ACTIVATION_RATE_7D,
	FW_M_TTFV_MEDIAN_SECONDS,
	FW_M_TTFV_P90_SECONDS,
	FW_M_RETENTION_D1,
	FW_M_RETENTION_D7,
	FW_M_RETENTION_W1,
	FW_M_DAU_MAU,
	FW_M_WAU,
	FW_M_MAU,
	FW_M_FREE_TO_PAID_RATE,
	FW_M_TIME_TO_CONVERT_MEDIAN_DAYS,
	FW_M_ACV,
	FW_M_NRR,
	FW_M_EXPANSION_MRR,
	FW_M_K_FACTOR,
	/* beyond the contract */
	FW_M_SIGNUPS_ORGANIC,
	FW_M_SIGNUPS_PAID,
	FW_M_ONBOARDING_COMPLETION,
	FW_M_FEATURE_ADOPTION, /* one value per core feature (struct fw_metrics.features) */
	FW_M_FEATURE_BREADTH,
	FW_M_ACTIVE_DAYS_PER_WEEK,
	FW_M_GRR,
	FW_M_CONTRACTION_MRR,
	FW_M_CHURNED_MRR,
	FW_M_COUNT
};
#define FW_M_CONTRACT_COUNT (FW_M_K_FACTOR + 1)
extern const char *const fw_metric_names[FW_M_COUNT];

struct fw_config {
	char *source;            /* the file read, or NULL for built-in defaults */
	/* keys (environment variables override) */
	struct fw_config_list write_keys, secret_keys;
	/* server */
	char *listen;            /* "127.0.0.1:8080" */
	int timeout_s;           /* 30 */
	int min_free_mb;         /* 64 */
	/* events */
	char *signup_event;            /* "Signed Up" */
	char *activation_event;        /* "Project Created" */
	int activation_min_count;      /* 1 */
	struct fw_config_list inactive_events; /* "$feature_flag_called", "Signed Out", … */
	struct fw_config_list core_features;   /* event names counted as core features */
	struct fw_config_list onboarding_steps;/* event names, in order */
	struct fw_config_list channel_properties; /* "channel", "utm_source" */
	struct fw_config_list paid_channels;   /* values counted as paid acquisition */
	char *plan_event;              /* "Plan Changed" */
	char *plan_property;           /* "plan" */
	char *mrr_property;            /* "mrr" */
	int conversion_window_days;    /* 90 */
	char *invite_sent_event;       /* "Invite Sent" */
	char *invite_accepted_event;   /* "Invite Accepted" */
	char *inviter_property;        /* "inviter_id" */
	int k_factor_window_days;      /* 30 */
	/* targets, NaN where absent */
	double targets[FW_M_COUNT];
};

/* One problem found while reading a config file: 1-based line and column. */
struct fw_config_error {
	int line, column;
	char msg[512];
};

/* Ownership: fw_config_defaults, fw_config_load and fw_config_resolve each
 * fill the whole struct (do not call one on a struct another filled without
 * fw_config_release in between); on failure the struct is left all-zero. */

/* Built-in defaults. Free with fw_config_release. */
void fw_config_defaults(struct fw_config *c);
/* Read `path` over the defaults. Returns 0, or FW_EINVAL with up to `max`
 * errors in errs (*nerrs set), or FW_EIO if the file cannot be read. */
int fw_config_load(struct fw_config *c, const char *path, struct fw_config_error *errs,
		   size_t max, size_t *nerrs, struct fw_err *err);
/* Find the file by the lookup order above (data_dir may be NULL) and load it;
 * on errors, err gets the first one as "FILE:LINE:COL: message". */
int fw_config_resolve(struct fw_config *c, const char *explicit_path, const char *data_dir,
		      struct fw_err *err);
void fw_config_release(struct fw_config *c);

/* The option table as the markdown reference of docs/config.md. */
void fw_config_write_docs(struct fw_buf *out);

/* Is `name` an active event (any event not listed in inactive_events)? */
int fw_config_is_active(const struct fw_config *c, const char *name, size_t n);

#endif
