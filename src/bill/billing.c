/*
 * billing.c — the entitlement engine (billing.h): every account's plan,
 * trial, seats and current-period meters in memory, derived from the event
 * log, and the checks the product makes before a gated action.
 *
 * State per account: the plan (latest change by event time), the trial, the
 * seats the metadata counts, and one `struct mstate` per configured meter
 * holding the current billing period's value. A record counts for a meter
 * only if its time falls in the period the wall clock is in; older periods
 * are the export's business (export.c), which reads the log again.
 *
 * A consuming check reserves its quantity (`pending`) under the account's
 * stripe lock, so two concurrent checks can never both pass a hard limit,
 * then writes its `$usage` record and waits for it to be durable; only then
 * does the quantity move from pending to the value. The record's message id
 * ("fw:use:" + request id) is remembered until the feed passes it, so the
 * engine never counts its own record twice. A request id seen before gets
 * its first answer back from a two-generation table (the last
 * FW_IDEM_KEEP ids); older repeats are caught by the store's deduplication
 * of the message id, which holds for 8 days across restarts.
 */
#include "flywheel/billing.h"
#include "flywheel/dict.h"
#include "flywheel/json.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define STRIPES 64
#define IDEM_KEEP 8192u /* request ids per stripe and generation: 512K to 1M kept */
#define NEWS_MAX_AGE_MS (24LL * 3600 * 1000) /* older trial news sends no webhook */

/* ---- a set of 64-bit hashes (unique meters) ---- */

struct hset {
	uint64_t *slots; /* 0 = empty; a hash of 0 is stored as 1 */
	uint32_t n, mask;
};

static int hset_has(const struct hset *s, uint64_t h)
{
	if (!s->slots)
		return 0;
	h = h ? h : 1;
	for (uint32_t i = (uint32_t)h & s->mask;; i = (i + 1) & s->mask) {
		if (s->slots[i] == h)
			return 1;
		if (!s->slots[i])
			return 0;
	}
}

static void hset_add(struct hset *s, uint64_t h)
{
	h = h ? h : 1;
	if (2 * (s->n + 1) > s->mask + 1 || !s->slots) {
		struct hset g = {.mask = s->slots ? 2 * s->mask + 1 : 15};
		g.slots = fw_xcalloc((size_t)g.mask + 1, sizeof *g.slots);
		for (uint32_t i = 0; s->slots && i <= s->mask; i++)
			if (s->slots[i])
				hset_add(&g, s->slots[i]);
		free(s->slots);
		*s = g;
	}
	uint32_t i = (uint32_t)h & s->mask;
	while (s->slots[i] && s->slots[i] != h)
		i = (i + 1) & s->mask;
	if (!s->slots[i]) {
		s->slots[i] = h;
		s->n++;
	}
}

static void hset_clear(struct hset *s)
{
	free(s->slots);
	*s = (struct hset){0};
}

/* ---- request ids: two generations of hash -> answer ---- */

struct answer {
	uint64_t key; /* hash of the request id; 0 = empty */
	int8_t pending, dead, allowed, reason, consumed; /* dead: forgotten (never recorded) */
	double usage, remaining, overage;
};

struct idem {
	struct answer *slots;
	uint32_t n, mask;
};

static struct answer *idem_find(struct idem *t, uint64_t key)
{
	if (!t->slots)
		return NULL;
	for (uint32_t i = (uint32_t)key & t->mask;; i = (i + 1) & t->mask) {
		if (t->slots[i].key == key)
			return &t->slots[i];
		if (!t->slots[i].key)
			return NULL;
	}
}

static struct answer *idem_add(struct idem *t, uint64_t key)
{
	if (!t->slots || 2 * (t->n + 1) > t->mask + 1) {
		struct idem g = {.mask = t->slots ? 2 * t->mask + 1 : 63};
		g.slots = fw_xcalloc((size_t)g.mask + 1, sizeof *g.slots);
		for (uint32_t k = 0; t->slots && k <= t->mask; k++)
			if (t->slots[k].key)
				*idem_add(&g, t->slots[k].key) = t->slots[k];
		free(t->slots);
		*t = g;
	}
	uint32_t i = (uint32_t)key & t->mask;
	while (t->slots[i].key)
		i = (i + 1) & t->mask;
	t->slots[i] = (struct answer){.key = key};
	t->n++;
	return &t->slots[i];
}

/* ---- accounts ---- */

struct mstate {
	struct fw_bill_period period; /* the period `value` covers */
	double value;            /* count, sum or max; unique: set.n */
	double pending;          /* reserved by checks whose records are not durable yet */
	uint64_t records, denials;
	struct hset set;         /* unique meters */
	FW_VEC(uint64_t) inflight; /* unique meters: values reserved, not yet durable */
};

enum trial_state { TRIAL_NONE, TRIAL_RUNNING, TRIAL_ENDED };

struct acct {
	char id[128];
	size_t idlen;
	int64_t created_ms; /* INT64_MAX: unknown */
	int64_t seats;
	int plan;           /* index in cfg->plans; -1: a plan the config does not have */
	char plan_name[72];
	int64_t plan_ms;    /* event time of the latest plan change; INT64_MIN: none */
	double mrr;
	/* the trial: the latest change to a trial plan starts one */
	int trial_plan;
	int8_t trial_state, in_trials;
	int64_t expired_for, converted_for; /* the trial (by start) whose record exists */
	int64_t trial_start_ms, trial_end_ms, converted_ms;
	char converted_to[72];
	double converted_mrr;
	uint32_t reminded; /* bit i: reminder i listed */
	struct mstate *m;  /* cfg->nmeters */
};

/* A plan change fed before the engine is ready, applied in time order then. */
struct held_plan {
	struct acct *a;
	int64_t t;
	uint64_t seq;
	double mrr;
	char plan[72];
};

/* A `$usage` record's answer, computed once the plans are known. */
struct held_usage {
	struct acct *a;
	uint64_t key;
	int meter;
	double usage, quantity;
};

/* A `Trial Expired` / `Trial Converted` record read before ready. */
struct held_trial {
	struct acct *a;
	int expired;
	int64_t started, t;
	double mrr;
	char to_plan[72];
};

struct stripe {
	pthread_mutex_t mu;
	struct fw_dict ids;
	FW_VEC(struct acct *) accts;
	struct idem cur, old;
};

struct fw_billing {
	const struct fw_config *cfg;
	fw_billing_emit_fn emit;
	void *emit_ctx;
	struct stripe stripes[STRIPES];
	/* message ids of records counted before the feed reached them */
	pthread_mutex_t own_mu;
	struct fw_dict own;
	FW_VEC(uint8_t) own_live;
	size_t own_count;
	/* the feed (one thread) */
	uint64_t next_seq;
	struct fw_arena scratch;
	struct fw_dict dirty;
	struct fw_dict pairs; /* (distinct id, account) pairs seen */
	FW_VEC(struct acct *) trials; /* accounts with a trial to watch (the tick's thread) */
	FW_VEC(struct acct *) trial_queue; /* new ones, under news_mu */
	FW_VEC(struct fw_trial_note) news;
	FW_VEC(struct held_plan) held; /* the feed's, until ready */
	FW_VEC(struct held_usage) held_usage;
	FW_VEC(struct held_trial) held_trials;
	pthread_mutex_t news_mu;
	atomic_ullong checks, consumed, denied, prompts, reports, fed;
	atomic_int ready;
	atomic_llong now_override; /* tests: the feed's clock; 0 = the wall clock */
};

static int64_t feed_now(struct fw_billing *b)
{
	int64_t t = atomic_load(&b->now_override);
	return t ? t : fw_now_ms();
}

void fw_billing_set_now(struct fw_billing *b, int64_t now_ms)
{
	atomic_store(&b->now_override, now_ms);
}

static struct stripe *stripe_of(struct fw_billing *b, struct fw_str id)
{
	return &b->stripes[fw_hash64(id.p, id.len) % STRIPES];
}

/* The account `id`, created if new; the stripe lock must be held. NULL for
 * an id too long to be an account. */
static struct acct *acct_get(struct fw_billing *b, struct stripe *st, struct fw_str id, int create)
{
	uint32_t k = fw_dict_find(&st->ids, id.p, id.len);
	if (k != UINT32_MAX)
		return st->accts.v[k];
	if (!create || id.len == 0 || id.len >= sizeof ((struct acct *)0)->id)
		return NULL;
	struct acct *a = fw_xcalloc(1, sizeof *a);
	memcpy(a->id, id.p, id.len);
	a->idlen = id.len;
	a->created_ms = INT64_MAX;
	a->plan_ms = INT64_MIN;
	const struct fw_plan *p = fw_config_plan(b->cfg, b->cfg->default_plan,
						 strlen(b->cfg->default_plan));
	a->plan = p ? (int)(p - b->cfg->plans) : -1;
	snprintf(a->plan_name, sizeof a->plan_name, "%s", b->cfg->default_plan);
	a->m = fw_xcalloc(b->cfg->nmeters ? b->cfg->nmeters : 1, sizeof *a->m);
	fw_dict_intern(&st->ids, id.p, id.len);
	FW_PUSH(st->accts, a);
	return a;
}

static const struct fw_plan *plan_of(const struct fw_billing *b, const struct acct *a)
{
	return a->plan >= 0 ? &b->cfg->plans[a->plan] : NULL;
}

