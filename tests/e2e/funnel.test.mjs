// funnel.test.mjs — `flywheel query funnel` and POST /api/v1/query {"kind":"funnel"}
// against an independent computation in SQL (funnel/oracle.mjs, DuckDB) on a
// seeded generated dataset (funnel/generate.mjs: ~420 people, ~9.5k lines over 60
// days, anonymous → identify merges, duplicate message ids, events exactly on
// window and day boundaries, equal timestamps).
//
// Every funnel below is run with `flywheel query funnel --data DIR --request FILE
// --json` and compared field by field with the oracle: per step count, dropped,
// pending (exact), conversion and overall (from the counts), median and p90 seconds
// (within 1e-9); breakdown rows in order; people lists. One funnel goes through a
// running server too, one through `--step … --window 7d`, and bad requests must
// give 400 (API) / exit 1 (CLI) with a message naming the field.
// FW_FUNNEL_SEED=N tries another dataset; FW_KEEP_DATA=1 keeps it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, start, tempDataDir } from './lib/server.mjs';
import { generate, EDGE_AS_OF } from './funnel/generate.mjs';
import { FunnelOracle } from './funnel/oracle.mjs';

const SEED = Number(process.env.FW_FUNNEL_SEED || 20260105);
let dir, data, oracle, gen;

function run(args, input) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000, input });
  if (r.error) throw r.error;
  return r;
}

/** `flywheel query funnel --data … --request FILE --json` → the parsed answer. */
function cliFunnel(req) {
  const file = path.join(dir, 'request.json');
  fs.writeFileSync(file, JSON.stringify(req));
  const r = run(['query', 'funnel', '--data', data, '--request', file, '--json']);
  assert.equal(r.status, 0, `flywheel query funnel ${JSON.stringify(req)}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const close = (a, b) => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)));
const ratio = (n, d) => (d > 0 ? n / d : null);

/** Differences between the oracle's steps and Flywheel's, as readable lines. */
function diffSteps(label, want, got) {
  const out = [];
  if (!Array.isArray(got) || got.length !== want.length) return [`${label}: ${want.length} steps expected, got ${JSON.stringify(got)}`];
  want.forEach((w, i) => {
    const g = got[i];
    const exp = {
      ...w,
      conversion: i ? ratio(w.count, want[i - 1].count) : null,
      overall: ratio(w.count, want[0].count),
    };
    if (g.step !== i + 1) out.push(`${label} step ${i + 1}: "step" is ${g.step}`);
    for (const k of ['count', 'dropped', 'pending', 'conversion', 'overall', 'median_seconds', 'p90_seconds']) {
      if (!(k in g) || !close(exp[k], g[k])) out.push(`${label} step ${i + 1} ${k}: expected ${exp[k]}, got ${g[k]}`);
    }
  });
  return out;
}

function diffAnswer(label, want, got) {
  const out = diffSteps(label, want.steps, got.steps);
  if (want.breakdown) {
    const gb = got.breakdown || [];
    if (gb.length !== want.breakdown.length) out.push(`${label} breakdown: ${want.breakdown.length} rows expected, got ${gb.length}`);
    want.breakdown.forEach((w, i) => {
      const g = gb[i] || {};
      if (g.value !== w.value) {
        out.push(`${label} breakdown row ${i}: value ${JSON.stringify(w.value)} expected, got ${JSON.stringify(g.value)}`);
        return;
      }
      out.push(...diffSteps(`${label} breakdown ${JSON.stringify(w.value)}`, w.steps, g.steps));
      const n1 = w.steps[0].count, nk = w.steps[w.steps.length - 1].count;
      if (g.entered !== n1 || g.converted !== nk || !close(ratio(nk, n1), g.overall)) {
        out.push(`${label} breakdown ${JSON.stringify(w.value)}: entered/converted/overall ${n1}/${nk} expected, got ${g.entered}/${g.converted}/${g.overall}`);
      }
    });
  }
  if (want.people) {
    const gp = got.people || {};
    if (gp.total !== want.people.total) out.push(`${label} people.total: expected ${want.people.total}, got ${gp.total}`);
    const items = [...want.people.items].sort().slice(0, gp.limit ?? 100);
    if (JSON.stringify(gp.items) !== JSON.stringify(items)) out.push(`${label} people.items: expected ${items.join(' ')}, got ${(gp.items || []).join(' ')}`);
  }
  return out;
}

before(async () => {
  dir = tempDataDir('funnel');
  data = path.join(dir, 'data');
  gen = generate({ seed: SEED });
  const file = path.join(dir, 'events.ndjson');
  fs.writeFileSync(file, gen.lines.join('\n') + '\n');
  const r = run(['import', '--data', data, file]);
  assert.equal(r.status, 0, `flywheel import failed: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`imported ${gen.lines.length} lines, \\d+ stored, [1-9]\\d* duplicates, 0 skipped`));
  oracle = await FunnelOracle.load(gen.lines);
});

