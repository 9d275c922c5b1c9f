/*
 * metrics.c — the PLG metrics of DESIGN.md, computed exactly by its fine print.
 *
 * Loading (fw_plg_load) resolves every event to a person through the
 * identities the metadata store holds (so merges apply to earlier events) and
 * keeps, per person: sign-up time (first `Signed Up`, else the first identify
 * carrying traits.created_at), activation-event times and active days; per
 * account: creation (earliest of the created_at trait and its first event)
 * and plan changes (`Plan Changed` events and group calls whose traits carry
 * both plan and mrr); and invite acceptances. Computing a range is then a few
 * passes over those arrays.
 *
 * Conventions: UTC days; weeks start Monday; ranges half-open [from, to);
 * percentiles by nearest rank (value at rank ceil(p*n)); a ratio, mean or
 * percentile over nothing is null; counts and sums over nothing are 0.
 */
#include "flywheel/metrics.h"
#include "flywheel/dict.h"
#include "flywheel/json.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NONE INT64_MAX
#define DAY FW_MS_PER_DAY

struct person {
	int64_t signup_ms;       /* first Signed Up event */
	int64_t identify_ms;     /* first identify carrying created_at */
};

struct pair {
	uint32_t person;
	int64_t v; /* a time (activation) or a day number (activity) */
};

struct plan_change {
	uint32_t account;
	int64_t t;
	uint64_t seq; /* ties at the same ms keep log order */
	double mrr;
};

struct account {
	int64_t first_event_ms;
	int64_t created_trait_ms;
	int64_t created_trait_at; /* event time of the trait, latest wins */
};

struct invite {
	uint32_t inviter, invitee;
};

#define VEC(T)            \
	struct {          \
		T *v;     \
		size_t n, cap; \
	}
#define PUSH(vec, x)                                                                  \
	do {                                                                          \
		if ((vec).n == (vec).cap) {                                           \
			(vec).cap = (vec).cap ? (vec).cap * 2 : 1024;                 \
			(vec).v = fw_xrealloc((vec).v, (vec).cap * sizeof *(vec).v);  \
		}                                                                     \
		(vec).v[(vec).n++] = (x);                                             \
	} while (0)

struct fw_plg {
	const struct fw_config *cfg;
	struct fw_dict ids;        /* distinct id -> index into id_person */
	VEC(uint32_t) id_person;   /* person index per distinct id */
	VEC(struct person) people;
	VEC(struct pair) activations; /* (person, time), sorted */
	VEC(struct pair) active;      /* (person, day), sorted and unique */
	VEC(struct pair) active_by_day; /* the same, sorted by (day, person) */
	struct fw_dict groups;
	VEC(struct account) accounts;
	VEC(struct plan_change) plans; /* sorted by (account, time, seq) */
	VEC(struct invite) invites;
	/* loading state */
	struct fw_dict person_keys; /* metadata person id (decimal) -> person index */
	struct fw_dict names;       /* event name -> cached activity flag */
	VEC(int8_t) name_active;
	struct fw_arena arena;
};

static uint32_t new_person(struct fw_plg *p)
{
	struct person x = {NONE, NONE};
	PUSH(p->people, x);
	return (uint32_t)(p->people.n - 1);
}

/* Person index of a distinct id; an id the metadata never saw is a person of its own. */
static uint32_t person_of(struct fw_plg *p, struct fw_str did)
{
	uint32_t id = fw_dict_intern(&p->ids, did.p, did.len);
	if (id >= p->id_person.n) {
		uint32_t np = new_person(p);
		PUSH(p->id_person, np);
	}
	return p->id_person.v[id];
}

static void on_identity(void *ctx, struct fw_str did, int64_t meta_person, struct fw_str user_id)
{
	(void)user_id;
	struct fw_plg *p = ctx;
	char key[24];
	int n = snprintf(key, sizeof key, "%lld", (long long)meta_person);
	uint32_t k = fw_dict_intern(&p->person_keys, key, (size_t)n);
	if (k >= p->people.n)
		new_person(p);
	uint32_t id = fw_dict_intern(&p->ids, did.p, did.len);
	while (p->id_person.n <= id)
		PUSH(p->id_person, UINT32_MAX);
	p->id_person.v[id] = k;
}

