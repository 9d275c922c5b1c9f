/*
 * cohorts.c — the analyses of units' activity period by period: "retention"
 * (cohort tables and the pooled curve), "stickiness" (units by number of
 * active days per week or month) and "lifecycle" (new, returning,
 * resurrecting and dormant units per period). Exact definitions, fields and
 * answers: docs/query/{retention,stickiness,lifecycle}.md.
 *
 * Every one of them has the same shape, chosen for speed (these are
 * benchmarked against DuckDB and ClickHouse): a unit's events are in time
 * order, so one forward pass over the part of a unit's run that the range
 * covers (found by binary search) yields the unit's active periods as a few
 * 64-bit words of a bitmap, or its distinct active days as a running count;
 * counting is then bit operations on those words. No hashing, no allocation
 * per unit or per event: per-name flags are looked up by name id, a day's
 * period by a table indexed by day number. Units are split by event count
 * over up to four threads, each with its own counters, summed at the end.
 *
 * The helpers fw_cohort_* are shared with trends.c (declared there too; the
 * query kinds of query.c are declared the same way, without a header).
 */
#include "flywheel/query.h"
#include "flywheel/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define DAY FW_MS_PER_DAY
#define MAX_PARTS 4
#define MAX_PERIODS 1000 /* cohorts or periods in one answer */
#ifndef FW_COHORT_PARALLEL_EVENTS /* tests build with 1 to run the threaded path on small data */
#define FW_COHORT_PARALLEL_EVENTS 200000
#endif

/* ---- helpers shared with trends.c ---- */

uint64_t fw_cohort_first_at(const struct fw_ev *ev, uint64_t b, uint64_t e, int64_t t);
uint64_t fw_cohort_skip_to(const struct fw_ev *ev, uint64_t i, uint64_t e, int64_t t);
int fw_cohort_parts(const struct fw_units *u, uint32_t *bounds, int max);
void fw_cohort_run(int nparts, const uint32_t *bounds,
		   void (*fn)(void *ctx, int part, uint32_t lo, uint32_t hi), void *ctx);
int fw_cohort_fields(const struct fw_json *obj, const char *what, const char *const *fields,
		     struct fw_err *err);
int fw_cohort_event(struct fw_qctx *q, const struct fw_json *req, const char *key,
		    const char **name, uint8_t **flags, struct fw_err *err);
uint8_t *fw_cohort_active(struct fw_qctx *q);
void *fw_cohort_zalloc(struct fw_arena *a, size_t n);

/* First index in [b, e) whose event is at or after t (events in time order). */
uint64_t fw_cohort_first_at(const struct fw_ev *ev, uint64_t b, uint64_t e, int64_t t)
{
	while (b < e) {
		uint64_t mid = b + (e - b) / 2;
		if (ev[mid].t < t)
			b = mid + 1;
		else
			e = mid;
	}
	return b;
}

/* The same, searching forward from i: once a period (or a day) is known to
 * be active, the rest of its events need no other look than their time. A
 * plain forward scan beats galloping or binary search here: the next
 * period's first event is usually a few cache lines away, and a sequential
 * read is what the prefetcher does best (measured on 10M events). */
uint64_t fw_cohort_skip_to(const struct fw_ev *ev, uint64_t i, uint64_t e, int64_t t)
{
	while (i < e && ev[i].t < t)
		i++;
	return i;
}

/* Split the units into up to `max` parts of about equal event counts, one per
 * core: bounds[i] .. bounds[i + 1] is part i. Small inputs stay in one part
 * (a thread costs more than it saves). Returns the number of parts. */
int fw_cohort_parts(const struct fw_units *u, uint32_t *bounds, int max)
{
	uint64_t nev = u->off[u->n];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n = nev < FW_COHORT_PARALLEL_EVENTS || ncpu < 2 ? 1 : (int)(ncpu < max ? ncpu : max);
	bounds[0] = 0;
	for (int i = 1; i < n; i++) {
		uint64_t target = nev * (uint64_t)i / (uint64_t)n;
		uint32_t lo = bounds[i - 1], hi = u->n;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (u->off[mid] < target)
				lo = mid + 1;
			else
				hi = mid;
		}
		bounds[i] = lo;
	}
	bounds[n] = u->n;
	return n;
}

struct job {
	void (*fn)(void *ctx, int part, uint32_t lo, uint32_t hi);
	void *ctx;
	int part;
	uint32_t lo, hi;
};

static void *job_main(void *arg)
{
	struct job *j = arg;
	j->fn(j->ctx, j->part, j->lo, j->hi);
	return NULL;
}

/* Run fn on every part: part 0 on this thread, the others on their own. */
void fw_cohort_run(int nparts, const uint32_t *bounds,
		   void (*fn)(void *ctx, int part, uint32_t lo, uint32_t hi), void *ctx)
{
	struct job jobs[16];
	pthread_t th[16];
	int started[16] = {0};
	if (nparts < 1)
		return;
	if (nparts > 16)
		nparts = 16;
	for (int i = 1; i < nparts; i++) {
		jobs[i] = (struct job){fn, ctx, i, bounds[i], bounds[i + 1]};
		started[i] = pthread_create(&th[i], NULL, job_main, &jobs[i]) == 0;
		if (!started[i]) /* no thread: do it here */
			fn(ctx, i, bounds[i], bounds[i + 1]);
	}
	fn(ctx, 0, bounds[0], bounds[1]);
	for (int i = 1; i < nparts; i++)
		if (started[i])
			pthread_join(th[i], NULL);
}

/* Refuse members of `obj` that are not in `fields` (a typo would otherwise
 * silently give the default), and members given twice. `what` names the
 * object in the message. */
