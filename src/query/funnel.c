/* funnel.c — placeholder until the funnel analysis lands (owned by the funnel work). */
#include "flywheel/query.h"

int fw_q_funnel(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out, struct fw_err *err)
{
	(void)q, (void)req, (void)out;
	return fw_error(err, FW_EINVAL, "kind: funnel is not available yet");
}
