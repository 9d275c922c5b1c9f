/*
 * test_period.c — billing periods (fw_period_at) and what a record adds to a
 * meter (fw_meter_input), by hand: calendar months at their edges and across
 * the year, anniversary periods from anchors on the 15th, 29th, 30th, 31st
 * and Feb 29 through leap (2028) and common (2027) Februaries; then every
 * day of eight years against the rules written out once more.
 */
#include "../test.h"
#include "flywheel/billing.h"
#include "flywheel/json.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdlib.h>

static int64_t at(const char *iso)
{
	int64_t ms = 0;
	if (fw_time_parse_iso(iso, strlen(iso), &ms))
		abort();
	return ms;
}

/* The period of `t` for an anchor, as "START..END" in days. */
static const char *period(const char *t, int anniversary, const char *anchor)
{
	static char out[80];
	struct fw_bill_period p = fw_period_at(at(t), anniversary, anchor ? at(anchor) : 0);
	char a[32], b[32];
	fw_time_format_iso(p.start_ms, a);
	fw_time_format_iso(p.end_ms, b);
	/* periods always start and end at midnight: show the days */
	if (strcmp(a + 10, "T00:00:00.000Z") || strcmp(b + 10, "T00:00:00.000Z"))
		snprintf(out, sizeof out, "%s..%s", a, b);
	else
		snprintf(out, sizeof out, "%.10s..%.10s", a, b);
	return out;
}

TEST(period_calendar_months)
{
	CHECK_EQ_STR(period("2026-01-31T23:59:59.999Z", 0, NULL), "2026-01-01..2026-02-01");
	CHECK_EQ_STR(period("2026-02-01T00:00:00.000Z", 0, NULL), "2026-02-01..2026-03-01");
	CHECK_EQ_STR(period("2026-01-01T00:00:00.000Z", 0, NULL), "2026-01-01..2026-02-01");
	CHECK_EQ_STR(period("2026-12-31T23:59:59.999Z", 0, NULL), "2026-12-01..2027-01-01");
	CHECK_EQ_STR(period("2026-12-01T00:00:00.000Z", 0, NULL), "2026-12-01..2027-01-01");
	CHECK_EQ_STR(period("2027-01-01T00:00:00.000Z", 0, NULL), "2027-01-01..2027-02-01");
	CHECK_EQ_STR(period("2028-02-29T12:00:00.000Z", 0, NULL), "2028-02-01..2028-03-01");
	CHECK_EQ_STR(period("2027-02-28T23:59:59.999Z", 0, NULL), "2027-02-01..2027-03-01");
	/* the anchor means nothing to calendar months */
	CHECK_EQ_STR(period("2026-03-10T00:00:00Z", 0, "2025-07-20T00:00:00Z"),
		     "2026-03-01..2026-04-01");
	/* before 1970 too */
	CHECK_EQ_STR(period("1969-12-31T23:59:59.999Z", 0, NULL), "1969-12-01..1970-01-01");
}

TEST(period_anniversary_15th)
{
	const char *anchor = "2026-01-15T10:30:00Z"; /* the anchor's time of day does not matter */
	CHECK_EQ_STR(period("2026-01-15T00:00:00Z", 1, anchor), "2026-01-15..2026-02-15");
	CHECK_EQ_STR(period("2026-01-15T09:00:00Z", 1, anchor), "2026-01-15..2026-02-15");
	CHECK_EQ_STR(period("2026-02-14T23:59:59.999Z", 1, anchor), "2026-01-15..2026-02-15");
	CHECK_EQ_STR(period("2026-02-15T00:00:00Z", 1, anchor), "2026-02-15..2026-03-15");
	/* before the anchor's day in a month: the period that began last month */
	CHECK_EQ_STR(period("2026-03-01T00:00:00Z", 1, anchor), "2026-02-15..2026-03-15");
	CHECK_EQ_STR(period("2026-03-14T12:00:00Z", 1, anchor), "2026-02-15..2026-03-15");
	/* across the year */
	CHECK_EQ_STR(period("2027-01-10T00:00:00Z", 1, anchor), "2026-12-15..2027-01-15");
	CHECK_EQ_STR(period("2026-12-31T23:59:59.999Z", 1, anchor), "2026-12-15..2027-01-15");
	/* before the anchor itself: the same rule, backwards */
	CHECK_EQ_STR(period("2025-11-20T00:00:00Z", 1, anchor), "2025-11-15..2025-12-15");
	CHECK_EQ_STR(period("2025-11-14T00:00:00Z", 1, anchor), "2025-10-15..2025-11-15");
}

