/* usage.c — `flywheel usage export`: usage per account, meter and billing
 * period for invoicing (docs/usage-export.md), from a data directory or a
 * running server (GET /api/v1/usage/export). */
#include "flywheel/cmd.h"
#include "flywheel/export.h"
#include "flywheel/json.h"
#include "flywheel/server.h"
#include "flywheel/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELP[] =
	"usage: flywheel usage export --from DAY --to DAY [--account ID] [--format json|csv]\n"
	"                             [--output FILE] [--data DIR | --url URL --key SECRET]\n"
	"                             [--config FILE]\n\n"
	"Usage for invoicing (docs/usage-export.md): one row per account, meter and billing\n"
	"period starting in [--from, --to), with the plan in force at the period's end, its\n"
	"limit and the overage; and one `seats` row per account and calendar month (its\n"
	"members). The same data always gives the same bytes.\n\n"
	"options:\n"
	"  --from DAY, --to DAY  periods starting on or after --from and before --to\n"
	"                        (YYYY-MM-DD, UTC; at most 400 days): --from 2026-01-01\n"
	"                        --to 2026-02-01 is January\n"
	"  --account ID          one account (its group id); default: every account\n"
	"  --format json|csv     json (default), or CSV with a header line (RFC 4180)\n"
	"  --output FILE         write to FILE instead of standard output\n"
	"  --data DIR            read a data directory (the server must not hold it)\n"
	"  --config FILE         the meters and plans to use; see docs/config.md\n"
	"  --url URL --key KEY   ask a running server (or $FLYWHEEL_URL, $FLYWHEEL_SECRET_KEY)\n\n"
	"examples:\n"
	"  flywheel usage export --from 2026-01-01 --to 2026-02-01 --format csv --output jan.csv\n"
	"  flywheel usage export --url http://127.0.0.1:8080 --key SECRET --from 2026-01-01 \\\n"
	"      --to 2026-04-01 --account acme\n";

static void add_query(struct fw_buf *b, const char *name, const char *v)
{
	fw_buf_printf(b, "&%s=", name);
	fw_cmd_url_escape(b, v);
}

/* Write `out` to path through a temporary file, so a reader never sees half. */
static int write_file(const char *path, const struct fw_buf *out, struct fw_err *err)
{
	struct fw_buf tmp = {0};
	fw_buf_printf(&tmp, "%s.tmp", path);
	FILE *f = fopen(tmp.data, "wb");
	int ok = f && fwrite(out->data, 1, out->len, f) == out->len;
	if (f && fclose(f))
		ok = 0;
	if (ok && rename(tmp.data, path))
		ok = 0;
	int rc = ok ? 0 : fw_error(err, FW_EIO, "cannot write %s: %s", path, strerror(errno));
	if (!ok)
		remove(tmp.data);
	fw_buf_release(&tmp);
	return rc;
}

static int usage_export(int argc, char **argv)
{
	const char *data = NULL, *url = getenv("FLYWHEEL_URL"), *key = getenv("FLYWHEEL_SECRET_KEY");
	const char *config = NULL, *from = NULL, *to = NULL, *account = NULL, *format = NULL;
	const char *output = NULL, *v;
	for (int i = 1; i < argc; i++) {
		if (fw_cmd_opt(argc, argv, &i, "--data", &v))
			data = v;
		else if (fw_cmd_opt(argc, argv, &i, "--url", &v))
			url = v;
		else if (fw_cmd_opt(argc, argv, &i, "--key", &v))
			key = v;
		else if (fw_cmd_opt(argc, argv, &i, "--config", &v))
			config = v;
		else if (fw_cmd_opt(argc, argv, &i, "--from", &v))
			from = v;
		else if (fw_cmd_opt(argc, argv, &i, "--to", &v))
			to = v;
		else if (fw_cmd_opt(argc, argv, &i, "--account", &v))
			account = v;
		else if (fw_cmd_opt(argc, argv, &i, "--format", &v))
			format = v;
		else if (fw_cmd_opt(argc, argv, &i, "--output", &v))
			output = v;
		else if (argv[i][0] == '-')
			return fprintf(stderr, "flywheel usage export: unknown option \"%s\"\n\n%s", argv[i], HELP), 2;
		else
			return fprintf(stderr, "flywheel usage export: unexpected argument \"%s\"\n", argv[i]), 2;
	}
	if (!from || !to)
		return fprintf(stderr, "flywheel usage export: give --from DAY and --to DAY (YYYY-MM-DD; "
				       "--to is the day after the last), e.g. --from 2026-01-01 --to 2026-02-01\n"), 2;
	struct fw_export_query q;
	struct fw_err err = {0};
	if (fw_export_query_parse(&q, from, to, account, format, fw_now_ms(), &err))
		return fprintf(stderr, "flywheel usage export: %s\n", err.msg), 2;

	struct fw_buf out = {0};
	int rc;
	if (url && !data) {
		struct fw_buf path = {0}, body = {0};
		fw_buf_adds(&path, "/api/v1/usage/export?format=");
		fw_buf_adds(&path, q.format == FW_EXPORT_CSV ? "csv" : "json");
		add_query(&path, "from", from);
		add_query(&path, "to", to);
		if (account && *account)
			add_query(&path, "account", account);
		int status = 0;
		rc = fw_cmd_http(url, key, path.data, NULL, &body, &status, &err);
		fw_buf_release(&path);
		if (!rc && status != 200) {
			/* the server's message, when it sent one */
			struct fw_arena a = {0};
			struct fw_json *j;
			struct fw_json_error je;
			struct fw_str msg = {0};
			if (body.len && !fw_json_parse(&a, body.data, body.len, &j, &je))
				msg = fw_json_get_str(j, "error");
			fprintf(stderr, "flywheel usage export: the server answered %d: %.*s\n", status,
				(int)(msg.len ? msg.len : body.len), msg.len ? msg.p : body.data ? body.data : "");
			fw_arena_release(&a);
			fw_buf_release(&body);
			return 1;
		}
		out = body;
	} else {
		struct fw_server *srv;
		rc = fw_cmd_open_data(data, config, &srv, &err);
		if (!rc) {
			rc = fw_usage_export(srv, &q, &out, &err);
			fw_server_close(srv);
		}
	}
	if (!rc && q.format == FW_EXPORT_JSON)
		fw_buf_addc(&out, '\n');
	if (!rc && output)
		rc = write_file(output, &out, &err);
	else if (!rc && out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = fw_error(&err, FW_EIO, "cannot write to standard output");
	fw_buf_release(&out);
	if (rc) {
		fprintf(stderr, "flywheel usage export: %s\n", err.msg);
		return 1;
	}
	return 0;
}

int fw_cmd_usage(int argc, char **argv)
{
	if (argc < 2 || (argv[1][0] == '-' && fw_cmd_wants_help(argc, argv))) {
		fputs(HELP, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "export"))
		return fprintf(stderr, "flywheel usage: unknown subcommand \"%s\" (there is: export)\n\n%s",
			       argv[1], HELP), 2;
	if (fw_cmd_wants_help(argc, argv)) {
		fputs(HELP, stdout);
		return 0;
	}
	return usage_export(argc - 1, argv + 1);
}
