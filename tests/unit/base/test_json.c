#include "../test.h"
#include "flywheel/json.h"

static struct fw_json *parse(struct fw_arena *a, const char *s, struct fw_json_error *e)
{
	struct fw_json *v = NULL;
	if (fw_json_parse(a, s, strlen(s), &v, e))
		return NULL;
	return v;
}

static const char *roundtrip(struct fw_arena *a, const char *s)
{
	static struct fw_buf b;
	fw_buf_reset(&b);
	struct fw_json_error e;
	struct fw_json *v = parse(a, s, &e);
	if (!v)
		return "(error)";
	fw_json_write_value(&b, v);
	return b.data;
}

TEST(json_values)
{
	struct fw_arena a = {0};
	struct fw_json_error e;
	struct fw_json *v = parse(&a, " {\"a\": [1, -2.5e3, true, false, null], \"b\":\"x\\ny\\u00e9\\ud83d\\ude00\"} ", &e);
	CHECK(v && v->type == FW_JSON_OBJECT && v->len == 2);
	const struct fw_json *arr = fw_json_get_arr(v, "a");
	CHECK(arr && arr->len == 5);
	CHECK(arr->u.child->is_int && arr->u.child->i == 1);
	CHECK(arr->u.child->next->u.num == -2500.0);
	struct fw_str s = fw_json_get_str(v, "b");
	CHECK(s.len == 9 && memcmp(s.p, "x\ny\xc3\xa9\xf0\x9f\x98\x80", 9) == 0);
	CHECK_EQ_STR(roundtrip(&a, "{ \"k\" : [ 1 , {\"z\":\"\\u0001\"} ] }"), "{\"k\":[1,{\"z\":\"\\u0001\"}]}");
	CHECK_EQ_STR(roundtrip(&a, "1695000000123"), "1695000000123");
	fw_arena_release(&a);
}

TEST(json_errors_have_positions)
{
	struct fw_arena a = {0};
	struct fw_json_error e;
	CHECK(parse(&a, "{\"a\" 1}", &e) == NULL);
	CHECK_EQ_INT(e.offset, 5);
	CHECK_EQ_INT(e.column, 6);
	CHECK_EQ_STR(e.msg, "expected ':' after object key");
	CHECK(parse(&a, "[1,\n 2,\n x]", &e) == NULL);
	CHECK_EQ_INT(e.line, 3);
	CHECK_EQ_INT(e.column, 2);
	const char *bad[] = {"", "{", "[1,]", "{\"a\":1,}", "01", "1.", "\"\x01\"", "\"\xff\"",
			     "\"\\x\"", "tru", "[1] 2", "\"abc", "{\"a\":\"\\u12\"}", "-", "1e"};
	for (size_t i = 0; i < FW_ARRAY_LEN(bad); i++)
		CHECK(parse(&a, bad[i], &e) == NULL);
	char deep[200];
	memset(deep, '[', sizeof deep);
	struct fw_json *v;
	CHECK(fw_json_parse(&a, deep, sizeof deep, &v, &e) != 0);
	CHECK_EQ_STR(e.msg, "nesting too deep");
	fw_arena_release(&a);
}

TEST(json_write_escapes)
{
	struct fw_buf b = {0};
	fw_json_write_str(&b, "a\"b\\c\n\x1f", 7);
	CHECK_EQ_STR(b.data, "\"a\\\"b\\\\c\\n\\u001f\"");
	fw_buf_reset(&b);
	fw_json_write_double(&b, 0.1);
	CHECK_EQ_STR(b.data, "0.1");
	fw_buf_reset(&b);
	fw_json_write_double(&b, 1.0 / 0.0);
	CHECK_EQ_STR(b.data, "null");
	fw_buf_release(&b);
}
