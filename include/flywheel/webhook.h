/*
 * webhook.h — webhooks beyond the producers' interface of outbox.h:
 *
 *   - the outbox as the delivery worker and the API see it: due rows, the
 *     result of an attempt, listing, one row with its attempts, replay,
 *     counts (src/meta/outbox.c; the table layout is documented there);
 *   - the delivery helpers worth testing on their own (src/net/webhook.c):
 *     the Standard Webhooks signature and secret, the private-address guard,
 *     the retry plan and the Slack body.
 *
 * Every fw_outbox_* function here takes the rules.db mutex itself: do not
 * call one between fw_rulesdb_begin and fw_rulesdb_commit.
 */
#ifndef FLYWHEEL_WEBHOOK_H
#define FLYWHEEL_WEBHOOK_H

#include "flywheel/base.h"
#include "flywheel/config.h"
#include "flywheel/rulesdb.h"

struct sockaddr;

/* ---- the outbox (src/meta/outbox.c) ---- */

#define FW_WEBHOOK_ID_LEN 30 /* "msg_" + a 26-character ULID */

enum fw_outbox_status { FW_OUTBOX_PENDING, FW_OUTBOX_DELIVERED, FW_OUTBOX_DEAD, FW_OUTBOX_NSTATUS };
extern const char *const fw_outbox_status_names[FW_OUTBOX_NSTATUS]; /* "pending", ... */
/* The status named `s`, or -1. */
int fw_outbox_status_parse(const char *s);

/* One queued delivery. Strings live in the arena given to the call that
 * filled the row; `body` is NULL in lists, last_error is NULL when none. */
struct fw_outbox_row {
	int64_t id;                             /* row id: the API's delivery id */
	char webhook_id[FW_WEBHOOK_ID_LEN + 2]; /* the webhook-id header, stable across retries */
	const char *destination, *type, *body, *last_error;
	enum fw_outbox_status status;
	int attempts;       /* all attempts ever made */
	int cycle_attempts; /* attempts since the row was queued or last replayed */
	int last_status;    /* HTTP status of the last attempt, 0 when it got none */
	int64_t created_ms;
	int64_t cycle_ms;     /* when the current retry cycle started: created, or the last replay */
	int64_t next_at_ms;   /* pending: when the next attempt is due */
	int64_t delivered_ms; /* 0 unless delivered */
};

/* One attempt, as recorded in the attempts log. */
struct fw_outbox_attempt {
	int attempt;       /* 1, 2, ... over the row's whole life */
	int64_t at_ms;     /* when it started */
	int http_status;   /* 0: no HTTP answer (refused, connection error, timeout) */
	const char *error; /* NULL after a 2xx */
	int64_t duration_ms;
};

/* Up to `max` pending rows due at now_ms, earliest first, into an array in
 * the arena (*rows; *n may be 0). Bodies are filled. */
int fw_outbox_due(struct fw_rulesdb *db, int64_t now_ms, size_t max, struct fw_arena *a,
		  struct fw_outbox_row **rows, size_t *n, struct fw_err *err);
/* The earliest next_at_ms of any pending row, or FW_ENOTFOUND when none. */
int fw_outbox_next_at(struct fw_rulesdb *db, int64_t *next_at_ms, struct fw_err *err);

/* Record one attempt of row `id` (which must be pending) and its outcome:
 * FW_OUTBOX_DELIVERED, FW_OUTBOX_DEAD, or FW_OUTBOX_PENDING again with the
 * next attempt at next_at_ms. The attempts log keeps the newest 10,000. */
int fw_outbox_record(struct fw_rulesdb *db, int64_t id, const struct fw_outbox_attempt *att,
		     enum fw_outbox_status outcome, int64_t next_at_ms, struct fw_err *err);

struct fw_outbox_filter {
	int status;              /* an enum fw_outbox_status, or -1 for all */
	const char *destination; /* NULL: all */
	int64_t before;          /* only ids below this (paging); 0: from the newest */
	size_t limit;            /* 1..1000 (0: 50) */
};
/* Rows newest first (bodies not filled). */
int fw_outbox_list(struct fw_rulesdb *db, const struct fw_outbox_filter *f, struct fw_arena *a,
		   struct fw_outbox_row **rows, size_t *n, struct fw_err *err);
/* Row `id` with its body and its attempts (oldest first, as far as the log
 * still holds them); FW_ENOTFOUND when there is no such row. */
int fw_outbox_get(struct fw_rulesdb *db, int64_t id, struct fw_arena *a, struct fw_outbox_row *row,
		  struct fw_outbox_attempt **atts, size_t *natts, struct fw_err *err);
