/*
 * test_wire.c — the SDK mappers against real recorded requests and edge cases.
 *
 * The files in fixtures/ are the decoded bodies the real SDKs sent for the shared
 * 30-call scenario (one request per line; mixpanel.jsonl prefixes each line
 * with its route: "track", "engage" or "groups"). The expected counts are the
 * scenario's expectedWire table.
 */
#include "../test.h"
#include "flywheel/timeutil.h"
#include "flywheel/wire.h"

#include <stdlib.h>

/* ---- harness ---- */

struct t {
	struct fw_arena arena;
	struct fw_wire_batch b;
};

static void t_init(struct t *t, int64_t received_ms)
{
	memset(t, 0, sizeof *t);
	t->b.arena = &t->arena;
	t->b.received_ms = received_ms;
	t->b.max_event_bytes = 32 * 1024;
}

static int64_t iso(const char *s)
{
	int64_t ms = -1;
	if (fw_time_parse_iso(s, strlen(s), &ms))
		fprintf(stderr, "  bad time literal %s\n", s);
	return ms;
}

/* Received shortly after every capture was sent: no skew correction. */
#define CAPTURE_RECEIVED iso("2026-11-25T06:55:16.000Z")

static const struct fw_json *parse(struct t *t, const char *s, size_t n)
{
	struct fw_json *v = NULL;
	struct fw_json_error e;
	if (fw_json_parse(&t->arena, s, n, &v, &e)) {
		fprintf(stderr, "  fixture JSON error at %d:%d: %s\n", e.line, e.column, e.msg);
		return NULL;
	}
	return v;
}

static const struct fw_json *J(struct t *t, const char *s)
{
	return parse(t, s, strlen(s));
}

/* NUL-terminated copy of a record string, "" when empty. */
static const char *S(struct t *t, struct fw_str s)
{
	return s.len ? fw_arena_strndup(&t->arena, s.p, s.len) : "";
}

static char *read_fixture(const char *name)
{
	/* fixtures/ beside this file; __FILE__ is relative to the repo root */
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__) : 0;
	snprintf(path, sizeof path, "%.*s%sfixtures/%s", dir, __FILE__, slash ? "/" : "", name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "  cannot open %s (run the tests from the repository root)\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = 0;
	fclose(f);
	return buf;
}

enum client { SEGMENT, POSTHOG, MIXPANEL, AMPLITUDE };

/* Map every request (line) of a fixture into t->b; returns the file buffer
 * (the records borrow from it), to free after the checks. */
static char *map_fixture(struct t *t, const char *name, enum client c)
{
	char *buf = read_fixture(name);
	CHECK(buf != NULL);
	if (!buf)
		return NULL;
	int requests = 0;
	for (char *line = buf, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line);
		const char *kind = NULL;
		char *json = line;
		if (c == MIXPANEL) {
			char *sp = strchr(line, ' ');
			*sp = 0;
			kind = line;
			json = sp + 1;
		}
		const struct fw_json *body = parse(t, json, (size_t)(nl - json));
		CHECK(body != NULL);
		struct fw_err err = {0};
		int rc = -100;
		switch (c) {
		case SEGMENT: rc = fw_wire_segment(&t->b, body, NULL, &err); break;
		case POSTHOG: rc = fw_wire_posthog(&t->b, body, &err); break;
		case MIXPANEL: rc = fw_wire_mixpanel(&t->b, body, kind, &err); break;
		case AMPLITUDE: rc = fw_wire_amplitude(&t->b, body, &err); break;
		}
		CHECK_EQ_INT(rc, 0);
		requests++;
		if (!nl[0] || !nl[1])
			break; /* end of file */
	}
	CHECK(requests > 0);
	return buf;
}

static int count_type(const struct fw_wire_batch *b, int type)
{
	int n = 0;
	for (size_t i = 0; i < b->n; i++)
		n += b->events[i].type == type;
	return n;
}

static int count_event(const struct fw_wire_batch *b, const char *name)
{
	int n = 0;
	for (size_t i = 0; i < b->n; i++)
		n += fw_str_eq(b->events[i].event, name);
	return n;
}

/* The n-th (0-based) record of a type, or NULL. */
static const struct fw_event *nth(const struct fw_wire_batch *b, int type, int n)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->events[i].type == type && n-- == 0)
			return &b->events[i];
	return NULL;
}

static const struct fw_event *by_event(const struct fw_wire_batch *b, const char *name, int n)
{
	for (size_t i = 0; i < b->n; i++)
		if (fw_str_eq(b->events[i].event, name) && n-- == 0)
			return &b->events[i];
	return NULL;
}

/* The ten track names of the scenario and their counts (WIRE.md §6). */
static void check_scenario_tracks(const struct fw_wire_batch *b)
{
	static const struct {
		const char *name;
		int n;
	} tracks[] = {
		{"Signed Up", 3},       {"Report Viewed", 3},     {"Feature Used", 3},
		{"Invite Sent", 2},     {"Project Created", 2},   {"Plan Upgraded", 2},
		{"Signed Out", 2},      {"Workspace Created", 1}, {"Landing Page Viewed", 1},
		{"Pricing Viewed", 1},
	};
	for (size_t i = 0; i < FW_ARRAY_LEN(tracks); i++) {
		int n = count_event(b, tracks[i].name);
		if (n != tracks[i].n)
			fprintf(stderr, "  %s: %d records, expected %d\n", tracks[i].name, n,
				tracks[i].n);
		CHECK_EQ_INT(n, tracks[i].n);
	}
	CHECK_EQ_INT(count_type(b, FW_MSG_TRACK), 20);
}

static int all_source(const struct fw_wire_batch *b, int source)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->events[i].source != source)
			return 0;
	return 1;
}

static int all_have_message_ids(const struct fw_wire_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (!b->events[i].message_id.len || b->events[i].received_ms != b->received_ms)
			return 0;
	return 1;
}

/* ---- real captures ---- */

