/*
 * funnel.c — the "funnel" analysis of POST /api/v1/query and `flywheel query
 * funnel`: how many people (or accounts) went through steps s1..sk, where they
 * stopped, how long each step took, and who they are. docs/query/funnel.md is
 * the user's description; this comment is the exact one.
 *
 * Definitions (DESIGN.md "Funnel", made precise). Times are epoch ms, a unit's
 * events are in (time, log order) order, W is "window", w_i a step's "within".
 *
 *   path       events p1..pm of one unit, p_i matching step i (event name and
 *              `where`), with p1 in [from, to) and, by mode:
 *                ordered    t1 < t2 < … < tm (strictly), tm − t1 ≤ W and
 *                           t_i − t_{i−1} ≤ w_i where step i has a `within`;
 *                strict     the same, and p_{i+1} is the event right after p_i
 *                           among ALL the unit's events (nothing in between);
 *                any_order  p1 first; p2..pm in any order, each in (t1, t1 + W]
 *                           (steps must then name distinct events; no `within`).
 *   reach      the largest m for which a path exists: the unit counts in steps
 *              1..m. For each unit one path is chosen: its first event p1 is the
 *              earliest (time, log order) of those that reach furthest; after
 *              p1 each p_i is the earliest event (time, log order) from which
 *              the reach can still be completed (in ordered mode without
 *              `within` that is plain greedy: the first match after p_{i−1}).
 *              In any_order p_i is the first step-i event in (t1, t1 + W].
 *   times      per step i ≥ 2, over the units that reached it, t_i − t_{i−1}
 *              of the chosen path (any_order: t_i − t1), median and p90 by
 *              nearest rank (the value at rank ⌈p·n⌉), in seconds.
 *   exclusion  {event E, after_step a, before_step b}: if the chosen path
 *              reached b and an event matching E (and its `where`) lies strictly
 *              between t_a and t_b, the unit's reach becomes b − 1 and it counts
 *              as dropped at step b. The path is chosen first, without looking at
 *              exclusions. E may not be a step's event (it would exclude paths
 *              by their own steps).
 *   dropped    at step i: units with reach i − 1 whose window is closed at
 *   pending    "as_of" (default now): as_of > t1 + W; pending: still open
 *              (as_of ≤ t1 + W) — they may yet convert. Excluded units are
 *              always dropped.
 *   breakdown  the value of a property on the chosen p1 event.
 *
 * Algorithms (one pass per unit, no allocation per unit; scratch per thread):
 *
 *   ordered, no `within` — a backward scan. Greedy is optimal here: after
 *   p_{i−1} the first match of step i leaves every later choice available, and
 *   the only constraint tied to p1 (the window) only wants times small. Let
 *   row_j be the greedy path that starts at the earliest step-j event after
 *   the scan's cursor. Going backward, a step-j event at t makes row_j =
 *   (t, row_{j+1}) where row_{j+1} must start strictly after t. Rows are kept
 *   as immutable nodes {t, next, older}: `next` is row_{j+1} as it was, `older`
 *   the node this one replaced as head of row j — so "the row_{j+1} strictly
 *   after t" is its head, or, when that head has time t (equal times), the
 *   first `older` with a later time. A first-step event at t1 then walks
 *   (t1, row_2): its reach is how many of those times are ≤ t1 + W; ties keep
 *   the later-seen (= earlier) p1. Each step event costs one node, each
 *   first-step event at most k steps, and the chosen path is the chain kept.
 *   (A forward DP that keeps, per step, the latest start of a partial path
 *   gives the reach but not "earliest p1 among the furthest" nor the path.)
 *
 *   ordered with `within` — greedy is no longer optimal (a later p2 can be the
 *   only one with a p3 within w3 of it), so each candidate p1 (one per distinct
 *   time, earliest first) runs a forward DP over the step events of its
 *   window: last[i] = the latest time step i was reached. The latest is best:
 *   every later event is > all of them, and a later t_i only loosens
 *   t_{i+1} − t_i ≤ w_{i+1}; the window is fixed by p1. Equal times are one
 *   group, steps updated in decreasing i so a group never extends itself. The
 *   first p1 reaching furthest wins (stop early if one reaches k). Its path:
 *   a backward pass marks, per event and step, "the reach can be completed
 *   from here", then a forward walk takes the earliest marked event each step.
 *   Cost O(candidates × window events): exact, quadratic only for units with
 *   many first-step events inside one window.
 *
 *   strict — a forward scan over every event of the unit. A live run is a p1
 *   whose forced path ends at the previous event; at most one live run per
 *   step (two runs at the same step ending at the same event started at the
 *   same event). Each event extends the runs it continues and ends the others.
 *
 *   any_order — two pointers over the step events: a window (t1, t1 + W] per
 *   candidate p1 with a count per step; the reach is the longest prefix of
 *   steps 2.. with a non-zero count.
 *
 * Large datasets are split by units over up to FUNNEL_THREADS threads, each
 * with its own scratch and results (per-unit bytes in shared arrays at
 * disjoint indexes); the totals do not depend on the split.
 */
#include "flywheel/query.h"
#include "flywheel/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_STEPS 50
#define MAX_EXCLUSIONS 16
#define NONE INT64_MIN
#define FUNNEL_THREADS 4
#define EVENTS_PER_THREAD 200000
#define DEFAULT_WINDOW (14 * FW_MS_PER_DAY)

enum mode { MODE_ORDERED, MODE_STRICT, MODE_ANY_ORDER };
static const char *const modes[] = {"ordered", "strict", "any_order", NULL};

/* A unit's state at the step after its reach. */
enum status { ST_CONVERTED = 1, ST_PENDING, ST_DROPPED };
static const char *const statuses[] = {"converted", "dropped", "pending", NULL};

struct step {
	struct fw_str event;
	uint32_t name; /* id in the dataset's names, UINT32_MAX if never seen */
	struct fw_filters where;
	int64_t within; /* ms from the previous step, or -1 */
};

struct exclusion {
	uint32_t name;
	struct fw_filters where;
	int after, before; /* step indexes from 0, after < before */
};

/* What an event name means to this funnel: the steps it may match (plain: by
 * name alone; filtered: if the step's `where` holds) and the exclusions. */
struct slot {
	uint64_t plain, filtered;
	uint32_t excl;
};

