/*
 * trends.c — the "trends" kind: one number per period for each series —
 * event counts, unique units, DAU, WAU, MAU or DAU/MAU — over whole UTC days,
 * optionally broken down by an event property. Exact definitions, fields and
 * answer: docs/query/trends.md.
 *
 * One pass per series over every unit's events in [from − lookback, to)
 * (lookback = 6 days for WAU, 29 for MAU and DAU/MAU), in time order:
 *   count     events per day, summed per period;
 *   uniques   a unit counts once per period: its events' periods only grow,
 *             so "a period unlike the last one counted" is enough;
 *   dau …     each distinct active day of a unit adds 1 to DAU(day) and, for
 *             a window of w days, covers the days [day, day + w) where the
 *             unit counts in WAU/MAU — written as +1/−1 into a difference
 *             array, skipping what the unit's previous day already covered,
 *             so a prefix sum gives distinct units per day exactly.
 * No hashing and no allocation per event; per-unit state lives in a small
 * array stamped with the unit's index instead of being cleared. Units are
 * split over up to four threads (cohorts.c), each with its own counters.
 */
#include "flywheel/query.h"
#include "flywheel/timeutil.h"

#include <stdio.h>
#include <stdlib.h>

#define DAY FW_MS_PER_DAY
#define MAX_PARTS 4
#define MAX_SERIES 20
#define MAX_DAYS 3660 /* ten years of days */
#define TOP_VALUES 25 /* breakdown: values listed; the rest are "$other" */

/* Helpers defined in cohorts.c. */
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

enum { M_COUNT, M_UNIQUES, M_DAU, M_WAU, M_MAU, M_DAU_MAU };
static const char *const maths[] = {"count", "uniques", "dau", "wau", "mau", "dau_mau", NULL};
static const uint32_t window_of[] = {0, 0, 1, 7, 30, 30}; /* days a math looks at, ending on a day */

struct series {
	const char *event, *label;
	int math;
	uint8_t *names; /* per name id: counts */
	struct fw_filters where;
};

/* The days: range day r (0 .. ndays-1) is [from + r days); with the lookback,
 * day index x = r + lookback counts from `base` = from − lookback days. */
struct days {
	int64_t from, to, base;
	uint32_t ndays, lookback, span; /* span = lookback + ndays */
	uint32_t npoints;
	uint32_t *point;               /* by range day: its point */
	int64_t *point_start;          /* npoints + 1: the last is `to` */
};

/* Per unit and group, while a unit is read. */
struct unit_state {
	uint32_t stamp;      /* unit index + 1 the rest belongs to */
	uint32_t last_point; /* uniques: last point counted, or UINT32_MAX */
	uint32_t last_day;   /* dau…: last day index seen, or UINT32_MAX */
	uint32_t covered;    /* dau…: window days covered up to (exclusive) */
};

/* One series over all units: its counters per part (summed into part 0). */
struct pass {
	const struct fw_units *u;
	const struct series *s;
	const struct days *dy;
	const struct fw_column *col; /* breakdown column, or NULL */
	const uint32_t *group_of;    /* by value id: group (>= G: not counted) */
	uint32_t G, window;
	int need_count, need_uniq, need_days;
	/* After an event counted, the rest of its day (SKIP_DAY) or point
	 * (SKIP_POINT) changes nothing unless events are counted one by one or
	 * fall into different groups. */
	enum { SKIP_NONE, SKIP_DAY, SKIP_POINT } skip;
	uint64_t *count[MAX_PARTS]; /* G × ndays */
	uint64_t *uniq[MAX_PARTS];  /* G × (npoints + 1); the last: the whole range */
	int64_t *dau[MAX_PARTS];    /* G × (span + 1) */
	int64_t *win[MAX_PARTS];    /* G × (span + 1): difference array of the window */
	struct unit_state *st[MAX_PARTS];
	/* breakdown ranking: events per value id (nvalues + 1) */
	uint64_t *by_value[MAX_PARTS];
};

