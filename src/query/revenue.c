/* revenue.c — placeholder until revenue and virality land. */
#include "flywheel/query.h"

#define PENDING(fn, what)                                                                  \
	int fn(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,             \
	       struct fw_err *err)                                                          \
	{                                                                                   \
		(void)q, (void)req, (void)out;                                              \
		return fw_error(err, FW_EINVAL, "kind: " what " is not available yet");     \
	}
PENDING(fw_q_revenue, "revenue")
PENDING(fw_q_virality, "virality")