static int has_feature(const struct fw_plan *p, struct fw_str f)
{
	for (size_t i = 0; p && i < p->features.n; i++)
		if (fw_str_eq(f, p->features.items[i]))
			return 1;
	return 0;
}

static int any_plan_has_feature(const struct fw_config *c, struct fw_str f)
{
	for (size_t i = 0; i < c->nplans; i++)
		if (has_feature(&c->plans[i], f))
			return 1;
	return 0;
}

/* Move a meter's state to the period holding `now`. */
static void roll(const struct fw_meter *m, const struct acct *a, struct mstate *s, int64_t now)
{
	if (now >= s->period.start_ms && now < s->period.end_ms)
		return;
	struct fw_bill_period p = fw_period_at(now, m->anniversary,
					  a->created_ms == INT64_MAX ? now : a->created_ms);
	hset_clear(&s->set);
	*s = (struct mstate){.period = p, .pending = s->pending, .inflight = s->inflight};
}

struct fw_billing *fw_billing_new(const struct fw_config *cfg, fw_billing_emit_fn emit,
				  void *emit_ctx)
{
	struct fw_billing *b = fw_xcalloc(1, sizeof *b);
	b->cfg = cfg;
	b->emit = emit;
	b->emit_ctx = emit_ctx;
	for (int i = 0; i < STRIPES; i++) {
		pthread_mutex_init(&b->stripes[i].mu, NULL);
		fw_dict_init(&b->stripes[i].ids);
	}
	pthread_mutex_init(&b->own_mu, NULL);
	pthread_mutex_init(&b->news_mu, NULL);
	fw_dict_init(&b->own);
	fw_dict_init(&b->dirty);
	fw_dict_init(&b->pairs);
	return b;
}

void fw_billing_free(struct fw_billing *b)
{
	if (!b)
		return;
	for (int i = 0; i < STRIPES; i++) {
		struct stripe *st = &b->stripes[i];
		for (size_t k = 0; k < st->accts.n; k++) {
			for (size_t j = 0; j < b->cfg->nmeters; j++) {
				hset_clear(&st->accts.v[k]->m[j].set);
				free(st->accts.v[k]->m[j].inflight.v);
			}
			free(st->accts.v[k]->m);
			free(st->accts.v[k]);
		}
		free(st->accts.v);
		fw_dict_release(&st->ids);
		free(st->cur.slots);
		free(st->old.slots);
		pthread_mutex_destroy(&st->mu);
	}
	fw_dict_release(&b->own);
	free(b->own_live.v);
	fw_dict_release(&b->dirty);
	fw_dict_release(&b->pairs);
	fw_arena_release(&b->scratch);
	free(b->trials.v);
	free(b->trial_queue.v);
	free(b->held.v);
	free(b->held_usage.v);
	free(b->held_trials.v);
	free(b->news.v);
	pthread_mutex_destroy(&b->own_mu);
	pthread_mutex_destroy(&b->news_mu);
	free(b);
}

/* ---- own records ---- */

static void own_add(struct fw_billing *b, struct fw_str id)
{
	pthread_mutex_lock(&b->own_mu);
	uint32_t k = fw_dict_intern(&b->own, id.p, id.len);
	while (b->own_live.n <= k)
		FW_PUSH(b->own_live, 0);
	if (!b->own_live.v[k]) {
		b->own_live.v[k] = 1;
		b->own_count++;
	}
	pthread_mutex_unlock(&b->own_mu);
}

/* 1 if `id` was an own record (and forget it). */
static int own_take(struct fw_billing *b, struct fw_str id)
{
	pthread_mutex_lock(&b->own_mu);
	uint32_t k = fw_dict_find(&b->own, id.p, id.len);
	int was = k != UINT32_MAX && b->own_live.v[k];
	if (was) {
		b->own_live.v[k] = 0;
		/* the dictionary cannot forget: once most of it is gone, keep the
		 * live ids in a fresh one (amortised: it has doubled since) */
		if (--b->own_count < b->own.count / 4 && b->own.count > 4096) {
			struct fw_dict keep;
			fw_dict_init(&keep);
			for (uint32_t i = 0; i < b->own.count; i++)
				if (b->own_live.v[i]) {
					struct fw_str live = fw_dict_str(&b->own, i);
					fw_dict_intern(&keep, live.p, live.len);
				}
			fw_dict_release(&b->own);
			b->own = keep;
			b->own_live.n = 0;
			for (uint32_t i = 0; i < keep.count; i++)
				FW_PUSH(b->own_live, 1);
		}
	}
	pthread_mutex_unlock(&b->own_mu);
	return was;
}

/* ---- plans and trials ---- */

static void add_news(struct fw_billing *b, const struct fw_trial_note *n, int64_t now)
{
	if (now - n->at_ms > NEWS_MAX_AGE_MS)
		return;
	pthread_mutex_lock(&b->news_mu);
	FW_PUSH(b->news, *n);
	pthread_mutex_unlock(&b->news_mu);
}

static void note_of(const struct fw_billing *b, const struct acct *a, enum fw_trial_news what,
		    int64_t at, struct fw_trial_note *n)
{
	*n = (struct fw_trial_note){.what = what, .started_ms = a->trial_start_ms,
				    .ends_ms = a->trial_end_ms, .at_ms = at};
	snprintf(n->account, sizeof n->account, "%s", a->id);
	snprintf(n->plan, sizeof n->plan, "%s",
		 a->trial_plan >= 0 ? b->cfg->plans[a->trial_plan].name : "");
}

/* Put an account with a trial on the list fw_billing_tick looks after. */
static void watch(struct fw_billing *b, struct acct *a)
{
	if (a->in_trials)
		return;
	a->in_trials = 1;
	pthread_mutex_lock(&b->news_mu);
	FW_PUSH(b->trial_queue, a);
	pthread_mutex_unlock(&b->news_mu);
}

/* Apply a plan change at event time t; `live` when it happens now (not a
 * replay of the log at start), which decides whether news is sent. The
 * stripe lock is held. */
static void apply_plan(struct fw_billing *b, struct acct *a, struct fw_str name, double mrr,
		       int64_t t, int64_t now)
{
	if (t < a->plan_ms || name.len == 0 || name.len >= sizeof a->plan_name)
		return;
	const struct fw_plan *p = fw_config_plan(b->cfg, name.p, name.len);
	if (isnan(mrr))
		mrr = p ? p->price : 0;
	int was_trial = a->trial_state == TRIAL_RUNNING && a->plan == a->trial_plan;
	a->plan = p ? (int)(p - b->cfg->plans) : -1;
	memcpy(a->plan_name, name.p, name.len);
	a->plan_name[name.len] = 0;
	a->plan_ms = t;
	a->mrr = mrr;
	struct fw_trial_note n;
	if (p && p->trial_days > 0) {
		if (a->trial_state == TRIAL_RUNNING && a->trial_plan == a->plan)
			return; /* the same trial, told again */
		a->trial_plan = a->plan;
		a->trial_state = TRIAL_RUNNING;
		a->trial_start_ms = t;
		a->trial_end_ms = t + (int64_t)p->trial_days * FW_MS_PER_DAY;
		a->converted_ms = 0;
		a->reminded = 0;
		watch(b, a);
		note_of(b, a, FW_TRIAL_STARTED, t, &n);
		add_news(b, &n, now);
		return;
	}
	if (was_trial)
		a->trial_state = TRIAL_ENDED;
	/* the first paid plan after a trial began is its conversion */
	if (a->trial_start_ms && !a->converted_ms && mrr > 0 && t >= a->trial_start_ms) {
		a->converted_ms = t;
		snprintf(a->converted_to, sizeof a->converted_to, "%s", a->plan_name);
		a->converted_mrr = mrr;
		/* `Trial Converted` is written for conversions seen as they happen;
		 * one read from the log at start is history (its plan change says it) */
		if (!atomic_load(&b->ready))
			a->converted_for = a->trial_start_ms;
		watch(b, a);
	}
}

/* ---- the feed ---- */

static double num_or_nan(const struct fw_json *obj, const char *key)
{
	const struct fw_json *v = obj ? fw_json_get(obj, key) : NULL;
	if (!v || v->type != FW_JSON_NUMBER)
		return NAN;
	return v->is_int ? (double)v->i : v->u.num;
}

/* An earlier creation moves anniversary periods: the current one is
 * re-anchored, keeping what it counted (it counted the same records). */
static void set_created_locked(struct fw_billing *b, struct acct *a, int64_t created_ms)
{
	a->created_ms = created_ms;
	for (size_t i = 0; i < b->cfg->nmeters; i++) {
		struct mstate *s = &a->m[i];
		if (b->cfg->meters[i].anniversary && s->period.end_ms)
			s->period = fw_period_at(s->period.start_ms, 1, created_ms);
	}
}

static void count_input(struct mstate *s, const struct fw_meter *m, double num, struct fw_str key)
{
	s->records++;
	switch (m->agg) {
	case FW_AGG_COUNT:
	case FW_AGG_SUM:
		s->value += num;
		break;
	case FW_AGG_MAX:
		if (num > s->value || s->records == 1)
			s->value = num;
		break;
	case FW_AGG_UNIQUE:
		hset_add(&s->set, fw_hash64(key.p, key.len));
		s->value = s->set.n;
		break;
	}
}

