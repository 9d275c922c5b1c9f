/* import.c — `flywheel import FILE…`: Segment-spec messages, one JSON per line. */
#include "flywheel/cmd.h"
#include "flywheel/json.h"
#include "flywheel/server.h"
#include "flywheel/timeutil.h"
#include "flywheel/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const char HELP[] =
	"usage: flywheel import [--data DIR] FILE...\n\n"
	"Load Segment-spec messages (track, identify, group, page, screen, alias), one JSON\n"
	"object per line, into a data directory. Files ending in .gz are decompressed; '-'\n"
	"reads standard input. Duplicates (same messageId) are dropped, people and accounts\n"
	"are joined as over HTTP, and lines that cannot be used are skipped and listed as\n"
	"ingestion warnings. The server must not be running on the same directory.\n";

#define BATCH 8192

struct importer {
	struct fw_server *srv;
	struct fw_arena arena;
	struct fw_json *arr, **tail, root, batch_member;
	size_t in_batch;
	uint64_t lines, stored, duplicates, skipped, bytes;
	uint64_t ticket;
	const char *file;
	uint64_t batch_first_line;
	uint64_t *line_of; /* line number of each message in the batch */
};

static void warn_line(struct importer *im, uint64_t line, const char *reason, const char *msg,
		      struct fw_str sample)
{
	char text[1400];
	snprintf(text, sizeof text, "%s line %llu: %s", im->file, (unsigned long long)line, msg);
	if (sample.len > 512)
		sample.len = 512;
	fw_meta_warn(im->srv->meta, fw_now_ms(), "import", reason, text, sample);
	im->skipped++;
}

static int flush(struct importer *im, struct fw_err *err)
{
	if (!im->in_batch)
		return 0;
	im->arr->len = (uint32_t)im->in_batch;
	struct fw_wire_batch b = {.arena = &im->arena, .received_ms = fw_now_ms(),
				  .max_event_bytes = 1u << 20};
	int rc = fw_wire_segment(&b, &im->root, NULL, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < b.nwarn; i++)
		warn_line(im, im->line_of[b.warnings[i].index], b.warnings[i].reason,
			  b.warnings[i].message, b.warnings[i].sample);
	uint8_t *stored = fw_arena_alloc(&im->arena, b.n + 1);
	uint64_t ticket = 0;
	rc = fw_store_append(im->srv->store, b.events, b.n, stored, &ticket, err);
	if (rc)
		return rc;
	if (ticket > im->ticket)
		im->ticket = ticket;
	for (size_t i = 0; i < b.n; i++) {
		im->stored += stored[i];
		im->duplicates += !stored[i];
	}
	fw_arena_reset(&im->arena);
	im->arr = NULL;
	im->in_batch = 0;
	return 0;
}

static void start_batch(struct importer *im)
{
	im->arr = fw_arena_alloc(&im->arena, sizeof *im->arr);
	memset(im->arr, 0, sizeof *im->arr);
	im->arr->type = FW_JSON_ARRAY;
	im->arr->key = FW_STR_LIT("batch");
	im->tail = &im->arr->u.child;
	memset(&im->root, 0, sizeof im->root);
	im->root.type = FW_JSON_OBJECT;
	im->root.len = 1;
	im->root.u.child = im->arr;
}

static void progress(struct importer *im, int64_t start, int final)
{
	double s = (double)(fw_mono_ns() - start) / 1e9;
	fprintf(stderr, "\r%s %llu lines, %llu stored, %llu duplicates, %llu skipped — %.0f events/s, %.1f MB/s   %s",
		final ? "imported" : "importing", (unsigned long long)im->lines,
		(unsigned long long)im->stored, (unsigned long long)im->duplicates,
		(unsigned long long)im->skipped, s > 0 ? (double)im->lines / s : 0,
		s > 0 ? (double)im->bytes / s / 1e6 : 0, final ? "\n" : "");
}

