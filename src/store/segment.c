/*
 * segment.c — columnar segment files (segment.h).
 *
 * FILE: DIR/segments/FFFFFFFFFFFFFFFF-EEEEEEEEEEEEEEEE.fwseg, the first and
 * end seq in hex. Every integer is little-endian.
 *
 *   header, 16 bytes: magic "FWSEG\r\n\x1a", version u32 (1), zero u32
 *   payload blocks:   one zstd frame per FW_SEG_BLOCK_ROWS rows; raw bytes
 *                     are, per row, a LEB128 length then the rest of the
 *                     record — what no column holds: LEB128 zigzag of
 *                     (received - time), then four strings, each a LEB128
 *                     length and bytes: the anonymous id when the row's
 *                     distinct id is the user id (else empty), previous id,
 *                     properties, context
 *   sections:         one zstd frame each, in this order:
 *     0 names   u32 count, then per string LEB128 length + bytes
 *     1 dids    the same; ids are numbered in row order (runs)
 *     2 groups  the same
 *     3 runs    per did, LEB128 number of rows (dids in id order)
 *     4 seq     per row, LEB128 (seq - first)
 *     5 time    per row, LEB128 zigzag of (time - previous row's time)
 *     6 flags   per row, one byte (segment.h)
 *     7 name    per row, LEB128 name id
 *     8 group   per row, LEB128 (group id + 1; 0 = none)
 *     9 ids     per row, LEB128 length then the message id
 *    10 traits  per row, LEB128 length then the traits JSON (length 0: none),
 *               so identify and group calls are read without any payload
 *   directory: per block, then per section: u64 offset, u64 compressed
 *              size, u64 raw size, u64 XXH64 of the compressed bytes
 *   footer, 96 bytes:
 *     0  u64 first seq      8  u64 end seq       16 u64 rows
 *     24 u64 events         32 i64 min time      40 i64 max time
 *     48 i64 max received   56 u64 blocks        64 u64 directory offset
 *     72 u32 version (1)    76 u32 zero
 *     80 u64 XXH64 of the directory and footer bytes 0..79
 *     88 magic "FWSEGEND"
 *
 * Every frame's checksum is verified when it is read; the footer's when the
 * file is opened. Any mismatch is FW_ECORRUPT naming the file.
 */
#include "flywheel/segment.h"
#include "flywheel/dict.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#define MAGIC "FWSEG\r\n\x1a"
#define END_MAGIC "FWSEGEND"
#define FOOTER 96
#define NSECT 11
#define ZLEVEL 3         /* columns: fast, they are small */
#define ZLEVEL_PAYLOAD 3 /* payload blocks: level 9 saves 8% of the bytes for 3x the time */

enum { S_NAMES, S_DIDS, S_GROUPS, S_RUNS, S_SEQ, S_TIME, S_FLAGS, S_NAME, S_GROUP, S_IDS, S_TRAITS };

