/*
 * config.c — flywheel.yaml (see config.h). One table, `options` below, is the
 * parser, the defaults and the documentation at once: fw_config_defaults fills
 * a config from it, the loader looks every key up in it, and
 * fw_config_write_docs prints it as the reference table of docs/config.md
 * (`flywheel check --print-docs`).
 *
 * The file is read whole (at most 1 MiB) and parsed with libyaml's document
 * API, which gives every node its line and column. Keys nest one level
 * (`activation:` then `event:` under it); the table names them by dotted path
 * ("activation.event"). Every problem is collected, not just the first, each
 * with the line and column a person should look at; only a syntax error stops
 * the reading, because libyaml cannot go on after one.
 *
 * Ownership: fw_config_defaults, fw_config_load and fw_config_resolve each
 * initialise the whole struct (they do not expect one already filled, and do
 * not free one). On success the caller owns the strings and frees them with
 * fw_config_release. On any failure the struct holds nothing (all zero), so
 * fw_config_release is harmless but not needed.
 */
#include "flywheel/config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define MAX_FILE_BYTES (1u << 20)

const char *const fw_metric_names[FW_M_COUNT] = {
	[FW_M_SIGNUPS] = "signups",
	[FW_M_ACTIVATION_RATE_1D] = "activation_rate_1d",
	[FW_M_ACTIVATION_RATE_7D] = "activation_rate_7d",
	[FW_M_TTFV_MEDIAN_SECONDS] = "ttfv_median_seconds",
	[FW_M_TTFV_P90_SECONDS] = "ttfv_p90_seconds",
	[FW_M_RETENTION_D1] = "retention_d1",
	[FW_M_RETENTION_D7] = "retention_d7",
	[FW_M_RETENTION_W1] = "retention_w1",
	[FW_M_DAU_MAU] = "dau_mau",
	[FW_M_WAU] = "wau",
	[FW_M_MAU] = "mau",
	[FW_M_FREE_TO_PAID_RATE] = "free_to_paid_rate",
	[FW_M_TIME_TO_CONVERT_MEDIAN_DAYS] = "time_to_convert_median_days",
	[FW_M_ACV] = "acv",
	[FW_M_NRR] = "nrr",
	[FW_M_EXPANSION_MRR] = "expansion_mrr",
	[FW_M_K_FACTOR] = "k_factor",
	[FW_M_SIGNUPS_ORGANIC] = "signups_organic",
	[FW_M_SIGNUPS_PAID] = "signups_paid",
	[FW_M_ONBOARDING_COMPLETION] = "onboarding_completion",
	[FW_M_FEATURE_ADOPTION] = "feature_adoption",
	[FW_M_FEATURE_BREADTH] = "feature_breadth",
	[FW_M_ACTIVE_DAYS_PER_WEEK] = "active_days_per_week",
	[FW_M_GRR] = "grr",
	[FW_M_CONTRACTION_MRR] = "contraction_mrr",
	[FW_M_CHURNED_MRR] = "churned_mrr",
};

/* What a target of each metric is: rates are fractions in [0, 1]; NRR is a
 * ratio that may exceed 1; everything else is a non-negative amount. */
static const struct {
	int is_rate;
	const char *doc;
} metric_info[FW_M_COUNT] = {
	[FW_M_SIGNUPS] = {0, "sign-ups in the period"},
	[FW_M_ACTIVATION_RATE_1D] = {1, "rate, 0..1"},
	[FW_M_ACTIVATION_RATE_7D] = {1, "rate, 0..1"},
	[FW_M_TTFV_MEDIAN_SECONDS] = {0, "seconds"},
	[FW_M_TTFV_P90_SECONDS] = {0, "seconds"},
	[FW_M_RETENTION_D1] = {1, "rate, 0..1"},
	[FW_M_RETENTION_D7] = {1, "rate, 0..1"},
	[FW_M_RETENTION_W1] = {1, "rate, 0..1"},
	[FW_M_DAU_MAU] = {1, "rate, 0..1"},
	[FW_M_WAU] = {0, "people"},
	[FW_M_MAU] = {0, "people"},
	[FW_M_FREE_TO_PAID_RATE] = {1, "rate, 0..1"},
	[FW_M_TIME_TO_CONVERT_MEDIAN_DAYS] = {0, "days"},
	[FW_M_ACV] = {0, "currency units per year"},
	[FW_M_NRR] = {0, "ratio, 1 = no net change; may exceed 1"},
	[FW_M_EXPANSION_MRR] = {0, "currency units per month"},
	[FW_M_K_FACTOR] = {0, "invited sign-ups per sign-up"},
	[FW_M_SIGNUPS_ORGANIC] = {0, "organic sign-ups in the period"},
	[FW_M_SIGNUPS_PAID] = {0, "paid-channel sign-ups in the period"},
	[FW_M_ONBOARDING_COMPLETION] = {1, "rate, 0..1"},
	[FW_M_FEATURE_ADOPTION] = {1, "rate, 0..1, shown beside every core feature's adoption"},
	[FW_M_FEATURE_BREADTH] = {0, "core features per active person"},
	[FW_M_ACTIVE_DAYS_PER_WEEK] = {0, "days, 0..7"},
	[FW_M_GRR] = {1, "rate, 0..1 (GRR never exceeds 1)"},
	[FW_M_CONTRACTION_MRR] = {0, "currency units per month"},
	[FW_M_CHURNED_MRR] = {0, "currency units per month"},
};