struct funnel {
	int k;
	struct step step[MAX_STEPS];
	int nexcl;
	struct exclusion excl[MAX_EXCLUSIONS];
	enum mode mode;
	int windows; /* some step has `within` */
	int64_t from, to, window, as_of;
	enum fw_unit unit;
	const struct fw_units *u;
	uint8_t *slot_of; /* by name id: 0 or an index into slots */
	uint8_t *step_of; /* by name id: 0 or step + 1, when no name has 2 steps or a filter */
	struct slot slots[MAX_STEPS + MAX_EXCLUSIONS + 1];
	int nslots;
	int maxmatch; /* most steps one event name can match */
	const char *bprop;
	const struct fw_column *bcol; /* breakdown column, or NULL */
	int64_t blimit;
	struct fw_people_req people;
	int pstep;    /* people: step index from 0 */
	int pstatus;  /* people: index in statuses */
	int pfilter;  /* people: only units with breakdown value pbval */
	uint32_t pbval;
};

/* The chosen path of one unit. */
struct path {
	int reach; /* steps reached; 0 = the unit did not enter the funnel */
	uint32_t s1_ord;
	int64_t t[MAX_STEPS];
};

/* ordered without `within`: a greedy row (see the header comment). */
#define NIL UINT32_MAX
struct node {
	int64_t t;
	uint32_t next, older;
};

/* A step event, compacted for the modes that look at a unit more than once. */
struct cev {
	int64_t t;
	uint64_t mask;
	uint32_t ord;
};

struct vec {
	int64_t *ms;
	uint32_t *bval;
	size_t n, cap;
};

struct worker {
	const struct funnel *f;
	uint32_t u0, u1;
	uint8_t *reach, *status; /* per unit, shared: this worker writes [u0, u1) */
	uint32_t *bval;
	struct vec times[MAX_STEPS]; /* ms into step i (i ≥ 1) of the units reaching it */
	struct node *node;           /* ordered without `within` */
	size_t nodecap;
	uint32_t head[MAX_STEPS + 1];
	struct cev *cev; /* ordered with `within`, any_order */
	uint64_t *can;
	size_t cap;
	pthread_t thread;
	int thread_started;
};

/* ---- the request ---- */

/* Prefix the message in err (written by a helper that names a bare key). */
static int prefixed(struct fw_err *err, const char *fmt, int i)
{
	char where[64], msg[sizeof err->msg];
	snprintf(where, sizeof where, fmt, i);
	memcpy(msg, err->msg, sizeof msg);
	msg[sizeof msg - 1] = 0;
	return fw_error(err, err->code ? err->code : FW_EINVAL, "%s%s", where, msg);
}

/* Reject members of obj not in `known` and members given twice (the
 * helpers read the first; a silent second value would be a trap), naming
 * them with path. */
static int known_keys(const struct fw_json *obj, const char *const *known, const char *path,
		      const char *list, struct fw_err *err)
{
	for (const struct fw_json *c = obj->u.child; c; c = c->next) {
		int ok = 0, len = (int)(c->key.len > 40 ? 40 : c->key.len);
		for (int i = 0; known[i] && !ok; i++)
			ok = fw_str_eq(c->key, known[i]);
		if (!ok)
			return fw_error(err, FW_EINVAL, "%s%.*s: not a field here (expected %s)", path,
					len, c->key.p, list);
		for (const struct fw_json *d = c->next; d; d = d->next)
			if (d->key.len == c->key.len && !memcmp(d->key.p, c->key.p, c->key.len))
				return fw_error(err, FW_EINVAL, "%s%.*s: given twice", path, len,
						c->key.p);
	}
	return 0;
}

static int parse_step(struct fw_qctx *q, const struct fw_json *x, int i, struct funnel *f,
		      struct fw_err *err)
{
	static const char *const keys[] = {"event", "where", "within", NULL};
	struct step *s = &f->step[i];
	char path[48];
	s->within = -1;
	if (x->type == FW_JSON_STRING) { /* shorthand: "Signed Up" */
		s->event = x->u.str;
	} else if (x->type == FW_JSON_OBJECT) {
		snprintf(path, sizeof path, "steps[%d].", i);
		if (known_keys(x, keys, path, "event, where, within", err))
			return FW_EINVAL;
		s->event = fw_json_get_str(x, "event");
	} else {
		return fw_error(err, FW_EINVAL,
				"steps[%d]: expected a step such as {\"event\": \"Signed Up\"}", i);
	}
	if (!s->event.len)
		return fw_error(err, FW_EINVAL, "steps[%d].event: expected an event name", i);
	s->name = fw_dict_find(&q->d->names, s->event.p, s->event.len);
	if (x->type != FW_JSON_OBJECT)
		return 0;
	snprintf(path, sizeof path, "steps[%d].where", i);
	int rc = fw_q_filters(q, fw_json_get(x, "where"), path, &s->where, err);
	if (rc)
		return rc;
	const struct fw_json *w = fw_json_get(x, "within");
	if (w && w->type != FW_JSON_NULL) {
		if (i == 0)
			return fw_error(err, FW_EINVAL,
					"steps[0].within: the first step has no previous step (\"window\" "
					"bounds the whole funnel)");
		if (fw_q_duration(x, "within", -1, &s->within, err))
			return prefixed(err, "steps[%d].", i);
		f->windows = 1;
	}
	return 0;
}

