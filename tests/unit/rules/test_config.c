/*
 * test_config.c — flywheel.yaml: defaults, a full file, every kind of error
 * with its exact line and column, lists, targets, the lookup order, and that
 * docs/config.md is the option table's own output.
 */
#include "../test.h"
#include "flywheel/config.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>



static const char *fixture(const char *name)
{
	/* fixtures/ beside this file; __FILE__ is relative to the repo root */
	static char path[512];
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__) : 0;
	snprintf(path, sizeof path, "%.*s%sfixtures/%s", dir, __FILE__, slash ? "/" : "", name);
	return path;
}

static const char *write_file(const char *dir, const char *name, const char *text)
{
	static char path[600];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load `text` as a file; returns the rc, errors in errs (up to 16). */
static int load_text(struct fw_config *c, const char *text, struct fw_config_error *errs,
		     size_t *n)
{
	const char *path = write_file(fw_test_tmpdir(), "flywheel.yaml", text);
	struct fw_err err = {0};
	return fw_config_load(c, path, errs, 16, n, &err);
}

/* The one error `text` must give, at line:col with exactly `msg`. */
static void check_error(int at, const char *text, int line, int col, const char *msg)
{
	struct fw_config c;
	struct fw_config_error errs[16];
	size_t n = 99;
	int rc = load_text(&c, text, errs, &n);
	if (rc != FW_EINVAL || n != 1) {
		fprintf(stderr, "  test_config.c:%d: rc %d, %zu errors for:\n%s\n", at, rc, n, text);
		for (size_t i = 0; i < n && i < 16; i++)
			fprintf(stderr, "    %d:%d: %s\n", errs[i].line, errs[i].column, errs[i].msg);
		fw_test_failures++;
		return;
	}
	if (errs[0].line != line || errs[0].column != col || strcmp(errs[0].msg, msg)) {
		fprintf(stderr, "  test_config.c:%d: got %d:%d: %s\n  expected %d:%d: %s\n", at,
			errs[0].line, errs[0].column, errs[0].msg, line, col, msg);
		fw_test_failures++;
	}
	CHECK(c.listen == NULL && c.source == NULL); /* nothing is left owned */
}
#define CHECK_ERROR(text, line, col, msg) check_error(__LINE__, text, line, col, msg)

static int list_is(const struct fw_config_list *l, const char *const *want, size_t n)
{
	if (l->n != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(l->items[i], want[i]))
			return 0;
	return 1;
}
#define LIST_IS(l, ...)                                                                 \
	list_is(l, (const char *const[]){__VA_ARGS__},                                 \
		sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

TEST(config_defaults)
{
	struct fw_config c;
	fw_config_defaults(&c);
	CHECK(c.source == NULL);
	CHECK_EQ_INT(c.write_keys.n, 0);
	CHECK_EQ_INT(c.secret_keys.n, 0);
	CHECK_EQ_STR(c.listen, "127.0.0.1:8080");
	CHECK_EQ_INT(c.timeout_s, 30);
	CHECK_EQ_INT(c.min_free_mb, 64);
	CHECK_EQ_STR(c.signup_event, "Signed Up");
	CHECK_EQ_STR(c.activation_event, "Project Created");
	CHECK_EQ_INT(c.activation_min_count, 1);
	CHECK(LIST_IS(&c.inactive_events, "$feature_flag_called", "$identify", "$groupidentify",
		      "$create_alias", "$set", "$opt_in", "$exception"));
	CHECK_EQ_INT(c.core_features.n, 0);
	CHECK_EQ_INT(c.onboarding_steps.n, 0);
	CHECK(LIST_IS(&c.channel_properties, "channel", "utm_source"));
	CHECK(LIST_IS(&c.paid_channels, "paid", "cpc", "ppc", "ads", "google_ads", "facebook_ads",
		      "linkedin_ads"));
	CHECK_EQ_STR(c.plan_event, "Plan Changed");
	CHECK_EQ_STR(c.plan_property, "plan");
	CHECK_EQ_STR(c.mrr_property, "mrr");
	CHECK_EQ_INT(c.conversion_window_days, 90);
	CHECK_EQ_STR(c.invite_sent_event, "Invite Sent");
	CHECK_EQ_STR(c.invite_accepted_event, "Invite Accepted");
	CHECK_EQ_STR(c.inviter_property, "inviter_id");
	CHECK_EQ_INT(c.k_factor_window_days, 30);
	for (int m = 0; m < FW_M_COUNT; m++)
		CHECK(isnan(c.targets[m]));
	CHECK_EQ_STR(fw_metric_names[FW_M_SIGNUPS], "signups");
	CHECK_EQ_STR(fw_metric_names[FW_M_NRR], "nrr");
	CHECK_EQ_STR(fw_metric_names[FW_M_K_FACTOR], "k_factor");
	for (int m = 0; m < FW_M_COUNT; m++)
		CHECK(fw_metric_names[m] && *fw_metric_names[m]);
	fw_config_release(&c);
	fw_config_release(&c); /* harmless twice */
}

/* The default rules are the PQL table of DESIGN.md, in its order. */
TEST(config_defaults_scoring)
{
	struct fw_config c;
	fw_config_defaults(&c);
	const struct fw_scoring *s = &c.scoring;
	static const struct {
		const char *name, *description;
		enum fw_measure measure;
		double min, max;
		int points;
	} want[] = {
		{"onboarding_completed", "completed onboarding flow", FW_MEASURE_ONBOARDING, 1, INFINITY, 10},
		{"invited_team", "invited team members", FW_MEASURE_EVENTS, 1, 3, 15},
		{"integration_connected", "connected an integration", FW_MEASURE_EVENTS, 1, INFINITY, 20},
		{"active_days_first_14", "5+ days active in first 14 days", FW_MEASURE_ACTIVE_DAYS, 5,
		 INFINITY, 15},
		{"core_features_used", "used 3+ core features", FW_MEASURE_CORE_FEATURES, 3, INFINITY, 20},
		{"created_items", "created 10+ items / projects", FW_MEASURE_EVENTS, 10, INFINITY, 15},
		{"active_streak_7", "active 7 consecutive days", FW_MEASURE_STREAK, 7, INFINITY, 25},
		{"hit_plan_limit", "hit a free plan limit", FW_MEASURE_EVENTS, 1, INFINITY, 30},
		{"viewed_pricing", "viewed pricing page 2+ times", FW_MEASURE_EVENTS, 2, INFINITY, 15},
		{"premium_feature_attempted", "attempted a premium feature", FW_MEASURE_EVENTS, 1,
		 INFINITY, 20},
		{"payment_info_entered", "entered payment information", FW_MEASURE_EVENTS, 1, INFINITY,
		 40},
		{"icp_company_size", "company size in ICP", FW_MEASURE_TRAIT, 1, INFINITY, 10},
		{"target_industry", "industry in target verticals", FW_MEASURE_TRAIT, 1, INFINITY, 10},
	};
	CHECK_EQ_INT(s->nrules, FW_ARRAY_LEN(want));
	for (size_t i = 0; i < s->nrules && i < FW_ARRAY_LEN(want); i++) {
		const struct fw_rule *r = &s->rules[i];
		CHECK_EQ_STR(r->name, want[i].name);
		CHECK_EQ_STR(r->description, want[i].description);
		CHECK_EQ_INT(r->measure, want[i].measure);
		CHECK(r->steps[0].min == want[i].min && r->steps[0].max == want[i].max);
		CHECK_EQ_INT(r->steps[0].points, want[i].points);
		CHECK_EQ_INT(r->per_person, 0);
		CHECK(isnan(r->half_life_days));
		CHECK_EQ_INT(r->nwhere, 0);
		CHECK(r->distinct == NULL);
		CHECK_EQ_INT(r->last_days, 0);
		CHECK_EQ_INT(r->within_days_of_signup, i == 3 ? 14 : 0);
		CHECK_EQ_INT(r->nsteps, i == 1 ? 2 : 1);
		if (r->measure != FW_MEASURE_TRAIT)
			CHECK(r->trait == NULL && isnan(r->trait_min) && isnan(r->trait_max) &&
			      r->trait_in.n == 0);
		if (r->measure != FW_MEASURE_EVENTS)
			CHECK(r->events.n == 0 && r->pages.n == 0);
	}
	CHECK(LIST_IS(&s->rules[1].events, "Invite Sent")); /* invites.sent_event */
	CHECK(s->rules[1].steps[1].min == 4 && isinf(s->rules[1].steps[1].max));
	CHECK_EQ_INT(s->rules[1].steps[1].points, 25);
	CHECK(LIST_IS(&s->rules[2].events, "Integration Connected"));
	CHECK(LIST_IS(&s->rules[5].events, "Project Created", "Item Created"));
	CHECK(LIST_IS(&s->rules[7].events, "Limit Reached"));
	CHECK(LIST_IS(&s->rules[8].events, "Pricing Viewed"));
	CHECK(LIST_IS(&s->rules[8].pages, "Pricing"));
	CHECK(LIST_IS(&s->rules[9].events, "Premium Feature Attempted"));
	CHECK(LIST_IS(&s->rules[10].events, "Payment Info Entered"));
	CHECK_EQ_STR(s->rules[11].trait, "employees");
	CHECK(s->rules[11].trait_min == 50 && s->rules[11].trait_max == 1000);
	CHECK_EQ_INT(s->rules[11].trait_in.n, 0);
	CHECK_EQ_STR(s->rules[12].trait, "industry");
	CHECK(LIST_IS(&s->rules[12].trait_in, "Software", "SaaS", "Technology", "Fintech"));
	CHECK(isnan(s->rules[12].trait_min) && isnan(s->rules[12].trait_max));

	/* routing, triggers, signals */
	CHECK(s->half_life_days == 0);
	CHECK_EQ_INT(s->rescore_interval_s, 3600);
	CHECK(LIST_IS(&s->email_traits, "email"));
	CHECK_EQ_STR(s->domain_trait, "domain");
	CHECK(s->tiers[FW_ROUTE_NURTURE] == 0 && s->tiers[FW_ROUTE_UPGRADE_CAMPAIGN] == 41 &&
	      s->tiers[FW_ROUTE_INSIDE_SALES] == 65 && s->tiers[FW_ROUTE_ACCOUNT_EXECUTIVE] == 100);
	CHECK_EQ_INT(s->require_activation, 1);
	for (int t = 0; t < FW_TRIGGER_COUNT; t++)
		CHECK_EQ_INT(s->triggers[t].enabled, 1);
	const struct fw_trigger_config *tr = s->triggers;
	CHECK(tr[FW_TRIGGER_ACTIVE_PEOPLE].min == 5 && tr[FW_TRIGGER_ACTIVE_PEOPLE].days == 7);
	CHECK_EQ_INT(tr[FW_TRIGGER_ACTIVE_PEOPLE].route, FW_ROUTE_INSIDE_SALES);
	CHECK_EQ_INT(tr[FW_TRIGGER_ENTERPRISE_DOMAIN].list.n, 0);
	CHECK_EQ_INT(tr[FW_TRIGGER_ENTERPRISE_DOMAIN].route, FW_ROUTE_ACCOUNT_EXECUTIVE);
	CHECK(LIST_IS(&tr[FW_TRIGGER_PROCUREMENT].list, "Procurement Requested", "MSA Requested",
		      "Security Review Requested", "Invoice Billing Requested"));
	CHECK_EQ_INT(tr[FW_TRIGGER_PROCUREMENT].route, FW_ROUTE_ACCOUNT_EXECUTIVE);
	CHECK_EQ_INT(tr[FW_TRIGGER_FREE_DOMAIN].min, 20);
	CHECK(LIST_IS(&tr[FW_TRIGGER_FREE_DOMAIN].list, "gmail.com", "googlemail.com", "yahoo.com",
		      "hotmail.com", "outlook.com", "live.com", "msn.com", "icloud.com", "me.com",
		      "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "mail.com",
		      "yandex.ru", "qq.com", "163.com", "zoho.com", "fastmail.com"));
	CHECK_EQ_INT(tr[FW_TRIGGER_FREE_DOMAIN].route, FW_ROUTE_INSIDE_SALES);
	CHECK(s->at_risk_drop_share == 0.5);
	CHECK_EQ_INT(s->at_risk_min_previous_events, 20);
	CHECK_EQ_INT(s->at_risk_inactive_days, 14);
	CHECK(s->expansion_near_share == 0.8);
	CHECK_EQ_STR(fw_lead_route_names[FW_ROUTE_UPGRADE_CAMPAIGN], "upgrade_campaign");
	CHECK_EQ_STR(fw_trigger_names[FW_TRIGGER_FREE_DOMAIN], "free_domain");

	/* plans, meters, entitlements, webhooks */
	CHECK_EQ_INT(c.nplans, 0);
	CHECK_EQ_STR(c.default_plan, "free");
	CHECK_EQ_INT(c.nmeters, 0);
	CHECK(c.prompt_share == 0.8);
	CHECK_EQ_INT(c.ndestinations, 0);
	static const double schedule[] = {5, 300, 1800, 7200, 18000, 36000};
	CHECK_EQ_INT(c.webhooks.nretry, FW_ARRAY_LEN(schedule));
	for (size_t i = 0; i < FW_ARRAY_LEN(schedule); i++)
		CHECK(c.webhooks.retry_schedule_s[i] == schedule[i]);
	CHECK(c.webhooks.give_up_after_s == 72 * 3600);
	CHECK_EQ_INT(c.webhooks.timeout_s, 10);
	fw_config_release(&c);
	CHECK(c.scoring.nrules == 0 && c.default_plan == NULL);
}

TEST(config_full_file)
{
	struct fw_config c;
	struct fw_config_error errs[16];
	size_t n = 99;
	struct fw_err err = {0};
	const char *path = fixture("full.yaml");
	int rc = fw_config_load(&c, path, errs, 16, &n, &err);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(n, 0);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "    %d:%d: %s\n", errs[i].line, errs[i].column, errs[i].msg);
		fprintf(stderr, "    %s\n", err.msg);
		return;
	}
	CHECK_EQ_STR(c.source, path);
	CHECK(LIST_IS(&c.write_keys, "wk_segment", "wk_posthog"));
	CHECK(LIST_IS(&c.secret_keys, "sk_live_1"));
	CHECK_EQ_STR(c.listen, "0.0.0.0:9000");
	CHECK_EQ_INT(c.timeout_s, 10);
	CHECK_EQ_INT(c.min_free_mb, 512);
	CHECK_EQ_STR(c.signup_event, "Account Created");
	CHECK(LIST_IS(&c.channel_properties, "utm_medium"));
	CHECK(LIST_IS(&c.paid_channels, "cpc", "paid_social"));
	CHECK_EQ_STR(c.activation_event, "Dashboard Shared");
	CHECK_EQ_INT(c.activation_min_count, 2);
	CHECK(LIST_IS(&c.inactive_events, "$identify", "Heartbeat"));
	CHECK(LIST_IS(&c.core_features, "Report Run", "Export Created", "Alert Set"));
	CHECK(LIST_IS(&c.onboarding_steps, "Profile Completed", "Team Invited", "First Report"));
	CHECK_EQ_STR(c.plan_event, "Subscription Updated");
	CHECK_EQ_STR(c.plan_property, "tier");
	CHECK_EQ_STR(c.mrr_property, "monthly_revenue");
	CHECK_EQ_INT(c.conversion_window_days, 60);
	CHECK_EQ_STR(c.invite_sent_event, "Teammate Invited");
	CHECK_EQ_STR(c.invite_accepted_event, "Teammate Joined");
	CHECK_EQ_STR(c.inviter_property, "referrer");
	CHECK_EQ_INT(c.k_factor_window_days, 14);
	CHECK(c.targets[FW_M_SIGNUPS] == 1500);
	CHECK(c.targets[FW_M_ACTIVATION_RATE_7D] == 0.4);
	CHECK(c.targets[FW_M_RETENTION_W1] == 0.25);
	CHECK(c.targets[FW_M_NRR] == 1.1);
	CHECK(c.targets[FW_M_ACV] == 12000);
	CHECK(isnan(c.targets[FW_M_DAU_MAU])); /* `~`: no target */
	CHECK(isnan(c.targets[FW_M_K_FACTOR]));

	/* scoring */
	const struct fw_scoring *s = &c.scoring;
	CHECK(s->half_life_days == 30);
	CHECK_EQ_INT(s->rescore_interval_s, 600);
	CHECK(LIST_IS(&s->email_traits, "email", "work_email"));
	CHECK_EQ_STR(s->domain_trait, "company_domain");
	CHECK_EQ_INT(s->nrules, 6); /* the list replaces the default rules */
	const struct fw_rule *r = &s->rules[0];
	CHECK_EQ_STR(r->name, "invited_team");
	CHECK_EQ_STR(r->description, "invited teammates");
	CHECK_EQ_INT(r->measure, FW_MEASURE_EVENTS);
	CHECK(LIST_IS(&r->events, "Teammate Invited")); /* `event:` */
	CHECK_EQ_STR(r->distinct, "invitee_email");
	CHECK_EQ_INT(r->within_days_of_signup, 14);
	CHECK_EQ_INT(r->nsteps, 2);
	CHECK(r->steps[0].min == 1 && r->steps[0].max == 3 && r->steps[0].points == 15);
	CHECK(r->steps[1].min == 4 && isinf(r->steps[1].max) && r->steps[1].points == 25);
	CHECK_EQ_INT(r->per_person, 1);
	CHECK(isnan(r->half_life_days));
	r = &s->rules[1];
	CHECK_EQ_STR(r->description, "viewed_pricing"); /* the name */
	CHECK(LIST_IS(&r->events, "Pricing Viewed"));
	CHECK(LIST_IS(&r->pages, "Pricing", "Plans"));
	CHECK_EQ_INT(r->nwhere, 2);
	CHECK_EQ_STR(r->where[0].prop, "plan");
	CHECK(LIST_IS(&r->where[0].values, "free"));
	CHECK_EQ_STR(r->where[1].prop, "source");
	CHECK(LIST_IS(&r->where[1].values, "web", "app"));
	CHECK_EQ_INT(r->last_days, 30);
	CHECK_EQ_INT(r->nsteps, 1);
	CHECK(r->steps[0].min == 2 && isinf(r->steps[0].max) && r->steps[0].points == 15);
	CHECK(r->half_life_days == 7);
	CHECK_EQ_INT(r->per_person, 0);
	r = &s->rules[2];
	CHECK_EQ_INT(r->measure, FW_MEASURE_STREAK);
	CHECK(r->steps[0].min == 7 && r->steps[0].points == 25);
	r = &s->rules[3];
	CHECK_EQ_INT(r->measure, FW_MEASURE_TRAIT);
	CHECK_EQ_STR(r->trait, "employees");
	CHECK(r->trait_min == 50 && isinf(r->trait_max) && r->trait_max > 0); /* open end */
	r = &s->rules[4];
	CHECK(LIST_IS(&r->trait_in, "Software", "Fintech"));
	CHECK(isnan(r->trait_min));
	CHECK_EQ_INT(r->steps[0].points, -5);
	CHECK_EQ_INT(s->rules[5].measure, FW_MEASURE_ONBOARDING);
	CHECK(s->tiers[0] == 0 && s->tiers[1] == 30 && s->tiers[2] == 60 && s->tiers[3] == 90);
	CHECK_EQ_INT(s->require_activation, 0);
	const struct fw_trigger_config *t = s->triggers;
	CHECK_EQ_INT(t[FW_TRIGGER_ACTIVE_PEOPLE].enabled, 0);
	CHECK(t[FW_TRIGGER_ACTIVE_PEOPLE].min == 3 && t[FW_TRIGGER_ACTIVE_PEOPLE].days == 14);
	CHECK_EQ_INT(t[FW_TRIGGER_ACTIVE_PEOPLE].route, FW_ROUTE_ACCOUNT_EXECUTIVE);
	CHECK_EQ_INT(t[FW_TRIGGER_ENTERPRISE_DOMAIN].enabled, 1);
	CHECK(LIST_IS(&t[FW_TRIGGER_ENTERPRISE_DOMAIN].list, "acme.com", "globex.com"));
	CHECK_EQ_INT(t[FW_TRIGGER_ENTERPRISE_DOMAIN].route, FW_ROUTE_INSIDE_SALES);
	CHECK(LIST_IS(&t[FW_TRIGGER_PROCUREMENT].list, "MSA Requested"));
	CHECK_EQ_INT(t[FW_TRIGGER_PROCUREMENT].route, FW_ROUTE_INSIDE_SALES);
	CHECK_EQ_INT(t[FW_TRIGGER_FREE_DOMAIN].enabled, 0);
	CHECK_EQ_INT(t[FW_TRIGGER_FREE_DOMAIN].min, 10);
	CHECK(LIST_IS(&t[FW_TRIGGER_FREE_DOMAIN].list, "gmail.com"));
	CHECK_EQ_INT(t[FW_TRIGGER_FREE_DOMAIN].route, FW_ROUTE_UPGRADE_CAMPAIGN);
	CHECK(s->at_risk_drop_share == 0.3);
	CHECK_EQ_INT(s->at_risk_min_previous_events, 50);
	CHECK_EQ_INT(s->at_risk_inactive_days, 7);
	CHECK(s->expansion_near_share == 0.9);

	/* plans and meters */
	CHECK_EQ_STR(c.default_plan, "starter");
	CHECK_EQ_INT(c.nplans, 4);
	const struct fw_plan *p = &c.plans[0];
	CHECK_EQ_STR(p->name, "starter");
	CHECK(p->price == 0);
	CHECK_EQ_INT(p->nlimits, 2);
	CHECK_EQ_STR(p->limits[0].meter, "seats");
	CHECK(p->limits[0].limit == 3 && p->limits[0].hard == 1);
	CHECK_EQ_STR(p->limits[1].meter, "projects");
	CHECK(p->limits[1].limit == 5 && p->limits[1].hard == 0);
	CHECK(LIST_IS(&p->features, "basic_reports"));
	CHECK_EQ_STR(p->upgrade_to, "team");
	CHECK(p->trial_days == 0 && p->trial_ends_to == NULL);
	p = &c.plans[1];
	CHECK_EQ_STR(p->name, "trial");
	CHECK_EQ_INT(p->trial_days, 14);
	CHECK_EQ_STR(p->trial_ends_to, "starter"); /* default_plan */
	CHECK(LIST_IS(&p->features, "basic_reports", "sso"));
	p = &c.plans[2];
	CHECK_EQ_STR(p->name, "team");
	CHECK(p->price == 49.5);
	CHECK_EQ_INT(p->nlimits, 3);
	CHECK(!strcmp(p->limits[1].meter, "api_calls") && p->limits[1].limit == 100000);
	CHECK(!strcmp(p->limits[2].meter, "storage_mb") && p->limits[2].limit == 1024 &&
	      p->limits[2].hard == 1);
	CHECK(p->upgrade_to == NULL);
	p = &c.plans[3];
	CHECK_EQ_INT(p->trial_days, 30);
	CHECK_EQ_STR(p->trial_ends_to, "team");
	CHECK_EQ_INT(c.nmeters, 5);
	const struct fw_meter *m = c.meters;
	CHECK_EQ_STR(m[0].name, "projects");
	CHECK(LIST_IS(&m[0].events, "Project Created"));
	CHECK(m[0].agg == FW_AGG_COUNT && m[0].property == NULL && m[0].anniversary == 0);
	CHECK(LIST_IS(&m[1].events, "API Call", "Batch API Call"));
	CHECK_EQ_INT(m[1].anniversary, 1);
	CHECK(LIST_IS(&m[2].events, "File Uploaded"));
	CHECK(m[2].agg == FW_AGG_MAX && !strcmp(m[2].property, "size_mb") && !m[2].anniversary);
	CHECK(m[3].agg == FW_AGG_UNIQUE && !strcmp(m[3].property, "editor_id"));
	CHECK(m[4].agg == FW_AGG_SUM && !strcmp(m[4].property, "amount"));
	CHECK(c.prompt_share == 0.75);

	/* webhooks */
	CHECK_EQ_INT(c.ndestinations, 3);
	const struct fw_destination *d = c.destinations;
	CHECK_EQ_STR(d[0].name, "crm");
	CHECK_EQ_STR(d[0].url, "https://hooks.example.com/flywheel");
	CHECK_EQ_STR(d[0].secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	CHECK_EQ_INT(d[0].format, FW_DEST_JSON);
	CHECK(LIST_IS(&d[0].events, "lead.route_changed", "lead.*"));
	CHECK_EQ_INT(d[0].allow_private, 0);
	CHECK_EQ_STR(d[1].name, "sales-slack");
	CHECK_EQ_INT(d[1].format, FW_DEST_SLACK);
	CHECK(d[1].secret == NULL && d[1].events.n == 0);
	CHECK_EQ_STR(d[2].url, "http://10.0.0.5:8080/flywheel");
	CHECK_EQ_INT(d[2].allow_private, 1);
	CHECK_EQ_INT(c.webhooks.nretry, 3);
	CHECK(c.webhooks.retry_schedule_s[0] == 0.2 && c.webhooks.retry_schedule_s[1] == 1 &&
	      c.webhooks.retry_schedule_s[2] == 60);
	CHECK(c.webhooks.give_up_after_s == 1800);
	CHECK_EQ_INT(c.webhooks.timeout_s, 5);
	fw_config_release(&c);
}

TEST(config_collects_every_error)
{
	struct fw_config c;
	struct fw_config_error errs[16];
	size_t n = 0;
	struct fw_err err = {0};
	const char *path = fixture("errors.yaml");
	CHECK_EQ_INT(fw_config_load(&c, path, errs, 16, &n, &err), FW_EINVAL);
	static const struct {
		int line, col;
		const char *msg;
	} want[] = {
		{2, 3, "unknown key activation.evnt; did you mean activation.event?"},
		{3, 14, "activation.min_count must be a whole number, got \"one\""},
		{5, 11, "server.listen must be HOST:PORT, like 127.0.0.1:8080, got \"8080\""},
		{6, 20, "server.timeout_seconds must be at least 1, got -3"},
		{8, 27, "revenue.conversion_window_days must be at least 1, got -1"},
		{11, 5, "core_features item 2 is empty: give an event name or remove it"},
		{13, 23, "targets.activation_rate_7d is a rate: write a fraction between 0 and 1 "
			 "(40% is 0.4), got 40"},
		{14, 3, "unknown metric targets.retension_d7; did you mean retention_d7?"},
		{16, 1, "unknown key min_count; did you mean activation.min_count?"},
		{17, 1, "duplicate key activation (first set on line 1)"},
	};
	CHECK_EQ_INT(n, FW_ARRAY_LEN(want));
	for (size_t i = 0; i < n && i < FW_ARRAY_LEN(want); i++) {
		CHECK_EQ_INT(errs[i].line, want[i].line);
		CHECK_EQ_INT(errs[i].column, want[i].col);
		CHECK_EQ_STR(errs[i].msg, want[i].msg);
	}
	char first[600];
	snprintf(first, sizeof first, "%s:2:3: unknown key activation.evnt; did you mean activation.event?", path);
	CHECK_EQ_STR(err.msg, first);
	CHECK(c.source == NULL && c.activation_event == NULL); /* nothing left to release */

	/* `max` caps what is returned, not what is found */
	struct fw_config_error two[2];
	CHECK_EQ_INT(fw_config_load(&c, path, two, 2, &n, &err), FW_EINVAL);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(two[1].line, 3);
	CHECK_EQ_INT(fw_config_load(&c, path, NULL, 0, &n, &err), FW_EINVAL);
	CHECK_EQ_INT(n, 0);
}

TEST(config_error_kinds)
{
	/* unknown keys: the nearest valid key, or the valid ones */
	CHECK_ERROR("activation:\n  evnet: X\n", 2, 3,
		    "unknown key activation.evnet; did you mean activation.event?");
	CHECK_ERROR("activaton:\n  event: X\n", 1, 1,
		    "unknown key activaton; did you mean activation?");
	CHECK_ERROR("activation:\n  channel_properties: x\n", 2, 3,
		    "unknown key activation.channel_properties; did you mean "
		    "signup.channel_properties?");
	CHECK_ERROR("colour: red\n", 1, 1,
		    "unknown key colour; valid keys: keys, server, signup, activation, "
		    "inactive_events, core_features, onboarding_steps, revenue, invites, targets, "
		    "scoring, routing, triggers, signals, default_plan, plans, meters, entitlements, trials, "
		    "destinations, webhooks");
	CHECK_ERROR("activation:\n  zzz: 1\n", 2, 3,
		    "unknown key activation.zzz; activation takes: event, min_count");
	CHECK_ERROR("activation.event: X\n", 1, 1,
		    "write activation.event nested: `activation:` on its own line, then `event:` "
		    "indented under it");
	/* wrong types */
	CHECK_ERROR("activation:\n  min_count: one\n", 2, 14,
		    "activation.min_count must be a whole number, got \"one\"");
	CHECK_ERROR("activation:\n  min_count: 1.5\n", 2, 14,
		    "activation.min_count must be a whole number, got \"1.5\"");
	CHECK_ERROR("activation:\n  min_count: [1]\n", 2, 14,
		    "activation.min_count must be a whole number, got a list");
	CHECK_ERROR("activation:\n  event: {a: 1}\n", 2, 10,
		    "activation.event must be an event name, got a mapping");
	CHECK_ERROR("core_features: {a: 1}\n", 1, 16,
		    "core_features must be a list (or a single string), got a mapping");
	CHECK_ERROR("core_features:\n  - ok\n  - [a]\n", 3, 5,
		    "core_features item 2 must be an event name, got a list");
	CHECK_ERROR("activation: yes\n", 1, 13,
		    "activation must be a mapping with the keys event, min_count; got \"yes\"");
	CHECK_ERROR("- a\n", 1, 1,
		    "the file must be a mapping of keys (like `activation:`), got a list");
	CHECK_ERROR("{a: 1}: x\n", 1, 1, "keys must be names, got a mapping");
	/* empty event names */
	CHECK_ERROR("activation:\n  event:\n", 2, 9,
		    "activation.event is empty: give an event name, or remove the line to keep the "
		    "default \"Project Created\"");
	CHECK_ERROR("signup:\n  event: \"\"\n", 2, 10,
		    "signup.event is empty: give an event name, or remove the line to keep the "
		    "default \"Signed Up\"");
	CHECK_ERROR("inactive_events: [a, \"\", b]\n", 1, 22,
		    "inactive_events item 2 is empty: give an event name or remove it");
	CHECK_ERROR("signup:\n  event: \"a\\0b\"\n", 2, 10, "signup.event contains a NUL character");
	/* negative or out-of-range numbers */
	CHECK_ERROR("invites:\n  k_factor_window_days: -30\n", 2, 25,
		    "invites.k_factor_window_days must be at least 1, got -30");
	CHECK_ERROR("revenue:\n  conversion_window_days: 0\n", 2, 27,
		    "revenue.conversion_window_days must be at least 1, got 0");
	CHECK_ERROR("revenue:\n  conversion_window_days: 100000\n", 2, 27,
		    "revenue.conversion_window_days must be at most 3650, got 100000");
	CHECK_ERROR("server:\n  min_free_mb: 99999999999999999999\n", 2, 16,
		    "server.min_free_mb must be a whole number, got \"99999999999999999999\"");
	CHECK_ERROR("server:\n  min_free_mb:\n", 2, 15,
		    "server.min_free_mb is empty: give a whole number, or remove the line to keep "
		    "the default 64");
	CHECK_ERROR("keys:\n  secret: \"a:b\"\n", 2, 11,
		    "keys.secret must not contain spaces, control characters, ':' or ',', got \"a:b\"");
	/* duplicate keys, at every level */
	CHECK_ERROR("activation:\n  event: A\n  event: B\n", 3, 3,
		    "duplicate key activation.event (first set on line 2)");
	CHECK_ERROR("core_features: a\n\ncore_features: b\n", 3, 1,
		    "duplicate key core_features (first set on line 1)");
	CHECK_ERROR("targets:\n  nrr: 1\n  nrr: 2\n", 3, 3,
		    "duplicate key targets.nrr (first set on line 2)");
	/* YAML syntax: libyaml's problem, where it began */
	CHECK_ERROR("signup:\n  event: a\nactivation\nb: 1\n", 3, 1,
		    "invalid YAML: could not find expected ':' while scanning a simple key");
	CHECK_ERROR("activation:\n\tevent: X\n", 2, 1,
		    "invalid YAML: found character that cannot start any token while scanning for "
		    "the next token; YAML indents with spaces, not tabs");
	CHECK_ERROR("activation:\n  event: \"Project\n", 2, 10,
		    "invalid YAML: found unexpected end of stream while scanning a quoted scalar");
	CHECK_ERROR("core_features: [a, b\nsignup:\n  event: x\n", 1, 16,
		    "invalid YAML: did not find expected ',' or ']' while parsing a flow sequence");
	CHECK_ERROR("activation:\n  event: a: b\n", 2, 11,
		    "invalid YAML: mapping values are not allowed in this context; check the "
		    "indentation, and quote a value that contains \": \"");
	CHECK_ERROR("activation:\n  event: *nope\n", 2, 10, "invalid YAML: found undefined alias");
	CHECK_ERROR("signup:\n  event: caf\xc3\xa9 \xff\n", 2, 15,
		    "not UTF-8 text: invalid leading UTF-8 octet (byte 0xff)");
	CHECK_ERROR("activation:\n  event: A\n---\nsignup:\n  event: B\n", 3, 1,
		    "a second YAML document: flywheel.yaml holds one (remove the `---`)");
}

/* Rules, routing, triggers, signals: one CHECK_ERROR per kind of problem. */
TEST(config_error_kinds_scoring)
{
	/* the rules list and its items */
	CHECK_ERROR("scoring:\n  rules: {a: 1}\n", 2, 10,
		    "scoring.rules must be a list of rules (`- name: ...` lines), got a mapping");
	CHECK_ERROR("scoring:\n  rules:\n    - 5\n", 3, 7,
		    "scoring.rules item 1 must be a mapping with a name and points, got \"5\"");
	CHECK_ERROR("scoring:\n  rules:\n    - {event: A, points: 1}\n", 3, 7,
		    "scoring.rules item 1 needs a name: a unique identifier like invited_team");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: Invited Team, event: A, points: 1}\n", 3, 14,
		    "scoring.rules item 1: name must be lower-case letters, digits and '_' only, got "
		    "\"Invited Team\"");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, event: A, points: 1}\n"
		    "    - {name: a, event: B, points: 2}\n",
		    4, 14,
		    "scoring.rules item 2 (a): the name is already used by item 1; rule names must be "
		    "unique");
	CHECK_ERROR("scoring:\n  rules:\n    - name: a\n      evnts: [A]\n      points: 1\n", 4, 7,
		    "scoring.rules item 1 (a): unknown key evnts; did you mean events?");
	CHECK_ERROR("scoring:\n  rules:\n    - name: a\n      colour: red\n      event: A\n"
		    "      points: 1\n",
		    4, 7,
		    "scoring.rules item 1 (a): unknown key colour; a rule takes: name, description, "
		    "measure, events, event, pages, where, distinct, within_days_of_signup, "
		    "last_days, trait, range, in, min, points, per_person, half_life_days");
	CHECK_ERROR("scoring:\n  rules:\n    - name: a\n      measure: streak\n      points: 1\n", 4,
		    16,
		    "scoring.rules item 1 (a): measure must be one of events, active_days, "
		    "consecutive_days, core_features, onboarding, trait; got \"streak\"");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, measure: active_day, points: 1}\n", 3, 26,
		    "scoring.rules item 1 (a): measure must be one of events, active_days, "
		    "consecutive_days, core_features, onboarding, trait; got \"active_day\" (did you "
		    "mean active_days?)");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, points: 1}\n", 3, 7,
		    "scoring.rules item 1 (a) needs events (or pages) to count, or a measure other "
		    "than events");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, event: A}\n", 3, 7,
		    "scoring.rules item 1 (a) needs points: a whole number, or a list of steps");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, event: A, events: [B], points: 1}\n", 3,
		    17, "scoring.rules item 1 (a): give events or event, not both");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, measure: active_days, event: A, points: 1}\n",
		    3, 39, "scoring.rules item 1 (a): event goes with measure events, not active_days");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, event: A, range: [1, 2], points: 1}\n", 3,
		    27, "scoring.rules item 1 (a): range goes with measure trait, not events");
	CHECK_ERROR("scoring:\n  rules:\n"
		    "    - {name: a, measure: trait, trait: t, in: [x], last_days: 7, points: 1}\n",
		    3, 52, "scoring.rules item 1 (a): last_days does not apply to measure trait");
	CHECK_ERROR("scoring:\n  rules:\n"
		    "    - {name: a, event: A, within_days_of_signup: 7, last_days: 7, points: 1}\n",
		    3, 53,
		    "scoring.rules item 1 (a): give within_days_of_signup or last_days, not both");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, event: A, last_days: 0, points: 1}\n", 3,
		    38, "scoring.rules item 1 (a): last_days must be at least 1, got 0");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, event: A, per_person: maybe, points: 1}\n",
		    3, 39, "scoring.rules item 1 (a): per_person must be true or false, got \"maybe\"");
	/* trait rules */
	CHECK_ERROR("scoring:\n  rules:\n    - name: big\n      measure: trait\n"
		    "      trait: employees\n      points: 10\n",
		    5, 7,
		    "scoring.rules item 1 (big): measure trait needs range: [low, high] (numbers) or "
		    "in: [values] (text) to match the trait");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, measure: trait, in: [x], points: 1}\n", 3,
		    7, "scoring.rules item 1 (a): measure trait needs trait: the trait to read, like "
		       "employees");
	CHECK_ERROR("scoring:\n  rules:\n"
		    "    - {name: a, measure: trait, trait: t, range: [1, 2], in: [x], points: 1}\n",
		    3, 58, "scoring.rules item 1 (a): give range or in, not both");
	CHECK_ERROR("scoring:\n  rules:\n"
		    "    - {name: a, measure: trait, trait: t, range: [10, 5], points: 1}\n",
		    3, 50, "scoring.rules item 1 (a): range low 10 is above high 5");
	CHECK_ERROR("scoring:\n  rules:\n"
		    "    - {name: a, measure: trait, trait: t, range: [1, 2, 3], points: 1}\n",
		    3, 50,
		    "scoring.rules item 1 (a): range must be [low, high], like [50, 1000] (null for an "
		    "open end), got 3 values");
	CHECK_ERROR("scoring:\n  rules:\n"
		    "    - {name: a, measure: trait, trait: t, range: [one, ~], points: 1}\n",
		    3, 51,
		    "scoring.rules item 1 (a): range low must be a number, or null for an open end; "
		    "got \"one\"");
	/* points and steps */
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, event: A, points: 1}\n    - {name: b, "
		    "event: B, points: 1}\n    - name: invited_team\n      event: Invite Sent\n"
		    "      points: [{min: 5, points: 15}, {min: 4, points: 25}]\n",
		    7, 44,
		    "scoring.rules item 3 (invited_team): points steps must have increasing min, got "
		    "4 after 5");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, event: A, points: 1.5}\n", 3, 35,
		    "scoring.rules item 1 (a): points must be a whole number, got \"1.5\"");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, event: A, points: []}\n", 3, 35,
		    "scoring.rules item 1 (a): points must be a whole number or a list of steps like "
		    "[{min: 1, max: 3, points: 15}, {min: 4, points: 25}], got an empty list");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, event: A, points: [{points: 5}]}\n", 3, 36,
		    "scoring.rules item 1 (a): points step 1 needs a min: the lowest measured value "
		    "it covers");
	CHECK_ERROR("scoring:\n  rules:\n"
		    "    - {name: a, event: A, points: [{min: 4, max: 2, points: 5}]}\n",
		    3, 50, "scoring.rules item 1 (a): points step 1: max must be at least its min 4, "
		       "got 2");
	CHECK_ERROR("scoring:\n  rules:\n"
		    "    - {name: a, event: A, points: [{min: 1, pionts: 5}]}\n",
		    3, 45, "scoring.rules item 1 (a): points step 1: unknown key pionts; did you mean "
		       "points?");
	CHECK_ERROR("scoring:\n  rules:\n"
		    "    - {name: a, event: A, min: 2, points: [{min: 1, points: 5}]}\n",
		    3, 27, "scoring.rules item 1 (a): min goes with points: N; with a list of steps, "
		       "give each step its own min");
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, event: A, min: -1, points: 5}\n", 3, 32,
		    "scoring.rules item 1 (a): min must be at least 0, got -1");
	/* where */
	CHECK_ERROR("scoring:\n  rules:\n    - {name: a, event: A, where: plan, points: 1}\n", 3, 34,
		    "scoring.rules item 1 (a): where must be a mapping of property: value (or a list "
		    "of values), like {plan: free}; got \"plan\"");
	CHECK_ERROR("scoring:\n  rules:\n"
		    "    - {name: a, event: A, where: {plan: []}, points: 1}\n",
		    3, 41, "scoring.rules item 1 (a): where.plan is empty: give a value, or a list of "
		       "values");
	CHECK_ERROR("scoring:\n  rules:\n"
		    "    - {name: a, event: A, where: {a: 1, b: 2, c: 3, d: 4, e: 5}, points: 1}\n",
		    3, 59, "scoring.rules item 1 (a): where holds at most 4 properties");
	/* scoring's own keys */
	CHECK_ERROR("scoring:\n  half_life_days: -1\n", 2, 19,
		    "scoring.half_life_days must be at least 0, got -1");
	CHECK_ERROR("scoring:\n  rescore_interval_seconds: 5\n", 2, 29,
		    "scoring.rescore_interval_seconds must be at least 10, got 5");
	CHECK_ERROR("scoring:\n  rules: []\n  ruls: []\n", 3, 3,
		    "unknown key scoring.ruls; did you mean scoring.rules?");

	/* routing */
	CHECK_ERROR("routing:\n  tiers: {inside_sales: 40}\n", 2, 25,
		    "routing.tiers must rise from route to route: inside_sales (40) must be above "
		    "upgrade_campaign (41)");
	CHECK_ERROR("routing:\n  tiers: {upgrade_campaign: 70}\n", 2, 29,
		    "routing.tiers must rise from route to route: inside_sales (65) must be above "
		    "upgrade_campaign (70)");
	CHECK_ERROR("routing:\n  tiers: {nurture: 10}\n", 2, 20,
		    "routing.tiers.nurture is always 0 (every score starts in nurture), got \"10\"; set "
		    "the lowest score of upgrade_campaign instead");
	CHECK_ERROR("routing:\n  tiers: {sales: 10}\n", 2, 11,
		    "unknown route routing.tiers.sales; routes: nurture, upgrade_campaign, "
		    "inside_sales, account_executive");
	CHECK_ERROR("routing:\n  tiers: {inside_sale: 70}\n", 2, 11,
		    "unknown route routing.tiers.inside_sale; did you mean inside_sales?");
	CHECK_ERROR("routing:\n  tiers: [41, 65]\n", 2, 10,
		    "routing.tiers must be a mapping of route: lowest score, like {upgrade_campaign: "
		    "41, inside_sales: 65, account_executive: 100}; got a list");
	CHECK_ERROR("routing:\n  require_activation: maybe\n", 2, 23,
		    "routing.require_activation must be true or false, got \"maybe\"");
	CHECK_ERROR("routing:\n  require_activation: on\n", 2, 23,
		    "routing.require_activation must be true or false, got \"on\"");

	/* triggers */
	CHECK_ERROR("triggers:\n  active_people:\n    route: sales\n", 3, 12,
		    "triggers.active_people.route must be one of nurture, upgrade_campaign, "
		    "inside_sales, account_executive; got \"sales\"");
	CHECK_ERROR("triggers:\n  active_people:\n    mni: 3\n", 3, 5,
		    "unknown key triggers.active_people.mni; did you mean triggers.active_people.min?");
	CHECK_ERROR("triggers:\n  free_domian: {min: 3}\n", 2, 3,
		    "unknown key triggers.free_domian; did you mean triggers.free_domain?");
	CHECK_ERROR("triggers:\n  procurement: false\n", 2, 16,
		    "triggers.procurement must be a mapping with the keys enabled, events, route; got "
		    "\"false\"");
	CHECK_ERROR("triggers:\n  enterprise_domain:\n    domains: [acme.com, \"@globex.com\"]\n", 3,
		    25,
		    "triggers.enterprise_domain.domains item 2 must be a domain like acme.com (no @, "
		    "scheme or path), got \"@globex.com\"");
	CHECK_ERROR("triggers:\n  active_people:\n    days: 0\n", 3, 11,
		    "triggers.active_people.days must be at least 1, got 0");
	CHECK_ERROR("triggers.active_people.min: 3\n", 1, 1,
		    "write triggers.active_people.min nested: `triggers:` on its own line, then "
		    "`active_people.min:` indented under it");

	/* signals */
	CHECK_ERROR("signals:\n  at_risk:\n    drop_share: 1.5\n", 3, 17,
		    "signals.at_risk.drop_share is a share: write a fraction above 0 and at most 1 "
		    "(80% is 0.8), got 1.5");
	CHECK_ERROR("signals:\n  at_risk:\n    drop_share: 0\n", 3, 17,
		    "signals.at_risk.drop_share is a share: write a fraction above 0 and at most 1 "
		    "(80% is 0.8), got 0");
	CHECK_ERROR("signals:\n  expansion:\n    near_share: high\n", 3, 17,
		    "signals.expansion.near_share must be a number, got \"high\"");
	CHECK_ERROR("signals:\n  at_risk: {drop_share: }\n", 2, 25,
		    "signals.at_risk.drop_share is empty: give a number, or remove the line to keep "
		    "the default 0.5");
	CHECK_ERROR("signals:\n  at_risk:\n    inactive: 7\n", 3, 5,
		    "unknown key signals.at_risk.inactive; signals.at_risk takes: drop_share, "
		    "min_previous_events, inactive_days");
}

