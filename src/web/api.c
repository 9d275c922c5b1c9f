/* api.c — the read API (docs/api.md): JSON answers and their HTTP handlers. */
#include "flywheel/api.h"
#include "flywheel/http.h"
#include "flywheel/json.h"
#include "flywheel/metrics.h"
#include "flywheel/query.h"
#include "flywheel/timeutil.h"

#include <stdio.h>
#include <stdlib.h>

int fw_api_range(const char *from, const char *to, int64_t *from_ms, int64_t *to_ms,
		 struct fw_err *err)
{
	*from_ms = 0;
	*to_ms = 0;
	if ((!from || !*from) && (!to || !*to))
		return 0;
	*from_ms = INT64_MIN / 2;
	*to_ms = INT64_MAX / 2;
	if (from && *from && fw_time_parse_iso(from, strlen(from), from_ms))
		return fw_error(err, FW_EINVAL, "from=\"%.40s\" is not a date: use YYYY-MM-DD", from);
	if (to && *to && fw_time_parse_iso(to, strlen(to), to_ms))
		return fw_error(err, FW_EINVAL, "to=\"%.40s\" is not a date: use YYYY-MM-DD", to);
	if (*to_ms < *from_ms)
		return fw_error(err, FW_EINVAL, "the range is empty: to (%s) is before from (%s)", to, from);
	return 0;
}

static void write_opt_str(struct fw_buf *b, struct fw_str s)
{
	if (s.len)
		fw_json_write_str(b, s.p, s.len);
	else
		fw_buf_adds(b, "null");
}

static void write_obj(struct fw_buf *b, struct fw_str s)
{
	if (s.len)
		fw_buf_add(b, s.p, s.len);
	else
		fw_buf_adds(b, "{}");
}

void fw_api_event_json(struct fw_buf *b, const struct fw_event *e)
{
	char t[32], r[32];
	fw_time_format_iso(e->time_ms, t);
	fw_time_format_iso(e->received_ms, r);
	fw_buf_printf(b, "{\"time\":\"%s\",\"received_at\":\"%s\",\"message_id\":", t, r);
	write_opt_str(b, e->message_id);
	fw_buf_printf(b, ",\"type\":\"%s\",\"source\":\"%s\",\"event\":", fw_msg_type_name(e->type),
		      fw_source_name(e->source));
	write_opt_str(b, e->event);
	fw_buf_adds(b, ",\"user_id\":");
	write_opt_str(b, e->user_id);
	fw_buf_adds(b, ",\"anonymous_id\":");
	write_opt_str(b, e->anonymous_id);
	fw_buf_adds(b, ",\"account\":");
	write_opt_str(b, e->group_id);
	if (e->previous_id.len) {
		fw_buf_adds(b, ",\"previous_id\":");
		write_opt_str(b, e->previous_id);
	}
	fw_buf_adds(b, ",\"properties\":");
	write_obj(b, e->properties);
	if (e->traits.len) {
		fw_buf_adds(b, ",\"traits\":");
		write_obj(b, e->traits);
	}
	fw_buf_adds(b, ",\"context\":");
	write_obj(b, e->context);
	fw_buf_addc(b, '}');
}

struct count_ctx {
	struct fw_buf *out;
	uint64_t total;
	int first;
};

static void count_cb(void *ctx, struct fw_str key, uint64_t n)
{
	struct count_ctx *c = ctx;
	if (!c->first)
		fw_buf_addc(c->out, ',');
	c->first = 0;
	fw_json_write_str(c->out, key.p, key.len);
	fw_buf_printf(c->out, ":%llu", (unsigned long long)n);
	c->total += n;
}

int fw_api_events_count(struct fw_server *s, int64_t from, int64_t to, struct fw_buf *out)
{
	struct fw_buf events = {0};
	struct count_ctx c = {.out = &events, .first = 1};
	fw_store_count_by_name(s->store, from, to, count_cb, &c);
	fw_buf_printf(out, "{\"total\":%llu,\"events\":{", (unsigned long long)c.total);
	fw_buf_add(out, events.data, events.len);
	fw_buf_adds(out, "}}");
	fw_buf_release(&events);
	return 0;
}

static void day_cb(void *ctx, struct fw_str key, uint64_t n)
{
	struct count_ctx *c = ctx;
	fw_buf_printf(c->out, "%s{\"day\":\"%.*s\",\"count\":%llu}", c->first ? "" : ",", (int)key.len,
		      key.p, (unsigned long long)n);
	c->first = 0;
	c->total += n;
}

