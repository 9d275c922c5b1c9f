// cohorts.test.mjs — the "retention", "stickiness", "lifecycle" and "trends"
// analyses (POST /api/v1/query, `flywheel query KIND`) against an independent
// computation in SQL on DuckDB (cohorts/oracle.mjs, written from
// docs/query/*.md), on a seeded generated dataset (cohorts/generate.mjs: ~300
// people, ~10k lines over 70 days, full of period-boundary edge cases).
//
// Each kind runs with several option combinations through `flywheel query KIND
// --data DIR --request FILE --json`; then a server on the same data answers
// POST /api/v1/query the same, and bad requests get 400 with a message naming
// the field. FW_COHORTS_SEED=N tries another dataset; FW_KEEP_DATA=1 keeps it.
//
// Numbers compare exactly (counts) or within 1e-9 relative (rates, means).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, start, tempDataDir, bearer } from './lib/server.mjs';
import { generate } from './cohorts/generate.mjs';
import { CohortOracle } from './cohorts/oracle.mjs';

const SEED = Number(process.env.FW_COHORTS_SEED || 20260105);
const AS_OF = '2026-06-01T00:00:00Z'; // after all the data: every period has started

// ---------------------------------------------------------------- set-up, once
let setup;
function data() {
  setup ??= (async () => {
    const dir = tempDataDir('cohorts');
    const g = generate({ seed: SEED });
    const file = path.join(dir, 'events.ndjson');
    fs.writeFileSync(file, g.lines.join('\n') + '\n');
    const dataDir = path.join(dir, 'data');
    const r = run(['import', '--data', dataDir, file]);
    assert.equal(r.status, 0, `flywheel import failed: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`imported ${g.lines.length} lines, \\d+ stored, [1-9]\\d* duplicates, 0 skipped`));
    const oracle = await CohortOracle.load(g.lines);
    return { dir, dataDir, oracle };
  })();
  return setup;
}
after(async () => {
  if (!setup) return;
  const { dir, oracle } = await setup;
  oracle.close();
  if (!process.env.FW_KEEP_DATA) fs.rmSync(dir, { recursive: true, force: true });
});

function run(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000 });
  if (r.error) throw r.error;
  return r;
}

/** `flywheel query KIND --request FILE --json` → the parsed answer. */
async function query(req) {
  const { dir, dataDir } = await data();
  const file = path.join(dir, 'request.json');
  const { kind, ...fields } = req;
  fs.writeFileSync(file, JSON.stringify(fields));
  const r = run(['query', kind, '--data', dataDir, '--request', file, '--json']);
  assert.equal(r.status, 0, `flywheel query ${kind} ${JSON.stringify(fields)} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// ---------------------------------------------------------------- comparing
const close = (a, b) => a === b || (typeof a === 'number' && typeof b === 'number' &&
  (Number.isInteger(a) ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b))));

/** Differences of `got` from `want` (every member of want must match), as lines. */
function diff(where, want, got, out = []) {
  if (out.length > 30) return out;
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) {
      out.push(`${where}: expected ${want.length} items ${JSON.stringify(want).slice(0, 300)}, got ${JSON.stringify(got)?.slice(0, 300)}`);
      return out;
    }
    want.forEach((w, i) => diff(`${where}[${i}]`, w, got[i], out));
  } else if (want && typeof want === 'object') {
    if (!got || typeof got !== 'object') out.push(`${where}: expected an object, got ${JSON.stringify(got)}`);
    else for (const k of Object.keys(want)) diff(`${where}.${k}`, want[k], got[k], out);
  } else if (!close(want, got)) {
    out.push(`${where}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
  return out;
}

async function check(cases) {
  const { oracle } = await data();
  const bad = [];
  const answers = [];
  for (const req of cases) {
    const want = await oracle[req.kind](req);
    const got = await query(req);
    diff(`${req.kind} ${JSON.stringify(req)}\n   `, want, got, bad);
    answers.push({ want, got });
  }
  assert.deepEqual(bad, []);
  return answers;
}

// ---------------------------------------------------------------- the kinds
test('retention matches the DuckDB oracle', async () => {
  const [weekly, , , , account] = await check([
    // sign-up cohorts by week, 8 weeks from Monday 01-05
    { kind: 'retention', period: 'week', periods: 8, from: '2026-01-05', to: '2026-03-02', as_of: AS_OF },
    // unbounded; the range's ends inside weeks (cohorts = weeks starting in range)
    { kind: 'retention', period: 'week', periods: 6, from: '2026-01-07', to: '2026-02-18', mode: 'on_or_after', as_of: AS_OF },
    // by day, recurring on Report Viewed, returning with Task Completed
    { kind: 'retention', period: 'day', periods: 14, from: '2026-01-25', to: '2026-02-08', cohort: 'recurring',
      event: 'Report Viewed', return_event: 'Task Completed', as_of: AS_OF },
    // by month (31, 28 and 31 days), activated people only
    { kind: 'retention', period: 'month', periods: 3, from: '2026-01-01', to: '2026-04-01', activated_only: true, as_of: AS_OF },
    // accounts: their first Signed Up
    { kind: 'retention', unit: 'account', period: 'week', periods: 6, from: '2026-01-05', to: '2026-02-16', as_of: AS_OF },
    // paid sign-ups; an as_of inside the data: periods not started by then are not reported
    { kind: 'retention', period: 'week', periods: 8, from: '2026-01-05', to: '2026-03-02', as_of: '2026-02-20T12:00:00Z',
      where: [{ property: 'channel', value: 'paid' }], mode: 'on_or_after' },
    // first Project Created as the cohort event, by week
    { kind: 'retention', period: 'week', periods: 4, from: '2026-01-12', to: '2026-02-09', event: 'Project Created', as_of: AS_OF },
    // the people behind a number, paged
    { kind: 'retention', period: 'week', periods: 8, from: '2026-01-05', to: '2026-03-02', as_of: AS_OF,
      people: { cohort: '2026-01-19', period: 2, status: 'lost', offset: 3, limit: 5 } },
    { kind: 'retention', unit: 'account', period: 'week', periods: 6, from: '2026-01-05', to: '2026-02-16', as_of: AS_OF,
      people: { cohort: '2026-01-12', period: 1 } },
  ]);
  // the data exercises it: sizable cohorts, partial retention
  assert.ok(weekly.want.cohorts.reduce((a, c) => a + c.size, 0) > 150, 'weekly cohorts hold most sign-ups');
  assert.ok(weekly.want.curve[3].rate > 0 && weekly.want.curve[3].rate < 1);
  assert.ok(account.want.cohorts.some((c) => c.size > 1));
});

test('stickiness matches the DuckDB oracle', async () => {
  const [weekly] = await check([
    { kind: 'stickiness', period: 'week', from: '2026-01-05', to: '2026-03-09' },
    { kind: 'stickiness', period: 'month', from: '2026-01-01', to: '2026-03-01', event: 'Report Viewed' },
    // whole weeks only: 01-12 .. 02-22
    { kind: 'stickiness', unit: 'account', period: 'week', from: '2026-01-07', to: '2026-02-25' },
    { kind: 'stickiness', period: 'week', from: '2026-01-05', to: '2026-03-09', where: [{ property: 'plan', op: 'in', value: ['pro', 'team'] }],
      people: { period: '2026-02-04', days: 2, limit: 7 } },
  ]);
  assert.ok(weekly.want.pooled.active_days[2] > 0, 'some people are active 3 days in a week');
});

test('lifecycle matches the DuckDB oracle', async () => {
  const [weekly] = await check([
    { kind: 'lifecycle', period: 'week', from: '2026-01-05', to: '2026-03-09' },
    { kind: 'lifecycle', period: 'day', from: '2026-02-01', to: '2026-02-15', event: 'Task Completed' },
    { kind: 'lifecycle', unit: 'account', period: 'month', from: '2026-01-01', to: '2026-04-01' },
    { kind: 'lifecycle', period: 'week', from: '2026-01-05', to: '2026-03-09', people: { period: '2026-02-16', status: 'resurrecting' } },
  ]);
  for (const s of ['new', 'returning', 'resurrecting', 'dormant'])
    assert.ok(weekly.want.periods.some((x) => x[s] > 0), `some week has ${s} people`);
});

test('trends matches the DuckDB oracle', async () => {
  const answers = await check([
    { kind: 'trends', period: 'day', from: '2026-01-25', to: '2026-02-10' },
    { kind: 'trends', period: 'week', from: '2026-01-05', to: '2026-03-09', series: [
      { event: 'Signed Up', where: [{ property: 'channel', value: 'paid' }], label: 'paid sign-ups' },
      { math: 'uniques' }, { math: 'dau' }, { math: 'wau' }, { math: 'mau' }, { math: 'dau_mau' }] },
    // months cut by the range; days whose 30-day window reaches before the data
    { kind: 'trends', period: 'month', from: '2026-01-15', to: '2026-03-05', series: [{ math: 'dau_mau' }, { math: 'uniques' }, { math: 'count' }] },
    { kind: 'trends', period: 'day', from: '2025-12-25', to: '2026-01-10', series: [{ math: 'dau_mau' }, { math: 'mau' }] },
    // breakdowns: plan (3 values and absent), ref (30 values: "$other")
    { kind: 'trends', period: 'week', from: '2026-01-05', to: '2026-03-02', breakdown: 'plan', series: [{ math: 'uniques' }, { event: 'Task Completed' }] },
    { kind: 'trends', period: 'week', from: '2026-02-02', to: '2026-03-02', breakdown: 'ref', series: [{ event: '$pageview' }, { math: 'wau' }] },
    { kind: 'trends', unit: 'account', period: 'week', from: '2026-01-05', to: '2026-03-02', series: [{ math: 'uniques' }, { math: 'mau' }] },
  ]);
  const ref = answers[5].want.series;
  assert.ok(ref.some((s) => s.breakdown_value === '$other' && s.total > 0), 'the ref breakdown has an "$other"');
  assert.ok(answers[3].want.series[0].points.some((p) => p.value === null), 'a day before any activity: DAU/MAU null');
});

// ---------------------------------------------------------------- the API
test('POST /api/v1/query answers the same; bad requests get 400', async () => {
  const { dataDir, oracle } = await data();
  const srv = await start({ dataDir, label: 'cohorts-api', secret: 'sk_cohorts' });
  try {
    const ask = (body) => srv.post('/api/v1/query', body, { Authorization: bearer('sk_cohorts') });
    const bad = [];
    for (const req of [
      { kind: 'retention', period: 'week', periods: 8, from: '2026-01-05', to: '2026-03-02', as_of: AS_OF },
      { kind: 'trends', period: 'day', from: '2026-02-01', to: '2026-03-01', series: [{ math: 'dau_mau' }] },
    ]) {
      const r = await ask(req);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.kind, req.kind);
      diff(`POST ${JSON.stringify(req)}`, await oracle[req.kind](req), r.json, bad);
    }
    assert.deepEqual(bad, []);
    const cases = [
      [{ kind: 'retention', perods: 8 }, /^perods: not a field of retention \(its fields: period, periods,/],
      [{ kind: 'retention', periods: 401 }, /^periods: expected a whole number from 1 to 400$/],
      [{ kind: 'retention', mode: 'sometimes' }, /^mode: expected one of "on", "on_or_after"$/],
      [{ kind: 'retention', from: '2026-01-05', to: '2026-02-02', people: { cohort: '2030-01-06' } }, /^people\.cohort: not in the answer's periods \(2026-01-05 to 2026-02-01\)$/],
      [{ kind: 'stickiness', period: 'day' }, /^period: expected "week" or "month"/],
      [{ kind: 'lifecycle', from: '2026-03-01', to: '2026-01-01' }, /^from: must be before to$/],
      [{ kind: 'lifecycle', from: '2026-01-01', to: '2026-02-01', people: { period: '2026-01-12', status: 'asleep' } }, /^people\.status: expected one of "new", "returning", "resurrecting", "dormant"$/],
      [{ kind: 'trends', from: '2026-01-01T12:00:00Z', to: '2026-01-03' }, /whole UTC days/],
      [{ kind: 'trends', series: [{ event: 'Signed Up' }, { math: 'p99' }] }, /^series\[1\]\.math: expected one of "count", "uniques", "dau", "wau", "mau", "dau_mau"$/],
      [{ kind: 'trends', series: [{ event: 'Signed Up', where: [{ property: 'channel', op: 'between' }] }] }, /^series\[0\]\.where\[0\]\.op: expected one of/],
    ];
    for (const [body, re] of cases) {
      const r = await ask(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${r.status} ${r.text}`);
      assert.equal(r.json.reason, 'invalid_query');
      assert.match(r.json.error, re, JSON.stringify(body));
    }
  } finally {
    await srv.dispose();
  }
});
