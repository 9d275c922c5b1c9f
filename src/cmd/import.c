/*
 * import.c — `flywheel import FILE…`: Segment-spec messages, one JSON per line.
 *
 * The main thread reads the files (gzip through zlib) in chunks of whole
 * lines and hands them to the import pipeline (import.h, src/ingest/import.c),
 * whose workers parse, map and append them in file order. Then the people and
 * accounts catch up and the log is compacted into segments.
 */
#include "flywheel/cmd.h"
#include "flywheel/import.h"
#include "flywheel/timeutil.h"

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

static void progress(struct fw_import *im, int64_t start, int final)
{
	struct fw_import_stats st;
	fw_import_stats(im, &st);
	double s = (double)(fw_mono_ns() - start) / 1e9;
	fprintf(stderr,
		"\r%s %llu lines, %llu stored, %llu duplicates, %llu skipped — %.0f lines/s, %.1f MB/s   %s",
		final ? "imported" : "importing", (unsigned long long)st.lines,
		(unsigned long long)st.stored, (unsigned long long)st.duplicates,
		(unsigned long long)st.skipped, s > 0 ? (double)st.lines / s : 0,
		s > 0 ? (double)st.bytes / s / 1e6 : 0, final ? "\n" : "");
}

/* Read a file and cut it into chunks of whole lines. */
static int read_file(struct fw_import *im, const char *path, int64_t start, int tty,
		     struct fw_err *err)
{
	gzFile f = strcmp(path, "-") == 0 ? gzdopen(dup(0), "rb") : gzopen(path, "rb");
	if (!f)
		return fw_error(err, FW_EIO, "cannot open %s", path);
	gzbuffer(f, 1 << 20);
	size_t cap = FW_IMPORT_CHUNK + (1 << 20), have = 0;
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
		if (have < FW_IMPORT_CHUNK && !eof)
			continue;
		/* hand over everything up to the last newline (all of it at eof) */
		size_t cut = have;
		if (!eof) {
			char *nl = memrchr(buf, '\n', have);
			if (!nl)
				continue; /* one very long line: read more */
			cut = (size_t)(nl - buf) + 1;
		}
		int failed = 0;
		if (cut) {
			char *data = fw_xmalloc(cut + 1);
			memcpy(data, buf, cut);
			uint64_t first = line;
			for (char *q = buf; (q = memchr(q, '\n', (size_t)(buf + cut - q))); q++)
				line++;
			failed = fw_import_push(im, data, cut, path, first) != 0;
		}
		memmove(buf, buf + cut, have - cut);
		have -= cut;
		if (tty && fw_mono_ns() - last > 250000000LL) {
			progress(im, start, 0);
			last = fw_mono_ns();
		}
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
	struct fw_server *srv;
	if (fw_server_open(&so, &srv, &err)) {
		fprintf(stderr, "flywheel import: %s\n", err.msg);
		free(files);
		return 1;
	}
	struct fw_import *im = fw_import_new(srv, (int)nthreads);
	int tty = isatty(2);
	int64_t start = fw_mono_ns();
	int rc = 0;
	for (int i = 0; i < nfiles && !rc; i++)
		rc = read_file(im, files[i], start, tty, &err);
	/* a read error is reported before a pipeline error */
	struct fw_err perr = {0};
	int prc = fw_import_finish(im, &perr);
	if (!rc && prc) {
		rc = prc;
		err = perr;
	}
	int64_t stored_ns = fw_mono_ns();
	progress(im, start, 1); /* the rate to durable events */
	struct fw_import_stats st;
	fw_import_stats(im, &st);
	if (!rc)
		rc = fw_server_catch_up(srv, &err);
	if (rc) {
		fprintf(stderr, "flywheel import: %s\n", err.msg);
		fprintf(stderr, "flywheel import: stopped; what was stored before the error is kept, and "
				"re-running the import skips it as duplicates\n");
	} else {
		fprintf(stderr, "flywheel import: events durable after %.2f s, people and accounts after %.2f s%s\n",
			(double)(stored_ns - start) / 1e9, (double)(fw_mono_ns() - start) / 1e9,
			st.skipped ? "; skipped lines are listed by `flywheel query warnings`" : "");
		/* columnar segments now, so the first query does not wait for them */
		int64_t c0 = fw_mono_ns();
		uint64_t compacted = 0;
		rc = fw_store_compact(srv->store, &compacted, &err);
		if (rc)
			fprintf(stderr, "flywheel import: compaction failed (the events are safe in the log "
					"and the server compacts them later): %s\n", err.msg);
		else if (compacted)
			fprintf(stderr, "flywheel import: %llu records compacted into segments in %.2f s\n",
				(unsigned long long)compacted, (double)(fw_mono_ns() - c0) / 1e9);
		rc = 0;
	}
	free(files);
	fw_import_free(im);
	fw_server_close(srv);
	return rc ? 1 : 0;
}
