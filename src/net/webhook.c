/*
 * webhook.c — the webhook delivery worker (outbox.h) and its helpers
 * (webhook.h): posts each due outbox row to its destination, signed as
 * Standard Webhooks (standardwebhooks.com) sign, and records the outcome.
 *
 * One attempt of one row:
 *
 *   destination still in the config? ── no ──> stays pending, retried on the
 *        │ yes                                 schedule, never dead-lettered
 *   secret, url and every address of the host allowed? ── no ──> dead at once
 *        │ yes     (a private address without allow_private, bad secret or url:
 *        │          retrying cannot help; fixed config + replay can)
 *   POST, pinned (CURLOPT_RESOLVE) to the addresses that were checked, no
 *   redirects, webhooks.timeout_seconds for the whole attempt
 *        │
 *   2xx ──> delivered          anything else (non-2xx, timeout, connection
 *                              error) ──> pending again at now + max(schedule
 *                              [n-1], Retry-After), or dead once that is past
 *                              cycle start + give_up_after
 *
 * Threads: FW_WEBHOOK_THREADS workers share the outbox; an in-memory set of
 * the rows in flight keeps two of them off one row. A worker sleeps until a
 * kick (fw_webhooks_kick, a finished attempt), the earliest next_at of the
 * outbox, or FW_WEBHOOK_IDLE_MS, whichever comes first. Stopping sets a flag
 * that curl's progress callback reads, so transfers in flight end within
 * about a second; an attempt cut short by stopping is not recorded (the row
 * stays pending and is sent again, with the same webhook-id, after restart).
 */
#include "flywheel/decode.h"
#include "flywheel/json.h"
#include "flywheel/outbox.h"
#include "flywheel/timeutil.h"
#include "flywheel/webhook.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FW_WEBHOOK_THREADS 4
#define FW_WEBHOOK_IDLE_MS 2000            /* look at the outbox at least this often */
#define FW_WEBHOOK_KEEP_DELIVERED_DAYS 30  /* delivered rows older than this are pruned */
#define FW_WEBHOOK_SNIPPET 200             /* bytes of a failed answer kept in last_error */

/* ---- settings and the retry plan ---- */

static const double DEFAULT_SCHEDULE_S[] = {5, 300, 1800, 7200, 18000, 36000};

void fw_webhooks_effective(const struct fw_webhooks *w, struct fw_webhooks *out)
{
	*out = *w;
	if (!out->nretry || out->nretry > FW_ARRAY_LEN(out->retry_schedule_s)) {
		out->nretry = FW_ARRAY_LEN(DEFAULT_SCHEDULE_S);
		memcpy(out->retry_schedule_s, DEFAULT_SCHEDULE_S, sizeof DEFAULT_SCHEDULE_S);
	}
	if (!(out->give_up_after_s > 0))
		out->give_up_after_s = 72 * 3600;
	if (out->timeout_s <= 0)
		out->timeout_s = 10;
}

/* The wait after the n-th failed attempt of a cycle: the last entry repeats. */
static int64_t schedule_wait_ms(const struct fw_webhooks *w, int n)
{
	size_t k = n < 1 ? 0 : (size_t)(n - 1);
	if (k >= w->nretry)
		k = w->nretry - 1;
	double s = w->retry_schedule_s[k];
	return s > 0 ? (int64_t)llround(s * 1000) : 0;
}

int64_t fw_webhook_next_attempt(const struct fw_webhooks *given, int n, int64_t cycle_ms,
				int64_t now_ms, int64_t retry_after_ms)
{
	struct fw_webhooks w;
	fw_webhooks_effective(given, &w);
	int64_t wait = schedule_wait_ms(&w, n);
	if (retry_after_ms > wait)
		wait = retry_after_ms;
	int64_t next = now_ms + wait;
	if (next > cycle_ms + (int64_t)llround(w.give_up_after_s * 1000))
		return 0;
	return next;
}

int64_t fw_webhook_retry_after_ms(const char *v, int64_t now_ms)
{
	if (!v)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		char *end;
		unsigned long long s = strtoull(v, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end)
			return -1;
		return s > 100ULL * 365 * 86400 ? 100LL * 365 * 86400 * 1000 : (int64_t)s * 1000;
	}
	time_t t = curl_getdate(v, NULL); /* IMF-fixdate, RFC 850 and asctime forms */
	if (t == (time_t)-1)
		return -1;
	int64_t ms = (int64_t)t * 1000 - now_ms;
	return ms > 0 ? ms : 0;
}