static int import_file(struct importer *im, const char *path, int64_t start, int tty,
		       struct fw_err *err)
{
	gzFile f = strcmp(path, "-") == 0 ? gzdopen(dup(0), "rb") : gzopen(path, "rb");
	if (!f)
		return fw_error(err, FW_EIO, "cannot open %s", path);
	gzbuffer(f, 1 << 20);
	im->file = path;
	size_t cap = 1 << 22, have = 0;
	char *buf = fw_xmalloc(cap);
	uint64_t line = 0;
	int64_t last = fw_mono_ns();
	int rc = 0, eof = 0;
	while (!rc && (!eof || have)) {
		if (!eof) {
			if (cap - have < (1 << 20))
				buf = fw_xrealloc(buf, cap *= 2);
			int r = gzread(f, buf + have, (unsigned)(cap - have));
			if (r < 0) {
				int zerr;
				rc = fw_error(err, FW_EIO, "reading %s: %s", path, gzerror(f, &zerr));
				break;
			}
			if (r == 0)
				eof = 1;
			have += (size_t)r;
		}
		/* whole lines in buf[0..have) are parsed in place; a batch is flushed
		 * before the buffer is reused, since the tree points into it */
		size_t off = 0;
		for (;;) {
			char *nl = memchr(buf + off, '\n', have - off);
			if (!nl && !(eof && off < have))
				break;
			size_t end = nl ? (size_t)(nl - buf) : have;
			line++;
			im->lines++;
			im->bytes += end - off + 1;
			size_t s = off, e = end;
			while (s < e && (buf[s] == ' ' || buf[s] == '\t' || buf[s] == '\r'))
				s++;
			while (e > s && (buf[e - 1] == ' ' || buf[e - 1] == '\r'))
				e--;
			off = nl ? end + 1 : have;
			if (s == e) {
				im->lines--;
				continue;
			}
			if (!im->arr)
				start_batch(im);
			struct fw_json *msg;
			struct fw_json_error je;
			if (fw_json_parse(&im->arena, buf + s, e - s, &msg, &je)) {
				char m[300];
				snprintf(m, sizeof m, "invalid JSON at column %d: %s", je.column, je.msg);
				warn_line(im, line, "invalid_json", m,
					  (struct fw_str){buf + s, (uint32_t)(e - s)});
				continue;
			}
			*im->tail = msg;
			im->tail = &msg->next;
			im->line_of[im->in_batch++] = line;
			if (im->in_batch == BATCH && (rc = flush(im, err)))
				break;
		}
		if (rc)
			break;
		/* flush what points into buf, then keep the partial line */
		if ((rc = flush(im, err)))
			break;
		memmove(buf, buf + off, have - off);
		have -= off;
		if (tty && fw_mono_ns() - last > 250000000LL) {
			progress(im, start, 0);
			last = fw_mono_ns();
		}
		if (eof && have == 0)
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
	const char *data = fw_cmd_default_data(), *v;
	const char **files = calloc((size_t)argc, sizeof *files);
	int nfiles = 0;
	for (int i = 1; i < argc; i++) {
		if (fw_cmd_opt(argc, argv, &i, "--data", &v))
			data = v;
		else if (fw_cmd_opt(argc, argv, &i, "--config", &v))
			;
		else if (argv[i][0] == '-' && argv[i][1])
			return fprintf(stderr, "flywheel import: unknown option \"%s\"\n\n%s", argv[i], HELP), 2;
		else
			files[nfiles++] = argv[i];
	}
	if (!nfiles) {
		fprintf(stderr, "flywheel import: no FILE given\n\n%s", HELP);
		return 2;
	}
	struct fw_err err = {0};
	struct fw_server_options so = {.data_dir = data, .min_free_bytes = 64u << 20};
	struct importer im = {0};
	if (fw_server_open(&so, &im.srv, &err)) {
		fprintf(stderr, "flywheel import: %s\n", err.msg);
		return 1;
	}
	im.line_of = fw_xmalloc(sizeof *im.line_of * BATCH);
	int tty = isatty(2);
	int64_t start = fw_mono_ns();
	int rc = 0;
	for (int i = 0; i < nfiles && !rc; i++)
		rc = import_file(&im, files[i], start, tty, &err);
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
	}
	fw_arena_release(&im.arena);
	free(im.line_of);
	free(files);
	fw_server_close(im.srv);
	return rc ? 1 : 0;
}
