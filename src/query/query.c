/*
 * query.c — the request of POST /api/v1/query: finding the kind, and the
 * helpers every kind uses to read its fields, so that they all read ranges,
 * units, durations, filters and paging the same way and say the same things
 * when something is wrong.
 */
#include "flywheel/query.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int fw_q_funnel(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out, struct fw_err *err);
int fw_q_retention(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out, struct fw_err *err);
int fw_q_stickiness(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out, struct fw_err *err);
int fw_q_lifecycle(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out, struct fw_err *err);
int fw_q_trends(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out, struct fw_err *err);
int fw_q_revenue(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out, struct fw_err *err);
int fw_q_virality(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out, struct fw_err *err);
int fw_q_metrics(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out, struct fw_err *err);
int fw_q_events(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out, struct fw_err *err);
int fw_q_accounts(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out, struct fw_err *err);

const struct fw_query_kind fw_query_kinds[] = {
	{"funnel", fw_q_funnel, "ordered steps with windows, exclusions, breakdown and pending people"},
	{"retention", fw_q_retention, "cohort table and pooled curve by day, week or month"},
	{"stickiness", fw_q_stickiness, "people by number of active days per week or month"},
	{"lifecycle", fw_q_lifecycle, "new, returning, resurrecting and dormant per period"},
	{"trends", fw_q_trends, "event counts and unique people per period, with breakdown"},
	{"revenue", fw_q_revenue, "MRR movements (new, expansion, contraction, churn), NRR and GRR"},
	{"virality", fw_q_virality, "invite funnel, k-factor and workspaces by size"},
	{"metrics", fw_q_metrics, "the PLG metrics with previous period and targets"},
	{"events", fw_q_events, "event counts and unique people by event name"},
	{"accounts", fw_q_accounts, "per-account table: active days, invites, features, limits, pricing views"},
};
const size_t fw_nquery_kinds = FW_ARRAY_LEN(fw_query_kinds);

int fw_query_run(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
		 struct fw_err *err)
{
	if (!req || req->type != FW_JSON_OBJECT)
		return fw_error(err, FW_EINVAL, "the query must be a JSON object with a \"kind\"");
	const struct fw_json *k = fw_json_get(req, "kind");
	if (!k || k->type != FW_JSON_STRING)
		return fw_error(err, FW_EINVAL, "kind: expected one of funnel, retention, stickiness, "
						"lifecycle, trends, revenue, virality, metrics, events, accounts");
	for (size_t i = 0; i < fw_nquery_kinds; i++)
		if (fw_str_eq(k->u.str, fw_query_kinds[i].name))
			return fw_query_kinds[i].fn(q, req, out, err);
	return fw_error(err, FW_EINVAL, "kind: unknown kind \"%.*s\" (expected one of funnel, "
					"retention, stickiness, lifecycle, trends, revenue, virality, "
					"metrics, events, accounts)",
			(int)(k->u.str.len > 60 ? 60 : k->u.str.len), k->u.str.p);
}

/* ---- request fields ---- */

static int time_field(const struct fw_json *req, const char *key, int64_t *out, struct fw_err *err)
{
	const struct fw_json *v = fw_json_get(req, key);
	if (!v || v->type == FW_JSON_NULL)
		return 0;
	if (v->type != FW_JSON_STRING || fw_time_parse_iso(v->u.str.p, v->u.str.len, out))
		return fw_error(err, FW_EINVAL, "%s: expected a date (YYYY-MM-DD) or an ISO-8601 time",
				key);
	return 0;
}

int fw_q_range(const struct fw_json *req, int64_t *from, int64_t *to, struct fw_err *err)
{
	if (time_field(req, "from", from, err) || time_field(req, "to", to, err))
		return FW_EINVAL;
	if (*from >= *to)
		return fw_error(err, FW_EINVAL, "from: must be before to");
	return 0;
}

int fw_q_unit(const struct fw_json *req, enum fw_unit *u, struct fw_err *err)
{
	static const char *const units[] = {"person", "account", NULL};
	int i;
	if (fw_q_enum(req, "unit", units, &i, err))
		return FW_EINVAL;
	*u = i ? FW_UNIT_ACCOUNT : FW_UNIT_PERSON;
	return 0;
}

int fw_q_int(const struct fw_json *req, const char *key, int64_t dflt, int64_t lo, int64_t hi,
	     int64_t *out, struct fw_err *err)
{
	const struct fw_json *v = fw_json_get(req, key);
	if (!v || v->type == FW_JSON_NULL) {
		*out = dflt;
		return 0;
	}
	if (v->type != FW_JSON_NUMBER || !v->is_int || v->i < lo || v->i > hi)
		return fw_error(err, FW_EINVAL, "%s: expected a whole number from %lld to %lld", key,
				(long long)lo, (long long)hi);
	*out = v->i;
	return 0;
}