/* ---- signing ---- */

int fw_webhook_key(const char *secret, uint8_t *key, size_t cap, size_t *len, struct fw_err *err)
{
	*len = 0;
	if (!secret || !*secret)
		return fw_error(err, FW_EINVAL, "the secret is empty");
	if (strncmp(secret, "whsec_", 6) != 0) {
		size_t n = strlen(secret);
		if (n > cap)
			return fw_error(err, FW_EINVAL, "the secret is longer than %zu bytes", cap);
		memcpy(key, secret, n);
		*len = n;
		return 0;
	}
	/* strict standard base64 (fw_base64_decode also takes the URL-safe
	 * alphabet and spaces, which a Standard Webhooks secret never has) */
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = secret + 6;
	size_t nchars = strspn(p, alphabet), pad = strspn(p + nchars, "=");
	if (p[nchars] && p[nchars] != '=')
		return fw_error(err, FW_EINVAL,
				"the secret is not valid base64 after \"whsec_\" (character %zu, "
				"'%c'): copy it again from where it was made",
				nchars + 1, p[nchars]);
	if (p[nchars + pad] || pad > 2 || nchars % 4 == 1 || (pad && (nchars + pad) % 4 != 0))
		return fw_error(err, FW_EINVAL,
				"the secret is not valid base64 after \"whsec_\" (bad length or padding)");
	struct fw_buf raw = {0};
	int rc = fw_base64_decode(p, nchars, &raw, err);
	if (!rc && !raw.len)
		rc = fw_error(err, FW_EINVAL, "the secret has no key after \"whsec_\"");
	if (!rc && raw.len > cap)
		rc = fw_error(err, FW_EINVAL, "the secret is longer than %zu bytes", cap);
	if (!rc) {
		memcpy(key, raw.data, raw.len);
		*len = raw.len;
	}
	fw_buf_release(&raw);
	return rc;
}

void fw_webhook_sign(const uint8_t *key, size_t keylen, const char *webhook_id, int64_t timestamp_s,
		     const char *body, size_t len, char out[FW_WEBHOOK_SIG_MAX])
{
	char ts[24];
	int tl = snprintf(ts, sizeof ts, "%lld", (long long)timestamp_s);
	struct fw_buf msg = {0};
	fw_buf_adds(&msg, webhook_id);
	fw_buf_addc(&msg, '.');
	fw_buf_add(&msg, ts, (size_t)tl);
	fw_buf_addc(&msg, '.');
	fw_buf_add(&msg, body, len);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg.data, msg.len, mac, &maclen);
	fw_buf_release(&msg);
	memcpy(out, "v1,", 3);
	EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)maclen); /* 44 chars + NUL */
}

/* ---- the private-address guard ---- */

static const struct {
	uint32_t net, mask;
	const char *why;
} V4_REFUSED[] = {
	{0x00000000, 0xff000000, "unspecified"},    /* 0.0.0.0/8 "this network" */
	{0x7f000000, 0xff000000, "loopback"},       /* 127.0.0.0/8 */
	{0x0a000000, 0xff000000, "private"},        /* 10.0.0.0/8 */
	{0xac100000, 0xfff00000, "private"},        /* 172.16.0.0/12 */
	{0xc0a80000, 0xffff0000, "private"},        /* 192.168.0.0/16 */
	{0x64400000, 0xffc00000, "shared (CGNAT)"}, /* 100.64.0.0/10 */
	{0xa9fe0000, 0xffff0000, "link-local"},     /* 169.254.0.0/16: cloud metadata lives here */
	{0xe0000000, 0xf0000000, "multicast"},      /* 224.0.0.0/4 */
	{0xf0000000, 0xf0000000, "reserved"},       /* 240.0.0.0/4 and 255.255.255.255 */
};

static const char *v4_class(const uint8_t *b)
{
	uint32_t a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	for (size_t i = 0; i < FW_ARRAY_LEN(V4_REFUSED); i++)
		if ((a & V4_REFUSED[i].mask) == V4_REFUSED[i].net)
			return V4_REFUSED[i].why;
	return NULL;
}

