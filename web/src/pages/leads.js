// leads.js — product-qualified leads (GET /api/v1/pqls): how many accounts (or
// people) each route holds, and the leads, sales routes first, then by score,
// with the rules that gave their points and the triggers that fired; the
// at-risk and expansion lists beside them. Scores are live: not tied to the
// date range. URL: #/leads?unit=account&route=inside_sales
import { api } from '../api.js';
import { h, panel, select, table } from '../dom.js';
import * as fmt from '../format.js';
import { allOk, fill, section, stat } from './util.js';

const ROUTES = [
  ['account_executive', 'Account executive'],
  ['inside_sales', 'Inside sales'],
  ['upgrade_campaign', 'Upgrade campaign'],
  ['nurture', 'Nurture'],
];
const LIMIT = 100;

export const routeLabel = (r) => (ROUTES.find(([k]) => k === r) || [r, r])[1];
export const routeBadge = (r) => h('span', { class: `route route-${r}` }, routeLabel(r));

const reasonsText = (rs) => rs.map((r) => `${r.rule.replace(/_/g, ' ')} ${fmt.num(r.points, 1)}`).join(' · ');

export default {
  title: 'Leads',
  async render(root, ctx) {
    const { params } = ctx;
    const unit = params.unit === 'person' ? 'person' : 'account';
    const route = ROUTES.some(([k]) => k === params.route) ? params.route : undefined;
    const head = h('div', { class: 'stats' });
    const listEl = h('div');
    const riskEl = h('div');
    const expEl = h('div');
    const controls = h('div', { class: 'toolbar' },
      select(unit, [['account', 'Accounts'], ['person', 'People']], (v) => ctx.go({ unit: v === 'account' ? undefined : v })),
      select(route || '', [['', 'Every route'], ...ROUTES], (v) => ctx.go({ route: v || undefined })));
    root.append(head,
      panel('Product-qualified leads', listEl, { controls, note: 'Scored live from every event (docs/scoring.md); sales routes first, then by score.' }),
      h('div', { class: 'two' },
        panel('At risk', riskEl, { note: 'Paying accounts whose active events fell against the week before, or that went quiet.' }),
        panel('Expansion', expEl, { note: 'Accounts near their plan\'s seat limit, or that reached a limit this week.' })));
    const link = (key) => (unit === 'account' ? h('a', { href: `#/accounts/${encodeURIComponent(key)}` }, key) : key);
    const l = await section(listEl, async () => {
      const q = new URLSearchParams({ unit, limit: String(LIMIT) });
      if (route) q.set('route', route);
      const j = await api.get(`/api/v1/pqls?${q}`, { fresh: true });
      if (ctx.stale()) return;
      fill(head, ROUTES.map(([k, label]) => stat(label, fmt.count(j.routes[k] ?? 0), { metric: `route_${k}`, raw: j.routes[k] ?? 0 })));
      fill(listEl, table([
        { label: 'Route', get: (x) => routeBadge(x.route) },
        { label: 'Score', get: (x) => fmt.count(x.score), num: true },
        { label: unit === 'account' ? 'Account' : 'Person', get: (x) => link(x.key) },
        { label: 'Triggers', get: (x) => x.triggers.map((t) => t.replace(/_/g, ' ')).join(', ') || fmt.DASH },
        { label: 'Why', get: (x) => h('span', { class: 'muted' }, reasonsText(x.reasons)) },
      ], j.leads, { empty: 'No leads yet: send events, or lower the filters.', rowAttrs: (x) => ({ 'data-key': x.key, 'data-score': String(x.score) }) }),
      j.total > j.leads.length ? h('p', { class: 'muted' }, `Showing ${j.leads.length} of ${fmt.count(j.total)}; flywheel query pqls --top N lists more.`) : null);
      listEl.querySelector('table')?.classList.add('leads');
    });
    const signal = (el, path) => section(el, async () => {
      const j = await api.get(path, { fresh: true });
      if (ctx.stale()) return;
      fill(el, table([
        { label: 'Account', get: (x) => h('a', { href: `#/accounts/${encodeURIComponent(x.key)}` }, x.key) },
        { label: 'MRR', get: (x) => fmt.money(x.mrr), num: true },
        { label: 'Active events, 7 days', get: (x) => `${fmt.count(x.active_events_7d)} (was ${fmt.count(x.active_events_prev_7d)})`, num: true },
        { label: 'Last active', get: (x) => (x.last_active ? fmt.ago(x.last_active) : 'never') },
        { label: 'Members', get: (x) => (x.seat_limit != null ? `${x.members} of ${x.seat_limit}` : fmt.count(x.members)), num: true },
      ], j.accounts.slice(0, 25), { empty: 'None right now.' }));
    });
    return allOk([l, signal(riskEl, '/api/v1/signals/at-risk'), signal(expEl, '/api/v1/signals/expansion')]);
  },
};
