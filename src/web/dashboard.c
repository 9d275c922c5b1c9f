/*
 * dashboard.c — the web dashboard (docs/dashboard.md): its files, built into
 * the binary from web/dist (src/web/assets.h), and GET /api/v1/keys, which its
 * "Connect your app" page reads to fill the SDK snippets.
 *
 *   GET /                 index.html: the single-page app (hash routes, #/funnels?…)
 *   GET /assets/NAME      the bundled JS and CSS; their names carry a hash of the
 *                         content (app-3F2A.js), so they are cached for a year
 *   GET /api/v1/keys      {"write_keys": [...]} (secret key)
 *
 * Every file answers with an ETag (If-None-Match → 304) and, when the client
 * accepts gzip, the gzip'd copy made at build time. Nothing is read from disk:
 * the dashboard works offline and from any working directory.
 */
#include "assets.h"
#include "flywheel/api.h"
#include "flywheel/http.h"
#include "flywheel/json.h"
#include "flywheel/server.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* index.html may only load what the binary serves: the app makes no request
 * to another origin. uPlot sizes its elements through the style attribute. */
static const char CSP[] = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
			  "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

static const struct fw_asset *find_asset(const char *name, size_t len)
{
	for (size_t i = 0; i < fw_nassets; i++)
		if (strlen(fw_assets[i].name) == len && !memcmp(fw_assets[i].name, name, len))
			return &fw_assets[i];
	return NULL;
}

/* 1 if the client asked for gzip (a "gzip" token without ";q=0") */
static int accepts_gzip(struct fw_req *req)
{
	const char *ae = fw_req_header(req, "Accept-Encoding");
	for (const char *p = ae; p && (p = strcasestr(p, "gzip")); p += 4) {
		const char *end = p + 4;
		while (*end == ' ')
			end++;
		if (*end != ';')
			return 1;
		const char *q = strcasestr(end, "q=");
		return !(q && strtod(q + 2, NULL) == 0);
	}
	return 0;
}

/* Whether If-None-Match names this file's ETag (either encoding: both are the
 * same bytes). "*" matches. */
static int not_modified(struct fw_req *req, const struct fw_asset *a)
{
	const char *inm = fw_req_header(req, "If-None-Match");
	if (!inm)
		return 0;
	if (strchr(inm, '*'))
		return 1;
	/* the hash without the quotes: "\"h\"" and "\"h-gz\"" both contain it */
	return strstr(inm, a->etag + 1) || strstr(inm, a->etag_gz + 1);
}

static void serve_asset(struct fw_req *req, struct fw_resp *resp, const struct fw_asset *a,
			const char *cache)
{
	int gz = a->gz && accepts_gzip(req);
	fw_resp_header(resp, "ETag", gz ? a->etag_gz : a->etag);
	fw_resp_header(resp, "Cache-Control", cache);
	fw_resp_header(resp, "Vary", "Accept-Encoding");
	fw_resp_header(resp, "X-Content-Type-Options", "nosniff");
	resp->content_type = a->content_type;
	if (not_modified(req, a)) {
		resp->status = 304;
		return;
	}
	if (!strncmp(a->content_type, "text/html", 9)) {
		fw_resp_header(resp, "Content-Security-Policy", CSP);
		fw_resp_header(resp, "Referrer-Policy", "no-referrer");
	}
	if (gz)
		fw_resp_header(resp, "Content-Encoding", "gzip");
	resp->status = 200;
	resp->static_body = gz ? a->gz : a->data;
	resp->static_len = gz ? a->gz_len : a->len;
}

static void h_index(struct fw_req *req, struct fw_resp *resp)
{
	const struct fw_asset *a = find_asset("index.html", 10);
	if (!a) {
		fw_resp_error(resp, 404, "not_found",
			      "this binary was built without the dashboard (web/dist was empty): run "
			      "`make web && make`");
		return;
	}
	/* always revalidated, so a new binary's app is picked up at once */
	serve_asset(req, resp, a, "no-cache");
}

static void h_asset(struct fw_req *req, struct fw_resp *resp)
{
	const struct fw_asset *a = find_asset(req->tail.p, req->tail.len);
	if (!a || !strcmp(a->name, "index.html")) {
		fw_resp_error(resp, 404, "not_found", "no such dashboard file: %.200s", req->path);
		return;
	}
	/* hashed names (app-HASH.js) never change content; others are revalidated */
	serve_asset(req, resp, a, strchr(a->name, '-') ? "public, max-age=31536000, immutable" : "no-cache");
}

static void h_keys(struct fw_req *req, struct fw_resp *resp)
{
	if (!fw_api_authorized(req, resp))
		return;
	struct fw_server *s = req->srv;
	fw_buf_adds(&resp->body, "{\"write_keys\":[");
	for (size_t i = 0; i < s->nwrite; i++) {
		if (i)
			fw_buf_addc(&resp->body, ',');
		fw_json_write_str(&resp->body, s->write_keys[i], strlen(s->write_keys[i]));
	}
	fw_buf_adds(&resp->body, "]}");
	fw_resp_header(resp, "Cache-Control", "no-store");
}

const struct fw_route fw_dashboard_routes[] = {
	{"GET", "/", 0, h_index, 0, "the web dashboard (docs/dashboard.md)"},
	{"GET", "/assets/", 1, h_asset, 0, "the dashboard's JS, CSS and icon, built into the binary"},
	{"GET", "/api/v1/keys", 0, h_keys, 0, "the write keys, for the SDK snippets (secret key)"},
};
const size_t fw_ndashboard_routes = FW_ARRAY_LEN(fw_dashboard_routes);
