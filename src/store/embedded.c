/*
 * embedded.c — the embedded event store: columnar segments (segment.c) for
 * compacted records, the write-ahead log (log.c) for the rest, with an
 * in-memory index of the log tail, and the compaction that moves one into
 * the other (docs/design.md, "Segments and compaction").
 *
 * Index row per tail record (seq = row number): time, location in the log,
 * and dictionary ids of event name, distinct id and account. Rows are freed
 * chunk by chunk once compacted.
 *
 * Dedup table: open addressing over 96 bits of the XXH3-128 of the message
 * id and the minute it was received. A duplicate's request waits for every
 * record appended before it to be durable, so a retry is never acknowledged
 * before the first copy is on disk. Entries older than FW_DEDUP_WINDOW_MS are
 * dropped when a shard grows; at start-up the segments' id columns and the
 * log replay refill it.
 */
#include "flywheel/dict.h"
#include "flywheel/log.h"
#include "flywheel/segment.h"
#include "flywheel/store.h"
#include "flywheel/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

struct row {
	int64_t time_ms;
	uint64_t loc;
	uint32_t name, distinct, group;
	uint8_t type;
	uint8_t source;
	uint8_t is_user;    /* the distinct id is a user id (not an anonymous id) */
	uint8_t has_traits; /* the record carries person traits ($set on an event) */
};

/* Rows live in fixed chunks so the index never moves (no stall copying
 * millions of rows while appends wait). */
#define ROW_CHUNK_BITS 16
#define ROW_CHUNK (1u << ROW_CHUNK_BITS)

/* The dedup table is split in shards by hash, so growing one rehashes only
 * 1/DD_SHARDS of the ids under the append lock. */
#define DD_SHARDS 256

/* 16 bytes: 96 bits of the id's hash and the minute it was received. A
 * duplicate's request waits for everything appended before it, so the
 * original's seq need not be kept. */
struct dedup_slot {
	uint64_t lo; /* hash; lo == 0 && hi == 0 means empty */
	uint32_t hi;
	uint32_t minute; /* received, minutes since the epoch */
};

static inline int64_t slot_received_ms(const struct dedup_slot *x)
{
	return (int64_t)x->minute * 60000;
}

static inline uint32_t minute_of(int64_t ms)
{
	return ms > 0 ? (uint32_t)(ms / 60000) : 0;
}

struct embedded {
	struct fw_store base;
	pthread_rwlock_t lock; /* appends write, readers read */
	struct fw_log *log;
	struct row **chunks;
	size_t nrows, nchunks;
	struct fw_dict names, distincts, groups;
	struct dd_shard {
		struct dedup_slot *slots;
		size_t mask, count;
	} dd[DD_SHARDS];
	uint64_t duplicates, events;
	struct fw_store_options opt;
	/* segments: records below `compacted` live in segs (in seq order) */
	char dir[4096];
	struct fw_seg **segs;
	size_t nsegs, capsegs;
	uint64_t compacted, seg_events, seg_bytes;
	/* scans reading log records hold this shared; dropping log files, exclusive */
	pthread_rwlock_t files_lock;
	pthread_mutex_t compact_mu; /* one compaction at a time */
	pthread_t compactor;
	int compactor_running;
	atomic_int stop;
	int64_t last_compact_ms;
	int64_t idle_ms; /* FW_COMPACT_IDLE_MS, or $FLYWHEEL_COMPACT_IDLE_MS (tests) */
};

static void notice_fwd(void *ctx, const char *msg)
{
	struct embedded *s = ctx;
	if (s->opt.notice)
		s->opt.notice(s->opt.notice_ctx, msg);
}

static inline struct row *row_at(const struct embedded *s, size_t i)
{
	return &s->chunks[i >> ROW_CHUNK_BITS][i & (ROW_CHUNK - 1)];
}

static XXH128_hash_t id_hash(struct fw_str id)
{
	XXH128_hash_t h = XXH3_128bits(id.p, id.len);
	if (!h.low64 && !(uint32_t)h.high64)
		h.low64 = 1; /* all-zero is the empty slot */
	return h;
}

static struct dd_shard *shard_of(struct embedded *s, XXH128_hash_t h)
{
	return &s->dd[h.high64 >> 56];
}

static struct dedup_slot *dd_find(struct dd_shard *d, XXH128_hash_t h)
{
	for (size_t i = h.low64 & d->mask;; i = (i + 1) & d->mask) {
		struct dedup_slot *x = &d->slots[i];
		if ((!x->lo && !x->hi) || (x->lo == h.low64 && x->hi == (uint32_t)h.high64))
			return x;
	}
}

/* Rebuild a shard at a size fitting its live entries, dropping the expired. */
static void dd_rebuild(struct dd_shard *d, int64_t now)
{
	size_t oldn = d->mask + 1, live = 0;
	struct dedup_slot *old = d->slots;
	for (size_t i = 0; i < oldn; i++)
		if ((old[i].lo || old[i].hi) && slot_received_ms(&old[i]) >= now - FW_DEDUP_WINDOW_MS)
			live++;
	size_t n = 1024;
	while (live * 2 > n)
		n *= 2;
	d->slots = fw_xcalloc(n, sizeof *d->slots);
	d->mask = n - 1;
	d->count = 0;
	for (size_t i = 0; i < oldn; i++) {
		if ((!old[i].lo && !old[i].hi) || slot_received_ms(&old[i]) < now - FW_DEDUP_WINDOW_MS)
			continue;
		*dd_find(d, (XXH128_hash_t){old[i].lo, old[i].hi}) = old[i];
		d->count++;
	}
	free(old);
}

