/*
 * log.c — the write-ahead event log.
 *
 * A 2xx to an ingest request means its records are in this log and covered by
 * a successful fdatasync. Requests append under one lock; a single sync thread
 * runs fdatasync for everything appended so far, so concurrent requests share
 * one sync (group commit).
 *
 * FILES: DIR/00000001.fwlog, DIR/00000002.fwlog, … (rotated past
 * options.file_bytes). Every integer is little-endian.
 *
 * File header, 64 bytes:
 *   offset size  field
 *   0      8     magic "FWLOG\r\n\x1a"
 *   8      4     format version (1)
 *   12     4     file number (matches the file name)
 *   16     8     seq of the first record in this file
 *   24     8     creation time, epoch ms
 *   32     4     CRC-32 (zlib) of bytes 0..31
 *   36     28    zero
 *
 * Record, 12-byte header then payload:
 *   offset size  field
 *   0      2     magic 0xF1 0x57
 *   2      1     kind (1 = event record; payload layout in src/store/event.c)
 *   3      1     flags, 0
 *   4      4     payload length n (at most 64 MiB)
 *   8      4     CRC-32 (zlib) of header bytes 0..7 followed by the payload
 *   12     n     payload
 *
 * INVARIANTS AND RECOVERY
 *  - Records are only appended; a file is never rewritten except that a torn
 *    tail is truncated at start-up.
 *  - At start-up every file is read in order. A record that is incomplete or
 *    fails its checksum is a *torn tail* if nothing valid follows it in the
 *    last file: it is truncated and reported (it was never acknowledged,
 *    since acknowledgement waits for the sync that covers it). If a valid
 *    record follows it, or it is not in the last file, the log is damaged in
 *    the middle: start-up stops with the file and offset, never skipping.
 *  - A write that fails (e.g. ENOSPC) is truncated away before the lock is
 *    released, so the file holds only whole records.
 *  - If fdatasync fails, the kernel may have dropped the dirty pages; nothing
 *    it covered may be acknowledged, and later syncs prove nothing about them.
 *    The log enters the FAILED state: every waiting and future append gets
 *    FW_EFAILED (HTTP 503) until the process restarts and replays the log.
 *  - A new file is made durable (file and directory fsync'd) before any
 *    record is written to it.
 */
#include "flywheel/log.h"
#include "flywheel/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zlib.h>

#define HEADER_SIZE 64
#define REC_HEADER 12
#define MAX_PAYLOAD (64u << 20)
static const char FILE_MAGIC[8] = {'F', 'W', 'L', 'O', 'G', '\r', '\n', 0x1a};

struct log_file {
	uint32_t no;
	uint64_t first_seq; /* seq of its first record */
	int rfd; /* read-only descriptor, kept open for fw_log_read */
};