static const char *v6_class(const uint8_t *b)
{
	static const uint8_t zero[16];
	if (!memcmp(b, zero, 16))
		return "unspecified";
	if (!memcmp(b, zero, 15) && b[15] == 1)
		return "loopback";
	if (!memcmp(b, zero, 10) && b[10] == 0xff && b[11] == 0xff) /* ::ffff:a.b.c.d mapped */
		return v4_class(b + 12);
	if (!memcmp(b, zero, 12)) /* ::a.b.c.d, the old "compatible" form */
		return v4_class(b + 12);
	if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && !memcmp(b + 4, zero, 8))
		return v4_class(b + 12); /* 64:ff9b::/96 NAT64 */
	if (b[0] == 0x20 && b[1] == 0x02)
		return v4_class(b + 2); /* 2002::/16 6to4 */
	if ((b[0] & 0xfe) == 0xfc)
		return "private"; /* fc00::/7 unique local */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "link-local"; /* fe80::/10 */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return "private"; /* fec0::/10 site-local (deprecated) */
	if (b[0] == 0xff)
		return "multicast"; /* ff00::/8 */
	return NULL;
}

const char *fw_webhook_addr_class(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_class((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return v6_class(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
	return "reserved";
}

int fw_webhook_resolve(const char *host, int port, int allow_private, char *pinned, size_t cap,
		       struct fw_err *err)
{
	char portstr[16];
	snprintf(portstr, sizeof portstr, "%d", port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int g = getaddrinfo(host, portstr, &hints, &res);
	if (g)
		return fw_error(err, FW_EIO, "cannot resolve %s: %s", host, gai_strerror(g));
	size_t len = 0;
	int rc = 0;
	pinned[0] = 0;
	for (struct addrinfo *ai = res; ai && !rc; ai = ai->ai_next) {
		char txt[INET6_ADDRSTRLEN + 2];
		const void *addr = ai->ai_family == AF_INET6
					   ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
					   : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    !inet_ntop(ai->ai_family, addr, txt, sizeof txt))
			continue;
		const char *why = fw_webhook_addr_class(ai->ai_addr);
		if (why && !allow_private) {
			rc = fw_error(err, FW_EINVAL,
				      "%s resolves to %s, a %s address, and webhooks are not sent to "
				      "loopback, private, link-local or other internal addresses; if this "
				      "destination is meant to be internal, set allow_private: true on it in "
				      "flywheel.yaml, restart, and replay the delivery",
				      host, txt, why);
			break;
		}
		char item[INET6_ADDRSTRLEN + 4];
		int n = snprintf(item, sizeof item, ai->ai_family == AF_INET6 ? "[%s]" : "%s", txt);
		if (strstr(pinned, item)) /* getaddrinfo may list one address twice */
			continue;
		if (len + (size_t)n + 2 > cap)
			break;
		len += (size_t)snprintf(pinned + len, cap - len, "%s%s", len ? "," : "", item);
	}
	freeaddrinfo(res);
	if (!rc && !len)
		rc = fw_error(err, FW_EIO, "%s has no IPv4 or IPv6 address", host);
	return rc;
}

/* ---- the body ---- */

void fw_webhook_body(const struct fw_destination *d, const char *envelope, size_t len,
		     struct fw_buf *out)
{
	if (d->format != FW_DEST_SLACK) {
		fw_buf_add(out, envelope, len);
		return;
	}
	struct fw_arena a = {0};
	struct fw_json *root;
	struct fw_json_error je;
	struct fw_str text = {0};
	if (!fw_json_parse(&a, envelope, len, &root, &je)) {
		text = fw_json_get_str(fw_json_get_obj(root, "data"), "summary");
		if (!text.len)
			text = fw_json_get_str(root, "type");
	}
	fw_buf_adds(out, "{\"text\":");
	fw_json_write_str(out, text.p ? text.p : "", text.len);
	fw_buf_addc(out, '}');
	fw_arena_release(&a);
}

/* ---- the worker ---- */

struct fw_webhook_worker {
	struct fw_webhooks settings; /* effective: defaults where the config left a field 0 */
	struct fw_rulesdb *db;
	const struct fw_config *cfg;
	pthread_mutex_t mu;
	pthread_cond_t cond;      /* on CLOCK_MONOTONIC */
	uint64_t kicks;           /* bumped by fw_webhooks_kick and by finished attempts */
	uint64_t finished;        /* attempts finished: a due list read before one is stale */
	atomic_int stop;
	int64_t inflight[FW_WEBHOOK_THREADS]; /* row ids being posted; 0 = free slot */
	pthread_t threads[FW_WEBHOOK_THREADS];
	int nthreads;
	int64_t last_prune_ms;
};

enum outcome {
	OUT_DELIVERED,
	OUT_RETRY,   /* on the schedule, dead once past give-up */
	OUT_REFUSED, /* dead now: only a config change and a replay can help */
	OUT_MISSING, /* destination not configured: pending on the schedule, never dead */
	OUT_ABORTED, /* stopped mid-attempt: not an attempt */
};

struct result {
	enum outcome kind;
	int http_status;
	int64_t retry_after_ms;
	char error[768];
};

struct sink {
	char snippet[FW_WEBHOOK_SNIPPET + 1];
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t bytes = size * n;
	for (size_t i = 0; i < bytes && s->len < FW_WEBHOOK_SNIPPET; i++) {
		unsigned char c = (unsigned char)p[i];
		s->snippet[s->len++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	s->snippet[s->len] = 0;
	return bytes;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct fw_webhook_worker *w = ctx;
	return atomic_load(&w->stop) ? 1 : 0;
}

static const struct fw_destination *find_destination(const struct fw_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ndestinations; i++)
		if (cfg->destinations[i].name && !strcmp(cfg->destinations[i].name, name))
			return &cfg->destinations[i];
	return NULL;
}

/* One POST of `row` to `d`, filling res. */
static void post(struct fw_webhook_worker *w, const struct fw_destination *d, const struct fw_outbox_row *row,
		 struct result *res)
{
	struct fw_err err = {0};
	uint8_t key[512];
	size_t keylen = 0;
	if (d->secret && *d->secret && fw_webhook_key(d->secret, key, sizeof key, &keylen, &err)) {
		res->kind = OUT_REFUSED;
		snprintf(res->error, sizeof res->error, "destination \"%s\": %s", d->name, err.msg);
		return;
	}
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	if (!u || !d->url || curl_url_set(u, CURLUPART_URL, d->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		res->kind = OUT_REFUSED;
		snprintf(res->error, sizeof res->error,
			 "destination \"%s\": url \"%.300s\" is not an http:// or https:// URL", d->name,
			 d->url ? d->url : "");
		curl_free(scheme);
		curl_free(host);
		curl_free(port);
		curl_url_cleanup(u);
		return;
	}
	curl_url_cleanup(u);
	char bare[256]; /* the host without an IPv6 literal's brackets */
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']')
		snprintf(bare, sizeof bare, "%.*s", (int)(hl - 2), host + 1);
	else
		snprintf(bare, sizeof bare, "%s", host);
	int portn = atoi(port);
	char pinned[1024];
	int rc = fw_webhook_resolve(bare, portn, d->allow_private, pinned, sizeof pinned, &err);
	if (rc) {
		res->kind = rc == FW_EINVAL ? OUT_REFUSED : OUT_RETRY;
		snprintf(res->error, sizeof res->error, "destination \"%s\": %s", d->name, err.msg);
		curl_free(scheme);
		curl_free(host);
		curl_free(port);
		return;
	}
	/* a literal address needs no pinning (curl does not resolve it) */
	struct in6_addr probe;
	int literal = inet_pton(AF_INET, bare, &probe) == 1 || inet_pton(AF_INET6, bare, &probe) == 1;

	struct fw_buf body = {0}, line = {0};
	fw_webhook_body(d, row->body, strlen(row->body), &body);
	struct curl_slist *hdrs = NULL, *resolve = NULL;
	int64_t ts = fw_now_ms() / 1000;
	fw_buf_printf(&line, "webhook-id: %s", row->webhook_id);
	hdrs = curl_slist_append(hdrs, line.data);
	fw_buf_reset(&line);
	fw_buf_printf(&line, "webhook-timestamp: %lld", (long long)ts);
	hdrs = curl_slist_append(hdrs, line.data);
	if (keylen) {
		char sig[FW_WEBHOOK_SIG_MAX];
		fw_webhook_sign(key, keylen, row->webhook_id, ts, body.data, body.len, sig);
		fw_buf_reset(&line);
		fw_buf_printf(&line, "webhook-signature: %s", sig);
		hdrs = curl_slist_append(hdrs, line.data);
	}
	hdrs = curl_slist_append(hdrs, "content-type: application/json");
	hdrs = curl_slist_append(hdrs, "user-agent: Flywheel-Webhooks/1");
	hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
	if (!literal) {
		fw_buf_reset(&line);
		fw_buf_printf(&line, "%s:%d:%s", bare, portn, pinned);
		resolve = curl_slist_append(NULL, line.data);
	}

	struct sink sink = {{0}, 0};
	char ebuf[CURL_ERROR_SIZE] = "";
	CURL *c = curl_easy_init();
	if (!c) {
		res->kind = OUT_RETRY;
		snprintf(res->error, sizeof res->error, "cannot start an HTTP transfer (out of memory?)");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, d->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, ""); /* a proxy would connect to what we did not check */
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (resolve)
		curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)w->settings.timeout_s * 1000);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, w);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	CURLcode cc = curl_easy_perform(c);
	if (cc == CURLE_ABORTED_BY_CALLBACK && atomic_load(&w->stop)) {
		res->kind = OUT_ABORTED;
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		res->kind = OUT_RETRY;
		snprintf(res->error, sizeof res->error,
			 "no answer within %d s (webhooks.timeout_seconds)", w->settings.timeout_s);
	} else if (cc != CURLE_OK) {
		res->kind = OUT_RETRY;
		snprintf(res->error, sizeof res->error, "%s", ebuf[0] ? ebuf : curl_easy_strerror(cc));
	} else {
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		res->http_status = (int)status;
		if (status >= 200 && status < 300) {
			res->kind = OUT_DELIVERED;
		} else {
			res->kind = OUT_RETRY;
			struct curl_header *ra;
			if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &ra) == CURLHE_OK)
				res->retry_after_ms = fw_webhook_retry_after_ms(ra->value, fw_now_ms());
			snprintf(res->error, sizeof res->error, "HTTP %ld%s%s%s", status,
				 status >= 300 && status < 400
					 ? " (redirects are not followed: set the destination's url to "
					   "the final address)"
					 : "",
				 sink.len ? ": " : "", sink.snippet);
		}
	}
	curl_easy_cleanup(c);
