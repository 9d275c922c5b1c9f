// revenue.js — MRR and its movements per period (kind "revenue"): new,
// reactivation and expansion up, contraction and churn down; NRR and GRR per
// period and over the whole range. A click on a movement lists its accounts.
// URL: #/revenue?period=month
import { api } from '../api.js';
import { stackedBars, timeChart } from '../charts.js';
import { field, h, panel, select, table } from '../dom.js';
import * as fmt from '../format.js';
import { DAY_MS, dayMs, isoDay } from '../state.js';
import { fill, section, stat } from './util.js';

const MOVES = [
  ['new', 'New', '#2bb673', 1],
  ['reactivation', 'Reactivation', '#1fa2b8', 1],
  ['expansion', 'Expansion', '#4f6bed', 1],
  ['contraction', 'Contraction', '#e8833a', -1],
  ['churn', 'Churn', '#d64550', -1],
];

export function revenueRequest(params, range) {
  const period = ['day', 'week', 'month'].includes(params.period) ? params.period : range.days > 120 ? 'month' : 'week';
  return { kind: 'revenue', period, from: range.from, to: range.to };
}

export default {
  title: 'Revenue',
  async render(root, ctx) {
    const { params, range } = ctx;
    const req = revenueRequest(params, range);
    const statsEl = h('div', { class: 'stats' });
    const mrrEl = h('div');
    const movesEl = h('div');
    const tableEl = h('div');
    const peopleEl = h('div', { id: 'revenue-accounts' });
    root.append(
      h('div', { class: 'toolbar' },
        field('Periods', select(req.period, [['day', 'Days'], ['week', 'Weeks'], ['month', 'Months']], (v) => ctx.go({ period: v }), { class: 'period' })),
        field('Currency', select(fmt.getCurrency(), ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'AUD', 'INR', 'BRL'].map((c) => [c, c]), (v) => ctx.go({ currency: v === 'USD' ? undefined : v })))),
      statsEl,
      panel('MRR', mrrEl, { note: 'Monthly recurring revenue at the end of each period: each account\'s latest plan change (Plan Changed, or group traits plan + mrr).' }),
      panel('MRR movements', movesEl, { note: 'Each account\'s MRR at the start of a period against its end: new, reactivation and expansion above zero; contraction and churn below.' }),
      panel('By period', tableEl),
      peopleEl);
    let answer;
    const ok = await section(statsEl, async () => {
      answer = await api.query(req);
      if (ctx.stale()) return;
      const r = answer.range;
      fill(statsEl,
        stat('MRR at the end', fmt.money(r.mrr_end), { metric: 'mrr_end', raw: r.mrr_end, sub: `${fmt.count(r.paying_end)} paying accounts` }),
        stat('MRR at the start', fmt.money(r.mrr_start), { metric: 'mrr_start', raw: r.mrr_start, sub: `${fmt.count(r.paying_start)} paying accounts` }),
        stat('Net revenue retention', fmt.pct(r.nrr), { metric: 'nrr', raw: r.nrr, sub: 'over the whole range' }),
        stat('Gross revenue retention', fmt.pct(r.grr), { metric: 'grr', raw: r.grr, sub: 'without expansion' }),
        stat('New MRR', fmt.money(r.new), { metric: 'new', raw: r.new, sub: `${fmt.count(r.new_accounts)} accounts` }),
        stat('Expansion', fmt.money(r.expansion), { metric: 'expansion', raw: r.expansion, sub: `${fmt.count(r.expansion_accounts)} accounts` }),
        stat('Contraction', fmt.money(r.contraction), { metric: 'contraction', raw: r.contraction, sub: `${fmt.count(r.contraction_accounts)} accounts` }),
        stat('Churn', fmt.money(r.churn), { metric: 'churn', raw: r.churn, sub: `${fmt.count(r.churn_accounts)} accounts` }));
    });
    if (!ok) return false;
    const periods = answer.periods;
    const days = periods.map((p) => p.start);
    if (!answer.range.mrr_start && !answer.range.mrr_end && periods.every((p) => !p.mrr_start && !p.mrr_end)) {
      const none = () => h('p', { class: 'empty' }, 'No account paid in this range. MRR comes from plan changes: a "Plan Changed" track naming the account (context.groupId) with properties plan and mrr, or a group call whose traits carry both.');
      fill(mrrEl, none());
      fill(movesEl, none());
      fill(tableEl, h('p', { class: 'empty' }, 'Nothing to show.'));
      return true;
    }
    fill(mrrEl);
    timeChart(mrrEl, { days: [...days, periods.length ? periods[periods.length - 1].end : answer.to], series: [{ label: 'MRR', values: [...periods.map((p) => p.mrr_start), periods.length ? periods[periods.length - 1].mrr_end : null] }], kind: 'money', height: 220 });
    fill(movesEl);
    stackedBars(movesEl, { days, layers: MOVES.map(([k, label, color, sign]) => ({ label, color, sign, values: periods.map((p) => p[k]) })), kind: 'money' });
    const moveCell = (p, k) => (p[`${k}_accounts`]
      ? h('a', { href: '#', class: 'people-link', onclick: (e) => { e.preventDefault(); showAccounts(p.start, k); } }, fmt.money(p[k]))
      : fmt.money(p[k]));
    fill(tableEl, table([
      { label: 'Period (UTC days)', get: (p) => `${p.start} – ${isoDay(dayMs(p.end) - DAY_MS)}` },
      { label: 'MRR start', num: true, get: (p) => fmt.money(p.mrr_start) },
      ...MOVES.map(([k, label]) => ({ label, num: true, get: (p) => moveCell(p, k) })),
      { label: 'MRR end', num: true, get: (p) => fmt.money(p.mrr_end) },
      { label: 'NRR', num: true, get: (p) => fmt.pct(p.nrr) },
      { label: 'GRR', num: true, get: (p) => fmt.pct(p.grr) },
    ], periods));

    async function showAccounts(period, movement) {
      ctx.setQuiet({ accounts: `${period}:${movement}` });
      const listEl = h('div');
      fill(peopleEl, panel(`${MOVES.find(([k]) => k === movement)[1]} in the period from ${period}`, listEl));
      await section(listEl, async () => {
        const r = await api.query({ ...req, people: { period, movement, limit: 500 } });
        fill(listEl, r.people.items.length
          ? h('ul', { class: 'chips' }, r.people.items.map((a) => h('li', null, h('a', { href: `#/accounts/${encodeURIComponent(a)}` }, a))))
          : h('p', { class: 'empty' }, 'No account.'));
      });
    }
    if (params.accounts) {
      const [p, m] = String(params.accounts).split(':');
      if (periods.some((x) => x.start === p) && MOVES.some(([k]) => k === m)) await showAccounts(p, m);
    }
    return true;
  },
};
