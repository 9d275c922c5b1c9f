/*
 * wire.c — what every SDK mapper shares: growing a batch, warnings, times
 * (with clock-skew correction), ids, and rewriting small JSON objects.
 *
 * Everything is allocated in the batch's arena; nothing here frees. The
 * mappers themselves are segment.c, posthog.c, mixpanel.c and amplitude.c;
 * docs/ingest.md has the full mapping table.
 */
#include "flywheel/wire.h"
#include "flywheel/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <xxhash.h>

/* Times outside [1970-01-01, 9999-12-31] are treated as invalid: they are
 * always a bug on the client (a zero date, a unit mix-up), never an event. */
#define MAX_TIME_MS 253402300799999LL

/* ---- growing the batch ---- */

struct fw_event *fw_wire_push(struct fw_wire_batch *b)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		struct fw_event *ev = fw_arena_alloc(b->arena, cap * sizeof *ev);
		if (b->n)
			memcpy(ev, b->events, b->n * sizeof *ev);
		b->events = ev;
		b->cap = cap;
	}
	struct fw_event *e = &b->events[b->n++];
	memset(e, 0, sizeof *e);
	e->received_ms = b->received_ms;
	return e;
}

void fw_wire_warn(struct fw_wire_batch *b, uint32_t index, const char *reason,
		  struct fw_str sample, const char *fmt, ...)
{
	if (b->nwarn == b->capwarn) {
		size_t cap = b->capwarn ? b->capwarn * 2 : 8;
		struct fw_wire_warning *w = fw_arena_alloc(b->arena, cap * sizeof *w);
		if (b->nwarn)
			memcpy(w, b->warnings, b->nwarn * sizeof *w);
		b->warnings = w;
		b->capwarn = cap;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *msg = fw_arena_alloc(b->arena, (size_t)(n > 0 ? n : 0) + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)(n > 0 ? n : 0) + 1, fmt, ap);
	va_end(ap);
	b->warnings[b->nwarn++] = (struct fw_wire_warning){index, reason, msg, sample};
}

int fw_wire_begin(struct fw_wire_batch *b, uint32_t index, const struct fw_json *msg)
{
	b->messages++;
	if (b->max_event_bytes && msg->raw.len > b->max_event_bytes) {
		fw_wire_warn(b, index, "too_large", msg->raw,
			     "message is %u bytes, over the limit of %u bytes per event; "
			     "send smaller properties",
			     msg->raw.len, b->max_event_bytes);
		return -1;
	}
	if (msg->type != FW_JSON_OBJECT) {
		fw_wire_warn(b, index, "invalid_message", msg->raw,
			     "message is not a JSON object");
		return -1;
	}
	return 0;
}

/* ---- times ---- */

static int epoch_ms(double v, int64_t *ms)
{
	if (!(v >= 0 && v <= (double)MAX_TIME_MS))
		return -1;
	*ms = fw_time_from_epoch(v);
	return *ms <= MAX_TIME_MS ? 0 : -1;
}

/* "1709287200000" or "1709287200.5": an epoch number written as a string. */
static int epoch_string(struct fw_str s, int64_t *ms)
{
	char tmp[32];
	int dots = 0;
	if (s.len == 0 || s.len >= sizeof tmp)
		return -1;
	for (uint32_t i = 0; i < s.len; i++) {
		if (s.p[i] == '.' && i > 0 && i + 1 < s.len && !dots)
			dots++;
		else if (s.p[i] < '0' || s.p[i] > '9')
			return -1;
	}
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = 0;
	return epoch_ms(strtod(tmp, NULL), ms);
}

int fw_wire_time(const struct fw_json *v, int64_t *ms)
{
	if (!v)
		return -1;
	if (v->type == FW_JSON_NUMBER)
		return epoch_ms(v->u.num, ms);
	if (v->type != FW_JSON_STRING)
		return -1;
	int64_t t;
	if (fw_time_parse_iso(v->u.str.p, v->u.str.len, &t) == 0) {
		if (t < 0 || t > MAX_TIME_MS)
			return -1;
		*ms = t;
		return 0;
	}
	return epoch_string(v->u.str, ms);
}

int64_t fw_wire_skew(const struct fw_wire_batch *b, const struct fw_json *sent)
{
	int64_t sent_ms;
	if (fw_wire_time(sent, &sent_ms))
		return 0;
	int64_t d = b->received_ms - sent_ms;
	return d > FW_SKEW_MIN_MS || d < -FW_SKEW_MIN_MS ? d : 0;
}

int fw_wire_event_time(struct fw_wire_batch *b, uint32_t index, const struct fw_json *msg,
		       const struct fw_json *v, int64_t skew, int64_t *ms)
{
	if (!v || v->type == FW_JSON_NULL) {
		*ms = b->received_ms;
		return 0;
	}
	if (fw_wire_time(v, ms)) {
		int n = v->raw.len > 64 ? 64 : (int)v->raw.len;
		fw_wire_warn(b, index, "invalid_time", msg->raw,
			     "%.*s %.*s is not a time: send ISO-8601 (2024-03-01T10:00:00.000Z) "
			     "or epoch milliseconds",
			     (int)v->key.len, v->key.p, n, v->raw.p);
		return -1;
	}
	*ms += skew;
	return 0;
}

