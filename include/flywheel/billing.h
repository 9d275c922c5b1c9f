/*
 * billing.h — plans, meters, entitlements and trials (DESIGN.md,
 * "Monetization"; docs/billing.md is the user's guide).
 *
 * The event log is the record. Everything billing knows is derived from it:
 *   - an account's plan: its latest `Plan Changed` event (config plan_event)
 *     or group call with a `plan` trait, by event time;
 *   - meters: the events of each meter's `events` that name the account,
 *     per billing period, plus `$usage` records (below);
 *   - seats: the account's members (metadata memberships).
 * What the entitlement API changes it writes to the log first, as records
 * of its own (source "internal", message ids starting "fw:"), so a restart,
 * the query engine and the PQL scores all see the same thing:
 *   `$usage`                 a consuming check or a usage report: properties
 *                            meter, quantity, value, request_id (never an
 *                            active event; it has a person only if the caller
 *                            named one)
 *   `Plan Changed`           plan changes by API, trial start and expiry
 *   `Limit Reached`, `Premium Feature Attempted`, `Upgrade Prompt Shown`
 *                            denials and prompts, for the person named
 *   `Trial Started`, `Trial Expired`, `Trial Converted`
 *
 * Concurrency: checks run on any thread at once; each account's state sits
 * behind one of FW_BILLING_STRIPES locks. A consuming check reserves its
 * quantity under the lock, writes its `$usage` record, and waits until the
 * record is durable before answering; if the write fails the reservation is
 * undone. The same request id always gets the first answer back.
 */
#ifndef FLYWHEEL_BILLING_H
#define FLYWHEEL_BILLING_H

#include "flywheel/base.h"
#include "flywheel/config.h"
#include "flywheel/event.h"

#define FW_USAGE_EVENT "$usage"
#define FW_LIMIT_REACHED_EVENT "Limit Reached"
#define FW_FEATURE_ATTEMPTED_EVENT "Premium Feature Attempted"
#define FW_PROMPT_SHOWN_EVENT "Upgrade Prompt Shown"
#define FW_TRIAL_STARTED_EVENT "Trial Started"
#define FW_TRIAL_EXPIRED_EVENT "Trial Expired"
#define FW_TRIAL_CONVERTED_EVENT "Trial Converted"

/* ---- billing periods (src/bill/period.c) ---- */

struct fw_bill_period {
	int64_t start_ms, end_ms; /* [start, end), UTC */
};

/* The billing period holding time t. Calendar months start on the 1st at
 * 00:00 UTC. Anniversary periods start at 00:00 UTC on the anchor's day of
 * the month, or on the month's last day when it is shorter (an anchor on
 * the 31st bills from Feb 28 or 29, then Mar 31). */
struct fw_bill_period fw_period_at(int64_t t_ms, int anniversary, int64_t anchor_ms);

/* ---- meters (src/bill/period.c) ---- */

/* What one record adds to a meter. `props` is the record's properties,
 * parsed by the caller (NULL if none or not JSON). Returns 1 if the record
 * feeds meter `m` (an event named in m->events, or a `$usage` record naming
 * m), else 0. *num: the amount for count (1, or the usage record's
 * quantity), sum and max (the property's number, or a string holding one; a
 * record without it returns 0). *key: for unique, the value's exact JSON
 * text (pointing into the record), so "p1" and 1 are different values. */
struct fw_json;
int fw_meter_input(const struct fw_meter *m, const struct fw_event *e,
		   const struct fw_json *props, double *num, struct fw_str *key);

/* The meter named `name`, or NULL. */
const struct fw_meter *fw_config_meter(const struct fw_config *c, const char *name, size_t n);
/* The plan named `name`, or NULL. */
const struct fw_plan *fw_config_plan(const struct fw_config *c, const char *name, size_t n);
/* Plan p's limit on `meter` ("seats" or a meter's name), or NULL (p may be
 * NULL): none, so no limit. */
const struct fw_plan_limit *fw_plan_limit_of(const struct fw_plan *p, const char *meter);

/* ---- the engine (src/bill/billing.c) ---- */

