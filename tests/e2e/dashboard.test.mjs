// dashboard.test.mjs — the web dashboard served by `flywheel serve`, driven in a
// real browser (Debian's Chromium through playwright-core).
//
// A seeded dataset of the last 45 days (sign-ups by channel, activations,
// activity, invites and acceptances, plan changes, limit hits, pricing views,
// one invalid line) is imported, then a server starts on it and the test:
//   - checks the HTTP side: "/" and "/assets/…" with their content types, ETag →
//     304, gzip, CSP; "/" swallowing no other path; GET /api/v1/keys and its 401s;
//   - logs in (a wrong key first: the message must say so), visits every page,
//     and on each one: no console error, charts drawn (canvas or svg of non-zero
//     size), the numbers shown equal to the API's answers to the same requests,
//     and a screenshot in artifacts/screenshots/;
//   - builds a funnel by clicks (steps from the autocomplete), runs it, clicks a
//     step and reads its people; opens the funnel's URL in a fresh page (the
//     state is in the URL); sees a new event arrive on the Live page.
// Needs /usr/bin/chromium (scripts/install-deps.sh installs it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ARTIFACTS, basic, start, tempDataDir, uniq } from './lib/server.mjs';
import { mulberry32 } from './metrics/generate.mjs';
import { importFile } from './metrics/util.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const SHOTS = path.join(ARTIFACTS, 'screenshots');
const SECRET = 'sk_dash_secret';
const WRITE = ['wk_dash_1', 'wk_dash_2'];
const DAY = 86400000;
const HOUR = 3600000;
const TODAY = Math.floor(Date.now() / DAY) * DAY;
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

/**
 * NDJSON of Segment messages over the 45 days up to now: ~140 people in 16
 * workspaces. Deterministic apart from "now".
 */
