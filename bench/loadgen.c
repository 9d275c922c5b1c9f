/* bench/loadgen.c — HTTP/1.1 keep-alive load generator for Segment-style batches.
 *
 *   cc -O2 -pthread -o bench/out/loadgen bench/loadgen.c
 *   loadgen --url http://127.0.0.1:PORT [--path /v1/batch] --key KEY [--connections 8]
 *           [--duration 10] [--warmup 1] [--batch 100] [--rate EVENTS_PER_S] [--seed N]
 *           [--max-requests N] [--timeout S] [--pool N] [--label TEXT]
 *
 * One thread per connection, blocking sockets, one request in flight per
 * connection. Request bodies are pre-generated (--pool per connection, each a
 * {"batch":[...100 events...],"writeKey":…,"sentAt":…} of ~500-byte track
 * events); before every send the 12-hex-digit sequence part of each event's
 * messageId is rewritten, so no id repeats within a run, and a per-run random id
 * plus the start time in every messageId keeps runs apart.
 *
 * Closed loop (no --rate): each connection sends the next request as soon as the
 * previous response is complete. Latency = send start -> full response.
 * Open loop (--rate R events/s): every connection has a fixed schedule (request
 * k at t0 + offset + k*interval, interval = connections*batch/R); a request that
 * cannot go out on time because the connection is still busy goes out late, and
 * its latency is measured from its SCHEDULED time (no coordinated omission).
 * Both latencies are reported in open loop (p50_ms/p99_ms from schedule,
 * send_p50_ms/send_p99_ms from actual send).
 *
 * Prints one JSON line on stdout; diagnostics (first errors, first non-2xx
 * answers) on stderr. Bounded by --warmup + --duration (+ --timeout for the
 * requests in flight at the end) and by --max-requests.
 *
 * --mode check: entitlement checks instead of batches (bench/entitlements/):
 * every request is one check, built just before it is sent, with
 * "Authorization: Bearer KEY", against accounts acct_00000 ... (--accounts,
 * 10,000) and the meters and features of bench/entitlements/flywheel.yaml.
 * --check picks the kind:
 *   get        GET /api/v1/entitlements/check?account_id=…&meter=…  (a preflight)
 *   preflight  POST {"account_id","meter","quantity","preflight":true}
 *                meters: api_calls 50 %, storage_mb (quantity 5) 25 %,
 *                active_users (a new value) 15 %, seats 10 %
 *   feature    POST {"account_id","user_id","feature"}: reports 70 %, sso 15 %, export 15 %
 *   feature-anon  the same without user_id (denial and prompt records name no person)
 *   consume    POST {"account_id","user_id","meter","quantity","request_id"} with a
 *                request id unique across runs: api_calls 70 %, storage_mb 20 %,
 *                active_users 10 % (half of them values already counted)
 *   consume-anon  the same without user_id: the `$usage` records name no person
 *                (so the billing thread has no account's seats to recount)
 *   health     GET /healthz (no key, no engine: the HTTP layer alone)
 * --rate is then checks/s; the JSON line adds checks_per_s, check, allowed and
 * denied (answers whose body starts {"allowed":true / false).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "events.h"

/* ---------- options ---------- */
static char g_host[256] = "127.0.0.1";
static char g_port[16] = "8080";
static const char *g_path = "/v1/batch";
static const char *g_key = "";
static const char *g_label = "";
static int g_conns = 8;
static double g_duration = 10;
static double g_warmup = 1;
static int g_batch = 100;
static double g_rate = 0; /* events/s, 0 = closed loop */
static uint64_t g_seed = 1;
static int g_seed_set = 0;
static long g_max_requests = 5000000;
static double g_timeout = 10;
static int g_pool = 16;
static int g_dump = 0;
static const char *g_timeline = NULL;
static int g_check_mode = 0;          /* --mode check */
static const char *g_check = "preflight";
static int g_accounts = 10000;

/* ---------- shared state ---------- */
static double g_t0, g_measure_start, g_deadline;
static atomic_long g_issued;
static uint32_t g_run_id;
static int64_t g_start_ms;
static pthread_mutex_t g_diag_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_diag_errors, g_diag_non2xx;
static struct addrinfo *g_addr;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static void sleep_until(double t) {
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}
static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void b64(const char *in, size_t n, char *out) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0, o = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = ((uint32_t)(unsigned char)in[i] << 16) | ((uint32_t)(unsigned char)in[i + 1] << 8) |
                     (unsigned char)in[i + 2];
        out[o++] = t[v >> 18];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = t[(v >> 6) & 63];
        out[o++] = t[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)(unsigned char)in[i + 1] << 8;
        out[o++] = t[v >> 18];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
}

