/*
 * http.h — the HTTP layer: one request/response shape for every handler,
 * a route table, and the server built on libmicrohttpd.
 *
 * Why libmicrohttpd: a well-kept Debian library that does HTTP/1.1 framing
 * (keep-alive, Content-Length and chunked bodies, pipelining) correctly, with
 * thread-per-connection mode, so a handler may block while its events are
 * group-committed without an event-loop state machine. Parsing event bodies,
 * where the time goes, is ours (json.c). docs/design.md has the measurements.
 */
#ifndef FLYWHEEL_HTTP_H
#define FLYWHEEL_HTTP_H

#include "flywheel/base.h"

struct fw_server;
struct MHD_Connection;

struct fw_req {
	struct fw_server *srv;
	struct MHD_Connection *conn;
	const char *method; /* "GET", "POST", … */
	const char *path;   /* without the query string */
	struct fw_str tail; /* path after the route's prefix, for /people/{id} routes */
	const char *body;   /* raw body as received (not decompressed) */
	size_t body_len;
	int body_too_large; /* the body passed the route's raw limit and was dropped */
	struct fw_arena *arena;
	int64_t received_ms;
	const struct fw_route *route;
};

struct fw_resp {
	int status;
	const char *content_type; /* default application/json */
	struct fw_buf body;
	int retry_after;          /* seconds; 0 = no header */
	/* A body sent as is instead of `body`, not copied: it must outlive the
	 * server (the dashboard's assets, built into the binary). */
	const void *static_body;
	size_t static_len;
	/* Further headers (ETag, Cache-Control, …); name and value must outlive
	 * the handler: string literals, static data or req->arena. */
	struct {
		const char *name, *value;
	} headers[8];
	int nheaders;
};

/* Add a response header (fw_resp.headers); beyond 8 it is dropped. */
void fw_resp_header(struct fw_resp *resp, const char *name, const char *value);

typedef void (*fw_handler)(struct fw_req *req, struct fw_resp *resp);

struct fw_route {
	const char *method; /* NULL = GET and POST */
	const char *path;   /* exact path, or a prefix ending in '/' when `prefix` */
	int prefix;
	fw_handler fn;
	size_t max_body;    /* raw (on-the-wire) body limit in bytes */
	const char *doc;    /* one line for docs and --help */
};

/* Header / query lookup; NULL if absent. */
const char *fw_req_header(struct fw_req *req, const char *name);
const char *fw_req_query(struct fw_req *req, const char *name);

/* A JSON error body: {"code":status,"error":msg,"reason":reason}. */
void fw_resp_error(struct fw_resp *resp, int status, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct fw_http_options {
	const char *host;
	int port;
	int timeout_s;        /* idle timeout while reading headers or body */
	int body_deadline_s;  /* a whole request body must arrive within this */
	int max_connections;
	size_t max_buffered;  /* bytes of request bodies held at once (429 beyond) */
};

struct fw_http;
int fw_http_start(const struct fw_http_options *opt, const struct fw_route *routes, size_t nroutes,
		  struct fw_server *srv, struct fw_http **out, struct fw_err *err);
int fw_http_port(struct fw_http *h); /* the bound port (useful with port 0) */
void fw_http_stop(struct fw_http *h);

#endif
