// metrics.test.mjs — `flywheel query metrics --json` against two independent
// references:
//
//   1. metrics/hand.ndjson, a 65-line fixture (13 people, 4 accounts) whose every
//      contract metric is worked out by hand below, and metrics/hand2.ndjson (81
//      lines) whose metrics beyond the contract (docs/metrics.md) are. Both check
//      the DuckDB oracle too.
//   2. metrics/generate.mjs, a seeded dataset (~12k lines, ~325 people, 60
//      accounts, 70 days) full of edge cases, against metrics/oracle.mjs, which
//      computes every metric from DESIGN.md's and docs/metrics.md's definitions in
//      SQL (DuckDB), over five ranges, with core features and onboarding steps
//      configured. FW_METRICS_SEED=N tries another dataset; FW_KEEP_DATA=1 keeps it.
//
// Both also ask GET /api/v1/metrics of a server started on the same data.
//
// `metrics` holds exactly the 17 contract keys and the 9 further ones. Each test
// compares them, value and previous: numbers equal within 1e-9 relative, nulls
// equal, feature_adoption's {feature: share} objects member by member. A mismatch
// lists metric, range, expected and got.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, tempDataDir } from './lib/server.mjs';
import { generate, CORE_FEATURES, ONBOARDING_STEPS } from './metrics/generate.mjs';
import { Oracle, METRICS, ALL_METRICS } from './metrics/oracle.mjs';
import { close, importFile, run, writeConfig } from './metrics/util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const HAND = path.join(here, 'metrics', 'hand.ndjson');
const HAND2 = path.join(here, 'metrics', 'hand2.ndjson');

/** Exactly the 17 keys of DESIGN.md, in its order, then the 9 of docs/metrics.md;
 * every value a number or null (feature_adoption: an object of them, or null). */
function checkShape(metrics) {
  assert.deepEqual(Object.keys(metrics), ALL_METRICS, 'the 17 metric keys of DESIGN.md, then the further 9');
  assert.deepEqual(Object.keys(metrics).slice(0, 17), METRICS);
  const num = (v) => v === null || (typeof v === 'number' && Number.isFinite(v));
  for (const [k, m] of Object.entries(metrics)) {
    for (const f of ['value', 'previous']) {
      if (k === 'feature_adoption' && m[f] !== null && typeof m[f] === 'object')
        assert.ok(Object.values(m[f]).every((v) => typeof v === 'number' && v >= 0 && v <= 1), `${k}.${f}: shares ${JSON.stringify(m[f])}`);
      else assert.ok(num(m[f]), `${k}.${f} is a number or null: ${m[f]}`);
    }
  }
}

