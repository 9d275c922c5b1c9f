/*
 * http.c — libmicrohttpd glue: accumulate each request body under its route's
 * limit, then call the route's handler with one request/response shape.
 * Thread-per-connection: a handler may block (group commit) without stalling
 * other connections.
 */
#include "flywheel/http.h"
#include "flywheel/json.h"
#include "flywheel/timeutil.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct fw_http {
	struct MHD_Daemon *d;
	const struct fw_route *routes;
	size_t nroutes;
	struct fw_server *srv;
	struct fw_http_options opt;
	atomic_size_t buffered;
	int port;
};

struct conn_ctx {
	struct fw_req req;
	struct fw_arena arena;
	struct fw_buf body;
	int64_t start_ns;
	int early_status; /* respond with this before reading the body */
	const char *early_reason;
	char early_msg[256];
	size_t counted; /* bytes charged to h->buffered */
};

const char *fw_req_header(struct fw_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *fw_req_query(struct fw_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void fw_resp_error(struct fw_resp *resp, int status, const char *reason, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	resp->status = status;
	resp->content_type = "application/json";
	fw_buf_reset(&resp->body);
	fw_buf_printf(&resp->body, "{\"code\":%d,\"error\":", status);
	/* escape the message */
	struct fw_buf tmp = {0};
	fw_json_write_str(&tmp, msg, strlen(msg));
	fw_buf_add(&resp->body, tmp.data, tmp.len);
	fw_buf_release(&tmp);
	fw_buf_printf(&resp->body, ",\"reason\":\"%s\"}", reason);
	if ((status == 429 || status == 503) && !resp->retry_after)
		resp->retry_after = status == 429 ? 1 : 5;
}

static const struct fw_route *find_route(struct fw_http *h, const char *method, const char *path,
					 int *method_ok)
{
	*method_ok = 0;
	const struct fw_route *hit = NULL;
	for (size_t i = 0; i < h->nroutes; i++) {
		const struct fw_route *r = &h->routes[i];
		size_t n = strlen(r->path);
		int match = r->prefix ? strncmp(path, r->path, n) == 0 && path[n] : strcmp(path, r->path) == 0;
		if (!match)
			continue;
		hit = r;
		if (r->method ? strcmp(r->method, method) == 0
			      : (strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0)) {
			*method_ok = 1;
			return r;
		}
	}
	return hit;
}

void fw_resp_header(struct fw_resp *resp, const char *name, const char *value)
{
	if (resp->nheaders < (int)FW_ARRAY_LEN(resp->headers)) {
		resp->headers[resp->nheaders].name = name;
		resp->headers[resp->nheaders].value = value;
		resp->nheaders++;
	}
}

static enum MHD_Result respond(struct MHD_Connection *c, struct fw_resp *resp)
{
	struct MHD_Response *r =
		resp->static_body
			? MHD_create_response_from_buffer(resp->static_len, (void *)resp->static_body,
							  MHD_RESPMEM_PERSISTENT)
			: MHD_create_response_from_buffer(resp->body.len, resp->body.data ? resp->body.data : "",
							  MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", resp->content_type ? resp->content_type : "application/json");
	for (int i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	if (resp->retry_after) {
		char v[16];
		snprintf(v, sizeof v, "%d", resp->retry_after);
		MHD_add_response_header(r, "Retry-After", v);
	}
	enum MHD_Result rc = MHD_queue_response(c, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *reason,
				  const char *msg)
{
	struct fw_resp resp = {0};
	fw_resp_error(&resp, status, reason, "%s", msg);
	enum MHD_Result rc = respond(c, &resp);
	fw_buf_release(&resp.body);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct fw_http *h = cls;
	struct conn_ctx *x = *con_cls;
	if (!x) {
		x = fw_xcalloc(1, sizeof *x);
		*con_cls = x;
		x->start_ns = fw_mono_ns();
		x->req.srv = h->srv;
		x->req.conn = c;
		x->req.method = method;
		x->req.path = url;
		x->req.arena = &x->arena;
		x->req.received_ms = fw_now_ms();
		int method_ok;
		const struct fw_route *r = find_route(h, method, url, &method_ok);
		x->req.route = r;
		if (!r) {
			x->early_status = 404;
			x->early_reason = "not_found";
			snprintf(x->early_msg, sizeof x->early_msg,
				 "no such route: %s %.200s (see docs/api.md for the routes)", method, url);
		} else if (!method_ok) {
			x->early_status = 405;
			x->early_reason = "method_not_allowed";
			snprintf(x->early_msg, sizeof x->early_msg, "%s is not allowed on %.200s", method, url);
		} else {
			const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
			if (r->prefix)
				x->req.tail = fw_str_c(url + strlen(r->path));
			if (cl && strtoull(cl, NULL, 10) > r->max_body) {
				x->early_status = 413;
				x->early_reason = "too_large";
				snprintf(x->early_msg, sizeof x->early_msg,
					 "request body of %s bytes is over this route's limit of %zu bytes",
					 cl, r->max_body);
			}
		}
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (x->early_status || x->req.body_too_large)
			return MHD_YES; /* discard */
		if (h->opt.body_deadline_s &&
		    fw_mono_ns() - x->start_ns > (int64_t)h->opt.body_deadline_s * 1000000000LL) {
			x->early_status = 408;
			x->early_reason = "timeout";
			snprintf(x->early_msg, sizeof x->early_msg,
				 "the request body took longer than %d s to arrive", h->opt.body_deadline_s);
			return MHD_YES;
		}
		if (x->body.len + n > x->req.route->max_body) {
			x->req.body_too_large = 1;
			fw_buf_release(&x->body);
			atomic_fetch_sub(&h->buffered, x->counted);
			x->counted = 0;
			return MHD_YES;
		}
		if (atomic_fetch_add(&h->buffered, n) + n > h->opt.max_buffered) {
			atomic_fetch_sub(&h->buffered, n);
			x->early_status = 429;
			x->early_reason = "overloaded";
			snprintf(x->early_msg, sizeof x->early_msg,
				 "the server is holding too many request bodies; retry shortly");
			return MHD_YES;
		}
		x->counted += n;
		fw_buf_add(&x->body, upload, n);
		return MHD_YES;
	}
	/* the whole request has arrived */
	if (x->early_status)
		return send_error(c, x->early_status, x->early_reason, x->early_msg);
	x->req.body = x->body.data ? x->body.data : "";
	x->req.body_len = x->body.len;
	struct fw_resp resp = {.status = 200};
	x->req.route->fn(&x->req, &resp);
	enum MHD_Result rc = respond(c, &resp);
	fw_buf_release(&resp.body);
	return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct fw_http *h = cls;
	struct conn_ctx *x = *con_cls;
	if (!x)
		return;
	atomic_fetch_sub(&h->buffered, x->counted);
	fw_buf_release(&x->body);
	fw_arena_release(&x->arena);
	free(x);
	*con_cls = NULL;
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fprintf(stderr, "flywheel: http: ");
	vfprintf(stderr, fmt, ap);
}

int fw_http_start(const struct fw_http_options *opt, const struct fw_route *routes, size_t nroutes,
		  struct fw_server *srv, struct fw_http **out, struct fw_err *err)
{
	struct fw_http *h = fw_xcalloc(1, sizeof *h);
	h->routes = routes;
	h->nroutes = nroutes;
	h->srv = srv;
	h->opt = *opt;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt->port)};
	if (inet_pton(AF_INET, opt->host, &sa.sin_addr) != 1) {
		free(h);
		return fw_error(err, FW_EINVAL, "cannot listen on \"%s\": give an IPv4 address such as 127.0.0.1",
				opt->host);
	}
	h->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
					MHD_USE_POLL | MHD_USE_ERROR_LOG,
				(uint16_t)opt->port, NULL, NULL, on_request, h,
				MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)opt->timeout_s,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)opt->max_connections,
				MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
				MHD_OPTION_END);
	if (!h->d) {
		free(h);
		return fw_error(err, FW_EIO,
				"cannot listen on %s:%d (is another process using the port? try --listen "
				"127.0.0.1:8081)",
				opt->host, opt->port);
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : opt->port;
	*out = h;
	return 0;
}

int fw_http_port(struct fw_http *h)
{
	return h->port;
}

void fw_http_stop(struct fw_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
