/*
 * wire.h — SDK wire formats → internal records (struct fw_event).
 *
 * Each mapper takes the parsed JSON body of one request (already decompressed
 * and, for Mixpanel, base64-decoded) and appends records to a batch. It never
 * touches storage, people or the network. A message that cannot be used is
 * skipped with a warning (index, reason, message) and the rest are kept; only
 * a body whose overall shape is wrong (e.g. `batch` is not an array) fails the
 * whole request with FW_EINVAL.
 *
 * Rules every mapper follows (docs/ingest.md has the full table):
 *  - message_id: messageId / uuid / insert_id / $insert_id; if the SDK sent
 *    none, Mixpanel gets "mp-<hash of event, distinct id, time, properties>",
 *    and others get a fresh random id (such records cannot be deduplicated).
 *  - time: ISO-8601 strings or epoch numbers (< 1e11 = seconds, else ms). When
 *    the body carries a send time (sentAt / sent_at) and it differs from the
 *    receive time by more than FW_SKEW_MIN_MS, the client clock is taken to be
 *    wrong and the difference is added to the event time (skew correction).
 *    Without any time, the receive time.
 *  - pages and screens become events "$pageview" / "$screen" with the page's
 *    name as property "name".
 *  - group_id (the account): Segment `groupId` / `context.groupId`; PostHog
 *    `$groups` (first value) or `$group_key` ($groupidentify); Amplitude
 *    `groups` (first value); Mixpanel the first property named in
 *    FW_MIXPANEL_GROUP_KEYS, or `$group_id` on /groups.
 *  - strings in records are borrowed from the arena or the parsed body.
 */
#ifndef FLYWHEEL_WIRE_H
#define FLYWHEEL_WIRE_H

#include "flywheel/base.h"
#include "flywheel/event.h"
#include "flywheel/json.h"

#define FW_SKEW_MIN_MS (10LL * 60 * 1000)
#define FW_MIXPANEL_GROUP_KEYS {"workspace_id", "account_id", "company_id", "group_id", "organization_id", "org_id"}

struct fw_wire_warning {
	uint32_t index;       /* position of the message in the request */
	const char *reason;   /* stable word: "missing_event", "missing_id", "invalid_time", "too_large", … */
	const char *message;  /* for a person; arena-allocated */
	struct fw_str sample; /* the offending message's raw JSON (may be truncated by the caller) */
};

struct fw_wire_batch {
	struct fw_arena *arena;   /* owns everything the mapper allocates */
	int64_t received_ms;      /* server receive time */
	uint32_t max_event_bytes; /* a message whose raw JSON is longer is skipped ("too_large") */
	struct fw_event *events;
	size_t n, cap;
	struct fw_wire_warning *warnings;
	size_t nwarn, capwarn;
	struct fw_str key;        /* write key found in the body (writeKey, api_key, token, $token) */
	size_t messages;          /* messages seen (stored + skipped) */
};

/* Append helpers (arena-backed growth). */
struct fw_event *fw_wire_push(struct fw_wire_batch *b);
void fw_wire_warn(struct fw_wire_batch *b, uint32_t index, const char *reason,
		  struct fw_str sample, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Segment / RudderStack. `type` is the single-message route's type
 * ("track", "identify", …) or NULL for /v1/batch ({"batch":[…]}). */
int fw_wire_segment(struct fw_wire_batch *b, const struct fw_json *body, const char *type,
		    struct fw_err *err);
/* PostHog: {"api_key","batch":[…]} or a single event object, or an array. */
int fw_wire_posthog(struct fw_wire_batch *b, const struct fw_json *body, struct fw_err *err);
/* Mixpanel: `kind` is "track", "engage" or "groups"; body is the decoded data
 * (an object or an array of objects). */
int fw_wire_mixpanel(struct fw_wire_batch *b, const struct fw_json *body, const char *kind,
		     struct fw_err *err);
/* Amplitude HTTP V2 and batch: {"api_key","events":[…]} */
int fw_wire_amplitude(struct fw_wire_batch *b, const struct fw_json *body, struct fw_err *err);

/* Time from a JSON value (string ISO-8601 or number epoch); 0 ok, -1 absent/invalid. */
int fw_wire_time(const struct fw_json *v, int64_t *ms);

/* ---- Helpers shared by the mappers in src/ingest/ (src/ingest/wire.c) ---- */

/* Count message `index` and check it: warns "too_large" or "invalid_message"
 * (not a JSON object) and returns -1 to skip it; 0 to map it. */
int fw_wire_begin(struct fw_wire_batch *b, uint32_t index, const struct fw_json *msg);
/* An id as text: a string as is, a number as its decimal text; else empty. */
struct fw_str fw_wire_id(const struct fw_json *v);
/* A group id: like fw_wire_id, but an object gives its first member's value
 * and an array its first element (PostHog $groups, Amplitude groups). */
struct fw_str fw_wire_group_id(const struct fw_json *v);
/* The SDK's id (string or number) or, when empty, a fresh random id: 32 hex
 * digits from getrandom() (such records cannot be deduplicated). */
struct fw_str fw_wire_message_id(struct fw_wire_batch *b, const struct fw_json *v);
/* Clock skew to add to event times, from the request's send time `sent`:
 * received − sent when they differ by more than FW_SKEW_MIN_MS, else 0. */
int64_t fw_wire_skew(const struct fw_wire_batch *b, const struct fw_json *sent);
/* Event time of message `index` from `v` plus `skew`; the receive time when v
 * is absent or null. An unusable value warns "invalid_time" and returns -1. */
int fw_wire_event_time(struct fw_wire_batch *b, uint32_t index, const struct fw_json *msg,
		       const struct fw_json *v, int64_t skew, int64_t *ms);
/* Raw text of a JSON object (empty for anything else). */
struct fw_str fw_wire_obj(const struct fw_json *v);
/* Object text without the members named in keys (the raw text when none is
 * there); empty when v is not an object. */
struct fw_str fw_wire_obj_without(struct fw_wire_batch *b, const struct fw_json *v,
				  const char *const *keys, size_t nkeys);
/* Page/screen properties: {"name":name,"category":category, …props} with any
 * "name"/"category" of props replaced; props' raw text when both are absent. */
struct fw_str fw_wire_page_props(struct fw_wire_batch *b, const struct fw_json *props,
				 const struct fw_json *name, const struct fw_json *category);

#endif
