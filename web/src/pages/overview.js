// overview.js — the PLG metrics (GET /api/v1/metrics) grouped by funnel stage:
// value, target, change against the previous period, and a sparkline of the
// same metric over the same length of time ending at 7 points of the range
// (the first point is the previous period, the last the current value).
import { api } from '../api.js';
import { sparkline } from '../charts.js';
import { h } from '../dom.js';
import * as fmt from '../format.js';
import { DAY_MS, dayMs, isoDay } from '../state.js';
import { fill, section } from './util.js';

// [key, label, kind, lowerIsBetter, help]
export const GROUPS = [
  ['Acquisition', [
    ['signups', 'Sign-ups', 'count', false, 'People whose sign-up is in the range'],
    ['signups_organic', 'Organic sign-ups', 'count', false, 'Sign-ups whose channel is not a paid one'],
    ['signups_paid', 'Paid sign-ups', 'count', false, 'Sign-ups from a paid channel'],
  ]],
  ['Activation', [
    ['activation_rate_1d', 'Activated within 1 day', 'pct', false, 'Share of sign-ups activated within 24 h'],
    ['activation_rate_7d', 'Activated within 7 days', 'pct', false, 'Share of sign-ups activated within 7 × 24 h'],
    ['ttfv_median_seconds', 'Time to first value, median', 'duration', true, 'Activation − sign-up, median'],
    ['ttfv_p90_seconds', 'Time to first value, p90', 'duration', true, 'Activation − sign-up, 90th percentile'],
    ['onboarding_completion', 'Onboarding completion', 'pct', false, 'Sign-ups who did every onboarding step'],
  ]],
  ['Engagement', [
    ['retention_d1', 'Day-1 retention', 'pct', false, 'Active the day after signing up'],
    ['retention_d7', 'Day-7 retention', 'pct', false, 'Active 7 days after signing up'],
    ['retention_w1', 'Week-1 retention', 'pct', false, 'Active in the week after the sign-up week'],
    ['dau_mau', 'DAU / MAU', 'pct', false, 'Mean daily DAU ÷ MAU'],
    ['wau', 'WAU', 'count', false, 'Active people, last 7 days of the range'],
    ['mau', 'MAU', 'count', false, 'Active people, last 30 days of the range'],
    ['active_days_per_week', 'Active days per week', 'num', false, 'Mean active days per active person per full week'],
    ['feature_breadth', 'Feature breadth', 'num', false, 'Mean number of core features used'],
    ['feature_adoption', 'Feature adoption', 'adoption', false, 'Share of active people using each core feature'],
  ]],
  ['Monetization', [
    ['free_to_paid_rate', 'Free-to-paid', 'pct', false, 'Free accounts created in range that paid within 90 days'],
    ['time_to_convert_median_days', 'Time to convert, median', 'days', true, 'Creation → first paid plan'],
    ['acv', 'ACV', 'money', false, 'Mean 12 × first paid MRR'],
    ['nrr', 'Net revenue retention', 'pct', false, 'MRR at the end ÷ at the start, accounts paying at the start'],
    ['grr', 'Gross revenue retention', 'pct', false, 'NRR without expansion'],
    ['expansion_mrr', 'Expansion MRR', 'money', false, 'Sum of upgrades of paying accounts'],
    ['contraction_mrr', 'Contraction MRR', 'money', true, 'Sum of downgrades that still pay'],
    ['churned_mrr', 'Churned MRR', 'money', true, 'MRR of accounts that stopped paying'],
  ]],
  ['Virality', [
    ['k_factor', 'k-factor', 'num', false, 'Invitees who signed up within 30 days, per sign-up'],
  ]],
];

const SPARK_POINTS = 7;

/** The trend line under a value: "▲ 12.5% vs 1,100" (rates: percentage points). */
function trend(kind, v, p, lowerBetter) {
  if (v === null || v === undefined || p === null || p === undefined || typeof v === 'object') {
    return h('div', { class: 'trend flat' }, p === null || p === undefined ? 'no previous data' : `previous ${fmt.byKind(kind, p)}`);
  }
  const d = v - p;
  let text;
  if (kind === 'pct') text = `${d >= 0 ? '+' : '−'}${fmt.num(Math.abs(d) * 100, 1)} pp`;
  else if (p === 0) text = d === 0 ? '±0' : `${d > 0 ? '+' : '−'}${fmt.byKind(kind, Math.abs(d))}`;
  else text = `${d >= 0 ? '+' : '−'}${fmt.num((Math.abs(d) / Math.abs(p)) * 100, 1)}%`;
  const good = d === 0 ? 'flat' : (d > 0) !== lowerBetter ? 'up' : 'down';
  return h('div', { class: `trend ${good}`, title: 'against the period of equal length just before' },
    h('span', { class: 'arrow' }, d > 0 ? '▲' : d < 0 ? '▼' : '■'), ` ${text} `, h('span', { class: 'muted' }, `vs ${fmt.byKind(kind, p)}`));
}

