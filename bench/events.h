/* bench/events.h — realistic Segment-spec messages for the benchmarks.
 *
 * Shared by bench/loadgen.c (POST /v1/batch bodies) and bench/gen-ndjson.c
 * (the `flywheel import` file). Header-only, libc only.
 *
 * Every message carries a messageId shaped like the one @segment/analytics-node
 * 3.1.0 sends: "node-next-<epoch ms>-<uuid>". The uuid is
 *   RRRRRRRR-CCCC-4xxx-axxx-SSSSSSSSSSSS
 * where R is a per-run random id, C a stream id (connection / file part) and S a
 * 12-hex-digit sequence number. ev_write() reports where S sits in the output so
 * the load generator can patch it before every send (fixed width, so bodies keep
 * their length) and never send the same id twice.
 */
#ifndef FLYWHEEL_BENCH_EVENTS_H
#define FLYWHEEL_BENCH_EVENTS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct {
    uint64_t s;
} ev_rng;

static inline uint64_t ev_next(ev_rng *r) {
    /* xorshift64* */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}
static inline uint32_t ev_below(ev_rng *r, uint32_t n) {
    return (uint32_t)(((ev_next(r) >> 32) * (uint64_t)n) >> 32);
}
static inline void ev_seed(ev_rng *r, uint64_t seed) {
    r->s = seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
    if (!r->s) r->s = 1;
    for (int i = 0; i < 4; i++) ev_next(r);
}

#define EV_PICK(r, arr) ((arr)[ev_below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

static const char *const ev_track_names[] = {
    "Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Signed Up",
    "Feature Used",   "Button Clicked", "Report Exported", "Invite Sent",    "Search Performed"};
static const char *const ev_categories[] = {"Shoes", "Outerwear", "Accessories", "Electronics", "Books",
                                            "Home & Garden"};
static const char *const ev_brands[] = {"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"};
static const char *const ev_plans[] = {"free", "starter", "pro", "enterprise"};
static const char *const ev_features[] = {"dashboards", "funnels", "retention", "cohorts", "alerts",
                                          "sql_editor", "exports"};
