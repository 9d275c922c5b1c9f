// app.js — the Flywheel dashboard: a login with the secret key, a sidebar, a
// date-range picker, and one page per hash route (#/overview, #/funnels, …).
// Each page renders from the URL alone; <body data-page data-state> says which
// page is shown and whether all its API calls have answered and its charts are
// drawn ("ready"), for tests, the benchmark and print.
import './style.css';
import { api, clearKey, getKey, setKey, setUnauthorizedHandler } from './api.js';
import { destroyCharts } from './charts.js';
import { clear, h, select } from './dom.js';
import { setCurrency } from './format.js';
import { DAY_MS, PRESETS, dayMs, formatHash, isoDay, parseHash, resolveRange } from './state.js';
import overview from './pages/overview.js';
import funnels from './pages/funnels.js';
import retention from './pages/retention.js';
import engagement from './pages/engagement.js';
import revenue from './pages/revenue.js';
import virality from './pages/virality.js';
import accounts from './pages/accounts.js';
import account from './pages/account.js';
import leads from './pages/leads.js';
import live from './pages/live.js';
import connect from './pages/connect.js';

const PAGES = { overview, funnels, retention, engagement, revenue, virality, leads, accounts, account, live, connect };
const NAV = [
  ['overview', 'Overview'],
  ['funnels', 'Funnels'],
  ['retention', 'Retention'],
  ['engagement', 'Engagement'],
  ['revenue', 'Revenue'],
  ['virality', 'Virality'],
  ['leads', 'Leads'],
  ['accounts', 'Accounts'],
  ['live', 'Live events'],
  ['connect', 'Connect your app'],
];
// parameters that follow the user from page to page
const SHARED = ['from', 'to', 'range', 'currency'];

const app = document.getElementById('app');
let renderSeq = 0;
let cleanups = [];
let loginMessage = '';

function setState(page, state) {
  document.body.dataset.page = page;
  document.body.dataset.state = state;
  document.body.dataset.render = String(renderSeq);
}

function runCleanups() {
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch { /* a page's timer is gone already */ }
  }
  destroyCharts();
}

// ---------------------------------------------------------------- login

function showLogin(message = '') {
  runCleanups();
  renderSeq++;
  setState('login', 'ready');
  document.title = 'Log in · Flywheel';
  const input = h('input', { type: 'password', id: 'key', name: 'key', autocomplete: 'current-password', placeholder: 'sk_…', required: true, autofocus: true });
  const remember = h('input', { type: 'checkbox', id: 'remember' });
  const msg = h('p', { class: `login-msg${message ? ' error' : ''}`, role: 'alert' }, message);
  const button = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', {
    class: 'login-card',
    onsubmit: async (e) => {
      e.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      button.disabled = true;
      msg.className = 'login-msg';
      msg.textContent = 'Checking…';
      try {
        await api.get('/api/v1/keys', { key, fresh: true, login: true });
        setKey(key, remember.checked);
        loginMessage = '';
        route();
      } catch (err) {
        msg.className = 'login-msg error';
        msg.textContent = err.status === 401
          ? 'That key was not accepted: use the secret key of this server (flywheel serve prints it on first start; FLYWHEEL_SECRET_KEY or keys.secret in flywheel.yaml). A write key cannot read.'
          : err.message;
        button.disabled = false;
        input.select();
      }
    },
  },
  h('div', { class: 'brand big' }, h('span', { class: 'logo' }), 'Flywheel'),
  h('p', null, 'Product-led growth analytics. Log in with this server\'s secret key.'),
  h('label', { for: 'key' }, 'Secret key'), input,
  h('label', { class: 'check' }, remember, ' Remember me on this browser'),
  button, msg);
  clear(app).append(h('div', { class: 'login' }, form));
  input.focus();
}

setUnauthorizedHandler(() => {
  clearKey();
  loginMessage = 'Your key is no longer accepted by the server: log in again with the secret key.';
  showLogin(loginMessage);
});

// ---------------------------------------------------------------- shell

