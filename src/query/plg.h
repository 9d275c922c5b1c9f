/*
 * plg.h — private to src/query: the PLG facts fw_plg_load keeps (metrics.c),
 * laid out for the metrics engine (metrics.c) and the revenue and virality
 * analyses (revenue.c), which read them without copying.
 *
 * Indexes: people are dense indexes (a metadata person, or a distinct id the
 * metadata never saw); accounts are ids in `groups` (their group id). Every
 * array is sorted once at load as its comment says, so a range is answered
 * with binary searches and linear passes.
 *
 * Times are UTC epoch ms; a day is an epoch-day number (t / 86400000).
 * FW_PLG_NONE marks "never" (no sign-up, no activation, no creation).
 */
#ifndef FLYWHEEL_QUERY_PLG_H
#define FLYWHEEL_QUERY_PLG_H

#include "flywheel/dict.h"
#include "flywheel/metrics.h"

#define FW_PLG_NONE INT64_MAX

struct plg_person {
	int64_t signup_ms;    /* first `Signed Up` event (time, then log order) */
	int64_t identify_ms;  /* first identify carrying created_at */
	uint32_t key;	      /* id in fw_plg.keys: user id, else first distinct id */
	int8_t signup_paid;   /* channel of that sign-up event is a paid channel */
	int8_t identify_paid; /* the same, read from that identify's traits */
};

struct plg_pair {
	uint32_t person;
	int64_t v; /* a time (activation, invite sent) or a day number (activity) */
};

struct plg_plan_change {
	uint32_t account;
	int64_t t;
	uint64_t seq; /* ties at the same ms keep log order */
	double mrr;   /* >= 0: a negative or NaN mrr is 0 (paid <=> mrr > 0) */
};

struct plg_account {
	int64_t first_event_ms;
	int64_t created_trait_ms;
	int64_t created_trait_at; /* event time of the trait, latest wins */
};

struct plg_invite {
	uint32_t inviter, invitee;
};

/* An event that is one or more onboarding steps (bit i = onboarding_steps[i]). */
struct plg_step {
	uint32_t person;
	int64_t t;
	uint64_t mask;
};

/* Core features a person used on a day (bit i = core_features[i]). */
struct plg_feature_day {
	int64_t day;
	uint32_t person;
	uint64_t mask;
};

/* A message (event or call) of a person naming an account: a membership. */
struct plg_member {
	uint32_t account, person;
	int64_t t; /* the first such message */
};

/* Per event name: what it is to the metrics. */
struct plg_name {
	int8_t active;
	uint64_t steps, features;
};

struct fw_plg {
	const struct fw_config *cfg;
	struct fw_dict ids;	    /* distinct id -> index into id_person */
	FW_VEC(uint32_t) id_person; /* person index per distinct id */
	FW_VEC(struct plg_person) people;
	struct fw_dict keys;			 /* person keys (see plg_person.key) */
	FW_VEC(struct plg_pair) activations;	 /* (person, time), sorted */
	FW_VEC(struct plg_pair) active;		 /* (person, day), sorted and unique */
	FW_VEC(struct plg_pair) active_by_day;	 /* the same, sorted by (day, person) */
	FW_VEC(struct plg_pair) sent;		 /* invites sent: (person, time), sorted */
	FW_VEC(struct plg_step) steps;		 /* sorted by (person, t) */
	FW_VEC(struct plg_feature_day) features; /* sorted by (day, person), one per pair */
	struct fw_dict groups;
	FW_VEC(struct plg_account) accounts;
	FW_VEC(struct plg_plan_change) plans; /* sorted by (account, time, seq) */
	size_t *plan_off;		      /* account a: plans[plan_off[a] .. plan_off[a+1]) */
	FW_VEC(struct plg_invite) invites;    /* sorted by (inviter, invitee), may repeat */
	FW_VEC(struct plg_member) members;    /* sorted by (account, person), unique */
	/* loading state */
	struct fw_dict person_keys; /* metadata person id (decimal) -> person index */
	struct fw_dict names;	    /* event name -> index into name_info */
	struct fw_dict member_keys; /* (account, person) -> index into members */
	FW_VEC(struct plg_name) name_info;
	struct fw_arena arena;
	/* the last lookups, by content: rows come grouped by distinct id */
	struct plg_last {
		uint32_t len, id;
		char s[56];
	} last_did, last_group;
	uint32_t last_member_account, last_member_person, last_member;
};

/* Sign-up time of a person (first sign-up event, else first identify with
 * created_at), or FW_PLG_NONE. */
int64_t fw_plg_signup(const struct fw_plg *p, uint32_t person);
/* Time of the activation (the min_count-th activation event at or after
 * `signup`), or FW_PLG_NONE. */
int64_t fw_plg_activation(const struct fw_plg *p, uint32_t person, int64_t signup);
/* Creation of an account: earliest of its created_at trait and first event. */
int64_t fw_plg_created(const struct fw_plg *p, uint32_t account);
/* MRR at time t from an account's plan changes (sorted): the mrr of the
 * latest at or before t, 0 with none. */
double fw_plg_mrr_at(const struct plg_plan_change *c, size_t n, int64_t t);
/* The key a person is listed by (as the dataset names people). */
struct fw_str fw_plg_person_key(const struct fw_plg *p, uint32_t person);

#endif
