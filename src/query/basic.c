/*
 * basic.c — the simple kinds: "metrics" (the PLG metrics of the contract),
 * "events" (counts and unique people by event name) and "accounts" (the
 * per-account feature table sales and scoring read).
 */
#include "flywheel/query.h"
#include "flywheel/timeutil.h"

#include <stdlib.h>

#define DAY FW_MS_PER_DAY

/* ---- metrics ---- */

int fw_q_metrics(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
		 struct fw_err *err)
{
	int64_t to = fw_day_floor(q->now_ms) + DAY, from = to - 30 * DAY;
	if (fw_q_range(req, &from, &to, err))
		return FW_EINVAL;
	if (from != fw_day_floor(from) || to != fw_day_floor(to))
		return fw_error(err, FW_EINVAL,
				"from: metrics are computed over whole UTC days: give from and to as YYYY-MM-DD");
	struct fw_metrics m;
	fw_metrics_compute(q->plg, from, to, &m);
	fw_metrics_json(&m, q->cfg, out);
	return 0;
}

/* ---- events by name ---- */

struct name_count {
	uint32_t name;
	uint64_t events, people;
};

static int cmp_count(const void *a, const void *b)
{
	const struct name_count *x = a, *y = b;
	if (x->events != y->events)
		return x->events > y->events ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

static int write_counts(struct fw_dataset *d, struct name_count *c, uint32_t nn, enum fw_unit unit,
			int uniques, struct fw_buf *out);

int fw_q_events(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
		struct fw_err *err)
{
	struct fw_dataset *d = q->d;
	int64_t from = INT64_MIN, to = INT64_MAX, uniques;
	enum fw_unit unit;
	if (fw_q_range(req, &from, &to, err) || fw_q_unit(req, &unit, err) ||
	    fw_q_bool(req, "uniques", 1, &uniques, err))
		return FW_EINVAL;
	uint32_t nn = d->names.count;
	struct name_count *c = fw_xcalloc((size_t)nn + 1, sizeof *c);
	if (!uniques && (from == INT64_MIN || from == fw_day_floor(from)) &&
	    (to == INT64_MAX || to == fw_day_floor(to))) {
		/* whole days: from the snapshot's per-day counts */
		int64_t d0 = from == INT64_MIN ? 0 : from / DAY - d->first_day;
		int64_t d1 = to == INT64_MAX ? d->ndays : to / DAY - d->first_day;
		if (d0 < 0)
			d0 = 0;
		if (d1 > d->ndays)
			d1 = d->ndays;
		for (uint32_t i = 0; i < nn; i++)
			c[i].name = i;
		for (int64_t day = d0; day < d1; day++)
			for (uint32_t i = 0; i < nn; i++)
				c[i].events += d->day_counts[day * nn + i];
		return write_counts(d, c, nn, unit, 0, out);
	}
	const struct fw_units *u = fw_dataset_units(d, unit);
	uint32_t *last = fw_xmalloc(((size_t)nn + 1) * sizeof *last); /* last unit counted, per name */
	for (uint32_t i = 0; i < nn; i++) {
		c[i].name = i;
		last[i] = UINT32_MAX;
	}
	for (uint32_t k = 0; k < u->n; k++)
		for (uint64_t i = u->off[k]; i < u->off[k + 1]; i++) {
			const struct fw_ev *e = &u->ev[i];
			if (e->t < from || e->t >= to)
				continue;
			c[e->name].events++;
			if (last[e->name] != k) {
				last[e->name] = k;
				c[e->name].people++;
			}
		}
	free(last);
	return write_counts(d, c, nn, unit, 1, out);
}

static int write_counts(struct fw_dataset *d, struct name_count *c, uint32_t nn, enum fw_unit unit,
			int uniques, struct fw_buf *out)
{
	qsort(c, nn, sizeof *c, cmp_count);
	uint64_t total = 0;
	fw_buf_printf(out, "{\"kind\":\"events\",\"unit\":\"%s\",\"rows\":[",
		      unit == FW_UNIT_ACCOUNT ? "account" : "person");
	for (uint32_t i = 0, w = 0; i < nn; i++) {
		if (!c[i].events)
			continue;
		total += c[i].events;
		struct fw_str name = fw_dict_str(&d->names, c[i].name);
		fw_buf_adds(out, w++ ? ",{\"event\":" : "{\"event\":");
		fw_json_write_str(out, name.p, name.len);
		fw_buf_printf(out, ",\"count\":%llu", (unsigned long long)c[i].events);
		if (uniques)
			fw_buf_printf(out, ",\"%s\":%llu", unit == FW_UNIT_ACCOUNT ? "accounts" : "people",
				      (unsigned long long)c[i].people);
		fw_buf_addc(out, '}');
	}
	fw_buf_printf(out, "],\"total\":%llu}", (unsigned long long)total);
	free(c);
	return 0;
}

/* ---- per-account feature table ---- */

struct account_row {
	uint32_t account;
	int64_t first_ms;
	uint32_t members, active_days, invites, features, limit_hits, pricing_views;
	uint64_t events;
};

static uint32_t *name_set(struct fw_dataset *d, const struct fw_config_list *l)
{
	uint32_t *ids = fw_xcalloc(l->n + 1, sizeof *ids);
	for (size_t i = 0; i < l->n; i++)
		ids[i] = fw_dataset_name(d, l->items[i]);
	return ids;
}

int fw_q_accounts(struct fw_qctx *q, const struct fw_json *req, struct fw_buf *out,
		  struct fw_err *err)
{
	struct fw_dataset *d = q->d;
	const char *limit_event, *pricing_event;
	int64_t window, offset, limit;
	if (fw_q_str(req, "limit_event", "Limit Reached", &limit_event, q->arena, err) ||
	    fw_q_str(req, "pricing_event", "Pricing Viewed", &pricing_event, q->arena, err) ||
	    fw_q_duration(req, "window", 14 * DAY, &window, err) ||
	    fw_q_int(req, "offset", 0, 0, INT32_MAX, &offset, err) ||
	    fw_q_int(req, "limit", 100, 1, 10000000, &limit, err))
		return FW_EINVAL;
	uint32_t invite = fw_dataset_name(d, q->cfg->invite_sent_event);
	uint32_t limit_hit = fw_dataset_name(d, limit_event);
	uint32_t pricing = fw_dataset_name(d, pricing_event);
	/* features: the configured core features, else every event name */
	uint32_t nn = d->names.count;
	uint8_t *feature = fw_xcalloc((size_t)nn + 1, 1), *active = fw_xcalloc((size_t)nn + 1, 1);
	if (q->cfg->core_features.n) {
		uint32_t *ids = name_set(d, &q->cfg->core_features);
		for (size_t i = 0; i < q->cfg->core_features.n; i++)
			if (ids[i] != UINT32_MAX)
				feature[ids[i]] = 1;
		free(ids);
	} else {
		memset(feature, 1, nn);
	}
	for (uint32_t i = 0; i < nn; i++) {
		struct fw_str s = fw_dict_str(&d->names, i);
		active[i] = (uint8_t)fw_config_is_active(q->cfg, s.p, s.len);
	}
	const struct fw_units *u = fw_dataset_units(d, FW_UNIT_ACCOUNT);
	struct account_row *rows = fw_xcalloc((size_t)u->n + 1, sizeof *rows);
	uint32_t *seen_name = fw_xmalloc(((size_t)nn + 1) * sizeof *seen_name);
	uint32_t *seen_person = fw_xmalloc(((size_t)d->npeople + 1) * sizeof *seen_person);
	for (uint32_t i = 0; i < nn; i++)
		seen_name[i] = UINT32_MAX;
	for (uint32_t i = 0; i < d->npeople; i++)
		seen_person[i] = UINT32_MAX;
	for (uint32_t a = 0; a < u->n; a++) {
		struct account_row *r = &rows[a];
		r->account = a;
		uint64_t b = u->off[a], e = u->off[a + 1];
		r->events = e - b;
		if (b == e)
			continue;
		r->first_ms = u->ev[b].t;
		int64_t last_day = INT64_MIN;
		for (uint64_t i = b; i < e; i++) {
			const struct fw_ev *x = &u->ev[i];
			if (seen_person[x->person] != a) {
				seen_person[x->person] = a;
				r->members++;
			}
			r->invites += x->name == invite;
			r->limit_hits += x->name == limit_hit;
			r->pricing_views += x->name == pricing;
			if (feature[x->name] && seen_name[x->name] != a) {
				seen_name[x->name] = a;
				r->features++;
			}
			if (active[x->name] && x->t < r->first_ms + window) {
				int64_t day = fw_day_floor(x->t);
				if (day != last_day) { /* events are in time order */
					last_day = day;
					r->active_days++;
				}
			}
		}
	}
	free(seen_name);
	free(seen_person);
	free(feature);
	free(active);
	fw_buf_printf(out, "{\"kind\":\"accounts\",\"total\":%u,\"offset\":%lld,\"rows\":[", u->n,
		      (long long)offset);
	for (int64_t a = offset, w = 0; a < (int64_t)u->n && w < limit; a++, w++) {
		const struct account_row *r = &rows[a];
		struct fw_str key = fw_dataset_unit_key(d, FW_UNIT_ACCOUNT, r->account);
		fw_buf_adds(out, w ? ",{\"account\":" : "{\"account\":");
		fw_json_write_str(out, key.p, key.len);
		fw_buf_adds(out, ",\"first_seen\":");
		fw_q_day(out, r->first_ms);
		fw_buf_printf(out,
			      ",\"members\":%u,\"events\":%llu,\"active_days_first_window\":%u,"
			      "\"invites\":%u,\"features\":%u,\"limit_hits\":%u,\"pricing_views\":%u}",
			      r->members, (unsigned long long)r->events, r->active_days, r->invites,
			      r->features, r->limit_hits, r->pricing_views);
	}
	fw_buf_adds(out, "]}");
	free(rows);
	return 0;
}
