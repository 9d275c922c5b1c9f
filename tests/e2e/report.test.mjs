// report.test.mjs — `flywheel report` on a small demo company (`flywheel demo
// --scale 0.05`):
//
//   - piped, it is plain ASCII (no escape codes, no arrows) with every group and
//     every metric (a row per core feature for adoption), and its numbers are
//     the metrics' numbers formatted for people;
//   - `--json` is GET /api/v1/metrics: the same numbers from the data directory
//     and from a running server (--url, --key), over the default range and over
//     --from/--to;
//   - on a terminal (a pseudo-TTY through util-linux's `script`) it shows ANSI
//     colours and the arrows ▲/▼; --color never and NO_COLOR turn colours off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, start, tempDataDir } from './lib/server.mjs';

const NOW = new Date(Math.floor(Date.now() / 3600e3) * 3600e3).toISOString().replace('.000Z', 'Z');

function run(args, opts = {}) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000, maxBuffer: 1 << 26, ...opts });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const root = tempDataDir('report');
const data = path.join(root, 'demo');
test.before(() => {
  const r = run(['demo', '--data', data, '--no-serve', '--scale', '0.05', '--seed', '7', '--now', NOW]);
  assert.equal(r.status, 0, r.stderr);
});
test.after(() => {
  if (!process.env.FW_KEEP_DATA) fs.rmSync(root, { recursive: true, force: true });
});

const GROUPS = {
  ACQUISITION: { signups: 'Sign-ups', signups_organic: 'Organic sign-ups', signups_paid: 'Paid sign-ups' },
  ACTIVATION: {
    activation_rate_1d: 'Activated within 1 day', activation_rate_7d: 'Activated within 7 days',
    ttfv_median_seconds: 'Time to first value, median', ttfv_p90_seconds: 'Time to first value, p90',
    onboarding_completion: 'Onboarding completed',
  },
  ENGAGEMENT: {
    retention_d1: 'Day-1 retention', retention_d7: 'Day-7 retention', retention_w1: 'Week-1 retention',
    dau_mau: 'DAU/MAU', wau: 'Weekly active (WAU)', mau: 'Monthly active (MAU)',
    active_days_per_week: 'Active days per week', feature_breadth: 'Core features per person',
    feature_adoption: 'Adoption: ',
  },
  MONETIZATION: {
    free_to_paid_rate: 'Free-to-paid', time_to_convert_median_days: 'Time to convert, median', acv: 'ACV',
    nrr: 'Net revenue retention', grr: 'Gross revenue retention', expansion_mrr: 'Expansion MRR',
    contraction_mrr: 'Contraction MRR', churned_mrr: 'Churned MRR',
  },
  VIRALITY: { k_factor: 'K-factor' },
};

const thousands = (n) => Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** The table's row for a label: [label, current, target, trend]. */
function row(text, label) {
  const line = text.split('\n').find((l) => l.startsWith(`  ${label}  `) || l.startsWith(`  ${label} `));
  assert.ok(line, `no row "${label}" in:\n${text}`);
  return [label, ...line.slice(2 + label.length).trim().split(/ {2,}/)];
}

test('piped: plain ASCII, every group and metric, the metrics numbers formatted', () => {
  const r = run(['report', '--data', data]);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.doesNotMatch(out, /\x1b/, 'no escape codes when piped');
  assert.match(out, /^[\x00-\x7f]*$/, 'plain ASCII when piped');
  assert.match(out, /^Flywheel report {2}\d{4}-\d\d-\d\d - \d{4}-\d\d-\d\d \(30 days\)/);
  const metrics = JSON.parse(run(['query', 'metrics', '--data', data, '--json']).stdout).metrics;
  let at = 0;
  for (const [group, rows] of Object.entries(GROUPS)) {
    const g = out.indexOf(`\n${group}\n`);
    assert.ok(g > at, `group ${group} in order`);
    at = g;
    for (const [key, label] of Object.entries(rows)) {
      assert.ok(key in metrics, key);
      if (key === 'feature_adoption') {
        for (const [feature, share] of Object.entries(metrics[key].value)) {
          const [, cur, target] = row(out, `Adoption: ${feature}`);
          assert.equal(cur, `${(share * 100).toFixed(1)}%`);
          assert.equal(target, `${(metrics[key].target * 100).toFixed(1)}%`);
        }
        continue;
      }
      const [, cur, target, trend] = row(out, label);
      assert.match(trend, /^([v^] [+-]\d+\.\d( pts|%)|= 0\.0( pts|%)|n\/a|\^ from 0)$/, `${label}: trend "${trend}"`);
      assert.notEqual(cur, 'n/a', `${label} has a value`);
      assert.ok(target !== '-', `${label} has a target`);
    }
  }
  // every metric of the API has a row: the groups cover them all
  const covered = Object.values(GROUPS).flatMap((g) => Object.keys(g));
  assert.deepEqual([...covered].sort(), Object.keys(metrics).sort());

  // values for people: counts, percentages, durations, money
  const v = (k) => metrics[k].value;
  assert.equal(row(out, 'Sign-ups')[1], thousands(v('signups')));
  assert.equal(row(out, 'Sign-ups')[2], thousands(metrics.signups.target));
  assert.equal(row(out, 'Activated within 7 days')[1], `${(v('activation_rate_7d') * 100).toFixed(1)}%`);
  assert.equal(row(out, 'Net revenue retention')[1], `${(v('nrr') * 100).toFixed(1)}%`);
  assert.equal(row(out, 'Expansion MRR')[1], `$${thousands(v('expansion_mrr'))}`);
  assert.equal(row(out, 'ACV')[1], `$${thousands(v('acv'))}`);
  assert.equal(row(out, 'K-factor')[1], v('k_factor').toFixed(2));
  assert.match(row(out, 'Time to first value, median')[1], /^\d+ (s|min)$|^\d+ h \d\d min$|^\d+\.\d days$/);
  assert.match(row(out, 'Time to convert, median')[1], /^\d+\.\d days$|^\d+ h \d\d min$/);
  // the trend of sign-ups, in percent, and of a rate, in points
  const p = metrics.signups.previous;
  const pct = Math.round(((v('signups') - p) / p) * 1000) / 10;
  const arrow = pct > 0 ? '^' : pct < 0 ? 'v' : '=';
  assert.equal(row(out, 'Sign-ups')[3], pct === 0 ? '= 0.0%' : `${arrow} ${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`);
  const pts = Math.round((v('retention_d1') - metrics.retention_d1.previous) * 1000) / 10;
  assert.match(row(out, 'Day-1 retention')[3], new RegExp(pts === 0 ? '^= 0\\.0 pts$' : `^[v^] ${pts > 0 ? '\\+' : ''}${pts.toFixed(1).replace('.', '\\.')} pts$`));
});