static const char *const ev_methods[] = {"email", "google", "github", "sso"};
static const char *const ev_referrers[] = {"newsletter", "google", "twitter", "direct", "partner_blog"};
static const char *const ev_locales[] = {"en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "pt-BR", "es-ES"};
static const char *const ev_paths[] = {"/pricing", "/docs/getting-started", "/blog/group-commit", "/features",
                                       "/signup", "/app/dashboards"};
static const char *const ev_titles[] = {"Pricing – Acme", "Getting started – Acme Docs", "Group commit – Acme Blog",
                                        "Features – Acme", "Sign up – Acme", "Dashboards – Acme"};
static const char *const ev_uas[] = {"Mozilla/5.0 (Macintosh) Safari/605.1.15", "Mozilla/5.0 (Windows NT 10.0) Chrome/124.0",
                                     "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0", "Mozilla/5.0 (iPhone) Mobile/15E148"};
static const char *const ev_first[] = {"Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Linus"};
static const char *const ev_last[] = {"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton",
                                      "Torvalds"};

/* ISO-8601 UTC with milliseconds, 24 chars + NUL (ms >= 0, year < 10000). */
static inline void ev_iso(char out[32], int64_t ms) {
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
             (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u, (unsigned)(ms % 1000) % 1000u);
}

enum { EV_TRACK = 0, EV_IDENTIFY, EV_GROUP, EV_PAGE };

typedef struct {
    uint32_t run_id;   /* per-run random */
    uint32_t stream;   /* connection / file part, 16 bits used */
    int64_t id_ms;     /* the <epoch ms> in node-next-<ms>- */
    uint32_t n_users;  /* user population */
    uint32_t n_groups; /* account population */
} ev_ctx;

/* Append one message (no trailing newline) to buf; returns its length, or 0 if
 * cap is too small. *seq_off (if not NULL) receives the offset, inside buf, of
 * the 12 hex digits of the sequence part of messageId. */
static inline size_t ev_write(char *buf, size_t cap, ev_rng *r, const ev_ctx *c, int kind, uint64_t seq,
                              int64_t ts_ms, size_t *seq_off) {
    char ts[32];
    ev_iso(ts, ts_ms);
    uint32_t user = ev_below(r, c->n_users ? c->n_users : 1);
    uint32_t grp = user % (c->n_groups ? c->n_groups : 1);
    int anon_only = ev_below(r, 10) == 0; /* 10 %: not yet identified */
    char ids[128];
    if (anon_only)
        snprintf(ids, sizeof ids, "\"anonymousId\":\"anon_%08x%04x\"", (unsigned)(ev_next(r) >> 32),
                 (unsigned)user & 0xffff);
    else
        snprintf(ids, sizeof ids, "\"userId\":\"user_%07u\"", (unsigned)user);

    char body[768];
    int n = 0;
    switch (kind) {
    case EV_IDENTIFY: {
        unsigned f = ev_below(r, 8), l = ev_below(r, 8);
        n = snprintf(body, sizeof body,
                     "\"type\":\"identify\",%s,\"traits\":{\"email\":\"%s.%s%u@%s.example\",\"name\":\"%s %s\","
                     "\"plan\":\"%s\",\"company\":{\"id\":\"ws_%05u\",\"name\":\"%s Inc\"},"
                     "\"created_at\":\"2024-01-15T09:30:00.000Z\",\"logins\":%u}",
                     ids, ev_first[f], ev_last[l], (unsigned)user, ev_brands[grp % 6], ev_first[f], ev_last[l],
                     EV_PICK(r, ev_plans), (unsigned)grp, ev_brands[grp % 6], 1 + ev_below(r, 500));
        break;
    }
    case EV_GROUP:
        n = snprintf(body, sizeof body,
                     "\"type\":\"group\",%s,\"groupId\":\"ws_%05u\",\"traits\":{\"name\":\"%s Inc\","
                     "\"domain\":\"%s%u.example\",\"employees\":%u,\"plan\":\"%s\",\"industry\":\"Software\","
                     "\"created_at\":\"2023-06-01T12:00:00.000Z\"}",
                     ids, (unsigned)grp, ev_brands[grp % 6], ev_brands[grp % 6], (unsigned)grp,
                     5 + ev_below(r, 5000), EV_PICK(r, ev_plans));
        break;
    case EV_PAGE: {
        unsigned p = ev_below(r, 6);
        n = snprintf(body, sizeof body,
                     "\"type\":\"page\",%s,\"name\":\"%s\",\"category\":\"Marketing\",\"properties\":{"
                     "\"url\":\"https://acme.example%s\",\"path\":\"%s\",\"title\":\"%s\","
                     "\"referrer\":\"https://www.google.com/\",\"category\":\"Marketing\"}",
                     ids, ev_titles[p], ev_paths[p], ev_paths[p], ev_titles[p]);
        break;
    }
    default: {
        /* property shape of each ev_track_names entry: 0 product, 1 signup, 2 feature, 3 order */
        static const unsigned char shape[] = {0, 0, 0, 3, 1, 2, 2, 2, 2, 0};
        unsigned ti = ev_below(r, (uint32_t)(sizeof ev_track_names / sizeof ev_track_names[0]));
        const char *name = ev_track_names[ti];
        char props[384];
        switch (shape[ti]) {
        default:
            snprintf(props, sizeof props,
                     "\"product_id\":\"sku_%06u\",\"category\":\"%s\",\"brand\":\"%s\",\"price\":%u.%02u,"
                     "\"currency\":\"USD\",\"workspace_id\":\"ws_%05u\"",
                     ev_below(r, 1000000), EV_PICK(r, ev_categories), EV_PICK(r, ev_brands), 5 + ev_below(r, 400),
                     ev_below(r, 100), (unsigned)grp);
            break;
        case 1:
            snprintf(props, sizeof props,
                     "\"method\":\"%s\",\"referrer\":\"%s\",\"trial\":%s,\"plan\":\"%s\",\"workspace_id\":\"ws_%05u\"",
                     EV_PICK(r, ev_methods), EV_PICK(r, ev_referrers), ev_below(r, 2) ? "true" : "false",
                     EV_PICK(r, ev_plans), (unsigned)grp);
            break;
        case 2:
            snprintf(props, sizeof props,
                     "\"feature\":\"%s\",\"plan\":\"%s\",\"seats\":%u,\"duration_ms\":%u,\"workspace_id\":\"ws_%05u\","
                     "\"beta\":%s",
                     EV_PICK(r, ev_features), EV_PICK(r, ev_plans), 1 + ev_below(r, 200), ev_below(r, 30000),
                     (unsigned)grp, ev_below(r, 5) ? "false" : "true");
            break;
        case 3:
            snprintf(props, sizeof props,
                     "\"order_id\":\"ord_%08x\",\"total\":%u.%02u,\"revenue\":%u.%02u,\"currency\":\"USD\","
                     "\"coupon\":%s,\"products\":%u,\"workspace_id\":\"ws_%05u\"",
                     (unsigned)(ev_next(r) >> 32), 10 + ev_below(r, 900), ev_below(r, 100), 8 + ev_below(r, 800),
                     ev_below(r, 100), ev_below(r, 3) ? "null" : "\"SPRING24\"", 1 + ev_below(r, 6), (unsigned)grp);
            break;
        }
        n = snprintf(body, sizeof body, "\"type\":\"track\",\"event\":\"%s\",%s,\"properties\":{%s}", name, ids,
                     props);
        break;
    }
    }
    if (n <= 0 || (size_t)n >= sizeof body) return 0;

    char uuid_head[64];
    snprintf(uuid_head, sizeof uuid_head, "node-next-%lld-%08x-%04x-4%03x-a%03x-", (long long)c->id_ms,
             (unsigned)c->run_id, (unsigned)c->stream & 0xffff, (unsigned)ev_below(r, 4096),
             (unsigned)ev_below(r, 4096));
    int m = snprintf(buf, cap,
                     "{\"timestamp\":\"%s\",\"integrations\":{},%s,\"context\":{\"library\":{\"name\":"
                     "\"@segment/analytics-node\",\"version\":\"3.1.0\"},\"locale\":\"%s\","
                     "\"userAgent\":\"%s\"},\"messageId\":\"%s%012llx\",\"_metadata\":{\"nodeVersion\":\"v20.20.2\","
                     "\"jsRuntime\":\"node\"}}",
                     ts, body, EV_PICK(r, ev_locales),
                     EV_PICK(r, ev_uas), uuid_head, (unsigned long long)(seq & 0xffffffffffffULL));
    if (m <= 0 || (size_t)m >= cap) return 0;
    if (seq_off) {
        /* the sequence digits are the 12 chars before "\",\"_metadata\"" */
        const char *tail = "\",\"_metadata\":{";
        char *t = strstr(buf, tail);
        *seq_off = t ? (size_t)(t - buf) - 12 : 0;
    }
    return (size_t)m;
}

/* Overwrite 12 hex digits at p with seq. */
static inline void ev_patch_seq(char *p, uint64_t seq) {
    static const char hx[] = "0123456789abcdef";
    for (int i = 11; i >= 0; i--) {
        p[i] = hx[seq & 15];
        seq >>= 4;
    }
}

#endif