struct fw_log {
	char dir[4096];
	struct fw_log_options opt;
	pthread_mutex_t mu;
	pthread_cond_t synced;   /* durable_seq moved or the log failed */
	pthread_cond_t pending;  /* wakes the sync thread */
	pthread_t syncer;
	int stop;
	int failed;
	int wfd;                 /* current file, append descriptor */
	uint32_t file_no;
	uint64_t file_size;
	uint64_t next_seq;       /* seq of the next record appended */
	uint64_t replay_first;   /* first seq of the file being replayed */
	uint64_t durable_seq;    /* every seq below this is durable */
	uint64_t total_bytes;
	uint64_t syncs;
	int old_fds[8];          /* rotated-away write fds still to sync and close */
	int nold;
	struct log_file *files;
	size_t nfiles, capfiles;
	int64_t free_checked_ns;
	int disk_full;
	int inject_sync_fail;
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
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void file_path(const struct fw_log *log, uint32_t no, char *out, size_t n)
{
	snprintf(out, n, "%s/%08u.fwlog", log->dir, no);
}

static uint64_t make_loc(uint32_t file_no, uint64_t off)
{
	return (uint64_t)file_no << 40 | off;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int do_sync(struct fw_log *log, int fd)
{
	if (log->opt.no_sync)
		return 0;
	if (log->inject_sync_fail > 0 && --log->inject_sync_fail == 0) {
		errno = EIO;
		return -1;
	}
	return fdatasync(fd);
}

static void add_file(struct fw_log *log, uint32_t no, int rfd, uint64_t first_seq)
{
	if (log->nfiles == log->capfiles) {
		log->capfiles = log->capfiles ? log->capfiles * 2 : 16;
		log->files = fw_xrealloc(log->files, log->capfiles * sizeof *log->files);
	}
	log->files[log->nfiles++] = (struct log_file){no, first_seq, rfd};
}

/* Create file `no` whose first record will be `first_seq`; durable before return. */
static int create_file(struct fw_log *log, uint32_t no, struct fw_err *err)
{
	char path[4200];
	file_path(log, no, path, sizeof path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return fw_error(err, errno == ENOSPC ? FW_EAGAIN : FW_EIO,
				"cannot create event log file %s: %s", path, strerror(errno));
	uint8_t h[HEADER_SIZE] = {0};
	memcpy(h, FILE_MAGIC, 8);
	put32(h + 8, 1);
	put32(h + 12, no);
	put64(h + 16, log->next_seq);
	put64(h + 24, (uint64_t)fw_now_ms());
	put32(h + 32, (uint32_t)crc32(0, h, 32));
	if (write(fd, h, HEADER_SIZE) != HEADER_SIZE || (!log->opt.no_sync && fsync(fd)) ||
	    (!log->opt.no_sync && fsync_dir(log->dir))) {
		int e = errno;
		close(fd);
		unlink(path);
		return fw_error(err, e == ENOSPC ? FW_EAGAIN : FW_EIO,
				"cannot initialise event log file %s: %s", path, strerror(e));
	}
	int rfd = open(path, O_RDONLY | O_CLOEXEC);
	if (rfd < 0) {
		close(fd);
		return fw_error(err, FW_EIO, "cannot open %s: %s", path, strerror(errno));
	}
	if (log->wfd >= 0) {
		if (log->nold == (int)FW_ARRAY_LEN(log->old_fds)) {
			/* unlikely: sync thread far behind; sync inline */
			do_sync(log, log->wfd);
			close(log->wfd);
		} else {
			log->old_fds[log->nold++] = log->wfd;
		}
	}
	log->wfd = fd;
	log->file_no = no;
	log->file_size = HEADER_SIZE;
	log->total_bytes += HEADER_SIZE;
	add_file(log, no, rfd, log->next_seq);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Is there a valid record header+payload anywhere in buf[from..n)? */
static int valid_record_after(const uint8_t *buf, size_t n, size_t from)
{
	for (size_t i = from; i + REC_HEADER <= n; i++) {
		if (buf[i] != 0xF1 || buf[i + 1] != 0x57)
			continue;
		uint32_t len = get32(buf + i + 4);
		if (len > MAX_PAYLOAD || i + REC_HEADER + len > n)
			continue;
		uint32_t c = (uint32_t)crc32(0, buf + i, 8);
		c = (uint32_t)crc32(c, buf + i + REC_HEADER, len);
		if (c == get32(buf + i + 8))
			return 1;
	}
	return 0;
}

static int read_whole(const char *path, uint8_t **out, size_t *n, struct fw_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fw_error(err, FW_EIO, "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st)) {
		close(fd);
		return fw_error(err, FW_EIO, "cannot stat %s: %s", path, strerror(errno));
	}
	uint8_t *buf = fw_xmalloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r <= 0) {
			int e = errno;
			close(fd);
			free(buf);
			return fw_error(err, FW_EIO, "cannot read %s: %s", path,
					r ? strerror(e) : "unexpected end of file");
		}
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	*n = got;
	return 0;
}

/* Replay one file. *truncate_at is set when a torn tail must be cut. */
static int replay_file(struct fw_log *log, uint32_t no, int is_last, fw_log_replay_fn fn,
		       fw_log_notice_fn notice, void *ctx, struct fw_err *err)
{
	char path[4200];
	file_path(log, no, path, sizeof path);
	uint8_t *buf = NULL;
	size_t n = 0;
	int rc = read_whole(path, &buf, &n, err);
	if (rc)
		return rc;
	if (n < HEADER_SIZE || memcmp(buf, FILE_MAGIC, 8) != 0 ||
	    get32(buf + 32) != (uint32_t)crc32(0, buf, 32)) {
		free(buf);
		if (is_last && n < HEADER_SIZE) {
			/* crashed while creating it: nothing was ever written to it */
			char msg[4400];
			snprintf(msg, sizeof msg, "removed incomplete event log file %s (%zu bytes)", path, n);
			if (unlink(path))
				return fw_error(err, FW_EIO, "cannot remove %s: %s", path, strerror(errno));
			if (notice)
				notice(ctx, msg);
			return 1; /* file gone */
		}
		return fw_error(err, FW_ECORRUPT,
				"event log file %s has a damaged header (byte 0); it is not a Flywheel log "
				"or was overwritten. Move it aside only if you accept losing its events.",
				path);
	}
	uint64_t first_seq = get64(buf + 16);
	if (get32(buf + 12) != no || (log->nfiles && first_seq != log->next_seq)) {
		free(buf);
		return fw_error(err, FW_ECORRUPT,
				"event log file %s starts at record %llu but %llu was expected: a log file "
				"is missing or out of place",
				path, (unsigned long long)first_seq, (unsigned long long)log->next_seq);
	}
	log->next_seq = first_seq;
	log->replay_first = first_seq;
	size_t off = HEADER_SIZE;
	while (off < n) {
		const char *why = NULL;
		uint32_t len = 0;
		if (n - off < REC_HEADER)
			why = "incomplete record header";
		else if (buf[off] != 0xF1 || buf[off + 1] != 0x57)
			why = "bad record magic";
		else if ((len = get32(buf + off + 4)) > MAX_PAYLOAD)
			why = "impossible record length";
		else if (n - off - REC_HEADER < len)
			why = "incomplete record";
		else {
			uint32_t c = (uint32_t)crc32(0, buf + off, 8);
			c = (uint32_t)crc32(c, buf + off + REC_HEADER, len);
			if (c != get32(buf + off + 8))
				why = "checksum mismatch";
		}
		if (why) {
			if (!is_last || valid_record_after(buf, n, off + 1)) {
				free(buf);
				return fw_error(err, FW_ECORRUPT,
						"event log damaged in %s at byte %zu (%s), and valid records "
						"follow it, so this is not a torn write. Flywheel will not skip "
						"events: restore the file from a backup, or copy it aside and "
						"truncate it at byte %zu to accept losing what follows.",
						path, off, why, off);
			}
			char msg[4400];
			snprintf(msg, sizeof msg,
				 "event log %s: truncated a torn tail at byte %zu (%zu bytes, %s); "
				 "those records were never acknowledged",
				 path, off, n - off, why);
			free(buf);
			if (truncate(path, (off_t)off) ||
			    (!log->opt.no_sync && fsync_dir(log->dir)))
				return fw_error(err, FW_EIO, "cannot truncate %s: %s", path, strerror(errno));
			if (notice)
				notice(ctx, msg);
			log->file_size = off;
			return 0;
		}
		if (fn) {
			int r = fn(ctx, log->next_seq, make_loc(no, off), buf[off + 2],
				   buf + off + REC_HEADER, len);
			if (r) {
				free(buf);
				return fw_error(err, r, "replaying %s at byte %zu failed", path, off);
			}
		}
		log->next_seq++;
		off += REC_HEADER + len;
	}
	log->file_size = n;
	free(buf);
	return 0;
}

static void *sync_main(void *arg);

int fw_log_open(const char *dir, const struct fw_log_options *opt, fw_log_replay_fn replay,
		fw_log_notice_fn notice, void *ctx, struct fw_log **out, struct fw_err *err)
{
	if (mkdir(dir, 0755) && errno != EEXIST)
		return fw_error(err, FW_EIO, "cannot create %s: %s", dir, strerror(errno));
	struct fw_log *log = fw_xcalloc(1, sizeof *log);
	snprintf(log->dir, sizeof log->dir, "%s", dir);
	if (opt)
		log->opt = *opt;
	if (!log->opt.file_bytes)
		log->opt.file_bytes = 256ull << 20;
	log->wfd = -1;
	pthread_mutex_init(&log->mu, NULL);
	pthread_cond_init(&log->synced, NULL);
	pthread_cond_init(&log->pending, NULL);

	DIR *d = opendir(dir);
	if (!d) {
		free(log);
		return fw_error(err, FW_EIO, "cannot open %s: %s", dir, strerror(errno));
	}
	uint32_t *nos = NULL;
	size_t nn = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned no;
		char tail[16];
		if (sscanf(de->d_name, "%8u.fwlo%1s", &no, tail) == 2 && strlen(de->d_name) == 14) {
			if (nn == cap)
				nos = fw_xrealloc(nos, (cap = cap ? cap * 2 : 16) * sizeof *nos);
			nos[nn++] = no;
		}
	}
	closedir(d);
	if (nn)
		qsort(nos, nn, sizeof *nos, cmp_u32);
	int rc = 0;
	for (size_t i = 0; i < nn && !rc; i++) {
		rc = replay_file(log, nos[i], i + 1 == nn, replay, notice, ctx, err);
		if (rc == 1) { /* incomplete last file removed */
			rc = 0;
			continue;
		}
		if (rc)
			break;
		char path[4200];
		file_path(log, nos[i], path, sizeof path);
		int rfd = open(path, O_RDONLY | O_CLOEXEC);
		if (rfd < 0) {
			rc = fw_error(err, FW_EIO, "cannot open %s: %s", path, strerror(errno));
			break;
		}
		add_file(log, nos[i], rfd, log->replay_first);
		log->total_bytes += log->file_size;
		if (i + 1 == nn) {
			log->wfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
			log->file_no = nos[i];
			if (log->wfd < 0)
				rc = fw_error(err, FW_EIO, "cannot open %s: %s", path, strerror(errno));
		}
	}
	free(nos);
	if (!rc && log->wfd < 0)
		rc = create_file(log, log->nfiles ? log->files[log->nfiles - 1].no + 1 : 1, err);
	if (rc) {
		fw_log_close(log);
		return rc;
	}
	log->durable_seq = log->next_seq;
	pthread_create(&log->syncer, NULL, sync_main, log);
	*out = log;
	return 0;
}

void fw_log_close(struct fw_log *log)
{
	if (!log)
		return;
	if (log->syncer) {
		pthread_mutex_lock(&log->mu);
		log->stop = 1;
		pthread_cond_broadcast(&log->pending);
		pthread_mutex_unlock(&log->mu);
		pthread_join(log->syncer, NULL);
	}
	for (int i = 0; i < log->nold; i++)
		close(log->old_fds[i]);
	if (log->wfd >= 0)
		close(log->wfd);
	for (size_t i = 0; i < log->nfiles; i++)
		close(log->files[i].rfd);
	free(log->files);
	pthread_mutex_destroy(&log->mu);
	pthread_cond_destroy(&log->synced);
	pthread_cond_destroy(&log->pending);
	free(log);
}

static void *sync_main(void *arg)
{
	struct fw_log *log = arg;
	pthread_mutex_lock(&log->mu);
	for (;;) {
		while (!log->stop && (log->failed || log->next_seq == log->durable_seq))
			pthread_cond_wait(&log->pending, &log->mu);
		if (log->next_seq == log->durable_seq || log->failed)
			break; /* stopping with nothing left to sync */
		uint64_t target = log->next_seq;
		int fd = log->wfd, old[8], nold = log->nold;
		memcpy(old, log->old_fds, sizeof old);
		log->nold = 0;
		pthread_mutex_unlock(&log->mu);

		int rc = 0, e = 0;
		for (int i = 0; i < nold; i++) {
			if (!rc && do_sync(log, old[i])) {
				rc = -1;
				e = errno;
			}
			close(old[i]);
		}
		if (!rc && do_sync(log, fd)) {
			rc = -1;
			e = errno;
		}

		pthread_mutex_lock(&log->mu);
		log->syncs++;
		if (rc) {
			log->failed = 1;
			fprintf(stderr,
				"flywheel: fdatasync of the event log failed (%s); refusing all writes "
				"until restart. Nothing unsynced was acknowledged.\n",
				strerror(e));
		} else {
			log->durable_seq = target;
		}
		pthread_cond_broadcast(&log->synced);
	}
	pthread_mutex_unlock(&log->mu);
	return NULL;
}

static int check_free_space(struct fw_log *log)
{
	if (!log->opt.min_free_bytes)
		return 0;
	int64_t now = fw_mono_ns();
	if (now - log->free_checked_ns > 200000000LL) { /* every 200 ms */
		struct statvfs sv;
		log->free_checked_ns = now;
		if (statvfs(log->dir, &sv) == 0)
			log->disk_full = (uint64_t)sv.f_bavail * sv.f_frsize < log->opt.min_free_bytes;
	}
	return log->disk_full;
}

void fw_log_frame(int kind, const void *payload, size_t n, uint8_t head[FW_LOG_RECORD_HEADER])
{
	head[0] = 0xF1;
	head[1] = 0x57;
	head[2] = (uint8_t)kind;
	head[3] = 0;
	put32(head + 4, (uint32_t)n);
	uint32_t c = (uint32_t)crc32(0, head, 8);
	c = (uint32_t)crc32(c, payload, (uInt)n);
	put32(head + 8, c);
}

int fw_log_append(struct fw_log *log, const struct iovec *iov_in, size_t n, uint64_t *first_seq,
		  uint64_t *locs, struct fw_err *err)
{
	size_t total = 0, niov = 2 * n;
	for (size_t i = 0; i < n; i++) {
		if (iov_in[2 * i + 1].iov_len > MAX_PAYLOAD)
			return fw_error(err, FW_ETOOBIG, "record larger than 64 MiB");
		total += REC_HEADER + iov_in[2 * i + 1].iov_len;
	}
	/* writev may advance through a copy */
	struct iovec *iov = fw_xmalloc((niov + 1) * sizeof *iov);
	memcpy(iov, iov_in, niov * sizeof *iov);
	int rc = 0;
	pthread_mutex_lock(&log->mu);
	if (log->failed) {
		rc = fw_error(err, FW_EFAILED,
			      "the event log is in a failed state after an fsync error; restart flywheel");
		goto out;
	}
	if (check_free_space(log)) {
		rc = fw_error(err, FW_EAGAIN, "disk almost full in %s; free space and retry", log->dir);
		goto out;
	}
	if (log->file_size + total > log->opt.file_bytes && log->file_size > HEADER_SIZE) {
		rc = create_file(log, log->file_no + 1, err);
		if (rc)
			goto out;
	}
	/* writev in chunks of IOV_MAX, handling short writes */
	size_t done = 0, idx = 0, skip = 0;
	while (done < total) {
		size_t cnt = niov - idx > 1024 ? 1024 : niov - idx;
		struct iovec first = iov[idx];
		iov[idx].iov_base = (char *)iov[idx].iov_base + skip;
		iov[idx].iov_len -= skip;
		ssize_t w = writev(log->wfd, iov + idx, (int)cnt);
		iov[idx] = first;
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			if (ftruncate(log->wfd, (off_t)log->file_size))
				log->failed = 1; /* cannot restore a clean end: stop writing */
			rc = fw_error(err, (e == ENOSPC || e == EDQUOT) ? FW_EAGAIN : FW_EIO,
				      "writing the event log failed: %s", strerror(e));
			goto out;
		}
		done += (size_t)w;
		size_t left = (size_t)w + skip;
		while (idx < niov && left >= iov[idx].iov_len) {
			left -= iov[idx].iov_len;
			idx++;
		}
		skip = left;
	}
	*first_seq = log->next_seq;
	if (locs) {
		uint64_t off = log->file_size;
		for (size_t i = 0; i < n; i++) {
			locs[i] = make_loc(log->file_no, off);
			off += REC_HEADER + iov[2 * i + 1].iov_len;
		}
	}
	log->file_size += total;
	log->total_bytes += total;
	log->next_seq += n;
	pthread_cond_signal(&log->pending);
out:
	pthread_mutex_unlock(&log->mu);
	free(iov);
	return rc;
}

int fw_log_wait(struct fw_log *log, uint64_t seq, struct fw_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&log->mu);
	while (log->durable_seq <= seq && !log->failed)
		pthread_cond_wait(&log->synced, &log->mu);
	if (log->durable_seq <= seq)
		rc = fw_error(err, FW_EFAILED,
			      "the event log could not be synced to disk; the events were not stored. "
			      "Retry after flywheel restarts");
	pthread_mutex_unlock(&log->mu);
	return rc;
}