enum opt_type { OPT_STRING, OPT_INT, OPT_LIST, OPT_TARGETS };

struct option {
	const char *path;             /* dotted YAML path, at most one level deep */
	enum opt_type type;
	size_t off;                   /* offset of the field in struct fw_config */
	const char *def;              /* OPT_STRING default */
	int def_int, min, max;        /* OPT_INT default and range */
	const char *const *def_list;  /* OPT_LIST default, NULL-terminated; NULL = empty */
	const char *what;             /* one value, for messages: "an event name" */
	const char *(*check)(const char *v); /* more rules for a string: NULL or why not */
	const char *doc;
};

static const char *check_listen(const char *v);
static const char *check_key(const char *v);

#define OFF(f) offsetof(struct fw_config, f)
#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct option options[] = {
	{"keys.write", OPT_LIST, OFF(write_keys), .what = "a key", .check = check_key,
	 .doc = "write keys the SDKs send (public: they can only write). "
		"FLYWHEEL_WRITE_KEY overrides; with neither, `serve` creates a pair on first start"},
	{"keys.secret", OPT_LIST, OFF(secret_keys), .what = "a key", .check = check_key,
	 .doc = "secret keys for the read, query and admin APIs (`Authorization: Bearer KEY`). "
		"FLYWHEEL_SECRET_KEY overrides"},
	{"server.listen", OPT_STRING, OFF(listen), "127.0.0.1:8080", .what = "an address",
	 .check = check_listen,
	 .doc = "where `flywheel serve` listens, HOST:PORT (port 0 = any free port); "
		"`--listen` overrides"},
	{"server.timeout_seconds", OPT_INT, OFF(timeout_s), .def_int = 30, .min = 1, .max = 3600,
	 .doc = "drop a connection idle this long while it sends a request; `--timeout` overrides"},
	{"server.min_free_mb", OPT_INT, OFF(min_free_mb), .def_int = 64, .min = 0, .max = INT_MAX,
	 .doc = "answer 503 instead of writing when the disk has less free space than this; "
		"`--min-free-mb` overrides"},
	{"signup.event", OPT_STRING, OFF(signup_event), "Signed Up", .what = "an event name",
	 .doc = "the sign-up event; a person without one signs up at their first identify "
		"carrying `created_at`"},
	{"signup.channel_properties", OPT_LIST, OFF(channel_properties),
	 .def_list = LIST("channel", "utm_source"), .what = "a property name",
	 .doc = "properties read, in order, for a sign-up's acquisition channel: the first one "
		"the sign-up event carries as a non-empty string (for a sign-up by identify, that "
		"identify's traits)"},
	{"signup.paid_channels", OPT_LIST, OFF(paid_channels),
	 .def_list = LIST("paid", "cpc", "ppc", "ads", "google_ads", "facebook_ads", "linkedin_ads"),
	 .what = "a channel",
	 .doc = "channel values counted as paid acquisition (`signups_paid`), compared ignoring "
		"ASCII case; every other value, and no channel, is organic (`signups_organic`)"},
	{"activation.event", OPT_STRING, OFF(activation_event), "Project Created",
	 .what = "an event name",
	 .doc = "the activation event: a person activates with their first one at or after "
		"sign-up"},
	{"activation.min_count", OPT_INT, OFF(activation_min_count), .def_int = 1, .min = 1,
	 .max = 1000000,
	 .doc = "how many activation events make an activation (it happens at the last of them)"},
	{"inactive_events", OPT_LIST, OFF(inactive_events),
	 .def_list = LIST("$feature_flag_called", "$identify", "$groupidentify", "$create_alias",
			  "$set", "$opt_in", "$exception"),
	 .what = "an event name",
	 .doc = "events that do not make a person active; every other event does"},
	{"core_features", OPT_LIST, OFF(core_features), .what = "an event name",
	 .doc = "events that count as using a core feature, for `feature_adoption` and "
		"`feature_breadth` (empty: both are null)"},
	{"onboarding_steps", OPT_LIST, OFF(onboarding_steps), .what = "an event name",
	 .doc = "the onboarding flow's events; a person who does every one (in any order) at or "
		"after signing up completes onboarding (`onboarding_completion`; empty: null)"},
	{"revenue.plan_event", OPT_STRING, OFF(plan_event), "Plan Changed", .what = "an event name",
	 .doc = "the event that records an account's plan change"},
	{"revenue.plan_property", OPT_STRING, OFF(plan_property), "plan", .what = "a property name",
	 .doc = "property of the plan change (or account trait) naming the plan"},
	{"revenue.mrr_property", OPT_STRING, OFF(mrr_property), "mrr", .what = "a property name",
	 .doc = "property of the plan change (or account trait) with the monthly recurring "
		"revenue; paid means mrr > 0"},
	{"revenue.conversion_window_days", OPT_INT, OFF(conversion_window_days), .def_int = 90,
	 .min = 1, .max = 3650,
	 .doc = "free-to-paid counts accounts that reach a paid plan within this many days of "
		"creation"},
	{"invites.sent_event", OPT_STRING, OFF(invite_sent_event), "Invite Sent",
	 .what = "an event name", .doc = "the event the inviter sends"},
	{"invites.accepted_event", OPT_STRING, OFF(invite_accepted_event), "Invite Accepted",
	 .what = "an event name", .doc = "the event the invitee sends on accepting"},
	{"invites.inviter_property", OPT_STRING, OFF(inviter_property), "inviter_id",
	 .what = "a property name", .doc = "property of the acceptance naming the inviter"},
	{"invites.k_factor_window_days", OPT_INT, OFF(k_factor_window_days), .def_int = 30,
	 .min = 1, .max = 3650,
	 .doc = "k-factor counts invitees who sign up within this many days of the inviter's "
		"sign-up"},
	{"targets", OPT_TARGETS, OFF(targets),
	 .doc = "a goal per metric (`targets: {activation_rate_7d: 0.4}`), reported beside its "
		"value; rates are fractions 0..1"},
};

