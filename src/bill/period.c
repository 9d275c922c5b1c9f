/* period.c — billing periods and what a record adds to a meter (billing.h). */
#include "flywheel/billing.h"
#include "flywheel/json.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdlib.h>

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* 00:00 UTC of day `d` of month (y, m), or of its last day when shorter. */
static int64_t month_day_ms(int64_t y, int m, unsigned d)
{
	while (m > 12) {
		m -= 12;
		y++;
	}
	while (m < 1) {
		m += 12;
		y--;
	}
	unsigned last = days_in_month(y, (unsigned)m);
	return fw_days_from_civil(y, (unsigned)m, d < last ? d : last) * FW_MS_PER_DAY;
}

struct fw_bill_period fw_period_at(int64_t t_ms, int anniversary, int64_t anchor_ms)
{
	int64_t y;
	unsigned m, d, anchor_day = 1;
	if (anniversary) {
		int64_t ay;
		unsigned am;
		fw_civil_from_days(fw_day_floor(anchor_ms) / FW_MS_PER_DAY, &ay, &am, &anchor_day);
	}
	fw_civil_from_days(fw_day_floor(t_ms) / FW_MS_PER_DAY, &y, &m, &d);
	/* the period starts this month or, before this month's start day, the last */
	int64_t start = month_day_ms(y, (int)m, anchor_day);
	int month = (int)m;
	if (t_ms < start) {
		month--;
		start = month_day_ms(y, month, anchor_day);
	}
	return (struct fw_bill_period){start, month_day_ms(y, month + 1, anchor_day)};
}

const struct fw_meter *fw_config_meter(const struct fw_config *c, const char *name, size_t n)
{
	for (size_t i = 0; i < c->nmeters; i++)
		if (strlen(c->meters[i].name) == n && memcmp(c->meters[i].name, name, n) == 0)
			return &c->meters[i];
	return NULL;
}

const struct fw_plan *fw_config_plan(const struct fw_config *c, const char *name, size_t n)
{
	for (size_t i = 0; i < c->nplans; i++)
		if (strlen(c->plans[i].name) == n && memcmp(c->plans[i].name, name, n) == 0)
			return &c->plans[i];
	return NULL;
}

const struct fw_plan_limit *fw_plan_limit_of(const struct fw_plan *p, const char *meter)
{
	for (size_t i = 0; p && i < p->nlimits; i++)
		if (!strcmp(p->limits[i].meter, meter))
			return &p->limits[i];
	return NULL;
}

static int named_in(const struct fw_config_list *l, struct fw_str name)
{
	for (size_t i = 0; i < l->n; i++)
		if (fw_str_eq(name, l->items[i]))
			return 1;
	return 0;
}

/* A JSON number, or a string holding one ("12.5"), as a finite double. */
static int number_of(const struct fw_json *v, double *out)
{
	if (!v)
		return 0;
	if (v->type == FW_JSON_NUMBER)
		*out = v->is_int ? (double)v->i : v->u.num;
	else if (v->type == FW_JSON_STRING && v->u.str.len && v->u.str.len < 64) {
		char tmp[64], *end;
		memcpy(tmp, v->u.str.p, v->u.str.len);
		tmp[v->u.str.len] = 0;
		*out = strtod(tmp, &end);
		if (*end)
			return 0;
	} else {
		return 0;
	}
	return isfinite(*out);
}

/* The key of a value for unique counts: its exact JSON text (it points into
 * the record), so "p1" and 1 are different values. */
static struct fw_str key_of(const struct fw_json *v)
{
	return v && v->type != FW_JSON_NULL ? v->raw : (struct fw_str){0};
}

int fw_meter_input(const struct fw_meter *m, const struct fw_event *e,
		   const struct fw_json *props, double *num, struct fw_str *key)
{
	*num = 0;
	*key = (struct fw_str){0};
	if (!fw_event_is_activity(e))
		return 0;
	if (fw_str_eq(e->event, FW_USAGE_EVENT)) {
		/* only Flywheel writes usage: a `$usage` sent with a write key counts nothing */
		if (e->source != FW_SRC_INTERNAL || !props ||
		    !fw_str_eq(fw_json_get_str(props, "meter"), m->name))
			return 0;
		if (m->agg == FW_AGG_UNIQUE) {
			*key = key_of(fw_json_get(props, "value"));
			return key->len > 0;
		}
		return number_of(fw_json_get(props, "quantity"), num) && *num >= 0;
	}
	if (!named_in(&m->events, e->event))
		return 0;
	if (m->agg == FW_AGG_COUNT) {
		*num = 1;
		return 1;
	}
	const struct fw_json *v = props ? fw_json_get(props, m->property) : NULL;
	if (m->agg == FW_AGG_UNIQUE) {
		*key = key_of(v);
		return key->len > 0;
	}
	return number_of(v, num);
}
