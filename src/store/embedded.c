/*
 * embedded.c — the embedded event store: the write-ahead log (log.c) plus an
 * in-memory index of every record, rebuilt from the log at start-up.
 *
 * Index row per record (seq = row number): time, location in the log, and
 * dictionary ids of event name, distinct id and account. Counting by name or
 * day reads only rows; anything that needs properties reads the record back
 * from the log by its location.
 *
 * Dedup table: open addressing over XXH3-128 of the message id, holding the
 * seq of the first copy and when it was received. A duplicate's request waits
 * for its original's seq to be durable, so a retry is never acknowledged
 * before the first copy is on disk. Entries older than FW_DEDUP_WINDOW_MS are
 * dropped when the table grows; at start-up the log replay refills it.
 */
#include "flywheel/dict.h"
#include "flywheel/log.h"
#include "flywheel/store.h"
#include "flywheel/timeutil.h"

#include <pthread.h>
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

struct dedup_slot {
	uint64_t lo, hi; /* hash; lo == 0 && hi == 0 means empty */
	uint64_t seq;
	int64_t received_ms;
};

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
	if (!h.low64 && !h.high64)
		h.low64 = 1;
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
		if ((!x->lo && !x->hi) || (x->lo == h.low64 && x->hi == h.high64))
			return x;
	}
}