int fw_cohort_fields(const struct fw_json *obj, const char *what, const char *const *fields,
		     struct fw_err *err)
{
	for (const struct fw_json *c = obj->u.child; c; c = c->next) {
		for (const struct fw_json *b = obj->u.child; b != c; b = b->next)
			if (b->key.len == c->key.len && !memcmp(b->key.p, c->key.p, c->key.len))
				return fw_error(err, FW_EINVAL, "%.*s: given twice in %s",
						(int)(c->key.len > 60 ? 60 : c->key.len), c->key.p, what);
		int ok = fw_str_eq(c->key, "kind");
		for (size_t i = 0; fields[i] && !ok; i++)
			ok = fw_str_eq(c->key, fields[i]);
		if (ok)
			continue;
		char list[400] = "";
		size_t n = 0;
		for (size_t i = 0; fields[i] && n < sizeof list - 40; i++)
			n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", fields[i]);
		return fw_error(err, FW_EINVAL, "%.*s: not a field of %s (its fields: %s)",
				(int)(c->key.len > 60 ? 60 : c->key.len), c->key.p, what, list);
	}
	return 0;
}

/* The event field `key`: *name = the name (NULL when absent: any active
 * event) and *flags = per name id, 1 if an event of that name counts. An
 * event no stored event has matches nothing (and is no error: it may simply
 * not have happened yet). */
int fw_cohort_event(struct fw_qctx *q, const struct fw_json *req, const char *key,
		    const char **name, uint8_t **flags, struct fw_err *err)
{
	const struct fw_dataset *d = q->d;
	if (fw_q_str(req, key, NULL, name, q->arena, err))
		return FW_EINVAL;
	if (*name && !**name)
		return fw_error(err, FW_EINVAL, "%s: expected an event name (omit it for any active event)",
				key);
	if (!*name) {
		*flags = fw_cohort_active(q);
		return 0;
	}
	*flags = fw_cohort_zalloc(q->arena, (size_t)d->names.count + 1);
	uint32_t id = fw_dataset_name(d, *name);
	if (id != UINT32_MAX)
		(*flags)[id] = 1;
	return 0;
}

/* Per name id: 1 for an active event (not in the config's inactive_events). */
uint8_t *fw_cohort_active(struct fw_qctx *q)
{
	const struct fw_dataset *d = q->d;
	uint8_t *flags = fw_cohort_zalloc(q->arena, (size_t)d->names.count + 1);
	for (uint32_t i = 0; i < d->names.count; i++) {
		struct fw_str s = fw_dict_str(&d->names, i);
		flags[i] = (uint8_t)fw_config_is_active(q->cfg, s.p, s.len);
	}
	return flags;
}

void *fw_cohort_zalloc(struct fw_arena *a, size_t n)
{
	void *p = fw_arena_alloc(a, n ? n : 1);
	memset(p, 0, n);
	return p;
}

/* ---- small pieces of this file ---- */

static const char *const unit_names[] = {"person", "account"};
static const char *const period_names[] = {"day", "week", "month"};

/* Periods: start[0] .. start[n] are the starts of periods 0 .. n-1 and the
 * end of the last; day_period maps a day (counted from start[0]) to its period. */
struct calendar {
	uint32_t n;
	int64_t *start;
	uint32_t *day_period;
};

static void calendar_init(struct calendar *c, struct fw_arena *a, enum fw_period p, int64_t first,
			  uint32_t n)
{
	c->n = n;
	c->start = fw_arena_alloc(a, ((size_t)n + 1) * sizeof *c->start);
	c->start[0] = first;
	for (uint32_t i = 0; i < n; i++)
		c->start[i + 1] = fw_period_next(p, c->start[i]);
	size_t ndays = (size_t)((c->start[n] - first) / DAY);
	c->day_period = fw_arena_alloc(a, (ndays + 1) * sizeof *c->day_period);
	for (uint32_t i = 0, d = 0; i < n; i++)
		for (; first + (int64_t)d * DAY < c->start[i + 1]; d++)
			c->day_period[d] = i;
}

/* Period of t, for start[0] <= t < start[n]. */
static inline uint32_t period_of(const struct calendar *c, int64_t t)
{
	return c->day_period[(uint64_t)(t - c->start[0]) / (uint64_t)DAY];
}

/* The first period start at or after t; n periods before start s. */
static int64_t period_ceil(enum fw_period p, int64_t t)
{
	int64_t s = fw_period_floor(p, t);
	return s == t ? s : fw_period_next(p, s);
}

static int64_t period_back(enum fw_period p, int64_t s, int64_t n)
{
	while (n-- > 0)
		s = fw_period_floor(p, s - 1);
	return s;
}

/* Periods from `first` (a period start) that start before `to` — or, with
 * `full`, that end at or before it. At most max + 1 are counted. */
static uint32_t count_periods(enum fw_period p, int64_t first, int64_t to, int full, uint32_t max)
{
	uint32_t n = 0;
	for (int64_t s = first; n <= max; s = fw_period_next(p, s)) {
		if (full ? fw_period_next(p, s) > to : s >= to)
			break;
		n++;
	}
	return n;
}

static int too_many(uint32_t n, const char *what, const char *period, struct fw_err *err)
{
	if (n <= MAX_PERIODS)
		return 0;
	return fw_error(err, FW_EINVAL,
			"from, to: the range holds more than %d %s; narrow it or use a longer period "
			"than \"%s\"",
			MAX_PERIODS, what, period);
}

/* A boolean field; absent = 0. */
static int q_bool(const struct fw_json *req, const char *key, int *out, struct fw_err *err)
{
	const struct fw_json *v = fw_json_get(req, key);
	*out = 0;
	if (!v || v->type == FW_JSON_NULL || v->type == FW_JSON_FALSE)
		return 0;
	if (v->type == FW_JSON_TRUE) {
		*out = 1;
		return 0;
	}
	return fw_error(err, FW_EINVAL, "%s: expected true or false", key);
}

