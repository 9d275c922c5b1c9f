/*
 * score.c — the PQL scoring engine (score.h; the rules are docs/scoring.md).
 *
 * A person is evaluated by one walk over their events in time order: the
 * snapshot's run for them merged with their overlay events. Each rule keeps
 * a small accumulator (a count, distinct values, distinct days, the longest
 * run of days, a feature or step mask) and turns its value into points by
 * its steps; with a half-life, points decay by the age of the newest event
 * behind them. Whether an event counts for a rule with filters (`where`,
 * `pages`) is decided once per event: for the snapshot with its property
 * columns when the scorer rebases, for the overlay from the event's JSON when
 * it is fed.
 *
 * An account is evaluated from its members' points (each rule once: the best
 * member's points, or the sum over members for `per_person` rules) plus its
 * own traits, and gets the triggers, the activation guard and the at-risk
 * and expansion signals.
 */
#include "score_int.h"

#include "flywheel/billing.h"
#include "flywheel/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

const char *const fw_lead_unit_names[2] = {"person", "account"};

/* ---- slots ---- */

static void grow_points(struct fw_scorer *sc, size_t persons)
{
	size_t need = persons * sc->nrules;
	if (need <= sc->points_cap)
		return;
	size_t cap = sc->points_cap ? sc->points_cap : 1024;
	while (cap < need)
		cap *= 2;
	sc->points = fw_xrealloc(sc->points, cap * sizeof *sc->points);
	memset(sc->points + sc->points_cap, 0, (cap - sc->points_cap) * sizeof *sc->points);
	sc->points_cap = cap;
}

static uint32_t person_slot(struct fw_scorer *sc, struct fw_str key)
{
	uint32_t before = sc->person_keys.count;
	uint32_t slot = fw_dict_intern(&sc->person_keys, key.p, key.len);
	if (slot == before) {
		struct sc_person p = {.d = SC_NONE, .domain = SC_NONE, .signup_tail = SC_NEVER,
				      .merged_into = SC_NONE};
		FW_PUSH(sc->persons, p);
		struct sc_unit u = {0};
		FW_PUSH(sc->units[FW_LEAD_PERSON], u);
		grow_points(sc, sc->persons.n);
	}
	return slot;
}

static uint32_t account_slot(struct fw_scorer *sc, struct fw_str group)
{
	uint32_t before = sc->account_keys.count;
	uint32_t slot = fw_dict_intern(&sc->account_keys, group.p, group.len);
	if (slot == before) {
		struct sc_account a = {.d = SC_NONE, .domain = SC_NONE, .tail_mrr_t = INT64_MIN};
		FW_PUSH(sc->accounts, a);
		struct sc_unit u = {0};
		FW_PUSH(sc->units[FW_LEAD_ACCOUNT], u);
	}
	return slot;
}

static void add_member(struct fw_scorer *sc, uint32_t account, uint32_t person)
{
	struct sc_account *a = &sc->accounts.v[account];
	for (uint32_t i = 0; i < a->members.n; i++)
		if (a->members.v[i] == person)
			return;
	FW_PUSH(a->members, person);
	FW_PUSH(sc->persons.v[person].accounts, account);
	if (!a->dirty) {
		a->dirty = 1;
		FW_PUSH(sc->dirty_accounts, account);
	}
}

static uint32_t root(struct fw_scorer *sc, uint32_t slot)
{
	while (sc->persons.v[slot].merged_into != SC_NONE)
		slot = sc->persons.v[slot].merged_into;
	return slot;
}

static void mark_slot(struct fw_scorer *sc, uint32_t slot)
{
	if (!sc->persons.v[slot].dirty) {
		sc->persons.v[slot].dirty = 1;
		FW_PUSH(sc->dirty_persons, slot);
	}
}

static void mark_person(struct fw_scorer *sc, uint32_t slot)
{
	slot = root(sc, slot);
	if (!sc->persons.v[slot].dirty) {
		sc->persons.v[slot].dirty = 1;
		FW_PUSH(sc->dirty_persons, slot);
	}
}

static void mark_account(struct fw_scorer *sc, uint32_t slot)
{
	if (!sc->accounts.v[slot].dirty) {
		sc->accounts.v[slot].dirty = 1;
		FW_PUSH(sc->dirty_accounts, slot);
	}
}

/* Metadata person ids map to person slots. */
static uint32_t meta_slot(struct fw_scorer *sc, int64_t meta)
{
	char k[24];
	int n = snprintf(k, sizeof k, "%lld", (long long)meta);
	uint32_t id = fw_dict_find(&sc->meta_ids, k, (size_t)n);
	return id == SC_NONE ? SC_NONE : sc->meta_slot.v[id];
}

static void set_meta_slot(struct fw_scorer *sc, int64_t meta, uint32_t slot)
{
	char k[24];
	int n = snprintf(k, sizeof k, "%lld", (long long)meta);
	uint32_t id = fw_dict_intern(&sc->meta_ids, k, (size_t)n);
	while (sc->meta_slot.n <= id)
		FW_PUSH(sc->meta_slot, SC_NONE);
	sc->meta_slot.v[id] = slot;
	sc->persons.v[slot].meta = meta;
}

/* ---- names ---- */

static int in_list(const struct fw_config_list *l, struct fw_str s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->items[i]) == s.len && !memcmp(l->items[i], s.p, s.len))
			return 1;
	return 0;
}

static uint32_t name_id(struct fw_scorer *sc, struct fw_str name)
{
	uint32_t before = sc->names.count;
	uint32_t id = fw_dict_intern(&sc->names, name.p, name.len);
	if (id != before)
		return id;
	const struct fw_config *c = sc->cfg;
	struct sc_name ni = {0};
	if (fw_config_is_active(c, name.p, name.len))
		ni.flags |= SC_ACTIVE;
	if (fw_str_eq(name, c->signup_event))
		ni.flags |= SC_SIGNUP;
	if (fw_str_eq(name, c->activation_event))
		ni.flags |= SC_ACTIVATION;
	const struct fw_trigger_config *pt = &sc->sp->triggers[FW_TRIGGER_PROCUREMENT];
	if (pt->enabled && in_list(&pt->list, name))
		ni.flags |= SC_PROCUREMENT;
	if (fw_str_eq(name, "$pageview"))
		ni.flags |= SC_PAGEVIEW;
	if (fw_str_eq(name, "Limit Reached"))
		ni.flags |= SC_LIMIT;
	for (size_t i = 0; i < c->core_features.n && i < 64; i++)
		if (fw_str_eq(name, c->core_features.items[i]))
			ni.core |= 1ull << i;
	for (size_t i = 0; i < c->onboarding_steps.n && i < 64; i++)
		if (fw_str_eq(name, c->onboarding_steps.items[i]))
			ni.steps |= 1ull << i;
	for (size_t r = 0; r < sc->nrules; r++) {
		const struct fw_rule *rule = &sc->sp->rules[r];
		if (rule->measure == FW_MEASURE_EVENTS && in_list(&rule->events, name))
			ni.rules |= 1u << r;
	}
	FW_PUSH(sc->name_info, ni);
	return id;
}

/* ---- traits ---- */

static uint32_t trait_key(struct fw_scorer *sc, const char *k)
{
	return fw_dict_intern(&sc->trait_keys, k, strlen(k));
}

static void set_trait(char ***traits, uint32_t nkeys, uint32_t key, struct fw_str value)
{
	if (!*traits)
		*traits = fw_xcalloc(nkeys, sizeof **traits);
	free((*traits)[key]);
	(*traits)[key] = fw_xmalloc(value.len + 1);
	memcpy((*traits)[key], value.p, value.len);
	(*traits)[key][value.len] = 0;
}

