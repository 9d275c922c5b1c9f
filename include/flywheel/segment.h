/*
 * segment.h — immutable, compressed, columnar segments of the event store.
 *
 * The embedded store compacts the write-ahead log into segments in the
 * background (src/store/embedded.c). A segment holds every record of one seq
 * range [first, end), ordered by (distinct id, time, seq): the events of
 * each person sit together in time order, the layout the analyses read.
 * Light columns (seq, time, type/source/flags, name, distinct id, account)
 * are separate zstd sections, so a scan that needs no properties never
 * decompresses a payload; full records live in payload blocks of
 * FW_SEG_BLOCK_ROWS rows. Every section carries an XXH64 checksum; the byte
 * layout is documented at the top of src/store/segment.c.
 *
 * A segment is written to a temporary name, fsync'd, then renamed into place
 * and the directory fsync'd: a crash during compaction leaves either no
 * segment or a whole one, never half of one in use.
 */
#ifndef FLYWHEEL_SEGMENT_H
#define FLYWHEEL_SEGMENT_H

#include "flywheel/base.h"
#include "flywheel/event.h"

#define FW_SEG_BLOCK_ROWS 4096

/* ---- writing ---- */

struct fw_seg_writer;

/* Start a segment for seqs [first, end) at `path` (written as path + ".tmp"
 * until fw_seg_writer_finish). */
int fw_seg_writer_open(const char *path, uint64_t first, uint64_t end,
		       struct fw_seg_writer **out, struct fw_err *err);
/* Add one record; rows must come in (distinct id, time, seq) order. */
int fw_seg_writer_add(struct fw_seg_writer *w, uint64_t seq, const struct fw_event *e,
		      struct fw_err *err);
/* Write columns and footer, fsync, rename into place, fsync the directory.
 * Frees the writer whether or not it succeeds. */
int fw_seg_writer_finish(struct fw_seg_writer *w, struct fw_err *err);
/* Drop an unfinished writer and its temporary file. */
void fw_seg_writer_abort(struct fw_seg_writer *w);

/* ---- reading ---- */

struct fw_seg;

struct fw_seg_info {
	uint64_t first, end; /* seq range */
	uint64_t rows, events; /* records; track/page/screen among them */
	int64_t min_ms, max_ms;  /* event times */
	int64_t max_received_ms;
	uint64_t bytes;          /* file size */
};

int fw_seg_open(const char *path, struct fw_seg **out, struct fw_err *err);
void fw_seg_close(struct fw_seg *s);
const struct fw_seg_info *fw_seg_info(const struct fw_seg *s);

/* Row flags byte: type (bits 0-2), source (bits 3-5), is_user (bit 6: the
 * distinct id is the user id), has_traits (bit 7). */
#define FW_SEG_TYPE(f) ((f) & 7)
#define FW_SEG_SOURCE(f) (((f) >> 3) & 7)
#define FW_SEG_IS_USER(f) (((f) >> 6) & 1)
#define FW_SEG_HAS_TRAITS(f) (((f) >> 7) & 1)

/* The light columns, decoded. Ids index the segment's dictionaries; group
 * is UINT32_MAX for none. */
struct fw_seg_cols {
	uint64_t n;
	uint64_t *seq;
	int64_t *time;
	uint8_t *flags;
	uint32_t *name, *did, *group;
};
int fw_seg_load_cols(struct fw_seg *s, struct fw_seg_cols *c, struct fw_err *err);
void fw_seg_free_cols(struct fw_seg_cols *c);

struct fw_str fw_seg_name(const struct fw_seg *s, uint32_t id);
struct fw_str fw_seg_did(const struct fw_seg *s, uint32_t id);
struct fw_str fw_seg_group(const struct fw_seg *s, uint32_t id);
uint32_t fw_seg_ndids(const struct fw_seg *s);
uint32_t fw_seg_nnames(const struct fw_seg *s);
/* Id of a distinct id in this segment, or UINT32_MAX. */
uint32_t fw_seg_find_did(const struct fw_seg *s, struct fw_str did);

/* The rows' message ids: row i's is raw[offs[2i] .. offs[2i+1]). Free offs.
 * The dedup table is refilled from them at start-up. */
int fw_seg_ids(struct fw_seg *s, struct fw_buf *raw, uint32_t **offs, struct fw_err *err);

/* The traits of every row (identify and group calls, events with $set):
 * row i's traits are raw[offs[2i] .. offs[2i+1]) (empty: none). Free offs. */
int fw_seg_traits(struct fw_seg *s, struct fw_buf *raw, uint32_t **offs, struct fw_err *err);

/* Reading full records: a cursor caches one decompressed payload block. */
struct fw_seg_cursor {
	int64_t block; /* -1 = none */
	struct fw_buf raw;
	uint32_t *offs; /* per row of the block: start and end offset within raw */
	struct fw_buf ids, traits; /* the segment's message ids and traits, once read */
	uint32_t *id_offs, *trait_offs;
};
void fw_seg_cursor_init(struct fw_seg_cursor *c);
void fw_seg_cursor_release(struct fw_seg_cursor *c);
/* Decode row `row` in full (the light columns give ids, name, time and
 * account; the payload the rest); strings point into the segment, the
 * cursor and `cols`. */
int fw_seg_record(struct fw_seg *s, const struct fw_seg_cols *cols, uint64_t row,
		  struct fw_seg_cursor *c, struct fw_event *e, struct fw_err *err);

#endif