/* Plans, meters, entitlements, destinations, webhooks. */
TEST(config_error_kinds_plans_webhooks)
{
	/* plans */
	CHECK_ERROR("plans: [free, team]\n", 1, 8,
		    "plans must be a mapping of plan name: plan, like {free: {price: 0}, team: "
		    "{price: 49}}; got a list");
	CHECK_ERROR("plans:\n  free: {upgrade_to: tema}\n  team: {}\n", 2, 22,
		    "plans.free.upgrade_to must name a plan of this file (free, team), got \"tema\" "
		    "(did you mean team?)");
	CHECK_ERROR("plans:\n  free: {upgrade_to: enterprise}\n  team: {}\n", 2, 22,
		    "plans.free.upgrade_to must name a plan of this file (free, team), got "
		    "\"enterprise\"");
	CHECK_ERROR("plans:\n  free: {upgrade_to: free}\n", 2, 22,
		    "plans.free.upgrade_to names the plan itself; name another plan");
	CHECK_ERROR("plans:\n  free: {price: -1}\n", 2, 17,
		    "plans.free.price must be at least 0, got -1");
	CHECK_ERROR("plans:\n  free: {prise: 0}\n", 2, 10,
		    "plans.free: unknown key prise; did you mean price?");
	CHECK_ERROR("plans:\n  free: {}\n  trial: {trial_days: 3}\n", 3, 23,
		    "plans.trial.trial_days must be at least 7, got 3");
	CHECK_ERROR("plans:\n  free: {}\n  team: {trial_ends_to: free}\n", 3, 10,
		    "plans.team.trial_ends_to goes with a trial: set trial_days too");
	CHECK_ERROR("plans:\n  free: {trial_days: 14}\n", 2, 3,
		    "plans.free is a trial and the default_plan, so it would end in itself: set its "
		    "trial_ends_to");
	CHECK_ERROR("plans:\n  free: {}\n  team: {trial_days: 14, trial_ends_to: fre}\n", 3, 41,
		    "plans.team.trial_ends_to must name a plan of this file (free, team), got \"fre\" "
		    "(did you mean free?)");
	CHECK_ERROR("plans:\n  team: {}\n", 2, 3,
		    "plans has no plan \"free\", the default_plan: add it, or set default_plan to the "
		    "plan of an account with none (one of team)");
	CHECK_ERROR("default_plan: pro\nplans:\n  free: {}\n", 1, 15,
		    "default_plan must name a plan of this file (free), got \"pro\"");
	CHECK_ERROR("plans:\n  free: 0\n", 2, 9,
		    "plans.free must be a mapping (price, limits, features ...), got \"0\"");
	/* limits and meters */
	CHECK_ERROR("plans:\n  free:\n    limits: {seats: 3, projects: 5}\n", 3, 24,
		    "plans.free.limits.projects: no meter is named projects; define it under meters (a "
		    "plan limits seats or a meter)");
	CHECK_ERROR("plans:\n  free:\n    limits: {projcts: 5}\nmeters:\n  projects: {events: [P]}\n",
		    3, 14, "plans.free.limits.projcts: no meter is named projcts; did you mean projects?");
	CHECK_ERROR("plans:\n  free:\n    limits: {seats: -3}\n", 3, 21,
		    "plans.free.limits.seats must be at least 0, got -3");
	CHECK_ERROR("plans:\n  free:\n    limits: {seats: {hard: false}}\n", 3, 21,
		    "plans.free.limits.seats needs a limit: the most an account may use");
	CHECK_ERROR("plans:\n  free:\n    limits: {seats: {limit: 3, hrad: false}}\n", 3, 32,
		    "plans.free.limits.seats: unknown key hrad; did you mean hard?");
	CHECK_ERROR("plans:\n  free:\n    limits: [seats]\n", 3, 13,
		    "plans.free.limits must be a mapping of meter: limit, like {seats: 3, projects: "
		    "{limit: 5, hard: false}}; got a list");
	CHECK_ERROR("meters:\n  spend: {events: [Charge], aggregate: sum}\n", 2, 40,
		    "meters.spend.aggregate sum needs a property: the event property it reads");
	CHECK_ERROR("meters:\n  calls: {events: [Call], property: n}\n", 2, 27,
		    "meters.calls.property goes with aggregate sum, unique or max; count counts the "
		    "events");
	CHECK_ERROR("meters:\n  calls: {aggregate: count}\n", 2, 10,
		    "meters.calls needs events: the events it reads");
	CHECK_ERROR("meters:\n  calls: {events: [Call], aggregate: average}\n", 2, 38,
		    "meters.calls.aggregate must be one of count, sum, unique, max; got \"average\"");
	CHECK_ERROR("meters:\n  calls: {events: [Call], period: year}\n", 2, 35,
		    "meters.calls.period must be one of month, anniversary; got \"year\"");
	CHECK_ERROR("meters:\n  seats: {events: [Member Added]}\n", 2, 3,
		    "meters.seats: seats is built in (an account's members); give the meter another "
		    "name");
	CHECK_ERROR("meters:\n  API Calls: {events: [Call]}\n", 2, 3,
		    "meters: a meter name must be lower-case letters, digits and '_' only, got \"API "
		    "Calls\"");
	/* entitlements */
	CHECK_ERROR("entitlements:\n  prompt_share: 80\n", 2, 17,
		    "entitlements.prompt_share is a share: write a fraction above 0 and at most 1 (80% "
		    "is 0.8), got 80");

	/* destinations */
	CHECK_ERROR("destinations:\n  name: crm\n", 2, 3,
		    "destinations must be a list of destinations (`- name: crm` lines, each with its "
		    "url), got a mapping");
	CHECK_ERROR("destinations:\n  - name: crm\n    url: ftp://example.com/x\n", 3, 10,
		    "destinations item 1 (crm): url must start with http:// or https://, got "
		    "\"ftp://example.com/x\"");
	CHECK_ERROR("destinations:\n  - name: crm\n    url: https://\n", 3, 10,
		    "destinations item 1 (crm): url must have a host after the scheme, like "
		    "https://hooks.example.com/flywheel, got \"https://\"");
	CHECK_ERROR("destinations:\n  - name: crm\n    url: https://example.com:99999/x\n", 3, 10,
		    "destinations item 1 (crm): url has a bad port: write HOST:PORT with a port from 1 "
		    "to 65535, got \"https://example.com:99999/x\"");
	CHECK_ERROR("destinations:\n  - name: crm\n    url: https://example.com/a b\n", 3, 10,
		    "destinations item 1 (crm): url must not contain spaces or control characters "
		    "(write a space as %20), got \"https://example.com/a b\"");
	CHECK_ERROR("destinations:\n  - name: crm\n    url: http://192.168.1.10:8080/hook\n", 3, 10,
		    "destinations item 1 (crm): url points at 192.168.1.10, a private address; set "
		    "allow_private: true on this destination to deliver there");
	CHECK_ERROR("destinations:\n  - name: crm\n    url: http://localhost:9000/\n", 3, 10,
		    "destinations item 1 (crm): url points at localhost; set allow_private: true on "
		    "this destination to deliver there");
	CHECK_ERROR("destinations:\n  - {url: https://example.com/}\n", 2, 5,
		    "destinations item 1 needs a name: a unique identifier like crm");
	CHECK_ERROR("destinations:\n  - {name: crm}\n", 2, 5,
		    "destinations item 1 (crm) needs a url: where to POST the events");
	CHECK_ERROR("destinations:\n  - {name: crm, url: \"https://a.example/\"}\n"
		    "  - {name: crm, url: \"https://b.example/\"}\n",
		    3, 12,
		    "destinations item 2 (crm): the name is already used by item 1; destination names "
		    "must be unique");
	CHECK_ERROR("destinations:\n  - {name: CRM, url: \"https://a.example/\"}\n", 2, 12,
		    "destinations item 1: name must be lower-case letters, digits, '_' and '-' only, "
		    "got \"CRM\"");
	CHECK_ERROR("destinations:\n  - {name: crm, url: \"https://a.example/\", secret: whsec_!!}\n",
		    2, 52,
		    "destinations item 1 (crm): secret must be whsec_ followed by base64, as Standard "
		    "Webhooks secrets are"); /* never echoed */
	CHECK_ERROR("destinations:\n  - {name: crm, url: \"https://a.example/\", format: xml}\n", 2,
		    52, "destinations item 1 (crm): format must be one of json, slack; got \"xml\"");
	CHECK_ERROR("destinations:\n  - {name: crm, url: \"https://a.example/\", allow_privat: 1}\n",
		    2, 44,
		    "destinations item 1 (crm): unknown key allow_privat; did you mean allow_private?");

	/* webhooks */
	CHECK_ERROR("webhooks:\n  retry_schedule_seconds: [5, -300]\n", 2, 31,
		    "webhooks.retry_schedule_seconds item 2 must be more than 0, got -300");
	CHECK_ERROR("webhooks:\n  retry_schedule_seconds: []\n", 2, 27,
		    "webhooks.retry_schedule_seconds needs at least 1 number");
	CHECK_ERROR("webhooks:\n  retry_schedule_seconds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, "
		    "13, 14, 15, 16, 17]\n",
		    2, 83, "webhooks.retry_schedule_seconds holds at most 16 numbers");
	CHECK_ERROR("webhooks:\n  give_up_after_hours: 0\n", 2, 24,
		    "webhooks.give_up_after_hours must be more than 0, got 0");
	CHECK_ERROR("webhooks:\n  timeout_seconds: 301\n", 2, 20,
		    "webhooks.timeout_seconds must be at most 300, got 301");
}

