/*
 * deliveries.c — the webhook API (docs/webhooks.md): list deliveries, show
 * one with its attempts, replay one, send a test webhook to a destination.
 * All behind the secret key; JSON answers; the outbox is in src/meta/outbox.c.
 */
#include "flywheel/api.h"
#include "flywheel/http.h"
#include "flywheel/json.h"
#include "flywheel/server.h"
#include "flywheel/timeutil.h"
#include "flywheel/webhook.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

static void answer(struct fw_resp *resp, int rc, struct fw_err *err)
{
	fw_api_answer(resp, rc, err, "invalid_request");
}

static void write_time(struct fw_buf *b, int64_t ms)
{
	if (!ms) {
		fw_buf_adds(b, "null");
		return;
	}
	char t[32];
	fw_time_format_iso(ms, t);
	fw_buf_printf(b, "\"%s\"", t);
}

static void write_opt(struct fw_buf *b, const char *s)
{
	if (s)
		fw_json_write_str(b, s, strlen(s));
	else
		fw_buf_adds(b, "null");
}

static void write_row(struct fw_buf *b, const struct fw_outbox_row *r)
{
	fw_buf_printf(b, "{\"id\":%" PRId64 ",\"webhook_id\":\"%s\",\"destination\":", r->id,
		      r->webhook_id);
	write_opt(b, r->destination);
	fw_buf_adds(b, ",\"type\":");
	write_opt(b, r->type);
	fw_buf_printf(b, ",\"status\":\"%s\",\"attempts\":%d,\"created\":",
		      fw_outbox_status_names[r->status], r->attempts);
	write_time(b, r->created_ms);
	fw_buf_adds(b, ",\"next_at\":");
	write_time(b, r->status == FW_OUTBOX_PENDING ? r->next_at_ms : 0);
	fw_buf_printf(b, ",\"last_status\":%d,\"last_error\":", r->last_status);
	write_opt(b, r->last_error);
	fw_buf_adds(b, ",\"delivered_at\":");
	write_time(b, r->delivered_ms);
}

/* A path segment as a delivery: its number, or its webhook id (msg_...). */
static int parse_id(struct fw_req *req, struct fw_str s, int64_t *id, struct fw_err *err)
{
	char buf[64];
	if (!s.len || s.len >= sizeof buf)
		return fw_error(err, FW_EINVAL,
				"give a delivery id: the number from GET /api/v1/deliveries, or the "
				"webhook id (msg_...)");
	memcpy(buf, s.p, s.len);
	buf[s.len] = 0;
	if (!strncmp(buf, "msg_", 4))
		return fw_outbox_lookup(req->srv->rules, buf, id, err);
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (*end || errno || v <= 0 || buf[0] == '+' || buf[0] == ' ')
		return fw_error(err, FW_EINVAL,
				"\"%s\" is not a delivery id: give the number from GET "
				"/api/v1/deliveries, or the webhook id (msg_...)",
				buf);
	*id = v;
	return 0;
}

/* A positive integer query parameter, or dflt when absent. */
static int int_arg(struct fw_req *req, const char *name, int64_t dflt, int64_t max, int64_t *out,
		   struct fw_err *err)
{
	const char *v = fw_req_query(req, name);
	*out = dflt;
	if (!v)
		return 0;
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (!*v || *end || errno || n < 1 || n > max)
		return fw_error(err, FW_EINVAL, "%s=\"%.40s\" must be a whole number from 1 to %lld",
				name, v, (long long)max);
	*out = n;
	return 0;
}

static void h_list(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_err err = {0};
	struct fw_outbox_filter f = {.status = -1, .destination = fw_req_query(req, "destination")};
	const char *status = fw_req_query(req, "status");
	int64_t limit = 50, before = 0;
	int rc = 0;
	if (status && *status && (f.status = fw_outbox_status_parse(status)) < 0)
		rc = fw_error(&err, FW_EINVAL, "status=\"%.40s\" is not a status: use pending, delivered or dead",
			      status);
	if (!rc)
		rc = int_arg(req, "limit", 50, 1000, &limit, &err);
	if (!rc)
		rc = int_arg(req, "before", 0, INT64_MAX, &before, &err);
	if (f.destination && !*f.destination)
		f.destination = NULL;
	f.limit = (size_t)limit;
	f.before = before;
	struct fw_outbox_row *rows = NULL;
	size_t n = 0;
	int64_t counts[FW_OUTBOX_NSTATUS];
	if (!rc)
		rc = fw_outbox_list(req->srv->rules, &f, req->arena, &rows, &n, &err);
	if (!rc)
		rc = fw_outbox_counts(req->srv->rules, f.destination, counts, &err);
	if (rc) {
		answer(resp, rc, &err);
		return;
	}
	struct fw_buf *b = &resp->body;
	fw_buf_adds(b, "{\"deliveries\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			fw_buf_addc(b, ',');
		write_row(b, &rows[i]);
		fw_buf_addc(b, '}');
	}
	fw_buf_adds(b, "],\"counts\":{");
	for (int i = 0; i < FW_OUTBOX_NSTATUS; i++)
		fw_buf_printf(b, "%s\"%s\":%" PRId64, i ? "," : "", fw_outbox_status_names[i], counts[i]);
	fw_buf_adds(b, "},\"next_before\":");
	if (n == f.limit && n)
		fw_buf_printf(b, "%" PRId64 "}", rows[n - 1].id);
	else
		fw_buf_adds(b, "null}");
}

