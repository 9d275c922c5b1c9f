/*
 * event.c — the byte layout of one record's payload inside a log record.
 *
 *   offset size  field
 *   0      1     version (1)
 *   1      1     type    (enum fw_msg_type)
 *   2      1     source  (enum fw_source)
 *   3      1     reserved, 0
 *   4      8     time_ms      int64 little-endian
 *   12     8     received_ms  int64 little-endian
 *   20     …     nine strings, each a LEB128 varint length then the bytes:
 *                message_id, event, user_id, anonymous_id, group_id,
 *                previous_id, properties, traits, context
 *
 * The JSON strings (properties, traits, context) are stored as received
 * (compact or not), always a JSON object or empty.
 */
#include "flywheel/event.h"

static const char *const type_names[] = {"?", "track", "page", "screen", "identify", "group", "alias"};
static const char *const source_names[] = {"?", "segment", "rudderstack", "posthog", "mixpanel",
					   "amplitude", "import", "flywheel"};

const char *fw_msg_type_name(int type)
{
	return type > 0 && type < (int)FW_ARRAY_LEN(type_names) ? type_names[type] : "?";
}

const char *fw_source_name(int source)
{
	return source > 0 && source < (int)FW_ARRAY_LEN(source_names) ? source_names[source] : "?";
}

static void put64(struct fw_buf *b, int64_t v)
{
	uint8_t x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)((uint64_t)v >> (8 * i));
	fw_buf_add(b, x, 8);
}

static int64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return (int64_t)v;
}

static void put_str(struct fw_buf *b, struct fw_str s)
{
	fw_buf_add_varint(b, s.len);
	fw_buf_add(b, s.p, s.len);
}

void fw_event_encode(struct fw_buf *b, const struct fw_event *e)
{
	uint8_t head[4] = {1, e->type, e->source, 0};
	fw_buf_add(b, head, 4);
	put64(b, e->time_ms);
	put64(b, e->received_ms);
	put_str(b, e->message_id);
	put_str(b, e->event);
	put_str(b, e->user_id);
	put_str(b, e->anonymous_id);
	put_str(b, e->group_id);
	put_str(b, e->previous_id);
	put_str(b, e->properties);
	put_str(b, e->traits);
	put_str(b, e->context);
}

int fw_event_decode(const void *data, size_t n, struct fw_event *e)
{
	const uint8_t *p = data, *end = p + n;
	if (n < 20 || p[0] != 1)
		return FW_ECORRUPT;
	memset(e, 0, sizeof *e);
	e->type = p[1];
	e->source = p[2];
	e->time_ms = get64(p + 4);
	e->received_ms = get64(p + 12);
	p += 20;
	struct fw_str *fields[] = {&e->message_id, &e->event,      &e->user_id,
				   &e->anonymous_id, &e->group_id, &e->previous_id,
				   &e->properties, &e->traits,     &e->context};
	for (size_t i = 0; i < FW_ARRAY_LEN(fields); i++) {
		uint64_t len;
		if (fw_get_varint(&p, end, &len) || len > (uint64_t)(end - p))
			return FW_ECORRUPT;
		fields[i]->p = (const char *)p;
		fields[i]->len = (uint32_t)len;
		p += len;
	}
	return p == end ? 0 : FW_ECORRUPT;
}