static const char *check_listen(const char *v)
{
	const char *colon = strrchr(v, ':');
	if (!colon || colon == v || !colon[1] || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) > 65535)
		return "must be HOST:PORT, like 127.0.0.1:8080";
	return NULL;
}

static const char *check_key(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == ':' || *p == ',' || *p == 0x7f)
			return "must not contain spaces, control characters, ':' or ','";
	return NULL;
}

/* ---- defaults and release ---- */

static void *field(struct fw_config *c, const struct option *o)
{
	return (char *)c + o->off;
}

static void list_clear(struct fw_config_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	l->n = 0;
}

void fw_config_defaults(struct fw_config *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < FW_ARRAY_LEN(options); i++) {
		const struct option *o = &options[i];
		switch (o->type) {
		case OPT_STRING:
			*(char **)field(c, o) = fw_xstrdup(o->def);
			break;
		case OPT_INT:
			*(int *)field(c, o) = o->def_int;
			break;
		case OPT_LIST: {
			struct fw_config_list *l = field(c, o);
			for (const char *const *d = o->def_list; d && *d; d++)
				l->items[l->n++] = fw_xstrdup(*d);
			break;
		}
		case OPT_TARGETS:
			for (int m = 0; m < FW_M_COUNT; m++)
				c->targets[m] = NAN;
			break;
		}
	}
}

void fw_config_release(struct fw_config *c)
{
	for (size_t i = 0; i < FW_ARRAY_LEN(options); i++) {
		const struct option *o = &options[i];
		if (o->type == OPT_STRING)
			free(*(char **)field(c, o));
		else if (o->type == OPT_LIST)
			list_clear(field(c, o));
	}
	free(c->source);
	memset(c, 0, sizeof *c);
}

int fw_config_is_active(const struct fw_config *c, const char *name, size_t n)
{
	for (size_t i = 0; i < c->inactive_events.n; i++) {
		const char *s = c->inactive_events.items[i];
		if (strlen(s) == n && memcmp(s, name, n) == 0)
			return 0;
	}
	return 1;
}

/* ---- the reader ---- */

struct reader {
	struct fw_config *c;
	yaml_document_t *doc;
	const char *text; /* the whole file */
	size_t len;
	struct fw_config_error *errs;
	size_t max, n, total;
};

/* Record a problem at a 0-based libyaml mark. A message too long for
 * struct fw_config_error ends in "...". */
