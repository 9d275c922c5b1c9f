/* test_segment.c — columnar segments and compaction: what goes in comes out,
 * in (distinct id, time) order; damage is detected; a crash mid-compaction
 * loses nothing; compacted records stay deduplicated and scannable. */
#include "../test.h"
#include "flywheel/segment.h"
#include "flywheel/store.h"
#include "flywheel/timeutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static struct fw_event ev(const char *id, const char *name, const char *user, const char *anon,
			  const char *group, int64_t t)
{
	struct fw_event e = {0};
	e.time_ms = t;
	e.received_ms = fw_now_ms();
	e.type = FW_MSG_TRACK;
	e.source = FW_SRC_POSTHOG;
	e.message_id = fw_str_c(id);
	e.event = fw_str_c(name);
	e.user_id = fw_str_c(user);
	e.anonymous_id = fw_str_c(anon);
	e.group_id = fw_str_c(group);
	e.properties = fw_str_c("{\"plan\":\"pro\",\"n\":3}");
	e.context = fw_str_c("{\"ip\":\"10.0.0.1\"}");
	return e;
}

static void write_sample(const char *path, struct fw_err *err)
{
	struct fw_seg_writer *w;
	CHECK(fw_seg_writer_open(path, 10, 14, &w, err) == 0);
	/* rows grouped by distinct id, each in time order */
	struct fw_event a = ev("m1", "Signed Up", "", "anon-1", "", 1000);
	struct fw_event b = ev("m2", "Project Created", "", "anon-1", "acme", 2000);
	struct fw_event c = ev("m3", "Signed Up", "u2", "", "acme", 500);
	struct fw_event d = ev("m4", "Invite Sent", "u2", "", "", 900);
	CHECK(fw_seg_writer_add(w, 12, &a, err) == 0);
	CHECK(fw_seg_writer_add(w, 10, &b, err) == 0);
	CHECK(fw_seg_writer_add(w, 11, &c, err) == 0);
	CHECK(fw_seg_writer_add(w, 13, &d, err) == 0);
	CHECK(fw_seg_writer_finish(w, err) == 0);
}

TEST(segment_round_trip)
{
	char path[512];
	snprintf(path, sizeof path, "%s/a.fwseg", fw_test_tmpdir());
	struct fw_err err = {0};
	write_sample(path, &err);
	CHECK(access(path, F_OK) == 0);
	char tmp[600];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	CHECK(access(tmp, F_OK) != 0); /* renamed into place */
	struct fw_seg *g;
	CHECK(fw_seg_open(path, &g, &err) == 0);
	const struct fw_seg_info *in = fw_seg_info(g);
	CHECK_EQ_INT(in->first, 10);
	CHECK_EQ_INT(in->end, 14);
	CHECK_EQ_INT(in->rows, 4);
	CHECK_EQ_INT(in->events, 4);
	CHECK_EQ_INT(in->min_ms, 500);
	CHECK_EQ_INT(in->max_ms, 2000);
	struct fw_seg_cols c;
	CHECK(fw_seg_load_cols(g, &c, &err) == 0);
	CHECK_EQ_INT(c.n, 4);
	CHECK_EQ_INT(c.seq[0], 12);
	CHECK_EQ_INT(c.seq[1], 10);
	CHECK_EQ_INT(c.time[1], 2000);
	CHECK_EQ_INT(c.time[2], 500); /* negative delta across runs */
	CHECK_EQ_INT(c.did[0], c.did[1]);
	CHECK(c.did[2] != c.did[1]);
	CHECK_EQ_INT(c.group[0], UINT32_MAX);
	CHECK_EQ_STR(fw_seg_group(g, c.group[1]).p, "acme");
	CHECK(!FW_SEG_IS_USER(c.flags[0]) && FW_SEG_IS_USER(c.flags[2]));
	CHECK_EQ_INT(FW_SEG_SOURCE(c.flags[3]), FW_SRC_POSTHOG);
	CHECK_EQ_STR(fw_seg_name(g, c.name[3]).p, "Invite Sent");
	CHECK_EQ_INT(fw_seg_find_did(g, fw_str_c("u2")), c.did[2]);
	CHECK_EQ_INT(fw_seg_find_did(g, fw_str_c("nobody")), UINT32_MAX);
	struct fw_seg_cursor cur;
	fw_seg_cursor_init(&cur);
	struct fw_event e;
	CHECK(fw_seg_record(g, &c, 1, &cur, &e, &err) == 0);
	CHECK(fw_str_eq(e.message_id, "m2"));
	CHECK(fw_str_eq(e.properties, "{\"plan\":\"pro\",\"n\":3}"));
	CHECK(fw_str_eq(e.context, "{\"ip\":\"10.0.0.1\"}"));
	CHECK(fw_seg_record(g, &c, 3, &cur, &e, &err) == 0);
	CHECK(fw_str_eq(e.message_id, "m4") && fw_str_eq(e.user_id, "u2"));
	CHECK(fw_str_eq(e.event, "Invite Sent") && e.time_ms == 900 && e.type == FW_MSG_TRACK);
	CHECK(e.source == FW_SRC_POSTHOG && !e.group_id.len && !e.anonymous_id.len);
	CHECK(e.received_ms > 1700000000000LL);
	CHECK(fw_seg_record(g, &c, 0, &cur, &e, &err) == 0);
	CHECK(fw_str_eq(e.anonymous_id, "anon-1") && !e.user_id.len && fw_str_eq(e.message_id, "m1"));
	fw_seg_cursor_release(&cur);
	fw_seg_free_cols(&c);
	fw_seg_close(g);
}