static int parse_steps(struct fw_qctx *q, const struct fw_json *req, struct funnel *f,
		       struct fw_err *err)
{
	const struct fw_json *a = fw_json_get(req, "steps");
	if (!a || a->type != FW_JSON_ARRAY)
		return fw_error(err, FW_EINVAL,
				"steps: expected an array of steps such as [{\"event\": \"Signed Up\"}, "
				"{\"event\": \"Project Created\"}]");
	if (a->len < 2 || a->len > MAX_STEPS)
		return fw_error(err, FW_EINVAL, "steps: a funnel has 2 to %d steps (this one has %u)",
				MAX_STEPS, a->len);
	f->k = (int)a->len;
	int i = 0;
	for (const struct fw_json *x = a->u.child; x; x = x->next, i++) {
		int rc = parse_step(q, x, i, f, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Index of the step whose event is `name`, from step `from` on, or -1. */
static int step_named(const struct funnel *f, struct fw_str name, int from)
{
	for (int i = from; i < f->k; i++)
		if (f->step[i].event.len == name.len && !memcmp(f->step[i].event.p, name.p, name.len))
			return i;
	return -1;
}

static int parse_exclusion(struct fw_qctx *q, const struct fw_json *x, int i, struct funnel *f,
			   struct fw_err *err)
{
	static const char *const keys[] = {"event", "after_step", "before_step", "where", NULL};
	struct exclusion *e = &f->excl[i];
	char path[48];
	snprintf(path, sizeof path, "exclusions[%d].", i);
	if (x->type != FW_JSON_OBJECT)
		return fw_error(err, FW_EINVAL,
				"exclusions[%d]: expected {\"event\": E, \"after_step\": 1, "
				"\"before_step\": 2}",
				i);
	if (known_keys(x, keys, path, "event, after_step, before_step, where", err))
		return FW_EINVAL;
	struct fw_str ev = fw_json_get_str(x, "event");
	if (!ev.len)
		return fw_error(err, FW_EINVAL, "exclusions[%d].event: expected an event name", i);
	int same = step_named(f, ev, 0);
	if (same >= 0)
		return fw_error(err, FW_EINVAL,
				"exclusions[%d].event: \"%.*s\" is steps[%d]; an exclusion must be an "
				"event that is not a step",
				i, (int)(ev.len > 60 ? 60 : ev.len), ev.p, same);
	e->name = fw_dict_find(&q->d->names, ev.p, ev.len);
	int64_t after, before;
	if (fw_q_int(x, "after_step", 1, 1, f->k - 1, &after, err))
		return prefixed(err, "exclusions[%d].", i);
	if (fw_q_int(x, "before_step", f->k, after + 1, f->k, &before, err))
		return prefixed(err, "exclusions[%d].", i);
	e->after = (int)after - 1;
	e->before = (int)before - 1;
	snprintf(path, sizeof path, "exclusions[%d].where", i);
	return fw_q_filters(q, fw_json_get(x, "where"), path, &e->where, err);
}

static int parse_exclusions(struct fw_qctx *q, const struct fw_json *req, struct funnel *f,
			    struct fw_err *err)
{
	const struct fw_json *a = fw_json_get(req, "exclusions");
	if (!a || a->type == FW_JSON_NULL)
		return 0;
	if (a->type != FW_JSON_ARRAY)
		return fw_error(err, FW_EINVAL,
				"exclusions: expected an array such as [{\"event\": \"Plan Cancelled\", "
				"\"after_step\": 1, \"before_step\": 2}]");
	if (a->len > MAX_EXCLUSIONS)
		return fw_error(err, FW_EINVAL, "exclusions: at most %d (this request has %u)",
				MAX_EXCLUSIONS, a->len);
	if (a->len && f->mode == MODE_ANY_ORDER)
		return fw_error(err, FW_EINVAL,
				"exclusions: an any_order funnel has no order between its steps, so "
				"there is nothing \"between\" them; use mode \"ordered\"");
	int i = 0;
	for (const struct fw_json *x = a->u.child; x; x = x->next, i++) {
		int rc = parse_exclusion(q, x, i, f, err);
		if (rc)
			return rc;
	}
	f->nexcl = i;
	return 0;
}

/* any_order: steps must be distinct events and have no per-step windows. */
static int check_any_order(const struct funnel *f, struct fw_err *err)
{
	for (int i = 1; i < f->k; i++) {
		int same = step_named(f, f->step[i].event, 0);
		if (same < i)
			return fw_error(err, FW_EINVAL,
					"steps[%d].event: \"%.*s\" is also steps[%d]; in any_order mode "
					"every step must be a different event",
					i, (int)(f->step[i].event.len > 60 ? 60 : f->step[i].event.len),
					f->step[i].event.p, same);
		if (f->step[i].within >= 0)
			return fw_error(err, FW_EINVAL,
					"steps[%d].within: per-step windows need an order between steps; "
					"use mode \"ordered\" or \"strict\"",
					i);
	}
	return 0;
}

static int parse_breakdown(struct fw_qctx *q, const struct fw_json *req, struct funnel *f,
			   struct fw_err *err)
{
	const struct fw_json *b = fw_json_get(req, "breakdown");
	if (fw_q_int(req, "breakdown_limit", 100, 1, 1000, &f->blimit, err))
		return FW_EINVAL;
	if (!b || b->type == FW_JSON_NULL)
		return 0;
	if (b->type != FW_JSON_STRING || !b->u.str.len)
		return fw_error(err, FW_EINVAL,
				"breakdown: expected the name of a property of the first step's event, "
				"such as \"utm_source\"");
	f->bprop = fw_arena_strndup(q->arena, b->u.str.p, b->u.str.len);
	f->bcol = fw_dataset_column(q->d, f->bprop, err);
	return f->bcol ? 0 : (err->code ? err->code : FW_EIO);
}

static int parse_people(const struct fw_json *req, struct funnel *f, struct fw_err *err)
{
	static const char *const keys[] = {"step", "status", "breakdown", "offset", "limit", NULL};
	if (fw_q_people(req, &f->people, err))
		return FW_EINVAL;
	if (!f->people.wanted)
		return 0;
	const struct fw_json *p = f->people.spec;
	int64_t step;
	if (known_keys(p, keys, "people.", "step, status, breakdown, offset, limit", err))
		return FW_EINVAL;
	if (fw_q_int(p, "step", 1, 1, f->k, &step, err) ||
	    fw_q_enum(p, "status", statuses, &f->pstatus, err))
		return prefixed(err, "people.", 0);
	f->pstep = (int)step - 1;
	const struct fw_json *v = fw_json_get(p, "breakdown");
	if (!v)
		return 0;
	if (!f->bcol)
		return fw_error(err, FW_EINVAL,
				"people.breakdown: the request has no \"breakdown\" property to select by");
	if (v->type == FW_JSON_ARRAY || v->type == FW_JSON_OBJECT)
		return fw_error(err, FW_EINVAL,
				"people.breakdown: expected a value of the breakdown property (null: "
				"the units whose first step lacks it)");
	f->pfilter = 1;
	f->pbval = 0;
	if (v->type != FW_JSON_NULL) {
		struct fw_str s = v->type == FW_JSON_STRING ? v->u.str : v->raw;
		uint32_t id = fw_dict_find(&f->bcol->values, s.p, s.len);
		f->pbval = id == UINT32_MAX ? UINT32_MAX : id + 1; /* UINT32_MAX: nobody */
	}
	return 0;
}

static int parse_as_of(const struct fw_json *req, struct funnel *f, int64_t now,
		       struct fw_err *err)
{
	const struct fw_json *v = fw_json_get(req, "as_of");
	f->as_of = now;
	if (!v || v->type == FW_JSON_NULL)
		return 0;
	if (v->type != FW_JSON_STRING || fw_time_parse_iso(v->u.str.p, v->u.str.len, &f->as_of))
		return fw_error(err, FW_EINVAL,
				"as_of: expected a date (YYYY-MM-DD) or an ISO-8601 time: the moment "
				"that decides whether a window is still open (pending) or closed "
				"(dropped)");
	return 0;
}

/* The slot table: event name id -> what it means to this funnel. */
static void build_slots(struct fw_qctx *q, struct funnel *f)
{
	uint32_t nn = q->d->names.count;
	f->slot_of = fw_arena_alloc(q->arena, (size_t)nn + 1);
	memset(f->slot_of, 0, (size_t)nn + 1);
	for (int i = 0; i < f->k + f->nexcl; i++) {
		uint32_t name = i < f->k ? f->step[i].name : f->excl[i - f->k].name;
		if (name == UINT32_MAX)
			continue; /* never seen: matches nothing */
		if (!f->slot_of[name])
			f->slot_of[name] = (uint8_t)++f->nslots;
		struct slot *s = &f->slots[f->slot_of[name]];
		if (i >= f->k)
			s->excl |= 1u << (i - f->k);
		else if (f->step[i].where.n)
			s->filtered |= 1ull << i;
		else
			s->plain |= 1ull << i;
		int m = __builtin_popcountll(s->plain | s->filtered);
		if (m > f->maxmatch)
			f->maxmatch = m;
	}
	int simple = f->maxmatch <= 1;
	for (int i = 0; i < f->k; i++)
		simple &= !f->step[i].where.n;
	if (!simple)
		return;
	f->step_of = fw_arena_alloc(q->arena, (size_t)nn + 1);
	memset(f->step_of, 0, (size_t)nn + 1);
	for (int i = 0; i < f->k; i++)
		if (f->step[i].name != UINT32_MAX)
			f->step_of[f->step[i].name] = (uint8_t)(i + 1);
}

static int parse(struct fw_qctx *q, const struct fw_json *req, struct funnel *f,
		 struct fw_err *err)
{
	static const char *const keys[] = {"kind",	 "steps",      "from",   "to",
					   "window",	 "mode",       "exclusions", "breakdown",
					   "breakdown_limit", "unit",  "people", "as_of",
					   NULL};
	int mode, rc;
	if (known_keys(req, keys, "",
		       "steps, from, to, window, mode, exclusions, breakdown, breakdown_limit, unit, "
		       "people, as_of",
		       err))
		return FW_EINVAL;
	f->from = INT64_MIN;
	f->to = INT64_MAX;
	if (fw_q_range(req, &f->from, &f->to, err) || fw_q_unit(req, &f->unit, err) ||
	    fw_q_enum(req, "mode", modes, &mode, err) ||
	    fw_q_duration(req, "window", DEFAULT_WINDOW, &f->window, err) ||
	    parse_as_of(req, f, q->now_ms, err))
		return FW_EINVAL;
	f->mode = (enum mode)mode;
	if ((rc = parse_steps(q, req, f, err)) || (rc = parse_exclusions(q, req, f, err)))
		return rc;
	if (f->mode == MODE_ANY_ORDER && check_any_order(f, err))
		return FW_EINVAL;
	if ((rc = parse_breakdown(q, req, f, err)) || (rc = parse_people(req, f, err)))
		return rc;
	build_slots(q, f);
	f->u = fw_dataset_units(q->d, f->unit);
	return 0;
}

/* ---- one unit ---- */

/* The steps event e matches, as a bit mask (bit i = step i + 1). */
static inline uint64_t step_mask(const struct funnel *f, const struct fw_ev *e)
{
	uint8_t s = f->slot_of[e->name];
	if (!s)
		return 0;
	const struct slot *sl = &f->slots[s];
	uint64_t m = sl->plain;
	for (uint64_t r = sl->filtered; r; r &= r - 1) {
		int i = __builtin_ctzll(r);
		if (fw_filters_match(&f->step[i].where, e))
			m |= 1ull << i;
	}
	return m;
}

static inline int in_range(const struct funnel *f, int64_t t)
{
	return t >= f->from && t < f->to;
}

/* The head of a row as it was before events of time t joined it. */
static inline uint32_t after(const struct node *node, uint32_t x, int64_t t)
{
	while (x != NIL && node[x].t == t)
		x = node[x].older;
	return x;
}

/* ordered without `within`: the state of the backward scan of one unit. */
struct greedy {
	struct node *node;
	uint32_t *head; /* per step: the newest node of its row */
	uint32_t nn;
	uint32_t first;   /* the chosen p1's row_2 */
	uint32_t last_x;  /* the row_2 of the last p1 seen, its reach, its furthest node */
	int last_reach;
	uint32_t last_y;
};

/* A step-j event (j ≥ 1) at t heads row j. */
static inline void greedy_step(struct greedy *g, int j, int64_t t)
{
	g->node[g->nn] = (struct node){t, after(g->node, g->head[j + 1], t), g->head[j]};
	g->head[j] = g->nn++;
}

/* A first-step event at t: its reach along (t, row_2). */
static inline void greedy_start(struct greedy *g, const struct funnel *f, int64_t t, uint32_t ord,
				struct path *best)
{
	const struct node *node = g->node;
	uint32_t x = after(node, g->head[1], t);
	/* the same row_2 as the last p1 (a later one): if its furthest node within
	 * that window is within this one too, the reach is the same */
	if (x != g->last_x || (g->last_y != NIL && node[g->last_y].t - t > f->window)) {
		g->last_x = x;
		g->last_y = NIL;
		g->last_reach = 1;
		for (uint32_t y = x; y != NIL && node[y].t - t <= f->window; y = node[y].next) {
			g->last_reach++;
			g->last_y = y;
		}
	}
	if (g->last_reach >= best->reach) { /* >=: backward, so earlier p1s win ties */
		best->reach = g->last_reach;
		best->s1_ord = ord;
		best->t[0] = t;
		g->first = x;
	}
}

/* ordered without `within`: the backward scan of the header comment. With
 * step_of (every name one step at most, no filters) an event costs one byte
 * lookup; otherwise its mask of steps. */
static void ordered_greedy(struct worker *w, const struct fw_ev *ev, size_t n, struct path *best)
{
	const struct funnel *f = w->f;
	size_t need = n * (size_t)f->maxmatch;
	if (need > w->nodecap) {
		w->nodecap = need > 2 * w->nodecap ? need : 2 * w->nodecap;
		w->node = fw_xrealloc(w->node, w->nodecap * sizeof *w->node);
	}
	struct greedy g = {.node = w->node, .head = w->head, .first = NIL, .last_x = NIL,
			   .last_reach = 1, .last_y = NIL}; /* x = NIL: p1 alone, reach 1 */
	for (int j = 0; j <= f->k; j++)
		g.head[j] = NIL;
	if (f->step_of) {
		const uint8_t *step_of = f->step_of;
		for (size_t i = n; i-- > 0;) {
			unsigned s = step_of[ev[i].name];
			if (!s)
				continue;
			if (s > 1)
				greedy_step(&g, (int)s - 1, ev[i].t);
			else if (in_range(f, ev[i].t))
				greedy_start(&g, f, ev[i].t, ev[i].ord, best);
		}
	} else {
		for (size_t i = n; i-- > 0;) {
			uint64_t m = step_mask(f, &ev[i]);
			if (!m)
				continue;
			for (uint64_t r = m & ~1ull; r; r &= r - 1)
				greedy_step(&g, __builtin_ctzll(r), ev[i].t);
			if ((m & 1) && in_range(f, ev[i].t))
				greedy_start(&g, f, ev[i].t, ev[i].ord, best);
		}
	}
	for (int j = 1; j < best->reach; j++, g.first = g.node[g.first].next)
		best->t[j] = g.node[g.first].t;
}

/* The unit's step events, in order, into w->cev. */
static size_t compact(struct worker *w, const struct fw_ev *ev, size_t n)
{
	if (n > w->cap) {
		w->cap = n > 2 * w->cap ? n : 2 * w->cap;
		w->cev = fw_xrealloc(w->cev, w->cap * sizeof *w->cev);
		w->can = fw_xrealloc(w->can, w->cap * sizeof *w->can);
	}
	size_t c = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t m = step_mask(w->f, &ev[i]);
		if (m)
			w->cev[c++] = (struct cev){ev[i].t, m, ev[i].ord};
	}
	return c;
}

static inline int within_ok(const struct funnel *f, int step, int64_t from, int64_t to)
{
	return f->step[step].within < 0 || to - from <= f->step[step].within;
}

/* ordered with `within`: steps reached from the p1 at c[s], a forward DP over
 * its window keeping the latest time each step was reached. */
static int windowed_reach(const struct funnel *f, const struct cev *c, size_t n, size_t s)
{
	int64_t last[MAX_STEPS], t1 = c[s].t;
	int k = f->k, reach = 1;
	last[0] = t1;
	size_t i = s + 1;
	while (i < n && c[i].t == t1)
		i++;
	while (i < n && c[i].t - t1 <= f->window && reach < k) {
		int64_t t = c[i].t;
		uint64_t gm = 0;
		for (; i < n && c[i].t == t; i++)
			gm |= c[i].mask;
		for (int j = reach < k - 1 ? reach : k - 1; j >= 1; j--)
			if ((gm >> j & 1) && within_ok(f, j, last[j - 1], t)) {
				last[j] = t;
				if (j + 1 > reach)
					reach = j + 1;
			}
	}
	return reach;
}

/* The chosen path of the p1 at c[s] with reach `reach`: backward, mark the
 * events from which the reach can be completed; forward, take the earliest
 * marked event at each step. */
static void windowed_path(struct worker *w, size_t n, size_t s, int reach, struct path *p)
{
	const struct funnel *f = w->f;
	const struct cev *c = w->cev;
	uint64_t *can = w->can;
	int64_t next[MAX_STEPS + 1], t1 = c[s].t;
	size_t a = s + 1, b;
	while (a < n && c[a].t == t1)
		a++;
	for (b = a; b < n && c[b].t - t1 <= f->window; b++)
		;
	for (int j = 0; j <= f->k; j++)
		next[j] = INT64_MAX; /* earliest later time of an event marked for step j */
	uint64_t want = (reach >= 64 ? ~0ull : (1ull << reach) - 1) & ~1ull; /* steps 2..reach */
	for (size_t i = b; i > a;) {
		size_t g = i;
		int64_t t = c[i - 1].t;
		while (g > a && c[g - 1].t == t)
			g--;
		uint64_t marked = 0;
		for (size_t x = g; x < i; x++) {
			uint64_t m = 0;
			for (uint64_t r = c[x].mask & want; r; r &= r - 1) {
				int j = __builtin_ctzll(r);
				if (j == reach - 1 ||
				    (next[j + 1] != INT64_MAX && within_ok(f, j + 1, t, next[j + 1])))
					m |= 1ull << j;
			}
			can[x] = m;
			marked |= m;
		}
		for (uint64_t r = marked; r; r &= r - 1)
			next[__builtin_ctzll(r)] = t;
		i = g;
	}
	p->t[0] = t1;
	int64_t prev = t1;
	size_t x = a;
	for (int j = 1; j < reach && x < b; j++) {
		while (x < b && !((can[x] >> j & 1) && c[x].t > prev && within_ok(f, j, prev, c[x].t)))
			x++;
		if (x == b)
			break; /* cannot happen: the DP found a path */
		p->t[j] = prev = c[x].t;
		x++;
	}
}

static void ordered_windowed(struct worker *w, const struct fw_ev *ev, size_t n,
			     struct path *best)
{
	const struct funnel *f = w->f;
	size_t m = compact(w, ev, n), chosen = 0;
	int64_t prev = NONE;
	for (size_t s = 0; s < m && best->reach < f->k; s++) {
		if (!(w->cev[s].mask & 1) || !in_range(f, w->cev[s].t) || w->cev[s].t == prev)
			continue;
		prev = w->cev[s].t; /* later p1s of the same time reach the same */
		int r = windowed_reach(f, w->cev, m, s);
		if (r > best->reach) {
			best->reach = r;
			chosen = s;
		}
	}
	if (!best->reach)
		return;
	best->s1_ord = w->cev[chosen].ord;
	windowed_path(w, m, chosen, best->reach, best);
}

/* strict: runs are indexed by the step they are at; pos1 is the unit-relative
 * position of their p1. */
struct runs {
	int64_t t1[MAX_STEPS], tk[MAX_STEPS];
	size_t pos1[MAX_STEPS];
	uint64_t alive;
};

static void strict_end(struct runs *r, int j, int *best_reach, size_t *best_pos)
{
	int reach = j + 1;
	if (reach > *best_reach || (reach == *best_reach && r->pos1[j] < *best_pos)) {
		*best_reach = reach;
		*best_pos = r->pos1[j];
	}
}

static void strict_scan(struct worker *w, const struct fw_ev *ev, size_t n, struct path *best)
{
	const struct funnel *f = w->f;
	struct runs r;
	int k = f->k, reach = 0;
	size_t pos = 0;
	r.alive = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t m = step_mask(f, &ev[i]);
		if (!r.alive && !(m & 1))
			continue;
		int64_t t = ev[i].t;
		for (int j = k - 1; j >= 0; j--) { /* decreasing: run j moves to the freed j + 1 */
			if (!(r.alive >> j & 1))
				continue;
			r.alive &= ~(1ull << j);
			if (j + 1 < k && (m >> (j + 1) & 1) && t > r.tk[j] && t - r.t1[j] <= f->window &&
			    within_ok(f, j + 1, r.tk[j], t)) {
				r.t1[j + 1] = r.t1[j];
				r.tk[j + 1] = t;
				r.pos1[j + 1] = r.pos1[j];
				r.alive |= 1ull << (j + 1);
			} else {
				strict_end(&r, j, &reach, &pos);
			}
		}
		if ((m & 1) && in_range(f, t)) {
			r.t1[0] = r.tk[0] = t;
			r.pos1[0] = i;
			r.alive |= 1;
		}
	}
	for (int j = 0; j < k; j++)
		if (r.alive >> j & 1)
			strict_end(&r, j, &reach, &pos);
	best->reach = reach;
	if (!reach)
		return;
	best->s1_ord = ev[pos].ord;
	for (int j = 0; j < reach; j++)
		best->t[j] = ev[pos + (size_t)j].t;
}

static void any_order_scan(struct worker *w, const struct fw_ev *ev, size_t n, struct path *best)
{
	const struct funnel *f = w->f;
	size_t m = compact(w, ev, n), lo = 0, hi = 0, chosen = 0;
	const struct cev *c = w->cev; /* after compact: it may move the array */
	int count[MAX_STEPS] = {0}, k = f->k;
	int64_t prev = NONE;
	for (size_t s = 0; s < m && best->reach < k; s++) {
		int64_t t1 = c[s].t;
		if (!(c[s].mask & 1) || !in_range(f, t1) || t1 == prev)
			continue;
		prev = t1;
		for (; hi < m && c[hi].t - t1 <= f->window; hi++) /* window (t1, t1 + W] */
			for (uint64_t r = c[hi].mask & ~1ull; r; r &= r - 1)
				count[__builtin_ctzll(r)]++;
		for (; lo < hi && c[lo].t <= t1; lo++)
			for (uint64_t r = c[lo].mask & ~1ull; r; r &= r - 1)
				count[__builtin_ctzll(r)]--;
		int reach = 1;
		while (reach < k && count[reach] > 0)
			reach++;
		if (reach > best->reach) {
			best->reach = reach;
			chosen = s;
		}
	}
	if (!best->reach)
		return;
	int64_t t1 = c[chosen].t;
	best->s1_ord = c[chosen].ord;
	best->t[0] = t1;
	for (int j = 1; j < best->reach; j++)
		best->t[j] = NONE;
	for (size_t x = chosen + 1; x < m && c[x].t - t1 <= f->window; x++) {
		if (c[x].t == t1)
			continue;
		for (uint64_t r = c[x].mask & ~1ull; r; r &= r - 1) {
			int j = __builtin_ctzll(r);
			if (j < best->reach && best->t[j] == NONE)
				best->t[j] = c[x].t;
		}
	}
}

/* Exclusions on the chosen path; returns 1 if they cut its reach. */
static int exclude(const struct funnel *f, const struct fw_ev *ev, size_t n, struct path *p)
{
	int cap = p->reach;
	int64_t lo = p->t[0], hi = p->t[p->reach - 1];
	for (size_t i = 0; i < n && ev[i].t < hi; i++) {
		uint8_t s = f->slot_of[ev[i].name];
		if (ev[i].t <= lo || !s || !f->slots[s].excl)
			continue;
		for (uint32_t r = f->slots[s].excl; r; r &= r - 1) {
			const struct exclusion *x = &f->excl[__builtin_ctz(r)];
			if (x->before < cap && ev[i].t > p->t[x->after] && ev[i].t < p->t[x->before] &&
			    fw_filters_match(&x->where, &ev[i]))
				cap = x->before;
		}
	}
	if (cap == p->reach)
		return 0;
	p->reach = cap;
	return 1;
}

static void push(struct vec *v, int64_t ms, uint32_t bval)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 1024;
		v->ms = fw_xrealloc(v->ms, v->cap * sizeof *v->ms);
		v->bval = fw_xrealloc(v->bval, v->cap * sizeof *v->bval);
	}
	v->ms[v->n] = ms;
	v->bval[v->n++] = bval;
}