__attribute__((format(printf, 4, 5))) static void fail(struct reader *r, size_t line, size_t col,
							const char *fmt, ...)
{
	r->total++;
	if (r->n >= r->max || !r->errs)
		return;
	struct fw_config_error *e = &r->errs[r->n++];
	e->line = (int)line + 1;
	e->column = (int)col + 1;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	if (w >= (int)sizeof e->msg)
		memcpy(e->msg + sizeof e->msg - 4, "...", 4);
}

#define FAIL_AT(r, node, ...) fail(r, (node)->start_mark.line, (node)->start_mark.column, __VA_ARGS__)

static yaml_node_t *node_at(struct reader *r, int index)
{
	return yaml_document_get_node(r->doc, index);
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A plain `~`, `null` or nothing at all: YAML's null. */
static int is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	const char *s = scalar(n);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

/* How a node looks, for "got ..." in messages: a value is quoted and cut to
 * 40 bytes, with control characters shown as '?'. */
struct shown {
	char s[64];
};

static struct shown show(const yaml_node_t *n)
{
	struct shown out;
	if (n->type == YAML_MAPPING_NODE)
		return (struct shown){"a mapping"};
	if (n->type == YAML_SEQUENCE_NODE)
		return (struct shown){"a list"};
	if (is_null(n))
		return (struct shown){"nothing"};
	const char *s = scalar(n);
	size_t len = n->data.scalar.length, k = 0;
	out.s[k++] = '"';
	for (size_t i = 0; i < len && i < 40; i++) {
		unsigned char ch = (unsigned char)s[i];
		out.s[k++] = ch < ' ' || ch == 0x7f ? '?' : (char)ch;
	}
	if (len > 40) {
		memcpy(out.s + k, "...", 3);
		k += 3;
	}
	out.s[k++] = '"';
	out.s[k] = 0;
	return out;
}

/* The text of a scalar that must be a non-empty string; 0 if it is not (and
 * the problem is recorded, naming `name` and what was expected). */
static int string_value(struct reader *r, const yaml_node_t *n, const char *name,
			const struct option *o, const char **out)
{
	if (n->type != YAML_SCALAR_NODE) {
		FAIL_AT(r, n, "%s must be %s, got %s", name, o->what, show(n).s);
		return 0;
	}
	const char *s = scalar(n);
	if (is_null(n) || !*s) {
		if (o->type == OPT_STRING)
			FAIL_AT(r, n, "%s is empty: give %s, or remove the line to keep the default \"%s\"",
				name, o->what, o->def);
		else
			FAIL_AT(r, n, "%s is empty: give %s or remove it", name, o->what);
		return 0;
	}
	if (strlen(s) != n->data.scalar.length) {
		FAIL_AT(r, n, "%s contains a NUL character", name);
		return 0;
	}
	const char *why = o->check ? o->check(s) : NULL;
	if (why) {
		FAIL_AT(r, n, "%s %s, got %s", name, why, show(n).s);
		return 0;
	}
	*out = s;
	return 1;
}

/* Optional sign and decimal digits only: "1.5", "1e3" and "one" are not. */
static int parse_whole(const char *s, long long *out)
{
	const char *p = s + (*s == '+' || *s == '-');
	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 18)
		return 0;
	*out = strtoll(s, NULL, 10);
	return 1;
}

/* A finite decimal number: [+-] digits [. digits] [e [+-] digits]. No hex,
 * no .inf or .nan. */
static int parse_number(const char *s, double *out)
{
	const char *p = s + (*s == '+' || *s == '-');
	size_t ip = strspn(p, "0123456789"), fp = 0;
	p += ip;
	if (*p == '.') {
		fp = strspn(p + 1, "0123456789");
		p += 1 + fp;
	}
	if (!ip && !fp)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p += 1 + (p[1] == '+' || p[1] == '-');
		size_t ep = strspn(p, "0123456789");
		if (!ep)
			return 0;
		p += ep;
	}
	if (*p)
		return 0;
	errno = 0;
	double v = strtod(s, NULL);
	if (errno == ERANGE || !isfinite(v))
		return 0;
	*out = v;
	return 1;
}

static void set_string(struct reader *r, const struct option *o, const yaml_node_t *n)
{
	const char *s;
	if (!string_value(r, n, o->path, o, &s))
		return;
	char **f = field(r->c, o);
	free(*f);
	*f = fw_xstrdup(s);
}