function targetLine(kind, v, t, lowerBetter) {
  if (t === undefined || t === null) return h('div', { class: 'target muted' }, 'no target set');
  const met = v !== null && typeof v === 'number' && (lowerBetter ? v <= t : v >= t);
  return h('div', { class: `target ${met ? 'met' : 'missed'}` }, `target ${fmt.byKind(kind, t)} ${met ? '✓' : ''}`);
}

function adoptionCard(key, label, m, help) {
  const v = m && m.value;
  const rows = v && typeof v === 'object' ? Object.entries(v) : [];
  return h('div', { class: 'card wide', dataset: { metric: key }, title: help },
    h('div', { class: 'card-label' }, label),
    rows.length
      ? h('div', { class: 'bars' }, rows.map(([f, r]) => h('div', { class: 'hbar' },
        h('span', { class: 'hbar-label' }, f),
        h('span', { class: 'hbar-track' }, h('span', { class: 'hbar-fill', style: { width: `${Math.round((r || 0) * 100)}%` } })),
        h('span', { class: 'hbar-value' }, fmt.pct(r)))))
      : h('div', { class: 'card-value muted' }, fmt.DASH),
    rows.length ? null : h('div', { class: 'muted small' }, 'set core_features in flywheel.yaml (docs/config.md)'));
}

function card(key, label, kind, lowerBetter, help, m) {
  const v = m ? m.value : null;
  const spark = h('div', { class: 'spark-host' });
  const c = h('div', { class: 'card', dataset: { metric: key }, title: help },
    h('div', { class: 'card-label' }, label),
    h('div', { class: 'card-value', dataset: { raw: JSON.stringify(v ?? null) } }, fmt.byKind(kind, v)),
    trend(kind, v, m ? m.previous : null, lowerBetter),
    targetLine(kind, v, m ? m.target : undefined, lowerBetter),
    spark);
  return { el: c, spark };
}

/** Ends of the sparkline windows: to − round(k·L/6) days, k = 6 … 0 (oldest first). */
export function sparkEnds(range) {
  const L = range.days;
  const ends = [];
  for (let k = SPARK_POINTS - 1; k >= 0; k--) ends.push(dayMs(range.to) - Math.round((k * L) / (SPARK_POINTS - 1)) * DAY_MS);
  return [...new Set(ends)];
}

export default {
  title: 'Overview',
  async render(root, ctx) {
    const { range } = ctx;
    const body = h('div', { class: 'overview' });
    root.append(
      h('p', { class: 'page-note' }, `PLG metrics from ${range.from} through ${isoDay(dayMs(range.to) - DAY_MS)} (UTC), each against the ${range.days} days before. Sparklines: the same metric over ${range.days}-day windows ending at 7 points from the previous period to now.`),
      body);
    return section(body, async () => {
      const res = await api.metrics(range.from, range.to);
      if (ctx.stale()) return;
      const metrics = res.metrics || {};
      const sparks = [];
      const known = new Set();
      const groups = GROUPS.map(([name, list]) => {
        const cards = list.filter(([k]) => k in metrics || k !== 'feature_adoption').map(([k, label, kind, lower, help]) => {
          known.add(k);
          if (kind === 'adoption') return adoptionCard(k, label, metrics[k], help);
          const c = card(k, label, kind, lower, help, metrics[k]);
          sparks.push({ key: k, kind, host: c.spark });
          return c.el;
        });
        return h('section', { class: 'group', dataset: { group: name.toLowerCase() } }, h('h2', null, name), h('div', { class: 'cards' }, cards));
      });
      // metrics this dashboard does not know yet still show
      const extra = Object.keys(metrics).filter((k) => !known.has(k));
      if (extra.length) {
        groups.push(h('section', { class: 'group' }, h('h2', null, 'Other'), h('div', { class: 'cards' }, extra.map((k) => {
          const v = metrics[k].value;
          if (v && typeof v === 'object') return adoptionCard(k, k, metrics[k], '');
          const c = card(k, k, 'num', false, '', metrics[k]);
          sparks.push({ key: k, kind: 'num', host: c.spark });
          return c.el;
        }))));
      }
      fill(body, groups);

      // sparklines: the rolling windows; the newest is this answer, the oldest its `previous`
      const ends = sparkEnds(range);
      const L = range.days * DAY_MS;
      const answers = await Promise.all(ends.map((end) => {
        if (end === dayMs(range.to)) return res;
        if (end === dayMs(range.from)) return null; // = previous of res
        return api.metrics(isoDay(end - L), isoDay(end));
      }));
      if (ctx.stale()) return;
      for (const { key, kind, host } of sparks) {
        const values = answers.map((a) => (a ? a.metrics[key]?.value ?? null : metrics[key]?.previous ?? null));
        if (values.every((v) => v === null)) continue;
        sparkline(host, values, { titles: ends.map((e, i) => `${isoDay(e - L)} – ${isoDay(e - DAY_MS)}: ${fmt.byKind(kind, values[i])}`) });
      }
    });
  },
};