static void feed_meters(struct fw_billing *b, struct acct *a, const struct fw_event *e,
			const struct fw_json *props, int64_t now)
{
	for (size_t i = 0; i < b->cfg->nmeters; i++) {
		const struct fw_meter *m = &b->cfg->meters[i];
		double num;
		struct fw_str key;
		if (!fw_meter_input(m, e, props, &num, &key))
			continue;
		struct mstate *s = &a->m[i];
		roll(m, a, s, now);
		if (e->time_ms >= s->period.start_ms && e->time_ms < s->period.end_ms)
			count_input(s, m, num, key);
	}
}

/* A trial's `Trial Expired` / `Trial Converted` record exists: it needs no
 * more records; its webhook may not have gone out before a restart, so it
 * is news again (the notes table keeps it once). */
static void trial_seen(struct fw_billing *b, struct acct *a, const struct held_trial *h,
		       int64_t now)
{
	if (h->expired)
		a->expired_for = h->started;
	else
		a->converted_for = h->started;
	if (a->trial_start_ms != h->started)
		return;
	struct fw_trial_note n;
	note_of(b, a, h->expired ? FW_TRIAL_EXPIRED : FW_TRIAL_CONVERTED, h->t, &n);
	snprintf(n.to_plan, sizeof n.to_plan, "%s", h->to_plan);
	n.to_mrr = h->mrr;
	add_news(b, &n, now);
}

/* Such a record fed: seen now, or once the plans are applied. */
static void trial_record(struct fw_billing *b, struct acct *a, const struct fw_event *e,
			 const struct fw_json *props, int64_t now)
{
	int expired = fw_str_eq(e->event, FW_TRIAL_EXPIRED_EVENT);
	if (!expired && !fw_str_eq(e->event, FW_TRIAL_CONVERTED_EVENT))
		return;
	double started = num_or_nan(props, "trial_started_ms");
	if (isnan(started))
		return;
	struct held_trial h = {a, expired, (int64_t)started, e->time_ms, num_or_nan(props, "mrr"), ""};
	struct fw_str to = fw_json_get_str(props, expired ? "to_plan" : "plan");
	snprintf(h.to_plan, sizeof h.to_plan, "%.*s", (int)(to.len < 71 ? to.len : 71), to.p);
	if (atomic_load(&b->ready))
		trial_seen(b, a, &h, now);
	else
		FW_PUSH(b->held_trials, h);
}

static uint64_t request_key(struct fw_str rid);
static enum fw_check_reason classify(const struct fw_config *cfg, const struct fw_plan_limit *l,
				     double after, double *overage);
static struct answer *idem_lookup(struct stripe *st, uint64_t key);
static struct answer *idem_insert(struct stripe *st, uint64_t key);

/* The answer a consuming check got, for a `$usage` record written before a
 * restart: allowed and consumed, with the meter's value before it as the
 * usage, against the account's plan (known once the plans are applied). */
static void remember_answer(struct fw_billing *b, struct stripe *st, struct acct *a,
			    const struct held_usage *h)
{
	if (idem_lookup(st, h->key))
		return;
	const struct fw_meter *m = &b->cfg->meters[h->meter];
	const struct fw_plan_limit *l = fw_plan_limit_of(plan_of(b, a), m->name);
	double after = h->usage + h->quantity, overage = 0;
	struct answer x = {.key = h->key, .allowed = 1, .consumed = 1, .usage = h->usage};
	x.reason = (int8_t)(l ? classify(b->cfg, l, after, &overage) : FW_CHECK_OK);
	x.overage = overage;
	x.remaining = l && l->limit > after ? l->limit - after : 0;
	*idem_insert(st, h->key) = x;
}

/* A `$usage` record: its request id gets its answer back. The stripe lock
 * is held. */
static void remember_usage(struct fw_billing *b, struct stripe *st, struct acct *a,
			   const struct fw_json *props)
{
	struct fw_str rid = fw_json_get_str(props, "request_id");
	if (!rid.len)
		rid = fw_json_get_str(props, "idempotency_key");
	struct fw_str mname = fw_json_get_str(props, "meter");
	const struct fw_meter *m = fw_config_meter(b->cfg, mname.p, mname.len);
	if (!rid.len || !m)
		return;
	double q = num_or_nan(props, "quantity");
	struct held_usage h = {a, request_key(rid), (int)(m - b->cfg->meters),
			       a->m[m - b->cfg->meters].value, isnan(q) ? 1 : q};
	if (atomic_load(&b->ready))
		remember_answer(b, st, a, &h);
	else
		FW_PUSH(b->held_usage, h);
}

/* A person named with an account: its seats need a recount the first time
 * the pair is seen (a new member, or one the metadata has had all along). */
static void note_member(struct fw_billing *b, struct fw_str did, struct fw_str account)
{
	char key[512];
	if (did.len + account.len + 1 > sizeof key) {
		fw_dict_intern(&b->dirty, account.p, account.len);
		return;
	}
	memcpy(key, did.p, did.len);
	key[did.len] = 0x1f;
	memcpy(key + did.len + 1, account.p, account.len);
	uint32_t n = b->pairs.count;
	fw_dict_intern(&b->pairs, key, did.len + 1 + account.len);
	if (b->pairs.count != n)
		fw_dict_intern(&b->dirty, account.p, account.len);
}

void fw_billing_feed(struct fw_billing *b, uint64_t seq, const struct fw_event *e)
{
	atomic_fetch_add(&b->fed, 1);
	if (!e->group_id.len)
		return;
	if (e->source == FW_SRC_INTERNAL && e->message_id.len > 3 &&
	    memcmp(e->message_id.p, "fw:", 3) == 0 && own_take(b, e->message_id))
		return;
	struct fw_str did = fw_event_distinct_id(e);
	if (did.len)
		note_member(b, did, e->group_id);
	const struct fw_config *c = b->cfg;
	int is_event = fw_event_is_activity(e);
	int plan_event = is_event && fw_str_eq(e->event, c->plan_event);
	struct fw_str body = e->type == FW_MSG_GROUP ? e->traits : e->properties;
	if (e->type == FW_MSG_GROUP ? !body.len : !is_event)
		return;
	struct fw_json *props = NULL;
	struct fw_json_error je;
	if (body.len && (fw_json_parse(&b->scratch, body.p, body.len, &props, &je) ||
			 props->type != FW_JSON_OBJECT))
		props = NULL;
	int64_t now = feed_now(b);
	struct stripe *st = stripe_of(b, e->group_id);
	pthread_mutex_lock(&st->mu);
	struct acct *a = acct_get(b, st, e->group_id, 1);
	if (a) {
		if (e->time_ms < a->created_ms)
			set_created_locked(b, a, e->time_ms);
		struct fw_str plan = props ? fw_json_get_str(props, c->plan_property) : (struct fw_str){0};
		if ((plan_event || e->type == FW_MSG_GROUP) && plan.len && plan.len < 72) {
			double mrr = num_or_nan(props, c->mrr_property);
			if (atomic_load(&b->ready)) {
				apply_plan(b, a, plan, mrr, e->time_ms, now);
			} else {
				struct held_plan h = {a, e->time_ms, seq, mrr, ""};
				memcpy(h.plan, plan.p, plan.len);
				FW_PUSH(b->held, h);
			}
		}
		if (is_event && e->source == FW_SRC_INTERNAL)
			trial_record(b, a, e, props, now);
		if (is_event && props && fw_str_eq(e->event, FW_USAGE_EVENT))
			remember_usage(b, st, a, props);
		if (is_event)
			feed_meters(b, a, e, props, now);
	}
	pthread_mutex_unlock(&st->mu);
	fw_arena_reset(&b->scratch);
}

uint64_t fw_billing_next_seq(const struct fw_billing *b)
{
	return b->next_seq;
}

void fw_billing_set_seats(struct fw_billing *b, struct fw_str account, int64_t seats)
{
	struct stripe *st = stripe_of(b, account);
	pthread_mutex_lock(&st->mu);
	struct acct *a = acct_get(b, st, account, 1);
	if (a)
		a->seats = seats;
	pthread_mutex_unlock(&st->mu);
}

void fw_billing_set_created(struct fw_billing *b, struct fw_str account, int64_t created_ms)
{
	struct stripe *st = stripe_of(b, account);
	pthread_mutex_lock(&st->mu);
	struct acct *a = acct_get(b, st, account, 1);
	if (a && created_ms < a->created_ms)
		set_created_locked(b, a, created_ms);
	pthread_mutex_unlock(&st->mu);
}

size_t fw_billing_take_dirty(struct fw_billing *b, struct fw_str **accounts, struct fw_arena *ar)
{
	size_t n = b->dirty.count;
	*accounts = n ? fw_arena_alloc(ar, n * sizeof **accounts) : NULL;
	for (size_t i = 0; i < n; i++) {
		struct fw_str s = fw_dict_str(&b->dirty, (uint32_t)i);
		(*accounts)[i] = (struct fw_str){fw_arena_strndup(ar, s.p, s.len), s.len};
	}
	if (n) {
		fw_dict_release(&b->dirty);
		fw_dict_init(&b->dirty);
	}
	return n;
}

/* ---- the records the engine writes ---- */

/* Records being written: their strings are offsets into `text` until it
 * stops growing (rec_fix). */
struct recdraft {
	size_t id_at, id_len, props_at, props_len;
};

struct records {
	struct fw_event ev[4];
	struct recdraft d[4];
	size_t n;
	struct fw_buf text;
};