#define LOCKED_GET(field)                          \
	pthread_mutex_lock(&log->mu);              \
	uint64_t v = (uint64_t)log->field;         \
	pthread_mutex_unlock(&log->mu);            \
	return v

uint64_t fw_log_next_seq(struct fw_log *log) { LOCKED_GET(next_seq); }
uint64_t fw_log_durable_seq(struct fw_log *log) { LOCKED_GET(durable_seq); }
int fw_log_failed(struct fw_log *log)
{
	pthread_mutex_lock(&log->mu);
	int v = log->failed;
	pthread_mutex_unlock(&log->mu);
	return v;
}
uint64_t fw_log_syncs(struct fw_log *log) { LOCKED_GET(syncs); }
uint64_t fw_log_bytes(struct fw_log *log) { LOCKED_GET(total_bytes); }

void fw_log_inject_sync_failure(struct fw_log *log, int nth)
{
	pthread_mutex_lock(&log->mu);
	log->inject_sync_fail = nth;
	pthread_mutex_unlock(&log->mu);
}

int fw_log_read(struct fw_log *log, uint64_t loc, struct fw_buf *buf, struct fw_err *err)
{
	uint32_t no = (uint32_t)(loc >> 40);
	off_t off = (off_t)(loc & ((1ull << 40) - 1));
	int fd = -1;
	pthread_mutex_lock(&log->mu);
	for (size_t i = log->nfiles; i-- > 0;)
		if (log->files[i].no == no) {
			fd = log->files[i].rfd;
			break;
		}
	pthread_mutex_unlock(&log->mu);
	if (fd < 0)
		return fw_error(err, FW_ENOTFOUND, "no event log file %u", no);
	uint8_t h[REC_HEADER];
	if (pread(fd, h, REC_HEADER, off) != REC_HEADER)
		return fw_error(err, FW_EIO, "cannot read event log record: %s", strerror(errno));
	uint32_t len = get32(h + 4);
	if (h[0] != 0xF1 || h[1] != 0x57 || len > MAX_PAYLOAD)
		return fw_error(err, FW_ECORRUPT, "bad event log record at file %u byte %lld", no,
				(long long)off);
	fw_buf_reset(buf);
	fw_buf_grow(buf, len);
	if (pread(fd, buf->data, len, off + REC_HEADER) != (ssize_t)len)
		return fw_error(err, FW_EIO, "cannot read event log record: %s", strerror(errno));
	buf->len = len;
	uint32_t c = (uint32_t)crc32(0, h, 8);
	c = (uint32_t)crc32(c, (const Bytef *)buf->data, len);
	if (c != get32(h + 8))
		return fw_error(err, FW_ECORRUPT, "checksum mismatch in event log file %u byte %lld", no,
				(long long)off);
	return 0;
}

