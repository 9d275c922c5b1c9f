#include "../test.h"
#include "flywheel/store.h"
#include "flywheel/timeutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct fw_event ev(const char *id, const char *name, const char *user, int64_t t)
{
	struct fw_event e = {0};
	e.time_ms = t;
	e.received_ms = fw_now_ms();
	e.type = FW_MSG_TRACK;
	e.source = FW_SRC_SEGMENT;
	e.message_id = fw_str_c(id);
	e.event = fw_str_c(name);
	e.user_id = fw_str_c(user);
	e.properties = fw_str_c("{\"plan\":\"free\"}");
	return e;
}

static void count_cb(void *ctx, struct fw_str key, uint64_t n)
{
	struct fw_buf *b = ctx;
	fw_buf_printf(b, "%.*s=%llu;", (int)key.len, key.p, (unsigned long long)n);
}

static const char *counts(struct fw_store *s)
{
	static struct fw_buf b;
	fw_buf_reset(&b);
	fw_buf_adds(&b, "");
	fw_store_count_by_name(s, 0, 0, count_cb, &b);
	return b.data;
}

static char notices[2048];
static void notice(void *ctx, const char *msg)
{
	snprintf(notices, sizeof notices, "%s", msg);
}

static struct fw_store *open_store(const char *dir, struct fw_err *err)
{
	struct fw_store_options o = {.notice = notice};
	struct fw_store *s = NULL;
	notices[0] = 0;
	if (fw_store_open_embedded(dir, &o, &s, err))
		return NULL;
	return s;
}

TEST(store_dedup_and_replay)
{
	const char *dir = fw_test_tmpdir();
	struct fw_err err = {0};
	struct fw_store *s = open_store(dir, &err);
	CHECK(s);
	struct fw_event e[3] = {ev("m1", "Signed Up", "u1", 1000), ev("m2", "Signed Up", "u2", 2000),
				ev("m1", "Signed Up", "u1", 1000)};
	uint8_t stored[3];
	uint64_t t;
	CHECK(fw_store_append(s, e, 3, stored, &t, &err) == 0);
	CHECK(stored[0] == 1 && stored[1] == 1 && stored[2] == 0);
	CHECK(fw_store_wait(s, t, &err) == 0);
	/* a retry of the whole request changes nothing and is acknowledged */
	CHECK(fw_store_append(s, e, 2, stored, &t, &err) == 0);
	CHECK(stored[0] == 0 && stored[1] == 0 && t != 0);
	CHECK(fw_store_wait(s, t, &err) == 0);
	CHECK_EQ_STR(counts(s), "Signed Up=2;");
	fw_store_close(s);

	s = open_store(dir, &err);
	CHECK(s);
	CHECK_EQ_STR(counts(s), "Signed Up=2;");
	struct fw_event again = ev("m2", "Signed Up", "u2", 2000);
	CHECK(fw_store_append(s, &again, 1, stored, &t, &err) == 0);
	CHECK(stored[0] == 0);
	CHECK_EQ_STR(counts(s), "Signed Up=2;");
	fw_store_close(s);
}

static long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

TEST(store_torn_tail_truncated)
{
	const char *dir = fw_test_tmpdir();
	struct fw_err err = {0};
	struct fw_store *s = open_store(dir, &err);
	struct fw_event e[2] = {ev("a", "X", "u1", 1), ev("b", "X", "u1", 2)};
	uint64_t t;
	CHECK(fw_store_append(s, e, 2, NULL, &t, &err) == 0 && fw_store_wait(s, t, &err) == 0);
	fw_store_close(s);
	char path[512];
	snprintf(path, sizeof path, "%s/log/00000001.fwlog", dir);
	long n = file_size(path);
	CHECK(truncate(path, n - 5) == 0); /* tear the last record */
	s = open_store(dir, &err);
	CHECK(s != NULL);
	CHECK(strstr(notices, "torn tail") != NULL);
	CHECK_EQ_STR(counts(s), "X=1;");
	/* the store keeps working after the truncation, and the torn id is new */
	CHECK(fw_store_append(s, &e[1], 1, NULL, &t, &err) == 0 && fw_store_wait(s, t, &err) == 0);
	CHECK_EQ_STR(counts(s), "X=2;");
	fw_store_close(s);
}

