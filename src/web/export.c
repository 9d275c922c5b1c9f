/*
 * export.c — GET /api/v1/usage/export: usage per account, meter and billing
 * period for invoicing, as JSON or CSV (export.h, docs/usage-export.md).
 */
#include "flywheel/api.h"
#include "flywheel/export.h"
#include "flywheel/http.h"
#include "flywheel/timeutil.h"

#include <stdio.h>

static void h_export(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_export_query q;
	struct fw_err err = {0};
	int rc = fw_export_query_parse(&q, fw_req_query(req, "from"), fw_req_query(req, "to"),
				       fw_req_query(req, "account"), fw_req_query(req, "format"),
				       fw_now_ms(), &err);
	if (!rc)
		rc = fw_usage_export(req->srv, &q, &resp->body, &err);
	if (rc) {
		fw_api_answer(resp, rc, &err, "invalid_query");
		return;
	}
	if (q.format == FW_EXPORT_CSV) {
		resp->content_type = "text/csv; charset=utf-8";
		char from[16], to[16];
		fw_time_format_day(q.from_ms, from);
		fw_time_format_day(q.to_ms, to);
		char *cd = fw_arena_alloc(req->arena, 80);
		snprintf(cd, 80, "attachment; filename=\"usage-%s-%s.csv\"", from, to);
		fw_resp_header(resp, "Content-Disposition", cd);
	}
}

const struct fw_route fw_export_routes[] = {
	{"GET", "/api/v1/usage/export", 0, h_export, 0,
	 "usage per account, meter and billing period, for invoicing (?from=DAY&to=DAY&account=ID&format=json|csv)"},
};
const size_t fw_nexport_routes = FW_ARRAY_LEN(fw_export_routes);