TEST(period_anniversary_end_of_month)
{
	/* anchored on the 31st: Feb 28 in a common year, Feb 29 in a leap year,
	 * the last day of 30-day months, back to the 31st when there is one */
	const char *a31 = "2027-01-31T18:00:00Z";
	CHECK_EQ_STR(period("2027-02-10T00:00:00Z", 1, a31), "2027-01-31..2027-02-28");
	CHECK_EQ_STR(period("2027-02-27T23:59:59.999Z", 1, a31), "2027-01-31..2027-02-28");
	CHECK_EQ_STR(period("2027-02-28T00:00:00Z", 1, a31), "2027-02-28..2027-03-31");
	CHECK_EQ_STR(period("2027-03-30T23:59:59.999Z", 1, a31), "2027-02-28..2027-03-31");
	CHECK_EQ_STR(period("2027-03-31T00:00:00Z", 1, a31), "2027-03-31..2027-04-30");
	CHECK_EQ_STR(period("2027-04-30T00:00:00Z", 1, a31), "2027-04-30..2027-05-31");
	CHECK_EQ_STR(period("2027-04-29T00:00:00Z", 1, a31), "2027-03-31..2027-04-30");
	CHECK_EQ_STR(period("2028-02-15T00:00:00Z", 1, a31), "2028-01-31..2028-02-29");
	CHECK_EQ_STR(period("2028-02-28T23:59:59.999Z", 1, a31), "2028-01-31..2028-02-29");
	CHECK_EQ_STR(period("2028-02-29T00:00:00Z", 1, a31), "2028-02-29..2028-03-31");
	CHECK_EQ_STR(period("2028-03-31T00:00:00Z", 1, a31), "2028-03-31..2028-04-30");
	CHECK_EQ_STR(period("2027-12-31T00:00:00Z", 1, a31), "2027-12-31..2028-01-31");

	const char *a30 = "2026-11-30T00:00:00Z";
	CHECK_EQ_STR(period("2027-02-27T00:00:00Z", 1, a30), "2027-01-30..2027-02-28");
	CHECK_EQ_STR(period("2027-02-28T00:00:00Z", 1, a30), "2027-02-28..2027-03-30");
	CHECK_EQ_STR(period("2027-03-30T00:00:00Z", 1, a30), "2027-03-30..2027-04-30");
	CHECK_EQ_STR(period("2028-02-28T00:00:00Z", 1, a30), "2028-01-30..2028-02-29");
	CHECK_EQ_STR(period("2028-02-29T00:00:00Z", 1, a30), "2028-02-29..2028-03-30");

	const char *a29 = "2026-10-29T23:59:59.999Z";
	CHECK_EQ_STR(period("2027-02-28T00:00:00Z", 1, a29), "2027-02-28..2027-03-29");
	CHECK_EQ_STR(period("2027-02-27T23:59:59.999Z", 1, a29), "2027-01-29..2027-02-28");
	CHECK_EQ_STR(period("2027-03-28T00:00:00Z", 1, a29), "2027-02-28..2027-03-29");
	CHECK_EQ_STR(period("2027-03-29T00:00:00Z", 1, a29), "2027-03-29..2027-04-29");
	CHECK_EQ_STR(period("2028-02-28T00:00:00Z", 1, a29), "2028-01-29..2028-02-29");
	CHECK_EQ_STR(period("2028-02-29T00:00:00Z", 1, a29), "2028-02-29..2028-03-29");

	/* anchored on Feb 29: the 29th of every month, Feb 28 in common years */
	const char *leap = "2028-02-29T07:00:00Z";
	CHECK_EQ_STR(period("2028-02-29T07:00:00Z", 1, leap), "2028-02-29..2028-03-29");
	CHECK_EQ_STR(period("2028-03-29T00:00:00Z", 1, leap), "2028-03-29..2028-04-29");
	CHECK_EQ_STR(period("2029-01-30T00:00:00Z", 1, leap), "2029-01-29..2029-02-28");
	CHECK_EQ_STR(period("2029-02-28T00:00:00Z", 1, leap), "2029-02-28..2029-03-29");
	CHECK_EQ_STR(period("2029-03-28T23:59:59.999Z", 1, leap), "2029-02-28..2029-03-29");
	CHECK_EQ_STR(period("2032-02-29T00:00:00Z", 1, leap), "2032-02-29..2032-03-29");
	CHECK_EQ_STR(period("2032-02-28T00:00:00Z", 1, leap), "2032-01-29..2032-02-29");
}

