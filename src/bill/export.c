/*
 * export.c — usage export for invoicing (export.h, docs/usage-export.md).
 *
 * One scan of the records applied to people and accounts so far: track,
 * page and screen events and group calls that name an account. Events are
 * read in full only where a property matters (the events of sum, unique and
 * max meters, `$usage` records, plan changes); the rest come as ids. Each
 * record adds to a cell (account, meter, period start); plan changes are
 * kept per account. Seats come from the metadata, one query per month.
 *
 * Cells:     a dictionary from (account id, meter, period start) to an
 *            index in `cells`.
 * Uniques:   one dictionary of (cell index, the value's exact JSON text):
 *            a value is new for its cell when the dictionary grows. Exact
 *            strings, not hashes: an invoice must not lose a value to a
 *            collision.
 * Anchors:   anniversary meters need the account's billing anchor, read from
 *            the metadata before the scan. A record of an account the
 *            metadata does not know (a `$usage` record naming no person is
 *            the only kind once the metadata has caught up) waits until the
 *            scan ends, then uses the earliest record of that account seen.
 */
#include "flywheel/billing.h"
#include "flywheel/dict.h"
#include "flywheel/export.h"
#include "flywheel/json.h"
#include "flywheel/server.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdlib.h>

/* ---- order-independent sums ---- */

void fw_xsum_add(struct fw_xsum *x, double v)
{
	if (!x->wide && fabs(v) < 0x1p62) {
		/* exact scaling; the cast drops bits below 2^-64 (toward zero) */
		__int128 f = (__int128)ldexp(v, 64);
		if (!__builtin_add_overflow(x->fixed, f, &x->fixed))
			return;
	}
	if (!x->wide) {
		x->wide_sum = ldexp((double)x->fixed, -64);
		x->wide = 1;
	}
	x->wide_sum += v;
}

double fw_xsum_value(const struct fw_xsum *x)
{
	/* int128 -> double rounds to nearest: the correctly rounded total */
	return x->wide ? x->wide_sum : ldexp((double)x->fixed, -64);
}

/* ---- the query ---- */

/* A day "YYYY-MM-DD" (exactly: no time, no other calendar day). */
static int parse_day(const char *s, int64_t *ms)
{
	if (strlen(s) != 10 || fw_time_parse_iso(s, 10, ms))
		return -1;
	char back[16];
	fw_time_format_day(*ms, back);
	return strcmp(back, s) ? -1 : 0;
}

int fw_export_query_parse(struct fw_export_query *q, const char *from, const char *to,
			  const char *account, const char *format, int64_t now_ms,
			  struct fw_err *err)
{
	memset(q, 0, sizeof *q);
	q->now_ms = now_ms;
	if (!from || !*from || !to || !*to)
		return fw_error(err, FW_EINVAL,
				"from and to are required: the first day to export and the day after "
				"the last, as YYYY-MM-DD (UTC), e.g. from=2026-01-01&to=2026-02-01 "
				"for January");
	if (parse_day(from, &q->from_ms))
		return fw_error(err, FW_EINVAL, "from=\"%.40s\" is not a day: use YYYY-MM-DD (UTC)",
				from);
	if (parse_day(to, &q->to_ms))
		return fw_error(err, FW_EINVAL, "to=\"%.40s\" is not a day: use YYYY-MM-DD (UTC)", to);
	if (q->to_ms <= q->from_ms)
		return fw_error(err, FW_EINVAL,
				"the range is empty: to (%s) must be after from (%s); to is the day "
				"after the last day exported",
				to, from);
	int64_t days = (q->to_ms - q->from_ms) / FW_MS_PER_DAY;
	if (days > FW_EXPORT_MAX_DAYS)
		return fw_error(err, FW_EINVAL,
				"the range is %lld days; export at most %d days at a time (split it, "
				"e.g. by year)",
				(long long)days, FW_EXPORT_MAX_DAYS);
	if (!format || !*format || !strcmp(format, "json"))
		q->format = FW_EXPORT_JSON;
	else if (!strcmp(format, "csv"))
		q->format = FW_EXPORT_CSV;
	else
		return fw_error(err, FW_EINVAL, "format must be json or csv; got \"%.40s\"", format);
	if (account && *account)
		q->account = fw_str_c(account);
	return 0;
}

