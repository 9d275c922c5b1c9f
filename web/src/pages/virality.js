// virality.js — the invite funnel of the people who signed up in the range
// (kind "virality"): sign-ups → inviters → invites accepted → invitees signed up
// → invitees activated, the k-factor, and workspaces that grew to 2 and 5
// members. A click on a bar lists who is behind it.
// URL: #/virality?window=30d
import { api } from '../api.js';
import { funnelBars } from '../charts.js';
import { field, h, panel } from '../dom.js';
import * as fmt from '../format.js';
import { fill, section, stat } from './util.js';

const STEPS = [
  ['signups', 'Signed up', 'signups'],
  ['inviters', 'Sent an invite', 'inviters'],
  ['invites_accepted', 'Invites accepted', 'invitees_accepted'],
  ['invitees_signed_up', 'Invitees signed up', 'invitees_signed_up'],
  ['invitees_activated', 'Invitees activated', 'invitees_activated'],
];

export function viralityRequest(params, range) {
  const req = { kind: 'virality', from: range.from, to: range.to };
  if (params.window) req.window = params.window;
  return req;
}

export default {
  title: 'Virality',
  async render(root, ctx) {
    const { params, range } = ctx;
    const req = viralityRequest(params, range);
    const statsEl = h('div', { class: 'stats' });
    const funnelEl = h('div');
    const wsEl = h('div');
    const peopleEl = h('div', { id: 'virality-people' });
    const windowIn = h('input', { type: 'text', size: 6, value: params.window || '', placeholder: '30d', onchange: (e) => ctx.go({ window: e.target.value.trim() || undefined }) });
    root.append(
      h('div', { class: 'toolbar' }, field('Invitee sign-up window', windowIn)),
      statsEl,
      panel('Invite funnel', funnelEl, { note: 'Everyone who signed up in the range, at any time after: invites are pairs (inviter, invitee); an invitee counts if they signed up within the window of the inviter\'s sign-up. Click a bar for its people.' }),
      panel('Workspaces', wsEl, { note: 'Accounts created in the range that reached 2 and 5 members within the window.' }),
      peopleEl);
    let answer;
    const ok = await section(statsEl, async () => {
      answer = await api.query(req);
      if (ctx.stale()) return;
      fill(statsEl,
        stat('k-factor', fmt.num(answer.k_factor), { metric: 'k_factor', raw: answer.k_factor, sub: 'invitees signed up per sign-up' }),
        stat('Sign-ups', fmt.count(answer.signups), { metric: 'signups', raw: answer.signups }),
        stat('Invites sent', fmt.count(answer.invites_sent), { metric: 'invites_sent', raw: answer.invites_sent, sub: `by ${fmt.count(answer.inviters)} people` }),
        stat('Invitees signed up', fmt.count(answer.invitees_signed_up), { metric: 'invitees_signed_up', raw: answer.invitees_signed_up, sub: `within ${answer.window_days} days` }));
    });
    if (!ok) return false;
    // pairs and people mix here, so each bar is read against the sign-ups, not the bar before
    const bars = STEPS.map(([k, label], i) => ({
      label, count: answer[k],
      note: i && answer.signups ? `${fmt.num(answer[k] / answer.signups)} per sign-up` : '',
    }));
    fill(funnelEl, funnelBars(bars, { gaps: false, onPick: (i) => showPeople(STEPS[i][2], STEPS[i][1]) }));
    const ws = answer.workspaces;
    fill(wsEl, funnelBars([
      { label: 'Created', count: ws.created },
      { label: '2+ members', count: ws.with_2_members, note: ws.created ? `${fmt.pct(ws.with_2_members / ws.created)} of created` : '' },
      { label: '5+ members', count: ws.with_5_members, note: ws.created ? `${fmt.pct(ws.with_5_members / ws.created)} of created` : '' },
    ], { gaps: false, onPick: (i) => (i ? showPeople(i === 1 ? 'workspaces_2' : 'workspaces_5', i === 1 ? 'Workspaces with 2+ members' : 'Workspaces with 5+ members') : null), height: 200 }));

    async function showPeople(status, label) {
      ctx.setQuiet({ people: status });
      const listEl = h('div');
      fill(peopleEl, panel(label, listEl));
      await section(listEl, async () => {
        const r = await api.query({ ...req, people: { status, limit: 500 } });
        const p = r.people;
        fill(listEl, h('p', { class: 'muted' }, `${fmt.count(p.total)} ${p.unit === 'account' ? 'accounts' : 'people'}`),
          p.items.length ? h('ul', { class: 'chips' }, p.items.map((x) => h('li', null, p.unit === 'account' ? h('a', { href: `#/accounts/${encodeURIComponent(x)}` }, x) : x))) : h('p', { class: 'empty' }, 'Nobody.'));
      });
    }
    const known = STEPS.find(([, , s]) => s === params.people);
    if (known) await showPeople(known[2], known[1]);
    else if (params.people === 'workspaces_2' || params.people === 'workspaces_5') await showPeople(params.people, params.people === 'workspaces_2' ? 'Workspaces with 2+ members' : 'Workspaces with 5+ members');
    return true;
  },
};
