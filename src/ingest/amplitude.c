/*
 * amplitude.c — Amplitude HTTP V2 / batch bodies → records.
 *
 * Body: {"api_key", "events":[ev…], "client_upload_time", "options"}. An
 * event: event_type, user_id, device_id (→ anonymous_id), time (epoch ms),
 * insert_id, event_properties, user_properties, groups, group_properties.
 * $identify → identify (traits = user_properties.$set; user_id + device_id
 * is a join), $groupidentify → group (traits = group_properties.$set), the
 * browser/mobile SDKs' "[Amplitude] Page Viewed" / "[Amplitude] Screen
 * Viewed" → page / screen, anything else → track.
 */
#include "flywheel/wire.h"

/* User/group properties to set: the "$set" operation, or a plain object
 * without operations (the HTTP API treats that as $set). Other operations
 * ($setOnce, $add, $unset…) are not traits. */
static struct fw_str to_set(const struct fw_json *ops)
{
	if (!ops || ops->type != FW_JSON_OBJECT)
		return (struct fw_str){NULL, 0};
	const struct fw_json *set = fw_json_get_obj(ops, "$set");
	if (set)
		return set->raw;
	for (const struct fw_json *c = ops->u.child; c; c = c->next)
		if (c->key.len && c->key.p[0] == '$')
			return (struct fw_str){NULL, 0};
	return ops->u.child ? ops->raw : (struct fw_str){NULL, 0};
}

static void map_event(struct fw_wire_batch *b, uint32_t index, const struct fw_json *m,
		      int64_t skew)
{
	if (fw_wire_begin(b, index, m))
		return;
	struct fw_str name = fw_json_get_str(m, "event_type");
	if (!name.len) {
		fw_wire_warn(b, index, "missing_event", m->raw, "event has no \"event_type\"");
		return;
	}
	const struct fw_json *props = fw_json_get(m, "event_properties");
	const struct fw_json *user_props = fw_json_get(m, "user_properties");
	struct fw_event e = {
		.type = FW_MSG_TRACK,
		.source = FW_SRC_AMPLITUDE,
		.received_ms = b->received_ms,
		.event = name,
		.user_id = fw_wire_id(fw_json_get(m, "user_id")),
		.anonymous_id = fw_wire_id(fw_json_get(m, "device_id")),
		.group_id = fw_wire_group_id(fw_json_get_obj(m, "groups")),
		.properties = fw_wire_obj(props),
		/* on a track: user properties set along with the event */
		.traits = to_set(user_props),
	};
	int need_id = 1;
	if (fw_str_eq(name, "$identify")) {
		e.type = FW_MSG_IDENTIFY;
		e.properties = fw_wire_obj(user_props); /* all operations, $setOnce included */
	} else if (fw_str_eq(name, "$groupidentify")) {
		e.type = FW_MSG_GROUP;
		e.traits = to_set(fw_json_get(m, "group_properties"));
		if (!e.group_id.len) {
			fw_wire_warn(b, index, "missing_group_id", m->raw,
				     "$groupidentify event has no \"groups\" value");
			return;
		}
		need_id = 0;
	} else if (fw_str_eq(name, "[Amplitude] Page Viewed")) {
		e.type = FW_MSG_PAGE;
		e.event = FW_STR_LIT("$pageview");
		if (!fw_json_get(props, "name"))
			e.properties = fw_wire_page_props(
				b, props, fw_json_get(props, "[Amplitude] Page Title"), NULL);
	} else if (fw_str_eq(name, "[Amplitude] Screen Viewed")) {
		e.type = FW_MSG_SCREEN;
		e.event = FW_STR_LIT("$screen");
		if (!fw_json_get(props, "name"))
			e.properties = fw_wire_page_props(
				b, props, fw_json_get(props, "[Amplitude] Screen Name"), NULL);
	}
	if (need_id && !e.user_id.len && !e.anonymous_id.len) {
		fw_wire_warn(b, index, "missing_id", m->raw,
			     "%.*s event has neither user_id nor device_id", (int)name.len, name.p);
		return;
	}
	if (fw_wire_event_time(b, index, m, fw_json_get(m, "time"), skew, &e.time_ms))
		return;
	e.message_id = fw_wire_message_id(b, fw_json_get(m, "insert_id"));
	*fw_wire_push(b) = e;
}

int fw_wire_amplitude(struct fw_wire_batch *b, const struct fw_json *body, struct fw_err *err)
{
	if (!body || body->type != FW_JSON_OBJECT)
		return fw_error(err, FW_EINVAL, "the body must be a JSON object {\"api_key\",\"events\":[…]}");
	struct fw_str key = fw_json_get_str(body, "api_key");
	if (!b->key.len && key.len)
		b->key = key;
	const struct fw_json *events = fw_json_get(body, "events");
	if (!events)
		return fw_error(err, FW_EINVAL, "the body has no \"events\" array");
	if (events->type != FW_JSON_ARRAY)
		return fw_error(err, FW_EINVAL, "\"events\" must be an array of events");
	int64_t skew = fw_wire_skew(b, fw_json_get(body, "client_upload_time"));
	uint32_t i = 0;
	for (const struct fw_json *m = events->u.child; m; m = m->next, i++)
		map_event(b, i, m, skew);
	return 0;
}
