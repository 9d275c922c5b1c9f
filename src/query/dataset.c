/*
 * dataset.c — the query snapshot (dataset.h).
 *
 * Build: one scan of the store delivering activity events as ids only (no
 * payloads) and identify calls in full (their created_at trait can be a
 * sign-up). Each event's distinct id is resolved to a person through the
 * metadata's identities; ids the metadata has not seen are people of their
 * own. Events are then placed by person with a counting sort (two passes,
 * no comparisons) and each person's run is sorted by (time, ord) — runs are
 * nearly always in order already, which is checked first.
 */
#include "flywheel/dataset.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct column_entry {
	char *prop;
	struct fw_column col;
	struct column_entry *next;
};

struct fw_dataset_lazy {
	pthread_mutex_t mu;
	struct fw_store *store;
	uint64_t nords;
	struct fw_units persons;
	struct fw_units accounts;
	int accounts_ready;
	uint64_t *account_off;
	struct fw_ev *account_ev;
	struct column_entry *columns;
};

struct builder {
	struct fw_dataset *d;
	const struct fw_config *cfg;
	struct fw_dict ids;        /* distinct id -> slot in id_person */
	uint32_t *id_person;
	size_t nid, capid;
	struct fw_dict meta_people; /* metadata person id (decimal) -> person index */
	uint32_t *meta_person;      /* by meta_people id: person index */
	size_t meta_person_cap;
	uint32_t npeople;
	uint64_t ords;             /* activity records seen (events get ord = this) */
	uint8_t *has_user_key;     /* person's key is a user id */
	size_t cap_people;
	struct fw_ev *ev;
	size_t n, cap;
	uint32_t signup_name;
	int64_t *identify_ms;
	struct fw_arena arena;
	/* Rows come grouped by distinct id and names repeat: remembering the last
	 * lookups (by content, compared with a copy; the address picks the slot)
	 * skips most hashing. */
	struct str_cache {
		uint32_t len, id;
		char s[56];
	} last_did, names[64], accounts[64];
};

static uint32_t cached(struct str_cache *x, struct fw_str s, struct builder *b,
		       uint32_t (*lookup)(struct builder *, struct fw_str))
{
	if (s.len < sizeof x->s && x->len == s.len && (!s.len || !memcmp(x->s, s.p, s.len)))
		return x->id;
	uint32_t id = lookup(b, s);
	if (s.len < sizeof x->s) {
		if (s.len)
			memcpy(x->s, s.p, s.len);
		x->len = s.len;
		x->id = id;
	}
	return id;
}

static uint32_t name_id(struct builder *b, struct fw_str s)
{
	return fw_dict_intern(&b->d->names, s.p, s.len);
}

static uint32_t account_id(struct builder *b, struct fw_str s)
{
	return fw_dict_intern(&b->d->accounts, s.p, s.len);
}

static uint32_t person_of(struct builder *b, struct fw_str did);

static struct str_cache *slot(struct str_cache *c, struct fw_str s)
{
	return &c[(((uintptr_t)s.p >> 3) ^ s.len) & 63];
}

static void grow_people(struct builder *b, uint32_t n)
{
	if (n <= b->cap_people)
		return;
	size_t cap = b->cap_people ? b->cap_people : 1024;
	while (cap < n)
		cap *= 2;
	b->has_user_key = fw_xrealloc(b->has_user_key, cap);
	b->identify_ms = fw_xrealloc(b->identify_ms, cap * sizeof *b->identify_ms);
	for (size_t i = b->cap_people; i < cap; i++) {
		b->has_user_key[i] = 0;
		b->identify_ms[i] = INT64_MAX;
	}
	b->cap_people = cap;
}

/* A new person whose key is `key`. */
static uint32_t add_person(struct builder *b, struct fw_str key)
{
	uint32_t p = b->npeople++;
	grow_people(b, b->npeople);
	fw_dict_intern(&b->d->keys, key.p, key.len); /* id == p: one key per person */
	return p;
}

