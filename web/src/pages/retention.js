// retention.js — cohorts by sign-up period (kind "retention"): a heatmap of the
// share of each cohort active k periods later, and the pooled curve. A click on
// a cell lists the people retained there.
// URL: #/retention?period=week&periods=8&mode=on&unit=person&activated=1
import { api } from '../api.js';
import { heat, periodLine } from '../charts.js';
import { field, h, panel, select } from '../dom.js';
import * as fmt from '../format.js';
import { allOk, fill, section } from './util.js';

const PERIODS = [['day', 'Daily'], ['week', 'Weekly'], ['month', 'Monthly']];
const MODES = [['on', 'Active in the period'], ['on_or_after', 'Active in it or later']];
const UNITS = [['person', 'People'], ['account', 'Accounts']];
const SHORT = { day: 'Day', week: 'Week', month: 'Month' };

export function retentionRequest(params, range) {
  const req = {
    kind: 'retention',
    period: params.period || 'week',
    periods: Math.max(1, Math.min(400, parseInt(params.periods || '8', 10) || 8)),
    mode: params.mode || 'on',
    unit: params.unit || 'person',
    from: range.from,
    to: range.to,
  };
  if (params.activated === '1') req.activated_only = true;
  return req;
}

export default {
  title: 'Retention',
  async render(root, ctx) {
    const { params, range } = ctx;
    const req = retentionRequest(params, range);
    const controls = [
      field('Cohorts by', select(req.period, PERIODS, (v) => ctx.go({ period: v }), { class: 'period' })),
      field('Periods', select(req.periods, [4, 6, 8, 12, 16, 26, 52].map((n) => [n, String(n)]), (v) => ctx.go({ periods: v }))),
      field('Retained if', select(req.mode, MODES, (v) => ctx.go({ mode: v === 'on' ? undefined : v }))),
      field('Count', select(req.unit, UNITS, (v) => ctx.go({ unit: v === 'person' ? undefined : v }))),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: !!req.activated_only, onchange: (e) => ctx.go({ activated: e.target.checked ? '1' : undefined }) }), ' activated only'),
    ];
    const heatEl = h('div');
    const curveEl = h('div');
    const peopleEl = h('div', { id: 'retention-people' });
    root.append(
      h('div', { class: 'toolbar' }, controls),
      panel('Retention curve', curveEl, { note: 'Of everyone who signed up in the cohorts, the share active again k periods later (cohorts pooled: people summed, not rates averaged).' }),
      panel('Cohorts', heatEl, { note: `Cohorts are the ${req.period}s starting between ${range.from} and ${range.to}. Click a cell for its people.` }),
      peopleEl);
    let answer;
    const ok = await section(heatEl, async () => {
      answer = await api.query(req);
      if (ctx.stale()) return;
      const n = Math.max(0, ...answer.cohorts.map((c) => c.retained.length));
      const head = h('tr', null, h('th', null, 'Cohort'), h('th', { class: 'num' }, 'Size'), Array.from({ length: n }, (_, k) => h('th', { class: 'num' }, `${SHORT[answer.period]} ${k}`)));
      const rows = answer.cohorts.map((c) => h('tr', null,
        h('td', null, fmt.day(c.cohort)), h('td', { class: 'num' }, fmt.count(c.size)),
        Array.from({ length: n }, (_, k) => (k < c.rates.length
          ? h('td', {
            class: `num cell${c.size ? ' clickable' : ''}`,
            style: { background: heat(c.rates[k]), color: c.rates[k] > 0.55 ? '#fff' : '' },
            title: `${fmt.count(c.retained[k])} of ${fmt.count(c.size)}`,
            'data-cohort': c.cohort,
            'data-k': k,
            onclick: c.size ? () => showPeople(c.cohort, k) : null,
          }, fmt.pct(c.rates[k]))
          : h('td', { class: 'cell future' }, '')))));
      const pooled = h('tr', { class: 'pooled' }, h('td', null, 'All cohorts'), h('td', { class: 'num' }, fmt.count(answer.curve[0]?.size ?? 0)),
        Array.from({ length: n }, (_, k) => h('td', { class: 'num cell', style: { background: heat(answer.curve[k]?.rate) } }, fmt.pct(answer.curve[k]?.rate))));
      fill(heatEl, answer.cohorts.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'data heatmap' }, h('thead', null, head), h('tbody', null, rows, pooled)))
        : h('p', { class: 'empty' }, 'No cohort starts in this range.'));
    });
    const ok2 = await section(curveEl, async () => {
      if (!answer) throw new Error('no retention answer');
      const curve = answer.curve || [];
      if (!curve.length) {
        fill(curveEl, h('p', { class: 'empty' }, 'Nobody signed up in this range.'));
        return;
      }
      fill(curveEl);
      periodLine(curveEl, { labels: curve.map((c) => `${SHORT[answer.period]} ${c.period}`), series: [{ label: 'Retained', values: curve.map((c) => c.rate) }], kind: 'pct', xLabel: `${SHORT[answer.period]}s after the cohort period` });
    });

    async function showPeople(cohort, k) {
      ctx.setQuiet({ cell: `${cohort}:${k}` });
      const listEl = h('div');
      fill(peopleEl, panel(`Cohort ${fmt.day(cohort)}, ${SHORT[answer.period].toLowerCase()} ${k}`, listEl));
      await section(listEl, async () => {
        const [ret, lost] = await Promise.all([
          api.query({ ...req, people: { cohort, period: k, status: 'retained', limit: 200 } }),
          api.query({ ...req, people: { cohort, period: k, status: 'lost', limit: 200 } }),
        ]);
        const chips = (p) => (p.items.length ? h('ul', { class: 'chips' }, p.items.map((x) => h('li', { class: 'person' }, p.unit === 'account' ? h('a', { href: `#/accounts/${encodeURIComponent(x)}` }, x) : x))) : h('p', { class: 'empty' }, 'Nobody.'));
        fill(listEl,
          h('h3', null, `Retained (${fmt.count(ret.people.total)})`), chips(ret.people),
          h('h3', null, `Not retained (${fmt.count(lost.people.total)})`), chips(lost.people));
      });
    }
    if (ok && params.cell) {
      const [c, k] = String(params.cell).split(':');
      if (answer.cohorts.some((x) => x.cohort === c)) await showPeople(c, parseInt(k, 10) || 0);
    }
    return allOk([ok, ok2]);
  },
};