/* ---- the export ---- */

#define SEATS (-1) /* the meter index of seat rows */

struct acct {
	int64_t anchor;   /* billing anchor (valid with has_anchor) */
	int64_t min_seen; /* earliest record of it seen in the scan */
	int has_anchor;
	size_t plan_lo, plan_hi; /* its plan changes in x->changes, once sorted */
};

struct plan_change {
	uint32_t account, plan; /* plan: id in x->plans */
	int64_t t;
	uint64_t seq;
};

struct cell {
	uint32_t account;
	int meter;
	struct fw_bill_period period;
	struct fw_xsum sum; /* count, sum */
	double value;       /* max; unique (distinct values); seats (members) */
	uint64_t records;
};

struct pending {
	uint32_t account;
	int meter;
	int64_t t;
	double num;
	struct fw_str key; /* in x->keep */
};

struct usage_run {
	const struct fw_config *cfg;
	const struct fw_export_query *q;
	struct fw_dict accounts, cell_keys, uniques, plans;
	FW_VEC(struct acct) accts;
	FW_VEC(struct cell) cells;
	FW_VEC(struct plan_change) changes;
	FW_VEC(struct pending) pending;
	struct fw_arena arena; /* one record's parse, reset per record */
	struct fw_arena keep;  /* pending keys */
	struct fw_buf key;     /* scratch for dictionary keys */
};

static uint32_t account_of(struct usage_run *x, struct fw_str group)
{
	uint32_t id = fw_dict_intern(&x->accounts, group.p, group.len);
	if (id == x->accts.n) {
		struct acct a = {.min_seen = INT64_MAX};
		FW_PUSH(x->accts, a);
	}
	return id;
}

static struct fw_str account_name(const struct usage_run *x, uint32_t id)
{
	return fw_dict_str(&x->accounts, id);
}

static const struct fw_json *parse_obj(struct usage_run *x, struct fw_str text)
{
	struct fw_json *j;
	struct fw_json_error je;
	if (!text.len || fw_json_parse(&x->arena, text.p, text.len, &j, &je) ||
	    j->type != FW_JSON_OBJECT)
		return NULL;
	return j;
}

/* A plan change, if obj (a plan event's properties or a group call's traits)
 * names a plan: a string, as the engine takes it (1 to 71 bytes). */
static void plan_change(struct usage_run *x, uint32_t account, uint64_t seq, int64_t t,
			const struct fw_json *obj)
{
	const struct fw_json *v = obj ? fw_json_get(obj, x->cfg->plan_property) : NULL;
	if (!v || v->type != FW_JSON_STRING || !v->u.str.len || v->u.str.len >= 72)
		return;
	struct plan_change c = {account, fw_dict_intern(&x->plans, v->u.str.p, v->u.str.len), t,
				seq};
	FW_PUSH(x->changes, c);
}

static struct cell *cell_at(struct usage_run *x, uint32_t account, int meter,
			    struct fw_bill_period p)
{
	struct {
		uint32_t account;
		int32_t meter;
		int64_t start;
	} k = {account, meter, p.start_ms};
	uint32_t id = fw_dict_intern(&x->cell_keys, (const char *)&k, sizeof k);
	if (id == x->cells.n) {
		struct cell c = {.account = account, .meter = meter, .period = p};
		FW_PUSH(x->cells, c);
	}
	return &x->cells.v[id];
}