/* Returns the slot; *found tells whether the id was already present. A new
 * slot is claimed (hash set, count raised); the caller fills seq and time. */
static struct dedup_slot *dd_lookup(struct embedded *s, struct fw_str id, int64_t now, int *found)
{
	XXH128_hash_t h = id_hash(id);
	struct dd_shard *d = shard_of(s, h);
	if ((d->count + 1) * 4 > (d->mask + 1) * 3)
		dd_rebuild(d, now);
	struct dedup_slot *x = dd_find(d, h);
	*found = x->lo || x->hi;
	if (!*found) {
		x->lo = h.low64;
		x->hi = (uint32_t)h.high64;
		d->count++;
	}
	return x;
}

/* Forget ids claimed by a failed append (linear probing: rebuild the shard). */
static void dd_forget(struct embedded *s, struct dedup_slot *x, int64_t now)
{
	XXH128_hash_t h = {x->lo, x->hi};
	struct dd_shard *d = shard_of(s, h);
	x->lo = x->hi = 0;
	d->count--;
	dd_rebuild(d, now);
}

static void add_row(struct embedded *s, const struct fw_event *e, uint64_t loc)
{
	size_t c = s->nrows >> ROW_CHUNK_BITS;
	if (c >= s->nchunks) {
		size_t n = s->nchunks ? s->nchunks * 2 : 64;
		while (n <= c)
			n *= 2;
		s->chunks = fw_xrealloc(s->chunks, n * sizeof *s->chunks);
		memset(s->chunks + s->nchunks, 0, (n - s->nchunks) * sizeof *s->chunks);
		s->nchunks = n;
	}
	if (!s->chunks[c])
		s->chunks[c] = fw_xmalloc(ROW_CHUNK * sizeof **s->chunks);
	struct fw_str did = fw_event_distinct_id(e);
	struct row *r = row_at(s, s->nrows++);
	r->time_ms = e->time_ms;
	r->loc = loc;
	r->type = e->type;
	r->source = e->source;
	r->is_user = e->user_id.len > 0;
	r->has_traits = e->traits.len > 0;
	r->name = fw_dict_intern(&s->names, e->event.p, e->event.len);
	r->distinct = fw_dict_intern(&s->distincts, did.p, did.len);
	r->group = e->group_id.len ? fw_dict_intern(&s->groups, e->group_id.p, e->group_id.len)
				   : UINT32_MAX;
	if (fw_event_is_activity(e))
		s->events++;
}

static int replay_one(void *ctx, uint64_t seq, uint64_t loc, int kind, const void *p, size_t n)
{
	struct embedded *s = ctx;
	struct fw_event e;
	if (kind != 1 || fw_event_decode(p, n, &e))
		return FW_ECORRUPT;
	if (seq < s->compacted)
		return 0; /* in a segment already (compacted before the log file was dropped) */
	if (seq != s->nrows)
		return FW_ECORRUPT;
	int found;
	int64_t now = fw_now_ms();
	if (e.received_ms >= now - FW_DEDUP_WINDOW_MS) {
		struct dedup_slot *d = dd_lookup(s, e.message_id, now, &found);
		if (!found) {
			d->minute = minute_of(e.received_ms);
		}
	}
	add_row(s, &e, loc);
	return 0;
}

/* Encoding, hashing and framing (CRC) happen before the lock; under it only
 * the dedup check, one writev and the index update, so concurrent requests
 * and import threads overlap their CPU work. */
