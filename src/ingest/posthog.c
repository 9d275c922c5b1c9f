/*
 * posthog.c — PostHog capture events → records.
 *
 * Bodies: {"api_key","batch":[ev…],"sent_at"} (/batch/, posthog-node), the
 * same with "created_at" and no key (capture v1: the key is in the
 * Authorization header), a single event {"event","distinct_id","properties",
 * "api_key"} (/capture/, /e/) or a bare array of events.
 *
 * PostHog has no user/anonymous split on the wire: every event's distinct_id
 * goes into user_id, and ids are joined only by $identify ($anon_distinct_id
 * into distinct_id) and $create_alias / $merge_dangerously (alias into
 * distinct_id). Special events: $identify and $set → identify (traits =
 * $set), $groupidentify → group, $pageview / $screen → page / screen.
 */
#include "flywheel/wire.h"

/* Never stored: posthog-js repeats the project key in every event's properties. */
static const char *const secret_props[] = {"token", "api_key"};

static void take_key(struct fw_wire_batch *b, const struct fw_json *obj)
{
	if (b->key.len)
		return;
	struct fw_str k = fw_json_get_str(obj, "api_key");
	if (!k.len)
		k = fw_json_get_str(obj, "token");
	b->key = k;
}

static int is_true(const struct fw_json *v)
{
	return v && v->type == FW_JSON_TRUE;
}

/* posthog-node sends "$<group type>_<group key>" as the distinct id of a
 * groupIdentify made without one: that is not a person. */
static int is_group_sentinel(struct fw_str id, struct fw_str gtype, struct fw_str gkey)
{
	return gtype.len && gkey.len && id.len == 2 + gtype.len + gkey.len && id.p[0] == '$' &&
	       memcmp(id.p + 1, gtype.p, gtype.len) == 0 && id.p[1 + gtype.len] == '_' &&
	       memcmp(id.p + 2 + gtype.len, gkey.p, gkey.len) == 0;
}

static int event_time(struct fw_wire_batch *b, uint32_t index, const struct fw_json *m,
		      const struct fw_json *props, const struct fw_json *sent, int64_t *ms)
{
	const struct fw_json *ts = fw_json_get(m, "timestamp");
	if (ts && ts->type != FW_JSON_NULL) {
		int64_t skew = 0;
		if (!is_true(fw_json_get(props, "$ignore_sent_at")) &&
		    !is_true(fw_json_get(fw_json_get_obj(m, "options"), "disable_skew_correction")))
			skew = fw_wire_skew(b, sent);
		return fw_wire_event_time(b, index, m, ts, skew, ms);
	}
	/* older posthog-js: "offset" = milliseconds between the call and the send */
	const struct fw_json *off = fw_json_get(m, "offset");
	if (off && off->type == FW_JSON_NUMBER && off->u.num >= 0 && off->u.num < 1e12) {
		*ms = b->received_ms - (int64_t)off->u.num;
		return 0;
	}
	*ms = b->received_ms;
	return 0;
}

