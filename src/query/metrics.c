/*
 * metrics.c — the PLG metrics of DESIGN.md, computed exactly by its fine print,
 * and the further metrics of its funnel table (docs/metrics.md defines each).
 *
 * Loading (fw_plg_load) resolves every event to a person through the
 * identities the metadata store holds (so merges apply to earlier events) and
 * keeps, per person: sign-up time (first `Signed Up`, else the first identify
 * carrying traits.created_at) and whether its channel is a paid one,
 * activation-event times, active days, onboarding steps, core features used
 * per day and invites sent; per account: creation (earliest of the created_at
 * trait and its first event), plan changes (`Plan Changed` events and group
 * calls whose traits carry both plan and mrr) and members; and invite
 * acceptances. The layout is in plg.h, which revenue.c reads too. Computing a
 * range is then a few linear passes and binary searches over those arrays.
 *
 * Conventions: UTC days; weeks start Monday; ranges half-open [from, to);
 * percentiles by nearest rank (value at rank ceil(p*n)); a ratio, mean or
 * percentile over nothing is null; counts and sums over nothing are 0.
 */
#include "plg.h"

#include "flywheel/json.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define NONE FW_PLG_NONE
#define DAY FW_MS_PER_DAY
#define VEC FW_VEC
#define PUSH FW_PUSH

static uint32_t new_person(struct fw_plg *p, struct fw_str key)
{
	struct plg_person x = {NONE, NONE, fw_dict_intern(&p->keys, key.p, key.len), 0, 0};
	PUSH(p->people, x);
	return (uint32_t)(p->people.n - 1);
}

/* Person index of a distinct id; an id the metadata never saw is a person of its own. */
static int last_is(const struct plg_last *l, struct fw_str s)
{
	return s.len < sizeof l->s && l->len == s.len && s.len && !memcmp(l->s, s.p, s.len);
}

static void last_set(struct plg_last *l, struct fw_str s, uint32_t id)
{
	if (s.len && s.len < sizeof l->s) {
		memcpy(l->s, s.p, s.len);
		l->len = s.len;
		l->id = id;
	}
}

static uint32_t person_lookup(struct fw_plg *p, struct fw_str did);

static uint32_t person_of(struct fw_plg *p, struct fw_str did)
{
	if (last_is(&p->last_did, did))
		return p->last_did.id;
	uint32_t person = person_lookup(p, did);
	last_set(&p->last_did, did, person);
	return person;
}

static uint32_t person_lookup(struct fw_plg *p, struct fw_str did)
{
	uint32_t id = fw_dict_intern(&p->ids, did.p, did.len);
	while (p->id_person.n <= id)
		PUSH(p->id_person, UINT32_MAX);
	if (p->id_person.v[id] == UINT32_MAX)
		p->id_person.v[id] = new_person(p, did);
	return p->id_person.v[id];
}

static void on_identity(void *ctx, struct fw_str did, int64_t meta_person, struct fw_str user_id)
{
	struct fw_plg *p = ctx;
	char key[24];
	int n = snprintf(key, sizeof key, "%lld", (long long)meta_person);
	uint32_t k = fw_dict_intern(&p->person_keys, key, (size_t)n);
	if (k >= p->people.n) /* first id of this person: keyed as the dataset keys it */
		new_person(p, user_id.len ? user_id : did);
	uint32_t id = fw_dict_intern(&p->ids, did.p, did.len);
	while (p->id_person.n <= id)
		PUSH(p->id_person, UINT32_MAX);
	p->id_person.v[id] = k;
}

static uint32_t account_of(struct fw_plg *p, struct fw_str gid)
{
	if (last_is(&p->last_group, gid))
		return p->last_group.id;
	uint32_t id = fw_dict_intern(&p->groups, gid.p, gid.len);
	if (id >= p->accounts.n) {
		struct plg_account a = {NONE, NONE, INT64_MIN};
		PUSH(p->accounts, a);
	}
	last_set(&p->last_group, gid, id);
	return id;
}