static void free_traits(char ***traits, uint32_t nkeys)
{
	if (!*traits)
		return;
	for (uint32_t i = 0; i < nkeys; i++)
		free((*traits)[i]);
	free(*traits);
	*traits = NULL;
}

const char *sc_trait(struct fw_scorer *sc, char **traits, uint32_t key, char *buf, size_t n)
{
	if (!traits || key == SC_NONE || !traits[key])
		return NULL;
	const char *v = traits[key];
	if (*v != '"')
		return strcmp(v, "null") ? v : NULL;
	struct fw_json *root;
	struct fw_json_error je;
	const char *out = NULL;
	if (!fw_json_parse(&sc->scratch, v, strlen(v), &root, &je) && root->type == FW_JSON_STRING) {
		snprintf(buf, n, "%.*s", (int)root->u.str.len, root->u.str.p);
		out = buf;
	}
	fw_arena_reset(&sc->scratch);
	return out && *out ? out : NULL;
}

static uint32_t domain_id(struct fw_scorer *sc, const char *text)
{
	char d[256];
	size_t n = 0;
	if (!strncasecmp(text, "www.", 4))
		text += 4;
	for (; *text && n + 1 < sizeof d; text++)
		d[n++] = (char)(*text >= 'A' && *text <= 'Z' ? *text + 32 : *text);
	while (n && (d[n - 1] == '.' || d[n - 1] == ' '))
		n--;
	if (!n)
		return SC_NONE;
	uint32_t before = sc->domains.count;
	uint32_t id = fw_dict_intern(&sc->domains, d, n);
	if (id == before) {
		FW_PUSH(sc->domain_free, 0);
		sc->domain_hot = fw_xrealloc(sc->domain_hot, sc->domains.count);
		sc->domain_hot[id] = 0;
	}
	return id;
}

static int domain_listed(struct fw_scorer *sc, uint32_t domain, const struct fw_config_list *l)
{
	if (domain == SC_NONE)
		return 0;
	struct fw_str d = fw_dict_str(&sc->domains, domain);
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->items[i]) == d.len && !strncasecmp(l->items[i], d.p, d.len))
			return 1;
	return 0;
}

/* A person's email domain from their traits. */
static void person_domain(struct fw_scorer *sc, struct sc_person *p)
{
	p->domain = SC_NONE;
	p->free_mail = 0;
	char buf[320];
	for (uint32_t i = 0; i < sc->nemail_keys; i++) {
		const char *email = sc_trait(sc, p->traits, sc->email_keys[i], buf, sizeof buf);
		const char *at = email ? strrchr(email, '@') : NULL;
		if (at && at[1]) {
			p->domain = domain_id(sc, at + 1);
			p->free_mail = domain_listed(sc, p->domain,
						     &sc->sp->triggers[FW_TRIGGER_FREE_DOMAIN].list);
			return;
		}
	}
}

static void account_domain(struct fw_scorer *sc, struct sc_account *a)
{
	char buf[320];
	const char *d = sc_trait(sc, a->traits, sc->domain_key, buf, sizeof buf);
	if (d) {
		const char *s = strstr(d, "://");
		a->domain = domain_id(sc, s ? s + 3 : d);
	} else {
		a->domain = SC_NONE;
	}
}

static void on_person_trait(void *ctx, int64_t person, struct fw_str key, struct fw_str value)
{
	struct fw_scorer *sc = ctx;
	uint32_t k = fw_dict_find(&sc->trait_keys, key.p, key.len);
	uint32_t slot = meta_slot(sc, person);
	if (k == SC_NONE || slot == SC_NONE)
		return;
	set_trait(&sc->persons.v[slot].traits, sc->trait_keys.count, k, value);
}

static void on_account_trait(void *ctx, struct fw_str group, struct fw_str key, struct fw_str value)
{
	struct fw_scorer *sc = ctx;
	uint32_t k = fw_dict_find(&sc->trait_keys, key.p, key.len);
	if (k == SC_NONE)
		return;
	uint32_t slot = account_slot(sc, group);
	set_trait(&sc->accounts.v[slot].traits, sc->trait_keys.count, k, value);
}

static void reload_person_traits(struct fw_scorer *sc, uint32_t slot)
{
	struct sc_person *p = &sc->persons.v[slot];
	p->traits_dirty = 0;
	if (!p->meta)
		return;
	free_traits(&p->traits, sc->trait_keys.count);
	struct fw_err err;
	fw_meta_person_traits(sc->meta, NULL, p->meta, on_person_trait, sc, &err);
	person_domain(sc, &sc->persons.v[slot]);
}

static void reload_account_traits(struct fw_scorer *sc, uint32_t slot)
{
	struct sc_account *a = &sc->accounts.v[slot];
	a->traits_dirty = 0;
	free_traits(&a->traits, sc->trait_keys.count);
	struct fw_err err;
	fw_meta_account_traits(sc->meta, fw_dict_str(&sc->account_keys, slot), on_account_trait, sc,
			       &err);
	account_domain(sc, &sc->accounts.v[slot]);
}


/* ---- filters ---- */

static uint64_t value_hash(struct fw_str s)
{
	uint64_t h = XXH3_64bits(s.p, s.len);
	return h ? h : 1;
}

/* The text of property `prop` of an event's parsed properties, or an empty
 * string with p == NULL when absent or null. */
static struct fw_str prop_text(const struct fw_json *props, const char *prop)
{
	const struct fw_json *v = props ? fw_json_get(props, prop) : NULL;
	if (!v || v->type == FW_JSON_NULL)
		return (struct fw_str){0};
	return v->type == FW_JSON_STRING ? v->u.str : v->raw;
}

static int where_holds(const struct fw_rule *rule, const struct fw_json *props)
{
	for (size_t w = 0; w < rule->nwhere; w++) {
		struct fw_str v = prop_text(props, rule->where[w].prop);
		if (!v.p || !in_list(&rule->where[w].values, v))
			return 0;
	}
	return 1;
}

/* Rules an overlay event counts for. */
static uint32_t event_rules(struct fw_scorer *sc, uint32_t name, const struct fw_event *e,
			    uint64_t dh[SC_MAX_DISTINCT])
{
	const struct sc_name *ni = &sc->name_info.v[name];
	uint32_t cand = ni->rules;
	if (ni->flags & SC_PAGEVIEW)
		for (size_t r = 0; r < sc->nrules; r++)
			if (sc->sp->rules[r].pages.n)
				cand |= 1u << r;
	memset(dh, 0, SC_MAX_DISTINCT * sizeof *dh);
	if (!(cand & sc->filtered_rules) && !sc->ndistinct)
		return cand;
	struct fw_json *props = NULL;
	struct fw_json_error je;
	if (e->properties.len &&
	    fw_json_parse(&sc->scratch, e->properties.p, e->properties.len, &props, &je))
		props = NULL;
	uint32_t out = 0;
	for (size_t r = 0; r < sc->nrules; r++) {
		if (!(cand & (1u << r)))
			continue;
		const struct fw_rule *rule = &sc->sp->rules[r];
		if (!(ni->rules & (1u << r))) { /* a page view, matched by its name */
			struct fw_str page = prop_text(props, "name");
			if (!page.p || !in_list(&rule->pages, page))
				continue;
		}
		if (where_holds(rule, props))
			out |= 1u << r;
	}
	for (int k = 0; k < sc->ndistinct; k++) {
		struct fw_str v = prop_text(props, sc->distinct_props[k]);
		dh[k] = v.p ? value_hash(v) : 0;
	}
	fw_arena_reset(&sc->scratch);
	return out;
}

