/*
 * config.c — flywheel.yaml (see config.h). One table, `options` below, is the
 * parser, the defaults and the documentation at once: fw_config_defaults fills
 * a config from it, the loader looks every key up in it, and
 * fw_config_write_docs prints it as the reference table of docs/config.md
 * (`flywheel check --print-docs`).
 *
 * The file is read whole (at most 1 MiB) and parsed with libyaml's document
 * API, which gives every node its line and column. Sections nest
 * (`activation:` then `event:` under it; `triggers:` `active_people:`
 * `min:`); the table names each key by its dotted path ("activation.event",
 * "triggers.active_people.min"). Four options hold lists or mappings of
 * structured items — scoring.rules, plans, meters, destinations — and their
 * readers parse those items by smaller tables of the same kind (rule_fields,
 * plan_fields, ...), which document them too. Every problem is collected, not
 * just the first, each with the line and column a person should look at; only
 * a syntax error stops the reading, because libyaml cannot go on after one.
 *
 * What depends on the whole file is settled after it was read (finish()): the
 * default rules (their invite rule counts `invites.sent_event`), whether
 * default_plan and every plan limit's meter exist, a trial's fallback plan.
 *
 * Ownership: fw_config_defaults, fw_config_load and fw_config_resolve each
 * initialise the whole struct (they do not expect one already filled, and do
 * not free one). On success the caller owns the strings and frees them with
 * fw_config_release. On any failure the struct holds nothing (all zero), so
 * fw_config_release is harmless but not needed.
 */
#include "flywheel/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#define MAX_FILE_BYTES (1u << 20)

const char *const fw_metric_names[FW_M_COUNT] = {
	[FW_M_SIGNUPS] = "signups",
	[FW_M_ACTIVATION_RATE_1D] = "activation_rate_1d",
	[FW_M_ACTIVATION_RATE_7D] = "activation_rate_7d",
	[FW_M_TTFV_MEDIAN_SECONDS] = "ttfv_median_seconds",
	[FW_M_TTFV_P90_SECONDS] = "ttfv_p90_seconds",
	[FW_M_RETENTION_D1] = "retention_d1",
	[FW_M_RETENTION_D7] = "retention_d7",
	[FW_M_RETENTION_W1] = "retention_w1",
	[FW_M_DAU_MAU] = "dau_mau",
	[FW_M_WAU] = "wau",
	[FW_M_MAU] = "mau",
	[FW_M_FREE_TO_PAID_RATE] = "free_to_paid_rate",
	[FW_M_TIME_TO_CONVERT_MEDIAN_DAYS] = "time_to_convert_median_days",
	[FW_M_ACV] = "acv",
	[FW_M_NRR] = "nrr",
	[FW_M_EXPANSION_MRR] = "expansion_mrr",
	[FW_M_K_FACTOR] = "k_factor",
	[FW_M_SIGNUPS_ORGANIC] = "signups_organic",
	[FW_M_SIGNUPS_PAID] = "signups_paid",
	[FW_M_ONBOARDING_COMPLETION] = "onboarding_completion",
	[FW_M_FEATURE_ADOPTION] = "feature_adoption",
	[FW_M_FEATURE_BREADTH] = "feature_breadth",
	[FW_M_ACTIVE_DAYS_PER_WEEK] = "active_days_per_week",
	[FW_M_GRR] = "grr",
	[FW_M_CONTRACTION_MRR] = "contraction_mrr",
	[FW_M_CHURNED_MRR] = "churned_mrr",
};

/* What a target of each metric is: rates are fractions in [0, 1]; NRR is a
 * ratio that may exceed 1; everything else is a non-negative amount. */
static const struct {
	int is_rate;
	const char *doc;
} metric_info[FW_M_COUNT] = {
	[FW_M_SIGNUPS] = {0, "sign-ups in the period"},
	[FW_M_ACTIVATION_RATE_1D] = {1, "rate, 0..1"},
	[FW_M_ACTIVATION_RATE_7D] = {1, "rate, 0..1"},
	[FW_M_TTFV_MEDIAN_SECONDS] = {0, "seconds"},
	[FW_M_TTFV_P90_SECONDS] = {0, "seconds"},
	[FW_M_RETENTION_D1] = {1, "rate, 0..1"},
	[FW_M_RETENTION_D7] = {1, "rate, 0..1"},
	[FW_M_RETENTION_W1] = {1, "rate, 0..1"},
	[FW_M_DAU_MAU] = {1, "rate, 0..1"},
	[FW_M_WAU] = {0, "people"},
	[FW_M_MAU] = {0, "people"},
	[FW_M_FREE_TO_PAID_RATE] = {1, "rate, 0..1"},
	[FW_M_TIME_TO_CONVERT_MEDIAN_DAYS] = {0, "days"},
	[FW_M_ACV] = {0, "currency units per year"},
	[FW_M_NRR] = {0, "ratio, 1 = no net change; may exceed 1"},
	[FW_M_EXPANSION_MRR] = {0, "currency units per month"},
	[FW_M_K_FACTOR] = {0, "invited sign-ups per sign-up"},
	[FW_M_SIGNUPS_ORGANIC] = {0, "organic sign-ups in the period"},
	[FW_M_SIGNUPS_PAID] = {0, "paid-channel sign-ups in the period"},
	[FW_M_ONBOARDING_COMPLETION] = {1, "rate, 0..1"},
	[FW_M_FEATURE_ADOPTION] = {1, "rate, 0..1, shown beside every core feature's adoption"},
	[FW_M_FEATURE_BREADTH] = {0, "core features per active person"},
	[FW_M_ACTIVE_DAYS_PER_WEEK] = {0, "days, 0..7"},
	[FW_M_GRR] = {1, "rate, 0..1 (GRR never exceeds 1)"},
	[FW_M_CONTRACTION_MRR] = {0, "currency units per month"},
	[FW_M_CHURNED_MRR] = {0, "currency units per month"},
};


/* ---- the option table ---- */

enum opt_type {
	OPT_STRING,       /* char *; NULL without a default */
	OPT_INT,          /* int, min..max */
	OPT_DOUBLE,       /* double, lo..hi (lo excluded with lo_open), stored times scale */
	OPT_BOOL,         /* int 0 or 1: true/false or yes/no */
	OPT_ENUM,         /* int: the index of the value in names */
	OPT_LIST,         /* struct fw_config_list */
	OPT_DOUBLE_LIST,  /* double[max], each lo..hi, its count a size_t at off_n */
	OPT_TARGETS,      /* targets: metric -> number */
	OPT_TIERS,        /* routing.tiers: route -> lowest score, int[FW_ROUTE_COUNT] */
	OPT_RULES,        /* scoring.rules: a list of rule_fields items, count at off_n */
	OPT_PLANS,        /* plans: name -> a plan_fields item, count at off_n */
	OPT_METERS,       /* meters: name -> a meter_fields item, count at off_n */
	OPT_DESTINATIONS, /* destinations: a list of destination_fields items, count at off_n */
	OPT_CUSTOM,       /* a field of an item that the item's reader parses itself */
};

struct option {
	const char *path;             /* dotted YAML path; for an item's field, its key */
	enum opt_type type;
	size_t off;                   /* offset of the field in struct fw_config (or the item) */
	const char *def;              /* OPT_STRING default; NULL: none */
	int def_int, min, max;        /* OPT_INT/BOOL/ENUM default; OPT_INT range; list sizes */
	double def_num, lo, hi;       /* OPT_DOUBLE default (as written) and range */
	int lo_open;                  /* lo itself is not allowed ("more than 0") */
	double scale;                 /* stored = written × scale (hours -> seconds); 0: 1 */
	const char *const *def_list;  /* OPT_LIST default, NULL-terminated; NULL = empty */
	const double *def_nums;       /* OPT_DOUBLE_LIST and OPT_TIERS default, NAN-terminated */
	size_t off_n;                 /* OPT_DOUBLE_LIST and item lists: offset of the count */
	const char *const *names;     /* OPT_ENUM: the values, in enum order */
	int nnames;
	int required;                 /* an item's field that must be given */
	int hide;                     /* never echo the value in a message (a secret) */
	unsigned measures;            /* a rule's field: the measures it applies to (bits); 0 all */
	const char *what;             /* one value, for messages: "an event name" */
	const char *(*check)(const char *v); /* more rules for a string: NULL or why not */
	const char *type_doc, *def_doc; /* the docs' type and default where not derived */
	const char *doc;
};

static const char *check_listen(const char *v);
static const char *check_key(const char *v);
static const char *check_domain(const char *v);
static const char *check_ident(const char *v);
static const char *check_dest_name(const char *v);
static const char *check_url(const char *v);
static const char *check_secret(const char *v);

#define OFF(f) offsetof(struct fw_config, f)
#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NUMS(...) ((const double[]){__VA_ARGS__, NAN})
#define AT_LEAST(x) .lo = (x), .hi = INFINITY
#define ABOVE(x) .lo = (x), .lo_open = 1, .hi = INFINITY
#define SHARE .lo = 0, .lo_open = 1, .hi = 1
#define ROUTE(r) .def_int = (r), .names = fw_lead_route_names, .nnames = FW_ROUTE_COUNT
#define TRIG(t, f) OFF(scoring.triggers[FW_TRIGGER_##t].f)

/* OPT_ENUM stores an int, whatever the enum. */
_Static_assert(sizeof(enum fw_measure) == sizeof(int) && sizeof(enum fw_lead_route) == sizeof(int) &&
		       sizeof(enum fw_meter_agg) == sizeof(int) &&
		       sizeof(enum fw_dest_format) == sizeof(int),
	       "enums are stored as int");