after(() => {
  if (oracle) oracle.close();
  if (dir && !process.env.FW_KEEP_DATA) fs.rmSync(dir, { recursive: true, force: true });
});

const SU = 'Signed Up', PC = 'Project Created', IS = 'Invite Sent', RV = 'Report Viewed';

// Each funnel: a name and its request (as_of: the end of the data unless said).
function cases() {
  const asOf = gen.end;
  return [
    ['ordered, 3 steps, 7 days', { steps: [SU, PC, IS], window: '7d' }],
    ['ordered, 2 steps, 1 day (exactly 24 h converts, 24 h + 1 ms does not)', { steps: [SU, PC], window: '1d' }],
    ['ordered, 6 steps with a repeated one, 30 days', { steps: ['$pageview', SU, PC, RV, IS, RV], window: '30d' }],
    ['strict, 2 steps', { mode: 'strict', steps: [SU, PC], window: '1d' }],
    ['strict, repeated page views then sign-up', { mode: 'strict', steps: ['$pageview', '$pageview', SU], window: '2h' }],
    ['any_order, 4 steps, 14 days', { mode: 'any_order', steps: [SU, IS, PC, 'Upgraded'], window: '14d' }],
    ['per account', { steps: [SU, PC, IS], window: '7d', unit: 'account' }],
    ['per account, strict', { mode: 'strict', steps: [PC, RV], window: 3, unit: 'account' }],
    ['step filters', { steps: [{ event: SU, where: [{ property: 'channel', op: 'in', value: ['paid', 'partner'] }] }, PC,
      { event: 'Upgraded', where: [{ property: 'plan', value: 'pro' }] }], window: '21d' }],
    ['breakdown by channel', { steps: [SU, PC, IS], window: '7d', breakdown: 'channel' }],
    ['from/to: the first step in two weeks', { steps: [SU, PC], window: '7d', from: '2026-01-19', to: '2026-02-02' }],
    ['per-step windows (exactly 2 h converts)', { steps: [SU, { event: PC, within: '2h' }, { event: IS, within: '7d' }], window: '14d' }],
    ['strict with per-step windows', { mode: 'strict', steps: [SU, { event: RV, within: '1h' }, PC], window: '1d' }],
    ['exclusions', { steps: [SU, PC, 'Upgraded'], window: '30d', exclusions: [{ event: 'Cancelled', after_step: 1, before_step: 3 }] }],
    ['exclusion with a filter, between steps 2 and 3', { steps: [SU, PC, 'Upgraded'], window: '30d',
      exclusions: [{ event: 'Cancelled', after_step: 2, before_step: 3, where: [{ property: 'reason', value: 'price' }] }] }],
    ['pending vs dropped at a moment inside the data', { steps: [SU, PC, IS], window: '14d', as_of: '2026-02-20T12:00:00.000Z' }],
    ['people dropped at step 2', { steps: [SU, PC], window: '1d', people: { step: 2, status: 'dropped', limit: 1000 } }],
    ['pending exactly at the end of the window', { steps: [SU, PC, IS], window: '14d', as_of: EDGE_AS_OF }],
    ['people pending at step 2, at the edge', { steps: [SU, PC], window: '14d', as_of: EDGE_AS_OF, people: { step: 2, status: 'pending', limit: 1000 } }],
    ['people pending at step 3', { steps: [SU, PC, IS], window: '14d', as_of: EDGE_AS_OF, people: { step: 3, status: 'pending', limit: 1000 } }],
    ['people converted at step 3', { steps: [SU, PC, IS], window: '7d', people: { step: 3, limit: 1000 } }],
    ['people converted, per account', { steps: [SU, PC, IS], window: '2d', unit: 'account', people: { step: 3, limit: 1000 } }],
  ].map(([name, req]) => [name, { as_of: asOf, ...req }]);
}

