/*
 * report.c — `flywheel report`: the PLG metrics (GET /api/v1/metrics) as one
 * table per group — acquisition, activation, engagement, monetization,
 * virality — with columns Metric | Current | Target | Trend.
 *
 * Values are formatted for people (percentages for rates, durations, money);
 * the trend compares with the period of equal length just before, in
 * percentage points for rates and in percent otherwise. On a terminal the
 * current value is green when it meets its target and red when it does not,
 * and the trend (▲/▼/=) green when it moves the good way and red when it
 * moves away; piped, the same table is plain ASCII without escape codes.
 * --json prints the API's answer unchanged, so scripts get the same numbers.
 *
 * Which way is good: higher for every metric except the times (TTFV, time to
 * convert) and the MRR lost (contraction, churn).
 */
#include "flywheel/api.h"
#include "flywheel/cmd.h"
#include "flywheel/json.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char HELP[] =
	"usage: flywheel report [--data DIR | --url URL --key SECRET] [--from DAY --to DAY]\n"
	"                       [--json] [--color auto|always|never] [--config FILE]\n\n"
	"The PLG metrics in the terminal, one table per group (acquisition, activation,\n"
	"engagement, monetization, virality): the current value over [from, to), its\n"
	"target (flywheel.yaml) and the trend against the period of equal length before.\n"
	"On a terminal: green at or better than target and for a trend the good way, red\n"
	"otherwise. Default range: the 30 days up to and including today (UTC).\n\n"
	"  --from DAY --to DAY  half-open UTC range [from, to), days as YYYY-MM-DD; with one\n"
	"                       of them the range is 30 days\n"
	"  --json               the same numbers as JSON (GET /api/v1/metrics)\n"
	"  --color WHEN         auto (default: on a terminal, unless NO_COLOR is set),\n"
	"                       always or never\n"
	"  --data DIR           read a data directory (the server must not be running on it)\n"
	"  --url URL --key KEY  ask a running server (or $FLYWHEEL_URL, $FLYWHEEL_SECRET_KEY)\n"
	"  --config FILE        definitions and targets (with --data); see docs/config.md\n"
	"Definitions: docs/metrics.md.\n";

enum fmt {
	F_COUNT,    /* 2,849 */
	F_RATE,     /* 42.9% ; trend in points */
	F_PERCENT,  /* NRR, GRR: 104.4% ; trend in points */
	F_SECONDS,  /* a duration in seconds */
	F_DAYS,     /* a duration in days */
	F_MONEY,    /* $6,025 */
	F_NUMBER,   /* 0.31 */
};

struct row {
	const char *key, *label;
	enum fmt fmt;
	int lower_better;
};

struct group {
	const char *title;
	struct row rows[10];
};

/* Every metric of docs/metrics.md, grouped; feature_adoption gives a row per
 * core feature. Metrics the server adds later land in a last "other" group. */
static const struct group groups[] = {
	{"Acquisition",
	 {{"signups", "Sign-ups", F_COUNT, 0},
	  {"signups_organic", "Organic sign-ups", F_COUNT, 0},
	  {"signups_paid", "Paid sign-ups", F_COUNT, 0}}},
	{"Activation",
	 {{"activation_rate_1d", "Activated within 1 day", F_RATE, 0},
	  {"activation_rate_7d", "Activated within 7 days", F_RATE, 0},
	  {"ttfv_median_seconds", "Time to first value, median", F_SECONDS, 1},
	  {"ttfv_p90_seconds", "Time to first value, p90", F_SECONDS, 1},
	  {"onboarding_completion", "Onboarding completed", F_RATE, 0}}},
	{"Engagement",
	 {{"retention_d1", "Day-1 retention", F_RATE, 0},
	  {"retention_d7", "Day-7 retention", F_RATE, 0},
	  {"retention_w1", "Week-1 retention", F_RATE, 0},
	  {"dau_mau", "DAU/MAU", F_RATE, 0},
	  {"wau", "Weekly active (WAU)", F_COUNT, 0},
	  {"mau", "Monthly active (MAU)", F_COUNT, 0},
	  {"active_days_per_week", "Active days per week", F_NUMBER, 0},
	  {"feature_breadth", "Core features per person", F_NUMBER, 0},
	  {"feature_adoption", "Adoption", F_RATE, 0}}},
	{"Monetization",
	 {{"free_to_paid_rate", "Free-to-paid", F_RATE, 0},
	  {"time_to_convert_median_days", "Time to convert, median", F_DAYS, 1},
	  {"acv", "ACV", F_MONEY, 0},
	  {"nrr", "Net revenue retention", F_PERCENT, 0},
	  {"grr", "Gross revenue retention", F_PERCENT, 0},
	  {"expansion_mrr", "Expansion MRR", F_MONEY, 0},
	  {"contraction_mrr", "Contraction MRR", F_MONEY, 1},
	  {"churned_mrr", "Churned MRR", F_MONEY, 1}}},
	{"Virality",
	 {{"k_factor", "K-factor", F_NUMBER, 0}}},
};