static int e_append(struct fw_store *base, const struct fw_event *ev, size_t n, uint8_t *stored,
		    uint64_t *ticket, struct fw_err *err)
{
	struct embedded *s = (struct embedded *)base;
	uint64_t wait_for = 0;
	int have_wait = 0, rc = 0;
	int64_t now = fw_now_ms();

	struct fw_buf enc = {0};
	size_t *offs = fw_xmalloc((n + 1) * sizeof *offs);
	XXH128_hash_t *hash = fw_xmalloc((n + 1) * sizeof *hash);
	uint8_t *heads = fw_xmalloc(n * FW_LOG_RECORD_HEADER + 1);
	for (size_t i = 0; i < n; i++) {
		offs[i] = enc.len;
		fw_event_encode(&enc, &ev[i]);
		hash[i] = id_hash(ev[i].message_id);
	}
	offs[n] = enc.len;
	for (size_t i = 0; i < n; i++)
		fw_log_frame(1, enc.data + offs[i], offs[i + 1] - offs[i], heads + i * FW_LOG_RECORD_HEADER);
	struct iovec *iov = fw_xmalloc((2 * n + 1) * sizeof *iov);
	size_t *sel = fw_xmalloc((n + 1) * sizeof *sel);
	uint64_t *locs = fw_xmalloc((n + 1) * sizeof *locs);

	pthread_rwlock_wrlock(&s->lock);
	size_t m = 0;
	uint64_t next = fw_log_next_seq(s->log);
	for (size_t i = 0; i < n; i++) {
		struct dd_shard *d = shard_of(s, hash[i]);
		if ((d->count + 1) * 4 > (d->mask + 1) * 3)
			dd_rebuild(d, now);
		struct dedup_slot *x = dd_find(d, hash[i]);
		if (x->lo || x->hi) {
			s->duplicates++;
			if (stored)
				stored[i] = 0;
			/* the original is among the records appended before (or
			 * earlier in this call, covered below): wait for them all */
			if (next > 0 && (!have_wait || next - 1 > wait_for))
				wait_for = next - 1;
			have_wait |= next > 0;
			continue;
		}
		x->lo = hash[i].low64;
		x->hi = (uint32_t)hash[i].high64;
		x->minute = minute_of(ev[i].received_ms);
		d->count++;
		iov[2 * m] = (struct iovec){heads + i * FW_LOG_RECORD_HEADER, FW_LOG_RECORD_HEADER};
		iov[2 * m + 1] = (struct iovec){enc.data + offs[i], offs[i + 1] - offs[i]};
		sel[m++] = i;
		if (stored)
			stored[i] = 1;
	}
	if (m) {
		uint64_t first;
		rc = fw_log_append(s->log, iov, m, &first, locs, err);
		if (rc) {
			/* nothing was written: forget the ids so a retry is stored */
			for (size_t j = m; j-- > 0;) {
				XXH128_hash_t h = hash[sel[j]];
				struct dedup_slot *x = dd_find(shard_of(s, h), h);
				if (x->lo || x->hi)
					dd_forget(s, x, now);
			}
		} else {
			for (size_t j = 0; j < m; j++)
				add_row(s, &ev[sel[j]], locs[j]);
			uint64_t last = first + m - 1;
			if (!have_wait || last > wait_for)
				wait_for = last;
			have_wait = 1;
		}
	}
	pthread_rwlock_unlock(&s->lock);
	fw_buf_release(&enc);
	free(offs);
	free(hash);
	free(heads);
	free(iov);
	free(sel);
	free(locs);
	/* a call with nothing to wait for (n == 0) waits for nothing */
	*ticket = have_wait ? wait_for + 1 : 0;
	return rc;
}

static int e_wait(struct fw_store *base, uint64_t ticket, struct fw_err *err)
{
	struct embedded *s = (struct embedded *)base;
	if (!ticket)
		return 0;
	return fw_log_wait(s->log, ticket - 1, err);
}

static int in_range(int64_t t, int64_t from, int64_t to)
{
	if (!from && !to)
		return 1;
	return t >= from && t < to;
}

/* ---- segments ---- */

/* Snapshot of the segment list and the compaction point, taken under the lock. */
struct seg_view {
	struct fw_seg **segs;
	size_t n;
	uint64_t compacted;
};

static void seg_view(struct embedded *s, struct seg_view *v)
{
	v->n = s->nsegs;
	v->segs = fw_xmalloc((v->n + 1) * sizeof *v->segs);
	if (v->n)
		memcpy(v->segs, s->segs, v->n * sizeof *v->segs);
	v->compacted = s->compacted;
}

/* Call fn(ctx, name, time) for every event (track/page/screen) of the segments. */
static int seg_events(struct seg_view *v, void (*fn)(void *, struct fw_str, int64_t), void *ctx,
		      struct fw_err *err)
{
	for (size_t k = 0; k < v->n; k++) {
		struct fw_seg_cols c;
		int rc = fw_seg_load_cols(v->segs[k], &c, err);
		if (rc)
			return rc;
		for (uint64_t i = 0; i < c.n; i++)
			if (FW_SEG_TYPE(c.flags[i]) <= FW_MSG_SCREEN)
				fn(ctx, fw_seg_name(v->segs[k], c.name[i]), c.time[i]);
		fw_seg_free_cols(&c);
	}
	return 0;
}

struct name_counts {
	struct fw_dict names;
	uint64_t *counts;
	size_t cap;
	int64_t from, to;
};

static void count_name(void *ctx, struct fw_str name, int64_t t)
{
	struct name_counts *nc = ctx;
	if (!in_range(t, nc->from, nc->to))
		return;
	uint32_t id = fw_dict_intern(&nc->names, name.p, name.len);
	if (id >= nc->cap) {
		size_t cap = nc->cap ? nc->cap * 2 : 64;
		nc->counts = fw_xrealloc(nc->counts, cap * sizeof *nc->counts);
		memset(nc->counts + nc->cap, 0, (cap - nc->cap) * sizeof *nc->counts);
		nc->cap = cap;
	}
	nc->counts[id]++;
}

static int e_count_by_name(struct fw_store *base, int64_t from, int64_t to, fw_count_fn fn,
			   void *ctx)
{
	struct embedded *s = (struct embedded *)base;
	struct name_counts nc = {.from = from, .to = to};
	fw_dict_init(&nc.names);
	struct seg_view v;
	pthread_rwlock_rdlock(&s->lock);
	seg_view(s, &v);
	for (size_t i = v.compacted; i < s->nrows; i++) {
		const struct row *r = row_at(s, i);
		if (r->type <= FW_MSG_SCREEN)
			count_name(&nc, fw_dict_str(&s->names, r->name), r->time_ms);
	}
	pthread_rwlock_unlock(&s->lock);
	struct fw_err err;
	int rc = seg_events(&v, count_name, &nc, &err);
	for (uint32_t id = 0; !rc && id < nc.names.count; id++)
		if (nc.counts[id])
			fn(ctx, fw_dict_str(&nc.names, id), nc.counts[id]);
	free(nc.counts);
	free(v.segs);
	fw_dict_release(&nc.names);
	return rc;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

struct day_list {
	int64_t *days;
	size_t n, cap;
	int64_t from, to;
	struct fw_str name;
};

static void add_day(void *ctx, struct fw_str name, int64_t t)
{
	struct day_list *d = ctx;
	if (!in_range(t, d->from, d->to) ||
	    (d->name.len && (name.len != d->name.len || memcmp(name.p, d->name.p, name.len))))
		return;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 1024;
		d->days = fw_xrealloc(d->days, d->cap * sizeof *d->days);
	}
	d->days[d->n++] = fw_day_floor(t);
}

