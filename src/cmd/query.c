/* query.c — `flywheel query KIND`: the read API from the terminal, against a
 * data directory (--data) or a running server (--url, --key). */
#include "flywheel/api.h"
#include "flywheel/cmd.h"
#include "flywheel/json.h"
#include "flywheel/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char HELP[] =
	"usage: flywheel query [--data DIR | --url URL --key SECRET] KIND [ARG] [options] [--json]\n\n"
	"kinds:\n"
	"  events              stored events counted by name (identify/group/alias are not events)\n"
	"  daily [--event E]   events per UTC day\n"
	"  latest [--limit N]  the newest events\n"
	"  person ID           a person by any of their ids: identities, traits, accounts, events\n"
	"  account ID          an account: traits and members\n"
	"  warnings            ingestion warnings, newest first\n"
	"  metrics             the PLG metrics (DESIGN.md) with the previous period and targets;\n"
	"                      --from/--to default to the 30 days up to today\n"
	"  funnel | retention | stickiness | lifecycle | trends | revenue | virality | accounts\n"
	"                      analyses (POST /api/v1/query; `flywheel query funnel --help`)\n"
	"  pqls [--top N]      product-qualified leads by route and score, with reasons\n"
	"  score ID            one account's (or --person's) score breakdown and history\n"
	"  at-risk | expansion accounts whose usage fell, or near a plan limit\n"
	"                      (`flywheel query pqls --help`)\n\n"
	"options:\n"
	"  --from DAY --to DAY  half-open UTC range [from, to), days as YYYY-MM-DD\n"
	"  --json               print the API's JSON instead of a table\n"
	"  --data DIR           read a data directory (the server must not be running on it)\n"
	"  --config FILE        definitions (activation event, targets…); see docs/config.md\n"
	"  --url URL --key KEY  ask a running server (or $FLYWHEEL_URL, $FLYWHEEL_SECRET_KEY)\n";


static void print_table(const char *kind, struct fw_json *root)
{
	if (!strcmp(kind, "events")) {
		const struct fw_json *ev = fw_json_get_obj(root, "events");
		printf("%-40s %12s\n", "EVENT", "COUNT");
		for (const struct fw_json *c = ev ? ev->u.child : NULL; c; c = c->next)
			printf("%-40.*s %12lld\n", (int)c->key.len, c->key.p, (long long)c->i);
		const struct fw_json *t = fw_json_get(root, "total");
		printf("%-40s %12lld\n", "total", t ? (long long)t->i : 0LL);
		return;
	}
	if (!strcmp(kind, "daily")) {
		const struct fw_json *days = fw_json_get_arr(root, "days");
		printf("%-12s %12s\n", "DAY", "EVENTS");
		for (const struct fw_json *c = days ? days->u.child : NULL; c; c = c->next) {
			struct fw_str d = fw_json_get_str(c, "day");
			const struct fw_json *n = fw_json_get(c, "count");
			printf("%-12.*s %12lld\n", (int)d.len, d.p, n ? (long long)n->i : 0LL);
		}
		return;
	}
	if (!strcmp(kind, "latest") || !strcmp(kind, "warnings")) {
		const struct fw_json *list = fw_json_get_arr(root, !strcmp(kind, "latest") ? "events" : "warnings");
		for (const struct fw_json *c = list ? list->u.child : NULL; c; c = c->next) {
			struct fw_str t = fw_json_get_str(c, "time");
			if (!strcmp(kind, "latest")) {
				struct fw_str e = fw_json_get_str(c, "event"), u = fw_json_get_str(c, "user_id"),
					      a = fw_json_get_str(c, "anonymous_id");
				printf("%.*s  %-30.*s %.*s\n", (int)t.len, t.p, (int)e.len, e.p,
				       (int)(u.len ? u.len : a.len), u.len ? u.p : a.p);
			} else {
				struct fw_str r = fw_json_get_str(c, "reason"), m = fw_json_get_str(c, "message");
				printf("%.*s  %-16.*s %.*s\n", (int)t.len, t.p, (int)r.len, r.p, (int)m.len, m.p);
			}
		}
		return;
	}
	if (!strcmp(kind, "metrics")) {
		const struct fw_json *ms = fw_json_get_obj(root, "metrics");
		struct fw_str f = fw_json_get_str(root, "from"), t = fw_json_get_str(root, "to");
		printf("%.*s .. %.*s (to exclusive)\n", (int)f.len, f.p, (int)t.len, t.p);
		printf("%-30s %14s %14s %14s\n", "METRIC", "VALUE", "PREVIOUS", "TARGET");
		for (const struct fw_json *c = ms ? ms->u.child : NULL; c; c = c->next) {
			char cols[3][32];
			const char *keys[3] = {"value", "previous", "target"};
			for (int k = 0; k < 3; k++) {
				const struct fw_json *x = fw_json_get(c, keys[k]);
				if (x && x->type == FW_JSON_NUMBER && x->is_int)
					snprintf(cols[k], sizeof cols[k], "%lld", (long long)x->i);
				else if (x && x->type == FW_JSON_NUMBER)
					snprintf(cols[k], sizeof cols[k], "%.4f", x->u.num);
				else
					snprintf(cols[k], sizeof cols[k], "%s", x ? "-" : "");
			}
			printf("%-30.*s %14s %14s %14s\n", (int)c->key.len, c->key.p, cols[0], cols[1], cols[2]);
		}
		return;
	}
	/* person, account: the JSON, one field per line */
	for (const struct fw_json *c = root->u.child; c; c = c->next) {
		struct fw_buf v = {0};
		fw_json_write_value(&v, c);
		printf("%-16.*s %s\n", (int)c->key.len, c->key.p, v.data);
		fw_buf_release(&v);
	}
}

