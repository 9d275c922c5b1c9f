/*
 * mixpanel.c — Mixpanel /track, /engage and /groups payloads → records.
 *
 * The caller base64-decodes `data`; each payload is one object or an array.
 *  - track:  {"event", "properties":{"distinct_id","time","$insert_id","token",…}}
 *  - engage: {"$token","$distinct_id","$set":{…},"$time",…other operations}
 *  - groups: {"$token","$group_key","$group_id","$set":{…},"$time"}
 *
 * The Mixpanel SDKs send no dedup id unless the caller sets $insert_id, so
 * records without one get "mp-" + 32 hex digits of XXH3-128 over the fields
 * that make the event (see mp_hash): a resent event gets the same id.
 * The project token is the write key and is never stored in properties.
 */
#include "flywheel/wire.h"

#include <stdio.h>
#include <xxhash.h>

static const char *const group_keys[] = FW_MIXPANEL_GROUP_KEYS;
static const char *const no_token[] = {"token"};
/* engage/groups members already held by the record (or secret) */
static const char *const update_fields[] = {"$token", "$distinct_id", "$group_id", "$set", "$time"};

/* Mixpanel's reserved profile properties under our plain trait names. */
static const struct {
	const char *from, *to;
} reserved[] = {
	{"$email", "email"},   {"$name", "name"},         {"$created", "created_at"},
	{"$phone", "phone"},   {"$first_name", "first_name"}, {"$last_name", "last_name"},
	{"$avatar", "avatar"},
};

static void take_key(struct fw_wire_batch *b, struct fw_str k)
{
	if (!b->key.len && k.len)
		b->key = k;
}

/* "mp-" + hex of XXH3-128 over the parts, each prefixed with its length so
 * that no two different lists of parts hash the same input. */
static struct fw_str mp_hash(struct fw_wire_batch *b, const struct fw_str *parts, size_t n)
{
	struct fw_buf buf = {0};
	for (size_t i = 0; i < n; i++) {
		uint32_t len = parts[i].len;
		fw_buf_add(&buf, &len, sizeof len);
		if (len)
			fw_buf_add(&buf, parts[i].p, len);
	}
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(buf.data ? buf.data : "", buf.len));
	fw_buf_release(&buf);
	static const char hex[] = "0123456789abcdef";
	char *s = fw_arena_alloc(b->arena, 3 + 32 + 1);
	memcpy(s, "mp-", 3);
	for (int i = 0; i < 16; i++) {
		s[3 + 2 * i] = hex[c.digest[i] >> 4];
		s[3 + 2 * i + 1] = hex[c.digest[i] & 15];
	}
	s[35] = 0;
	return (struct fw_str){s, 35};
}

static struct fw_str mp_group_id(const struct fw_json *obj)
{
	for (size_t i = 0; i < FW_ARRAY_LEN(group_keys); i++) {
		struct fw_str id = fw_wire_group_id(fw_json_get(obj, group_keys[i]));
		if (id.len)
			return id;
	}
	return (struct fw_str){NULL, 0};
}

/* mixpanel-browser's anonymous ids are "$device:<uuid>"; any other distinct
 * id is taken as a user id (server SDKs have no anonymous marker). */
static void set_person(struct fw_event *e, struct fw_str distinct)
{
	if (distinct.len > 8 && memcmp(distinct.p, "$device:", 8) == 0)
		e->anonymous_id = distinct;
	else
		e->user_id = distinct;
}

static int reserved_index(struct fw_str key)
{
	for (size_t i = 0; i < FW_ARRAY_LEN(reserved); i++)
		if (fw_str_eq(key, reserved[i].from))
			return (int)i;
	return -1;
}

/* $set with $email/$name/$created… renamed to email/name/created_at (a plain
 * key that is also present wins over the reserved one). */
static struct fw_str mp_traits(struct fw_wire_batch *b, const struct fw_json *set)
{
	if (!set || set->type != FW_JSON_OBJECT)
		return (struct fw_str){NULL, 0};
	const struct fw_json *c;
	for (c = set->u.child; c; c = c->next)
		if (reserved_index(c->key) >= 0)
			break;
	if (!c)
		return set->raw;
	struct fw_buf buf = {0};
	fw_buf_addc(&buf, '{');
	for (c = set->u.child; c; c = c->next) {
		int r = reserved_index(c->key);
		if (r >= 0 && fw_json_get(set, reserved[r].to))
			continue;
		if (buf.len > 1)
			fw_buf_addc(&buf, ',');
		if (r >= 0)
			fw_json_write_str(&buf, reserved[r].to, strlen(reserved[r].to));
		else
			fw_json_write_str(&buf, c->key.p, c->key.len);
		fw_buf_addc(&buf, ':');
		fw_buf_add(&buf, c->raw.p, c->raw.len);
	}
	fw_buf_addc(&buf, '}');
	struct fw_str s = {fw_arena_strndup(b->arena, buf.data, buf.len), (uint32_t)buf.len};
	fw_buf_release(&buf);
	return s;
}

