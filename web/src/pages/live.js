// live.js — the newest events as they arrive (GET /api/v1/events/latest, every
// 2 s) and the ingestion warnings (GET /api/v1/warnings): what was skipped and why.
import { api } from '../api.js';
import { clear, h, panel, table } from '../dom.js';
import * as fmt from '../format.js';
import { section } from './util.js';

const POLL_MS = 2000;
const LIMIT = 50;

function props(e) {
  const p = e.properties && Object.keys(e.properties).length ? JSON.stringify(e.properties) : '';
  return p.length > 120 ? `${p.slice(0, 119)}…` : p;
}

export default {
  title: 'Live events',
  async render(root, ctx) {
    let paused = false;
    const seen = new Set();
    const status = h('span', { class: 'live-status' }, 'connecting…');
    const pauseBtn = h('button', { class: 'pause', onclick: () => { paused = !paused; pauseBtn.textContent = paused ? 'Resume' : 'Pause'; if (!paused) tick(); } }, 'Pause');
    const eventsEl = h('div', { id: 'live-events' });
    const warnEl = h('div', { id: 'live-warnings' });
    root.append(
      panel('Latest events', eventsEl, { controls: [status, pauseBtn], note: 'Tracks, pages and screens in the order they were stored, newest first; refreshed every 2 seconds.' }),
      panel('Ingestion warnings', warnEl, { note: 'Messages that were skipped (the rest of their request was stored): fix the sender, then resend.' }));

    let timer = null;
    let first = true;
    const draw = (ev, warn) => {
      const rows = ev.events || [];
      clear(eventsEl).append(table([
        { label: 'Time', get: (e) => h('span', { title: `received ${fmt.time(e.received_at)}` }, fmt.time(e.time)) },
        { label: 'Event', get: (e) => h('strong', null, e.event ?? e.type) },
        { label: 'Person', get: (e) => e.user_id ?? h('span', { class: 'muted' }, e.anonymous_id ?? '') },
        { label: 'Account', get: (e) => (e.account ? h('a', { href: `#/accounts/${encodeURIComponent(e.account)}` }, e.account) : '') },
        { label: 'Source', get: (e) => e.source },
        { label: 'Properties', class: 'props', get: (e) => props(e) },
      ], rows, {
        empty: 'No events yet: send some from your app (see "Connect your app").',
        rowAttrs: (e) => ({ class: !first && !seen.has(e.message_id) ? 'fresh' : '', 'data-id': e.message_id }),
      }));
      rows.forEach((e) => seen.add(e.message_id));
      const ws = warn.warnings || [];
      clear(warnEl).append(table([
        { label: 'Time', get: (w) => fmt.time(w.time) },
        { label: 'Source', get: (w) => w.source },
        { label: 'Reason', get: (w) => h('code', null, w.reason) },
        { label: 'Message', get: (w) => w.message },
        { label: 'Sample', class: 'props', get: (w) => (w.sample ? h('details', null, h('summary', null, 'show'), h('pre', null, typeof w.sample === 'string' ? w.sample : JSON.stringify(w.sample, null, 2))) : '') },
      ], ws, { empty: 'No warnings: every message received so far was usable.' }));
      first = false;
    };
    const fetchBoth = () => Promise.all([
      api.get(`/api/v1/events/latest?limit=${LIMIT}`, { fresh: true }),
      api.get(`/api/v1/warnings?limit=${LIMIT}`, { fresh: true }),
    ]);
    async function tick() {
      clearTimeout(timer);
      if (ctx.stale() || paused) return;
      try {
        const [ev, warn] = await fetchBoth();
        if (ctx.stale()) return;
        draw(ev, warn);
        status.textContent = `updated ${new Date().toISOString().slice(11, 19)} UTC`;
        status.className = 'live-status ok';
      } catch (e) {
        if (ctx.stale() || e.status === 401) return;
        status.textContent = `cannot refresh: ${e.message}`;
        status.className = 'live-status error';
      }
      if (!ctx.stale() && !paused) timer = setTimeout(tick, POLL_MS);
    }
    ctx.onCleanup(() => clearTimeout(timer));
    // the first answer decides "ready"; then it polls
    const ok = await section(eventsEl, async () => {
      const [ev, warn] = await fetchBoth();
      if (ctx.stale()) return;
      draw(ev, warn);
      status.textContent = `updated ${new Date().toISOString().slice(11, 19)} UTC`;
      status.className = 'live-status ok';
    });
    timer = setTimeout(tick, POLL_MS);
    return ok;
  },
};
