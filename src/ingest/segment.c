/*
 * segment.c — Segment and RudderStack messages (the Segment spec) → records.
 *
 * Bodies: /v1/batch is {"batch":[msg…], "writeKey", "sentAt", "context"};
 * /v1/track, /v1/identify, … carry one message whose type is the route's.
 * RudderStack uses the same schema; it is told apart per message (it sends
 * "channel", and its Node library is called "analytics-node").
 *
 * Time: `timestamp` as given (the caller chose it); else `originalTimestamp`
 * (the client's clock at the call) corrected for skew with `sentAt` (the
 * message's own, as Rudder sends, else the batch's); else the receive time.
 */
#include "flywheel/wire.h"

#include <strings.h>

static const struct {
	const char *name;
	uint8_t type;
} types[] = {
	{"track", FW_MSG_TRACK},       {"page", FW_MSG_PAGE},   {"screen", FW_MSG_SCREEN},
	{"identify", FW_MSG_IDENTIFY}, {"group", FW_MSG_GROUP}, {"alias", FW_MSG_ALIAS},
};

static int type_of(struct fw_str s)
{
	for (size_t i = 0; i < FW_ARRAY_LEN(types); i++)
		if (s.len == strlen(types[i].name) && strncasecmp(s.p, types[i].name, s.len) == 0)
			return types[i].type;
	return 0;
}

static int contains_rudder(struct fw_str s)
{
	for (uint32_t i = 0; i + 6 <= s.len; i++)
		if (strncasecmp(s.p + i, "rudder", 6) == 0)
			return 1;
	return 0;
}

/* Best effort: the body cannot say which SDK sent it (both post to /v1/batch). */
static int source_of(const struct fw_json *m, const struct fw_json *ctx)
{
	if (fw_json_get(m, "channel"))
		return FW_SRC_RUDDER;
	struct fw_str lib = fw_json_get_str(fw_json_get_obj(ctx, "library"), "name");
	if (fw_str_eq(lib, "analytics-node") || contains_rudder(lib))
		return FW_SRC_RUDDER;
	return FW_SRC_SEGMENT;
}

static void take_key(struct fw_wire_batch *b, const struct fw_json *obj)
{
	struct fw_str k = fw_json_get_str(obj, "writeKey");
	if (!b->key.len && k.len)
		b->key = k;
}

static int message_time(struct fw_wire_batch *b, uint32_t index, const struct fw_json *m,
			const struct fw_json *batch_sent, int64_t *ms)
{
	const struct fw_json *ts = fw_json_get(m, "timestamp");
	if (ts && ts->type != FW_JSON_NULL)
		return fw_wire_event_time(b, index, m, ts, 0, ms);
	const struct fw_json *orig = fw_json_get(m, "originalTimestamp");
	const struct fw_json *sent = fw_json_get(m, "sentAt");
	int64_t skew = fw_wire_skew(b, sent ? sent : batch_sent);
	return fw_wire_event_time(b, index, m, orig, skew, ms);
}