static inline int counts(const struct series *s, const struct fw_ev *e)
{
	return s->names[e->name] && (!s->where.n || fw_filters_match(&s->where, e));
}

/* Count event x of unit `stamp` - 1; returns its day index. */
static uint32_t pass_event(struct pass *p, int part, uint32_t stamp, const struct fw_ev *x)
{
	const struct days *dy = p->dy;
	uint32_t day = (uint32_t)((uint64_t)(x->t - dy->base) / (uint64_t)DAY);
	uint32_t g = p->col ? p->group_of[p->col->val[x->ord]] : 0;
	if (g >= p->G)
		return day;
	struct unit_state *st = &p->st[part][g];
	if (st->stamp != stamp)
		*st = (struct unit_state){stamp, UINT32_MAX, UINT32_MAX, 0};
	if (day >= dy->lookback) {
		uint32_t r = day - dy->lookback;
		if (p->need_count)
			p->count[part][(size_t)g * dy->ndays + r]++;
		if (p->need_uniq && dy->point[r] != st->last_point) {
			uint64_t *row = p->uniq[part] + (size_t)g * (dy->npoints + 1);
			if (st->last_point == UINT32_MAX)
				row[dy->npoints]++;
			st->last_point = dy->point[r];
			row[st->last_point]++;
		}
	}
	if (p->need_days && day != st->last_day) {
		size_t row = (size_t)g * (dy->span + 1);
		st->last_day = day;
		p->dau[part][row + day]++;
		uint32_t lo = day > st->covered ? day : st->covered, hi = day + p->window;
		if (hi > dy->span)
			hi = dy->span;
		if (lo < hi) {
			p->win[part][row + lo]++;
			p->win[part][row + hi]--;
			st->covered = hi;
		}
	}
	return day;
}

static void pass_part(void *ctx, int part, uint32_t lo, uint32_t hi)
{
	struct pass *p = ctx;
	const struct fw_ev *ev = p->u->ev;
	const struct days *dy = p->dy;
	for (uint32_t k = lo; k < hi; k++) {
		uint64_t e = p->u->off[k + 1];
		for (uint64_t i = fw_cohort_first_at(ev, p->u->off[k], e, dy->base); i < e && ev[i].t < dy->to;) {
			if (!counts(p->s, &ev[i])) {
				i++;
				continue;
			}
			uint32_t day = pass_event(p, part, k + 1, &ev[i]);
			if (p->skip == SKIP_DAY)
				i = fw_cohort_skip_to(ev, i + 1, e, dy->base + (int64_t)(day + 1) * DAY);
			else if (p->skip == SKIP_POINT)
				i = fw_cohort_skip_to(ev, i + 1, e, dy->point_start[dy->point[day - dy->lookback] + 1]);
			else
				i++;
		}
	}
}

/* Breakdown: events of the series in [from, to) per value of the property. */
static void rank_part(void *ctx, int part, uint32_t lo, uint32_t hi)
{
	struct pass *p = ctx;
	const struct fw_ev *ev = p->u->ev;
	for (uint32_t k = lo; k < hi; k++) {
		uint64_t e = p->u->off[k + 1];
		for (uint64_t i = fw_cohort_first_at(ev, p->u->off[k], e, p->dy->from);
		     i < e && ev[i].t < p->dy->to; i++)
			if (counts(p->s, &ev[i]))
				p->by_value[part][p->col->val[ev[i].ord]]++;
	}
}

struct ranked {
	uint64_t n;
	uint32_t id; /* value id; 0 = the property absent */
	struct fw_str text;
};

/* Most events first; ties by text (bytes), the absent value after any text. */
static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	if (!x->id || !y->id)
		return !x->id - !y->id;
	int c = memcmp(x->text.p, y->text.p, x->text.len < y->text.len ? x->text.len : y->text.len);
	return c ? c : (x->text.len > y->text.len) - (x->text.len < y->text.len);
}

