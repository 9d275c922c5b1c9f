/*
 * revenue.c — the "revenue" and "virality" analyses, from the PLG facts that
 * fw_plg_load keeps (plg.h): plan changes per account, sign-ups, activations,
 * invites sent and accepted, account members. docs/query/revenue.md and
 * docs/query/virality.md define every number; in short:
 *
 * revenue: periods (day, week or month, clipped to [from, to)) with the MRR
 * at their start and end, and each paying account's move from its MRR at the
 * start to its MRR at the end: new, reactivation, expansion, contraction or
 * churn, with NRR and GRR. The MRR at a boundary is a sum over accounts; it
 * is carried from one boundary to the next by the accounts whose MRR changed
 * in between, so the work is linear in plan changes plus periods, not
 * accounts × periods. Sums are kept in long double; a sum over no paying
 * account is exactly 0 (counted separately), never a rounding residue.
 *
 * virality: the invite funnel of the people who signed up in [from, to) —
 * the same cohort, pairs and window as the k_factor metric — and the
 * workspaces created in the range by their number of members.
 *
 * People behind a number are listed by key as fw_q_people_write lists them
 * (same object, same order). The keys come from the facts, not from the
 * dataset, because an account known only from group calls carrying its plan
 * is no unit of the dataset (which holds events only).
 */
#include "plg.h"

#include "flywheel/query.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdlib.h>

#define DAY FW_MS_PER_DAY
#define NONE FW_PLG_NONE
#define MAX_PERIODS 5000

struct ids {
	uint32_t *v;
	size_t n, cap;
};

/* ---- people lists ---- */

static int cmp_key(const void *a, const void *b)
{
	const struct fw_str *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* ,"people":{...} exactly as fw_q_people_write writes it. Sorts `keys`. */
static void people_write(struct fw_buf *out, enum fw_unit u, const struct fw_people_req *pr,
			 struct fw_str *keys, size_t n)
{
	qsort(keys, n, sizeof *keys, cmp_key);
	fw_buf_printf(
	    out,
	    ",\"people\":{\"unit\":\"%s\",\"total\":%zu,\"offset\":%lld,\"limit\":%lld,\"items\":[",
	    u == FW_UNIT_ACCOUNT ? "account" : "person", n, (long long)pr->offset,
	    (long long)pr->limit);
	for (int64_t i = pr->offset, k = 0; i < (int64_t)n && k < pr->limit; i++, k++) {
		if (k)
			fw_buf_addc(out, ',');
		fw_json_write_str(out, keys[i].p, keys[i].len);
	}
	fw_buf_adds(out, "]}");
}

/* A field of the "people" object, with the error naming it as people.FIELD. */
static int people_error(struct fw_err *err)
{
	char msg[sizeof err->msg];
	memcpy(msg, err->msg, sizeof msg);
	return fw_error(err, FW_EINVAL, "people.%s", msg);
}

static void write_number(struct fw_buf *b, double v)
{
	fw_json_write_double(b, v == 0 ? 0 : v); /* no -0 */
}

/* ---- revenue ---- */

enum { MOVE_NEW, MOVE_REACTIVATION, MOVE_EXPANSION, MOVE_CONTRACTION, MOVE_CHURN, NMOVES };
static const char *const move_names[] = {"new",		"reactivation", "expansion",
					 "contraction", "churn",	NULL};

struct period {
	long double amount[NMOVES];
	uint64_t accounts[NMOVES];
};

struct boundary {
	long double mrr; /* MRR at the boundary, all accounts */
	int64_t paying;	 /* accounts with MRR > 0 there */
};

/* Movements over the periods [b[k], b[k+1]), k < np. `want` (a period index,
 * or -1) collects the accounts of movement `want_move` there. */
static void revenue_periods(const struct fw_plg *p, const int64_t *b, size_t np, struct period *per,
			    struct boundary *bd, long want, int want_move, struct ids *picked)
{
	memset(per, 0, np * sizeof *per);
	memset(bd, 0, (np + 1) * sizeof *bd);
	for (size_t a = 0; a < p->accounts.n; a++) {
		const struct plg_plan_change *c = p->plans.v + p->plan_off[a];
		size_t n = p->plan_off[a + 1] - p->plan_off[a], i = 0;
		double cur = 0;
		int ever_paid = 0;
		for (; i < n && c[i].t <= b[0]; i++) {
			cur = c[i].mrr;
			ever_paid |= cur > 0;
		}
		bd[0].mrr += cur;
		bd[0].paying += cur > 0;
		while (i < n && c[i].t <= b[np]) {
			/* the first boundary at or after this change: it ends period k - 1 */
			size_t lo = 1, hi = np;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (b[mid] < c[i].t)
					lo = mid + 1;
				else
					hi = mid;
			}
			size_t k = lo;
			double end = cur;
			int paid_within = 0;
			for (; i < n && c[i].t <= b[k]; i++) {
				end = c[i].mrr;
				paid_within |= end > 0;
			}
			if (end != cur) {
				int m = -1;
				double amount = 0;
				if (cur == 0) {
					m = ever_paid ? MOVE_REACTIVATION : MOVE_NEW;
					amount = end;
				} else if (end == 0) {
					m = MOVE_CHURN;
					amount = cur;
				} else {
					m = end > cur ? MOVE_EXPANSION : MOVE_CONTRACTION;
					amount = fabs(end - cur);
				}
				per[k - 1].amount[m] += amount;
				per[k - 1].accounts[m]++;
				bd[k].mrr += (long double)end - cur;
				bd[k].paying += (end > 0) - (cur > 0);
				if (want == (long)(k - 1) && m == want_move)
					FW_PUSH(*picked, (uint32_t)a);
			}
			ever_paid |= paid_within;
			cur = end;
		}
	}
	for (size_t k = 1; k <= np; k++) {
		bd[k].paying += bd[k - 1].paying;
		bd[k].mrr += bd[k - 1].mrr;
		if (!bd[k].paying)
			bd[k].mrr = 0; /* no paying account: exactly nothing */
	}
}