static void set_int(struct reader *r, const struct option *o, const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE) {
		FAIL_AT(r, n, "%s must be a whole number, got %s", o->path, show(n).s);
		return;
	}
	if (is_null(n)) {
		FAIL_AT(r, n, "%s is empty: give a whole number, or remove the line to keep the default %d",
			o->path, o->def_int);
		return;
	}
	long long v;
	if (!parse_whole(scalar(n), &v)) {
		FAIL_AT(r, n, "%s must be a whole number, got %s", o->path, show(n).s);
		return;
	}
	if (v < o->min) {
		FAIL_AT(r, n, "%s must be at least %d, got %lld", o->path, o->min, v);
		return;
	}
	if (v > o->max) {
		FAIL_AT(r, n, "%s must be at most %d, got %lld", o->path, o->max, v);
		return;
	}
	*(int *)field(r->c, o) = (int)v;
}

/* A list is a YAML sequence, a single string, or nothing (an empty list). */
static void set_list(struct reader *r, const struct option *o, const yaml_node_t *n)
{
	struct fw_config_list l = {0};
	size_t before = r->total;
	char name[160];
	if (n->type == YAML_MAPPING_NODE) {
		FAIL_AT(r, n, "%s must be a list (or a single string), got a mapping", o->path);
		return;
	}
	if (n->type == YAML_SCALAR_NODE) {
		const char *s;
		if (!is_null(n) && string_value(r, n, o->path, o, &s))
			l.items[l.n++] = fw_xstrdup(s);
	} else {
		int i = 0;
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++, i++) {
			const yaml_node_t *item = node_at(r, *it);
			snprintf(name, sizeof name, "%s item %d", o->path, i + 1);
			if (l.n == FW_CONFIG_MAX_LIST) {
				FAIL_AT(r, item, "%s holds at most %d items", o->path,
					FW_CONFIG_MAX_LIST);
				break;
			}
			const char *s;
			if (string_value(r, item, name, o, &s))
				l.items[l.n++] = fw_xstrdup(s);
		}
	}
	struct fw_config_list *f = field(r->c, o);
	if (r->total != before) {
		list_clear(&l);
		return;
	}
	list_clear(f);
	*f = l;
}

/* ---- unknown keys: the nearest valid one ---- */

/* Optimal string alignment distance (Levenshtein plus adjacent swaps). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return (size_t)-1 / 2;
	size_t d[64][64];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* The section of an option ("activation" of "activation.event"), or "". */
static size_t section_len(const char *path)
{
	const char *dot = strchr(path, '.');
	return dot ? (size_t)(dot - path) : 0;
}

static const struct option *find_option(const char *path)
{
	for (size_t i = 0; i < FW_ARRAY_LEN(options); i++)
		if (!strcmp(options[i].path, path))
			return &options[i];
	return NULL;
}

static int is_section(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < FW_ARRAY_LEN(options); i++)
		if (section_len(options[i].path) == n && !strncmp(options[i].path, name, n))
			return 1;
	return 0;
}

/* The valid key nearest to `key` written under `prefix` (full = prefix.key),
 * or NULL if none is close: compared as a whole path, and by its last part
 * (a key put in the wrong section, one step further). */
static const char *nearest(const char *full, const char *key, char *buf, size_t cap)
{
	size_t best = (size_t)-1, limit = strlen(key) / 3;
	if (limit < 1)
		limit = 1;
	const char *found = NULL;
	for (size_t i = 0; i < FW_ARRAY_LEN(options); i++) {
		const char *p = options[i].path;
		size_t sl = section_len(p);
		size_t d = distance(full, p);
		if (sl) {
			size_t dl = distance(key, p + sl + 1) + 1;
			if (dl < d)
				d = dl;
			char sec[64];
			snprintf(sec, sizeof sec, "%.*s", (int)sl, p);
			size_t ds = distance(full, sec);
			if (ds < d && ds < best) {
				best = ds;
				snprintf(buf, cap, "%s", sec);
				found = buf;
			}
		}
		if (d < best) {
			best = d;
			snprintf(buf, cap, "%s", p);
			found = buf;
		}
	}
	return best <= limit ? found : NULL;
}

/* "event, min_count" under "activation"; the top level's names under "". */
static void valid_keys(const char *prefix, char *buf, size_t cap)
{
	size_t pl = strlen(prefix), k = 0;
	buf[0] = 0;
	for (size_t i = 0; i < FW_ARRAY_LEN(options); i++) {
		const char *p = options[i].path;
		size_t sl = section_len(p);
		const char *name;
		int nl;
		if (pl) {
			if (sl != pl || strncmp(p, prefix, pl))
				continue;
			name = p + sl + 1;
			nl = (int)strlen(name);
		} else {
			name = p;
			nl = sl ? (int)sl : (int)strlen(p);
			if (i > 0 && sl && section_len(options[i - 1].path) == sl &&
			    !strncmp(options[i - 1].path, p, sl))
				continue; /* section already listed */
		}
		int w = snprintf(buf + k, cap - k, "%s%.*s", k ? ", " : "", nl, name);
		if (w < 0 || (size_t)w >= cap - k)
			return;
		k += (size_t)w;
	}
}