int fw_api_events_daily(struct fw_server *s, int64_t from, int64_t to, const char *event,
			struct fw_buf *out)
{
	fw_buf_adds(out, "{\"event\":");
	if (event && *event)
		fw_json_write_str(out, event, strlen(event));
	else
		fw_buf_adds(out, "null");
	fw_buf_adds(out, ",\"days\":[");
	struct count_ctx c = {.out = out, .first = 1};
	fw_store_count_by_day(s->store, from, to, fw_str_c(event), day_cb, &c);
	fw_buf_printf(out, "],\"total\":%llu}", (unsigned long long)c.total);
	return 0;
}

struct list_ctx {
	struct fw_buf *out;
	int first;
	uint64_t n;
	int64_t first_ms, last_ms;
};

static int list_cb(void *ctx, uint64_t seq, const struct fw_event *e)
{
	struct list_ctx *c = ctx;
	if (!c->first)
		fw_buf_addc(c->out, ',');
	c->first = 0;
	fw_api_event_json(c->out, e);
	return 0;
}

#define ACTIVITY ((1u << FW_MSG_TRACK) | (1u << FW_MSG_PAGE) | (1u << FW_MSG_SCREEN))

int fw_api_events_latest(struct fw_server *s, size_t limit, struct fw_buf *out, struct fw_err *err)
{
	fw_buf_adds(out, "{\"events\":[");
	struct list_ctx c = {.out = out, .first = 1};
	struct fw_scan q = {.newest_first = 1, .limit = limit, .type_mask = ACTIVITY};
	int rc = fw_store_scan(s->store, &q, list_cb, &c, err);
	fw_buf_adds(out, "]}");
	return rc;
}

static int stat_cb(void *ctx, uint64_t seq, const struct fw_event *e)
{
	struct list_ctx *c = ctx;
	if (!c->n || e->time_ms < c->first_ms)
		c->first_ms = e->time_ms;
	if (!c->n || e->time_ms > c->last_ms)
		c->last_ms = e->time_ms;
	c->n++;
	return 0;
}

static void write_time(struct fw_buf *b, uint64_t n, int64_t ms)
{
	if (!n) {
		fw_buf_adds(b, "null");
		return;
	}
	char t[32];
	fw_time_format_iso(ms, t);
	fw_buf_printf(b, "\"%s\"", t);
}

int fw_api_person(struct fw_server *s, struct fw_str distinct_id, struct fw_buf *out,
		  struct fw_err *err)
{
	int rc = fw_server_catch_up(s, err);
	if (rc)
		return rc;
	struct fw_arena a = {0};
	struct fw_str *ids = NULL;
	size_t nids = 0;
	fw_buf_addc(out, '{');
	rc = fw_meta_person(s->meta, distinct_id, &a, &ids, &nids, out);
	if (rc == FW_ENOTFOUND) {
		/* an id seen only on plain events is a person of its own */
		struct list_ctx probe = {0};
		struct fw_scan pq = {.distinct_ids = &distinct_id, .ndistinct = 1, .limit = 1};
		if (fw_store_scan(s->store, &pq, stat_cb, &probe, err) == 0 && probe.n) {
			rc = 0;
			ids = &distinct_id;
			nids = 1;
			fw_buf_adds(out, "\"id\":null,\"user_id\":null,\"identified\":false,\"distinct_ids\":[");
			fw_json_write_str(out, distinct_id.p, distinct_id.len);
			fw_buf_adds(out, "],\"traits\":{},\"accounts\":[]");
		}
	}
	if (rc == FW_ENOTFOUND) {
		fw_arena_release(&a);
		return fw_error(err, FW_ENOTFOUND, "no person has the id \"%.*s\"",
				(int)(distinct_id.len > 200 ? 200 : distinct_id.len), distinct_id.p);
	}
	/* event count, first and last seen: from the store, over all the ids */
	struct list_ctx st = {0};
	struct fw_scan q = {.distinct_ids = ids, .ndistinct = nids, .type_mask = ACTIVITY};
	rc = fw_store_scan(s->store, &q, stat_cb, &st, err);
	fw_buf_printf(out, ",\"event_count\":%llu,\"first_seen\":", (unsigned long long)st.n);
	write_time(out, st.n, st.first_ms);
	fw_buf_adds(out, ",\"last_seen\":");
	write_time(out, st.n, st.last_ms);
	fw_buf_adds(out, ",\"latest_events\":[");
	struct list_ctx c = {.out = out, .first = 1};
	q.newest_first = 1;
	q.limit = 20;
	if (!rc)
		rc = fw_store_scan(s->store, &q, list_cb, &c, err);
	fw_buf_adds(out, "]}");
	fw_arena_release(&a);
	return rc;
}