static void write_period(struct fw_buf *out, int64_t start, int64_t end, const struct period *per,
			 const struct boundary *b0, const struct boundary *b1)
{
	fw_buf_adds(out, "{\"start\":");
	fw_q_day(out, start);
	fw_buf_adds(out, ",\"end\":");
	fw_q_day(out, end);
	fw_buf_adds(out, ",\"mrr_start\":");
	write_number(out, (double)b0->mrr);
	fw_buf_adds(out, ",\"mrr_end\":");
	write_number(out, (double)b1->mrr);
	fw_buf_printf(out, ",\"paying_start\":%lld,\"paying_end\":%lld", (long long)b0->paying,
		      (long long)b1->paying);
	for (int m = 0; m < NMOVES; m++) {
		fw_buf_printf(out, ",\"%s\":", move_names[m]);
		write_number(out, (double)per->amount[m]);
		fw_buf_printf(out, ",\"%s_accounts\":%llu", move_names[m],
			      (unsigned long long)per->accounts[m]);
	}
	/* NRR: MRR at the end of the accounts paying at the start over their MRR at
	 * the start; GRR the same without expansion. Those accounts' end MRR is
	 * their start MRR moved by expansion, contraction and churn. */
	long double lost = per->amount[MOVE_CONTRACTION] + per->amount[MOVE_CHURN];
	int any_kept = (uint64_t)b0->paying > per->accounts[MOVE_CHURN];
	fw_buf_adds(out, ",\"nrr\":");
	if (b0->paying)
		write_number(
		    out, any_kept
			     ? (double)((b0->mrr + per->amount[MOVE_EXPANSION] - lost) / b0->mrr)
			     : 0);
	else
		fw_buf_adds(out, "null");
	fw_buf_adds(out, ",\"grr\":");
	if (b0->paying)
		write_number(out, any_kept ? (double)((b0->mrr - lost) / b0->mrr) : 0);
	else
		fw_buf_adds(out, "null");
	fw_buf_addc(out, '}');
}

