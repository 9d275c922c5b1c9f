/*
 * cmd.h — subcommands. Each is one entry in src/main.c's table and one file in
 * src/cmd/. Only these functions print to the terminal and choose exit codes.
 */
#ifndef FLYWHEEL_CMD_H
#define FLYWHEEL_CMD_H

#include "flywheel/base.h"

int fw_cmd_serve(int argc, char **argv);
int fw_cmd_import(int argc, char **argv);
int fw_cmd_query(int argc, char **argv);
int fw_cmd_check(int argc, char **argv);
int fw_cmd_demo(int argc, char **argv);
int fw_cmd_report(int argc, char **argv);
int fw_cmd_webhooks(int argc, char **argv);
int fw_cmd_usage(int argc, char **argv);

/* `flywheel query pqls|score|at-risk|expansion` (src/cmd/query_leads.c). */
int fw_cmd_query_leads(int argc, char **argv, const char *kind);

/* Shared option helpers for src/cmd/. */
int fw_cmd_wants_help(int argc, char **argv);
/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i. */
int fw_cmd_opt(int argc, char **argv, int *i, const char *name, const char **value);
/* The data directory: --data, else FLYWHEEL_DATA, else ./flywheel-data. */
const char *fw_cmd_default_data(void);
/* Open an existing data directory (data, else the default) for the local
 * mode of query and report: FW_ENOTFOUND with a message naming --data and
 * --url when there is none. */
struct fw_server;
int fw_cmd_open_data(const char *data, const char *config, struct fw_server **out,
		     struct fw_err *err);
/* Append `s` percent-encoded for a URL's query (RFC 3986 unreserved kept). */
void fw_cmd_url_escape(struct fw_buf *b, const char *s);
/* A request to a running server for --url (HTTP/1.1, Connection: close, bearer
 * key): GET, or a JSON POST when `post` is not NULL. Fills body and status. */
int fw_cmd_http(const char *url, const char *key, const char *path, const struct fw_buf *post,
		struct fw_buf *body, int *status, struct fw_err *err);

#endif