static void h_show(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_err err = {0};
	int64_t id;
	struct fw_outbox_row row;
	struct fw_outbox_attempt *atts;
	size_t natts;
	int rc = parse_id(req, req->tail, &id, &err);
	if (!rc)
		rc = fw_outbox_get(req->srv->rules, id, req->arena, &row, &atts, &natts, &err);
	if (rc) {
		answer(resp, rc, &err);
		return;
	}
	struct fw_buf *b = &resp->body;
	write_row(b, &row);
	fw_buf_adds(b, ",\"body\":");
	fw_buf_adds(b, row.body && *row.body ? row.body : "null"); /* JSON we wrote when queueing */
	fw_buf_adds(b, ",\"attempt_log\":[");
	for (size_t i = 0; i < natts; i++) {
		fw_buf_printf(b, "%s{\"attempt\":%d,\"at\":", i ? "," : "", atts[i].attempt);
		write_time(b, atts[i].at_ms);
		fw_buf_printf(b, ",\"http_status\":%d,\"error\":", atts[i].http_status);
		write_opt(b, atts[i].error);
		fw_buf_printf(b, ",\"duration_ms\":%" PRId64 "}", atts[i].duration_ms);
	}
	fw_buf_adds(b, "]}");
}

/* Split "ID/ACTION" (or "NAME/ACTION"); 0 when the tail has no such form. */
static int split_action(struct fw_str tail, const char *action, struct fw_str *head)
{
	size_t an = strlen(action);
	if (tail.len < an + 2 || memcmp(tail.p + tail.len - an, action, an) != 0 ||
	    tail.p[tail.len - an - 1] != '/')
		return 0;
	*head = (struct fw_str){tail.p, (uint32_t)(tail.len - an - 1)};
	return 1;
}

static void h_replay(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_str head;
	if (!split_action(req->tail, "replay", &head)) {
		fw_resp_error(resp, 404, "not_found",
			      "no such route: POST %.200s (to send a delivery again: POST "
			      "/api/v1/deliveries/ID/replay)",
			      req->path);
		return;
	}
	struct fw_err err = {0};
	int64_t id;
	int rc = parse_id(req, head, &id, &err);
	if (rc) {
		answer(resp, rc, &err);
		return;
	}
	rc = fw_outbox_replay(req->srv->rules, id, fw_now_ms(), &err);
	if (rc == FW_EINVAL) { /* the one EINVAL of a replay: pending already */
		fw_resp_error(resp, 409, "already_pending", "%s", err.msg);
		return;
	}
	if (rc) {
		answer(resp, rc, &err);
		return;
	}
	fw_webhooks_kick(req->srv->webhooks);
	struct fw_outbox_row row;
	struct fw_outbox_attempt *atts;
	size_t natts;
	if ((rc = fw_outbox_get(req->srv->rules, id, req->arena, &row, &atts, &natts, &err))) {
		answer(resp, rc, &err);
		return;
	}
	write_row(&resp->body, &row);
	fw_buf_addc(&resp->body, '}');
}

static void h_test(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_str head;
	if (!split_action(req->tail, "test", &head) || memchr(head.p, '/', head.len)) {
		fw_resp_error(resp, 404, "not_found",
			      "no such route: POST %.200s (to send a test webhook: POST "
			      "/api/v1/destinations/NAME/test)",
			      req->path);
		return;
	}
	char *name = fw_arena_strndup(req->arena, head.p, head.len);
	struct fw_err err = {0};
	int64_t id = 0;
	char wid[FW_WEBHOOK_ID_LEN + 2] = "";
	int rc = fw_outbox_send_test(req->srv->rules, &req->srv->cfg, name, fw_now_ms(), &id, wid, &err);
	if (rc) {
		answer(resp, rc, &err);
		return;
	}
	fw_webhooks_kick(req->srv->webhooks);
	fw_buf_printf(&resp->body, "{\"id\":%" PRId64 ",\"webhook_id\":\"%s\",\"destination\":", id, wid);
	fw_json_write_str(&resp->body, name, strlen(name));
	fw_buf_adds(&resp->body, ",\"type\":\"webhook.test\",\"status\":\"pending\"}");
}

const struct fw_route fw_delivery_routes[] = {
	{"GET", "/api/v1/deliveries", 0, h_list, 0,
	 "webhook deliveries, newest first: ?status=pending|delivered|dead&destination=&limit=&before="},
	{"GET", "/api/v1/deliveries/", 1, h_show, 0, "one delivery (id or webhook id) with its body and attempts"},
	{"POST", "/api/v1/deliveries/", 1, h_replay, 1024, "POST .../ID/replay: send a delivered or dead webhook again"},
	{"POST", "/api/v1/destinations/", 1, h_test, 1024, "POST .../NAME/test: queue a webhook.test for that destination"},
};
const size_t fw_ndelivery_routes = FW_ARRAY_LEN(fw_delivery_routes);