/* The rule once more, the slow way: the last start (the anchor's day, or the
 * month's last day) at or before t, walking months from a year before. */
static int month_days(int64_t y, unsigned m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : d[m - 1];
}

static int64_t start_in(int64_t y, unsigned m, unsigned day)
{
	unsigned last = (unsigned)month_days(y, m);
	return fw_days_from_civil(y, m, day < last ? day : last) * FW_MS_PER_DAY;
}

TEST(period_every_day_of_eight_years)
{
	static const char *const anchors[] = {"2025-01-01T00:00:00Z", "2025-03-15T00:00:00Z",
					      "2024-05-28T00:00:00Z", "2024-02-29T13:00:00Z",
					      "2025-08-30T00:00:00Z", "2023-12-31T23:59:59.999Z"};
	int bad = 0;
	for (size_t a = 0; a < FW_ARRAY_LEN(anchors); a++) {
		int64_t anchor = at(anchors[a]), ay;
		unsigned am, ad;
		fw_civil_from_days(fw_day_floor(anchor) / FW_MS_PER_DAY, &ay, &am, &ad);
		for (int64_t t = at("2024-01-01T00:00:00Z"); t < at("2032-01-01T00:00:00Z");
		     t += FW_MS_PER_DAY / 2 - 1) {
			for (int anniversary = 0; anniversary < 2; anniversary++) {
				unsigned day = anniversary ? ad : 1;
				int64_t y, start = 0, end = 0;
				unsigned m, d;
				fw_civil_from_days(fw_day_floor(t) / FW_MS_PER_DAY - 400, &y, &m, &d);
				for (int k = 0; k < 30; k++) {
					int64_t s = start_in(y, m, day);
					unsigned nm = m == 12 ? 1 : m + 1;
					int64_t ny = m == 12 ? y + 1 : y, e = start_in(ny, nm, day);
					if (s <= t && t < e) {
						start = s;
						end = e;
						break;
					}
					y = ny;
					m = nm;
				}
				struct fw_bill_period p = fw_period_at(t, anniversary, anchor);
				if ((p.start_ms != start || p.end_ms != end) && bad++ < 5) {
					char ts[32], got[32], want[32];
					fw_time_format_iso(t, ts);
					fw_time_format_iso(p.start_ms, got);
					fw_time_format_iso(start, want);
					fprintf(stderr, "  %s anchor %s anniversary %d: start %s, expected %s\n",
						ts, anchors[a], anniversary, got, want);
				}
			}
		}
	}
	CHECK_EQ_INT(bad, 0);
}