static void run_unit(struct worker *w, uint32_t u)
{
	const struct funnel *f = w->f;
	const struct fw_ev *ev = f->u->ev + f->u->off[u];
	size_t n = f->u->off[u + 1] - f->u->off[u];
	struct path p;
	p.reach = 0;
	p.s1_ord = 0;
	if (f->mode == MODE_STRICT)
		strict_scan(w, ev, n, &p);
	else if (f->mode == MODE_ANY_ORDER)
		any_order_scan(w, ev, n, &p);
	else if (f->windows)
		ordered_windowed(w, ev, n, &p);
	else
		ordered_greedy(w, ev, n, &p);
	if (!p.reach) {
		w->reach[u] = 0;
		return;
	}
	int excluded = f->nexcl && p.reach >= 2 && exclude(f, ev, n, &p);
	uint32_t bval = f->bcol ? f->bcol->val[p.s1_ord] : 0;
	w->reach[u] = (uint8_t)p.reach;
	if (f->bcol)
		w->bval[u] = bval;
	if (p.reach == f->k)
		w->status[u] = ST_CONVERTED;
	else if (!excluded && f->as_of - p.t[0] <= f->window)
		w->status[u] = ST_PENDING;
	else
		w->status[u] = ST_DROPPED;
	for (int j = 1; j < p.reach; j++)
		push(&w->times[j], p.t[j] - p.t[f->mode == MODE_ANY_ORDER ? 0 : j - 1], bval);
}

