/* webhooks.c — `flywheel webhooks ACTION`: the webhook deliveries of a
 * running server (--url, --key): list, show, replay, test (docs/webhooks.md). */
#include "flywheel/cmd.h"
#include "flywheel/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
	"usage: flywheel webhooks ACTION [ARG] [--url URL --key SECRET] [options] [--json]\n\n"
	"Webhook deliveries of a running server (docs/webhooks.md).\n\n"
	"actions:\n"
	"  list [--status S] [--destination NAME] [--limit N] [--before ID]\n"
	"                      deliveries, newest first; S is pending, delivered or dead\n"
	"  show ID             one delivery (its number or webhook id) with its body and attempts\n"
	"  replay ID           send a delivered or dead webhook again (same webhook id)\n"
	"  test DESTINATION    queue a webhook.test event for that destination\n\n"
	"options:\n"
	"  --url URL           the server (default $FLYWHEEL_URL, else http://127.0.0.1:8080)\n"
	"  --key SECRET        a secret key (default $FLYWHEEL_SECRET_KEY)\n"
	"  --json              print the API's JSON instead of a table\n";

/* The actions: name, whether they take an argument, the HTTP method. */
static const struct {
	const char *name;
	const char *arg; /* what the argument is, or NULL for none */
	int post;
} ACTIONS[] = {
	{"list", NULL, 0},
	{"show", "a delivery id (from `flywheel webhooks list`) or webhook id", 0},
	{"replay", "a delivery id (from `flywheel webhooks list`) or webhook id", 1},
	{"test", "a destination name (from destinations: in flywheel.yaml)", 1},
};

/* A JSON member as table text: "-" for null or absent. */
static const char *text(struct fw_buf *b, const struct fw_json *obj, const char *key)
{
	const struct fw_json *v = fw_json_get(obj, key);
	fw_buf_reset(b);
	if (!v || v->type == FW_JSON_NULL)
		fw_buf_adds(b, "-");
	else if (v->type == FW_JSON_STRING)
		fw_buf_add(b, v->u.str.p, v->u.str.len);
	else
		fw_json_write_value(b, v);
	return b->data;
}

static void print_list(const struct fw_json *root)
{
	const struct fw_json *list = fw_json_get_arr(root, "deliveries");
	struct fw_buf t = {0};
	printf("%-8s %-10s %8s  %-16s %-24s %-24s %s\n", "ID", "STATUS", "ATTEMPTS", "DESTINATION",
	       "TYPE", "CREATED", "LAST");
	for (const struct fw_json *r = list ? list->u.child : NULL; r; r = r->next) {
		printf("%-8s ", text(&t, r, "id"));
		printf("%-10s ", text(&t, r, "status"));
		printf("%8s  ", text(&t, r, "attempts"));
		printf("%-16s ", text(&t, r, "destination"));
		printf("%-24s ", text(&t, r, "type"));
		printf("%-24s ", text(&t, r, "created"));
		const struct fw_json *ls = fw_json_get(r, "last_status");
		const char *err = text(&t, r, "last_error");
		if (ls && ls->type == FW_JSON_NUMBER && ls->i)
			printf("HTTP %lld ", (long long)ls->i);
		printf("%.80s\n", strcmp(err, "-") ? err : "");
	}
	const struct fw_json *c = fw_json_get_obj(root, "counts");
	printf("\n");
	for (const struct fw_json *k = c ? c->u.child : NULL; k; k = k->next)
		printf("%s%.*s %lld", k == c->u.child ? "" : ", ", (int)k->key.len, k->key.p,
		       (long long)k->i);
	const struct fw_json *nb = fw_json_get(root, "next_before");
	if (nb && nb->type == FW_JSON_NUMBER)
		printf("  (older: --before %lld)", (long long)nb->i);
	printf("\n");
	fw_buf_release(&t);
}

static void print_show(const struct fw_json *root)
{
	struct fw_buf t = {0};
	for (const struct fw_json *c = root->u.child; c; c = c->next) {
		if (fw_str_eq(c->key, "attempt_log"))
			continue;
		char key[64];
		snprintf(key, sizeof key, "%.*s", (int)c->key.len, c->key.p);
		printf("%-14s %s\n", key, text(&t, root, key));
	}
	const struct fw_json *log = fw_json_get_arr(root, "attempt_log");
	printf("\n%-8s %-24s %6s %9s  %s\n", "ATTEMPT", "AT", "HTTP", "MS", "ERROR");
	for (const struct fw_json *a = log ? log->u.child : NULL; a; a = a->next) {
		printf("%-8s ", text(&t, a, "attempt"));
		printf("%-24s ", text(&t, a, "at"));
		printf("%6s ", text(&t, a, "http_status"));
		printf("%9s  ", text(&t, a, "duration_ms"));
		printf("%s\n", text(&t, a, "error"));
	}
	fw_buf_release(&t);
}

