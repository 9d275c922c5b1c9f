/*
 * store.h — the event store: the one interface the rest of Flywheel uses to
 * keep and read events. Two implementations stand behind it: the embedded
 * store (our write-ahead log + in-memory index today, columnar segments next)
 * and, for scale-out, ClickHouse. Callers never learn which one they have.
 *
 * Exactly-once: the store drops a record whose message_id it already holds
 * (for at least FW_DEDUP_WINDOW_MS after the first copy was received, across
 * restarts); the first copy received wins.
 *
 * Durability: fw_store_append returns a ticket; fw_store_wait(ticket) returns
 * 0 once every record of that call — and the originals of its duplicates —
 * is durable. Only then may the caller acknowledge.
 */
#ifndef FLYWHEEL_STORE_H
#define FLYWHEEL_STORE_H

#include "flywheel/base.h"
#include "flywheel/event.h"

#define FW_DEDUP_WINDOW_MS (8LL * 86400 * 1000) /* promise is 7 days; one day of margin */

struct fw_store;

struct fw_store_options {
	uint64_t min_free_bytes; /* refuse writes (503) below this free disk space */
	uint64_t log_file_bytes; /* rotate log files past this size */
	int no_sync;             /* tests of other modules only */
	/* Called at open with notices a person should see (torn tail truncated…). */
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};

struct fw_store_stats {
	uint64_t records;    /* events + calls stored */
	uint64_t events;     /* track/page/screen */
	uint64_t duplicates; /* dropped since start */
	uint64_t bytes;      /* on disk */
	uint64_t syncs;      /* fdatasync calls since start */
	uint64_t durable_seq;
	int failed;
};

/* A scan over stored records, in seq order (or newest first). */
struct fw_scan {
	uint64_t from_seq, to_seq; /* [from, to); to 0 = no bound */
	int64_t from_ms, to_ms;    /* event time [from, to); both 0 = no bound */
	unsigned type_mask;        /* bit (1 << type); 0 = all types */
	int or_with_group;         /* with type_mask: also records of other types naming an account */
	const struct fw_str *distinct_ids; /* only records of these ids (user or anonymous) */
	size_t ndistinct;
	int newest_first;
	size_t limit;              /* 0 = no limit */
	int durable_only;          /* only records already durable */
	/* Deliver records whose type is NOT in this mask with ids only: type,
	 * source, time, event, user_id or anonymous_id, group_id; no message id,
	 * properties or context. Lets a store skip reading payloads. Records that
	 * carry traits are always delivered in full. 0 = every record in full. */
	unsigned ids_only_mask;
	/* ...except events with one of these names, delivered in full. */
	const struct fw_str *full_names;
	size_t nfull_names;
};

/* Return non-zero to stop the scan (that value is returned by fw_store_scan). */
typedef int (*fw_scan_fn)(void *ctx, uint64_t seq, const struct fw_event *e);
typedef void (*fw_count_fn)(void *ctx, struct fw_str key, uint64_t count);

struct fw_store_ops {
	const char *name;
	int (*append)(struct fw_store *s, const struct fw_event *ev, size_t n, uint8_t *stored,
		      uint64_t *ticket, struct fw_err *err);
	int (*wait)(struct fw_store *s, uint64_t ticket, struct fw_err *err);
	int (*count_by_name)(struct fw_store *s, int64_t from_ms, int64_t to_ms, fw_count_fn fn,
			     void *ctx);
	int (*count_by_day)(struct fw_store *s, int64_t from_ms, int64_t to_ms, struct fw_str name,
			    fw_count_fn fn, void *ctx);
	int (*scan)(struct fw_store *s, const struct fw_scan *q, fw_scan_fn fn, void *ctx,
		    struct fw_err *err);
	void (*stats)(struct fw_store *s, struct fw_store_stats *out);
	void (*close)(struct fw_store *s);
};

struct fw_store {
	const struct fw_store_ops *ops;
};

/* Open the embedded store in DIR (its log lives in DIR/log). Replays the log. */
int fw_store_open_embedded(const char *dir, const struct fw_store_options *opt,
			   struct fw_store **out, struct fw_err *err);

/* stored[i] (may be NULL) is set to 1 if ev[i] was new, 0 if a duplicate. */
static inline int fw_store_append(struct fw_store *s, const struct fw_event *ev, size_t n,
				  uint8_t *stored, uint64_t *ticket, struct fw_err *err)
{
	return s->ops->append(s, ev, n, stored, ticket, err);
}
static inline int fw_store_wait(struct fw_store *s, uint64_t ticket, struct fw_err *err)
{
	return s->ops->wait(s, ticket, err);
}
static inline int fw_store_count_by_name(struct fw_store *s, int64_t from_ms, int64_t to_ms,
					 fw_count_fn fn, void *ctx)
{
	return s->ops->count_by_name(s, from_ms, to_ms, fn, ctx);
}
static inline int fw_store_count_by_day(struct fw_store *s, int64_t from_ms, int64_t to_ms,
					struct fw_str name, fw_count_fn fn, void *ctx)
{
	return s->ops->count_by_day(s, from_ms, to_ms, name, fn, ctx);
}
static inline int fw_store_scan(struct fw_store *s, const struct fw_scan *q, fw_scan_fn fn,
				void *ctx, struct fw_err *err)
{
	return s->ops->scan(s, q, fn, ctx, err);
}
static inline void fw_store_stats(struct fw_store *s, struct fw_store_stats *out)
{
	s->ops->stats(s, out);
}
static inline void fw_store_close(struct fw_store *s)
{
	if (s)
		s->ops->close(s);
}

/* Records the store holds (the next seq to be assigned). */
static inline uint64_t fw_log_next_seq_of(struct fw_store *s)
{
	struct fw_store_stats st;
	s->ops->stats(s, &st);
	return st.records;
}

/* For tests: make the Nth fdatasync of the embedded store fail. */
void fw_store_embedded_inject_sync_failure(struct fw_store *s, int nth);

#endif
