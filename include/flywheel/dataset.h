/*
 * dataset.h — the in-memory, query-ready view of the event store: every
 * activity event (track, page, screen) resolved to a person through the
 * identities the metadata holds, laid out per person in time order.
 *
 * It is a snapshot: built from the store's records below `seq` (segments and
 * the not-yet-compacted tail alike) and the identities applied at that time.
 * Analyses read it without locks; the server rebuilds it when new records
 * were stored (src/query/query.c). Merges that arrive later are honoured by
 * the next snapshot: events keep the ids they were sent with and are resolved
 * to people when the snapshot is built.
 *
 * Units: an analysis counts people or accounts. fw_dataset_units gives either
 * as the same shape — a unit is a run of events in time order (ties in log
 * order): a person's events, or the events naming an account (group_id).
 */
#ifndef FLYWHEEL_DATASET_H
#define FLYWHEEL_DATASET_H

#include "flywheel/config.h"
#include "flywheel/dict.h"
#include "flywheel/json.h"
#include "flywheel/meta.h"
#include "flywheel/store.h"

#define FW_NO_ACCOUNT UINT32_MAX
#define FW_DATASET_SCAN_TYPES ((1u << FW_MSG_TRACK) | (1u << FW_MSG_PAGE) | (1u << FW_MSG_SCREEN))

/* One activity event. */
struct fw_ev {
	int64_t t;        /* event time, UTC epoch ms */
	uint32_t name;    /* id in dataset->names */
	uint32_t account; /* id in dataset->accounts, or FW_NO_ACCOUNT */
	uint32_t person;  /* person index */
	uint32_t ord;     /* ordinal of the event in log order (0 .. nevents-1) */
};

enum fw_unit { FW_UNIT_PERSON = 0, FW_UNIT_ACCOUNT = 1 };

struct fw_units {
	uint32_t n;             /* people or accounts */
	const uint64_t *off;    /* unit u has events ev[off[u] .. off[u+1]) */
	const struct fw_ev *ev;
};

/* A property of events, materialized on first use: a value id per event
 * (index = the event's ord; 0 = the property is absent or null), the values' text in `values` (id v is values[v - 1]).
 * Strings are their text, numbers and booleans their JSON source text. */
struct fw_column {
	uint32_t *val;
	struct fw_dict values;
	double *num; /* numeric value per value id (NaN if not a number), index v - 1 */
};

struct fw_dataset {
	uint64_t seq;           /* records below this seq are in the snapshot */
	uint64_t nevents;
	struct fw_ev *ev;       /* all events, by person, then time, then ord */
	uint64_t *person_off;   /* npeople + 1 */
	uint32_t npeople;
	struct fw_dict names;   /* event names */
	struct fw_dict accounts;/* group ids */
	struct fw_dict keys;    /* person key (their user id, else first distinct id) by person index */
	/* Per person: first sign-up (`signup_event`), else first identify with a
	 * created_at trait; INT64_MAX if none. */
	int64_t *signup_ms;
	int64_t min_ms, max_ms; /* range of event times (0, 0 when empty) */
	/* Events per (UTC day, name): day_counts[(day - first_day) * names.count + name]
	 * for days first_day .. first_day + ndays - 1 (day numbers since the epoch). */
	uint64_t *day_counts;
	int64_t first_day, ndays;
	/* Metadata person id (decimal) -> slot; meta_person[slot] is the person
	 * index (fw_dataset_person_of_meta). */
	struct fw_dict meta_people;
	uint32_t *meta_person;
	/* Private: lazily built parts (account units, columns). */
	struct fw_dataset_lazy *lazy;
};

/* Build a snapshot of everything the store holds now. */
int fw_dataset_build(struct fw_store *s, struct fw_meta *m, const struct fw_config *c,
		     struct fw_dataset **out, struct fw_err *err);
void fw_dataset_free(struct fw_dataset *d);

/* The events per person (always ready) or per account (built on first call;
 * thread-safe). */
const struct fw_units *fw_dataset_units(struct fw_dataset *d, enum fw_unit u);

/* Key (user id or distinct id / group id) of a person or account. */
struct fw_str fw_dataset_unit_key(const struct fw_dataset *d, enum fw_unit u, uint32_t i);

/* Person index of a metadata person id, or UINT32_MAX if the snapshot has
 * no such person (one created after it was built). */
uint32_t fw_dataset_person_of_meta(const struct fw_dataset *d, int64_t meta_person);

/* Name id of an event name, or UINT32_MAX if no event has it. */
uint32_t fw_dataset_name(const struct fw_dataset *d, const char *name);

/* The column of property `prop` (a top-level key of the event's properties;
 * "$context.KEY" for a key of the context). Built with one pass over the
 * store on first use, then cached (thread-safe). NULL on a store error. */
const struct fw_column *fw_dataset_column(struct fw_dataset *d, const char *prop,
					  struct fw_err *err);

static inline struct fw_str fw_column_text(const struct fw_column *c, uint32_t v)
{
	return v ? fw_dict_str(&c->values, v - 1) : (struct fw_str){0};
}

#endif
