/*
 * json.h — a fast JSON parser into an arena-allocated tree, and a compact writer.
 *
 * Why our own: ingest parses every byte every SDK sends (hundreds of MB/s at
 * the target rate). Debian has no yyjson; jansson and json-c allocate per node
 * with malloc and are several times slower (bench/json_bench.c measures it).
 * The tree points into the source text wherever a string has no escapes, so a
 * parse is mostly one pass with no copies. Strings are checked to be valid
 * UTF-8; control characters must be escaped (RFC 8259).
 *
 * Ownership: every node lives in the caller's arena; strings either point into
 * the source text (which must outlive the tree) or into the arena.
 */
#ifndef FLYWHEEL_JSON_H
#define FLYWHEEL_JSON_H

#include "flywheel/base.h"

enum fw_json_type {
	FW_JSON_NULL,
	FW_JSON_FALSE,
	FW_JSON_TRUE,
	FW_JSON_NUMBER,
	FW_JSON_STRING,
	FW_JSON_ARRAY,
	FW_JSON_OBJECT,
};

struct fw_json {
	uint8_t type;
	uint8_t is_int;   /* number written without fraction/exponent that fits int64 */
	uint32_t len;     /* string: bytes; array/object: number of children */
	struct fw_str key; /* when this node is a member of an object */
	struct fw_str raw; /* the value's exact source text (any type) */
	union {
		struct fw_str str;       /* FW_JSON_STRING: decoded bytes */
		double num;              /* FW_JSON_NUMBER */
		struct fw_json *child;   /* ARRAY/OBJECT: first child */
	} u;
	int64_t i;                   /* FW_JSON_NUMBER when is_int */
	struct fw_json *next;        /* next sibling */
};

struct fw_json_error {
	size_t offset; /* byte offset of the problem in the input */
	int line, column; /* 1-based */
	char msg[128];    /* e.g. "expected ',' or '}' after object member" */
};

#define FW_JSON_MAX_DEPTH 64

/* Parse exactly one JSON value (surrounding whitespace allowed). Returns 0, or
 * FW_EINVAL with *err filled. */
int fw_json_parse(struct fw_arena *a, const char *text, size_t len,
		  struct fw_json **out, struct fw_json_error *err);

/* Member of an object by key, or NULL (also NULL if obj is not an object). */
const struct fw_json *fw_json_get(const struct fw_json *obj, const char *key);
/* Convenience typed getters: return NULL / 0 when absent or of another type. */
const struct fw_json *fw_json_get_obj(const struct fw_json *obj, const char *key);
const struct fw_json *fw_json_get_arr(const struct fw_json *obj, const char *key);
struct fw_str fw_json_get_str(const struct fw_json *obj, const char *key);

/* Writer: append JSON to a buffer. */
void fw_json_write_str(struct fw_buf *b, const char *s, size_t n); /* quoted, escaped */
void fw_json_write_value(struct fw_buf *b, const struct fw_json *v); /* compact */
void fw_json_write_double(struct fw_buf *b, double d); /* shortest round-trip; null for NaN/inf */

#endif