static int e_count_by_day(struct fw_store *base, int64_t from, int64_t to, struct fw_str name,
			  fw_count_fn fn, void *ctx)
{
	struct embedded *s = (struct embedded *)base;
	struct day_list d = {.from = from, .to = to, .name = name};
	struct seg_view v;
	pthread_rwlock_rdlock(&s->lock);
	seg_view(s, &v);
	for (size_t i = v.compacted; i < s->nrows; i++) {
		const struct row *r = row_at(s, i);
		if (r->type <= FW_MSG_SCREEN)
			add_day(&d, fw_dict_str(&s->names, r->name), r->time_ms);
	}
	pthread_rwlock_unlock(&s->lock);
	struct fw_err err;
	int rc = seg_events(&v, add_day, &d, &err);
	free(v.segs);
	if (!rc && d.n)
		qsort(d.days, d.n, sizeof *d.days, cmp_i64);
	for (size_t i = 0; !rc && i < d.n;) {
		size_t j = i;
		while (j < d.n && d.days[j] == d.days[i])
			j++;
		char day[16];
		fw_time_format_day(d.days[i], day);
		fn(ctx, fw_str_c(day), j - i);
		i = j;
	}
	free(d.days);
	return rc;
}

/* Does a record pass the scan's filters (other than distinct ids)? */
static int scan_wants(const struct fw_scan *q, int type, int has_group, int64_t t)
{
	if (q->type_mask && !(q->type_mask & (1u << type)) && !(q->or_with_group && has_group))
		return 0;
	return !(q->from_ms || q->to_ms) || in_range(t, q->from_ms, q->to_ms);
}

static int cmp_seq_desc(const void *a, const void *b, void *cols)
{
	const uint64_t *seq = ((const struct fw_seg_cols *)cols)->seq;
	uint64_t x = seq[*(const uint64_t *)a], y = seq[*(const uint64_t *)b];
	return x > y ? -1 : x < y;
}

/* One segment's part of a scan; *delivered counts toward q->limit. */
static int scan_segment(struct fw_seg *g, const struct fw_scan *q, fw_scan_fn fn, void *ctx,
			size_t *delivered, struct fw_err *err)
{
	const struct fw_seg_info *info = fw_seg_info(g);
	if (q->to_seq && info->first >= q->to_seq)
		return 0;
	if (info->end <= q->from_seq)
		return 0;
	if ((q->from_ms || q->to_ms) && (info->max_ms < q->from_ms || info->min_ms >= q->to_ms))
		return 0;
	uint8_t *want = NULL;
	if (q->ndistinct) {
		want = fw_xcalloc(fw_seg_ndids(g) + 1, 1);
		int any = 0;
		for (size_t i = 0; i < q->ndistinct; i++) {
			uint32_t id = fw_seg_find_did(g, q->distinct_ids[i]);
			if (id != UINT32_MAX)
				want[id] = any = 1;
		}
		if (!any) {
			free(want);
			return 0;
		}
	}
	struct fw_seg_cols c;
	int rc = fw_seg_load_cols(g, &c, err);
	if (rc) {
		free(want);
		return rc;
	}
	uint64_t *sel = fw_xmalloc((c.n + 1) * sizeof *sel), nsel = 0;
	for (uint64_t i = 0; i < c.n; i++) {
		if (c.seq[i] < q->from_seq || (q->to_seq && c.seq[i] >= q->to_seq))
			continue;
		if (!scan_wants(q, FW_SEG_TYPE(c.flags[i]), c.group[i] != UINT32_MAX, c.time[i]))
			continue;
		if (want && !want[c.did[i]])
			continue;
		sel[nsel++] = i;
	}
	if (q->newest_first && nsel)
		qsort_r(sel, nsel, sizeof *sel, cmp_seq_desc, &c);
	uint8_t *full = NULL;
	if (q->nfull_names) {
		/* name ids of this segment to deliver in full */
		uint32_t nn = fw_seg_nnames(g);
		full = fw_xcalloc((size_t)nn + 1, 1);
		for (uint32_t id = 0; id < nn; id++) {
			struct fw_str name = fw_seg_name(g, id);
			for (size_t k = 0; k < q->nfull_names; k++)
				if (name.len == q->full_names[k].len &&
				    !memcmp(name.p, q->full_names[k].p, name.len))
					full[id] = 1;
		}
	}
	struct fw_seg_cursor cur;
	fw_seg_cursor_init(&cur);
	struct fw_buf traits = {0};
	uint32_t *toffs = NULL;
	if (q->traits_only && nsel)
		rc = fw_seg_traits(g, &traits, &toffs, err);
	for (uint64_t k = 0; k < nsel && !rc; k++) {
		if (q->limit && *delivered >= q->limit)
			break;
		uint64_t i = sel[k];
		uint8_t f = c.flags[i];
		struct fw_event e;
		int is_full = full && full[c.name[i]];
		int ids_only = q->ids_only_mask && (q->ids_only_mask & (1u << FW_SEG_TYPE(f))) &&
			       !FW_SEG_HAS_TRAITS(f) && !is_full;
		if (ids_only || (q->traits_only && !is_full)) {
			memset(&e, 0, sizeof e);
			e.type = FW_SEG_TYPE(f);
			e.source = FW_SEG_SOURCE(f);
			e.time_ms = c.time[i];
			e.event = fw_seg_name(g, c.name[i]);
			if (FW_SEG_IS_USER(f))
				e.user_id = fw_seg_did(g, c.did[i]);
			else
				e.anonymous_id = fw_seg_did(g, c.did[i]);
			if (c.group[i] != UINT32_MAX)
				e.group_id = fw_seg_group(g, c.group[i]);
			if (toffs)
				e.traits = (struct fw_str){traits.data + toffs[2 * i],
							   toffs[2 * i + 1] - toffs[2 * i]};
		} else {
			rc = fw_seg_record(g, &c, i, &cur, &e, err);
			if (rc)
				break;
		}
		(*delivered)++;
		rc = fn(ctx, c.seq[i], &e);
	}
	fw_seg_cursor_release(&cur);
	fw_buf_release(&traits);
	free(toffs);
	free(full);
	free(sel);
	free(want);
	fw_seg_free_cols(&c);
	return rc;
}

