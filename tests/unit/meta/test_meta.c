#include "../test.h"
#include "flywheel/meta.h"
#include "flywheel/store.h"

#include <stdio.h>
#include <stdlib.h>

static int64_t clock_ms = 1700000000000;

static struct fw_event rec(int type, const char *id, const char *user, const char *anon,
			   const char *prev, const char *group, const char *traits, int64_t t)
{
	struct fw_event e = {0};
	e.type = (uint8_t)type;
	e.source = FW_SRC_SEGMENT;
	e.time_ms = t;
	e.received_ms = clock_ms++;
	e.message_id = fw_str_c(id);
	e.event = fw_str_c(type == FW_MSG_TRACK ? "Signed Up" : "");
	e.user_id = fw_str_c(user);
	e.anonymous_id = fw_str_c(anon);
	e.previous_id = fw_str_c(prev);
	e.group_id = fw_str_c(group);
	e.traits = fw_str_c(traits);
	return e;
}

static void apply(struct fw_meta *m, struct fw_store *s, struct fw_event *e, size_t n)
{
	uint64_t t, applied;
	struct fw_err err;
	CHECK(fw_store_append(s, e, n, NULL, &t, &err) == 0);
	CHECK(fw_store_wait(s, t, &err) == 0);
	CHECK(fw_meta_apply(m, s, 1000, &applied, &err) == 0);
}

static const char *person(struct fw_meta *m, const char *id)
{
	static struct fw_buf b;
	struct fw_arena a = {0};
	struct fw_str *ids;
	size_t n;
	fw_buf_reset(&b);
	fw_buf_adds(&b, "");
	if (fw_meta_person(m, fw_str_c(id), &a, &ids, &n, &b))
		fw_buf_adds(&b, "(none)");
	fw_arena_release(&a);
	return b.data;
}

TEST(meta_identity_merge_rules)
{
	const char *dir = fw_test_tmpdir();
	char path[512];
	struct fw_err err;
	struct fw_store *s;
	struct fw_meta *m;
	struct fw_store_options so = {.no_sync = 1};
	CHECK(fw_store_open_embedded(dir, &so, &s, &err) == 0);
	snprintf(path, sizeof path, "%s/meta.db", dir);
	CHECK(fw_meta_open(path, &m, &err) == 0);

	struct fw_event e[] = {
		/* anonymous activity, then identify joins it to u1 */
		rec(FW_MSG_TRACK, "1", "", "anon1", "", "ws1", "", 1000),
		rec(FW_MSG_IDENTIFY, "2", "u1", "", "", "", "{\"plan\":\"free\",\"email\":\"old@x\"}", 3000),
		rec(FW_MSG_IDENTIFY, "3", "u1", "anon1", "", "", "{\"email\":\"new@x\"}", 4000),
		/* an older trait value arriving later loses */
		rec(FW_MSG_IDENTIFY, "4", "u1", "", "", "", "{\"email\":\"older@x\"}", 2000),
		/* a track with both ids joins nothing */
		rec(FW_MSG_TRACK, "5", "u2", "anon2", "", "", "", 5000),
		/* u2 is identified (Segment userId); alias of u1 into u2 is refused */
		rec(FW_MSG_ALIAS, "6", "u2", "", "u1", "", "", 6000),
		/* alias of a new anonymous id into u2 joins */
		rec(FW_MSG_ALIAS, "7", "u2", "", "anon3", "", "", 7000),
		rec(FW_MSG_GROUP, "8", "u2", "", "", "ws1", "{\"name\":\"Acme\"}", 8000),
	};
	apply(m, s, e, FW_ARRAY_LEN(e));
	CHECK_EQ_STR(person(m, "anon1"),
		     "\"id\":2,\"user_id\":\"u1\",\"identified\":true,\"distinct_ids\":[\"anon1\",\"u1\"],"
		     "\"traits\":{\"email\":\"new@x\",\"plan\":\"free\"},\"accounts\":[\"ws1\"]");
	CHECK(strstr(person(m, "u2"), "\"distinct_ids\":[\"anon3\",\"u2\"]") != NULL);
	/* the track was attributed to u2; it did not join anon2 to anyone */
	CHECK_EQ_STR(person(m, "anon2"), "(none)");
	CHECK(strstr(person(m, "u1"), "\"distinct_ids\":[\"anon1\",\"u1\"]") != NULL);
	struct fw_buf w = {0};
	fw_meta_warnings_json(m, 10, &w);
	CHECK(strstr(w.data, "\"reason\":\"merge_refused\"") != NULL);
	fw_buf_reset(&w);
	CHECK(fw_meta_account(m, fw_str_c("ws1"), &w) == 0);
	CHECK(strstr(w.data, "\"traits\":{\"name\":\"Acme\"}") != NULL);
	CHECK(strstr(w.data, "\"user_id\":\"u1\"") && strstr(w.data, "\"user_id\":\"u2\""));
	fw_buf_release(&w);

	/* reopening resumes from the applied seq: nothing is applied twice */
	uint64_t applied_before = fw_meta_applied_seq(m);
	fw_meta_close(m);
	CHECK(fw_meta_open(path, &m, &err) == 0);
	CHECK_EQ_INT(fw_meta_applied_seq(m), applied_before);
	fw_meta_close(m);
	fw_store_close(s);
}