int fw_api_account(struct fw_server *s, struct fw_str group_id, struct fw_buf *out,
		   struct fw_err *err)
{
	int rc = fw_server_catch_up(s, err);
	if (rc)
		return rc;
	rc = fw_meta_account(s->meta, group_id, out);
	if (rc == FW_ENOTFOUND)
		return fw_error(err, FW_ENOTFOUND, "no account has the id \"%.*s\"",
				(int)(group_id.len > 200 ? 200 : group_id.len), group_id.p);
	return rc;
}

int fw_api_warnings(struct fw_server *s, size_t limit, struct fw_buf *out, struct fw_err *err)
{
	int rc = fw_server_catch_up(s, err);
	if (rc)
		return rc;
	return fw_meta_warnings_json(s->meta, limit, out);
}

int fw_api_metrics(struct fw_server *s, int64_t from, int64_t to, struct fw_buf *out,
		   struct fw_err *err)
{
	if (!from && !to) {
		to = fw_day_floor(fw_now_ms()) + FW_MS_PER_DAY;
		from = to - 30 * FW_MS_PER_DAY;
	}
	if (from != fw_day_floor(from) || to != fw_day_floor(to))
		return fw_error(err, FW_EINVAL, "metrics are computed over whole UTC days: give from and to as YYYY-MM-DD");
	if (to <= from)
		return fw_error(err, FW_EINVAL, "the range is empty: to must be after from");
	struct fw_snapshot *snap;
	int rc = fw_server_snapshot(s, &snap, err);
	if (rc)
		return rc;
	struct fw_metrics m;
	fw_metrics_compute(snap->plg, from, to, &m);
	fw_metrics_json(&m, &s->cfg, out);
	fw_snapshot_release(snap);
	return 0;
}

int fw_api_query(struct fw_server *s, const char *body, size_t len, struct fw_buf *out,
		 struct fw_err *err)
{
	struct fw_arena arena = {0};
	struct fw_json *req;
	struct fw_json_error je;
	if (fw_json_parse(&arena, body, len, &req, &je)) {
		fw_arena_release(&arena);
		return fw_error(err, FW_EINVAL, "the query is not valid JSON: %s at line %d, column %d",
				je.msg, je.line, je.column);
	}
	struct fw_snapshot *snap;
	int rc = fw_server_snapshot(s, &snap, err);
	if (!rc) {
		struct fw_qctx q = {
			.d = snap->d,
			.cfg = &s->cfg,
			.plg = snap->plg,
			.now_ms = fw_now_ms(),
			.arena = &arena,
		};
		rc = fw_query_run(&q, req, out, err);
		fw_snapshot_release(snap);
	}
	fw_arena_release(&arena);
	return rc;
}

/* ---- HTTP handlers ---- */

int fw_api_authorized(struct fw_req *req, struct fw_resp *resp)
{
	const char *h = fw_req_header(req, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		fw_resp_error(resp, 401, "missing_key",
			      "Invalid API key: send the secret key as \"Authorization: Bearer KEY\"");
		return 0;
	}
	if (!fw_server_can_read(req->srv, fw_str_c(h + 7))) {
		fw_resp_error(resp, 401, "unknown_key",
			      "Invalid API key: that is not a secret key of this server (write keys "
			      "can only send events)");
		return 0;
	}
	return 1;
}

void fw_api_answer(struct fw_resp *resp, int rc, const struct fw_err *err,
		   const char *invalid_reason)
{
	if (rc == FW_ENOTFOUND) {
		fw_resp_error(resp, 404, "not_found", "%s", err->msg);
	} else if (rc == FW_EINVAL) {
		fw_resp_error(resp, 400, invalid_reason, "%s", err->msg);
	} else if (rc == FW_ECONFLICT) {
		fw_resp_error(resp, 409, "conflict", "%s", err->msg);
	} else if (rc) {
		fw_resp_error(resp, 503, "unavailable", "%s", err->msg);
		if (rc == FW_EAGAIN)
			resp->retry_after = 2;
	}
}

static void answer(struct fw_resp *resp, int rc, struct fw_err *err)
{
	fw_api_answer(resp, rc, err, "invalid_query");
}

static size_t limit_arg(struct fw_req *req, size_t dflt, size_t max)
{
	const char *v = fw_req_query(req, "limit");
	size_t n = v ? strtoul(v, NULL, 10) : dflt;
	return n == 0 ? dflt : n > max ? max : n;
}