TEST(wire_segment_capture)
{
	struct t t;
	t_init(&t, CAPTURE_RECEIVED);
	char *buf = map_fixture(&t, "segment.jsonl", SEGMENT);
	struct fw_wire_batch *b = &t.b;
	CHECK_EQ_INT(b->n, 30);
	CHECK_EQ_INT(b->messages, 30);
	CHECK_EQ_INT(b->nwarn, 0);
	CHECK_EQ_INT(count_type(b, FW_MSG_IDENTIFY), 3);
	CHECK_EQ_INT(count_type(b, FW_MSG_GROUP), 3);
	CHECK_EQ_INT(count_type(b, FW_MSG_ALIAS), 1);
	CHECK_EQ_INT(count_type(b, FW_MSG_PAGE), 3);
	CHECK_EQ_INT(count_event(b, "$pageview"), 3);
	check_scenario_tracks(b);
	CHECK(all_source(b, FW_SRC_SEGMENT));
	CHECK(all_have_message_ids(b));
	CHECK_EQ_STR(S(&t, b->key), "wk_harness_segment_0123456789");

	const struct fw_event *e = &b->events[0];
	CHECK_EQ_INT(e->type, FW_MSG_IDENTIFY);
	CHECK_EQ_STR(S(&t, e->user_id), "user_001");
	CHECK_EQ_STR(S(&t, e->anonymous_id), "");
	CHECK_EQ_INT(e->time_ms, iso("2024-03-01T10:00:00.000Z"));
	CHECK_EQ_STR(S(&t, e->message_id), "cdad567a-4f69-5e21-965e-1a17cf1d4ef6");
	CHECK_EQ_STR(S(&t, e->traits), "{\"email\":\"ada@acme.example\",\"name\":\"Ada Lovelace\","
				       "\"created_at\":\"2024-01-15T09:30:00.000Z\"}");
	CHECK_EQ_STR(S(&t, e->context),
		     "{\"library\":{\"name\":\"@segment/analytics-node\",\"version\":\"3.1.0\"}}");

	e = nth(b, FW_MSG_GROUP, 0);
	CHECK_EQ_STR(S(&t, e->group_id), "ws_acme");
	CHECK_EQ_STR(S(&t, e->user_id), "user_001");
	CHECK_EQ_STR(S(&t, e->traits), "{\"name\":\"Acme Inc\",\"domain\":\"acme.example\","
				       "\"employees\":120,\"plan\":\"enterprise\"}");
	CHECK_EQ_STR(S(&t, nth(b, FW_MSG_GROUP, 2)->group_id), "ws_globex");

	e = by_event(b, "Signed Up", 0);
	CHECK_EQ_INT(e->type, FW_MSG_TRACK);
	CHECK_EQ_INT(e->time_ms, iso("2024-03-01T10:00:02.000Z"));
	CHECK_EQ_STR(S(&t, e->properties), "{\"method\":\"email\",\"referrer\":\"newsletter\",\"trial\":true}");
	CHECK_EQ_STR(S(&t, e->group_id), "");

	/* page: name first, category kept once */
	e = nth(b, FW_MSG_PAGE, 0);
	CHECK_EQ_STR(S(&t, e->event), "$pageview");
	CHECK_EQ_STR(S(&t, e->properties),
		     "{\"name\":\"Pricing\",\"category\":\"Marketing\","
		     "\"url\":\"https://app.acme.example/pricing\",\"path\":\"/pricing\","
		     "\"title\":\"Pricing \xe2\x80\x93 Acme\",\"referrer\":\"https://www.google.com/\"}");

	e = nth(b, FW_MSG_ALIAS, 0);
	CHECK_EQ_STR(S(&t, e->user_id), "user_003");
	CHECK_EQ_STR(S(&t, e->previous_id), "anon_7f3a03");
	CHECK_EQ_INT(e->time_ms, iso("2024-03-01T10:22:00.000Z"));

	e = by_event(b, "Landing Page Viewed", 0);
	CHECK_EQ_STR(S(&t, e->user_id), "");
	CHECK_EQ_STR(S(&t, e->anonymous_id), "anon_7f3a03");

	e = by_event(b, "Signed Out", 1);
	CHECK_EQ_INT(e->time_ms, iso("2024-03-01T11:00:00.999Z"));
	free(buf);
	fw_arena_release(&t.arena);
}

TEST(wire_rudder_capture)
{
	struct t t;
	t_init(&t, CAPTURE_RECEIVED);
	char *buf = map_fixture(&t, "rudderstack.jsonl", SEGMENT);
	struct fw_wire_batch *b = &t.b;
	CHECK_EQ_INT(b->n, 30);
	CHECK_EQ_INT(b->nwarn, 0);
	CHECK_EQ_INT(count_type(b, FW_MSG_IDENTIFY), 3);
	CHECK_EQ_INT(count_type(b, FW_MSG_GROUP), 3);
	CHECK_EQ_INT(count_type(b, FW_MSG_ALIAS), 1);
	CHECK_EQ_INT(count_type(b, FW_MSG_PAGE), 3);
	check_scenario_tracks(b);
	CHECK(all_source(b, FW_SRC_RUDDER));
	CHECK(all_have_message_ids(b));
	CHECK_EQ_INT(b->key.len, 0); /* Rudder sends its key only in Authorization */

	const struct fw_event *e = nth(b, FW_MSG_IDENTIFY, 0);
	CHECK_EQ_STR(S(&t, e->user_id), "user_001");
	CHECK_EQ_INT(e->time_ms, iso("2024-03-01T10:00:00.000Z"));
	CHECK_EQ_STR(S(&t, e->message_id), "4dfe6450-ce31-5866-b4f2-4dc3b5ffd438");
	CHECK(strstr(S(&t, e->traits), "\"email\":\"ada@acme.example\"") != NULL);

	/* Rudder does not copy category into properties: the mapper adds it */
	e = nth(b, FW_MSG_PAGE, 2);
	CHECK_EQ_STR(S(&t, e->properties),
		     "{\"name\":\"Settings\",\"category\":\"App\","
		     "\"url\":\"https://app.acme.example/settings/billing\",\"path\":\"/settings/billing\","
		     "\"title\":\"Billing settings\",\"referrer\":\"https://app.acme.example/\"}");

	e = nth(b, FW_MSG_ALIAS, 0);
	CHECK_EQ_STR(S(&t, e->user_id), "user_003");
	CHECK_EQ_STR(S(&t, e->previous_id), "anon_7f3a03");
	free(buf);
	fw_arena_release(&t.arena);
}

static void check_posthog(struct t *t, const char *key)
{
	struct fw_wire_batch *b = &t->b;
	CHECK_EQ_INT(b->n, 30);
	CHECK_EQ_INT(b->nwarn, 0);
	CHECK_EQ_INT(count_type(b, FW_MSG_IDENTIFY), 3);
	CHECK_EQ_INT(count_type(b, FW_MSG_GROUP), 3);
	CHECK_EQ_INT(count_type(b, FW_MSG_ALIAS), 1);
	CHECK_EQ_INT(count_type(b, FW_MSG_PAGE), 3);
	CHECK_EQ_INT(count_event(b, "$identify"), 3);
	CHECK_EQ_INT(count_event(b, "$groupidentify"), 3);
	CHECK_EQ_INT(count_event(b, "$create_alias"), 1);
	CHECK_EQ_INT(count_event(b, "$pageview"), 3);
	check_scenario_tracks(b);
	CHECK(all_source(b, FW_SRC_POSTHOG));
	CHECK(all_have_message_ids(b));
	CHECK_EQ_STR(S(t, b->key), key);

	const struct fw_event *e = nth(b, FW_MSG_IDENTIFY, 0);
	CHECK_EQ_STR(S(t, e->user_id), "user_001");
	CHECK_EQ_STR(S(t, e->anonymous_id), "");
	CHECK_EQ_STR(S(t, e->traits), "{\"email\":\"ada@acme.example\",\"name\":\"Ada Lovelace\","
				      "\"created_at\":\"2024-01-15T09:30:00.000Z\"}");

	e = nth(b, FW_MSG_GROUP, 0);
	CHECK_EQ_STR(S(t, e->group_id), "ws_acme");
	CHECK_EQ_STR(S(t, e->user_id), "user_001");
	CHECK_EQ_STR(S(t, e->traits), "{\"name\":\"Acme Inc\",\"domain\":\"acme.example\","
				      "\"employees\":120,\"plan\":\"enterprise\"}");

	e = nth(b, FW_MSG_ALIAS, 0);
	CHECK_EQ_STR(S(t, e->user_id), "user_003");
	CHECK_EQ_STR(S(t, e->previous_id), "anon_7f3a03");

	e = by_event(b, "Signed Up", 0);
	CHECK_EQ_STR(S(t, e->user_id), "user_001");
	CHECK_EQ_STR(S(t, e->group_id), "ws_acme");
	CHECK_EQ_INT(e->time_ms, iso("2024-03-01T10:00:02.000Z"));
	CHECK(strstr(S(t, e->properties), "\"method\":\"email\"") != NULL);

	e = by_event(b, "Report Viewed", 0);
	CHECK_EQ_INT(e->time_ms, iso("2024-03-01T10:08:15.500Z"));

	e = by_event(b, "Landing Page Viewed", 0);
	CHECK_EQ_STR(S(t, e->user_id), "anon_7f3a03"); /* PostHog: distinct_id → user_id */
	CHECK_EQ_STR(S(t, e->group_id), "");

	e = nth(b, FW_MSG_PAGE, 1);
	CHECK_EQ_STR(S(t, e->group_id), "ws_globex");
	CHECK(strstr(S(t, e->properties), "\"name\":\"Docs\"") != NULL);
}