function queryMetrics(data, from, to, config = null) {
  const r = run(['query', 'metrics', '--data', data, '--from', from, '--to', to, '--json', ...(config ? ['--config', config] : [])]);
  assert.equal(r.status, 0, `flywheel query metrics ${from}..${to} failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout);
  assert.equal(j.from, from);
  assert.equal(j.to, to);
  checkShape(j.metrics);
  return j.metrics;
}

/** Mismatches of `got` against `want` ({metric: {value, previous}}) as readable lines. */
function diff(label, want, got) {
  const out = [];
  for (const k of ALL_METRICS) {
    for (const f of ['value', 'previous']) {
      const w = want[k] ? want[k][f] : undefined;
      const g = got[k] ? got[k][f] : undefined;
      if (w === undefined) continue;
      if (!close(w, g ?? null)) out.push(`${label} ${k}.${f}: expected ${JSON.stringify(w)}, got ${JSON.stringify(g)}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Hand-computed expectations for metrics/hand.ndjson over [2026-01-05, 2026-01-19)
// (14 days, Mon..Sun twice); previous = [2025-12-22, 2026-01-05).
//
// People and their sign-up s (first `Signed Up`, else first identify with created_at):
//   zoe   2025-12-30 12:00            (previous period)
//   alice 01-05 10:00
//   bob   01-06 23:59:59.999          anon_bob signs up, identify joins anon_bob→u_bob
//   carol 01-08 09:30                 identify with created_at (the 01-07 identify has none)
//   dave  01-09 14:00                 written 19:30+05:30; a later duplicate of that
//                                     message id says 01-02 and is ignored
//   erin  01-10 08:00                 anon_erin, joined by alias
//   frank 01-12 10:00
//   gina  01-14 10:00                 (her second Signed Up on 01-16 does not move it)
//   hank  01-17 23:00
//   ivy 01-25, kate 02-04 10:00:00.000, jack 02-04 10:00:00.001   (after `to`)
//   leo never signs up; anon_x (a track carrying u_gina + anon_x does not join) neither.
//
// Accounts (created = min(created_at trait, first event naming it)):
//   acct_b 2025-12-30 12:05 group {team, mrr 100} → starts paid; 01-08 00:00 Plan Changed 150;
//          01-12 group {team, 120} (plan change); 01-13 group {plan: enterprise} alone (not one)
//   acct_a 01-05 10:01 group {free, 0}; 01-15 10:01 Plan Changed 50 (a later duplicate says
//          500: ignored); 01-16 group {mrr: 999} alone (not one); 01-17 00:00 Plan Changed 80
//   acct_c group on 01-08 09:31 {created_at 2025-12-24T12:00, pro, 30} → created 12-24 12:00
//          on the free default; paid from 01-08 09:31; 01-18 Plan Changed 0 (churn)
//   acct_d 01-14 10:05 group {plan: free} alone → free default, never pays
const HAND_RANGE = ['2026-01-05', '2026-01-19'];
const HAND_EXPECTED = {
  // in range: alice bob carol dave erin frank gina hank = 8; previous: zoe = 1
  signups: { value: 8, previous: 1 },
  // first Project Created at/after s, minus s:
  //   alice 2 h; bob exactly 24 h (01-07 23:59:59.999); carol exactly 7×24 h;
  //   dave 24 h + 1 ms; erin 0 (same ms as her sign-up); frank only 1 ms *before* his
  //   sign-up → never; gina 1 h; hank 50 h (01-20 01:00, after `to`: still counts)
  //   ≤ 24 h: alice bob erin gina = 4 / 8;  ≤ 7×24 h: + carol dave hank = 7 / 8
  //   previous: zoe 6 h → 1/1 and 1/1
  activation_rate_1d: { value: 4 / 8, previous: 1 },
  activation_rate_7d: { value: 7 / 8, previous: 1 },
  // TTFV sorted (s): 0, 3600, 7200, 86400, 86400.001, 180000, 604800 (n = 7)
  //   median rank ⌈3.5⌉ = 4 → 86400; p90 rank ⌈6.3⌉ = 7 → 604800; previous: [21600]
  ttfv_median_seconds: { value: 86400, previous: 21600 },
  ttfv_p90_seconds: { value: 604800, previous: 21600 },
  // d1, cohort days [01-05, 01-18): all 8. Active on day+1?
  //   alice 01-06 ✓, bob 01-07 ✓ (23:59:59.999), carol 01-09 ✗ (only $feature_flag_called),
  //   dave 01-10 ✓ (19:30:00.001+05:30), erin 01-11 ✓ (00:00:00.000), frank 01-13 ✗
  //   (flag + identify only), gina 01-15 ✓, hank 01-18 ✓ (00:00:00.000) → 6 / 8
  //   previous, days [12-22, 01-04): zoe, active 12-31 → 1/1
  retention_d1: { value: 6 / 8, previous: 1 },
  // d7, cohort days [01-05, 01-12): alice bob carol dave erin.
  //   alice 01-12 ✓, bob 01-13 ✗, carol 01-15 ✓, dave 01-16 ✓ (05:29:59.999+05:30 is
  //   01-16 23:59:59.999Z), erin 01-17 ✗ → 3 / 5; previous days [12-22, 12-29): empty → null
  retention_d7: { value: 3 / 5, previous: null },
  // w1, same cohort, all in week 01-05..01-11; active in 01-12..01-18?
  //   alice ✓ (01-12), bob ✗, carol ✓ (01-15), dave ✓ (01-16), erin ✓ (01-18 23:59:59.999)
  //   → 4 / 5; previous: empty cohort → null
  retention_w1: { value: 4 / 5, previous: null },
  // Active days (events only, not $feature_flag_called; calls never):
  //   zoe 12-30 12-31 01-06 01-08 · bob 01-04 (as anon_bob) 01-06 01-07 · alice 01-05 01-06
  //   01-12 01-15 01-17 · dave 01-09 01-10 01-16 · erin 01-10 01-11 01-18 · frank 01-12 01-19
  //   leo 01-13 · gina 01-14 01-15 01-16 · carol 01-15 01-18 · anon_x 01-15 · hank 01-17 01-18
  // DAU 01-05..01-18:  1 3 1 1 1 2 1 2 1 1 4 2 2 3
  // MAU (everyone active since 12-30, all within 30 days):
  //                    3 3 3 3 4 5 5 6 7 8 10 10 11 11
  // sum of DAU/MAU = 4·(1/3) + 1 + 1/4 + (2/5 + 1/5 + 2/5 + 1/5) + 1/7 + 1/8 + (2/11 + 3/11)
  //                = 7/3 + 1/4 + 6/5 + 1/7 + 1/8 + 5/11 = 41633/9240; mean over 14 days
  // previous 12-22..01-04: MAU 0 until 12-29 (skipped); 12-30 1/1, 12-31 1/1, 01-01..03 0/1,
  //   01-04 1/2 (bob) → (1 + 1 + 0 + 0 + 0 + 0.5) / 6 = 5/12
  dau_mau: { value: 41633 / 9240 / 14, previous: 5 / 12 },
  // on 01-18: 7 days 01-12..01-18: alice frank leo gina carol anon_x dave hank erin = 9;
  //   30 days: + zoe bob = 11. previous on 01-04: zoe bob = 2 and 2
  wau: { value: 9, previous: 2 },
  mau: { value: 11, previous: 2 },
  // created in range and starting free: acct_a (pays 50 after exactly 10 days, ≤ 90),
  //   acct_d (never) → 1/2. previous: acct_c (created 12-24 on the free default, pays
  //   after 14.9 days) → 1/1; acct_b started paid → not counted
  free_to_paid_rate: { value: 1 / 2, previous: 1 },
  // first paid plan began in range: acct_a 10 days, acct_c 14 + 1291/1440 days
  //   (12-24 12:00 → 01-08 09:31); n = 2, median rank ⌈1⌉ = 1 → 10.
  //   previous: acct_b, paid from its creation → 0 days
  time_to_convert_median_days: { value: 10, previous: 0 },
  // ACV = 12 × first paid mrr: acct_a 600, acct_c 360 → mean 480; previous acct_b 1200
  acv: { value: 480, previous: 1200 },
  // paying at 01-05 00:00: acct_b (150 comes at 01-08) → 100; at 01-19: 120 → 1.2
  //   previous: nobody pays at 12-22 → null
  nrr: { value: 1.2, previous: null },
  // steps in range by accounts already paying: acct_b 100→150 (+50), acct_b 150→120 (no),
  //   acct_a 0→50 (new, no), acct_a 50→80 (+30), acct_c 0→30 (new), 30→0 (no) → 80
  //   previous: acct_b 0→100 (new) → 0
  expansion_mrr: { value: 80, previous: 0 },
  // invitees per inviter (distinct), signed up within 30×24 h of the inviter:
  //   alice (01-05 10:00): bob ✓ (accepted anonymously before signing up), frank ✓ (accepted
  //   twice: once), ivy ✓ (after `to`), kate ✓ (exactly 30×24 h), jack ✗ (+1 ms),
  //   leo ✗ (never signs up) → 4; nobody else invites → 4 / 8.  previous: 0 / 1
  k_factor: { value: 4 / 8, previous: 0 },
};
// An empty range after all data: counts and sums 0, ratios null; NRR still compares
// the accounts paying at `from` (acct_a 80 + acct_b 120) with themselves at `to` → 1.
const HAND_EMPTY_RANGE = ['2027-01-04', '2027-01-18'];
const HAND_EMPTY = Object.fromEntries(METRICS.map((k) => [k, { value: null, previous: null }]));
for (const k of ['signups', 'wau', 'mau', 'expansion_mrr']) HAND_EMPTY[k] = { value: 0, previous: 0 };
HAND_EMPTY.nrr = { value: 1, previous: 1 };
// Beyond the contract, with no core features or onboarding steps configured: counts
// and sums 0; GRR like NRR (nobody's MRR moves) 1; the rest null.
for (const k of ['signups_organic', 'signups_paid', 'contraction_mrr', 'churned_mrr']) HAND_EMPTY[k] = { value: 0, previous: 0 };
HAND_EMPTY.grr = { value: 1, previous: 1 };
for (const k of ['onboarding_completion', 'feature_adoption', 'feature_breadth', 'active_days_per_week']) HAND_EMPTY[k] = { value: null, previous: null };

test('the oracle reproduces the hand-computed fixture', async () => {
  const o = await Oracle.load(fs.readFileSync(HAND, 'utf8').split('\n'));
  try {
    const bad = [
      ...diff(`oracle ${HAND_RANGE.join('..')}`, HAND_EXPECTED, await o.metrics(...HAND_RANGE)),
      ...diff(`oracle ${HAND_EMPTY_RANGE.join('..')}`, HAND_EMPTY, await o.metrics(...HAND_EMPTY_RANGE)),
    ];
    assert.deepEqual(bad, []);
  } finally {
    o.close();
  }
});

/** GET /api/v1/metrics from a server started on `data`; checked like queryMetrics. */
async function apiMetrics(data, ranges, config = null) {
  const srv = await start({ dataDir: data, label: 'metrics-api', secret: 'sk_metrics', args: config ? ['--config', config] : [] });
  try {
    const out = [];
    for (const [from, to] of ranges) {
      const r = await srv.api(`/api/v1/metrics?from=${from}&to=${to}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.from, from);
      assert.equal(r.json.to, to);
      checkShape(r.json.metrics);
      out.push(r.json.metrics);
    }
    return out;
  } finally {
    await srv.dispose();
  }
}

test('flywheel query metrics and GET /api/v1/metrics: the hand-computed fixture', async () => {
  const dir = tempDataDir('metrics-hand');
  const data = path.join(dir, 'data');
  try {
    const r = importFile(data, HAND);
    assert.match(r.stderr, /imported 65 lines, 62 stored, 3 duplicates, 0 skipped/);
    const bad = [
      ...diff(`flywheel ${HAND_RANGE.join('..')}`, HAND_EXPECTED, queryMetrics(data, ...HAND_RANGE)),
      ...diff(`flywheel ${HAND_EMPTY_RANGE.join('..')}`, HAND_EMPTY, queryMetrics(data, ...HAND_EMPTY_RANGE)),
    ];
    const [api, apiEmpty] = await apiMetrics(data, [HAND_RANGE, HAND_EMPTY_RANGE]);
    bad.push(...diff(`GET /api/v1/metrics ${HAND_RANGE.join('..')}`, HAND_EXPECTED, api));
    bad.push(...diff(`GET /api/v1/metrics ${HAND_EMPTY_RANGE.join('..')}`, HAND_EMPTY, apiEmpty));
    assert.deepEqual(bad, []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// Hand-computed expectations for metrics/hand2.ndjson (the metrics beyond the
// contract; docs/metrics.md), with
//   core_features: [Report Run, Export, Alert Set, Report Run]   (a repeat counts once)
//   onboarding_steps: [Profile Completed, Tour Finished]
// January: people A..H; accounts acA..acH change plans by group calls from a
// billing service (calls: nobody becomes active); March: the invite fixture of
// revenue.test.mjs.
const HAND2_CONFIG = {
  coreFeatures: ['Report Run', 'Export', 'Alert Set', 'Report Run'],
  onboardingSteps: ['Profile Completed', 'Tour Finished'],
};
// Over [2026-01-07, 2026-01-26) (Wednesday .. Sunday; full weeks 01-12..18, 01-19..25);
// previous = [2025-12-19, 2026-01-07).
const HAND2_RANGE = ['2026-01-07', '2026-01-26'];
const HAND2_EXPECTED = {
  // Sign-ups and the channel of their sign-up (channel, else utm_source, as a
  // non-empty string; paid values compared ignoring case):
  //   A {channel: paid} paid · B {channel: "", utm_source: CPC} paid · C identify with
  //   created_at {utm_source: linkedin_ads} paid · D {channel: organic, utm_source: cpc}
  //   organic · E {channel: 42, utm_source: ads} paid (a number is no channel) · F {}
  //   organic · G identify {created_at, channel: organic}, then Signed Up {channel: paid}:
  //   the event wins, paid. Previous: H {channel: paid}.
  signups: { value: 7, previous: 1 },
  signups_paid: { value: 5, previous: 1 },
  signups_organic: { value: 2, previous: 0 },
  // Both steps at or after sign-up, any order: A (Profile, Tour) ✓, B (Profile on 01-06
  // is before her 01-08 sign-up) ✗, C (Tour then Profile) ✓, E (Profile only) ✗,
  // D F G none → 2 / 7. Previous: H did none → 0 / 1.
  onboarding_completion: { value: 2 / 7, previous: 0 },
  // Active on a day in range: A B C D E F G H = 8 (B's 01-19 is $feature_flag_called only).
  //   Report Run: A B C H; Export: A D H; Alert Set: A H. Previous: H (01-02), B (01-06)
  //   active, no core feature used → all 0.
  feature_adoption: {
    value: { 'Report Run': 4 / 8, Export: 3 / 8, 'Alert Set': 2 / 8 },
    previous: { 'Report Run': 0, Export: 0, 'Alert Set': 0 },
  },
  // distinct core features per active person: A 3, B 1, C 1, D 1, H 3 → 9 / 8
  feature_breadth: { value: 9 / 8, previous: 0 },
  // week 01-12: A 12 13 14, B 12, C 15, E 12, G 12, H 12 13 14 → 10 days over 6 people;
  // week 01-19: A 20, D 22, H 20 → 3 over 3 → 13 / 9. Previous full weeks 12-22 and
  // 12-29: H on 01-02 → 1 / 1 (B's 01-06 is in the partial week of 01-05).
  active_days_per_week: { value: 13 / 9, previous: 1 },
  // paying at 01-07: acA 100, acC 200; at 01-26: acA 120 (100 → 150 → 120), acC 200 →
  // GRR (100 + 200) / 300 = 1, NRR 320 / 300. Previous: acA and acC unchanged → 1, 1.
  grr: { value: 1, previous: 1 },
  nrr: { value: 320 / 300, previous: 1 },
  // steps in range: acA 100→150 (+50), 150→120 (−30), acH 40→45 at the same ms as its
  // 0→40 (+5), acB 0→50 (new: neither) → expansion 55, contraction 30, churn 0
  expansion_mrr: { value: 55, previous: 0 },
  contraction_mrr: { value: 30, previous: 0 },
  churned_mrr: { value: 0, previous: 0 },
};
// February [02-01, 03-01): P3 signs up (no properties: organic), is active on 02-20
// and 02-21, uses no core feature and no step. Full weeks 02-02, 02-09, 02-16 → P3 2
// days in one. Plans: acC 200→80 (contraction 120), acB 50→0, acD 30→0, acC 80→0
// (churned 160; acA's 03-01 00:00 change is outside). GRR: paying at 02-01 acA 120,
// acB 50, acC 200, acH 45 (415) → at 03-01 acA 0 (that change is at 03-01), acB 0,
// acC 90, acH 45 → 135 / 415.
const HAND2_FEB = ['2026-02-01', '2026-03-01'];
const HAND2_FEB_EXPECTED = {
  signups: { value: 1 },
  signups_paid: { value: 0 },
  signups_organic: { value: 1 },
  onboarding_completion: { value: 0 },
  feature_adoption: { value: { 'Report Run': 0, Export: 0, 'Alert Set': 0 } },
  feature_breadth: { value: 0 },
  active_days_per_week: { value: 2 },
  grr: { value: 135 / 415 },
  nrr: { value: 135 / 415 },
  contraction_mrr: { value: 120 },
  churned_mrr: { value: 160 },
  expansion_mrr: { value: 0 },
};

test('the metrics beyond the contract: hand-computed fixture, oracle, CLI and API', async () => {
  const dir = tempDataDir('metrics-hand2');
  const data = path.join(dir, 'data');
  const config = writeConfig(dir, HAND2_CONFIG);
  const o = await Oracle.load(fs.readFileSync(HAND2, 'utf8').split('\n'), HAND2_CONFIG);
  try {
    const bad = [
      ...diff(`oracle ${HAND2_RANGE.join('..')}`, HAND2_EXPECTED, await o.metrics(...HAND2_RANGE)),
      ...diff(`oracle ${HAND2_FEB.join('..')}`, HAND2_FEB_EXPECTED, await o.metrics(...HAND2_FEB)),
    ];
    const r = importFile(data, HAND2);
    assert.match(r.stderr, /imported 81 lines, 81 stored, 0 duplicates, 0 skipped/);
    bad.push(...diff(`flywheel ${HAND2_RANGE.join('..')}`, HAND2_EXPECTED, queryMetrics(data, ...HAND2_RANGE, config)));
    bad.push(...diff(`flywheel ${HAND2_FEB.join('..')}`, HAND2_FEB_EXPECTED, queryMetrics(data, ...HAND2_FEB, config)));
    // and the oracle agrees with flywheel on every metric, both ranges
    for (const range of [HAND2_RANGE, HAND2_FEB])
      bad.push(...diff(`oracle vs flywheel ${range.join('..')}`, await o.metrics(...range), queryMetrics(data, ...range, config)));
    const [api] = await apiMetrics(data, [HAND2_RANGE], config);
    bad.push(...diff(`GET /api/v1/metrics ${HAND2_RANGE.join('..')}`, HAND2_EXPECTED, api));
    assert.deepEqual(bad, []);
    // without core features or onboarding steps those three are null
    const plain = queryMetrics(data, ...HAND2_RANGE);
    for (const k of ['onboarding_completion', 'feature_adoption', 'feature_breadth'])
      assert.deepEqual([plain[k].value, plain[k].previous], [null, null], k);
    assert.equal(plain.signups_paid.value, 5);
  } finally {
    o.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Ranges over the generated data (2026-01-01 + 70 days, some plan changes later):
//   January (previous: December, which only created_at traits and anonymous visits reach),
//   February (previous: the 28 days before), 8 weeks from a Monday (previous reaches into
//   November for accounts created before their first event), one week (d7 and w1 null),
//   and a range after all data.
const RANGES = [
  ['2026-01-01', '2026-02-01'],
  ['2026-02-01', '2026-03-01'],
  ['2026-01-19', '2026-03-16'],
  ['2026-02-09', '2026-02-16'],
  ['2026-06-01', '2026-06-08'],
];

test('flywheel query metrics matches the DuckDB oracle on generated data', async () => {
  const seed = Number(process.env.FW_METRICS_SEED || 20260101);
  const dir = tempDataDir('metrics-gen');
  const g = generate({ seed });
  const file = path.join(dir, 'events.ndjson');
  fs.writeFileSync(file, g.lines.join('\n') + '\n');
  const data = path.join(dir, 'data');
  const cfg = { coreFeatures: CORE_FEATURES, onboardingSteps: ONBOARDING_STEPS };
  const config = writeConfig(dir, { ...cfg, targets: { grr: 0.9, feature_adoption: 0.3, signups_paid: 40 } });
  const o = await Oracle.load(g.lines, cfg);
  try {
    const r = importFile(data, file);
    assert.match(r.stderr, new RegExp(`imported ${g.lines.length} lines, \\d+ stored, \\d+ duplicates, 0 skipped`));
    const bad = [];
    for (const [from, to] of RANGES) {
      const want = await o.metrics(from, to);
      // the data must exercise the metric, not only agree on nulls
      if (from === '2026-02-01') for (const k of ALL_METRICS) assert.notEqual(want[k].value, null, `oracle ${k} over ${from}..${to}`);
      const got = queryMetrics(data, from, to, config);
      bad.push(...diff(`seed ${seed} ${from}..${to}`, want, got));
      assert.equal(got.grr.target, 0.9);
      assert.equal(got.feature_adoption.target, 0.3);
      assert.equal(got.signups_paid.target, 40);
    }
    // the read API computes the same numbers as the CLI
    const [from, to] = RANGES[1];
    const [api] = await apiMetrics(data, [RANGES[1]], config);
    bad.push(...diff(`seed ${seed} GET /api/v1/metrics ${from}..${to}`, await o.metrics(from, to), api));
    assert.deepEqual(bad, []);
  } finally {
    o.close();
    if (!process.env.FW_KEEP_DATA) fs.rmSync(dir, { recursive: true, force: true });
  }
});