static void diag(int *counter, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void diag(int *counter, const char *fmt, ...) {
    pthread_mutex_lock(&g_diag_lock);
    if (*counter < 5) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "loadgen%s%s: ", *g_label ? " " : "", g_label);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    } else if (*counter == 5) {
        fprintf(stderr, "loadgen%s%s: (further messages of this kind suppressed)\n", *g_label ? " " : "", g_label);
    }
    (*counter)++;
    pthread_mutex_unlock(&g_diag_lock);
}

/* ---------- per connection ---------- */
typedef struct {
    char *data;
    size_t len;
    size_t *seq_off; /* g_batch offsets */
} body_t;

typedef struct {
    int id;
    pthread_t th;
    body_t *bodies;
    char (*hdr)[1024];
    size_t *hlen;
    uint64_t seq;
    /* results */
    float *lat, *slat; /* from schedule (== send in closed loop), from send */
    float *at;         /* scheduled send time, s after the measure start */
    size_t nlat, caplat;
    uint64_t requests, ok, errors, non2xx, events, bytes, connects;
    uint64_t status[600];
    double t_last;
    double max_lat, max_at; /* worst latency (s) and its send time relative to the measure start */
    uint64_t slow100;       /* acknowledged requests slower than 100 ms */
    uint64_t allowed, denied; /* --mode check */
    uint64_t rng;
    char req[2048];
    /* response reader */
    char rb[65536];
    size_t rs, re; /* unread bytes are rb[rs..re) */
} conn_t;

static void build_bodies(conn_t *c) {
    ev_rng r;
    ev_seed(&r, g_seed * 1000003ULL + (uint64_t)c->id * 7919ULL + 17);
    ev_ctx ctx = {.run_id = g_run_id, .stream = (uint32_t)c->id, .id_ms = g_start_ms, .n_users = 200000,
                  .n_groups = 5000};
    c->bodies = calloc((size_t)g_pool, sizeof *c->bodies);
    c->hdr = calloc((size_t)g_pool, sizeof *c->hdr);
    c->hlen = calloc((size_t)g_pool, sizeof *c->hlen);
    char auth_in[512], auth[1024];
    snprintf(auth_in, sizeof auth_in, "%s:", g_key);
    b64(auth_in, strlen(auth_in), auth);
    char sent[32];
    ev_iso(sent, g_start_ms);
    for (int b = 0; b < g_pool; b++) {
        size_t cap = (size_t)g_batch * 1200 + 1024, len = 0;
        char *p = malloc(cap);
        body_t *bd = &c->bodies[b];
        bd->seq_off = calloc((size_t)g_batch, sizeof(size_t));
        len += (size_t)snprintf(p, cap, "{\"batch\":[");
        for (int i = 0; i < g_batch; i++) {
            if (i) p[len++] = ',';
            size_t off = 0;
            int64_t ts = g_start_ms - (int64_t)ev_below(&r, 60000);
            size_t n = ev_write(p + len, cap - len, &r, &ctx, EV_TRACK, c->seq++, ts, &off);
            if (!n) {
                fprintf(stderr, "loadgen: body buffer too small\n");
                exit(2);
            }
            bd->seq_off[i] = len + off;
            len += n;
        }
        len += (size_t)snprintf(p + len, cap - len, "],\"writeKey\":\"%s\",\"sentAt\":\"%s\"}", g_key, sent);
        bd->data = p;
        bd->len = len;
        c->hlen[b] = (size_t)snprintf(c->hdr[b], sizeof c->hdr[b],
                                      "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: analytics-node-next/latest\r\n"
                                      "Content-Type: application/json\r\nAuthorization: Basic %s\r\n"
                                      "Accept: */*\r\nContent-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
                                      g_path, g_host, g_port, auth, len);
    }
}

static int do_connect(conn_t *c) {
    for (struct addrinfo *a = g_addr; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct timeval tv = {.tv_sec = (time_t)g_timeout,
                             .tv_usec = (suseconds_t)((g_timeout - (double)(time_t)g_timeout) * 1e6)};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            c->rs = c->re = 0;
            c->connects++;
            return fd;
        }
        int e = errno;
        close(fd);
        errno = e;
    }
    return -1;
}

