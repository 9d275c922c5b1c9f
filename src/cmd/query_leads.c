/* query_leads.c — `flywheel query pqls | score ID | at-risk | expansion`:
 * the PQL API (docs/scoring.md) from the terminal, against a running server
 * (--url, --key) or a data directory (scores computed on the spot). */
#include "flywheel/api.h"
#include "flywheel/cmd.h"
#include "flywheel/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char HELP[] =
	"usage: flywheel query [--data DIR | --url URL --key SECRET] pqls [--top N] [options]\n"
	"       flywheel query ... score ID [--person] [--history N]\n"
	"       flywheel query ... at-risk | expansion\n\n"
	"Product-qualified leads (docs/scoring.md):\n"
	"  pqls        accounts (or people, --unit person) by route, sales first, then score,\n"
	"              with the rules that gave their points and the triggers that fired\n"
	"  score ID    one account's breakdown: every rule's points and the member or events\n"
	"              behind them, triggers, signals, members and the history of changes;\n"
	"              --person for a person (by user id, else anonymous id)\n"
	"  at-risk     paying accounts whose active events fell against the week before, or\n"
	"              with no active person for scoring.signals.at_risk.inactive_days\n"
	"  expansion   accounts near their plan's seat limit, or that reached a limit this week\n\n"
	"options:\n"
	"  --top N, --limit N   how many leads (default 20)\n"
	"  --unit account|person\n"
	"  --route R            only nurture, upgrade_campaign, inside_sales or account_executive\n"
	"  --min-score N        only leads scoring at least N\n"
	"  --json               print the API's JSON instead of a table\n"
	"  --data DIR           compute from a data directory (the server must not hold it)\n"
	"  --config FILE        the rules to score with; see docs/config.md\n"
	"  --url URL --key KEY  ask a running server (or $FLYWHEEL_URL, $FLYWHEEL_SECRET_KEY)\n";

static void put_str(const struct fw_json *o, const char *k, int width)
{
	struct fw_str s = fw_json_get_str(o, k);
	printf("%-*.*s", width, (int)s.len, s.p ? s.p : "");
}

static double num(const struct fw_json *o, const char *k)
{
	const struct fw_json *v = fw_json_get(o, k);
	return v && v->type == FW_JSON_NUMBER ? v->u.num : 0;
}

/* "rule 40, rule 30" of a reasons array. */
static void put_reasons(const struct fw_json *arr)
{
	int n = 0;
	for (const struct fw_json *r = arr ? arr->u.child : NULL; r; r = r->next) {
		struct fw_str rule = fw_json_get_str(r, "rule");
		printf("%s%.*s %g", n++ ? ", " : "", (int)rule.len, rule.p, num(r, "points"));
	}
}

static void put_list(const struct fw_json *arr)
{
	int n = 0;
	for (const struct fw_json *t = arr ? arr->u.child : NULL; t; t = t->next)
		printf("%s%.*s", n++ ? "," : "", (int)t->u.str.len, t->u.str.p);
	if (!n)
		printf("-");
}

static void print_pqls(const struct fw_json *root)
{
	const struct fw_json *routes = fw_json_get_obj(root, "routes");
	printf("%s leads:", fw_json_get_str(root, "unit").p ? "" : "");
	for (const struct fw_json *r = routes ? routes->u.child : NULL; r; r = r->next)
		printf(" %.*s %lld%s", (int)r->key.len, r->key.p, (long long)r->i, r->next ? "," : "\n");
	printf("%-18s %5s  %-28s %-24s %s\n", "ROUTE", "SCORE", "KEY", "TRIGGERS", "REASONS");
	const struct fw_json *leads = fw_json_get_arr(root, "leads");
	for (const struct fw_json *l = leads ? leads->u.child : NULL; l; l = l->next) {
		put_str(l, "route", 18);
		printf(" %5.0f  ", num(l, "score"));
		put_str(l, "key", 28);
		printf(" ");
		struct fw_buf t = {0};
		const struct fw_json *trig = fw_json_get_arr(l, "triggers");
		for (const struct fw_json *x = trig ? trig->u.child : NULL; x; x = x->next)
			fw_buf_printf(&t, "%s%.*s", t.len ? "," : "", (int)x->u.str.len, x->u.str.p);
		printf("%-24s ", t.len ? t.data : "-");
		fw_buf_release(&t);
		put_reasons(fw_json_get_arr(l, "reasons"));
		printf("\n");
	}
}