static void map_event(struct fw_wire_batch *b, uint32_t index, const struct fw_json *m,
		      const struct fw_json *sent)
{
	if (fw_wire_begin(b, index, m))
		return;
	const struct fw_json *props = fw_json_get_obj(m, "properties");
	take_key(b, m);
	take_key(b, props); /* posthog-js: properties.token */
	struct fw_str name = fw_json_get_str(m, "event");
	if (!name.len) {
		fw_wire_warn(b, index, "missing_event", m->raw, "event has no \"event\" name");
		return;
	}
	struct fw_str distinct = fw_wire_id(fw_json_get(m, "distinct_id"));
	if (!distinct.len)
		distinct = fw_wire_id(fw_json_get(props, "distinct_id"));
	if (!distinct.len)
		distinct = fw_wire_id(fw_json_get(m, "$distinct_id"));

	struct fw_event e = {
		.type = FW_MSG_TRACK,
		.source = FW_SRC_POSTHOG,
		.received_ms = b->received_ms,
		.event = name,
		.user_id = distinct,
		.group_id = fw_wire_group_id(fw_json_get_obj(props, "$groups")),
		.properties = fw_wire_obj_without(b, props, secret_props, FW_ARRAY_LEN(secret_props)),
	};
	/* $set sits in properties; the old capture API also took it at the top */
	const struct fw_json *set = fw_json_get_obj(props, "$set");
	if (!set)
		set = fw_json_get_obj(m, "$set");
	int need_id = 1;
	if (fw_str_eq(name, "$identify")) {
		e.type = FW_MSG_IDENTIFY;
		e.anonymous_id = fw_wire_id(fw_json_get(props, "$anon_distinct_id"));
		e.traits = fw_wire_obj(set);
	} else if (fw_str_eq(name, "$set")) {
		e.type = FW_MSG_IDENTIFY;
		e.traits = fw_wire_obj(set);
	} else if (fw_str_eq(name, "$create_alias") || fw_str_eq(name, "$merge_dangerously")) {
		e.type = FW_MSG_ALIAS;
		e.previous_id = fw_wire_id(fw_json_get(props, "alias"));
		if (!e.previous_id.len) {
			fw_wire_warn(b, index, "missing_id", m->raw,
				     "%.*s event has no properties.alias (the id to join into distinct_id)",
				     (int)name.len, name.p);
			return;
		}
	} else if (fw_str_eq(name, "$groupidentify")) {
		e.type = FW_MSG_GROUP;
		e.group_id = fw_wire_id(fw_json_get(props, "$group_key"));
		if (!e.group_id.len) {
			fw_wire_warn(b, index, "missing_group_id", m->raw,
				     "$groupidentify event has no properties.$group_key");
			return;
		}
		e.traits = fw_wire_obj(fw_json_get(props, "$group_set"));
		if (is_group_sentinel(distinct, fw_json_get_str(props, "$group_type"), e.group_id))
			e.user_id = (struct fw_str){NULL, 0};
		need_id = 0; /* an account's traits need no person */
	} else if (fw_str_eq(name, "$pageview")) {
		e.type = FW_MSG_PAGE;
	} else if (fw_str_eq(name, "$screen")) {
		e.type = FW_MSG_SCREEN;
		if (!fw_json_get(props, "name"))
			e.properties = fw_wire_page_props(b, props, fw_json_get(props, "$screen_name"), NULL);
	}
	/* $set on an ordinary event updates the person too */
	if (set && !e.traits.len && (e.type == FW_MSG_TRACK || e.type == FW_MSG_PAGE ||
				     e.type == FW_MSG_SCREEN))
		e.traits = fw_wire_obj(set);
	if (need_id && !distinct.len) {
		fw_wire_warn(b, index, "missing_id", m->raw, "%.*s event has no distinct_id",
			     (int)name.len, name.p);
		return;
	}
	if (event_time(b, index, m, props, sent, &e.time_ms))
		return;
	e.message_id = fw_wire_message_id(b, fw_json_get(m, "uuid"));
	*fw_wire_push(b) = e;
}

int fw_wire_posthog(struct fw_wire_batch *b, const struct fw_json *body, struct fw_err *err)
{
	if (!body || (body->type != FW_JSON_OBJECT && body->type != FW_JSON_ARRAY))
		return fw_error(err, FW_EINVAL, "the body must be a JSON object or array of events");
	const struct fw_json *list = body, *sent = NULL;
	if (body->type == FW_JSON_OBJECT) {
		take_key(b, body);
		const struct fw_json *batch = fw_json_get(body, "batch");
		if (!batch) {
			if (!fw_json_get(body, "event"))
				return fw_error(err, FW_EINVAL,
						"the body is neither {\"batch\":[…]} nor an event with \"event\"");
			map_event(b, 0, body, fw_json_get(body, "sent_at"));
			return 0;
		}
		if (batch->type != FW_JSON_ARRAY)
			return fw_error(err, FW_EINVAL, "\"batch\" must be an array of events");
		list = batch;
		sent = fw_json_get(body, "sent_at");
		if (!sent)
			sent = fw_json_get(body, "created_at"); /* capture v1 */
	}
	uint32_t i = 0;
	for (const struct fw_json *m = list->u.child; m; m = m->next, i++)
		map_event(b, i, m, sent);
	return 0;
}