static int scan_segments(struct seg_view *v, const struct fw_scan *q, fw_scan_fn fn, void *ctx,
			 size_t *delivered, struct fw_err *err)
{
	int rc = 0;
	for (size_t k = 0; k < v->n && !rc; k++) {
		size_t i = q->newest_first ? v->n - 1 - k : k;
		if (q->limit && *delivered >= q->limit)
			break;
		rc = scan_segment(v->segs[i], q, fn, ctx, delivered, err);
	}
	return rc;
}

/* The log tail's part of a scan: pick the matching rows under the lock (which
 * the caller holds, with the segment view taken at the same time), read
 * them from the log after. Unlocks s->lock. */
static int scan_tail(struct embedded *s, const struct fw_scan *q, uint64_t compacted,
		     fw_scan_fn fn, void *ctx, size_t *delivered, struct fw_err *err)
{
	uint64_t durable = q->durable_only ? fw_log_durable_seq(s->log) : UINT64_MAX;
	uint8_t *want = NULL;
	if (q->ndistinct) {
		want = fw_xcalloc(s->distincts.count + 1, 1);
		int any = 0;
		for (size_t i = 0; i < q->ndistinct; i++) {
			uint32_t id = fw_dict_find(&s->distincts, q->distinct_ids[i].p,
						   q->distinct_ids[i].len);
			if (id != UINT32_MAX) {
				want[id] = 1;
				any = 1;
			}
		}
		if (!any) {
			pthread_rwlock_unlock(&s->lock);
			free(want);
			return 0;
		}
	}
	uint8_t *full = NULL; /* by name id: deliver in full despite ids_only_mask */
	if (q->nfull_names) {
		full = fw_xcalloc(s->names.count + 1, 1);
		for (size_t i = 0; i < q->nfull_names; i++) {
			uint32_t id = fw_dict_find(&s->names, q->full_names[i].p, q->full_names[i].len);
			if (id != UINT32_MAX)
				full[id] = 1;
		}
	}
	uint64_t lo = q->from_seq > compacted ? q->from_seq : compacted, hi = s->nrows;
	if (q->to_seq && q->to_seq < hi)
		hi = q->to_seq;
	if (durable < hi)
		hi = durable;
	size_t cap = 256, nsel = 0;
	uint64_t *sel = fw_xmalloc(cap * sizeof *sel);
	for (uint64_t k = 0; lo < hi && k < hi - lo; k++) {
		uint64_t i = q->newest_first ? hi - 1 - k : lo + k;
		const struct row *r = row_at(s, i);
		if (!scan_wants(q, r->type, r->group != UINT32_MAX, r->time_ms))
			continue;
		if (want && !want[r->distinct])
			continue;
		if (nsel == cap)
			sel = fw_xrealloc(sel, (cap *= 2) * sizeof *sel);
		sel[nsel++] = i;
		if (q->limit && nsel + *delivered >= q->limit)
			break;
	}
	struct row *rows = fw_xmalloc((nsel + 1) * sizeof *rows);
	for (size_t i = 0; i < nsel; i++) {
		rows[i] = *row_at(s, sel[i]);
		if (full && full[rows[i].name])
			rows[i].has_traits = 1; /* reuse the flag: read this one in full */
	}
	pthread_rwlock_unlock(&s->lock);
	free(want);
	free(full);

	int rc = 0;
	struct fw_buf buf = {0};
	for (size_t i = 0; i < nsel && !rc; i++) {
		struct fw_event e;
		const struct row *r = &rows[i];
		if (q->ids_only_mask && (q->ids_only_mask & (1u << r->type)) && !r->has_traits) {
			/* dictionary strings are never freed or moved while open */
			memset(&e, 0, sizeof e);
			e.type = r->type;
			e.source = r->source;
			e.time_ms = r->time_ms;
			pthread_rwlock_rdlock(&s->lock);
			e.event = fw_dict_str(&s->names, r->name);
			struct fw_str did = fw_dict_str(&s->distincts, r->distinct);
			if (r->group != UINT32_MAX)
				e.group_id = fw_dict_str(&s->groups, r->group);
			pthread_rwlock_unlock(&s->lock);
			(*delivered)++;
			if (r->is_user)
				e.user_id = did;
			else
				e.anonymous_id = did;
			rc = fn(ctx, sel[i], &e);
			continue;
		}
		rc = fw_log_read(s->log, r->loc, &buf, err);
		if (!rc && fw_event_decode(buf.data, buf.len, &e))
			rc = fw_error(err, FW_ECORRUPT, "undecodable record %llu in the event log",
				      (unsigned long long)sel[i]);
		if (!rc) {
			(*delivered)++;
			rc = fn(ctx, sel[i], &e);
		}
	}
	fw_buf_release(&buf);
	free(sel);
	free(rows);
	return rc;
}

