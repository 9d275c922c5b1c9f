/*
 * ingest.c — the ingest routes: decode the body (gzip, base64, forms), parse
 * it, map it with the SDK's wire mapper, check the key, record warnings,
 * append to the store and wait for the group commit, then answer the way
 * that SDK expects (docs/api.md, WIRE.md §4).
 */
#include "flywheel/decode.h"
#include "flywheel/http.h"
#include "flywheel/json.h"
#include "flywheel/server.h"
#include "flywheel/timeutil.h"
#include "flywheel/wire.h"

#include <stdio.h>
#include <stdlib.h>

enum family { SEGMENT, POSTHOG, MIXPANEL, AMPLITUDE };

#define KB 1024u
#define MB (1024u * 1024u)

static const struct {
	const char *name;
	size_t max_event, max_request;
} FAMILY[] = {
	[SEGMENT] = {"segment", 32 * KB, 500 * KB},
	[POSTHOG] = {"posthog", 1 * MB, 20 * MB},
	[MIXPANEL] = {"mixpanel", 1 * MB, 20 * MB},
	[AMPLITUDE] = {"amplitude", 1 * MB, 20 * MB},
};

static int mixpanel_verbose(struct fw_req *req)
{
	const char *v = fw_req_query(req, "verbose");
	return v && strcmp(v, "1") == 0;
}

/* Error answer: the JSON error body (docs/api.md), except that Mixpanel's
 * verbose mode wants {"status":0,"error":…}. Any body but "1" is a failure to
 * the Mixpanel SDK, so the JSON body tells a person more and costs nothing. */
static void fail(struct fw_req *req, struct fw_resp *resp, enum family f, int status,
		 const char *reason, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void fail(struct fw_req *req, struct fw_resp *resp, enum family f, int status,
		 const char *reason, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fw_resp_error(resp, status, reason, "%s", msg);
	if (f == MIXPANEL && mixpanel_verbose(req)) {
		fw_buf_reset(&resp->body);
		fw_buf_adds(&resp->body, "{\"status\":0,\"error\":");
		fw_json_write_str(&resp->body, msg, strlen(msg));
		fw_buf_addc(&resp->body, '}');
	}
	atomic_fetch_add(&req->srv->rejected, 1);
}

/* Key from Authorization: Basic base64(key:) or Bearer key. */
static struct fw_str header_key(struct fw_req *req)
{
	const char *h = fw_req_header(req, "Authorization");
	if (!h)
		return (struct fw_str){0};
	if (strncasecmp(h, "Basic ", 6) == 0) {
		struct fw_buf out = {0};
		struct fw_str k = {0};
		if (fw_base64_decode(h + 6, strlen(h + 6), &out, NULL) == 0 && out.len) {
			char *colon = memchr(out.data, ':', out.len);
			size_t n = colon ? (size_t)(colon - out.data) : out.len;
			k = (struct fw_str){fw_arena_strndup(req->arena, out.data, n), (uint32_t)n};
		}
		fw_buf_release(&out);
		return k;
	}
	if (strncasecmp(h, "Bearer ", 7) == 0)
		return fw_str_c(h + 7);
	return (struct fw_str){0};
}

static int is_json_text(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t')
			continue;
		return p[i] == '{' || p[i] == '[';
	}
	return 0;
}

/* The request's JSON text: decompressed, and base64-decoded where the SDK
 * wraps it so. Returns 0, or answers and returns -1. */
