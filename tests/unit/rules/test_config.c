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
		    "inactive_events, core_features, onboarding_steps, revenue, invites, targets");
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