static void map_message(struct fw_wire_batch *b, uint32_t index, const struct fw_json *m,
			const char *route_type, const struct fw_json *batch_sent,
			const struct fw_json *batch_ctx)
{
	if (fw_wire_begin(b, index, m))
		return;
	take_key(b, m);
	const struct fw_json *tv = fw_json_get(m, "type");
	struct fw_str tname = route_type ? fw_str_c(route_type) : fw_json_get_str(m, "type");
	int type = type_of(tname);
	if (!type) {
		if (!tv)
			fw_wire_warn(b, index, "invalid_type", m->raw,
				     "message has no \"type\" (track, page, screen, identify, group or alias)");
		else
			fw_wire_warn(b, index, "invalid_type", m->raw,
				     "type %.*s is not one of track, page, screen, identify, group, alias",
				     (int)(tv->raw.len > 40 ? 40 : tv->raw.len), tv->raw.p);
		return;
	}

	const struct fw_json *ctx = fw_json_get_obj(m, "context");
	if (!ctx)
		ctx = batch_ctx; /* a batch-level context applies to messages without one */
	const struct fw_json *props = fw_json_get(m, "properties");
	const struct fw_json *traits = fw_json_get_obj(m, "traits");
	struct fw_event e = {
		.type = (uint8_t)type,
		.source = (uint8_t)source_of(m, ctx),
		.received_ms = b->received_ms,
		.user_id = fw_wire_id(fw_json_get(m, "userId")),
		.anonymous_id = fw_wire_id(fw_json_get(m, "anonymousId")),
		.group_id = fw_wire_id(fw_json_get(ctx, "groupId")),
		.properties = fw_wire_obj(props),
		.context = fw_wire_obj(ctx),
	};

	if (!e.user_id.len && !e.anonymous_id.len) {
		fw_wire_warn(b, index, "missing_id", m->raw,
			     "%.*s message has neither userId nor anonymousId", (int)tname.len, tname.p);
		return;
	}
	switch (type) {
	case FW_MSG_TRACK: {
		struct fw_str name = fw_json_get_str(m, "event");
		if (!name.len) {
			fw_wire_warn(b, index, "missing_event", m->raw,
				     "track message has no \"event\" name");
			return;
		}
		e.event = name;
		break;
	}
	case FW_MSG_PAGE:
	case FW_MSG_SCREEN:
		e.event = type == FW_MSG_PAGE ? FW_STR_LIT("$pageview") : FW_STR_LIT("$screen");
		e.properties = fw_wire_page_props(b, props, fw_json_get(m, "name"),
						  fw_json_get(m, "category"));
		break;
	case FW_MSG_IDENTIFY:
		e.traits = traits ? traits->raw : fw_wire_obj(fw_json_get(ctx, "traits"));
		break;
	case FW_MSG_GROUP:
		e.group_id = fw_wire_id(fw_json_get(m, "groupId"));
		if (!e.group_id.len) {
			fw_wire_warn(b, index, "missing_group_id", m->raw,
				     "group message has no \"groupId\"");
			return;
		}
		e.traits = fw_wire_obj(traits);
		break;
	case FW_MSG_ALIAS:
		e.previous_id = fw_wire_id(fw_json_get(m, "previousId"));
		if (!e.previous_id.len) {
			fw_wire_warn(b, index, "missing_id", m->raw,
				     "alias message has no \"previousId\" (the id to join into userId)");
			return;
		}
		break;
	}
	if (message_time(b, index, m, batch_sent, &e.time_ms))
		return;
	e.message_id = fw_wire_message_id(b, fw_json_get(m, "messageId"));
	*fw_wire_push(b) = e;
}

int fw_wire_segment(struct fw_wire_batch *b, const struct fw_json *body, const char *type,
		    struct fw_err *err)
{
	if (!body || body->type != FW_JSON_OBJECT)
		return fw_error(err, FW_EINVAL, "the body must be a JSON object");
	take_key(b, body);
	if (type) {
		if (!type_of(fw_str_c(type)))
			return fw_error(err, FW_EINVAL, "unknown Segment call type \"%s\"", type);
		map_message(b, 0, body, type, NULL, NULL);
		return 0;
	}
	const struct fw_json *batch = fw_json_get(body, "batch");
	if (!batch)
		return fw_error(err, FW_EINVAL, "the body has no \"batch\" array of messages");
	if (batch->type != FW_JSON_ARRAY)
		return fw_error(err, FW_EINVAL, "\"batch\" must be an array of messages");
	const struct fw_json *sent = fw_json_get(body, "sentAt");
	const struct fw_json *ctx = fw_json_get_obj(body, "context");
	uint32_t i = 0;
	for (const struct fw_json *m = batch->u.child; m; m = m->next, i++)
		map_message(b, i, m, NULL, sent, ctx);
	return 0;
}
