/*
 * query.h — analyses on demand: `POST /api/v1/query` and `flywheel query KIND`.
 *
 * A request is one JSON object: {"kind": "funnel", ...kind's fields}. Each
 * kind is a function that reads the request, computes over a dataset
 * snapshot (dataset.h) and appends its answer as one JSON object. A bad
 * request is FW_EINVAL with a message naming the field and what was wrong
 * ("steps[2].event: expected a string"); the API answers it as 400.
 *
 * Shared request fields (parsed by the helpers below, so every kind reads them
 * the same way):
 *   "from", "to"   YYYY-MM-DD or ISO-8601; `to` exclusive. Defaults per kind.
 *   "unit"         "person" (default) or "account"
 *   "where"        filters on event properties (see fw_q_filter)
 *   "people"       {"step"/"cohort"/…: which number, "offset": 0, "limit": 100}
 *                  asks for the people (or accounts) behind a number, paged.
 */
#ifndef FLYWHEEL_QUERY_H
#define FLYWHEEL_QUERY_H

#include "flywheel/config.h"
#include "flywheel/dataset.h"
#include "flywheel/json.h"
#include "flywheel/metrics.h"

struct fw_qctx {
	struct fw_dataset *d;
	const struct fw_config *cfg;
	const struct fw_plg *plg; /* loaded PLG facts (sign-ups, plans, invites) */
	int64_t now_ms;           /* "now" for pending windows and default ranges */
	struct fw_arena *arena;   /* scratch for the request's lifetime */
};

typedef int (*fw_query_fn)(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
			   struct fw_err *err);

struct fw_query_kind {
	const char *name;
	fw_query_fn fn;
	const char *doc; /* one line for --help and docs */
};

extern const struct fw_query_kind fw_query_kinds[];
extern const size_t fw_nquery_kinds;

/* Run a request: find its kind and call it. */
int fw_query_run(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
		 struct fw_err *err);

/* ---- request helpers (src/query/query.c) ---- */

/* "from"/"to": fills [*from, *to) or leaves the defaults given in them. */
int fw_q_range(const struct fw_json *req, int64_t *from, int64_t *to, struct fw_err *err);
/* "unit": FW_UNIT_PERSON unless "account". */
int fw_q_unit(const struct fw_json *req, enum fw_unit *u, struct fw_err *err);
/* Integer field with bounds; absent = dflt. */
int fw_q_int(const struct fw_json *req, const char *key, int64_t dflt, int64_t lo, int64_t hi,
	     int64_t *out, struct fw_err *err);
/* Boolean field; absent = dflt. */
int fw_q_bool(const struct fw_json *req, const char *key, int dflt, int64_t *out,
	      struct fw_err *err);
/* String field; absent = dflt. */
int fw_q_str(const struct fw_json *req, const char *key, const char *dflt, const char **out,
	     struct fw_arena *a, struct fw_err *err);
/* One of the words in `choices` (NULL-terminated); absent = choices[0]. *out = index. */
int fw_q_enum(const struct fw_json *req, const char *key, const char *const *choices, int *out,
	      struct fw_err *err);
/* Durations: a number of days, or a string "30m", "12h", "14d", "2w". */
int fw_q_duration(const struct fw_json *req, const char *key, int64_t dflt_ms, int64_t *out_ms,
		  struct fw_err *err);

/* Property filters: "where": [{"property": P, "op": OP, "value": V}, ...], all
 * must hold. OP: eq (default), neq, in (value: array), contains, gt, gte, lt,
 * lte (numeric), set, not_set. */
struct fw_filter {
	const struct fw_column *col;
	int op;
	uint32_t value_id;      /* eq/neq: value id in col (0 = matches nothing) */
	uint32_t *in_ids;       /* in: value ids */
	size_t nin;
	double num;
	struct fw_str text;     /* contains */
};
struct fw_filters {
	struct fw_filter *f;
	size_t n;
};
/* Parse `where` (may be NULL: no filters); `path` names it in errors. */
int fw_q_filters(struct fw_qctx *q, const struct fw_json *where, const char *path,
		 struct fw_filters *out, struct fw_err *err);
int fw_filters_match(const struct fw_filters *f, const struct fw_ev *e);

/* "people": {..., "offset": 0, "limit": 100} asks for the people (or
 * accounts) behind one number; the other members of the object say which
 * number, by kind (e.g. funnel {"step": 2, "status": "dropped"}). */
struct fw_people_req {
	int wanted;
	int64_t offset, limit;
	const struct fw_json *spec; /* the "people" object */
};
int fw_q_people(const struct fw_json *req, struct fw_people_req *pr, struct fw_err *err);
/* Append ,"people":{"total":n,"offset":…,"limit":…,"items":[keys…]}: the
 * units' keys sorted, the requested page of them. Sorts `units` in place. */
void fw_q_people_write(struct fw_buf *out, struct fw_dataset *d, enum fw_unit u,
		       const struct fw_people_req *pr, uint32_t *units, size_t n);

/* Output helpers. */
void fw_q_day(struct fw_buf *b, int64_t ms); /* "YYYY-MM-DD" quoted */
void fw_q_ratio(struct fw_buf *b, double num, double den); /* num/den or null */

/* Nearest-rank percentile of n values (sorted in place); NaN if n == 0. */
double fw_q_percentile(double *v, size_t n, double q);

/* Periods: day/week (Monday)/month, UTC. Start of the period holding t, and
 * the start of the next period. */
enum fw_period { FW_PERIOD_DAY, FW_PERIOD_WEEK, FW_PERIOD_MONTH };
int fw_q_period(const struct fw_json *req, const char *key, enum fw_period dflt,
		enum fw_period *out, struct fw_err *err);
int64_t fw_period_floor(enum fw_period p, int64_t t);
int64_t fw_period_next(enum fw_period p, int64_t start);

#endif