TEST(store_corruption_in_middle_stops)
{
	const char *dir = fw_test_tmpdir();
	struct fw_err err = {0};
	struct fw_store *s = open_store(dir, &err);
	struct fw_event e[3] = {ev("a", "X", "u1", 1), ev("b", "X", "u1", 2), ev("c", "X", "u1", 3)};
	uint64_t t;
	CHECK(fw_store_append(s, e, 3, NULL, &t, &err) == 0 && fw_store_wait(s, t, &err) == 0);
	fw_store_close(s);
	char path[512];
	snprintf(path, sizeof path, "%s/log/00000001.fwlog", dir);
	int fd = open(path, O_RDWR);
	CHECK(pwrite(fd, "Z", 1, 64 + 12 + 30) == 1); /* inside the first record's payload */
	close(fd);
	s = open_store(dir, &err);
	CHECK(s == NULL);
	CHECK_EQ_INT(err.code, FW_ECORRUPT);
	CHECK(strstr(err.msg, "00000001.fwlog at byte 64") != NULL);
	CHECK(strstr(err.msg, "checksum mismatch") != NULL);
}

TEST(store_failed_sync_never_acknowledged)
{
	const char *dir = fw_test_tmpdir();
	struct fw_err err = {0};
	struct fw_store *s = open_store(dir, &err);
	struct fw_event a = ev("a", "X", "u1", 1), b = ev("b", "X", "u1", 2);
	uint64_t t;
	CHECK(fw_store_append(s, &a, 1, NULL, &t, &err) == 0 && fw_store_wait(s, t, &err) == 0);
	fw_store_embedded_inject_sync_failure(s, 1);
	CHECK(fw_store_append(s, &b, 1, NULL, &t, &err) == 0);
	CHECK_EQ_INT(fw_store_wait(s, t, &err), FW_EFAILED);
	/* a retry of b, and anything new, is refused while failed */
	CHECK(fw_store_append(s, &b, 1, NULL, &t, &err) == 0);
	CHECK(fw_store_wait(s, t, &err) == FW_EFAILED);
	struct fw_event c = ev("c", "X", "u1", 3);
	CHECK_EQ_INT(fw_store_append(s, &c, 1, NULL, &t, &err), FW_EFAILED);
	struct fw_store_stats st;
	fw_store_stats(s, &st);
	CHECK(st.failed);
	fw_store_close(s);
}

struct collect {
	int n;
	char names[256];
};
static int collect_cb(void *ctx, uint64_t seq, const struct fw_event *e)
{
	struct collect *c = ctx;
	c->n++;
	strncat(c->names, e->message_id.p, e->message_id.len);
	return 0;
}

TEST(store_scan_by_distinct_newest_first)
{
	const char *dir = fw_test_tmpdir();
	struct fw_err err = {0};
	struct fw_store *s = open_store(dir, &err);
	struct fw_event e[4] = {ev("a", "X", "u1", 1), ev("b", "Y", "u2", 2), ev("c", "X", "u1", 3),
				ev("d", "X", "u3", 4)};
	uint64_t t;
	CHECK(fw_store_append(s, e, 4, NULL, &t, &err) == 0 && fw_store_wait(s, t, &err) == 0);
	struct fw_str ids[2] = {fw_str_c("u1"), fw_str_c("u3")};
	struct fw_scan q = {.distinct_ids = ids, .ndistinct = 2, .newest_first = 1, .limit = 2};
	struct collect c = {0};
	CHECK(fw_store_scan(s, &q, collect_cb, &c, &err) == 0);
	CHECK_EQ_INT(c.n, 2);
	CHECK_EQ_STR(c.names, "dc");
	fw_store_close(s);
}
