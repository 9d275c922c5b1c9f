/*
 * api.h — the read API's answers, as JSON, shared by the HTTP handlers
 * (src/web/api.c) and the CLI's local mode (`flywheel query --data DIR`).
 * Each returns 0, FW_ENOTFOUND, or another error with err filled.
 */
#ifndef FLYWHEEL_API_H
#define FLYWHEEL_API_H

#include "flywheel/event.h"
#include "flywheel/score.h"
#include "flywheel/server.h"

/* A time range from optional "from"/"to" strings (YYYY-MM-DD or ISO-8601);
 * both absent = all time. `to` is exclusive. */
int fw_api_range(const char *from, const char *to, int64_t *from_ms, int64_t *to_ms,
		 struct fw_err *err);

int fw_api_events_count(struct fw_server *s, int64_t from, int64_t to, struct fw_buf *out);
int fw_api_events_daily(struct fw_server *s, int64_t from, int64_t to, const char *event,
			struct fw_buf *out);
int fw_api_events_latest(struct fw_server *s, size_t limit, struct fw_buf *out, struct fw_err *err);
int fw_api_person(struct fw_server *s, struct fw_str distinct_id, struct fw_buf *out,
		  struct fw_err *err);
int fw_api_account(struct fw_server *s, struct fw_str group_id, struct fw_buf *out,
		   struct fw_err *err);
int fw_api_warnings(struct fw_server *s, size_t limit, struct fw_buf *out, struct fw_err *err);

/* The PLG metrics over [from, to) (both 0: the 30 days up to today). */
int fw_api_metrics(struct fw_server *s, int64_t from, int64_t to, struct fw_buf *out,
		   struct fw_err *err);

/* POST /api/v1/query: run the analysis the JSON body asks for (query.h). */
int fw_api_query(struct fw_server *s, const char *body, size_t len, struct fw_buf *out,
		 struct fw_err *err);

/* Leads and signals (src/web/leads.c). Without a live scorer (the CLI on a
 * data directory) the scores are computed first. */
int fw_api_pqls(struct fw_server *s, const struct fw_lead_query *q, struct fw_buf *out,
		struct fw_err *err);
int fw_api_lead(struct fw_server *s, enum fw_lead_unit unit, struct fw_str key, size_t history,
		struct fw_buf *out, struct fw_err *err);
int fw_api_signals(struct fw_server *s, unsigned flag, struct fw_buf *out, struct fw_err *err);
/* A full rescore now: {"rescored":true,"seconds":..}. */
int fw_api_rescore(struct fw_server *s, struct fw_buf *out, struct fw_err *err);

/* The read API's key check: a secret key as "Authorization: Bearer KEY",
 * else a 401 in resp and 0. */
struct fw_req;
struct fw_resp;
int fw_api_authorized(struct fw_req *req, struct fw_resp *resp);
/* A failed answer's JSON error: FW_ENOTFOUND 404 "not_found", FW_EINVAL 400
 * with `invalid_reason`, FW_ECONFLICT 409 "conflict", FW_EAGAIN 503 "unavailable" with Retry-After, any
 * other error 503 "unavailable". Nothing for rc 0. */
void fw_api_answer(struct fw_resp *resp, int rc, const struct fw_err *err,
		   const char *invalid_reason);

/* One event as the API shows it. */
void fw_api_event_json(struct fw_buf *b, const struct fw_event *e);

#endif