static uint32_t account_of(struct fw_plg *p, struct fw_str gid)
{
	uint32_t id = fw_dict_intern(&p->groups, gid.p, gid.len);
	if (id >= p->accounts.n) {
		struct account a = {NONE, NONE, INT64_MIN};
		PUSH(p->accounts, a);
	}
	return id;
}

static int is_active(struct fw_plg *p, struct fw_str name)
{
	uint32_t id = fw_dict_intern(&p->names, name.p, name.len);
	if (id >= p->name_active.n)
		PUSH(p->name_active, (int8_t)fw_config_is_active(p->cfg, name.p, name.len));
	return p->name_active.v[id];
}

static int num_value(const struct fw_json *v, double *out)
{
	if (!v)
		return -1;
	if (v->type == FW_JSON_NUMBER) {
		*out = v->u.num;
		return 0;
	}
	if (v->type == FW_JSON_STRING && v->u.str.len && v->u.str.len < 40) {
		char tmp[48], *end;
		memcpy(tmp, v->u.str.p, v->u.str.len);
		tmp[v->u.str.len] = 0;
		*out = strtod(tmp, &end);
		return *end ? -1 : 0;
	}
	return -1;
}

static int time_value(const struct fw_json *v, int64_t *ms)
{
	if (!v)
		return -1;
	if (v->type == FW_JSON_STRING)
		return fw_time_parse_iso(v->u.str.p, v->u.str.len, ms);
	if (v->type == FW_JSON_NUMBER) {
		*ms = fw_time_from_epoch(v->u.num);
		return 0;
	}
	return -1;
}

static const struct fw_json *parse_obj(struct fw_plg *p, struct fw_str text)
{
	struct fw_json *root;
	struct fw_json_error je;
	if (!text.len || fw_json_parse(&p->arena, text.p, text.len, &root, &je) ||
	    root->type != FW_JSON_OBJECT)
		return NULL;
	return root;
}

static void add_plan_change(struct fw_plg *p, uint32_t account, int64_t t, uint64_t seq,
			    const struct fw_json *obj)
{
	double mrr;
	if (!fw_json_get(obj, p->cfg->plan_property) || num_value(fw_json_get(obj, p->cfg->mrr_property), &mrr))
		return;
	struct plan_change c = {account, t, seq, mrr};
	PUSH(p->plans, c);
}