/* A time field ("as_of"; people's "cohort"/"period"); absent leaves *out. */
static int q_time(const struct fw_json *obj, const char *key, const char *path, int64_t *out,
		  struct fw_err *err)
{
	const struct fw_json *v = fw_json_get(obj, key);
	if (!v || v->type == FW_JSON_NULL)
		return 0;
	if (v->type != FW_JSON_STRING || fw_time_parse_iso(v->u.str.p, v->u.str.len, out))
		return fw_error(err, FW_EINVAL, "%s%s: expected a date (YYYY-MM-DD) or an ISO-8601 time",
				path, key);
	return 0;
}

/* The index of the period of `cal` holding the time of people.KEY (required). */
static int people_period(const struct fw_people_req *pr, const char *key, const struct calendar *cal,
			 uint32_t first, uint32_t n, uint32_t *out, struct fw_err *err)
{
	int64_t t = INT64_MIN;
	if (q_time(pr->spec, key, "people.", &t, err))
		return FW_EINVAL;
	if (t == INT64_MIN)
		return fw_error(err, FW_EINVAL, "people.%s: give the %s as YYYY-MM-DD", key, key);
	if (t < cal->start[first] || t >= cal->start[first + n]) {
		char a[16], b[16];
		fw_time_format_day(cal->start[first], a);
		fw_time_format_day(cal->start[first + n] - 1, b);
		return fw_error(err, FW_EINVAL, "people.%s: not in the answer's periods (%s to %s)", key,
				n ? a : "none", n ? b : "none");
	}
	*out = period_of(cal, t) - first;
	return 0;
}

/* A growing list of unit ids for `people`. */
struct unit_list {
	uint32_t *v;
	size_t n, cap;
};

static void list_push(struct unit_list *l, uint32_t u)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = fw_xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = u;
}

/* Smallest set bit in [i, hi) of the bitmap w, or hi. */
static inline uint32_t next_bit(const uint64_t *w, uint32_t i, uint32_t hi)
{
	while (i < hi) {
		uint64_t x = w[i >> 6] >> (i & 63);
		if (x) {
			i += (uint32_t)__builtin_ctzll(x);
			return i < hi ? i : hi;
		}
		i = (i | 63) + 1;
	}
	return hi;
}

static inline void set_bit(uint64_t *w, uint32_t i)
{
	w[i >> 6] |= 1ull << (i & 63);
}

static inline int get_bit(const uint64_t *w, uint32_t i)
{
	return (int)(w[i >> 6] >> (i & 63)) & 1;
}

static void write_days(struct fw_buf *out, const char *key, int64_t ms)
{
	fw_buf_printf(out, ",\"%s\":", key);
	fw_q_day(out, ms);
}

static void write_name(struct fw_buf *out, const char *key, const char *name)
{
	fw_buf_printf(out, ",\"%s\":", key);
	if (name)
		fw_json_write_str(out, name, strlen(name));
	else
		fw_buf_adds(out, "null");
}

/* ================================================================ retention */

struct retention {
	struct fw_dataset *d;
	const struct fw_units *u;
	enum fw_unit unit;
	struct calendar cal;      /* W = C + N - 1 periods from the first cohort's */
	uint32_t C, N, W;
	uint32_t R;               /* periods that started before as_of: reported */
	int recurring, on_or_after, activated_only;
	int64_t as_of;            /* periods that start before it are reported */
	uint32_t signup_name;     /* the sign-up event's name id, or UINT32_MAX */
	uint32_t activation_name;
	int activation_need;      /* activation.min_count */
	int cohort_is_signup;     /* first_time without "event": the sign-up */
	uint32_t cohort_name;     /* first_time with "event": its id (UINT32_MAX: none) */
	uint8_t *cohort_names;    /* recurring: per name id, a cohort event */
	struct fw_filters where;  /* on the cohort event */
	uint8_t *return_names;    /* per name id, a return event */
	uint32_t cwords, awords;  /* bitmap words: C cohorts, W periods */
	/* per part */
	uint64_t *size[MAX_PARTS], *ret[MAX_PARTS], *bits[MAX_PARTS];
};

/* Sign-up time of unit k: a person's (dataset.h), or an account's first
 * sign-up event; INT64_MAX if none. *at = the index of that sign-up event, or
 * UINT64_MAX when there is none (a sign-up by identify). */
static int64_t unit_signup(const struct retention *r, uint32_t k, uint64_t *at)
{
	const struct fw_ev *ev = r->u->ev;
	uint64_t b = r->u->off[k], e = r->u->off[k + 1];
	*at = UINT64_MAX;
	if (r->unit == FW_UNIT_PERSON) {
		int64_t t = r->d->signup_ms[k];
		if (t == INT64_MAX)
			return t;
		for (uint64_t i = fw_cohort_first_at(ev, b, e, t); i < e && ev[i].t == t; i++)
			if (ev[i].name == r->signup_name) {
				*at = i;
				break;
			}
		return t;
	}
	for (uint64_t i = b; i < e; i++)
		if (ev[i].name == r->signup_name) {
			*at = i;
			return ev[i].t;
		}
	return INT64_MAX;
}

/* First-time cohort: the time of the unit's first cohort event, if that
 * event passes `where`; INT64_MAX otherwise. */
static int64_t cohort_time(const struct retention *r, uint32_t k)
{
	const struct fw_ev *ev = r->u->ev;
	uint64_t at = UINT64_MAX;
	int64_t t = INT64_MAX;
	if (r->cohort_is_signup) {
		if (r->unit == FW_UNIT_PERSON && !r->where.n) /* fast path: no event to look at */
			return r->d->signup_ms[k];
		t = unit_signup(r, k, &at);
	} else {
		for (uint64_t i = r->u->off[k], e = r->u->off[k + 1]; i < e; i++)
			if (ev[i].name == r->cohort_name) {
				at = i;
				t = ev[i].t;
				break;
			}
	}
	if (t != INT64_MAX && r->where.n && (at == UINT64_MAX || !fw_filters_match(&r->where, &ev[at])))
		return INT64_MAX;
	return t;
}

