/*
 * rules.c — the rules thread of a server (server.h): feeds the scorer the
 * records that are durable and applied to people and accounts, writes what
 * changed to rules.db with its webhooks, and rescores everyone on a fresh
 * snapshot at start, every scoring.rescore_interval_seconds (windows and
 * decay move with time) and when asked.
 *
 * Latency: a new event is fed within one poll (20 ms) of the applier
 * applying it; feeding and re-evaluating its person and account takes
 * microseconds, the rules.db commit (one fsync) most of the rest.
 */
#include "flywheel/leads.h"
#include "flywheel/score.h"
#include "flywheel/server.h"
#include "flywheel/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define OVERLAY_LIMIT 500000 /* rescore once this many events wait in the overlay */

static void on_saved(void *ctx, enum fw_lead_unit unit, struct fw_str key,
		     const struct fw_lead_state *st)
{
	fw_scorer_load_saved(ctx, unit, key, st);
}

static int feed_one(void *ctx, uint64_t seq, const struct fw_event *e)
{
	fw_scorer_feed(ctx, seq, e);
	return 0;
}

/* Write the scorer's changes; on failure they stay pending for next time. */
static int persist(struct fw_server *s, int64_t now, struct fw_err *err)
{
	const struct fw_lead_change *ch;
	size_t n = fw_scorer_changes(s->scorer, &ch), queued = 0;
	if (!n)
		return 0;
	int rc = fw_leads_write(s->rules, &s->cfg, ch, n, now, &queued, err);
	if (!rc) {
		fw_scorer_saved(s->scorer);
		if (queued)
			fw_webhooks_kick(s->webhooks);
	}
	return rc;
}

static int rebase(struct fw_server *s, struct fw_err *err)
{
	int64_t t0 = fw_mono_ns();
	struct fw_snapshot *snap;
	int rc = fw_server_snapshot(s, &snap, err);
	if (rc)
		return rc;
	int64_t t1 = fw_mono_ns();
	rc = fw_scorer_rebase(s->scorer, snap->d, snap->plg, fw_now_ms(), err);
	fw_snapshot_release(s->rules_snap);
	s->rules_snap = snap;
	int64_t t2 = fw_mono_ns();
	s->rebase_seconds = (double)(t2 - t0) / 1e9;
	s->rebase_snapshot_seconds = (double)(t1 - t0) / 1e9;
	s->rebase_score_seconds = (double)(t2 - t1) / 1e9;
	return rc;
}

/* Feed every record from the scorer's next seq up to what is durable and
 * applied. Returns how many were fed. */
static uint64_t feed(struct fw_server *s, struct fw_err *err, int *rc)
{
	struct fw_store_stats st;
	fw_store_stats(s->store, &st);
	uint64_t limit = fw_meta_applied_seq(s->meta);
	if (limit > st.durable_seq)
		limit = st.durable_seq;
	uint64_t from = fw_scorer_next_seq(s->scorer);
	if (from >= limit)
		return 0;
	struct fw_scan q = {.from_seq = from, .to_seq = limit, .durable_only = 1};
	*rc = fw_store_scan(s->store, &q, feed_one, s->scorer, err);
	return limit - from;
}

static void *rules_main(void *arg)
{
	struct fw_server *s = arg;
	int64_t last_rebase = 0;
	int based = 0;
	while (!atomic_load(&s->stop)) {
		struct fw_err err = {0};
		int rc = 0;
		int64_t now = fw_now_ms();
		int wanted = atomic_load(&s->rescore_wanted);
		if (!based || wanted || now - last_rebase >= s->cfg.scoring.rescore_interval_s * 1000LL ||
		    fw_scorer_overlay_size(s->scorer) > OVERLAY_LIMIT) {
			rc = rebase(s, &err);
			if (!rc) {
				based = 1;
				last_rebase = now;
				atomic_fetch_add(&s->rebases, 1);
				if (wanted)
					atomic_fetch_sub(&s->rescore_wanted, wanted);
			}
		}
		uint64_t fed = 0;
		if (!rc && based)
			fed = feed(s, &err, &rc);
		if (!rc && based) {
			fw_scorer_update(s->scorer, fw_now_ms());
			rc = persist(s, fw_now_ms(), &err);
			atomic_store(&s->rules_last_ms, fw_now_ms());
		}
		if (rc) {
			fprintf(stderr, "flywheel: scoring: %s (will retry)\n", err.msg);
			for (int i = 0; i < 50 && !atomic_load(&s->stop); i++)
				usleep(20000);
		} else if (!fed) {
			usleep(20000);
		}
	}
	return NULL;
}

static int open_scorer(struct fw_server *s, struct fw_err *err)
{
	s->scorer = fw_scorer_new(&s->cfg, s->meta);
	return fw_leads_load(s->rules, on_saved, s->scorer, err);
}

int fw_server_rules_start(struct fw_server *s, struct fw_err *err)
{
	int rc = open_scorer(s, err);
	if (rc)
		return rc;
	if (pthread_create(&s->rules_thread, NULL, rules_main, s))
		return fw_error(err, FW_EIO, "cannot start the rules thread");
	s->rules_running = 1;
	return 0;
}

void fw_server_rules_stop(struct fw_server *s)
{
	if (s->rules_running) {
		pthread_join(s->rules_thread, NULL); /* s->stop is set */
		s->rules_running = 0;
	}
	fw_scorer_free(s->scorer);
	s->scorer = NULL;
	fw_snapshot_release(s->rules_snap);
	s->rules_snap = NULL;
}

int fw_server_rescore(struct fw_server *s, int timeout_ms, struct fw_err *err)
{
	if (!s->rules_running) {
		int rc = s->scorer ? 0 : open_scorer(s, err);
		if (!rc)
			rc = rebase(s, err);
		if (!rc)
			fw_scorer_update(s->scorer, fw_now_ms());
		return rc;
	}
	uint64_t before = atomic_load(&s->rebases);
	atomic_fetch_add(&s->rescore_wanted, 1);
	for (int waited = 0; atomic_load(&s->rebases) == before; waited += 10) {
		if (waited >= timeout_ms)
			return fw_error(err, FW_EAGAIN, "the full rescore is still running; try again");
		usleep(10000);
	}
	return 0;
}