static int send_all(int fd, const char *h, size_t hl, const char *b, size_t bl) {
    struct iovec iov[2] = {{(void *)h, hl}, {(void *)b, bl}};
    int idx = 0;
    while (idx < 2) {
        ssize_t n = writev(fd, iov + idx, 2 - idx);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        size_t k = (size_t)n;
        while (idx < 2 && k >= iov[idx].iov_len) {
            k -= iov[idx].iov_len;
            idx++;
        }
        if (idx < 2) {
            iov[idx].iov_base = (char *)iov[idx].iov_base + k;
            iov[idx].iov_len -= k;
        }
    }
    return 0;
}

/* read more bytes into the buffer; 0 on EOF, -1 on error */
static ssize_t fill(conn_t *c, int fd) {
    if (c->rs == c->re) c->rs = c->re = 0;
    if (c->re == sizeof c->rb) {
        if (c->rs == 0) return -2; /* line too long */
        memmove(c->rb, c->rb + c->rs, c->re - c->rs);
        c->re -= c->rs;
        c->rs = 0;
    }
    for (;;) {
        ssize_t n = read(fd, c->rb + c->re, sizeof c->rb - c->re);
        if (n < 0 && errno == EINTR) continue;
        if (n > 0) c->re += (size_t)n;
        return n;
    }
}

/* returns a pointer to a NUL-terminated line (without CRLF) or NULL */
static char *read_line(conn_t *c, int fd, const char **why) {
    for (;;) {
        char *s = c->rb + c->rs;
        char *nl = memchr(s, '\n', c->re - c->rs);
        if (nl) {
            c->rs = (size_t)(nl - c->rb) + 1;
            if (nl > s && nl[-1] == '\r') nl--;
            *nl = 0;
            return s;
        }
        ssize_t n = fill(c, fd);
        if (n <= 0) {
            *why = n == 0 ? "connection closed by server" : n == -2 ? "header line too long"
                   : (errno == EAGAIN || errno == EWOULDBLOCK) ? "timeout waiting for response" : strerror(errno);
            return NULL;
        }
    }
}

/* consume n body bytes; copies up to snip_cap-1 of them into snip */
static int skip_bytes(conn_t *c, int fd, size_t n, char *snip, size_t snip_cap, size_t *snip_len, const char **why) {
    while (n) {
        if (c->rs == c->re) {
            ssize_t k = fill(c, fd);
            if (k <= 0) {
                *why = k == 0 ? "connection closed mid-body"
                       : (errno == EAGAIN || errno == EWOULDBLOCK) ? "timeout reading body" : strerror(errno);
                return -1;
            }
        }
        size_t avail = c->re - c->rs, take = avail < n ? avail : n;
        if (snip && *snip_len + 1 < snip_cap) {
            size_t cp = take < snip_cap - 1 - *snip_len ? take : snip_cap - 1 - *snip_len;
            memcpy(snip + *snip_len, c->rb + c->rs, cp);
            *snip_len += cp;
            snip[*snip_len] = 0;
        }
        c->rs += take;
        n -= take;
    }
    return 0;
}

/* Reads one response. Returns status (>0) or -1. *close_after set when the
 * server asked to close or framed the body by EOF. */
