// engagement.js — active users (kind "trends": DAU, WAU, MAU and DAU/MAU),
// stickiness (people by active days per week or month) and lifecycle (new,
// returning, resurrecting and dormant per period).
// URL: #/engagement?unit=person&period=week&lperiod=week
import { api } from '../api.js';
import { categoryBars, stackedBars, timeChart } from '../charts.js';
import { field, h, panel, select } from '../dom.js';
import * as fmt from '../format.js';
import { allOk, fill, section, stat } from './util.js';

const UNITS = [['person', 'People'], ['account', 'Accounts']];

export function engagementRequests(params, range) {
  const unit = params.unit || 'person';
  return {
    trends: {
      kind: 'trends', unit, from: range.from, to: range.to, period: range.days > 120 ? 'week' : 'day',
      series: [{ math: 'dau', label: 'DAU' }, { math: 'wau', label: 'WAU' }, { math: 'mau', label: 'MAU' }, { math: 'dau_mau', label: 'DAU/MAU' }],
    },
    stickiness: { kind: 'stickiness', unit, period: params.period === 'month' ? 'month' : 'week', from: range.from, to: range.to },
    lifecycle: { kind: 'lifecycle', unit, period: params.lperiod || (range.days <= 21 ? 'day' : range.days > 200 ? 'month' : 'week'), from: range.from, to: range.to },
  };
}

export default {
  title: 'Engagement',
  async render(root, ctx) {
    const { params, range } = ctx;
    const req = engagementRequests(params, range);
    const who = req.trends.unit === 'account' ? 'accounts' : 'people';
    const statsEl = h('div', { class: 'stats' });
    const activeEl = h('div');
    const ratioEl = h('div');
    const stickEl = h('div');
    const lifeEl = h('div');
    root.append(
      h('div', { class: 'toolbar' }, field('Count', select(req.trends.unit, UNITS, (v) => ctx.go({ unit: v === 'person' ? undefined : v })))),
      statsEl,
      panel('Active users', activeEl, { note: `Distinct ${who} with an active event on the day (DAU), in the 7 days (WAU) and the 30 days (MAU) ending that day.` }),
      panel('DAU / MAU', ratioEl, { note: 'Stickiness of the product: the share of the month\'s active users who are active on a given day.' }),
      panel('Stickiness', stickEl, {
        controls: select(req.stickiness.period, [['week', 'Days per week'], ['month', 'Days per month']], (v) => ctx.go({ period: v === 'week' ? undefined : v })),
        note: `How many ${who} were active on exactly 1, 2, … days of each whole ${req.stickiness.period} inside the range, all periods pooled.`,
      }),
      panel('Lifecycle', lifeEl, {
        controls: select(req.lifecycle.period, [['day', 'Daily'], ['week', 'Weekly'], ['month', 'Monthly']], (v) => ctx.go({ lperiod: v })),
        note: `Where each period's active ${who} come from: new, returning (active the period before), resurrecting (back after a gap); dormant ones (active the period before, not in this one) are drawn below zero.`,
      }));

    const trendsP = api.query(req.trends);
    const a = section(activeEl, async () => {
      const t = await trendsP;
      if (ctx.stale()) return;
      const days = t.series[0].points.map((p) => p.period);
      const byMath = Object.fromEntries(t.series.map((s) => [s.math, s]));
      fill(statsEl,
        stat('DAU (last day)', fmt.count(byMath.dau.total), { metric: 'dau', raw: byMath.dau.total }),
        stat('WAU', fmt.count(byMath.wau.total), { metric: 'wau', raw: byMath.wau.total }),
        stat('MAU', fmt.count(byMath.mau.total), { metric: 'mau', raw: byMath.mau.total }),
        stat('DAU / MAU (mean)', fmt.pct(byMath.dau_mau.total), { metric: 'dau_mau', raw: byMath.dau_mau.total }));
      fill(activeEl);
      timeChart(activeEl, { days, series: ['dau', 'wau', 'mau'].map((m) => ({ label: byMath[m].label, values: byMath[m].points.map((p) => p.value) })), kind: 'count' });
      fill(ratioEl);
      timeChart(ratioEl, { days, series: [{ label: 'DAU/MAU', values: byMath.dau_mau.points.map((p) => p.value), color: '#8e6bd8' }], kind: 'pct', height: 200 });
    });
    const s = section(stickEl, async () => {
      const st = await api.query(req.stickiness);
      if (ctx.stale()) return;
      if (!st.periods.length) {
        fill(stickEl, h('p', { class: 'empty' }, `No whole ${st.period} inside this range: widen the range.`));
        return;
      }
      const pooled = st.pooled;
      fill(stickEl, h('p', { class: 'summary' }, `${fmt.count(pooled.active)} active ${who}-${st.period}s, ${fmt.num(pooled.mean_active_days, 1)} active days on average.`));
      const host = h('div');
      stickEl.append(host);
      categoryBars(host, { labels: pooled.active_days.map((_, i) => `${i + 1}`), series: [{ label: `${who}`, values: pooled.active_days }], xLabel: `Active days in the ${st.period}` });
    });
    const l = section(lifeEl, async () => {
      const lc = await api.query(req.lifecycle);
      if (ctx.stale()) return;
      if (!lc.periods.length) {
        fill(lifeEl, h('p', { class: 'empty' }, 'No period starts in this range.'));
        return;
      }
      fill(lifeEl);
      const days = lc.periods.map((p) => p.period);
      stackedBars(lifeEl, {
        days,
        layers: [
          { label: 'New', values: lc.periods.map((p) => p.new), color: '#2bb673' },
          { label: 'Returning', values: lc.periods.map((p) => p.returning), color: '#4f6bed' },
          { label: 'Resurrecting', values: lc.periods.map((p) => p.resurrecting), color: '#c4a21b' },
          { label: 'Dormant', values: lc.periods.map((p) => p.dormant), color: '#d64550', sign: -1 },
        ],
      });
    });
    return allOk([a, s, l]);
  },
};