int fw_cmd_webhooks(int argc, char **argv)
{
	if (fw_cmd_wants_help(argc, argv) || argc < 2) {
		fputs(HELP, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *url = getenv("FLYWHEEL_URL"), *key = getenv("FLYWHEEL_SECRET_KEY");
	const char *action = NULL, *arg = NULL, *status = NULL, *dest = NULL, *limit = NULL,
		   *before = NULL, *v;
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (fw_cmd_opt(argc, argv, &i, "--url", &v))
			url = v;
		else if (fw_cmd_opt(argc, argv, &i, "--key", &v))
			key = v;
		else if (fw_cmd_opt(argc, argv, &i, "--status", &v))
			status = v;
		else if (fw_cmd_opt(argc, argv, &i, "--destination", &v))
			dest = v;
		else if (fw_cmd_opt(argc, argv, &i, "--limit", &v))
			limit = v;
		else if (fw_cmd_opt(argc, argv, &i, "--before", &v))
			before = v;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-')
			return fprintf(stderr, "flywheel webhooks: unknown option \"%s\"\n\n%s", argv[i], HELP), 2;
		else if (!action)
			action = argv[i];
		else if (!arg)
			arg = argv[i];
		else
			return fprintf(stderr, "flywheel webhooks: unexpected argument \"%s\"\n", argv[i]), 2;
	}
	if (!action) {
		fprintf(stderr, "flywheel webhooks: give an action\n\n%s", HELP);
		return 2;
	}
	size_t k = 0;
	while (k < FW_ARRAY_LEN(ACTIONS) && strcmp(action, ACTIONS[k].name))
		k++;
	if (k == FW_ARRAY_LEN(ACTIONS)) {
		fprintf(stderr, "flywheel webhooks: unknown action \"%s\"\n\n%s", action, HELP);
		return 2;
	}
	if (ACTIONS[k].arg && !arg) {
		fprintf(stderr, "flywheel webhooks %s: give %s\n", action, ACTIONS[k].arg);
		return 2;
	}
	if (!ACTIONS[k].arg && arg) {
		fprintf(stderr, "flywheel webhooks %s: unexpected argument \"%s\"\n", action, arg);
		return 2;
	}
	if (!key || !*key) {
		fprintf(stderr, "flywheel webhooks: give a secret key with --key SECRET (or set "
				"$FLYWHEEL_SECRET_KEY)\n");
		return 2;
	}
	if (!url || !*url)
		url = "http://127.0.0.1:8080";

	struct fw_buf path = {0};
	if (!strcmp(action, "list")) {
		fw_buf_adds(&path, "/api/v1/deliveries?");
		const char *names[] = {"status", "destination", "limit", "before"};
		const char *vals[] = {status, dest, limit, before};
		for (size_t i = 0; i < FW_ARRAY_LEN(names); i++)
			if (vals[i]) {
				fw_buf_printf(&path, "%s=", names[i]);
				fw_cmd_url_escape(&path, vals[i]);
				fw_buf_addc(&path, '&');
			}
	} else {
		fw_buf_adds(&path, !strcmp(action, "test") ? "/api/v1/destinations/" : "/api/v1/deliveries/");
		fw_cmd_url_escape(&path, arg);
		if (ACTIONS[k].post)
			fw_buf_printf(&path, "/%s", action);
	}
	struct fw_buf post = {0}, out = {0};
	fw_buf_adds(&post, "{}");
	struct fw_err err = {0};
	int status_code = 0;
	int rc = fw_cmd_http(url, key, path.data, ACTIONS[k].post ? &post : NULL, &out, &status_code,
			     &err);
	fw_buf_release(&path);
	fw_buf_release(&post);
	if (rc) {
		fprintf(stderr, "flywheel webhooks: %s\n", err.msg);
		fw_buf_release(&out);
		return 1;
	}
	struct fw_arena a = {0};
	struct fw_json *root = NULL;
	struct fw_json_error je;
	int parsed = out.len && !fw_json_parse(&a, out.data, out.len, &root, &je) &&
		     root->type == FW_JSON_OBJECT;
	if (status_code < 200 || status_code > 299) {
		struct fw_str m = parsed ? fw_json_get_str(root, "error") : (struct fw_str){0};
		if (m.len)
			fprintf(stderr, "flywheel webhooks %s: %.*s (HTTP %d)\n", action, (int)m.len, m.p,
				status_code);
		else
			fprintf(stderr, "flywheel webhooks %s: the server answered %d: %s\n", action,
				status_code, out.data ? out.data : "");
		fw_arena_release(&a);
		fw_buf_release(&out);
		return 1;
	}
	if (json || !parsed) {
		printf("%s\n", out.data ? out.data : "");
	} else if (!strcmp(action, "list")) {
		print_list(root);
	} else if (!strcmp(action, "show")) {
		print_show(root);
	} else {
		struct fw_buf t = {0}, t2 = {0};
		if (!strcmp(action, "test"))
			printf("queued a webhook.test for %s: delivery %s (%s)\n", arg, text(&t, root, "id"),
			       text(&t2, root, "webhook_id"));
		else
			printf("delivery %s (%s) is pending again and will be sent shortly\n",
			       text(&t, root, "id"), text(&t2, root, "webhook_id"));
		fw_buf_release(&t);
		fw_buf_release(&t2);
	}
	fw_arena_release(&a);
	fw_buf_release(&out);
	return 0;
}
