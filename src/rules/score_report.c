/*
 * score_report.c — the scorer's results as JSON (score.h): the changes to
 * write, the PQL list, one unit's breakdown with its evidence, and the
 * account signals.
 */
#include "score_int.h"

#include "flywheel/json.h"
#include "flywheel/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void time_json(struct fw_buf *b, int64_t t)
{
	if (t == SC_NEVER || t == INT64_MIN) {
		fw_buf_adds(b, "null");
		return;
	}
	char iso[32];
	fw_time_format_iso(t, iso);
	fw_buf_printf(b, "\"%s\"", iso);
}

static void str_json(struct fw_buf *b, struct fw_str s)
{
	fw_json_write_str(b, s.p, s.len);
}

static void points_json(struct fw_buf *b, double p)
{
	fw_json_write_double(b, round(p * 10) / 10);
}

void fw_lead_triggers_json(struct fw_buf *b, unsigned triggers)
{
	fw_buf_addc(b, '[');
	for (int t = 0, n = 0; t < FW_TRIGGER_COUNT; t++)
		if (triggers & (1u << t))
			fw_buf_printf(b, "%s\"%s\"", n++ ? "," : "", fw_trigger_names[t]);
	fw_buf_addc(b, ']');
}

/* The points of every rule of a unit (person: as evaluated; account: from
 * its members and traits); from[r] is the member behind an account's rule. */
static void unit_points(struct fw_scorer *sc, enum fw_lead_unit unit, uint32_t slot, double *pts,
			uint32_t *from)
{
	if (unit == FW_LEAD_ACCOUNT) {
		sc_eval_account(sc, slot, pts, from);
		return;
	}
	const float *p = sc->points + (size_t)slot * sc->nrules;
	for (size_t r = 0; r < sc->nrules; r++) {
		pts[r] = p[r];
		from[r] = SC_NONE;
	}
}

static void reasons_json(struct fw_scorer *sc, enum fw_lead_unit unit, uint32_t slot,
			 struct fw_buf *b)
{
	double pts[FW_SCORING_MAX_RULES];
	uint32_t from[FW_SCORING_MAX_RULES];
	unit_points(sc, unit, slot, pts, from);
	fw_buf_addc(b, '[');
	int n = 0;
	for (size_t r = 0; r < sc->nrules; r++) {
		if (pts[r] <= 0)
			continue;
		fw_buf_printf(b, "%s{\"rule\":", n++ ? "," : "");
		fw_json_write_str(b, sc->sp->rules[r].name, strlen(sc->sp->rules[r].name));
		fw_buf_adds(b, ",\"points\":");
		points_json(b, pts[r]);
		if (from[r] != SC_NONE) {
			fw_buf_adds(b, ",\"from\":");
			str_json(b, fw_dict_str(&sc->person_keys, from[r]));
		}
		fw_buf_addc(b, '}');
	}
	fw_buf_addc(b, ']');
}

/* Why a unit has its route, in words. */
static void cause_text(struct fw_scorer *sc, const struct fw_lead_state *s, struct fw_buf *b)
{
	const struct fw_scoring *sp = sc->sp;
	int by_score = sc_route_of_score(sp, s->score);
	fw_buf_printf(b, "score %d", s->score);
	if (by_score > 0)
		fw_buf_printf(b, " (%s from %d)", fw_lead_route_names[by_score], sp->tiers[by_score]);
	for (int t = 0; t < FW_TRIGGER_COUNT; t++)
		if (s->triggers & (1u << t))
			fw_buf_printf(b, "; trigger %s -> %s", fw_trigger_names[t],
				      fw_lead_route_names[sp->triggers[t].route]);
	if (sp->require_activation && !(s->flags & FW_LEAD_ACTIVATED) &&
	    s->route <= FW_ROUTE_UPGRADE_CAMPAIGN &&
	    (by_score > FW_ROUTE_UPGRADE_CAMPAIGN ||
	     (s->triggers & ((1u << FW_TRIGGER_ACTIVE_PEOPLE) | (1u << FW_TRIGGER_FREE_DOMAIN)))))
		fw_buf_adds(b, "; held at upgrade_campaign until activation");
}

