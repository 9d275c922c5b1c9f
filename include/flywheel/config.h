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


/* ---- PQL scoring, routing, triggers, signals (src/rules/score.c) ---- */

/* What a scoring rule counts for a person (docs/scoring.md). */
enum fw_measure {
	FW_MEASURE_EVENTS,      /* events named in `events` (or pages in `pages`), `where` holding */
	FW_MEASURE_ACTIVE_DAYS, /* distinct UTC days with an active event */
	FW_MEASURE_STREAK,      /* longest run of consecutive active days */
	FW_MEASURE_CORE_FEATURES, /* distinct core features (`core_features`) used */
	FW_MEASURE_ONBOARDING,  /* 1 once every onboarding step was done at or after sign-up */
	FW_MEASURE_TRAIT,       /* an account trait (a person's own trait when no account has it) */
};

#define FW_RULE_MAX_STEPS 8
#define FW_RULE_MAX_WHERE 4
#define FW_SCORING_MAX_RULES 32

/* Points for a measured value v: the last step with min <= v <= max. */
struct fw_rule_step {
	double min, max; /* max = INFINITY when open */
	int points;
};

struct fw_rule_where {
	char *prop;                 /* a top-level event property */
	struct fw_config_list values; /* equal (as text) to one of these */
};

struct fw_rule {
	char *name;        /* identifier shown in reasons: "invited_team" */
	char *description; /* shown to people: "invited 1-3 team members" */
	enum fw_measure measure;
	struct fw_config_list events; /* FW_MEASURE_EVENTS: any of these names */
	struct fw_config_list pages;  /* ...or a `$pageview` whose `name` is one of these */
	struct fw_rule_where where[FW_RULE_MAX_WHERE];
	size_t nwhere;
	char *distinct;           /* count distinct values of this property, not events (NULL: events) */
	int within_days_of_signup; /* only events in [sign-up, sign-up + N days); 0 = any time */
	int last_days;            /* only events in the N days before now; 0 = any time */
	/* FW_MEASURE_TRAIT: the trait, matched by range (numbers) or by list
	 * (text, ASCII case ignored); a matching trait measures 1. */
	char *trait;
	double trait_min, trait_max;      /* NAN when no range */
	struct fw_config_list trait_in;
	struct fw_rule_step steps[FW_RULE_MAX_STEPS];
	size_t nsteps;
	int per_person;       /* an account sums this rule over its people (default: once, the best) */
	double half_life_days; /* NAN: scoring.half_life_days */
};

enum fw_lead_route {
	FW_ROUTE_NURTURE,
	FW_ROUTE_UPGRADE_CAMPAIGN,
	FW_ROUTE_INSIDE_SALES,
	FW_ROUTE_ACCOUNT_EXECUTIVE,
	FW_ROUTE_COUNT
};
extern const char *const fw_lead_route_names[FW_ROUTE_COUNT]; /* "nurture", "upgrade_campaign", ... */

enum fw_trigger {
	FW_TRIGGER_ACTIVE_PEOPLE, /* a workspace with min+ active people in the last `days` */
	FW_TRIGGER_ENTERPRISE_DOMAIN, /* a person's email (or the account's domain) in `domains` */
	FW_TRIGGER_PROCUREMENT,   /* an event in `events` (MSA, security review, invoice billing) */
	FW_TRIGGER_FREE_DOMAIN,   /* min+ people on free plans share a company email domain */
	FW_TRIGGER_COUNT
};
extern const char *const fw_trigger_names[FW_TRIGGER_COUNT]; /* "active_people", ... */

struct fw_trigger_config {
	int enabled;             /* 1 by default */
	enum fw_lead_route route;     /* where it sends the account */
	int min, days;           /* ACTIVE_PEOPLE: 5 in 7 days; FREE_DOMAIN: min 20 */
	struct fw_config_list list; /* ENTERPRISE_DOMAIN: domains; PROCUREMENT: event names;
				       FREE_DOMAIN: free-mail domains excluded */
};