TEST(segment_rows_must_be_grouped)
{
	char path[512];
	snprintf(path, sizeof path, "%s/b.fwseg", fw_test_tmpdir());
	struct fw_err err = {0};
	struct fw_seg_writer *w;
	CHECK(fw_seg_writer_open(path, 0, 3, &w, &err) == 0);
	struct fw_event a = ev("m1", "A", "u1", "", "", 1), b = ev("m2", "A", "u2", "", "", 2);
	CHECK(fw_seg_writer_add(w, 0, &a, &err) == 0);
	CHECK(fw_seg_writer_add(w, 1, &b, &err) == 0);
	CHECK(fw_seg_writer_add(w, 2, &a, &err) == FW_EINVAL); /* u1 again after u2 */
	fw_seg_writer_abort(w);
	char tmp[600];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	CHECK(access(tmp, F_OK) != 0 && access(path, F_OK) != 0);
}

/* Flip one byte at `off` (from the end if negative) and expect FW_ECORRUPT
 * from open or from reading the columns or records. */
static int damaged_detected(const char *path, long off)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	fstat(fd, &st);
	off_t at = off >= 0 ? off : st.st_size + off;
	unsigned char c;
	pread(fd, &c, 1, at);
	c ^= 0x5a;
	pwrite(fd, &c, 1, at);
	close(fd);
	struct fw_err err = {0};
	struct fw_seg *g;
	int rc = fw_seg_open(path, &g, &err);
	if (rc)
		return rc == FW_ECORRUPT && strstr(err.msg, path) != NULL;
	struct fw_seg_cols cols;
	rc = fw_seg_load_cols(g, &cols, &err);
	if (!rc) {
		struct fw_seg_cursor cur;
		fw_seg_cursor_init(&cur);
		struct fw_event e;
		rc = fw_seg_record(g, &cols, 0, &cur, &e, &err);
		fw_seg_cursor_release(&cur);
		fw_seg_free_cols(&cols);
	}
	fw_seg_close(g);
	return rc == FW_ECORRUPT;
}

TEST(segment_damage_is_detected)
{
	struct fw_err err = {0};
	long where[] = {20, 40, -50, -100, -8, 3};
	for (size_t i = 0; i < FW_ARRAY_LEN(where); i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/d%zu.fwseg", fw_test_tmpdir(), i);
		write_sample(path, &err);
		if (!damaged_detected(path, where[i])) {
			fprintf(stderr, "  damage at %ld not detected\n", where[i]);
			fw_test_failures++;
		}
	}
	/* truncated */
	char path[512];
	snprintf(path, sizeof path, "%s/t.fwseg", fw_test_tmpdir());
	write_sample(path, &err);
	CHECK(truncate(path, 60) == 0);
	struct fw_seg *g;
	CHECK(fw_seg_open(path, &g, &err) == FW_ECORRUPT);
}

/* ---- compaction through the store ---- */

struct collect {
	struct fw_buf ids;
	uint64_t n, seq_sum;
};

static int collect_cb(void *ctx, uint64_t seq, const struct fw_event *e)
{
	struct collect *c = ctx;
	fw_buf_printf(&c->ids, "%.*s,", (int)e->message_id.len, e->message_id.p);
	c->n++;
	c->seq_sum += seq;
	return 0;
}

static int count_segments(const char *dir)
{
	char path[600];
	snprintf(path, sizeof path, "%s/segments", dir);
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += strstr(de->d_name, ".fwseg") != NULL;
	if (d)
		closedir(d);
	return n;
}