/* Start of the period n periods before the one starting at t. */
static int64_t periods_back(enum fw_period per, int64_t t, int n)
{
	while (n-- > 0)
		t = fw_period_floor(per, t - 1);
	return t;
}

int fw_q_revenue(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
		 struct fw_err *err)
{
	static const char *const period_names[] = {"day", "week", "month"};
	enum fw_period per;
	if (fw_q_period(req, "period", FW_PERIOD_MONTH, &per, err))
		return FW_EINVAL;
	int64_t to = fw_period_next(per, fw_period_floor(per, q->now_ms));
	int64_t from = periods_back(per, to, per == FW_PERIOD_DAY ? 30 : 12);
	if (fw_q_range(req, &from, &to, err))
		return FW_EINVAL;
	if (from != fw_day_floor(from) || to != fw_day_floor(to))
		return fw_error(err, FW_EINVAL,
				"from: revenue is computed over whole UTC days: give from and to "
				"as YYYY-MM-DD");
	/* boundaries: from, the period starts inside the range, to */
	size_t np = 0;
	for (int64_t t = from; t < to; t = fw_period_next(per, fw_period_floor(per, t)))
		if (++np > MAX_PERIODS)
			return fw_error(
			    err, FW_EINVAL,
			    "period: the range holds more than %d %s periods; use a longer "
			    "period or a shorter range",
			    MAX_PERIODS, period_names[per]);
	int64_t *b = fw_arena_alloc(q->arena, (np + 1) * sizeof *b);
	b[0] = from;
	for (size_t k = 1; k < np; k++)
		b[k] = fw_period_next(per, fw_period_floor(per, b[k - 1]));
	b[np] = to;

	struct fw_people_req pr;
	if (fw_q_people(req, &pr, err))
		return FW_EINVAL;
	long want = -1;
	int move = 0, want_range = 0;
	if (pr.wanted) {
		const struct fw_json *mv = fw_json_get(pr.spec, "movement");
		if (!mv || mv->type == FW_JSON_NULL)
			return fw_error(
			    err, FW_EINVAL,
			    "people.movement: expected one of \"new\", "
			    "\"reactivation\", \"expansion\", \"contraction\", \"churn\"");
		if (fw_q_enum(pr.spec, "movement", move_names, &move, err))
			return people_error(err);
		const struct fw_json *pd = fw_json_get(pr.spec, "period");
		int64_t day;
		if (!pd || pd->type == FW_JSON_NULL) {
			want_range = 1;
		} else if (pd->type != FW_JSON_STRING || pd->u.str.len != 10 ||
			   fw_time_parse_iso(pd->u.str.p, pd->u.str.len, &day)) {
			return fw_error(err, FW_EINVAL,
					"people.period: expected the start day of a "
					"period (YYYY-MM-DD), or no period for the whole range");
		} else {
			for (size_t k = 0; k < np && want < 0; k++)
				if (b[k] == day)
					want = (long)k;
			if (want < 0)
				return fw_error(
				    err, FW_EINVAL,
				    "people.period: no period starts on %.10s; periods start on "
				    "the first day of the range and on each %s after it",
				    pd->u.str.p, period_names[per]);
		}
	}

	const struct fw_plg *p = q->plg;
	struct period *rows = fw_xmalloc(np * sizeof *rows), whole;
	struct boundary *bd = fw_xmalloc((np + 1) * sizeof *bd), wb[2];
	struct ids picked = {0};
	revenue_periods(p, b, np, rows, bd, want, move, &picked);
	int64_t rb[2] = {from, to};
	revenue_periods(p, rb, 1, &whole, wb, want_range ? 0 : -1, move, &picked);