TEST(wire_posthog_capture)
{
	struct t t;
	t_init(&t, CAPTURE_RECEIVED);
	char *buf = map_fixture(&t, "posthog.jsonl", POSTHOG);
	check_posthog(&t, "phc_harnessPosthogProjectToken0123");
	CHECK_EQ_STR(S(&t, t.b.events[0].message_id), "01a2117c-ac1b-776f-8438-3cadf16a9ac7");
	CHECK_EQ_INT(t.b.events[0].time_ms, iso("2026-11-25T06:55:12.922Z"));
	free(buf);
	fw_arena_release(&t.arena);
}

TEST(wire_posthog_v1_capture)
{
	struct t t;
	t_init(&t, CAPTURE_RECEIVED);
	char *buf = map_fixture(&t, "posthog-v1.jsonl", POSTHOG);
	check_posthog(&t, ""); /* v1 sends the key as Authorization: Bearer */
	free(buf);
	fw_arena_release(&t.arena);
}

TEST(wire_mixpanel_capture)
{
	struct t t;
	t_init(&t, CAPTURE_RECEIVED);
	char *buf = map_fixture(&t, "mixpanel.jsonl", MIXPANEL);
	struct fw_wire_batch *b = &t.b;
	CHECK_EQ_INT(b->n, 30);
	CHECK_EQ_INT(b->nwarn, 0);
	/* 21 events (20 tracks + $create_alias) and 9 profile updates */
	CHECK_EQ_INT(count_type(b, FW_MSG_ALIAS), 1);
	CHECK_EQ_INT(count_type(b, FW_MSG_IDENTIFY), 6);
	CHECK_EQ_INT(count_type(b, FW_MSG_GROUP), 3);
	check_scenario_tracks(b);
	CHECK(all_source(b, FW_SRC_MIXPANEL));
	CHECK(all_have_message_ids(b));
	CHECK_EQ_STR(S(&t, b->key), "mp_harness_token_0123456789abcd");

	for (size_t i = 0; i < b->n; i++) {
		CHECK(strstr(S(&t, b->events[i].properties), "\"token\"") == NULL);
		CHECK(strstr(S(&t, b->events[i].properties), "\"$token\"") == NULL);
	}

	const struct fw_event *e = nth(b, FW_MSG_IDENTIFY, 0);
	CHECK_EQ_STR(S(&t, e->user_id), "user_001");
	CHECK_EQ_INT(e->time_ms, 1709287200000LL);
	CHECK_EQ_STR(S(&t, e->traits), "{\"email\":\"ada@acme.example\",\"name\":\"Ada Lovelace\","
				       "\"created_at\":\"2024-01-15T09:30:00.000Z\"}");
	CHECK_EQ_STR(S(&t, e->group_id), "");
	CHECK_EQ_INT(e->properties.len, 0);
	CHECK(e->message_id.len == 35 && memcmp(e->message_id.p, "mp-", 3) == 0);

	e = nth(b, FW_MSG_IDENTIFY, 1); /* people.set({workspace_id}) */
	CHECK_EQ_STR(S(&t, e->group_id), "ws_acme");
	CHECK_EQ_STR(S(&t, e->traits), "{\"workspace_id\":\"ws_acme\"}");
	CHECK(e->message_id.len == 35 && memcmp(e->message_id.p, "mp-", 3) == 0);

	e = nth(b, FW_MSG_GROUP, 0);
	CHECK_EQ_STR(S(&t, e->group_id), "ws_acme");
	CHECK_EQ_STR(S(&t, e->user_id), "");
	CHECK_EQ_STR(S(&t, e->traits), "{\"name\":\"Acme Inc\",\"domain\":\"acme.example\","
				       "\"employees\":120,\"plan\":\"enterprise\"}");
	CHECK_EQ_STR(S(&t, e->properties), "{\"$group_key\":\"workspace_id\"}");
	CHECK_EQ_INT(e->time_ms, 1709287201000LL);
	/* ids hash the whole update: the second ws_acme update differs in $time */
	CHECK(!fw_str_eq(e->message_id, S(&t, nth(b, FW_MSG_GROUP, 1)->message_id)));
	CHECK(!fw_str_eq(e->message_id, S(&t, nth(b, FW_MSG_GROUP, 2)->message_id)));

	e = nth(b, FW_MSG_ALIAS, 0);
	CHECK_EQ_STR(S(&t, e->user_id), "user_003");
	CHECK_EQ_STR(S(&t, e->previous_id), "anon_7f3a03");
	CHECK(e->message_id.len == 35 && memcmp(e->message_id.p, "mp-", 3) == 0);

	e = by_event(b, "Signed Up", 0);
	CHECK_EQ_STR(S(&t, e->user_id), "user_001");
	CHECK_EQ_STR(S(&t, e->group_id), "ws_acme");
	CHECK_EQ_INT(e->time_ms, 1709287202000LL);
	CHECK_EQ_STR(S(&t, e->message_id), "266b1a93-13c0-5a7a-9efb-3c6396207d13");
	CHECK_EQ_STR(S(&t, e->properties),
		     "{\"distinct_id\":\"user_001\",\"time\":1709287202000,\"workspace_id\":\"ws_acme\","
		     "\"method\":\"email\",\"referrer\":\"newsletter\",\"trial\":true,"
		     "\"$insert_id\":\"266b1a93-13c0-5a7a-9efb-3c6396207d13\",\"mp_lib\":\"node\","
		     "\"$lib_version\":\"0.24.0\"}");

	e = by_event(b, "Report Viewed", 1); /* from the POST batch, with '+' in its base64 */
	CHECK_EQ_INT(e->time_ms, 1709287695500LL);
	CHECK(strstr(S(&t, e->properties), "\"expr\":\"duration >>>>>> 1000 ?????? ~~~~~~\"") != NULL);

	e = by_event(b, "Landing Page Viewed", 0);
	CHECK_EQ_STR(S(&t, e->user_id), "anon_7f3a03");
	CHECK_EQ_STR(S(&t, e->group_id), "");
	free(buf);
	fw_arena_release(&t.arena);
}