/* ---- fetching ---- */


/* ---- formatting ---- */

struct style {
	int color, unicode;
};

#define GREEN "\033[32m"
#define RED "\033[31m"
#define DIM "\033[2m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

/* A whole number with thousands separators, after `prefix`: "$12,340". */
static void grouped(char *out, size_t n, double v, const char *prefix)
{
	char digits[48];
	snprintf(digits, sizeof digits, "%.0f", fabs(v));
	if (!strcmp(digits, "0"))
		v = 0; /* no "-0" */
	size_t len = strlen(digits), o = 0;
	if (v < 0 && o + 1 < n)
		out[o++] = '-';
	for (; *prefix && o + 1 < n; prefix++)
		out[o++] = *prefix;
	for (size_t i = 0; i < len && o + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = 0;
}

static void duration(char *out, size_t n, double s)
{
	if (s < 60)
		snprintf(out, n, "%.0f s", s);
	else if (s < 3600)
		snprintf(out, n, "%.0f min", s / 60);
	else if (s < 86400) {
		long m = lround(s / 60);
		snprintf(out, n, "%ld h %02ld min", m / 60, m % 60);
	} else
		snprintf(out, n, "%.1f days", s / 86400);
}

static void value_text(char *out, size_t n, enum fmt f, double v)
{
	switch (f) {
	case F_COUNT: grouped(out, n, v, ""); break;
	case F_RATE:
	case F_PERCENT: snprintf(out, n, "%.1f%%", v * 100); break;
	case F_SECONDS: duration(out, n, v); break;
	case F_DAYS: duration(out, n, v * 86400); break;
	case F_MONEY: grouped(out, n, v, "$"); break;
	case F_NUMBER: snprintf(out, n, "%.2f", v); break;
	}
}

/* Display width of UTF-8 text without escape sequences. */
static int width(const char *s)
{
	int w = 0;
	for (; *s; s++) {
		if (*s == '\033') {
			while (*s && *s != 'm')
				s++;
			if (!*s)
				break;
			continue;
		}
		w += ((unsigned char)*s & 0xc0) != 0x80;
	}
	return w;
}

static void cell(const char *text, int w, int right)
{
	int pad = w - width(text);
	if (pad < 0)
		pad = 0;
	if (right)
		printf("%*s%s", pad, "", text);
	else
		printf("%s%*s", text, pad, "");
}

static void paint(char *out, size_t n, const struct style *st, const char *color, const char *text)
{
	if (st->color && color)
		snprintf(out, n, "%s%s%s", color, text, RESET);
	else
		snprintf(out, n, "%s", text);
}

static int number(const struct fw_json *v, double *out)
{
	if (!v || v->type != FW_JSON_NUMBER)
		return 0;
	*out = v->is_int ? (double)v->i : v->u.num;
	return 1;
}

/* One table row: label, value, target, trend. */
static void print_row(const struct style *st, const char *label, enum fmt f, int lower_better,
		      const struct fw_json *value, const struct fw_json *previous,
		      const struct fw_json *target)
{
	char vt[64] = "n/a", tt[64], tr[96], buf[160];
	double v = 0, p = 0, t = 0;
	int hv = number(value, &v), hp = number(previous, &p), ht = number(target, &t);
	if (hv)
		value_text(vt, sizeof vt, f, v);
	if (ht)
		value_text(tt, sizeof tt, f, t);
	else
		snprintf(tt, sizeof tt, "%s", st->unicode ? "—" : "-");
	/* the current value against its target */
	const char *vc = NULL;
	if (hv && ht)
		vc = (lower_better ? v <= t : v >= t) ? GREEN : RED;
	else if (!hv)
		vc = DIM;
	/* the trend */
	const char *tc = NULL;
	if (!hv || !hp) {
		snprintf(tr, sizeof tr, "n/a");
		tc = DIM;
	} else {
		double d;
		char change[48];
		int points = f == F_RATE || f == F_PERCENT;
		if (points) {
			d = round((v - p) * 1000) / 10; /* points, to one decimal */
			snprintf(change, sizeof change, "%+.1f pts", d);
		} else if (p != 0) {
			d = round((v - p) / fabs(p) * 1000) / 10;
			snprintf(change, sizeof change, "%+.1f%%", d);
		} else {
			d = v;
			snprintf(change, sizeof change, "%s", v ? "from 0" : "0.0%");
		}
		if (d == 0)
			snprintf(change, sizeof change, points ? "0.0 pts" : "0.0%%");
		const char *arrow = d > 0 ? (st->unicode ? "▲" : "^") : d < 0 ? (st->unicode ? "▼" : "v") : "=";
		snprintf(tr, sizeof tr, "%s %s", arrow, change);
		if (d != 0)
			tc = (d > 0) != lower_better ? GREEN : RED;
	}
	printf("  ");
	cell(label, 34, 0);
	paint(buf, sizeof buf, st, vc, vt);
	cell(buf, 14, 1);
	paint(buf, sizeof buf, st, ht ? NULL : DIM, tt);
	cell(buf, 14, 1);
	printf("   ");
	paint(buf, sizeof buf, st, tc, tr);
	printf("%s\n", buf);
}

static void print_header(const struct style *st, const char *title)
{
	char up[64];
	size_t i = 0;
	for (; title[i] && i + 1 < sizeof up; i++)
		up[i] = (char)(title[i] >= 'a' && title[i] <= 'z' ? title[i] - 32 : title[i]);
	up[i] = 0;
	printf("\n%s%s%s\n", st->color ? BOLD : "", up, st->color ? RESET : "");
	printf("%s  ", st->color ? DIM : "");
	cell("Metric", 34, 0);
	cell("Current", 14, 1);
	cell("Target", 14, 1);
	printf("   Trend%s\n", st->color ? RESET : "");
}

static void print_metric(const struct style *st, const struct row *r, const struct fw_json *m)
{
	const struct fw_json *target = fw_json_get(m, "target");
	if (!strcmp(r->key, "feature_adoption")) {
		const struct fw_json *val = fw_json_get(m, "value"), *prev = fw_json_get(m, "previous");
		if (!val || val->type != FW_JSON_OBJECT || !val->len) {
			print_row(st, "Adoption of core features", r->fmt, 0, NULL, NULL, target);
			return;
		}
		for (const struct fw_json *c = val->u.child; c; c = c->next) {
			char label[96], key[80];
			snprintf(key, sizeof key, "%.*s", (int)c->key.len, c->key.p);
			snprintf(label, sizeof label, "Adoption: %s", key);
			print_row(st, label, r->fmt, 0, c,
				  prev && prev->type == FW_JSON_OBJECT ? fw_json_get(prev, key) : NULL,
				  target);
		}
		return;
	}
	print_row(st, r->label, r->fmt, r->lower_better, fw_json_get(m, "value"),
		  fw_json_get(m, "previous"), target);
}

static int known_metric(struct fw_str key)
{
	for (size_t g = 0; g < FW_ARRAY_LEN(groups); g++)
		for (size_t i = 0; i < FW_ARRAY_LEN(groups[g].rows) && groups[g].rows[i].key; i++)
			if (fw_str_eq(key, groups[g].rows[i].key))
				return 1;
	return 0;
}

static void day_before(const char *day, char out[16])
{
	int64_t ms;
	if (fw_time_parse_iso(day, strlen(day), &ms))
		snprintf(out, 16, "?");
	else
		fw_time_format_day(ms - FW_MS_PER_DAY, out);
}

static int render(const struct style *st, const char *source, struct fw_json *root)
{
	const struct fw_json *ms = fw_json_get_obj(root, "metrics");
	struct fw_str from = fw_json_get_str(root, "from"), to = fw_json_get_str(root, "to");
	if (!ms || !from.len || !to.len)
		return -1;
	char f[16], t[16], last[16], pf[16], pl[16];
	snprintf(f, sizeof f, "%.*s", (int)from.len, from.p);
	snprintf(t, sizeof t, "%.*s", (int)to.len, to.p);
	day_before(t, last);
	day_before(f, pl);
	int64_t a, b;
	long days = 0;
	if (!fw_time_parse_iso(f, strlen(f), &a) && !fw_time_parse_iso(t, strlen(t), &b)) {
		days = (long)((b - a) / FW_MS_PER_DAY);
		fw_time_format_day(a - (b - a), pf);
	} else {
		snprintf(pf, sizeof pf, "?");
	}
	const char *dash = st->unicode ? "–" : "-";
	printf("%sFlywheel report%s  %s %s %s (%ld days)  %s\n", st->color ? BOLD : "",
	       st->color ? RESET : "", f, dash, last, days, source);
	printf("%sTrend: against %s %s %s. Rates change in percentage points (pts), the rest in "
	       "percent.%s\n", st->color ? DIM : "", pf, dash, pl, st->color ? RESET : "");
	for (size_t g = 0; g < FW_ARRAY_LEN(groups); g++) {
		print_header(st, groups[g].title);
		for (size_t i = 0; i < FW_ARRAY_LEN(groups[g].rows) && groups[g].rows[i].key; i++) {
			const struct row *r = &groups[g].rows[i];
			const struct fw_json *m = fw_json_get(ms, r->key);
			if (m)
				print_metric(st, r, m);
		}
	}
	int other = 0;
	for (const struct fw_json *c = ms->u.child; c; c = c->next) {
		if (known_metric(c->key))
			continue;
		if (!other++)
			print_header(st, "Other");
		char label[80];
		snprintf(label, sizeof label, "%.*s", (int)c->key.len, c->key.p);
		print_row(st, label, F_NUMBER, 0, fw_json_get(c, "value"), fw_json_get(c, "previous"),
			  fw_json_get(c, "target"));
	}
	return 0;
}

/* ---- the command ---- */

static int parse_day(const char *s, int64_t *ms)
{
	return fw_time_parse_iso(s, strlen(s), ms) || *ms != fw_day_floor(*ms) ? -1 : 0;
}

int fw_cmd_report(int argc, char **argv)
{
	if (fw_cmd_wants_help(argc, argv)) {
		fputs(HELP, stdout);
		return 0;
	}
	const char *data = NULL, *url = getenv("FLYWHEEL_URL"), *key = getenv("FLYWHEEL_SECRET_KEY");
	const char *from = NULL, *to = NULL, *config = NULL, *color = "auto", *v;
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (fw_cmd_opt(argc, argv, &i, "--data", &v))
			data = v;
		else if (fw_cmd_opt(argc, argv, &i, "--url", &v))
			url = v;
		else if (fw_cmd_opt(argc, argv, &i, "--key", &v))
			key = v;
		else if (fw_cmd_opt(argc, argv, &i, "--from", &v))
			from = v;
		else if (fw_cmd_opt(argc, argv, &i, "--to", &v))
			to = v;
		else if (fw_cmd_opt(argc, argv, &i, "--config", &v))
			config = v;
		else if (fw_cmd_opt(argc, argv, &i, "--color", &v))
			color = v;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else {
			fprintf(stderr, "flywheel report: unknown option \"%s\"\n\n%s", argv[i], HELP);
			return 2;
		}
	}
	if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never")) {
		fprintf(stderr, "flywheel report: --color wants auto, always or never\n");
		return 2;
	}
	/* the range: as given, 30 days from one end, or the server's default */
	int64_t f = 0, t = 0;
	if ((from && parse_day(from, &f)) || (to && parse_day(to, &t))) {
		fprintf(stderr, "flywheel report: --from and --to are days, YYYY-MM-DD\n");
		return 2;
	}
	if (from && !to)
		t = fw_day_floor(fw_now_ms()) + FW_MS_PER_DAY;
	if (to && !from)
		f = t - 30 * FW_MS_PER_DAY;
	if ((from || to) && t <= f) {
		fprintf(stderr, "flywheel report: the range is empty: --to must be after --from\n");
		return 2;
	}
	char fday[16] = "", tday[16] = "";
	if (from || to) {
		fw_time_format_day(f, fday);
		fw_time_format_day(t, tday);
	}

	struct fw_buf out = {0};
	struct fw_err err = {0};
	char source[4200];
	int rc;
	if (url && !data) {
		char path[128];
		if (fday[0])
			snprintf(path, sizeof path, "/api/v1/metrics?from=%s&to=%s", fday, tday);
		else
			snprintf(path, sizeof path, "/api/v1/metrics");
		int status = 0;
		rc = fw_cmd_http(url, key, path, NULL, &out, &status, &err);
		if (!rc && status != 200) {
			fprintf(stderr, "flywheel report: %s answered %d: %s\n", url, status,
				out.data ? out.data : "");
			fw_buf_release(&out);
			return 1;
		}
		snprintf(source, sizeof source, "%s", url);
	} else {
		struct fw_server *srv;
		rc = fw_cmd_open_data(data, config, &srv, &err);
		if (!rc) {
			rc = fw_api_metrics(srv, f, t, &out, &err);
			fw_server_close(srv);
		}
		snprintf(source, sizeof source, "%s", data ? data : fw_cmd_default_data());
	}
	if (rc) {
		fprintf(stderr, "flywheel report: %s\n", err.msg);
		fw_buf_release(&out);
		return 1;
	}
	if (json) {
		printf("%s\n", out.data);
		fw_buf_release(&out);
		return 0;
	}
	const char *no_color = getenv("NO_COLOR");
	int tty = isatty(1);
	struct style st = {
		.color = !strcmp(color, "always") ||
			 (!strcmp(color, "auto") && tty && !(no_color && *no_color)),
		.unicode = tty || !strcmp(color, "always"),
	};
	struct fw_arena a = {0};
	struct fw_json *root;
	struct fw_json_error je;
	rc = fw_json_parse(&a, out.data ? out.data : "", out.len, &root, &je) || render(&st, source, root);
	if (rc)
		fprintf(stderr, "flywheel report: unexpected answer: %.200s\n", out.data ? out.data : "");
	fw_arena_release(&a);
	fw_buf_release(&out);
	return rc ? 1 : 0;
}