/* Choose the groups: the top values by events in range, then "$other" when
 * more values had events. Fills p->group_of and p->G; *top = the values of
 * groups 0 .. ntop-1 in order. */
static void rank_groups(struct pass *p, struct fw_arena *a, int nparts, const uint32_t *bounds,
			struct ranked **top, uint32_t *ntop, int *other)
{
	uint32_t nv = p->col->values.count + 1;
	for (int i = 0; i < nparts; i++)
		p->by_value[i] = fw_cohort_zalloc(a, (size_t)nv * sizeof **p->by_value);
	fw_cohort_run(nparts, bounds, rank_part, p);
	struct ranked *r = fw_arena_alloc(a, (size_t)nv * sizeof *r);
	uint32_t n = 0;
	for (uint32_t v = 0; v < nv; v++) {
		uint64_t c = 0;
		for (int i = 0; i < nparts; i++)
			c += p->by_value[i][v];
		if (c)
			r[n++] = (struct ranked){c, v, fw_column_text(p->col, v)};
	}
	qsort(r, n, sizeof *r, cmp_ranked);
	*ntop = n < TOP_VALUES ? n : TOP_VALUES;
	*other = n > TOP_VALUES;
	uint32_t *g = fw_arena_alloc(a, (size_t)nv * sizeof *g);
	for (uint32_t v = 0; v < nv; v++)
		g[v] = *ntop; /* "$other" (or, without it, not counted) */
	for (uint32_t i = 0; i < *ntop; i++)
		g[r[i].id] = i;
	p->group_of = g;
	p->G = *ntop + (uint32_t)*other;
	*top = r;
}

/* ---- the answer ---- */

static void write_value(struct fw_buf *out, int math, double v, int has)
{
	if (!has)
		fw_buf_adds(out, "null");
	else if (math == M_DAU_MAU)
		fw_json_write_double(out, v);
	else
		fw_buf_printf(out, "%.0f", v);
}

/* Mean of DAU/MAU over range days [r0, r1] with MAU > 0. */
static int dau_mau_mean(const struct pass *p, const int64_t *dau, const int64_t *mau, uint32_t r0,
			uint32_t r1, double *out)
{
	double sum = 0;
	uint32_t n = 0;
	for (uint32_t r = r0; r <= r1; r++) {
		uint32_t x = r + p->dy->lookback;
		if (mau[x] > 0) {
			sum += (double)dau[x] / (double)mau[x];
			n++;
		}
	}
	*out = n ? sum / n : 0;
	return n > 0;
}

/* Value of group g over range days [r0, r1] (point pt, or the total when
 * pt == npoints). */
static int point_value(const struct pass *p, uint32_t g, uint32_t pt, uint32_t r0, uint32_t r1,
		       const int64_t *mau, double *v)
{
	const struct days *dy = p->dy;
	const int64_t *dau = p->need_days ? p->dau[0] + (size_t)g * (dy->span + 1) : NULL;
	switch (p->s->math) {
	case M_COUNT: {
		uint64_t n = 0;
		for (uint32_t r = r0; r <= r1; r++)
			n += p->count[0][(size_t)g * dy->ndays + r];
		*v = (double)n;
		return 1;
	}
	case M_UNIQUES:
		*v = (double)p->uniq[0][(size_t)g * (dy->npoints + 1) + pt];
		return 1;
	case M_DAU:
		*v = (double)dau[r1 + dy->lookback];
		return 1;
	case M_WAU:
	case M_MAU:
		*v = (double)mau[r1 + dy->lookback];
		return 1;
	default:
		return dau_mau_mean(p, dau, mau, r0, r1, v);
	}
}