int fw_q_bool(const struct fw_json *req, const char *key, int dflt, int64_t *out,
	      struct fw_err *err)
{
	const struct fw_json *v = fw_json_get(req, key);
	if (!v || v->type == FW_JSON_NULL)
		*out = dflt;
	else if (v->type == FW_JSON_TRUE || v->type == FW_JSON_FALSE)
		*out = v->type == FW_JSON_TRUE;
	else
		return fw_error(err, FW_EINVAL, "%s: expected true or false", key);
	return 0;
}

int fw_q_str(const struct fw_json *req, const char *key, const char *dflt, const char **out,
	     struct fw_arena *a, struct fw_err *err)
{
	const struct fw_json *v = fw_json_get(req, key);
	if (!v || v->type == FW_JSON_NULL) {
		*out = dflt;
		return 0;
	}
	if (v->type != FW_JSON_STRING)
		return fw_error(err, FW_EINVAL, "%s: expected a string", key);
	*out = fw_arena_strndup(a, v->u.str.p, v->u.str.len);
	return 0;
}

int fw_q_enum(const struct fw_json *req, const char *key, const char *const *choices, int *out,
	      struct fw_err *err)
{
	const struct fw_json *v = fw_json_get(req, key);
	*out = 0;
	if (!v || v->type == FW_JSON_NULL)
		return 0;
	if (v->type == FW_JSON_STRING)
		for (int i = 0; choices[i]; i++)
			if (fw_str_eq(v->u.str, choices[i])) {
				*out = i;
				return 0;
			}
	char list[256] = "";
	size_t n = 0;
	for (int i = 0; choices[i] && n < sizeof list - 40; i++)
		n += (size_t)snprintf(list + n, sizeof list - n, "%s\"%s\"", i ? ", " : "", choices[i]);
	return fw_error(err, FW_EINVAL, "%s: expected one of %s", key, list);
}

int fw_q_duration(const struct fw_json *req, const char *key, int64_t dflt_ms, int64_t *out_ms,
		  struct fw_err *err)
{
	const struct fw_json *v = fw_json_get(req, key);
	*out_ms = dflt_ms;
	if (!v || v->type == FW_JSON_NULL)
		return 0;
	double n = -1;
	int64_t unit = FW_MS_PER_DAY;
	if (v->type == FW_JSON_NUMBER) {
		n = v->u.num;
	} else if (v->type == FW_JSON_STRING && v->u.str.len >= 2 && v->u.str.len < 24) {
		char tmp[32], *end;
		memcpy(tmp, v->u.str.p, v->u.str.len);
		tmp[v->u.str.len] = 0;
		n = strtod(tmp, &end);
		if (end == tmp)
			n = -1;
		else if (!strcmp(end, "s"))
			unit = 1000;
		else if (!strcmp(end, "m"))
			unit = 60 * 1000;
		else if (!strcmp(end, "h"))
			unit = 3600 * 1000;
		else if (!strcmp(end, "d"))
			unit = FW_MS_PER_DAY;
		else if (!strcmp(end, "w"))
			unit = 7 * FW_MS_PER_DAY;
		else
			n = -1;
	}
	if (!(n >= 0) || n > 3650.0 * FW_MS_PER_DAY / (double)unit)
		return fw_error(err, FW_EINVAL,
				"%s: expected a duration: a number of days, or a string like \"30m\", "
				"\"12h\", \"14d\", \"2w\" (at most 10 years)",
				key);
	*out_ms = (int64_t)llround(n * (double)unit);
	return 0;
}

/* ---- filters ---- */

enum { OP_EQ, OP_NEQ, OP_IN, OP_CONTAINS, OP_GT, OP_GTE, OP_LT, OP_LTE, OP_SET, OP_NOT_SET };
static const char *const ops[] = {"eq", "neq", "in", "contains", "gt", "gte", "lt", "lte",
				  "set", "not_set", NULL};

static uint32_t value_id(const struct fw_column *c, const struct fw_json *v)
{
	struct fw_str s = v->type == FW_JSON_STRING ? v->u.str : v->raw;
	uint32_t id = fw_dict_find(&c->values, s.p, s.len);
	return id == UINT32_MAX ? 0 : id + 1;
}

