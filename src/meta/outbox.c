/* outbox.c — PLACEHOLDER until the webhook work lands (outbox.h). */
#include "flywheel/outbox.h"
#include "rulesdb_int.h"

const char fw_outbox_schema[] = "SELECT 1;";

int fw_outbox_add_tx(struct fw_rulesdb *db, const struct fw_config *cfg, const char *type,
		     struct fw_str data, const char *only_destination, int64_t now_ms,
		     size_t *queued, struct fw_err *err)
{
	if (queued)
		*queued = 0;
	return 0;
}