static void signals_fields(struct fw_scorer *sc, uint32_t slot, struct fw_buf *b)
{
	const struct sc_account *a = &sc->accounts.v[slot];
	char buf[128];
	const char *plan = sc_account_plan(sc, slot, buf, sizeof buf);
	fw_buf_adds(b, "\"mrr\":");
	fw_json_write_double(b, a->mrr);
	fw_buf_adds(b, ",\"plan\":");
	if (plan)
		fw_json_write_str(b, plan, strlen(plan));
	else
		fw_buf_adds(b, "null");
	fw_buf_printf(b, ",\"active_events_7d\":%u,\"active_events_prev_7d\":%u", a->active7, a->prev7);
	fw_buf_adds(b, ",\"change\":");
	if (a->prev7)
		fw_json_write_double(b, round(((double)a->active7 / a->prev7 - 1) * 1000) / 1000);
	else
		fw_buf_adds(b, "null");
	fw_buf_adds(b, ",\"last_active\":");
	time_json(b, a->last_active);
	fw_buf_printf(b, ",\"members\":%zu,\"active_people\":%u,\"limit_reached_7d\":%u", a->members.n,
		      a->active_people, a->limits7);
	fw_buf_adds(b, ",\"seat_limit\":");
	fw_json_write_double(b, sc_plan_limit(sc->cfg, plan, "seats"));
}

/* ---- changes ---- */

static const char *arena_copy(struct fw_arena *a, struct fw_buf *b)
{
	return fw_arena_strndup(a, b->data ? b->data : "", b->len);
}

size_t fw_scorer_changes(struct fw_scorer *sc, const struct fw_lead_change **out)
{
	pthread_mutex_lock(&sc->mu);
	sc->out.n = 0;
	fw_arena_reset(&sc->out_arena);
	struct fw_buf b = {0};
	for (int unit = 0; unit < 2; unit++) {
		for (uint32_t i = 0; i < sc->changes[unit].n; i++) {
			uint32_t slot = sc->changes[unit].v[i];
			const struct sc_unit *u = &sc->units[unit].v[slot];
			struct fw_lead_change ch = {.unit = unit, .old = u->saved, .now = u->cur};
			ch.now.exists = 1;
			struct fw_str key = fw_dict_str(unit ? &sc->account_keys : &sc->person_keys, slot);
			ch.key = (struct fw_str){fw_arena_strndup(&sc->out_arena, key.p, key.len), key.len};
			fw_buf_reset(&b);
			reasons_json(sc, unit, slot, &b);
			ch.reasons = arena_copy(&sc->out_arena, &b);
			fw_buf_reset(&b);
			cause_text(sc, &u->cur, &b);
			ch.cause = arena_copy(&sc->out_arena, &b);
			if (unit == FW_LEAD_ACCOUNT) {
				fw_buf_reset(&b);
				fw_buf_addc(&b, '{');
				signals_fields(sc, slot, &b);
				fw_buf_addc(&b, '}');
				ch.signals = arena_copy(&sc->out_arena, &b);
			}
			fw_buf_reset(&b);
			fw_buf_printf(&b, "%s %.*s: %s, score %d", fw_lead_unit_names[unit],
				      (int)key.len, key.p, fw_lead_route_names[u->cur.route],
				      u->cur.score);
			if (u->saved.exists)
				fw_buf_printf(&b, " (was %s, %d)", fw_lead_route_names[u->saved.route],
					      u->saved.score);
			fw_buf_printf(&b, " — %s", ch.cause);
			ch.summary = arena_copy(&sc->out_arena, &b);
			FW_PUSH(sc->out, ch);
		}
	}
	fw_buf_release(&b);
	*out = sc->out.v;
	size_t n = sc->out.n;
	pthread_mutex_unlock(&sc->mu);
	return n;
}

void fw_scorer_saved(struct fw_scorer *sc)
{
	pthread_mutex_lock(&sc->mu);
	for (int unit = 0; unit < 2; unit++) {
		for (uint32_t i = 0; i < sc->changes[unit].n; i++) {
			struct sc_unit *u = &sc->units[unit].v[sc->changes[unit].v[i]];
			u->saved = u->cur;
			u->saved.exists = 1;
			u->changed = 0;
		}
		sc->changes[unit].n = 0;
	}
	pthread_mutex_unlock(&sc->mu);
}

/* ---- the PQL list ---- */

struct lead_order {
	struct fw_scorer *sc;
	enum fw_lead_unit unit;
};