/* Units are contiguous in memory. The backward scan also takes them last to
 * first, so that memory is read as one descending stream: a saw-tooth (units
 * forward, each backward) defeats the hardware prefetcher and runs ~3x slower. */
static void *work(void *arg)
{
	struct worker *w = arg;
	if (w->f->mode == MODE_ORDERED && !w->f->windows)
		for (uint32_t u = w->u1; u-- > w->u0;)
			run_unit(w, u);
	else
		for (uint32_t u = w->u0; u < w->u1; u++)
			run_unit(w, u);
	return NULL;
}

/* Split the units over threads by events and run them. */
static int scan(struct funnel *f, struct worker *ws, uint8_t *reach, uint8_t *status,
		uint32_t *bval)
{
	const struct fw_units *u = f->u;
	uint64_t total = u->off[u->n];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int nt = (int)((total + EVENTS_PER_THREAD - 1) / EVENTS_PER_THREAD);
	if (nt > FUNNEL_THREADS)
		nt = FUNNEL_THREADS;
	if (nt > cpus)
		nt = (int)cpus;
	if (nt < 1)
		nt = 1;
	uint32_t start = 0;
	for (int i = 0; i < nt; i++) {
		struct worker *w = &ws[i];
		uint64_t target = total / (uint64_t)nt * (uint64_t)(i + 1);
		uint32_t lo = start, hi = u->n;
		while (i + 1 < nt && lo < hi) { /* first unit starting at or after target */
			uint32_t mid = lo + (hi - lo) / 2;
			if (u->off[mid] < target)
				lo = mid + 1;
			else
				hi = mid;
		}
		*w = (struct worker){.f = f, .u0 = start, .u1 = i + 1 < nt ? lo : u->n,
				     .reach = reach, .status = status, .bval = bval};
		start = w->u1;
	}
	for (int i = 1; i < nt; i++)
		if (pthread_create(&ws[i].thread, NULL, work, &ws[i]))
			work(&ws[i]); /* no thread: do it here */
		else
			ws[i].thread_started = 1;
	work(&ws[0]);
	for (int i = 1; i < nt; i++)
		if (ws[i].thread_started)
			pthread_join(ws[i].thread, NULL);
	return nt;
}

