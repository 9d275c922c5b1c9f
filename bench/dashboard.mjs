#!/usr/bin/env node
// bench/dashboard.mjs — how long each dashboard page takes to load in a real
// browser (Debian's Chromium through playwright-core from tests/e2e), against a
// running server: from the start of a full page load to "loaded" — every API
// call of the page answered and its charts drawn (the app sets
// <body data-state="ready">). A fresh document per run, so the app's short
// answer cache starts empty; the bundle itself comes from the browser's cache
// as it would for a returning user (immutable, hashed names). Median of N runs.
//
//   node bench/dashboard.mjs --url http://127.0.0.1:8080 --key SECRET_KEY
//        [--runs 5] [--from 2026-01-01 --to 2026-02-01] [--steps "A,B,C"]
//        [--account ID] [--pages overview,funnels,…] [--json]
//
// Prints a table: page, median / min / max ms, API requests per load and the
// slowest request's server time. Not part of `make bench` (yet).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tests/e2e/package.json'));
const { chromium } = require('playwright-core');

function args(argv) {
  const o = { runs: 5, pages: 'overview,funnels,retention,engagement,revenue,virality,accounts,account,live,connect' };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = true;
    else if (a.startsWith('--') && i + 1 < argv.length) o[a.slice(2)] = argv[++i];
    else {
      console.error(`unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (!o.url || !o.key) {
    console.error('usage: node bench/dashboard.mjs --url URL --key SECRET_KEY [--runs 5] [--from DAY --to DAY] [--steps A,B,C] [--account ID] [--pages LIST] [--json]');
    process.exit(2);
  }
  o.url = o.url.replace(/\/+$/, '');
  o.runs = Math.max(1, parseInt(o.runs, 10) || 5);
  return o;
}

async function api(o, method, p, body) {
  const r = await fetch(o.url + p, { method, headers: { Authorization: `Bearer ${o.key}`, 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  if (!r.ok) throw new Error(`${method} ${p} -> ${r.status} ${await r.text()}`);
  return r.json();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.ceil(s.length / 2) - 1];
};

async function main() {
  const o = args(process.argv);
  const range = o.from && o.to ? `from=${o.from}&to=${o.to}` : '';
  // funnel steps: given, else the three most frequent events
  let steps = o.steps ? o.steps.split(',') : null;
  if (!steps) {
    const ev = await api(o, 'POST', '/api/v1/query', { kind: 'events' });
    steps = ev.rows.slice(0, 3).map((r) => r.event);
  }
  let account = o.account;
  if (!account && o.pages.includes('account')) {
    const acc = await api(o, 'POST', '/api/v1/query', { kind: 'accounts', limit: 1 });
    account = acc.rows[0]?.account;
  }
  const q = (extra = '') => [range, extra].filter(Boolean).join('&');
  const URLS = {
    overview: `#/overview?${q()}`,
    funnels: `#/funnels?${q(steps.map((s) => `step=${encodeURIComponent(s)}`).join('&'))}`,
    retention: `#/retention?${q()}`,
    engagement: `#/engagement?${q()}`,
    revenue: `#/revenue?${q()}`,
    virality: `#/virality?${q()}`,
    accounts: `#/accounts?${q()}`,
    account: account ? `#/accounts/${encodeURIComponent(account)}?${q()}` : null,
    live: '#/live',
    connect: '#/connect',
  };

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const results = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${o.url}/`);
    await page.evaluate((k) => sessionStorage.setItem('flywheel.secret', k), o.key);
    // API requests of the current load, with their timings
    let reqs = [];
    page.on('requestfinished', async (r) => {
      if (!r.url().includes('/api/v1/')) return;
      const t = r.timing();
      reqs.push({ url: r.url(), ms: t.responseEnd > 0 ? t.responseEnd - t.requestStart : null });
    });
    for (const name of o.pages.split(',')) {
      const hash = URLS[name];
      if (!hash) {
        results.push({ page: name, skipped: name === 'account' ? 'no account has events (give --account ID)' : 'unknown page' });
        continue;
      }
      const times = [];
      let calls = 0;
      let slowest = 0;
      let state = 'ready';
      for (let i = 0; i <= o.runs; i++) {
        await page.goto('about:blank');
        reqs = [];
        const t0 = Date.now();
        await page.goto(`${o.url}/${hash}`);
        await page.waitForFunction((n) => document.body.dataset.page === n && document.body.dataset.state !== 'loading', name === 'account' ? 'account' : name, { timeout: 120000 });
        const ms = Date.now() - t0;
        state = await page.evaluate(() => document.body.dataset.state);
        await page.waitForTimeout(50); // let requestfinished events land
        if (i === 0) continue; // warm-up: the server builds its snapshot, the browser caches the bundle
        times.push(ms);
        calls = reqs.length;
        slowest = Math.max(slowest, ...reqs.map((r) => r.ms || 0));
      }
      results.push({ page: name, median_ms: median(times), min_ms: Math.min(...times), max_ms: Math.max(...times), api_calls: calls, slowest_call_ms: Math.round(slowest), state });
    }
    if (errors.length) console.error(`page errors: ${errors.join('; ')}`);
  } finally {
    await browser.close();
  }
  if (o.json) {
    console.log(JSON.stringify({ url: o.url, runs: o.runs, range: range || 'last 30 days', steps, results }, null, 2));
    return;
  }
  console.log(`dashboard page load, ${o.url}, ${range || 'last 30 days'}, median of ${o.runs} (after a warm-up)`);
  const rows = [['page', 'median ms', 'min', 'max', 'API calls', 'slowest call ms', 'state']];
  for (const r of results) {
    rows.push(r.skipped ? [r.page, '-', '-', '-', '-', '-', `skipped: ${r.skipped}`] : [r.page, r.median_ms, r.min_ms, r.max_ms, r.api_calls, r.slowest_call_ms, r.state]);
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((v, c) => (c === 0 || c === r.length - 1 ? String(v).padEnd(w[c]) : String(v).padStart(w[c]))).join('  ').trimEnd());
    if (i === 0) console.log(w.map((n) => '-'.repeat(n)).join('  '));
  }
}

main().catch((e) => {
  console.error(e.stack || e.message);
  process.exit(1);
});