/* Segments first, then the log tail, in seq order; newest first the other
 * way round. Within a segment records come in its row order (distinct id,
 * time) unless newest_first. */
static int e_scan(struct fw_store *base, const struct fw_scan *q, fw_scan_fn fn, void *ctx,
		  struct fw_err *err)
{
	struct embedded *s = (struct embedded *)base;
	size_t delivered = 0;
	struct seg_view v;
	pthread_rwlock_rdlock(&s->files_lock);
	pthread_rwlock_rdlock(&s->lock);
	seg_view(s, &v);
	int rc = 0;
	if (!q->newest_first) {
		pthread_rwlock_unlock(&s->lock);
		rc = scan_segments(&v, q, fn, ctx, &delivered, err);
		if (!rc && !(q->limit && delivered >= q->limit)) {
			pthread_rwlock_rdlock(&s->lock);
			rc = scan_tail(s, q, v.compacted, fn, ctx, &delivered, err);
		}
	} else {
		rc = scan_tail(s, q, v.compacted, fn, ctx, &delivered, err);
		if (!rc && !(q->limit && delivered >= q->limit))
			rc = scan_segments(&v, q, fn, ctx, &delivered, err);
	}
	pthread_rwlock_unlock(&s->files_lock);
	free(v.segs);
	return rc;
}

/* ---- compaction ---- */

struct ckey {
	uint32_t did;
	int64_t t;
	uint64_t seq, loc;
};

static int cmp_ckey(const void *a, const void *b)
{
	const struct ckey *x = a, *y = b;
	if (x->did != y->did)
		return x->did < y->did ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_seg(const void *a, const void *b)
{
	uint64_t x = fw_seg_info(*(struct fw_seg *const *)a)->first;
	uint64_t y = fw_seg_info(*(struct fw_seg *const *)b)->first;
	return x < y ? -1 : x > y;
}

/* Records that may be compacted now: durable, and (if the owner says so)
 * already applied to people and accounts, which read the log. */
static uint64_t compact_limit(struct embedded *s)
{
	uint64_t limit = fw_log_durable_seq(s->log);
	if (s->opt.compact_limit) {
		uint64_t l = s->opt.compact_limit(s->opt.compact_ctx);
		if (l < limit)
			limit = l;
	}
	return limit;
}

/* Write the records [lo, hi) as one segment and put it in use. */
static int compact_range(struct embedded *s, uint64_t lo, uint64_t hi, struct fw_err *err)
{
	size_t n = hi - lo;
	struct ckey *keys = fw_xmalloc((n + 1) * sizeof *keys);
	uint64_t *locs = fw_xmalloc((n + 1) * sizeof *locs);
	pthread_rwlock_rdlock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		const struct row *r = row_at(s, lo + i);
		keys[i] = (struct ckey){r->distinct, r->time_ms, lo + i, r->loc};
		locs[i] = r->loc;
	}
	pthread_rwlock_unlock(&s->lock);
	/* payloads in log order (sequential reads), then rows in segment order */
	struct fw_buf payloads = {0};
	size_t *offs = fw_xmalloc((n + 1) * sizeof *offs);
	int rc = fw_log_read_many(s->log, locs, n, &payloads, offs, err);
	free(locs);
	if (n)
		qsort(keys, n, sizeof *keys, cmp_ckey);
	char path[4200];
	snprintf(path, sizeof path, "%s/segments/%016llx-%016llx.fwseg", s->dir,
		 (unsigned long long)lo, (unsigned long long)hi);
	struct fw_seg_writer *w = NULL;
	if (!rc)
		rc = fw_seg_writer_open(path, lo, hi, &w, err);
	for (size_t i = 0; i < n && !rc; i++) {
		size_t k = keys[i].seq - lo;
		struct fw_event e;
		if (fw_event_decode(payloads.data + offs[k], offs[k + 1] - offs[k], &e))
			rc = fw_error(err, FW_ECORRUPT, "undecodable record %llu in the event log",
				      (unsigned long long)keys[i].seq);
		else
			rc = fw_seg_writer_add(w, keys[i].seq, &e, err);
	}
	free(keys);
	free(offs);
	fw_buf_release(&payloads);
	if (rc) {
		fw_seg_writer_abort(w);
		return rc;
	}
	rc = fw_seg_writer_finish(w, err);
	struct fw_seg *g = NULL;
	if (!rc)
		rc = fw_seg_open(path, &g, err);
	if (rc)
		return rc;
	/* in use from here: no scan is reading rows or log files meanwhile */
	pthread_rwlock_wrlock(&s->files_lock);
	pthread_rwlock_wrlock(&s->lock);
	if (s->nsegs == s->capsegs) {
		s->capsegs = s->capsegs ? s->capsegs * 2 : 16;
		s->segs = fw_xrealloc(s->segs, s->capsegs * sizeof *s->segs);
	}
	s->segs[s->nsegs++] = g;
	s->compacted = hi;
	s->seg_events += fw_seg_info(g)->events;
	s->seg_bytes += fw_seg_info(g)->bytes;
	for (size_t c = 0; c < s->nchunks && (c + 1) * ROW_CHUNK <= hi; c++) {
		free(s->chunks[c]);
		s->chunks[c] = NULL;
	}
	pthread_rwlock_unlock(&s->lock);
	pthread_rwlock_unlock(&s->files_lock);
	return fw_log_drop_before(s->log, hi, err);
}