static int read_response(conn_t *c, int fd, int *close_after, char *snip, size_t snip_cap, const char **why) {
    size_t snip_len = 0;
    if (snip_cap) snip[0] = 0;
    *close_after = 0;
    char *line = read_line(c, fd, why);
    if (!line) return -1;
    int status = 0;
    if (strncmp(line, "HTTP/1.", 7) != 0 || strlen(line) < 12 || sscanf(line + 9, "%3d", &status) != 1) {
        *why = "malformed status line";
        return -1;
    }
    int http10 = line[7] == '0';
    long long clen = -1;
    int chunked = 0, conn_close = http10, conn_keep = 0;
    for (;;) {
        line = read_line(c, fd, why);
        if (!line) return -1;
        if (!*line) break;
        if (!strncasecmp(line, "content-length:", 15))
            clen = atoll(line + 15);
        else if (!strncasecmp(line, "transfer-encoding:", 18) && strcasestr(line + 18, "chunked"))
            chunked = 1;
        else if (!strncasecmp(line, "connection:", 11)) {
            if (strcasestr(line + 11, "close")) conn_close = 1;
            if (strcasestr(line + 11, "keep-alive")) conn_keep = 1;
        }
    }
    if (http10 && conn_keep) conn_close = 0;
    if (status == 100) return read_response(c, fd, close_after, snip, snip_cap, why);
    if (chunked) {
        for (;;) {
            line = read_line(c, fd, why);
            if (!line) return -1;
            unsigned long long sz = strtoull(line, NULL, 16);
            if (sz == 0) {
                for (;;) { /* trailers */
                    line = read_line(c, fd, why);
                    if (!line) return -1;
                    if (!*line) break;
                }
                break;
            }
            if (skip_bytes(c, fd, (size_t)sz, snip, snip_cap, &snip_len, why)) return -1;
            line = read_line(c, fd, why);
            if (!line) return -1;
        }
    } else if (clen >= 0) {
        if (skip_bytes(c, fd, (size_t)clen, snip, snip_cap, &snip_len, why)) return -1;
    } else if (status != 204 && status != 304) {
        /* body until EOF */
        for (;;) {
            c->rs = c->re;
            ssize_t k = fill(c, fd);
            if (k == 0) break;
            if (k < 0) {
                *why = "error reading EOF-framed body";
                return -1;
            }
        }
        conn_close = 1;
    }
    *close_after = conn_close;
    return status;
}

static void record(conn_t *c, double lat_sched, double lat_send, double at) {
    if (c->nlat == c->caplat) {
        c->caplat = c->caplat ? c->caplat * 2 : 4096;
        c->lat = realloc(c->lat, c->caplat * sizeof(float));
        c->slat = realloc(c->slat, c->caplat * sizeof(float));
        c->at = realloc(c->at, c->caplat * sizeof(float));
        if (!c->lat || !c->slat || !c->at) {
            fprintf(stderr, "loadgen: out of memory\n");
            exit(2);
        }
    }
    c->lat[c->nlat] = (float)(lat_sched * 1e3);
    c->slat[c->nlat] = (float)(lat_send * 1e3);
    c->at[c->nlat] = (float)at;
    c->nlat++;
}