function generate(seed = 4242) {
  const rnd = mulberry32(seed);
  const chance = (p) => rnd() < p;
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const now = Date.now() - 60000;
  const out = [];
  let n = 0;
  const msg = (m, t) => {
    if (t > now) return;
    out.push({ ...m, timestamp: new Date(t).toISOString(), messageId: `dash-${n++}` });
  };
  const start0 = TODAY - 44 * DAY;
  const people = [];
  for (let i = 0; i < 140; i++) {
    const uid = `user_${String(i).padStart(3, '0')}`;
    const ws = `ws_${String(i % 16).padStart(2, '0')}`;
    const t0 = start0 + int(0, 44) * DAY + int(1, 20) * HOUR;
    people.push({ uid, ws, t0 });
  }
  const wsCreated = new Map();
  for (const p of people.sort((a, b) => a.t0 - b.t0)) {
    const ctx = { groupId: p.ws };
    const anon = `anon_${p.uid}`;
    msg({ type: 'page', anonymousId: anon, name: 'Pricing', properties: { path: '/pricing' } }, p.t0 - HOUR);
    msg({ type: 'identify', userId: p.uid, anonymousId: anon, traits: { email: `${p.uid}@example.com`, created_at: new Date(p.t0).toISOString() } }, p.t0);
    if (!wsCreated.has(p.ws)) {
      wsCreated.set(p.ws, p.t0);
      msg({ type: 'group', userId: p.uid, groupId: p.ws, traits: { name: `Workspace ${p.ws.slice(3)}`, plan: 'free', mrr: 0, employees: int(5, 400), industry: chance(0.5) ? 'software' : 'retail' } }, p.t0);
    } else {
      msg({ type: 'group', userId: p.uid, groupId: p.ws, traits: {} }, p.t0 + 1000);
    }
    const channel = ['organic', 'paid', 'cpc', 'referral'][int(0, 3)];
    msg({ type: 'track', userId: p.uid, event: 'Signed Up', properties: { channel }, context: ctx }, p.t0 + 2000);
    if (chance(0.7)) msg({ type: 'track', userId: p.uid, event: 'Project Created', properties: { name: 'first' }, context: ctx }, p.t0 + int(1, 72) * HOUR);
    // activity on later days, fading
    for (let d = 1; d <= 44; d++) {
      if (chance(0.45 / Math.sqrt(d))) {
        const t = p.t0 + d * DAY + int(0, 8) * HOUR;
        msg({ type: 'track', userId: p.uid, event: ['Report Viewed', 'File Uploaded', 'Comment Added'][int(0, 2)], properties: { n: d }, context: ctx }, t);
        if (chance(0.3)) msg({ type: 'page', userId: p.uid, name: 'Dashboard', properties: { path: '/app' }, context: ctx }, t + 60000);
      }
    }
    if (chance(0.15)) msg({ type: 'track', userId: p.uid, event: 'Limit Reached', properties: { limit: 'projects', plan: 'free' }, context: ctx }, p.t0 + int(2, 10) * DAY);
    if (chance(0.2)) msg({ type: 'page', userId: p.uid, name: 'Pricing', properties: { path: '/pricing' }, context: ctx }, p.t0 + int(1, 12) * DAY);
  }
  // invites: each inviter names people who sign up later
  const byTime = people.slice().sort((a, b) => a.t0 - b.t0);
  for (let i = 0; i < byTime.length; i++) {
    const p = byTime[i];
    if (!chance(0.3)) continue;
    const ctx = { groupId: p.ws };
    msg({ type: 'track', userId: p.uid, event: 'Invite Sent', properties: { invitee_email: `x${i}@example.com` }, context: ctx }, p.t0 + 3 * HOUR);
    const invitee = byTime[i + int(1, 6)];
    if (invitee && invitee.t0 > p.t0) msg({ type: 'track', userId: invitee.uid, event: 'Invite Accepted', properties: { inviter_id: p.uid }, context: { groupId: invitee.ws } }, invitee.t0 + 5000);
  }
  // plan changes: some workspaces pay, one expands, one contracts, one churns
  let k = 0;
  for (const [ws, t] of wsCreated) {
    const owner = people.find((p) => p.ws === ws).uid;
    const ctx = { groupId: ws };
    if (k % 2 === 0) msg({ type: 'track', userId: owner, event: 'Plan Changed', properties: { plan: 'pro', mrr: 49 }, context: ctx }, t + int(1, 9) * DAY);
    if (k === 0) msg({ type: 'track', userId: owner, event: 'Plan Changed', properties: { plan: 'team', mrr: 199 }, context: ctx }, t + 15 * DAY);
    if (k === 2) msg({ type: 'track', userId: owner, event: 'Plan Changed', properties: { plan: 'starter', mrr: 19 }, context: ctx }, t + 18 * DAY);
    if (k === 4) msg({ type: 'track', userId: owner, event: 'Plan Changed', properties: { plan: 'free', mrr: 0 }, context: ctx }, t + 20 * DAY);
    k++;
  }
  out.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  const lines = out.map((m) => JSON.stringify(m));
  lines.push('{"type":"track","userId":"user_bad","event":"Signed Up","timestamp":"not a time"}'); // a warning
  return `${lines.join('\n')}\n`;
}

let srv;
let browser;
let page;
let dataDir;
const errors = []; // [phase, text]
let phase = 'start';

