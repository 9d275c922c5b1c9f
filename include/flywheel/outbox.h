/*
 * outbox.h — webhooks: the outbox in rules.db and the delivery worker.
 *
 * A change that should be told to the outside world (a lead's route changed,
 * a trigger fired, an account is at risk ...) is queued with fw_outbox_add_tx
 * inside the rules.db transaction that records the change, one row per
 * destination whose `events` list takes that type. The delivery worker
 * (src/net/webhook.c) posts each row, signed as Standard Webhooks do, until
 * the destination answers 2xx; failures are retried on a growing schedule
 * (config `webhooks.retry_schedule_seconds`, honouring Retry-After) for
 * `webhooks.give_up_after_hours`, then the row is dead-lettered, where
 * fw_outbox_replay can send it again. Delivery is at least once: a row is
 * marked delivered only after a 2xx, so a crash mid-delivery sends it again
 * with the same webhook-id, by which receivers drop repeats.
 *
 * Payload (the body of every generic JSON delivery):
 *   {"type": TYPE, "timestamp": "2026-11-25T10:00:00.000Z", "data": DATA}
 * DATA is the producer's JSON object; its "summary" string, when present, is
 * the text of the Slack format.
 */
#ifndef FLYWHEEL_OUTBOX_H
#define FLYWHEEL_OUTBOX_H

#include "flywheel/base.h"
#include "flywheel/config.h"
#include "flywheel/rulesdb.h"

/* Event types Flywheel sends. */
#define FW_WH_ROUTE_CHANGED "lead.route_changed"
#define FW_WH_TRIGGER_FIRED "lead.trigger_fired"
#define FW_WH_AT_RISK "account.at_risk"
#define FW_WH_EXPANSION "account.expansion"
#define FW_WH_TEST "webhook.test"
#define FW_WH_TRIAL_STARTED "trial.started"
#define FW_WH_TRIAL_ENDING "trial.ending"
#define FW_WH_TRIAL_EXPIRED "trial.expired"
#define FW_WH_TRIAL_CONVERTED "trial.converted"

/* Queue `type` with `data` (a JSON object) for every destination of `cfg`
 * whose events take it (or only for `only_destination`, when not NULL).
 * Call between fw_rulesdb_begin and fw_rulesdb_commit. *queued (may be
 * NULL) gets how many rows were added. */
int fw_outbox_add_tx(struct fw_rulesdb *db, const struct fw_config *cfg, const char *type,
		     struct fw_str data, const char *only_destination, int64_t now_ms,
		     size_t *queued, struct fw_err *err);

/* The delivery worker: started by the server (fw_server_open with
 * run_rules), stopped and joined by fw_webhooks_stop. fw_webhooks_kick
 * wakes it after a commit that queued rows. */
struct fw_webhook_worker;
int fw_webhooks_start(struct fw_rulesdb *db, const struct fw_config *cfg,
		      struct fw_webhook_worker **out, struct fw_err *err);
void fw_webhooks_kick(struct fw_webhook_worker *w);
void fw_webhooks_stop(struct fw_webhook_worker *w);

#endif
