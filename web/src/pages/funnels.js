// funnels.js — build a funnel from event names (suggested from POST /api/v1/query
// {"kind":"events"}), choose the window, order mode, unit and breakdown, and run
// the funnel kind. Bars show who reached each step, who dropped and who is
// still pending; a click on a step lists those people (the kind's "people").
// URL: #/funnels?step=A&step=B&window=14d&mode=ordered&unit=person&breakdown=P&people=2:converted
import { api } from '../api.js';
import { funnelBars } from '../charts.js';
import { clear, field, h, panel, select, table } from '../dom.js';
import * as fmt from '../format.js';
import { list } from '../state.js';
import { combo } from './combo.js';
import { allOk, fill, section } from './util.js';

const MODES = [['ordered', 'In order (others between)'], ['strict', 'Strict order (nothing between)'], ['any_order', 'Any order after step 1']];
const UNITS = [['person', 'People'], ['account', 'Accounts']];
const STATUSES = [['converted', 'reached the step'], ['dropped', 'dropped before it'], ['pending', 'pending (may still convert)']];
const DEFAULT_STEPS = ['Signed Up', 'Project Created', 'Invite Sent'];

export function funnelRequest(params, range) {
  const req = {
    kind: 'funnel',
    steps: list(params.step),
    window: params.window || '14d',
    mode: params.mode || 'ordered',
    unit: params.unit || 'person',
    from: range.from,
    to: range.to,
  };
  if (params.breakdown) req.breakdown = params.breakdown;
  return req;
}

