/*
 * score_int.h — private to src/rules: the scorer's state, shared by the
 * engine (score.c) and its reports (score_report.c).
 *
 * Units have stable slots, keyed by string (a person's key, an account's
 * group id), so a result survives rebases: persons[slot], accounts[slot].
 * A person's events are the snapshot's (persons[slot].d, an index into the
 * dataset) followed in time by the overlay's (persons[slot].tail, indexes
 * into sc->tev): records stored after the snapshot.
 */
#ifndef FLYWHEEL_RULES_SCORE_INT_H
#define FLYWHEEL_RULES_SCORE_INT_H

#include "flywheel/score.h"

#include <pthread.h>

#define SC_NONE UINT32_MAX
#define SC_NEVER INT64_MAX
#define SC_MAX_DISTINCT 4 /* distinct properties counted, over all rules */
#define SC_DAY 86400000LL

/* What an event name means to the rules. */
enum {
	SC_ACTIVE = 1,
	SC_SIGNUP = 2,
	SC_ACTIVATION = 4,
	SC_PROCUREMENT = 8,
	SC_PAGEVIEW = 16,
	SC_LIMIT = 32, /* `Limit Reached`: expansion evidence */
};

struct sc_name {
	uint32_t flags;
	uint32_t rules; /* rules naming it in `events` (filters still apply) */
	uint64_t core, steps;
};

/* An overlay event: a record stored after the snapshot. */
struct sc_tev {
	int64_t t;
	uint32_t person, account; /* slots; account SC_NONE */
	uint32_t name;            /* id in sc->names */
	uint32_t rules;           /* rules it counts for (filters applied) */
	uint64_t dh[SC_MAX_DISTINCT]; /* hash of each distinct property's value, 0 = absent */
};

struct sc_person {
	uint32_t d;       /* dataset person index, or SC_NONE */
	int64_t meta;     /* metadata person id, 0 if unknown */
	int64_t signup_tail; /* earliest sign-up seen in the overlay */
	uint32_t domain;  /* email domain (id in sc->domains), or SC_NONE */
	uint8_t dirty, traits_dirty, free_mail;
	char **traits;    /* by sc->trait_keys id, JSON text; NULL = none loaded */
	FW_VEC(uint32_t) accounts; /* account slots */
	FW_VEC(uint32_t) tail;     /* overlay events, indexes into sc->tev */
	/* A join in the overlay (identify, alias) made two slots one person:
	 * the other's events count here (absorbed), and it is no unit of its
	 * own any more (merged_into). */
	uint32_t merged_into;      /* SC_NONE */
	FW_VEC(uint32_t) absorbed;
	/* last evaluation */
	int64_t signup, activated, last_active, procurement;
	uint32_t procurement_name, active7, prev7, limits7;
};

struct sc_account {
	uint32_t d;       /* dataset account id, or SC_NONE */
	uint32_t domain;  /* the domain trait (id in sc->domains), or SC_NONE */
	uint8_t dirty, traits_dirty;
	char **traits;
	FW_VEC(uint32_t) members; /* person slots */
	double tail_mrr;  /* latest plan change in the overlay */
	int64_t tail_mrr_t;
	/* last evaluation */
	double mrr;
	int64_t last_active;
	uint32_t active_people, active7, prev7, limits7;
};

struct sc_unit {
	struct fw_lead_state cur, saved;
	uint8_t changed; /* listed in sc->changes */
};