struct fw_billing;

/* Where the engine writes its records: append `n` records to the event
 * store, setting stored[i] to 0 for a message id the store already held;
 * with `durable`, return only once they are on disk. */
typedef int (*fw_billing_emit_fn)(void *ctx, const struct fw_event *ev, size_t n,
				  uint8_t *stored, int durable, struct fw_err *err);

struct fw_billing *fw_billing_new(const struct fw_config *cfg, fw_billing_emit_fn emit,
				  void *emit_ctx);
void fw_billing_free(struct fw_billing *b);

/* Feed one durable record. Records the engine wrote itself and already
 * counted are recognised and skipped. Order does not matter within what is
 * fed before the engine is ready (a store scan delivers segments in their
 * row order): plan changes are kept until then and applied in time order.
 * After that, feed in log order. */
void fw_billing_feed(struct fw_billing *b, uint64_t seq, const struct fw_event *e);
/* Every record below `seq` has been fed. */
void fw_billing_fed_to(struct fw_billing *b, uint64_t seq);
/* The next seq the engine expects (0 at first). */
uint64_t fw_billing_next_seq(const struct fw_billing *b);

/* Tests: the clock the feed decides current periods by (0: the wall
 * clock). Checks, reports and ticks take their time as an argument. */
void fw_billing_set_now(struct fw_billing *b, int64_t now_ms);

/* Until the feed has read the log up to where it was at start, checks are
 * answered with FW_EAGAIN (the server's billing thread sets this). */
void fw_billing_set_ready(struct fw_billing *b, int ready);
int fw_billing_ready(struct fw_billing *b);

/* Seats: the members of an account, as the metadata counts them. */
void fw_billing_set_seats(struct fw_billing *b, struct fw_str account, int64_t seats);
/* Accounts whose membership may have changed since the last call (group
 * calls and events naming an account): the caller recounts their seats. */
size_t fw_billing_take_dirty(struct fw_billing *b, struct fw_str **accounts, struct fw_arena *a);
/* An account's creation (for anniversary periods): the earliest time seen. */
void fw_billing_set_created(struct fw_billing *b, struct fw_str account, int64_t created_ms);

/* ---- checks ---- */

enum fw_check_kind { FW_CHECK_FEATURE, FW_CHECK_METER };

struct fw_check {
	struct fw_str account;    /* required */
	struct fw_str user_id;    /* the person acting: emitted events are theirs */
	enum fw_check_kind kind;
	struct fw_str feature;    /* FW_CHECK_FEATURE */
	struct fw_str meter;      /* FW_CHECK_METER */
	double quantity;          /* how many more (count, sum), or the new level (max) */
	struct fw_str value;      /* unique meters: the value to add, as JSON text ("\"p1\"") */
	int consume;              /* 0 = preflight: answer only */
	struct fw_str request_id; /* required to consume: the idempotency key */
	int64_t now_ms;
};

enum fw_check_reason {
	FW_CHECK_OK,          /* allowed, under any limit */
	FW_CHECK_NEAR_LIMIT,  /* allowed, at prompt_share of the limit or more */
	FW_CHECK_OVERAGE,     /* allowed past a soft limit: overage recorded */
	FW_CHECK_LIMIT,       /* denied: a hard limit would be passed */
	FW_CHECK_FEATURE_DENIED, /* denied: the plan does not include the feature */
};

struct fw_prompt {
	int show;
	const struct fw_plan *to; /* the plan offered (NULL: none fits) */
	double limit;             /* its limit for the meter; < 0 = unlimited */
	const char *unlocks[FW_CONFIG_MAX_LIST]; /* features it adds */
	size_t nunlocks;
};

struct fw_check_result {
	int allowed;
	enum fw_check_reason reason;
	const struct fw_plan *plan; /* the account's plan (NULL: not in config) */
	char plan_name[72];
	int trial;                  /* the plan is a running trial */
	int64_t trial_ends_ms;
	int has_limit, hard;
	double usage;     /* before this check */
	double limit;     /* when has_limit */
	double remaining; /* after this check (consumed) or now (preflight) */
	double overage;   /* past a soft limit, after this check */
	int64_t reset_ms; /* end of the period; 0 for seats and features */
	struct fw_bill_period period;
	int consumed;     /* this check counted */
	int replayed;     /* an earlier answer for the same request id */
	struct fw_prompt prompt;
};