static const struct option options[] = {
	{"keys.write", OPT_LIST, OFF(write_keys), .what = "a key", .check = check_key,
	 .doc = "write keys the SDKs send (public: they can only write). "
		"FLYWHEEL_WRITE_KEY overrides; with neither, `serve` creates a pair on first start"},
	{"keys.secret", OPT_LIST, OFF(secret_keys), .what = "a key", .check = check_key,
	 .doc = "secret keys for the read, query and admin APIs (`Authorization: Bearer KEY`). "
		"FLYWHEEL_SECRET_KEY overrides"},
	{"server.listen", OPT_STRING, OFF(listen), "127.0.0.1:8080", .what = "an address",
	 .check = check_listen,
	 .doc = "where `flywheel serve` listens, HOST:PORT (port 0 = any free port); "
		"`--listen` overrides"},
	{"server.timeout_seconds", OPT_INT, OFF(timeout_s), .def_int = 30, .min = 1, .max = 3600,
	 .doc = "drop a connection idle this long while it sends a request; `--timeout` overrides"},
	{"server.min_free_mb", OPT_INT, OFF(min_free_mb), .def_int = 64, .min = 0, .max = INT_MAX,
	 .doc = "answer 503 instead of writing when the disk has less free space than this; "
		"`--min-free-mb` overrides"},
	{"signup.event", OPT_STRING, OFF(signup_event), "Signed Up", .what = "an event name",
	 .doc = "the sign-up event; a person without one signs up at their first identify "
		"carrying `created_at`"},
	{"signup.channel_properties", OPT_LIST, OFF(channel_properties),
	 .def_list = LIST("channel", "utm_source"), .what = "a property name",
	 .doc = "properties read, in order, for a sign-up's acquisition channel: the first one "
		"the sign-up event carries as a non-empty string (for a sign-up by identify, that "
		"identify's traits)"},
	{"signup.paid_channels", OPT_LIST, OFF(paid_channels),
	 .def_list = LIST("paid", "cpc", "ppc", "ads", "google_ads", "facebook_ads", "linkedin_ads"),
	 .what = "a channel",
	 .doc = "channel values counted as paid acquisition (`signups_paid`), compared ignoring "
		"ASCII case; every other value, and no channel, is organic (`signups_organic`)"},
	{"activation.event", OPT_STRING, OFF(activation_event), "Project Created",
	 .what = "an event name",
	 .doc = "the activation event: a person activates with their first one at or after "
		"sign-up"},
	{"activation.min_count", OPT_INT, OFF(activation_min_count), .def_int = 1, .min = 1,
	 .max = 1000000,
	 .doc = "how many activation events make an activation (it happens at the last of them)"},
	{"inactive_events", OPT_LIST, OFF(inactive_events),
	 .def_list = LIST("$feature_flag_called", "$identify", "$groupidentify", "$create_alias",
			  "$set", "$opt_in", "$exception"),
	 .what = "an event name",
	 .doc = "events that do not make a person active; every other event does"},
	{"core_features", OPT_LIST, OFF(core_features), .what = "an event name",
	 .doc = "events that count as using a core feature, for `feature_adoption` and "
		"`feature_breadth` (empty: both are null)"},
	{"onboarding_steps", OPT_LIST, OFF(onboarding_steps), .what = "an event name",
	 .doc = "the onboarding flow's events; a person who does every one (in any order) at or "
		"after signing up completes onboarding (`onboarding_completion`; empty: null)"},
	{"revenue.plan_event", OPT_STRING, OFF(plan_event), "Plan Changed", .what = "an event name",
	 .doc = "the event that records an account's plan change"},
	{"revenue.plan_property", OPT_STRING, OFF(plan_property), "plan", .what = "a property name",
	 .doc = "property of the plan change (or account trait) naming the plan"},
	{"revenue.mrr_property", OPT_STRING, OFF(mrr_property), "mrr", .what = "a property name",
	 .doc = "property of the plan change (or account trait) with the monthly recurring "
		"revenue; paid means mrr > 0"},
	{"revenue.conversion_window_days", OPT_INT, OFF(conversion_window_days), .def_int = 90,
	 .min = 1, .max = 3650,
	 .doc = "free-to-paid counts accounts that reach a paid plan within this many days of "
		"creation"},
	{"invites.sent_event", OPT_STRING, OFF(invite_sent_event), "Invite Sent",
	 .what = "an event name", .doc = "the event the inviter sends"},
	{"invites.accepted_event", OPT_STRING, OFF(invite_accepted_event), "Invite Accepted",
	 .what = "an event name", .doc = "the event the invitee sends on accepting"},
	{"invites.inviter_property", OPT_STRING, OFF(inviter_property), "inviter_id",
	 .what = "a property name", .doc = "property of the acceptance naming the inviter"},
	{"invites.k_factor_window_days", OPT_INT, OFF(k_factor_window_days), .def_int = 30,
	 .min = 1, .max = 3650,
	 .doc = "k-factor counts invitees who sign up within this many days of the inviter's "
		"sign-up"},
	{"targets", OPT_TARGETS, OFF(targets),
	 .doc = "a goal per metric (`targets: {activation_rate_7d: 0.4}`), reported beside its "
		"value; rates are fractions 0..1"},

	/* PQL scoring */
	{"scoring.half_life_days", OPT_DOUBLE, OFF(scoring.half_life_days), AT_LEAST(0),
	 .def_num = 0,
	 .doc = "the points an event gives halve every this many days (0: points never decay); "
		"a rule's own `half_life_days` overrides it"},
	{"scoring.rescore_interval_seconds", OPT_INT, OFF(scoring.rescore_interval_s),
	 .def_int = 3600, .min = 10, .max = 86400,
	 .doc = "every score is computed afresh at least this often, so decay and time windows "
		"take effect without new events"},
	{"scoring.email_traits", OPT_LIST, OFF(scoring.email_traits), .def_list = LIST("email"),
	 .what = "a trait name",
	 .doc = "person traits holding the email address, the first one set wins (the domain "
		"triggers read it)"},
	{"scoring.domain_trait", OPT_STRING, OFF(scoring.domain_trait), "domain",
	 .what = "a trait name", .doc = "account trait holding the company's domain"},
	{"scoring.rules", OPT_RULES, OFF(scoring.rules), .off_n = OFF(scoring.nrules),
	 .max = FW_SCORING_MAX_RULES, .type_doc = "list of rules (below)",
	 .def_doc = "the default rules (below)",
	 .doc = "the PQL scoring rules; a person's score is the sum of their rules' points. A "
		"list replaces the default rules entirely; `rules: []` scores nothing"},
	{"routing.tiers", OPT_TIERS, OFF(scoring.tiers), .def_nums = NUMS(0, 41, 65, 100),
	 .type_doc = "mapping of route: whole number",
	 .def_doc = "`{upgrade_campaign: 41, inside_sales: 65, account_executive: 100}`",
	 .doc = "the lowest score of each route (`nurture`, `upgrade_campaign`, `inside_sales`, "
		"`account_executive`); nurture starts at 0 and each route must start above the "
		"one before"},
	{"routing.require_activation", OPT_BOOL, OFF(scoring.require_activation), .def_int = 1,
	 .doc = "no sales route (`inside_sales`, `account_executive`) before the account "
		"activated, except by the `enterprise_domain` and `procurement` triggers"},
	{"triggers.active_people.enabled", OPT_BOOL, TRIG(ACTIVE_PEOPLE, enabled), .def_int = 1,
	 .doc = "route a workspace with `min` or more active people in the last `days` days, "
		"whatever its score"},
	{"triggers.active_people.min", OPT_INT, TRIG(ACTIVE_PEOPLE, min), .def_int = 5, .min = 1,
	 .max = 1000000, .doc = "active people needed"},
	{"triggers.active_people.days", OPT_INT, TRIG(ACTIVE_PEOPLE, days), .def_int = 7,
	 .min = 1, .max = 365, .doc = "the window, in days"},
	{"triggers.active_people.route", OPT_ENUM, TRIG(ACTIVE_PEOPLE, route),
	 ROUTE(FW_ROUTE_INSIDE_SALES), .doc = "where the trigger sends the account"},
	{"triggers.enterprise_domain.enabled", OPT_BOOL, TRIG(ENTERPRISE_DOMAIN, enabled),
	 .def_int = 1,
	 .doc = "route an account when a person's email domain (or the account's domain) is "
		"one of `domains`"},
	{"triggers.enterprise_domain.domains", OPT_LIST, TRIG(ENTERPRISE_DOMAIN, list),
	 .what = "a domain", .check = check_domain,
	 .doc = "enterprise domains, like `acme.com` (compared ignoring ASCII case); empty: the "
		"trigger never fires"},
	{"triggers.enterprise_domain.route", OPT_ENUM, TRIG(ENTERPRISE_DOMAIN, route),
	 ROUTE(FW_ROUTE_ACCOUNT_EXECUTIVE), .doc = "where the trigger sends the account"},
	{"triggers.procurement.enabled", OPT_BOOL, TRIG(PROCUREMENT, enabled), .def_int = 1,
	 .doc = "route an account on any event of `events` by one of its people"},
	{"triggers.procurement.events", OPT_LIST, TRIG(PROCUREMENT, list),
	 .def_list = LIST("Procurement Requested", "MSA Requested", "Security Review Requested",
			  "Invoice Billing Requested"),
	 .what = "an event name", .doc = "the procurement events"},
	{"triggers.procurement.route", OPT_ENUM, TRIG(PROCUREMENT, route),
	 ROUTE(FW_ROUTE_ACCOUNT_EXECUTIVE), .doc = "where the trigger sends the account"},
	{"triggers.free_domain.enabled", OPT_BOOL, TRIG(FREE_DOMAIN, enabled), .def_int = 1,
	 .doc = "route the accounts of a company email domain that `min` or more people on free "
		"plans share"},
	{"triggers.free_domain.min", OPT_INT, TRIG(FREE_DOMAIN, min), .def_int = 20, .min = 1,
	 .max = 1000000, .doc = "people on free plans needed"},
	{"triggers.free_domain.free_mail", OPT_LIST, TRIG(FREE_DOMAIN, list),
	 .def_list = LIST("gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com",
			  "live.com", "msn.com", "icloud.com", "me.com", "aol.com", "proton.me",
			  "protonmail.com", "gmx.com", "gmx.de", "mail.com", "yandex.ru", "qq.com",
			  "163.com", "zoho.com", "fastmail.com"),
	 .what = "a domain", .check = check_domain,
	 .doc = "free-mail domains, never a company's domain"},
	{"triggers.free_domain.route", OPT_ENUM, TRIG(FREE_DOMAIN, route),
	 ROUTE(FW_ROUTE_INSIDE_SALES), .doc = "where the trigger sends the account"},
	{"signals.at_risk.drop_share", OPT_DOUBLE, OFF(scoring.at_risk_drop_share), SHARE,
	 .def_num = 0.5,
	 .doc = "a paying account is at risk when its active events of the last 7 days fell by "
		"more than this share against the 7 days before"},
	{"signals.at_risk.min_previous_events", OPT_INT, OFF(scoring.at_risk_min_previous_events),
	 .def_int = 20, .min = 0, .max = INT_MAX,
	 .doc = "...and it had at least this many active events in those 7 days before"},
	{"signals.at_risk.inactive_days", OPT_INT, OFF(scoring.at_risk_inactive_days),
	 .def_int = 14, .min = 1, .max = 365,
	 .doc = "a paying account is also at risk when none of its people was active for this "
		"many days"},
	{"signals.expansion.near_share", OPT_DOUBLE, OFF(scoring.expansion_near_share), SHARE,
	 .def_num = 0.8,
	 .doc = "an account whose usage reaches this share of a plan limit is an expansion "
		"signal"},

	/* plans, usage, entitlements */
	{"default_plan", OPT_STRING, OFF(default_plan), "free", .what = "a plan name",
	 .doc = "the plan of an account that has none; when `plans` is given, one of them"},
	{"plans", OPT_PLANS, OFF(plans), .off_n = OFF(nplans), .max = FW_MAX_PLANS,
	 .type_doc = "mapping of name: plan (below)", .def_doc = "none",
	 .doc = "the plans, with their price, limits and gated features"},
	{"meters", OPT_METERS, OFF(meters), .off_n = OFF(nmeters), .max = FW_MAX_METERS,
	 .type_doc = "mapping of name: meter (below)", .def_doc = "none",
	 .doc = "what a plan limits, besides `seats`: aggregations of an account's events per "
		"billing period, also exported for invoicing"},
	{"entitlements.prompt_share", OPT_DOUBLE, OFF(prompt_share), SHARE, .def_num = 0.8,
	 .doc = "an entitlement answer carries the upgrade prompt once usage reaches this share "
		"of the limit"},
	{"trials.reminder_days", OPT_DOUBLE_LIST, OFF(trial_reminder_days),
	 .off_n = OFF(ntrial_reminders), ABOVE(0), .min = 0,
	 .max = (int)FW_ARRAY_LEN(((struct fw_config *)0)->trial_reminder_days),
	 .def_nums = NUMS(3, 1),
	 .doc = "a running trial sends a `trial.ending` webhook this many days before it ends, "
		"once per number"},

	/* webhooks */
	{"destinations", OPT_DESTINATIONS, OFF(destinations), .off_n = OFF(ndestinations),
	 .max = FW_MAX_DESTINATIONS, .type_doc = "list of destinations (below)", .def_doc = "none",
	 .doc = "where webhooks are delivered"},
	{"webhooks.retry_schedule_seconds", OPT_DOUBLE_LIST, OFF(webhooks.retry_schedule_s),
	 .off_n = OFF(webhooks.nretry), ABOVE(0), .min = 1,
	 .max = (int)FW_ARRAY_LEN(((struct fw_webhooks *)0)->retry_schedule_s),
	 .def_nums = NUMS(5, 300, 1800, 7200, 18000, 36000),
	 .doc = "the waits before a failed delivery's 2nd, 3rd ... attempt; the last one repeats "
		"until `give_up_after_hours`"},
	{"webhooks.give_up_after_hours", OPT_DOUBLE, OFF(webhooks.give_up_after_s), ABOVE(0),
	 .scale = 3600, .def_num = 72,
	 .doc = "a delivery still failing this long after its first attempt is given up "
		"(dead-lettered)"},
	{"webhooks.timeout_seconds", OPT_INT, OFF(webhooks.timeout_s), .def_int = 10, .min = 1,
	 .max = 300, .doc = "the longest one attempt may take"},
};

/* ---- the fields of items: rules, their steps, plans, limits, meters, destinations ---- */

static const char *const measure_names[] = {
	[FW_MEASURE_EVENTS] = "events",
	[FW_MEASURE_ACTIVE_DAYS] = "active_days",
	[FW_MEASURE_STREAK] = "consecutive_days",
	[FW_MEASURE_CORE_FEATURES] = "core_features",
	[FW_MEASURE_ONBOARDING] = "onboarding",
	[FW_MEASURE_TRAIT] = "trait",
};
static const char *const agg_names[] = {
	[FW_AGG_COUNT] = "count", [FW_AGG_SUM] = "sum", [FW_AGG_UNIQUE] = "unique", [FW_AGG_MAX] = "max"};
static const char *const period_names[] = {"month", "anniversary"}; /* fw_meter.anniversary */
static const char *const format_names[] = {[FW_DEST_JSON] = "json", [FW_DEST_SLACK] = "slack"};

#define MEASURE_BIT(m) (1u << FW_MEASURE_##m)
#define ALL_MEASURES ((1u << (FW_MEASURE_TRAIT + 1)) - 1)

enum {
	RF_NAME, RF_DESCRIPTION, RF_MEASURE, RF_EVENTS, RF_EVENT, RF_PAGES, RF_WHERE, RF_DISTINCT,
	RF_WITHIN, RF_LAST, RF_TRAIT, RF_RANGE, RF_IN, RF_MIN, RF_POINTS, RF_PER_PERSON,
	RF_HALF_LIFE, RF_COUNT
};
#define RULE(f) offsetof(struct fw_rule, f)
static const struct option rule_fields[RF_COUNT] = {
	[RF_NAME] = {"name", OPT_STRING, RULE(name), .required = 1, .what = "a rule name",
		     .check = check_ident,
		     .doc = "identifies the rule in score reasons; lower-case letters, digits and "
			    "`_`, unique"},
	[RF_DESCRIPTION] = {"description", OPT_STRING, RULE(description), .what = "a description",
			    .def_doc = "the name", .doc = "what people see beside the points"},
	[RF_MEASURE] = {"measure", OPT_ENUM, RULE(measure), .def_int = FW_MEASURE_EVENTS,
			.names = measure_names, .nnames = FW_ARRAY_LEN(measure_names),
			.doc = "what the rule measures for a person: the number of `events`; "
			       "`active_days`, distinct UTC days with an active event; "
			       "`consecutive_days`, the longest run of active days; `core_features`, "
			       "distinct core features used; `onboarding`, 1 once every onboarding "
			       "step was done; `trait`, 1 when the trait matches"},
	[RF_EVENTS] = {"events", OPT_LIST, RULE(events), .what = "an event name",
		       .measures = MEASURE_BIT(EVENTS),
		       .doc = "measure `events`: any of these events"},
	[RF_EVENT] = {"event", OPT_CUSTOM, .what = "an event name", .required = 1,
		      .measures = MEASURE_BIT(EVENTS), .type_doc = "string", .def_doc = "none",
		      .doc = "one event: the same as `events: [NAME]`"},
	[RF_PAGES] = {"pages", OPT_LIST, RULE(pages), .what = "a page name",
		      .measures = MEASURE_BIT(EVENTS),
		      .doc = "measure `events`: also a `$pageview` event whose `name` property is "
			     "one of these"},
	[RF_WHERE] = {"where", OPT_CUSTOM, .measures = MEASURE_BIT(EVENTS),
		      .type_doc = "mapping of property: value, or list of values", .def_doc = "none",
		      .doc = "measure `events`: only events whose property equals (as text) the "
			     "value or one of the values, every property holding; at most 4"},
	[RF_DISTINCT] = {"distinct", OPT_STRING, RULE(distinct), .what = "a property name",
			 .measures = MEASURE_BIT(EVENTS), .def_doc = "none",
			 .doc = "measure `events`: count distinct values of this property, not "
				"events"},
	[RF_WITHIN] = {"within_days_of_signup", OPT_INT, RULE(within_days_of_signup), .min = 1,
		       .max = 3650, .measures = ALL_MEASURES & ~MEASURE_BIT(TRAIT),
		       .def_doc = "any time",
		       .doc = "only what happened in the first N days from sign-up"},
	[RF_LAST] = {"last_days", OPT_INT, RULE(last_days), .min = 1, .max = 3650,
		     .measures = ALL_MEASURES & ~MEASURE_BIT(TRAIT), .def_doc = "any time",
		     .doc = "only what happened in the last N days (not with "
			    "`within_days_of_signup`)"},
	[RF_TRAIT] = {"trait", OPT_STRING, RULE(trait), .what = "a trait name",
		      .measures = MEASURE_BIT(TRAIT), .def_doc = "none",
		      .doc = "measure `trait` (required): the account trait, or the person's own "
			     "when no account has it"},
	[RF_RANGE] = {"range", OPT_CUSTOM, .measures = MEASURE_BIT(TRAIT),
		      .type_doc = "[low, high], numbers or null", .def_doc = "none",
		      .doc = "measure `trait`: matches a number from low to high, both included; "
			     "null leaves an end open"},
	[RF_IN] = {"in", OPT_LIST, RULE(trait_in), .what = "a value", .measures = MEASURE_BIT(TRAIT),
		   .doc = "measure `trait`: matches one of these texts, ignoring ASCII case (give "
			  "`range` or `in`)"},
	[RF_MIN] = {"min", OPT_CUSTOM, .type_doc = "number ≥ 0", .def_doc = "`1`",
		    .doc = "with `points: N`: the lowest measured value that gives the points"},
	[RF_POINTS] = {"points", OPT_CUSTOM, .required = 1,
		       .type_doc = "whole number, or list of steps (below)",
		       .doc = "`points: 15` gives 15 to a measured value of `min` or more; with "
			      "steps, like `[{min: 1, max: 3, points: 15}, {min: 4, points: 25}]`, "
			      "a value gets the points of the last step holding it"},
	[RF_PER_PERSON] = {"per_person", OPT_BOOL, RULE(per_person), .def_int = 0,
			   .doc = "an account's score sums this rule over its people (false: the "
				  "account counts it once)"},
	[RF_HALF_LIFE] = {"half_life_days", OPT_DOUBLE, RULE(half_life_days), AT_LEAST(0),
			  .def_num = NAN, .def_doc = "`scoring.half_life_days`",
			  .doc = "this rule's points halve every this many days (0: never)"},
};