static void write_series(struct fw_buf *out, const struct pass *p, uint32_t g, const char *label,
			 int bd, struct fw_str value, int is_null, int *first, struct fw_arena *a)
{
	const struct days *dy = p->dy;
	int64_t *mau = NULL;
	if (p->need_days) { /* the window's distinct units per day: prefix sums */
		const int64_t *w = p->win[0] + (size_t)g * (dy->span + 1);
		mau = fw_arena_alloc(a, ((size_t)dy->span + 1) * sizeof *mau);
		int64_t run = 0;
		for (uint32_t x = 0; x <= dy->span; x++)
			mau[x] = run += w[x];
	}
	fw_buf_adds(out, *first ? "{\"label\":" : ",{\"label\":");
	*first = 0;
	fw_json_write_str(out, label, strlen(label));
	fw_buf_adds(out, ",\"event\":");
	if (p->s->event)
		fw_json_write_str(out, p->s->event, strlen(p->s->event));
	else
		fw_buf_adds(out, "null");
	fw_buf_printf(out, ",\"math\":\"%s\"", maths[p->s->math]);
	if (bd) {
		fw_buf_adds(out, ",\"breakdown_value\":");
		if (is_null)
			fw_buf_adds(out, "null");
		else
			fw_json_write_str(out, value.p, value.len);
	}
	fw_buf_adds(out, ",\"points\":[");
	double v;
	for (uint32_t pt = 0, r0 = 0; pt < dy->npoints; pt++) {
		uint32_t r1 = r0;
		while (r1 + 1 < dy->ndays && dy->point[r1 + 1] == pt)
			r1++;
		fw_buf_adds(out, pt ? ",{\"period\":" : "{\"period\":");
		fw_q_day(out, dy->point_start[pt]);
		fw_buf_adds(out, ",\"value\":");
		int has = point_value(p, g, pt, r0, r1, mau, &v);
		write_value(out, p->s->math, v, has);
		fw_buf_addc(out, '}');
		r0 = r1 + 1;
	}
	fw_buf_adds(out, "],\"total\":");
	int has = point_value(p, g, dy->npoints, 0, dy->ndays - 1, mau, &v);
	write_value(out, p->s->math, v, has);
	fw_buf_addc(out, '}');
}

/* Run one series and append its entries (one per breakdown group). */
static int run_series(struct fw_qctx *q, const struct fw_units *u, const struct series *s,
		      const struct days *dy0, const struct fw_column *col, struct fw_buf *out,
		      int *first)
{
	struct days dy = *dy0;
	struct pass p = {.u = u, .s = s, .dy = &dy, .col = col, .G = 1};
	p.window = window_of[s->math];
	dy.lookback = p.window ? p.window - 1 : 0;
	dy.base = dy.from - (int64_t)dy.lookback * DAY;
	dy.span = dy.lookback + dy.ndays;
	p.need_count = s->math == M_COUNT;
	p.need_uniq = s->math == M_UNIQUES;
	p.need_days = s->math >= M_DAU;
	p.skip = col || p.need_count ? SKIP_NONE : p.need_uniq ? SKIP_POINT : SKIP_DAY;
	uint32_t bounds[MAX_PARTS + 1];
	int nparts = fw_cohort_parts(u, bounds, MAX_PARTS);
	struct ranked *top = NULL;
	uint32_t ntop = 0;
	int other = 0;
	if (col)
		rank_groups(&p, q->arena, nparts, bounds, &top, &ntop, &other);
	for (int i = 0; i < nparts; i++) {
		if (p.need_count)
			p.count[i] = fw_cohort_zalloc(q->arena, (size_t)p.G * dy.ndays * sizeof **p.count + 8);
		if (p.need_uniq)
			p.uniq[i] = fw_cohort_zalloc(q->arena, (size_t)p.G * (dy.npoints + 1) * sizeof **p.uniq + 8);
		if (p.need_days) {
			p.dau[i] = fw_cohort_zalloc(q->arena, (size_t)p.G * (dy.span + 1) * sizeof **p.dau + 8);
			p.win[i] = fw_cohort_zalloc(q->arena, (size_t)p.G * (dy.span + 1) * sizeof **p.win + 8);
		}
		p.st[i] = fw_cohort_zalloc(q->arena, ((size_t)p.G + 1) * sizeof **p.st);
	}
	if (p.G)
		fw_cohort_run(nparts, bounds, pass_part, &p);
	for (int i = 1; i < nparts; i++) {
		for (size_t j = 0; p.need_count && j < (size_t)p.G * dy.ndays; j++)
			p.count[0][j] += p.count[i][j];
		for (size_t j = 0; p.need_uniq && j < (size_t)p.G * (dy.npoints + 1); j++)
			p.uniq[0][j] += p.uniq[i][j];
		for (size_t j = 0; p.need_days && j < (size_t)p.G * (dy.span + 1); j++) {
			p.dau[0][j] += p.dau[i][j];
			p.win[0][j] += p.win[i][j];
		}
	}
	const char *label = s->label ? s->label : s->event ? s->event : "All active events";
	if (!col) {
		write_series(out, &p, 0, label, 0, (struct fw_str){0}, 0, first, q->arena);
		return 0;
	}
	for (uint32_t g = 0; g < ntop; g++)
		write_series(out, &p, g, label, 1, top[g].text, top[g].id == 0, first, q->arena);
	if (other)
		write_series(out, &p, ntop, label, 1, FW_STR_LIT("$other"), 0, first, q->arena);
	return 0;
}