test('flywheel query funnel matches the DuckDB oracle on generated data', async () => {
  const bad = [];
  for (const [name, req] of cases()) {
    const want = await oracle.funnel(req);
    // the data must exercise the funnel, not only agree on zeros
    assert.ok(want.steps[0].count > 5 && want.steps[1].count > 0, `oracle: ${name} has too few units: ${JSON.stringify(want.steps)}`);
    const got = cliFunnel(req);
    assert.equal(got.kind, 'funnel');
    assert.equal(got.mode, req.mode || 'ordered');
    assert.equal(got.unit, req.unit || 'person');
    bad.push(...diffAnswer(`seed ${SEED} ${name}`, want, got));
  }
  assert.deepEqual(bad, []);
});

test('flywheel query funnel --step … --window 7d, tables and --json', async () => {
  const want = await oracle.funnel({ steps: [SU, PC], window: '7d', as_of: gen.end });
  const r = run(['query', 'funnel', '--data', data, '--step', SU, '--step', PC, '--window', '7d', '--as-of', gen.end, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  assert.equal(got.window_seconds, 7 * 86400);
  assert.deepEqual(diffAnswer('--step', want, got), []);
  const t = run(['query', 'funnel', '--data', data, '--step', SU, '--step', PC, '--window', '7d']);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /steps:/);
  assert.match(t.stdout, new RegExp(`Signed Up\\s+${want.steps[0].count}\\b`));
});

const BAD = [
  [{ steps: [SU] }, /^steps: a funnel has 2 to 50 steps \(this one has 1\)$/],
  [{ steps: [SU, { where: [] }] }, /^steps\[1\]\.event: expected an event name$/],
  [{ steps: [SU, PC], mode: 'sideways' }, /^mode: expected one of "ordered", "strict", "any_order"$/],
  [{ steps: [SU, PC], window: 'a while' }, /^window: expected a duration/],
  [{ steps: [SU, { event: PC, within: '1x' }] }, /^steps\[1\]\.within: expected a duration/],
  [{ steps: [SU, PC], exclusions: [{ event: PC }] }, /^exclusions\[0\]\.event: "Project Created" is steps\[1\]/],
  [{ steps: [SU, PC], people: { step: 7 } }, /^people\.step: expected a whole number from 1 to 2$/],
  [{ steps: [SU, PC], windw: '7d' }, /^windw: not a field here \(expected steps, from, to, window/],
];

test('POST /api/v1/query: the same funnel through the server; bad requests are 400', async () => {
  const srv = await start({ dataDir: data, label: 'funnel-api', secret: 'sk_funnel' });
  try {
    const req = { kind: 'funnel', steps: [SU, PC, IS], window: '7d', breakdown: 'channel', as_of: gen.end };
    const r = await srv.request('POST', '/api/v1/query', req, { Authorization: 'Bearer sk_funnel' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(diffAnswer('POST /api/v1/query', await oracle.funnel(req), r.json), []);
    const noKey = await srv.request('POST', '/api/v1/query', req, {});
    assert.equal(noKey.status, 401);
    for (const [body, msg] of BAD) {
      const b = await srv.request('POST', '/api/v1/query', { kind: 'funnel', ...body }, { Authorization: 'Bearer sk_funnel' });
      assert.equal(b.status, 400, `${JSON.stringify(body)} -> ${b.status} ${b.text}`);
      assert.equal(b.json.reason, 'invalid_query');
      assert.match(b.json.error, msg);
    }
    srv.checkHealthy();
  } finally {
    await srv.dispose();
  }
  // the CLI says the same on stderr and exits 1
  for (const [body, msg] of BAD.slice(0, 3)) {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify(body));
    const c = run(['query', 'funnel', '--data', data, '--request', file, '--json']);
    assert.equal(c.status, 1, c.stdout);
    assert.match(c.stderr.trimEnd(), new RegExp(`flywheel query funnel: ${msg.source.slice(1)}`));
  }
});