static size_t rec_begin(struct records *r, const char *name, struct fw_str account,
			struct fw_str user, int64_t t, int64_t now)
{
	size_t i = r->n++;
	r->ev[i] = (struct fw_event){.time_ms = t, .received_ms = now, .type = FW_MSG_TRACK,
				     .source = FW_SRC_INTERNAL, .event = fw_str_c(name),
				     .user_id = user, .group_id = account};
	return i;
}

static void rec_id(struct records *r, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void rec_id(struct records *r, size_t i, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof tmp) /* ids past 512 bytes: keep a hash of the rest */
		n = snprintf(tmp + 400, sizeof tmp - 400, "#%016llx",
			     (unsigned long long)fw_hash64(tmp, 400)) + 400;
	r->d[i].id_at = r->text.len;
	r->d[i].id_len = (size_t)n;
	fw_buf_add(&r->text, tmp, (size_t)n);
}

/* The properties are the JSON in `props` (an object). */
static void rec_props(struct records *r, size_t i, const struct fw_buf *props)
{
	r->d[i].props_at = r->text.len;
	r->d[i].props_len = props->len;
	fw_buf_add(&r->text, props->data, props->len);
}

static void rec_fix(struct records *r)
{
	for (size_t i = 0; i < r->n; i++) {
		r->ev[i].message_id = (struct fw_str){r->text.data + r->d[i].id_at, r->d[i].id_len};
		r->ev[i].properties =
			(struct fw_str){r->text.data + r->d[i].props_at, r->d[i].props_len};
	}
}

static void props_str(struct fw_buf *b, const char *key, struct fw_str v)
{
	fw_buf_adds(b, b->len > 1 ? ",\"" : "\"");
	fw_buf_adds(b, key);
	fw_buf_adds(b, "\":");
	fw_json_write_str(b, v.p, v.len);
}

static void props_raw(struct fw_buf *b, const char *key, struct fw_str json)
{
	fw_buf_adds(b, b->len > 1 ? ",\"" : "\"");
	fw_buf_adds(b, key);
	fw_buf_adds(b, "\":");
	fw_buf_add(b, json.p, json.len);
}

static void props_num(struct fw_buf *b, const char *key, double v)
{
	fw_buf_adds(b, b->len > 1 ? ",\"" : "\"");
	fw_buf_adds(b, key);
	fw_buf_adds(b, "\":");
	fw_json_write_double(b, v);
}

/* ---- checks ---- */

/* The plan an upgrade prompt offers: the upgrade_to chain's first plan that
 * `fits`, else the cheapest plan pricier than the current one that does. */
static const struct fw_plan *upgrade_target(const struct fw_config *c, const struct fw_plan *from,
					    int (*fits)(const struct fw_plan *, const void *),
					    const void *arg)
{
	const struct fw_plan *p = from;
	for (int hop = 0; p && p->upgrade_to && hop < FW_MAX_PLANS; hop++) {
		p = fw_config_plan(c, p->upgrade_to, strlen(p->upgrade_to));
		if (p && p != from && fits(p, arg))
			return p;
	}
	const struct fw_plan *best = NULL;
	double floor = from ? from->price : 0;
	for (size_t i = 0; i < c->nplans; i++) {
		const struct fw_plan *q = &c->plans[i];
		if (q == from || q->trial_days || q->price <= floor || !fits(q, arg))
			continue;
		if (!best || q->price < best->price)
			best = q;
	}
	return best;
}

struct fit_limit {
	const char *meter;
	double need;
};

static int fits_limit(const struct fw_plan *p, const void *arg)
{
	const struct fit_limit *f = arg;
	const struct fw_plan_limit *l = fw_plan_limit_of(p, f->meter);
	return !l || l->limit >= f->need;
}

static int fits_feature(const struct fw_plan *p, const void *arg)
{
	return has_feature(p, *(const struct fw_str *)arg);
}

static void fill_prompt(const struct fw_plan *from, const struct fw_plan *to, const char *meter,
			struct fw_prompt *pr)
{
	pr->to = to;
	pr->show = to != NULL;
	pr->limit = -1;
	if (!to)
		return;
	const struct fw_plan_limit *l = meter ? fw_plan_limit_of(to, meter) : NULL;
	if (l)
		pr->limit = l->limit;
	for (size_t i = 0; i < to->features.n; i++) {
		struct fw_str f = fw_str_c(to->features.items[i]);
		if (!has_feature(from, f) && pr->nunlocks < FW_CONFIG_MAX_LIST)
			pr->unlocks[pr->nunlocks++] = to->features.items[i];
	}
}

static void fill_plan(const struct fw_billing *b, const struct acct *a, int64_t now,
		      struct fw_check_result *r)
{
	r->plan = plan_of(b, a);
	snprintf(r->plan_name, sizeof r->plan_name, "%s", a->plan_name);
	r->trial = a->trial_state == TRIAL_RUNNING && a->plan == a->trial_plan && now < a->trial_end_ms;
	r->trial_ends_ms = r->trial ? a->trial_end_ms : 0;
}

static uint64_t request_key(struct fw_str rid)
{
	uint64_t h = fw_hash64(rid.p, rid.len);
	return h ? h : 1;
}

static void answer_of(const struct answer *x, struct fw_check_result *r)
{
	r->allowed = x->allowed;
	r->reason = (enum fw_check_reason)x->reason;
	r->consumed = x->consumed;
	r->usage = x->usage;
	r->remaining = x->remaining;
	r->overage = x->overage;
}

static struct answer *idem_lookup(struct stripe *st, uint64_t key)
{
	struct answer *x = idem_find(&st->cur, key);
	if (!x)
		x = idem_find(&st->old, key);
	return x && !x->dead ? x : NULL;
}

static struct answer *idem_insert(struct stripe *st, uint64_t key)
{
	struct answer *x = idem_find(&st->cur, key);
	if (x) { /* a forgotten one */
		*x = (struct answer){.key = key};
		return x;
	}
	if (st->cur.n >= IDEM_KEEP) {
		free(st->old.slots);
		st->old = st->cur;
		st->cur = (struct idem){0};
	}
	return idem_add(&st->cur, key);
}

/* How usage `after` a check stands against limit `l`. */
static enum fw_check_reason classify(const struct fw_config *cfg, const struct fw_plan_limit *l,
				     double after, double *overage)
{
	*overage = 0;
	if (after > l->limit && l->hard)
		return FW_CHECK_LIMIT;
	if (after > l->limit) {
		*overage = after - l->limit;
		return FW_CHECK_OVERAGE;
	}
	if (l->limit > 0 ? after >= cfg->prompt_share * l->limit : after > 0)
		return FW_CHECK_NEAR_LIMIT;
	return FW_CHECK_OK;
}

/* Decide a meter check under the stripe lock. Returns the meter index, or
 * -1 for seats. */
static void decide_meter(struct fw_billing *b, struct acct *a, const struct fw_check *c, int mi,
			 struct fw_check_result *r, uint64_t *ukey, int *new_value)
{
	const struct fw_config *cfg = b->cfg;
	const struct fw_plan *plan = plan_of(b, a);
	const char *mname = mi >= 0 ? cfg->meters[mi].name : "seats";
	const struct fw_plan_limit *l = fw_plan_limit_of(plan, mname);
	double q = c->quantity, usage, after;
	*new_value = 1;
	if (mi < 0) {
		usage = (double)a->seats;
		after = usage + q;
	} else {
		const struct fw_meter *m = &cfg->meters[mi];
		struct mstate *s = &a->m[mi];
		roll(m, a, s, c->now_ms);
		r->period = s->period;
		r->reset_ms = s->period.end_ms;
		usage = s->value + s->pending;
		if (m->agg == FW_AGG_MAX) {
			after = q > s->value ? q : s->value;
		} else if (m->agg == FW_AGG_UNIQUE) {
			*ukey = fw_hash64(c->value.p, c->value.len);
			*new_value = !c->value.len || !hset_has(&s->set, *ukey);
			for (size_t i = 0; *new_value && i < s->inflight.n; i++)
				*new_value = s->inflight.v[i] != *ukey;
			after = usage + (*new_value ? 1 : 0);
		} else {
			after = usage + q;
		}
	}
	r->usage = usage;
	r->allowed = 1;
	r->reason = FW_CHECK_OK;
	if (!l)
		return;
	r->has_limit = 1;
	r->hard = l->hard;
	r->limit = l->limit;
	r->reason = classify(cfg, l, after, &r->overage);
	r->allowed = r->reason != FW_CHECK_LIMIT;
	double basis = r->allowed && c->consume && mi >= 0 ? after : usage;
	r->remaining = l->limit > basis ? l->limit - basis : 0;
	if (r->reason != FW_CHECK_OK) {
		/* a limit the plan offered needs to hold what was asked for */
		struct fit_limit f = {mname, after > l->limit ? after : l->limit + 1};
		fill_prompt(plan, upgrade_target(cfg, plan, fits_limit, &f), mname, &r->prompt);
	}
}

/* Records a check writes: the `$usage` record when it consumes, and the
 * denial / prompt events (one per person, limit and day). */
