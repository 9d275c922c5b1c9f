/*
 * billing.c — the entitlement API (docs/billing.md): checks before a gated
 * action, an account's plan and limits, usage reports, plan changes and
 * trials. Every route takes the secret key; answers come from memory
 * (src/bill/billing.c), and whatever a route records is durable before it
 * answers.
 */
#include "flywheel/api.h"
#include "flywheel/billing.h"
#include "flywheel/http.h"
#include "flywheel/json.h"
#include "flywheel/server.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void answer(struct fw_resp *resp, int rc, struct fw_err *err)
{
	fw_api_answer(resp, rc, err, "invalid_request");
}

/* The engine once it has read the log, or a 503 (retry) before that, or
 * when this server keeps none (it always does under `serve`). */
static struct fw_billing *engine(struct fw_req *req, struct fw_resp *resp)
{
	struct fw_billing *b = req->srv->billing;
	if (!b) {
		fw_resp_error(resp, 503, "unavailable", "entitlements run under `flywheel serve` only");
	} else if (!fw_billing_ready(b)) {
		fw_resp_error(resp, 503, "unavailable",
			      "entitlements are still being read from the event log; retry in a second");
		resp->retry_after = 1;
		b = NULL;
	}
	return b;
}

/* The request body as a JSON object, or a 400 and NULL. */
static const struct fw_json *body_object(struct fw_req *req, struct fw_resp *resp)
{
	struct fw_json *root;
	struct fw_json_error je;
	if (req->body_len == 0) {
		fw_resp_error(resp, 400, "invalid_json", "the request body must be a JSON object");
		return NULL;
	}
	if (fw_json_parse(req->arena, req->body, req->body_len, &root, &je)) {
		fw_resp_error(resp, 400, "invalid_json", "body is not JSON: %s at line %d, column %d",
			      je.msg, je.line, je.column);
		return NULL;
	}
	if (root->type != FW_JSON_OBJECT) {
		fw_resp_error(resp, 400, "invalid_json", "the request body must be a JSON object");
		return NULL;
	}
	return root;
}

/* A string member, or a 400 when present with another type. */
static int str_member(const struct fw_json *o, const char *key, struct fw_str *out,
		      struct fw_resp *resp)
{
	const struct fw_json *v = fw_json_get(o, key);
	*out = (struct fw_str){0};
	if (!v || v->type == FW_JSON_NULL)
		return 1;
	if (v->type != FW_JSON_STRING) {
		fw_resp_error(resp, 400, "invalid_request", "%s must be a string", key);
		return 0;
	}
	*out = v->u.str;
	return 1;
}

static int num_member(const struct fw_json *o, const char *key, double dflt, double *out,
		      struct fw_resp *resp)
{
	const struct fw_json *v = fw_json_get(o, key);
	*out = dflt;
	if (!v || v->type == FW_JSON_NULL)
		return 1;
	if (v->type != FW_JSON_NUMBER) {
		fw_resp_error(resp, 400, "invalid_request", "%s must be a number", key);
		return 0;
	}
	*out = v->is_int ? (double)v->i : v->u.num;
	return 1;
}

/* "value" of a unique meter: its JSON text (a string or a number). */
static int value_member(const struct fw_json *o, struct fw_str *out, struct fw_resp *resp)
{
	const struct fw_json *v = fw_json_get(o, "value");
	*out = (struct fw_str){0};
	if (!v || v->type == FW_JSON_NULL)
		return 1;
	if (v->type != FW_JSON_STRING && v->type != FW_JSON_NUMBER) {
		fw_resp_error(resp, 400, "invalid_request", "value must be a string or a number");
		return 0;
	}
	*out = v->raw;
	return 1;
}

/* A check from a JSON object (POST) — the fields of docs/billing.md. */
static int check_of_json(const struct fw_json *o, struct fw_check *c, struct fw_resp *resp)
{
	const struct fw_json *pf = fw_json_get(o, "preflight");
	if (pf && pf->type != FW_JSON_TRUE && pf->type != FW_JSON_FALSE && pf->type != FW_JSON_NULL) {
		fw_resp_error(resp, 400, "invalid_request", "preflight must be true or false");
		return 0;
	}
	if (!str_member(o, "account_id", &c->account, resp) ||
	    !str_member(o, "user_id", &c->user_id, resp) ||
	    !str_member(o, "feature", &c->feature, resp) ||
	    !str_member(o, "meter", &c->meter, resp) ||
	    !str_member(o, "request_id", &c->request_id, resp) ||
	    !num_member(o, "quantity", 1, &c->quantity, resp) || !value_member(o, &c->value, resp))
		return 0;
	c->consume = !(pf && pf->type == FW_JSON_TRUE);
	return 1;
}