out:
	curl_slist_free_all(hdrs);
	curl_slist_free_all(resolve);
	fw_buf_release(&body);
	fw_buf_release(&line);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
}

/* One attempt of `row`, recorded. Returns 0, or the error of recording it
 * (the row is then still due: the caller backs off before trying again). */
static int deliver(struct fw_webhook_worker *w, const struct fw_outbox_row *row)
{
	int64_t at = fw_now_ms(), t0 = fw_mono_ns();
	struct result res = {0};
	const struct fw_destination *d = find_destination(w->cfg, row->destination);
	if (!d) {
		res.kind = OUT_MISSING;
		snprintf(res.error, sizeof res.error,
			 "no destination is named \"%s\" in the configuration now; the delivery is kept "
			 "and retried: add the destination back to flywheel.yaml and restart",
			 row->destination);
	} else {
		post(w, d, row, &res);
	}
	if (res.kind == OUT_ABORTED)
		return 0;
	int64_t now = fw_now_ms();
	struct fw_outbox_attempt att = {
		.at_ms = at,
		.http_status = res.http_status,
		.error = res.kind == OUT_DELIVERED ? NULL : res.error,
		.duration_ms = (fw_mono_ns() - t0) / 1000000,
	};
	enum fw_outbox_status st = FW_OUTBOX_PENDING;
	int64_t next = 0;
	if (res.kind == OUT_DELIVERED) {
		st = FW_OUTBOX_DELIVERED;
	} else if (res.kind == OUT_REFUSED) {
		st = FW_OUTBOX_DEAD;
	} else if (res.kind == OUT_MISSING) {
		next = now + schedule_wait_ms(&w->settings, row->cycle_attempts + 1);
	} else {
		next = fw_webhook_next_attempt(&w->settings, row->cycle_attempts + 1, row->cycle_ms, now,
					       res.retry_after_ms);
		if (!next) {
			st = FW_OUTBOX_DEAD;
			size_t n = strlen(res.error);
			snprintf(res.error + n, sizeof res.error - n,
				 "; gave up: the next attempt would be more than %g h after the first "
				 "(webhooks.give_up_after_hours); replay it once the destination is fixed",
				 w->settings.give_up_after_s / 3600);
		}
	}
	struct fw_err err = {0};
	int rc = fw_outbox_record(w->db, row->id, &att, st, next, &err);
	if (rc)
		fprintf(stderr, "flywheel: webhooks: cannot record delivery %lld: %s (will retry)\n",
			(long long)row->id, err.msg);
	return rc;
}