/* Did unit k do the activation event (min_count times) at or after its sign-up? */
static int activated(const struct retention *r, uint32_t k)
{
	const struct fw_ev *ev = r->u->ev;
	uint64_t at, e = r->u->off[k + 1];
	int64_t s = unit_signup(r, k, &at);
	if (s == INT64_MAX)
		return 0;
	int need = r->activation_need;
	for (uint64_t i = fw_cohort_first_at(ev, r->u->off[k], e, s); i < e; i++)
		if (ev[i].name == r->activation_name && --need == 0)
			return 1;
	return 0;
}

/* The period of the unit's last return event: W if after the window, -1 if
 * none at or after the window's start. */
static int64_t last_active(const struct retention *r, uint32_t k)
{
	const struct fw_ev *ev = r->u->ev;
	uint64_t b = r->u->off[k];
	for (uint64_t i = r->u->off[k + 1]; i > b; i--) {
		const struct fw_ev *x = &ev[i - 1];
		if (x->t < r->cal.start[0])
			return -1; /* and so is every earlier one */
		if (!r->return_names[x->name])
			continue;
		return x->t >= r->cal.start[r->W] ? r->W : period_of(&r->cal, x->t);
	}
	return -1;
}

/* Unit k's cohorts (bits 0..C-1 of `cohorts`), active periods (bits 0..W-1
 * of `active`, for mode "on") and *maxp (last_active, for "on_or_after").
 * Returns 0 if the unit is in no cohort. */
static int retention_unit(const struct retention *r, uint32_t k, uint64_t *cohorts,
			  uint64_t *active, int64_t *maxp)
{
	const struct fw_ev *ev = r->u->ev;
	const struct calendar *cal = &r->cal;
	uint64_t b = r->u->off[k], e = r->u->off[k + 1];
	uint32_t lo, hi; /* first and last cohort */
	int64_t cend = cal->start[r->C];
	memset(cohorts, 0, r->cwords * sizeof *cohorts);
	if (!r->recurring) {
		int64_t t = cohort_time(r, k);
		if (t < cal->start[0] || t >= cend)
			return 0;
		lo = hi = period_of(cal, t);
		set_bit(cohorts, lo);
	} else {
		lo = UINT32_MAX;
		hi = 0;
		for (uint64_t i = fw_cohort_first_at(ev, b, e, cal->start[0]); i < e && ev[i].t < cend;) {
			if (!r->cohort_names[ev[i].name] || (r->where.n && !fw_filters_match(&r->where, &ev[i]))) {
				i++;
				continue;
			}
			hi = period_of(cal, ev[i].t);
			if (lo == UINT32_MAX)
				lo = hi;
			set_bit(cohorts, hi);
			i = fw_cohort_skip_to(ev, i + 1, e, cal->start[hi + 1]);
		}
		if (lo == UINT32_MAX)
			return 0;
	}
	if (r->activated_only && !activated(r, k))
		return 0;
	if (r->on_or_after) {
		*maxp = last_active(r, k);
		return 1;
	}
	memset(active, 0, r->awords * sizeof *active);
	int64_t end = cal->start[hi + r->N < r->W ? hi + r->N : r->W];
	for (uint64_t i = fw_cohort_first_at(ev, b, e, cal->start[lo]); i < e && ev[i].t < end;) {
		if (!r->return_names[ev[i].name]) {
			i++;
			continue;
		}
		uint32_t p = period_of(cal, ev[i].t);
		set_bit(active, p);
		i = fw_cohort_skip_to(ev, i + 1, e, cal->start[p + 1]);
	}
	return 1;
}

/* Is a unit of cohort c retained at period k (which the cohort reached)? */
static inline int retained_at(const struct retention *r, uint32_t c, uint32_t k,
			      const uint64_t *active, int64_t maxp)
{
	return r->on_or_after ? (int64_t)(c + k) <= maxp : get_bit(active, c + k);
}

/* Periods cohort c has reached: those that started before as_of (later ones
 * are not reported: a period that has not begun would read as 0 retained). */
static inline uint32_t reach(const struct retention *r, uint32_t c)
{
	return r->R <= c ? 0 : r->R - c < r->N ? r->R - c : r->N;
}

static void retention_add(const struct retention *r, const uint64_t *cohorts,
			  const uint64_t *active, int64_t maxp, uint64_t *size, uint64_t *ret)
{
	for (uint32_t c = next_bit(cohorts, 0, r->C); c < r->C; c = next_bit(cohorts, c + 1, r->C)) {
		size[c]++;
		uint32_t n = reach(r, c);
		uint64_t *row = ret + (size_t)c * r->N;
		if (r->on_or_after) {
			for (uint32_t k = 0; k < n && (int64_t)(c + k) <= maxp; k++)
				row[k]++;
		} else {
			for (uint32_t j = next_bit(active, c, c + n); j < c + n; j = next_bit(active, j + 1, c + n))
				row[j - c]++;
		}
	}
}

static void retention_part(void *ctx, int part, uint32_t lo, uint32_t hi)
{
	struct retention *r = ctx;
	uint64_t *cohorts = r->bits[part], *active = cohorts + r->cwords;
	int64_t maxp = -1;
	for (uint32_t k = lo; k < hi; k++)
		if (retention_unit(r, k, cohorts, active, &maxp))
			retention_add(r, cohorts, active, maxp, r->size[part], r->ret[part]);
}