/* ---------- --mode check ---------- */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* One check request (headers and body) in c->req; returns its length. */
static size_t check_request(conn_t *c, uint64_t seq) {
    char body[512], q[256];
    unsigned a = (unsigned)(rng_next(&c->rng) % (uint64_t)g_accounts), x = (unsigned)(rng_next(&c->rng) % 100);
    size_t bl = 0;
    const char *kind = g_check;
    if (!strcmp(kind, "health"))
        return (size_t)snprintf(c->req, sizeof c->req, "GET /healthz HTTP/1.1\r\nHost: %s:%s\r\nAccept: */*\r\n\r\n",
                                g_host, g_port);
    if (!strcmp(kind, "get") || !strcmp(kind, "preflight")) {
        const char *m = x < 50 ? "api_calls" : x < 75 ? "storage_mb" : x < 90 ? "active_users" : "seats";
        int qty = x >= 50 && x < 75 ? 5 : 1;
        if (kind[0] == 'g') {
            if (x >= 75 && x < 90)
                snprintf(q, sizeof q, "account_id=acct_%05u&meter=%s&value=u_%05u_new", a, m, a);
            else
                snprintf(q, sizeof q, "account_id=acct_%05u&meter=%s&quantity=%d", a, m, qty);
            return (size_t)snprintf(c->req, sizeof c->req,
                                    "GET /api/v1/entitlements/check?%s HTTP/1.1\r\nHost: %s:%s\r\n"
                                    "Authorization: Bearer %s\r\nAccept: */*\r\n\r\n",
                                    q, g_host, g_port, g_key);
        }
        if (x >= 75 && x < 90)
            bl = (size_t)snprintf(body, sizeof body,
                                  "{\"account_id\":\"acct_%05u\",\"meter\":\"%s\",\"value\":\"u_%05u_new\",\"preflight\":true}",
                                  a, m, a);
        else
            bl = (size_t)snprintf(body, sizeof body,
                                  "{\"account_id\":\"acct_%05u\",\"meter\":\"%s\",\"quantity\":%d,\"preflight\":true}", a,
                                  m, qty);
    } else if (!strcmp(kind, "feature")) {
        const char *f = x < 70 ? "reports" : x < 85 ? "sso" : "export";
        bl = (size_t)snprintf(body, sizeof body,
                              "{\"account_id\":\"acct_%05u\",\"user_id\":\"u_%05u_0\",\"feature\":\"%s\"}", a, a, f);
    } else if (!strcmp(kind, "feature-anon")) {
        const char *f = x < 70 ? "reports" : x < 85 ? "sso" : "export";
        bl = (size_t)snprintf(body, sizeof body, "{\"account_id\":\"acct_%05u\",\"feature\":\"%s\"}", a, f);
    } else { /* consume, consume-anon */
        const char *m = x < 70 ? "api_calls" : x < 90 ? "storage_mb" : "active_users";
        char val[64] = "", user[48] = "";
        if (x >= 90)
            snprintf(val, sizeof val, ",\"value\":\"u_%05u_%u\"", a, (unsigned)(rng_next(&c->rng) % 20));
        if (!strcmp(kind, "consume")) snprintf(user, sizeof user, "\"user_id\":\"u_%05u_0\",", a);
        bl = (size_t)snprintf(body, sizeof body,
                              "{\"account_id\":\"acct_%05u\",%s\"meter\":\"%s\",\"quantity\":1%s,"
                              "\"request_id\":\"lg-%lld-%08x-%d-%llu\"}",
                              a, user, m, val, (long long)g_start_ms, (unsigned)g_run_id, c->id, (unsigned long long)seq);
    }
    size_t hl = (size_t)snprintf(c->req, sizeof c->req,
                                 "POST /api/v1/entitlements/check HTTP/1.1\r\nHost: %s:%s\r\n"
                                 "Authorization: Bearer %s\r\nContent-Type: application/json\r\nAccept: */*\r\n"
                                 "Content-Length: %zu\r\n\r\n",
                                 g_host, g_port, g_key, bl);
    if (hl + bl >= sizeof c->req) {
        fprintf(stderr, "loadgen: check request too long\n");
        exit(2);
    }
    memcpy(c->req + hl, body, bl);
    return hl + bl;
}

static void *conn_main(void *arg) {
    conn_t *c = arg;
    int fd = -1;
    uint64_t k = 0;
    double interval = g_rate > 0 ? (double)g_conns * g_batch / g_rate : 0;
    double offset = interval * c->id / g_conns;
    char snip[256];
    for (;;) {
        double now = now_s();
        if (now >= g_deadline) break;
        double sched = now;
        if (interval > 0) {
            sched = g_t0 + offset + (double)k * interval;
            k++;
            if (sched >= g_deadline) break;
            if (sched > now) sleep_until(sched);
        }
        if (atomic_fetch_add(&g_issued, 1) >= g_max_requests) break;
        if (fd < 0) {
            fd = do_connect(c);
            if (fd < 0) {
                c->errors++;
                diag(&g_diag_errors, "conn %d: connect to %s:%s failed: %s", c->id, g_host, g_port, strerror(errno));
                usleep(50000);
                continue;
            }
        }
        const char *hp, *bp;
        size_t hln, bln;
        if (g_check_mode) {
            hp = c->req, hln = check_request(c, c->seq++), bp = "", bln = 0;
        } else {
            body_t *bd = &c->bodies[c->requests % (uint64_t)g_pool];
            for (int i = 0; i < g_batch; i++) ev_patch_seq(bd->data + bd->seq_off[i], c->seq++);
            size_t hi = c->requests % (uint64_t)g_pool;
            hp = c->hdr[hi], hln = c->hlen[hi], bp = bd->data, bln = bd->len;
        }
        c->requests++;
        double t_send = now_s();
        if (send_all(fd, hp, hln, bp, bln) < 0) {
            int e = errno;
            c->errors++;
            diag(&g_diag_errors, "conn %d: send failed after %.1f ms: %s", c->id, (now_s() - t_send) * 1e3,
                 strerror(e));
            close(fd);
            fd = -1;
            continue;
        }
        int close_after = 0;
        const char *why = "";
        int st = read_response(c, fd, &close_after, snip, sizeof snip, &why);
        double t_done = now_s();
        c->t_last = t_done;
        if (st < 0) {
            c->errors++;
            diag(&g_diag_errors, "conn %d: request %llu: %s after %.1f ms", c->id, (unsigned long long)c->requests,
                 why, (t_done - t_send) * 1e3);
            close(fd);
            fd = -1;
            continue;
        }
        c->status[st < 600 ? st : 0]++;
        if (st / 100 == 2) {
            c->ok++;
            if (t_send >= g_measure_start) {
                c->events += (uint64_t)g_batch;
                c->bytes += hln + bln;
                if (g_check_mode && !strncmp(snip, "{\"allowed\":true", 15)) c->allowed++;
                if (g_check_mode && !strncmp(snip, "{\"allowed\":false", 16)) c->denied++;
                record(c, t_done - sched, t_done - t_send, sched - g_measure_start);
                if (t_done - sched > c->max_lat) c->max_lat = t_done - sched, c->max_at = sched - g_measure_start;
                if (t_done - sched > 0.1) c->slow100++;
            }
        } else {
            c->non2xx++;
            diag(&g_diag_non2xx, "conn %d: HTTP %d after %.1f ms: %.200s", c->id, st, (t_done - t_send) * 1e3, snip);
            if (st == 429 || st == 503) usleep(10000); /* be a polite client, still bounded by the deadline */
        }
        if (close_after) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0) close(fd);
    return NULL;
}

