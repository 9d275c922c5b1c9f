/*
 * event.h — the one internal record every ingest route maps into.
 *
 * A record is either an *event* (track, page, screen: counted by metrics) or a
 * *call* (identify, group, alias: they change people and accounts but are not
 * activity). Pages and screens are stored as events named "$pageview" and
 * "$screen"; the page's name becomes the "name" property.
 *
 * All strings are borrowed (struct fw_str): whoever fills a record owns the
 * bytes (usually the request's arena or the log's read buffer).
 */
#ifndef FLYWHEEL_EVENT_H
#define FLYWHEEL_EVENT_H

#include "flywheel/base.h"

enum fw_msg_type {
	FW_MSG_TRACK = 1,
	FW_MSG_PAGE = 2,
	FW_MSG_SCREEN = 3,
	FW_MSG_IDENTIFY = 4,
	FW_MSG_GROUP = 5,
	FW_MSG_ALIAS = 6,
};

enum fw_source {
	FW_SRC_SEGMENT = 1,
	FW_SRC_RUDDER = 2,
	FW_SRC_POSTHOG = 3,
	FW_SRC_MIXPANEL = 4,
	FW_SRC_AMPLITUDE = 5,
	FW_SRC_IMPORT = 6,
	FW_SRC_INTERNAL = 7, /* emitted by Flywheel itself */
};

struct fw_event {
	int64_t time_ms;     /* event time, UTC epoch ms (after skew correction) */
	int64_t received_ms; /* when the server received it */
	uint8_t type;        /* enum fw_msg_type */
	uint8_t source;      /* enum fw_source */
	struct fw_str message_id;   /* dedup key; never empty once ingested */
	struct fw_str event;        /* event name (track); "$pageview"/"$screen" */
	struct fw_str user_id;      /* known user id, may be empty */
	struct fw_str anonymous_id; /* anonymous/device id, may be empty */
	struct fw_str group_id;     /* the account this record names, may be empty */
	struct fw_str previous_id;  /* alias: the id joined into user_id */
	struct fw_str properties;   /* JSON object text, or empty */
	struct fw_str traits;       /* identify: person traits; group: account traits (JSON object) */
	struct fw_str context;      /* JSON object text, or empty */
};

static inline int fw_event_is_activity(const struct fw_event *e)
{
	return e->type == FW_MSG_TRACK || e->type == FW_MSG_PAGE || e->type == FW_MSG_SCREEN;
}

/* The id the record is attributed to: user id if any, else anonymous id. */
static inline struct fw_str fw_event_distinct_id(const struct fw_event *e)
{
	return e->user_id.len ? e->user_id : e->anonymous_id;
}

const char *fw_msg_type_name(int type);   /* "track", "identify", … */
const char *fw_source_name(int source);   /* "segment", "posthog", … */

/* Serialize a record (the payload of a log record; format in src/store/log.c). */
void fw_event_encode(struct fw_buf *b, const struct fw_event *e);
/* Decode a payload; strings point into [p, p+n). Returns 0 or FW_ECORRUPT. */
int fw_event_decode(const void *p, size_t n, struct fw_event *e);

#endif