/* Answer a check. Returns 0 with *r filled; FW_EAGAIN before the engine is
 * ready; FW_EINVAL (unknown meter or
 * feature, bad quantity, a consume without request id; err says which),
 * FW_ECONFLICT (the same request id is in progress), or the emit error. */
int fw_billing_check(struct fw_billing *b, const struct fw_check *c, struct fw_check_result *r,
		     struct fw_err *err);

/* A usage report (POST /api/v1/usage): counted whatever the limits, once
 * per idempotency key. *replayed is set for a repeat. */
struct fw_usage_report {
	struct fw_str account, user_id, meter, key;
	struct fw_str value; /* unique meters: JSON text, as fw_check.value */
	double quantity;
	int64_t time_ms; /* event time (default now) */
	int64_t now_ms;
};
int fw_billing_report(struct fw_billing *b, const struct fw_usage_report *u, int *replayed,
		      struct fw_err *err);

/* ---- plans and trials ---- */

/* Change an account's plan (writes `Plan Changed` with the plan's price as
 * mrr unless mrr >= 0 is given). FW_EINVAL for an unknown plan. */
int fw_billing_set_plan(struct fw_billing *b, struct fw_str account, struct fw_str user_id,
			const char *plan, double mrr, int64_t now_ms, struct fw_err *err);
/* Start a trial of `plan` (NULL: the first plan with trial_days). FW_EINVAL
 * for a plan that is no trial; FW_ECONFLICT if the account already had one. */
int fw_billing_start_trial(struct fw_billing *b, struct fw_str account, struct fw_str user_id,
			   const char *plan, int64_t now_ms, int64_t *ends_ms, struct fw_err *err);

/* Trial news the engine found since the last call, for webhooks. */
enum fw_trial_news { FW_TRIAL_STARTED, FW_TRIAL_ENDING, FW_TRIAL_EXPIRED, FW_TRIAL_CONVERTED };
struct fw_trial_note {
	enum fw_trial_news what;
	char account[128];
	char plan[72], to_plan[72];
	int64_t started_ms, ends_ms, at_ms;
	int days_left;    /* FW_TRIAL_ENDING */
	double to_mrr;    /* FW_TRIAL_CONVERTED, FW_TRIAL_EXPIRED */
};

/* Expire the trials that ended by now_ms (writing their records) and list
 * what changed (started, ending within a reminder day, expired, converted)
 * since the last call. Reminders are listed once per trial and day count
 * in a process; the caller keeps them once across restarts (rules.db). */
int fw_billing_tick(struct fw_billing *b, int64_t now_ms, struct fw_trial_note **notes,
		    size_t *n, struct fw_err *err);

/* Queue the webhooks of `notes` (trial.started, trial.ending, trial.expired,
 * trial.converted) in rules.db's outbox, each once ever: a note queued
 * before queues nothing (src/meta/trial_notes.c). */
struct fw_rulesdb;
int fw_trial_notes_write(struct fw_rulesdb *db, const struct fw_config *cfg,
			 const struct fw_trial_note *notes, size_t n, int64_t now_ms,
			 size_t *queued, struct fw_err *err);

/* ---- reading ---- */

/* An account's plan, trial and every limit as JSON
 * (GET /api/v1/entitlements/ACCOUNT). */
void fw_billing_account_json(struct fw_billing *b, struct fw_str account, int64_t now_ms,
			     struct fw_buf *out);
/* A check's answer as JSON. */
void fw_check_result_json(const struct fw_check *c, const struct fw_check_result *r,
			  struct fw_buf *out);

struct fw_billing_stats {
	uint64_t accounts, checks, consumed, denied, prompts, reports, fed;
};
void fw_billing_stats(struct fw_billing *b, struct fw_billing_stats *out);

#endif