enum { SF_MIN, SF_MAX, SF_POINTS, SF_COUNT };
#define STEP(f) offsetof(struct fw_rule_step, f)
static const struct option step_fields[SF_COUNT] = {
	[SF_MIN] = {"min", OPT_DOUBLE, STEP(min), AT_LEAST(0), .def_num = 1, .required = 1,
		    .doc = "the lowest measured value of the step"},
	[SF_MAX] = {"max", OPT_DOUBLE, STEP(max), AT_LEAST(0), .def_num = INFINITY,
		    .def_doc = "open", .doc = "the highest measured value of the step (included)"},
	[SF_POINTS] = {"points", OPT_INT, STEP(points), .min = -1000, .max = 1000, .required = 1,
		       .doc = "the points for a value in the step (negative points subtract)"},
};

enum { PF_PRICE, PF_LIMITS, PF_FEATURES, PF_UPGRADE_TO, PF_TRIAL_DAYS, PF_TRIAL_ENDS_TO, PF_COUNT };
#define PLAN(f) offsetof(struct fw_plan, f)
static const struct option plan_fields[PF_COUNT] = {
	[PF_PRICE] = {"price", OPT_DOUBLE, PLAN(price), AT_LEAST(0), .def_num = 0,
		      .doc = "the plan's monthly recurring revenue, in the account's currency "
			     "units"},
	[PF_LIMITS] = {"limits", OPT_CUSTOM, .type_doc = "mapping of meter: limit (below)",
		       .def_doc = "none",
		       .doc = "what an account on the plan may use: `seats` (its members) or a "
			      "meter of `meters`"},
	[PF_FEATURES] = {"features", OPT_LIST, PLAN(features), .what = "a feature name",
			 .doc = "the gated features the plan includes"},
	[PF_UPGRADE_TO] = {"upgrade_to", OPT_STRING, PLAN(upgrade_to), .what = "a plan name",
			   .def_doc = "none", .doc = "the plan an upgrade prompt offers"},
	[PF_TRIAL_DAYS] = {"trial_days", OPT_INT, PLAN(trial_days), .min = 7, .max = 30,
			   .def_doc = "not a trial", .doc = "makes the plan a trial this many days long"},
	[PF_TRIAL_ENDS_TO] = {"trial_ends_to", OPT_STRING, PLAN(trial_ends_to),
			      .what = "a plan name", .def_doc = "`default_plan`",
			      .doc = "the plan an expired trial falls back to"},
};

enum { LF_LIMIT, LF_HARD, LF_COUNT };
static const struct option limit_fields[LF_COUNT] = {
	[LF_LIMIT] = {"limit", OPT_DOUBLE, offsetof(struct fw_plan_limit, limit), AT_LEAST(0),
		      .required = 1,
		      .doc = "the most an account may use (seats: at a time; a meter: per billing "
			     "period); `projects: 5` is short for `projects: {limit: 5}`"},
	[LF_HARD] = {"hard", OPT_BOOL, offsetof(struct fw_plan_limit, hard), .def_int = 1,
		     .doc = "true: deny past the limit; false (soft): allow it and record the "
			    "overage"},
};

enum { MF_EVENTS, MF_AGGREGATE, MF_PROPERTY, MF_PERIOD, MF_COUNT };
#define METER(f) offsetof(struct fw_meter, f)
static const struct option meter_fields[MF_COUNT] = {
	[MF_EVENTS] = {"events", OPT_LIST, METER(events), .what = "an event name", .required = 1,
		       .doc = "the events the meter reads"},
	[MF_AGGREGATE] = {"aggregate", OPT_ENUM, METER(agg), .def_int = FW_AGG_COUNT,
			  .names = agg_names, .nnames = FW_ARRAY_LEN(agg_names),
			  .doc = "`count` the events, or the `sum`, `unique` (distinct values) or "
				 "`max` of `property`"},
	[MF_PROPERTY] = {"property", OPT_STRING, METER(property), .what = "a property name",
			 .def_doc = "none", .doc = "the event property `sum`, `unique` and `max` read"},
	[MF_PERIOD] = {"period", OPT_ENUM, METER(anniversary), .def_int = 0, .names = period_names,
		       .nnames = FW_ARRAY_LEN(period_names),
		       .doc = "billing periods: calendar months (UTC), or months from the day the "
			      "account was created (`anniversary`)"},
};

enum { DF_NAME, DF_URL, DF_SECRET, DF_FORMAT, DF_EVENTS, DF_ALLOW_PRIVATE, DF_COUNT };
#define DEST(f) offsetof(struct fw_destination, f)
static const struct option destination_fields[DF_COUNT] = {
	[DF_NAME] = {"name", OPT_STRING, DEST(name), .required = 1, .what = "a destination name",
		     .check = check_dest_name,
		     .doc = "identifies the destination in deliveries; lower-case letters, digits, "
			    "`_` and `-`, unique"},
	[DF_URL] = {"url", OPT_STRING, DEST(url), .required = 1, .what = "a URL", .check = check_url,
		    .doc = "where events are POSTed: an http:// or https:// URL"},
	[DF_SECRET] = {"secret", OPT_STRING, DEST(secret), .what = "a secret", .check = check_secret,
		       .hide = 1, .def_doc = "none (unsigned)",
		       .doc = "signs every delivery (Standard Webhooks); `whsec_` and base64, or "
			      "any other text used as it is"},
	[DF_FORMAT] = {"format", OPT_ENUM, DEST(format), .def_int = FW_DEST_JSON,
		       .names = format_names, .nnames = FW_ARRAY_LEN(format_names),
		       .doc = "`json`: the event as JSON; `slack`: a Slack incoming-webhook message"},
	[DF_EVENTS] = {"events", OPT_LIST, DEST(events), .what = "an event type", .def_doc = "all",
		       .doc = "the event types sent, like `lead.route_changed`, or `lead.*` for a "
			      "family; empty: all"},
	[DF_ALLOW_PRIVATE] = {"allow_private", OPT_BOOL, DEST(allow_private), .def_int = 0,
			      .doc = "may deliver to localhost and loopback, private and link-local "
				     "addresses (refused otherwise, so a webhook cannot reach "
				     "internal services)"},
};

/* The default rules: the PQL table of DESIGN.md. invited_team counts the
 * configured invites.sent_event, so the set is built after the file is read. */
static const struct default_rule {
	const char *name, *description;
	enum fw_measure measure;
	const char *const *events; /* NULL-terminated */
	int invite_event;          /* events: [invites.sent_event] */
	const char *const *pages;
	int within_days_of_signup;
	const char *trait;
	double trait_min, trait_max; /* with trait and no trait_in */
	const char *const *trait_in;
	struct fw_rule_step steps[2];
	size_t nsteps;
} default_rule_table[] = {
	{"onboarding_completed", "completed onboarding flow", FW_MEASURE_ONBOARDING,
	 .steps = {{1, INFINITY, 10}}, .nsteps = 1},
	{"invited_team", "invited team members", FW_MEASURE_EVENTS, .invite_event = 1,
	 .steps = {{1, 3, 15}, {4, INFINITY, 25}}, .nsteps = 2},
	{"integration_connected", "connected an integration", FW_MEASURE_EVENTS,
	 .events = LIST("Integration Connected"), .steps = {{1, INFINITY, 20}}, .nsteps = 1},
	{"active_days_first_14", "5+ days active in first 14 days", FW_MEASURE_ACTIVE_DAYS,
	 .within_days_of_signup = 14, .steps = {{5, INFINITY, 15}}, .nsteps = 1},
	{"core_features_used", "used 3+ core features", FW_MEASURE_CORE_FEATURES,
	 .steps = {{3, INFINITY, 20}}, .nsteps = 1},
	{"created_items", "created 10+ items / projects", FW_MEASURE_EVENTS,
	 .events = LIST("Project Created", "Item Created"), .steps = {{10, INFINITY, 15}},
	 .nsteps = 1},
	{"active_streak_7", "active 7 consecutive days", FW_MEASURE_STREAK,
	 .steps = {{7, INFINITY, 25}}, .nsteps = 1},
	{"hit_plan_limit", "hit a free plan limit", FW_MEASURE_EVENTS,
	 .events = LIST("Limit Reached"), .steps = {{1, INFINITY, 30}}, .nsteps = 1},
	{"viewed_pricing", "viewed pricing page 2+ times", FW_MEASURE_EVENTS,
	 .events = LIST("Pricing Viewed"), .pages = LIST("Pricing"), .steps = {{2, INFINITY, 15}},
	 .nsteps = 1},
	{"premium_feature_attempted", "attempted a premium feature", FW_MEASURE_EVENTS,
	 .events = LIST("Premium Feature Attempted"), .steps = {{1, INFINITY, 20}}, .nsteps = 1},
	{"payment_info_entered", "entered payment information", FW_MEASURE_EVENTS,
	 .events = LIST("Payment Info Entered"), .steps = {{1, INFINITY, 40}}, .nsteps = 1},
	{"icp_company_size", "company size in ICP", FW_MEASURE_TRAIT, .trait = "employees",
	 .trait_min = 50, .trait_max = 1000, .steps = {{1, INFINITY, 10}}, .nsteps = 1},
	{"target_industry", "industry in target verticals", FW_MEASURE_TRAIT, .trait = "industry",
	 .trait_in = LIST("Software", "SaaS", "Technology", "Fintech"),
	 .steps = {{1, INFINITY, 10}}, .nsteps = 1},
};
_Static_assert(FW_ARRAY_LEN(default_rule_table) <= FW_SCORING_MAX_RULES, "too many default rules");

/* ---- checks of single values ---- */

static const char *check_listen(const char *v)
{
	const char *colon = strrchr(v, ':');
	if (!colon || colon == v || !colon[1] || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) > 65535)
		return "must be HOST:PORT, like 127.0.0.1:8080";
	return NULL;
}

static const char *check_key(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == ':' || *p == ',' || *p == 0x7f)
			return "must not contain spaces, control characters, ':' or ','";
	return NULL;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"

static const char *check_ident(const char *v)
{
	if (strspn(v, LOWER_DIGITS "_") != strlen(v))
		return "must be lower-case letters, digits and '_' only";
	if (strlen(v) > 64)
		return "must be at most 64 characters";
	return NULL;
}

static const char *check_dest_name(const char *v)
{
	if (strspn(v, LOWER_DIGITS "_-") != strlen(v))
		return "must be lower-case letters, digits, '_' and '-' only";
	if (strlen(v) > 64)
		return "must be at most 64 characters";
	return NULL;
}

static const char *check_domain(const char *v)
{
	if (strspn(v, LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-") != strlen(v) || *v == '.' ||
	    !strchr(v, '.'))
		return "must be a domain like acme.com (no @, scheme or path)";
	return NULL;
}

/* The host of an http:// or https:// URL (an IPv6 one without its brackets)
 * into host; NULL, or why the URL cannot be used. */
static const char *url_host(const char *url, char *host, size_t cap)
{
	const char *p;
	if (!strncasecmp(url, "https://", 8))
		p = url + 8;
	else if (!strncasecmp(url, "http://", 7))
		p = url + 7;
	else
		return "must start with http:// or https://";
	for (const unsigned char *q = (const unsigned char *)url; *q; q++)
		if (*q <= ' ' || *q == 0x7f)
			return "must not contain spaces or control characters (write a space as %20)";
	const char *end = p + strcspn(p, "/?#");
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			p = q + 1; /* user:password@ */
	const char *h = p, *hend;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb)
			return "has an unclosed '[' in its host";
		h = p + 1;
		hend = rb;
		p = rb + 1;
		if (p < end && *p != ':')
			return "must have only :PORT after a [IPv6] host";
	} else {
		hend = memchr(p, ':', (size_t)(end - p));
		if (!hend)
			hend = end;
		p = hend;
	}
	if (hend == h)
		return "must have a host after the scheme, like https://hooks.example.com/flywheel";
	if (p < end) { /* ":PORT" */
		p++;
		size_t dl = (size_t)(end - p);
		if (!dl || dl > 5 || strspn(p, "0123456789") < dl || atoi(p) < 1 || atoi(p) > 65535)
			return "has a bad port: write HOST:PORT with a port from 1 to 65535";
	}
	if ((size_t)(hend - h) >= cap)
		return "has a host name longer than 253 characters";
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = 0;
	return NULL;
}

static const char *check_url(const char *v)
{
	char host[256];
	return url_host(v, host, sizeof host);
}

/* The ranges a webhook may not reach unasked; the same as the delivery-time
 * guard of src/net/webhook.c, which also checks the addresses a name
 * resolves to. */
static const struct {
	uint32_t net, mask;
	const char *kind;
} v4_refused[] = {
	{0x00000000, 0xff000000, "an unspecified address"},   /* 0/8 */
	{0x7f000000, 0xff000000, "a loopback address"},       /* 127/8 */
	{0x0a000000, 0xff000000, "a private address"},        /* 10/8 */
	{0xac100000, 0xfff00000, "a private address"},        /* 172.16/12 */
	{0xc0a80000, 0xffff0000, "a private address"},        /* 192.168/16 */
	{0x64400000, 0xffc00000, "a shared (CGNAT) address"}, /* 100.64/10 */
	{0xa9fe0000, 0xffff0000, "a link-local address"},     /* 169.254/16, cloud metadata */
	{0xe0000000, 0xf0000000, "a multicast address"},      /* 224/4 */
	{0xf0000000, 0xf0000000, "a reserved address"},       /* 240/4, 255.255.255.255 */
};

static const char *ipv4_kind(const unsigned char *b)
{
	uint32_t a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	for (size_t i = 0; i < FW_ARRAY_LEN(v4_refused); i++)
		if ((a & v4_refused[i].mask) == v4_refused[i].net)
			return v4_refused[i].kind;
	return NULL;
}

static const char *ipv6_kind(const unsigned char *b)
{
	static const unsigned char zero[16];
	if (!memcmp(b, zero, 16))
		return "an unspecified address";
	if (!memcmp(b, zero, 15) && b[15] == 1)
		return "a loopback address";
	if (!memcmp(b, zero, 10) && b[10] == 0xff && b[11] == 0xff) /* ::ffff:a.b.c.d */
		return ipv4_kind(b + 12);
	if (!memcmp(b, zero, 12)) /* ::a.b.c.d */
		return ipv4_kind(b + 12);
	if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && !memcmp(b + 4, zero, 8))
		return ipv4_kind(b + 12); /* 64:ff9b::/96, NAT64 */
	if (b[0] == 0x20 && b[1] == 0x02)
		return ipv4_kind(b + 2); /* 2002::/16, 6to4 */
	if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0))
		return "a private address"; /* fc00::/7, fec0::/10 */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "a link-local address";
	if (b[0] == 0xff)
		return "a multicast address";
	return NULL;
}

/* What kind of address a URL's host is when a webhook must not reach it
 * unasked: localhost, or a literal IP in one of the ranges above, in any form
 * curl accepts (127.1 and 0x7f000001 too). NULL for anything else, names
 * included: their addresses are checked when they are resolved, at delivery. */
static const char *private_kind(const char *host)
{
	char h[256];
	size_t n = strlen(host);
	if (n && host[n - 1] == '.')
		n--;
	if (n >= sizeof h)
		return NULL;
	for (size_t i = 0; i < n; i++)
		h[i] = (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] + 32 : host[i]);
	h[n] = 0;
	if (!strcmp(h, "localhost") || (n > 10 && !strcmp(h + n - 10, ".localhost")))
		return "localhost";
	unsigned char b[16];
	if (inet_pton(AF_INET6, h, b) == 1)
		return ipv6_kind(b);
	struct in_addr a4;
	if (strspn(h, "0123456789abcdefx.") == n && inet_aton(h, &a4))
		return ipv4_kind((const unsigned char *)&a4.s_addr);
	return NULL;
}