static int check_kind(struct fw_check *c, struct fw_resp *resp)
{
	if (!c->account.len) {
		fw_resp_error(resp, 400, "invalid_request",
			      "account_id is required: the account (group id) the check is for");
		return 0;
	}
	if (!!c->feature.len == !!c->meter.len) {
		fw_resp_error(resp, 400, "invalid_request",
			      "give either feature (may the account use it?) or meter (may it "
			      "consume quantity more?)");
		return 0;
	}
	c->kind = c->feature.len ? FW_CHECK_FEATURE : FW_CHECK_METER;
	if (c->kind == FW_CHECK_FEATURE)
		c->consume = 0;
	return 1;
}

static void run_check(struct fw_req *req, struct fw_resp *resp, struct fw_billing *b,
		      struct fw_check *c)
{
	struct fw_check_result r;
	struct fw_err err = {0};
	c->now_ms = fw_now_ms();
	int rc = fw_billing_check(b, c, &r, &err);
	if (rc) {
		answer(resp, rc, &err);
		return;
	}
	fw_check_result_json(c, &r, &resp->body);
}

static void h_check(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_billing *b = engine(req, resp);
	if (!b)
		return;
	struct fw_check c = {0};
	if (!strcmp(req->method, "GET")) {
		/* a preflight from the query string */
		const char *v;
		c.account = fw_str_c((v = fw_req_query(req, "account_id")) ? v : "");
		c.user_id = fw_str_c((v = fw_req_query(req, "user_id")) ? v : "");
		c.feature = fw_str_c((v = fw_req_query(req, "feature")) ? v : "");
		c.meter = fw_str_c((v = fw_req_query(req, "meter")) ? v : "");
		c.quantity = 1;
		if ((v = fw_req_query(req, "quantity"))) {
			char *end;
			c.quantity = strtod(v, &end);
			if (!*v || *end) {
				fw_resp_error(resp, 400, "invalid_request",
					      "quantity must be a number, got \"%.64s\"", v);
				return;
			}
		}
		if ((v = fw_req_query(req, "value"))) {
			struct fw_buf *j = &(struct fw_buf){0};
			fw_json_write_str(j, v, strlen(v));
			c.value = (struct fw_str){fw_arena_strndup(req->arena, j->data, j->len), j->len};
			fw_buf_release(j);
		}
	} else {
		const struct fw_json *o = body_object(req, resp);
		if (!o || !check_of_json(o, &c, resp))
			return;
	}
	if (check_kind(&c, resp))
		run_check(req, resp, b, &c);
}

/* GET /api/v1/entitlements/ACCOUNT */
static void h_account(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_billing *b = engine(req, resp);
	if (!b)
		return;
	if (req->tail.len >= 128 || memchr(req->tail.p, '/', req->tail.len)) {
		fw_resp_error(resp, 404, "not_found", "use /api/v1/entitlements/ACCOUNT_ID");
		return;
	}
	fw_billing_account_json(b, req->tail, fw_now_ms(), &resp->body);
}

/* One usage report; 0 when it was answered with an error. */
static int report_one(struct fw_req *req, struct fw_resp *resp, struct fw_billing *b,
		      const struct fw_json *o, const char *header_key, struct fw_buf *out)
{
	struct fw_usage_report u = {.now_ms = fw_now_ms()};
	struct fw_str ts = {0};
	if (!str_member(o, "account_id", &u.account, resp) ||
	    !str_member(o, "user_id", &u.user_id, resp) || !str_member(o, "meter", &u.meter, resp) ||
	    !str_member(o, "idempotency_key", &u.key, resp) ||
	    !str_member(o, "timestamp", &ts, resp) || !num_member(o, "quantity", 1, &u.quantity, resp) ||
	    !value_member(o, &u.value, resp))
		return 0;
	if (!u.key.len && header_key)
		u.key = fw_str_c(header_key);
	u.time_ms = u.now_ms;
	if (ts.len && fw_time_parse_iso(ts.p, ts.len, &u.time_ms)) {
		fw_resp_error(resp, 400, "invalid_request",
			      "timestamp must be ISO-8601, like 2026-11-25T10:00:00Z");
		return 0;
	}
	int replayed = 0;
	struct fw_err err = {0};
	int rc = fw_billing_report(b, &u, &replayed, &err);
	if (rc) {
		answer(resp, rc, &err);
		return 0;
	}
	fw_buf_adds(out, "{\"recorded\":");
	fw_buf_adds(out, replayed ? "false,\"replayed\":true" : "true,\"replayed\":false");
	fw_buf_adds(out, ",\"idempotency_key\":");
	fw_json_write_str(out, u.key.p, u.key.len);
	fw_buf_adds(out, "}");
	return 1;
}

/* POST /api/v1/usage: one report, or {"batch": [reports]} (each with its own
 * idempotency_key). Answered once every report is durable. */