static void set_id_person(struct builder *b, uint32_t id, uint32_t person)
{
	if (id >= b->capid) {
		size_t cap = b->capid ? b->capid * 2 : 4096;
		while (cap <= id)
			cap *= 2;
		b->id_person = fw_xrealloc(b->id_person, cap * sizeof *b->id_person);
		for (size_t i = b->capid; i < cap; i++)
			b->id_person[i] = UINT32_MAX;
		b->capid = cap;
	}
	b->id_person[id] = person;
	if (id >= b->nid)
		b->nid = id + 1;
}

/* Person keys must be unique in d->keys (id == person index); a key that is
 * already some other person's (an id both a user id and another's anonymous
 * id, which the metadata never allows, or a stray duplicate) gets a suffix. */
static uint32_t add_person_unique(struct builder *b, struct fw_str key)
{
	if (fw_dict_find(&b->d->keys, key.p, key.len) == UINT32_MAX)
		return add_person(b, key);
	char *tmp = fw_arena_alloc(&b->arena, key.len + 24);
	int n = snprintf(tmp, key.len + 24, "%.*s#%u", (int)key.len, key.p, b->npeople);
	return add_person(b, (struct fw_str){tmp, (uint32_t)n});
}

static void on_identity(void *ctx, struct fw_str did, int64_t meta_person, struct fw_str user_id)
{
	struct builder *b = ctx;
	char key[24];
	int n = snprintf(key, sizeof key, "%lld", (long long)meta_person);
	uint32_t before = b->meta_people.count;
	uint32_t k = fw_dict_intern(&b->meta_people, key, (size_t)n);
	if (k == before) { /* first id of this metadata person */
		uint32_t p = add_person_unique(b, user_id.len ? user_id : did);
		if (p >= b->meta_person_cap) {
			b->meta_person_cap = b->meta_person_cap ? b->meta_person_cap * 2 : 1024;
			while (b->meta_person_cap <= k)
				b->meta_person_cap *= 2;
			b->meta_person = fw_xrealloc(b->meta_person,
						     b->meta_person_cap * sizeof *b->meta_person);
		}
		b->meta_person[k] = p;
	}
	set_id_person(b, fw_dict_intern(&b->ids, did.p, did.len), b->meta_person[k]);
}

static uint32_t person_of(struct builder *b, struct fw_str did)
{
	uint32_t id = fw_dict_intern(&b->ids, did.p, did.len);
	if (id < b->nid && b->id_person[id] != UINT32_MAX)
		return b->id_person[id];
	uint32_t p = add_person_unique(b, did);
	set_id_person(b, id, p);
	return p;
}

static int created_at_present(struct builder *b, struct fw_str traits)
{
	struct fw_json *root;
	struct fw_json_error je;
	int yes = 0;
	if (traits.len && !fw_json_parse(&b->arena, traits.p, traits.len, &root, &je)) {
		const struct fw_json *c = fw_json_get(root, "created_at");
		yes = c && c->type != FW_JSON_NULL && !(c->type == FW_JSON_STRING && !c->u.str.len);
	}
	fw_arena_reset(&b->arena);
	return yes;
}

static int on_record(void *ctx, uint64_t seq, const struct fw_event *e)
{
	struct builder *b = ctx;
	(void)seq;
	struct fw_str did = fw_event_distinct_id(e);
	if (e->type == FW_MSG_IDENTIFY) {
		if (did.len && created_at_present(b, e->traits)) {
			uint32_t p = person_of(b, did);
			if (e->time_ms < b->identify_ms[p])
				b->identify_ms[p] = e->time_ms;
		}
		return 0;
	}
	uint32_t ord = (uint32_t)b->ords++;
	if (!did.len)
		return 0; /* cannot happen for ingested events; counted for ord */
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 65536;
		b->ev = fw_xrealloc(b->ev, b->cap * sizeof *b->ev);
	}
	struct fw_ev *x = &b->ev[b->n++];
	x->t = e->time_ms;
	x->name = cached(slot(b->names, e->event), e->event, b, name_id);
	x->account = e->group_id.len ? cached(slot(b->accounts, e->group_id), e->group_id, b, account_id)
				     : FW_NO_ACCOUNT;
	x->person = cached(&b->last_did, did, b, person_of);
	x->ord = ord;
	return 0;
}