static void check_records(const struct fw_check *c,
			  const struct fw_check_result *r, const char *what, struct records *out)
{
	char day[16];
	fw_time_format_day(c->now_ms, day);
	struct fw_buf p = {0};
	const char *plan = r->plan_name;
	if (r->consumed) {
		size_t i = rec_begin(out, FW_USAGE_EVENT, c->account, c->user_id, c->now_ms, c->now_ms);
		rec_id(out, i, "fw:use:%.*s", (int)c->request_id.len, c->request_id.p);
		fw_buf_adds(&p, "{");
		props_str(&p, "meter", c->meter);
		props_num(&p, "quantity", c->quantity);
		if (c->value.len)
			props_raw(&p, "value", c->value);
		props_str(&p, "request_id", c->request_id);
		fw_buf_adds(&p, "}");
		rec_props(out, i, &p);
		fw_buf_reset(&p);
	}
	int feature = c->kind == FW_CHECK_FEATURE;
	if (!r->allowed || r->reason == FW_CHECK_OVERAGE) {
		const char *name = feature ? FW_FEATURE_ATTEMPTED_EVENT : FW_LIMIT_REACHED_EVENT;
		size_t i = rec_begin(out, name, c->account, c->user_id, c->now_ms, c->now_ms);
		rec_id(out, i, "fw:%s:%.*s:%s:%.*s:%s", feature ? "feature" : "limit",
		       (int)c->account.len, c->account.p, what, (int)c->user_id.len, c->user_id.p, day);
		fw_buf_adds(&p, "{");
		props_str(&p, feature ? "feature" : "limit", fw_str_c(what));
		props_str(&p, "plan", fw_str_c(plan));
		if (!feature) {
			props_num(&p, "usage", r->usage);
			props_num(&p, "max", r->limit);
			props_num(&p, "requested", c->quantity);
			fw_buf_adds(&p, r->hard ? ",\"hard\":true" : ",\"hard\":false");
		}
		fw_buf_adds(&p, "}");
		rec_props(out, i, &p);
		fw_buf_reset(&p);
	}
	if (r->prompt.show) {
		/* a millisecond after the denial, so a funnel sees one follow the other */
		size_t i = rec_begin(out, FW_PROMPT_SHOWN_EVENT, c->account, c->user_id, c->now_ms + 1,
				     c->now_ms);
		rec_id(out, i, "fw:prompt:%.*s:%s:%.*s:%s", (int)c->account.len, c->account.p, what,
		       (int)c->user_id.len, c->user_id.p, day);
		fw_buf_adds(&p, "{");
		props_str(&p, feature ? "feature" : "limit", fw_str_c(what));
		props_str(&p, "plan", fw_str_c(plan));
		props_str(&p, "upgrade_to", fw_str_c(r->prompt.to->name));
		props_num(&p, "price", r->prompt.to->price);
		props_str(&p, "reason", fw_str_c(!r->allowed			    ? "denied"
						 : r->reason == FW_CHECK_OVERAGE ? "overage"
										 : "near_limit"));
		fw_buf_adds(&p, "}");
		rec_props(out, i, &p);
	}
	fw_buf_release(&p);
	rec_fix(out);
}

int fw_billing_check(struct fw_billing *b, const struct fw_check *c, struct fw_check_result *r,
		     struct fw_err *err)
{
	const struct fw_config *cfg = b->cfg;
	memset(r, 0, sizeof *r);
	if (!atomic_load(&b->ready))
		return fw_error(err, FW_EAGAIN,
				"entitlements are still being read from the event log; retry in a "
				"second");
	if (!c->account.len || c->account.len >= sizeof ((struct acct *)0)->id)
		return fw_error(err, FW_EINVAL, "account_id must be 1 to %zu bytes",
				sizeof ((struct acct *)0)->id - 1);
	int mi = -1;
	char what[72];
	if (c->kind == FW_CHECK_FEATURE) {
		if (!c->feature.len || c->feature.len >= sizeof what)
			return fw_error(err, FW_EINVAL, "feature must be 1 to %zu bytes", sizeof what - 1);
		if (!any_plan_has_feature(cfg, c->feature))
			return fw_error(err, FW_EINVAL,
					"no plan has the feature \"%.*s\": add it to a plan's features "
					"in flywheel.yaml, or check the spelling",
					(int)c->feature.len, c->feature.p);
		memcpy(what, c->feature.p, c->feature.len);
		what[c->feature.len] = 0;
	} else {
		const struct fw_meter *m = fw_config_meter(cfg, c->meter.p, c->meter.len);
		if (!m && !fw_str_eq(c->meter, "seats"))
			return fw_error(err, FW_EINVAL,
					"no meter \"%.*s\": the meters are seats and those under "
					"`meters` in flywheel.yaml",
					(int)(c->meter.len > 64 ? 64 : c->meter.len), c->meter.p);
		mi = m ? (int)(m - cfg->meters) : -1;
		snprintf(what, sizeof what, "%s", m ? m->name : "seats");
		if (!isfinite(c->quantity) || c->quantity < 0 ||
		    (c->consume && c->quantity <= 0 && (!m || m->agg != FW_AGG_UNIQUE)))
			return fw_error(err, FW_EINVAL,
					"quantity must be a number above 0 (got %g)", c->quantity);
		if (m && m->agg == FW_AGG_UNIQUE && c->consume && !c->value.len)
			return fw_error(err, FW_EINVAL,
					"meter %s counts unique values of %s: a consuming check needs "
					"\"value\", the value it adds",
					m->name, m->property);
	}
	int consume = c->consume && c->kind == FW_CHECK_METER && mi >= 0;
	if (consume && !c->request_id.len)
		return fw_error(err, FW_EINVAL,
				"a consuming check needs a request_id (an idempotency key), so that "
				"a retry is not counted twice; or set preflight: true");
	atomic_fetch_add(&b->checks, 1);
	struct stripe *st = stripe_of(b, c->account);
	uint64_t rkey = consume ? request_key(c->request_id) : 0, ukey = 0;
	int new_value = 1;
	pthread_mutex_lock(&st->mu);
	struct acct *a = acct_get(b, st, c->account, 1);
	fill_plan(b, a, c->now_ms, r);
	struct answer *seen = consume ? idem_lookup(st, rkey) : NULL;
	if (seen && seen->pending) {
		pthread_mutex_unlock(&st->mu);
		return fw_error(err, FW_ECONFLICT,
				"a check with request_id %.*s is still being recorded; retry it",
				(int)(c->request_id.len > 128 ? 128 : c->request_id.len),
				c->request_id.p);
	}
	if (c->kind == FW_CHECK_FEATURE) {
		r->allowed = has_feature(r->plan, c->feature);
		r->reason = r->allowed ? FW_CHECK_OK : FW_CHECK_FEATURE_DENIED;
		if (!r->allowed)
			fill_prompt(r->plan,
				    upgrade_target(cfg, r->plan, fits_feature, &c->feature), NULL,
				    &r->prompt);
	} else {
		decide_meter(b, a, c, mi, r, &ukey, &new_value);
	}
	if (seen) {
		/* the first answer again; nothing is counted or written */
		answer_of(seen, r);
		r->replayed = 1;
		if (r->reason == FW_CHECK_OK)
			r->prompt = (struct fw_prompt){0}; /* the first answer had none */
		pthread_mutex_unlock(&st->mu);
		return 0;
	}
	double reserve = 0;
	struct answer *slot = NULL;
	if (consume && r->allowed) {
		const struct fw_meter *m = &cfg->meters[mi];
		reserve = m->agg == FW_AGG_MAX ? 0 : m->agg == FW_AGG_UNIQUE ? new_value : c->quantity;
		a->m[mi].pending += reserve;
		if (m->agg == FW_AGG_UNIQUE && new_value)
			FW_PUSH(a->m[mi].inflight, ukey);
		r->consumed = 1;
	}
	if (consume) {
		slot = idem_insert(st, rkey);
		slot->pending = 1;
	}
	pthread_mutex_unlock(&st->mu);

	if (!r->allowed)
		atomic_fetch_add(&b->denied, 1);
	if (r->prompt.show)
		atomic_fetch_add(&b->prompts, 1);
	struct records out = {0};
	check_records(c, r, what, &out);
	uint8_t stored[4] = {1, 1, 1, 1};
	int rc = 0;
	if (out.n) {
		if (r->consumed)
			own_add(b, out.ev[0].message_id);
		rc = b->emit(b->emit_ctx, out.ev, out.n, stored, r->consumed, err);
	}
	pthread_mutex_lock(&st->mu);
	if (r->consumed) {
		struct mstate *s = &a->m[mi];
		s->pending -= reserve;
		for (size_t i = 0; i < s->inflight.n; i++)
			if (s->inflight.v[i] == ukey) {
				s->inflight.v[i] = s->inflight.v[--s->inflight.n];
				break;
			}
		if (rc || !stored[0]) {
			/* not written, or written before (a repeat older than the table) */
			r->consumed = 0;
			r->replayed = !rc; /* its record stays known: the feed passed it long ago */
		} else if (c->now_ms >= s->period.start_ms && c->now_ms < s->period.end_ms) {
			struct fw_str key = {c->value.p, c->value.len};
			if (cfg->meters[mi].agg == FW_AGG_UNIQUE) {
				hset_add(&s->set, ukey);
				s->value = s->set.n;
				s->records++;
			} else {
				count_input(s, &cfg->meters[mi], c->quantity, key);
			}
			atomic_fetch_add(&b->consumed, 1);
		}
	}
	if (slot) {
		/* the table may have moved on; find the entry again */
		struct answer *x = idem_lookup(st, rkey);
		if (x && rc) {
			x->dead = 1; /* nothing was recorded: the id may be used again */
			x->pending = 0;
		} else if (x) {
			*x = (struct answer){.key = rkey, .allowed = (int8_t)r->allowed,
					     .reason = (int8_t)r->reason, .consumed = (int8_t)r->consumed,
					     .usage = r->usage, .remaining = r->remaining,
					     .overage = r->overage};
		}
	}
	if (!r->allowed && mi >= 0)
		a->m[mi].denials++;
	pthread_mutex_unlock(&st->mu);
	fw_buf_release(&out.text);
	return rc;
}