/* The units of people.cohort, at people.period if given, retained or lost. */
static int retention_people(struct retention *r, const struct fw_people_req *pr,
			    struct unit_list *out, struct fw_err *err)
{
	static const char *const fields[] = {"cohort", "period", "status", "offset", "limit", NULL};
	static const char *const statuses[] = {"retained", "lost", NULL};
	uint32_t c;
	int64_t k;
	int lost;
	if (fw_cohort_fields(pr->spec, "people", fields, err) ||
	    people_period(pr, "cohort", &r->cal, 0, r->C, &c, err))
		return FW_EINVAL;
	if (fw_q_int(pr->spec, "period", -1, 0, r->N - 1, &k, err) ||
	    fw_q_enum(pr->spec, "status", statuses, &lost, err)) {
		char msg[sizeof err->msg];
		memcpy(msg, err->msg, sizeof msg);
		return fw_error(err, FW_EINVAL, "people.%s", msg);
	}
	if (k >= (int64_t)reach(r, c))
		return fw_error(err, FW_EINVAL, "people.period: period %lld of that cohort has not started yet (it has %u)",
				(long long)k, reach(r, c));
	uint64_t *cohorts = r->bits[0], *active = cohorts + r->cwords;
	int64_t maxp = -1;
	for (uint32_t u = 0; u < r->u->n; u++) {
		if (!retention_unit(r, u, cohorts, active, &maxp) || !get_bit(cohorts, c))
			continue;
		if (k < 0 || retained_at(r, c, (uint32_t)k, active, maxp) != lost)
			list_push(out, u);
	}
	return 0;
}

static void retention_json(const struct retention *r, struct fw_buf *out, const uint64_t *size,
			   const uint64_t *ret)
{
	fw_buf_adds(out, ",\"cohorts\":[");
	for (uint32_t c = 0; c < r->C; c++) {
		fw_buf_adds(out, c ? ",{\"cohort\":" : "{\"cohort\":");
		fw_q_day(out, r->cal.start[c]);
		fw_buf_printf(out, ",\"size\":%llu,\"retained\":[", (unsigned long long)size[c]);
		uint32_t n = reach(r, c);
		for (uint32_t k = 0; k < n; k++)
			fw_buf_printf(out, "%s%llu", k ? "," : "", (unsigned long long)ret[(size_t)c * r->N + k]);
		fw_buf_adds(out, "],\"rates\":[");
		for (uint32_t k = 0; k < n; k++) {
			if (k)
				fw_buf_addc(out, ',');
			fw_q_ratio(out, (double)ret[(size_t)c * r->N + k], (double)size[c]);
		}
		fw_buf_adds(out, "]}");
	}
	fw_buf_adds(out, "],\"curve\":[");
	for (uint32_t k = 0; k < r->N; k++) {
		uint64_t cohorts = 0, sz = 0, kept = 0;
		for (uint32_t c = 0; c < r->C; c++)
			if (k < reach(r, c)) {
				cohorts++;
				sz += size[c];
				kept += ret[(size_t)c * r->N + k];
			}
		if (!cohorts)
			break;
		fw_buf_printf(out, "%s{\"period\":%u,\"cohorts\":%llu,\"size\":%llu,\"retained\":%llu,\"rate\":",
			      k ? "," : "", k, (unsigned long long)cohorts, (unsigned long long)sz,
			      (unsigned long long)kept);
		fw_q_ratio(out, (double)kept, (double)sz);
		fw_buf_addc(out, '}');
	}
	fw_buf_addc(out, ']');
}

/* Read the request into r (everything but the per-part counters). */
static int retention_parse(struct fw_qctx *q, const struct fw_json *req, struct retention *r,
			   enum fw_period *p, const char **event, const char **return_event,
			   int64_t *from, int64_t *to, struct fw_err *err)
{
	static const char *const fields[] = {"period", "periods", "cohort", "event", "return_event",
					     "mode", "activated_only", "from", "to", "as_of", "unit",
					     "where", "people", NULL};
	static const char *const cohorts[] = {"first_time", "recurring", NULL};
	static const char *const modes[] = {"on", "on_or_after", NULL};
	int64_t n;
	uint8_t *cohort_flags;
	if (fw_cohort_fields(req, "retention", fields, err) ||
	    fw_q_period(req, "period", FW_PERIOD_WEEK, p, err) ||
	    fw_q_int(req, "periods", 8, 1, 400, &n, err) ||
	    fw_q_enum(req, "cohort", cohorts, &r->recurring, err) ||
	    fw_q_enum(req, "mode", modes, &r->on_or_after, err) ||
	    q_bool(req, "activated_only", &r->activated_only, err) ||
	    fw_q_unit(req, &r->unit, err) || q_time(req, "as_of", "", &r->as_of, err) ||
	    fw_cohort_event(q, req, "event", event, &cohort_flags, err) ||
	    fw_cohort_event(q, req, "return_event", return_event, &r->return_names, err) ||
	    fw_q_filters(q, fw_json_get(req, "where"), "where", &r->where, err))
		return err->code ? err->code : FW_EINVAL;
	r->N = (uint32_t)n;
	*to = fw_period_next(*p, fw_period_floor(*p, r->as_of));
	*from = INT64_MIN;
	if (fw_q_range(req, from, to, err))
		return FW_EINVAL;
	if (*from == INT64_MIN)
		*from = period_back(*p, period_ceil(*p, *to), r->N);
	r->cohort_names = cohort_flags;
	r->cohort_is_signup = !r->recurring && !*event;
	r->cohort_name = *event ? fw_dataset_name(r->d, *event) : UINT32_MAX;
	r->signup_name = fw_dataset_name(r->d, q->cfg->signup_event);
	r->activation_name = fw_dataset_name(r->d, q->cfg->activation_event);
	r->activation_need = q->cfg->activation_min_count > 0 ? q->cfg->activation_min_count : 1;
	return 0;
}

