// check.test.mjs — `flywheel check`: exit codes, gcc-style errors with line and
// column, the lookup order (--config, DATA/flywheel.yaml, ./flywheel.yaml,
// defaults), and docs/config.md kept equal to `check --print-docs`.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, E2E_DIR, tempDataDir } from './lib/server.mjs';

const dirs = [];
function tempDir() {
  const d = tempDataDir('check');
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function check(args, cwd) {
  const r = spawnSync(BIN, ['check', ...args], { encoding: 'utf8', timeout: 30000, cwd });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('check: a valid file prints ok and what it sets', () => {
  const dir = tempDir();
  const file = path.join(dir, 'good.yaml');
  fs.writeFileSync(file, [
    'activation:',
    '  event: Dashboard Shared',
    'core_features: [Report Run, Export]',
    'targets:',
    '  activation_rate_7d: 0.4',
    '  nrr: 1.2',
    '',
  ].join('\n'));
  const r = check(['--config', file], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ok\n`));
  assert.match(r.stdout, /activation event +"Dashboard Shared"/);
  assert.match(r.stdout, /core features +"Report Run", "Export"/);
  assert.match(r.stdout, /targets +activation_rate_7d 0\.4, nrr 1\.2/);
  assert.match(r.stdout, /scoring rules +onboarding_completed, invited_team, .*, target_industry\n/);
  assert.match(r.stdout, /routes +nurture 0, upgrade_campaign 41, inside_sales 65, account_executive 100; no sales route before activation/);
  assert.equal(r.stderr, '');
});

test('check: every error, gcc-style, exit 1', () => {
  const dir = tempDir();
  const file = path.join(dir, 'bad.yaml');
  fs.writeFileSync(file, [
    'activation:',                // 1
    '  evnt: Signed In',          // 2
    '  min_count: one',           // 3
    'invites:',                   // 4
    '  k_factor_window_days: -7', // 5
    'targets:',                   // 6
    '  activation_rate_7d: 40',   // 7
    '  happiness: 1',             // 8
    'activation:',                // 9
    '  event: X',                 // 10
    '',
  ].join('\n'));
  const r = check(['--config', file], dir);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, 6), [
    `${file}:2:3: error: unknown key activation.evnt; did you mean activation.event?`,
    `${file}:3:14: error: activation.min_count must be a whole number, got "one"`,
    `${file}:5:25: error: invites.k_factor_window_days must be at least 1, got -7`,
    `${file}:7:23: error: targets.activation_rate_7d is a rate: write a fraction between 0 and 1 (40% is 0.4), got 40`,
    `${file}:8:3: error: unknown metric happiness; valid: signups,activation_rate_1d,activation_rate_7d,ttfv_median_seconds,ttfv_p90_seconds,retention_d1,retention_d7,retention_w1,dau_mau,wau,mau,free_to_paid_rate,time_to_convert_median_days,acv,nrr,expansion_mrr,k_factor,signups_organic,signups_paid,onboarding_completion,feature_adoption,feature_breadth,active_days_per_week,grr,contraction_mrr,churned_mrr`,
    `${file}:9:1: error: duplicate key activation (first set on line 1)`,
  ]);
  assert.equal(lines[6], `${file}: 6 errors`);
});

test('check: YAML syntax errors carry libyaml\'s problem and position', () => {
  const dir = tempDir();
  const file = path.join(dir, 'flywheel.yaml');
  fs.writeFileSync(file, 'signup:\n  event: a\nactivation\nb: 1\n');
  const r = check(['--config', file], dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /flywheel\.yaml:3:1: error: invalid YAML: could not find expected ':'/);
  fs.writeFileSync(file, 'activation:\n\tevent: X\n');
  assert.match(check(['--config', file], dir).stderr, /:2:1: error: .*indents with spaces, not tabs/);
});

test('check: lookup order and missing files', () => {
  const dir = tempDir();
  const data = path.join(dir, 'data');
  // no file anywhere: the defaults, exit 0
  let r = check(['--data', data], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /no flywheel\.yaml found .*using built-in defaults/);
  assert.match(r.stdout, /activation event +"Project Created"/);
  // ./flywheel.yaml
  fs.writeFileSync(path.join(dir, 'flywheel.yaml'), 'activation:\n  event: From Cwd\n');
  r = check(['--data', data], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^flywheel\.yaml: ok/);
  assert.match(r.stdout, /"From Cwd"/);
  // DATA/flywheel.yaml before it
  fs.mkdirSync(data);
  fs.writeFileSync(path.join(data, 'flywheel.yaml'), 'activation:\n  event: ""\n');
  r = check(['--data', data], dir);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.startsWith(`${data}/flywheel.yaml:2:10: error: activation.event is empty`), r.stderr);
  // --config must exist
  r = check(['--config', path.join(dir, 'nope.yaml')], dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot read .*nope\.yaml: No such file or directory/);
  // bad usage
  r = check(['--frobnicate'], dir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option "--frobnicate"/);
});

test('check: --help, and docs/config.md is the option table', () => {
  const r = check(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /usage: flywheel check \[--config FILE\] \[--data DIR\]/);
  const top = spawnSync(BIN, ['--help'], { encoding: 'utf8' });
  assert.match(top.stdout, /check +validate the configuration file, with line-numbered errors/);
  const docs = check(['--print-docs']);
  assert.equal(docs.status, 0);
  const md = fs.readFileSync(path.resolve(E2E_DIR, '../../docs/config.md'), 'utf8');
  assert.ok(md.includes(docs.stdout), 'docs/config.md is out of date: paste `flywheel check --print-docs` into it');
});