/* ---- creation ---- */

struct fw_scorer *fw_scorer_new(const struct fw_config *cfg, struct fw_meta *m)
{
	struct fw_scorer *sc = fw_xcalloc(1, sizeof *sc);
	sc->cfg = cfg;
	sc->sp = &cfg->scoring;
	sc->meta = m;
	sc->nrules = cfg->scoring.nrules;
	pthread_mutex_init(&sc->mu, NULL);
	fw_dict_init(&sc->person_keys);
	fw_dict_init(&sc->account_keys);
	fw_dict_init(&sc->meta_ids);
	fw_dict_init(&sc->dids);
	fw_dict_init(&sc->names);
	fw_dict_init(&sc->domains);
	fw_dict_init(&sc->trait_keys);
	for (size_t i = 0; i < sc->sp->email_traits.n; i++)
		sc->email_keys[sc->nemail_keys++] = trait_key(sc, sc->sp->email_traits.items[i]);
	sc->domain_key = trait_key(sc, sc->sp->domain_trait ? sc->sp->domain_trait : "domain");
	sc->plan_key = trait_key(sc, cfg->plan_property);
	for (size_t r = 0; r < sc->nrules; r++) {
		const struct fw_rule *rule = &sc->sp->rules[r];
		sc->rule_distinct[r] = -1;
		if (rule->measure == FW_MEASURE_TRAIT && rule->trait)
			trait_key(sc, rule->trait);
		if (rule->nwhere || rule->pages.n)
			sc->filtered_rules |= 1u << r;
		if (rule->distinct) {
			int k = 0;
			while (k < sc->ndistinct && strcmp(sc->distinct_props[k], rule->distinct))
				k++;
			if (k == sc->ndistinct && k < SC_MAX_DISTINCT)
				sc->distinct_props[sc->ndistinct++] = rule->distinct;
			sc->rule_distinct[r] = k < SC_MAX_DISTINCT ? k : -1;
		}
	}
	sc->now = INT64_MIN;
	return sc;
}

static void drop_snapshot_maps(struct fw_scorer *sc)
{
	free(sc->d_person_slot);
	free(sc->d_account_slot);
	free(sc->d_name);
	free(sc->d_rules);
	sc->d_person_slot = sc->d_account_slot = sc->d_name = sc->d_rules = NULL;
	for (int k = 0; k < SC_MAX_DISTINCT; k++) {
		free(sc->d_dh[k]);
		sc->d_dh[k] = NULL;
		sc->d_dcol[k] = NULL;
	}
}

void fw_scorer_free(struct fw_scorer *sc)
{
	if (!sc)
		return;
	for (uint32_t i = 0; i < sc->persons.n; i++) {
		struct sc_person *p = &sc->persons.v[i];
		free_traits(&p->traits, sc->trait_keys.count);
		free(p->accounts.v);
		free(p->tail.v);
		free(p->absorbed.v);
	}
	for (uint32_t i = 0; i < sc->accounts.n; i++) {
		free_traits(&sc->accounts.v[i].traits, sc->trait_keys.count);
		free(sc->accounts.v[i].members.v);
	}
	free(sc->persons.v);
	free(sc->accounts.v);
	for (int u = 0; u < 2; u++) {
		free(sc->units[u].v);
		free(sc->changes[u].v);
	}
	free(sc->points);
	free(sc->meta_slot.v);
	free(sc->did_slot.v);
	free(sc->name_info.v);
	free(sc->domain_free.v);
	free(sc->domain_hot);
	free(sc->tev.v);
	free(sc->dirty_persons.v);
	free(sc->dirty_accounts.v);
	free(sc->out.v);
	free(sc->walk.v);
	drop_snapshot_maps(sc);
	fw_dict_release(&sc->person_keys);
	fw_dict_release(&sc->account_keys);
	fw_dict_release(&sc->meta_ids);
	fw_dict_release(&sc->dids);
	fw_dict_release(&sc->names);
	fw_dict_release(&sc->domains);
	fw_dict_release(&sc->trait_keys);
	fw_arena_release(&sc->out_arena);
	fw_arena_release(&sc->scratch);
	pthread_mutex_destroy(&sc->mu);
	free(sc);
}

void fw_scorer_load_saved(struct fw_scorer *sc, enum fw_lead_unit unit, struct fw_str key,
			  const struct fw_lead_state *saved)
{
	pthread_mutex_lock(&sc->mu);
	uint32_t slot = unit == FW_LEAD_PERSON ? person_slot(sc, key) : account_slot(sc, key);
	struct sc_unit *u = &sc->units[unit].v[slot];
	u->saved = *saved;
	u->saved.exists = 1;
	u->cur = u->saved;
	pthread_mutex_unlock(&sc->mu);
}

int fw_scorer_ready(struct fw_scorer *sc)
{
	pthread_mutex_lock(&sc->mu);
	int ready = sc->d != NULL;
	pthread_mutex_unlock(&sc->mu);
	return ready;
}

uint64_t fw_scorer_next_seq(const struct fw_scorer *sc)
{
	return sc->next_seq;
}

uint64_t fw_scorer_overlay_size(const struct fw_scorer *sc)
{
	return sc->tev.n;
}

/* ---- feeding the overlay ---- */

/* The person slot of a distinct id, through the metadata (which has
 * applied the record already). */
static uint32_t resolve(struct fw_scorer *sc, struct fw_str did)
{
	uint32_t before = sc->dids.count;
	uint32_t id = fw_dict_intern(&sc->dids, did.p, did.len);
	if (id == before)
		FW_PUSH(sc->did_slot, SC_NONE);
	if (sc->did_slot.v[id] != SC_NONE)
		return sc->did_slot.v[id];
	char user[512];
	int64_t meta = sc->meta ? fw_meta_person_id(sc->meta, did, user, sizeof user) : 0;
	uint32_t slot = meta ? meta_slot(sc, meta) : SC_NONE;
	if (slot == SC_NONE) {
		slot = person_slot(sc, *user ? fw_str_c(user) : did);
		if (meta) {
			set_meta_slot(sc, meta, slot);
			sc->persons.v[slot].traits_dirty = 1;
		}
	}
	sc->did_slot.v[id] = slot;
	return slot;
}

static void forget_did(struct fw_scorer *sc, struct fw_str did)
{
	uint32_t id = did.len ? fw_dict_find(&sc->dids, did.p, did.len) : SC_NONE;
	if (id != SC_NONE)
		sc->did_slot.v[id] = SC_NONE;
}

static int traits_have(struct fw_scorer *sc, struct fw_str traits, const char *key, double *num)
{
	struct fw_json *root;
	struct fw_json_error je;
	int yes = 0;
	if (traits.len && !fw_json_parse(&sc->scratch, traits.p, traits.len, &root, &je)) {
		const struct fw_json *v = fw_json_get(root, key);
		yes = v && v->type != FW_JSON_NULL && !(v->type == FW_JSON_STRING && !v->u.str.len);
		if (yes && num)
			*num = v->type == FW_JSON_NUMBER ? v->u.num : v->type == FW_JSON_STRING ? atof(v->u.str.p) : NAN;
	}
	fw_arena_reset(&sc->scratch);
	return yes;
}

static void tail_plan(struct sc_account *a, int64_t t, double mrr)
{
	if (t >= a->tail_mrr_t) {
		a->tail_mrr_t = t;
		a->tail_mrr = isfinite(mrr) && mrr > 0 ? mrr : 0;
	}
}

