/*
 * server.h — one open data directory: the event store, the metadata database,
 * the keys, and the background thread that applies the log to people and
 * accounts. `serve`, `import` and `query` all open one.
 *
 * Data directory layout:
 *   DIR/log/NNNNNNNN.fwlog   the write-ahead event log (src/store/log.c)
 *   DIR/meta.db              SQLite: people, accounts, keys, warnings (src/meta/meta.c)
 *   DIR/rules.db             SQLite: leads, scores, route changes, webhook outbox (rulesdb.h)
 *   DIR/LOCK                 held (flock) by the one process that writes DIR
 */
#ifndef FLYWHEEL_SERVER_H
#define FLYWHEEL_SERVER_H

#include "flywheel/base.h"
#include "flywheel/billing.h"
#include "flywheel/config.h"
#include "flywheel/dataset.h"
#include "flywheel/metrics.h"
#include "flywheel/http.h"
#include "flywheel/meta.h"
#include "flywheel/outbox.h"
#include "flywheel/rulesdb.h"
#include "flywheel/store.h"

#include <pthread.h>
#include <stdatomic.h>

#define FW_MIN_FREE_FROM_CONFIG UINT64_MAX

struct fw_server_options {
	const char *data_dir;
	const char *config_path; /* --config, or NULL for the lookup order of config.h */
	uint64_t min_free_bytes; /* FW_MIN_FREE_FROM_CONFIG: server.min_free_mb of the config */
	int apply_in_background; /* start the people/accounts applier thread */
	int run_rules;           /* serve: keep scores live and deliver webhooks */
	void (*notice)(void *ctx, const char *msg); /* start-up notices (torn tail …) */
	void *notice_ctx;
};

struct fw_server {
	char data_dir[4096];
	struct fw_config cfg;
	struct fw_store *store;
	struct fw_meta *meta;
	char **write_keys, **secret_keys;
	size_t nwrite, nsecret;
	int lock_fd;
	pthread_t applier;
	int applier_running;
	atomic_int stop;
	atomic_ullong requests, events_stored, duplicates, rejected;
	struct fw_rulesdb *rules;     /* DATA/rules.db: leads, history, outbox */
	struct fw_webhook_worker *webhooks; /* the delivery worker (run_rules), or NULL */
	struct fw_scorer *scorer;     /* live scores (run_rules, or built by fw_server_rules_local) */
	pthread_t rules_thread;       /* feeds the scorer (src/net/rules.c) */
	int rules_running;
	atomic_int rescore_wanted;
	atomic_ullong rebases;        /* full rescores done */
	struct fw_snapshot *rules_snap; /* the snapshot the scorer is based on */
	atomic_llong rules_last_ms;   /* wall time of the scorer's last update */
	double rebase_seconds;        /* how long the last full rescore took... */
	double rebase_snapshot_seconds, rebase_score_seconds; /* ...of it: the snapshot, the scoring */
	pthread_mutex_t snap_mu;
	struct fw_snapshot *snap; /* the newest query snapshot, or NULL */
	struct fw_billing *billing;   /* entitlements (run_rules), or NULL */
	pthread_t billing_thread;     /* feeds it (src/net/billing.c) */
	int billing_running;
	double billing_load_seconds;  /* reading the log at start took this long */
};

/* What analyses read: a dataset snapshot and the PLG facts loaded at the same
 * point of the log. Shared by concurrent queries; released by the last one. */
struct fw_snapshot {
	atomic_int refs;
	struct fw_dataset *d;
	struct fw_plg *plg;
	uint64_t applied_seq; /* people/accounts applied up to here when built */
};

/* The current snapshot, rebuilt first if anything was stored (and is durable)
 * since the last one was built: what was acknowledged is visible. */
int fw_server_snapshot(struct fw_server *s, struct fw_snapshot **out, struct fw_err *err);
void fw_snapshot_release(struct fw_snapshot *snap);

/* Open (creating if needed) a data directory for writing. Fails if another
 * process holds it. */
int fw_server_open(const struct fw_server_options *opt, struct fw_server **out, struct fw_err *err);
void fw_server_close(struct fw_server *s);

/* Keys: from FLYWHEEL_WRITE_KEY / FLYWHEEL_SECRET_KEY (comma-separated lists),
 * else keys.write / keys.secret in the config, else the ones stored in the
 * data directory, else a new pair is created and stored. *created is set when
 * a new pair was made (serve prints it). */
int fw_server_load_keys(struct fw_server *s, int *created, struct fw_err *err);
/* 1 if `key` may write (a write or secret key) / read (a secret key). */
int fw_server_can_write(struct fw_server *s, struct fw_str key);
int fw_server_can_read(struct fw_server *s, struct fw_str key);

/* Apply every durable record to people and accounts now (readers call this
 * so that what was acknowledged is visible). */
int fw_server_catch_up(struct fw_server *s, struct fw_err *err);

/* The rules thread (src/net/rules.c): keeps s->scorer live — a full
 * rescore at start and every scoring.rescore_interval_seconds, then every
 * new durable, applied record fed as it comes; changes written to rules.db
 * with their webhooks. Started by fw_server_open with run_rules. */
int fw_server_rules_start(struct fw_server *s, struct fw_err *err);
void fw_server_rules_stop(struct fw_server *s);
/* Ask the rules thread for a full rescore and wait (up to timeout_ms) for
 * it; without the thread, build s->scorer once from the current snapshot
 * (for `flywheel query pqls` on a data directory). */
int fw_server_rescore(struct fw_server *s, int timeout_ms, struct fw_err *err);

/* The billing thread (src/net/billing.c): reads the log into s->billing
 * at start (checks answer 503 until then), then feeds every new durable,
 * applied record, recounts the seats of accounts whose members may have
 * changed, expires trials and queues trial webhooks. Started by
 * fw_server_open with run_rules. */
int fw_server_billing_start(struct fw_server *s, struct fw_err *err);
void fw_server_billing_stop(struct fw_server *s);

/* Route tables: ingest (src/ingest/ingest.c), the read API (src/web/api.c),
 * the web dashboard with GET /api/v1/keys (src/web/dashboard.c), leads and
 * scores (src/web/leads.c), webhook deliveries (src/web/deliveries.c) and
 * the usage export (src/web/export.c).
 * fw_route_tables lists them all, NULL-terminated, for `serve`. */
extern const struct fw_route fw_billing_routes[];
extern const size_t fw_nbilling_routes;
extern const struct fw_route fw_ingest_routes[], fw_api_routes[], fw_dashboard_routes[],
	fw_leads_routes[], fw_delivery_routes[], fw_export_routes[];
extern const size_t fw_ningest_routes, fw_napi_routes, fw_ndashboard_routes, fw_nleads_routes,
	fw_ndelivery_routes, fw_nexport_routes;

#endif