static void h_usage(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_billing *b = engine(req, resp);
	const struct fw_json *o = b ? body_object(req, resp) : NULL;
	if (!o)
		return;
	const char *hk = fw_req_header(req, "Idempotency-Key");
	const struct fw_json *batch = fw_json_get(o, "batch");
	struct fw_buf out = {0};
	if (!batch) {
		if (report_one(req, resp, b, o, hk, &out))
			fw_buf_add(&resp->body, out.data, out.len);
		fw_buf_release(&out);
		return;
	}
	if (batch->type != FW_JSON_ARRAY || batch->len == 0 || batch->len > 1000) {
		fw_resp_error(resp, 400, "invalid_request",
			      "batch must be a list of 1 to 1000 usage reports");
		return;
	}
	fw_buf_adds(&out, "{\"results\":[");
	size_t i = 0;
	int ok = 1;
	for (const struct fw_json *x = batch->u.child; x && ok; x = x->next, i++) {
		if (x->type != FW_JSON_OBJECT) {
			fw_resp_error(resp, 400, "invalid_request", "batch[%zu] must be an object", i);
			ok = 0;
		} else {
			if (i)
				fw_buf_adds(&out, ",");
			ok = report_one(req, resp, b, x, NULL, &out);
		}
		if (!ok && resp->body.len && resp->body.data[resp->body.len - 1] == '}') {
			/* the reports before it are recorded: say which one failed */
			resp->body.len--;
			fw_buf_printf(&resp->body, ",\"index\":%zu}", i);
		}
	}
	if (ok) {
		fw_buf_adds(&out, "]}");
		fw_buf_add(&resp->body, out.data, out.len);
	}
	fw_buf_release(&out);
}

/* POST /api/v1/accounts/ID/plan {"plan": "pro", "mrr": 49}
 * POST /api/v1/accounts/ID/trial {"plan": "trial"} */
static void h_account_post(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_billing *b = engine(req, resp);
	if (!b)
		return;
	const char *slash = NULL;
	for (size_t i = req->tail.len; i > 0 && !slash; i--)
		if (req->tail.p[i - 1] == '/')
			slash = req->tail.p + i - 1;
	struct fw_str id = {req->tail.p, slash ? (size_t)(slash - req->tail.p) : 0};
	const char *what = slash ? slash + 1 : "";
	int plan = !strcmp(what, "plan"), trial = !strcmp(what, "trial");
	if (!id.len || (!plan && !trial)) {
		fw_resp_error(resp, 404, "not_found",
			      "use POST /api/v1/accounts/ID/plan or /api/v1/accounts/ID/trial");
		return;
	}
	const struct fw_json *o = req->body_len ? body_object(req, resp) : NULL;
	if (req->body_len && !o)
		return;
	struct fw_str name = {0}, user = {0};
	double mrr = -1;
	if (o && (!str_member(o, "plan", &name, resp) || !str_member(o, "user_id", &user, resp) ||
		  !num_member(o, "mrr", -1, &mrr, resp)))
		return;
	if (plan && !name.len) {
		fw_resp_error(resp, 400, "invalid_request", "plan is required: the plan to move to");
		return;
	}
	if (mrr != -1 && !(mrr >= 0 && isfinite(mrr))) {
		fw_resp_error(resp, 400, "invalid_request", "mrr must be a number of 0 or more");
		return;
	}
	char pname[72];
	if (name.len >= sizeof pname) {
		fw_resp_error(resp, 400, "invalid_request", "no plan has a name that long");
		return;
	}
	if (name.len)
		memcpy(pname, name.p, name.len);
	pname[name.len] = 0;
	struct fw_err err = {0};
	int rc;
	int64_t now = fw_now_ms(), ends = 0;
	if (plan)
		rc = fw_billing_set_plan(b, id, user, pname, mrr, now, &err);
	else
		rc = fw_billing_start_trial(b, id, user, name.len ? pname : NULL, now, &ends, &err);
	if (rc) {
		answer(resp, rc, &err);
		return;
	}
	if (trial)
		resp->status = 201;
	fw_billing_account_json(b, id, now, &resp->body);
}

const struct fw_route fw_billing_routes[] = {
	{NULL, "/api/v1/entitlements/check", 0, h_check, 64 << 10,
	 "may an account use a feature or consume more of a meter? (POST consumes unless preflight; GET is a preflight)"},
	{"GET", "/api/v1/entitlements/", 1, h_account, 0,
	 "an account's plan, trial, features and every meter's usage, limit and reset"},
	{"POST", "/api/v1/usage", 0, h_usage, 1 << 20,
	 "report usage of a meter (once per idempotency_key; {\"batch\":[...]} for many)"},
	{"POST", "/api/v1/accounts/", 1, h_account_post, 64 << 10,
	 "change an account's plan (/accounts/ID/plan) or start its trial (/accounts/ID/trial)"},
};
const size_t fw_nbilling_routes = FW_ARRAY_LEN(fw_billing_routes);