int fw_q_filters(struct fw_qctx *q, const struct fw_json *where, const char *path,
		 struct fw_filters *out, struct fw_err *err)
{
	memset(out, 0, sizeof *out);
	if (!where || where->type == FW_JSON_NULL)
		return 0;
	if (where->type != FW_JSON_ARRAY)
		return fw_error(err, FW_EINVAL,
				"%s: expected an array of {\"property\", \"op\", \"value\"}", path);
	out->f = fw_arena_alloc(q->arena, (where->len + 1) * sizeof *out->f);
	size_t i = 0;
	for (const struct fw_json *x = where->u.child; x; x = x->next, i++) {
		struct fw_filter *f = &out->f[i];
		memset(f, 0, sizeof *f);
		struct fw_str prop = fw_json_get_str(x, "property");
		if (x->type != FW_JSON_OBJECT || !prop.len)
			return fw_error(err, FW_EINVAL, "%s[%zu].property: expected a property name", path, i);
		int op;
		if (fw_q_enum(x, "op", ops, &op, err))
			return fw_error(err, FW_EINVAL, "%s[%zu].op: expected one of eq, neq, in, contains, "
							"gt, gte, lt, lte, set, not_set", path, i);
		f->op = op;
		char *name = fw_arena_strndup(q->arena, prop.p, prop.len);
		f->col = fw_dataset_column(q->d, name, err);
		if (!f->col)
			return err->code ? err->code : FW_EIO;
		const struct fw_json *v = fw_json_get(x, "value");
		switch (op) {
		case OP_SET:
		case OP_NOT_SET:
			break;
		case OP_IN:
			if (!v || v->type != FW_JSON_ARRAY)
				return fw_error(err, FW_EINVAL, "%s[%zu].value: \"in\" needs an array of values",
						path, i);
			f->in_ids = fw_arena_alloc(q->arena, (v->len + 1) * sizeof *f->in_ids);
			for (const struct fw_json *y = v->u.child; y; y = y->next)
				f->in_ids[f->nin++] = value_id(f->col, y);
			break;
		case OP_GT:
		case OP_GTE:
		case OP_LT:
		case OP_LTE:
			if (!v || v->type != FW_JSON_NUMBER)
				return fw_error(err, FW_EINVAL, "%s[%zu].value: \"%s\" needs a number", path, i,
						ops[op]);
			f->num = v->u.num;
			break;
		case OP_CONTAINS:
			if (!v || v->type != FW_JSON_STRING)
				return fw_error(err, FW_EINVAL, "%s[%zu].value: \"contains\" needs a string",
						path, i);
			f->text = v->u.str;
			break;
		default:
			if (!v || v->type == FW_JSON_NULL || v->type == FW_JSON_ARRAY ||
			    v->type == FW_JSON_OBJECT)
				return fw_error(err, FW_EINVAL,
						"%s[%zu].value: expected a string, number or boolean", path, i);
			f->value_id = value_id(f->col, v);
		}
	}
	out->n = i;
	return 0;
}

static int contains(struct fw_str hay, struct fw_str needle)
{
	if (needle.len > hay.len)
		return 0;
	for (size_t i = 0; i + needle.len <= hay.len; i++)
		if (!memcmp(hay.p + i, needle.p, needle.len))
			return 1;
	return 0;
}