static int body_text(struct fw_req *req, struct fw_resp *resp, enum family f, struct fw_buf *tmp,
		     const char **text, size_t *len)
{
	const char *p = req->body;
	size_t n = req->body_len, limit = FAMILY[f].max_request;
	if (req->body_too_large) {
		fail(req, resp, f, 413, "too_large",
		     "request body is over the limit of %zu bytes for %s routes; send smaller batches",
		     limit, FAMILY[f].name);
		return -1;
	}
	const char *enc = fw_req_header(req, "Content-Encoding");
	int gz = 0;
	if (enc && *enc && strcasecmp(enc, "identity") != 0) {
		if (strcasecmp(enc, "gzip") && strcasecmp(enc, "x-gzip") && strcasecmp(enc, "deflate")) {
			fail(req, resp, f, 415, "unsupported_encoding",
			     "Content-Encoding \"%.60s\" is not supported; send gzip or an uncompressed body",
			     enc);
			return -1;
		}
		gz = 1;
	}
	if (gz || fw_is_gzip(p, n)) {
		struct fw_err err = {0};
		int rc = fw_inflate(p, n, limit, tmp, &err);
		if (rc == FW_ETOOBIG) {
			fail(req, resp, f, 413, "too_large",
			     "request body is over the limit of %zu bytes for %s routes after "
			     "decompression; send smaller batches",
			     limit, FAMILY[f].name);
			return -1;
		}
		if (rc) {
			fail(req, resp, f, 400, "invalid_body", "%s", err.msg);
			return -1;
		}
		p = tmp->data;
		n = tmp->len;
	}
	/* Mixpanel and old PostHog clients send data=<base64> (query or form). */
	if ((f == MIXPANEL || f == POSTHOG) && !is_json_text(p, n)) {
		struct fw_buf raw = {0};
		const char *q = f == MIXPANEL ? fw_req_query(req, "data") : NULL;
		int found = 0;
		if (n && fw_form_value(p, n, "data", &raw) == 0)
			found = 1;
		else if (q) {
			fw_buf_adds(&raw, q);
			found = 1;
		}
		if (!found) {
			fw_buf_release(&raw);
			fail(req, resp, f, 400, "invalid_body",
			     n ? "body is neither JSON nor a form with a data= field"
			       : "empty request: send events as JSON or as data=<base64 JSON>");
			return -1;
		}
		const char *comp = fw_req_query(req, "compression");
		if (comp && strcmp(comp, "base64") != 0 && strcmp(comp, "gzip-js") != 0) {
			fw_buf_release(&raw);
			fail(req, resp, f, 415, "unsupported_encoding",
			     "compression=%.40s is not supported; send JSON, gzip or base64", comp);
			return -1;
		}
		struct fw_buf dec = {0};
		struct fw_err err = {0};
		int rc = fw_base64_decode(raw.data, raw.len, &dec, &err);
		fw_buf_release(&raw);
		if (rc) {
			fw_buf_release(&dec);
			fail(req, resp, f, 400, "invalid_base64", "the data field is not base64: %s", err.msg);
			return -1;
		}
		if (dec.len > limit) {
			fw_buf_release(&dec);
			fail(req, resp, f, 413, "too_large", "decoded data is over the limit of %zu bytes", limit);
			return -1;
		}
		fw_buf_reset(tmp);
		fw_buf_add(tmp, dec.data, dec.len);
		fw_buf_release(&dec);
		p = tmp->data;
		n = tmp->len;
	}
	*text = p;
	*len = n;
	return 0;
}

static void ok_response(struct fw_req *req, struct fw_resp *resp, enum family f, size_t stored,
			size_t bytes)
{
	resp->status = 200;
	fw_buf_reset(&resp->body);
	switch (f) {
	case SEGMENT:
		fw_buf_adds(&resp->body, "{\"code\":200,\"success\":true,\"status\":1}");
		break;
	case POSTHOG:
		fw_buf_adds(&resp->body, "{\"code\":200,\"status\":1}");
		break;
	case MIXPANEL:
		if (mixpanel_verbose(req)) {
			fw_buf_adds(&resp->body, "{\"status\":1,\"error\":null}");
		} else {
			fw_buf_adds(&resp->body, "1");
			resp->content_type = "text/plain";
		}
		break;
	case AMPLITUDE:
		fw_buf_printf(&resp->body,
			      "{\"code\":200,\"events_ingested\":%zu,\"payload_size_bytes\":%zu,"
			      "\"server_upload_time\":%lld}",
			      stored, bytes, (long long)fw_now_ms());
		break;
	}
}

static void record_warnings(struct fw_server *srv, struct fw_wire_batch *b, const char *source)
{
	size_t n = b->nwarn < 20 ? b->nwarn : 20;
	for (size_t i = 0; i < n; i++) {
		const struct fw_wire_warning *w = &b->warnings[i];
		char msg[1200];
		snprintf(msg, sizeof msg, "message %u of the request was skipped: %s", w->index, w->message);
		fw_meta_warn(srv->meta, b->received_ms, source, w->reason, msg, w->sample);
	}
	if (b->nwarn > n) {
		char msg[200];
		snprintf(msg, sizeof msg, "%zu more messages of the same request were skipped",
			 b->nwarn - n);
		fw_meta_warn(srv->meta, b->received_ms, source, "more_skipped", msg, (struct fw_str){0});
	}
}