int fw_q_retention(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
		   struct fw_err *err)
{
	struct retention r = {.d = q->d, .as_of = q->now_ms};
	enum fw_period p;
	const char *event, *return_event;
	int64_t from, to;
	struct fw_people_req pr;
	if (retention_parse(q, req, &r, &p, &event, &return_event, &from, &to, err) ||
	    fw_q_people(req, &pr, err))
		return err->code ? err->code : FW_EINVAL;
	int64_t first = period_ceil(p, from);
	r.C = count_periods(p, first, to, 0, MAX_PERIODS);
	if (too_many(r.C, "cohorts", period_names[p], err))
		return FW_EINVAL;
	r.W = r.C ? r.C + r.N - 1 : 0;
	calendar_init(&r.cal, q->arena, p, first, r.W);
	for (r.R = 0; r.R < r.W && r.cal.start[r.R] < r.as_of;)
		r.R++;
	r.u = fw_dataset_units(q->d, r.unit);
	r.cwords = (r.C + 63) / 64 + 1;
	r.awords = (r.W + 63) / 64 + 1;
	uint32_t bounds[MAX_PARTS + 1];
	int nparts = r.C ? fw_cohort_parts(r.u, bounds, MAX_PARTS) : 0;
	for (int i = 0; i < (nparts ? nparts : 1); i++) {
		r.size[i] = fw_cohort_zalloc(q->arena, ((size_t)r.C + 1) * sizeof **r.size);
		r.ret[i] = fw_cohort_zalloc(q->arena, ((size_t)r.C * r.N + 1) * sizeof **r.ret);
		r.bits[i] = fw_cohort_zalloc(q->arena, ((size_t)r.cwords + r.awords) * sizeof **r.bits);
	}
	struct unit_list people = {0};
	if (pr.wanted && retention_people(&r, &pr, &people, err)) {
		free(people.v);
		return FW_EINVAL;
	}
	if (nparts)
		fw_cohort_run(nparts, bounds, retention_part, &r);
	for (int i = 1; i < nparts; i++) {
		for (uint32_t c = 0; c < r.C; c++)
			r.size[0][c] += r.size[i][c];
		for (size_t j = 0; j < (size_t)r.C * r.N; j++)
			r.ret[0][j] += r.ret[i][j];
	}
	char as_of[32];
	fw_time_format_iso(r.as_of, as_of);
	fw_buf_printf(out, "{\"kind\":\"retention\",\"unit\":\"%s\",\"period\":\"%s\",\"periods\":%u,"
			   "\"cohort\":\"%s\"",
		      unit_names[r.unit], period_names[p], r.N, r.recurring ? "recurring" : "first_time");
	write_name(out, "event", event);
	write_name(out, "return_event", return_event);
	fw_buf_printf(out, ",\"mode\":\"%s\",\"activated_only\":%s", r.on_or_after ? "on_or_after" : "on",
		      r.activated_only ? "true" : "false");
	write_days(out, "from", r.C ? r.cal.start[0] : from);
	write_days(out, "to", r.C ? r.cal.start[r.C] : to);
	fw_buf_printf(out, ",\"as_of\":\"%s\"", as_of);
	retention_json(&r, out, r.size[0], r.ret[0]);
	if (pr.wanted)
		fw_q_people_write(out, q->d, r.unit, &pr, people.v, people.n);
	fw_buf_addc(out, '}');
	free(people.v);
	return 0;
}

/* =============================================================== stickiness */

#define STICKY_DAYS 32 /* counters per period: 1..31 active days */

struct stickiness {
	const struct fw_units *u;
	struct calendar cal; /* the full periods */
	uint8_t *names;
	struct fw_filters where;
	uint64_t *hist[MAX_PARTS]; /* period * STICKY_DAYS + days: units */
	/* people: units active `want_days` days (0 = any) in period `want` */
	uint32_t want, want_days;
	struct unit_list *people;
};

static inline void sticky_flush(struct stickiness *s, uint64_t *hist, uint32_t k, uint32_t period,
				uint32_t days)
{
	hist[(size_t)period * STICKY_DAYS + days]++;
	if (s->people && period == s->want && (!s->want_days || days == s->want_days))
		list_push(s->people, k);
}

/* One pass over unit k's events in the window: events are in time order, so
 * after an active event the pass skips to the next day, and a period ends
 * when the next active day falls in another. */
static void sticky_unit(struct stickiness *s, uint64_t *hist, uint32_t k)
{
	const struct fw_ev *ev = s->u->ev;
	const struct calendar *cal = &s->cal;
	uint64_t e = s->u->off[k + 1];
	int64_t base = cal->start[0], end = cal->start[cal->n];
	uint32_t cur = 0, days = 0;
	for (uint64_t i = fw_cohort_first_at(ev, s->u->off[k], e, base); i < e && ev[i].t < end;) {
		if (!s->names[ev[i].name] || (s->where.n && !fw_filters_match(&s->where, &ev[i]))) {
			i++;
			continue;
		}
		uint64_t day = (uint64_t)(ev[i].t - base) / (uint64_t)DAY;
		i = fw_cohort_skip_to(ev, i + 1, e, base + (int64_t)(day + 1) * DAY);
		uint32_t p = cal->day_period[day];
		if (days && p != cur) {
			sticky_flush(s, hist, k, cur, days);
			days = 0;
		}
		cur = p;
		days++;
	}
	if (days)
		sticky_flush(s, hist, k, cur, days);
}

static void sticky_part(void *ctx, int part, uint32_t lo, uint32_t hi)
{
	struct stickiness *s = ctx;
	for (uint32_t k = lo; k < hi; k++)
		sticky_unit(s, s->hist[part], k);
}

/* {"active":n,"active_days":[units with 1 day, 2 days, …],"mean_active_days":m} */
static void sticky_json(struct fw_buf *out, const uint64_t *h, uint32_t maxdays)
{
	uint64_t units = 0, days = 0;
	for (uint32_t d = 1; d <= maxdays; d++) {
		units += h[d];
		days += h[d] * d;
	}
	fw_buf_printf(out, ",\"active\":%llu,\"active_days\":[", (unsigned long long)units);
	for (uint32_t d = 1; d <= maxdays; d++)
		fw_buf_printf(out, "%s%llu", d > 1 ? "," : "", (unsigned long long)h[d]);
	fw_buf_adds(out, "],\"mean_active_days\":");
	fw_q_ratio(out, (double)days, (double)units);
}

