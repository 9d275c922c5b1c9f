/*
 * billing.c — the billing thread of a server (server.h): keeps the
 * entitlement engine (src/bill/billing.c) fed from the event log.
 *
 * At start it reads the whole log once, asking the store for payloads only
 * of the records billing reads (meter events, `$usage`, plan changes, trial
 * records, group calls' traits); every other record comes with its ids,
 * which is all the seat recount needs. Then, every 20 ms, it feeds what is
 * new, up to what is durable and applied to people and accounts (seats are
 * counted from the metadata), recounts the seats of the accounts touched,
 * expires trials, and queues trial webhooks in rules.db.
 */
#include "flywheel/billing.h"
#include "flywheel/server.h"
#include "flywheel/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int emit(void *ctx, const struct fw_event *ev, size_t n, uint8_t *stored, int durable,
		struct fw_err *err)
{
	struct fw_server *s = ctx;
	uint64_t ticket;
	int rc = fw_store_append(s->store, ev, n, stored, &ticket, err);
	if (!rc && durable)
		rc = fw_store_wait(s->store, ticket, err);
	return rc;
}

static int feed_one(void *ctx, uint64_t seq, const struct fw_event *e)
{
	fw_billing_feed(ctx, seq, e);
	return 0;
}

static void on_account(void *ctx, struct fw_str group, int64_t created_ms, int64_t members,
		       int64_t members_before)
{
	fw_billing_set_created(ctx, group, created_ms);
	fw_billing_set_seats(ctx, group, members);
}

/* The names whose payload billing reads. */
struct names {
	struct fw_str v[FW_MAX_METERS * FW_CONFIG_MAX_LIST + 8];
	size_t n;
};

static void add_name(struct names *ns, const char *name)
{
	for (size_t i = 0; i < ns->n; i++)
		if (fw_str_eq(ns->v[i], name))
			return;
	if (ns->n < FW_ARRAY_LEN(ns->v))
		ns->v[ns->n++] = fw_str_c(name);
}

static void names_of(const struct fw_config *c, struct names *ns)
{
	ns->n = 0;
	add_name(ns, FW_USAGE_EVENT);
	add_name(ns, c->plan_event);
	add_name(ns, FW_TRIAL_EXPIRED_EVENT);
	add_name(ns, FW_TRIAL_CONVERTED_EVENT);
	for (size_t i = 0; i < c->nmeters; i++)
		for (size_t k = 0; k < c->meters[i].events.n; k++)
			add_name(ns, c->meters[i].events.items[k]);
}

/* Feed [from, to). */
static int feed(struct fw_server *s, const struct names *ns, uint64_t to, struct fw_err *err)
{
	uint64_t from = fw_billing_next_seq(s->billing);
	if (from >= to)
		return 0;
	unsigned events = 1u << FW_MSG_TRACK | 1u << FW_MSG_PAGE | 1u << FW_MSG_SCREEN;
	struct fw_scan q = {.from_seq = from,
			    .to_seq = to,
			    .durable_only = 1,
			    .type_mask = events | 1u << FW_MSG_GROUP,
			    .or_with_group = 1,
			    .ids_only_mask = events,
			    .full_names = ns->v,
			    .nfull_names = ns->n,
			    .traits_only = 1};
	int rc = fw_store_scan(s->store, &q, feed_one, s->billing, err);
	if (!rc)
		fw_billing_fed_to(s->billing, to);
	return rc;
}

static uint64_t feed_limit(struct fw_server *s)
{
	struct fw_store_stats st;
	fw_store_stats(s->store, &st);
	uint64_t limit = fw_meta_applied_seq(s->meta);
	return limit < st.durable_seq ? limit : st.durable_seq;
}

/* Seats of the accounts whose members may have changed. */
static int recount(struct fw_server *s, struct fw_arena *a, struct fw_err *err)
{
	struct fw_str *ids;
	size_t n = fw_billing_take_dirty(s->billing, &ids, a);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = fw_meta_accounts_billing(s->meta, ids[i], on_account, INT64_MAX, s->billing, err);
	fw_arena_reset(a);
	return rc;
}

static int tick(struct fw_server *s, struct fw_err *err)
{
	struct fw_trial_note *notes;
	size_t n = 0, queued = 0;
	int64_t now = fw_now_ms();
	int rc = fw_billing_tick(s->billing, now, &notes, &n, err);
	int wrc = fw_trial_notes_write(s->rules, &s->cfg, notes, n, now, &queued,
				       rc ? &(struct fw_err){0} : err);
	free(notes);
	if (queued)
		fw_webhooks_kick(s->webhooks);
	return rc ? rc : wrc;
}

static void *billing_main(void *arg)
{
	struct fw_server *s = arg;
	struct names ns;
	names_of(&s->cfg, &ns);
	struct fw_arena scratch = {0};
	int loaded = 0;
	int64_t t0 = fw_mono_ns(), last_tick = 0;
	while (!atomic_load(&s->stop)) {
		struct fw_err err = {0};
		int rc = 0;
		uint64_t limit = feed_limit(s), before = fw_billing_next_seq(s->billing);
		if (!loaded) {
			/* every account's seats as of `limit` (or later): the records
			 * read up to there need no recount */
			rc = fw_meta_accounts_billing(s->meta, (struct fw_str){0}, on_account,
						      INT64_MAX, s->billing, &err);
			if (!rc)
				rc = feed(s, &ns, limit, &err);
			if (!rc) {
				struct fw_str *ids;
				fw_billing_take_dirty(s->billing, &ids, &scratch);
				fw_arena_reset(&scratch);
				loaded = 1;
			}
		}
		if (!rc)
			rc = feed(s, &ns, limit, &err);
		if (!rc)
			rc = recount(s, &scratch, &err);
		if (!rc && !fw_billing_ready(s->billing)) {
			s->billing_load_seconds = (double)(fw_mono_ns() - t0) / 1e9;
			fw_billing_set_ready(s->billing, 1);
		}
		int64_t now = fw_now_ms();
		if (!rc && now - last_tick >= 1000) {
			rc = tick(s, &err);
			last_tick = now;
		}
		if (rc) {
			fprintf(stderr, "flywheel: billing: %s (will retry)\n", err.msg);
			for (int i = 0; i < 50 && !atomic_load(&s->stop); i++)
				usleep(20000);
		} else if (fw_billing_next_seq(s->billing) == before) {
			usleep(20000);
		}
	}
	fw_arena_release(&scratch);
	return NULL;
}

int fw_server_billing_start(struct fw_server *s, struct fw_err *err)
{
	s->billing = fw_billing_new(&s->cfg, emit, s);
	if (pthread_create(&s->billing_thread, NULL, billing_main, s)) {
		fw_billing_free(s->billing);
		s->billing = NULL;
		return fw_error(err, FW_EIO, "cannot start the billing thread");
	}
	s->billing_running = 1;
	return 0;
}

void fw_server_billing_stop(struct fw_server *s)
{
	if (s->billing_running) {
		pthread_join(s->billing_thread, NULL); /* s->stop is set */
		s->billing_running = 0;
	}
	fw_billing_free(s->billing);
	s->billing = NULL;
}