/* ---- the request ---- */

/* Prefix err's message with "series[i]." */
static int series_error(struct fw_err *err, size_t i)
{
	char msg[sizeof err->msg];
	memcpy(msg, err->msg, sizeof msg);
	return fw_error(err, FW_EINVAL, "series[%zu].%s", i, msg);
}

static int parse_series(struct fw_qctx *q, const struct fw_json *x, size_t i, struct series *s,
			struct fw_err *err)
{
	static const char *const fields[] = {"event", "math", "where", "label", NULL};
	char what[32], path[48];
	snprintf(what, sizeof what, "series[%zu]", i);
	snprintf(path, sizeof path, "series[%zu].where", i);
	if (x->type != FW_JSON_OBJECT)
		return fw_error(err, FW_EINVAL, "series[%zu]: expected an object such as {\"event\": \"Signed Up\", \"math\": \"count\"}", i);
	if (fw_cohort_fields(x, what, fields, err))
		return series_error(err, i);
	if (fw_cohort_event(q, x, "event", &s->event, &s->names, err) ||
	    fw_q_enum(x, "math", maths, &s->math, err) ||
	    fw_q_str(x, "label", NULL, &s->label, q->arena, err))
		return series_error(err, i);
	return fw_q_filters(q, fw_json_get(x, "where"), path, &s->where, err);
}

/* from, to: whole UTC days; defaults by period (the last 30 days, 8 weeks or
 * 6 months up to today). Fills the days and points. */
static int parse_days(struct fw_qctx *q, const struct fw_json *req, enum fw_period per,
		      struct days *dy, struct fw_err *err)
{
	int64_t to = fw_day_floor(q->now_ms) + DAY, from = INT64_MIN;
	if (fw_q_range(req, &from, &to, err))
		return FW_EINVAL;
	if (from == INT64_MIN) {
		int64_t last = fw_period_floor(per, to - DAY);
		for (int n = per == FW_PERIOD_DAY ? 29 : per == FW_PERIOD_WEEK ? 7 : 5; n > 0; n--)
			last = fw_period_floor(per, last - 1);
		from = last;
	}
	if (from != fw_day_floor(from) || to != fw_day_floor(to))
		return fw_error(err, FW_EINVAL, "from: trends count whole UTC days: give from and to as YYYY-MM-DD");
	if ((to - from) / DAY > MAX_DAYS)
		return fw_error(err, FW_EINVAL, "from, to: at most %d days (ten years)", MAX_DAYS);
	dy->from = from;
	dy->to = to;
	dy->ndays = (uint32_t)((to - from) / DAY);
	dy->point = fw_arena_alloc(q->arena, ((size_t)dy->ndays + 1) * sizeof *dy->point);
	dy->point_start = fw_arena_alloc(q->arena, ((size_t)dy->ndays + 2) * sizeof *dy->point_start);
	dy->npoints = 0;
	int64_t next = INT64_MIN;
	for (uint32_t r = 0; r < dy->ndays; r++) {
		int64_t t = from + (int64_t)r * DAY;
		if (t >= next) {
			int64_t start = fw_period_floor(per, t);
			dy->point_start[dy->npoints++] = start;
			next = fw_period_next(per, start);
		}
		dy->point[r] = dy->npoints - 1;
	}
	dy->point_start[dy->npoints] = to;
	return 0;
}