/* Which destination hosts need allow_private: literal IPs in the refused
 * ranges (in every spelling curl takes) and localhost; names never. */
TEST(config_destination_private_hosts)
{
	static const struct {
		const char *url;
		const char *kind; /* NULL: allowed */
	} cases[] = {
		{"https://hooks.example.com/x", NULL},
		{"https://8.8.8.8/x", NULL},
		{"http://[2001:db8::1]:8080/x", NULL},
		{"http://user:pw@example.com/x", NULL},
		{"https://internal.corp/x", NULL}, /* names are checked when resolved, at delivery */
		{"http://127.0.0.1/x", "a loopback address"},
		{"http://127.1/x", "a loopback address"},
		{"http://0x7f000001/x", "a loopback address"},
		{"http://2130706433/x", "a loopback address"},
		{"http://LOCALHOST./x", "points at LOCALHOST.;"},
		{"http://api.localhost/x", "localhost"},
		{"http://10.1.2.3/x", "a private address"},
		{"http://172.20.0.1/x", "a private address"},
		{"http://169.254.169.254/latest/meta-data", "a link-local address"},
		{"http://100.64.0.1/x", "a shared (CGNAT) address"},
		{"http://0.0.0.0:8080/x", "an unspecified address"},
		{"http://[::1]/x", "a loopback address"},
		{"http://[::ffff:127.0.0.1]/x", "a loopback address"},
		{"http://[fd00::1]/x", "a private address"},
		{"http://[fe80::1]/x", "a link-local address"},
		{"http://user@10.0.0.1:80/x", "a private address"},
	};
	for (size_t i = 0; i < FW_ARRAY_LEN(cases); i++) {
		char text[300];
		struct fw_config c;
		struct fw_config_error errs[16];
		size_t n = 0;
		snprintf(text, sizeof text, "destinations:\n  - name: d\n    url: \"%s\"\n",
			 cases[i].url);
		int rc = load_text(&c, text, errs, &n);
		if (!cases[i].kind) {
			CHECK_EQ_INT(rc, 0);
			if (rc)
				fprintf(stderr, "    %s: %s\n", cases[i].url, errs[0].msg);
			else
				fw_config_release(&c);
			continue;
		}
		CHECK_EQ_INT(rc, FW_EINVAL);
		CHECK(n == 1 && strstr(errs[0].msg, cases[i].kind) &&
		      strstr(errs[0].msg, "set allow_private: true"));
		if (n != 1 || !strstr(errs[0].msg, cases[i].kind))
			fprintf(stderr, "    %s: %s\n", cases[i].url, n ? errs[0].msg : "no error");
		/* allow_private lets it through */
		snprintf(text, sizeof text,
			 "destinations:\n  - name: d\n    url: \"%s\"\n    allow_private: yes\n",
			 cases[i].url);
		CHECK_EQ_INT(load_text(&c, text, errs, &n), 0);
		fw_config_release(&c);
	}
}