static int lead_cmp(const void *a, const void *b, void *ctx)
{
	const struct lead_order *o = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	const struct fw_lead_state *s = &o->sc->units[o->unit].v[x].cur,
				   *t = &o->sc->units[o->unit].v[y].cur;
	if (s->route != t->route)
		return s->route > t->route ? -1 : 1;
	if (s->score != t->score)
		return s->score > t->score ? -1 : 1;
	const struct fw_dict *keys = o->unit ? &o->sc->account_keys : &o->sc->person_keys;
	struct fw_str k = fw_dict_str(keys, x), l = fw_dict_str(keys, y);
	int c = memcmp(k.p, l.p, k.len < l.len ? k.len : l.len);
	return c ? c : (k.len > l.len) - (k.len < l.len);
}

static void lead_json(struct fw_scorer *sc, enum fw_lead_unit unit, uint32_t slot, struct fw_buf *b)
{
	const struct fw_lead_state *s = &sc->units[unit].v[slot].cur;
	fw_buf_adds(b, "{\"key\":");
	str_json(b, fw_dict_str(unit ? &sc->account_keys : &sc->person_keys, slot));
	fw_buf_printf(b, ",\"score\":%d,\"route\":\"%s\",\"activated\":%s,\"triggers\":", s->score,
		      fw_lead_route_names[s->route], s->flags & FW_LEAD_ACTIVATED ? "true" : "false");
	fw_lead_triggers_json(b, s->triggers);
	fw_buf_adds(b, ",\"reasons\":");
	reasons_json(sc, unit, slot, b);
	if (unit == FW_LEAD_ACCOUNT)
		fw_buf_printf(b, ",\"members\":%zu", sc->accounts.v[slot].members.n);
	fw_buf_addc(b, '}');
}

void fw_scorer_leads_json(struct fw_scorer *sc, const struct fw_lead_query *q, struct fw_buf *out)
{
	pthread_mutex_lock(&sc->mu);
	uint32_t n = sc->units[q->unit].n, k = 0;
	uint32_t *order = fw_xmalloc(((size_t)n + 1) * sizeof *order);
	for (uint32_t i = 0; i < n; i++) {
		const struct fw_lead_state *s = &sc->units[q->unit].v[i].cur;
		if (q->unit == FW_LEAD_PERSON && sc->persons.v[i].merged_into != SC_NONE)
			continue; /* joined another person */
		if (s->score >= q->min_score && (q->route < 0 || s->route == q->route))
			order[k++] = i;
	}
	struct lead_order o = {sc, q->unit};
	qsort_r(order, k, sizeof *order, lead_cmp, &o);
	fw_buf_printf(out, "{\"unit\":\"%s\",\"as_of\":", fw_lead_unit_names[q->unit]);
	time_json(out, sc->now);
	fw_buf_printf(out, ",\"total\":%u,\"routes\":{", k);
	for (int r = FW_ROUTE_COUNT - 1; r >= 0; r--) {
		uint32_t c = 0;
		for (uint32_t i = 0; i < n; i++)
			c += sc->units[q->unit].v[i].cur.route == r &&
			     sc->units[q->unit].v[i].cur.score >= q->min_score &&
			     !(q->unit == FW_LEAD_PERSON && sc->persons.v[i].merged_into != SC_NONE);
		fw_buf_printf(out, "%s\"%s\":%u", r == FW_ROUTE_COUNT - 1 ? "" : ",",
			      fw_lead_route_names[r], c);
	}
	fw_buf_adds(out, "},\"leads\":[");
	for (size_t i = q->offset, shown = 0; i < k && shown < q->limit; i++, shown++) {
		if (shown)
			fw_buf_addc(out, ',');
		lead_json(sc, q->unit, order[i], out);
	}
	fw_buf_adds(out, "]}");
	free(order);
	pthread_mutex_unlock(&sc->mu);
}

/* ---- one unit ---- */

static void rule_head(struct fw_scorer *sc, size_t r, struct fw_buf *b)
{
	const struct fw_rule *rule = &sc->sp->rules[r];
	fw_buf_adds(b, "{\"rule\":");
	fw_json_write_str(b, rule->name, strlen(rule->name));
	fw_buf_adds(b, ",\"description\":");
	const char *desc = rule->description ? rule->description : rule->name;
	fw_json_write_str(b, desc, strlen(desc));
}

