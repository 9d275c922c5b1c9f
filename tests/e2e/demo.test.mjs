// demo.test.mjs — `flywheel demo` at a small size (--scale 0.05: 250 accounts,
// ~1,250 people, ~100K events, well under a second):
//
//   - it completes with its timings, and the data has the expected shape:
//     people, accounts and events within ranges, every event name of docs/demo.md,
//     the metrics non-null where the data defines them (with the targets of the
//     demo's flywheel.yaml), a Signed Up -> Project Created funnel that converts
//     like a product's;
//   - it is deterministic: the same --seed and --now give the same counts, and
//     `--ndjson` writes exactly the messages it imports (`flywheel import` of
//     that file gives the same events);
//   - it refuses a non-empty directory that holds no demo, starts an existing
//     demo again without regenerating it, and replaces it with --force;
//   - with serving, it prints the dashboard address and the keys, and the server
//     answers /healthz and the read API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, freePort, request, sleep, tempDataDir } from './lib/server.mjs';

// The start of the current UTC hour, fixed for the whole file: every run ends
// its data there, so runs are comparable even across an hour boundary.
// FW_DEMO_NOW=2026-01-01T10:00:00Z tries another end (the data differ per hour).
const NOW = process.env.FW_DEMO_NOW
  || new Date(Math.floor(Date.now() / 3600e3) * 3600e3).toISOString().replace('.000Z', 'Z');
const SMALL = ['--scale', '0.05', '--seed', '1', '--now', NOW];
// the report's default range for data ending at NOW: the 30 days up to that day
const TO_MS = Math.floor(Date.parse(NOW) / 86400e3) * 86400e3 + 86400e3;
const RANGE = ['--from', new Date(TO_MS - 30 * 86400e3).toISOString().slice(0, 10),
  '--to', new Date(TO_MS).toISOString().slice(0, 10)];