/* ---- ids ---- */

struct fw_str fw_wire_id(const struct fw_json *v)
{
	if (v && v->type == FW_JSON_STRING)
		return v->u.str;
	if (v && v->type == FW_JSON_NUMBER)
		return v->raw; /* the digits as sent: exact even beyond 2^53 */
	return (struct fw_str){NULL, 0};
}

struct fw_str fw_wire_group_id(const struct fw_json *v)
{
	if (v && (v->type == FW_JSON_OBJECT || v->type == FW_JSON_ARRAY))
		v = v->u.child;
	if (v && v->type == FW_JSON_ARRAY) /* {"workspace": ["ws_1", "ws_2"]} */
		v = v->u.child;
	return fw_wire_id(v);
}

static void random_bytes(uint8_t out[16])
{
	if (getrandom(out, 16, 0) == 16)
		return;
	/* No entropy source (should not happen on Linux ≥ 3.17): still unique
	 * within the process and very likely across processes. */
	static _Atomic uint64_t counter;
	uint64_t seed[3] = {(uint64_t)fw_now_ms(), (uint64_t)fw_mono_ns(), counter++};
	XXH128_hash_t h = XXH3_128bits(seed, sizeof seed);
	memcpy(out, &h.low64, 8);
	memcpy(out + 8, &h.high64, 8);
}

struct fw_str fw_wire_message_id(struct fw_wire_batch *b, const struct fw_json *v)
{
	struct fw_str id = fw_wire_id(v);
	if (id.len)
		return id;
	static const char hex[] = "0123456789abcdef";
	uint8_t r[16];
	random_bytes(r);
	char *s = fw_arena_alloc(b->arena, 33);
	for (int i = 0; i < 16; i++) {
		s[2 * i] = hex[r[i] >> 4];
		s[2 * i + 1] = hex[r[i] & 15];
	}
	s[32] = 0;
	return (struct fw_str){s, 32};
}

/* ---- JSON objects ---- */

struct fw_str fw_wire_obj(const struct fw_json *v)
{
	if (v && v->type == FW_JSON_OBJECT)
		return v->raw;
	return (struct fw_str){NULL, 0};
}

static struct fw_str buf_to_arena(struct fw_wire_batch *b, struct fw_buf *buf)
{
	struct fw_str s = {fw_arena_strndup(b->arena, buf->data, buf->len), (uint32_t)buf->len};
	fw_buf_release(buf);
	return s;
}

static int key_in(struct fw_str key, const char *const *keys, size_t nkeys)
{
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i] && fw_str_eq(key, keys[i]))
			return 1;
	return 0;
}

static void write_member(struct fw_buf *buf, const struct fw_json *c)
{
	if (buf->len > 1)
		fw_buf_addc(buf, ',');
	fw_json_write_str(buf, c->key.p, c->key.len);
	fw_buf_addc(buf, ':');
	fw_buf_add(buf, c->raw.p, c->raw.len);
}

struct fw_str fw_wire_obj_without(struct fw_wire_batch *b, const struct fw_json *v,
				  const char *const *keys, size_t nkeys)
{
	if (!v || v->type != FW_JSON_OBJECT)
		return (struct fw_str){NULL, 0};
	const struct fw_json *c;
	for (c = v->u.child; c; c = c->next)
		if (key_in(c->key, keys, nkeys))
			break;
	if (!c)
		return v->raw; /* the common case: nothing to remove, no copy */
	struct fw_buf buf = {0};
	fw_buf_grow(&buf, v->raw.len);
	fw_buf_addc(&buf, '{');
	for (c = v->u.child; c; c = c->next)
		if (!key_in(c->key, keys, nkeys))
			write_member(&buf, c);
	fw_buf_addc(&buf, '}');
	return buf_to_arena(b, &buf);
}

static int is_scalar_name(const struct fw_json *v)
{
	return v && (v->type == FW_JSON_STRING || v->type == FW_JSON_NUMBER);
}

struct fw_str fw_wire_page_props(struct fw_wire_batch *b, const struct fw_json *props,
				 const struct fw_json *name, const struct fw_json *category)
{
	if (!is_scalar_name(name))
		name = NULL;
	if (!is_scalar_name(category))
		category = NULL;
	if (!name && !category)
		return fw_wire_obj(props);
	struct fw_buf buf = {0};
	fw_buf_grow(&buf, (props ? props->raw.len : 0) + 64);
	fw_buf_addc(&buf, '{');
	if (name) {
		fw_buf_adds(&buf, "\"name\":");
		fw_buf_add(&buf, name->raw.p, name->raw.len);
	}
	if (category) {
		if (buf.len > 1)
			fw_buf_addc(&buf, ',');
		fw_buf_adds(&buf, "\"category\":");
		fw_buf_add(&buf, category->raw.p, category->raw.len);
	}
	const char *skip[] = {name ? "name" : NULL, category ? "category" : NULL};
	if (props && props->type == FW_JSON_OBJECT)
		for (const struct fw_json *c = props->u.child; c; c = c->next)
			if (!key_in(c->key, skip, FW_ARRAY_LEN(skip)))
				write_member(&buf, c);
	fw_buf_addc(&buf, '}');
	return buf_to_arena(b, &buf);
}
