// revenue.test.mjs — the "revenue" and "virality" analyses (POST /api/v1/query,
// `flywheel query revenue|virality`; docs/query/revenue.md, docs/query/virality.md)
// against two independent references:
//
//   1. metrics/hand2.ndjson, whose plan changes (January to April 2026) and invites
//      (March 2026) are worked out by hand below; the DuckDB oracle must agree too.
//   2. the seeded dataset of metrics/generate.mjs against metrics/oracle.mjs, which
//      computes both analyses in SQL from the definitions: revenue by month, week
//      and day over several ranges, every row and the whole range, and the accounts
//      behind each movement; virality over several ranges and windows, and the
//      people behind each number.
//
// Then one server on the generated data answers the same requests as the CLI, and
// bad requests get 400 with a message naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, tempDataDir } from './lib/server.mjs';
import { generate } from './metrics/generate.mjs';
import { Oracle } from './metrics/oracle.mjs';
import { close, importFile, run } from './metrics/util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const HAND2 = path.join(here, 'metrics', 'hand2.ndjson');
const MOVES = ['new', 'reactivation', 'expansion', 'contraction', 'churn'];
const ROW_KEYS = ['start', 'end', 'mrr_start', 'mrr_end', 'paying_start', 'paying_end',
  ...MOVES.flatMap((m) => [m, `${m}_accounts`]), 'nrr', 'grr'];
const STATUSES = ['signups', 'inviters', 'invitees_accepted', 'invitees_signed_up', 'invitees_activated',
  'workspaces_2', 'workspaces_5'];
const VIRALITY_KEYS = ['signups', 'inviters', 'invites_sent', 'invites_accepted', 'invitees_signed_up',
  'invitees_activated', 'k_factor'];