int fw_filters_match(const struct fw_filters *fs, const struct fw_ev *e)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct fw_filter *f = &fs->f[i];
		uint32_t v = f->col->val[e->ord];
		double num = v ? f->col->num[v - 1] : NAN;
		int ok;
		switch (f->op) {
		case OP_EQ: ok = v && v == f->value_id; break;
		case OP_NEQ: ok = v != f->value_id; break;
		case OP_IN:
			ok = 0;
			for (size_t k = 0; k < f->nin && !ok; k++)
				ok = v && v == f->in_ids[k];
			break;
		case OP_CONTAINS: ok = v && contains(fw_column_text(f->col, v), f->text); break;
		case OP_GT: ok = num > f->num; break;
		case OP_GTE: ok = num >= f->num; break;
		case OP_LT: ok = num < f->num; break;
		case OP_LTE: ok = num <= f->num; break;
		case OP_SET: ok = v != 0; break;
		default: ok = v == 0; break;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

/* ---- people behind a number ---- */

int fw_q_people(const struct fw_json *req, struct fw_people_req *pr, struct fw_err *err)
{
	memset(pr, 0, sizeof *pr);
	const struct fw_json *p = fw_json_get(req, "people");
	if (!p || p->type == FW_JSON_NULL || p->type == FW_JSON_FALSE)
		return 0;
	if (p->type != FW_JSON_OBJECT)
		return fw_error(err, FW_EINVAL, "people: expected an object such as {\"offset\": 0, \"limit\": 100}");
	pr->wanted = 1;
	pr->spec = p;
	if (fw_q_int(p, "offset", 0, 0, INT64_MAX / 2, &pr->offset, err) ||
	    fw_q_int(p, "limit", 100, 1, 10000, &pr->limit, err)) {
		char msg[sizeof err->msg];
		memcpy(msg, err->msg, sizeof msg);
		return fw_error(err, FW_EINVAL, "people.%s", msg);
	}
	return 0;
}

struct key_order {
	const struct fw_dataset *d;
	enum fw_unit u;
};

static int cmp_unit_key(const void *a, const void *b, void *ctx)
{
	const struct key_order *o = ctx;
	struct fw_str x = fw_dataset_unit_key(o->d, o->u, *(const uint32_t *)a);
	struct fw_str y = fw_dataset_unit_key(o->d, o->u, *(const uint32_t *)b);
	int c = memcmp(x.p, y.p, x.len < y.len ? x.len : y.len);
	return c ? c : (x.len > y.len) - (x.len < y.len);
}

void fw_q_people_write(struct fw_buf *out, struct fw_dataset *d, enum fw_unit u,
		       const struct fw_people_req *pr, uint32_t *units, size_t n)
{
	struct key_order o = {d, u};
	if (n) /* units may be NULL when nobody is listed: qsort(NULL, 0) is undefined */
		qsort_r(units, n, sizeof *units, cmp_unit_key, &o);
	fw_buf_printf(out, ",\"people\":{\"unit\":\"%s\",\"total\":%zu,\"offset\":%lld,\"limit\":%lld,\"items\":[",
		      u == FW_UNIT_ACCOUNT ? "account" : "person", n, (long long)pr->offset,
		      (long long)pr->limit);
	for (int64_t i = pr->offset, k = 0; i < (int64_t)n && k < pr->limit; i++, k++) {
		if (k)
			fw_buf_addc(out, ',');
		struct fw_str key = fw_dataset_unit_key(d, u, units[i]);
		fw_json_write_str(out, key.p, key.len);
	}
	fw_buf_adds(out, "]}");
}

/* ---- output and periods ---- */

void fw_q_day(struct fw_buf *b, int64_t ms)
{
	char day[16];
	fw_time_format_day(ms, day);
	fw_buf_printf(b, "\"%s\"", day);
}

void fw_q_ratio(struct fw_buf *b, double num, double den)
{
	if (den > 0)
		fw_json_write_double(b, num / den);
	else
		fw_buf_adds(b, "null");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double fw_q_percentile(double *v, size_t n, double q)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof *v, cmp_double);
	size_t rank = (size_t)ceil(q * (double)n);
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

int fw_q_period(const struct fw_json *req, const char *key, enum fw_period dflt,
		enum fw_period *out, struct fw_err *err)
{
	static const char *const names[] = {"day", "week", "month", NULL};
	const struct fw_json *v = fw_json_get(req, key);
	if (!v || v->type == FW_JSON_NULL) {
		*out = dflt;
		return 0;
	}
	int i;
	if (fw_q_enum(req, key, names, &i, err))
		return FW_EINVAL;
	*out = (enum fw_period)i;
	return 0;
}

int64_t fw_period_floor(enum fw_period p, int64_t t)
{
	int64_t day = fw_day_floor(t) / FW_MS_PER_DAY;
	if (p == FW_PERIOD_WEEK) {
		int64_t dow = ((day + 3) % 7 + 7) % 7; /* 0 = Monday; 1970-01-01 was a Thursday */
		day -= dow;
	} else if (p == FW_PERIOD_MONTH) {
		int64_t y;
		unsigned m, dd;
		fw_civil_from_days(day, &y, &m, &dd);
		day = fw_days_from_civil(y, m, 1);
	}
	return day * FW_MS_PER_DAY;
}

int64_t fw_period_next(enum fw_period p, int64_t start)
{
	if (p == FW_PERIOD_DAY)
		return start + FW_MS_PER_DAY;
	if (p == FW_PERIOD_WEEK)
		return start + 7 * FW_MS_PER_DAY;
	int64_t y;
	unsigned m, d;
	fw_civil_from_days(start / FW_MS_PER_DAY, &y, &m, &d);
	if (++m > 12) {
		m = 1;
		y++;
	}
	return fw_days_from_civil(y, m, 1) * FW_MS_PER_DAY;
}