struct fw_scorer {
	const struct fw_config *cfg;
	const struct fw_scoring *sp;
	struct fw_meta *meta;
	pthread_mutex_t mu;
	size_t nrules;
	/* units */
	struct fw_dict person_keys, account_keys; /* key -> slot */
	FW_VEC(struct sc_person) persons;
	FW_VEC(struct sc_account) accounts;
	FW_VEC(struct sc_unit) units[2];          /* by unit kind, by slot */
	float *points;                            /* person slot * nrules + rule */
	size_t points_cap;
	struct fw_dict meta_ids;                  /* metadata person id (decimal) -> id */
	FW_VEC(uint32_t) meta_slot;               /* by that id: person slot */
	struct fw_dict dids;                      /* distinct id -> id (overlay resolution) */
	FW_VEC(uint32_t) did_slot;                /* by that id: person slot, SC_NONE = look up */
	/* names, domains, traits */
	struct fw_dict names;
	FW_VEC(struct sc_name) name_info;
	struct fw_dict domains;
	FW_VEC(uint32_t) domain_free;             /* free people per domain */
	uint8_t *domain_hot;                      /* free_domain trigger on */
	struct fw_dict trait_keys;                /* trait names the rules read */
	uint32_t email_keys[FW_CONFIG_MAX_LIST], nemail_keys, domain_key, plan_key;
	/* distinct properties (rules[r].distinct -> slot) */
	char *distinct_props[SC_MAX_DISTINCT];
	int ndistinct;
	int rule_distinct[FW_SCORING_MAX_RULES]; /* slot, or -1 */
	uint32_t filtered_rules;                  /* rules with `where` or `pages` */
	/* the snapshot */
	struct fw_dataset *d;
	const struct fw_plg *plg;
	uint32_t *d_person_slot, *d_account_slot, *d_name; /* dataset ids -> slots / names */
	uint32_t *d_rules;                        /* per dataset event ord: rules (filters applied) */
	uint64_t *d_dh[SC_MAX_DISTINCT];          /* per dataset column value id: value hash */
	const struct fw_column *d_dcol[SC_MAX_DISTINCT];
	/* the overlay */
	FW_VEC(struct sc_tev) tev;
	uint64_t next_seq;
	FW_VEC(uint32_t) dirty_persons, dirty_accounts;
	/* the changes of the last update */
	FW_VEC(uint32_t) changes[2];
	FW_VEC(struct fw_lead_change) out;
	struct fw_arena out_arena;
	int64_t now;
	struct fw_arena scratch;
	FW_VEC(struct walk_ev) walk;
};

/* One event of a person's walk. */
struct walk_ev {
	int64_t t;
	uint64_t order;     /* ties: snapshot events by log order, then the overlay's */
	uint32_t name, rules;
	const uint64_t *dh; /* overlay: its hashes; NULL: from the snapshot's columns */
	uint32_t ord;
};

/* One rule's outcome for a person, with its evidence. */
struct sc_rule_result {
	double value;          /* what the rule measured */
	int base;              /* points before decay */
	double points;         /* after decay */
	uint32_t count;        /* events behind it */
	int64_t first, last;   /* their times */
	uint32_t example[3];   /* names of the newest three (ids in sc->names) */
	int64_t example_t[3];
	uint32_t nexample;
};

/* Evaluate person `slot` at sc->now; fills sc->points and the person's
 * evaluation fields; with `res` (nrules entries), the evidence too. */
void sc_eval_person(struct fw_scorer *sc, uint32_t slot, struct sc_rule_result *res);
/* Score, route and triggers of an account from its members' points. */
void sc_eval_account(struct fw_scorer *sc, uint32_t slot, double *rule_points,
		     uint32_t *rule_from);
/* The route a score alone gives. */
int sc_route_of_score(const struct fw_scoring *sp, int score);
/* A plan's limit on `meter` ("seats" or a meter's name), or NAN. */
double sc_plan_limit(const struct fw_config *c, const char *plan, const char *meter);
/* An account's plan: its `plan` trait, else the config's default plan. */
const char *sc_account_plan(struct fw_scorer *sc, uint32_t slot, char *buf, size_t n);
/* Trait of a unit as text (strings unquoted), or NULL. */
const char *sc_trait(struct fw_scorer *sc, char **traits, uint32_t key, char *buf, size_t n);

#endif
