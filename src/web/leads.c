/*
 * leads.c — the PQL API (docs/scoring.md): leads by route and score with
 * their reasons, one person's or account's breakdown and history, the
 * at-risk and expansion lists, and a full rescore on demand. Shared with
 * `flywheel query pqls|lead|at-risk|expansion` on a data directory.
 */
#include "flywheel/api.h"
#include "flywheel/http.h"
#include "flywheel/leads.h"
#include "flywheel/score.h"
#include "flywheel/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The scorer, with scores in it. */
static int scorer(struct fw_server *s, struct fw_err *err)
{
	if (s->scorer && fw_scorer_ready(s->scorer))
		return 0;
	if (s->rules_running)
		return fw_error(err, FW_EAGAIN,
				"scores are still being computed (the first full rescore after "
				"start); try again in a few seconds");
	return fw_server_rescore(s, 0, err);
}

int fw_api_pqls(struct fw_server *s, const struct fw_lead_query *q, struct fw_buf *out,
		struct fw_err *err)
{
	int rc = scorer(s, err);
	if (!rc)
		fw_scorer_leads_json(s->scorer, q, out);
	return rc;
}

int fw_api_lead(struct fw_server *s, enum fw_lead_unit unit, struct fw_str key, size_t history,
		struct fw_buf *out, struct fw_err *err)
{
	int rc = scorer(s, err);
	if (rc)
		return rc;
	if (fw_scorer_unit_json(s->scorer, unit, key, out))
		return fw_error(err, FW_ENOTFOUND, "no %s \"%.*s\" has been scored (%s keys are %s)",
				fw_lead_unit_names[unit], (int)key.len, key.p, fw_lead_unit_names[unit],
				unit == FW_LEAD_ACCOUNT ? "group ids" : "user ids, else the anonymous id");
	out->len--; /* the closing brace: the history goes in too */
	fw_buf_adds(out, ",\"history\":");
	fw_leads_history_json(s->rules, unit, key, history, out);
	fw_buf_addc(out, '}');
	return 0;
}

int fw_api_signals(struct fw_server *s, unsigned flag, struct fw_buf *out, struct fw_err *err)
{
	int rc = scorer(s, err);
	if (!rc)
		fw_scorer_signals_json(s->scorer, flag, out);
	return rc;
}

int fw_api_rescore(struct fw_server *s, struct fw_buf *out, struct fw_err *err)
{
	int rc = fw_server_rescore(s, 120000, err);
	if (!rc)
		fw_buf_printf(out,
			      "{\"rescored\":true,\"seconds\":%.4f,\"snapshot_seconds\":%.4f,"
			      "\"score_seconds\":%.4f}",
			      s->rebase_seconds, s->rebase_snapshot_seconds, s->rebase_score_seconds);
	return rc;
}

/* ---- HTTP ---- */

static void answer(struct fw_resp *resp, int rc, struct fw_err *err)
{
	fw_api_answer(resp, rc, err, "invalid_query");
}

/* A whole number query argument in [0, max], or dflt; -1 if malformed. */
static long num_arg(struct fw_req *req, const char *name, long dflt, long max)
{
	const char *v = fw_req_query(req, name);
	if (!v)
		return dflt;
	char *end;
	long n = strtol(v, &end, 10);
	return (*v && !*end && n >= 0) ? (n > max ? max : n) : -1;
}

static int unit_arg(const char *v, enum fw_lead_unit *u)
{
	if (!v || !strcmp(v, "account"))
		*u = FW_LEAD_ACCOUNT;
	else if (!strcmp(v, "person"))
		*u = FW_LEAD_PERSON;
	else
		return 0;
	return 1;
}

static void h_pqls(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_lead_query q = {.route = -1};
	if (!unit_arg(fw_req_query(req, "unit"), &q.unit)) {
		fw_resp_error(resp, 400, "invalid_query", "unit must be account or person");
		return;
	}
	const char *route = fw_req_query(req, "route");
	if (route) {
		for (int r = 0; r < FW_ROUTE_COUNT; r++)
			if (!strcmp(route, fw_lead_route_names[r]))
				q.route = r;
		if (q.route < 0) {
			fw_resp_error(resp, 400, "invalid_query",
				      "route must be one of nurture, upgrade_campaign, inside_sales, "
				      "account_executive; got \"%s\"", route);
			return;
		}
	}
	long limit = num_arg(req, "limit", 50, 10000), offset = num_arg(req, "offset", 0, 1L << 30),
	     min = num_arg(req, "min_score", 0, 1L << 30);
	if (limit < 0 || offset < 0 || min < 0) {
		fw_resp_error(resp, 400, "invalid_query",
			      "limit, offset and min_score must be whole numbers >= 0");
		return;
	}
	q.limit = limit ? (size_t)limit : 50;
	q.offset = (size_t)offset;
	q.min_score = (int)min;
	struct fw_err err = {0};
	answer(resp, fw_api_pqls(req->srv, &q, &resp->body, &err), &err);
}

static void h_lead(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	const char *slash = memchr(req->tail.p, '/', req->tail.len);
	enum fw_lead_unit unit;
	char kind[16];
	size_t klen = slash ? (size_t)(slash - req->tail.p) : 0;
	if (klen && klen < sizeof kind) {
		memcpy(kind, req->tail.p, klen);
		kind[klen] = 0;
	}
	if (!slash || klen >= sizeof kind || !unit_arg(kind, &unit) || slash[1] == 0) {
		fw_resp_error(resp, 404, "not_found",
			      "use /api/v1/pqls/account/GROUP_ID or /api/v1/pqls/person/USER_ID");
		return;
	}
	struct fw_str key = {slash + 1, (uint32_t)(req->tail.len - klen - 1)};
	long history = num_arg(req, "history", 50, 1000);
	struct fw_err err = {0};
	answer(resp,
	       fw_api_lead(req->srv, unit, key, history < 0 ? 50 : (size_t)history, &resp->body, &err),
	       &err);
}

static void h_at_risk(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_err err = {0};
	answer(resp, fw_api_signals(req->srv, FW_LEAD_AT_RISK, &resp->body, &err), &err);
}

static void h_expansion(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_err err = {0};
	answer(resp, fw_api_signals(req->srv, FW_LEAD_EXPANSION, &resp->body, &err), &err);
}

static void h_rescore(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_err err = {0};
	answer(resp, fw_api_rescore(req->srv, &resp->body, &err), &err);
}

const struct fw_route fw_leads_routes[] = {
	{"GET", "/api/v1/pqls", 0, h_pqls, 0,
	 "product-qualified leads by route and score, with reasons (?unit=account|person&route=&min_score=&limit=&offset=)"},
	{"GET", "/api/v1/pqls/", 1, h_lead, 0,
	 "one account's or person's score breakdown, triggers and history (/pqls/account/ID, /pqls/person/ID)"},
	{"GET", "/api/v1/signals/at-risk", 0, h_at_risk, 0, "paying accounts whose usage fell or stopped"},
	{"GET", "/api/v1/signals/expansion", 0, h_expansion, 0, "accounts near a seat or usage limit"},
	{"POST", "/api/v1/rescore", 0, h_rescore, 0, "rescore everyone now (after a config change it happens at start)"},
};
const size_t fw_nleads_routes = FW_ARRAY_LEN(fw_leads_routes);