async function apiJson(p) {
  const r = await srv.api(p);
  assert.equal(r.status, 200, `GET ${p} -> ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

async function query(body) {
  const r = await srv.post('/api/v1/query', body, { Authorization: `Bearer ${SECRET}` });
  assert.equal(r.status, 200, `query ${JSON.stringify(body)} -> ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

/** Go to a hash route and wait until the page says it has loaded. */
async function visit(hash, name) {
  phase = name;
  await rerender(name, () => page.goto(`${srv.url}/${hash}`));
}

/** Wait until page `name` has rendered (after render number `after`, if given) and loaded. */
async function waitReady(name, after = -1) {
  await page.waitForFunction(([n, a]) => document.body.dataset.page === n && Number(document.body.dataset.render) > a && document.body.dataset.state !== 'loading', [name, after], { timeout: 20000 });
  const state = await page.evaluate(() => document.body.dataset.state);
  const err = await page.locator('.error-box').allTextContents();
  assert.equal(state, 'ready', `${name}: page state ${state}; errors shown: ${err.join(' | ')}`);
}

/** Every chart (uPlot canvas, funnel svg) on the page with its size; at least `min`. */
async function charts(min, what) {
  const sizes = await page.$$eval('canvas, svg.funnel-svg', (els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    return { tag: e.tagName, w: r.width, h: r.height };
  }));
  assert.ok(sizes.length >= min, `${what}: ${sizes.length} charts, expected at least ${min}`);
  for (const s of sizes) assert.ok(s.w > 0 && s.h > 0, `${what}: a ${s.tag} of size ${s.w}×${s.h}`);
  return sizes.length;
}

/** Do something that renders the page again (a new URL), and wait for it. */
async function rerender(name, fn) {
  const before = Number(await page.evaluate(() => document.body.dataset.render));
  await fn();
  await waitReady(name, before);
}

async function shot(name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

const raw = async (sel) => JSON.parse(await page.locator(sel).first().getAttribute('data-raw'));

describe('web dashboard', { timeout: 120000 }, () => {
  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found: apt-get install chromium (scripts/install-deps.sh does)`);
    fs.mkdirSync(SHOTS, { recursive: true });
    dataDir = tempDataDir('dashboard');
    const file = path.join(dataDir, 'events.ndjson');
    fs.writeFileSync(file, generate());
    importFile(dataDir, file);
    srv = await start({ label: 'dashboard', dataDir, writeKeys: WRITE, secret: SECRET });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error') errors.push([phase, m.text()]); });
    page.on('pageerror', (e) => errors.push([phase, `uncaught: ${e.message}`]));
    page.on('requestfailed', (r) => errors.push([phase, `request failed: ${r.url()} ${r.failure()?.errorText}`]));
  });

  after(async () => {
    await browser?.close();
    try {
      await srv?.stop();
    } finally {
      if (dataDir && !process.env.FW_KEEP_DATA) fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('serves the app and its assets with types, ETags, gzip and a CSP', async () => {
    const index = await srv.get('/');
    assert.equal(index.status, 200);
    assert.match(index.headers['content-type'], /^text\/html/);
    assert.match(index.headers['content-security-policy'], /default-src 'self'/);
    assert.equal(index.headers['cache-control'], 'no-cache');
    const js = index.text.match(/\/assets\/(app-[A-Z0-9]+\.js)/)?.[1];
    const css = index.text.match(/\/assets\/(app-[A-Z0-9]+\.css)/)?.[1];
    assert.ok(js && css, `index.html names its bundle: ${index.text}`);
    const again = await srv.get('/', { 'If-None-Match': index.headers.etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);

    const plain = await srv.get(`/assets/${js}`);
    assert.equal(plain.status, 200);
    assert.match(plain.headers['content-type'], /^text\/javascript/);
    assert.match(plain.headers['cache-control'], /immutable/);
    assert.equal(plain.headers['content-encoding'], undefined);
    const gz = await srv.get(`/assets/${js}`, { 'Accept-Encoding': 'gzip, deflate' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gz.body.length < plain.body.length / 2, `gzip ${gz.body.length} of ${plain.body.length} bytes`);
    assert.notEqual(gz.headers.etag, plain.headers.etag);
    for (const [h, tag] of [[{ 'If-None-Match': plain.headers.etag }, 'identity'], [{ 'If-None-Match': gz.headers.etag, 'Accept-Encoding': 'gzip' }, 'gzip']]) {
      const r = await srv.get(`/assets/${js}`, h);
      assert.equal(r.status, 304, `If-None-Match (${tag}) -> ${r.status}`);
    }
    const c = await srv.get(`/assets/${css}`);
    assert.match(c.headers['content-type'], /^text\/css/);
    assert.match((await srv.get('/assets/favicon.svg')).headers['content-type'], /^image\/svg\+xml/);

    // "/" is an exact route and /assets/ a prefix: other paths keep their answers
    for (const p of ['/nope', '/assets/nope.js', '/assets/', '/index.html']) {
      const r = await srv.get(p);
      assert.equal(r.status, 404, `GET ${p} -> ${r.status}`);
      assert.equal(r.json?.reason, 'not_found', `GET ${p}: ${r.text}`);
    }
    assert.equal((await srv.post('/', '{}')).status, 405);
    assert.equal((await srv.api('/healthz')).status, 200);
  });

  it('GET /api/v1/keys gives the write keys to the secret key only', async () => {
    assert.deepEqual(await apiJson('/api/v1/keys'), { write_keys: WRITE });
    const none = await srv.get('/api/v1/keys');
    assert.equal(none.status, 401);
    assert.equal(none.json.reason, 'missing_key');
    const write = await srv.get('/api/v1/keys', { Authorization: `Bearer ${WRITE[0]}` });
    assert.equal(write.status, 401);
    assert.equal(write.json.reason, 'unknown_key');
  });

  it('login: a wrong key is refused with a message; the secret key opens the overview', async () => {
    phase = 'login';
    await page.goto(`${srv.url}/`);
    await page.waitForSelector('#key');
    await page.fill('#key', WRITE[0]);
    await page.click('button.primary');
    await page.waitForSelector('.login-msg.error');
    assert.match(await page.textContent('.login-msg'), /not accepted.*secret key/s);
    // the only console error so far: the browser logging the 401 itself
    const loginErrors = errors.filter(([p]) => p === 'login');
    assert.ok(loginErrors.every(([, t]) => /401/.test(t)), `login errors: ${JSON.stringify(loginErrors)}`);
    errors.length = 0;
    phase = 'overview';
    await page.fill('#key', SECRET);
    await rerender('overview', () => page.click('button.primary'));
    assert.equal(await page.evaluate(() => sessionStorage.getItem('flywheel.secret')), SECRET);
  });

  it('overview: every metric card shows the API value; the default range is the last 30 days', async () => {
    await visit('#/overview', 'overview');
    assert.equal(await page.inputValue('.rp-from'), isoDay(TODAY - 29 * DAY));
    assert.equal(await page.inputValue('.rp-thru'), isoDay(TODAY));
    assert.equal(await page.inputValue('.rp-preset'), '30d');
    const api = await apiJson(`/api/v1/metrics?from=${isoDay(TODAY - 29 * DAY)}&to=${isoDay(TODAY + DAY)}`);
    assert.ok(api.metrics.signups.value > 20, `dataset has sign-ups: ${JSON.stringify(api.metrics.signups)}`);
    for (const [key, m] of Object.entries(api.metrics)) {
      const card = page.locator(`[data-metric="${key}"]`);
      assert.equal(await card.count(), 1, `one card for ${key}`);
      if (m.value !== null && typeof m.value === 'object') continue; // feature adoption: bars
      assert.deepEqual(await raw(`[data-metric="${key}"] .card-value`), m.value, `${key} card`);
    }
    assert.equal(await page.textContent('[data-metric="signups"] .card-value'), api.metrics.signups.value.toLocaleString('en-US'));
    const pct = (v) => `${(v * 100).toFixed(1).replace(/\.0$/, '')}%`;
    const a7 = api.metrics.activation_rate_7d.value;
    assert.equal(await page.textContent('[data-metric="activation_rate_7d"] .card-value'), Math.abs(a7 * 100) >= 99.95 || a7 === 0 ? `${Math.round(a7 * 100)}%` : pct(a7));
    assert.match(await page.textContent('[data-metric="signups"] .trend'), new RegExp(`vs ${api.metrics.signups.previous}`));
    for (const g of ['acquisition', 'activation', 'engagement', 'monetization', 'virality']) {
      assert.equal(await page.locator(`[data-group="${g}"]`).count(), 1, `group ${g}`);
    }
    const n = await charts(10, 'overview sparklines');
    assert.ok(n >= 10);
    await shot('overview');
  });

  let funnelUrl;
  let funnelAnswer;
  let funnelRequest;
  it('funnels: built by clicks from the autocomplete; bars equal the API; a click on a step lists its people', async () => {
    await visit('#/funnels?from=' + isoDay(TODAY - 44 * DAY) + '&to=' + isoDay(TODAY + DAY), 'funnels');
    await page.click('button.clear');
    assert.equal(await page.locator('.step-chip').count(), 0);
    for (const [typed, name] of [['sign', 'Signed Up'], ['project', 'Project Created'], ['invite s', 'Invite Sent']]) {
      await page.click('#add-step');
      await page.fill('#add-step', typed);
      await page.click(`.ac-item[data-name="${name}"]`);
    }
    assert.deepEqual(await page.locator('.step-chip .step-name').allTextContents(), ['Signed Up', 'Project Created', 'Invite Sent']);
    await page.fill('input.window', '7d');
    await rerender('funnels', () => page.click('button.run'));
    const params = new URLSearchParams(page.url().split('?')[1]);
    assert.deepEqual(params.getAll('step'), ['Signed Up', 'Project Created', 'Invite Sent']);
    const req = { kind: 'funnel', steps: ['Signed Up', 'Project Created', 'Invite Sent'], window: '7d', mode: 'ordered', unit: 'person', from: isoDay(TODAY - 44 * DAY), to: isoDay(TODAY + DAY) };
    funnelAnswer = await query(req);
    funnelRequest = req;
    const counts = (await page.locator('rect.fb-bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count')))));
    assert.deepEqual(counts, funnelAnswer.steps.map((s) => s.count));
    assert.ok(counts[0] > 0 && counts[1] > 0, `funnel counts ${counts}`);
    await charts(1, 'funnel');

    await page.click('g.fb-step[data-step="2"]');
    await page.waitForFunction(() => document.body.dataset.people === 'ready');
    const people = await query({ ...req, people: { step: 2, status: 'converted', offset: 0, limit: 100 } });
    assert.deepEqual(await page.locator('#funnel-people li.person').allTextContents(), people.people.items);
    assert.match(page.url(), /people=2%3Aconverted|people=2:converted/);
    await shot('funnels');

    await page.click('#funnel-people button.tab[data-status="dropped"]');
    await page.waitForFunction(() => document.body.dataset.people === 'ready' && document.querySelector('#funnel-people .tab.active')?.dataset.status === 'dropped');
    const dropped = await query({ ...req, people: { step: 2, status: 'dropped', offset: 0, limit: 100 } });
    assert.deepEqual(await page.locator('#funnel-people li.person').allTextContents(), dropped.people.items);
    funnelUrl = page.url(); // with people=2:dropped
  });

  it('funnels: the URL alone brings back the same funnel and people (shareable)', async () => {
    const p2 = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    p2.on('console', (m) => { if (m.type() === 'error') errors.push(['shared-url', m.text()]); });
    try {
      await p2.goto(`${srv.url}/`);
      await p2.evaluate((k) => sessionStorage.setItem('flywheel.secret', k), SECRET);
      await p2.goto(funnelUrl);
      await p2.waitForFunction(() => document.body.dataset.page === 'funnels' && document.body.dataset.state === 'ready' && document.body.dataset.people === 'ready', null, { timeout: 20000 });
      const counts = await p2.locator('rect.fb-bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
      assert.deepEqual(counts, funnelAnswer.steps.map((s) => s.count));
      const dropped = await query({ ...funnelRequest, people: { step: 2, status: 'dropped', offset: 0, limit: 100 } });
      assert.deepEqual(await p2.locator('#funnel-people li.person').allTextContents(), dropped.people.items);
      assert.equal(await p2.locator('#funnel-people .tab.active').getAttribute('data-status'), 'dropped');
    } finally {
      await p2.close();
    }
  });

  it('retention: heatmap and curve equal the retention kind', async () => {
    const from = isoDay(TODAY - 44 * DAY);
    const to = isoDay(TODAY + DAY);
    await visit(`#/retention?from=${from}&to=${to}`, 'retention');
    const api = await query({ kind: 'retention', period: 'week', periods: 8, mode: 'on', unit: 'person', from, to });
    const cells = await page.locator('table.heatmap tbody tr:not(.pooled) td.cell:not(.future)').count();
    assert.equal(cells, api.cohorts.reduce((s, c) => s + c.rates.length, 0));
    const firstRow = await page.locator('table.heatmap tbody tr').first().locator('td').nth(1).textContent();
    assert.equal(firstRow, String(api.cohorts[0].size));
    await charts(1, 'retention curve');
    await page.locator('table.heatmap td.clickable').first().click();
    await page.waitForSelector('#retention-people h3');
    await shot('retention');
  });

  it('engagement: DAU/WAU/MAU, stickiness and lifecycle', async () => {
    await visit('#/engagement', 'engagement');
    const r = { from: isoDay(TODAY - 29 * DAY), to: isoDay(TODAY + DAY) };
    const t = await query({ kind: 'trends', unit: 'person', ...r, period: 'day', series: [{ math: 'dau', label: 'DAU' }, { math: 'wau', label: 'WAU' }, { math: 'mau', label: 'MAU' }, { math: 'dau_mau', label: 'DAU/MAU' }] });
    for (const s of t.series) assert.deepEqual(await raw(`[data-metric="${s.math}"] .stat-value`), s.total, s.math);
    const m = await apiJson(`/api/v1/metrics?from=${r.from}&to=${r.to}`);
    assert.equal(t.series[1].total, m.metrics.wau.value, 'WAU here = the wau metric');
    await charts(4, 'engagement');
    await shot('engagement');
  });

  it('revenue: MRR, movements, NRR and GRR equal the revenue kind', async () => {
    const from = isoDay(TODAY - 44 * DAY);
    const to = isoDay(TODAY + DAY);
    await visit(`#/revenue?from=${from}&to=${to}`, 'revenue');
    const api = await query({ kind: 'revenue', period: 'week', from, to });
    for (const k of ['mrr_end', 'mrr_start', 'nrr', 'grr', 'new', 'expansion', 'contraction', 'churn']) {
      assert.deepEqual(await raw(`[data-metric="${k}"] .stat-value`), api.range[k], k);
    }
    assert.ok(api.range.mrr_end > 0, 'some accounts pay');
    assert.equal(await page.locator('table.data tbody tr').count(), api.periods.length);
    await charts(2, 'revenue');
    await shot('revenue');
  });

  it('virality: invite funnel and k-factor equal the virality kind', async () => {
    const from = isoDay(TODAY - 44 * DAY);
    const to = isoDay(TODAY + DAY);
    await visit(`#/virality?from=${from}&to=${to}`, 'virality');
    const api = await query({ kind: 'virality', from, to });
    assert.deepEqual(await raw('[data-metric="k_factor"] .stat-value'), api.k_factor);
    const counts = await page.locator('rect.fb-bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
    assert.deepEqual(counts.slice(0, 5), [api.signups, api.inviters, api.invites_accepted, api.invitees_signed_up, api.invitees_activated]);
    assert.deepEqual(counts.slice(5), [api.workspaces.created, api.workspaces.with_2_members, api.workspaces.with_5_members]);
    assert.ok(api.invites_accepted > 0, 'dataset has accepted invites');
    await charts(2, 'virality');
    await page.locator('g.fb-step[data-step="2"]').first().click();
    await page.waitForSelector('#virality-people li');
    await shot('virality');
  });

  it('leads: route counts, the leads with their reasons, at-risk and expansion', async () => {
    const api = await apiJson('/api/v1/pqls?unit=account&limit=100');
    await visit('#/leads', 'leads');
    for (const r of ['account_executive', 'inside_sales', 'upgrade_campaign', 'nurture'])
      assert.deepEqual(await raw(`[data-metric="route_${r}"] .stat-value`), api.routes[r]);
    assert.deepEqual(await page.locator('table.leads tbody tr').evaluateAll((rs) => rs.map((r) => [r.dataset.key, Number(r.dataset.score)])),
      api.leads.map((l) => [l.key, l.score]));
    await shot('leads');
  });

  it('accounts: searchable list and an account page with traits, members, usage and the score', async () => {
    await visit('#/accounts', 'accounts');
    const api = await query({ kind: 'accounts', limit: 5000 });
    assert.equal(await page.locator('table.accounts tbody tr').count(), Math.min(50, api.total));
    await page.fill('#account-search', 'ws_01');
    await rerender('accounts', () => page.press('#account-search', 'Enter'));
    assert.match(page.url(), /q=ws_01/);
    assert.deepEqual(await page.locator('table.accounts tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.account)),
      api.rows.filter((r) => r.account.includes('ws_01')).map((r) => r.account));
    await shot('accounts');

    phase = 'account';
    await rerender('account', () => page.click('table.accounts a[href="#/accounts/ws_01"]'));
    const acct = await apiJson('/api/v1/accounts/ws_01');
    assert.deepEqual(await raw('[data-metric="members"] .stat-value'), acct.members.length);
    assert.deepEqual(await raw('[data-metric="plan"] .stat-value'), acct.traits.plan ?? null);
    const score = await apiJson('/api/v1/pqls/account/ws_01');
    await page.waitForSelector('#score .score');
    assert.equal(Number(await page.getAttribute('#score .score', 'data-raw')), score.score);
    assert.deepEqual(await page.locator('#score tr[data-rule]').evaluateAll((rs) => rs.map((r) => r.dataset.rule)),
      score.rules.filter((r) => r.points > 0).map((r) => r.rule));
    assert.equal(await page.locator('table.data.kv tr').count(), Object.keys(acct.traits).length);
    await charts(1, 'account usage');
    await shot('account');
    // the range picker keeps the page: a preset becomes part of the account's URL
    await rerender('account', () => page.selectOption('.rp-preset', '7d'));
    assert.match(page.url(), /#\/accounts\/ws_01\?range=7d$/);
  });

  it('live events: the newest events, refreshed every 2 s, and the ingestion warnings', async () => {
    await visit('#/live', 'live');
    const latest = await apiJson('/api/v1/events/latest?limit=50');
    assert.equal(await page.locator('#live-events tbody tr').count(), latest.events.length);
    assert.match(await page.textContent('#live-warnings'), /invalid_time/);
    const name = uniq('Live Check');
    const r = await srv.post('/v1/track', { type: 'track', event: name, userId: 'user_live', messageId: name }, { Authorization: basic(WRITE[0]) });
    assert.equal(r.status, 200);
    await page.waitForFunction((n) => [...document.querySelectorAll('#live-events tbody tr strong')].some((s) => s.textContent === n), name, { timeout: 8000 });
    await shot('live');
  });

  it('connect your app: SDK snippets with this server and a write key', async () => {
    await visit('#/connect', 'connect');
    for (const sdk of ['segment', 'posthog-node', 'posthog-js', 'rudderstack', 'mixpanel', 'amplitude', 'curl']) {
      const code = await page.textContent(`code[data-sdk="${sdk}"]`);
      assert.ok(code.includes(WRITE[0]), `${sdk} snippet has the write key`);
      assert.ok(code.includes(sdk === 'mixpanel' ? new URL(srv.url).host : srv.url), `${sdk} snippet has the server: ${code}`);
    }
    assert.match(await page.textContent('code[data-sdk="amplitude"]'), /\/2\/httpapi/);
    await rerender('connect', () => page.selectOption('.key-select', '1'));
    assert.ok((await page.textContent('code[data-sdk="segment"]')).includes(WRITE[1]));
    await shot('connect');
  });

  it('no console errors on any page', () => {
    assert.deepEqual(errors, []);
  });
});