function run(args, opts = {}) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 120000, maxBuffer: 1 << 28, ...opts });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function queryJson(dir, ...args) {
  const r = run(['query', '--data', dir, ...args, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** "flywheel demo: 104,289 events, 1,243 people, 250 accounts in DIR" */
function summary(stderr) {
  const m = /flywheel demo: ([\d,]+) events, ([\d,]+) people, ([\d,]+) accounts in /.exec(stderr);
  assert.ok(m, `no summary line in:\n${stderr}`);
  const n = (s) => Number(s.replace(/,/g, ''));
  return { events: n(m[1]), people: n(m[2]), accounts: n(m[3]) };
}

const root = tempDataDir('demo');
test.after(() => {
  if (!process.env.FW_KEEP_DATA) fs.rmSync(root, { recursive: true, force: true });
});

const EVENT_NAMES = [
  '$pageview', 'Signed Up', 'Profile Completed', 'Project Created', 'Task Created', 'Task Completed',
  'Comment Added', 'File Uploaded', 'Report Exported', 'Automation Created', 'Integration Connected',
  'Search Performed', 'Invite Sent', 'Invite Accepted', 'Limit Reached', 'Pricing Viewed',
  'Premium Feature Attempted', 'Payment Info Entered', 'Trial Started', 'Plan Changed',
];

test('demo generates a realistic company, deterministically, through the import pipeline', () => {
  const a = path.join(root, 'a');
  const r = run(['demo', '--data', a, '--no-serve', ...SMALL]);
  assert.equal(r.status, 0, r.stderr);
  // timings of every phase, and the keys and how to start it
  for (const phase of ['simulated', 'imported', 'people and accounts', 'compacted', 'total']) {
    assert.match(r.stderr, new RegExp(`^  ${phase} .* s\\b`, 'm'), `${phase} timing in:\n${r.stderr}`);
  }
  assert.match(r.stderr, /write key: +wk_\w+/);
  assert.match(r.stderr, /secret key: +sk_\w+/);
  assert.match(r.stderr, /flywheel serve --data /);
  assert.ok(fs.existsSync(path.join(a, 'demo.json')) && fs.existsSync(path.join(a, 'flywheel.yaml')));
  const check = run(['check', '--config', path.join(a, 'flywheel.yaml')]);
  assert.equal(check.status, 0, check.stdout + check.stderr);

  const s = summary(r.stderr);
  assert.equal(s.accounts, 250);
  assert.ok(s.people >= 1000 && s.people <= 1600, `people ${s.people}`);
  assert.ok(s.events >= 70000 && s.events <= 140000, `events ${s.events}`);

  const counts = queryJson(a, 'events');
  assert.equal(counts.total, s.events);
  for (const name of EVENT_NAMES) assert.ok(counts.events[name] > 0, `no "${name}" events: ${JSON.stringify(counts.events)}`);
  const ev = counts.events;
  assert.ok(ev['$pageview'] > ev['Task Created'] / 2, 'pageviews are common');
  assert.ok(ev['Signed Up'] >= 400 && ev['Signed Up'] <= 700, `sign-ups ${ev['Signed Up']}`);
  assert.ok(ev['Invite Accepted'] < ev['Invite Sent'], 'not every invite is accepted');
  assert.ok(ev['Project Created'] < ev['Task Created'], 'tasks outnumber projects');

  // the metrics: non-null where the data defines them, with the demo's targets
  const m = queryJson(a, 'metrics', ...RANGE).metrics;
  for (const [k, x] of Object.entries(m)) {
    assert.notEqual(x.value, null, `${k} is null`);
    assert.notEqual(x.previous, null, `${k}: previous is null`);
    assert.ok('target' in x, `${k} has no target`);
  }
  const rate = (k, lo, hi) => assert.ok(m[k].value >= lo && m[k].value <= hi, `${k} = ${m[k].value}, expected ${lo}..${hi}`);
  assert.ok(m.signups.value >= 80 && m.signups.value <= 250, `signups ${m.signups.value}`);
  assert.equal(m.signups_organic.value + m.signups_paid.value, m.signups.value);
  assert.ok(m.signups_paid.value > 0 && m.signups_organic.value > m.signups_paid.value);
  rate('activation_rate_1d', 0.2, 0.8);
  rate('activation_rate_7d', 0.3, 0.9);
  assert.ok(m.activation_rate_7d.value >= m.activation_rate_1d.value);
  assert.ok(m.ttfv_median_seconds.value > 60 && m.ttfv_median_seconds.value < 2 * 86400, `ttfv ${m.ttfv_median_seconds.value}`);
  assert.ok(m.ttfv_p90_seconds.value > m.ttfv_median_seconds.value);
  rate('retention_d1', 0.2, 0.8);
  rate('retention_d7', 0.05, 0.6);
  rate('retention_w1', 0.2, 0.9);
  rate('dau_mau', 0.05, 0.5);
  assert.ok(m.wau.value > 0 && m.mau.value > m.wau.value);
  rate('free_to_paid_rate', 0.005, 0.4);
  assert.ok(m.time_to_convert_median_days.value > 1 && m.time_to_convert_median_days.value < 60);
  assert.ok(m.acv.value >= 12 * 29 && m.acv.value < 50000, `acv ${m.acv.value}`);
  rate('nrr', 0.8, 1.5);
  rate('grr', 0.7, 1);
  rate('k_factor', 0.05, 1.5);
  rate('onboarding_completion', 0.02, 0.6);
  rate('active_days_per_week', 1, 7);
  assert.deepEqual(Object.keys(m.feature_adoption.value),
    ['Task Created', 'Comment Added', 'File Uploaded', 'Report Exported', 'Automation Created']);
  assert.equal(m.activation_rate_7d.target, 0.65);

  // a funnel that converts like a product's
  const f = queryJson(a, 'funnel', '--step', 'Signed Up', '--step', 'Project Created', '--window', '14d');
  assert.equal(f.steps[0].count, ev['Signed Up']);
  const conv = f.steps[1].count / f.steps[0].count;
  assert.ok(conv > 0.35 && conv < 0.85, `Signed Up -> Project Created converts ${conv}`);

  // the same seed, the same data
  const b = path.join(root, 'b');
  const r2 = run(['demo', '--data', b, '--no-serve', ...SMALL]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual(summary(r2.stderr), s);
  assert.deepEqual(queryJson(b, 'events'), counts);
  assert.deepEqual(queryJson(b, 'metrics', ...RANGE), queryJson(a, 'metrics', ...RANGE));
  // another seed, other data
  const c = path.join(root, 'c');
  const r3 = run(['demo', '--data', c, '--no-serve', '--scale', '0.05', '--seed', '2', '--now', NOW]);
  assert.equal(r3.status, 0, r3.stderr);
  assert.notDeepEqual(queryJson(c, 'events'), counts);

  // --ndjson writes exactly what the demo imports
  const file = path.join(root, 'demo.ndjson');
  const w = run(['demo', '--ndjson', file, ...SMALL]);
  assert.equal(w.status, 0, w.stderr);
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.equal(JSON.parse(lines[0]).messageId, 'demo-1-00000000');
  for (const l of lines.slice(0, 2000)) JSON.parse(l);
  const imp = path.join(root, 'imported');
  const i = run(['import', '--data', imp, file]);
  assert.equal(i.status, 0, i.stderr);
  assert.match(i.stderr, new RegExp(`imported ${lines.length} lines, ${lines.length} stored, 0 duplicates, 0 skipped`));
  assert.deepEqual(queryJson(imp, 'events'), counts);
});

test('demo refuses other data, restarts a demo, and replaces it with --force', () => {
  const other = path.join(root, 'other');
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(other, 'notes.txt'), 'mine\n');
  const r = run(['demo', '--data', other, '--no-serve', ...SMALL]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /is not empty and holds no demo/);
  assert.deepEqual(fs.readdirSync(other), ['notes.txt']);
  assert.equal(run(['demo', '--data', other, '--no-serve', '--force', ...SMALL]).status, 1, '--force never replaces other data');

  const dir = path.join(root, 'again');
  assert.equal(run(['demo', '--data', dir, '--no-serve', ...SMALL]).status, 0);
  const marker = fs.readFileSync(path.join(dir, 'demo.json'), 'utf8');
  const again = run(['demo', '--data', dir, '--no-serve', ...SMALL]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /already holds a demo/);
  assert.doesNotMatch(again.stderr, /imported/);
  assert.equal(fs.readFileSync(path.join(dir, 'demo.json'), 'utf8'), marker);

  const forced = run(['demo', '--data', dir, '--no-serve', '--force', '--seed', '3', '--scale', '0.02', '--now', NOW]);
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stderr, /imported/);
  assert.equal(summary(forced.stderr).accounts, 100);
  assert.match(fs.readFileSync(path.join(dir, 'demo.json'), 'utf8'), /"seed":3/);

  const bad = run(['demo', '--data', path.join(root, 'x'), '--scale', 'lots']);
  assert.equal(bad.status, 2);
  const help = run(['demo', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--scale X/);
});

test('demo serves the data: dashboard address, keys, /healthz', async () => {
  const dir = path.join(root, 'served');
  const port = await freePort();
  const proc = spawn(BIN, ['demo', '--data', dir, '--listen', `127.0.0.1:${port}`, ...SMALL],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FLYWHEEL_WRITE_KEY: '', FLYWHEEL_SECRET_KEY: '' } });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    for (let i = 0; i < 1200 && !/listening on http/.test(err) && proc.exitCode === null; i++) await sleep(50);
    assert.match(err, /flywheel: listening on http:\/\/127\.0\.0\.1:\d+/, err);
    assert.match(err, new RegExp(`dashboard: +http://127\\.0\\.0\\.1:${port}/`));
    const wk = /write key: +(wk_\w+)/.exec(err)?.[1];
    const sk = /secret key: +(sk_\w+)/.exec(err)?.[1];
    assert.ok(wk && sk, err);
    assert.match(err, new RegExp(`flywheel report --url http://127\\.0\\.0\\.1:${port} --key ${sk}`));
    const url = `http://127.0.0.1:${port}`;
    const h = await request(url, 'GET', '/healthz');
    assert.equal(h.status, 200, h.text);
    assert.equal(h.json.status, 'ok');
    assert.equal(h.json.events, summary(err).events);
    const m = await request(url, 'GET', '/api/v1/metrics', null, { Authorization: `Bearer ${sk}` });
    assert.equal(m.status, 200, m.text);
    assert.ok(m.json.metrics.signups.value > 0);
    const t = await request(url, 'POST', '/v1/track', { event: 'Demo Checked', userId: 'u1' },
      { Authorization: `Basic ${Buffer.from(`${wk}:`).toString('base64')}` });
    assert.equal(t.status, 200, t.text);
  } finally {
    proc.kill('SIGTERM');
    const e = await Promise.race([exited, sleep(5000).then(() => null)]);
    if (!e) proc.kill('SIGKILL');
    assert.ok(e && (e.code === 0 || e.signal === 'SIGTERM'), `exit ${JSON.stringify(e)}\n${err.slice(-2000)}`);
    assert.doesNotMatch(err, /ERROR: AddressSanitizer|runtime error:/);
  }
});