/* Person slot `src` joined `dst` (an identify or alias after the snapshot):
 * its events and memberships count for dst from now on. */
static void absorb(struct fw_scorer *sc, uint32_t src, uint32_t dst)
{
	src = root(sc, src);
	dst = root(sc, dst);
	if (src == dst)
		return;
	struct sc_person *s = &sc->persons.v[src];
	s->merged_into = dst;
	FW_PUSH(sc->persons.v[dst].absorbed, src);
	for (uint32_t i = 0; i < s->absorbed.n; i++) {
		sc->persons.v[s->absorbed.v[i]].merged_into = dst;
		FW_PUSH(sc->persons.v[dst].absorbed, s->absorbed.v[i]);
	}
	s->absorbed.n = 0;
	for (uint32_t i = 0; i < s->accounts.n; i++) {
		struct sc_account *a = &sc->accounts.v[s->accounts.v[i]];
		for (uint32_t k = 0; k < a->members.n; k++)
			if (a->members.v[k] == src)
				a->members.v[k--] = a->members.v[--a->members.n];
		add_member(sc, s->accounts.v[i], dst);
		mark_account(sc, s->accounts.v[i]);
	}
	sc->persons.v[src].accounts.n = 0;
	mark_slot(sc, src);
	mark_person(sc, dst);
	sc->persons.v[dst].traits_dirty = 1;
}

struct join {
	struct fw_scorer *sc;
	uint32_t dst;
};

static void on_merged(void *ctx, int64_t merged)
{
	struct join *j = ctx;
	uint32_t s = meta_slot(j->sc, merged);
	if (s != SC_NONE)
		absorb(j->sc, s, j->dst);
}

/* After an identify or alias: the person `did` belongs to is listed by its
 * user id, and holds every person merged into it. Returns its slot. */
static uint32_t join(struct fw_scorer *sc, struct fw_str did, uint32_t slot)
{
	char user[512];
	int64_t meta = fw_meta_person_id(sc->meta, did, user, sizeof user);
	if (!meta)
		return slot;
	struct fw_str key = fw_dict_str(&sc->person_keys, slot);
	if (*user && !(key.len == strlen(user) && !memcmp(key.p, user, key.len))) {
		uint32_t dst = person_slot(sc, fw_str_c(user));
		absorb(sc, slot, dst);
		set_meta_slot(sc, meta, root(sc, dst));
		slot = dst;
	}
	struct join j = {sc, root(sc, slot)};
	fw_meta_merged_into(sc->meta, meta, on_merged, &j);
	return root(sc, slot);
}

void fw_scorer_feed(struct fw_scorer *sc, uint64_t seq, const struct fw_event *e)
{
	if (seq < sc->next_seq)
		return;
	pthread_mutex_lock(&sc->mu);
	sc->next_seq = seq + 1;
	if (e->type == FW_MSG_IDENTIFY || e->type == FW_MSG_ALIAS) {
		/* joins move ids between people: look them up again */
		forget_did(sc, e->user_id);
		forget_did(sc, e->anonymous_id);
		forget_did(sc, e->previous_id);
	}
	struct fw_str did = fw_event_distinct_id(e);
	if (!did.len) {
		pthread_mutex_unlock(&sc->mu);
		return;
	}
	uint32_t slot = resolve(sc, did);
	if ((e->type == FW_MSG_IDENTIFY || e->type == FW_MSG_ALIAS) && sc->meta)
		slot = join(sc, did, slot);
	slot = root(sc, slot);
	struct sc_person *p = &sc->persons.v[slot];
	mark_person(sc, slot);
	uint32_t account = e->group_id.len ? account_slot(sc, e->group_id) : SC_NONE;
	if (account != SC_NONE)
		add_member(sc, account, slot);
	double num;
	switch (e->type) {
	case FW_MSG_IDENTIFY:
		p->traits_dirty = 1;
		if (traits_have(sc, e->traits, "created_at", NULL) && e->time_ms < p->signup_tail)
			p->signup_tail = e->time_ms;
		break;
	case FW_MSG_GROUP:
		if (account != SC_NONE) {
			sc->accounts.v[account].traits_dirty = 1;
			mark_account(sc, account);
			if (traits_have(sc, e->traits, sc->cfg->plan_property, NULL) &&
			    traits_have(sc, e->traits, sc->cfg->mrr_property, &num))
				tail_plan(&sc->accounts.v[account], e->time_ms, num);
		}
		break;
	case FW_MSG_TRACK:
	case FW_MSG_PAGE:
	case FW_MSG_SCREEN: {
		struct sc_tev t = {.t = e->time_ms, .person = slot, .account = account};
		t.name = name_id(sc, e->event);
		t.rules = event_rules(sc, t.name, e, t.dh);
		if ((sc->name_info.v[t.name].flags & SC_SIGNUP) && e->time_ms < p->signup_tail)
			p->signup_tail = e->time_ms;
		if (account != SC_NONE && fw_str_eq(e->event, sc->cfg->plan_event) &&
		    traits_have(sc, e->properties, sc->cfg->mrr_property, &num))
			tail_plan(&sc->accounts.v[account], e->time_ms, num);
		FW_PUSH(sc->tev, t);
		FW_PUSH(p->tail, sc->tev.n - 1);
		break;
	}
	default:
		break;
	}
	pthread_mutex_unlock(&sc->mu);
}

/* ---- evaluation ---- */

static int step_points(const struct fw_rule *rule, double v)
{
	int pts = 0;
	for (size_t s = 0; s < rule->nsteps; s++)
		if (v >= rule->steps[s].min && v <= rule->steps[s].max)
			pts = rule->steps[s].points;
	return pts;
}

static double decayed(const struct fw_scoring *sp, const struct fw_rule *rule, int base,
		      int64_t last, int64_t now)
{
	double hl = isnan(rule->half_life_days) ? sp->half_life_days : rule->half_life_days;
	if (!base || hl <= 0 || last == SC_NEVER || last >= now)
		return base;
	return base * pow(0.5, (double)(now - last) / (hl * SC_DAY));
}

static int trait_matches(struct fw_scorer *sc, const struct fw_rule *rule, char **traits)
{
	char buf[256];
	uint32_t k = fw_dict_find(&sc->trait_keys, rule->trait, strlen(rule->trait));
	const char *v = sc_trait(sc, traits, k, buf, sizeof buf);
	if (!v)
		return -1; /* absent */
	if (rule->trait_in.n) {
		for (size_t i = 0; i < rule->trait_in.n; i++)
			if (!strcasecmp(rule->trait_in.items[i], v))
				return 1;
		return 0;
	}
	char *end;
	double x = strtod(v, &end);
	if (end == v || *end)
		return 0;
	return (isnan(rule->trait_min) || x >= rule->trait_min) &&
	       (isnan(rule->trait_max) || x <= rule->trait_max);
}

/* A person's trait rule: their accounts' trait, else their own. */
static int person_trait(struct fw_scorer *sc, const struct fw_rule *rule, const struct sc_person *p)
{
	for (uint32_t i = 0; i < p->accounts.n; i++) {
		int m = trait_matches(sc, rule, sc->accounts.v[p->accounts.v[i]].traits);
		if (m >= 0)
			return m;
	}
	return trait_matches(sc, rule, p->traits) > 0;
}

struct acc {
	uint32_t count, days, run, best;
	int64_t first, last, last_day;
	uint64_t mask;
	FW_VEC(uint64_t) seen; /* distinct value hashes */
};