/* What one record adds to one meter of one account. */
static void feed(struct usage_run *x, uint32_t account, int meter, int64_t t, double num,
		 struct fw_str key)
{
	const struct fw_meter *m = &x->cfg->meters[meter];
	struct acct *a = &x->accts.v[account];
	if (m->anniversary && !a->has_anchor) {
		struct pending p = {account, meter, t, num, {0}};
		if (key.len)
			p.key = (struct fw_str){fw_arena_strndup(&x->keep, key.p, key.len),
						key.len};
		FW_PUSH(x->pending, p);
		return;
	}
	struct fw_bill_period p = fw_period_at(t, m->anniversary, a->anchor);
	if (p.start_ms < x->q->from_ms || p.start_ms >= x->q->to_ms)
		return;
	struct cell *c = cell_at(x, account, meter, p);
	switch (m->agg) {
	case FW_AGG_COUNT:
	case FW_AGG_SUM:
		fw_xsum_add(&c->sum, num);
		break;
	case FW_AGG_MAX:
		if (!c->records || num > c->value)
			c->value = num;
		break;
	case FW_AGG_UNIQUE: {
		uint32_t cid = (uint32_t)(c - x->cells.v), before = x->uniques.count;
		fw_buf_reset(&x->key);
		fw_buf_add(&x->key, &cid, sizeof cid);
		fw_buf_add(&x->key, key.p, key.len);
		fw_dict_intern(&x->uniques, x->key.data, x->key.len);
		if (x->uniques.count > before)
			c->value++;
		break;
	}
	}
	c->records++;
}

static int on_record(void *ctx, uint64_t seq, const struct fw_event *e)
{
	struct usage_run *x = ctx;
	if (!e->group_id.len)
		return 0;
	if (x->q->account.len &&
	    (e->group_id.len != x->q->account.len ||
	     memcmp(e->group_id.p, x->q->account.p, e->group_id.len)))
		return 0;
	uint32_t account = account_of(x, e->group_id);
	if (e->time_ms < x->accts.v[account].min_seen)
		x->accts.v[account].min_seen = e->time_ms;
	fw_arena_reset(&x->arena);
	if (e->type == FW_MSG_GROUP) {
		plan_change(x, account, seq, e->time_ms, parse_obj(x, e->traits));
		return 0;
	}
	if (!fw_event_is_activity(e))
		return 0;
	const struct fw_json *props = parse_obj(x, e->properties);
	if (fw_str_eq(e->event, x->cfg->plan_event))
		plan_change(x, account, seq, e->time_ms, props);
	for (size_t i = 0; i < x->cfg->nmeters; i++) {
		double num;
		struct fw_str key;
		if (fw_meter_input(&x->cfg->meters[i], e, props, &num, &key))
			feed(x, account, (int)i, e->time_ms, num, key);
	}
	return 0;
}

static void on_anchor(void *ctx, struct fw_str group, int64_t created_ms, int64_t members,
		      int64_t members_before)
{
	struct usage_run *x = ctx;
	uint32_t id = account_of(x, group); /* before taking the address: it may move */
	struct acct *a = &x->accts.v[id];
	a->anchor = created_ms;
	a->has_anchor = 1;
}

/* Seats of one month: the members first seen before min(its end, now). */
struct seat_month {
	struct usage_run *x;
	struct fw_bill_period month;
};

static void on_seats(void *ctx, struct fw_str group, int64_t created_ms, int64_t members,
		     int64_t members_before)
{
	struct seat_month *sm = ctx;
	/* no row for a month that ended before the account began */
	if (sm->month.end_ms <= created_ms)
		return;
	struct cell *c = cell_at(sm->x, account_of(sm->x, group), SEATS, sm->month);
	c->value = (double)members_before;
}