	fw_buf_printf(out, "{\"kind\":\"revenue\",\"period\":\"%s\",\"from\":", period_names[per]);
	fw_q_day(out, from);
	fw_buf_adds(out, ",\"to\":");
	fw_q_day(out, to);
	fw_buf_adds(out, ",\"periods\":[");
	for (size_t k = 0; k < np; k++) {
		if (k)
			fw_buf_addc(out, ',');
		write_period(out, b[k], b[k + 1], &rows[k], &bd[k], &bd[k + 1]);
	}
	fw_buf_adds(out, "],\"range\":");
	write_period(out, from, to, &whole, &wb[0], &wb[1]);
	if (pr.wanted) {
		struct fw_str *keys = fw_xmalloc((picked.n + 1) * sizeof *keys);
		for (size_t i = 0; i < picked.n; i++)
			keys[i] = fw_dict_str(&p->groups, picked.v[i]);
		people_write(out, FW_UNIT_ACCOUNT, &pr, keys, picked.n);
		free(keys);
	}
	fw_buf_addc(out, '}');
	free(picked.v);
	free(rows);
	free(bd);
	return 0;
}

/* ---- virality ---- */

enum {
	V_SIGNUPS,
	V_INVITERS,
	V_ACCEPTED,
	V_SIGNED_UP,
	V_ACTIVATED,
	V_WORKSPACES_2,
	V_WORKSPACES_5,
};
static const char *const statuses[] = {"signups",
				       "inviters",
				       "invitees_accepted",
				       "invitees_signed_up",
				       "invitees_activated",
				       "workspaces_2",
				       "workspaces_5",
				       NULL};

