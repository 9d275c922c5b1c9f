/* qtest.c — the query unit tests' shared fixture (qtest.h). */
#include "qtest.h"
#include "../test.h"
#include "flywheel/timeutil.h"

#include <stdio.h>
#include <stdlib.h>

int64_t qt_at(const char *iso)
{
	int64_t ms = 0;
	if (fw_time_parse_iso(iso, strlen(iso), &ms))
		abort();
	return ms;
}

struct fw_event qt_event(int type, const char *id, int64_t time_ms, const char *user,
			 const char *anon, const char *name, const char *group, const char *props,
			 const char *traits)
{
	static struct fw_arena ids; /* generated ids live as long as the tests */
	static unsigned long seq;
	struct fw_event e = {0};
	if (!id) {
		char tmp[24];
		int n = snprintf(tmp, sizeof tmp, "q%lu", seq++);
		id = fw_arena_strndup(&ids, tmp, (size_t)n);
	}
	e.message_id = fw_str_c(id);
	e.type = (uint8_t)type;
	e.source = FW_SRC_SEGMENT;
	e.time_ms = time_ms;
	e.received_ms = fw_now_ms();
	e.user_id = fw_str_c(user);
	e.anonymous_id = fw_str_c(anon);
	e.event = fw_str_c(name);
	e.group_id = fw_str_c(group);
	e.properties = fw_str_c(props);
	e.traits = fw_str_c(traits);
	return e;
}

void qt_open(struct qt *f)
{
	memset(f, 0, sizeof *f);
	const char *dir = fw_test_tmpdir();
	struct fw_err err;
	struct fw_store_options so = {.no_sync = 1};
	char path[512];
	snprintf(path, sizeof path, "%s/meta.db", dir);
	CHECK(fw_store_open_embedded(dir, &so, &f->s, &err) == 0);
	CHECK(fw_meta_open(path, &f->m, &err) == 0);
	fw_config_defaults(&f->cfg);
}

void qt_store(struct qt *f, const struct fw_event *e, size_t n)
{
	struct fw_err err;
	uint64_t t = 0, applied;
	for (size_t i = 0; i < n; i += 512) {
		size_t k = n - i < 512 ? n - i : 512;
		CHECK(fw_store_append(f->s, e + i, k, NULL, &t, &err) == 0);
	}
	CHECK(fw_store_wait(f->s, t, &err) == 0);
	do
		CHECK(fw_meta_apply(f->m, f->s, 100000, &applied, &err) == 0);
	while (applied);
}

void qt_load(struct qt *f)
{
	struct fw_err err;
	fw_plg_free(f->plg);
	fw_dataset_free(f->d);
	f->plg = NULL;
	f->d = NULL;
	CHECK(fw_plg_load(f->s, f->m, &f->cfg, &f->plg, &err) == 0);
	CHECK(fw_dataset_build(f->s, f->m, &f->cfg, &f->d, &err) == 0);
}

void qt_close(struct qt *f)
{
	fw_buf_release(&f->out);
	fw_arena_release(&f->arena);
	fw_dataset_free(f->d);
	fw_plg_free(f->plg);
	fw_config_release(&f->cfg);
	fw_meta_close(f->m);
	fw_store_close(f->s);
}

const struct fw_json *qt_run(struct qt *f, const char *req, int64_t now_ms, int *rc,
			     struct fw_err *err)
{
	char *text = fw_arena_strndup(&f->arena, req, strlen(req));
	for (char *c = text; *c; c++)
		if (*c == '\'')
			*c = '"';
	struct fw_json *j, *answer;
	struct fw_json_error je;
	memset(err, 0, sizeof *err);
	if (fw_json_parse(&f->arena, text, strlen(text), &j, &je)) {
		fprintf(stderr, "  bad test request: %s\n", text);
		fw_test_failures++;
		*rc = FW_EINVAL;
		return NULL;
	}
	struct fw_qctx q = {.d = f->d, .cfg = &f->cfg, .plg = f->plg, .now_ms = now_ms,
			    .arena = &f->arena};
	fw_buf_reset(&f->out);
	*rc = fw_query_run(&q, j, &f->out, err);
	if (*rc)
		return NULL;
	char *copy = fw_arena_strndup(&f->arena, f->out.data, f->out.len);
	if (fw_json_parse(&f->arena, copy, f->out.len, &answer, &je)) {
		fprintf(stderr, "  the answer is not JSON: %s\n", copy);
		fw_test_failures++;
		return NULL;
	}
	return answer;
}