/* ---- meter inputs ---- */

static char *L(const char *s) { return (char *)s; }

struct rec {
	struct fw_arena a;
	struct fw_event e;
	const struct fw_json *props;
};

static void rec(struct rec *r, int type, const char *name, const char *props)
{
	memset(&r->e, 0, sizeof r->e);
	r->e.type = (uint8_t)type;
	r->e.event = fw_str_c(name);
	r->e.user_id = FW_STR_LIT("u1");
	r->e.group_id = FW_STR_LIT("acme");
	r->e.properties = fw_str_c(props);
	/* usage records are Flywheel's own; everything else comes from an SDK */
	r->e.source = !strcmp(name, "$usage") ? FW_SRC_INTERNAL : FW_SRC_SEGMENT;
	r->props = NULL;
	struct fw_json *j;
	struct fw_json_error je;
	if (props && fw_json_parse(&r->a, props, strlen(props), &j, &je) == 0)
		r->props = j;
}

/* fw_meter_input on one record: returns what it returned; *num and the key
 * as text into the caller's buffers. */
static int input(const struct fw_meter *m, int type, const char *name, const char *props,
		 double *num, char *key)
{
	struct rec r = {0};
	rec(&r, type, name, props);
	struct fw_str k;
	int fed = fw_meter_input(m, &r.e, r.props, num, &k);
	snprintf(key, 64, "%.*s", (int)k.len, k.p ? k.p : "");
	fw_arena_release(&r.a);
	return fed;
}

TEST(meter_input_count_sum_max)
{
	struct fw_meter calls = {.name = L("api_calls"), .agg = FW_AGG_COUNT};
	calls.events.items[0] = L("API Call");
	calls.events.items[1] = L("Batch Call");
	calls.events.n = 2;
	double num;
	char key[64];
	CHECK(input(&calls, FW_MSG_TRACK, "API Call", "{}", &num, key) == 1 && num == 1);
	CHECK(input(&calls, FW_MSG_TRACK, "Batch Call", NULL, &num, key) == 1 && num == 1);
	CHECK(input(&calls, FW_MSG_TRACK, "API Called", "{}", &num, key) == 0 && num == 0);
	CHECK(input(&calls, FW_MSG_TRACK, "api call", "{}", &num, key) == 0); /* names are exact */
	CHECK(input(&calls, FW_MSG_IDENTIFY, "API Call", "{}", &num, key) == 0); /* calls are no usage */
	CHECK(input(&calls, FW_MSG_GROUP, "API Call", "{}", &num, key) == 0);

	struct fw_meter spend = {.name = L("spend"), .agg = FW_AGG_SUM, .property = L("amount")};
	spend.events.items[0] = L("Charge");
	spend.events.n = 1;
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{\"amount\":12.5}", &num, key) == 1 && num == 12.5);
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{\"amount\":-3}", &num, key) == 1 && num == -3);
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{\"amount\":\"7.25\"}", &num, key) == 1 && num == 7.25);
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{\"amount\":\"1e3\"}", &num, key) == 1 && num == 1000);
	/* not a number: the record does not feed the meter */
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{\"amount\":\"12abc\"}", &num, key) == 0);
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{\"amount\":\"\"}", &num, key) == 0);
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{\"amount\":\"lots\"}", &num, key) == 0);
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{\"amount\":\"1e400\"}", &num, key) == 0);
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{\"amount\":null}", &num, key) == 0);
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{\"amount\":true}", &num, key) == 0);
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{\"amount\":[1]}", &num, key) == 0);
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{\"total\":5}", &num, key) == 0);
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", "{}", &num, key) == 0);
	CHECK(input(&spend, FW_MSG_TRACK, "Charge", NULL, &num, key) == 0);
	CHECK(input(&spend, FW_MSG_TRACK, "Refund", "{\"amount\":5}", &num, key) == 0);

	struct fw_meter storage = {.name = L("storage_gb"), .agg = FW_AGG_MAX, .property = L("gb")};
	storage.events.items[0] = L("Storage Measured");
	storage.events.n = 1;
	CHECK(input(&storage, FW_MSG_TRACK, "Storage Measured", "{\"gb\":3}", &num, key) == 1 && num == 3);
	CHECK(input(&storage, FW_MSG_TRACK, "Storage Measured", "{\"gb\":\"0.5\"}", &num, key) == 1 &&
	      num == 0.5);
	CHECK(input(&storage, FW_MSG_TRACK, "Storage Measured", "{\"size\":3}", &num, key) == 0);
	/* pages and screens are activity too: a meter may read $pageview */
	struct fw_meter views = {.name = L("views"), .agg = FW_AGG_COUNT};
	views.events.items[0] = L("$pageview");
	views.events.n = 1;
	CHECK(input(&views, FW_MSG_PAGE, "$pageview", "{\"name\":\"Home\"}", &num, key) == 1 && num == 1);
}