struct dir_entry {
	uint64_t off, csize, rsize, hash;
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_str(struct fw_buf *b, struct fw_str s)
{
	fw_buf_add_varint(b, s.len);
	if (s.len)
		fw_buf_add(b, s.p, s.len);
}

static int get_str(const uint8_t **p, const uint8_t *end, struct fw_str *s)
{
	uint64_t n;
	if (fw_get_varint(p, end, &n) || n > (uint64_t)(end - *p))
		return -1;
	*s = (struct fw_str){(const char *)*p, (uint32_t)n};
	*p += n;
	return 0;
}

/* ---- writer ---- */

struct fw_seg_writer {
	char path[4096], tmp[4200];
	int fd;
	uint64_t off;
	uint64_t first, end, rows, events;
	int64_t min_ms, max_ms, max_received, last_time;
	struct fw_dict names, dids, groups;
	uint32_t cur_did, run;
	struct fw_buf block, sect[NSECT];
	uint64_t block_rows;
	struct dir_entry *blocks;
	size_t nblocks, capblocks;
	ZSTD_CCtx *zc;
};

static int write_all(struct fw_seg_writer *w, const void *p, size_t n, struct fw_err *err)
{
	const char *c = p;
	while (n) {
		ssize_t r = write(w->fd, c, n);
		if (r <= 0)
			return fw_error(err, FW_EIO, "writing segment %s: %s", w->tmp,
					r < 0 ? strerror(errno) : "short write");
		c += r;
		n -= (size_t)r;
		w->off += (uint64_t)r;
	}
	return 0;
}

/* Compress `raw` as one frame at the current offset; fill its directory entry. */
static int write_frame(struct fw_seg_writer *w, const struct fw_buf *raw, int level,
		       struct dir_entry *d, struct fw_err *err)
{
	size_t cap = ZSTD_compressBound(raw->len);
	void *z = fw_xmalloc(cap + 1);
	size_t n = ZSTD_compressCCtx(w->zc, z, cap, raw->data ? raw->data : "", raw->len, level);
	if (ZSTD_isError(n)) {
		free(z);
		return fw_error(err, FW_EIO, "compressing segment %s: %s", w->tmp, ZSTD_getErrorName(n));
	}
	*d = (struct dir_entry){w->off, n, raw->len, XXH64(z, n, 0)};
	int rc = write_all(w, z, n, err);
	free(z);
	return rc;
}

int fw_seg_writer_open(const char *path, uint64_t first, uint64_t end,
		       struct fw_seg_writer **out, struct fw_err *err)
{
	struct fw_seg_writer *w = fw_xcalloc(1, sizeof *w);
	snprintf(w->path, sizeof w->path, "%s", path);
	snprintf(w->tmp, sizeof w->tmp, "%s.tmp", path);
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		int e = errno;
		free(w);
		return fw_error(err, FW_EIO, "cannot create %s.tmp: %s", path, strerror(e));
	}
	w->first = first;
	w->end = end;
	w->cur_did = UINT32_MAX;
	w->min_ms = INT64_MAX;
	w->max_ms = INT64_MIN;
	w->max_received = INT64_MIN;
	fw_dict_init(&w->names);
	fw_dict_init(&w->dids);
	fw_dict_init(&w->groups);
	w->zc = ZSTD_createCCtx();
	uint8_t head[16] = {0};
	memcpy(head, MAGIC, 8);
	put32(head + 8, 1);
	int rc = write_all(w, head, sizeof head, err);
	if (rc) {
		fw_seg_writer_abort(w);
		return rc;
	}
	*out = w;
	return 0;
}

static int flush_block(struct fw_seg_writer *w, struct fw_err *err)
{
	if (!w->block_rows)
		return 0;
	if (w->nblocks == w->capblocks) {
		w->capblocks = w->capblocks ? w->capblocks * 2 : 64;
		w->blocks = fw_xrealloc(w->blocks, w->capblocks * sizeof *w->blocks);
	}
	int rc = write_frame(w, &w->block, ZLEVEL_PAYLOAD, &w->blocks[w->nblocks++], err);
	fw_buf_reset(&w->block);
	w->block_rows = 0;
	return rc;
}