static void worker_release(struct worker *w)
{
	for (int i = 0; i < MAX_STEPS; i++) {
		free(w->times[i].ms);
		free(w->times[i].bval);
	}
	free(w->node);
	free(w->cev);
	free(w->can);
}

/* ---- the answer ---- */

/* Units by reach, and at each step the units that stopped just before it. */
struct tally {
	uint64_t hist[MAX_STEPS + 1];
	uint64_t dropped[MAX_STEPS], pending[MAX_STEPS];
};

static void tally_add(struct tally *t, uint8_t reach, uint8_t status)
{
	t->hist[reach]++;
	if (status == ST_DROPPED)
		t->dropped[reach]++;
	else if (status == ST_PENDING)
		t->pending[reach]++;
}

/* The k-th smallest (from 0) of a[0..n), reordering a (Wirth's selection:
 * Hoare partitions around a[k], keeping the side that holds k). */
static int64_t select_kth(int64_t *a, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
	while (lo < hi) {
		int64_t x = a[kk];
		ptrdiff_t i = lo, j = hi;
		do {
			while (a[i] < x)
				i++;
			while (x < a[j])
				j--;
			if (i <= j) {
				int64_t tmp = a[i];
				a[i++] = a[j];
				a[j--] = tmp;
			}
		} while (i <= j);
		if (j < kk)
			lo = i;
		if (kk < i)
			hi = j;
	}
	return a[kk];
}