static void person_detail(struct fw_scorer *sc, uint32_t slot, struct fw_buf *b)
{
	struct sc_rule_result res[FW_SCORING_MAX_RULES];
	memset(res, 0, sizeof res);
	sc_eval_person(sc, slot, res);
	const struct sc_person *p = &sc->persons.v[slot];
	fw_buf_adds(b, ",\"signup\":");
	time_json(b, p->signup);
	fw_buf_adds(b, ",\"activated_at\":");
	time_json(b, p->activated);
	fw_buf_adds(b, ",\"last_active\":");
	time_json(b, p->last_active);
	fw_buf_adds(b, ",\"email_domain\":");
	if (p->domain != SC_NONE)
		str_json(b, fw_dict_str(&sc->domains, p->domain));
	else
		fw_buf_adds(b, "null");
	fw_buf_adds(b, ",\"accounts\":[");
	for (uint32_t i = 0; i < p->accounts.n; i++) {
		if (i)
			fw_buf_addc(b, ',');
		str_json(b, fw_dict_str(&sc->account_keys, p->accounts.v[i]));
	}
	fw_buf_adds(b, "],\"rules\":[");
	for (size_t r = 0; r < sc->nrules; r++) {
		if (r)
			fw_buf_addc(b, ',');
		rule_head(sc, r, b);
		fw_buf_adds(b, ",\"points\":");
		points_json(b, res[r].points);
		fw_buf_printf(b, ",\"base_points\":%d,\"value\":", res[r].base);
		fw_json_write_double(b, res[r].value);
		fw_buf_printf(b, ",\"events\":%u,\"first\":", res[r].count);
		time_json(b, res[r].first);
		fw_buf_adds(b, ",\"last\":");
		time_json(b, res[r].last);
		fw_buf_adds(b, ",\"examples\":[");
		for (uint32_t k = res[r].nexample; k-- > 0;) {
			fw_buf_adds(b, "{\"event\":");
			str_json(b, fw_dict_str(&sc->names, res[r].example[k]));
			fw_buf_adds(b, ",\"time\":");
			time_json(b, res[r].example_t[k]);
			fw_buf_adds(b, k ? "}," : "}");
		}
		fw_buf_adds(b, "]}");
	}
	fw_buf_addc(b, ']');
	fw_buf_adds(b, ",\"evidence\":{\"procurement\":");
	if (p->procurement != SC_NEVER) {
		fw_buf_adds(b, "{\"event\":");
		str_json(b, fw_dict_str(&sc->names, p->procurement_name));
		fw_buf_adds(b, ",\"time\":");
		time_json(b, p->procurement);
		fw_buf_addc(b, '}');
	} else {
		fw_buf_adds(b, "null");
	}
	fw_buf_printf(b, ",\"free_people_at_domain\":%u}",
		      p->domain != SC_NONE ? sc->domain_free.v[p->domain] : 0);
}

struct member_order {
	struct fw_scorer *sc;
};

static int member_cmp(const void *a, const void *b, void *ctx)
{
	struct fw_scorer *sc = ctx;
	int x = sc->units[0].v[*(const uint32_t *)a].cur.score,
	    y = sc->units[0].v[*(const uint32_t *)b].cur.score;
	return x != y ? (x > y ? -1 : 1) : (*(const uint32_t *)a > *(const uint32_t *)b) - (*(const uint32_t *)a < *(const uint32_t *)b);
}