int fw_seg_writer_add(struct fw_seg_writer *w, uint64_t seq, const struct fw_event *e,
		      struct fw_err *err)
{
	struct fw_str did = fw_event_distinct_id(e);
	uint32_t before = w->dids.count;
	uint32_t d = fw_dict_intern(&w->dids, did.p, did.len);
	if (d != w->cur_did) {
		if (d != before)
			return fw_error(err, FW_EINVAL, "segment rows must be grouped by distinct id");
		if (w->cur_did != UINT32_MAX)
			fw_buf_add_varint(&w->sect[S_RUNS], w->run);
		w->cur_did = d;
		w->run = 0;
	}
	w->run++;
	fw_buf_add_varint(&w->sect[S_SEQ], seq - w->first);
	int64_t delta = e->time_ms - w->last_time;
	w->last_time = e->time_ms;
	fw_buf_add_varint(&w->sect[S_TIME], ((uint64_t)delta << 1) ^ (uint64_t)(delta >> 63));
	uint8_t flags = (uint8_t)((e->type & 7) | (e->source & 7) << 3 | (e->user_id.len > 0) << 6 |
				  (e->traits.len > 0) << 7);
	fw_buf_addc(&w->sect[S_FLAGS], (char)flags);
	fw_buf_add_varint(&w->sect[S_NAME], fw_dict_intern(&w->names, e->event.p, e->event.len));
	fw_buf_add_varint(&w->sect[S_GROUP],
			  e->group_id.len ? fw_dict_intern(&w->groups, e->group_id.p, e->group_id.len) + 1u
					  : 0);
	put_str(&w->sect[S_IDS], e->message_id);
	put_str(&w->sect[S_TRAITS], e->traits);
	/* the rest of the record */
	size_t at = w->block.len;
	int64_t rd = e->received_ms - e->time_ms;
	fw_buf_add_varint(&w->block, ((uint64_t)rd << 1) ^ (uint64_t)(rd >> 63));
	put_str(&w->block, e->user_id.len ? e->anonymous_id : (struct fw_str){0});
	put_str(&w->block, e->previous_id);
	put_str(&w->block, e->properties);
	put_str(&w->block, e->context);
	size_t n = w->block.len - at;
	struct fw_buf len = {0};
	fw_buf_add_varint(&len, n);
	fw_buf_grow(&w->block, len.len);
	memmove(w->block.data + at + len.len, w->block.data + at, n);
	memcpy(w->block.data + at, len.data, len.len);
	w->block.len += len.len;
	fw_buf_release(&len);
	w->rows++;
	w->events += fw_event_is_activity(e);
	if (e->time_ms < w->min_ms)
		w->min_ms = e->time_ms;
	if (e->time_ms > w->max_ms)
		w->max_ms = e->time_ms;
	if (e->received_ms > w->max_received)
		w->max_received = e->received_ms;
	if (++w->block_rows == FW_SEG_BLOCK_ROWS)
		return flush_block(w, err);
	return 0;
}

static void dict_section(struct fw_buf *b, const struct fw_dict *d)
{
	uint8_t n[4];
	put32(n, d->count);
	fw_buf_add(b, n, 4);
	for (uint32_t i = 0; i < d->count; i++) {
		struct fw_str s = fw_dict_str(d, i);
		fw_buf_add_varint(b, s.len);
		fw_buf_add(b, s.p, s.len);
	}
}

static void writer_free(struct fw_seg_writer *w)
{
	fw_dict_release(&w->names);
	fw_dict_release(&w->dids);
	fw_dict_release(&w->groups);
	fw_buf_release(&w->block);
	for (int i = 0; i < NSECT; i++)
		fw_buf_release(&w->sect[i]);
	free(w->blocks);
	ZSTD_freeCCtx(w->zc);
	free(w);
}

void fw_seg_writer_abort(struct fw_seg_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	unlink(w->tmp);
	writer_free(w);
}