struct fw_scoring {
	struct fw_rule rules[FW_SCORING_MAX_RULES];
	size_t nrules;
	double half_life_days;          /* 0 = points never decay (default) */
	int tiers[FW_ROUTE_COUNT];      /* lowest score of each route: 0, 41, 65, 100 */
	int require_activation;         /* no sales route before the account activated (1) */
	struct fw_trigger_config triggers[FW_TRIGGER_COUNT];
	struct fw_config_list email_traits; /* person traits holding the email: "email" */
	char *domain_trait;             /* account trait holding its domain: "domain" */
	/* at-risk: paying accounts whose active events in the last 7 days fell by
	 * more than drop_share against the 7 days before (with at least
	 * min_previous_events then), or with no active person for inactive_days */
	double at_risk_drop_share;      /* 0.5 */
	int at_risk_min_previous_events;/* 20 */
	int at_risk_inactive_days;      /* 14 */
	double expansion_near_share;    /* 0.8: usage at or past this share of a plan limit */
	int rescore_interval_s;         /* full rescore at least this often (decay, windows): 3600 */
};

/* ---- plans (issue 6 builds on them; scoring reads seat limits) ---- */

#define FW_PLAN_MAX_LIMITS 16
#define FW_MAX_PLANS 16

struct fw_plan_limit {
	char *meter;  /* "seats" (members of the account) or a meter's name */
	double limit;
	int hard;     /* 1: deny past the limit; 0 (soft): allow and record the overage */
};

struct fw_plan {
	char *name;          /* "free", "team" ... */
	double price;        /* MRR in the account's currency units */
	int trial_days;      /* > 0: a trial plan of this length */
	char *trial_ends_to; /* the plan an expired trial falls back to */
	char *upgrade_to;    /* the plan an upgrade prompt offers */
	struct fw_plan_limit limits[FW_PLAN_MAX_LIMITS];
	size_t nlimits;
	struct fw_config_list features; /* gated features this plan includes */
};

enum fw_meter_agg { FW_AGG_COUNT, FW_AGG_SUM, FW_AGG_UNIQUE, FW_AGG_MAX };

#define FW_MAX_METERS 16

/* A named aggregation over an account's events per billing period. */
struct fw_meter {
	char *name;                   /* "api_calls" */
	struct fw_config_list events; /* the events it reads */
	enum fw_meter_agg agg;        /* count (default), sum / unique / max of `property` */
	char *property;
	int anniversary;              /* periods start on the account's creation day (else calendar months) */
};

/* ---- destinations (webhooks; src/net/webhook.c) ---- */

#define FW_MAX_DESTINATIONS 16

enum fw_dest_format { FW_DEST_JSON, FW_DEST_SLACK };

struct fw_destination {
	char *name;
	char *url;
	char *secret;                /* Standard Webhooks secret ("whsec_" + base64, or raw) */
	enum fw_dest_format format;
	struct fw_config_list events; /* event types sent; empty = all */
	int allow_private;           /* may deliver to loopback, link-local, private addresses */
};

struct fw_webhooks {
	double retry_schedule_s[16]; /* waits before attempt 2, 3, ...; the last repeats */
	size_t nretry;
	double give_up_after_s;      /* 3 days */
	int timeout_s;               /* per attempt: 10 */
};

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
	struct fw_scoring scoring;
	struct fw_plan plans[FW_MAX_PLANS];
	size_t nplans;
	char *default_plan;          /* the plan of an account with none: "free" */
	struct fw_meter meters[FW_MAX_METERS];
	size_t nmeters;
	double prompt_share;         /* entitlements.prompt_share: prompt from this share of a limit (0.8) */
	double trial_reminder_days[8]; /* trials.reminder_days: trial.ending webhooks this many days before the end */
	size_t ntrial_reminders;
	struct fw_destination destinations[FW_MAX_DESTINATIONS];
	size_t ndestinations;
	struct fw_webhooks webhooks;
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