static const char *check_secret(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return "must not contain spaces or control characters";
	if (!strncmp(v, "whsec_", 6)) {
		const char *b = v + 6;
		size_t n = strlen(b), k = strspn(b, LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ+/");
		if (!n || n % 4 || k + 2 < n || strspn(b + k, "=") != n - k)
			return "must be whsec_ followed by base64, as Standard Webhooks secrets are";
	}
	return NULL;
}

/* ---- defaults and release ---- */

static void *field(void *base, const struct option *o)
{
	return (char *)base + o->off;
}

static size_t *count_of(void *base, const struct option *o)
{
	return (size_t *)((char *)base + o->off_n);
}

static void list_clear(struct fw_config_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	l->n = 0;
}

static void list_add_all(struct fw_config_list *l, const char *const *items)
{
	for (const char *const *d = items; d && *d && l->n < FW_CONFIG_MAX_LIST; d++)
		l->items[l->n++] = fw_xstrdup(*d);
}

/* Fill the config, or an item, with its table's defaults. */
static void apply_defaults(const struct option *t, size_t nt, void *base)
{
	for (size_t i = 0; i < nt; i++) {
		const struct option *o = &t[i];
		switch (o->type) {
		case OPT_STRING:
			*(char **)field(base, o) = o->def ? fw_xstrdup(o->def) : NULL;
			break;
		case OPT_INT:
		case OPT_BOOL:
		case OPT_ENUM:
			*(int *)field(base, o) = o->def_int;
			break;
		case OPT_DOUBLE:
			*(double *)field(base, o) = o->def_num * (o->scale ? o->scale : 1);
			break;
		case OPT_LIST:
			list_add_all(field(base, o), o->def_list);
			break;
		case OPT_DOUBLE_LIST: {
			double *v = field(base, o);
			size_t *n = count_of(base, o);
			for (*n = 0; o->def_nums && !isnan(o->def_nums[*n]); ++*n)
				v[*n] = o->def_nums[*n] * (o->scale ? o->scale : 1);
			break;
		}
		case OPT_TIERS:
			for (int k = 0; k < FW_ROUTE_COUNT; k++)
				((int *)field(base, o))[k] = (int)o->def_nums[k];
			break;
		case OPT_TARGETS:
			for (int m = 0; m < FW_M_COUNT; m++)
				((double *)field(base, o))[m] = NAN;
			break;
		case OPT_RULES: /* default_rules(), once the file is read */
		case OPT_PLANS:
		case OPT_METERS:
		case OPT_DESTINATIONS:
		case OPT_CUSTOM:
			break;
		}
	}
}

static void release_fields(const struct option *t, size_t nt, void *base);

static void rule_release(struct fw_rule *rule)
{
	release_fields(rule_fields, RF_COUNT, rule);
	for (size_t i = 0; i < rule->nwhere; i++) {
		free(rule->where[i].prop);
		list_clear(&rule->where[i].values);
	}
	memset(rule, 0, sizeof *rule);
}

static void plan_release(struct fw_plan *p)
{
	release_fields(plan_fields, PF_COUNT, p);
	free(p->name);
	for (size_t i = 0; i < p->nlimits; i++)
		free(p->limits[i].meter);
	memset(p, 0, sizeof *p);
}

static void meter_release(struct fw_meter *m)
{
	release_fields(meter_fields, MF_COUNT, m);
	free(m->name);
	memset(m, 0, sizeof *m);
}

static void destination_release(struct fw_destination *d)
{
	release_fields(destination_fields, DF_COUNT, d);
	memset(d, 0, sizeof *d);
}

/* Free what the table's fields own (the items of item lists too); counts
 * drop to 0. */
static void release_fields(const struct option *t, size_t nt, void *base)
{
	for (size_t i = 0; i < nt; i++) {
		const struct option *o = &t[i];
		size_t *n = o->off_n ? count_of(base, o) : NULL;
		switch (o->type) {
		case OPT_STRING:
			free(*(char **)field(base, o));
			*(char **)field(base, o) = NULL;
			break;
		case OPT_LIST:
			list_clear(field(base, o));
			break;
		case OPT_RULES:
			for (size_t k = 0; k < *n; k++)
				rule_release((struct fw_rule *)field(base, o) + k);
			*n = 0;
			break;
		case OPT_PLANS:
			for (size_t k = 0; k < *n; k++)
				plan_release((struct fw_plan *)field(base, o) + k);
			*n = 0;
			break;
		case OPT_METERS:
			for (size_t k = 0; k < *n; k++)
				meter_release((struct fw_meter *)field(base, o) + k);
			*n = 0;
			break;
		case OPT_DESTINATIONS:
			for (size_t k = 0; k < *n; k++)
				destination_release((struct fw_destination *)field(base, o) + k);
			*n = 0;
			break;
		default:
			break;
		}
	}
}

static void rule_init(struct fw_rule *rule)
{
	memset(rule, 0, sizeof *rule);
	apply_defaults(rule_fields, RF_COUNT, rule);
	rule->trait_min = rule->trait_max = NAN;
}

/* Replace the rules with the default set. */
static void default_rules(struct fw_scoring *s, const char *invite_event)
{
	for (size_t i = 0; i < s->nrules; i++)
		rule_release(&s->rules[i]);
	s->nrules = 0;
	for (size_t i = 0; i < FW_ARRAY_LEN(default_rule_table); i++) {
		const struct default_rule *d = &default_rule_table[i];
		struct fw_rule *rule = &s->rules[s->nrules++];
		rule_init(rule);
		rule->name = fw_xstrdup(d->name);
		rule->description = fw_xstrdup(d->description);
		rule->measure = d->measure;
		if (d->invite_event)
			rule->events.items[rule->events.n++] = fw_xstrdup(invite_event);
		list_add_all(&rule->events, d->events);
		list_add_all(&rule->pages, d->pages);
		rule->within_days_of_signup = d->within_days_of_signup;
		if (d->trait) {
			rule->trait = fw_xstrdup(d->trait);
			if (d->trait_in) {
				list_add_all(&rule->trait_in, d->trait_in);
			} else {
				rule->trait_min = d->trait_min;
				rule->trait_max = d->trait_max;
			}
		}
		memcpy(rule->steps, d->steps, sizeof d->steps);
		rule->nsteps = d->nsteps;
	}
}

void fw_config_defaults(struct fw_config *c)
{
	memset(c, 0, sizeof *c);
	apply_defaults(options, FW_ARRAY_LEN(options), c);
	default_rules(&c->scoring, c->invite_sent_event);
}

void fw_config_release(struct fw_config *c)
{
	release_fields(options, FW_ARRAY_LEN(options), c);
	free(c->source);
	memset(c, 0, sizeof *c);
}

int fw_config_is_active(const struct fw_config *c, const char *name, size_t n)
{
	if (n == 6 && memcmp(name, "$usage", 6) == 0)
		return 0; /* a usage record (billing.h) is bookkeeping, not activity */
	for (size_t i = 0; i < c->inactive_events.n; i++) {
		const char *s = c->inactive_events.items[i];
		if (strlen(s) == n && memcmp(s, name, n) == 0)
			return 0;
	}
	return 1;
}

/* ---- the reader ---- */

#define NOPTIONS FW_ARRAY_LEN(options)

struct reader {
	struct fw_config *c;
	yaml_document_t *doc;
	const char *text; /* the whole file */
	size_t len;
	struct fw_config_error *errs;
	size_t max, n, total;
	/* for finish(): where each option was set, and whether that had problems */
	const yaml_node_t *set_at[NOPTIONS];
	unsigned char failed[NOPTIONS];
	const yaml_node_t *plan_at[FW_MAX_PLANS];                      /* each plan's key */
	const yaml_node_t *limit_at[FW_MAX_PLANS][FW_PLAN_MAX_LIMITS]; /* each limit's key */
};

/* Record a problem at a 0-based libyaml mark. A message too long for
 * struct fw_config_error ends in "...". */
__attribute__((format(printf, 4, 5))) static void fail(struct reader *r, size_t line, size_t col,
							const char *fmt, ...)
{
	r->total++;
	if (r->n >= r->max || !r->errs)
		return;
	struct fw_config_error *e = &r->errs[r->n++];
	e->line = (int)line + 1;
	e->column = (int)col + 1;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	if (w >= (int)sizeof e->msg)
		memcpy(e->msg + sizeof e->msg - 4, "...", 4);
}

#define FAIL_AT(r, node, ...) fail(r, (node)->start_mark.line, (node)->start_mark.column, __VA_ARGS__)

static yaml_node_t *node_at(struct reader *r, int index)
{
	return yaml_document_get_node(r->doc, index);
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A plain `~`, `null` or nothing at all: YAML's null. */
static int is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	const char *s = scalar(n);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

/* How a node looks, for "got ..." in messages: a value is quoted and cut to
 * 40 bytes, with control characters shown as '?'. */
struct shown {
	char s[64];
};

static struct shown show(const yaml_node_t *n)
{
	struct shown out;
	if (n->type == YAML_MAPPING_NODE)
		return (struct shown){"a mapping"};
	if (n->type == YAML_SEQUENCE_NODE)
		return (struct shown){"a list"};
	if (is_null(n))
		return (struct shown){"nothing"};
	const char *s = scalar(n);
	size_t len = n->data.scalar.length, k = 0;
	out.s[k++] = '"';
	for (size_t i = 0; i < len && i < 40; i++) {
		unsigned char ch = (unsigned char)s[i];
		out.s[k++] = ch < ' ' || ch == 0x7f ? '?' : (char)ch;
	}
	if (len > 40) {
		memcpy(out.s + k, "...", 3);
		k += 3;
	}
	out.s[k++] = '"';
	out.s[k] = 0;
	return out;
}

/* The text of a scalar that must be a non-empty string; 0 if it is not (and
 * the problem is recorded, naming `name` and what was expected). */
static int string_value(struct reader *r, const yaml_node_t *n, const char *name,
			const struct option *o, const char **out)
{
	if (n->type != YAML_SCALAR_NODE) {
		FAIL_AT(r, n, "%s must be %s, got %s", name, o->what, show(n).s);
		return 0;
	}
	const char *s = scalar(n);
	if (is_null(n) || !*s) {
		if (o->type == OPT_STRING && o->def)
			FAIL_AT(r, n, "%s is empty: give %s, or remove the line to keep the default \"%s\"",
				name, o->what, o->def);
		else if (o->required)
			FAIL_AT(r, n, "%s is empty: give %s", name, o->what);
		else
			FAIL_AT(r, n, "%s is empty: give %s or remove it", name, o->what);
		return 0;
	}
	if (strlen(s) != n->data.scalar.length) {
		FAIL_AT(r, n, "%s contains a NUL character", name);
		return 0;
	}
	const char *why = o->check ? o->check(s) : NULL;
	if (why) {
		if (o->hide)
			FAIL_AT(r, n, "%s %s", name, why);
		else
			FAIL_AT(r, n, "%s %s, got %s", name, why, show(n).s);
		return 0;
	}
	*out = s;
	return 1;
}

/* Optional sign and decimal digits only: "1.5", "1e3" and "one" are not. */
static int parse_whole(const char *s, long long *out)
{
	const char *p = s + (*s == '+' || *s == '-');
	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 18)
		return 0;
	*out = strtoll(s, NULL, 10);
	return 1;
}

/* A finite decimal number: [+-] digits [. digits] [e [+-] digits]. No hex,
 * no .inf or .nan. */
static int parse_number(const char *s, double *out)
{
	const char *p = s + (*s == '+' || *s == '-');
	size_t ip = strspn(p, "0123456789"), fp = 0;
	p += ip;
	if (*p == '.') {
		fp = strspn(p + 1, "0123456789");
		p += 1 + fp;
	}
	if (!ip && !fp)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p += 1 + (p[1] == '+' || p[1] == '-');
		size_t ep = strspn(p, "0123456789");
		if (!ep)
			return 0;
		p += ep;
	}
	if (*p)
		return 0;
	errno = 0;
	double v = strtod(s, NULL);
	if (errno == ERANGE || !isfinite(v))
		return 0;
	*out = v;
	return 1;
}

/* YAML 1.1's booleans, in the three spellings YAML allows: true/false, yes/no. */
static int parse_bool(const char *s, int *out)
{
	static const char *const words[][2] = {{"true", "false"}, {"True", "False"},
					       {"TRUE", "FALSE"}, {"yes", "no"},
					       {"Yes", "No"},     {"YES", "NO"}};
	for (size_t i = 0; i < FW_ARRAY_LEN(words); i++)
		for (int b = 0; b < 2; b++)
			if (!strcmp(s, words[i][b])) {
				*out = !b;
				return 1;
			}
	return 0;
}

static size_t distance(const char *a, const char *b);

/* At most how far a typo may be from the word meant. */
static size_t near_limit(const char *s)
{
	size_t l = strlen(s) / 3;
	return l < 1 ? 1 : l;
}

/* The index of the name nearest to s, if near enough; -1 if none is. */
static int nearest_name(const char *s, const char *const *names, size_t n)
{
	size_t best = (size_t)-1;
	int found = -1;
	for (size_t i = 0; i < n; i++) {
		size_t d = distance(s, names[i]);
		if (d < best) {
			best = d;
			found = (int)i;
		}
	}
	return best <= near_limit(s) ? found : -1;
}

/* "a, b, c" into buf. */
static void join_names(const char *const *names, size_t n, char *buf, size_t cap)
{
	size_t k = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", names[i]);
		if (w < 0 || (size_t)w >= cap - k)
			return;
		k += (size_t)w;
	}
}

/* ---- setting one option (or one field of an item) from its node ---- */

static void set_string(struct reader *r, const struct option *o, void *base, const char *name,
		       const yaml_node_t *n)
{
	const char *s;
	if (!string_value(r, n, name, o, &s))
		return;
	char **f = field(base, o);
	free(*f);
	*f = fw_xstrdup(s);
}

static void set_int(struct reader *r, const struct option *o, void *base, const char *name,
		    const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE) {
		FAIL_AT(r, n, "%s must be a whole number, got %s", name, show(n).s);
		return;
	}
	if (is_null(n)) {
		if (o->required)
			FAIL_AT(r, n, "%s is empty: give a whole number", name);
		else if (o->def_doc)
			FAIL_AT(r, n, "%s is empty: give a whole number, or remove the line (default: %s)",
				name, o->def_doc);
		else
			FAIL_AT(r, n,
				"%s is empty: give a whole number, or remove the line to keep the default %d",
				name, o->def_int);
		return;
	}
	long long v;
	if (!parse_whole(scalar(n), &v)) {
		FAIL_AT(r, n, "%s must be a whole number, got %s", name, show(n).s);
		return;
	}
	if (v < o->min) {
		FAIL_AT(r, n, "%s must be at least %d, got %lld", name, o->min, v);
		return;
	}
	if (v > o->max) {
		FAIL_AT(r, n, "%s must be at most %d, got %lld", name, o->max, v);
		return;
	}
	*(int *)field(base, o) = (int)v;
}