TEST(wire_amplitude_capture)
{
	struct t t;
	t_init(&t, CAPTURE_RECEIVED);
	char *buf = map_fixture(&t, "amplitude.jsonl", AMPLITUDE);
	struct fw_wire_batch *b = &t.b;
	CHECK_EQ_INT(b->n, 29);
	CHECK_EQ_INT(b->nwarn, 0);
	CHECK_EQ_INT(count_type(b, FW_MSG_IDENTIFY), 6);
	CHECK_EQ_INT(count_type(b, FW_MSG_GROUP), 3);
	CHECK_EQ_INT(count_event(b, "$identify"), 6);
	CHECK_EQ_INT(count_event(b, "$groupidentify"), 3);
	check_scenario_tracks(b);
	CHECK(all_source(b, FW_SRC_AMPLITUDE));
	CHECK(all_have_message_ids(b));
	CHECK_EQ_STR(S(&t, b->key), "amp_harness_api_key_0123456789ab");

	const struct fw_event *e = &b->events[0];
	CHECK_EQ_INT(e->type, FW_MSG_IDENTIFY);
	CHECK_EQ_STR(S(&t, e->user_id), "user_001");
	CHECK_EQ_INT(e->time_ms, 1709287200000LL);
	CHECK_EQ_STR(S(&t, e->message_id), "4d43171a-139f-5c38-86ce-c2dded808b58");
	CHECK_EQ_STR(S(&t, e->traits), "{\"email\":\"ada@acme.example\",\"name\":\"Ada Lovelace\","
				       "\"created_at\":\"2024-01-15T09:30:00.000Z\"}");

	e = &b->events[1]; /* setGroup: an identify naming the account */
	CHECK_EQ_INT(e->type, FW_MSG_IDENTIFY);
	CHECK_EQ_STR(S(&t, e->group_id), "ws_acme");
	CHECK_EQ_STR(S(&t, e->traits), "{\"workspace\":\"ws_acme\"}");

	e = &b->events[2];
	CHECK_EQ_INT(e->type, FW_MSG_GROUP);
	CHECK_EQ_STR(S(&t, e->group_id), "ws_acme");
	CHECK_EQ_STR(S(&t, e->user_id), "user_001");
	CHECK_EQ_STR(S(&t, e->traits), "{\"name\":\"Acme Inc\",\"domain\":\"acme.example\","
				       "\"employees\":120,\"plan\":\"enterprise\"}");

	e = by_event(b, "Signed Up", 2);
	CHECK_EQ_STR(S(&t, e->user_id), "user_003");
	CHECK_EQ_STR(S(&t, e->group_id), "ws_globex");
	CHECK_EQ_INT(e->time_ms, 1709288523000LL);
	CHECK_EQ_INT(e->traits.len, 0);

	e = by_event(b, "Pricing Viewed", 0);
	CHECK_EQ_STR(S(&t, e->user_id), "");
	CHECK_EQ_STR(S(&t, e->anonymous_id), "anon_7f3a03");
	CHECK_EQ_STR(S(&t, e->properties), "{\"plan_highlighted\":\"pro\"}");
	free(buf);
	fw_arena_release(&t.arena);
}

/* ---- times and skew ---- */

static int64_t wt(struct t *t, const char *json)
{
	int64_t ms = -7;
	if (fw_wire_time(J(t, json), &ms))
		return -1;
	return ms;
}

TEST(wire_time_values)
{
	struct t t;
	t_init(&t, 0);
	CHECK_EQ_INT(wt(&t, "\"2024-03-01T10:00:02.000Z\""), 1709287202000LL);
	CHECK_EQ_INT(wt(&t, "\"2024-03-01T11:00:02+01:00\""), 1709287202000LL);
	CHECK_EQ_INT(wt(&t, "1709287202000"), 1709287202000LL);
	CHECK_EQ_INT(wt(&t, "1709287202"), 1709287202000LL);   /* seconds */
	CHECK_EQ_INT(wt(&t, "1709287202.5"), 1709287202500LL); /* fractional seconds */
	CHECK_EQ_INT(wt(&t, "\"1709287202000\""), 1709287202000LL);
	CHECK_EQ_INT(wt(&t, "0"), 0);
	CHECK_EQ_INT(wt(&t, "\"yesterday\""), -1);
	CHECK_EQ_INT(wt(&t, "\"\""), -1);
	CHECK_EQ_INT(wt(&t, "\"12.\""), -1);
	CHECK_EQ_INT(wt(&t, "true"), -1);
	CHECK_EQ_INT(wt(&t, "null"), -1);
	CHECK_EQ_INT(wt(&t, "{}"), -1);
	CHECK_EQ_INT(wt(&t, "-5"), -1);
	CHECK_EQ_INT(wt(&t, "1e300"), -1);                       /* no overflow */
	CHECK_EQ_INT(wt(&t, "\"0001-01-01T00:00:00Z\""), -1);    /* Go's zero time */
	CHECK_EQ_INT(fw_wire_time(NULL, &(int64_t){0}), -1);
	fw_arena_release(&t.arena);
}

TEST(wire_skew_correction)
{
	struct t t;
	int64_t now = iso("2026-01-10T12:00:00.000Z");
	struct fw_err err;

	/* Segment/Rudder: originalTimestamp is moved by received − sentAt (client 1 h slow) ... */
	t_init(&t, now);
	CHECK_EQ_INT(fw_wire_segment(&t.b, J(&t, "{\"sentAt\":\"2026-01-10T11:00:00.000Z\",\"batch\":["
						 "{\"type\":\"track\",\"event\":\"A\",\"userId\":\"u\","
						 "\"originalTimestamp\":\"2026-01-10T10:59:00.000Z\"},"
						 "{\"type\":\"track\",\"event\":\"B\",\"userId\":\"u\","
						 "\"timestamp\":\"2026-01-10T10:59:00.000Z\"},"
						 "{\"type\":\"track\",\"event\":\"C\",\"userId\":\"u\","
						 "\"originalTimestamp\":\"2026-01-10T10:59:00.000Z\","
						 "\"sentAt\":\"2026-01-10T11:55:00.000Z\"},"
						 "{\"type\":\"track\",\"event\":\"D\",\"userId\":\"u\"}]}"),
				     NULL, &err), 0);
	CHECK_EQ_INT(t.b.n, 4);
	CHECK_EQ_INT(t.b.events[0].time_ms, iso("2026-01-10T11:59:00.000Z"));
	/* ... an explicit timestamp is kept as given ... */
	CHECK_EQ_INT(t.b.events[1].time_ms, iso("2026-01-10T10:59:00.000Z"));
	/* ... a message's own sentAt wins, and 5 minutes is under the threshold ... */
	CHECK_EQ_INT(t.b.events[2].time_ms, iso("2026-01-10T10:59:00.000Z"));
	/* ... and no time at all is the receive time */
	CHECK_EQ_INT(t.b.events[3].time_ms, now);
	fw_arena_release(&t.arena);

	/* PostHog: timestamp + skew (client 2 h fast), unless $ignore_sent_at */
	t_init(&t, now);
	CHECK_EQ_INT(fw_wire_posthog(&t.b, J(&t, "{\"api_key\":\"k\",\"sent_at\":\"2026-01-10T14:00:00Z\",\"batch\":["
						 "{\"event\":\"A\",\"distinct_id\":\"u\",\"timestamp\":\"2026-01-10T13:30:00Z\"},"
						 "{\"event\":\"B\",\"distinct_id\":\"u\",\"timestamp\":\"2026-01-10T13:30:00Z\","
						 "\"properties\":{\"$ignore_sent_at\":true}},"
						 "{\"event\":\"C\",\"distinct_id\":\"u\",\"offset\":1500}]}"),
				     &err), 0);
	CHECK_EQ_INT(t.b.n, 3);
	CHECK_EQ_INT(t.b.events[0].time_ms, iso("2026-01-10T11:30:00Z"));
	CHECK_EQ_INT(t.b.events[1].time_ms, iso("2026-01-10T13:30:00Z"));
	CHECK_EQ_INT(t.b.events[2].time_ms, now - 1500);
	fw_arena_release(&t.arena);

	/* Amplitude: client_upload_time */
	t_init(&t, now);
	CHECK_EQ_INT(fw_wire_amplitude(&t.b, J(&t, "{\"api_key\":\"k\",\"client_upload_time\":\"2026-01-09T12:00:00.000Z\","
						   "\"events\":[{\"event_type\":\"A\",\"user_id\":\"u\",\"time\":1767873600000}]}"),
				       &err), 0);
	CHECK_EQ_INT(t.b.n, 1);
	CHECK_EQ_INT(t.b.events[0].time_ms, 1767873600000LL + FW_MS_PER_DAY);
	fw_arena_release(&t.arena);
}