static int cmp_change(const void *a, const void *b)
{
	const struct plan_change *x = a, *y = b;
	if (x->account != y->account)
		return x->account < y->account ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *meter_name(const struct fw_config *cfg, int meter)
{
	return meter == SEATS ? "seats" : cfg->meters[meter].name;
}

static int cmp_row(const void *a, const void *b, void *ctx)
{
	const struct usage_run *e = ctx;
	const struct cell *x = *(struct cell *const *)a, *y = *(struct cell *const *)b;
	if (x->account != y->account) {
		struct fw_str p = account_name(e, x->account), q = account_name(e, y->account);
		int c = memcmp(p.p, q.p, p.len < q.len ? p.len : q.len);
		if (c)
			return c;
		return p.len < q.len ? -1 : p.len > q.len;
	}
	if (x->meter != y->meter) {
		int c = strcmp(meter_name(e->cfg, x->meter), meter_name(e->cfg, y->meter));
		if (c)
			return c;
	}
	int64_t xs = x->period.start_ms, ys = y->period.start_ms;
	return xs < ys ? -1 : xs > ys;
}

/* The plan in force at `end`: the account's last change before it (by event
 * time, then log order), else the default plan. */
static const char *plan_at(const struct usage_run *x, uint32_t account, int64_t end, size_t *len)
{
	const struct acct *a = &x->accts.v[account];
	size_t lo = a->plan_lo, hi = a->plan_hi; /* first change at or after end */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->changes.v[mid].t < end)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > a->plan_lo) {
		struct fw_str p = fw_dict_str(&x->plans, x->changes.v[lo - 1].plan);
		*len = p.len;
		return p.p;
	}
	const char *d = x->cfg->default_plan ? x->cfg->default_plan : "";
	*len = strlen(d);
	return d;
}

static const char *const agg_names[] = {"count", "sum", "unique", "max"};

static void csv_field(struct fw_buf *b, const char *s, size_t n)
{
	int quote = 0;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (!quote) {
		fw_buf_add(b, s, n);
		return;
	}
	fw_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			fw_buf_addc(b, '"');
		fw_buf_addc(b, s[i]);
	}
	fw_buf_addc(b, '"');
}

/* A number as JSON writes it; in CSV an empty field where JSON has null. */
static void number(struct fw_buf *b, double v, int csv)
{
	if (csv && !isfinite(v))
		return;
	fw_json_write_double(b, v);
}

struct total {
	struct fw_xsum value, overage;
	uint64_t records;
};

static void write_row(const struct usage_run *x, const struct cell *c, struct fw_buf *out,
		      struct total *t)
{
	int csv = x->q->format == FW_EXPORT_CSV;
	const struct fw_config *cfg = x->cfg;
	const char *meter = meter_name(cfg, c->meter);
	const char *agg = c->meter == SEATS ? "members" : agg_names[cfg->meters[c->meter].agg];
	double value = c->meter != SEATS && (cfg->meters[c->meter].agg == FW_AGG_COUNT ||
					     cfg->meters[c->meter].agg == FW_AGG_SUM)
			       ? fw_xsum_value(&c->sum)
			       : c->value;
	size_t plen;
	const char *plan = plan_at(x, c->account, c->period.end_ms, &plen);
	const struct fw_plan_limit *l = fw_plan_limit_of(fw_config_plan(cfg, plan, plen), meter);
	double limit = l ? l->limit : 0, overage = 0;
	int has_limit = l != NULL;
	if (has_limit && value > limit)
		overage = value - limit;
	char start[32], end[32];
	fw_time_format_iso(c->period.start_ms, start);
	fw_time_format_iso(c->period.end_ms, end);
	const char *closed = c->period.end_ms <= x->q->now_ms ? "true" : "false";
	struct fw_str account = account_name(x, c->account);
	fw_xsum_add(&t->value, value);
	fw_xsum_add(&t->overage, overage);
	t->records += c->records;