/* The row id of a webhook id ("msg_..."), or FW_ENOTFOUND. */
int fw_outbox_lookup(struct fw_rulesdb *db, const char *webhook_id, int64_t *id, struct fw_err *err);
/* Send a delivered or dead row again: pending, due at now_ms, a new retry
 * cycle, the same webhook id (receivers that saw it drop the repeat).
 * FW_ENOTFOUND when there is no such row, FW_EINVAL when it is pending. */
int fw_outbox_replay(struct fw_rulesdb *db, int64_t id, int64_t now_ms, struct fw_err *err);
/* Rows by status (of one destination, or all when NULL). */
int fw_outbox_counts(struct fw_rulesdb *db, const char *destination,
		     int64_t counts[FW_OUTBOX_NSTATUS], struct fw_err *err);
/* Queue a webhook.test event for `destination` alone (whatever its events
 * list), in a transaction of its own; FW_ENOTFOUND when it is not
 * configured. *id and webhook_id (may be NULL) get the new row's ids. */
int fw_outbox_send_test(struct fw_rulesdb *db, const struct fw_config *cfg, const char *destination,
			int64_t now_ms, int64_t *id, char webhook_id[FW_WEBHOOK_ID_LEN + 2],
			struct fw_err *err);
/* Forget delivered rows delivered before `before_ms`, and their attempts. */
int fw_outbox_prune(struct fw_rulesdb *db, int64_t before_ms, size_t *removed, struct fw_err *err);

/* ---- delivery helpers (src/net/webhook.c) ---- */

/* `w` with the defaults filled where it is zero: the schedule
 * [5, 300, 1800, 7200, 18000, 36000] s, giving up after 72 h, 10 s a try. */
void fw_webhooks_effective(const struct fw_webhooks *w, struct fw_webhooks *out);

/* The HMAC key of a Standard Webhooks secret: the base64 after "whsec_", or
 * the secret's own bytes when it has no such prefix. FW_EINVAL (err says
 * why) when the base64 is bad or the key would be empty or over `cap`. */
int fw_webhook_key(const char *secret, uint8_t *key, size_t cap, size_t *len, struct fw_err *err);

#define FW_WEBHOOK_SIG_MAX 64
/* "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), NUL-terminated. */
void fw_webhook_sign(const uint8_t *key, size_t keylen, const char *webhook_id, int64_t timestamp_s,
		     const char *body, size_t len, char out[FW_WEBHOOK_SIG_MAX]);

/* Why an address may not receive webhooks: "loopback", "private",
 * "shared (CGNAT)", "link-local", "unspecified", "multicast", "reserved" —
 * or NULL for a public address. IPv4-mapped, NAT64 and 6to4 IPv6 addresses
 * are judged by the IPv4 address inside. */
const char *fw_webhook_addr_class(const struct sockaddr *sa);

/* Resolve `host` (a name or a literal address, IPv6 without brackets) for
 * `port` and check every address it has. Unless allow_private, any address
 * of a class above refuses the whole host: FW_EINVAL with a message that
 * says how to allow it. A host that does not resolve is FW_EIO (worth a
 * retry). On success `pinned` gets the addresses as curl's CURLOPT_RESOLVE
 * wants them after "HOST:PORT:" ("203.0.113.5,[2001:db8::1]"), so the
 * connection goes to the addresses that were checked. */
int fw_webhook_resolve(const char *host, int port, int allow_private, char *pinned, size_t cap,
		       struct fw_err *err);

/* A Retry-After value (delay-seconds or an HTTP date) as milliseconds from
 * now_ms (0 for a date in the past), or -1 when absent or unreadable. */
int64_t fw_webhook_retry_after_ms(const char *value, int64_t now_ms);

/* When to try again after the n-th failed attempt of a retry cycle (n >= 1)
 * that started at cycle_ms, failing at now_ms: now + max(schedule[n-1] (the
 * last entry repeats), retry_after_ms). 0 when that falls past cycle_ms +
 * give_up_after: the row is dead. `w` as fw_webhooks_effective gives. */
int64_t fw_webhook_next_attempt(const struct fw_webhooks *w, int n, int64_t cycle_ms,
				int64_t now_ms, int64_t retry_after_ms);

/* The body posted to `d` for an outbox row's envelope: the envelope itself
 * (json), or {"text": data.summary, else the type} (slack). */
void fw_webhook_body(const struct fw_destination *d, const char *envelope, size_t len,
		     struct fw_buf *out);

#endif
