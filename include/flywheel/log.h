/*
 * log.h — the write-ahead event log: append, group-committed fdatasync, replay.
 * The on-disk format is documented byte by byte at the top of src/store/log.c.
 *
 * Sequence numbers: every record gets the next seq (0, 1, 2, …) in append
 * order; a record is durable once fw_log_durable_seq() > its seq.
 *
 * Threads: fw_log_append and fw_log_wait may be called from any thread. One
 * background thread runs fdatasync for everyone (group commit): all records
 * appended while a sync runs are covered by the next one.
 */
#ifndef FLYWHEEL_LOG_H
#define FLYWHEEL_LOG_H

#include "flywheel/base.h"
#include <sys/uio.h>

struct fw_log;

struct fw_log_options {
	uint64_t file_bytes;     /* rotate to a new file past this size (default 256 MiB) */
	uint64_t min_free_bytes; /* refuse appends (FW_EAGAIN, "disk full") below this much free space */
	int no_sync;             /* for tests of other modules only: skip fdatasync */
};

/* Called for each valid record during replay, in order. `loc` locates the
 * record for fw_log_read. Return non-zero to stop with that error. */
typedef int (*fw_log_replay_fn)(void *ctx, uint64_t seq, uint64_t loc, int kind,
				const void *payload, size_t n);
/* Called with a notice for a person (e.g. a torn tail that was truncated). */
typedef void (*fw_log_notice_fn)(void *ctx, const char *msg);

/* Open DIR (created if missing), replay every record through `replay`, truncate
 * a torn tail (reported through `notice`), and get ready to append. A damaged
 * record followed by valid ones fails with FW_ECORRUPT naming file and offset. */
int fw_log_open(const char *dir, const struct fw_log_options *opt, fw_log_replay_fn replay,
		fw_log_notice_fn notice, void *ctx, struct fw_log **out, struct fw_err *err);
void fw_log_close(struct fw_log *log);

#define FW_LOG_RECORD_HEADER 12

/* Frame a payload: fill the 12-byte record header (kind, length, CRC) for it.
 * Needs no lock, so callers frame records in parallel and hold locks only for
 * the write. */
void fw_log_frame(int kind, const void *payload, size_t n, uint8_t head[FW_LOG_RECORD_HEADER]);

/* Append `n` framed records in one write: iov holds 2n entries, each record's
 * header (from fw_log_frame) followed by its payload. On success *first_seq
 * is the seq of the first record and locs[i] (if not NULL) each record's
 * location. Not durable until fw_log_wait(first_seq + n - 1). FW_EAGAIN: disk
 * full, FW_EFAILED: the log is failed (an fsync failed), FW_EIO: write error;
 * in every error case nothing of this call is in the log. */
int fw_log_append(struct fw_log *log, const struct iovec *iov, size_t n, uint64_t *first_seq,
		  uint64_t *locs, struct fw_err *err);

/* Block until record `seq` is durable. FW_EFAILED if the sync that covered it
 * failed: then it must never be acknowledged. */
int fw_log_wait(struct fw_log *log, uint64_t seq, struct fw_err *err);

uint64_t fw_log_next_seq(struct fw_log *log);
uint64_t fw_log_durable_seq(struct fw_log *log);
int fw_log_failed(struct fw_log *log);
uint64_t fw_log_syncs(struct fw_log *log); /* number of fdatasync calls so far */
uint64_t fw_log_bytes(struct fw_log *log); /* total bytes in all files */

/* Read record at `loc` into buf (payload only). */
int fw_log_read(struct fw_log *log, uint64_t loc, struct fw_buf *buf, struct fw_err *err);

/* Read the payloads of n records at ascending locations into `out`
 * (record i is out[offs[i] .. offs[i+1])), in large sequential reads. */
int fw_log_read_many(struct fw_log *log, const uint64_t *locs, size_t n, struct fw_buf *out,
		     size_t *offs, struct fw_err *err);

/* Remove the log files whose records all have seq < `seq` (they are in
 * segments); the newest file always stays, so seqs continue after a restart. */
int fw_log_drop_before(struct fw_log *log, uint64_t seq, struct fw_err *err);

/* Fault injection for tests: make the Nth fdatasync from now fail (0 = off). */
void fw_log_inject_sync_failure(struct fw_log *log, int nth);

#endif