static int walk_cmp(const void *a, const void *b)
{
	const struct walk_ev *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int in_window(const struct fw_rule *rule, int64_t t, int64_t signup, int64_t now)
{
	if (rule->within_days_of_signup &&
	    (signup == SC_NEVER || t < signup || t >= signup + rule->within_days_of_signup * SC_DAY))
		return 0;
	if (rule->last_days && t < now - rule->last_days * SC_DAY)
		return 0;
	return 1;
}

void sc_eval_person(struct fw_scorer *sc, uint32_t slot, struct sc_rule_result *res)
{
	struct sc_person *p = &sc->persons.v[slot];
	const struct fw_dataset *d = sc->d;
	const struct fw_config *c = sc->cfg;
	const int64_t now = sc->now;
	size_t nr = sc->nrules;
	struct acc acc[FW_SCORING_MAX_RULES];
	memset(acc, 0, sizeof acc);
	for (size_t r = 0; r < nr; r++)
		acc[r].last_day = INT64_MIN, acc[r].last = SC_NEVER;
	int64_t signup = SC_NEVER;
	sc->walk.n = 0;
	int sorted = 1;
	for (uint32_t k = 0; k <= p->absorbed.n; k++) {
		const struct sc_person *q = k ? &sc->persons.v[p->absorbed.v[k - 1]] : p;
		if (p->merged_into != SC_NONE)
			break; /* counted in the person it joined */
		if (q->signup_tail < signup)
			signup = q->signup_tail;
		if (q->d != SC_NONE) {
			if (d->signup_ms[q->d] < signup)
				signup = d->signup_ms[q->d];
			for (uint64_t i = d->person_off[q->d]; i < d->person_off[q->d + 1]; i++) {
				const struct fw_ev *e = &d->ev[i];
				uint32_t name = sc->d_name[e->name];
				struct walk_ev w = {e->t, e->ord, name,
						    sc->d_rules ? sc->d_rules[e->ord] : sc->name_info.v[name].rules,
						    NULL, e->ord};
				FW_PUSH(sc->walk, w);
			}
		}
		for (uint32_t i = 0; i < q->tail.n; i++) {
			const struct sc_tev *t = &sc->tev.v[q->tail.v[i]];
			struct walk_ev w = {t->t, (1ull << 40) + q->tail.v[i], t->name, t->rules, t->dh, 0};
			FW_PUSH(sc->walk, w);
		}
		sorted &= k == 0;
	}
	for (uint32_t i = 1; sorted && i < sc->walk.n; i++)
		sorted = walk_cmp(&sc->walk.v[i - 1], &sc->walk.v[i]) < 0;
	if (!sorted)
		qsort(sc->walk.v, sc->walk.n, sizeof *sc->walk.v, walk_cmp);
	p->signup = signup;
	p->activated = p->last_active = p->procurement = SC_NEVER;
	p->procurement_name = SC_NONE;
	p->active7 = p->prev7 = p->limits7 = 0;
	uint32_t activations = 0;
	uint64_t all_steps = c->onboarding_steps.n >= 64 ? ~0ull : (1ull << c->onboarding_steps.n) - 1;
	for (uint32_t wi = 0; wi < sc->walk.n; wi++) {
		struct walk_ev w = sc->walk.v[wi];
		const struct sc_name *ni = &sc->name_info.v[w.name];
		int64_t day = w.t >= 0 ? w.t / SC_DAY : (w.t - SC_DAY + 1) / SC_DAY;
		if ((ni->flags & SC_ACTIVATION) && signup != SC_NEVER && w.t >= signup &&
		    ++activations == (uint32_t)c->activation_min_count)
			p->activated = w.t;
		if ((ni->flags & SC_PROCUREMENT) && w.t < p->procurement) {
			p->procurement = w.t;
			p->procurement_name = w.name;
		}
		if ((ni->flags & SC_LIMIT) && w.t >= now - 7 * SC_DAY)
			p->limits7++;
		int active = ni->flags & SC_ACTIVE;
		if (active) {
			if (p->last_active == SC_NEVER || w.t > p->last_active)
				p->last_active = w.t;
			if (w.t >= now - 7 * SC_DAY && w.t < now)
				p->active7++;
			else if (w.t >= now - 14 * SC_DAY && w.t < now - 7 * SC_DAY)
				p->prev7++;
		}
		for (size_t r = 0; r < nr; r++) {
			const struct fw_rule *rule = &sc->sp->rules[r];
			struct acc *a = &acc[r];
			int counts = 0;
			switch (rule->measure) {
			case FW_MEASURE_EVENTS:
				counts = (w.rules >> r) & 1;
				break;
			case FW_MEASURE_ACTIVE_DAYS:
			case FW_MEASURE_STREAK:
				counts = active;
				break;
			case FW_MEASURE_CORE_FEATURES:
				counts = ni->core != 0;
				break;
			case FW_MEASURE_ONBOARDING:
				counts = ni->steps && signup != SC_NEVER && w.t >= signup;
				break;
			case FW_MEASURE_TRAIT:
				break;
			}
			if (!counts || !in_window(rule, w.t, signup, now))
				continue;
			a->count++;
			if (!a->first)
				a->first = w.t;
			a->last = w.t;
			if (res && res[r].nexample < 3) {
				res[r].example[res[r].nexample] = w.name;
				res[r].example_t[res[r].nexample++] = w.t;
			} else if (res) { /* keep the newest three */
				memmove(res[r].example, res[r].example + 1, 2 * sizeof *res[r].example);
				memmove(res[r].example_t, res[r].example_t + 1, 2 * sizeof *res[r].example_t);
				res[r].example[2] = w.name;
				res[r].example_t[2] = w.t;
			}
			switch (rule->measure) {
			case FW_MEASURE_EVENTS:
				if (sc->rule_distinct[r] >= 0) {
					int k = sc->rule_distinct[r];
					uint64_t h = 0;
					if (w.dh) {
						h = w.dh[k];
					} else if (sc->d_dcol[k]) {
						uint32_t v = sc->d_dcol[k]->val[w.ord];
						h = v ? sc->d_dh[k][v] : 0;
					}
					if (h)
						FW_PUSH(a->seen, h);
				}
				break;
			case FW_MEASURE_ACTIVE_DAYS:
			case FW_MEASURE_STREAK:
				if (day != a->last_day) {
					a->days++;
					a->run = day == a->last_day + 1 ? a->run + 1 : 1;
					if (a->run > a->best)
						a->best = a->run;
					a->last_day = day;
				}
				break;
			case FW_MEASURE_CORE_FEATURES:
				a->mask |= ni->core;
				break;
			case FW_MEASURE_ONBOARDING:
				a->mask |= ni->steps;
				break;
			case FW_MEASURE_TRAIT:
				break;
			}
		}
	}
	float *pts = sc->points + (size_t)slot * nr;
	for (size_t r = 0; r < nr; r++) {
		const struct fw_rule *rule = &sc->sp->rules[r];
		struct acc *a = &acc[r];
		double v = 0;
		switch (rule->measure) {
		case FW_MEASURE_EVENTS:
			if (sc->rule_distinct[r] >= 0) {
				qsort(a->seen.v, a->seen.n, sizeof *a->seen.v, u64_cmp);
				for (uint32_t k = 0; k < a->seen.n; k++)
					v += !k || a->seen.v[k] != a->seen.v[k - 1];
			} else {
				v = a->count;
			}
			break;
		case FW_MEASURE_ACTIVE_DAYS:
			v = a->days;
			break;
		case FW_MEASURE_STREAK:
			v = a->best;
			break;
		case FW_MEASURE_CORE_FEATURES:
			v = __builtin_popcountll(a->mask);
			break;
		case FW_MEASURE_ONBOARDING:
			v = c->onboarding_steps.n && (a->mask & all_steps) == all_steps;
			break;
		case FW_MEASURE_TRAIT:
			v = person_trait(sc, rule, p);
			a->last = SC_NEVER;
			break;
		}
		free(a->seen.v);
		int base = step_points(rule, v);
		double points = decayed(sc->sp, rule, base, a->last, now);
		pts[r] = (float)points;
		if (res) {
			res[r].value = v;
			res[r].base = base;
			res[r].points = points;
			res[r].count = a->count;
			res[r].first = a->first ? a->first : SC_NEVER;
			res[r].last = a->last;
		}
	}
}

int sc_route_of_score(const struct fw_scoring *sp, int score)
{
	int route = FW_ROUTE_NURTURE;
	for (int r = 1; r < FW_ROUTE_COUNT; r++)
		if (score >= sp->tiers[r])
			route = r;
	return route;
}

/* The route of a score with its triggers, under the activation guard: no
 * sales route before activation, except by the enterprise-domain and
 * procurement triggers. */
static int route_of(const struct fw_scoring *sp, int score, unsigned triggers, int activated)
{
	int cap = sp->require_activation && !activated ? FW_ROUTE_UPGRADE_CAMPAIGN
						       : FW_ROUTE_ACCOUNT_EXECUTIVE;
	int route = sc_route_of_score(sp, score);
	if (route > cap)
		route = cap;
	for (int t = 0; t < FW_TRIGGER_COUNT; t++) {
		if (!(triggers & (1u << t)))
			continue;
		int r = (int)sp->triggers[t].route;
		int exempt = t == FW_TRIGGER_ENTERPRISE_DOMAIN || t == FW_TRIGGER_PROCUREMENT;
		if (!exempt && r > cap)
			r = cap;
		if (r > route)
			route = r;
	}
	return route;
}

static void note_change(struct fw_scorer *sc, enum fw_lead_unit unit, uint32_t slot)
{
	struct sc_unit *u = &sc->units[unit].v[slot];
	struct fw_lead_state a = u->cur, b = u->saved;
	int same = a.score == b.score && a.route == b.route && a.triggers == b.triggers &&
		   a.flags == b.flags;
	if (!b.exists)
		same = !a.score && a.route == FW_ROUTE_NURTURE && !a.triggers &&
		       !(a.flags & (FW_LEAD_AT_RISK | FW_LEAD_EXPANSION));
	if (!same && !u->changed) {
		u->changed = 1;
		FW_PUSH(sc->changes[unit], slot);
	}
}

static unsigned trigger_on(const struct fw_scoring *sp, int t)
{
	return sp->triggers[t].enabled ? 1u << t : 0;
}

static void person_result(struct fw_scorer *sc, uint32_t slot)
{
	const struct fw_scoring *sp = sc->sp;
	struct sc_person *p = &sc->persons.v[slot];
	const float *pts = sc->points + (size_t)slot * sc->nrules;
	double sum = 0;
	for (size_t r = 0; r < sc->nrules; r++)
		sum += pts[r];
	unsigned trig = 0;
	if (domain_listed(sc, p->domain, &sp->triggers[FW_TRIGGER_ENTERPRISE_DOMAIN].list))
		trig |= trigger_on(sp, FW_TRIGGER_ENTERPRISE_DOMAIN);
	if (p->procurement != SC_NEVER)
		trig |= trigger_on(sp, FW_TRIGGER_PROCUREMENT);
	if (p->domain != SC_NONE && sc->domain_hot[p->domain])
		trig |= trigger_on(sp, FW_TRIGGER_FREE_DOMAIN);
	struct fw_lead_state *s = &sc->units[FW_LEAD_PERSON].v[slot].cur;
	if (p->merged_into != SC_NONE) { /* its events count for the person it joined */
		*s = (struct fw_lead_state){.exists = s->exists};
		note_change(sc, FW_LEAD_PERSON, slot);
		return;
	}
	s->score = (int32_t)lround(sum);
	s->triggers = (uint8_t)trig;
	s->flags = p->activated != SC_NEVER ? FW_LEAD_ACTIVATED : 0;
	s->route = (uint8_t)route_of(sp, s->score, trig, p->activated != SC_NEVER);
	note_change(sc, FW_LEAD_PERSON, slot);
}

static double account_mrr(struct fw_scorer *sc, uint32_t slot)
{
	struct sc_account *a = &sc->accounts.v[slot];
	int64_t changed = INT64_MIN;
	double mrr = sc->plg ? fw_plg_account_mrr(sc->plg, fw_dict_str(&sc->account_keys, slot),
						  sc->now, &changed)
			     : 0;
	if (a->tail_mrr_t != INT64_MIN && a->tail_mrr_t >= changed && a->tail_mrr_t <= sc->now)
		mrr = a->tail_mrr;
	return mrr;
}

double sc_plan_limit(const struct fw_config *c, const char *plan, const char *meter)
{
	const struct fw_plan_limit *l =
	    plan ? fw_plan_limit_of(fw_config_plan(c, plan, strlen(plan)), meter) : NULL;
	return l ? l->limit : NAN;
}

const char *sc_account_plan(struct fw_scorer *sc, uint32_t slot, char *buf, size_t n)
{
	const char *plan = sc_trait(sc, sc->accounts.v[slot].traits, sc->plan_key, buf, n);
	return plan ? plan : sc->cfg->default_plan;
}

void sc_eval_account(struct fw_scorer *sc, uint32_t slot, double *rule_points, uint32_t *rule_from)
{
	const struct fw_scoring *sp = sc->sp;
	struct sc_account *a = &sc->accounts.v[slot];
	double pts[FW_SCORING_MAX_RULES] = {0};
	uint32_t from[FW_SCORING_MAX_RULES];
	unsigned trig = 0;
	int activated = 0;
	a->last_active = SC_NEVER;
	a->active_people = a->active7 = a->prev7 = a->limits7 = 0;
	int64_t recent = sc->now - sp->triggers[FW_TRIGGER_ACTIVE_PEOPLE].days * SC_DAY;
	for (size_t r = 0; r < sc->nrules; r++)
		from[r] = SC_NONE;
	for (uint32_t i = 0; i < a->members.n; i++) {
		uint32_t m = a->members.v[i];
		const struct sc_person *p = &sc->persons.v[m];
		const float *mp = sc->points + (size_t)m * sc->nrules;
		for (size_t r = 0; r < sc->nrules; r++) {
			if (sp->rules[r].per_person) {
				pts[r] += mp[r];
			} else if (mp[r] > pts[r]) {
				pts[r] = mp[r];
				from[r] = m;
			}
		}
		activated |= p->activated != SC_NEVER;
		if (p->last_active != SC_NEVER &&
		    (a->last_active == SC_NEVER || p->last_active > a->last_active))
			a->last_active = p->last_active;
		if (p->last_active != SC_NEVER && p->last_active >= recent)
			a->active_people++;
		a->active7 += p->active7;
		a->prev7 += p->prev7;
		a->limits7 += p->limits7;
		if (domain_listed(sc, p->domain, &sp->triggers[FW_TRIGGER_ENTERPRISE_DOMAIN].list))
			trig |= trigger_on(sp, FW_TRIGGER_ENTERPRISE_DOMAIN);
		if (p->procurement != SC_NEVER)
			trig |= trigger_on(sp, FW_TRIGGER_PROCUREMENT);
		if (p->domain != SC_NONE && sc->domain_hot[p->domain])
			trig |= trigger_on(sp, FW_TRIGGER_FREE_DOMAIN);
	}
	/* trait rules: the account's own traits first */
	for (size_t r = 0; r < sc->nrules; r++) {
		const struct fw_rule *rule = &sp->rules[r];
		if (rule->measure != FW_MEASURE_TRAIT)
			continue;
		int m = trait_matches(sc, rule, a->traits);
		if (m >= 0) {
			pts[r] = m ? step_points(rule, 1) : 0;
			from[r] = SC_NONE;
		}
	}
	if (domain_listed(sc, a->domain, &sp->triggers[FW_TRIGGER_ENTERPRISE_DOMAIN].list))
		trig |= trigger_on(sp, FW_TRIGGER_ENTERPRISE_DOMAIN);
	if (a->domain != SC_NONE && sc->domain_hot[a->domain])
		trig |= trigger_on(sp, FW_TRIGGER_FREE_DOMAIN);
	if (a->active_people >= (uint32_t)sp->triggers[FW_TRIGGER_ACTIVE_PEOPLE].min)
		trig |= trigger_on(sp, FW_TRIGGER_ACTIVE_PEOPLE);
	double sum = 0;
	for (size_t r = 0; r < sc->nrules; r++)
		sum += pts[r];
	if (rule_points) {
		memcpy(rule_points, pts, sc->nrules * sizeof *pts);
		memcpy(rule_from, from, sc->nrules * sizeof *from);
	}
	a->mrr = account_mrr(sc, slot);
	unsigned flags = activated ? FW_LEAD_ACTIVATED : 0;
	if (a->mrr > 0) {
		int dropped = a->prev7 >= (uint32_t)sp->at_risk_min_previous_events &&
			      a->active7 < a->prev7 * (1 - sp->at_risk_drop_share);
		int quiet = a->last_active == SC_NEVER ||
			    a->last_active < sc->now - sp->at_risk_inactive_days * SC_DAY;
		if (dropped || quiet)
			flags |= FW_LEAD_AT_RISK;
	}
	char buf[128];
	double seats = sc_plan_limit(sc->cfg, sc_account_plan(sc, slot, buf, sizeof buf), "seats");
	if ((!isnan(seats) && seats > 0 && a->members.n >= sp->expansion_near_share * seats) ||
	    a->limits7)
		flags |= FW_LEAD_EXPANSION;
	struct fw_lead_state *s = &sc->units[FW_LEAD_ACCOUNT].v[slot].cur;
	s->score = (int32_t)lround(sum);
	s->triggers = (uint8_t)trig;
	s->flags = (uint8_t)flags;
	s->route = (uint8_t)route_of(sp, s->score, trig, activated);
}

static void account_result(struct fw_scorer *sc, uint32_t slot)
{
	sc_eval_account(sc, slot, NULL, NULL);
	note_change(sc, FW_LEAD_ACCOUNT, slot);
}

/* People on free plans per company domain, and which domains pass the
 * free_domain trigger's bar. Re-evaluates the people, and marks the
 * accounts, of a domain whose state flipped. */
static void count_domains(struct fw_scorer *sc)
{
	const struct fw_trigger_config *t = &sc->sp->triggers[FW_TRIGGER_FREE_DOMAIN];
	if (sc->domain_free.n)
		memset(sc->domain_free.v, 0, sc->domain_free.n * sizeof *sc->domain_free.v);
	for (uint32_t i = 0; i < sc->persons.n; i++) {
		const struct sc_person *p = &sc->persons.v[i];
		if (p->domain == SC_NONE || p->free_mail || p->merged_into != SC_NONE)
			continue;
		int paying = 0;
		for (uint32_t k = 0; k < p->accounts.n && !paying; k++)
			paying = sc->accounts.v[p->accounts.v[k]].mrr > 0;
		if (!paying)
			sc->domain_free.v[p->domain]++;
	}
	for (uint32_t dm = 0; dm < sc->domain_free.n; dm++) {
		uint8_t hot = t->enabled && sc->domain_free.v[dm] >= (uint32_t)t->min;
		if (hot == sc->domain_hot[dm])
			continue;
		sc->domain_hot[dm] = hot;
		for (uint32_t i = 0; i < sc->persons.n; i++) {
			struct sc_person *p = &sc->persons.v[i];
			if (p->domain != dm)
				continue;
			person_result(sc, i);
			for (uint32_t k = 0; k < p->accounts.n; k++)
				mark_account(sc, p->accounts.v[k]);
		}
		for (uint32_t a = 0; a < sc->accounts.n; a++)
			if (sc->accounts.v[a].domain == dm)
				mark_account(sc, a);
	}
}

static void update_locked(struct fw_scorer *sc, int64_t now)
{
	if (!sc->dirty_persons.n && !sc->dirty_accounts.n)
		return; /* nothing fed: scores move with time only at rescores */
	sc->now = now;
	/* an account's traits are its people's trait rules too */
	for (uint32_t i = 0; i < sc->dirty_accounts.n; i++) {
		uint32_t slot = sc->dirty_accounts.v[i];
		if (!sc->accounts.v[slot].traits_dirty)
			continue;
		reload_account_traits(sc, slot);
		for (uint32_t k = 0; k < sc->accounts.v[slot].members.n; k++)
			mark_slot(sc, sc->accounts.v[slot].members.v[k]);
	}
	for (uint32_t i = 0; i < sc->dirty_persons.n; i++) {
		uint32_t slot = sc->dirty_persons.v[i];
		struct sc_person *p = &sc->persons.v[slot];
		p->dirty = 0;
		if (p->traits_dirty)
			reload_person_traits(sc, slot);
		sc_eval_person(sc, slot, NULL);
		for (uint32_t k = 0; k < p->accounts.n; k++)
			mark_account(sc, p->accounts.v[k]);
	}
	for (uint32_t i = 0; i < sc->dirty_accounts.n; i++) {
		uint32_t slot = sc->dirty_accounts.v[i];
		if (sc->accounts.v[slot].traits_dirty)
			reload_account_traits(sc, slot);
		sc->accounts.v[slot].mrr = account_mrr(sc, slot);
	}
	count_domains(sc);
	for (uint32_t i = 0; i < sc->dirty_persons.n; i++)
		person_result(sc, sc->dirty_persons.v[i]);
	sc->dirty_persons.n = 0;
	for (uint32_t i = 0; i < sc->dirty_accounts.n; i++) {
		uint32_t slot = sc->dirty_accounts.v[i];
		sc->accounts.v[slot].dirty = 0;
		account_result(sc, slot);
	}
	sc->dirty_accounts.n = 0;
}

void fw_scorer_update(struct fw_scorer *sc, int64_t now)
{
	pthread_mutex_lock(&sc->mu);
	update_locked(sc, now);
	pthread_mutex_unlock(&sc->mu);
}

/* ---- rebase: everyone on a new snapshot ---- */

static void on_membership(void *ctx, int64_t person, struct fw_str group)
{
	struct fw_scorer *sc = ctx;
	uint32_t slot = meta_slot(sc, person);
	if (slot != SC_NONE)
		add_member(sc, account_slot(sc, group), slot);
}

/* Which snapshot events count for the filtered rules, by event ord. */
static int snapshot_filters(struct fw_scorer *sc, struct fw_err *err)
{
	struct fw_dataset *d = sc->d;
	for (int k = 0; k < sc->ndistinct; k++) {
		const struct fw_column *col = fw_dataset_column(d, sc->distinct_props[k], err);
		if (!col)
			return FW_EIO;
		sc->d_dcol[k] = col;
		sc->d_dh[k] = fw_xmalloc(((size_t)col->values.count + 1) * sizeof *sc->d_dh[k]);
		for (uint32_t v = 1; v <= col->values.count; v++)
			sc->d_dh[k][v] = value_hash(fw_column_text(col, v));
	}
	if (!sc->filtered_rules)
		return 0;
	sc->d_rules = fw_xmalloc((d->nevents + 1) * sizeof *sc->d_rules);
	for (uint64_t i = 0; i < d->nevents; i++)
		sc->d_rules[d->ev[i].ord] = sc->name_info.v[sc->d_name[d->ev[i].name]].rules;
	for (size_t r = 0; r < sc->nrules; r++) {
		if (!(sc->filtered_rules & (1u << r)))
			continue;
		const struct fw_rule *rule = &sc->sp->rules[r];
		const struct fw_column *cols[FW_RULE_MAX_WHERE + 1];
		uint8_t *ok[FW_RULE_MAX_WHERE + 1];
		size_t n = 0;
		int rc = 0;
		for (size_t w = 0; w <= rule->nwhere; w++) {
			const char *prop = w < rule->nwhere ? rule->where[w].prop : "name";
			const struct fw_config_list *vals =
				w < rule->nwhere ? &rule->where[w].values : &rule->pages;
			if (w == rule->nwhere && !rule->pages.n)
				break;
			const struct fw_column *col = fw_dataset_column(d, prop, err);
			if (!col) {
				rc = FW_EIO;
				break;
			}
			cols[n] = col;
			ok[n] = fw_xcalloc((size_t)col->values.count + 1, 1);
			for (uint32_t v = 1; v <= col->values.count; v++)
				ok[n][v] = (uint8_t)in_list(vals, fw_column_text(col, v));
			n++;
		}
		if (!rc) {
			uint32_t bit = 1u << r;
			int pages = rule->pages.n != 0;
			for (uint64_t i = 0; i < d->nevents; i++) {
				const struct fw_ev *e = &d->ev[i];
				const struct sc_name *ni = &sc->name_info.v[sc->d_name[e->name]];
				int named = (ni->rules & bit) != 0;
				int page = !named && pages && (ni->flags & SC_PAGEVIEW);
				if (!named && !page)
					continue;
				int hold = 1;
				for (size_t w = 0; w < rule->nwhere && hold; w++)
					hold = ok[w][cols[w]->val[e->ord]];
				if (page && hold)
					hold = ok[n - 1][cols[n - 1]->val[e->ord]];
				if (hold)
					sc->d_rules[e->ord] |= bit;
				else
					sc->d_rules[e->ord] &= ~bit;
			}
		}
		for (size_t w = 0; w < n; w++)
			free(ok[w]);
		if (rc)
			return rc;
	}
	return 0;
}

int fw_scorer_rebase(struct fw_scorer *sc, struct fw_dataset *d, const struct fw_plg *plg,
		     int64_t now, struct fw_err *err)
{
	pthread_mutex_lock(&sc->mu);
	drop_snapshot_maps(sc);
	sc->d = d;
	sc->plg = plg;
	sc->now = now;
	sc->tev.n = 0;
	sc->next_seq = d->seq;
	for (uint32_t i = 0; i < sc->dids.count; i++)
		sc->did_slot.v[i] = SC_NONE;
	for (uint32_t i = 0; i < sc->persons.n; i++) {
		struct sc_person *p = &sc->persons.v[i];
		p->d = SC_NONE;
		p->meta = 0;
		p->signup_tail = SC_NEVER;
		p->tail.n = p->accounts.n = p->absorbed.n = 0;
		p->merged_into = SC_NONE;
		p->dirty = 1;
		free_traits(&p->traits, sc->trait_keys.count);
	}
	for (uint32_t i = 0; i < sc->accounts.n; i++) {
		struct sc_account *a = &sc->accounts.v[i];
		a->d = SC_NONE;
		a->members.n = 0;
		a->tail_mrr_t = INT64_MIN;
		free_traits(&a->traits, sc->trait_keys.count);
	}
	for (uint32_t i = 0; i < sc->meta_slot.n; i++)
		sc->meta_slot.v[i] = SC_NONE;
	sc->d_person_slot = fw_xmalloc(((size_t)d->npeople + 1) * sizeof *sc->d_person_slot);
	for (uint32_t p = 0; p < d->npeople; p++) {
		uint32_t slot = person_slot(sc, fw_dataset_unit_key(d, FW_UNIT_PERSON, p));
		sc->d_person_slot[p] = slot;
		sc->persons.v[slot].d = p;
	}
	for (uint32_t k = 0; k < d->meta_people.count; k++) {
		struct fw_str id = fw_dict_str(&d->meta_people, k);
		char buf[24];
		snprintf(buf, sizeof buf, "%.*s", (int)id.len, id.p);
		set_meta_slot(sc, atoll(buf), sc->d_person_slot[d->meta_person[k]]);
	}
	sc->d_account_slot = fw_xmalloc(((size_t)d->accounts.count + 1) * sizeof *sc->d_account_slot);
	for (uint32_t a = 0; a < d->accounts.count; a++) {
		uint32_t slot = account_slot(sc, fw_dict_str(&d->accounts, a));
		sc->d_account_slot[a] = slot;
		sc->accounts.v[slot].d = a;
	}
	sc->d_name = fw_xmalloc(((size_t)d->names.count + 1) * sizeof *sc->d_name);
	for (uint32_t n = 0; n < d->names.count; n++)
		sc->d_name[n] = name_id(sc, fw_dict_str(&d->names, n));
	int rc = 0;
	if (sc->meta) {
		rc = fw_meta_memberships(sc->meta, on_membership, sc, err);
		for (uint32_t k = 0; !rc && k < sc->trait_keys.count; k++) {
			struct fw_str key = fw_dict_str(&sc->trait_keys, k);
			char buf[256];
			snprintf(buf, sizeof buf, "%.*s", (int)key.len, key.p);
			rc = fw_meta_person_traits(sc->meta, buf, 0, on_person_trait, sc, err);
		}
		if (!rc)
			rc = fw_meta_account_traits(sc->meta, (struct fw_str){0}, on_account_trait, sc,
						    err);
	}
	/* events name accounts their people may not have joined by a group call */
	for (uint32_t p = 0; !rc && p < d->npeople; p++)
		for (uint64_t i = d->person_off[p]; i < d->person_off[p + 1]; i++)
			if (d->ev[i].account != FW_NO_ACCOUNT &&
			    (i == d->person_off[p] || d->ev[i].account != d->ev[i - 1].account))
				add_member(sc, sc->d_account_slot[d->ev[i].account], sc->d_person_slot[p]);
	if (!rc)
		rc = snapshot_filters(sc, err);
	if (rc) {
		pthread_mutex_unlock(&sc->mu);
		return rc;
	}
	for (uint32_t i = 0; i < sc->persons.n; i++) {
		person_domain(sc, &sc->persons.v[i]);
		sc->persons.v[i].traits_dirty = 0;
	}
	for (uint32_t i = 0; i < sc->accounts.n; i++) {
		account_domain(sc, &sc->accounts.v[i]);
		sc->accounts.v[i].traits_dirty = 0;
	}
	/* everyone is dirty: evaluate all */
	sc->dirty_persons.n = 0;
	for (uint32_t i = 0; i < sc->persons.n; i++) {
		sc->persons.v[i].dirty = 1;
		FW_PUSH(sc->dirty_persons, i);
	}
	for (uint32_t i = 0; i < sc->accounts.n; i++)
		mark_account(sc, i);
	update_locked(sc, now);
	pthread_mutex_unlock(&sc->mu);
	return 0;
}