export default {
  title: 'Funnels',
  async render(root, ctx) {
    const { params, range } = ctx;
    const names = await api.query({ kind: 'events' });
    if (ctx.stale()) return true;
    const rows = names.rows || [];
    const options = () => rows.map((r) => ({ name: r.event, hint: `${fmt.count(r.count)} events` }));
    let steps = list(params.step);
    let defaulted = false;
    if (!steps.length && !params.edit) {
      const have = new Set(rows.map((r) => r.event));
      const d = DEFAULT_STEPS.filter((s) => have.has(s));
      if (d.length >= 2) {
        steps = d;
        defaulted = true;
        ctx.setQuiet({ step: steps });
      }
    }
    const draft = { steps: [...steps], window: params.window || '14d', mode: params.mode || 'ordered', unit: params.unit || 'person', breakdown: params.breakdown || '' };

    // ---- builder
    const stepList = h('ol', { class: 'steps' });
    const renderSteps = () => {
      clear(stepList).append(...draft.steps.map((s, i) => h('li', { class: 'step-chip', 'data-step': i + 1 },
        h('span', { class: 'step-name' }, s),
        h('button', { class: 'icon', title: 'Move up', disabled: i === 0, onclick: () => { [draft.steps[i - 1], draft.steps[i]] = [draft.steps[i], draft.steps[i - 1]]; renderSteps(); } }, '↑'),
        h('button', { class: 'icon', title: 'Move down', disabled: i === draft.steps.length - 1, onclick: () => { [draft.steps[i + 1], draft.steps[i]] = [draft.steps[i], draft.steps[i + 1]]; renderSteps(); } }, '↓'),
        h('button', { class: 'icon remove', title: 'Remove', onclick: () => { draft.steps.splice(i, 1); renderSteps(); } }, '×'))));
      if (!draft.steps.length) stepList.append(h('li', { class: 'muted hint' }, 'Add the first step: the event that enters people into the funnel.'));
      runBtn.disabled = draft.steps.length < 2;
      runBtn.title = draft.steps.length < 2 ? 'A funnel needs at least two steps' : '';
    };
    const runBtn = h('button', {
      class: 'primary run',
      onclick: () => ctx.go({ step: draft.steps, window: draft.window, mode: draft.mode, unit: draft.unit === 'person' ? undefined : draft.unit, breakdown: draft.breakdown.trim() || undefined, people: undefined, edit: undefined }),
    }, 'Run funnel');
    const adder = combo({ placeholder: 'Add a step: type an event name…', options, id: 'add-step', onPick: (n) => { draft.steps.push(n); renderSteps(); } });
    const windowIn = h('input', { type: 'text', value: draft.window, size: 6, class: 'window', oninput: (e) => { draft.window = e.target.value.trim(); }, title: 'a number of days, or 30m, 12h, 14d, 2w' });
    const breakdownIn = h('input', { type: 'text', value: draft.breakdown, placeholder: 'e.g. channel', class: 'breakdown', oninput: (e) => { draft.breakdown = e.target.value; } });
    const builder = h('div', { class: 'builder' },
      h('div', { class: 'builder-steps' }, stepList, adder),
      h('div', { class: 'builder-opts' },
        field('Conversion window', windowIn),
        field('Order', select(draft.mode, MODES, (v) => { draft.mode = v; }, { class: 'mode' })),
        field('Count', select(draft.unit, UNITS, (v) => { draft.unit = v; }, { class: 'unit' })),
        field('Breakdown by property of step 1', breakdownIn),
        h('div', { class: 'builder-actions' },
          runBtn,
          h('button', { class: 'clear', onclick: () => { draft.steps = []; renderSteps(); } }, 'Clear steps'))));
    renderSteps();

    const results = h('div', { class: 'results' });
    const peopleEl = h('div', { class: 'people', id: 'funnel-people' });
    root.append(
      panel('Steps', builder, { note: `People enter when they do step 1 between ${range.from} and ${range.to} (exclusive); later steps may come after, within the window.${defaulted ? ' (A default funnel: change the steps and run.)' : ''}` }),
      panel('Conversion', results),
      peopleEl);

    if (steps.length < 2) {
      fill(results, h('p', { class: 'empty' }, 'Add at least two steps and run the funnel.'));
      return true;
    }
    const req = funnelRequest({ ...params, step: steps }, range);
    let answer;
    const ok = await section(results, async () => {
      answer = await api.query(req);
      if (ctx.stale()) return;
      const selected = params.people ? parseInt(String(params.people), 10) - 1 : -1;
      const chart = funnelBars(answer.steps.map((s) => ({ label: s.event, count: s.count, conversion: s.conversion, dropped: s.dropped, pending: s.pending, sub: s.step > 1 ? `${fmt.pct(s.overall)} overall` : '' })),
        { onPick: (i) => showPeople(i + 1, 'converted'), selected });
      const stepsTable = table([
        { label: 'Step', get: (s) => `${s.step}. ${s.event}` },
        { label: 'Count', num: true, get: (s) => fmt.count(s.count) },
        { label: 'From previous', num: true, get: (s) => (s.step > 1 ? fmt.pct(s.conversion) : '') },
        { label: 'Overall', num: true, get: (s) => fmt.pct(s.overall) },
        { label: 'Median time', num: true, get: (s) => (s.step > 1 ? fmt.duration(s.median_seconds) : '') },
        { label: 'p90 time', num: true, get: (s) => (s.step > 1 ? fmt.duration(s.p90_seconds) : '') },
        { label: 'Dropped', num: true, get: (s) => (s.step > 1 ? peopleLink(s.step, 'dropped', s.dropped) : '') },
        { label: 'Pending', num: true, get: (s) => (s.step > 1 ? peopleLink(s.step, 'pending', s.pending) : '') },
      ], answer.steps);
      const parts = [
        h('div', { class: 'summary' },
          h('span', { class: 'big' }, fmt.pct(answer.steps[answer.steps.length - 1].overall)), ' of ',
          fmt.count(answer.steps[0].count), answer.unit === 'account' ? ' accounts' : ' people', ' converted through all steps, within ', fmt.duration(answer.window_seconds), '.'),
        chart, stepsTable,
      ];
      if (answer.breakdown) {
        parts.push(h('h3', null, `By ${answer.breakdown_property} (${answer.breakdown_values} values)`), table([
          { label: answer.breakdown_property, get: (b) => (b.value === null ? '(not set)' : b.value) },
          { label: 'Entered', num: true, get: (b) => fmt.count(b.entered) },
          ...answer.steps.slice(1).map((s, i) => ({ label: `${s.step}. ${s.event}`, num: true, get: (b) => `${fmt.count(b.steps[i + 1].count)} (${fmt.pct(b.steps[i + 1].conversion)})` })),
          { label: 'Overall', num: true, get: (b) => fmt.pct(b.overall) },
        ], answer.breakdown));
      }
      fill(results, parts);
    });

    function peopleLink(step, status, n) {
      return n ? h('a', { href: '#', class: 'people-link', onclick: (e) => { e.preventDefault(); showPeople(step, status); } }, fmt.count(n)) : fmt.count(n);
    }

    async function showPeople(step, status, offset = 0) {
      ctx.setQuiet({ people: `${step}:${status}` });
      root.querySelectorAll('.fb-step').forEach((g) => g.classList.toggle('selected', Number(g.dataset.step) === step));
      const s = answer.steps[step - 1];
      const tabs = h('div', { class: 'tabs' }, STATUSES.filter(([st]) => step > 1 || st === 'converted').map(([st, label]) =>
        h('button', { class: `tab${st === status ? ' active' : ''}`, 'data-status': st, onclick: () => showPeople(step, st) }, `${label} (${fmt.count(st === 'converted' ? s.count : s[st])})`)));
      const listEl = h('div', { class: 'people-list' });
      fill(peopleEl, panel(`Step ${step}: ${s.event}`, h('div', null, tabs, listEl)));
      document.body.dataset.people = 'loading';
      await section(listEl, async () => {
        const r = await api.query({ ...req, people: { step, status, offset, limit: 100 } });
        const p = r.people;
        fill(listEl,
          h('p', { class: 'muted' }, `${fmt.count(p.total)} ${p.unit === 'account' ? 'accounts' : 'people'}${p.total > p.limit ? `, ${p.offset + 1}–${Math.min(p.total, p.offset + p.limit)} shown` : ''}`),
          p.items.length ? h('ul', { class: 'chips' }, p.items.map((k) => h('li', { class: 'person' },
            p.unit === 'account' ? h('a', { href: `#/accounts/${encodeURIComponent(k)}` }, k) : k))) : h('p', { class: 'empty' }, 'Nobody.'),
          h('div', { class: 'pager' },
            p.offset > 0 ? h('button', { onclick: () => showPeople(step, status, Math.max(0, p.offset - p.limit)) }, '← Previous') : null,
            p.offset + p.limit < p.total ? h('button', { onclick: () => showPeople(step, status, p.offset + p.limit) }, 'Next →') : null));
      });
      document.body.dataset.people = 'ready';
    }

    if (ok && params.people) {
      const [st, status] = String(params.people).split(':');
      const n = parseInt(st, 10);
      if (n >= 1 && n <= answer.steps.length) await showPeople(n, STATUSES.some(([x]) => x === status) ? status : 'converted');
    }
    return allOk([ok]);
  },
};