/** `flywheel query KIND --data D [--NAME VALUE…] --json`, parsed. */
function query(data, kind, opts = {}) {
  const args = ['query', kind, '--data', data, '--json'];
  for (const [k, v] of Object.entries(opts)) args.push(`--${k}`, typeof v === 'string' ? v : JSON.stringify(v));
  const r = run(args);
  assert.equal(r.status, 0, `flywheel ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Mismatches of a revenue row (or the fields given of it) as readable lines. */
function rowDiff(label, want, got) {
  const out = [];
  if (!got) return [`${label}: missing`];
  for (const k of ROW_KEYS) {
    if (want[k] === undefined) continue;
    if (typeof want[k] === 'string' ? want[k] !== got[k] : !close(want[k], got[k] ?? null))
      out.push(`${label} ${k}: expected ${want[k]}, got ${got[k]}`);
  }
  return out;
}

function revenueDiff(label, want, got) {
  const out = [];
  assert.ok(Array.isArray(got.periods), `${label}: periods`);
  if (want.periods.length !== got.periods.length)
    out.push(`${label}: ${want.periods.length} periods expected, got ${got.periods.length}`);
  want.periods.forEach((w, i) => out.push(...rowDiff(`${label} periods[${i}]`, w, got.periods[i])));
  out.push(...rowDiff(`${label} range`, want.range, got.range));
  for (const row of [...got.periods, got.range]) {
    assert.deepEqual(Object.keys(row), ROW_KEYS, `${label}: the fields of a period`);
    // the bridge: MRR at the end = at the start + new + reactivation + expansion − contraction − churn
    const bridge = row.mrr_start + row.new + row.reactivation + row.expansion - row.contraction - row.churn;
    if (!close(bridge, row.mrr_end) && Math.abs(bridge - row.mrr_end) > 1e-9)
      out.push(`${label} ${row.start}: the movements do not bridge ${row.mrr_start} to ${row.mrr_end}`);
  }
  return out;
}

function viralityDiff(label, want, got) {
  const out = [];
  for (const k of VIRALITY_KEYS)
    if (!close(want[k], got[k] ?? null)) out.push(`${label} ${k}: expected ${want[k]}, got ${got[k]}`);
  for (const k of ['created', 'with_2_members', 'with_5_members'])
    if (want.workspaces[k] !== got.workspaces?.[k]) out.push(`${label} workspaces.${k}: expected ${want.workspaces[k]}, got ${got.workspaces?.[k]}`);
  return out;
}

// ---------------------------------------------------------------------------
// metrics/hand2.ndjson: plan changes by group calls (MRR at a time includes the
// changes at that very time, so a change exactly at a boundary belongs to the
// period that ends there):
//   acA  pays 100 since 2025-12-10; 01-10 → 150; 01-20 → 120; 03-01 00:00 → 0
//   acB  free from 01-05; 01-15 → 50; 02-10 → 0; 03-05 → 70 (paid before)
//   acC  pays 200 since 2025-11-01; 02-03 → 80; 02-20 → 0; 02-25 → 90
//   acD  02-14 → 30, 02-15 → 0 (paid only inside February); 03-10 → 40
//   acE  03-31 23:59:59.999 → 60; 04-01 00:00 → 65 (at `to`: in March's end)
//   acF  mrr −5: pays nothing · acG plan alone: no plan change
//   acH  01-25 12:00 → 40 and → 45 at the same millisecond (45 wins)
// MRR at 01-01 300 (A 100, C 200) · 02-01 415 (A 120, B 50, C 200, H 45) ·
//        03-01 135 (C 90, H 45) · 04-01 310 (B 70, C 90, D 40, E 65, H 45)
const HAND_REVENUE = {
  periods: [
    // A 100 → 120 expansion 20; B, H new 95; NRR (300 + 20) / 300
    { start: '2026-01-01', end: '2026-02-01', mrr_start: 300, mrr_end: 415, paying_start: 2, paying_end: 4,
      new: 95, new_accounts: 2, reactivation: 0, reactivation_accounts: 0, expansion: 20, expansion_accounts: 1,
      contraction: 0, contraction_accounts: 0, churn: 0, churn_accounts: 0, nrr: 320 / 300, grr: 1 },
    // A 120 → 0, B 50 → 0 churn 170; C 200 → 90 contraction 110; D 0 → 0 nothing
    { start: '2026-02-01', end: '2026-03-01', mrr_start: 415, mrr_end: 135, paying_start: 4, paying_end: 2,
      new: 0, new_accounts: 0, reactivation: 0, reactivation_accounts: 0, expansion: 0, expansion_accounts: 0,
      contraction: 110, contraction_accounts: 1, churn: 170, churn_accounts: 2, nrr: 135 / 415, grr: 135 / 415 },
    // B 0 → 70 and D 0 → 40 reactivation; E 0 → 65 new; C and H unchanged
    { start: '2026-03-01', end: '2026-04-01', mrr_start: 135, mrr_end: 310, paying_start: 2, paying_end: 5,
      new: 65, new_accounts: 1, reactivation: 110, reactivation_accounts: 2, expansion: 0, expansion_accounts: 0,
      contraction: 0, contraction_accounts: 0, churn: 0, churn_accounts: 0, nrr: 1, grr: 1 },
  ],
  // the range as one period: A 100 → 0 churn, C 200 → 90 contraction, B D E H new
  range: { start: '2026-01-01', end: '2026-04-01', mrr_start: 300, mrr_end: 310, paying_start: 2, paying_end: 5,
    new: 220, new_accounts: 4, reactivation: 0, reactivation_accounts: 0, expansion: 0, expansion_accounts: 0,
    contraction: 110, contraction_accounts: 1, churn: 100, churn_accounts: 1, nrr: 0.3, grr: 0.3 },
};
// March 2026 invites, cohort [03-02, 03-09), window 30 days:
//   P1 (03-02 10:00) sends 2, P2 (03-03) 1 (before signing up: any time counts);
//   P3 signed up in February (not in the cohort).
//   pairs: (P1, I1) I1 signs up 03-02 12:01, activates 03-03 · (P1, I2) accepts twice,
//   signs up exactly 30×24 h after P1 · (P1, I3) 30 d + 1 ms: too late · (P1, I4) never
//   signs up · (P1, P1) self: no · (P2, I1) I1 signed up before P2: no · (P2, I5) signs
//   up by identify 03-04 and activates → accepted 6, signed up 3, activated 2;
//   cohort P1 P2 I1 I5 → k = 3 / 4.
//   Workspaces created in range: W1 (members within 30 days: P1, I1, P2 by an identify
//   naming it, I4, I2; I5 too late) 5; W2 1; W4 (first event 03-08 23:59:59.999) 2;
//   W3's created_at says February.
const HAND_VIRALITY = {
  signups: 4, inviters: 2, invites_sent: 3, invites_accepted: 6, invitees_signed_up: 3, invitees_activated: 2,
  k_factor: 0.75, workspaces: { created: 3, with_2_members: 2, with_5_members: 1 },
  people: {
    signups: ['I1', 'I5', 'P1', 'P2'], inviters: ['P1', 'P2'], invitees_accepted: ['I1', 'I2', 'I3', 'I4', 'I5'],
    invitees_signed_up: ['I1', 'I2', 'I5'], invitees_activated: ['I1', 'I5'], workspaces_2: ['W1', 'W4'],
    workspaces_5: ['W1'],
  },
};

test('revenue and virality: the hand-computed fixture, the oracle and the CLI', async () => {
  const dir = tempDataDir('revenue-hand');
  const data = path.join(dir, 'data');
  const o = await Oracle.load(fs.readFileSync(HAND2, 'utf8').split('\n'));
  try {
    importFile(data, HAND2);
    const range = { from: '2026-01-01', to: '2026-04-01' };
    const bad = [
      ...revenueDiff('oracle', HAND_REVENUE, await o.revenue(range.from, range.to, 'month')),
      ...revenueDiff('flywheel', HAND_REVENUE, query(data, 'revenue', range)),
    ];
    const got = query(data, 'revenue', range);
    assert.equal(got.kind, 'revenue');
    assert.equal(got.period, 'month');
    assert.equal(got.from, '2026-01-01');
    assert.equal(got.to, '2026-04-01');
    // the accounts behind movements
    const people = (spec) => query(data, 'revenue', { ...range, people: spec }).people;
    assert.deepEqual(people({ period: '2026-02-01', movement: 'churn' }).items, ['acA', 'acB']);
    assert.deepEqual(people({ period: '2026-03-01', movement: 'reactivation' }).items, ['acB', 'acD']);
    assert.deepEqual(people({ movement: 'new' }), { unit: 'account', total: 4, offset: 0, limit: 100, items: ['acB', 'acD', 'acE', 'acH'] });
    assert.deepEqual(people({ movement: 'new', offset: 1, limit: 2 }).items, ['acD', 'acE']);
    assert.deepEqual((await o.revenue(range.from, range.to, 'month', { period: 1, movement: 'churn' })).people, ['acA', 'acB']);
    assert.deepEqual((await o.revenue(range.from, range.to, 'month', { period: 'range', movement: 'new' })).people, ['acB', 'acD', 'acE', 'acH']);

    const vr = { from: '2026-03-02', to: '2026-03-09' };
    const ov = await o.virality(vr.from, vr.to, 30);
    bad.push(...viralityDiff('oracle', HAND_VIRALITY, ov));
    const v = query(data, 'virality', vr);
    bad.push(...viralityDiff('flywheel', HAND_VIRALITY, v));
    assert.equal(v.window_days, 30);
    for (const status of STATUSES) {
      assert.deepEqual(ov.people[status], HAND_VIRALITY.people[status], `oracle people ${status}`);
      const p = query(data, 'virality', { ...vr, people: { status } }).people;
      assert.deepEqual(p.items, HAND_VIRALITY.people[status], `flywheel people ${status}`);
      assert.equal(p.unit, status.startsWith('workspaces') ? 'account' : 'person');
    }
    // a 10-day window: I2 no longer counts, W1 has 4 members by then
    const v10 = query(data, 'virality', { ...vr, window: '10d' });
    assert.deepEqual([v10.window_days, v10.invitees_signed_up, v10.k_factor, v10.workspaces.with_5_members], [10, 2, 0.5, 0]);
    bad.push(...viralityDiff('oracle 10d', v10, await o.virality(vr.from, vr.to, 10)));
    assert.deepEqual(bad, []);
  } finally {
    o.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Revenue over the generated data (plan changes from December to May): by month
// over everything (and a tail with no change), by week from a Monday, by week from a
// Thursday (clipped first and last weeks), by day over February.
const REVENUE_CASES = [
  ['2025-12-01', '2026-06-01', 'month'],
  ['2026-01-19', '2026-03-16', 'week'],
  ['2026-01-01', '2026-03-12', 'week'],
  ['2026-02-01', '2026-03-01', 'day'],
];
const VIRALITY_CASES = [
  ['2026-01-01', '2026-02-01', 30],
  ['2026-01-19', '2026-03-16', 14],
  ['2026-02-01', '2026-03-01', 45],
  ['2026-02-09', '2026-02-10', 0.5],
];

test('revenue and virality match the DuckDB oracle on generated data, CLI and server', async () => {
  const seed = Number(process.env.FW_METRICS_SEED || 20260101);
  const dir = tempDataDir('revenue-gen');
  const g = generate({ seed });
  const file = path.join(dir, 'events.ndjson');
  fs.writeFileSync(file, g.lines.join('\n') + '\n');
  const data = path.join(dir, 'data');
  const o = await Oracle.load(g.lines);
  let srv = null;
  try {
    importFile(data, file);
    const bad = [];
    const seen = Object.fromEntries(MOVES.map((m) => [m, 0]));
    const cli = {};
    for (const [from, to, period] of REVENUE_CASES) {
      const want = await o.revenue(from, to, period);
      const got = query(data, 'revenue', { from, to, period });
      cli[`${from} ${period}`] = got;
      bad.push(...revenueDiff(`seed ${seed} revenue ${from}..${to} by ${period}`, want, got));
      for (const row of want.periods) for (const m of MOVES) seen[m] += row[`${m}_accounts`];
    }
    // the data must exercise every movement, not only agree on zeros
    for (const m of MOVES) assert.ok(seen[m] > 0, `the generated data has no ${m} movement`);
    const vcli = {};
    for (const [from, to, windowDays] of VIRALITY_CASES) {
      const want = await o.virality(from, to, windowDays);
      const got = query(data, 'virality', { from, to, window: windowDays });
      vcli[from] = got;
      bad.push(...viralityDiff(`seed ${seed} virality ${from}..${to} window ${windowDays}`, want, got));
      if (from === '2026-01-01')
        for (const k of [...VIRALITY_KEYS, 'workspaces']) assert.ok(want[k] !== null && want[k] !== 0, `oracle virality ${k} is 0`);
    }
    assert.deepEqual(bad, []);

    // one server on the same data: the same answers, the people behind the numbers
    srv = await start({ dataDir: data, label: 'revenue-api', secret: 'sk_revenue' });
    const post = (body) => srv.post('/api/v1/query', body, { Authorization: `Bearer ${srv.secret}` });
    for (const [from, to, period] of REVENUE_CASES) {
      const r = await post({ kind: 'revenue', from, to, period });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, cli[`${from} ${period}`], `POST /api/v1/query revenue ${from} by ${period} = the CLI`);
    }
    const [wf, wt] = REVENUE_CASES[1];
    const weeks = await o.revenue(wf, wt, 'week');
    const peopleBad = [];
    for (const [i, row] of [...weeks.periods.entries(), ['range', weeks.range]]) {
      for (const m of MOVES) {
        if (!row[`${m}_accounts`]) continue;
        const want = (await o.revenue(wf, wt, 'week', { period: i, movement: m })).people;
        const r = await post({ kind: 'revenue', from: wf, to: wt, period: 'week',
          people: { ...(i === 'range' ? {} : { period: row.start }), movement: m, limit: 10000 } });
        assert.equal(r.status, 200, r.text);
        if (JSON.stringify(r.json.people.items) !== JSON.stringify(want) || r.json.people.total !== want.length)
          peopleBad.push(`${row.start} ${m}: expected ${want.join(',')}, got ${r.json.people.items.join(',')}`);
      }
    }
    for (const [from, to, windowDays] of VIRALITY_CASES.slice(0, 2)) {
      const want = await o.virality(from, to, windowDays);
      for (const status of STATUSES) {
        const r = await post({ kind: 'virality', from, to, window: windowDays, people: { status, limit: 10000 } });
        assert.equal(r.status, 200, r.text);
        const { people, ...rest } = r.json;
        assert.deepEqual(rest, vcli[from], `POST /api/v1/query virality ${from} = the CLI`);
        if (JSON.stringify(people.items) !== JSON.stringify(want.people[status]))
          peopleBad.push(`virality ${from} ${status}: expected ${want.people[status].length} ${want.people[status].slice(0, 5)}…, got ${people.items.length} ${people.items.slice(0, 5)}…`);
      }
    }
    assert.deepEqual(peopleBad, []);

    // bad requests: 400 and a message naming the field
    const BAD = [
      [{ kind: 'revenue', period: 'year' }, /^period: expected one of "day", "week", "month"/],
      [{ kind: 'revenue', from: '2026-02-01', to: '2026-01-01' }, /^from: must be before to/],
      [{ kind: 'revenue', from: '2026-01-01T06:00:00Z', to: '2026-02-01' }, /whole UTC days/],
      [{ kind: 'revenue', from: 'January' }, /^from: expected a date/],
      [{ kind: 'revenue', period: 'day', from: '2000-01-01', to: '2026-01-01' }, /more than 5000 day periods/],
      [{ kind: 'revenue', people: { period: '2026-01-01' } }, /^people\.movement: expected one of/],
      [{ kind: 'revenue', people: { movement: 'upsell' } }, /^people\.movement: expected one of "new"/],
      [{ kind: 'revenue', from: '2026-01-01', to: '2026-03-01', people: { period: '2026-01-15', movement: 'new' } },
        /^people\.period: no period starts on 2026-01-15/],
      [{ kind: 'revenue', people: 'all' }, /^people: expected an object/],
      [{ kind: 'virality', window: 'a week' }, /^window: expected a duration/],
      [{ kind: 'virality', window: -3 }, /^window: expected a duration/],
      [{ kind: 'virality', people: { status: 'everyone' } }, /^people\.status: expected one of "signups"/],
      [{ kind: 'virality', to: 5 }, /^to: expected a date/],
    ];
    for (const [body, msg] of BAD) {
      const r = await post(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
      assert.match(r.json.error, msg, JSON.stringify(body));
    }
    const r = await srv.post('/api/v1/query', { kind: 'revenue' }, {});
    assert.equal(r.status, 401);
  } finally {
    o.close();
    if (srv) await srv.dispose();
    if (!process.env.FW_KEEP_DATA) fs.rmSync(dir, { recursive: true, force: true });
  }
});