static int signed_up_in(const struct fw_plg *p, uint32_t person, int64_t from, int64_t to)
{
	int64_t s = fw_plg_signup(p, person);
	return s != NONE && s >= from && s < to;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int fw_q_virality(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
		  struct fw_err *err)
{
	const struct fw_plg *p = q->plg;
	int64_t to = fw_day_floor(q->now_ms) + DAY, from = to - 30 * DAY, win;
	if (fw_q_range(req, &from, &to, err) ||
	    fw_q_duration(req, "window", (int64_t)q->cfg->k_factor_window_days * DAY, &win, err))
		return FW_EINVAL;
	if (from != fw_day_floor(from) || to != fw_day_floor(to))
		return fw_error(err, FW_EINVAL,
				"from: virality is computed over whole UTC days: give from and to "
				"as YYYY-MM-DD");
	struct fw_people_req pr;
	int status = -1;
	if (fw_q_people(req, &pr, err))
		return FW_EINVAL;
	if (pr.wanted) {
		const struct fw_json *st = fw_json_get(pr.spec, "status");
		if (!st || st->type == FW_JSON_NULL ||
		    fw_q_enum(pr.spec, "status", statuses, &status, err))
			return fw_error(
			    err, FW_EINVAL,
			    "people.status: expected one of \"signups\", \"inviters\", "
			    "\"invitees_accepted\", \"invitees_signed_up\", "
			    "\"invitees_activated\", \"workspaces_2\", \"workspaces_5\"");
	}
	struct ids picked = {0};

	/* the cohort: people who signed up in [from, to) */
	uint64_t signups = 0;
	for (uint32_t i = 0; i < p->people.n; i++) {
		int64_t s = fw_plg_signup(p, i);
		if (s != NONE && s >= from && s < to) {
			signups++;
			if (status == V_SIGNUPS)
				FW_PUSH(picked, i);
		}
	}

	/* invites sent by the cohort, at any time */
	uint64_t sent = 0, inviters = 0;
	for (size_t i = 0; i < p->sent.n; i++) {
		uint32_t x = p->sent.v[i].person;
		if (!signed_up_in(p, x, from, to))
			continue;
		sent++;
		if (!i || p->sent.v[i - 1].person != x) {
			inviters++;
			if (status == V_INVITERS)
				FW_PUSH(picked, x);
		}
	}

	/* acceptances naming a cohort member: distinct (inviter, invitee) pairs,
	 * the invitee someone else; signed up within the window of the inviter's
	 * sign-up (the k-factor's numerator); and activated since */
	uint64_t accepted = 0, signed_up = 0, activated = 0;
	for (size_t i = 0; i < p->invites.n; i++) {
		const struct plg_invite *inv = &p->invites.v[i];
		if (i && inv->inviter == inv[-1].inviter && inv->invitee == inv[-1].invitee)
			continue;
		if (inv->inviter == inv->invitee || !signed_up_in(p, inv->inviter, from, to))
			continue;
		int64_t s = fw_plg_signup(p, inv->inviter), si = fw_plg_signup(p, inv->invitee);
		accepted++;
		int ok = status == V_ACCEPTED;
		if (si != NONE && si >= s && si - s <= win) {
			signed_up++;
			ok |= status == V_SIGNED_UP;
			if (fw_plg_activation(p, inv->invitee, si) != NONE) {
				activated++;
				ok |= status == V_ACTIVATED;
			}
		}
		if (ok)
			FW_PUSH(picked, inv->invitee);
	}
	if (status >= V_ACCEPTED && status <= V_ACTIVATED && picked.n) {
		/* people, once each (an invitee of two inviters is one person) */
		qsort(picked.v, picked.n, sizeof *picked.v, cmp_u32);
		size_t w = 1;
		for (size_t i = 1; i < picked.n; i++)
			if (picked.v[i] != picked.v[w - 1])
				picked.v[w++] = picked.v[i];
		picked.n = w;
	}

	/* workspaces created in [from, to) by members within the window of creation */
	uint64_t created = 0, ws2 = 0, ws5 = 0;
	for (size_t i = 0, a = 0; a < p->accounts.n; a++) {
		size_t members = 0;
		int64_t c = fw_plg_created(p, (uint32_t)a);
		int in = c != NONE && c >= from && c < to;
		for (; i < p->members.n && p->members.v[i].account == a; i++)
			members += in && p->members.v[i].t - c <= win;
		if (!in)
			continue;
		created++;
		ws2 += members >= 2;
		ws5 += members >= 5;
		if ((status == V_WORKSPACES_2 && members >= 2) ||
		    (status == V_WORKSPACES_5 && members >= 5))
			FW_PUSH(picked, (uint32_t)a);
	}

	fw_buf_adds(out, "{\"kind\":\"virality\",\"from\":");
	fw_q_day(out, from);
	fw_buf_adds(out, ",\"to\":");
	fw_q_day(out, to);
	fw_buf_adds(out, ",\"window_days\":");
	fw_json_write_double(out, (double)win / (double)DAY);
	fw_buf_printf(out,
		      ",\"signups\":%llu,\"inviters\":%llu,\"invites_sent\":%llu,"
		      "\"invites_accepted\":%llu,\"invitees_signed_up\":%llu,"
		      "\"invitees_activated\":%llu,\"k_factor\":",
		      (unsigned long long)signups, (unsigned long long)inviters,
		      (unsigned long long)sent, (unsigned long long)accepted,
		      (unsigned long long)signed_up, (unsigned long long)activated);
	fw_q_ratio(out, (double)signed_up, (double)signups);
	fw_buf_printf(out,
		      ",\"workspaces\":{\"created\":%llu,\"with_2_members\":%llu,"
		      "\"with_5_members\":%llu}",
		      (unsigned long long)created, (unsigned long long)ws2,
		      (unsigned long long)ws5);
	if (pr.wanted) {
		int accounts = status >= V_WORKSPACES_2;
		struct fw_str *keys = fw_xmalloc((picked.n + 1) * sizeof *keys);
		for (size_t i = 0; i < picked.n; i++)
			keys[i] = accounts ? fw_dict_str(&p->groups, picked.v[i])
					   : fw_plg_person_key(p, picked.v[i]);
		people_write(out, accounts ? FW_UNIT_ACCOUNT : FW_UNIT_PERSON, &pr, keys, picked.n);
		free(keys);
	}
	fw_buf_addc(out, '}');
	free(picked.v);
	return 0;
}
