/*
 * import.c — `flywheel import FILE…`: Segment-spec messages, one JSON per line.
 *
 * An ordered pipeline: the main thread reads the files in chunks of whole
 * lines; worker threads (one per core) parse and map chunks in parallel and
 * then append them to the store strictly in chunk order, so the log holds the
 * lines in file order and "the first copy of a message id wins" means the
 * first line. The store frames records outside its lock, so one worker's
 * append overlaps the other's parsing.
 */
#include "flywheel/cmd.h"
#include "flywheel/json.h"
#include "flywheel/server.h"
#include "flywheel/timeutil.h"
#include "flywheel/wire.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const char HELP[] =
	"usage: flywheel import [--data DIR] [--threads N] FILE...\n\n"
	"Load Segment-spec messages (track, identify, group, page, screen, alias), one JSON\n"
	"object per line, into a data directory. Files ending in .gz are decompressed; '-'\n"
	"reads standard input. Duplicates (same messageId) are dropped (the first line\n"
	"wins), people and accounts are joined as over HTTP, and lines that cannot be used\n"
	"are skipped and listed as ingestion warnings (`flywheel query warnings`).\n"
	"The server must not be running on the same directory.\n\n"
	"  --data DIR    data directory (default ./flywheel-data, or $FLYWHEEL_DATA)\n"
	"  --threads N   parsing threads (default: the number of cores)\n";

#define CHUNK (4u << 20) /* bytes of whole lines per chunk */
#define QUEUE 4          /* chunks read ahead */

struct chunk {
	char *data;
	size_t len;
	uint64_t seq;        /* order of appending */
	uint64_t first_line; /* line number of its first line in its file */
	const char *file;
};

struct importer {
	struct fw_server *srv;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk queue[QUEUE];
	size_t qhead, qlen;
	int done_reading;
	uint64_t next_append; /* seq of the chunk whose turn it is */
	int failed;
	struct fw_err err;
	/* totals, under mu */
	uint64_t lines, stored, duplicates, skipped, bytes, ticket;
};

static void warn_line(struct importer *im, const char *file, uint64_t line, const char *reason,
		      const char *msg, struct fw_str sample)
{
	char text[1400];
	snprintf(text, sizeof text, "%s line %llu: %s", file, (unsigned long long)line, msg);
	if (sample.len > 512)
		sample.len = 512;
	fw_meta_warn(im->srv->meta, fw_now_ms(), "import", reason, text, sample);
}

/* Parse and map one chunk, then append it when its turn comes. */
static void process(struct importer *im, struct chunk *c, struct fw_arena *arena)
{
	struct fw_json root = {.type = FW_JSON_OBJECT, .len = 1};
	struct fw_json arr = {.type = FW_JSON_ARRAY, .key = FW_STR_LIT("batch")};
	root.u.child = &arr;
	struct fw_json **tail = &arr.u.child;
	size_t cap = 4096, nmsg = 0, skipped = 0;
	uint64_t *line_of = fw_xmalloc(cap * sizeof *line_of), line = c->first_line, lines = 0;
	for (size_t off = 0; off < c->len;) {
		char *nl = memchr(c->data + off, '\n', c->len - off);
		size_t end = nl ? (size_t)(nl - c->data) : c->len, s = off, e = end;
		off = end + 1;
		line++;
		while (s < e && (c->data[s] == ' ' || c->data[s] == '\t' || c->data[s] == '\r'))
			s++;
		while (e > s && (c->data[e - 1] == ' ' || c->data[e - 1] == '\r'))
			e--;
		if (s == e)
			continue;
		lines++;
		struct fw_json *msg;
		struct fw_json_error je;
		if (fw_json_parse(arena, c->data + s, e - s, &msg, &je)) {
			char m[300];
			snprintf(m, sizeof m, "invalid JSON at column %d: %s", je.column, je.msg);
			warn_line(im, c->file, line, "invalid_json", m,
				  (struct fw_str){c->data + s, (uint32_t)(e - s)});
			skipped++;
			continue;
		}
		*tail = msg;
		tail = &msg->next;
		if (nmsg == cap)
			line_of = fw_xrealloc(line_of, (cap *= 2) * sizeof *line_of);
		line_of[nmsg++] = line;
	}
	arr.len = (uint32_t)nmsg;
	struct fw_wire_batch b = {.arena = arena, .received_ms = fw_now_ms(), .max_event_bytes = 1u << 20};
	struct fw_err err = {0};
	int rc = fw_wire_segment(&b, &root, NULL, &err);
	for (size_t i = 0; !rc && i < b.nwarn; i++)
		warn_line(im, c->file, line_of[b.warnings[i].index], b.warnings[i].reason,
			  b.warnings[i].message, b.warnings[i].sample);
	skipped += b.nwarn;
	uint8_t *stored = fw_arena_alloc(arena, b.n + 1);

	pthread_mutex_lock(&im->mu);
	while (im->next_append != c->seq && !im->failed)
		pthread_cond_wait(&im->cv, &im->mu);
	pthread_mutex_unlock(&im->mu);
	uint64_t ticket = 0;
	if (!rc && !im->failed)
		rc = fw_store_append(im->srv->store, b.events, b.n, stored, &ticket, &err);
	pthread_mutex_lock(&im->mu);
	if (rc && !im->failed) {
		im->failed = 1;
		im->err = err;
	}
	if (!rc) {
		for (size_t i = 0; i < b.n; i++) {
			im->stored += stored[i];
			im->duplicates += !stored[i];
		}
		im->skipped += skipped;
		im->lines += lines;
		im->bytes += c->len;
		if (ticket > im->ticket)
			im->ticket = ticket;
	}
	im->next_append++;
	pthread_cond_broadcast(&im->cv);
	pthread_mutex_unlock(&im->mu);
	free(line_of);
}