/* A number in the option's range into *out; 0 (and the problem recorded) if
 * the node is not one. `item`: the node is one item of a list. */
static int number_value(struct reader *r, const struct option *o, const char *name,
			const yaml_node_t *n, int item, double *out)
{
	double v;
	if (n->type != YAML_SCALAR_NODE) {
		FAIL_AT(r, n, "%s must be a number, got %s", name, show(n).s);
		return 0;
	}
	if (is_null(n)) {
		if (item)
			FAIL_AT(r, n, "%s is empty: give a number or remove it", name);
		else if (o->required)
			FAIL_AT(r, n, "%s is empty: give a number", name);
		else if (o->def_doc)
			FAIL_AT(r, n, "%s is empty: give a number, or remove the line (default: %s)",
				name, o->def_doc);
		else
			FAIL_AT(r, n, "%s is empty: give a number, or remove the line to keep the default %g",
				name, o->def_num);
		return 0;
	}
	if (!parse_number(scalar(n), &v)) {
		FAIL_AT(r, n, "%s must be a number, got %s", name, show(n).s);
		return 0;
	}
	if (o->lo == 0 && o->lo_open && o->hi == 1) {
		if (v <= 0 || v > 1) {
			FAIL_AT(r, n,
				"%s is a share: write a fraction above 0 and at most 1 (80%% is 0.8), got %s",
				name, scalar(n));
			return 0;
		}
	} else if (o->lo_open && v <= o->lo) {
		FAIL_AT(r, n, "%s must be more than %g, got %s", name, o->lo, scalar(n));
		return 0;
	} else if (v < o->lo) {
		FAIL_AT(r, n, "%s must be at least %g, got %s", name, o->lo, scalar(n));
		return 0;
	} else if (v > o->hi) {
		FAIL_AT(r, n, "%s must be at most %g, got %s", name, o->hi, scalar(n));
		return 0;
	}
	*out = v;
	return 1;
}

static void set_double(struct reader *r, const struct option *o, void *base, const char *name,
		       const yaml_node_t *n)
{
	double v;
	if (number_value(r, o, name, n, 0, &v))
		*(double *)field(base, o) = v * (o->scale ? o->scale : 1);
}

static void set_bool(struct reader *r, const struct option *o, void *base, const char *name,
		     const yaml_node_t *n)
{
	int b;
	if (n->type != YAML_SCALAR_NODE || !parse_bool(scalar(n), &b)) {
		FAIL_AT(r, n, "%s must be true or false, got %s", name, show(n).s);
		return;
	}
	*(int *)field(base, o) = b;
}

static void set_enum(struct reader *r, const struct option *o, void *base, const char *name,
		     const yaml_node_t *n)
{
	char list[200];
	join_names(o->names, (size_t)o->nnames, list, sizeof list);
	if (n->type == YAML_SCALAR_NODE && !is_null(n)) {
		const char *s = scalar(n);
		for (int i = 0; i < o->nnames; i++)
			if (!strcmp(s, o->names[i])) {
				*(int *)field(base, o) = i;
				return;
			}
		int near = nearest_name(s, o->names, (size_t)o->nnames);
		if (near >= 0) {
			FAIL_AT(r, n, "%s must be one of %s; got %s (did you mean %s?)", name, list,
				show(n).s, o->names[near]);
			return;
		}
	}
	FAIL_AT(r, n, "%s must be one of %s; got %s", name, list, show(n).s);
}

/* A list is a YAML sequence, a single string, or nothing (an empty list). */
static void set_list(struct reader *r, const struct option *o, void *base, const char *name,
		     const yaml_node_t *n)
{
	struct fw_config_list l = {0};
	size_t before = r->total;
	char iname[320];
	if (n->type == YAML_MAPPING_NODE) {
		FAIL_AT(r, n, "%s must be a list (or a single string), got a mapping", name);
		return;
	}
	if (n->type == YAML_SCALAR_NODE) {
		const char *s;
		if (!is_null(n) && string_value(r, n, name, o, &s))
			l.items[l.n++] = fw_xstrdup(s);
	} else {
		int i = 0;
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++, i++) {
			const yaml_node_t *item = node_at(r, *it);
			snprintf(iname, sizeof iname, "%s item %d", name, i + 1);
			if (l.n == FW_CONFIG_MAX_LIST) {
				FAIL_AT(r, item, "%s holds at most %d items", name, FW_CONFIG_MAX_LIST);
				break;
			}
			const char *s;
			if (string_value(r, item, iname, o, &s))
				l.items[l.n++] = fw_xstrdup(s);
		}
	}
	struct fw_config_list *f = field(base, o);
	if (r->total != before) {
		list_clear(&l);
		return;
	}
	list_clear(f);
	*f = l;
}

/* A list of numbers: a YAML sequence, or one number. */
static void set_double_list(struct reader *r, const struct option *o, void *base,
			    const char *name, const yaml_node_t *n)
{
	double v[FW_CONFIG_MAX_LIST];
	size_t k = 0, before = r->total;
	char iname[320];
	if (n->type == YAML_MAPPING_NODE) {
		FAIL_AT(r, n, "%s must be a list of numbers (or one number), got a mapping", name);
		return;
	}
	if (n->type == YAML_SCALAR_NODE) {
		if (!is_null(n) && number_value(r, o, name, n, 0, &v[0]))
			k = 1;
	} else {
		int i = 0;
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++, i++) {
			const yaml_node_t *item = node_at(r, *it);
			snprintf(iname, sizeof iname, "%s item %d", name, i + 1);
			if (k == (size_t)o->max) {
				FAIL_AT(r, item, "%s holds at most %d numbers", name, o->max);
				break;
			}
			if (number_value(r, o, iname, item, 1, &v[k]))
				k++;
		}
	}
	if (r->total != before)
		return;
	if (k < (size_t)o->min) {
		FAIL_AT(r, n, "%s needs at least %d number%s", name, o->min, o->min == 1 ? "" : "s");
		return;
	}
	double *f = field(base, o);
	for (size_t i = 0; i < k; i++)
		f[i] = v[i] * (o->scale ? o->scale : 1);
	*count_of(base, o) = k;
}

/* ---- unknown keys: the nearest valid one ---- */

/* Optimal string alignment distance (Levenshtein plus adjacent swaps). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return (size_t)-1 / 2;
	size_t d[64][64];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

static const struct option *find_option(const char *path)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (!strcmp(options[i].path, path))
			return &options[i];
	return NULL;
}

/* Does `path` continue `prefix` with a dot ("triggers" of "triggers.x.min")? */
static int under(const char *path, const char *prefix, size_t pl)
{
	return !strncmp(path, prefix, pl) && path[pl] == '.';
}

/* Is `name` a section: the path of keys nested under it ("triggers",
 * "triggers.active_people")? */
static int is_section(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < NOPTIONS; i++)
		if (under(options[i].path, name, n))
			return 1;
	return 0;
}

/* The valid key or section nearest to `key` written under `prefix` (full =
 * prefix.key), or NULL if none is close: compared as a whole path, and by its
 * last part (a key put in the wrong section, one step further). */
static const char *nearest(const char *full, const char *key, char *buf, size_t cap)
{
	size_t best = (size_t)-1;
	const char *found = NULL;
	for (size_t i = 0; i < NOPTIONS; i++) {
		const char *p = options[i].path;
		/* the option, then each section above it */
		for (size_t len = strlen(p); len;) {
			char cand[128];
			snprintf(cand, sizeof cand, "%.*s", (int)len, p);
			size_t d = distance(full, cand);
			const char *dot = strrchr(cand, '.');
			if (dot) {
				size_t dl = distance(key, dot + 1) + 1;
				if (dl < d)
					d = dl;
			}
			if (d < best) {
				best = d;
				snprintf(buf, cap, "%s", cand);
				found = buf;
			}
			len = dot ? (size_t)(dot - cand) : 0;
		}
	}
	return best <= near_limit(key) ? found : NULL;
}

/* The keys under `prefix` ("event, min_count" under "activation"; the top
 * level's under ""). */
static void valid_keys(const char *prefix, char *buf, size_t cap)
{
	size_t pl = strlen(prefix), k = 0;
	buf[0] = 0;
	for (size_t i = 0; i < NOPTIONS; i++) {
		const char *p = options[i].path;
		if (pl && !under(p, prefix, pl))
			continue;
		const char *name = pl ? p + pl + 1 : p;
		size_t nl = strcspn(name, ".");
		int listed = 0;
		for (size_t j = 0; j < i && !listed; j++) {
			const char *q = options[j].path;
			if (pl && !under(q, prefix, pl))
				continue;
			q += pl ? pl + 1 : 0;
			listed = strcspn(q, ".") == nl && !strncmp(q, name, nl);
		}
		if (listed)
			continue;
		int w = snprintf(buf + k, cap - k, "%s%.*s", k ? ", " : "", (int)nl, name);
		if (w < 0 || (size_t)w >= cap - k)
			return;
		k += (size_t)w;
	}
}

static void unknown_key(struct reader *r, const yaml_node_t *kn, const char *prefix,
			const char *key)
{
	char full[200], near[128], valid[400];
	snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", key);
	if (strchr(key, '.') && (find_option(full) || is_section(full))) {
		const char *dot = strchr(key, '.');
		FAIL_AT(r, kn,
			"write %s nested: `%.*s:` on its own line, then `%s:` indented under it",
			key, (int)(dot - key), key, dot + 1);
		return;
	}
	if (nearest(full, key, near, sizeof near)) {
		FAIL_AT(r, kn, "unknown key %s; did you mean %s?", full, near);
		return;
	}
	valid_keys(prefix, valid, sizeof valid);
	if (*prefix)
		FAIL_AT(r, kn, "unknown key %s; %s takes: %s", full, prefix, valid);
	else
		FAIL_AT(r, kn, "unknown key %s; valid keys: %s", full, valid);
}

/* ---- mappings ---- */

/* The key of a mapping pair as a string, after checking it is a scalar and
 * not a repeat of an earlier key of the same mapping; NULL if not usable.
 * Messages name the key as prefix.key (sep "."), or "prefix: key" for the
 * fields of an item (sep ": "). */
static const char *pair_key(struct reader *r, const yaml_node_t *map, const yaml_node_pair_t *pair,
			    const char *prefix, const char *sep)
{
	const yaml_node_t *kn = node_at(r, pair->key);
	if (kn->type != YAML_SCALAR_NODE) {
		FAIL_AT(r, kn, "%s%skeys must be names, got %s", prefix, *prefix ? ": " : "",
			show(kn).s);
		return NULL;
	}
	const char *key = scalar(kn);
	for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
		const yaml_node_t *qk = node_at(r, q->key);
		if (qk->type == YAML_SCALAR_NODE && !strcmp(scalar(qk), key)) {
			if (!strcmp(sep, "."))
				FAIL_AT(r, kn, "duplicate key %s%s%s (first set on line %d)", prefix,
					*prefix ? "." : "", key, (int)qk->start_mark.line + 1);
			else
				FAIL_AT(r, kn, "%s: duplicate key %s (first set on line %d)", prefix, key,
					(int)qk->start_mark.line + 1);
			return NULL;
		}
	}
	return key;
}

/* The value of `key` in a mapping (its first), or NULL. */
static const yaml_node_t *peek(struct reader *r, const yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const yaml_node_t *kn = node_at(r, pair->key);
		if (kn->type == YAML_SCALAR_NODE && !strcmp(scalar(kn), key))
			return node_at(r, pair->value);
	}
	return NULL;
}

static void set_targets(struct reader *r, const yaml_node_t *n)
{
	if (is_null(n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		FAIL_AT(r, n, "targets must be a mapping of metric: number, got %s", show(n).s);
		return;
	}
	for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top;
	     pair++) {
		const char *key = pair_key(r, n, pair, "targets", ".");
		if (!key)
			continue;
		const yaml_node_t *kn = node_at(r, pair->key), *v = node_at(r, pair->value);
		int m = 0;
		while (m < FW_M_COUNT && strcmp(fw_metric_names[m], key))
			m++;
		if (m == FW_M_COUNT) {
			int bm = nearest_name(key, fw_metric_names, FW_M_COUNT);
			if (bm >= 0) {
				FAIL_AT(r, kn, "unknown metric targets.%s; did you mean %s?", key,
					fw_metric_names[bm]);
			} else {
				/* Every name, with bare commas to fit the message. */
				char list[440];
				size_t k = 0;
				for (int i = 0; i < FW_M_COUNT; i++)
					k += (size_t)snprintf(list + k, sizeof list - k, "%s%s",
							      i ? "," : "", fw_metric_names[i]);
				FAIL_AT(r, kn, "unknown metric %.12s; valid: %s", key, list);
			}
			continue;
		}
		if (is_null(v))
			continue; /* no target */
		double d;
		if (v->type != YAML_SCALAR_NODE || !parse_number(scalar(v), &d)) {
			FAIL_AT(r, v, "targets.%s must be a number, got %s", key, show(v).s);
			continue;
		}
		if (metric_info[m].is_rate && (d < 0 || d > 1)) {
			FAIL_AT(r, v,
				"targets.%s is a rate: write a fraction between 0 and 1 (40%% is 0.4), "
				"got %s",
				key, scalar(v));
			continue;
		}
		if (d < 0) {
			FAIL_AT(r, v, "targets.%s must not be negative, got %s", key, scalar(v));
			continue;
		}
		r->c->targets[m] = d;
	}
}

/* routing.tiers: {route: lowest score}, merged over the defaults, then
 * checked to rise from route to route. */
static void set_tiers(struct reader *r, const struct option *o, const yaml_node_t *n)
{
	static const struct option tier = {"tier", OPT_INT, 0, .min = 1, .max = 1000000};
	if (is_null(n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		FAIL_AT(r, n,
			"routing.tiers must be a mapping of route: lowest score, like "
			"{upgrade_campaign: 41, inside_sales: 65, account_executive: 100}; got %s",
			show(n).s);
		return;
	}
	int *tiers = field(r->c, o), t[FW_ROUTE_COUNT];
	memcpy(t, tiers, sizeof t);
	const yaml_node_t *at[FW_ROUTE_COUNT] = {0};
	char list[200], name[200];
	join_names(fw_lead_route_names, FW_ROUTE_COUNT, list, sizeof list);
	size_t before = r->total;
	for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top;
	     pair++) {
		const char *key = pair_key(r, n, pair, "routing.tiers", ".");
		if (!key)
			continue;
		const yaml_node_t *kn = node_at(r, pair->key), *v = node_at(r, pair->value);
		int route = 0;
		while (route < FW_ROUTE_COUNT && strcmp(fw_lead_route_names[route], key))
			route++;
		if (route == FW_ROUTE_COUNT) {
			int near = nearest_name(key, fw_lead_route_names, FW_ROUTE_COUNT);
			if (near >= 0)
				FAIL_AT(r, kn, "unknown route routing.tiers.%s; did you mean %s?", key,
					fw_lead_route_names[near]);
			else
				FAIL_AT(r, kn, "unknown route routing.tiers.%.40s; routes: %s", key, list);
			continue;
		}
		snprintf(name, sizeof name, "routing.tiers.%s", key);
		if (route == FW_ROUTE_NURTURE) {
			if (v->type != YAML_SCALAR_NODE || strcmp(scalar(v), "0"))
				FAIL_AT(r, v,
					"%s is always 0 (every score starts in nurture), got %s; set the "
					"lowest score of upgrade_campaign instead",
					name, show(v).s);
			continue;
		}
		set_int(r, &tier, &t[route], name, v);
		at[route] = v;
	}
	if (r->total != before)
		return;
	for (int i = 1; i < FW_ROUTE_COUNT; i++)
		if (t[i] <= t[i - 1]) {
			const yaml_node_t *where = at[i] ? at[i] : at[i - 1] ? at[i - 1] : n;
			FAIL_AT(r, where,
				"routing.tiers must rise from route to route: %s (%d) must be above %s "
				"(%d)",
				fw_lead_route_names[i], t[i], fw_lead_route_names[i - 1], t[i - 1]);
			return;
		}
	memcpy(tiers, t, sizeof t);
}