TEST(store_compaction_keeps_everything)
{
	const char *dir = fw_test_tmpdir();
	struct fw_err err = {0};
	struct fw_store_options o = {.no_sync = 0, .log_file_bytes = 4096};
	struct fw_store *s;
	CHECK(fw_store_open_embedded(dir, &o, &s, &err) == 0);
	char ids[300][16], users[300][16];
	struct fw_event evs[300];
	for (int i = 0; i < 300; i++) {
		snprintf(ids[i], sizeof ids[i], "id%03d", i);
		snprintf(users[i], sizeof users[i], "u%d", i % 7);
		evs[i] = ev(ids[i], i % 3 ? "Page" : "Signed Up", users[i], "", i % 5 ? "" : "acme",
			    1000000 - i * 10);
	}
	uint64_t ticket;
	CHECK(fw_store_append(s, evs, 200, NULL, &ticket, &err) == 0);
	CHECK(fw_store_wait(s, ticket, &err) == 0);
	uint64_t done = 0;
	CHECK(fw_store_compact(s, &done, &err) == 0);
	CHECK_EQ_INT(done, 200);
	CHECK_EQ_INT(count_segments(dir), 1);
	/* the tail keeps growing after compaction */
	CHECK(fw_store_append(s, evs + 200, 100, NULL, &ticket, &err) == 0);
	CHECK(fw_store_wait(s, ticket, &err) == 0);
	struct fw_store_stats st;
	fw_store_stats(s, &st);
	CHECK_EQ_INT(st.records, 300);
	CHECK_EQ_INT(st.compacted, 200);
	CHECK_EQ_INT(st.events, 300);
	struct collect c = {0};
	struct fw_scan q = {0};
	CHECK(fw_store_scan(s, &q, collect_cb, &c, &err) == 0);
	CHECK_EQ_INT(c.n, 300);
	CHECK_EQ_INT(c.seq_sum, 299 * 300 / 2);
	/* newest first with a limit crosses from the tail into the segment */
	struct collect c2 = {0};
	struct fw_scan q2 = {.newest_first = 1, .limit = 102};
	CHECK(fw_store_scan(s, &q2, collect_cb, &c2, &err) == 0);
	CHECK_EQ_INT(c2.n, 102);
	CHECK(strstr(c2.ids.data, "id299,") == c2.ids.data);
	CHECK(strstr(c2.ids.data, "id199,id198,") != NULL);
	/* by distinct id, from both parts */
	struct collect c3 = {0};
	struct fw_str who = fw_str_c("u3");
	struct fw_scan q3 = {.distinct_ids = &who, .ndistinct = 1};
	CHECK(fw_store_scan(s, &q3, collect_cb, &c3, &err) == 0);
	CHECK_EQ_INT(c3.n, 43); /* i % 7 == 3 for i < 300: 3, 10, …, 297 */
	fw_store_close(s);

	/* reopen: duplicates of compacted records are still dropped */
	CHECK(fw_store_open_embedded(dir, &o, &s, &err) == 0);
	uint8_t stored[3];
	struct fw_event again[3] = {evs[5], evs[250], ev("new-1", "Page", "u1", "", "", 5)};
	CHECK(fw_store_append(s, again, 3, stored, &ticket, &err) == 0);
	CHECK(fw_store_wait(s, ticket, &err) == 0);
	CHECK(stored[0] == 0 && stored[1] == 0 && stored[2] == 1);
	CHECK(fw_store_compact(s, &done, &err) == 0);
	CHECK_EQ_INT(done, 101);
	fw_store_stats(s, &st);
	CHECK_EQ_INT(st.records, 301);
	CHECK_EQ_INT(st.compacted, 301);
	fw_store_close(s);
	/* old log files are gone; the data is all there after another reopen */
	CHECK(fw_store_open_embedded(dir, &o, &s, &err) == 0);
	struct collect c4 = {0};
	CHECK(fw_store_scan(s, &q, collect_cb, &c4, &err) == 0);
	CHECK_EQ_INT(c4.n, 301);
	CHECK(strstr(c4.ids.data, "new-1,") != NULL);
	fw_store_close(s);
	fw_buf_release(&c.ids);
	fw_buf_release(&c2.ids);
	fw_buf_release(&c3.ids);
	fw_buf_release(&c4.ids);
}

TEST(store_unfinished_compaction_is_ignored)
{
	const char *dir = fw_test_tmpdir();
	struct fw_err err = {0};
	struct fw_store *s;
	CHECK(fw_store_open_embedded(dir, NULL, &s, &err) == 0);
	struct fw_event e[2] = {ev("a", "X", "u1", "", "", 1), ev("b", "X", "u1", "", "", 2)};
	uint64_t ticket;
	CHECK(fw_store_append(s, e, 2, NULL, &ticket, &err) == 0);
	CHECK(fw_store_wait(s, ticket, &err) == 0);
	fw_store_close(s);
	/* a crash while writing a segment leaves only its temporary file */
	char tmp[600];
	snprintf(tmp, sizeof tmp, "%s/segments/0000000000000000-0000000000000002.fwseg.tmp", dir);
	FILE *f = fopen(tmp, "w");
	fputs("half a segment", f);
	fclose(f);
	CHECK(fw_store_open_embedded(dir, NULL, &s, &err) == 0);
	CHECK(access(tmp, F_OK) != 0);
	struct fw_store_stats st;
	fw_store_stats(s, &st);
	CHECK_EQ_INT(st.records, 2);
	CHECK_EQ_INT(st.compacted, 0);
	fw_store_close(s);
	/* a segment that does not join up with the others stops the start */
	char bad[600];
	snprintf(bad, sizeof bad, "%s/segments/0000000000000005-0000000000000009.fwseg", dir);
	write_sample(bad, &err); /* claims 10..14 inside: also not 5..9 */
	CHECK(fw_store_open_embedded(dir, NULL, &s, &err) == FW_ECORRUPT);
	unlink(bad);
}