static void h_health(struct fw_req *req, struct fw_resp *resp)
{
	struct fw_store_stats st;
	fw_store_stats(req->srv->store, &st);
	resp->status = st.failed ? 503 : 200;
	fw_buf_printf(&resp->body,
		      "{\"status\":\"%s\",\"records\":%llu,\"events\":%llu,\"log_bytes\":%llu,"
		      "\"syncs\":%llu,\"duplicates_dropped\":%llu,\"segments\":%llu,"
		      "\"compacted\":%llu}",
		      st.failed ? "log_failed" : "ok", (unsigned long long)st.records,
		      (unsigned long long)st.events, (unsigned long long)st.bytes,
		      (unsigned long long)st.syncs, (unsigned long long)st.duplicates,
		      (unsigned long long)st.segments, (unsigned long long)st.compacted);
	struct fw_billing *b = req->srv->billing;
	if (b) {
		struct fw_billing_stats bs;
		fw_billing_stats(b, &bs);
		resp->body.len--; /* the closing brace */
		fw_buf_printf(&resp->body,
			      ",\"billing\":{\"ready\":%s,\"load_seconds\":%.3f,\"accounts\":%llu,"
			      "\"records_read\":%llu,\"checks\":%llu,\"consumed\":%llu,\"denied\":%llu,"
			      "\"prompts\":%llu,\"reports\":%llu}}",
			      fw_billing_ready(b) ? "true" : "false", req->srv->billing_load_seconds,
			      (unsigned long long)bs.accounts, (unsigned long long)bs.fed,
			      (unsigned long long)bs.checks, (unsigned long long)bs.consumed,
			      (unsigned long long)bs.denied, (unsigned long long)bs.prompts,
			      (unsigned long long)bs.reports);
	}
}

/* ?from=&to= of a request (fw_api_range) */
static int range_arg(struct fw_req *req, int64_t *from, int64_t *to, struct fw_err *err)
{
	return fw_api_range(fw_req_query(req, "from"), fw_req_query(req, "to"), from, to, err);
}

static void h_count(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	int64_t from, to;
	struct fw_err err = {0};
	int rc = range_arg(req, &from, &to, &err);
	if (!rc)
		rc = fw_api_events_count(req->srv, from, to, &resp->body);
	answer(resp, rc, &err);
}

static void h_daily(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	int64_t from, to;
	struct fw_err err = {0};
	int rc = range_arg(req, &from, &to, &err);
	if (!rc)
		rc = fw_api_events_daily(req->srv, from, to, fw_req_query(req, "event"), &resp->body);
	answer(resp, rc, &err);
}

static void h_metrics(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	int64_t from, to;
	struct fw_err err = {0};
	int rc = range_arg(req, &from, &to, &err);
	if (!rc && (!fw_req_query(req, "from")) != (!fw_req_query(req, "to")))
		rc = fw_error(&err, FW_EINVAL, "give both from and to (YYYY-MM-DD), or neither for the last 30 days");
	if (!rc)
		rc = fw_api_metrics(req->srv, from, to, &resp->body, &err);
	answer(resp, rc, &err);
}

static void h_query(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_err err = {0};
	if (req->body_too_large) {
		fw_resp_error(resp, 413, "too_large", "the query is larger than 1 MB");
		return;
	}
	int rc = fw_api_query(req->srv, req->body, req->body_len, &resp->body, &err);
	if (rc)
		fw_buf_reset(&resp->body);
	answer(resp, rc, &err);
}

static void h_latest(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_err err = {0};
	answer(resp, fw_api_events_latest(req->srv, limit_arg(req, 50, 1000), &resp->body, &err), &err);
}

/* URL path segments arrive percent-decoded from libmicrohttpd. */
static void h_person(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_err err = {0};
	answer(resp, fw_api_person(req->srv, req->tail, &resp->body, &err), &err);
}

static void h_account(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_err err = {0};
	answer(resp, fw_api_account(req->srv, req->tail, &resp->body, &err), &err);
}

static void h_warnings(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_err err = {0};
	answer(resp, fw_api_warnings(req->srv, limit_arg(req, 100, 10000), &resp->body, &err), &err);
}

const struct fw_route fw_api_routes[] = {
	{"GET", "/healthz", 0, h_health, 0, "liveness and log state (no key)"},
	{"GET", "/api/v1/events/count", 0, h_count, 0, "events by name"},
	{"GET", "/api/v1/events/daily", 0, h_daily, 0, "events by day"},
	{"GET", "/api/v1/events/latest", 0, h_latest, 0, "newest events"},
	{"GET", "/api/v1/metrics", 0, h_metrics, 0, "PLG metrics with previous period and targets"},
	{"POST", "/api/v1/query", 0, h_query, 1 << 20, "analyses: funnel, retention, stickiness, lifecycle, trends, revenue, virality, metrics, events, accounts"},
	{"GET", "/api/v1/people/", 1, h_person, 0, "a person by any of their ids"},
	{"GET", "/api/v1/accounts/", 1, h_account, 0, "an account by its group id"},
	{"GET", "/api/v1/warnings", 0, h_warnings, 0, "ingestion warnings"},
};
const size_t fw_napi_routes = FW_ARRAY_LEN(fw_api_routes);