static void print_score(const struct fw_json *root)
{
	struct fw_str unit = fw_json_get_str(root, "unit"), key = fw_json_get_str(root, "key");
	printf("%.*s %.*s: score %g, route ", (int)unit.len, unit.p, (int)key.len, key.p,
	       num(root, "score"));
	put_str(root, "route", 0);
	printf("\n  why:      ");
	put_str(root, "cause", 0);
	printf("\n  triggers: ");
	put_list(fw_json_get_arr(root, "triggers"));
	const struct fw_json *act = fw_json_get(root, "activated");
	printf("\n  activated: %s\n\n", act && act->type == FW_JSON_TRUE ? "yes" : "no");
	printf("  %-28s %7s  %s\n", "RULE", "POINTS", "FROM");
	const struct fw_json *rules = fw_json_get_arr(root, "rules");
	for (const struct fw_json *r = rules ? rules->u.child : NULL; r; r = r->next) {
		printf("  ");
		put_str(r, "rule", 28);
		printf(" %7g  ", num(r, "points"));
		const struct fw_json *from = fw_json_get(r, "from");
		if (from && from->type == FW_JSON_STRING)
			printf("%.*s", (int)from->u.str.len, from->u.str.p);
		else if (fw_json_get(r, "events"))
			printf("%g events", num(r, "events"));
		printf("\n");
	}
	const struct fw_json *sig = fw_json_get_obj(root, "signals");
	if (sig) {
		printf("\n  signals: mrr %g, active events %g this week vs %g the week before, %g members\n",
		       num(sig, "mrr"), num(sig, "active_events_7d"), num(sig, "active_events_prev_7d"),
		       num(sig, "members"));
	}
	const struct fw_json *hist = fw_json_get_arr(root, "history");
	if (hist && hist->len) {
		printf("\n  %-24s %-8s %5s  %-18s %s\n", "WHEN", "CHANGE", "SCORE", "ROUTE", "WHY");
		for (const struct fw_json *h = hist->u.child; h; h = h->next) {
			printf("  ");
			put_str(h, "time", 24);
			printf(" ");
			put_str(h, "kind", 8);
			printf(" %5g  ", num(h, "score"));
			put_str(h, "route", 18);
			printf(" ");
			put_str(h, "cause", 0);
			printf("\n");
		}
	}
}

static void print_signals(const struct fw_json *root)
{
	printf("%-24s %8s %-12s %8s %8s %8s  %-24s %7s %5s\n", "ACCOUNT", "MRR", "PLAN", "7D",
	       "PREV 7D", "CHANGE", "LAST ACTIVE", "MEMBERS", "SEATS");
	const struct fw_json *list = fw_json_get_arr(root, "accounts");
	for (const struct fw_json *a = list ? list->u.child : NULL; a; a = a->next) {
		put_str(a, "key", 24);
		printf(" %8g ", num(a, "mrr"));
		put_str(a, "plan", 12);
		printf(" %8g %8g ", num(a, "active_events_7d"), num(a, "active_events_prev_7d"));
		const struct fw_json *ch = fw_json_get(a, "change");
		if (ch && ch->type == FW_JSON_NUMBER)
			printf("%+7.0f%%", ch->u.num * 100);
		else
			printf("%8s", "-");
		printf("  ");
		put_str(a, "last_active", 24);
		const struct fw_json *seats = fw_json_get(a, "seat_limit");
		printf(" %7g ", num(a, "members"));
		if (seats && seats->type == FW_JSON_NUMBER)
			printf("%5g\n", seats->u.num);
		else
			printf("%5s\n", "-");
	}
}