/* ---- warnings: the bad message is skipped, the rest kept ---- */

static int warned(const struct fw_wire_batch *b, uint32_t index, const char *reason)
{
	for (size_t i = 0; i < b->nwarn; i++)
		if (b->warnings[i].index == index && !strcmp(b->warnings[i].reason, reason) &&
		    b->warnings[i].message && b->warnings[i].message[0] && b->warnings[i].sample.len)
			return 1;
	return 0;
}

TEST(wire_segment_warnings)
{
	struct t t;
	struct fw_err err;
	t_init(&t, iso("2026-01-10T12:00:00Z"));
	t.b.max_event_bytes = 200;
	const char *body =
		"{\"writeKey\":\"wk\",\"batch\":["
		/* 0 */ "{\"type\":\"track\",\"event\":\"Ok\",\"userId\":\"u1\"},"
		/* 1 */ "{\"type\":\"track\",\"event\":\"NoId\"},"
		/* 2 */ "{\"type\":\"track\",\"userId\":\"u1\",\"properties\":{}},"
		/* 3 */ "{\"type\":\"launch\",\"userId\":\"u1\"},"
		/* 4 */ "{\"event\":\"NoType\",\"userId\":\"u1\"},"
		/* 5 */ "{\"type\":\"track\",\"event\":\"Big\",\"userId\":\"u1\",\"properties\":{\"pad\":\""
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"\"}},"
		/* 6 */ "{\"type\":\"track\",\"event\":\"When\",\"userId\":\"u1\",\"timestamp\":\"last tuesday\"},"
		/* 7 */ "42,"
		/* 8 */ "{\"type\":\"group\",\"userId\":\"u1\",\"traits\":{}},"
		/* 9 */ "{\"type\":\"alias\",\"userId\":\"u1\"},"
		/* 10 */ "{\"type\":\"identify\",\"anonymousId\":\"a1\",\"userId\":\"\"},"
		/* 11 */ "{\"type\":\"track\",\"event\":\"Num\",\"userId\":12345678901234567890}"
		"]}";
	CHECK_EQ_INT(fw_wire_segment(&t.b, J(&t, body), NULL, &err), 0);
	CHECK_EQ_INT(t.b.messages, 12);
	CHECK_EQ_INT(t.b.n, 3);
	CHECK_EQ_INT(t.b.nwarn, 9);
	CHECK(warned(&t.b, 1, "missing_id"));
	CHECK(warned(&t.b, 2, "missing_event"));
	CHECK(warned(&t.b, 3, "invalid_type"));
	CHECK(warned(&t.b, 4, "invalid_type"));
	CHECK(warned(&t.b, 5, "too_large"));
	CHECK(warned(&t.b, 6, "invalid_time"));
	CHECK(warned(&t.b, 7, "invalid_message"));
	CHECK(warned(&t.b, 8, "missing_group_id"));
	CHECK(warned(&t.b, 9, "missing_id"));
	CHECK_EQ_STR(S(&t, t.b.events[0].event), "Ok");
	CHECK_EQ_STR(S(&t, t.b.events[1].anonymous_id), "a1");
	CHECK_EQ_STR(S(&t, t.b.events[1].user_id), "");
	CHECK_EQ_STR(S(&t, t.b.events[2].user_id), "12345678901234567890");
	CHECK_EQ_STR(S(&t, t.b.key), "wk");
	CHECK(strstr(t.b.warnings[5].message, "last tuesday") != NULL);
	fw_arena_release(&t.arena);
}

