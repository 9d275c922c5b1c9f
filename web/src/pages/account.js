// account.js — one account: its traits and plan (GET /api/v1/accounts/{id}),
// its members, and its usage over the range (kind "trends" filtered on the
// events naming it: "$context.groupId"), and its PQL score with the rules
// behind it, its route, triggers and history (GET /api/v1/pqls/account/{id}).
// URL: #/accounts/ID
import { api } from '../api.js';
import { timeChart } from '../charts.js';
import { h, panel, table } from '../dom.js';
import * as fmt from '../format.js';
import { allOk, fill, section, stat } from './util.js';
import { routeBadge } from './leads.js';

const MEMBERS = 50;

export function usageRequest(id, range) {
  const where = [{ property: '$context.groupId', op: 'eq', value: id }];
  return {
    kind: 'trends', from: range.from, to: range.to, period: range.days > 120 ? 'week' : 'day',
    series: [{ math: 'count', where, label: 'Events' }, { math: 'uniques', where, label: 'Active members' }],
  };
}

export default {
  title: 'Account',
  async render(root, ctx) {
    const id = ctx.route.id;
    const { range } = ctx;
    ctx.setTitle(`Account ${id}`);
    const head = h('div', { class: 'stats' });
    const traitsEl = h('div');
    const membersEl = h('div');
    const usageEl = h('div');
    const scoreEl = h('div', { id: 'score' });
    root.append(
      h('p', null, h('a', { href: `#/accounts?${new URLSearchParams(ctx.shared)}` }, '← All accounts')),
      head,
      h('div', { class: 'two' }, panel('Traits', traitsEl), panel('Score', scoreEl, { note: 'Live PQL score (docs/scoring.md): each rule counted once, from the member who earned it.' })),
      panel('Usage', usageEl, { note: 'Events naming this account (context.groupId) per day, and distinct members with one.' }),
      panel('Members', membersEl));
    let acct;
    try {
      acct = await api.get(`/api/v1/accounts/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e.status !== 404) throw e;
      fill(root, h('p', null, h('a', { href: `#/accounts?${new URLSearchParams(ctx.shared)}` }, '← All accounts')),
        h('div', { class: 'error-box' }, `${e.message}. Accounts come from group calls and from events that name one (context.groupId, PostHog $groups, Amplitude groups).`));
      return false;
    }
    if (ctx.stale()) return true;
    const a = await section(traitsEl, async () => {
      const t = acct.traits || {};
      if (t.name) ctx.setTitle(`${t.name} (${id})`);
      fill(head,
        stat('Plan', t.plan ?? 'free (no plan change)', { metric: 'plan', raw: t.plan ?? null }),
        stat('MRR', t.mrr !== undefined && t.mrr !== null && !Number.isNaN(Number(t.mrr)) ? fmt.money(Number(t.mrr)) : fmt.DASH, { metric: 'mrr', raw: t.mrr ?? null }),
        stat('Members', fmt.count(acct.members.length), { metric: 'members', raw: acct.members.length }),
        stat('First seen', fmt.day(acct.first_seen), { metric: 'first_seen', raw: acct.first_seen }));
      const entries = Object.entries(t);
      fill(traitsEl, entries.length
        ? h('table', { class: 'data kv' }, h('tbody', null, entries.map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, typeof v === 'object' ? JSON.stringify(v) : String(v))))))
        : h('p', { class: 'empty' }, 'No traits: send a group call (Segment group, PostHog $groupidentify …) with name, plan, mrr.'));
      const members = (all) => {
        const shown = all ? acct.members : acct.members.slice(0, MEMBERS);
        fill(membersEl, table([
          { label: 'User id', get: (m) => m.user_id ?? h('span', { class: 'muted' }, 'anonymous') },
          { label: 'Other ids', get: (m) => (m.distinct_ids || []).filter((d) => d !== m.user_id).join(', ') },
          { label: 'Member since', get: (m) => fmt.time(m.first_seen) },
        ], shown, { empty: 'No members yet.' }),
        shown.length < acct.members.length ? h('div', { class: 'pager' }, h('button', { class: 'all-members', onclick: () => members(true) }, `Show all ${fmt.count(acct.members.length)} members`)) : null);
      };
      members(false);
    });
    if (!a) {
      fill(membersEl);
      fill(usageEl);
      return false;
    }
    const u = await section(usageEl, async () => {
      const t = await api.query(usageRequest(id, range));
      if (ctx.stale()) return;
      const days = t.series[0].points.map((p) => p.period);
      fill(usageEl, h('p', { class: 'summary' }, `${fmt.count(t.series[0].total)} events by ${fmt.count(t.series[1].total)} members in this range.`));
      const host = h('div');
      usageEl.append(host);
      timeChart(host, { days, series: [{ label: 'Events', values: t.series[0].points.map((p) => p.value), bars: true }, { label: 'Active members', values: t.series[1].points.map((p) => p.value) }], kind: 'count' });
    });
    const sc = await section(scoreEl, async () => {
      let j;
      try {
        j = await api.get(`/api/v1/pqls/account/${encodeURIComponent(id)}?history=10`, { fresh: true });
      } catch (e) {
        if (e.status !== 404) throw e;
        fill(scoreEl, h('p', { class: 'empty' }, 'Not scored yet.'));
        return;
      }
      if (ctx.stale()) return;
      const rules = j.rules.filter((r) => r.points > 0);
      fill(scoreEl,
        h('div', { class: 'score-head' }, h('span', { class: 'score', dataset: { raw: String(j.score) } }, fmt.count(j.score)), routeBadge(j.route),
          j.triggers.length ? h('span', { class: 'muted' }, ` triggers: ${j.triggers.map((t) => t.replace(/_/g, ' ')).join(', ')}`) : null),
        h('p', { class: 'muted cause' }, j.cause),
        table([
          { label: 'Rule', get: (r) => r.description },
          { label: 'Points', get: (r) => fmt.num(r.points, 1), num: true },
          { label: 'From', get: (r) => r.from ?? h('span', { class: 'muted' }, 'the account') },
        ], rules, { empty: 'No rule has given points yet.', rowAttrs: (r) => ({ 'data-rule': r.rule }) }),
        j.history.length ? h('details', null, h('summary', null, `History (${j.history.length})`),
          table([
            { label: 'When', get: (x) => fmt.time(x.time) },
            { label: 'Change', get: (x) => x.kind },
            { label: 'Score', get: (x) => fmt.count(x.score), num: true },
            { label: 'Route', get: (x) => routeBadge(x.route) },
          ], j.history)) : null);
    });
    return allOk([a, u, sc]);
  },
};
