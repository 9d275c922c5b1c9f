/* check.c — `flywheel check`: find the configuration file as every command
 * does, list each problem gcc-style ("FILE:LINE:COL: error: message"), or say
 * it is fine and which settings it gives. */
#include "flywheel/cmd.h"
#include "flywheel/config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* In src/rules/config.c: the option table as Markdown (docs/config.md). */

#define MAX_ERRORS 100

static const char HELP[] =
	"usage: flywheel check [--config FILE] [--data DIR]\n\n"
	"Validate the configuration file and print what it sets. The file is found as\n"
	"every command finds it: --config FILE, else DIR/flywheel.yaml in the data\n"
	"directory, else ./flywheel.yaml, else the built-in defaults are used.\n\n"
	"  --config FILE  the file to check (it must exist)\n"
	"  --data DIR     data directory (default ./flywheel-data, or $FLYWHEEL_DATA)\n\n"
	"Each problem is printed as FILE:LINE:COL: error: message; all of them, not\n"
	"just the first. Exit status: 0 valid (or no file), 1 invalid or unreadable,\n"
	"2 bad usage. Every option, its default and meaning: docs/config.md.\n";

/* Which file the lookup order picks; NULL for none (built-in defaults). Kept
 * in step with fw_config_resolve, which does the same for every command. */
static const char *find_file(const char *explicit_path, const char *data, char *buf, size_t cap)
{
	struct stat st;
	if (explicit_path)
		return explicit_path;
	int n = snprintf(buf, cap, "%s/flywheel.yaml", data);
	if (n >= 0 && (size_t)n < cap && (stat(buf, &st) == 0 || errno != ENOENT))
		return buf;
	if (stat("flywheel.yaml", &st) == 0 || errno != ENOENT)
		return "flywheel.yaml";
	return NULL;
}

static void print_list(const char *label, const struct fw_config_list *l, const char *sep,
		       const char *none)
{
	printf("  %-18s", label);
	if (!l->n)
		printf("%s", none);
	for (size_t i = 0; i < l->n; i++)
		printf("%s\"%s\"", i ? sep : "", l->items[i]);
	printf("\n");
}

static void summary(const struct fw_config *c)
{
	printf("  %-18s\"%s\"\n", "sign-up event", c->signup_event);
	printf("  %-18s\"%s\"", "activation event", c->activation_event);
	if (c->activation_min_count > 1)
		printf(" (activated after %d of them)", c->activation_min_count);
	printf("\n");
	print_list("core features", &c->core_features, ", ",
		   "none (feature adoption is not computed)");
	print_list("onboarding steps", &c->onboarding_steps, " -> ",
		   "none (onboarding completion is not computed)");
	print_list("inactive events", &c->inactive_events, ", ", "none (every event is active)");
	printf("  %-18s", "targets");
	int any = 0;
	for (int m = 0; m < FW_M_COUNT; m++)
		if (!isnan(c->targets[m]))
			printf("%s%s %g", any++ ? ", " : "", fw_metric_names[m], c->targets[m]);
	printf("%s\n", any ? "" : "none");
	if (c->write_keys.n || c->secret_keys.n)
		printf("  %-18s%zu write, %zu secret (FLYWHEEL_WRITE_KEY / FLYWHEEL_SECRET_KEY "
		       "override them)\n",
		       "keys", c->write_keys.n, c->secret_keys.n);
	else
		printf("  %-18snone in the file (from the environment, or created by `serve`)\n",
		       "keys");
	printf("  %-18s%s\n", "listen", c->listen);
	const struct fw_scoring *sp = &c->scoring;
	printf("  %-18s", "scoring rules");
	for (size_t r = 0; r < sp->nrules; r++)
		printf("%s%s", r ? ", " : "", sp->rules[r].name);
	printf("%s\n", sp->nrules ? "" : "none (every score is 0)");
	printf("  %-18snurture 0, upgrade_campaign %d, inside_sales %d, account_executive %d%s\n",
	       "routes", sp->tiers[FW_ROUTE_UPGRADE_CAMPAIGN], sp->tiers[FW_ROUTE_INSIDE_SALES],
	       sp->tiers[FW_ROUTE_ACCOUNT_EXECUTIVE],
	       sp->require_activation ? "; no sales route before activation" : "");
	printf("  %-18s", "triggers");
	for (int t = 0, n = 0; t < FW_TRIGGER_COUNT; t++)
		if (sp->triggers[t].enabled)
			printf("%s%s -> %s", n++ ? ", " : "", fw_trigger_names[t],
			       fw_lead_route_names[sp->triggers[t].route]);
	printf("\n  %-18s", "plans");
	for (size_t i = 0; i < c->nplans; i++)
		printf("%s%s", i ? ", " : "", c->plans[i].name);
	printf("%s\n", c->nplans ? "" : "none");
	printf("  %-18s", "destinations");
	for (size_t i = 0; i < c->ndestinations; i++)
		printf("%s%s (%s)", i ? ", " : "", c->destinations[i].name,
		       c->destinations[i].format == FW_DEST_SLACK ? "slack" : "json");
	printf("%s\n", c->ndestinations ? "" : "none (no webhooks are sent)");
}

int fw_cmd_check(int argc, char **argv)
{
	if (fw_cmd_wants_help(argc, argv)) {
		fputs(HELP, stdout);
		return 0;
	}
	const char *config = NULL, *data = fw_cmd_default_data(), *v;
	for (int i = 1; i < argc; i++) {
		if (fw_cmd_opt(argc, argv, &i, "--config", &v))
			config = v;
		else if (fw_cmd_opt(argc, argv, &i, "--data", &v))
			data = v;
		else if (!strcmp(argv[i], "--print-docs")) { /* hidden: regenerates docs/config.md */
			struct fw_buf b = {0};
			fw_config_write_docs(&b);
			fwrite(b.data, 1, b.len, stdout);
			fw_buf_release(&b);
			return 0;
		} else {
			fprintf(stderr, "flywheel check: unknown option \"%s\"\n\n%s", argv[i], HELP);
			return 2;
		}
	}

	char buf[4096];
	const char *path = find_file(config, data, buf, sizeof buf);
	struct fw_config c;
	if (!path) {
		fw_config_defaults(&c);
		printf("no flywheel.yaml found (looked for %s/flywheel.yaml and ./flywheel.yaml); "
		       "using built-in defaults\n",
		       data);
		summary(&c);
		fw_config_release(&c);
		return 0;
	}
	static struct fw_config_error errs[MAX_ERRORS];
	size_t n = 0;
	struct fw_err err = {0};
	int rc = fw_config_load(&c, path, errs, MAX_ERRORS, &n, &err);
	if (rc == FW_EINVAL) {
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "%s:%d:%d: error: %s\n", path, errs[i].line, errs[i].column,
				errs[i].msg);
		if (n == MAX_ERRORS)
			fprintf(stderr, "%s: stopped after %d errors\n", path, MAX_ERRORS);
		else
			fprintf(stderr, "%s: %zu error%s\n", path, n, n == 1 ? "" : "s");
		return 1;
	}
	if (rc) {
		fprintf(stderr, "flywheel check: %s\n", err.msg);
		return 1;
	}
	printf("%s: ok\n", path);
	summary(&c);
	fw_config_release(&c);
	return 0;
}