/* ---- items: the fields of a rule, a step, a plan, a limit, a meter, a destination ---- */

/* Where an item's field was given: its key and value nodes; NULL if not. */
struct given {
	const yaml_node_t *key, *value;
};

static void set_option(struct reader *r, const struct option *o, void *base, const char *name,
		       const yaml_node_t *n);

static void unknown_field(struct reader *r, const yaml_node_t *kn, const struct option *t,
			  size_t nt, const char *label, const char *what, const char *key)
{
	const char *names[32];
	for (size_t i = 0; i < nt && i < FW_ARRAY_LEN(names); i++)
		names[i] = t[i].path;
	int near = nearest_name(key, names, nt);
	if (near >= 0) {
		FAIL_AT(r, kn, "%s: unknown key %.40s; did you mean %s?", label, key, names[near]);
		return;
	}
	char valid[300];
	join_names(names, nt, valid, sizeof valid);
	FAIL_AT(r, kn, "%s: unknown key %.40s; %s takes: %s", label, key, what, valid);
}

/* Read an item's mapping by its field table: each field found is set on
 * `base` (OPT_CUSTOM ones are left to the caller), and at[i] says where field
 * i was given. Messages name a field label + sep + key. */
static void read_fields(struct reader *r, const yaml_node_t *map, const struct option *t,
			size_t nt, void *base, const char *label, const char *sep,
			const char *what, struct given *at)
{
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const char *key = pair_key(r, map, pair, label, sep);
		if (!key)
			continue;
		const yaml_node_t *kn = node_at(r, pair->key), *v = node_at(r, pair->value);
		size_t i = 0;
		while (i < nt && strcmp(t[i].path, key))
			i++;
		if (i == nt) {
			unknown_field(r, kn, t, nt, label, what, key);
			continue;
		}
		at[i] = (struct given){kn, v};
		if (t[i].type != OPT_CUSTOM) {
			char name[320];
			snprintf(name, sizeof name, "%s%s%s", label, sep, key);
			set_option(r, &t[i], base, name, v);
		}
	}
}

/* How messages name an item of a list: "scoring.rules item 3", with its
 * name when it has a valid one: "scoring.rules item 3 (invited_team)". */
static void item_label(struct reader *r, const yaml_node_t *map, const char *list, size_t num,
		       const char *(*check)(const char *), char *buf, size_t cap)
{
	const yaml_node_t *nn = peek(r, map, "name");
	if (nn && nn->type == YAML_SCALAR_NODE && !is_null(nn) && *scalar(nn) &&
	    strlen(scalar(nn)) == nn->data.scalar.length && !check(scalar(nn)))
		snprintf(buf, cap, "%s item %zu (%s)", list, num, scalar(nn));
	else
		snprintf(buf, cap, "%s item %zu", list, num);
}

/* ---- scoring rules ---- */

static void read_where(struct reader *r, struct fw_rule *rule, const char *label,
		       const yaml_node_t *n)
{
	static const struct option values = {"where", OPT_LIST, offsetof(struct fw_rule_where, values),
					     .what = "a value"};
	char prefix[200], name[320];
	snprintf(prefix, sizeof prefix, "%s: where", label);
	if (n->type != YAML_MAPPING_NODE) {
		FAIL_AT(r, n,
			"%s must be a mapping of property: value (or a list of values), like "
			"{plan: free}; got %s",
			prefix, show(n).s);
		return;
	}
	for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top;
	     pair++) {
		const char *key = pair_key(r, n, pair, prefix, ".");
		if (!key)
			continue;
		const yaml_node_t *kn = node_at(r, pair->key), *v = node_at(r, pair->value);
		if (!*key) {
			FAIL_AT(r, kn, "%s: a property name is empty", prefix);
			continue;
		}
		if (rule->nwhere == FW_RULE_MAX_WHERE) {
			FAIL_AT(r, kn, "%s holds at most %d properties", prefix, FW_RULE_MAX_WHERE);
			break;
		}
		struct fw_rule_where *w = &rule->where[rule->nwhere++];
		w->prop = fw_xstrdup(key);
		snprintf(name, sizeof name, "%s.%s", prefix, key);
		size_t before = r->total;
		set_list(r, &values, w, name, v);
		if (r->total == before && !w->values.n)
			FAIL_AT(r, v, "%s is empty: give a value, or a list of values", name);
	}
}

static void read_range(struct reader *r, struct fw_rule *rule, const char *label,
		       const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.top - n->data.sequence.items.start != 2) {
		char got[64];
		if (n->type == YAML_SEQUENCE_NODE)
			snprintf(got, sizeof got, "%d values",
				 (int)(n->data.sequence.items.top - n->data.sequence.items.start));
		else
			snprintf(got, sizeof got, "%s", show(n).s);
		FAIL_AT(r, n,
			"%s: range must be [low, high], like [50, 1000] (null for an open end), got %s",
			label, got);
		return;
	}
	double v[2];
	int ok = 1;
	for (int i = 0; i < 2; i++) {
		const yaml_node_t *item = node_at(r, n->data.sequence.items.start[i]);
		if (is_null(item)) {
			v[i] = i ? INFINITY : -INFINITY;
		} else if (item->type != YAML_SCALAR_NODE || !parse_number(scalar(item), &v[i])) {
			FAIL_AT(r, item, "%s: range %s must be a number, or null for an open end; got %s",
				label, i ? "high" : "low", show(item).s);
			ok = 0;
		}
	}
	if (!ok)
		return;
	if (isinf(v[0]) && isinf(v[1])) {
		FAIL_AT(r, n, "%s: range [null, null] matches anything: give at least one end", label);
		return;
	}
	if (v[0] > v[1]) {
		FAIL_AT(r, n, "%s: range low %g is above high %g", label, v[0], v[1]);
		return;
	}
	rule->trait_min = v[0];
	rule->trait_max = v[1];
}

/* `points: N` (from `min`, default 1), or a list of steps. */
static void read_points(struct reader *r, struct fw_rule *rule, const char *label,
			const yaml_node_t *map, struct given min, struct given points)
{
	char name[320], slabel[240];
	const yaml_node_t *p = points.value;
	if (!p) {
		FAIL_AT(r, map, "%s needs points: a whole number, or a list of steps", label);
		return;
	}
	if (p->type == YAML_SCALAR_NODE) {
		struct fw_rule_step *s = &rule->steps[0];
		*s = (struct fw_rule_step){1, INFINITY, 0};
		rule->nsteps = 1;
		snprintf(name, sizeof name, "%s: points", label);
		set_int(r, &step_fields[SF_POINTS], s, name, p);
		if (min.value) {
			snprintf(name, sizeof name, "%s: min", label);
			set_double(r, &step_fields[SF_MIN], s, name, min.value);
		}
		return;
	}
	if (min.value)
		FAIL_AT(r, min.key,
			"%s: min goes with points: N; with a list of steps, give each step its own min",
			label);
	if (p->type != YAML_SEQUENCE_NODE ||
	    p->data.sequence.items.top == p->data.sequence.items.start) {
		FAIL_AT(r, p,
			"%s: points must be a whole number or a list of steps like [{min: 1, max: 3, "
			"points: 15}, {min: 4, points: 25}], got %s",
			label, p->type == YAML_SEQUENCE_NODE ? "an empty list" : show(p).s);
		return;
	}
	double prev = 0;
	int prev_ok = 0;
	size_t i = 0;
	for (yaml_node_item_t *it = p->data.sequence.items.start; it < p->data.sequence.items.top;
	     it++, i++) {
		const yaml_node_t *item = node_at(r, *it);
		snprintf(slabel, sizeof slabel, "%s: points step %zu", label, i + 1);
		if (rule->nsteps == FW_RULE_MAX_STEPS) {
			FAIL_AT(r, item, "%s: points holds at most %d steps", label, FW_RULE_MAX_STEPS);
			break;
		}
		struct fw_rule_step *s = &rule->steps[rule->nsteps++];
		*s = (struct fw_rule_step){NAN, INFINITY, 0};
		if (item->type != YAML_MAPPING_NODE) {
			FAIL_AT(r, item, "%s must be a mapping like {min: 4, points: 25}, got %s", slabel,
				show(item).s);
			prev_ok = 0;
			continue;
		}
		struct given at[SF_COUNT] = {{0}};
		size_t before = r->total;
		read_fields(r, item, step_fields, SF_COUNT, s, slabel, ": ", "a step", at);
		if (r->total == before && !at[SF_MIN].value)
			FAIL_AT(r, item, "%s needs a min: the lowest measured value it covers", slabel);
		if (r->total == before && !at[SF_POINTS].value)
			FAIL_AT(r, item, "%s needs points", slabel);
		if (r->total == before && s->max < s->min)
			FAIL_AT(r, at[SF_MAX].value, "%s: max must be at least its min %g, got %g", slabel,
				s->min, s->max);
		if (r->total != before) {
			prev_ok = 0;
			continue;
		}
		if (prev_ok && s->min <= prev)
			FAIL_AT(r, at[SF_MIN].value,
				"%s: points steps must have increasing min, got %g after %g", label, s->min,
				prev);
		prev = s->min;
		prev_ok = 1;
	}
}

/* Rule `num` (1-based) of scoring.rules; rules[0 .. num-2] are the ones before. */
static void read_rule(struct reader *r, const yaml_node_t *n, size_t num,
		      const struct fw_rule *rules, struct fw_rule *rule)
{
	const struct option *t = rule_fields;
	struct given at[RF_COUNT] = {{0}};
	char label[160], name[320];
	if (n->type != YAML_MAPPING_NODE) {
		FAIL_AT(r, n, "scoring.rules item %zu must be a mapping with a name and points, got %s",
			num, show(n).s);
		return;
	}
	item_label(r, n, "scoring.rules", num, check_ident, label, sizeof label);
	size_t before = r->total;
	read_fields(r, n, t, RF_COUNT, rule, label, ": ", "a rule", at);
	if (at[RF_EVENT].value) {
		const char *s;
		snprintf(name, sizeof name, "%s: event", label);
		if (at[RF_EVENTS].value)
			FAIL_AT(r, at[RF_EVENT].key, "%s: give events or event, not both", label);
		else if (string_value(r, at[RF_EVENT].value, name, &t[RF_EVENT], &s))
			rule->events.items[rule->events.n++] = fw_xstrdup(s);
	}
	if (at[RF_WHERE].value)
		read_where(r, rule, label, at[RF_WHERE].value);
	if (at[RF_RANGE].value)
		read_range(r, rule, label, at[RF_RANGE].value);
	read_points(r, rule, label, n, at[RF_MIN], at[RF_POINTS]);
	if (!at[RF_NAME].value)
		FAIL_AT(r, n, "%s needs a name: a unique identifier like invited_team", label);
	if (r->total != before)
		return; /* what follows would only repeat the problem */

	for (size_t k = 0; k + 1 < num; k++)
		if (rules[k].name && !strcmp(rules[k].name, rule->name)) {
			FAIL_AT(r, at[RF_NAME].value,
				"%s: the name is already used by item %zu; rule names must be unique",
				label, k + 1);
			break;
		}
	if (!rule->description)
		rule->description = fw_xstrdup(rule->name);
	/* fields of other measures */
	for (size_t i = 0; i < RF_COUNT; i++) {
		unsigned m = t[i].measures;
		if (!at[i].key || !m || (m & 1u << rule->measure))
			continue;
		if (!(m & (m - 1)))
			FAIL_AT(r, at[i].key, "%s: %s goes with measure %s, not %s", label, t[i].path,
				measure_names[__builtin_ctz(m)], measure_names[rule->measure]);
		else
			FAIL_AT(r, at[i].key, "%s: %s does not apply to measure %s", label, t[i].path,
				measure_names[rule->measure]);
	}
	switch (rule->measure) {
	case FW_MEASURE_EVENTS:
		if (!rule->events.n && !rule->pages.n)
			FAIL_AT(r, at[RF_EVENTS].value ? at[RF_EVENTS].value : n,
				"%s needs events (or pages) to count, or a measure other than events",
				label);
		break;
	case FW_MEASURE_TRAIT:
		if (!rule->trait)
			FAIL_AT(r, n, "%s: measure trait needs trait: the trait to read, like employees",
				label);
		if (at[RF_RANGE].value && at[RF_IN].value)
			FAIL_AT(r, at[RF_IN].key, "%s: give range or in, not both", label);
		else if (!at[RF_RANGE].value && !at[RF_IN].value)
			FAIL_AT(r, at[RF_TRAIT].key ? at[RF_TRAIT].key : n,
				"%s: measure trait needs range: [low, high] (numbers) or in: [values] "
				"(text) to match the trait",
				label);
		else if (at[RF_IN].value && !rule->trait_in.n)
			FAIL_AT(r, at[RF_IN].value, "%s: in is empty: give the values that match", label);
		break;
	default:
		break;
	}
	if (at[RF_WITHIN].value && at[RF_LAST].value)
		FAIL_AT(r, at[RF_LAST].key, "%s: give within_days_of_signup or last_days, not both",
			label);
}

static void set_rules(struct reader *r, const struct option *o, const yaml_node_t *n)
{
	struct fw_rule *rules = field(r->c, o);
	size_t *nrules = count_of(r->c, o);
	for (size_t i = 0; i < *nrules; i++)
		rule_release(&rules[i]);
	*nrules = 0;
	if (is_null(n))
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		FAIL_AT(r, n, "scoring.rules must be a list of rules (`- name: ...` lines), got %s",
			show(n).s);
		return;
	}
	size_t num = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		const yaml_node_t *item = node_at(r, *it);
		if (*nrules == (size_t)o->max) {
			FAIL_AT(r, item, "scoring.rules holds at most %d rules", o->max);
			break;
		}
		struct fw_rule *rule = &rules[(*nrules)++];
		rule_init(rule);
		read_rule(r, item, ++num, rules, rule);
	}
}

/* ---- plans and meters ---- */

static int plan_index(const struct fw_config *c, const char *name)
{
	for (size_t i = 0; i < c->nplans; i++)
		if (!strcmp(c->plans[i].name, name))
			return (int)i;
	return -1;
}

static int meter_index(const struct fw_config *c, const char *name)
{
	for (size_t i = 0; i < c->nmeters; i++)
		if (!strcmp(c->meters[i].name, name))
			return (int)i;
	return -1;
}

