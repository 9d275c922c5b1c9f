/*
 * export.h — usage export for invoicing (docs/usage-export.md): every
 * account's meters per billing period, and its seats per calendar month,
 * with the plan in force at the period's end, its limit and the overage.
 * GET /api/v1/usage/export (src/web/export.c) and `flywheel usage export`
 * (src/cmd/usage.c) both answer with fw_usage_export.
 *
 * The numbers are the entitlement engine's (billing.h): a record feeds a
 * meter as fw_meter_input says, counts for the account it names (its group
 * id; records naming none are not metered) in the period fw_period_at gives
 * it, anchored for anniversary meters on the account's billing anchor
 * (fw_meta_accounts_billing).
 *
 * Stability: the same data gives the same bytes. Rows are sorted (account
 * bytes, meter name, period start); sums are exact in fixed point whatever
 * order the store delivers records in (it changes when the log is compacted
 * into segments); the only thing that depends on the clock is whether a
 * period is closed (and the current month's seats, counted up to now).
 */
#ifndef FLYWHEEL_EXPORT_H
#define FLYWHEEL_EXPORT_H

#include "flywheel/base.h"

#define FW_EXPORT_MAX_DAYS 400

enum fw_export_format { FW_EXPORT_JSON, FW_EXPORT_CSV };

struct fw_export_query {
	int64_t from_ms, to_ms;   /* periods starting in [from, to), UTC */
	struct fw_str account;    /* one account's group id; empty = every account */
	enum fw_export_format format;
	int64_t now_ms;           /* what "closed" and the current month's seats are measured at */
};

/* The query of the API and the CLI from its text arguments (any may be
 * NULL): from and to are days (YYYY-MM-DD, UTC; `to` exclusive), format
 * json (default) or csv. Returns 0, or FW_EINVAL with a message that says
 * what to send instead. q->account points into `account`. */
int fw_export_query_parse(struct fw_export_query *q, const char *from, const char *to,
			  const char *account, const char *format, int64_t now_ms,
			  struct fw_err *err);

/* Append the export of `q` to `out` (JSON or CSV). Brings people and
 * accounts up to date first (fw_server_catch_up), then reads the records
 * applied so far in one scan. Returns 0, FW_EINVAL for a bad query, or the
 * store's or metadata's error. */
struct fw_server;
int fw_usage_export(struct fw_server *s, const struct fw_export_query *q, struct fw_buf *out,
		    struct fw_err *err);

/* An order-independent sum (what count and sum meters use): each input is
 * rounded once to a multiple of 2^-64 and added exactly in 128-bit fixed
 * point, so the total does not depend on the order of the inputs. Inputs of
 * 2^62 or more (or a total past 2^63) switch it to a plain double sum. */
struct fw_xsum {
	__int128 fixed;
	double wide_sum;
	int wide;
};
void fw_xsum_add(struct fw_xsum *x, double v);
double fw_xsum_value(const struct fw_xsum *x);

#endif
