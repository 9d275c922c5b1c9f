/*
 * import.c — the import pipeline (import.h): chunks of Segment-spec JSON
 * lines in, stored events out, in the order the chunks were handed over.
 *
 * An ordered pipeline: the caller pushes chunks of whole lines; worker
 * threads (one per core) parse and map chunks in parallel and then append
 * them to the store strictly in chunk order, so the log holds the lines in
 * the order given and "the first copy of a message id wins" means the first
 * line. The store frames records outside its lock, so one worker's append
 * overlaps the other's parsing.
 */
#include "flywheel/import.h"
#include "flywheel/json.h"
#include "flywheel/timeutil.h"
#include "flywheel/wire.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE 4      /* chunks waiting for a worker */
#define MAX_THREADS 64

struct chunk {
	char *data;
	size_t len;
	uint64_t seq;        /* order of appending */
	uint64_t first_line; /* line number of its first line in its source */
	const char *source;
};

struct fw_import {
	struct fw_server *srv;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk queue[QUEUE];
	size_t qhead, qlen;
	int done_reading, finished;
	uint64_t next_seq;    /* seq of the next chunk pushed */
	uint64_t next_append; /* seq of the chunk whose turn it is */
	int failed;
	struct fw_err err;
	struct fw_import_stats st; /* under mu */
	uint64_t ticket;           /* the highest append ticket, under mu */
	pthread_t th[MAX_THREADS];
	int nthreads;
};

static void warn_line(struct fw_import *im, const char *source, uint64_t line, const char *reason,
		      const char *msg, struct fw_str sample)
{
	char text[1400];
	snprintf(text, sizeof text, "%s line %llu: %s", source, (unsigned long long)line, msg);
	if (sample.len > 512)
		sample.len = 512;
	fw_meta_warn(im->srv->meta, fw_now_ms(), "import", reason, text, sample);
}

/* Parse and map one chunk, then append it when its turn comes. */
static void process(struct fw_import *im, struct chunk *c, struct fw_arena *arena)
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
			warn_line(im, c->source, line, "invalid_json", m,
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
		warn_line(im, c->source, line_of[b.warnings[i].index], b.warnings[i].reason,
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
			im->st.stored += stored[i];
			im->st.duplicates += !stored[i];
		}
		im->st.skipped += skipped;
		im->st.lines += lines;
		im->st.bytes += c->len;
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
	struct fw_import *im = arg;
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

struct fw_import *fw_import_new(struct fw_server *srv, int nthreads)
{
	struct fw_import *im = fw_xcalloc(1, sizeof *im);
	im->srv = srv;
	pthread_mutex_init(&im->mu, NULL);
	pthread_cond_init(&im->cv, NULL);
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&im->th[im->nthreads], NULL, worker, im) == 0)
			im->nthreads++;
	if (!im->nthreads) {
		im->failed = 1;
		fw_error(&im->err, FW_EIO, "cannot start the import threads");
	}
	return im;
}

int fw_import_push(struct fw_import *im, char *data, size_t len, const char *source,
		   uint64_t first_line)
{
	pthread_mutex_lock(&im->mu);
	while (im->qlen == QUEUE && !im->failed)
		pthread_cond_wait(&im->cv, &im->mu);
	if (im->failed || im->done_reading) {
		pthread_mutex_unlock(&im->mu);
		free(data);
		return -1;
	}
	im->queue[(im->qhead + im->qlen) % QUEUE] =
		(struct chunk){data, len, im->next_seq++, first_line, source};
	im->qlen++;
	pthread_cond_broadcast(&im->cv);
	pthread_mutex_unlock(&im->mu);
	return 0;
}

void fw_import_stats(struct fw_import *im, struct fw_import_stats *out)
{
	pthread_mutex_lock(&im->mu);
	*out = im->st;
	pthread_mutex_unlock(&im->mu);
}

static void stop_workers(struct fw_import *im)
{
	pthread_mutex_lock(&im->mu);
	im->done_reading = 1;
	pthread_cond_broadcast(&im->cv);
	pthread_mutex_unlock(&im->mu);
	for (int i = 0; i < im->nthreads; i++)
		pthread_join(im->th[i], NULL);
	im->nthreads = 0;
}

int fw_import_finish(struct fw_import *im, struct fw_err *err)
{
	stop_workers(im);
	im->finished = 1;
	if (im->failed) {
		*err = im->err;
		return im->err.code ? im->err.code : FW_EIO;
	}
	return fw_store_wait(im->srv->store, im->ticket, err);
}

void fw_import_free(struct fw_import *im)
{
	if (!im)
		return;
	stop_workers(im);
	/* chunks a failed pipeline never took */
	for (; im->qlen; im->qlen--, im->qhead = (im->qhead + 1) % QUEUE)
		free(im->queue[im->qhead].data);
	pthread_mutex_destroy(&im->mu);
	pthread_cond_destroy(&im->cv);
	free(im);
}
