/*
 * qtest.h — what the query unit tests share: events written by hand, a data
 * directory holding them (store, metadata, applied identities), the snapshot
 * and PLG facts built from it, and running a request against it.
 */
#ifndef FW_QTEST_H
#define FW_QTEST_H

#include "flywheel/config.h"
#include "flywheel/dataset.h"
#include "flywheel/metrics.h"
#include "flywheel/query.h"

/* An ISO-8601 time as epoch ms (aborts on a typo). */
int64_t qt_at(const char *iso);

/* One message; `id` NULL gets a message id no other qt_event has. Strings are
 * borrowed: literals, or kept alive until stored. */
struct fw_event qt_event(int type, const char *id, int64_t time_ms, const char *user,
			 const char *anon, const char *name, const char *group, const char *props,
			 const char *traits);

struct qt {
	struct fw_store *s;
	struct fw_meta *m;
	struct fw_config cfg;  /* defaults; a test may change it before qt_load */
	struct fw_dataset *d;
	struct fw_plg *plg;
	struct fw_arena arena; /* requests and answers */
	struct fw_buf out;
};

/* A fresh data directory (store, metadata) and the default config. */
void qt_open(struct qt *f);
/* Store events (in batches), wait until durable, apply people and accounts. */
void qt_store(struct qt *f, const struct fw_event *e, size_t n);
/* (Re)build the snapshot and the PLG facts from what is stored. */
void qt_load(struct qt *f);
void qt_close(struct qt *f);

/* Run a request written with ' for " (readability) at time `now_ms`. Returns
 * the parsed answer, or NULL with *rc and err set. A request that is not
 * JSON, or an answer that is not, is a test failure. */
const struct fw_json *qt_run(struct qt *f, const char *req, int64_t now_ms, int *rc,
			     struct fw_err *err);

#endif