int fw_q_stickiness(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
		    struct fw_err *err)
{
	static const char *const fields[] = {"period", "from", "to", "event", "where", "unit",
					     "people", NULL};
	struct stickiness s = {0};
	enum fw_period p;
	enum fw_unit unit;
	const char *event;
	struct fw_people_req pr;
	if (fw_cohort_fields(req, "stickiness", fields, err) ||
	    fw_q_period(req, "period", FW_PERIOD_WEEK, &p, err) || fw_q_unit(req, &unit, err) ||
	    fw_cohort_event(q, req, "event", &event, &s.names, err) ||
	    fw_q_filters(q, fw_json_get(req, "where"), "where", &s.where, err) ||
	    fw_q_people(req, &pr, err))
		return err->code ? err->code : FW_EINVAL;
	if (p == FW_PERIOD_DAY)
		return fw_error(err, FW_EINVAL, "period: expected \"week\" or \"month\" (active days are counted per week or month)");
	int64_t to = fw_period_floor(p, q->now_ms), from = INT64_MIN;
	if (fw_q_range(req, &from, &to, err))
		return FW_EINVAL;
	if (from == INT64_MIN)
		from = period_back(p, fw_period_floor(p, to), 8);
	int64_t first = period_ceil(p, from);
	uint32_t n = count_periods(p, first, to, 1, MAX_PERIODS);
	if (too_many(n, "periods", period_names[p], err))
		return FW_EINVAL;
	calendar_init(&s.cal, q->arena, p, first, n);
	s.u = fw_dataset_units(q->d, unit);
	uint32_t bounds[MAX_PARTS + 1];
	int nparts = fw_cohort_parts(s.u, bounds, MAX_PARTS);
	for (int i = 0; i < nparts; i++)
		s.hist[i] = fw_cohort_zalloc(q->arena, ((size_t)n + 1) * STICKY_DAYS * sizeof **s.hist);
	struct unit_list people = {0};
	if (pr.wanted) {
		static const char *const pfields[] = {"period", "days", "offset", "limit", NULL};
		int64_t days;
		if (fw_cohort_fields(pr.spec, "people", pfields, err) ||
		    people_period(&pr, "period", &s.cal, 0, n, &s.want, err))
			return FW_EINVAL;
		if (fw_q_int(pr.spec, "days", 0, 1, 31, &days, err))
			return fw_error(err, FW_EINVAL, "people.days: expected a number of active days from 1 to 31");
		s.want_days = (uint32_t)days;
		s.people = &people;
		uint64_t *scratch = fw_cohort_zalloc(q->arena, ((size_t)n + 1) * STICKY_DAYS * sizeof *scratch);
		for (uint32_t k = 0; k < s.u->n; k++)
			sticky_unit(&s, scratch, k);
		s.people = NULL;
	}
	if (n)
		fw_cohort_run(nparts, bounds, sticky_part, &s);
	for (int i = 1; i < nparts; i++)
		for (size_t j = 0; j < (size_t)n * STICKY_DAYS; j++)
			s.hist[0][j] += s.hist[i][j];
	fw_buf_printf(out, "{\"kind\":\"stickiness\",\"unit\":\"%s\",\"period\":\"%s\"",
		      unit_names[unit], period_names[p]);
	write_name(out, "event", event);
	write_days(out, "from", n ? s.cal.start[0] : from);
	write_days(out, "to", n ? s.cal.start[n] : to);
	fw_buf_adds(out, ",\"periods\":[");
	uint64_t pooled[STICKY_DAYS] = {0};
	uint32_t maxdays = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t days = (uint32_t)((s.cal.start[i + 1] - s.cal.start[i]) / DAY);
		const uint64_t *h = s.hist[0] + (size_t)i * STICKY_DAYS;
		for (uint32_t d = 1; d <= days; d++)
			pooled[d] += h[d];
		if (days > maxdays)
			maxdays = days;
		fw_buf_adds(out, i ? ",{\"period\":" : "{\"period\":");
		fw_q_day(out, s.cal.start[i]);
		fw_buf_printf(out, ",\"days\":%u", days);
		sticky_json(out, h, days);
		fw_buf_addc(out, '}');
	}
	fw_buf_printf(out, "],\"pooled\":{\"periods\":%u", n);
	sticky_json(out, pooled, maxdays);
	fw_buf_addc(out, '}');
	if (pr.wanted)
		fw_q_people_write(out, q->d, unit, &pr, people.v, people.n);
	fw_buf_addc(out, '}');
	free(people.v);
	return 0;
}

/* ================================================================ lifecycle */

enum { LC_NEW, LC_RETURNING, LC_RESURRECTING, LC_DORMANT, LC_N };
static const char *const lc_names[] = {"new", "returning", "resurrecting", "dormant", NULL};

struct lifecycle {
	const struct fw_units *u;
	struct calendar cal; /* period 0 = the one before the first reported; 1..P reported */
	uint32_t P, words;
	uint8_t *names;
	struct fw_filters where;
	uint64_t *counts[MAX_PARTS]; /* (period - 1) * LC_N + status */
	uint64_t *bits[MAX_PARTS];
	/* people: units with status `want_status` in reported period `want` (1-based) */
	uint32_t want;
	int want_status;
	struct unit_list *people;
};

static inline int lc_match(const struct lifecycle *l, const struct fw_ev *e)
{
	return l->names[e->name] && (!l->where.n || fw_filters_match(&l->where, e));
}