/* ---- usage reports ---- */

int fw_billing_report(struct fw_billing *b, const struct fw_usage_report *u, int *replayed,
		      struct fw_err *err)
{
	const struct fw_config *cfg = b->cfg;
	*replayed = 0;
	if (!u->account.len || u->account.len >= sizeof ((struct acct *)0)->id)
		return fw_error(err, FW_EINVAL, "account_id must be 1 to %zu bytes",
				sizeof ((struct acct *)0)->id - 1);
	if (fw_str_eq(u->meter, "seats"))
		return fw_error(err, FW_EINVAL,
				"seats are counted from an account's members (group calls), not "
				"reported");
	const struct fw_meter *m = fw_config_meter(cfg, u->meter.p, u->meter.len);
	if (!m)
		return fw_error(err, FW_EINVAL,
				"no meter \"%.*s\": the meters are those under `meters` in flywheel.yaml",
				(int)(u->meter.len > 64 ? 64 : u->meter.len), u->meter.p);
	if (!u->key.len || u->key.len > 256)
		return fw_error(err, FW_EINVAL,
				"a usage report needs an idempotency_key of 1 to 256 bytes (or an "
				"Idempotency-Key header), so that a retry is not counted twice");
	if (m->agg == FW_AGG_UNIQUE ? !u->value.len : !isfinite(u->quantity) || u->quantity < 0)
		return m->agg == FW_AGG_UNIQUE
			       ? fw_error(err, FW_EINVAL,
					  "meter %s counts unique values of %s: give \"value\"", m->name,
					  m->property)
			       : fw_error(err, FW_EINVAL, "quantity must be a number of 0 or more");
	struct records out = {0};
	size_t i = rec_begin(&out, FW_USAGE_EVENT, u->account, u->user_id, u->time_ms, u->now_ms);
	rec_id(&out, i, "fw:use:%.*s", (int)u->key.len, u->key.p);
	struct fw_buf p = {0};
	fw_buf_adds(&p, "{");
	props_str(&p, "meter", u->meter);
	if (m->agg != FW_AGG_UNIQUE)
		props_num(&p, "quantity", u->quantity);
	if (u->value.len)
		props_raw(&p, "value", u->value);
	props_str(&p, "idempotency_key", u->key);
	fw_buf_adds(&p, "}");
	rec_props(&out, i, &p);
	fw_buf_release(&p);
	rec_fix(&out);
	own_add(b, out.ev[0].message_id);
	uint8_t stored[1] = {1};
	int rc = b->emit(b->emit_ctx, out.ev, 1, stored, 1, err);
	if (!rc && stored[0]) {
		struct stripe *st = stripe_of(b, u->account);
		pthread_mutex_lock(&st->mu);
		struct acct *a = acct_get(b, st, u->account, 1);
		struct mstate *s = &a->m[m - cfg->meters];
		roll(m, a, s, u->now_ms);
		if (u->time_ms >= s->period.start_ms && u->time_ms < s->period.end_ms) {
			double num;
			struct fw_str key;
			struct fw_json *props = NULL;
			struct fw_json_error je;
			struct fw_arena ar = {0};
			if (!fw_json_parse(&ar, out.ev[0].properties.p, out.ev[0].properties.len, &props,
					   &je) &&
			    fw_meter_input(m, &out.ev[0], props, &num, &key))
				count_input(s, m, num, key);
			fw_arena_release(&ar);
		}
		pthread_mutex_unlock(&st->mu);
		atomic_fetch_add(&b->reports, 1);
	}
	*replayed = !rc && !stored[0];
	fw_buf_release(&out.text);
	return rc;
}

/* ---- plans and trials ---- */

/* Write `out` durably, then apply its plan change (record 0) to the account
 * as the feed would. */
static int write_plan_records(struct fw_billing *b, struct records *out, struct fw_str account,
			      struct fw_str plan, double mrr, int64_t now, struct fw_err *err)
{
	rec_fix(out);
	for (size_t i = 0; i < out->n; i++)
		own_add(b, out->ev[i].message_id);
	uint8_t stored[4];
	int rc = b->emit(b->emit_ctx, out->ev, out->n, stored, 1, err);
	if (rc) {
		for (size_t i = 0; i < out->n; i++)
			own_take(b, out->ev[i].message_id);
		return rc;
	}
	struct stripe *st = stripe_of(b, account);
	pthread_mutex_lock(&st->mu);
	struct acct *a = acct_get(b, st, account, 1);
	apply_plan(b, a, plan, mrr, out->ev[0].time_ms, now);
	pthread_mutex_unlock(&st->mu);
	return 0;
}

static void plan_change_props(struct fw_buf *p, const struct fw_config *cfg, const char *plan,
			      double mrr, const char *previous, const char *why)
{
	fw_buf_adds(p, "{");
	props_str(p, cfg->plan_property, fw_str_c(plan));
	props_num(p, cfg->mrr_property, mrr);
	props_str(p, "previous_plan", fw_str_c(previous));
	props_str(p, "reason", fw_str_c(why));
	fw_buf_adds(p, "}");
}

static void current_plan(struct fw_billing *b, struct fw_str account, char *out, size_t n,
			 int64_t *trial_start)
{
	struct stripe *st = stripe_of(b, account);
	pthread_mutex_lock(&st->mu);
	struct acct *a = acct_get(b, st, account, 1);
	snprintf(out, n, "%s", a->plan_name);
	if (trial_start)
		*trial_start = a->trial_start_ms;
	pthread_mutex_unlock(&st->mu);
}

static int check_account(struct fw_str account, struct fw_err *err)
{
	if (!account.len || account.len >= sizeof ((struct acct *)0)->id)
		return fw_error(err, FW_EINVAL, "account id must be 1 to %zu bytes",
				sizeof ((struct acct *)0)->id - 1);
	return 0;
}

int fw_billing_set_plan(struct fw_billing *b, struct fw_str account, struct fw_str user_id,
			const char *plan, double mrr, int64_t now_ms, struct fw_err *err)
{
	int rc = check_account(account, err);
	if (rc)
		return rc;
	const struct fw_plan *p = fw_config_plan(b->cfg, plan, strlen(plan));
	if (!p)
		return fw_error(err, FW_EINVAL, "no plan \"%.64s\" in flywheel.yaml's plans", plan);
	if (p->trial_days)
		return fw_error(err, FW_EINVAL,
				"%s is a trial plan: start it with POST "
				"/api/v1/accounts/ID/trial",
				p->name);
	if (!(mrr >= 0))
		mrr = p->price;
	char previous[72];
	current_plan(b, account, previous, sizeof previous, NULL);
	struct records out = {0};
	size_t i = rec_begin(&out, b->cfg->plan_event, account, user_id, now_ms, now_ms);
	rec_id(&out, i, "fw:plan:%.*s:%lld:%s", (int)account.len, account.p, (long long)now_ms,
	       p->name);
	struct fw_buf props = {0};
	plan_change_props(&props, b->cfg, p->name, mrr, previous, "api");
	rec_props(&out, i, &props);
	fw_buf_release(&props);
	rc = write_plan_records(b, &out, account, fw_str_c(p->name), mrr, now_ms, err);
	fw_buf_release(&out.text);
	return rc;
}

int fw_billing_start_trial(struct fw_billing *b, struct fw_str account, struct fw_str user_id,
			   const char *plan, int64_t now_ms, int64_t *ends_ms, struct fw_err *err)
{
	int rc = check_account(account, err);
	if (rc)
		return rc;
	const struct fw_plan *p = NULL;
	for (size_t i = 0; !plan && !p && i < b->cfg->nplans; i++)
		if (b->cfg->plans[i].trial_days)
			p = &b->cfg->plans[i];
	if (plan)
		p = fw_config_plan(b->cfg, plan, strlen(plan));
	if (!p || !p->trial_days)
		return fw_error(err, FW_EINVAL,
				plan ? "plan \"%.64s\" is no trial: give a plan with trial_days in "
				       "flywheel.yaml"
				     : "%.64sno plan in flywheel.yaml has trial_days: add one to "
				       "offer trials",
				plan ? plan : "");
	char previous[72];
	int64_t had = 0;
	current_plan(b, account, previous, sizeof previous, &had);
	if (had) {
		char day[16];
		fw_time_format_day(had, day);
		return fw_error(err, FW_ECONFLICT, "account %.*s already had a trial (from %s)",
				(int)account.len, account.p, day);
	}
	*ends_ms = now_ms + (int64_t)p->trial_days * FW_MS_PER_DAY;
	struct records out = {0};
	struct fw_buf props = {0};
	size_t i = rec_begin(&out, b->cfg->plan_event, account, user_id, now_ms, now_ms);
	rec_id(&out, i, "fw:trial-plan:%.*s", (int)account.len, account.p);
	plan_change_props(&props, b->cfg, p->name, 0, previous, "trial_started");
	rec_props(&out, i, &props);
	fw_buf_reset(&props);
	i = rec_begin(&out, FW_TRIAL_STARTED_EVENT, account, user_id, now_ms, now_ms);
	rec_id(&out, i, "fw:trial-started:%.*s", (int)account.len, account.p);
	fw_buf_adds(&props, "{");
	props_str(&props, "plan", fw_str_c(p->name));
	props_num(&props, "trial_days", p->trial_days);
	props_num(&props, "trial_started_ms", (double)now_ms);
	props_num(&props, "trial_ends_ms", (double)*ends_ms);
	fw_buf_adds(&props, "}");
	rec_props(&out, i, &props);
	fw_buf_release(&props);
	rc = write_plan_records(b, &out, account, fw_str_c(p->name), 0, now_ms, err);
	fw_buf_release(&out.text);
	return rc;
}

