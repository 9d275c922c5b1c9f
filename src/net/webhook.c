/* webhook.c — PLACEHOLDER until the webhook work lands (outbox.h). */
#include "flywheel/outbox.h"

int fw_webhooks_start(struct fw_rulesdb *db, const struct fw_config *cfg, struct fw_webhooks **out,
		      struct fw_err *err)
{
	*out = NULL;
	return 0;
}
void fw_webhooks_kick(struct fw_webhooks *w) {}
void fw_webhooks_stop(struct fw_webhooks *w) {}