/* Compact what may be compacted, in segments of at most FW_SEGMENT_MAX_ROWS.
 * With `min_rows`, only if at least that many are waiting. */
static int compact(struct embedded *s, uint64_t min_rows, uint64_t *done, struct fw_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&s->compact_mu);
	for (;;) {
		uint64_t limit = compact_limit(s);
		pthread_rwlock_rdlock(&s->lock);
		uint64_t lo = s->compacted, hi = limit < s->nrows ? limit : s->nrows;
		pthread_rwlock_unlock(&s->lock);
		if (hi <= lo || hi - lo < min_rows || atomic_load(&s->stop))
			break;
		if (hi - lo > FW_SEGMENT_MAX_ROWS)
			hi = lo + FW_SEGMENT_MAX_ROWS;
		rc = compact_range(s, lo, hi, err);
		if (rc)
			break;
		if (done)
			*done += hi - lo;
		s->last_compact_ms = fw_now_ms();
	}
	pthread_mutex_unlock(&s->compact_mu);
	return rc;
}

/* Background compaction: a full batch as soon as one is waiting, anything
 * waiting once the tail has been quiet for FW_COMPACT_IDLE_MS. */
static void *compactor_main(void *arg)
{
	struct embedded *s = arg;
	while (!atomic_load(&s->stop)) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
		int idle = fw_now_ms() - s->last_compact_ms >= s->idle_ms;
		struct fw_err err = {0};
		if (compact(s, idle ? 1 : FW_COMPACT_BATCH_ROWS, NULL, &err)) {
			/* the open-time notice callback is gone by now: stderr */
			fprintf(stderr, "flywheel: compaction failed (will retry): %s\n", err.msg);
			s->last_compact_ms = fw_now_ms(); /* retry after the idle time */
		}
	}
	return NULL;
}

int fw_store_compact(struct fw_store *base, uint64_t *records, struct fw_err *err)
{
	struct embedded *s = (struct embedded *)base;
	if (records)
		*records = 0;
	return compact(s, 1, records, err);
}

/* Open the segments in DIR/segments (removing unfinished ones) and check
 * that they cover [0, compacted) without a gap. */
static int open_segments(struct embedded *s, struct fw_err *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/segments", s->dir);
	if (mkdir(path, 0755) && errno != EEXIST)
		return fw_error(err, FW_EIO, "cannot create %s: %s", path, strerror(errno));
	DIR *d = opendir(path);
	if (!d)
		return fw_error(err, FW_EIO, "cannot read %s: %s", path, strerror(errno));
	int rc = 0;
	struct dirent *de;
	while (!rc && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char file[4500];
		snprintf(file, sizeof file, "%s/%s", path, de->d_name);
		if (len > 4 && !strcmp(de->d_name + len - 4, ".tmp")) {
			unlink(file); /* a compaction that did not finish */
			continue;
		}
		if (len < 7 || strcmp(de->d_name + len - 6, ".fwseg"))
			continue;
		struct fw_seg *g;
		rc = fw_seg_open(file, &g, err);
		if (rc)
			break;
		if (s->nsegs == s->capsegs) {
			s->capsegs = s->capsegs ? s->capsegs * 2 : 16;
			s->segs = fw_xrealloc(s->segs, s->capsegs * sizeof *s->segs);
		}
		s->segs[s->nsegs++] = g;
	}
	closedir(d);
	if (rc)
		return rc;
	if (s->nsegs)
		qsort(s->segs, s->nsegs, sizeof *s->segs, cmp_seg);
	for (size_t i = 0; i < s->nsegs; i++) {
		const struct fw_seg_info *in = fw_seg_info(s->segs[i]);
		if (in->first != s->compacted)
			return fw_error(err, FW_ECORRUPT,
					"segments in %s do not join up: one starts at record %llu where %llu "
					"was expected (a segment file is missing or left over)",
					path, (unsigned long long)in->first,
					(unsigned long long)s->compacted);
		s->compacted = in->end;
		s->seg_events += in->events;
		s->seg_bytes += in->bytes;
	}
	/* message ids received within the dedup window */
	int64_t now = fw_now_ms();
	for (size_t i = 0; i < s->nsegs && !rc; i++) {
		const struct fw_seg_info *in = fw_seg_info(s->segs[i]);
		if (in->max_received_ms < now - FW_DEDUP_WINDOW_MS)
			continue;
		struct fw_buf ids = {0};
		uint32_t *offs = NULL;
		rc = fw_seg_ids(s->segs[i], &ids, &offs, err);
		for (uint64_t r = 0; !rc && r < in->rows; r++) {
			XXH128_hash_t x = id_hash((struct fw_str){ids.data + offs[2 * r],
								  offs[2 * r + 1] - offs[2 * r]});
			struct dd_shard *sh = shard_of(s, x);
			if ((sh->count + 1) * 4 > (sh->mask + 1) * 3)
				dd_rebuild(sh, now);
			struct dedup_slot *slot = dd_find(sh, x);
			if (!slot->lo && !slot->hi) {
				slot->lo = x.low64;
				slot->hi = (uint32_t)x.high64;
				slot->minute = minute_of(in->max_received_ms);
				sh->count++;
			}
		}
		fw_buf_release(&ids);
		free(offs);
	}
	return rc;
}