/* The default invited_team rule counts invites.sent_event, wherever in the
 * file it is set; a rules list replaces the defaults, an empty one too. */
TEST(config_default_rules_follow_the_file)
{
	struct fw_config c;
	struct fw_config_error errs[16];
	size_t n;
	CHECK_EQ_INT(load_text(&c, "scoring:\n  half_life_days: 7\ninvites:\n  sent_event: Teammate "
				   "Invited\n",
			       errs, &n),
		     0);
	CHECK_EQ_INT(c.scoring.nrules, 13);
	CHECK_EQ_STR(c.scoring.rules[1].name, "invited_team");
	CHECK(LIST_IS(&c.scoring.rules[1].events, "Teammate Invited"));
	CHECK(c.scoring.half_life_days == 7);
	fw_config_release(&c);
	CHECK_EQ_INT(load_text(&c, "scoring:\n  rules: []\n", errs, &n), 0);
	CHECK_EQ_INT(c.scoring.nrules, 0);
	fw_config_release(&c);
	CHECK_EQ_INT(load_text(&c, "scoring:\n  rules:\n", errs, &n), 0);
	CHECK_EQ_INT(c.scoring.nrules, 0);
	fw_config_release(&c);
	CHECK_EQ_INT(load_text(&c,
			       "invites:\n  sent_event: X\nscoring:\n  rules:\n"
			       "    - {name: only, event: Y, points: 3, per_person: true}\n",
			       errs, &n),
		     0);
	CHECK_EQ_INT(c.scoring.nrules, 1);
	CHECK(LIST_IS(&c.scoring.rules[0].events, "Y"));
	CHECK_EQ_STR(c.scoring.rules[0].description, "only");
	CHECK(c.scoring.rules[0].steps[0].min == 1 && c.scoring.rules[0].steps[0].points == 3);
	CHECK(c.scoring.rules[0].per_person == 1 && isnan(c.scoring.rules[0].trait_min));
	fw_config_release(&c);
	/* booleans in YAML 1.1's spellings; a bare plan; one retry wait */
	CHECK_EQ_INT(load_text(&c,
			       "routing:\n  require_activation: No\ntriggers:\n  procurement:\n"
			       "    enabled: FALSE\nplans:\n  free:\nwebhooks:\n"
			       "  retry_schedule_seconds: 30\n",
			       errs, &n),
		     0);
	CHECK_EQ_INT(c.scoring.require_activation, 0);
	CHECK_EQ_INT(c.scoring.triggers[FW_TRIGGER_PROCUREMENT].enabled, 0);
	CHECK_EQ_INT(c.nplans, 1);
	CHECK(c.plans[0].price == 0 && c.plans[0].nlimits == 0);
	CHECK(c.webhooks.nretry == 1 && c.webhooks.retry_schedule_s[0] == 30);
	fw_config_release(&c);
}