static int query_basic(int argc, char **argv)
{
	if (fw_cmd_wants_help(argc, argv) || argc < 2) {
		fputs(HELP, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *data = NULL, *url = getenv("FLYWHEEL_URL"), *key = getenv("FLYWHEEL_SECRET_KEY");
	const char *from = NULL, *to = NULL, *event = NULL, *kind = NULL, *arg = NULL, *v;
	const char *config = NULL;
	size_t limit = 50;
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (fw_cmd_opt(argc, argv, &i, "--data", &v))
			data = v;
		else if (fw_cmd_opt(argc, argv, &i, "--url", &v))
			url = v;
		else if (fw_cmd_opt(argc, argv, &i, "--key", &v))
			key = v;
		else if (fw_cmd_opt(argc, argv, &i, "--from", &v))
			from = v;
		else if (fw_cmd_opt(argc, argv, &i, "--to", &v))
			to = v;
		else if (fw_cmd_opt(argc, argv, &i, "--event", &v))
			event = v;
		else if (fw_cmd_opt(argc, argv, &i, "--limit", &v))
			limit = strtoul(v, NULL, 10);
		else if (fw_cmd_opt(argc, argv, &i, "--config", &v))
			config = v;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-')
			return fprintf(stderr, "flywheel query: unknown option \"%s\"\n\n%s", argv[i], HELP), 2;
		else if (!kind)
			kind = argv[i];
		else if (!arg)
			arg = argv[i];
		else
			return fprintf(stderr, "flywheel query: unexpected argument \"%s\"\n", argv[i]), 2;
	}
	static const char *const kinds[] = {"events", "daily",   "latest",  "person",
					    "account", "warnings", "metrics"};
	int known = 0;
	for (size_t i = 0; kind && i < FW_ARRAY_LEN(kinds); i++)
		known |= !strcmp(kind, kinds[i]);
	if (!known) {
		fprintf(stderr, "flywheel query: unknown KIND \"%s\"\n\n%s", kind ? kind : "", HELP);
		return 2;
	}
	if ((!strcmp(kind, "person") || !strcmp(kind, "account")) && !arg) {
		fprintf(stderr, "flywheel query %s: give the id, e.g. flywheel query %s user_001\n", kind, kind);
		return 2;
	}
	if (limit == 0 || limit > 10000)
		limit = 50;

	struct fw_buf out = {0};
	struct fw_err err = {0};
	int rc = 0, status = 200;
	if (url && !data) {
		struct fw_buf path = {0};
		if (!strcmp(kind, "events"))
			fw_buf_adds(&path, "/api/v1/events/count?");
		else if (!strcmp(kind, "daily"))
			fw_buf_adds(&path, "/api/v1/events/daily?");
		else if (!strcmp(kind, "latest"))
			fw_buf_printf(&path, "/api/v1/events/latest?limit=%zu&", limit);
		else if (!strcmp(kind, "warnings"))
			fw_buf_printf(&path, "/api/v1/warnings?limit=%zu&", limit);
		else if (!strcmp(kind, "metrics"))
			fw_buf_adds(&path, "/api/v1/metrics?");
		else {
			fw_buf_printf(&path, "/api/v1/%s/", !strcmp(kind, "person") ? "people" : "accounts");
			fw_cmd_url_escape(&path, arg);
			fw_buf_addc(&path, '?');
		}
		if (from) {
			fw_buf_adds(&path, "from=");
			fw_cmd_url_escape(&path, from);
			fw_buf_addc(&path, '&');
		}
		if (to) {
			fw_buf_adds(&path, "to=");
			fw_cmd_url_escape(&path, to);
			fw_buf_addc(&path, '&');
		}
		if (event) {
			fw_buf_adds(&path, "event=");
			fw_cmd_url_escape(&path, event);
		}
		rc = fw_cmd_http(url, key, path.data, NULL, &out, &status, &err);
		fw_buf_release(&path);
		if (!rc && status != 200) {
			fprintf(stderr, "flywheel query: the server answered %d: %s\n", status, out.data ? out.data : "");
			fw_buf_release(&out);
			return 1;
		}
	} else {
		struct fw_server *srv;
		rc = fw_cmd_open_data(data, config, &srv, &err);
		if (!rc) {
			int64_t f, t;
			rc = fw_api_range(from, to, &f, &t, &err);
			if (!rc) {
				if (!strcmp(kind, "events"))
					rc = fw_api_events_count(srv, f, t, &out);
				else if (!strcmp(kind, "daily"))
					rc = fw_api_events_daily(srv, f, t, event, &out);
				else if (!strcmp(kind, "latest"))
					rc = fw_api_events_latest(srv, limit, &out, &err);
				else if (!strcmp(kind, "warnings"))
					rc = fw_api_warnings(srv, limit, &out, &err);
				else if (!strcmp(kind, "metrics"))
					rc = fw_api_metrics(srv, f, t, &out, &err);
				else if (!strcmp(kind, "person"))
					rc = fw_api_person(srv, fw_str_c(arg), &out, &err);
				else
					rc = fw_api_account(srv, fw_str_c(arg), &out, &err);
			}
			fw_server_close(srv);
		}
	}
	if (rc) {
		fprintf(stderr, "flywheel query: %s\n", err.msg);
		fw_buf_release(&out);
		return 1;
	}
	if (json) {
		printf("%s\n", out.data);
	} else {
		struct fw_arena a = {0};
		struct fw_json *root;
		struct fw_json_error je;
		if (fw_json_parse(&a, out.data, out.len, &root, &je) == 0)
			print_table(kind, root);
		else
			printf("%s\n", out.data);
		fw_arena_release(&a);
	}
	fw_buf_release(&out);
	return 0;
}

/* ---- analyses (POST /api/v1/query) ---- */

static int is_analysis(const char *kind)
{
	if (!strcmp(kind, "events") || !strcmp(kind, "metrics"))
		return 0; /* the GET routes above answer these */
	for (size_t i = 0; i < fw_nquery_kinds; i++)
		if (!strcmp(kind, fw_query_kinds[i].name))
			return 1;
	return 0;
}

/* A command-line value as JSON: numbers, true/false/null, arrays and objects
 * as written; anything else as a string. */
static void add_value(struct fw_buf *b, const char *v)
{
	struct fw_arena a = {0};
	struct fw_json *j;
	struct fw_json_error je;
	if (!fw_json_parse(&a, v, strlen(v), &j, &je) && j->type != FW_JSON_STRING)
		fw_buf_adds(b, v);
	else
		fw_json_write_str(b, v, strlen(v));
	fw_arena_release(&a);
}

/* Print one JSON value for a table cell. */
static void cell(struct fw_buf *b, const struct fw_json *v)
{
	if (!v || v->type == FW_JSON_NULL)
		fw_buf_adds(b, "-");
	else if (v->type == FW_JSON_STRING)
		fw_buf_add(b, v->u.str.p, v->u.str.len);
	else if (v->type == FW_JSON_NUMBER && !v->is_int)
		fw_buf_printf(b, "%.4g", v->u.num);
	else
		fw_json_write_value(b, v);
}

/* Generic rendering: scalars as "key: value", arrays of objects as aligned
 * tables (columns = the first row's scalar members), objects recursively. */
static void render(const char *title, const struct fw_json *v, int depth)
{
	struct fw_buf b = {0};
	if (v->type == FW_JSON_OBJECT) {
		if (title)
			printf("%*s%s:\n", depth * 2, "", title);
		for (const struct fw_json *c = v->u.child; c; c = c->next) {
			char key[128];
			snprintf(key, sizeof key, "%.*s", (int)c->key.len, c->key.p);
			render(key, c, depth + (title != NULL));
		}
		return;
	}
	if (v->type == FW_JSON_ARRAY && v->len && v->u.child->type == FW_JSON_OBJECT) {
		printf("%*s%s:\n", depth * 2, "", title ? title : "");
		const struct fw_json *first = v->u.child;
		size_t ncol = 0, width[32] = {0};
		const struct fw_json *cols[32];
		for (const struct fw_json *c = first->u.child; c && ncol < 32; c = c->next)
			if (c->type != FW_JSON_OBJECT &&
			    !(c->type == FW_JSON_ARRAY && c->len && (c->u.child->type == FW_JSON_OBJECT ||
								     c->u.child->type == FW_JSON_ARRAY))) {
				cols[ncol] = c;
				width[ncol] = c->key.len;
				ncol++;
			}
		for (const struct fw_json *r = v->u.child; r; r = r->next)
			for (size_t k = 0; k < ncol; k++) {
				char key[128];
				snprintf(key, sizeof key, "%.*s", (int)cols[k]->key.len, cols[k]->key.p);
				fw_buf_reset(&b);
				cell(&b, fw_json_get(r, key));
				if (b.len > width[k])
					width[k] = b.len > 40 ? 40 : b.len;
			}
		printf("%*s", depth * 2 + 2, "");
		for (size_t k = 0; k < ncol; k++)
			printf("%-*.*s  ", (int)width[k], (int)cols[k]->key.len, cols[k]->key.p);
		printf("\n");
		for (const struct fw_json *r = v->u.child; r; r = r->next) {
			printf("%*s", depth * 2 + 2, "");
			for (size_t k = 0; k < ncol; k++) {
				char key[128];
				snprintf(key, sizeof key, "%.*s", (int)cols[k]->key.len, cols[k]->key.p);
				fw_buf_reset(&b);
				cell(&b, fw_json_get(r, key));
				printf("%-*.*s  ", (int)width[k], (int)(b.len > 40 ? 40 : b.len), b.data ? b.data : "");
			}
			printf("\n");
		}
		fw_buf_release(&b);
		return;
	}
	cell(&b, v);
	printf("%*s%s: %.*s\n", depth * 2, "", title ? title : "", (int)b.len, b.data ? b.data : "");
	fw_buf_release(&b);
}

static const char ANALYSIS_HELP[] =
	"usage: flywheel query KIND [--data DIR | --url URL --key SECRET] [options] [--json]\n\n"
	"Runs an analysis (the body of POST /api/v1/query, docs/query.md). Options:\n"
	"  --request FILE       the whole JSON request (\"-\" = stdin); other options add to it\n"
	"  --step EVENT         a funnel step (repeat, in order)\n"
	"  --NAME VALUE         any request field: --from 2026-01-01 --window 7d --unit account\n"
	"                       --people '{\"step\":2,\"status\":\"dropped\"}'  (dashes become _)\n"
	"  --json               print the JSON answer instead of tables\n";

static int read_request(const char *path, struct fw_buf *out)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f)
		return -1;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		fw_buf_add(out, chunk, n);
	if (f != stdin)
		fclose(f);
	return 0;
}