static int fsync_dir_of(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	int fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int fw_seg_writer_finish(struct fw_seg_writer *w, struct fw_err *err)
{
	if (w->cur_did != UINT32_MAX)
		fw_buf_add_varint(&w->sect[S_RUNS], w->run);
	dict_section(&w->sect[S_NAMES], &w->names);
	dict_section(&w->sect[S_DIDS], &w->dids);
	dict_section(&w->sect[S_GROUPS], &w->groups);
	struct dir_entry sect[NSECT];
	int rc = flush_block(w, err);
	for (int i = 0; i < NSECT && !rc; i++)
		rc = write_frame(w, &w->sect[i], ZLEVEL, &sect[i], err);
	if (!rc) {
		struct fw_buf tail = {0};
		uint64_t dir_off = w->off;
		uint8_t e[32];
		for (size_t i = 0; i < w->nblocks + NSECT; i++) {
			const struct dir_entry *d = i < w->nblocks ? &w->blocks[i] : &sect[i - w->nblocks];
			put64(e, d->off);
			put64(e + 8, d->csize);
			put64(e + 16, d->rsize);
			put64(e + 24, d->hash);
			fw_buf_add(&tail, e, 32);
		}
		uint8_t f[FOOTER] = {0};
		put64(f, w->first);
		put64(f + 8, w->end);
		put64(f + 16, w->rows);
		put64(f + 24, w->events);
		put64(f + 32, (uint64_t)(w->rows ? w->min_ms : 0));
		put64(f + 40, (uint64_t)(w->rows ? w->max_ms : 0));
		put64(f + 48, (uint64_t)(w->rows ? w->max_received : 0));
		put64(f + 56, w->nblocks);
		put64(f + 64, dir_off);
		put32(f + 72, 1);
		fw_buf_add(&tail, f, 80);
		put64(f + 80, XXH64(tail.data, tail.len, 0));
		memcpy(f + 88, END_MAGIC, 8);
		fw_buf_add(&tail, f + 80, 16);
		rc = write_all(w, tail.data, tail.len, err);
		fw_buf_release(&tail);
	}
	if (!rc && fsync(w->fd))
		rc = fw_error(err, FW_EIO, "fsync of segment %s: %s", w->tmp, strerror(errno));
	if (!rc && rename(w->tmp, w->path))
		rc = fw_error(err, FW_EIO, "renaming segment %s: %s", w->tmp, strerror(errno));
	if (!rc && fsync_dir_of(w->path))
		rc = fw_error(err, FW_EIO, "fsync of the directory of %s: %s", w->path, strerror(errno));
	if (rc) {
		fw_seg_writer_abort(w);
		return rc;
	}
	close(w->fd);
	writer_free(w);
	return 0;
}

/* ---- reader ---- */

struct fw_seg {
	char path[4096];
	int fd;
	struct fw_seg_info info;
	struct dir_entry *dir; /* blocks, then sections */
	uint64_t nblocks;
	struct fw_dict names, dids, groups;
};

static int read_at(struct fw_seg *s, void *p, size_t n, uint64_t off, struct fw_err *err)
{
	char *c = p;
	while (n) {
		ssize_t r = pread(s->fd, c, n, (off_t)off);
		if (r <= 0)
			return fw_error(err, FW_ECORRUPT, "segment %s: cannot read %zu bytes at %llu%s%s",
					s->path, n, (unsigned long long)off, r < 0 ? ": " : " (truncated)",
					r < 0 ? strerror(errno) : "");
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* Read, verify and decompress directory entry i into out. */
static int read_frame(struct fw_seg *s, size_t i, struct fw_buf *out, struct fw_err *err)
{
	const struct dir_entry *d = &s->dir[i];
	if (d->csize > (1ull << 34) || d->rsize > (1ull << 36))
		return fw_error(err, FW_ECORRUPT, "segment %s: implausible frame size", s->path);
	void *z = fw_xmalloc(d->csize + 1);
	int rc = read_at(s, z, d->csize, d->off, err);
	if (!rc && XXH64(z, d->csize, 0) != d->hash)
		rc = fw_error(err, FW_ECORRUPT, "segment %s: checksum mismatch in the frame at byte %llu",
			      s->path, (unsigned long long)d->off);
	if (!rc) {
		fw_buf_reset(out);
		fw_buf_grow(out, d->rsize + 1);
		size_t n = ZSTD_decompress(out->data, d->rsize + 1, z, d->csize);
		if (ZSTD_isError(n) || n != d->rsize)
			rc = fw_error(err, FW_ECORRUPT, "segment %s: undecodable frame at byte %llu", s->path,
				      (unsigned long long)d->off);
		else
			out->len = n;
	}
	free(z);
	return rc;
}

static int read_dict(struct fw_seg *s, int sect, struct fw_dict *d, struct fw_err *err)
{
	struct fw_buf b = {0};
	int rc = read_frame(s, s->nblocks + (size_t)sect, &b, err);
	if (!rc) {
		const uint8_t *p = (const uint8_t *)b.data, *end = p + b.len;
		uint32_t n = b.len >= 4 ? get32(p) : 0;
		p += 4;
		for (uint32_t i = 0; i < n && !rc; i++) {
			uint64_t len;
			if (fw_get_varint(&p, end, &len) || len > (uint64_t)(end - p))
				rc = fw_error(err, FW_ECORRUPT, "segment %s: bad dictionary", s->path);
			else {
				fw_dict_intern(d, (const char *)p, len);
				p += len;
			}
		}
		if (!rc && d->count != n)
			rc = fw_error(err, FW_ECORRUPT, "segment %s: duplicate dictionary entries", s->path);
	}
	fw_buf_release(&b);
	return rc;
}

int fw_seg_open(const char *path, struct fw_seg **out, struct fw_err *err)
{
	struct fw_seg *s = fw_xcalloc(1, sizeof *s);
	snprintf(s->path, sizeof s->path, "%s", path);
	fw_dict_init(&s->names);
	fw_dict_init(&s->dids);
	fw_dict_init(&s->groups);
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t head[16], f[FOOTER];
	int rc = 0;
	if (s->fd < 0 || fstat(s->fd, &st))
		rc = fw_error(err, FW_EIO, "cannot open segment %s: %s", path, strerror(errno));
	else if (st.st_size < 16 + FOOTER)
		rc = fw_error(err, FW_ECORRUPT, "segment %s is truncated (%lld bytes)", path,
			      (long long)st.st_size);
	if (!rc)
		rc = read_at(s, head, 16, 0, err);
	if (!rc)
		rc = read_at(s, f, FOOTER, (uint64_t)st.st_size - FOOTER, err);
	if (!rc && (memcmp(head, MAGIC, 8) || get32(head + 8) != 1 || memcmp(f + 88, END_MAGIC, 8)))
		rc = fw_error(err, FW_ECORRUPT, "%s is not a version 1 segment (bad magic)", path);
	if (!rc) {
		s->nblocks = get64(f + 56);
		uint64_t dir_off = get64(f + 64), ndir = s->nblocks + NSECT;
		if (s->nblocks > (1ull << 32) || dir_off + ndir * 32 + FOOTER != (uint64_t)st.st_size) {
			rc = fw_error(err, FW_ECORRUPT, "segment %s: bad footer", path);
		} else {
			struct fw_buf tail = {0};
			fw_buf_grow(&tail, ndir * 32 + 80);
			rc = read_at(s, tail.data, ndir * 32, dir_off, err);
			if (!rc) {
				memcpy(tail.data + ndir * 32, f, 80);
				tail.len = ndir * 32 + 80;
				if (XXH64(tail.data, tail.len, 0) != get64(f + 80))
					rc = fw_error(err, FW_ECORRUPT, "segment %s: footer checksum mismatch", path);
			}
			if (!rc) {
				s->dir = fw_xmalloc(ndir * sizeof *s->dir);
				for (size_t i = 0; i < ndir; i++) {
					const uint8_t *e = (const uint8_t *)tail.data + i * 32;
					s->dir[i] = (struct dir_entry){get64(e), get64(e + 8), get64(e + 16),
								       get64(e + 24)};
				}
			}
			fw_buf_release(&tail);
		}
	}
	if (!rc) {
		s->info = (struct fw_seg_info){get64(f), get64(f + 8), get64(f + 16), get64(f + 24),
					       (int64_t)get64(f + 32), (int64_t)get64(f + 40),
					       (int64_t)get64(f + 48), (uint64_t)st.st_size};
		if (s->info.end < s->info.first || s->info.rows != s->info.end - s->info.first ||
		    (s->info.rows + FW_SEG_BLOCK_ROWS - 1) / FW_SEG_BLOCK_ROWS != s->nblocks)
			rc = fw_error(err, FW_ECORRUPT, "segment %s: row counts disagree", path);
	}
	if (!rc)
		rc = read_dict(s, S_NAMES, &s->names, err);
	if (!rc)
		rc = read_dict(s, S_DIDS, &s->dids, err);
	if (!rc)
		rc = read_dict(s, S_GROUPS, &s->groups, err);
	if (rc) {
		fw_seg_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void fw_seg_close(struct fw_seg *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->dir);
	fw_dict_release(&s->names);
	fw_dict_release(&s->dids);
	fw_dict_release(&s->groups);
	free(s);
}

const struct fw_seg_info *fw_seg_info(const struct fw_seg *s)
{
	return &s->info;
}

struct fw_str fw_seg_name(const struct fw_seg *s, uint32_t id) { return fw_dict_str(&s->names, id); }
struct fw_str fw_seg_did(const struct fw_seg *s, uint32_t id) { return fw_dict_str(&s->dids, id); }
struct fw_str fw_seg_group(const struct fw_seg *s, uint32_t id) { return fw_dict_str(&s->groups, id); }
uint32_t fw_seg_ndids(const struct fw_seg *s) { return s->dids.count; }
uint32_t fw_seg_nnames(const struct fw_seg *s) { return s->names.count; }
uint32_t fw_seg_find_did(const struct fw_seg *s, struct fw_str did)
{
	return fw_dict_find(&s->dids, did.p, did.len);
}

/* Decode a section of n LEB128 values. */
static int varints(struct fw_seg *s, int sect, uint64_t n, void (*put)(void *, uint64_t, uint64_t),
		   void *arr, struct fw_err *err)
{
	struct fw_buf b = {0};
	int rc = read_frame(s, s->nblocks + (size_t)sect, &b, err);
	const uint8_t *p = (const uint8_t *)b.data, *end = p + b.len;
	for (uint64_t i = 0; i < n && !rc; i++) {
		uint64_t v;
		if (fw_get_varint(&p, end, &v))
			rc = fw_error(err, FW_ECORRUPT, "segment %s: column %d is short", s->path, sect);
		else
			put(arr, i, v);
	}
	fw_buf_release(&b);
	return rc;
}

static void put_u64(void *a, uint64_t i, uint64_t v) { ((uint64_t *)a)[i] = v; }
static void put_u32(void *a, uint64_t i, uint64_t v) { ((uint32_t *)a)[i] = (uint32_t)v; }
static void put_group(void *a, uint64_t i, uint64_t v) { ((uint32_t *)a)[i] = v ? (uint32_t)(v - 1) : UINT32_MAX; }
static void put_zigzag(void *a, uint64_t i, uint64_t v)
{
	((int64_t *)a)[i] = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

int fw_seg_load_cols(struct fw_seg *s, struct fw_seg_cols *c, struct fw_err *err)
{
	uint64_t n = s->info.rows;
	memset(c, 0, sizeof *c);
	c->n = n;
	c->seq = fw_xmalloc((n + 1) * sizeof *c->seq);
	c->time = fw_xmalloc((n + 1) * sizeof *c->time);
	c->flags = fw_xmalloc(n + 1);
	c->name = fw_xmalloc((n + 1) * sizeof *c->name);
	c->did = fw_xmalloc((n + 1) * sizeof *c->did);
	c->group = fw_xmalloc((n + 1) * sizeof *c->group);
	uint32_t nd = s->dids.count;
	uint64_t *runs = fw_xmalloc(((size_t)nd + 1) * sizeof *runs);
	int rc = varints(s, S_RUNS, nd, put_u64, runs, err);
	if (!rc) {
		uint64_t at = 0;
		for (uint32_t d = 0; d < nd && !rc; d++) {
			if (runs[d] > n - at)
				rc = fw_error(err, FW_ECORRUPT, "segment %s: runs exceed the rows", s->path);
			for (uint64_t k = 0; k < runs[d] && !rc; k++)
				c->did[at++] = d;
		}
		if (!rc && at != n)
			rc = fw_error(err, FW_ECORRUPT, "segment %s: runs do not cover the rows", s->path);
	}
	free(runs);
	if (!rc)
		rc = varints(s, S_SEQ, n, put_u64, c->seq, err);
	if (!rc)
		rc = varints(s, S_TIME, n, put_zigzag, c->time, err);
	if (!rc)
		rc = varints(s, S_NAME, n, put_u32, c->name, err);
	if (!rc)
		rc = varints(s, S_GROUP, n, put_group, c->group, err);
	if (!rc) {
		struct fw_buf b = {0};
		rc = read_frame(s, s->nblocks + S_FLAGS, &b, err);
		if (!rc && b.len != n)
			rc = fw_error(err, FW_ECORRUPT, "segment %s: flags column is short", s->path);
		if (!rc && n)
			memcpy(c->flags, b.data, n);
		fw_buf_release(&b);
	}
	for (uint64_t i = 0; i < n && !rc; i++) {
		c->seq[i] += s->info.first;
		if (i)
			c->time[i] += c->time[i - 1];
		if (c->seq[i] >= s->info.end || c->name[i] >= s->names.count ||
		    (c->group[i] != UINT32_MAX && c->group[i] >= s->groups.count))
			rc = fw_error(err, FW_ECORRUPT, "segment %s: row %llu is out of range", s->path,
				      (unsigned long long)i);
	}
	if (rc)
		fw_seg_free_cols(c);
	return rc;
}

void fw_seg_free_cols(struct fw_seg_cols *c)
{
	free(c->seq);
	free(c->time);
	free(c->flags);
	free(c->name);
	free(c->did);
	free(c->group);
	memset(c, 0, sizeof *c);
}

/* A section of one string per row into raw, with offs[2i], offs[2i+1]
 * bounding row i's bytes. */
static int string_column(struct fw_seg *s, int sect, struct fw_buf *raw, uint32_t **offs,
			 struct fw_err *err)
{
	int rc = read_frame(s, s->nblocks + (size_t)sect, raw, err);
	uint64_t n = s->info.rows;
	*offs = fw_xmalloc((n + 1) * 2 * sizeof **offs);
	const uint8_t *p = (const uint8_t *)raw->data, *start = p, *end = p + raw->len;
	for (uint64_t i = 0; i < n && !rc; i++) {
		struct fw_str v;
		if (get_str(&p, end, &v))
			rc = fw_error(err, FW_ECORRUPT, "segment %s: column %d is short", s->path, sect);
		else {
			(*offs)[2 * i] = (uint32_t)((const uint8_t *)v.p - start);
			(*offs)[2 * i + 1] = (uint32_t)((const uint8_t *)v.p - start) + v.len;
		}
	}
	if (rc) {
		free(*offs);
		*offs = NULL;
	}
	return rc;
}

int fw_seg_ids(struct fw_seg *s, struct fw_buf *raw, uint32_t **offs, struct fw_err *err)
{
	return string_column(s, S_IDS, raw, offs, err);
}

int fw_seg_traits(struct fw_seg *s, struct fw_buf *raw, uint32_t **offs, struct fw_err *err)
{
	return string_column(s, S_TRAITS, raw, offs, err);
}

void fw_seg_cursor_init(struct fw_seg_cursor *c)
{
	memset(c, 0, sizeof *c);
	c->block = -1;
}

void fw_seg_cursor_release(struct fw_seg_cursor *c)
{
	fw_buf_release(&c->raw);
	fw_buf_release(&c->ids);
	fw_buf_release(&c->traits);
	free(c->offs);
	free(c->id_offs);
	free(c->trait_offs);
	fw_seg_cursor_init(c);
}

int fw_seg_record(struct fw_seg *s, const struct fw_seg_cols *cols, uint64_t row,
		  struct fw_seg_cursor *c, struct fw_event *e, struct fw_err *err)
{
	if (!c->id_offs) {
		int rc = fw_seg_ids(s, &c->ids, &c->id_offs, err);
		if (!rc)
			rc = fw_seg_traits(s, &c->traits, &c->trait_offs, err);
		if (rc)
			return rc;
	}
	if (row >= s->info.rows)
		return fw_error(err, FW_EINVAL, "segment %s: no row %llu", s->path, (unsigned long long)row);
	int64_t block = (int64_t)(row / FW_SEG_BLOCK_ROWS);
	if (c->block != block) {
		c->block = -1;
		int rc = read_frame(s, (size_t)block, &c->raw, err);
		if (rc)
			return rc;
		if (!c->offs)
			c->offs = fw_xmalloc(2 * FW_SEG_BLOCK_ROWS * sizeof *c->offs);
		const uint8_t *p = (const uint8_t *)c->raw.data, *start = p, *end = p + c->raw.len;
		uint64_t rows = s->info.rows - (uint64_t)block * FW_SEG_BLOCK_ROWS;
		if (rows > FW_SEG_BLOCK_ROWS)
			rows = FW_SEG_BLOCK_ROWS;
		for (uint64_t i = 0; i < rows; i++) {
			uint64_t n;
			if (fw_get_varint(&p, end, &n) || n > (uint64_t)(end - p))
				return fw_error(err, FW_ECORRUPT, "segment %s: payload block %lld is short",
						s->path, (long long)block);
			c->offs[2 * i] = (uint32_t)(p - start);
			p += n;
			c->offs[2 * i + 1] = (uint32_t)(p - start);
		}
		c->block = block;
	}
	size_t i = row % FW_SEG_BLOCK_ROWS;
	const uint8_t *p = (const uint8_t *)c->raw.data + c->offs[2 * i];
	const uint8_t *end = (const uint8_t *)c->raw.data + c->offs[2 * i + 1];
	uint8_t f = cols->flags[row];
	struct fw_str did = fw_seg_did(s, cols->did[row]), other;
	uint64_t rd;
	memset(e, 0, sizeof *e);
	if (fw_get_varint(&p, end, &rd) || get_str(&p, end, &other) ||
	    get_str(&p, end, &e->previous_id) || get_str(&p, end, &e->properties) ||
	    get_str(&p, end, &e->context) || p != end)
		return fw_error(err, FW_ECORRUPT, "segment %s: undecodable record at row %llu", s->path,
				(unsigned long long)row);
	e->type = FW_SEG_TYPE(f);
	e->source = FW_SEG_SOURCE(f);
	e->time_ms = cols->time[row];
	e->received_ms = e->time_ms + ((int64_t)(rd >> 1) ^ -(int64_t)(rd & 1));
	e->event = fw_seg_name(s, cols->name[row]);
	if (FW_SEG_IS_USER(f)) {
		e->user_id = did;
		e->anonymous_id = other;
	} else {
		e->anonymous_id = did;
	}
	if (cols->group[row] != UINT32_MAX)
		e->group_id = fw_seg_group(s, cols->group[row]);
	e->message_id = (struct fw_str){c->ids.data + c->id_offs[2 * row],
					c->id_offs[2 * row + 1] - c->id_offs[2 * row]};
	e->traits = (struct fw_str){c->traits.data + c->trait_offs[2 * row],
				    c->trait_offs[2 * row + 1] - c->trait_offs[2 * row]};
	return 0;
}