static void e_stats(struct fw_store *base, struct fw_store_stats *out)
{
	struct embedded *s = (struct embedded *)base;
	pthread_rwlock_rdlock(&s->lock);
	out->records = s->nrows;
	out->events = s->events;
	out->duplicates = s->duplicates;
	out->segments = s->nsegs;
	out->compacted = s->compacted;
	out->bytes = s->seg_bytes;
	pthread_rwlock_unlock(&s->lock);
	out->bytes += fw_log_bytes(s->log);
	out->syncs = fw_log_syncs(s->log);
	out->durable_seq = fw_log_durable_seq(s->log);
	out->failed = fw_log_failed(s->log);
}

static void free_embedded(struct embedded *s)
{
	for (size_t c = 0; c < s->nchunks; c++)
		free(s->chunks[c]);
	free(s->chunks);
	for (size_t i = 0; i < s->nsegs; i++)
		fw_seg_close(s->segs[i]);
	free(s->segs);
	fw_dict_release(&s->names);
	fw_dict_release(&s->distincts);
	fw_dict_release(&s->groups);
	for (int i = 0; i < DD_SHARDS; i++)
		free(s->dd[i].slots);
	pthread_rwlock_destroy(&s->lock);
	pthread_rwlock_destroy(&s->files_lock);
	pthread_mutex_destroy(&s->compact_mu);
	free(s);
}

static void e_close(struct fw_store *base)
{
	struct embedded *s = (struct embedded *)base;
	atomic_store(&s->stop, 1);
	if (s->compactor_running)
		pthread_join(s->compactor, NULL);
	fw_log_close(s->log);
	free_embedded(s);
}

static const struct fw_store_ops embedded_ops = {
	.name = "embedded",
	.append = e_append,
	.wait = e_wait,
	.count_by_name = e_count_by_name,
	.count_by_day = e_count_by_day,
	.scan = e_scan,
	.stats = e_stats,
	.close = e_close,
};

int fw_store_open_embedded(const char *dir, const struct fw_store_options *opt,
			   struct fw_store **out, struct fw_err *err)
{
	struct embedded *s = fw_xcalloc(1, sizeof *s);
	s->base.ops = &embedded_ops;
	pthread_rwlock_init(&s->lock, NULL);
	pthread_rwlock_init(&s->files_lock, NULL);
	pthread_mutex_init(&s->compact_mu, NULL);
	fw_dict_init(&s->names);
	fw_dict_init(&s->distincts);
	fw_dict_init(&s->groups);
	for (int i = 0; i < DD_SHARDS; i++) {
		s->dd[i].mask = 1023;
		s->dd[i].slots = fw_xcalloc(1024, sizeof *s->dd[i].slots);
	}
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	if (opt)
		s->opt = *opt;
	s->last_compact_ms = fw_now_ms();
	const char *idle = getenv("FLYWHEEL_COMPACT_IDLE_MS");
	s->idle_ms = idle && atoll(idle) > 0 ? atoll(idle) : FW_COMPACT_IDLE_MS;
	int rc = open_segments(s, err);
	char path[4200];
	snprintf(path, sizeof path, "%s/log", dir);
	struct fw_log_options lo = {0};
	if (opt) {
		lo.min_free_bytes = opt->min_free_bytes;
		lo.file_bytes = opt->log_file_bytes;
		lo.no_sync = opt->no_sync;
	}
	s->nrows = s->compacted;
	if (!rc)
		rc = fw_log_open(path, &lo, replay_one, notice_fwd, s, &s->log, err);
	else
		s->log = NULL;
	if (!rc && fw_log_next_seq(s->log) < s->compacted) {
		rc = fw_error(err, FW_ECORRUPT,
			      "the event log in %s ends at record %llu but the segments hold records up "
			      "to %llu: the log's newest file is missing",
			      path, (unsigned long long)fw_log_next_seq(s->log),
			      (unsigned long long)s->compacted);
	}
	if (rc) {
		if (s->log)
			fw_log_close(s->log);
		free_embedded(s);
		return rc;
	}
	s->events += s->seg_events;
	if (opt && opt->compact_in_background) {
		pthread_create(&s->compactor, NULL, compactor_main, s);
		s->compactor_running = 1;
	}
	*out = &s->base;
	return 0;
}

void fw_store_embedded_inject_sync_failure(struct fw_store *base, int nth)
{
	fw_log_inject_sync_failure(((struct embedded *)base)->log, nth);
}
