/* query.c — `flywheel query KIND`: the read API from the terminal, against a
 * data directory (--data) or a running server (--url, --key). */
#include "flywheel/api.h"
#include "flywheel/cmd.h"
#include "flywheel/json.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
	"                      --from/--to default to the 30 days up to today\n\n"
	"options:\n"
	"  --from DAY --to DAY  half-open UTC range [from, to), days as YYYY-MM-DD\n"
	"  --json               print the API's JSON instead of a table\n"
	"  --data DIR           read a data directory (the server must not be running on it)\n"
	"  --config FILE        definitions (activation event, targets…); see docs/config.md\n"
	"  --url URL --key KEY  ask a running server (or $FLYWHEEL_URL, $FLYWHEEL_SECRET_KEY)\n";

/* Minimal HTTP/1.1 GET for --url: Connection: close, reads to EOF. */
static int http_get(const char *url, const char *key, const char *path, struct fw_buf *body,
		    int *status, struct fw_err *err)
{
	char host[256] = "127.0.0.1", port[16] = "80";
	const char *p = url;
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else if (strstr(p, "://"))
		return fw_error(err, FW_EINVAL, "only http:// URLs are supported (got %s)", url);
	size_t hl = strcspn(p, ":/");
	if (hl >= sizeof host)
		return fw_error(err, FW_EINVAL, "host name too long in %s", url);
	memcpy(host, p, hl);
	host[hl] = 0;
	if (p[hl] == ':')
		snprintf(port, sizeof port, "%.*s", (int)strcspn(p + hl + 1, "/"), p + hl + 1);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	if (getaddrinfo(host, port, &hints, &ai))
		return fw_error(err, FW_EIO, "cannot resolve %s", host);
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return fw_error(err, FW_EIO, "cannot connect to %s: is `flywheel serve` running?", url);
	}
	freeaddrinfo(ai);
	struct fw_buf req = {0};
	fw_buf_printf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n",
		      path, host, key ? key : "");
	if (write(fd, req.data, req.len) != (ssize_t)req.len) {
		fw_buf_release(&req);
		close(fd);
		return fw_error(err, FW_EIO, "cannot send the request to %s", url);
	}
	fw_buf_release(&req);
	struct fw_buf resp = {0};
	char chunk[65536];
	ssize_t r;
	while ((r = read(fd, chunk, sizeof chunk)) > 0)
		fw_buf_add(&resp, chunk, (size_t)r);
	close(fd);
	char *hdr_end = resp.data ? strstr(resp.data, "\r\n\r\n") : NULL;
	if (!hdr_end || sscanf(resp.data, "HTTP/1.%*d %d", status) != 1) {
		fw_buf_release(&resp);
		return fw_error(err, FW_EIO, "%s did not answer with HTTP", url);
	}
	const char *b = hdr_end + 4;
	int chunked = strcasestr(resp.data, "transfer-encoding: chunked") &&
		      strcasestr(resp.data, "transfer-encoding: chunked") < hdr_end;
	if (chunked) {
		while (*b) {
			unsigned long n = strtoul(b, NULL, 16);
			b = strstr(b, "\r\n");
			if (!n || !b)
				break;
			fw_buf_add(body, b + 2, n);
			b += 2 + n + 2;
		}
	} else {
		fw_buf_add(body, b, resp.len - (size_t)(b - resp.data));
	}
	fw_buf_release(&resp);
	return 0;
}

static void url_escape(struct fw_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.~", c))
			fw_buf_addc(b, (char)c);
		else
			fw_buf_printf(b, "%%%02X", c);
	}
}

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

int fw_cmd_query(int argc, char **argv)
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
			url_escape(&path, arg);
			fw_buf_addc(&path, '?');
		}
		if (from) {
			fw_buf_adds(&path, "from=");
			url_escape(&path, from);
			fw_buf_addc(&path, '&');
		}
		if (to) {
			fw_buf_adds(&path, "to=");
			url_escape(&path, to);
			fw_buf_addc(&path, '&');
		}
		if (event) {
			fw_buf_adds(&path, "event=");
			url_escape(&path, event);
		}
		rc = http_get(url, key, path.data, &out, &status, &err);
		fw_buf_release(&path);
		if (!rc && status != 200) {
			fprintf(stderr, "flywheel query: the server answered %d: %s\n", status, out.data ? out.data : "");
			fw_buf_release(&out);
			return 1;
		}
	} else {
		struct fw_server *srv;
		struct fw_server_options so = {.data_dir = data ? data : fw_cmd_default_data(),
					       .config_path = config};
		if (access(so.data_dir, F_OK)) {
			fprintf(stderr, "flywheel query: no data directory at %s (use --data DIR or --url URL)\n",
				so.data_dir);
			return 1;
		}
		rc = fw_server_open(&so, &srv, &err);
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