int fw_cmd_query_leads(int argc, char **argv, const char *kind)
{
	if (fw_cmd_wants_help(argc, argv)) {
		fputs(HELP, stdout);
		return 0;
	}
	const char *data = NULL, *url = getenv("FLYWHEEL_URL"), *key = getenv("FLYWHEEL_SECRET_KEY");
	const char *config = NULL, *unit = NULL, *route = NULL, *id = NULL, *v;
	long top = 20, min = 0, history = 50;
	int json = 0, person = 0, seen_kind = 0;
	for (int i = 1; i < argc; i++) {
		if (fw_cmd_opt(argc, argv, &i, "--data", &v))
			data = v;
		else if (fw_cmd_opt(argc, argv, &i, "--url", &v))
			url = v;
		else if (fw_cmd_opt(argc, argv, &i, "--key", &v))
			key = v;
		else if (fw_cmd_opt(argc, argv, &i, "--config", &v))
			config = v;
		else if (fw_cmd_opt(argc, argv, &i, "--top", &v) || fw_cmd_opt(argc, argv, &i, "--limit", &v))
			top = strtol(v, NULL, 10);
		else if (fw_cmd_opt(argc, argv, &i, "--min-score", &v))
			min = strtol(v, NULL, 10);
		else if (fw_cmd_opt(argc, argv, &i, "--history", &v))
			history = strtol(v, NULL, 10);
		else if (fw_cmd_opt(argc, argv, &i, "--unit", &v))
			unit = v;
		else if (fw_cmd_opt(argc, argv, &i, "--route", &v))
			route = v;
		else if (!strcmp(argv[i], "--person"))
			person = 1;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-')
			return fprintf(stderr, "flywheel query %s: unknown option \"%s\"\n\n%s", kind, argv[i], HELP), 2;
		else if (!seen_kind && !strcmp(argv[i], kind))
			seen_kind = 1;
		else if (!id && !strcmp(kind, "score"))
			id = argv[i];
		else
			return fprintf(stderr, "flywheel query %s: unexpected argument \"%s\"\n", kind, argv[i]), 2;
	}
	if (!strcmp(kind, "score") && !id)
		return fprintf(stderr, "flywheel query score: give the account's group id (or --person and a user id)\n"), 2;
	if (unit && strcmp(unit, "account") && strcmp(unit, "person"))
		return fprintf(stderr, "flywheel query %s: --unit is account or person\n", kind), 2;
	if (top <= 0 || top > 10000 || min < 0 || history < 0)
		return fprintf(stderr, "flywheel query %s: --top is 1..10000, --min-score and --history >= 0\n", kind), 2;
	struct fw_lead_query q = {.unit = unit && !strcmp(unit, "person") ? FW_LEAD_PERSON : FW_LEAD_ACCOUNT,
				  .route = -1, .min_score = (int)min, .limit = (size_t)top};
	for (int r = 0; route && r < FW_ROUTE_COUNT; r++)
		if (!strcmp(route, fw_lead_route_names[r]))
			q.route = r;
	if (route && q.route < 0)
		return fprintf(stderr, "flywheel query %s: --route is nurture, upgrade_campaign, inside_sales or account_executive\n", kind), 2;

	struct fw_buf out = {0};
	struct fw_err err = {0};
	int rc = 0, status = 200;
	if (url && !data) {
		struct fw_buf path = {0};
		if (!strcmp(kind, "pqls")) {
			fw_buf_printf(&path, "/api/v1/pqls?unit=%s&limit=%ld&min_score=%ld",
				      fw_lead_unit_names[q.unit], top, min);
			if (route)
				fw_buf_printf(&path, "&route=%s", route);
		} else if (!strcmp(kind, "score")) {
			fw_buf_printf(&path, "/api/v1/pqls/%s/", person ? "person" : "account");
			for (const char *c = id; *c; c++)
				if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				    (*c >= '0' && *c <= '9') || strchr("-_.~@", *c))
					fw_buf_addc(&path, *c);
				else
					fw_buf_printf(&path, "%%%02X", (unsigned char)*c);
			fw_buf_printf(&path, "?history=%ld", history);
		} else {
			fw_buf_printf(&path, "/api/v1/signals/%s", kind);
		}
		rc = fw_cmd_http(url, key, path.data, NULL, &out, &status, &err);
		fw_buf_release(&path);
		if (!rc && status != 200) {
			fprintf(stderr, "flywheel query %s: the server answered %d: %s\n", kind, status,
				out.data ? out.data : "");
			fw_buf_release(&out);
			return 1;
		}
	} else {
		struct fw_server *srv;
		rc = fw_cmd_open_data(data, config, &srv, &err);
		if (!rc) {
			if (!strcmp(kind, "pqls"))
				rc = fw_api_pqls(srv, &q, &out, &err);
			else if (!strcmp(kind, "score"))
				rc = fw_api_lead(srv, person ? FW_LEAD_PERSON : FW_LEAD_ACCOUNT, fw_str_c(id),
						 (size_t)history, &out, &err);
			else
				rc = fw_api_signals(srv, !strcmp(kind, "at-risk") ? FW_LEAD_AT_RISK : FW_LEAD_EXPANSION,
						    &out, &err);
			fw_server_close(srv);
		}
	}
	if (rc) {
		fprintf(stderr, "flywheel query %s: %s\n", kind, err.msg);
		fw_buf_release(&out);
		return 1;
	}
	struct fw_arena a = {0};
	struct fw_json *root;
	struct fw_json_error je;
	if (json || fw_json_parse(&a, out.data, out.len, &root, &je))
		printf("%s\n", out.data);
	else if (!strcmp(kind, "pqls"))
		print_pqls(root);
	else if (!strcmp(kind, "score"))
		print_score(root);
	else
		print_signals(root);
	fw_arena_release(&a);
	fw_buf_release(&out);
	return 0;
}
