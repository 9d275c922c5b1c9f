/* serve.c — `flywheel serve`: the ingest server and read API. */
#include "flywheel/cmd.h"
#include "flywheel/http.h"
#include "flywheel/server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char HELP[] =
	"usage: flywheel serve [--data DIR] [--listen HOST:PORT] [--config FILE]\n"
	"                      [--timeout SECONDS] [--min-free-mb N]\n\n"
	"Run the ingest server (Segment, RudderStack, PostHog, Mixpanel and Amplitude\n"
	"routes), the read API and the web dashboard (at /, log in with the secret key).\n"
	"A 2xx answer means the events are fsync'd to disk.\n\n"
	"  --data DIR          data directory (default ./flywheel-data, or $FLYWHEEL_DATA)\n"
	"  --listen HOST:PORT  address to listen on (default 127.0.0.1:8080; port 0 = any)\n"
	"  --config FILE       configuration (default DIR/flywheel.yaml, then ./flywheel.yaml)\n"
	"  --timeout SECONDS   drop connections idle this long while sending a request (30)\n"
	"  --min-free-mb N     answer 503 instead of writing when the disk has less free (64)\n\n"
	"Keys: FLYWHEEL_WRITE_KEY and FLYWHEEL_SECRET_KEY (comma-separated lists allowed);\n"
	"without them a key pair is created on first start, stored and printed.\n"
	"Routes and answers: docs/api.md.\n";

static volatile sig_atomic_t stopping;
static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void notice(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "flywheel: %s\n", msg);
}

int fw_cmd_serve(int argc, char **argv)
{
	if (fw_cmd_wants_help(argc, argv)) {
		fputs(HELP, stdout);
		return 0;
	}
	const char *data = fw_cmd_default_data(), *listen = NULL, *config = NULL, *v;
	int timeout = 0;
	long min_free_mb = -1;
	for (int i = 1; i < argc; i++) {
		if (fw_cmd_opt(argc, argv, &i, "--data", &v))
			data = v;
		else if (fw_cmd_opt(argc, argv, &i, "--listen", &v))
			listen = v;
		else if (fw_cmd_opt(argc, argv, &i, "--config", &v))
			config = v;
		else if (fw_cmd_opt(argc, argv, &i, "--timeout", &v))
			timeout = atoi(v);
		else if (fw_cmd_opt(argc, argv, &i, "--min-free-mb", &v))
			min_free_mb = atol(v);
		else {
			fprintf(stderr, "flywheel serve: unknown option \"%s\"\n\n%s", argv[i], HELP);
			return 2;
		}
	}
	/* the config (read by fw_server_open) supplies what the flags leave unset */
	struct fw_err err = {0};
	struct fw_server *srv;
	struct fw_server_options so = {
		.data_dir = data,
		.config_path = config,
		.min_free_bytes = min_free_mb < 0 ? FW_MIN_FREE_FROM_CONFIG : (uint64_t)min_free_mb << 20,
		.apply_in_background = 1,
		.run_rules = 1,
		.notice = notice,
	};
	if (fw_server_open(&so, &srv, &err)) {
		fprintf(stderr, "flywheel serve: %s\n", err.msg);
		return 1;
	}
	if (!listen)
		listen = srv->cfg.listen;
	if (!timeout)
		timeout = srv->cfg.timeout_s;
	char host[256];
	int port;
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host ||
	    (port = atoi(colon + 1)) < 0 || port > 65535) {
		fprintf(stderr, "flywheel serve: --listen wants HOST:PORT, e.g. 127.0.0.1:8080\n");
		fw_server_close(srv);
		return 2;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = 0;
	if (timeout < 1)
		timeout = 1;

	int created;
	if (fw_server_load_keys(srv, &created, &err)) {
		fprintf(stderr, "flywheel serve: %s\n", err.msg);
		fw_server_close(srv);
		return 1;
	}
	const struct {
		const struct fw_route *r;
		size_t n;
	} tables[] = {{fw_ingest_routes, fw_ningest_routes},     {fw_api_routes, fw_napi_routes},
		      {fw_dashboard_routes, fw_ndashboard_routes}, {fw_leads_routes, fw_nleads_routes},
		      {fw_delivery_routes, fw_ndelivery_routes}, {fw_export_routes, fw_nexport_routes},
		      {fw_billing_routes, fw_nbilling_routes}};
	size_t nroutes = 0;
	for (size_t i = 0; i < FW_ARRAY_LEN(tables); i++)
		nroutes += tables[i].n;
	struct fw_route *routes = malloc(nroutes * sizeof *routes);
	for (size_t i = 0, k = 0; i < FW_ARRAY_LEN(tables); k += tables[i++].n)
		memcpy(routes + k, tables[i].r, tables[i].n * sizeof *routes);
	struct fw_http_options ho = {
		.host = host,
		.port = port,
		.timeout_s = timeout,
		.body_deadline_s = timeout * 2,
		.max_connections = 1000,
		.max_buffered = 1024u << 20,
	};
	struct fw_http *http;
	if (fw_http_start(&ho, routes, nroutes, srv, &http, &err)) {
		fprintf(stderr, "flywheel serve: %s\n", err.msg);
		fw_server_close(srv);
		free(routes);
		return 1;
	}
	struct fw_store_stats st;
	fw_store_stats(srv->store, &st);
	if (created)
		fprintf(stderr,
			"flywheel: created keys (stored in %s/meta.db)\n"
			"  write key:  %s   (SDKs send events with it)\n"
			"  secret key: %s   (read API: Authorization: Bearer KEY)\n",
			data, srv->write_keys[0], srv->secret_keys[0]);
	fprintf(stderr, "flywheel: %llu records in %s\n", (unsigned long long)st.records, data);
	fprintf(stderr, "flywheel: dashboard on http://%s:%d/ (log in with the secret key)\n", host,
		fw_http_port(http));
	fprintf(stderr, "flywheel: listening on http://%s:%d\n", host, fw_http_port(http));

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stopping)
		pause();
	fprintf(stderr, "flywheel: stopping\n");
	fw_http_stop(http);
	fw_server_close(srv);
	free(routes);
	return 0;
}