static void *worker(void *arg)
{
	struct importer *im = arg;
	struct fw_arena arena = {0};
	for (;;) {
		pthread_mutex_lock(&im->mu);
		while (!im->qlen && !im->done_reading)
			pthread_cond_wait(&im->cv, &im->mu);
		if (!im->qlen) {
			pthread_mutex_unlock(&im->mu);
			break;
		}
		struct chunk c = im->queue[im->qhead];
		im->qhead = (im->qhead + 1) % QUEUE;
		im->qlen--;
		pthread_cond_broadcast(&im->cv);
		pthread_mutex_unlock(&im->mu);
		process(im, &c, &arena);
		free(c.data);
		fw_arena_reset(&arena);
	}
	fw_arena_release(&arena);
	return NULL;
}

static void push_chunk(struct importer *im, struct chunk c)
{
	pthread_mutex_lock(&im->mu);
	while (im->qlen == QUEUE)
		pthread_cond_wait(&im->cv, &im->mu);
	im->queue[(im->qhead + im->qlen) % QUEUE] = c;
	im->qlen++;
	pthread_cond_broadcast(&im->cv);
	pthread_mutex_unlock(&im->mu);
}

static void progress(struct importer *im, int64_t start, int final)
{
	pthread_mutex_lock(&im->mu);
	double s = (double)(fw_mono_ns() - start) / 1e9;
	fprintf(stderr,
		"\r%s %llu lines, %llu stored, %llu duplicates, %llu skipped — %.0f lines/s, %.1f MB/s   %s",
		final ? "imported" : "importing", (unsigned long long)im->lines,
		(unsigned long long)im->stored, (unsigned long long)im->duplicates,
		(unsigned long long)im->skipped, s > 0 ? (double)im->lines / s : 0,
		s > 0 ? (double)im->bytes / s / 1e6 : 0, final ? "\n" : "");
	pthread_mutex_unlock(&im->mu);
}

/* Read a file and cut it into chunks of whole lines. */
static int read_file(struct importer *im, const char *path, uint64_t *seq, int64_t start, int tty,
		     struct fw_err *err)
{
	gzFile f = strcmp(path, "-") == 0 ? gzdopen(dup(0), "rb") : gzopen(path, "rb");
	if (!f)
		return fw_error(err, FW_EIO, "cannot open %s", path);
	gzbuffer(f, 1 << 20);
	size_t cap = CHUNK + (1 << 20), have = 0;
	char *buf = fw_xmalloc(cap);
	uint64_t line = 0;
	int64_t last = fw_mono_ns();
	int rc = 0, eof = 0;
	while (!eof) {
		if (cap - have < (1 << 20))
			buf = fw_xrealloc(buf, cap *= 2); /* a line longer than a chunk */
		int r = gzread(f, buf + have, (unsigned)(cap - have));
		if (r < 0) {
			int zerr;
			rc = fw_error(err, FW_EIO, "reading %s: %s", path, gzerror(f, &zerr));
			break;
		}
		eof = r == 0;
		have += (size_t)r;
		if (have < CHUNK && !eof)
			continue;
		/* hand over everything up to the last newline (all of it at eof) */
		size_t cut = have;
		if (!eof) {
			char *nl = memrchr(buf, '\n', have);
			if (!nl)
				continue; /* one very long line: read more */
			cut = (size_t)(nl - buf) + 1;
		}
		if (cut) {
			struct chunk c = {fw_xmalloc(cut + 1), cut, (*seq)++, line, path};
			memcpy(c.data, buf, cut);
			for (char *q = buf; (q = memchr(q, '\n', (size_t)(buf + cut - q))); q++)
				line++;
			push_chunk(im, c);
		}
		memmove(buf, buf + cut, have - cut);
		have -= cut;
		if (tty && fw_mono_ns() - last > 250000000LL) {
			progress(im, start, 0);
			last = fw_mono_ns();
		}
		pthread_mutex_lock(&im->mu);
		int failed = im->failed;
		pthread_mutex_unlock(&im->mu);
		if (failed)
			break;
	}
	free(buf);
	gzclose(f);
	return rc;
}