/* `name` (at node n) names no plan of the file. */
static void plan_ref_error(struct reader *r, const yaml_node_t *n, const char *name)
{
	const char *names[FW_MAX_PLANS];
	char list[300];
	for (size_t i = 0; i < r->c->nplans; i++)
		names[i] = r->c->plans[i].name;
	join_names(names, r->c->nplans, list, sizeof list);
	int near = n->type == YAML_SCALAR_NODE ? nearest_name(scalar(n), names, r->c->nplans) : -1;
	if (near >= 0)
		FAIL_AT(r, n, "%s must name a plan of this file (%s), got %s (did you mean %s?)", name,
			list, show(n).s, names[near]);
	else
		FAIL_AT(r, n, "%s must name a plan of this file (%s), got %s", name, list, show(n).s);
}

static void read_limits(struct reader *r, struct fw_plan *p, size_t pi, const char *label,
			const yaml_node_t *n)
{
	char prefix[240], name[320];
	snprintf(prefix, sizeof prefix, "%s.limits", label);
	if (is_null(n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		FAIL_AT(r, n,
			"%s must be a mapping of meter: limit, like {seats: 3, projects: {limit: 5, "
			"hard: false}}; got %s",
			prefix, show(n).s);
		return;
	}
	for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top;
	     pair++) {
		const char *key = pair_key(r, n, pair, prefix, ".");
		if (!key)
			continue;
		const yaml_node_t *kn = node_at(r, pair->key), *v = node_at(r, pair->value);
		if (p->nlimits == FW_PLAN_MAX_LIMITS) {
			FAIL_AT(r, kn, "%s holds at most %d limits", prefix, FW_PLAN_MAX_LIMITS);
			break;
		}
		struct fw_plan_limit *lim = &p->limits[p->nlimits];
		r->limit_at[pi][p->nlimits++] = kn;
		memset(lim, 0, sizeof *lim);
		apply_defaults(limit_fields, LF_COUNT, lim);
		lim->meter = fw_xstrdup(key);
		snprintf(name, sizeof name, "%s.%s", prefix, key);
		if (v->type == YAML_MAPPING_NODE) {
			struct given at[LF_COUNT] = {{0}};
			size_t before = r->total;
			read_fields(r, v, limit_fields, LF_COUNT, lim, name, ".", "a limit", at);
			if (r->total == before && !at[LF_LIMIT].value)
				FAIL_AT(r, v, "%s needs a limit: the most an account may use", name);
		} else if (v->type == YAML_SCALAR_NODE) {
			set_double(r, &limit_fields[LF_LIMIT], lim, name, v);
		} else {
			FAIL_AT(r, v, "%s must be a number or {limit: N, hard: true|false}, got a list",
				name);
		}
	}
}

static void set_plans(struct reader *r, const struct option *o, const yaml_node_t *n)
{
	struct fw_config *c = r->c;
	struct fw_plan *plans = field(c, o);
	size_t *np = count_of(c, o);
	for (size_t i = 0; i < *np; i++)
		plan_release(&plans[i]);
	*np = 0;
	if (is_null(n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		FAIL_AT(r, n,
			"plans must be a mapping of plan name: plan, like {free: {price: 0}, team: "
			"{price: 49}}; got %s",
			show(n).s);
		return;
	}
	struct given at[FW_MAX_PLANS][PF_COUNT];
	memset(at, 0, sizeof at);
	size_t before = r->total;
	char label[200];
	for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top;
	     pair++) {
		const char *key = pair_key(r, n, pair, "plans", ".");
		if (!key)
			continue;
		const yaml_node_t *kn = node_at(r, pair->key), *v = node_at(r, pair->value);
		if (*np == (size_t)o->max) {
			FAIL_AT(r, kn, "plans holds at most %d plans", o->max);
			break;
		}
		if (!*key || strlen(key) > 64 || strlen(key) != kn->data.scalar.length) {
			FAIL_AT(r, kn, "plans: a plan name must be 1 to 64 characters, got %s", show(kn).s);
			continue;
		}
		size_t pi = (*np)++;
		struct fw_plan *p = &plans[pi];
		memset(p, 0, sizeof *p);
		apply_defaults(plan_fields, PF_COUNT, p);
		p->name = fw_xstrdup(key);
		r->plan_at[pi] = kn;
		snprintf(label, sizeof label, "plans.%s", key);
		if (is_null(v))
			continue; /* a plan with every default */
		if (v->type != YAML_MAPPING_NODE) {
			FAIL_AT(r, v, "%s must be a mapping (price, limits, features ...), got %s", label,
				show(v).s);
			continue;
		}
		read_fields(r, v, plan_fields, PF_COUNT, p, label, ".", "a plan", at[pi]);
		if (at[pi][PF_LIMITS].value)
			read_limits(r, p, pi, label, at[pi][PF_LIMITS].value);
		if (at[pi][PF_TRIAL_ENDS_TO].value && !at[pi][PF_TRIAL_DAYS].value)
			FAIL_AT(r, at[pi][PF_TRIAL_ENDS_TO].key,
				"%s.trial_ends_to goes with a trial: set trial_days too", label);
	}
	if (r->total != before)
		return;
	/* references between plans, now that every plan is known */
	for (size_t i = 0; i < *np; i++) {
		const struct fw_plan *p = &plans[i];
		static const int ref[] = {PF_UPGRADE_TO, PF_TRIAL_ENDS_TO};
		for (size_t k = 0; k < FW_ARRAY_LEN(ref); k++) {
			const char *to = *(char **)field((void *)p, &plan_fields[ref[k]]);
			const yaml_node_t *v = at[i][ref[k]].value;
			if (!to || !v)
				continue;
			snprintf(label, sizeof label, "plans.%s.%s", p->name, plan_fields[ref[k]].path);
			if (plan_index(c, to) < 0)
				plan_ref_error(r, v, label);
			else if (!strcmp(to, p->name))
				FAIL_AT(r, v, "%s names the plan itself; name another plan", label);
		}
	}
}

static void set_meters(struct reader *r, const struct option *o, const yaml_node_t *n)
{
	struct fw_meter *meters = field(r->c, o);
	size_t *nm = count_of(r->c, o);
	for (size_t i = 0; i < *nm; i++)
		meter_release(&meters[i]);
	*nm = 0;
	if (is_null(n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		FAIL_AT(r, n,
			"meters must be a mapping of meter name: meter, like {api_calls: {events: [API "
			"Call]}}; got %s",
			show(n).s);
		return;
	}
	char label[200];
	for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top;
	     pair++) {
		const char *key = pair_key(r, n, pair, "meters", ".");
		if (!key)
			continue;
		const yaml_node_t *kn = node_at(r, pair->key), *v = node_at(r, pair->value);
		if (*nm == (size_t)o->max) {
			FAIL_AT(r, kn, "meters holds at most %d meters", o->max);
			break;
		}
		const char *why = *key ? check_ident(key) : "must not be empty";
		if (why) {
			FAIL_AT(r, kn, "meters: a meter name %s, got %s", why, show(kn).s);
			continue;
		}
		if (!strcmp(key, "seats")) {
			FAIL_AT(r, kn,
				"meters.seats: seats is built in (an account's members); give the meter "
				"another name");
			continue;
		}
		struct fw_meter *m = &meters[(*nm)++];
		memset(m, 0, sizeof *m);
		apply_defaults(meter_fields, MF_COUNT, m);
		m->name = fw_xstrdup(key);
		snprintf(label, sizeof label, "meters.%s", key);
		if (v->type != YAML_MAPPING_NODE) {
			FAIL_AT(r, v,
				"%s must be a mapping with events (and aggregate, property, period), got %s",
				label, show(v).s);
			continue;
		}
		struct given at[MF_COUNT] = {{0}};
		size_t before = r->total;
		read_fields(r, v, meter_fields, MF_COUNT, m, label, ".", "a meter", at);
		if (r->total != before)
			continue;
		if (!m->events.n)
			FAIL_AT(r, at[MF_EVENTS].value ? at[MF_EVENTS].value : v,
				"%s needs events: the events it reads", label);
		if (m->agg != FW_AGG_COUNT && !m->property)
			FAIL_AT(r, at[MF_AGGREGATE].value,
				"%s.aggregate %s needs a property: the event property it reads", label,
				agg_names[m->agg]);
		if (m->agg == FW_AGG_COUNT && m->property)
			FAIL_AT(r, at[MF_PROPERTY].key,
				"%s.property goes with aggregate sum, unique or max; count counts the "
				"events",
				label);
	}
}

/* ---- destinations ---- */

static void set_destinations(struct reader *r, const struct option *o, const yaml_node_t *n)
{
	struct fw_destination *dests = field(r->c, o);
	size_t *nd = count_of(r->c, o);
	for (size_t i = 0; i < *nd; i++)
		destination_release(&dests[i]);
	*nd = 0;
	if (is_null(n))
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		FAIL_AT(r, n,
			"destinations must be a list of destinations (`- name: crm` lines, each with "
			"its url), got %s",
			show(n).s);
		return;
	}
	size_t num = 0;
	char label[160];
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		const yaml_node_t *item = node_at(r, *it);
		num++;
		if (*nd == (size_t)o->max) {
			FAIL_AT(r, item, "destinations holds at most %d destinations", o->max);
			break;
		}
		struct fw_destination *d = &dests[(*nd)++];
		memset(d, 0, sizeof *d);
		apply_defaults(destination_fields, DF_COUNT, d);
		if (item->type != YAML_MAPPING_NODE) {
			FAIL_AT(r, item, "destinations item %zu must be a mapping with a name and a url, got %s",
				num, show(item).s);
			continue;
		}
		item_label(r, item, "destinations", num, check_dest_name, label, sizeof label);
		struct given at[DF_COUNT] = {{0}};
		size_t before = r->total;
		read_fields(r, item, destination_fields, DF_COUNT, d, label, ": ", "a destination", at);
		if (!at[DF_NAME].value)
			FAIL_AT(r, item, "%s needs a name: a unique identifier like crm", label);
		if (!at[DF_URL].value)
			FAIL_AT(r, item, "%s needs a url: where to POST the events", label);
		if (r->total != before)
			continue;
		for (size_t k = 0; k + 1 < num; k++)
			if (dests[k].name && !strcmp(dests[k].name, d->name)) {
				FAIL_AT(r, at[DF_NAME].value,
					"%s: the name is already used by item %zu; destination names must "
					"be unique",
					label, k + 1);
				break;
			}
		char host[256];
		const char *kind;
		if (!d->allow_private && !url_host(d->url, host, sizeof host) &&
		    (kind = private_kind(host))) {
			if (!strcmp(kind, "localhost"))
				FAIL_AT(r, at[DF_URL].value,
					"%s: url points at %s; set allow_private: true on this "
					"destination to deliver there",
					label, host);
			else
				FAIL_AT(r, at[DF_URL].value,
					"%s: url points at %s, %s; set allow_private: true on this "
					"destination to deliver there",
					label, host, kind);
		}
	}
}

/* ---- the file ---- */

static void set_option(struct reader *r, const struct option *o, void *base, const char *name,
		       const yaml_node_t *n)
{
	switch (o->type) {
	case OPT_STRING:
		set_string(r, o, base, name, n);
		break;
	case OPT_INT:
		set_int(r, o, base, name, n);
		break;
	case OPT_DOUBLE:
		set_double(r, o, base, name, n);
		break;
	case OPT_BOOL:
		set_bool(r, o, base, name, n);
		break;
	case OPT_ENUM:
		set_enum(r, o, base, name, n);
		break;
	case OPT_LIST:
		set_list(r, o, base, name, n);
		break;
	case OPT_DOUBLE_LIST:
		set_double_list(r, o, base, name, n);
		break;
	case OPT_TARGETS:
		set_targets(r, n);
		break;
	case OPT_TIERS:
		set_tiers(r, o, n);
		break;
	case OPT_RULES:
		set_rules(r, o, n);
		break;
	case OPT_PLANS:
		set_plans(r, o, n);
		break;
	case OPT_METERS:
		set_meters(r, o, n);
		break;
	case OPT_DESTINATIONS:
		set_destinations(r, o, n);
		break;
	case OPT_CUSTOM:
		break; /* the item's reader */
	}
}

static void read_mapping(struct reader *r, const yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const char *key = pair_key(r, map, pair, prefix, ".");
		if (!key)
			continue;
		const yaml_node_t *kn = node_at(r, pair->key), *v = node_at(r, pair->value);
		char full[200];
		snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", key);
		const struct option *o = strchr(key, '.') ? NULL : find_option(full);
		if (o) {
			size_t before = r->total;
			set_option(r, o, r->c, o->path, v);
			r->set_at[o - options] = v;
			r->failed[o - options] = r->total != before;
		} else if (!strchr(key, '.') && is_section(full)) {
			if (v->type == YAML_MAPPING_NODE) {
				read_mapping(r, v, full);
			} else if (!is_null(v)) {
				char valid[400];
				valid_keys(full, valid, sizeof valid);
				FAIL_AT(r, v, "%s must be a mapping with the keys %s; got %s", full, valid,
					show(v).s);
			}
		} else {
			unknown_key(r, kn, prefix, key);
		}
	}
}

static size_t option_index(const char *path)
{
	return (size_t)(find_option(path) - options);
}

/* What depends on the whole file: the default rules follow
 * invites.sent_event; default_plan, a trial's fallback and every limit's
 * meter must exist. Skipped where the parts they join had problems already. */
static void finish(struct reader *r)
{
	struct fw_config *c = r->c;
	size_t rules = option_index("scoring.rules"), plans = option_index("plans"),
	       meters = option_index("meters"), dp = option_index("default_plan");
	if (!r->set_at[rules])
		default_rules(&c->scoring, c->invite_sent_event);
	if (r->failed[plans] || r->failed[dp] || !c->nplans)
		return;
	int has_default = plan_index(c, c->default_plan) >= 0;
	if (!has_default && r->set_at[dp]) {
		plan_ref_error(r, r->set_at[dp], "default_plan");
	} else if (!has_default) {
		const char *names[FW_MAX_PLANS];
		char list[300];
		for (size_t i = 0; i < c->nplans; i++)
			names[i] = c->plans[i].name;
		join_names(names, c->nplans, list, sizeof list);
		FAIL_AT(r, r->set_at[plans],
			"plans has no plan \"%s\", the default_plan: add it, or set default_plan to "
			"the plan of an account with none (one of %s)",
			c->default_plan, list);
	}
	for (size_t i = 0; i < c->nplans; i++) {
		struct fw_plan *p = &c->plans[i];
		if (p->trial_days && !p->trial_ends_to) {
			if (!strcmp(p->name, c->default_plan))
				FAIL_AT(r, r->plan_at[i],
					"plans.%s is a trial and the default_plan, so it would end in "
					"itself: set its trial_ends_to",
					p->name);
			else if (has_default)
				p->trial_ends_to = fw_xstrdup(c->default_plan);
		}
		if (r->failed[meters])
			continue;
		for (size_t j = 0; j < p->nlimits; j++) {
			const char *m = p->limits[j].meter, *names[FW_MAX_METERS + 1] = {"seats"};
			if (!strcmp(m, "seats") || meter_index(c, m) >= 0)
				continue;
			for (size_t k = 0; k < c->nmeters; k++)
				names[k + 1] = c->meters[k].name;
			int near = nearest_name(m, names, c->nmeters + 1);
			if (near >= 0)
				FAIL_AT(r, r->limit_at[i][j],
					"plans.%s.limits.%s: no meter is named %s; did you mean %s?",
					p->name, m, m, names[near]);
			else
				FAIL_AT(r, r->limit_at[i][j],
					"plans.%s.limits.%s: no meter is named %s; define it under meters "
					"(a plan limits seats or a meter)",
					p->name, m, m);
		}
	}
}
/* ---- syntax errors ---- */

