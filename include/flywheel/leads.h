/*
 * leads.h — scores, routes, history and signals in rules.db
 * (src/meta/leads.c has the tables).
 *
 * fw_leads_write records a batch of changes (struct fw_lead_change, from the
 * scorer) and queues their webhooks in the outbox, all in one transaction:
 * lead.route_changed when the route changed, lead.trigger_fired per trigger
 * that newly fired, account.at_risk / account.expansion when a signal
 * started. A crash leaves either all of it or none.
 */
#ifndef FLYWHEEL_LEADS_H
#define FLYWHEEL_LEADS_H

#include "flywheel/outbox.h"
#include "flywheel/rulesdb.h"
#include "flywheel/score.h"

/* *queued gets the number of webhooks queued (kick the worker if > 0). */
int fw_leads_write(struct fw_rulesdb *db, const struct fw_config *cfg,
		   const struct fw_lead_change *ch, size_t n, int64_t now, size_t *queued,
		   struct fw_err *err);
/* Every saved result (for fw_scorer_load_saved at start). */
int fw_leads_load(struct fw_rulesdb *db,
		  void (*fn)(void *ctx, enum fw_lead_unit unit, struct fw_str key,
			     const struct fw_lead_state *s),
		  void *ctx, struct fw_err *err);
/* The newest `limit` history rows of a unit, as a JSON array. */
int fw_leads_history_json(struct fw_rulesdb *db, enum fw_lead_unit unit, struct fw_str key,
			  size_t limit, struct fw_buf *out);

#endif