static int cmpf(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}
static double pct(const float *v, size_t n, double p) {
    if (!n) return 0;
    size_t i = (size_t)(p / 100.0 * (double)n);
    if (i >= n) i = n - 1;
    return v[i];
}

static void usage(void) {
    fprintf(stderr,
            "usage: loadgen --url http://HOST:PORT [--path /v1/batch] --key KEY [--connections N] [--duration S]\n"
            "               [--warmup S] [--batch N] [--rate EVENTS_PER_S] [--seed N] [--max-requests N]\n"
            "               [--timeout S] [--pool N] [--label TEXT] [--dump] [--timeline FILE]\n"
            "               [--mode batch|check] [--check get|preflight|feature|feature-anon|consume|consume-anon|health]\n"
            "               [--accounts N]\n"
            "  --timeline FILE  write one line per 100 ms of the run: start s, acked requests sent then,\n"
            "                   their max latency ms (from schedule), max latency ms (from send)\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *url = "http://127.0.0.1:8080";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (!strcmp(a, name) && v && (i++, 1))
        if (OPT("--url")) url = v;
        else if (OPT("--path")) g_path = v;
        else if (OPT("--key")) g_key = v;
        else if (OPT("--connections")) g_conns = atoi(v);
        else if (OPT("--duration")) g_duration = atof(v);
        else if (OPT("--warmup")) g_warmup = atof(v);
        else if (OPT("--batch")) g_batch = atoi(v);
        else if (OPT("--rate")) g_rate = atof(v);
        else if (OPT("--seed")) g_seed = strtoull(v, NULL, 10), g_seed_set = 1;
        else if (OPT("--max-requests")) g_max_requests = atol(v);
        else if (OPT("--timeout")) g_timeout = atof(v);
        else if (OPT("--pool")) g_pool = atoi(v);
        else if (OPT("--label")) g_label = v;
        else if (!strcmp(a, "--dump")) g_dump = 1;
        else if (OPT("--timeline")) g_timeline = v;
        else if (OPT("--mode")) {
            if (strcmp(v, "batch") && strcmp(v, "check")) usage();
            g_check_mode = !strcmp(v, "check");
        } else if (OPT("--check")) g_check = v;
        else if (OPT("--accounts")) g_accounts = atoi(v);
        else usage();
#undef OPT
    }
    if (g_conns < 1 || g_conns > 1024 || g_batch < 1 || g_batch > 10000 || g_duration <= 0 || g_duration > 3600 ||
        g_warmup < 0 || g_pool < 1 || g_max_requests < 1 || g_timeout <= 0)
        usage();
    if (g_check_mode) {
        if (strcmp(g_check, "get") && strcmp(g_check, "preflight") && strcmp(g_check, "feature") &&
            strcmp(g_check, "feature-anon") &&
            strcmp(g_check, "consume") && strcmp(g_check, "consume-anon") && strcmp(g_check, "health"))
            usage();
        if (g_accounts < 1 || g_accounts > 100000) usage();
        g_batch = 1;      /* one check per request: --rate is checks/s */
        g_path = !strcmp(g_check, "health") ? "/healthz" : "/api/v1/entitlements/check";
        prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* open loop: wake on schedule, not 50 µs late */
    }
    if (strncmp(url, "http://", 7) != 0) {
        fprintf(stderr, "loadgen: only http:// URLs\n");
        return 2;
    }
    {
        const char *h = url + 7, *end = h + strcspn(h, "/");
        const char *colon = memchr(h, ':', (size_t)(end - h));
        size_t hl = (size_t)((colon ? colon : end) - h);
        if (hl == 0 || hl >= sizeof g_host) usage();
        memcpy(g_host, h, hl);
        g_host[hl] = 0;
        if (colon) {
            size_t pl = (size_t)(end - colon - 1);
            if (pl == 0 || pl >= sizeof g_port) usage();
            memcpy(g_port, colon + 1, pl);
            g_port[pl] = 0;
        }
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int gai = getaddrinfo(g_host, g_port, &hints, &g_addr);
    if (gai) {
        fprintf(stderr, "loadgen: %s:%s: %s\n", g_host, g_port, gai_strerror(gai));
        return 2;
    }
    if (getrandom(&g_run_id, sizeof g_run_id, 0) != sizeof g_run_id) g_run_id = (uint32_t)getpid() ^ (uint32_t)time(NULL);
    g_start_ms = wall_ms();
    if (!g_seed_set) g_seed = (uint64_t)g_run_id;

    conn_t *cs = calloc((size_t)g_conns, sizeof *cs);
    for (int i = 0; i < g_conns; i++) {
        cs[i].id = i;
        cs[i].rng = g_seed * 1000003ULL + (uint64_t)i * 7919ULL + 17;
        if (!g_check_mode) build_bodies(&cs[i]);
    }
    if (g_dump && g_check_mode) { /* a few requests of connection 0 */
        for (int b = 0; b < g_pool; b++) {
            size_t n = check_request(&cs[0], cs[0].seq++);
            fwrite(cs[0].req, 1, n, stdout);
            fputc('\n', stdout);
        }
        return 0;
    }
    if (g_dump) { /* print the pool of connection 0 (one request = headers + body per line pair) and exit */
        for (int b = 0; b < g_pool; b++) {
            for (int i = 0; i < g_batch; i++) ev_patch_seq(cs[0].bodies[b].data + cs[0].bodies[b].seq_off[i], cs[0].seq++);
            fwrite(cs[0].hdr[b], 1, cs[0].hlen[b], stdout);
            fwrite(cs[0].bodies[b].data, 1, cs[0].bodies[b].len, stdout);
            fputc('\n', stdout);
        }
        return 0;
    }
    size_t body_bytes = 0;
    for (int b = 0; b < g_pool && !g_check_mode; b++) body_bytes += cs[0].bodies[b].len;

    g_t0 = now_s() + 0.05;
    g_measure_start = g_t0 + g_warmup;
    g_deadline = g_measure_start + g_duration;
    for (int i = 0; i < g_conns; i++)
        if (pthread_create(&cs[i].th, NULL, conn_main, &cs[i])) {
            fprintf(stderr, "loadgen: pthread_create failed\n");
            return 2;
        }
    for (int i = 0; i < g_conns; i++) pthread_join(cs[i].th, NULL);

    uint64_t requests = 0, ok = 0, errors = 0, non2xx = 0, events = 0, bytes = 0, connects = 0;
    uint64_t status[600] = {0}, slow100 = 0, allowed = 0, denied = 0;
    size_t nlat = 0;
    double max_lat = 0, max_at = 0;
    double t_end = g_deadline;
    for (int i = 0; i < g_conns; i++) {
        requests += cs[i].requests;
        ok += cs[i].ok;
        errors += cs[i].errors;
        non2xx += cs[i].non2xx;
        events += cs[i].events;
        bytes += cs[i].bytes;
        connects += cs[i].connects;
        nlat += cs[i].nlat;
        if (cs[i].t_last > t_end) t_end = cs[i].t_last;
        for (int s = 0; s < 600; s++) status[s] += cs[i].status[s];
        slow100 += cs[i].slow100;
        allowed += cs[i].allowed, denied += cs[i].denied;
        if (cs[i].max_lat > max_lat) max_lat = cs[i].max_lat, max_at = cs[i].max_at;
    }
    float *lat = malloc((nlat + 1) * sizeof(float)), *slat = malloc((nlat + 1) * sizeof(float));
    size_t p = 0;
    for (int i = 0; i < g_conns; i++) {
        if (cs[i].nlat) {
            memcpy(lat + p, cs[i].lat, cs[i].nlat * sizeof(float));
            memcpy(slat + p, cs[i].slat, cs[i].nlat * sizeof(float));
        }
        p += cs[i].nlat;
    }
    if (g_timeline) {
        size_t nb = (size_t)(g_duration * 10) + 2;
        uint64_t *cnt = calloc(nb, sizeof *cnt);
        float *mx = calloc(nb, sizeof *mx), *smx = calloc(nb, sizeof *smx);
        for (int i = 0; i < g_conns; i++)
            for (size_t j = 0; j < cs[i].nlat; j++) {
                double a = cs[i].at[j] < 0 ? 0 : cs[i].at[j];
                size_t b = (size_t)(a * 10);
                if (b >= nb) b = nb - 1;
                cnt[b]++;
                if (cs[i].lat[j] > mx[b]) mx[b] = cs[i].lat[j];
                if (cs[i].slat[j] > smx[b]) smx[b] = cs[i].slat[j];
            }
        FILE *tf = fopen(g_timeline, "w");
        if (tf) {
            fprintf(tf, "# t_s requests max_ms send_max_ms\n");
            for (size_t b = 0; b < nb; b++)
                fprintf(tf, "%.1f %llu %.1f %.1f\n", (double)b / 10, (unsigned long long)cnt[b], mx[b], smx[b]);
            fclose(tf);
        } else {
            perror(g_timeline);
        }
        free(cnt), free(mx), free(smx);
    }
    qsort(lat, nlat, sizeof(float), cmpf);
    qsort(slat, nlat, sizeof(float), cmpf);
    double elapsed = t_end - g_measure_start;
    if (elapsed <= 0) elapsed = g_duration;

    printf("{\"label\":\"%s\",\"mode\":\"%s\",\"connections\":%d,\"batch\":%d,\"duration_s\":%.3f,\"warmup_s\":%.3f,"
           "\"target_events_per_s\":%.0f,\"events_per_s\":%.0f,\"requests\":%llu,\"ok\":%llu,\"errors\":%llu,"
           "\"non2xx\":%llu,\"events\":%llu,\"acked_events_total\":%llu,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
           "\"max_ms\":%.3f,\"latency_from\":\"%s\",\"send_p50_ms\":%.3f,\"send_p99_ms\":%.3f,\"send_max_ms\":%.3f,"
           "\"max_at_s\":%.3f,\"slow_over_100ms\":%llu,\"mb_per_s\":%.1f,\"bytes_per_event\":%.0f,\"connects\":%llu,\"run_id\":\"%08x\",",
           g_label, g_rate > 0 ? "open" : "closed", g_conns, g_batch, elapsed, g_warmup, g_rate,
           (double)events / elapsed, (unsigned long long)requests, (unsigned long long)ok,
           (unsigned long long)errors, (unsigned long long)non2xx, (unsigned long long)events,
           (unsigned long long)(ok * (uint64_t)g_batch), pct(lat, nlat, 50),
           pct(lat, nlat, 90), pct(lat, nlat, 99), pct(lat, nlat, 99.9), nlat ? lat[nlat - 1] : 0.0,
           g_rate > 0 ? "schedule" : "send", pct(slat, nlat, 50), pct(slat, nlat, 99), nlat ? slat[nlat - 1] : 0.0,
           max_at, (unsigned long long)slow100, (double)bytes / elapsed / 1e6, (double)body_bytes / ((double)g_pool * g_batch),
           (unsigned long long)connects, (unsigned)g_run_id);
    if (g_check_mode) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("\"check\":\"%s\",\"checks_per_s\":%.0f,\"allowed\":%llu,\"denied\":%llu,\"client_cpu_s\":%.3f,", g_check,
               (double)events / elapsed, (unsigned long long)allowed, (unsigned long long)denied,
               (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    }
    printf("\"status\":{");
    int first = 1;
    for (int s = 0; s < 600; s++)
        if (status[s]) {
            printf("%s\"%d\":%llu", first ? "" : ",", s, (unsigned long long)status[s]);
            first = 0;
        }
    printf("}}\n");
    fflush(stdout);
    freeaddrinfo(g_addr);
    return 0;
}