static int load_record(void *ctx, uint64_t seq, const struct fw_event *e)
{
	struct fw_plg *p = ctx;
	const struct fw_config *c = p->cfg;
	struct fw_str did = fw_event_distinct_id(e);
	uint32_t account = e->group_id.len ? account_of(p, e->group_id) : UINT32_MAX;
	/* an account's first event: its events and the group calls naming it
	 * (identify and alias are calls, not events) */
	if (account != UINT32_MAX && (fw_event_is_activity(e) || e->type == FW_MSG_GROUP) &&
	    e->time_ms < p->accounts.v[account].first_event_ms)
		p->accounts.v[account].first_event_ms = e->time_ms;
	if (e->type == FW_MSG_GROUP) {
		const struct fw_json *traits = parse_obj(p, e->traits);
		int64_t created;
		if (traits && account != UINT32_MAX) {
			struct account *a = &p->accounts.v[account];
			if (time_value(fw_json_get(traits, "created_at"), &created) == 0 &&
			    e->time_ms >= a->created_trait_at) {
				a->created_trait_ms = created;
				a->created_trait_at = e->time_ms;
			}
			add_plan_change(p, account, e->time_ms, seq, traits);
		}
		fw_arena_reset(&p->arena);
		return 0;
	}
	if (!did.len)
		return 0;
	uint32_t person = person_of(p, did);
	if (e->type == FW_MSG_IDENTIFY) {
		const struct fw_json *traits = parse_obj(p, e->traits);
		const struct fw_json *created = traits ? fw_json_get(traits, "created_at") : NULL;
		if (created && created->type != FW_JSON_NULL &&
		    !(created->type == FW_JSON_STRING && !created->u.str.len) &&
		    e->time_ms < p->people.v[person].identify_ms)
			p->people.v[person].identify_ms = e->time_ms;
		fw_arena_reset(&p->arena);
		return 0;
	}
	if (!fw_event_is_activity(e))
		return 0;
	if (fw_str_eq(e->event, c->signup_event) && e->time_ms < p->people.v[person].signup_ms)
		p->people.v[person].signup_ms = e->time_ms;
	if (fw_str_eq(e->event, c->activation_event)) {
		struct pair a = {person, e->time_ms};
		PUSH(p->activations, a);
	}
	if (is_active(p, e->event)) {
		struct pair d = {person, fw_day_floor(e->time_ms) / DAY};
		PUSH(p->active, d);
	}
	if (fw_str_eq(e->event, c->plan_event) && account != UINT32_MAX) {
		const struct fw_json *props = parse_obj(p, e->properties);
		if (props)
			add_plan_change(p, account, e->time_ms, seq, props);
	} else if (fw_str_eq(e->event, c->invite_accepted_event)) {
		const struct fw_json *props = parse_obj(p, e->properties);
		const struct fw_json *inviter = props ? fw_json_get(props, c->inviter_property) : NULL;
		/* ids sent as numbers are their decimal text, as everywhere */
		struct fw_str id = {0};
		if (inviter && inviter->type == FW_JSON_STRING)
			id = inviter->u.str;
		else if (inviter && inviter->type == FW_JSON_NUMBER && inviter->is_int)
			id = inviter->raw;
		if (id.len) {
			struct invite inv = {person_of(p, id), person};
			PUSH(p->invites, inv);
		}
	}
	fw_arena_reset(&p->arena);
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->person != y->person)
		return x->person < y->person ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v;
}

static int cmp_pair_day(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return x->person < y->person ? -1 : x->person > y->person;
}