TEST(wire_posthog_warnings)
{
	struct t t;
	struct fw_err err;
	t_init(&t, iso("2026-01-10T12:00:00Z"));
	const char *body =
		"[{\"event\":\"Ok\",\"distinct_id\":\"u1\",\"properties\":{\"token\":\"phc_x\",\"a\":1}},"
		" {\"distinct_id\":\"u1\"},"
		" {\"event\":\"NoId\",\"properties\":{}},"
		" {\"event\":\"$create_alias\",\"distinct_id\":\"u1\",\"properties\":{}},"
		" {\"event\":\"$groupidentify\",\"distinct_id\":\"$company_c9\",\"properties\":"
		"   {\"$group_type\":\"company\",\"$group_key\":\"c9\",\"$group_set\":{\"plan\":\"pro\"}}},"
		" {\"event\":\"$groupidentify\",\"distinct_id\":\"u1\",\"properties\":{}},"
		" {\"event\":\"Late\",\"distinct_id\":\"u1\",\"timestamp\":\"soon\"},"
		" {\"event\":\"Prop\",\"properties\":{\"distinct_id\":42,\"$groups\":{\"company\":\"c9\"}}},"
		" {\"event\":\"$set\",\"distinct_id\":\"u1\",\"properties\":{\"$set\":{\"plan\":\"pro\"}}},"
		" {\"event\":\"$identify\",\"distinct_id\":\"u1\",\"properties\":{\"$anon_distinct_id\":\"a1\","
		"   \"$set\":{\"email\":\"x@y\"},\"$set_once\":{\"first\":1}}},"
		" {\"event\":\"$screen\",\"distinct_id\":\"u1\",\"properties\":{\"$screen_name\":\"Home\"}}]";
	CHECK_EQ_INT(fw_wire_posthog(&t.b, J(&t, body), &err), 0);
	CHECK_EQ_INT(t.b.messages, 11);
	CHECK_EQ_INT(t.b.nwarn, 5);
	CHECK(warned(&t.b, 1, "missing_event"));
	CHECK(warned(&t.b, 2, "missing_id"));
	CHECK(warned(&t.b, 3, "missing_id"));
	CHECK(warned(&t.b, 5, "missing_group_id"));
	CHECK(warned(&t.b, 6, "invalid_time"));
	CHECK_EQ_INT(t.b.n, 6);
	const struct fw_event *e = &t.b.events[0];
	CHECK_EQ_STR(S(&t, e->properties), "{\"a\":1}"); /* the key is never stored */
	CHECK_EQ_STR(S(&t, t.b.key), "phc_x");
	e = &t.b.events[1]; /* groupidentify without a person */
	CHECK_EQ_INT(e->type, FW_MSG_GROUP);
	CHECK_EQ_STR(S(&t, e->group_id), "c9");
	CHECK_EQ_STR(S(&t, e->user_id), "");
	CHECK_EQ_STR(S(&t, e->anonymous_id), "");
	CHECK_EQ_STR(S(&t, e->traits), "{\"plan\":\"pro\"}");
	e = &t.b.events[2];
	CHECK_EQ_STR(S(&t, e->user_id), "42");
	CHECK_EQ_STR(S(&t, e->group_id), "c9");
	e = &t.b.events[3]; /* $set: traits, no join */
	CHECK_EQ_INT(e->type, FW_MSG_IDENTIFY);
	CHECK_EQ_STR(S(&t, e->traits), "{\"plan\":\"pro\"}");
	CHECK_EQ_STR(S(&t, e->anonymous_id), "");
	e = &t.b.events[4]; /* $identify joins $anon_distinct_id into distinct_id */
	CHECK_EQ_INT(e->type, FW_MSG_IDENTIFY);
	CHECK_EQ_STR(S(&t, e->user_id), "u1");
	CHECK_EQ_STR(S(&t, e->anonymous_id), "a1");
	CHECK_EQ_STR(S(&t, e->traits), "{\"email\":\"x@y\"}");
	CHECK(strstr(S(&t, e->properties), "\"$set_once\":{\"first\":1}") != NULL);
	e = &t.b.events[5];
	CHECK_EQ_INT(e->type, FW_MSG_SCREEN);
	CHECK_EQ_STR(S(&t, e->event), "$screen");
	CHECK_EQ_STR(S(&t, e->properties), "{\"name\":\"Home\",\"$screen_name\":\"Home\"}");
	fw_arena_release(&t.arena);

	/* a single event object (/capture/, /e/) with its key */
	t_init(&t, iso("2026-01-10T12:00:00Z"));
	CHECK_EQ_INT(fw_wire_posthog(&t.b, J(&t, "{\"api_key\":\"phc_1\",\"event\":\"$pageview\","
						 "\"distinct_id\":\"u\",\"uuid\":\"id-1\"}"),
				     &err), 0);
	CHECK_EQ_INT(t.b.n, 1);
	CHECK_EQ_INT(t.b.events[0].type, FW_MSG_PAGE);
	CHECK_EQ_STR(S(&t, t.b.events[0].message_id), "id-1");
	CHECK_EQ_STR(S(&t, t.b.key), "phc_1");
	CHECK_EQ_INT(t.b.events[0].properties.len, 0);
	fw_arena_release(&t.arena);
}

TEST(wire_mixpanel_warnings)
{
	struct t t;
	struct fw_err err;
	t_init(&t, iso("2026-01-10T12:00:00Z"));
	const char *track =
		"[{\"event\":\"Ok\",\"properties\":{\"distinct_id\":\"u1\",\"time\":1709287202,\"token\":\"mp\","
		"   \"org_id\":7}},"
		" {\"properties\":{\"distinct_id\":\"u1\"}},"
		" {\"event\":\"NoId\",\"properties\":{\"time\":1709287202}},"
		" {\"event\":\"$create_alias\",\"properties\":{\"distinct_id\":\"a1\"}},"
		" {\"event\":\"$identify\",\"properties\":{\"distinct_id\":\"u2\",\"$identified_id\":\"u2\","
		"   \"$anon_id\":\"a2\"}},"
		" {\"event\":\"Anon\",\"properties\":{\"distinct_id\":\"$device:d1\"}},"
		" {\"event\":\"Bad\",\"properties\":{\"distinct_id\":\"u1\",\"time\":\"soon\"}}]";
	CHECK_EQ_INT(fw_wire_mixpanel(&t.b, J(&t, track), "track", &err), 0);
	CHECK_EQ_INT(t.b.nwarn, 4);
	CHECK(warned(&t.b, 1, "missing_event"));
	CHECK(warned(&t.b, 2, "missing_id"));
	CHECK(warned(&t.b, 3, "missing_id"));
	CHECK(warned(&t.b, 6, "invalid_time"));
	CHECK_EQ_INT(t.b.n, 3);
	const struct fw_event *e = &t.b.events[0];
	CHECK_EQ_INT(e->time_ms, 1709287202000LL); /* seconds */
	CHECK_EQ_STR(S(&t, e->group_id), "7");
	CHECK_EQ_STR(S(&t, e->properties), "{\"distinct_id\":\"u1\",\"time\":1709287202,\"org_id\":7}");
	e = &t.b.events[1];
	CHECK_EQ_INT(e->type, FW_MSG_IDENTIFY);
	CHECK_EQ_STR(S(&t, e->user_id), "u2");
	CHECK_EQ_STR(S(&t, e->anonymous_id), "a2");
	e = &t.b.events[2];
	CHECK_EQ_STR(S(&t, e->user_id), "");
	CHECK_EQ_STR(S(&t, e->anonymous_id), "$device:d1");
	CHECK_EQ_INT(e->time_ms, t.b.received_ms);

	const char *engage =
		"[{\"$token\":\"mp\",\"$distinct_id\":\"u1\",\"$set\":{\"$email\":\"a@b\",\"email\":\"c@d\","
		"   \"$created\":\"2024-01-01\",\"company_id\":\"c1\"},\"$set_once\":{\"first\":1},\"$ip\":\"0\"},"
		" {\"$token\":\"mp\",\"$add\":{\"logins\":1}},"
		" {\"$token\":\"mp\",\"$distinct_id\":\"u1\",\"$unset\":[\"x\"]}]";
	size_t before = t.b.n;
	CHECK_EQ_INT(fw_wire_mixpanel(&t.b, J(&t, engage), "engage", &err), 0);
	CHECK_EQ_INT(t.b.nwarn, 5);
	CHECK(warned(&t.b, 1, "missing_id"));
	CHECK_EQ_INT(t.b.n, before + 2);
	e = &t.b.events[before];
	CHECK_EQ_INT(e->type, FW_MSG_IDENTIFY);
	CHECK_EQ_STR(S(&t, e->traits), "{\"email\":\"c@d\",\"created_at\":\"2024-01-01\",\"company_id\":\"c1\"}");
	CHECK_EQ_STR(S(&t, e->group_id), "c1");
	CHECK_EQ_STR(S(&t, e->properties), "{\"$set_once\":{\"first\":1},\"$ip\":\"0\"}");
	CHECK_EQ_INT(e->time_ms, t.b.received_ms);
	e = &t.b.events[before + 1]; /* operations we do not apply are kept, not applied */
	CHECK_EQ_INT(e->traits.len, 0);
	CHECK_EQ_STR(S(&t, e->properties), "{\"$unset\":[\"x\"]}");

	CHECK_EQ_INT(fw_wire_mixpanel(&t.b, J(&t, "{\"$token\":\"mp\",\"$set\":{}}"), "groups", &err), 0);
	CHECK(warned(&t.b, 0, "missing_group_id"));
	fw_arena_release(&t.arena);
}