static void map_track(struct fw_wire_batch *b, uint32_t index, const struct fw_json *m)
{
	if (fw_wire_begin(b, index, m))
		return;
	const struct fw_json *props = fw_json_get_obj(m, "properties");
	take_key(b, fw_json_get_str(props, "token"));
	struct fw_str name = fw_json_get_str(m, "event");
	if (!name.len) {
		fw_wire_warn(b, index, "missing_event", m->raw, "event has no \"event\" name");
		return;
	}
	struct fw_str distinct = fw_wire_id(fw_json_get(props, "distinct_id"));
	struct fw_event e = {
		.type = FW_MSG_TRACK,
		.source = FW_SRC_MIXPANEL,
		.received_ms = b->received_ms,
		.event = name,
		.group_id = mp_group_id(props),
		.properties = fw_wire_obj_without(b, props, no_token, FW_ARRAY_LEN(no_token)),
	};
	if (fw_str_eq(name, "$create_alias")) {
		/* alias(distinct_id, alias): the old id distinct_id joins the new id alias */
		e.type = FW_MSG_ALIAS;
		e.user_id = fw_wire_id(fw_json_get(props, "alias"));
		e.previous_id = distinct;
		if (!e.user_id.len || !e.previous_id.len) {
			fw_wire_warn(b, index, "missing_id", m->raw,
				     "$create_alias needs properties.distinct_id and properties.alias");
			return;
		}
	} else if (fw_str_eq(name, "$identify")) {
		/* {"$identified_id": user, "$anon_id": the anonymous id it joins} */
		e.type = FW_MSG_IDENTIFY;
		e.user_id = fw_wire_id(fw_json_get(props, "$identified_id"));
		if (!e.user_id.len)
			e.user_id = distinct;
		e.anonymous_id = fw_wire_id(fw_json_get(props, "$anon_id"));
		if (!e.anonymous_id.len)
			e.anonymous_id = fw_wire_id(fw_json_get(props, "$anon_distinct_id"));
		if (!e.user_id.len) {
			fw_wire_warn(b, index, "missing_id", m->raw,
				     "$identify needs properties.$identified_id or distinct_id");
			return;
		}
	} else {
		if (fw_str_eq(name, "$mp_web_page_view")) { /* mixpanel-browser track_pageview() */
			e.type = FW_MSG_PAGE;
			e.event = FW_STR_LIT("$pageview");
			if (!fw_json_get(props, "name"))
				e.properties = fw_wire_page_props(
					b, props, fw_json_get(props, "current_page_title"), NULL);
		}
		if (!distinct.len) {
			fw_wire_warn(b, index, "missing_id", m->raw,
				     "%.*s event has no properties.distinct_id", (int)name.len, name.p);
			return;
		}
		set_person(&e, distinct);
	}
	const struct fw_json *tv = fw_json_get(props, "time");
	if (fw_wire_event_time(b, index, m, tv, 0, &e.time_ms))
		return;
	e.message_id = fw_wire_id(fw_json_get(props, "$insert_id"));
	if (!e.message_id.len) {
		char t[24];
		int tn = snprintf(t, sizeof t, "%lld", (long long)e.time_ms);
		struct fw_str parts[] = {name, distinct, {t, (uint32_t)tn}, e.properties};
		e.message_id = mp_hash(b, parts, FW_ARRAY_LEN(parts));
	}
	*fw_wire_push(b) = e;
}

/* /engage (kind "engage") and /groups: profile updates. */
static void map_update(struct fw_wire_batch *b, uint32_t index, const struct fw_json *m,
		       int group)
{
	if (fw_wire_begin(b, index, m))
		return;
	take_key(b, fw_json_get_str(m, "$token"));
	const struct fw_json *set = fw_json_get(m, "$set");
	struct fw_event e = {
		.type = group ? FW_MSG_GROUP : FW_MSG_IDENTIFY,
		.source = FW_SRC_MIXPANEL,
		.received_ms = b->received_ms,
		.traits = mp_traits(b, set),
		.properties = fw_wire_obj_without(b, m, update_fields, FW_ARRAY_LEN(update_fields)),
	};
	if (fw_str_eq(e.properties, "{}"))
		e.properties = (struct fw_str){NULL, 0};
	if (group) {
		e.group_id = fw_wire_id(fw_json_get(m, "$group_id"));
		if (!e.group_id.len) {
			fw_wire_warn(b, index, "missing_group_id", m->raw,
				     "group update has no $group_id");
			return;
		}
	} else {
		struct fw_str distinct = fw_wire_id(fw_json_get(m, "$distinct_id"));
		if (!distinct.len) {
			fw_wire_warn(b, index, "missing_id", m->raw,
				     "profile update has no $distinct_id");
			return;
		}
		set_person(&e, distinct);
		e.group_id = mp_group_id(set); /* people.set({workspace_id}) joins the account */
	}
	if (fw_wire_event_time(b, index, m, fw_json_get(m, "$time"), 0, &e.time_ms))
		return;
	struct fw_str raw = m->raw;
	e.message_id = mp_hash(b, &raw, 1);
	*fw_wire_push(b) = e;
}

int fw_wire_mixpanel(struct fw_wire_batch *b, const struct fw_json *body, const char *kind,
		     struct fw_err *err)
{
	int k;
	if (kind && (!strcmp(kind, "track") || !strcmp(kind, "import")))
		k = 0;
	else if (kind && !strcmp(kind, "engage"))
		k = 1;
	else if (kind && !strcmp(kind, "groups"))
		k = 2;
	else
		return fw_error(err, FW_EINVAL, "unknown Mixpanel payload kind \"%s\"",
				kind ? kind : "(none)");
	if (!body || (body->type != FW_JSON_OBJECT && body->type != FW_JSON_ARRAY))
		return fw_error(err, FW_EINVAL, "data must be a JSON object or an array of objects");
	const struct fw_json *m = body->type == FW_JSON_ARRAY ? body->u.child : body;
	for (uint32_t i = 0; m; m = body->type == FW_JSON_ARRAY ? m->next : NULL, i++) {
		if (k == 0)
			map_track(b, i, m);
		else
			map_update(b, i, m, k == 2);
	}
	return 0;
}