function rangePicker(route, range) {
  const go = (params) => navigate(route.page, route.id, { ...route.params, from: undefined, to: undefined, range: undefined, ...params });
  const fromIn = h('input', { type: 'date', value: range.from, 'aria-label': 'From (UTC)', class: 'rp-from' });
  const thruIn = h('input', { type: 'date', value: isoDay(dayMs(range.to) - DAY_MS), 'aria-label': 'Through (UTC, included)', class: 'rp-thru' });
  const onDates = () => {
    const f = fromIn.value;
    const t = thruIn.value;
    if (!f || !t || dayMs(t) < dayMs(f)) return;
    go({ from: f, to: isoDay(dayMs(t) + DAY_MS) });
  };
  fromIn.addEventListener('change', onDates);
  thruIn.addEventListener('change', onDates);
  return h('div', { class: 'range-picker', title: 'Dates are UTC days; both ends included' },
    select(range.preset, [...PRESETS, ['custom', 'Custom']], (v) => (v === 'custom' ? fromIn.focus() : go({ range: v === '30d' ? undefined : v })), { 'aria-label': 'Date range', class: 'rp-preset' }),
    fromIn, h('span', { class: 'rp-sep' }, '→'), thruIn,
    h('span', { class: 'print-only rp-print' }, `${range.from} – ${isoDay(dayMs(range.to) - DAY_MS)} (UTC)`));
}

export function navigate(page, id, params, { replace = false } = {}) {
  const hash = formatHash(page, id, params);
  if (hash === location.hash) route();
  else if (replace) {
    history.replaceState(null, '', hash);
    route();
  } else location.hash = hash;
}

/** Change the URL's parameters without rendering again (selections within a page). */
function setQuiet(route, params) {
  const next = { ...route.params, ...params };
  history.replaceState(null, '', formatHash(route.page, route.id, next));
  route.params = next;
}

async function route() {
  if (!getKey()) return showLogin(loginMessage);
  runCleanups();
  const seq = ++renderSeq;
  const r = parseHash();
  // #/accounts/ID is one account's page
  const page = r.page === 'accounts' && r.id ? 'account' : PAGES[r.page] ? r.page : 'overview';
  const mod = PAGES[page];
  const range = resolveRange(r.params);
  setCurrency(r.params.currency || 'USD');
  setState(page, 'loading');
  document.title = `${mod.title} · Flywheel`;

  const shared = Object.fromEntries(SHARED.filter((k) => r.params[k] !== undefined).map((k) => [k, r.params[k]]));
  const nav = h('nav', { class: 'sidebar' },
    h('a', { class: 'brand', href: formatHash('overview', null, shared) }, h('span', { class: 'logo' }), 'Flywheel'),
    h('ul', null, NAV.map(([p, label]) => h('li', null, h('a', {
      href: formatHash(p, null, shared),
      class: p === page || (p === 'accounts' && page === 'account') ? 'active' : '',
      'data-nav': p,
    }, label)))),
    h('button', { class: 'logout', onclick: () => { clearKey(); loginMessage = ''; showLogin('You are logged out.'); } }, 'Log out'));
  const body = h('div', { class: 'page', id: 'page' });
  const title = h('h1', null, mod.title);
  const main = h('main', null, h('header', { class: 'topbar' }, title, rangePicker(r, range)), body);
  clear(app).append(h('div', { class: 'layout' }, nav, main));

  const ctx = {
    route: r,
    params: r.params,
    range,
    stale: () => seq !== renderSeq,
    navigate: (p, id, params, opts) => navigate(p, id, params, opts),
    go: (params, opts) => navigate(r.page, r.id, { ...r.params, ...params }, opts),
    setQuiet: (params) => setQuiet(r, params),
    onCleanup: (fn) => cleanups.push(fn),
    setTitle: (t) => {
      title.textContent = t;
      document.title = `${t} · Flywheel`;
    },
    shared,
  };
  try {
    const ok = await mod.render(body, ctx);
    if (seq === renderSeq) setState(page, ok === false ? 'error' : 'ready');
  } catch (err) {
    if (seq !== renderSeq) return;
    if (err && err.status === 401) return;
    console.warn(err);
    body.append(h('div', { class: 'error-box' }, err.message || String(err)));
    setState(page, 'error');
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('beforeprint', () => window.dispatchEvent(new Event('resize')));
route();