TEST(meter_input_unique)
{
	struct fw_meter editors = {.name = L("editors"), .agg = FW_AGG_UNIQUE, .property = L("editor")};
	editors.events.items[0] = L("Doc Edited");
	editors.events.n = 1;
	double num;
	char key[64];
	/* the key is the value's JSON text: "p1" and 1 differ */
	CHECK(input(&editors, FW_MSG_TRACK, "Doc Edited", "{\"editor\":\"p1\"}", &num, key) == 1);
	CHECK_EQ_STR(key, "\"p1\"");
	CHECK(input(&editors, FW_MSG_TRACK, "Doc Edited", "{\"editor\":1}", &num, key) == 1);
	CHECK_EQ_STR(key, "1");
	CHECK(input(&editors, FW_MSG_TRACK, "Doc Edited", "{\"editor\":\"1\"}", &num, key) == 1);
	CHECK_EQ_STR(key, "\"1\"");
	CHECK(input(&editors, FW_MSG_TRACK, "Doc Edited", "{\"editor\":{\"id\":2}}", &num, key) == 1);
	CHECK_EQ_STR(key, "{\"id\":2}");
	CHECK(input(&editors, FW_MSG_TRACK, "Doc Edited", "{\"editor\":false}", &num, key) == 1);
	CHECK_EQ_STR(key, "false");
	/* null and missing values are no value */
	CHECK(input(&editors, FW_MSG_TRACK, "Doc Edited", "{\"editor\":null}", &num, key) == 0);
	CHECK(input(&editors, FW_MSG_TRACK, "Doc Edited", "{}", &num, key) == 0);
	CHECK(input(&editors, FW_MSG_TRACK, "Doc Edited", NULL, &num, key) == 0);
	CHECK(input(&editors, FW_MSG_TRACK, "Doc Viewed", "{\"editor\":\"p1\"}", &num, key) == 0);
}

