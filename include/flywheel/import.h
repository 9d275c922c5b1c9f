/*
 * import.h — the import pipeline: Segment-spec messages, one JSON object per
 * line, parsed and mapped on worker threads and appended to a data
 * directory's store strictly in the order they were handed over.
 *
 * `flywheel import` feeds it chunks read from files; `flywheel demo` feeds it
 * chunks it generates in memory. Either way every line goes through the same
 * steps as over HTTP: JSON parser, Segment mapper (src/ingest/segment.c),
 * fw_store_append (dedup by message id: the first line wins). A line that
 * cannot be used is skipped and recorded as an ingestion warning naming the
 * source and line ("FILE line N: …").
 *
 *   struct fw_import *im = fw_import_new(srv, nthreads);
 *   while (more) fw_import_push(im, chunk, len, "events.ndjson", first_line);
 *   rc = fw_import_finish(im, &err);   // workers joined, events durable
 *   fw_import_stats(im, &st);
 *   fw_import_free(im);
 *
 * People and accounts are not applied and nothing is compacted here: the
 * caller runs fw_server_catch_up and fw_store_compact when it wants to.
 */
#ifndef FLYWHEEL_IMPORT_H
#define FLYWHEEL_IMPORT_H

#include "flywheel/server.h"

#define FW_IMPORT_CHUNK (4u << 20) /* bytes of whole lines per chunk, as import reads them */

struct fw_import;

struct fw_import_stats {
	uint64_t lines;      /* non-blank lines looked at */
	uint64_t stored;     /* events, calls stored */
	uint64_t duplicates; /* dropped: message id seen before */
	uint64_t skipped;    /* unusable lines (listed as warnings) */
	uint64_t bytes;      /* bytes of the chunks appended */
};

/* Start `nthreads` (1..64) workers that append to srv's store. The server
 * must outlive the import. */
struct fw_import *fw_import_new(struct fw_server *srv, int nthreads);

/* Hand over `len` bytes of whole lines (the last one may lack its newline).
 * The pipeline takes ownership of `data` (from malloc) and frees it. `source`
 * names the lines in warnings and is kept by pointer until fw_import_free;
 * `first_line` is the number of lines before this chunk in its source.
 * Blocks while a few chunks already wait. Returns 0, or -1 once the pipeline
 * has failed (data is freed; stop feeding and call fw_import_finish). */
int fw_import_push(struct fw_import *im, char *data, size_t len, const char *source,
		   uint64_t first_line);

/* Totals so far (safe from any thread, while workers run). */
void fw_import_stats(struct fw_import *im, struct fw_import_stats *out);

/* No more chunks: wait for the workers, then until every stored event is
 * durable (fsync'd). Returns 0 or the first error (what was appended before
 * it is kept). Call once. */
int fw_import_finish(struct fw_import *im, struct fw_err *err);

/* Stops the workers if fw_import_finish was not called, and frees. */
void fw_import_free(struct fw_import *im);

#endif
