// account.js — one account: its traits and plan (GET /api/v1/accounts/{id}),
// its members, and its usage over the range (kind "trends" filtered on the
// events naming it: "$context.groupId"). The score arrives with PQL scoring.
// URL: #/accounts/ID
import { api } from '../api.js';
import { timeChart } from '../charts.js';
import { h, panel, table } from '../dom.js';
import * as fmt from '../format.js';
import { allOk, fill, section, stat } from './util.js';

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
    root.append(
      h('p', null, h('a', { href: `#/accounts?${new URLSearchParams(ctx.shared)}` }, '← All accounts')),
      head,
      h('div', { class: 'two' }, panel('Traits', traitsEl), panel('Score', h('div', { class: 'placeholder', id: 'score' },
        h('p', null, h('strong', null, 'Scoring arrives with PQL scoring.')),
        h('p', { class: 'muted' }, 'This account\'s product-qualified-lead score, its reasons (which rule gave how many points, from which events) and its routing (nurture, upgrade campaign, inside sales, account executive) will show here.')))),
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
    return allOk([a, u]);
  },
};