/* What an event name is to the metrics, cached per name. */
static const struct plg_name *name_info(struct fw_plg *p, struct fw_str name)
{
	uint32_t id = fw_dict_intern(&p->names, name.p, name.len);
	if (id >= p->name_info.n) {
		const struct fw_config *c = p->cfg;
		struct plg_name x = {(int8_t)fw_config_is_active(c, name.p, name.len), 0, 0};
		for (size_t i = 0; i < c->onboarding_steps.n; i++)
			if (fw_str_eq(name, c->onboarding_steps.items[i]))
				x.steps |= 1ull << i;
		for (size_t i = 0; i < c->core_features.n; i++)
			if (fw_str_eq(name, c->core_features.items[i]))
				x.features |= 1ull << i;
		PUSH(p->name_info, x);
	}
	return &p->name_info.v[id];
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

/* Is the sign-up's channel a paid one? The channel is the first of
 * channel_properties the object carries as a non-empty string; paid if it is
 * one of paid_channels, compared without regard to ASCII case. */
static int8_t channel_paid(const struct fw_config *c, const struct fw_json *obj)
{
	for (size_t i = 0; obj && i < c->channel_properties.n; i++) {
		const struct fw_json *v = fw_json_get(obj, c->channel_properties.items[i]);
		if (!v || v->type != FW_JSON_STRING || !v->u.str.len)
			continue;
		for (size_t k = 0; k < c->paid_channels.n; k++) {
			const char *pc = c->paid_channels.items[k];
			if (strlen(pc) == v->u.str.len && !strncasecmp(pc, v->u.str.p, v->u.str.len))
				return 1;
		}
		return 0;
	}
	return 0;
}

static void add_plan_change(struct fw_plg *p, uint32_t account, int64_t t, uint64_t seq,
			    const struct fw_json *obj)
{
	double mrr;
	if (!fw_json_get(obj, p->cfg->plan_property) ||
	    num_value(fw_json_get(obj, p->cfg->mrr_property), &mrr) || isinf(mrr))
		return;
	if (!(mrr > 0))
		mrr = 0; /* paid <=> mrr > 0: a negative (or NaN) mrr pays nothing */
	struct plg_plan_change c = {account, t, seq, mrr};
	PUSH(p->plans, c);
}

static void add_member(struct fw_plg *p, uint32_t account, uint32_t person, int64_t t)
{
	uint32_t key[2] = {account, person};
	uint32_t id = p->members.n && account == p->last_member_account &&
				      person == p->last_member_person
			      ? p->last_member
			      : fw_dict_intern(&p->member_keys, (const char *)key, sizeof key);
	p->last_member_account = account;
	p->last_member_person = person;
	p->last_member = id;
	if (id == p->members.n) {
		struct plg_member m = {account, person, t};
		FW_PUSH(p->members, m);
	} else if (t < p->members.v[id].t) {
		p->members.v[id].t = t;
	}
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
	/* a membership: any message of a person naming an account (as the metadata records it) */
	uint32_t person = did.len ? person_of(p, did) : UINT32_MAX;
	if (account != UINT32_MAX && person != UINT32_MAX)
		add_member(p, account, person, e->time_ms);
	if (e->type == FW_MSG_GROUP) {
		const struct fw_json *traits = parse_obj(p, e->traits);
		int64_t created;
		if (traits && account != UINT32_MAX) {
			struct plg_account *a = &p->accounts.v[account];
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
	if (person == UINT32_MAX)
		return 0;
	struct plg_person *x = &p->people.v[person];
	if (e->type == FW_MSG_IDENTIFY) {
		const struct fw_json *traits = parse_obj(p, e->traits);
		const struct fw_json *created = traits ? fw_json_get(traits, "created_at") : NULL;
		if (created && created->type != FW_JSON_NULL &&
		    !(created->type == FW_JSON_STRING && !created->u.str.len) &&
		    e->time_ms < x->identify_ms) {
			x->identify_ms = e->time_ms;
			x->identify_paid = channel_paid(c, traits);
		}
		fw_arena_reset(&p->arena);
		return 0;
	}
	if (!fw_event_is_activity(e))
		return 0;
	if (fw_str_eq(e->event, c->signup_event) && e->time_ms < x->signup_ms) {
		x->signup_ms = e->time_ms;
		x->signup_paid = channel_paid(c, parse_obj(p, e->properties));
	}
	if (fw_str_eq(e->event, c->activation_event)) {
		struct plg_pair a = {person, e->time_ms};
		PUSH(p->activations, a);
	}
	const struct plg_name *ni = name_info(p, e->event);
	int64_t day = fw_day_floor(e->time_ms) / DAY;
	if (ni->active) {
		struct plg_pair d = {person, day};
		PUSH(p->active, d);
	}
	if (ni->steps) {
		struct plg_step st = {person, e->time_ms, ni->steps};
		PUSH(p->steps, st);
	}
	if (ni->features) {
		struct plg_feature_day f = {day, person, ni->features};
		PUSH(p->features, f);
	}
	if (fw_str_eq(e->event, c->invite_sent_event)) {
		struct plg_pair s = {person, e->time_ms};
		PUSH(p->sent, s);
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
			struct plg_invite inv = {person_of(p, id), person};
			PUSH(p->invites, inv);
		}
	}
	fw_arena_reset(&p->arena);
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct plg_pair *x = a, *y = b;
	if (x->person != y->person)
		return x->person < y->person ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v;
}

static int cmp_pair_day(const void *a, const void *b)
{
	const struct plg_pair *x = a, *y = b;
	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return x->person < y->person ? -1 : x->person > y->person;
}

static int cmp_plan(const void *a, const void *b)
{
	const struct plg_plan_change *x = a, *y = b;
	if (x->account != y->account)
		return x->account < y->account ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_invite(const void *a, const void *b)
{
	const struct plg_invite *x = a, *y = b;
	if (x->inviter != y->inviter)
		return x->inviter < y->inviter ? -1 : 1;
	return x->invitee < y->invitee ? -1 : x->invitee > y->invitee;
}

static int cmp_step(const void *a, const void *b)
{
	const struct plg_step *x = a, *y = b;
	if (x->person != y->person)
		return x->person < y->person ? -1 : 1;
	return x->t < y->t ? -1 : x->t > y->t;
}

static int cmp_feature(const void *a, const void *b)
{
	const struct plg_feature_day *x = a, *y = b;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	return x->person < y->person ? -1 : x->person > y->person;
}

static int cmp_member(const void *a, const void *b)
{
	const struct plg_member *x = a, *y = b;
	if (x->account != y->account)
		return x->account < y->account ? -1 : 1;
	return x->person < y->person ? -1 : x->person > y->person;
}

/* qsort, also of an empty (NULL) array */
static void sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

int fw_plg_load(struct fw_store *s, struct fw_meta *m, const struct fw_config *c,
		struct fw_plg **out, struct fw_err *err)
{
	struct fw_plg *p = fw_xcalloc(1, sizeof *p);
	p->cfg = c;
	fw_dict_init(&p->ids);
	fw_dict_init(&p->keys);
	fw_dict_init(&p->groups);
	fw_dict_init(&p->person_keys);
	fw_dict_init(&p->names);
	fw_dict_init(&p->member_keys);
	int rc = fw_meta_identities(m, on_identity, p, err);
	/* events in full only where a property matters; calls for their traits */
	struct fw_str full[] = {fw_str_c(c->plan_event), fw_str_c(c->invite_accepted_event),
				fw_str_c(c->signup_event)};
	struct fw_scan q = {
		.ids_only_mask = (1u << FW_MSG_TRACK) | (1u << FW_MSG_PAGE) | (1u << FW_MSG_SCREEN),
		.full_names = full,
		.nfull_names = FW_ARRAY_LEN(full),
		.traits_only = 1,
	};
	if (!rc)
		rc = fw_store_scan(s, &q, load_record, p, err);
	if (rc) {
		fw_plg_free(p);
		return rc;
	}
	sort(p->activations.v, p->activations.n, sizeof *p->activations.v, cmp_pair);
	sort(p->active.v, p->active.n, sizeof *p->active.v, cmp_pair);
	size_t w = 0;
	for (size_t i = 0; i < p->active.n; i++)
		if (!w || cmp_pair(&p->active.v[w - 1], &p->active.v[i]) != 0)
			p->active.v[w++] = p->active.v[i];
	p->active.n = w;
	p->active_by_day.v = fw_xmalloc((w + 1) * sizeof *p->active.v);
	if (w)
		memcpy(p->active_by_day.v, p->active.v, w * sizeof *p->active.v);
	p->active_by_day.n = p->active_by_day.cap = w;
	sort(p->active_by_day.v, w, sizeof *p->active.v, cmp_pair_day);
	sort(p->sent.v, p->sent.n, sizeof *p->sent.v, cmp_pair);
	sort(p->steps.v, p->steps.n, sizeof *p->steps.v, cmp_step);
	/* features: one entry per (day, person), masks merged */
	sort(p->features.v, p->features.n, sizeof *p->features.v, cmp_feature);
	w = 0;
	for (size_t i = 0; i < p->features.n; i++) {
		if (w && !cmp_feature(&p->features.v[w - 1], &p->features.v[i]))
			p->features.v[w - 1].mask |= p->features.v[i].mask;
		else
			p->features.v[w++] = p->features.v[i];
	}
	p->features.n = w;
	sort(p->members.v, p->members.n, sizeof *p->members.v, cmp_member);
	fw_dict_release(&p->member_keys); /* loading state */
	fw_dict_init(&p->member_keys);
	sort(p->plans.v, p->plans.n, sizeof *p->plans.v, cmp_plan);
	p->plan_off = fw_xcalloc(p->accounts.n + 2, sizeof *p->plan_off);
	for (size_t i = 0; i < p->plans.n; i++)
		p->plan_off[p->plans.v[i].account + 1]++;
	for (size_t a = 0; a < p->accounts.n; a++)
		p->plan_off[a + 1] += p->plan_off[a];
	sort(p->invites.v, p->invites.n, sizeof *p->invites.v, cmp_invite);
	*out = p;
	return 0;
}

void fw_plg_free(struct fw_plg *p)
{
	if (!p)
		return;
	fw_dict_release(&p->ids);
	fw_dict_release(&p->keys);
	fw_dict_release(&p->groups);
	fw_dict_release(&p->person_keys);
	fw_dict_release(&p->names);
	fw_dict_release(&p->member_keys);
	free(p->id_person.v);
	free(p->people.v);
	free(p->activations.v);
	free(p->active.v);
	free(p->active_by_day.v);
	free(p->sent.v);
	free(p->steps.v);
	free(p->features.v);
	free(p->accounts.v);
	free(p->plans.v);
	free(p->plan_off);
	free(p->invites.v);
	free(p->members.v);
	free(p->name_info.v);
	fw_arena_release(&p->arena);
	free(p);
}

/* ---- per-person and per-account facts ---- */

int64_t fw_plg_signup(const struct fw_plg *p, uint32_t person)
{
	const struct plg_person *x = &p->people.v[person];
	return x->signup_ms != NONE ? x->signup_ms : x->identify_ms;
}

static int signup_paid(const struct fw_plg *p, uint32_t person)
{
	const struct plg_person *x = &p->people.v[person];
	return x->signup_ms != NONE ? x->signup_paid : x->identify_paid;
}

struct fw_str fw_plg_person_key(const struct fw_plg *p, uint32_t person)
{
	return fw_dict_str(&p->keys, p->people.v[person].key);
}

/* First index in a (person, v)-sorted array with (person, v) >= (person, v). */
static size_t lower_person(const struct plg_pair *a, size_t n, uint32_t person, int64_t v)
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

int64_t fw_plg_activation(const struct fw_plg *p, uint32_t person, int64_t signup)
{
	size_t i = lower_person(p->activations.v, p->activations.n, person, signup);
	int need = p->cfg->activation_min_count > 0 ? p->cfg->activation_min_count : 1;
	for (; i < p->activations.n && p->activations.v[i].person == person; i++)
		if (--need == 0)
			return p->activations.v[i].v;
	return NONE;
}

int64_t fw_plg_created(const struct fw_plg *p, uint32_t account)
{
	const struct plg_account *ac = &p->accounts.v[account];
	int64_t created = ac->first_event_ms;
	if (ac->created_trait_ms != NONE && ac->created_trait_ms < created)
		created = ac->created_trait_ms;
	return created;
}

/* Did the person do every onboarding step (any order) at or after `signup`? */
static int onboarded(const struct fw_plg *p, uint32_t person, int64_t signup, uint64_t all)
{
	size_t lo = 0, hi = p->steps.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct plg_step *x = &p->steps.v[mid];
		if (x->person < person || (x->person == person && x->t < signup))
			lo = mid + 1;
		else
			hi = mid;
	}
	uint64_t done = 0;
	for (size_t i = lo; i < p->steps.n && p->steps.v[i].person == person; i++)
		done |= p->steps.v[i].mask;
	return (done & all) == all;
}

/* Is the person active on any day in [d0, d1]? */
static int active_between(const struct fw_plg *p, uint32_t person, int64_t d0, int64_t d1)
{
	size_t i = lower_person(p->active.v, p->active.n, person, d0);
	return i < p->active.n && p->active.v[i].person == person && p->active.v[i].v <= d1;
}

/* First index of active_by_day with day >= d. */
static size_t lower_day(const struct fw_plg *p, int64_t d)
{
	size_t lo = 0, hi = p->active_by_day.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->active_by_day.v[mid].v < d)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Distinct people active on days [d0, d1]. */
static uint64_t active_people(const struct fw_plg *p, int64_t d0, int64_t d1, uint8_t *seen)
{
	size_t lo = lower_day(p, d0);
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

static const struct fw_metric_value null_value = {0, 0};

/* Monday of the week of day number d (1970-01-01 was a Thursday). */
static int64_t week_start(int64_t d)
{
	int64_t dow = ((d + 3) % 7 + 7) % 7; /* 0 = Monday */
	return d - dow;
}

double fw_plg_mrr_at(const struct plg_plan_change *c, size_t n, int64_t t)
{
	size_t lo = 0, hi = n; /* first change after t */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c[mid].t <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? c[lo - 1].mrr : 0;
}

/* Bits of the distinct names of a list (a name listed twice counts once). */
static uint64_t distinct_mask(const struct fw_config_list *l)
{
	uint64_t m = 0;
	for (size_t i = 0; i < l->n; i++) {
		size_t j = 0;
		while (j < i && strcmp(l->items[j], l->items[i]))
			j++;
		if (j == i)
			m |= 1ull << i;
	}
	return m;
}

static uint64_t all_bits(size_t n)
{
	return n >= 64 ? ~0ull : (1ull << n) - 1;
}

/* feature_adoption (per core feature, into feat), feature_breadth and
 * active_days_per_week over the days [dfrom, dto). */
static void compute_usage(const struct fw_plg *p, int64_t dfrom, int64_t dto,
			  struct fw_metric_value *out, struct fw_metric_value *feat)
{
	const struct fw_config *c = p->cfg;
	size_t np = p->people.n, nf = c->core_features.n;
	/* people active on a day in range, and the core features each used in range */
	uint64_t *used = fw_xcalloc(np + 1, sizeof *used);
	uint8_t *seen = fw_xcalloc(np + 1, 1);
	uint32_t *list = fw_xmalloc((np + 1) * sizeof *list);
	size_t nactive = 0;
	for (size_t i = lower_day(p, dfrom); i < p->active_by_day.n && p->active_by_day.v[i].v < dto;
	     i++) {
		uint32_t x = p->active_by_day.v[i].person;
		if (!seen[x]) {
			seen[x] = 1;
			list[nactive++] = x;
		}
	}
	if (nf) {
		size_t lo = 0, hi = p->features.n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (p->features.v[mid].day < dfrom)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t i = lo; i < p->features.n && p->features.v[i].day < dto; i++)
			used[p->features.v[i].person] |= p->features.v[i].mask;
		uint64_t distinct = distinct_mask(&c->core_features), users[FW_CONFIG_MAX_LIST] = {0};
		double breadth = 0;
		for (size_t k = 0; k < nactive; k++) {
			uint64_t u = used[list[k]];
			breadth += (double)__builtin_popcountll(u & distinct);
			for (size_t f = 0; f < nf; f++)
				users[f] += (u >> f) & 1;
		}
		for (size_t f = 0; f < nf; f++)
			feat[f] = ratio((double)users[f], (double)nactive);
		out[FW_M_FEATURE_ADOPTION] = nactive ? count(breadth / (double)nactive) : null_value;
		out[FW_M_FEATURE_BREADTH] = ratio(breadth, (double)nactive);
	} else {
		out[FW_M_FEATURE_ADOPTION] = out[FW_M_FEATURE_BREADTH] = null_value;
	}
	free(used);
	free(seen);
	free(list);

	/* active days per (person, full calendar week) with any */
	int64_t w0 = week_start(dfrom) == dfrom ? dfrom : week_start(dfrom) + 7;
	int64_t wend = w0 + (dto > w0 ? (dto - w0) / 7 * 7 : 0);
	int64_t *week_of = fw_xmalloc((np + 1) * sizeof *week_of);
	for (size_t i = 0; i < np; i++)
		week_of[i] = INT64_MIN;
	uint64_t days = 0, person_weeks = 0;
	for (size_t i = lower_day(p, w0); i < p->active_by_day.n && p->active_by_day.v[i].v < wend;
	     i++) {
		const struct plg_pair *x = &p->active_by_day.v[i];
		int64_t w = week_start(x->v);
		days++;
		if (week_of[x->person] != w) {
			week_of[x->person] = w;
			person_weeks++;
		}
	}
	free(week_of);
	out[FW_M_ACTIVE_DAYS_PER_WEEK] = ratio((double)days, (double)person_weeks);
}

static void compute_range(const struct fw_plg *p, int64_t from, int64_t to,
			  struct fw_metric_value *out, struct fw_metric_value *feat)
{
	const struct fw_config *c = p->cfg;
	size_t np = p->people.n;
	int64_t dfrom = from / DAY, dto = to / DAY; /* day numbers, [dfrom, dto) */

	/* sign-ups (and their channels), activation, TTFV, onboarding */
	uint64_t signups = 0, paid = 0, act1 = 0, act7 = 0, onboard = 0;
	uint64_t steps_all = all_bits(c->onboarding_steps.n);
	double *ttfv = fw_xmalloc((np + 1) * sizeof *ttfv);
	size_t nttfv = 0;
	for (uint32_t i = 0; i < np; i++) {
		int64_t s = fw_plg_signup(p, i);
		if (s == NONE || s < from || s >= to)
			continue;
		signups++;
		paid += signup_paid(p, i) != 0;
		if (c->onboarding_steps.n)
			onboard += onboarded(p, i, s, steps_all);
		int64_t a = fw_plg_activation(p, i, s);
		if (a == NONE)
			continue;
		act1 += a - s <= 1 * DAY;
		act7 += a - s <= 7 * DAY;
		ttfv[nttfv++] = (double)(a - s) / 1000.0;
	}
	out[FW_M_SIGNUPS] = count((double)signups);
	out[FW_M_SIGNUPS_PAID] = count((double)paid);
	out[FW_M_SIGNUPS_ORGANIC] = count((double)(signups - paid));
	out[FW_M_ONBOARDING_COMPLETION] = c->onboarding_steps.n ? ratio((double)onboard, (double)signups)
								: null_value;
	out[FW_M_ACTIVATION_RATE_1D] = ratio((double)act1, (double)signups);
	out[FW_M_ACTIVATION_RATE_7D] = ratio((double)act7, (double)signups);
	out[FW_M_TTFV_MEDIAN_SECONDS] = percentile(ttfv, nttfv, 0.5);
	out[FW_M_TTFV_P90_SECONDS] = percentile(ttfv, nttfv, 0.9);
	free(ttfv);

	/* retention: pooled over sign-up days d in [from, to - N days) */
	uint64_t c1 = 0, r1 = 0, c7 = 0, r7 = 0, cw = 0, rw = 0;
	for (uint32_t i = 0; i < np; i++) {
		int64_t s = fw_plg_signup(p, i);
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
	out[FW_M_DAU_MAU] = days ? count(sum / (double)days) : null_value;
	int64_t last = dto - 1;
	out[FW_M_WAU] = count(dto > dfrom ? (double)active_people(p, last - 6, last, seen) : 0);
	out[FW_M_MAU] = count(dto > dfrom ? (double)active_people(p, last - 29, last, seen) : 0);
	free(seen);

	compute_usage(p, dfrom, dto, out, feat);

	/* accounts: creation, free-to-paid, conversion time, ACV, NRR, GRR and
	 * the MRR steps inside the range */
	uint64_t started_free = 0, converted = 0;
	double *ttc = fw_xmalloc((p->accounts.n + 1) * sizeof *ttc), acv_sum = 0;
	size_t nttc = 0;
	double mrr_from = 0, mrr_to = 0, kept = 0, expansion = 0, contraction = 0, churned = 0;
	int64_t window = (int64_t)c->conversion_window_days * DAY;
	for (size_t a = 0; a < p->accounts.n; a++) {
		const struct plg_plan_change *pc = p->plans.v + p->plan_off[a];
		size_t n = p->plan_off[a + 1] - p->plan_off[a];
		int64_t created = fw_plg_created(p, (uint32_t)a);
		int64_t first_paid = NONE;
		double first_paid_mrr = 0;
		for (size_t k = 0; k < n; k++)
			if (pc[k].mrr > 0) {
				first_paid = pc[k].t;
				first_paid_mrr = pc[k].mrr;
				break;
			}
		if (created != NONE && created >= from && created < to &&
		    fw_plg_mrr_at(pc, n, created) == 0) {
			started_free++;
			converted += first_paid != NONE && first_paid - created <= window;
		}
		if (first_paid != NONE && first_paid >= from && first_paid < to) {
			ttc[nttc++] = (double)(first_paid - created) / (double)DAY;
			acv_sum += 12.0 * first_paid_mrr;
		}
		double at_from = fw_plg_mrr_at(pc, n, from);
		if (at_from > 0) {
			double at_to = fw_plg_mrr_at(pc, n, to);
			mrr_from += at_from;
			mrr_to += at_to;
			kept += at_to < at_from ? at_to : at_from;
		}
		double before = 0;
		for (size_t k = 0; k < n; k++) {
			if (pc[k].t >= from && pc[k].t < to && before > 0) {
				if (pc[k].mrr > before)
					expansion += pc[k].mrr - before;
				else if (pc[k].mrr == 0)
					churned += before;
				else if (pc[k].mrr < before)
					contraction += before - pc[k].mrr;
			}
			before = pc[k].mrr;
		}
	}
	out[FW_M_FREE_TO_PAID_RATE] = ratio((double)converted, (double)started_free);
	out[FW_M_ACV] = nttc ? count(acv_sum / (double)nttc) : null_value;
	out[FW_M_TIME_TO_CONVERT_MEDIAN_DAYS] = percentile(ttc, nttc, 0.5);
	free(ttc);
	out[FW_M_NRR] = ratio(mrr_to, mrr_from);
	out[FW_M_GRR] = ratio(kept, mrr_from);
	out[FW_M_EXPANSION_MRR] = count(expansion);
	out[FW_M_CONTRACTION_MRR] = count(contraction);
	out[FW_M_CHURNED_MRR] = count(churned);

	/* k-factor: distinct invitees per inviter who signed up within the window
	 * of the inviter's sign-up, over the inviters who signed up in range */
	int64_t kwin = (int64_t)c->k_factor_window_days * DAY;
	uint64_t invited = 0;
	for (size_t i = 0; i < p->invites.n; i++) {
		const struct plg_invite *inv = &p->invites.v[i];
		if (i && inv->inviter == inv[-1].inviter && inv->invitee == inv[-1].invitee)
			continue; /* distinct invitees */
		if (inv->inviter == inv->invitee)
			continue;
		int64_t s = fw_plg_signup(p, inv->inviter), si = fw_plg_signup(p, inv->invitee);
		if (s == NONE || s < from || s >= to || si == NONE)
			continue;
		invited += si >= s && si - s <= kwin;
	}
	out[FW_M_K_FACTOR] = ratio((double)invited, (double)signups);
}

void fw_metrics_compute(const struct fw_plg *p, int64_t from_ms, int64_t to_ms,
			struct fw_metrics *out)
{
	memset(out, 0, sizeof *out);
	out->from_ms = from_ms;
	out->to_ms = to_ms;
	out->nfeatures = p->cfg->core_features.n;
	compute_range(p, from_ms, to_ms, out->cur, out->feature_cur);
	compute_range(p, from_ms - (to_ms - from_ms), from_ms, out->prev, out->feature_prev);
}

static void write_value(struct fw_buf *b, struct fw_metric_value v)
{
	if (v.has)
		fw_json_write_double(b, v.v);
	else
		fw_buf_adds(b, "null");
}

/* feature_adoption's value: {"Feature": share, …} over the distinct core features. */
static void write_features(struct fw_buf *b, const struct fw_config *c, struct fw_metric_value all,
			   const struct fw_metric_value *feat, size_t n)
{
	if (!all.has) {
		fw_buf_adds(b, "null");
		return;
	}
	uint64_t distinct = distinct_mask(&c->core_features);
	fw_buf_addc(b, '{');
	for (size_t i = 0, w = 0; i < n && i < c->core_features.n; i++) {
		if (!((distinct >> i) & 1))
			continue;
		if (w++)
			fw_buf_addc(b, ',');
		fw_json_write_str(b, c->core_features.items[i], strlen(c->core_features.items[i]));
		fw_buf_addc(b, ':');
		write_value(b, feat[i]);
	}
	fw_buf_addc(b, '}');
}

void fw_metrics_json(const struct fw_metrics *m, const struct fw_config *c, struct fw_buf *out)
{
	char from[16], to[16];
	fw_time_format_day(m->from_ms, from);
	fw_time_format_day(m->to_ms, to);
	fw_buf_printf(out, "{\"from\":\"%s\",\"to\":\"%s\",\"metrics\":{", from, to);
	for (int i = 0; i < FW_M_COUNT; i++) {
		fw_buf_printf(out, "%s\"%s\":{\"value\":", i ? "," : "", fw_metric_names[i]);
		if (i == FW_M_FEATURE_ADOPTION) {
			write_features(out, c, m->cur[i], m->feature_cur, m->nfeatures);
			fw_buf_adds(out, ",\"previous\":");
			write_features(out, c, m->prev[i], m->feature_prev, m->nfeatures);
		} else {
			write_value(out, m->cur[i]);
			fw_buf_adds(out, ",\"previous\":");
			write_value(out, m->prev[i]);
		}
		if (!isnan(c->targets[i])) {
			fw_buf_adds(out, ",\"target\":");
			fw_json_write_double(out, c->targets[i]);
		}
		fw_buf_addc(out, '}');
	}
	fw_buf_adds(out, "}}");
}

double fw_plg_account_mrr(const struct fw_plg *p, struct fw_str group_id, int64_t t,
			  int64_t *changed_ms)
{
	uint32_t a = p ? fw_dict_find(&p->groups, group_id.p, group_id.len) : UINT32_MAX;
	*changed_ms = INT64_MIN;
	if (a == UINT32_MAX || !p->plan_off)
		return 0;
	const struct plg_plan_change *c = p->plans.v + p->plan_off[a];
	size_t n = p->plan_off[a + 1] - p->plan_off[a];
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c[mid].t <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo)
		*changed_ms = c[lo - 1].t;
	return lo ? c[lo - 1].mrr : 0;
}