/* 0-based line and column of a byte offset, columns in characters. */
static void offset_position(const char *text, size_t len, size_t off, size_t *line, size_t *col)
{
	*line = *col = 0;
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			++*line;
			*col = 0;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			++*col;
		}
	}
}

static int line_indented_with_tab(const char *text, size_t len, size_t line)
{
	size_t i = 0;
	for (size_t l = 0; l < line && i < len; i++)
		if (text[i] == '\n')
			l++;
	for (; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
		if (text[i] == '\t')
			return 1;
	return 0;
}

static void syntax_error(struct reader *r, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "cannot parse the file";
	if (p->error == YAML_READER_ERROR) {
		size_t line, col;
		offset_position(r->text, r->len, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			fail(r, line, col, "not UTF-8 text: %s (byte 0x%02x)", problem,
			     (unsigned)p->problem_value & 0xff);
		else
			fail(r, line, col, "not UTF-8 text: %s", problem);
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		fail(r, 0, 0, "out of memory reading the file");
		return;
	}
	/* A problem noticed on a later line than where it began (an unclosed
	 * quote or bracket, a key without ':') is reported where it began. */
	yaml_mark_t at = p->problem_mark;
	const char *hint = "";
	if (p->context && p->context_mark.line < p->problem_mark.line)
		at = p->context_mark;
	if (strstr(problem, "cannot start any token") &&
	    line_indented_with_tab(r->text, r->len, p->problem_mark.line))
		hint = "; YAML indents with spaces, not tabs";
	else if (strstr(problem, "mapping values are not allowed"))
		hint = "; check the indentation, and quote a value that contains \": \"";
	if (p->context)
		fail(r, at.line, at.column, "invalid YAML: %s %s%s", problem, p->context, hint);
	else
		fail(r, at.line, at.column, "invalid YAML: %s%s", problem, hint);
}

/* ---- loading ---- */

static int read_file(const char *path, char **out, size_t *len, struct fw_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fw_error(err, FW_EIO, "cannot read %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return fw_error(err, FW_EIO, "cannot read %s: it is a directory", path);
	}
	struct fw_buf b = {0};
	char chunk[16384];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= MAX_FILE_BYTES)
		fw_buf_add(&b, chunk, n);
	int bad = ferror(f);
	int saved = errno;
	fclose(f);
	if (bad) {
		fw_buf_release(&b);
		return fw_error(err, FW_EIO, "cannot read %s: %s", path, strerror(saved));
	}
	if (!b.data)
		fw_buf_add(&b, "", 0);
	*out = b.data;
	*len = b.len;
	return 0;
}

static void read_text(struct reader *r)
{
	if (r->len > MAX_FILE_BYTES) {
		fail(r, 0, 0, "the file is larger than 1 MiB; a flywheel.yaml is a few KB: is it the "
			      "right file?");
		return;
	}
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		fail(r, 0, 0, "out of memory reading the file");
		return;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)r->text, r->len);
	yaml_document_t doc;
	if (!yaml_parser_load(&p, &doc)) {
		syntax_error(r, &p);
		yaml_parser_delete(&p);
		return;
	}
	r->doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE)
		read_mapping(r, root, "");
	else if (root && !is_null(root))
		FAIL_AT(r, root,
			"the file must be a mapping of keys (like `activation:`), got %s",
			show(root).s);
	finish(r);
	r->doc = NULL;
	yaml_document_delete(&doc);
	/* One document per file: a second one would be ignored silently. */
	if (!yaml_parser_load(&p, &doc)) {
		syntax_error(r, &p);
	} else {
		if (yaml_document_get_root_node(&doc))
			fail(r, doc.start_mark.line, doc.start_mark.column,
			     "a second YAML document: flywheel.yaml holds one (remove the `---`)");
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&p);
}

/* Load with every error counted in *total, whatever `max`. */
static int load(struct fw_config *c, const char *path, struct fw_config_error *errs, size_t max,
		size_t *nerrs, size_t *total, struct fw_err *err)
{
	if (nerrs)
		*nerrs = 0;
	*total = 0;
	memset(c, 0, sizeof *c);
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(path, &text, &len, err);
	if (rc)
		return rc;
	fw_config_defaults(c);
	struct reader r = {.c = c, .text = text, .len = len, .errs = errs, .max = max};
	read_text(&r);
	free(text);
	if (nerrs)
		*nerrs = r.n;
	*total = r.total;
	if (r.total) {
		fw_config_release(c);
		if (r.n)
			fw_error(err, FW_EINVAL, "%s:%d:%d: %s", path, errs[0].line, errs[0].column,
				 errs[0].msg);
		else
			fw_error(err, FW_EINVAL, "%s: %zu errors", path, r.total);
		return FW_EINVAL;
	}
	c->source = fw_xstrdup(path);
	return 0;
}

int fw_config_load(struct fw_config *c, const char *path, struct fw_config_error *errs,
		   size_t max, size_t *nerrs, struct fw_err *err)
{
	size_t total;
	return load(c, path, errs, max, nerrs, &total, err);
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 || errno != ENOENT;
}

int fw_config_resolve(struct fw_config *c, const char *explicit_path, const char *data_dir,
		      struct fw_err *err)
{
	char path[4096];
	if (explicit_path) {
		snprintf(path, sizeof path, "%s", explicit_path);
	} else {
		int n = data_dir ? snprintf(path, sizeof path, "%s/flywheel.yaml", data_dir) : -1;
		if (n < 0 || (size_t)n >= sizeof path || !exists(path)) {
			snprintf(path, sizeof path, "flywheel.yaml");
			if (!exists(path)) {
				fw_config_defaults(c);
				return 0;
			}
		}
	}
	struct fw_config_error errs[1];
	size_t nerrs, total;
	int rc = load(c, path, errs, 1, &nerrs, &total, err);
	if (rc == FW_EINVAL && total > 1) {
		size_t l = strlen(err->msg);
		snprintf(err->msg + l, sizeof err->msg - l,
			 " (and %zu more; `flywheel check` lists them all)", total - 1);
	}
	return rc;
}


/* ---- documentation ---- */

static void doc_number_range(struct fw_buf *out, const struct option *o)
{
	if (o->lo == 0 && o->lo_open && o->hi == 1)
		fw_buf_adds(out, "number above 0, at most 1");
	else if (isinf(o->hi))
		fw_buf_printf(out, "number %s %g", o->lo_open ? ">" : "≥", o->lo);
	else
		fw_buf_printf(out, "number, %g to %g", o->lo, o->hi);
}

static void doc_type(struct fw_buf *out, const struct option *o)
{
	if (o->type_doc) {
		fw_buf_adds(out, o->type_doc);
		return;
	}
	switch (o->type) {
	case OPT_STRING:
		fw_buf_adds(out, "string");
		break;
	case OPT_INT:
		if (o->max == INT_MAX)
			fw_buf_printf(out, "whole number ≥ %d", o->min);
		else
			fw_buf_printf(out, "whole number, %d to %d", o->min, o->max);
		break;
	case OPT_DOUBLE:
		doc_number_range(out, o);
		break;
	case OPT_BOOL:
		fw_buf_adds(out, "true or false");
		break;
	case OPT_ENUM:
		fw_buf_adds(out, "one of ");
		for (int i = 0; i < o->nnames; i++)
			fw_buf_printf(out, "%s`%s`", i ? ", " : "", o->names[i]);
		break;
	case OPT_LIST:
		fw_buf_adds(out, "list of strings, or one string");
		break;
	case OPT_DOUBLE_LIST:
		fw_buf_printf(out, "list of 1 to %d numbers, each ", o->max);
		doc_number_range(out, o);
		break;
	case OPT_TARGETS:
		fw_buf_adds(out, "number");
		break;
	default:
		break;
	}
}

static void doc_default(struct fw_buf *out, const struct option *o)
{
	if (o->def_doc) {
		fw_buf_adds(out, o->def_doc);
		return;
	}
	if (o->required) {
		fw_buf_adds(out, "required");
		return;
	}
	switch (o->type) {
	case OPT_STRING:
		if (o->def)
			fw_buf_printf(out, "`%s`", o->def);
		else
			fw_buf_adds(out, "none");
		break;
	case OPT_INT:
		fw_buf_printf(out, "`%d`", o->def_int);
		break;
	case OPT_DOUBLE:
		fw_buf_printf(out, "`%g`", o->def_num);
		break;
	case OPT_BOOL:
		fw_buf_adds(out, o->def_int ? "`true`" : "`false`");
		break;
	case OPT_ENUM:
		fw_buf_printf(out, "`%s`", o->names[o->def_int]);
		break;
	case OPT_LIST:
		fw_buf_adds(out, "`[");
		for (const char *const *d = o->def_list; d && *d; d++)
			fw_buf_printf(out, "%s\"%s\"", d == o->def_list ? "" : ", ", *d);
		fw_buf_adds(out, "]`");
		break;
	case OPT_DOUBLE_LIST:
		fw_buf_adds(out, "`[");
		for (const double *d = o->def_nums; d && !isnan(*d); d++)
			fw_buf_printf(out, "%s%g", d == o->def_nums ? "" : ", ", *d);
		fw_buf_adds(out, "]`");
		break;
	default:
		fw_buf_adds(out, "none");
		break;
	}
}

/* One reference table: a row per option (or field of an item). */
static void doc_rows(struct fw_buf *out, const struct option *t, size_t nt)
{
	fw_buf_adds(out, "| key | type | default | what it means |\n|---|---|---|---|\n");
	for (size_t i = 0; i < nt; i++) {
		const struct option *o = &t[i];
		fw_buf_printf(out, "| `%s%s` | ", o->path, o->type == OPT_TARGETS ? ".METRIC" : "");
		doc_type(out, o);
		fw_buf_adds(out, " | ");
		doc_default(out, o);
		fw_buf_printf(out, " | %s |\n", o->doc);
	}
}

static void doc_names(struct fw_buf *out, const struct fw_config_list *l, const char *sep)
{
	for (size_t i = 0; i < l->n; i++)
		fw_buf_printf(out, "%s`%s`", i ? sep : "", l->items[i]);
}

/* A default rule in words: what it measures, and its points by step. */
static void doc_rule(struct fw_buf *out, const struct fw_rule *rule, int invite_event)
{
	fw_buf_printf(out, "| `%s` | %s | ", rule->name, rule->description);
	switch (rule->measure) {
	case FW_MEASURE_EVENTS:
		if (invite_event) {
			fw_buf_adds(out, "events `invites.sent_event`");
		} else {
			fw_buf_adds(out, "events ");
			doc_names(out, &rule->events, ", ");
		}
		if (rule->pages.n) {
			fw_buf_adds(out, ", or `$pageview` of ");
			doc_names(out, &rule->pages, ", ");
		}
		break;
	case FW_MEASURE_TRAIT:
		fw_buf_printf(out, "trait `%s` ", rule->trait);
		if (rule->trait_in.n) {
			fw_buf_adds(out, "in ");
			doc_names(out, &rule->trait_in, ", ");
		} else {
			fw_buf_printf(out, "from %g to %g", rule->trait_min, rule->trait_max);
		}
		break;
	default:
		fw_buf_adds(out, measure_names[rule->measure]);
		break;
	}
	if (rule->within_days_of_signup)
		fw_buf_printf(out, ", in the first %d days from sign-up", rule->within_days_of_signup);
	fw_buf_adds(out, " | ");
	for (size_t i = 0; i < rule->nsteps; i++) {
		const struct fw_rule_step *s = &rule->steps[i];
		if (rule->measure == FW_MEASURE_TRAIT || rule->measure == FW_MEASURE_ONBOARDING)
			fw_buf_printf(out, "%d", s->points); /* measures 0 or 1 */
		else if (isinf(s->max))
			fw_buf_printf(out, "%s%g+: %d", i ? "; " : "", s->min, s->points);
		else
			fw_buf_printf(out, "%s%g–%g: %d", i ? "; " : "", s->min, s->max, s->points);
	}
	fw_buf_adds(out, " |\n");
}

/* The reference tables of docs/config.md, in Markdown. */
void fw_config_write_docs(struct fw_buf *out);
void fw_config_write_docs(struct fw_buf *out)
{
	doc_rows(out, options, NOPTIONS);
	fw_buf_printf(out,
		      "\nLists hold at most %d items. Booleans are `true` or `false` (`yes` and "
		      "`no` work too). Metrics that take a target:\n\n"
		      "| metric | target is |\n|---|---|\n",
		      FW_CONFIG_MAX_LIST);
	for (int m = 0; m < FW_M_COUNT; m++)
		fw_buf_printf(out, "| `%s` | %s |\n", fw_metric_names[m], metric_info[m].doc);

	fw_buf_printf(out, "\n### A scoring rule\n\nAn item of `scoring.rules` (at most %d):\n\n",
		      FW_SCORING_MAX_RULES);
	doc_rows(out, rule_fields, RF_COUNT);
	fw_buf_printf(out,
		      "\nA step of a rule's `points` list (at most %d, their `min` increasing); a "
		      "measured value gets the points of the last step holding it:\n\n",
		      FW_RULE_MAX_STEPS);
	doc_rows(out, step_fields, SF_COUNT);
	fw_buf_adds(out, "\nThe default rules, used when `scoring.rules` is not given:\n\n"
			 "| rule | description | measures | points |\n|---|---|---|---|\n");
	struct fw_config c;
	fw_config_defaults(&c);
	for (size_t i = 0; i < c.scoring.nrules; i++)
		doc_rule(out, &c.scoring.rules[i], default_rule_table[i].invite_event);
	fw_config_release(&c);

	fw_buf_printf(out, "\n### A plan\n\nA value of `plans` (at most %d), under the plan's name:\n\n",
		      FW_MAX_PLANS);
	doc_rows(out, plan_fields, PF_COUNT);
	fw_buf_printf(out,
		      "\nA value of `limits` (at most %d per plan), under `seats` or a meter's "
		      "name, is a number (a hard limit) or:\n\n",
		      FW_PLAN_MAX_LIMITS);
	doc_rows(out, limit_fields, LF_COUNT);
	fw_buf_printf(out,
		      "\n### A meter\n\nA value of `meters` (at most %d), under the meter's name "
		      "(lower-case letters, digits and `_`; not `seats`, which is built in):\n\n",
		      FW_MAX_METERS);
	doc_rows(out, meter_fields, MF_COUNT);
	fw_buf_printf(out, "\n### A destination\n\nAn item of `destinations` (at most %d):\n\n",
		      FW_MAX_DESTINATIONS);
	doc_rows(out, destination_fields, DF_COUNT);
}

const char *const fw_lead_route_names[FW_ROUTE_COUNT] = {"nurture", "upgrade_campaign", "inside_sales",
							 "account_executive"};
const char *const fw_trigger_names[FW_TRIGGER_COUNT] = {"active_people", "enterprise_domain",
							"procurement", "free_domain"};