static void ingest(struct fw_req *req, struct fw_resp *resp, enum family f, const char *single,
		   const char *mp_kind)
{
	struct fw_server *srv = req->srv;
	atomic_fetch_add(&srv->requests, 1);
	struct fw_buf tmp = {0};
	const char *text;
	size_t len;
	if (body_text(req, resp, f, &tmp, &text, &len))
		goto out;
	if (single && len > FAMILY[f].max_event) {
		fail(req, resp, f, 413, "too_large",
		     "message is %zu bytes, over the limit of %zu bytes per event", len,
		     FAMILY[f].max_event);
		goto out;
	}
	struct fw_json *root;
	struct fw_json_error je;
	if (fw_json_parse(req->arena, text, len, &root, &je)) {
		fail(req, resp, f, 400, "invalid_json",
		     "invalid JSON at line %d, column %d (byte %zu): %s", je.line, je.column, je.offset,
		     je.msg);
		/* add the position fields for programs */
		if (!(f == MIXPANEL && mixpanel_verbose(req))) {
			resp->body.len--; /* drop '}' */
			fw_buf_printf(&resp->body, ",\"offset\":%zu,\"line\":%d,\"column\":%d}", je.offset,
				      je.line, je.column);
		}
		goto out;
	}
	struct fw_wire_batch b = {
		.arena = req->arena,
		.received_ms = req->received_ms,
		.max_event_bytes = (uint32_t)FAMILY[f].max_event,
	};
	struct fw_err err = {0};
	int rc;
	/* /batch without the slash is Amplitude's, unless the body is PostHog's */
	if (f == AMPLITUDE && fw_json_get_arr(root, "batch") && !fw_json_get(root, "events"))
		f = POSTHOG;
	switch (f) {
	case SEGMENT: rc = fw_wire_segment(&b, root, single, &err); break;
	case POSTHOG: rc = fw_wire_posthog(&b, root, &err); break;
	case MIXPANEL: rc = fw_wire_mixpanel(&b, root, mp_kind, &err); break;
	default: rc = fw_wire_amplitude(&b, root, &err); break;
	}
	/* the key: header, then body, then ?api_key= / ?token= */
	struct fw_str key = header_key(req);
	if (!key.len)
		key = b.key;
	if (!key.len) {
		const char *q = fw_req_query(req, "api_key");
		if (!q)
			q = fw_req_query(req, "token");
		key = fw_str_c(q);
	}
	if (!key.len) {
		fail(req, resp, f, 401, "missing_key",
		     "Invalid API key: none was sent. Send the write key as the Basic-auth user "
		     "(Segment, RudderStack), api_key (PostHog, Amplitude) or token (Mixpanel)");
		goto out;
	}
	if (!fw_server_can_write(srv, key)) {
		fail(req, resp, f, 401, "unknown_key",
		     "Invalid API key: \"%.12s…\" is not a write key of this server; copy the write key "
		     "that `flywheel serve` printed",
		     key.p);
		goto out;
	}
	if (rc) {
		fail(req, resp, f, 400, "invalid_body", "%s", err.msg);
		goto out;
	}
	if (b.nwarn)
		record_warnings(srv, &b, FAMILY[f].name);
	if (b.n == 0 && b.nwarn) {
		const struct fw_wire_warning *w = &b.warnings[0];
		fail(req, resp, f, w->reason && strcmp(w->reason, "too_large") == 0 ? 413 : 400,
		     w->reason ? w->reason : "invalid_event", "no message could be stored: %s%s",
		     w->message, b.nwarn > 1 ? " (and others; see GET /api/v1/warnings)" : "");
		if (f == AMPLITUDE && resp->status == 400) {
			/* Amplitude retries a 400 unless the body names missing_field */
			resp->body.len--;
			fw_buf_adds(&resp->body, ",\"missing_field\":\"event_type or user_id/device_id\"}");
		}
		goto out;
	}
	uint64_t ticket = 0;
	uint8_t *stored = b.n ? fw_arena_alloc(req->arena, b.n) : NULL;
	rc = fw_store_append(srv->store, b.events, b.n, stored, &ticket, &err);
	if (!rc)
		rc = fw_store_wait(srv->store, ticket, &err);
	if (rc == FW_EAGAIN) {
		fail(req, resp, f, 503, "disk_full", "%s", err.msg);
		resp->retry_after = 30;
		goto out;
	}
	if (rc) {
		fail(req, resp, f, 503, rc == FW_EFAILED ? "log_failed" : "unavailable", "%s", err.msg);
		resp->retry_after = 10;
		goto out;
	}
	size_t nstored = 0;
	for (size_t i = 0; i < b.n; i++)
		nstored += stored[i];
	atomic_fetch_add(&srv->events_stored, nstored);
	atomic_fetch_add(&srv->duplicates, b.n - nstored);
	ok_response(req, resp, f, b.n, len);
out:
	fw_buf_release(&tmp);
}