TEST(wire_mixpanel_hash_ids)
{
	struct t t;
	struct fw_err err;
	t_init(&t, iso("2026-01-10T12:00:00Z"));
	const char *body =
		"[{\"event\":\"E\",\"properties\":{\"distinct_id\":\"u\",\"time\":1709287202000,\"token\":\"t1\"}},"
		" {\"event\":\"E\",\"properties\":{\"distinct_id\":\"u\",\"time\":1709287202000,\"token\":\"t2\"}},"
		" {\"event\":\"E\",\"properties\":{\"distinct_id\":\"u\",\"time\":1709287202001,\"token\":\"t1\"}},"
		" {\"event\":\"E\",\"properties\":{\"distinct_id\":\"v\",\"time\":1709287202000,\"token\":\"t1\"}},"
		" {\"event\":\"F\",\"properties\":{\"distinct_id\":\"u\",\"time\":1709287202000,\"token\":\"t1\"}},"
		" {\"event\":\"E\",\"properties\":{\"distinct_id\":\"u\",\"time\":1709287202000,\"x\":1}}]";
	CHECK_EQ_INT(fw_wire_mixpanel(&t.b, J(&t, body), "track", &err), 0);
	CHECK_EQ_INT(t.b.n, 6);
	const char *id0 = S(&t, t.b.events[0].message_id);
	CHECK_EQ_INT(strlen(id0), 35);
	CHECK(!strncmp(id0, "mp-", 3));
	CHECK(fw_str_eq(t.b.events[1].message_id, id0)); /* the token is not part of it */
	for (size_t i = 2; i < 6; i++)
		CHECK(!fw_str_eq(t.b.events[i].message_id, id0));
	/* the same payload in another request gets the same id (Mixpanel dedup) */
	struct t t2;
	t_init(&t2, iso("2026-01-11T12:00:00Z"));
	CHECK_EQ_INT(fw_wire_mixpanel(&t2.b, J(&t2, body), "track", &err), 0);
	CHECK(fw_str_eq(t2.b.events[0].message_id, id0));
	fw_arena_release(&t2.arena);
	fw_arena_release(&t.arena);
}

TEST(wire_amplitude_warnings)
{
	struct t t;
	struct fw_err err;
	t_init(&t, iso("2026-01-10T12:00:00Z"));
	const char *body =
		"{\"api_key\":\"amp\",\"events\":["
		"{\"event_type\":\"Ok\",\"user_id\":12345,\"device_id\":\"d1\",\"groups\":{\"org\":[\"o1\",\"o2\"]},"
		" \"user_properties\":{\"$set\":{\"plan\":\"pro\"}}},"
		"{\"user_id\":\"u1\"},"
		"{\"event_type\":\"NoId\"},"
		"{\"event_type\":\"$groupidentify\",\"group_properties\":{\"$set\":{\"plan\":\"pro\"}}},"
		"{\"event_type\":\"$identify\",\"user_id\":\"u1\",\"device_id\":\"d1\","
		" \"user_properties\":{\"$set\":{\"email\":\"x@y\"},\"$setOnce\":{\"first\":1}}},"
		"{\"event_type\":\"$identify\",\"user_id\":\"u1\",\"user_properties\":{\"email\":\"x@y\"}},"
		"{\"event_type\":\"Late\",\"user_id\":\"u1\",\"time\":\"soon\"},"
		"{\"event_type\":\"[Amplitude] Page Viewed\",\"device_id\":\"d1\","
		" \"event_properties\":{\"[Amplitude] Page Title\":\"Home\"}},"
		"{\"event_type\":\"$groupidentify\",\"groups\":{\"org\":\"o1\"},\"group_properties\":{\"$set\":{\"plan\":\"pro\"}}}"
		"]}";
	CHECK_EQ_INT(fw_wire_amplitude(&t.b, J(&t, body), &err), 0);
	CHECK_EQ_INT(t.b.messages, 9);
	CHECK_EQ_INT(t.b.nwarn, 4);
	CHECK(warned(&t.b, 1, "missing_event"));
	CHECK(warned(&t.b, 2, "missing_id"));
	CHECK(warned(&t.b, 3, "missing_group_id"));
	CHECK(warned(&t.b, 6, "invalid_time"));
	CHECK_EQ_INT(t.b.n, 5);
	const struct fw_event *e = &t.b.events[0];
	CHECK_EQ_STR(S(&t, e->user_id), "12345");
	CHECK_EQ_STR(S(&t, e->anonymous_id), "d1");
	CHECK_EQ_STR(S(&t, e->group_id), "o1");
	CHECK_EQ_STR(S(&t, e->traits), "{\"plan\":\"pro\"}");
	CHECK_EQ_INT(e->time_ms, t.b.received_ms);
	CHECK_EQ_INT(e->message_id.len, 32); /* no insert_id: a random id */
	e = &t.b.events[1];
	CHECK_EQ_INT(e->type, FW_MSG_IDENTIFY);
	CHECK_EQ_STR(S(&t, e->user_id), "u1");
	CHECK_EQ_STR(S(&t, e->anonymous_id), "d1");
	CHECK_EQ_STR(S(&t, e->traits), "{\"email\":\"x@y\"}");
	CHECK_EQ_STR(S(&t, e->properties), "{\"$set\":{\"email\":\"x@y\"},\"$setOnce\":{\"first\":1}}");
	CHECK_EQ_STR(S(&t, t.b.events[2].traits), "{\"email\":\"x@y\"}");
	e = &t.b.events[3];
	CHECK_EQ_INT(e->type, FW_MSG_PAGE);
	CHECK_EQ_STR(S(&t, e->event), "$pageview");
	CHECK_EQ_STR(S(&t, e->properties), "{\"name\":\"Home\",\"[Amplitude] Page Title\":\"Home\"}");
	e = &t.b.events[4];
	CHECK_EQ_INT(e->type, FW_MSG_GROUP);
	CHECK_EQ_STR(S(&t, e->group_id), "o1");
	fw_arena_release(&t.arena);
}

/* ---- body shapes, single routes, ids, pages ---- */