	if (csv) {
		csv_field(out, account.p, account.len);
		fw_buf_printf(out, ",%s,%s,%s,%s,%s,", meter, agg, start, end, closed);
		number(out, value, 1);
		fw_buf_printf(out, ",%llu,", (unsigned long long)c->records);
		csv_field(out, plan, plen);
		fw_buf_addc(out, ',');
		if (has_limit)
			number(out, limit, 1);
		fw_buf_addc(out, ',');
		number(out, overage, 1);
		fw_buf_adds(out, "\r\n");
		return;
	}
	fw_buf_adds(out, "{\"account\":");
	fw_json_write_str(out, account.p, account.len);
	fw_buf_printf(out,
		      ",\"meter\":\"%s\",\"aggregate\":\"%s\",\"period_start\":\"%s\","
		      "\"period_end\":\"%s\",\"closed\":%s,\"value\":",
		      meter, agg, start, end, closed);
	number(out, value, 0);
	fw_buf_printf(out, ",\"records\":%llu,\"plan\":", (unsigned long long)c->records);
	fw_json_write_str(out, plan, plen);
	fw_buf_adds(out, ",\"limit\":");
	if (has_limit)
		number(out, limit, 0);
	else
		fw_buf_adds(out, "null");
	fw_buf_adds(out, ",\"overage\":");
	number(out, overage, 0);
	fw_buf_addc(out, '}');
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_export(struct usage_run *x, struct fw_buf *out)
{
	const struct fw_config *cfg = x->cfg;
	int csv = x->q->format == FW_EXPORT_CSV;
	struct cell **rows = fw_xmalloc((x->cells.n + 1) * sizeof *rows);
	for (size_t i = 0; i < x->cells.n; i++)
		rows[i] = &x->cells.v[i];
	qsort_r(rows, x->cells.n, sizeof *rows, cmp_row, x);
	/* totals by meter name: every configured meter and seats */
	const char *names[FW_MAX_METERS + 1];
	size_t nnames = 0;
	for (size_t i = 0; i < cfg->nmeters; i++)
		names[nnames++] = cfg->meters[i].name;
	names[nnames++] = "seats";
	qsort(names, nnames, sizeof *names, cmp_name);
	struct total totals[FW_MAX_METERS + 1];
	memset(totals, 0, sizeof totals);

	if (csv) {
		fw_buf_adds(out, "account,meter,aggregate,period_start,period_end,closed,value,"
				 "records,plan,limit,overage\r\n");
	} else {
		char from[16], to[16];
		fw_time_format_day(x->q->from_ms, from);
		fw_time_format_day(x->q->to_ms, to);
		fw_buf_printf(out, "{\"from\":\"%s\",\"to\":\"%s\",\"rows\":[", from, to);
	}
	for (size_t i = 0; i < x->cells.n; i++) {
		const char *m = meter_name(cfg, rows[i]->meter);
		size_t k = 0;
		while (strcmp(names[k], m))
			k++;
		if (!csv && i)
			fw_buf_addc(out, ',');
		write_row(x, rows[i], out, &totals[k]);
	}
	if (!csv) {
		fw_buf_adds(out, "],\"totals\":{");
		for (size_t k = 0; k < nnames; k++) {
			fw_buf_printf(out, "%s\"%s\":{\"value\":", k ? "," : "", names[k]);
			number(out, fw_xsum_value(&totals[k].value), 0);
			fw_buf_printf(out, ",\"records\":%llu,\"overage\":",
				      (unsigned long long)totals[k].records);
			number(out, fw_xsum_value(&totals[k].overage), 0);
			fw_buf_addc(out, '}');
		}
		fw_buf_adds(out, "}}");
	}
	free(rows);
}

static void export_release(struct usage_run *x)
{
	fw_dict_release(&x->accounts);
	fw_dict_release(&x->cell_keys);
	fw_dict_release(&x->uniques);
	fw_dict_release(&x->plans);
	free(x->accts.v);
	free(x->cells.v);
	free(x->changes.v);
	free(x->pending.v);
	fw_arena_release(&x->arena);
	fw_arena_release(&x->keep);
	fw_buf_release(&x->key);
}

int fw_usage_export(struct fw_server *s, const struct fw_export_query *q, struct fw_buf *out,
		    struct fw_err *err)
{
	if (q->to_ms <= q->from_ms || q->to_ms - q->from_ms > FW_EXPORT_MAX_DAYS * FW_MS_PER_DAY)
		return fw_error(err, FW_EINVAL, "the range must be 1 to %d days", FW_EXPORT_MAX_DAYS);
	int rc = fw_server_catch_up(s, err);
	if (rc)
		return rc;
	struct usage_run x = {.cfg = &s->cfg, .q = q};
	fw_dict_init(&x.accounts);
	fw_dict_init(&x.cell_keys);
	fw_dict_init(&x.uniques);
	fw_dict_init(&x.plans);
	/* anchors, as of the records applied: the scan reads no further */
	uint64_t applied = fw_meta_applied_seq(s->meta);
	rc = fw_meta_accounts_billing(s->meta, q->account, on_anchor, 0, &x, err);