static void unknown_key(struct reader *r, const yaml_node_t *kn, const char *prefix,
			const char *key)
{
	char full[200], near[128], valid[200];
	snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", key);
	if (strchr(key, '.') && (find_option(key) || is_section(key))) {
		const char *dot = strchr(key, '.');
		FAIL_AT(r, kn,
			"write %s nested: `%.*s:` on its own line, then `%s:` indented under it",
			key, (int)(dot - key), key, dot + 1);
		return;
	}
	if (nearest(full, key, near, sizeof near)) {
		FAIL_AT(r, kn, "unknown key %s; did you mean %s?", full, near);
		return;
	}
	valid_keys(prefix, valid, sizeof valid);
	if (*prefix)
		FAIL_AT(r, kn, "unknown key %s; %s takes: %s", full, prefix, valid);
	else
		FAIL_AT(r, kn, "unknown key %s; valid keys: %s", full, valid);
}

/* ---- mappings ---- */

/* The key of a mapping pair as a string, after checking it is a scalar and
 * not a repeat of an earlier key of the same mapping; NULL if not usable. */
static const char *pair_key(struct reader *r, const yaml_node_t *map, const yaml_node_pair_t *pair,
			    const char *prefix)
{
	const yaml_node_t *kn = node_at(r, pair->key);
	if (kn->type != YAML_SCALAR_NODE) {
		FAIL_AT(r, kn, "%s%skeys must be names, got %s", prefix, *prefix ? ": " : "",
			show(kn).s);
		return NULL;
	}
	const char *key = scalar(kn);
	for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
		const yaml_node_t *qk = node_at(r, q->key);
		if (qk->type == YAML_SCALAR_NODE && !strcmp(scalar(qk), key)) {
			FAIL_AT(r, kn, "duplicate key %s%s%s (first set on line %d)", prefix,
				*prefix ? "." : "", key, (int)qk->start_mark.line + 1);
			return NULL;
		}
	}
	return key;
}

static void set_targets(struct reader *r, const yaml_node_t *n)
{
	if (is_null(n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		FAIL_AT(r, n, "targets must be a mapping of metric: number, got %s", show(n).s);
		return;
	}
	for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top;
	     pair++) {
		const char *key = pair_key(r, n, pair, "targets");
		if (!key)
			continue;
		const yaml_node_t *kn = node_at(r, pair->key), *v = node_at(r, pair->value);
		int m = 0;
		while (m < FW_M_COUNT && strcmp(fw_metric_names[m], key))
			m++;
		if (m == FW_M_COUNT) {
			size_t best = (size_t)-1, limit = strlen(key) / 3 > 1 ? strlen(key) / 3 : 1;
			int bm = -1;
			for (int i = 0; i < FW_M_COUNT; i++) {
				size_t d = distance(key, fw_metric_names[i]);
				if (d < best) {
					best = d;
					bm = i;
				}
			}
			if (best <= limit) {
				FAIL_AT(r, kn, "unknown metric targets.%s; did you mean %s?", key,
					fw_metric_names[bm]);
			} else {
				/* Every name, with bare commas to fit the message. */
				char list[440];
				size_t k = 0;
				for (int i = 0; i < FW_M_COUNT; i++)
					k += (size_t)snprintf(list + k, sizeof list - k, "%s%s",
							      i ? "," : "", fw_metric_names[i]);
				FAIL_AT(r, kn, "unknown metric %.12s; valid: %s", key, list);
			}
			continue;
		}
		if (is_null(v))
			continue; /* no target */
		double d;
		if (v->type != YAML_SCALAR_NODE || !parse_number(scalar(v), &d)) {
			FAIL_AT(r, v, "targets.%s must be a number, got %s", key, show(v).s);
			continue;
		}
		if (metric_info[m].is_rate && (d < 0 || d > 1)) {
			FAIL_AT(r, v,
				"targets.%s is a rate: write a fraction between 0 and 1 (40%% is 0.4), "
				"got %s",
				key, scalar(v));
			continue;
		}
		if (d < 0) {
			FAIL_AT(r, v, "targets.%s must not be negative, got %s", key, scalar(v));
			continue;
		}
		r->c->targets[m] = d;
	}
}