static int cmp_ev_time(const void *a, const void *b)
{
	const struct fw_ev *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* Order events by `key` (person or account) with a counting sort, then each
 * run by (time, ord). Returns the run offsets (nkeys + 1). */
static uint64_t *group_by(struct fw_ev *dst, const struct fw_ev *src, size_t n, uint32_t nkeys,
			  int by_account)
{
	uint64_t *off = fw_xcalloc((size_t)nkeys + 2, sizeof *off);
	for (size_t i = 0; i < n; i++)
		off[(by_account ? src[i].account : src[i].person) + 2]++;
	for (size_t k = 2; k < (size_t)nkeys + 2; k++)
		off[k] += off[k - 1];
	/* off[k + 1] is now the start of run k */
	for (size_t i = 0; i < n; i++)
		dst[off[(by_account ? src[i].account : src[i].person) + 1]++] = src[i];
	/* off[k] is now the start of run k, off[nkeys] the end */
	for (uint32_t k = 0; k < nkeys; k++) {
		struct fw_ev *r = dst + off[k];
		size_t m = off[k + 1] - off[k];
		for (size_t i = 1; i < m; i++)
			if (cmp_ev_time(&r[i - 1], &r[i]) > 0) {
				qsort(r, m, sizeof *r, cmp_ev_time);
				break;
			}
	}
	return off;
}

int fw_dataset_build(struct fw_store *s, struct fw_meta *m, const struct fw_config *c,
		     struct fw_dataset **out, struct fw_err *err)
{
	struct fw_dataset *d = fw_xcalloc(1, sizeof *d);
	struct builder b = {.d = d, .cfg = c};
	fw_dict_init(&d->names);
	fw_dict_init(&d->accounts);
	fw_dict_init(&d->keys);
	fw_dict_init(&b.ids);
	fw_dict_init(&b.meta_people);
	struct fw_store_stats st;
	fw_store_stats(s, &st);
	d->seq = st.durable_seq;
	int rc = m ? fw_meta_identities(m, on_identity, &b, err) : 0;
	struct fw_scan q = {
		.to_seq = d->seq,
		.type_mask = FW_DATASET_SCAN_TYPES | (1u << FW_MSG_IDENTIFY),
		.ids_only_mask = FW_DATASET_SCAN_TYPES,
		.traits_only = 1,
	};
	if (!rc && d->seq)
		rc = fw_store_scan(s, &q, on_record, &b, err);
	fw_dict_release(&b.ids);
	d->meta_people = b.meta_people; /* kept: the rules resolve later events with it */
	d->meta_person = b.meta_person;
	fw_arena_release(&b.arena);
	free(b.id_person);
	free(b.has_user_key);
	if (rc) {
		free(b.ev);
		free(b.identify_ms);
		fw_dataset_free(d);
		return rc;
	}
	d->npeople = b.npeople;
	d->nevents = b.n;
	d->ev = fw_xmalloc((b.n + 1) * sizeof *d->ev);
	d->person_off = group_by(d->ev, b.ev, b.n, d->npeople, 0);
	free(b.ev);
	/* sign-up: first sign-up event, else the first identify with created_at */
	d->signup_ms = fw_xmalloc(((size_t)d->npeople + 1) * sizeof *d->signup_ms);
	uint32_t signup = fw_dict_find(&d->names, c->signup_event, strlen(c->signup_event));
	d->min_ms = d->max_ms = 0;
	for (uint32_t p = 0; p < d->npeople; p++) {
		int64_t t = INT64_MAX;
		for (uint64_t i = d->person_off[p]; i < d->person_off[p + 1]; i++)
			if (d->ev[i].name == signup) {
				t = d->ev[i].t;
				break;
			}
		d->signup_ms[p] = t != INT64_MAX ? t : (b.identify_ms ? b.identify_ms[p] : INT64_MAX);
	}
	free(b.identify_ms);
	for (uint64_t i = 0; i < d->nevents; i++) {
		if (i == 0 || d->ev[i].t < d->min_ms)
			d->min_ms = d->ev[i].t;
		if (i == 0 || d->ev[i].t > d->max_ms)
			d->max_ms = d->ev[i].t;
	}
	if (d->nevents) {
		d->first_day = fw_day_floor(d->min_ms) / FW_MS_PER_DAY;
		d->ndays = fw_day_floor(d->max_ms) / FW_MS_PER_DAY - d->first_day + 1;
	}
	uint32_t nn = d->names.count;
	d->day_counts = fw_xcalloc((size_t)(d->ndays * nn) + 1, sizeof *d->day_counts);
	for (uint64_t i = 0; i < d->nevents; i++) {
		int64_t day = fw_day_floor(d->ev[i].t) / FW_MS_PER_DAY - d->first_day;
		d->day_counts[day * nn + d->ev[i].name]++;
	}
	d->lazy = fw_xcalloc(1, sizeof *d->lazy);
	pthread_mutex_init(&d->lazy->mu, NULL);
	d->lazy->store = s;
	d->lazy->nords = b.ords;
	d->lazy->persons = (struct fw_units){d->npeople, d->person_off, d->ev};
	*out = d;
	return 0;
}

static void column_release(struct fw_column *c)
{
	free(c->val);
	free(c->num);
	fw_dict_release(&c->values);
}

uint32_t fw_dataset_person_of_meta(const struct fw_dataset *d, int64_t meta_person)
{
	char key[24];
	int n = snprintf(key, sizeof key, "%lld", (long long)meta_person);
	uint32_t k = fw_dict_find(&d->meta_people, key, (size_t)n);
	return k == UINT32_MAX ? UINT32_MAX : d->meta_person[k];
}

void fw_dataset_free(struct fw_dataset *d)
{
	if (!d)
		return;
	fw_dict_release(&d->meta_people);
	free(d->meta_person);
	if (d->lazy) {
		free(d->lazy->account_off);
		free(d->lazy->account_ev);
		for (struct column_entry *c = d->lazy->columns, *next; c; c = next) {
			next = c->next;
			column_release(&c->col);
			free(c->prop);
			free(c);
		}
		pthread_mutex_destroy(&d->lazy->mu);
		free(d->lazy);
	}
	free(d->ev);
	free(d->person_off);
	free(d->signup_ms);
	free(d->day_counts);
	fw_dict_release(&d->names);
	fw_dict_release(&d->accounts);
	fw_dict_release(&d->keys);
	free(d);
}

const struct fw_units *fw_dataset_units(struct fw_dataset *d, enum fw_unit u)
{
	if (u == FW_UNIT_PERSON)
		return &d->lazy->persons;
	struct fw_dataset_lazy *l = d->lazy;
	pthread_mutex_lock(&l->mu);
	if (!l->accounts_ready) {
		size_t n = 0;
		for (uint64_t i = 0; i < d->nevents; i++)
			n += d->ev[i].account != FW_NO_ACCOUNT;
		struct fw_ev *tmp = fw_xmalloc((n + 1) * sizeof *tmp);
		n = 0;
		for (uint64_t i = 0; i < d->nevents; i++)
			if (d->ev[i].account != FW_NO_ACCOUNT)
				tmp[n++] = d->ev[i];
		l->account_ev = fw_xmalloc((n + 1) * sizeof *l->account_ev);
		l->account_off = group_by(l->account_ev, tmp, n, d->accounts.count, 1);
		free(tmp);
		l->accounts = (struct fw_units){d->accounts.count, l->account_off, l->account_ev};
		l->accounts_ready = 1;
	}
	pthread_mutex_unlock(&l->mu);
	return &l->accounts;
}

struct fw_str fw_dataset_unit_key(const struct fw_dataset *d, enum fw_unit u, uint32_t i)
{
	return fw_dict_str(u == FW_UNIT_ACCOUNT ? &d->accounts : &d->keys, i);
}

uint32_t fw_dataset_name(const struct fw_dataset *d, const char *name)
{
	return fw_dict_find(&d->names, name, strlen(name));
}

/* ---- property columns ---- */

struct col_builder {
	struct fw_column *col;
	const char *prop;
	int in_context;
	uint32_t ord;
	uint64_t nord;
	struct fw_arena arena;
};

static int on_column_record(void *ctx, uint64_t seq, const struct fw_event *e)
{
	struct col_builder *b = ctx;
	(void)seq;
	uint32_t ord = b->ord++;
	if (ord >= b->nord)
		return 0;
	struct fw_str text = b->in_context ? e->context : e->properties;
	struct fw_json *root;
	struct fw_json_error je;
	if (!text.len || fw_json_parse(&b->arena, text.p, text.len, &root, &je)) {
		fw_arena_reset(&b->arena);
		return 0;
	}
	const struct fw_json *v = fw_json_get(root, b->prop);
	if (v && v->type != FW_JSON_NULL) {
		struct fw_str s = v->type == FW_JSON_STRING ? v->u.str : v->raw;
		uint32_t before = b->col->values.count;
		uint32_t id = fw_dict_intern(&b->col->values, s.p, s.len);
		if (id == before) {
			b->col->num = fw_xrealloc(b->col->num, ((size_t)id + 1) * sizeof *b->col->num);
			b->col->num[id] = v->type == FW_JSON_NUMBER ? v->u.num : NAN;
			if (v->type == FW_JSON_STRING && s.len && s.len < 40) {
				char tmp[48], *end;
				memcpy(tmp, s.p, s.len);
				tmp[s.len] = 0;
				double x = strtod(tmp, &end);
				if (!*end)
					b->col->num[id] = x;
			}
		}
		b->col->val[ord] = id + 1;
	}
	fw_arena_reset(&b->arena);
	return 0;
}

const struct fw_column *fw_dataset_column(struct fw_dataset *d, const char *prop,
					  struct fw_err *err)
{
	struct fw_dataset_lazy *l = d->lazy;
	pthread_mutex_lock(&l->mu);
	for (struct column_entry *c = l->columns; c; c = c->next)
		if (!strcmp(c->prop, prop)) {
			pthread_mutex_unlock(&l->mu);
			return &c->col;
		}
	struct column_entry *c = fw_xcalloc(1, sizeof *c);
	c->prop = fw_xmalloc(strlen(prop) + 1);
	strcpy(c->prop, prop);
	fw_dict_init(&c->col.values);
	uint64_t nord = l->nords;
	c->col.val = fw_xcalloc(nord + 1, sizeof *c->col.val);
	struct col_builder b = {.col = &c->col, .prop = prop, .nord = nord};
	if (!strncmp(prop, "$context.", 9)) {
		b.prop = prop + 9;
		b.in_context = 1;
	}
	struct fw_scan q = {.to_seq = d->seq, .type_mask = FW_DATASET_SCAN_TYPES};
	int rc = d->seq && nord ? fw_store_scan(l->store, &q, on_column_record, &b, err) : 0;
	fw_arena_release(&b.arena);
	if (rc) {
		column_release(&c->col);
		free(c->prop);
		free(c);
		pthread_mutex_unlock(&l->mu);
		return NULL;
	}
	c->next = l->columns;
	l->columns = c;
	pthread_mutex_unlock(&l->mu);
	return &c->col;
}