int fw_log_read_many(struct fw_log *log, const uint64_t *locs, size_t n, struct fw_buf *out,
		     size_t *offs, struct fw_err *err)
{
	enum { WINDOW = 8 << 20 };
	uint8_t *win = fw_xmalloc(WINDOW);
	uint32_t win_no = 0;
	off_t win_off = 0;
	size_t win_len = 0;
	int rc = 0;
	fw_buf_reset(out);
	for (size_t i = 0; i < n && !rc; i++) {
		uint32_t no = (uint32_t)(locs[i] >> 40);
		off_t off = (off_t)(locs[i] & ((1ull << 40) - 1));
		offs[i] = out->len;
		int inside = win_len && no == win_no && off >= win_off &&
			     off + REC_HEADER <= win_off + (off_t)win_len;
		uint32_t len = inside ? get32(win + (off - win_off) + 4) : 0;
		if (!inside || off + REC_HEADER + (off_t)len > win_off + (off_t)win_len) {
			int fd = -1;
			pthread_mutex_lock(&log->mu);
			for (size_t k = log->nfiles; k-- > 0;)
				if (log->files[k].no == no)
					fd = log->files[k].rfd;
			pthread_mutex_unlock(&log->mu);
			ssize_t r = fd < 0 ? -1 : pread(fd, win, WINDOW, off);
			if (r < REC_HEADER) {
				rc = fw_error(err, FW_EIO, "cannot read event log file %u byte %lld", no,
					      (long long)off);
				break;
			}
			win_no = no;
			win_off = off;
			win_len = (size_t)r;
			len = get32(win + 4);
			if (len > WINDOW - REC_HEADER || REC_HEADER + (size_t)len > win_len) {
				/* a record larger than the window: read it alone */
				struct fw_buf one = {0};
				rc = fw_log_read(log, locs[i], &one, err);
				if (!rc)
					fw_buf_add(out, one.data, one.len);
				fw_buf_release(&one);
				win_len = 0;
				continue;
			}
		}
		const uint8_t *h = win + (off - win_off);
		if (h[0] != 0xF1 || h[1] != 0x57) {
			rc = fw_error(err, FW_ECORRUPT, "bad event log record at file %u byte %lld", no,
				      (long long)off);
			break;
		}
		uint32_t c = (uint32_t)crc32(0, h, 8);
		c = (uint32_t)crc32(c, h + REC_HEADER, len);
		if (c != get32(h + 8)) {
			rc = fw_error(err, FW_ECORRUPT, "checksum mismatch in event log file %u byte %lld",
				      no, (long long)off);
			break;
		}
		fw_buf_add(out, h + REC_HEADER, len);
	}
	offs[n] = out->len;
	free(win);
	return rc;
}

int fw_log_drop_before(struct fw_log *log, uint64_t seq, struct fw_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&log->mu);
	/* everything written is compacted: start a new file so the old one can go */
	if (!log->failed && log->next_seq <= seq && log->file_size > HEADER_SIZE)
		rc = create_file(log, log->file_no + 1, err);
	/* file i holds [files[i].first_seq, files[i+1].first_seq); the last file stays */
	size_t drop = 0;
	while (drop + 1 < log->nfiles && log->files[drop + 1].first_seq <= seq)
		drop++;
	for (size_t i = 0; i < drop && !rc; i++) {
		char path[4200];
		file_path(log, log->files[i].no, path, sizeof path);
		struct stat st;
		if (!stat(path, &st))
			log->total_bytes -= (uint64_t)st.st_size;
		if (unlink(path))
			rc = fw_error(err, FW_EIO, "cannot remove %s: %s", path, strerror(errno));
		close(log->files[i].rfd);
	}
	memmove(log->files, log->files + drop, (log->nfiles - drop) * sizeof *log->files);
	log->nfiles -= drop;
	pthread_mutex_unlock(&log->mu);
	return rc;
}