static int cmp_plan(const void *a, const void *b)
{
	const struct plan_change *x = a, *y = b;
	if (x->account != y->account)
		return x->account < y->account ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_invite(const void *a, const void *b)
{
	const struct invite *x = a, *y = b;
	if (x->inviter != y->inviter)
		return x->inviter < y->inviter ? -1 : 1;
	return x->invitee < y->invitee ? -1 : x->invitee > y->invitee;
}

int fw_plg_load(struct fw_store *s, struct fw_meta *m, const struct fw_config *c,
		struct fw_plg **out, struct fw_err *err)
{
	struct fw_plg *p = fw_xcalloc(1, sizeof *p);
	p->cfg = c;
	fw_dict_init(&p->ids);
	fw_dict_init(&p->groups);
	fw_dict_init(&p->person_keys);
	fw_dict_init(&p->names);
	int rc = fw_meta_identities(m, on_identity, p, err);
	/* events in full only where a property matters */
	struct fw_str full[] = {fw_str_c(c->plan_event), fw_str_c(c->invite_accepted_event)};
	struct fw_scan q = {
		.ids_only_mask = (1u << FW_MSG_TRACK) | (1u << FW_MSG_PAGE) | (1u << FW_MSG_SCREEN),
		.full_names = full,
		.nfull_names = FW_ARRAY_LEN(full),
	};
	if (!rc)
		rc = fw_store_scan(s, &q, load_record, p, err);
	if (rc) {
		fw_plg_free(p);
		return rc;
	}
	qsort(p->activations.v, p->activations.n, sizeof *p->activations.v, cmp_pair);
	qsort(p->active.v, p->active.n, sizeof *p->active.v, cmp_pair);
	size_t w = 0;
	for (size_t i = 0; i < p->active.n; i++)
		if (!w || cmp_pair(&p->active.v[w - 1], &p->active.v[i]) != 0)
			p->active.v[w++] = p->active.v[i];
	p->active.n = w;
	p->active_by_day.v = fw_xmalloc((w + 1) * sizeof *p->active.v);
	memcpy(p->active_by_day.v, p->active.v, w * sizeof *p->active.v);
	p->active_by_day.n = p->active_by_day.cap = w;
	qsort(p->active_by_day.v, w, sizeof *p->active.v, cmp_pair_day);
	qsort(p->plans.v, p->plans.n, sizeof *p->plans.v, cmp_plan);
	qsort(p->invites.v, p->invites.n, sizeof *p->invites.v, cmp_invite);
	*out = p;
	return 0;
}

void fw_plg_free(struct fw_plg *p)
{
	if (!p)
		return;
	fw_dict_release(&p->ids);
	fw_dict_release(&p->groups);
	fw_dict_release(&p->person_keys);
	fw_dict_release(&p->names);
	free(p->id_person.v);
	free(p->people.v);
	free(p->activations.v);
	free(p->active.v);
	free(p->active_by_day.v);
	free(p->accounts.v);
	free(p->plans.v);
	free(p->invites.v);
	free(p->name_active.v);
	fw_arena_release(&p->arena);
	free(p);
}

/* ---- per-person facts ---- */

static int64_t signup_of(const struct fw_plg *p, uint32_t person)
{
	const struct person *x = &p->people.v[person];
	return x->signup_ms != NONE ? x->signup_ms : x->identify_ms;
}

/* First index in a (person, v)-sorted array with person >= `person`. */
static size_t lower_person(const struct pair *a, size_t n, uint32_t person, int64_t v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (a[mid].person < person || (a[mid].person == person && a[mid].v < v))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Time of the activation (the min_count-th activation event at or after
 * sign-up), or NONE. */
static int64_t activation_of(const struct fw_plg *p, uint32_t person, int64_t signup)
{
	size_t i = lower_person(p->activations.v, p->activations.n, person, signup);
	int need = p->cfg->activation_min_count > 0 ? p->cfg->activation_min_count : 1;
	for (; i < p->activations.n && p->activations.v[i].person == person; i++)
		if (--need == 0)
			return p->activations.v[i].v;
	return NONE;
}

/* Is the person active on any day in [d0, d1]? */
static int active_between(const struct fw_plg *p, uint32_t person, int64_t d0, int64_t d1)
{
	size_t i = lower_person(p->active.v, p->active.n, person, d0);
	return i < p->active.n && p->active.v[i].person == person && p->active.v[i].v <= d1;
}

/* Distinct people active on days [d0, d1]. */
static uint64_t active_people(const struct fw_plg *p, int64_t d0, int64_t d1, uint8_t *seen)
{
	size_t lo = 0, hi = p->active_by_day.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->active_by_day.v[mid].v < d0)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint64_t n = 0;
	size_t i;
	for (i = lo; i < p->active_by_day.n && p->active_by_day.v[i].v <= d1; i++)
		if (!seen[p->active_by_day.v[i].person]) {
			seen[p->active_by_day.v[i].person] = 1;
			n++;
		}
	for (size_t k = lo; k < i; k++)
		seen[p->active_by_day.v[k].person] = 0;
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the value at rank ceil(q*n) of the sorted values. */
static struct fw_metric_value percentile(double *v, size_t n, double q)
{
	if (!n)
		return (struct fw_metric_value){0, 0};
	qsort(v, n, sizeof *v, cmp_double);
	size_t rank = (size_t)ceil(q * (double)n);
	if (rank < 1)
		rank = 1;
	return (struct fw_metric_value){1, v[rank - 1]};
}

static struct fw_metric_value ratio(double num, double den)
{
	return den > 0 ? (struct fw_metric_value){1, num / den} : (struct fw_metric_value){0, 0};
}

static struct fw_metric_value count(double v)
{
	return (struct fw_metric_value){1, v};
}

/* Monday of the week of day number d (1970-01-01 was a Thursday). */
static int64_t week_start(int64_t d)
{
	int64_t dow = ((d + 3) % 7 + 7) % 7; /* 0 = Monday */
	return d - dow;
}

/* MRR of an account at time t: its latest plan change at or before t. */
static double mrr_at(const struct plan_change *c, size_t n, int64_t t)
{
	double mrr = 0;
	for (size_t i = 0; i < n && c[i].t <= t; i++)
		mrr = c[i].mrr;
	return mrr;
}

static void compute_range(const struct fw_plg *p, int64_t from, int64_t to,
			  struct fw_metric_value *out)
{
	const struct fw_config *c = p->cfg;
	size_t np = p->people.n;
	int64_t dfrom = from / DAY, dto = to / DAY; /* day numbers, [dfrom, dto) */

	/* sign-ups, activation, TTFV */
	uint64_t signups = 0, act1 = 0, act7 = 0;
	double *ttfv = fw_xmalloc((np + 1) * sizeof *ttfv);
	size_t nttfv = 0;
	for (uint32_t i = 0; i < np; i++) {
		int64_t s = signup_of(p, i);
		if (s == NONE || s < from || s >= to)
			continue;
		signups++;
		int64_t a = activation_of(p, i, s);
		if (a == NONE)
			continue;
		act1 += a - s <= 1 * DAY;
		act7 += a - s <= 7 * DAY;
		ttfv[nttfv++] = (double)(a - s) / 1000.0;
	}
	out[FW_M_SIGNUPS] = count((double)signups);
	out[FW_M_ACTIVATION_RATE_1D] = ratio((double)act1, (double)signups);
	out[FW_M_ACTIVATION_RATE_7D] = ratio((double)act7, (double)signups);
	out[FW_M_TTFV_MEDIAN_SECONDS] = percentile(ttfv, nttfv, 0.5);
	out[FW_M_TTFV_P90_SECONDS] = percentile(ttfv, nttfv, 0.9);
	free(ttfv);

	/* retention: pooled over sign-up days d in [from, to - N days) */
	uint64_t c1 = 0, r1 = 0, c7 = 0, r7 = 0, cw = 0, rw = 0;
	for (uint32_t i = 0; i < np; i++) {
		int64_t s = signup_of(p, i);
		if (s == NONE)
			continue;
		int64_t d = fw_day_floor(s) / DAY;
		if (d >= dfrom && d < dto - 1) {
			c1++;
			r1 += active_between(p, i, d + 1, d + 1);
		}
		if (d >= dfrom && d < dto - 7) {
			c7++;
			r7 += active_between(p, i, d + 7, d + 7);
			cw++;
			int64_t next = week_start(d) + 7;
			rw += active_between(p, i, next, next + 6);
		}
	}
	out[FW_M_RETENTION_D1] = ratio((double)r1, (double)c1);
	out[FW_M_RETENTION_D7] = ratio((double)r7, (double)c7);
	out[FW_M_RETENTION_W1] = ratio((double)rw, (double)cw);

	/* DAU/MAU: mean over days t in range of DAU(t)/MAU(t), MAU over (t-30d, t] */
	uint8_t *seen = fw_xcalloc(np + 1, 1);
	double sum = 0;
	uint64_t days = 0;
	for (int64_t t = dfrom; t < dto; t++) {
		uint64_t mau = active_people(p, t - 29, t, seen);
		if (!mau)
			continue;
		sum += (double)active_people(p, t, t, seen) / (double)mau;
		days++;
	}
	out[FW_M_DAU_MAU] = days ? (struct fw_metric_value){1, sum / (double)days}
				 : (struct fw_metric_value){0, 0};
	int64_t last = dto - 1;
	out[FW_M_WAU] = count(dto > dfrom ? (double)active_people(p, last - 6, last, seen) : 0);
	out[FW_M_MAU] = count(dto > dfrom ? (double)active_people(p, last - 29, last, seen) : 0);
	free(seen);

	/* accounts: creation, free-to-paid, conversion time, ACV, NRR, expansion */
	uint64_t started_free = 0, converted = 0;
	double *ttc = fw_xmalloc((p->accounts.n + 1) * sizeof *ttc), acv_sum = 0;
	size_t nttc = 0;
	double mrr_from = 0, mrr_to = 0, expansion = 0;
	int64_t window = (int64_t)c->conversion_window_days * DAY;
	for (size_t i = 0, a = 0; a < p->accounts.n; a++) {
		size_t j = i;
		while (j < p->plans.n && p->plans.v[j].account == a)
			j++;
		const struct plan_change *pc = p->plans.v + i;
		size_t n = j - i;
		i = j;
		const struct account *ac = &p->accounts.v[a];
		int64_t created = ac->first_event_ms;
		if (ac->created_trait_ms != NONE && ac->created_trait_ms < created)
			created = ac->created_trait_ms;
		int64_t first_paid = NONE;
		double first_paid_mrr = 0;
		for (size_t k = 0; k < n; k++)
			if (pc[k].mrr > 0) {
				first_paid = pc[k].t;
				first_paid_mrr = pc[k].mrr;
				break;
			}
		if (created != NONE && created >= from && created < to && mrr_at(pc, n, created) == 0) {
			started_free++;
			converted += first_paid != NONE && first_paid - created <= window;
		}
		if (first_paid != NONE && first_paid >= from && first_paid < to) {
			ttc[nttc++] = (double)(first_paid - created) / (double)DAY;
			acv_sum += 12.0 * first_paid_mrr;
		}
		double at_from = mrr_at(pc, n, from);
		if (at_from > 0) {
			mrr_from += at_from;
			mrr_to += mrr_at(pc, n, to);
		}
		double before = 0;
		for (size_t k = 0; k < n; k++) {
			if (pc[k].t >= from && pc[k].t < to && before > 0 && pc[k].mrr > before)
				expansion += pc[k].mrr - before;
			before = pc[k].mrr;
		}
	}
	out[FW_M_FREE_TO_PAID_RATE] = ratio((double)converted, (double)started_free);
	out[FW_M_ACV] = nttc ? (struct fw_metric_value){1, acv_sum / (double)nttc}
			     : (struct fw_metric_value){0, 0};
	out[FW_M_TIME_TO_CONVERT_MEDIAN_DAYS] = percentile(ttc, nttc, 0.5);
	free(ttc);
	out[FW_M_NRR] = ratio(mrr_to, mrr_from);
	out[FW_M_EXPANSION_MRR] = count(expansion);

	/* k-factor: distinct invitees per inviter who signed up within the window
	 * of the inviter's sign-up, over the inviters who signed up in range */
	int64_t kwin = (int64_t)c->k_factor_window_days * DAY;
	uint64_t invited = 0;
	for (size_t i = 0; i < p->invites.n; i++) {
		const struct invite *inv = &p->invites.v[i];
		if (i && inv->inviter == inv[-1].inviter && inv->invitee == inv[-1].invitee)
			continue; /* distinct invitees */
		if (inv->inviter == inv->invitee)
			continue;
		int64_t s = signup_of(p, inv->inviter), si = signup_of(p, inv->invitee);
		if (s == NONE || s < from || s >= to || si == NONE)
			continue;
		invited += si >= s && si - s <= kwin;
	}
	out[FW_M_K_FACTOR] = ratio((double)invited, (double)signups);
}

void fw_metrics_compute(const struct fw_plg *p, int64_t from_ms, int64_t to_ms,
			struct fw_metrics *out)
{
	out->from_ms = from_ms;
	out->to_ms = to_ms;
	compute_range(p, from_ms, to_ms, out->cur);
	compute_range(p, from_ms - (to_ms - from_ms), from_ms, out->prev);
}

static void write_value(struct fw_buf *b, struct fw_metric_value v)
{
	if (v.has)
		fw_json_write_double(b, v.v);
	else
		fw_buf_adds(b, "null");
}

void fw_metrics_json(const struct fw_metrics *m, const struct fw_config *c, struct fw_buf *out)
{
	char from[16], to[16];
	fw_time_format_day(m->from_ms, from);
	fw_time_format_day(m->to_ms, to);
	fw_buf_printf(out, "{\"from\":\"%s\",\"to\":\"%s\",\"metrics\":{", from, to);
	for (int i = 0; i < FW_M_COUNT; i++) {
		fw_buf_printf(out, "%s\"%s\":{\"value\":", i ? "," : "", fw_metric_names[i]);
		write_value(out, m->cur[i]);
		fw_buf_adds(out, ",\"previous\":");
		write_value(out, m->prev[i]);
		if (!isnan(c->targets[i])) {
			fw_buf_adds(out, ",\"target\":");
			fw_json_write_double(out, c->targets[i]);
		}
		fw_buf_addc(out, '}');
	}
	fw_buf_adds(out, "}}");
}