/* Expire a trial that ended: `Plan Changed` to the fallback plan at the
 * trial's end, and `Trial Expired`. The stripe lock is held; the records
 * are written by the caller. */
static void expiry_records(struct fw_billing *b, const struct acct *a, struct records *out,
			   const struct fw_plan **to)
{
	const struct fw_config *cfg = b->cfg;
	const struct fw_plan *trial = &cfg->plans[a->trial_plan];
	const char *name = trial->trial_ends_to ? trial->trial_ends_to : cfg->default_plan;
	*to = fw_config_plan(cfg, name, strlen(name));
	double mrr = *to ? (*to)->price : 0;
	struct fw_str account = {a->id, a->idlen};
	struct fw_buf p = {0};
	size_t i = rec_begin(out, cfg->plan_event, account, (struct fw_str){0}, a->trial_end_ms,
			     fw_now_ms());
	rec_id(out, i, "fw:trial-ends-to:%s:%lld", a->id, (long long)a->trial_start_ms);
	plan_change_props(&p, cfg, name, mrr, trial->name, "trial_expired");
	rec_props(out, i, &p);
	fw_buf_reset(&p);
	i = rec_begin(out, FW_TRIAL_EXPIRED_EVENT, account, (struct fw_str){0}, a->trial_end_ms,
		      fw_now_ms());
	rec_id(out, i, "fw:trial-expired:%s:%lld", a->id, (long long)a->trial_start_ms);
	fw_buf_adds(&p, "{");
	props_str(&p, "plan", fw_str_c(trial->name));
	props_str(&p, "to_plan", fw_str_c(name));
	props_num(&p, "trial_started_ms", (double)a->trial_start_ms);
	fw_buf_adds(&p, "}");
	rec_props(out, i, &p);
	fw_buf_release(&p);
}

static void conversion_records(struct fw_billing *b, const struct acct *a, struct records *out)
{
	const struct fw_config *cfg = b->cfg;
	struct fw_buf p = {0};
	size_t i = rec_begin(out, FW_TRIAL_CONVERTED_EVENT, (struct fw_str){a->id, a->idlen},
			     (struct fw_str){0}, a->converted_ms, fw_now_ms());
	rec_id(out, i, "fw:trial-converted:%s:%lld", a->id, (long long)a->trial_start_ms);
	fw_buf_adds(&p, "{");
	props_str(&p, "plan", fw_str_c(a->converted_to));
	props_str(&p, "trial_plan", fw_str_c(cfg->plans[a->trial_plan].name));
	props_num(&p, "mrr", a->converted_mrr);
	props_num(&p, "trial_started_ms", (double)a->trial_start_ms);
	props_num(&p, "days_to_convert",
		  (double)(a->converted_ms - a->trial_start_ms) / (double)FW_MS_PER_DAY);
	fw_buf_adds(&p, a->converted_ms < a->trial_end_ms ? ",\"during_trial\":true}"
							   : ",\"during_trial\":false}");
	rec_props(out, i, &p);
	fw_buf_release(&p);
}

/* One trial account's due work: expiry, conversion record, reminders. */
static int tick_one(struct fw_billing *b, struct acct *a, int64_t now, struct fw_err *err)
{
	const struct fw_config *cfg = b->cfg;
	struct stripe *st = stripe_of(b, (struct fw_str){a->id, a->idlen});
	struct records out = {0};
	struct fw_trial_note notes[2];
	size_t nnotes = 0;
	const struct fw_plan *to = NULL;
	int expire = 0;
	pthread_mutex_lock(&st->mu);
	int running = a->trial_state == TRIAL_RUNNING && a->plan == a->trial_plan;
	if (running && now >= a->trial_end_ms && a->expired_for != a->trial_start_ms) {
		expiry_records(b, a, &out, &to);
		expire = 1;
		a->expired_for = a->trial_start_ms;
		note_of(b, a, FW_TRIAL_EXPIRED, a->trial_end_ms, &notes[nnotes]);
		snprintf(notes[nnotes].to_plan, sizeof notes[nnotes].to_plan, "%s",
			 to ? to->name : cfg->default_plan);
		notes[nnotes++].to_mrr = to ? to->price : 0;
	} else if (running) {
		/* the nearest reminder due, once; the farther ones are then past */
		int due = -1;
		for (size_t i = 0; i < cfg->ntrial_reminders && i < 32; i++) {
			double d = cfg->trial_reminder_days[i];
			if (!(a->reminded & (1u << i)) &&
			    now >= a->trial_end_ms - (int64_t)(d * FW_MS_PER_DAY) &&
			    (due < 0 || d < cfg->trial_reminder_days[due]))
				due = (int)i;
		}
		for (size_t i = 0; due >= 0 && i < cfg->ntrial_reminders && i < 32; i++)
			if (cfg->trial_reminder_days[i] >= cfg->trial_reminder_days[due])
				a->reminded |= 1u << i;
		if (due >= 0) {
			note_of(b, a, FW_TRIAL_ENDING, now, &notes[nnotes]);
			notes[nnotes++].days_left = (int)ceil(cfg->trial_reminder_days[due]);
		}
	}
	int convert = a->converted_ms && a->converted_for != a->trial_start_ms;
	if (convert) {
		conversion_records(b, a, &out);
		a->converted_for = a->trial_start_ms;
		note_of(b, a, FW_TRIAL_CONVERTED, a->converted_ms, &notes[nnotes]);
		snprintf(notes[nnotes].to_plan, sizeof notes[nnotes].to_plan, "%s", a->converted_to);
		notes[nnotes++].to_mrr = a->converted_mrr;
	}
	pthread_mutex_unlock(&st->mu);
	int rc = 0;
	if (out.n) {
		rec_fix(&out);
		for (size_t i = 0; i < out.n; i++)
			own_add(b, out.ev[i].message_id);
		uint8_t stored[4];
		rc = b->emit(b->emit_ctx, out.ev, out.n, stored, 1, err);
		pthread_mutex_lock(&st->mu);
		if (rc) { /* try again next tick */
			for (size_t i = 0; i < out.n; i++)
				own_take(b, out.ev[i].message_id);
			a->expired_for = expire ? 0 : a->expired_for;
			a->converted_for = convert ? 0 : a->converted_for;
			nnotes = 0;
		} else if (expire) {
			const char *name = notes[0].to_plan;
			apply_plan(b, a, fw_str_c(name), to ? to->price : 0, a->trial_end_ms, now);
		}
		pthread_mutex_unlock(&st->mu);
	}
	for (size_t i = 0; i < nnotes; i++)
		add_news(b, &notes[i], now);
	fw_buf_release(&out.text);
	return rc;
}

int fw_billing_tick(struct fw_billing *b, int64_t now_ms, struct fw_trial_note **notes,
		    size_t *n, struct fw_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&b->news_mu);
	for (size_t i = 0; i < b->trial_queue.n; i++)
		FW_PUSH(b->trials, b->trial_queue.v[i]);
	b->trial_queue.n = 0;
	pthread_mutex_unlock(&b->news_mu);
	for (size_t i = 0; i < b->trials.n && !rc; i++)
		rc = tick_one(b, b->trials.v[i], now_ms, err);
	pthread_mutex_lock(&b->news_mu);
	*notes = b->news.v;
	*n = b->news.n;
	b->news.v = NULL;
	b->news.n = b->news.cap = 0;
	pthread_mutex_unlock(&b->news_mu);
	return rc;
}

static int held_cmp(const void *x, const void *y)
{
	const struct held_plan *a = x, *b = y;
	return a->t != b->t ? (a->t < b->t ? -1 : 1) : a->seq < b->seq ? -1 : a->seq > b->seq;
}

void fw_billing_set_ready(struct fw_billing *b, int ready)
{
	if (ready && b->held.n) {
		qsort(b->held.v, b->held.n, sizeof *b->held.v, held_cmp);
		int64_t now = feed_now(b);
		for (size_t i = 0; i < b->held.n; i++) {
			struct held_plan *h = &b->held.v[i];
			struct stripe *st = stripe_of(b, (struct fw_str){h->a->id, h->a->idlen});
			pthread_mutex_lock(&st->mu);
			apply_plan(b, h->a, fw_str_c(h->plan), h->mrr, h->t, now);
			pthread_mutex_unlock(&st->mu);
		}
		free(b->held.v);
		b->held.v = NULL;
		b->held.n = b->held.cap = 0;
	}
	for (size_t i = 0; ready && i < b->held_trials.n; i++) {
		struct held_trial *h = &b->held_trials.v[i];
		struct stripe *st = stripe_of(b, (struct fw_str){h->a->id, h->a->idlen});
		pthread_mutex_lock(&st->mu);
		trial_seen(b, h->a, h, feed_now(b));
		pthread_mutex_unlock(&st->mu);
	}
	for (size_t i = 0; ready && i < b->held_usage.n; i++) {
		struct held_usage *h = &b->held_usage.v[i];
		struct stripe *st = stripe_of(b, (struct fw_str){h->a->id, h->a->idlen});
		pthread_mutex_lock(&st->mu);
		remember_answer(b, st, h->a, h);
		pthread_mutex_unlock(&st->mu);
	}
	if (ready) {
		free(b->held_trials.v);
		free(b->held_usage.v);
		b->held_trials = (__typeof__(b->held_trials)){0};
		b->held_usage = (__typeof__(b->held_usage)){0};
	}
	atomic_store(&b->ready, ready);
}