TEST(wire_body_shapes)
{
	struct t t;
	struct fw_err err = {0};
	t_init(&t, iso("2026-01-10T12:00:00Z"));
	CHECK_EQ_INT(fw_wire_segment(&t.b, J(&t, "{\"batch\":{}}"), NULL, &err), FW_EINVAL);
	CHECK(strstr(err.msg, "batch") != NULL);
	CHECK_EQ_INT(fw_wire_segment(&t.b, J(&t, "{}"), NULL, &err), FW_EINVAL);
	CHECK_EQ_INT(fw_wire_segment(&t.b, J(&t, "[]"), NULL, &err), FW_EINVAL);
	CHECK_EQ_INT(fw_wire_segment(&t.b, J(&t, "{}"), "launch", &err), FW_EINVAL);
	CHECK_EQ_INT(fw_wire_posthog(&t.b, J(&t, "\"x\""), &err), FW_EINVAL);
	CHECK_EQ_INT(fw_wire_posthog(&t.b, J(&t, "{\"batch\":1}"), &err), FW_EINVAL);
	CHECK_EQ_INT(fw_wire_posthog(&t.b, J(&t, "{\"api_key\":\"k\"}"), &err), FW_EINVAL);
	CHECK_EQ_INT(fw_wire_mixpanel(&t.b, J(&t, "{}"), "people", &err), FW_EINVAL);
	CHECK_EQ_INT(fw_wire_mixpanel(&t.b, J(&t, "1"), "track", &err), FW_EINVAL);
	CHECK_EQ_INT(fw_wire_amplitude(&t.b, J(&t, "{\"api_key\":\"k\"}"), &err), FW_EINVAL);
	CHECK_EQ_INT(fw_wire_amplitude(&t.b, J(&t, "{\"events\":{}}"), &err), FW_EINVAL);
	CHECK_EQ_INT(t.b.n, 0);
	/* empty batches are fine */
	CHECK_EQ_INT(fw_wire_segment(&t.b, J(&t, "{\"batch\":[]}"), NULL, &err), 0);
	CHECK_EQ_INT(fw_wire_amplitude(&t.b, J(&t, "{\"events\":[]}"), &err), 0);
	CHECK_EQ_INT(fw_wire_mixpanel(&t.b, J(&t, "[]"), "engage", &err), 0);
	CHECK_EQ_INT(t.b.n + t.b.nwarn + t.b.messages, 0);
	fw_arena_release(&t.arena);
}

TEST(wire_segment_single_routes)
{
	struct t t;
	struct fw_err err;
	t_init(&t, iso("2026-01-10T12:00:00Z"));
	/* the route's type wins; numbers as ids; context.traits; context.groupId */
	CHECK_EQ_INT(fw_wire_segment(&t.b, J(&t, "{\"writeKey\":\"wk1\",\"userId\":123,\"anonymousId\":\"a\","
						 "\"context\":{\"traits\":{\"plan\":\"pro\"},\"groupId\":\"g1\"}}"),
				     "identify", &err), 0);
	CHECK_EQ_INT(fw_wire_segment(&t.b, J(&t, "{\"type\":\"screen\",\"name\":\"Home\",\"anonymousId\":\"a\","
						 "\"properties\":{\"name\":\"old\",\"x\":1},\"channel\":\"mobile\"}"),
				     "screen", &err), 0);
	CHECK_EQ_INT(fw_wire_segment(&t.b, J(&t, "{\"type\":\"page\",\"userId\":\"u\",\"properties\":{\"path\":\"/\"}}"),
				     "page", &err), 0);
	CHECK_EQ_INT(fw_wire_segment(&t.b, J(&t, "{\"userId\":\"u\",\"groupId\":42,\"traits\":{\"plan\":\"pro\",\"mrr\":10}}"),
				     "group", &err), 0);
	CHECK_EQ_INT(t.b.n, 4);
	CHECK_EQ_INT(t.b.nwarn, 0);
	CHECK_EQ_INT(t.b.messages, 4);
	CHECK_EQ_STR(S(&t, t.b.key), "wk1");
	const struct fw_event *e = &t.b.events[0];
	CHECK_EQ_INT(e->type, FW_MSG_IDENTIFY);
	CHECK_EQ_INT(e->source, FW_SRC_SEGMENT);
	CHECK_EQ_STR(S(&t, e->user_id), "123");
	CHECK_EQ_STR(S(&t, e->anonymous_id), "a"); /* identify with both ids: a join */
	CHECK_EQ_STR(S(&t, e->traits), "{\"plan\":\"pro\"}");
	CHECK_EQ_STR(S(&t, e->group_id), "g1");
	CHECK_EQ_INT(e->message_id.len, 32);
	CHECK(!fw_str_eq(e->message_id, S(&t, t.b.events[1].message_id)));
	e = &t.b.events[1];
	CHECK_EQ_INT(e->type, FW_MSG_SCREEN);
	CHECK_EQ_INT(e->source, FW_SRC_RUDDER);
	CHECK_EQ_STR(S(&t, e->event), "$screen");
	CHECK_EQ_STR(S(&t, e->properties), "{\"name\":\"Home\",\"x\":1}");
	e = &t.b.events[2]; /* a page without a name keeps its properties */
	CHECK_EQ_STR(S(&t, e->event), "$pageview");
	CHECK_EQ_STR(S(&t, e->properties), "{\"path\":\"/\"}");
	e = &t.b.events[3];
	CHECK_EQ_INT(e->type, FW_MSG_GROUP);
	CHECK_EQ_STR(S(&t, e->group_id), "42");
	CHECK_EQ_STR(S(&t, e->traits), "{\"plan\":\"pro\",\"mrr\":10}");
	fw_arena_release(&t.arena);
}

TEST(wire_helpers)
{
	struct t t;
	t_init(&t, 0);
	/* growth keeps earlier records */
	for (int i = 0; i < 1000; i++)
		fw_wire_push(&t.b)->time_ms = i;
	int ok = 1;
	for (int i = 0; i < 1000; i++)
		ok &= t.b.events[i].time_ms == i;
	CHECK(ok);
	for (int i = 0; i < 100; i++)
		fw_wire_warn(&t.b, (uint32_t)i, "x", (struct fw_str){"s", 1}, "w%d", i);
	CHECK_EQ_INT(t.b.nwarn, 100);
	CHECK_EQ_STR(t.b.warnings[99].message, "w99");

	const char *keys[] = {"a", "c"};
	CHECK_EQ_STR(S(&t, fw_wire_obj_without(&t.b, J(&t, "{\"a\":1,\"b\":\"x\\\"y\",\"c\":[1]}"), keys, 2)),
		     "{\"b\":\"x\\\"y\"}");
	CHECK_EQ_STR(S(&t, fw_wire_obj_without(&t.b, J(&t, "{\"a\":1}"), keys, 2)), "{}");
	CHECK_EQ_STR(S(&t, fw_wire_obj_without(&t.b, J(&t, "{ \"b\": 1 }"), keys, 2)), "{ \"b\": 1 }");
	CHECK_EQ_INT(fw_wire_obj_without(&t.b, J(&t, "[1]"), keys, 2).len, 0);
	CHECK_EQ_STR(S(&t, fw_wire_page_props(&t.b, NULL, J(&t, "\"P\""), NULL)), "{\"name\":\"P\"}");
	CHECK_EQ_STR(S(&t, fw_wire_page_props(&t.b, J(&t, "{\"category\":\"x\"}"), NULL, J(&t, "\"C\""))),
		     "{\"category\":\"C\"}");
	CHECK_EQ_STR(S(&t, fw_wire_group_id(J(&t, "{\"w\":\"ws\"}"))), "ws");
	CHECK_EQ_STR(S(&t, fw_wire_group_id(J(&t, "{\"w\":[7]}"))), "7");
	CHECK_EQ_INT(fw_wire_group_id(J(&t, "{}")).len, 0);
	CHECK_EQ_INT(fw_wire_id(J(&t, "true")).len, 0);
	fw_arena_release(&t.arena);
}