TEST(config_lists_string_or_sequence)
{
	struct fw_config c;
	struct fw_config_error errs[16];
	size_t n;
	CHECK_EQ_INT(load_text(&c, "core_features: Report Run\nkeys:\n  write: wk\n", errs, &n), 0);
	CHECK(LIST_IS(&c.core_features, "Report Run"));
	CHECK(LIST_IS(&c.write_keys, "wk"));
	fw_config_release(&c);
	CHECK_EQ_INT(load_text(&c,
			       "core_features:\n  - A\n  - 'B C'\n"
			       "keys:\n  write: [w1, w2]\n  secret:\n    - s1\n"
			       "inactive_events:\n",
			       errs, &n),
		     0);
	CHECK(LIST_IS(&c.core_features, "A", "B C"));
	CHECK(LIST_IS(&c.write_keys, "w1", "w2"));
	CHECK(LIST_IS(&c.secret_keys, "s1"));
	CHECK_EQ_INT(c.inactive_events.n, 0); /* nothing: an empty list */
	fw_config_release(&c);
	CHECK_EQ_INT(load_text(&c, "inactive_events: []\nonboarding_steps: [a, b, c]\n", errs, &n),
		     0);
	CHECK_EQ_INT(c.inactive_events.n, 0);
	CHECK(LIST_IS(&c.onboarding_steps, "a", "b", "c"));
	fw_config_release(&c);
	/* anchors and aliases are YAML, so they work */
	CHECK_EQ_INT(load_text(&c, "core_features: &f [x, y]\nonboarding_steps: *f\n", errs, &n), 0);
	CHECK(LIST_IS(&c.onboarding_steps, "x", "y"));
	fw_config_release(&c);
	/* at most FW_CONFIG_MAX_LIST items */
	struct fw_buf b = {0};
	fw_buf_adds(&b, "core_features:\n");
	for (int i = 0; i < FW_CONFIG_MAX_LIST + 1; i++)
		fw_buf_printf(&b, "  - e%d\n", i);
	CHECK_EQ_INT(load_text(&c, b.data, errs, &n), FW_EINVAL);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(errs[0].line, FW_CONFIG_MAX_LIST + 2);
	CHECK_EQ_INT(errs[0].column, 5);
	CHECK_EQ_STR(errs[0].msg, "core_features holds at most 64 items");
	fw_buf_release(&b);
	/* comments, an empty file and an empty section change nothing */
	CHECK_EQ_INT(load_text(&c, "# nothing yet\nactivation:\n", errs, &n), 0);
	CHECK_EQ_STR(c.activation_event, "Project Created");
	fw_config_release(&c);
	CHECK_EQ_INT(load_text(&c, "", errs, &n), 0);
	CHECK(c.source != NULL);
	fw_config_release(&c);
}