static void lifecycle_unit(struct lifecycle *l, uint64_t *counts, uint64_t *bits, uint32_t k)
{
	const struct fw_ev *ev = l->u->ev;
	const struct calendar *cal = &l->cal;
	uint64_t b = l->u->off[k], e = l->u->off[k + 1], i;
	int64_t base = cal->start[0], end = cal->start[cal->n];
	int before = 0; /* active before the window */
	for (i = b; i < e && ev[i].t < base && !before; i++)
		before = lc_match(l, &ev[i]);
	memset(bits, 0, l->words * sizeof *bits);
	uint32_t lo = UINT32_MAX, hi = 0;
	for (i = fw_cohort_first_at(ev, i, e, base); i < e && ev[i].t < end;) {
		if (!lc_match(l, &ev[i])) {
			i++;
			continue;
		}
		hi = period_of(cal, ev[i].t);
		if (lo == UINT32_MAX)
			lo = hi;
		set_bit(bits, hi);
		i = fw_cohort_skip_to(ev, i + 1, e, cal->start[hi + 1]);
	}
	if (lo == UINT32_MAX)
		return; /* nothing in the window: no status in any reported period */
	/* statuses start at the first active period (or the first reported one);
	 * `earlier`: active in some period before j - 1 */
	int earlier = before;
	for (uint32_t j = lo ? lo : 1; j <= l->P; j++) {
		int act = get_bit(bits, j), prev = get_bit(bits, j - 1);
		int st = -1;
		if (act && prev)
			st = LC_RETURNING;
		else if (act)
			st = earlier ? LC_RESURRECTING : LC_NEW;
		else if (prev)
			st = LC_DORMANT;
		earlier |= prev;
		if (st < 0) {
			if (j > hi + 1)
				break; /* no activity left: no more statuses */
			continue;
		}
		counts[(size_t)(j - 1) * LC_N + (uint32_t)st]++;
		if (l->people && j == l->want && st == l->want_status)
			list_push(l->people, k);
	}
}

static void lifecycle_part(void *ctx, int part, uint32_t lo, uint32_t hi)
{
	struct lifecycle *l = ctx;
	for (uint32_t k = lo; k < hi; k++)
		lifecycle_unit(l, l->counts[part], l->bits[part], k);
}

int fw_q_lifecycle(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
		   struct fw_err *err)
{
	static const char *const fields[] = {"period", "from", "to", "event", "where", "unit",
					     "people", NULL};
	struct lifecycle l = {0};
	enum fw_period p;
	enum fw_unit unit;
	const char *event;
	struct fw_people_req pr;
	if (fw_cohort_fields(req, "lifecycle", fields, err) ||
	    fw_q_period(req, "period", FW_PERIOD_WEEK, &p, err) || fw_q_unit(req, &unit, err) ||
	    fw_cohort_event(q, req, "event", &event, &l.names, err) ||
	    fw_q_filters(q, fw_json_get(req, "where"), "where", &l.where, err) ||
	    fw_q_people(req, &pr, err))
		return err->code ? err->code : FW_EINVAL;
	int64_t to = fw_period_next(p, fw_period_floor(p, q->now_ms)), from = INT64_MIN;
	if (fw_q_range(req, &from, &to, err))
		return FW_EINVAL;
	if (from == INT64_MIN)
		from = period_back(p, period_ceil(p, to), 8);
	int64_t first = period_ceil(p, from);
	l.P = count_periods(p, first, to, 0, MAX_PERIODS);
	if (too_many(l.P, "periods", period_names[p], err))
		return FW_EINVAL;
	calendar_init(&l.cal, q->arena, p, fw_period_floor(p, first - 1), l.P + 1);
	l.words = (l.P + 1 + 63) / 64 + 1;
	l.u = fw_dataset_units(q->d, unit);
	uint32_t bounds[MAX_PARTS + 1];
	int nparts = fw_cohort_parts(l.u, bounds, MAX_PARTS);
	for (int i = 0; i < nparts; i++) {
		l.counts[i] = fw_cohort_zalloc(q->arena, ((size_t)l.P + 1) * LC_N * sizeof **l.counts);
		l.bits[i] = fw_cohort_zalloc(q->arena, l.words * sizeof **l.bits);
	}
	struct unit_list people = {0};
	if (pr.wanted) {
		static const char *const pfields[] = {"period", "status", "offset", "limit", NULL};
		if (fw_cohort_fields(pr.spec, "people", pfields, err) ||
		    people_period(&pr, "period", &l.cal, 1, l.P, &l.want, err))
			return FW_EINVAL;
		if (fw_q_enum(pr.spec, "status", lc_names, &l.want_status, err))
			return fw_error(err, FW_EINVAL, "people.status: expected one of \"new\", \"returning\", \"resurrecting\", \"dormant\"");
		l.want++;
		l.people = &people;
		uint64_t *scratch = fw_cohort_zalloc(q->arena, ((size_t)l.P + 1) * LC_N * sizeof *scratch);
		for (uint32_t k = 0; k < l.u->n; k++)
			lifecycle_unit(&l, scratch, l.bits[0], k);
		l.people = NULL;
	}
	if (l.P)
		fw_cohort_run(nparts, bounds, lifecycle_part, &l);
	for (int i = 1; i < nparts; i++)
		for (size_t j = 0; j < (size_t)l.P * LC_N; j++)
			l.counts[0][j] += l.counts[i][j];
	fw_buf_printf(out, "{\"kind\":\"lifecycle\",\"unit\":\"%s\",\"period\":\"%s\"", unit_names[unit],
		      period_names[p]);
	write_name(out, "event", event);
	write_days(out, "from", l.P ? l.cal.start[1] : from);
	write_days(out, "to", l.P ? l.cal.start[l.P + 1] : to);
	fw_buf_adds(out, ",\"periods\":[");
	for (uint32_t j = 0; j < l.P; j++) {
		const uint64_t *c = l.counts[0] + (size_t)j * LC_N;
		fw_buf_adds(out, j ? ",{\"period\":" : "{\"period\":");
		fw_q_day(out, l.cal.start[j + 1]);
		for (int s = 0; s < LC_N; s++)
			fw_buf_printf(out, ",\"%s\":%llu", lc_names[s], (unsigned long long)c[s]);
		fw_buf_printf(out, ",\"active\":%llu}",
			      (unsigned long long)(c[LC_NEW] + c[LC_RETURNING] + c[LC_RESURRECTING]));
	}
	fw_buf_addc(out, ']');
	if (pr.wanted)
		fw_q_people_write(out, q->d, unit, &pr, people.v, people.n);
	fw_buf_addc(out, '}');
	free(people.v);
	return 0;
}