/* Nearest rank: the value at rank ceil(p n) (p = num/den), in seconds. */
static void write_rank(struct fw_buf *out, int64_t *ms, size_t n, size_t num, size_t den)
{
	if (!n) {
		fw_buf_adds(out, "null");
		return;
	}
	size_t rank = (num * n + den - 1) / den;
	fw_json_write_double(out, (double)select_kth(ms, n, rank - 1) / 1000.0);
}

/* The "steps" array: one object per step. ms[i], n[i]: times into step i. */
static void write_steps(struct fw_buf *out, const struct funnel *f, const struct tally *t,
			int64_t *const *ms, const size_t *n)
{
	uint64_t count[MAX_STEPS + 1];
	count[f->k] = 0;
	for (int i = f->k - 1; i >= 0; i--)
		count[i] = count[i + 1] + t->hist[i + 1];
	fw_buf_addc(out, '[');
	for (int i = 0; i < f->k; i++) {
		const struct step *s = &f->step[i];
		fw_buf_printf(out, "%s{\"step\":%d,\"event\":", i ? "," : "", i + 1);
		fw_json_write_str(out, s->event.p, s->event.len);
		fw_buf_printf(out, ",\"count\":%llu,\"conversion\":", (unsigned long long)count[i]);
		if (i)
			fw_q_ratio(out, (double)count[i], (double)count[i - 1]);
		else
			fw_buf_adds(out, "null");
		fw_buf_adds(out, ",\"overall\":");
		fw_q_ratio(out, (double)count[i], (double)count[0]);
		fw_buf_adds(out, ",\"median_seconds\":");
		write_rank(out, i ? ms[i] : NULL, i ? n[i] : 0, 1, 2);
		fw_buf_adds(out, ",\"p90_seconds\":");
		write_rank(out, i ? ms[i] : NULL, i ? n[i] : 0, 9, 10);
		fw_buf_printf(out, ",\"dropped\":%llu,\"pending\":%llu}",
			      (unsigned long long)(i ? t->dropped[i] : 0),
			      (unsigned long long)(i ? t->pending[i] : 0));
	}
	fw_buf_addc(out, ']');
}

/* The totals: all units, all times. */
static void write_totals(struct fw_buf *out, const struct funnel *f, const struct worker *ws,
			 int nw, const uint8_t *reach, const uint8_t *status)
{
	struct tally t;
	memset(&t, 0, sizeof t);
	for (uint32_t u = 0; u < f->u->n; u++)
		if (reach[u])
			tally_add(&t, reach[u], status[u]);
	int64_t *ms[MAX_STEPS] = {0};
	size_t n[MAX_STEPS] = {0};
	for (int i = 1; i < f->k; i++) {
		for (int w = 0; w < nw; w++)
			n[i] += ws[w].times[i].n;
		ms[i] = fw_xmalloc((n[i] + 1) * sizeof *ms[i]);
		size_t at = 0;
		for (int w = 0; w < nw; w++) {
			if (ws[w].times[i].n) /* memcpy from NULL is undefined, even of 0 bytes */
				memcpy(ms[i] + at, ws[w].times[i].ms, ws[w].times[i].n * sizeof *ms[i]);
			at += ws[w].times[i].n;
		}
	}
	write_steps(out, f, &t, ms, n);
	for (int i = 0; i < f->k; i++)
		free(ms[i]);
}

struct bvalue {
	uint32_t v;
	uint64_t n;
	struct fw_str text;
};

/* Most units first, then by text; the units lacking the property last. */
static int cmp_bvalue(const void *a, const void *b)
{
	const struct bvalue *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	if (!x->v || !y->v)
		return !x->v - !y->v;
	size_t m = x->text.len < y->text.len ? x->text.len : y->text.len;
	int c = memcmp(x->text.p, y->text.p, m);
	return c ? c : (x->text.len > y->text.len) - (x->text.len < y->text.len);
}

/* The breakdown's rows: the top blimit values by units entering, with their
 * tallies and their times (row r's times into step i: ms[i][start[i][r] ..
 * start[i][r + 1]]). */
struct rows {
	uint32_t n, nvals;
	struct bvalue *vals; /* all values with units, rows first */
	int32_t *row_of;     /* by value id: its row, or -1 */
	struct tally *t;
	int64_t *ms[MAX_STEPS];
	size_t *start[MAX_STEPS];
};

static void rows_rank(struct rows *r, const struct funnel *f, const uint8_t *reach,
		      const uint32_t *bval)
{
	uint32_t nv = f->bcol->values.count + 1;
	uint64_t *entered = fw_xcalloc(nv, sizeof *entered);
	for (uint32_t u = 0; u < f->u->n; u++)
		if (reach[u])
			entered[bval[u]]++;
	r->vals = fw_xmalloc(nv * sizeof *r->vals);
	for (uint32_t v = 0; v < nv; v++)
		if (entered[v])
			r->vals[r->nvals++] = (struct bvalue){v, entered[v], fw_column_text(f->bcol, v)};
	free(entered);
	qsort(r->vals, r->nvals, sizeof *r->vals, cmp_bvalue);
	r->n = r->nvals < (uint64_t)f->blimit ? r->nvals : (uint32_t)f->blimit;
	r->row_of = fw_xmalloc(nv * sizeof *r->row_of);
	for (uint32_t v = 0; v < nv; v++)
		r->row_of[v] = -1;
	for (uint32_t i = 0; i < r->n; i++)
		r->row_of[r->vals[i].v] = (int32_t)i;
}

