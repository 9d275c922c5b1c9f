/*
 * score.h — PQL scores, routes, triggers and account signals (at risk,
 * expansion), kept live (src/rules/score.c; the rules are docs/scoring.md).
 *
 * A scorer evaluates every person and account from their events: the query
 * snapshot's events (struct fw_dataset, rebuilt now and then) plus the
 * records stored after it (the overlay, fed record by record as they become
 * durable and applied to people and accounts). Feeding marks the people and
 * accounts a record touches; fw_scorer_update re-evaluates only those, so
 * a new event moves its person's and account's score without rescoring
 * anyone else. fw_scorer_rebase evaluates everyone on a new snapshot (a
 * full rescore: at start, after a config change, and every
 * scoring.rescore_interval_seconds so that windows and decay move on).
 *
 * Every unit keeps the result last written to rules.db ("saved"); an update
 * lists the units whose score, route, triggers or signals now differ from
 * it (fw_scorer_changes), the caller writes them with their webhooks in one
 * transaction (fw_leads_write) and then calls fw_scorer_saved.
 *
 * Thread-safety: one thread feeds and updates; readers (the API) call the
 * *_json functions, which take the scorer's lock.
 */
#ifndef FLYWHEEL_SCORE_H
#define FLYWHEEL_SCORE_H

#include "flywheel/config.h"
#include "flywheel/dataset.h"
#include "flywheel/event.h"
#include "flywheel/meta.h"
#include "flywheel/metrics.h"

enum fw_lead_unit { FW_LEAD_PERSON = 0, FW_LEAD_ACCOUNT = 1 };
extern const char *const fw_lead_unit_names[2]; /* "person", "account" */

/* Bits of a unit's flags. */
#define FW_LEAD_ACTIVATED 1u
#define FW_LEAD_AT_RISK 2u
#define FW_LEAD_EXPANSION 4u

/* One unit's result. */
struct fw_lead_state {
	int32_t score;
	uint8_t route;    /* enum fw_lead_route */
	uint8_t triggers; /* bit t = enum fw_trigger t fired */
	uint8_t flags;    /* FW_LEAD_* */
	uint8_t exists;   /* 0: never saved */
};

/* A unit whose result differs from the saved one. Strings live until the
 * next fw_scorer_update. */
struct fw_lead_change {
	enum fw_lead_unit unit;
	struct fw_str key;
	struct fw_lead_state old, now;
	const char *reasons;   /* JSON array: [{"rule":..,"points":..}, ...] */
	const char *cause;     /* why the route is what it is, for people */
	const char *signals;   /* JSON object with the numbers behind at-risk / expansion, or NULL */
	const char *summary;   /* one line for chat destinations */
};

/* ["active_people", ...]: the triggers of a FW_LEAD_* triggers mask. */
void fw_lead_triggers_json(struct fw_buf *b, unsigned triggers);

struct fw_scorer;

struct fw_scorer *fw_scorer_new(const struct fw_config *cfg, struct fw_meta *m);
void fw_scorer_free(struct fw_scorer *sc);

/* Remember what rules.db holds for a unit (at start, before the first rebase). */
void fw_scorer_load_saved(struct fw_scorer *sc, enum fw_lead_unit unit, struct fw_str key,
			  const struct fw_lead_state *saved);

/* Evaluate everyone on snapshot d (with its PLG facts for plans), at `now`.
 * The scorer keeps d until the next rebase (the caller keeps it alive);
 * records from d->seq on must be fed again (fw_scorer_next_seq). */
int fw_scorer_rebase(struct fw_scorer *sc, struct fw_dataset *d, const struct fw_plg *plg,
		     int64_t now, struct fw_err *err);
/* 1 once the first rebase is done (scores exist). */
int fw_scorer_ready(struct fw_scorer *sc);
/* The next record seq the scorer expects. */
uint64_t fw_scorer_next_seq(const struct fw_scorer *sc);
/* Events fed since the last rebase. */
uint64_t fw_scorer_overlay_size(const struct fw_scorer *sc);
/* Feed one stored record (seq = next seq; people and accounts applied). */
void fw_scorer_feed(struct fw_scorer *sc, uint64_t seq, const struct fw_event *e);
/* Re-evaluate what was fed since the last update, at `now`. */
void fw_scorer_update(struct fw_scorer *sc, int64_t now);
/* The units that differ from their saved result (valid until the next
 * update, rebase or fw_scorer_saved). */
size_t fw_scorer_changes(struct fw_scorer *sc, const struct fw_lead_change **out);
/* The changes listed were written: they are the saved results now. */
void fw_scorer_saved(struct fw_scorer *sc);

/* ---- reports (src/rules/score_report.c), JSON for the API and CLI ---- */

struct fw_lead_query {
	enum fw_lead_unit unit;
	int route;       /* -1 = any */
	int min_score;
	size_t limit, offset;
};
/* {"unit":..,"as_of":..,"total":N,"leads":[{key, score, route, triggers, activated, reasons}]}
 * ordered by route (sales first), then score, then key. */
void fw_scorer_leads_json(struct fw_scorer *sc, const struct fw_lead_query *q, struct fw_buf *out);
/* One unit's breakdown: every rule with its points, value and the events
 * behind it; triggers with their evidence; members (accounts). FW_ENOTFOUND
 * if the scorer has no such unit. */
int fw_scorer_unit_json(struct fw_scorer *sc, enum fw_lead_unit unit, struct fw_str key,
			struct fw_buf *out);
/* {"accounts":[...]} of the accounts at risk or with an expansion signal. */
void fw_scorer_signals_json(struct fw_scorer *sc, unsigned flag, struct fw_buf *out);

#endif