static void read_mapping(struct reader *r, const yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const char *key = pair_key(r, map, pair, prefix);
		if (!key)
			continue;
		const yaml_node_t *kn = node_at(r, pair->key), *v = node_at(r, pair->value);
		char full[200];
		snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", key);
		const struct option *o = strchr(key, '.') ? NULL : find_option(full);
		if (o) {
			switch (o->type) {
			case OPT_STRING:
				set_string(r, o, v);
				break;
			case OPT_INT:
				set_int(r, o, v);
				break;
			case OPT_LIST:
				set_list(r, o, v);
				break;
			case OPT_TARGETS:
				set_targets(r, v);
				break;
			}
		} else if (!*prefix && !strchr(key, '.') && is_section(key)) {
			if (v->type == YAML_MAPPING_NODE) {
				read_mapping(r, v, key);
			} else if (!is_null(v)) {
				char valid[200];
				valid_keys(key, valid, sizeof valid);
				FAIL_AT(r, v, "%s must be a mapping with the keys %s; got %s", key,
					valid, show(v).s);
			}
		} else {
			unknown_key(r, kn, prefix, key);
		}
	}
}

/* ---- syntax errors ---- */

/* 0-based line and column of a byte offset, columns in characters. */
static void offset_position(const char *text, size_t len, size_t off, size_t *line, size_t *col)
{
	*line = *col = 0;
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			++*line;
			*col = 0;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			++*col;
		}
	}
}

static int line_indented_with_tab(const char *text, size_t len, size_t line)
{
	size_t i = 0;
	for (size_t l = 0; l < line && i < len; i++)
		if (text[i] == '\n')
			l++;
	for (; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
		if (text[i] == '\t')
			return 1;
	return 0;
}

static void syntax_error(struct reader *r, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "cannot parse the file";
	if (p->error == YAML_READER_ERROR) {
		size_t line, col;
		offset_position(r->text, r->len, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			fail(r, line, col, "not UTF-8 text: %s (byte 0x%02x)", problem,
			     (unsigned)p->problem_value & 0xff);
		else
			fail(r, line, col, "not UTF-8 text: %s", problem);
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		fail(r, 0, 0, "out of memory reading the file");
		return;
	}
	/* A problem noticed on a later line than where it began (an unclosed
	 * quote or bracket, a key without ':') is reported where it began. */
	yaml_mark_t at = p->problem_mark;
	const char *hint = "";
	if (p->context && p->context_mark.line < p->problem_mark.line)
		at = p->context_mark;
	if (strstr(problem, "cannot start any token") &&
	    line_indented_with_tab(r->text, r->len, p->problem_mark.line))
		hint = "; YAML indents with spaces, not tabs";
	else if (strstr(problem, "mapping values are not allowed"))
		hint = "; check the indentation, and quote a value that contains \": \"";
	if (p->context)
		fail(r, at.line, at.column, "invalid YAML: %s %s%s", problem, p->context, hint);
	else
		fail(r, at.line, at.column, "invalid YAML: %s%s", problem, hint);
}

/* ---- loading ---- */

static int read_file(const char *path, char **out, size_t *len, struct fw_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fw_error(err, FW_EIO, "cannot read %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return fw_error(err, FW_EIO, "cannot read %s: it is a directory", path);
	}
	struct fw_buf b = {0};
	char chunk[16384];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= MAX_FILE_BYTES)
		fw_buf_add(&b, chunk, n);
	int bad = ferror(f);
	int saved = errno;
	fclose(f);
	if (bad) {
		fw_buf_release(&b);
		return fw_error(err, FW_EIO, "cannot read %s: %s", path, strerror(saved));
	}
	if (!b.data)
		fw_buf_add(&b, "", 0);
	*out = b.data;
	*len = b.len;
	return 0;
}

static void read_text(struct reader *r)
{
	if (r->len > MAX_FILE_BYTES) {
		fail(r, 0, 0, "the file is larger than 1 MiB; a flywheel.yaml is a few KB: is it the "
			      "right file?");
		return;
	}
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		fail(r, 0, 0, "out of memory reading the file");
		return;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)r->text, r->len);
	yaml_document_t doc;
	if (!yaml_parser_load(&p, &doc)) {
		syntax_error(r, &p);
		yaml_parser_delete(&p);
		return;
	}
	r->doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE)
		read_mapping(r, root, "");
	else if (root && !is_null(root))
		FAIL_AT(r, root,
			"the file must be a mapping of keys (like `activation:`), got %s",
			show(root).s);
	r->doc = NULL;
	yaml_document_delete(&doc);
	/* One document per file: a second one would be ignored silently. */
	if (!yaml_parser_load(&p, &doc)) {
		syntax_error(r, &p);
	} else {
		if (yaml_document_get_root_node(&doc))
			fail(r, doc.start_mark.line, doc.start_mark.column,
			     "a second YAML document: flywheel.yaml holds one (remove the `---`)");
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&p);
}