static void account_detail(struct fw_scorer *sc, uint32_t slot, struct fw_buf *b)
{
	double pts[FW_SCORING_MAX_RULES];
	uint32_t from[FW_SCORING_MAX_RULES];
	sc_eval_account(sc, slot, pts, from);
	const struct sc_account *a = &sc->accounts.v[slot];
	fw_buf_adds(b, ",\"domain\":");
	if (a->domain != SC_NONE)
		str_json(b, fw_dict_str(&sc->domains, a->domain));
	else
		fw_buf_adds(b, "null");
	fw_buf_adds(b, ",\"signals\":{");
	signals_fields(sc, slot, b);
	fw_buf_adds(b, "},\"rules\":[");
	for (size_t r = 0; r < sc->nrules; r++) {
		if (r)
			fw_buf_addc(b, ',');
		rule_head(sc, r, b);
		fw_buf_adds(b, ",\"points\":");
		points_json(b, pts[r]);
		fw_buf_printf(b, ",\"per_person\":%s,\"from\":", sc->sp->rules[r].per_person ? "true" : "false");
		if (from[r] != SC_NONE)
			str_json(b, fw_dict_str(&sc->person_keys, from[r]));
		else
			fw_buf_adds(b, "null");
		fw_buf_addc(b, '}');
	}
	fw_buf_adds(b, "],\"members\":[");
	uint32_t *m = fw_xmalloc(((size_t)a->members.n + 1) * sizeof *m);
	memcpy(m, a->members.v, a->members.n * sizeof *m);
	qsort_r(m, a->members.n, sizeof *m, member_cmp, sc);
	for (uint32_t i = 0; i < a->members.n && i < 100; i++) {
		const struct sc_person *p = &sc->persons.v[m[i]];
		const struct fw_lead_state *s = &sc->units[FW_LEAD_PERSON].v[m[i]].cur;
		fw_buf_adds(b, i ? ",{\"key\":" : "{\"key\":");
		str_json(b, fw_dict_str(&sc->person_keys, m[i]));
		fw_buf_printf(b, ",\"score\":%d,\"route\":\"%s\",\"activated\":%s,\"last_active\":",
			      s->score, fw_lead_route_names[s->route],
			      p->activated != SC_NEVER ? "true" : "false");
		time_json(b, p->last_active);
		fw_buf_addc(b, '}');
	}
	free(m);
	fw_buf_addc(b, ']');
}

int fw_scorer_unit_json(struct fw_scorer *sc, enum fw_lead_unit unit, struct fw_str key,
			struct fw_buf *out)
{
	pthread_mutex_lock(&sc->mu);
	const struct fw_dict *keys = unit ? &sc->account_keys : &sc->person_keys;
	uint32_t slot = fw_dict_find(keys, key.p, key.len);
	if (slot == SC_NONE || !sc->d) {
		pthread_mutex_unlock(&sc->mu);
		return FW_ENOTFOUND;
	}
	const struct fw_lead_state *s = &sc->units[unit].v[slot].cur;
	fw_buf_printf(out, "{\"unit\":\"%s\",\"key\":", fw_lead_unit_names[unit]);
	str_json(out, key);
	fw_buf_adds(out, ",\"as_of\":");
	time_json(out, sc->now);
	fw_buf_printf(out, ",\"score\":%d,\"route\":\"%s\",\"activated\":%s,\"at_risk\":%s,"
			   "\"expansion\":%s,\"triggers\":",
		      s->score, fw_lead_route_names[s->route],
		      s->flags & FW_LEAD_ACTIVATED ? "true" : "false",
		      s->flags & FW_LEAD_AT_RISK ? "true" : "false",
		      s->flags & FW_LEAD_EXPANSION ? "true" : "false");
	fw_lead_triggers_json(out, s->triggers);
	struct fw_buf cause = {0};
	cause_text(sc, s, &cause);
	fw_buf_adds(out, ",\"cause\":");
	fw_json_write_str(out, cause.data, cause.len);
	fw_buf_release(&cause);
	if (unit == FW_LEAD_PERSON)
		person_detail(sc, slot, out);
	else
		account_detail(sc, slot, out);
	fw_buf_addc(out, '}');
	pthread_mutex_unlock(&sc->mu);
	return 0;
}

void fw_scorer_signals_json(struct fw_scorer *sc, unsigned flag, struct fw_buf *out)
{
	pthread_mutex_lock(&sc->mu);
	fw_buf_adds(out, "{\"as_of\":");
	time_json(out, sc->now);
	fw_buf_adds(out, ",\"accounts\":[");
	int n = 0;
	for (uint32_t i = 0; i < sc->units[FW_LEAD_ACCOUNT].n; i++) {
		const struct fw_lead_state *s = &sc->units[FW_LEAD_ACCOUNT].v[i].cur;
		if (!(s->flags & flag))
			continue;
		fw_buf_adds(out, n++ ? ",{\"key\":" : "{\"key\":");
		str_json(out, fw_dict_str(&sc->account_keys, i));
		fw_buf_printf(out, ",\"score\":%d,\"route\":\"%s\",", s->score,
			      fw_lead_route_names[s->route]);
		signals_fields(sc, i, out);
		fw_buf_addc(out, '}');
	}
	fw_buf_adds(out, "]}");
	pthread_mutex_unlock(&sc->mu);
}