test('--json is GET /api/v1/metrics, locally and from a server', async () => {
  const local = run(['report', '--data', data, '--json']);
  assert.equal(local.status, 0, local.stderr);
  const mine = JSON.parse(local.stdout);
  const ranged = JSON.parse(run(['report', '--data', data, '--json', '--from', mine.from, '--to', mine.to]).stdout);
  assert.deepEqual(ranged, mine);
  const before = run(['report', '--data', data, '--json', '--to', mine.from]);
  assert.equal(before.status, 0, before.stderr);
  const prev = JSON.parse(before.stdout);
  assert.equal(prev.to, mine.from);
  assert.equal(prev.metrics.signups.value, mine.metrics.signups.previous, 'one end given: 30 days');

  const header = /^(Flywheel report.*\)) .*$/m; // names the source
  const localTable = run(['report', '--data', data, '--from', mine.from, '--to', mine.to]).stdout.replace(header, '$1');
  const srv = await start({ dataDir: data, label: 'report' });
  try {
    const api = await srv.apiJson(`/api/v1/metrics?from=${mine.from}&to=${mine.to}`);
    assert.deepEqual(mine, api, 'report --json = GET /api/v1/metrics');
    const remote = run(['report', '--url', srv.url, '--key', srv.secret, '--json']);
    assert.equal(remote.status, 0, remote.stderr);
    assert.deepEqual(JSON.parse(remote.stdout), await srv.apiJson('/api/v1/metrics'));
    const table = run(['report', '--url', srv.url, '--key', srv.secret, '--from', mine.from, '--to', mine.to]);
    assert.equal(table.status, 0, table.stderr);
    assert.equal(table.stdout.replace(header, '$1'), localTable, 'the same table from the server');
    assert.match(table.stdout, new RegExp(`^Flywheel report .* ${srv.url}$`, 'm'));
    const locked = run(['report', '--data', data]);
    assert.equal(locked.status, 1);
    assert.match(locked.stderr, /in use by another flywheel process.*--url/);
    const denied = run(['report', '--url', srv.url, '--key', 'nope']);
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /answered 401/);
  } finally {
    await srv.stop();
  }
  const bad = run(['report', '--data', data, '--from', '2026-13-01']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /YYYY-MM-DD/);
  const none = run(['report', '--data', path.join(root, 'nothing')]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no data directory/);
});

/** Run the report on a pseudo-terminal (util-linux `script`); returns its output. */
function onTerminal(args, env = {}) {
  const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
  const cmd = [BIN, 'report', ...args].map(q).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'],
    { encoding: 'utf8', timeout: 60000, env: { ...process.env, TERM: 'xterm', ...env } });
  assert.equal(r.status, 0, `script: ${r.error || ''} ${r.stderr}`);
  return r.stdout;
}

test('on a terminal: ANSI colours and arrows', () => {
  const out = onTerminal(['--data', data]);
  assert.match(out, /\x1b\[32m/, 'green');
  assert.match(out, /\x1b\[31m/, 'red');
  assert.match(out, /[▲▼]/, 'arrows');
  assert.match(out, /\x1b\[1mACQUISITION\x1b\[0m/, 'bold group titles');
  // a metric at or better than its target is green, one short of it red
  const metrics = JSON.parse(run(['query', 'metrics', '--data', data, '--json']).stdout).metrics;
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
  for (const [g, rows] of Object.entries(GROUPS)) assert.ok(plain.includes(`\n${g}\n`), g);
  const s = metrics.signups;
  const signupsLine = out.split('\n').find((l) => l.startsWith('  Sign-ups '));
  assert.match(signupsLine, s.value >= s.target ? /\x1b\[32m[\d,]+\x1b\[0m/ : /\x1b\[31m[\d,]+\x1b\[0m/);
  // the trend is green the good way: churned MRR going up is red
  const c = metrics.churned_mrr;
  const churnLine = out.split('\n').find((l) => l.startsWith('  Churned MRR '));
  if (c.value > c.previous) assert.match(churnLine, /\x1b\[31m▲/);
  if (c.value < c.previous) assert.match(churnLine, /\x1b\[32m▼/);

  const never = onTerminal(['--data', data, '--color', 'never']);
  assert.doesNotMatch(never, /\x1b/);
  assert.match(never, /[▲▼]/, 'arrows stay on a terminal');
  assert.doesNotMatch(onTerminal(['--data', data], { NO_COLOR: '1' }), /\x1b/);
  const always = run(['report', '--data', data, '--color', 'always']);
  assert.match(always.stdout, /\x1b\[3[12]m/);
});