/* Rebuild a shard at a size fitting its live entries, dropping the expired. */
static void dd_rebuild(struct dd_shard *d, int64_t now)
{
	size_t oldn = d->mask + 1, live = 0;
	struct dedup_slot *old = d->slots;
	for (size_t i = 0; i < oldn; i++)
		if ((old[i].lo || old[i].hi) && old[i].received_ms >= now - FW_DEDUP_WINDOW_MS)
			live++;
	size_t n = 1024;
	while (live * 2 > n)
		n *= 2;
	d->slots = fw_xcalloc(n, sizeof *d->slots);
	d->mask = n - 1;
	d->count = 0;
	for (size_t i = 0; i < oldn; i++) {
		if ((!old[i].lo && !old[i].hi) || old[i].received_ms < now - FW_DEDUP_WINDOW_MS)
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
		x->hi = h.high64;
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
	if ((s->nrows & (ROW_CHUNK - 1)) == 0) {
		size_t c = s->nrows >> ROW_CHUNK_BITS;
		if (c == s->nchunks) {
			s->nchunks = s->nchunks ? s->nchunks * 2 : 64;
			s->chunks = fw_xrealloc(s->chunks, s->nchunks * sizeof *s->chunks);
		}
		s->chunks[c] = fw_xmalloc(ROW_CHUNK * sizeof **s->chunks);
	}
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
	int found;
	int64_t now = fw_now_ms();
	if (e.received_ms >= now - FW_DEDUP_WINDOW_MS) {
		struct dedup_slot *d = dd_lookup(s, e.message_id, now, &found);
		if (!found) {
			d->seq = seq;
			d->received_ms = e.received_ms;
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
			if (!have_wait || x->seq > wait_for)
				wait_for = x->seq;
			have_wait = 1;
			continue;
		}
		x->lo = hash[i].low64;
		x->hi = hash[i].high64;
		x->seq = next + m;
		x->received_ms = ev[i].received_ms;
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

static int e_count_by_name(struct fw_store *base, int64_t from, int64_t to, fw_count_fn fn,
			   void *ctx)
{
	struct embedded *s = (struct embedded *)base;
	pthread_rwlock_rdlock(&s->lock);
	uint64_t *counts = fw_xcalloc(s->names.count + 1, sizeof *counts);
	for (size_t i = 0; i < s->nrows; i++) {
		const struct row *r = row_at(s, i);
		if (r->type <= FW_MSG_SCREEN && in_range(r->time_ms, from, to))
			counts[r->name]++;
	}
	for (uint32_t id = 0; id < s->names.count; id++)
		if (counts[id])
			fn(ctx, fw_dict_str(&s->names, id), counts[id]);
	free(counts);
	pthread_rwlock_unlock(&s->lock);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int e_count_by_day(struct fw_store *base, int64_t from, int64_t to, struct fw_str name,
			  fw_count_fn fn, void *ctx)
{
	struct embedded *s = (struct embedded *)base;
	pthread_rwlock_rdlock(&s->lock);
	uint32_t want = name.len ? fw_dict_find(&s->names, name.p, name.len) : UINT32_MAX;
	if (name.len && want == UINT32_MAX) {
		pthread_rwlock_unlock(&s->lock);
		return 0;
	}
	int64_t *days = fw_xmalloc((s->nrows + 1) * sizeof *days);
	size_t nd = 0;
	for (size_t i = 0; i < s->nrows; i++) {
		const struct row *r = row_at(s, i);
		if (r->type <= FW_MSG_SCREEN && in_range(r->time_ms, from, to) &&
		    (want == UINT32_MAX || r->name == want))
			days[nd++] = fw_day_floor(r->time_ms);
	}
	pthread_rwlock_unlock(&s->lock);
	qsort(days, nd, sizeof *days, cmp_i64);
	for (size_t i = 0; i < nd;) {
		size_t j = i;
		while (j < nd && days[j] == days[i])
			j++;
		char day[16];
		fw_time_format_day(days[i], day);
		fn(ctx, fw_str_c(day), j - i);
		i = j;
	}
	free(days);
	return 0;
}

static int e_scan(struct fw_store *base, const struct fw_scan *q, fw_scan_fn fn, void *ctx,
		  struct fw_err *err)
{
	struct embedded *s = (struct embedded *)base;
	uint64_t durable = q->durable_only ? fw_log_durable_seq(s->log) : UINT64_MAX;
	/* Pick the matching rows under the lock, read them from the log after. */
	pthread_rwlock_rdlock(&s->lock);
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
	uint64_t lo = q->from_seq, hi = s->nrows;
	if (q->to_seq && q->to_seq < hi)
		hi = q->to_seq;
	if (durable < hi)
		hi = durable;
	size_t cap = 256, nsel = 0;
	uint64_t *sel = fw_xmalloc(cap * sizeof *sel);
	for (uint64_t k = 0; lo < hi && k < hi - lo; k++) {
		uint64_t i = q->newest_first ? hi - 1 - k : lo + k;
		const struct row *r = row_at(s, i);
		if (q->type_mask && !(q->type_mask & (1u << r->type)) &&
		    !(q->or_with_group && r->group != UINT32_MAX))
			continue;
		if ((q->from_ms || q->to_ms) && !in_range(r->time_ms, q->from_ms, q->to_ms))
			continue;
		if (want && !want[r->distinct])
			continue;
		if (nsel == cap)
			sel = fw_xrealloc(sel, (cap *= 2) * sizeof *sel);
		sel[nsel++] = i;
		if (q->limit && nsel >= q->limit)
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
		if (!rc)
			rc = fn(ctx, sel[i], &e);
	}
	fw_buf_release(&buf);
	free(sel);
	free(rows);
	return rc;
}

static void e_stats(struct fw_store *base, struct fw_store_stats *out)
{
	struct embedded *s = (struct embedded *)base;
	pthread_rwlock_rdlock(&s->lock);
	out->records = s->nrows;
	out->events = s->events;
	out->duplicates = s->duplicates;
	pthread_rwlock_unlock(&s->lock);
	out->bytes = fw_log_bytes(s->log);
	out->syncs = fw_log_syncs(s->log);
	out->durable_seq = fw_log_durable_seq(s->log);
	out->failed = fw_log_failed(s->log);
}

static void e_close(struct fw_store *base)
{
	struct embedded *s = (struct embedded *)base;
	fw_log_close(s->log);
	for (size_t c = 0; c * ROW_CHUNK < s->nrows; c++)
		free(s->chunks[c]);
	free(s->chunks);
	fw_dict_release(&s->names);
	fw_dict_release(&s->distincts);
	fw_dict_release(&s->groups);
	for (int i = 0; i < DD_SHARDS; i++)
		free(s->dd[i].slots);
	pthread_rwlock_destroy(&s->lock);
	free(s);
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
	fw_dict_init(&s->names);
	fw_dict_init(&s->distincts);
	fw_dict_init(&s->groups);
	for (int i = 0; i < DD_SHARDS; i++) {
		s->dd[i].mask = 1023;
		s->dd[i].slots = fw_xcalloc(1024, sizeof *s->dd[i].slots);
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/log", dir);
	struct fw_log_options lo = {0};
	if (opt) {
		lo.min_free_bytes = opt->min_free_bytes;
		lo.file_bytes = opt->log_file_bytes;
		lo.no_sync = opt->no_sync;
	}
	if (opt)
		s->opt = *opt;
	int rc = fw_log_open(path, &lo, replay_one, notice_fwd, s, &s->log, err);
	if (rc) {
		s->log = NULL;
		fw_dict_release(&s->names);
		fw_dict_release(&s->distincts);
		fw_dict_release(&s->groups);
		for (size_t c = 0; c * ROW_CHUNK < s->nrows; c++)
			free(s->chunks[c]);
		free(s->chunks);
		for (int i = 0; i < DD_SHARDS; i++)
			free(s->dd[i].slots);
		pthread_rwlock_destroy(&s->lock);
		free(s);
		return rc;
	}
	*out = &s->base;
	return 0;
}

void fw_store_embedded_inject_sync_failure(struct fw_store *base, int nth)
{
	fw_log_inject_sync_failure(((struct embedded *)base)->log, nth);
}