static int cmd_analysis(int argc, char **argv, const char *kind)
{
	const char *data = NULL, *url = getenv("FLYWHEEL_URL"), *key = getenv("FLYWHEEL_SECRET_KEY");
	const char *config = NULL, *request = NULL, *v;
	int json = 0;
	struct fw_buf fields = {0}, steps = {0};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], kind))
			continue;
		if (fw_cmd_opt(argc, argv, &i, "--data", &v))
			data = v;
		else if (fw_cmd_opt(argc, argv, &i, "--url", &v))
			url = v;
		else if (fw_cmd_opt(argc, argv, &i, "--key", &v))
			key = v;
		else if (fw_cmd_opt(argc, argv, &i, "--config", &v))
			config = v;
		else if (fw_cmd_opt(argc, argv, &i, "--request", &v))
			request = v;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (fw_cmd_opt(argc, argv, &i, "--step", &v)) {
			fw_buf_adds(&steps, steps.len ? ",{\"event\":" : "{\"event\":");
			fw_json_write_str(&steps, v, strlen(v));
			fw_buf_addc(&steps, '}');
		} else if (!strncmp(argv[i], "--", 2) && argv[i][2] && i + 1 < argc) {
			char name[64];
			snprintf(name, sizeof name, "%s", argv[i] + 2);
			for (char *c = name; *c; c++)
				if (*c == '-')
					*c = '_';
			fw_buf_addc(&fields, ',');
			fw_json_write_str(&fields, name, strlen(name));
			fw_buf_addc(&fields, ':');
			add_value(&fields, argv[++i]);
		} else {
			fprintf(stderr, "flywheel query %s: unexpected argument \"%s\"\n\n%s", kind, argv[i],
				ANALYSIS_HELP);
			fw_buf_release(&fields);
			fw_buf_release(&steps);
			return 2;
		}
	}
	/* the request: the options' fields, then --request's members that no
	 * option named (an option wins over the file) */
	struct fw_buf body = {0};
	fw_buf_adds(&body, "{\"kind\":");
	fw_json_write_str(&body, kind, strlen(kind));
	if (steps.len)
		fw_buf_printf(&body, ",\"steps\":[%.*s]", (int)steps.len, steps.data);
	if (fields.len)
		fw_buf_add(&body, fields.data, fields.len);
	if (request) {
		struct fw_buf file = {0};
		struct fw_arena a = {0};
		struct fw_json *j, *given;
		struct fw_json_error je;
		fw_buf_addc(&body, '}');
		int bad = read_request(request, &file);
		if (bad)
			fprintf(stderr, "flywheel query: cannot read %s\n", request);
		else if (fw_json_parse(&a, file.data ? file.data : "", file.len, &j, &je) ||
			 j->type != FW_JSON_OBJECT)
			bad = fprintf(stderr, "flywheel query: %s is not a JSON object\n", request);
		else if (fw_json_parse(&a, fw_arena_strndup(&a, body.data, body.len), body.len, &given,
				       &je) == 0) {
			body.len--; /* reopen the object */
			for (const struct fw_json *c = j->u.child; c; c = c->next) {
				char k[256];
				snprintf(k, sizeof k, "%.*s", (int)c->key.len, c->key.p);
				if (fw_json_get(given, k))
					continue;
				fw_buf_addc(&body, ',');
				fw_json_write_str(&body, c->key.p, c->key.len);
				fw_buf_addc(&body, ':');
				fw_json_write_value(&body, c);
			}
		}
		fw_arena_release(&a);
		fw_buf_release(&file);
		if (bad) {
			fw_buf_release(&body);
			fw_buf_release(&fields);
			fw_buf_release(&steps);
			return 1;
		}
	}
	fw_buf_addc(&body, '}');
	fw_buf_release(&fields);
	fw_buf_release(&steps);

	struct fw_buf out = {0};
	struct fw_err err = {0};
	int rc = 0, status = 200;
	if (url && !data) {
		rc = fw_cmd_http(url, key, "/api/v1/query", &body, &out, &status, &err);
		if (!rc && status != 200) {
			fprintf(stderr, "flywheel query: the server answered %d: %s\n", status,
				out.data ? out.data : "");
			fw_buf_release(&out);
			fw_buf_release(&body);
			return 1;
		}
	} else {
		struct fw_server *srv;
		rc = fw_cmd_open_data(data, config, &srv, &err);
		if (!rc) {
			rc = fw_api_query(srv, body.data, body.len, &out, &err);
			fw_server_close(srv);
		}
	}
	fw_buf_release(&body);
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
	else
		render(NULL, root, 0);
	fw_arena_release(&a);
	fw_buf_release(&out);
	return 0;
}

int fw_cmd_query(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			i += !strcmp(argv[i], "--data") || !strcmp(argv[i], "--url") ||
			     !strcmp(argv[i], "--key") || !strcmp(argv[i], "--config");
			continue;
		}
		if (!strcmp(argv[i], "pqls") || !strcmp(argv[i], "score") ||
		    !strcmp(argv[i], "at-risk") || !strcmp(argv[i], "expansion"))
			return fw_cmd_query_leads(argc, argv, argv[i]);
		if (!is_analysis(argv[i]))
			break;
		if (fw_cmd_wants_help(argc, argv)) {
			fputs(ANALYSIS_HELP, stdout);
			return 0;
		}
		return cmd_analysis(argc, argv, argv[i]);
	}
	return query_basic(argc, argv);
}