#define SEGMENT_ROUTE(type)                                                    \
	static void segment_##type(struct fw_req *req, struct fw_resp *resp)   \
	{                                                                      \
		ingest(req, resp, SEGMENT, #type, NULL);                       \
	}
SEGMENT_ROUTE(track)
SEGMENT_ROUTE(identify)
SEGMENT_ROUTE(group)
SEGMENT_ROUTE(page)
SEGMENT_ROUTE(screen)
SEGMENT_ROUTE(alias)

static void segment_batch(struct fw_req *req, struct fw_resp *resp)
{
	ingest(req, resp, SEGMENT, NULL, NULL);
}

static void posthog(struct fw_req *req, struct fw_resp *resp)
{
	ingest(req, resp, POSTHOG, NULL, NULL);
}

static void mixpanel_track(struct fw_req *req, struct fw_resp *resp)
{
	ingest(req, resp, MIXPANEL, NULL, "track");
}

static void mixpanel_engage(struct fw_req *req, struct fw_resp *resp)
{
	ingest(req, resp, MIXPANEL, NULL, "engage");
}

static void mixpanel_groups(struct fw_req *req, struct fw_resp *resp)
{
	ingest(req, resp, MIXPANEL, NULL, "groups");
}

static void amplitude(struct fw_req *req, struct fw_resp *resp)
{
	ingest(req, resp, AMPLITUDE, NULL, NULL);
}

/* Raw (on-the-wire) limits: gzip can only shrink a sane body, so a raw body
 * over the decoded limit is refused without reading it. */
#define SEG (500 * KB)
#define BIG (20 * MB)

const struct fw_route fw_ingest_routes[] = {
	{"POST", "/v1/batch", 0, segment_batch, SEG, "Segment / RudderStack batch"},
	{"POST", "/v1/track", 0, segment_track, SEG, "Segment track"},
	{"POST", "/v1/identify", 0, segment_identify, SEG, "Segment identify"},
	{"POST", "/v1/group", 0, segment_group, SEG, "Segment group"},
	{"POST", "/v1/page", 0, segment_page, SEG, "Segment page"},
	{"POST", "/v1/screen", 0, segment_screen, SEG, "Segment screen"},
	{"POST", "/v1/alias", 0, segment_alias, SEG, "Segment alias"},
	{"POST", "/batch/", 0, posthog, BIG, "PostHog batch"},
	{"POST", "/capture/", 0, posthog, BIG, "PostHog capture"},
	{"POST", "/capture", 0, posthog, BIG, "PostHog capture"},
	{"POST", "/e/", 0, posthog, BIG, "PostHog capture"},
	{"POST", "/e", 0, posthog, BIG, "PostHog capture"},
	{"POST", "/i/v0/e/", 0, posthog, BIG, "PostHog capture"},
	{"POST", "/i/v0/e", 0, posthog, BIG, "PostHog capture"},
	{"POST", "/track/", 0, posthog, BIG, "PostHog capture"},
	{NULL, "/track", 0, mixpanel_track, BIG, "Mixpanel track (GET ?data= or POST data=)"},
	{NULL, "/engage", 0, mixpanel_engage, BIG, "Mixpanel people"},
	{NULL, "/engage/", 0, mixpanel_engage, BIG, "Mixpanel people"},
	{NULL, "/groups", 0, mixpanel_groups, BIG, "Mixpanel groups"},
	{NULL, "/groups/", 0, mixpanel_groups, BIG, "Mixpanel groups"},
	{"POST", "/2/httpapi", 0, amplitude, BIG, "Amplitude HTTP V2"},
	/* /batch is Amplitude's batch API and /batch/ PostHog's; ingest() also
	 * tells them apart by the body, since proxies add or drop slashes. */
	{"POST", "/batch", 0, amplitude, BIG, "Amplitude batch"},
};
const size_t fw_ningest_routes = FW_ARRAY_LEN(fw_ingest_routes);