/* Load with every error counted in *total, whatever `max`. */
static int load(struct fw_config *c, const char *path, struct fw_config_error *errs, size_t max,
		size_t *nerrs, size_t *total, struct fw_err *err)
{
	if (nerrs)
		*nerrs = 0;
	*total = 0;
	memset(c, 0, sizeof *c);
	char *text;
	size_t len;
	int rc = read_file(path, &text, &len, err);
	if (rc)
		return rc;
	fw_config_defaults(c);
	struct reader r = {.c = c, .text = text, .len = len, .errs = errs, .max = max};
	read_text(&r);
	free(text);
	if (nerrs)
		*nerrs = r.n;
	*total = r.total;
	if (r.total) {
		fw_config_release(c);
		if (r.n)
			fw_error(err, FW_EINVAL, "%s:%d:%d: %s", path, errs[0].line, errs[0].column,
				 errs[0].msg);
		else
			fw_error(err, FW_EINVAL, "%s: %zu errors", path, r.total);
		return FW_EINVAL;
	}
	c->source = fw_xstrdup(path);
	return 0;
}

int fw_config_load(struct fw_config *c, const char *path, struct fw_config_error *errs,
		   size_t max, size_t *nerrs, struct fw_err *err)
{
	size_t total;
	return load(c, path, errs, max, nerrs, &total, err);
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 || errno != ENOENT;
}

int fw_config_resolve(struct fw_config *c, const char *explicit_path, const char *data_dir,
		      struct fw_err *err)
{
	char path[4096];
	if (explicit_path) {
		snprintf(path, sizeof path, "%s", explicit_path);
	} else {
		int n = data_dir ? snprintf(path, sizeof path, "%s/flywheel.yaml", data_dir) : -1;
		if (n < 0 || (size_t)n >= sizeof path || !exists(path)) {
			snprintf(path, sizeof path, "flywheel.yaml");
			if (!exists(path)) {
				fw_config_defaults(c);
				return 0;
			}
		}
	}
	struct fw_config_error errs[1];
	size_t nerrs, total;
	int rc = load(c, path, errs, 1, &nerrs, &total, err);
	if (rc == FW_EINVAL && total > 1) {
		size_t l = strlen(err->msg);
		snprintf(err->msg + l, sizeof err->msg - l,
			 " (and %zu more; `flywheel check` lists them all)", total - 1);
	}
	return rc;
}

/* ---- documentation ---- */

/* The reference tables of docs/config.md, in Markdown. */
void fw_config_write_docs(struct fw_buf *out);
void fw_config_write_docs(struct fw_buf *out)
{
	fw_buf_adds(out, "| key | type | default | what it means |\n|---|---|---|---|\n");
	for (size_t i = 0; i < FW_ARRAY_LEN(options); i++) {
		const struct option *o = &options[i];
		switch (o->type) {
		case OPT_STRING:
			fw_buf_printf(out, "| `%s` | string | `%s` | %s |\n", o->path, o->def, o->doc);
			break;
		case OPT_INT:
			if (o->max == INT_MAX)
				fw_buf_printf(out, "| `%s` | whole number ≥ %d | `%d` | %s |\n", o->path,
					      o->min, o->def_int, o->doc);
			else
				fw_buf_printf(out, "| `%s` | whole number, %d to %d | `%d` | %s |\n",
					      o->path, o->min, o->max, o->def_int, o->doc);
			break;
		case OPT_LIST:
			fw_buf_printf(out, "| `%s` | list of strings, or one string | ", o->path);
			fw_buf_adds(out, "`[");
			for (const char *const *d = o->def_list; d && *d; d++)
				fw_buf_printf(out, "%s\"%s\"", d == o->def_list ? "" : ", ", *d);
			fw_buf_adds(out, "]`");
			fw_buf_printf(out, " | %s |\n", o->doc);
			break;
		case OPT_TARGETS:
			fw_buf_printf(out, "| `%s.METRIC` | number | none | %s |\n", o->path, o->doc);
			break;
		}
	}
	fw_buf_printf(out, "\nLists hold at most %d items. Metrics that take a target:\n\n"
			   "| metric | target is |\n|---|---|\n",
		      FW_CONFIG_MAX_LIST);
	for (int m = 0; m < FW_M_COUNT; m++)
		fw_buf_printf(out, "| `%s` | %s |\n", fw_metric_names[m], metric_info[m].doc);
}

const char *const fw_lead_route_names[FW_ROUTE_COUNT] = {"nurture", "upgrade_campaign", "inside_sales",
							 "account_executive"};
const char *const fw_trigger_names[FW_TRIGGER_COUNT] = {"active_people", "enterprise_domain",
							"procurement", "free_domain"};