TEST(config_targets)
{
	struct fw_config c;
	struct fw_config_error errs[16];
	size_t n;
	CHECK_EQ_INT(load_text(&c,
			       "targets:\n  activation_rate_1d: 0\n  retention_d1: 1\n  nrr: 2.5\n"
			       "  signups: +100\n  k_factor: 0.3\n  ttfv_median_seconds: 3600\n",
			       errs, &n),
		     0);
	CHECK(c.targets[FW_M_ACTIVATION_RATE_1D] == 0);
	CHECK(c.targets[FW_M_RETENTION_D1] == 1);
	CHECK(c.targets[FW_M_NRR] == 2.5); /* NRR may exceed 1 */
	CHECK(c.targets[FW_M_SIGNUPS] == 100);
	CHECK(c.targets[FW_M_K_FACTOR] == 0.3);
	CHECK(c.targets[FW_M_TTFV_MEDIAN_SECONDS] == 3600);
	CHECK(isnan(c.targets[FW_M_MAU]));
	fw_config_release(&c);
	CHECK_EQ_INT(load_text(&c, "targets:\n", errs, &n), 0);
	fw_config_release(&c);

	CHECK_ERROR("targets:\n  dau_mau: 1.01\n", 2, 12,
		    "targets.dau_mau is a rate: write a fraction between 0 and 1 (40% is 0.4), got "
		    "1.01");
	CHECK_ERROR("targets:\n  free_to_paid_rate: -0.1\n", 2, 22,
		    "targets.free_to_paid_rate is a rate: write a fraction between 0 and 1 (40% is "
		    "0.4), got -0.1");
	CHECK_ERROR("targets:\n  nrr: -1\n", 2, 8, "targets.nrr must not be negative, got -1");
	CHECK_ERROR("targets:\n  acv: .nan\n", 2, 8, "targets.acv must be a number, got \".nan\"");
	CHECK_ERROR("targets:\n  acv: 0x10\n", 2, 8, "targets.acv must be a number, got \"0x10\"");
	CHECK_ERROR("targets:\n  acv: 1e999\n", 2, 8, "targets.acv must be a number, got \"1e999\"");
	CHECK_ERROR("targets:\n  acv: [1]\n", 2, 8, "targets.acv must be a number, got a list");
	CHECK_ERROR("targets: 5\n", 1, 10, "targets must be a mapping of metric: number, got \"5\"");
	CHECK_ERROR("targets:\n  activation_rate: 0.4\n", 2, 3,
		    "unknown metric targets.activation_rate; did you mean activation_rate_1d?");
	CHECK_ERROR("targets:\n  happiness: 1\n", 2, 3,
		    "unknown metric happiness; valid: signups,activation_rate_1d,activation_rate_7d,"
		    "ttfv_median_seconds,ttfv_p90_seconds,retention_d1,retention_d7,retention_w1,"
		    "dau_mau,wau,mau,free_to_paid_rate,time_to_convert_median_days,acv,nrr,"
		    "expansion_mrr,k_factor,signups_organic,signups_paid,onboarding_completion,"
		    "feature_adoption,feature_breadth,active_days_per_week,grr,contraction_mrr,"
		    "churned_mrr");
}