static int in_flight(struct fw_webhook_worker *w, int64_t id)
{
	for (int i = 0; i < FW_WEBHOOK_THREADS; i++)
		if (w->inflight[i] == id)
			return 1;
	return 0;
}

static void prune(struct fw_webhook_worker *w, int64_t now)
{
	pthread_mutex_lock(&w->mu);
	int due = now - w->last_prune_ms > 3600 * 1000LL;
	if (due)
		w->last_prune_ms = now;
	pthread_mutex_unlock(&w->mu);
	struct fw_err err = {0};
	if (due && fw_outbox_prune(w->db, now - FW_WEBHOOK_KEEP_DELIVERED_DAYS * FW_MS_PER_DAY, NULL,
				   &err))
		fprintf(stderr, "flywheel: webhooks: %s\n", err.msg);
}

static void *worker_main(void *arg)
{
	struct fw_webhook_worker *w = arg;
	struct fw_arena a = {0};
	while (!atomic_load(&w->stop)) {
		fw_arena_reset(&a);
		struct fw_err err = {0};
		int64_t now = fw_now_ms(), next = 0;
		prune(w, now);
		pthread_mutex_lock(&w->mu);
		uint64_t finished = w->finished;
		pthread_mutex_unlock(&w->mu);
		struct fw_outbox_row *rows = NULL;
		size_t n = 0;
		int rc = fw_outbox_due(w->db, now, FW_WEBHOOK_THREADS + 1, &a, &rows, &n, &err);
		int have_next = 0;
		if (!rc && !n) {
			rc = fw_outbox_next_at(w->db, &next, &err);
			have_next = rc == 0;
			if (rc == FW_ENOTFOUND)
				rc = 0;
		}
		if (rc) {
			fprintf(stderr, "flywheel: webhooks: %s (will retry)\n", err.msg);
			n = 0;
		}
		pthread_mutex_lock(&w->mu);
		if (w->finished != finished) {
			/* another thread recorded an attempt since the list was read: a
			 * row in it may be delivered or rescheduled already */
			pthread_mutex_unlock(&w->mu);
			continue;
		}
		const struct fw_outbox_row *pick = NULL;
		for (size_t i = 0; i < n && !pick; i++)
			if (!in_flight(w, rows[i].id))
				pick = &rows[i];
		if (pick) {
			int slot = 0;
			while (w->inflight[slot])
				slot++;
			w->inflight[slot] = pick->id;
			pthread_mutex_unlock(&w->mu);
			rc = deliver(w, pick);
			pthread_mutex_lock(&w->mu);
			w->inflight[slot] = 0;
			w->finished++;
			w->kicks++; /* a row moved on: the others look again */
			pthread_cond_broadcast(&w->cond);
			if (!rc) {
				pthread_mutex_unlock(&w->mu);
				continue;
			}
			have_next = 0; /* the database failed: back off below */
		}
		/* nothing to take (or a database error): sleep until a kick, the next
		 * due row, or the idle tick */
		int64_t wait = rc ? 1000 : FW_WEBHOOK_IDLE_MS;
		if (have_next && next - now < wait)
			wait = next - now < 1 ? 1 : next - now;
		struct timespec dl;
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += wait / 1000;
		dl.tv_nsec += (wait % 1000) * 1000000;
		if (dl.tv_nsec >= 1000000000) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000;
		}
		uint64_t seen = w->kicks;
		while ((rc || w->kicks == seen) && !atomic_load(&w->stop))
			if (pthread_cond_timedwait(&w->cond, &w->mu, &dl))
				break;
		pthread_mutex_unlock(&w->mu);
	}
	fw_arena_release(&a);
	return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void stop_worker(struct fw_webhook_worker *w)
{
	atomic_store(&w->stop, 1);
	pthread_mutex_lock(&w->mu);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int fw_webhooks_start(struct fw_rulesdb *db, const struct fw_config *cfg,
		      struct fw_webhook_worker **out, struct fw_err *err)
{
	*out = NULL;
	pthread_once(&curl_once, init_curl);
	if (curl_init_rc != CURLE_OK)
		return fw_error(err, FW_EIO, "cannot start webhook delivery: libcurl: %s",
				curl_easy_strerror(curl_init_rc));
	struct fw_webhook_worker *w = fw_xcalloc(1, sizeof *w);
	fw_webhooks_effective(&cfg->webhooks, &w->settings);
	w->db = db;
	w->cfg = cfg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	for (int i = 0; i < FW_WEBHOOK_THREADS; i++) {
		if (pthread_create(&w->threads[i], NULL, worker_main, w)) {
			stop_worker(w);
			return fw_error(err, FW_EIO, "cannot start webhook delivery: no more threads");
		}
		w->nthreads++;
	}
	*out = w;
	return 0;
}

void fw_webhooks_kick(struct fw_webhook_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->kicks++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

void fw_webhooks_stop(struct fw_webhook_worker *w)
{
	if (w)
		stop_worker(w);
}