TEST(meter_input_usage_records)
{
	struct fw_meter calls = {.name = L("api_calls"), .agg = FW_AGG_COUNT};
	calls.events.items[0] = L("API Call");
	calls.events.n = 1;
	struct fw_meter spend = {.name = L("spend"), .agg = FW_AGG_SUM, .property = L("amount")};
	spend.events.items[0] = L("Charge");
	spend.events.n = 1;
	struct fw_meter editors = {.name = L("editors"), .agg = FW_AGG_UNIQUE, .property = L("editor")};
	editors.events.items[0] = L("Doc Edited");
	editors.events.n = 1;
	double num;
	char key[64];
	/* a $usage record feeds the meter it names, by its quantity... */
	CHECK(input(&calls, FW_MSG_TRACK, "$usage", "{\"meter\":\"api_calls\",\"quantity\":5}", &num, key) == 1 &&
	      num == 5);
	CHECK(input(&calls, FW_MSG_TRACK, "$usage", "{\"meter\":\"api_calls\",\"quantity\":\"2.5\"}", &num, key) == 1 &&
	      num == 2.5);
	CHECK(input(&spend, FW_MSG_TRACK, "$usage", "{\"meter\":\"spend\",\"quantity\":9.75}", &num, key) == 1 &&
	      num == 9.75);
	/* ...not its property, and no other meter */
	CHECK(input(&spend, FW_MSG_TRACK, "$usage", "{\"meter\":\"spend\",\"amount\":9}", &num, key) == 0);
	CHECK(input(&calls, FW_MSG_TRACK, "$usage", "{\"meter\":\"spend\",\"quantity\":5}", &num, key) == 0);
	CHECK(input(&calls, FW_MSG_TRACK, "$usage", "{\"meter\":\"api_calls\"}", &num, key) == 0);
	CHECK(input(&calls, FW_MSG_TRACK, "$usage", "{\"meter\":\"api_calls\",\"quantity\":\"x\"}", &num, key) == 0);
	CHECK(input(&calls, FW_MSG_TRACK, "$usage", "{\"quantity\":5}", &num, key) == 0);
	CHECK(input(&calls, FW_MSG_TRACK, "$usage", NULL, &num, key) == 0);
	CHECK(input(&calls, FW_MSG_TRACK, "$usage", "{\"meter\":5,\"quantity\":5}", &num, key) == 0);
	/* unique meters take the record's value */
	CHECK(input(&editors, FW_MSG_TRACK, "$usage", "{\"meter\":\"editors\",\"value\":\"u9\"}", &num, key) == 1);
	CHECK_EQ_STR(key, "\"u9\"");
	CHECK(input(&editors, FW_MSG_TRACK, "$usage", "{\"meter\":\"editors\",\"value\":7}", &num, key) == 1);
	CHECK_EQ_STR(key, "7");
	CHECK(input(&editors, FW_MSG_TRACK, "$usage", "{\"meter\":\"editors\",\"editor\":\"u9\"}", &num, key) == 0);
	CHECK(input(&editors, FW_MSG_TRACK, "$usage", "{\"meter\":\"editors\",\"value\":null}", &num, key) == 0);
	/* a $usage call that is not an event (never written, but never counted) */
	CHECK(input(&calls, FW_MSG_IDENTIFY, "$usage", "{\"meter\":\"api_calls\",\"quantity\":5}", &num, key) == 0);
	/* a `$usage` sent with a write key (any SDK source) counts nothing, nor a
	 * negative quantity */
	struct rec r = {0};
	rec(&r, FW_MSG_TRACK, "$usage", "{\"meter\":\"spend\",\"quantity\":5}");
	r.e.source = FW_SRC_SEGMENT;
	struct fw_str k;
	CHECK(fw_meter_input(&spend, &r.e, r.props, &num, &k) == 0);
	fw_arena_release(&r.a);
	CHECK(input(&spend, FW_MSG_TRACK, "$usage", "{\"meter\":\"spend\",\"quantity\":-5}", &num,
		    key) == 0);
}

TEST(meter_config_lookup)
{
	struct fw_config c;
	memset(&c, 0, sizeof c);
	c.meters[0].name = L("api_calls");
	c.meters[1].name = L("api");
	c.nmeters = 2;
	c.plans[0].name = L("free");
	c.plans[1].name = L("team");
	c.nplans = 2;
	CHECK(fw_config_meter(&c, "api", 3) == &c.meters[1]);
	CHECK(fw_config_meter(&c, "api_calls", 9) == &c.meters[0]);
	CHECK(fw_config_meter(&c, "api_call", 8) == NULL);
	CHECK(fw_config_plan(&c, "team", 4) == &c.plans[1]);
	CHECK(fw_config_plan(&c, "teams", 5) == NULL);
	CHECK(fw_config_plan(&c, "te", 2) == NULL);
}