TEST(config_is_active)
{
	struct fw_config c;
	fw_config_defaults(&c);
	CHECK(fw_config_is_active(&c, "Project Created", 15));
	CHECK(!fw_config_is_active(&c, "$identify", 9));
	CHECK(!fw_config_is_active(&c, "$feature_flag_called", 20));
	CHECK(fw_config_is_active(&c, "$identify_x", 11));
	CHECK(!fw_config_is_active(&c, "$identify_x", 9)); /* length-bounded, not NUL-terminated */
	CHECK(fw_config_is_active(&c, "$set", 3));
	CHECK(fw_config_is_active(&c, "", 0));
	fw_config_release(&c);
	struct fw_config_error errs[16];
	size_t n;
	CHECK_EQ_INT(load_text(&c, "inactive_events: [Heartbeat, Signed Out]\n", errs, &n), 0);
	CHECK(!fw_config_is_active(&c, "Signed Out", 10));
	CHECK(fw_config_is_active(&c, "$identify", 9)); /* the list replaces the defaults */
	fw_config_release(&c);
}

TEST(config_resolve_lookup_order)
{
	struct fw_config c;
	struct fw_err err = {0};
	char dir[300], data[320], cwd[4096], expect[700];
	snprintf(dir, sizeof dir, "%s", fw_test_tmpdir());
	snprintf(data, sizeof data, "%s/data", dir);
	CHECK(getcwd(cwd, sizeof cwd) != NULL);
	CHECK_EQ_INT(chdir(dir), 0);

	/* nothing anywhere: the defaults */
	CHECK_EQ_INT(fw_config_resolve(&c, NULL, data, &err), 0);
	CHECK(c.source == NULL);
	CHECK_EQ_STR(c.activation_event, "Project Created");
	fw_config_release(&c);
	CHECK_EQ_INT(fw_config_resolve(&c, NULL, NULL, &err), 0);
	fw_config_release(&c);

	/* ./flywheel.yaml */
	write_file(dir, "flywheel.yaml", "activation:\n  event: From Cwd\n");
	CHECK_EQ_INT(fw_config_resolve(&c, NULL, data, &err), 0);
	CHECK_EQ_STR(c.source, "flywheel.yaml");
	CHECK_EQ_STR(c.activation_event, "From Cwd");
	fw_config_release(&c);

	/* DATA/flywheel.yaml comes first */
	CHECK_EQ_INT(system("mkdir -p data"), 0);
	write_file(data, "flywheel.yaml", "activation:\n  event: From Data\n");
	CHECK_EQ_INT(fw_config_resolve(&c, NULL, data, &err), 0);
	CHECK_EQ_STR(c.activation_event, "From Data");
	fw_config_release(&c);

	/* --config comes before both, and must exist */
	write_file(dir, "other.yaml", "activation:\n  event: Explicit\n");
	CHECK_EQ_INT(fw_config_resolve(&c, "other.yaml", data, &err), 0);
	CHECK_EQ_STR(c.activation_event, "Explicit");
	CHECK_EQ_STR(c.source, "other.yaml");
	fw_config_release(&c);
	CHECK_EQ_INT(fw_config_resolve(&c, "missing.yaml", data, &err), FW_EIO);
	CHECK_EQ_STR(err.msg, "cannot read missing.yaml: No such file or directory");
	CHECK(c.listen == NULL);

	/* errors: the first as FILE:LINE:COL, and how many more */
	write_file(data, "flywheel.yaml", "activation:\n  event: \"\"\n  min_count: 0\nfoo: 1\n");
	CHECK_EQ_INT(fw_config_resolve(&c, NULL, data, &err), FW_EINVAL);
	snprintf(expect, sizeof expect,
		 "%s/flywheel.yaml:2:10: activation.event is empty: give an event name, or remove "
		 "the line to keep the default \"Project Created\" (and 2 more; `flywheel check` "
		 "lists them all)",
		 data);
	CHECK_EQ_STR(err.msg, expect);
	CHECK(c.listen == NULL);
	write_file(data, "flywheel.yaml", "activation:\n  min_count: 0\n");
	CHECK_EQ_INT(fw_config_resolve(&c, NULL, data, &err), FW_EINVAL);
	snprintf(expect, sizeof expect,
		 "%s/flywheel.yaml:2:14: activation.min_count must be at least 1, got 0", data);
	CHECK_EQ_STR(err.msg, expect);
	CHECK_EQ_INT(chdir(cwd), 0);
}

TEST(config_docs_match_the_table)
{
	struct fw_buf b = {0};
	fw_config_write_docs(&b);
	CHECK(strstr(b.data, "| `activation.event` | string | `Project Created` |") != NULL);
	CHECK(strstr(b.data, "| `k_factor` |") != NULL);
	/* docs/config.md carries the table verbatim: regenerate it with
	 * `build/flywheel check --print-docs` when an option changes */
	FILE *f = fopen("docs/config.md", "rb");
	CHECK(f != NULL);
	if (f) {
		struct fw_buf doc = {0};
		char chunk[8192];
		size_t r;
		while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
			fw_buf_add(&doc, chunk, r);
		fclose(f);
		CHECK(doc.data && strstr(doc.data, b.data) != NULL);
		fw_buf_release(&doc);
	}
	fw_buf_release(&b);
}