static void rows_tally(struct rows *r, const struct funnel *f, const uint8_t *reach,
		       const uint8_t *status, const uint32_t *bval)
{
	r->t = fw_xcalloc(r->n + 1, sizeof *r->t);
	for (uint32_t u = 0; u < f->u->n; u++)
		if (reach[u] && r->row_of[bval[u]] >= 0)
			tally_add(&r->t[r->row_of[bval[u]]], reach[u], status[u]);
}

/* The workers' times of step i, grouped by row (a counting sort). */
static void rows_times(struct rows *r, int i, const struct worker *ws, int nw)
{
	size_t *start = r->start[i] = fw_xcalloc(r->n + 2, sizeof *start);
	for (int w = 0; w < nw; w++)
		for (size_t x = 0; x < ws[w].times[i].n; x++)
			if (r->row_of[ws[w].times[i].bval[x]] >= 0)
				start[r->row_of[ws[w].times[i].bval[x]] + 2]++;
	for (uint32_t j = 2; j < r->n + 2; j++)
		start[j] += start[j - 1];
	int64_t *ms = r->ms[i] = fw_xmalloc((start[r->n + 1] + 1) * sizeof *ms);
	for (int w = 0; w < nw; w++)
		for (size_t x = 0; x < ws[w].times[i].n; x++) {
			int32_t row = r->row_of[ws[w].times[i].bval[x]];
			if (row >= 0)
				ms[start[row + 1]++] = ws[w].times[i].ms[x];
		}
}

static void rows_release(struct rows *r)
{
	for (int i = 0; i < MAX_STEPS; i++) {
		free(r->ms[i]);
		free(r->start[i]);
	}
	free(r->t);
	free(r->row_of);
	free(r->vals);
}

/* ,"breakdown_property":P,"breakdown_values":N,"breakdown":[{"value":V,"entered":n1,
 * "converted":nk,"overall":nk/n1,"steps":[…]}…] (the scalars make a readable table) */
static void write_breakdown(struct fw_buf *out, const struct funnel *f, const struct worker *ws,
			    int nw, const uint8_t *reach, const uint8_t *status,
			    const uint32_t *bval)
{
	struct rows r;
	memset(&r, 0, sizeof r);
	rows_rank(&r, f, reach, bval);
	rows_tally(&r, f, reach, status, bval);
	for (int i = 1; i < f->k; i++)
		rows_times(&r, i, ws, nw);
	fw_buf_adds(out, ",\"breakdown_property\":");
	fw_json_write_str(out, f->bprop, strlen(f->bprop));
	fw_buf_printf(out, ",\"breakdown_values\":%u,\"breakdown\":[", r.nvals);
	for (uint32_t row = 0; row < r.n; row++) {
		int64_t *ms[MAX_STEPS] = {0};
		size_t n[MAX_STEPS] = {0};
		for (int i = 1; i < f->k; i++) {
			ms[i] = r.ms[i] + r.start[i][row];
			n[i] = r.start[i][row + 1] - r.start[i][row];
		}
		fw_buf_adds(out, row ? ",{\"value\":" : "{\"value\":");
		if (r.vals[row].v)
			fw_json_write_str(out, r.vals[row].text.p, r.vals[row].text.len);
		else
			fw_buf_adds(out, "null");
		uint64_t entered = 0, converted = r.t[row].hist[f->k];
		for (int i = 1; i <= f->k; i++)
			entered += r.t[row].hist[i];
		fw_buf_printf(out, ",\"entered\":%llu,\"converted\":%llu,\"overall\":",
			      (unsigned long long)entered, (unsigned long long)converted);
		fw_q_ratio(out, (double)converted, (double)entered);
		fw_buf_adds(out, ",\"steps\":");
		write_steps(out, f, &r.t[row], ms, n);
		fw_buf_addc(out, '}');
	}
	fw_buf_addc(out, ']');
	rows_release(&r);
}

static void write_people(struct fw_buf *out, struct funnel *f, struct fw_dataset *d,
			 const uint8_t *reach, const uint8_t *status, const uint32_t *bval)
{
	uint32_t *units = fw_xmalloc(((size_t)f->u->n + 1) * sizeof *units);
	size_t n = 0;
	for (uint32_t u = 0; u < f->u->n; u++) {
		int in;
		if (!reach[u] || (f->pfilter && bval[u] != f->pbval))
			continue;
		if (f->pstatus == 0)
			in = reach[u] > f->pstep;
		else
			in = reach[u] == f->pstep &&
			     status[u] == (f->pstatus == 1 ? ST_DROPPED : ST_PENDING);
		if (in)
			units[n++] = u;
	}
	fw_q_people_write(out, d, f->unit, &f->people, units, n);
	free(units);
}

int fw_q_funnel(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
		struct fw_err *err)
{
	struct funnel *f = fw_arena_alloc(q->arena, sizeof *f);
	memset(f, 0, sizeof *f);
	int rc = parse(q, req, f, err);
	if (rc)
		return rc;
	uint32_t nu = f->u->n;
	uint8_t *reach = fw_xcalloc((size_t)nu + 1, 1), *status = fw_xcalloc((size_t)nu + 1, 1);
	uint32_t *bval = f->bcol ? fw_xcalloc((size_t)nu + 1, sizeof *bval) : NULL;
	struct worker ws[FUNNEL_THREADS];
	int nw = scan(f, ws, reach, status, bval);

	char as_of[32];
	fw_time_format_iso(f->as_of, as_of);
	fw_buf_printf(out, "{\"kind\":\"funnel\",\"unit\":\"%s\",\"mode\":\"%s\",\"window_seconds\":",
		      f->unit == FW_UNIT_ACCOUNT ? "account" : "person", modes[f->mode]);
	fw_json_write_double(out, (double)f->window / 1000.0);
	fw_buf_printf(out, ",\"as_of\":\"%s\",\"steps\":", as_of);
	write_totals(out, f, ws, nw, reach, status);
	if (f->bcol)
		write_breakdown(out, f, ws, nw, reach, status, bval);
	if (f->people.wanted)
		write_people(out, f, q->d, reach, status, bval);
	fw_buf_addc(out, '}');

	for (int i = 0; i < nw; i++)
		worker_release(&ws[i]);
	free(reach);
	free(status);
	free(bval);
	return 0;
}