	/* the events whose properties matter; count meters need only names */
	struct fw_str full[FW_MAX_METERS * FW_CONFIG_MAX_LIST + 2];
	size_t nfull = 0;
	full[nfull++] = FW_STR_LIT(FW_USAGE_EVENT);
	full[nfull++] = fw_str_c(s->cfg.plan_event);
	for (size_t i = 0; i < s->cfg.nmeters; i++) {
		const struct fw_meter *m = &s->cfg.meters[i];
		for (size_t k = 0; m->agg != FW_AGG_COUNT && k < m->events.n; k++)
			full[nfull++] = fw_str_c(m->events.items[k]);
	}
	struct fw_scan scan = {
		.to_seq = applied,
		.type_mask = (1u << FW_MSG_TRACK) | (1u << FW_MSG_PAGE) | (1u << FW_MSG_SCREEN) |
			     (1u << FW_MSG_GROUP),
		.durable_only = 1,
		/* events as ids unless named below; group calls with their traits
		 * (they always carry them) and nothing more */
		.ids_only_mask = (1u << FW_MSG_TRACK) | (1u << FW_MSG_PAGE) | (1u << FW_MSG_SCREEN),
		.full_names = full,
		.nfull_names = nfull,
		.traits_only = 1,
	};
	if (!rc && applied)
		rc = fw_store_scan(s->store, &scan, on_record, &x, err);
	if (rc) {
		export_release(&x);
		return rc;
	}
	/* records of accounts without an anchor: the earliest record seen */
	for (size_t i = 0; i < x.pending.n; i++) {
		struct acct *a = &x.accts.v[x.pending.v[i].account];
		if (!a->has_anchor) {
			a->anchor = a->min_seen;
			a->has_anchor = 1;
		}
	}
	for (size_t i = 0; i < x.pending.n; i++) {
		struct pending *p = &x.pending.v[i];
		feed(&x, p->account, p->meter, p->t, p->num, p->key);
	}
	/* plan changes by account, time, log order */
	if (x.changes.n)
		qsort(x.changes.v, x.changes.n, sizeof *x.changes.v, cmp_change);
	for (size_t i = 0; i < x.changes.n; i++) {
		struct acct *a = &x.accts.v[x.changes.v[i].account];
		if (i == 0 || x.changes.v[i - 1].account != x.changes.v[i].account)
			a->plan_lo = i;
		a->plan_hi = i + 1;
	}
	/* seats: calendar months starting in [from, to), none in the future */
	struct fw_bill_period month = fw_period_at(q->from_ms, 0, 0);
	if (month.start_ms < q->from_ms)
		month = fw_period_at(month.end_ms, 0, 0);
	for (; !rc && month.start_ms < q->to_ms && month.start_ms <= q->now_ms;
	     month = fw_period_at(month.end_ms, 0, 0)) {
		struct seat_month sm = {&x, month};
		int64_t before = month.end_ms < q->now_ms ? month.end_ms : q->now_ms;
		rc = fw_meta_accounts_billing(s->meta, q->account, on_seats, before, &sm, err);
	}
	if (!rc)
		write_export(&x, out);
	export_release(&x);
	return rc;
}
