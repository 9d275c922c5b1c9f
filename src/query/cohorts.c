/* cohorts.c — placeholder until retention, stickiness, lifecycle and trends land. */
#include "flywheel/query.h"

#define PENDING(fn, what)                                                                  \
	int fn(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,             \
	       struct fw_err *err)                                                          \
	{                                                                                   \
		(void)q, (void)req, (void)out;                                              \
		return fw_error(err, FW_EINVAL, "kind: " what " is not available yet");     \
	}
PENDING(fw_q_retention, "retention")
PENDING(fw_q_stickiness, "stickiness")
PENDING(fw_q_lifecycle, "lifecycle")
PENDING(fw_q_trends, "trends")