void fw_billing_fed_to(struct fw_billing *b, uint64_t seq)
{
	if (seq > b->next_seq)
		b->next_seq = seq;
}

int fw_billing_ready(struct fw_billing *b)
{
	return atomic_load(&b->ready);
}

void fw_billing_stats(struct fw_billing *b, struct fw_billing_stats *out)
{
	*out = (struct fw_billing_stats){.checks = atomic_load(&b->checks),
					 .consumed = atomic_load(&b->consumed),
					 .denied = atomic_load(&b->denied),
					 .prompts = atomic_load(&b->prompts),
					 .reports = atomic_load(&b->reports),
					 .fed = atomic_load(&b->fed)};
	for (int i = 0; i < STRIPES; i++) {
		pthread_mutex_lock(&b->stripes[i].mu);
		out->accounts += b->stripes[i].accts.n;
		pthread_mutex_unlock(&b->stripes[i].mu);
	}
}

/* ---- JSON ---- */

static void json_time(struct fw_buf *o, const char *key, int64_t ms)
{
	char t[32];
	fw_buf_printf(o, ",\"%s\":", key);
	if (!ms) {
		fw_buf_adds(o, "null");
		return;
	}
	fw_time_format_iso(ms, t);
	fw_json_write_str(o, t, strlen(t));
}

static void json_num(struct fw_buf *o, const char *key, double v)
{
	fw_buf_printf(o, ",\"%s\":", key);
	fw_json_write_double(o, v);
}

static void json_prompt(struct fw_buf *o, const struct fw_prompt *pr)
{
	fw_buf_adds(o, ",\"upgrade\":");
	if (!pr->show) {
		fw_buf_adds(o, "null");
		return;
	}
	fw_buf_adds(o, "{\"plan\":");
	fw_json_write_str(o, pr->to->name, strlen(pr->to->name));
	json_num(o, "price", pr->to->price);
	fw_buf_adds(o, ",\"limit\":");
	if (pr->limit < 0)
		fw_buf_adds(o, "null");
	else
		fw_json_write_double(o, pr->limit);
	fw_buf_adds(o, ",\"unlocks\":[");
	for (size_t i = 0; i < pr->nunlocks; i++) {
		if (i)
			fw_buf_adds(o, ",");
		fw_json_write_str(o, pr->unlocks[i], strlen(pr->unlocks[i]));
	}
	fw_buf_adds(o, "]}");
}

static const char *reason_name(enum fw_check_reason r)
{
	static const char *names[] = {"ok", "near_limit", "overage", "limit", "feature"};
	return names[r];
}

void fw_check_result_json(const struct fw_check *c, const struct fw_check_result *r,
			  struct fw_buf *o)
{
	fw_buf_printf(o, "{\"allowed\":%s,\"reason\":\"%s\",\"account_id\":",
		      r->allowed ? "true" : "false", reason_name(r->reason));
	fw_json_write_str(o, c->account.p, c->account.len);
	fw_buf_adds(o, ",\"plan\":");
	fw_json_write_str(o, r->plan_name, strlen(r->plan_name));
	fw_buf_printf(o, ",\"trial\":%s", r->trial ? "true" : "false");
	if (r->trial)
		json_time(o, "trial_ends_at", r->trial_ends_ms);
	if (c->kind == FW_CHECK_FEATURE) {
		fw_buf_adds(o, ",\"feature\":");
		fw_json_write_str(o, c->feature.p, c->feature.len);
	} else {
		fw_buf_adds(o, ",\"meter\":");
		fw_json_write_str(o, c->meter.p, c->meter.len);
		json_num(o, "usage", r->usage);
		fw_buf_adds(o, ",\"limit\":");
		if (r->has_limit) {
			fw_json_write_double(o, r->limit);
			json_num(o, "remaining", r->remaining);
			fw_buf_printf(o, ",\"hard\":%s", r->hard ? "true" : "false");
		} else {
			fw_buf_adds(o, "null,\"remaining\":null");
		}
		json_num(o, "overage", r->overage);
		json_time(o, "resets_at", r->reset_ms);
		fw_buf_printf(o, ",\"consumed\":%s", r->consumed ? "true" : "false");
	}
	fw_buf_printf(o, ",\"preflight\":%s,\"replayed\":%s", c->consume ? "false" : "true",
		      r->replayed ? "true" : "false");
	json_prompt(o, &r->prompt);
	fw_buf_adds(o, "}");
}

static const char *agg_name(enum fw_meter_agg a)
{
	static const char *names[] = {"count", "sum", "unique", "max"};
	return names[a];
}

static void json_limit(struct fw_buf *o, const struct fw_plan *plan, const char *meter,
		       double usage)
{
	const struct fw_plan_limit *l = fw_plan_limit_of(plan, meter);
	fw_buf_adds(o, ",\"limit\":");
	if (!l) {
		fw_buf_adds(o, "null,\"remaining\":null,\"hard\":null");
		return;
	}
	fw_json_write_double(o, l->limit);
	json_num(o, "remaining", l->limit > usage ? l->limit - usage : 0);
	fw_buf_printf(o, ",\"hard\":%s", l->hard ? "true" : "false");
}

void fw_billing_account_json(struct fw_billing *b, struct fw_str account, int64_t now,
			     struct fw_buf *o)
{
	const struct fw_config *cfg = b->cfg;
	struct stripe *st = stripe_of(b, account);
	pthread_mutex_lock(&st->mu);
	struct acct *a = acct_get(b, st, account, 1);
	if (!a) {
		pthread_mutex_unlock(&st->mu);
		fw_buf_adds(o, "null");
		return;
	}
	const struct fw_plan *plan = plan_of(b, a);
	fw_buf_adds(o, "{\"account_id\":");
	fw_json_write_str(o, a->id, a->idlen);
	fw_buf_adds(o, ",\"plan\":");
	fw_json_write_str(o, a->plan_name, strlen(a->plan_name));
	fw_buf_printf(o, ",\"known_plan\":%s", plan ? "true" : "false");
	json_num(o, "mrr", a->mrr);
	json_time(o, "plan_since", a->plan_ms == INT64_MIN ? 0 : a->plan_ms);
	fw_buf_adds(o, ",\"trial\":");
	if (!a->trial_start_ms) {
		fw_buf_adds(o, "null");
	} else {
		int running = a->trial_state == TRIAL_RUNNING && a->plan == a->trial_plan &&
			      now < a->trial_end_ms;
		fw_buf_adds(o, "{\"plan\":");
		const char *tp = cfg->plans[a->trial_plan].name;
		fw_json_write_str(o, tp, strlen(tp));
		fw_buf_printf(o, ",\"state\":\"%s\"",
			      running ? "running" : a->converted_ms ? "converted" : "ended");
		json_time(o, "started_at", a->trial_start_ms);
		json_time(o, "ends_at", a->trial_end_ms);
		json_time(o, "converted_at", a->converted_ms);
		fw_buf_adds(o, ",\"days_to_convert\":");
		if (a->converted_ms)
			fw_json_write_double(o, (double)(a->converted_ms - a->trial_start_ms) /
							(double)FW_MS_PER_DAY);
		else
			fw_buf_adds(o, "null");
		fw_buf_adds(o, "}");
	}
	fw_buf_adds(o, ",\"features\":[");
	for (size_t i = 0; plan && i < plan->features.n; i++) {
		if (i)
			fw_buf_adds(o, ",");
		fw_json_write_str(o, plan->features.items[i], strlen(plan->features.items[i]));
	}
	fw_buf_adds(o, "],\"meters\":[{\"meter\":\"seats\",\"aggregate\":\"members\"");
	json_num(o, "usage", (double)a->seats);
	json_limit(o, plan, "seats", (double)a->seats);
	fw_buf_adds(o, ",\"resets_at\":null}");
	for (size_t i = 0; i < cfg->nmeters; i++) {
		const struct fw_meter *m = &cfg->meters[i];
		struct mstate *s = &a->m[i];
		roll(m, a, s, now);
		fw_buf_adds(o, ",{\"meter\":");
		fw_json_write_str(o, m->name, strlen(m->name));
		fw_buf_printf(o, ",\"aggregate\":\"%s\"", agg_name(m->agg));
		json_num(o, "usage", s->value);
		json_limit(o, plan, m->name, s->value);
		json_time(o, "period_start", s->period.start_ms);
		json_time(o, "resets_at", s->period.end_ms);
		json_num(o, "records", (double)s->records);
		json_num(o, "denials", (double)s->denials);
		fw_buf_adds(o, "}");
	}
	fw_buf_adds(o, "]}");
	pthread_mutex_unlock(&st->mu);
}
