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
	/* Compaction into segments: in a background thread if set; records from
	 * compact_limit(ctx) on (if given) stay in the log — the people/accounts
	 * applier reads them from there. */
	int compact_in_background;
	uint64_t (*compact_limit)(void *ctx);
	void *compact_ctx;
};

#define FW_SEGMENT_MAX_ROWS (512u * 1024)  /* records per segment at most */
#define FW_COMPACT_BATCH_ROWS (64u * 1024) /* compact once this many wait... */
#define FW_COMPACT_IDLE_MS 30000           /* ...or anything, after this quiet time */

struct fw_store_stats {
	uint64_t records;    /* events + calls stored */
	uint64_t events;     /* track/page/screen */
	uint64_t duplicates; /* dropped since start */
	uint64_t bytes;      /* on disk */
	uint64_t syncs;      /* fdatasync calls since start */
	uint64_t durable_seq;
	uint64_t segments;   /* segment files */
	uint64_t compacted;  /* records below this seq are in segments */
	int failed;
};

/* A scan over stored records: compacted records segment by segment (each
 * segment in its row order: distinct id, then time), then the log tail in
 * seq order; with newest_first, strictly newest seq first. Every record
 * comes with its seq. */
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
	/* Records not delivered ids-only (nor by full_names) come with ids and
	 * traits only: no message id, properties or context. Lets a store read
	 * identify and group calls without their payload. */
	int traits_only;
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

/* Compact every record that may be compacted into segments now (import,
 * `flywheel compact`). *records (may be NULL) gets how many were. */
int fw_store_compact(struct fw_store *s, uint64_t *records, struct fw_err *err);

/* For tests: make the Nth fdatasync of the embedded store fail. */
void fw_store_embedded_inject_sync_failure(struct fw_store *s, int nth);

#endif