int fw_q_trends(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
		struct fw_err *err)
{
	static const char *const fields[] = {"series", "period", "from", "to", "breakdown", "unit", NULL};
	static const char *const unit_names[] = {"person", "account"};
	static const char *const period_names[] = {"day", "week", "month"};
	enum fw_period per;
	enum fw_unit unit;
	const char *breakdown;
	struct days dy;
	if (fw_json_get(req, "people"))
		return fw_error(err, FW_EINVAL, "people: trends has no people list (retention, stickiness and lifecycle do)");
	if (fw_cohort_fields(req, "trends", fields, err) ||
	    fw_q_period(req, "period", FW_PERIOD_DAY, &per, err) || fw_q_unit(req, &unit, err) ||
	    fw_q_str(req, "breakdown", NULL, &breakdown, q->arena, err) ||
	    parse_days(q, req, per, &dy, err))
		return FW_EINVAL;
	if (breakdown && !*breakdown)
		return fw_error(err, FW_EINVAL, "breakdown: expected a property name");
	const struct fw_json *sj = fw_json_get(req, "series");
	struct series *s;
	size_t ns = 1;
	if (!sj || sj->type == FW_JSON_NULL) {
		s = fw_cohort_zalloc(q->arena, sizeof *s); /* count of every active event */
		s->names = fw_cohort_active(q);
	} else {
		if (sj->type != FW_JSON_ARRAY || !sj->len || sj->len > MAX_SERIES)
			return fw_error(err, FW_EINVAL, "series: expected an array of 1 to %d objects such as {\"event\": \"Signed Up\", \"math\": \"uniques\"}",
					MAX_SERIES);
		ns = sj->len;
		s = fw_cohort_zalloc(q->arena, ns * sizeof *s);
		size_t i = 0;
		for (const struct fw_json *x = sj->u.child; x; x = x->next, i++)
			if (parse_series(q, x, i, &s[i], err))
				return FW_EINVAL;
	}
	const struct fw_column *col = NULL;
	if (breakdown && !(col = fw_dataset_column(q->d, breakdown, err)))
		return err->code ? err->code : FW_EIO;
	const struct fw_units *u = fw_dataset_units(q->d, unit);
	fw_buf_printf(out, "{\"kind\":\"trends\",\"unit\":\"%s\",\"period\":\"%s\",\"from\":",
		      unit_names[unit], period_names[per]);
	fw_q_day(out, dy.from);
	fw_buf_adds(out, ",\"to\":");
	fw_q_day(out, dy.to);
	fw_buf_adds(out, ",\"breakdown\":");
	if (breakdown)
		fw_json_write_str(out, breakdown, strlen(breakdown));
	else
		fw_buf_adds(out, "null");
	fw_buf_adds(out, ",\"series\":[");
	int first = 1;
	for (size_t i = 0; i < ns; i++)
		run_series(q, u, &s[i], &dy, col, out, &first);
	fw_buf_adds(out, "]}");
	return 0;
}