int fw_cmd_import(int argc, char **argv)
{
	if (fw_cmd_wants_help(argc, argv) || argc < 2) {
		fputs(HELP, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *data = fw_cmd_default_data(), *config = NULL, *v;
	const char **files = calloc((size_t)argc, sizeof *files);
	int nfiles = 0;
	long nthreads = sysconf(_SC_NPROCESSORS_ONLN);
	for (int i = 1; i < argc; i++) {
		if (fw_cmd_opt(argc, argv, &i, "--data", &v))
			data = v;
		else if (fw_cmd_opt(argc, argv, &i, "--threads", &v))
			nthreads = atol(v);
		else if (fw_cmd_opt(argc, argv, &i, "--config", &v))
			config = v;
		else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "flywheel import: unknown option \"%s\"\n\n%s", argv[i], HELP);
			free(files);
			return 2;
		} else
			files[nfiles++] = argv[i];
	}
	if (!nfiles) {
		fprintf(stderr, "flywheel import: no FILE given\n\n%s", HELP);
		free(files);
		return 2;
	}
	if (nthreads < 1 || nthreads > 64)
		nthreads = 2;
	struct fw_err err = {0};
	struct fw_server_options so = {.data_dir = data, .config_path = config,
				       .min_free_bytes = FW_MIN_FREE_FROM_CONFIG};
	struct importer im = {0};
	pthread_mutex_init(&im.mu, NULL);
	pthread_cond_init(&im.cv, NULL);
	if (fw_server_open(&so, &im.srv, &err)) {
		fprintf(stderr, "flywheel import: %s\n", err.msg);
		free(files);
		return 1;
	}
	pthread_t th[64];
	for (long i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, &im);
	int tty = isatty(2);
	int64_t start = fw_mono_ns();
	uint64_t seq = 0;
	int rc = 0;
	for (int i = 0; i < nfiles && !rc; i++)
		rc = read_file(&im, files[i], &seq, start, tty, &err);
	pthread_mutex_lock(&im.mu);
	im.done_reading = 1;
	pthread_cond_broadcast(&im.cv);
	pthread_mutex_unlock(&im.mu);
	for (long i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	if (!rc && im.failed) {
		rc = im.err.code ? im.err.code : FW_EIO;
		err = im.err;
	}
	if (!rc)
		rc = fw_store_wait(im.srv->store, im.ticket, &err);
	int64_t stored_ns = fw_mono_ns();
	progress(&im, start, 1); /* the rate to durable events */
	if (!rc)
		rc = fw_server_catch_up(im.srv, &err);
	if (rc) {
		fprintf(stderr, "flywheel import: %s\n", err.msg);
		fprintf(stderr, "flywheel import: stopped; what was stored before the error is kept, and "
				"re-running the import skips it as duplicates\n");
	} else {
		fprintf(stderr, "flywheel import: events durable after %.2f s, people and accounts after %.2f s%s\n",
			(double)(stored_ns - start) / 1e9, (double)(fw_mono_ns() - start) / 1e9,
			im.skipped ? "; skipped lines are listed by `flywheel query warnings`" : "");
		/* columnar segments now, so the first query does not wait for them */
		int64_t c0 = fw_mono_ns();
		uint64_t compacted = 0;
		rc = fw_store_compact(im.srv->store, &compacted, &err);
		if (rc)
			fprintf(stderr, "flywheel import: compaction failed (the events are safe in the log "
					"and the server compacts them later): %s\n", err.msg);
		else if (compacted)
			fprintf(stderr, "flywheel import: %llu records compacted into segments in %.2f s\n",
				(unsigned long long)compacted, (double)(fw_mono_ns() - c0) / 1e9);
		rc = 0;
	}
	free(files);
	fw_server_close(im.srv);
	pthread_mutex_destroy(&im.mu);
	pthread_cond_destroy(&im.cv);
	return rc ? 1 : 0;
}
