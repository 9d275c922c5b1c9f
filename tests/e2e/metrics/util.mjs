// metrics/util.mjs — small helpers the metrics and revenue tests share: the
// config file they run with, number comparison, and running the binary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN } from '../lib/server.mjs';

/** A flywheel.yaml in `dir` with these core features, onboarding steps and targets. */
export function writeConfig(dir, { coreFeatures = [], onboardingSteps = [], targets = {} }) {
  const file = path.join(dir, 'flywheel.yaml');
  const list = (xs) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  fs.writeFileSync(file, [
    `core_features: ${list(coreFeatures)}`,
    `onboarding_steps: ${list(onboardingSteps)}`,
    'targets:',
    ...Object.entries(targets).map(([k, v]) => `  ${k}: ${v}`),
    '',
  ].join('\n'));
  return file;
}

const closeNum = (a, b) => {
  if (a === null || b === null) return a === b;
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
};

/** Numbers equal within 1e-9 relative, nulls equal; objects (feature_adoption)
 * member by member, the same keys in the same order. */
export function close(a, b) {
  const obj = (v) => v !== null && typeof v === 'object';
  if (obj(a) && obj(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && closeNum(a[k], b[k]));
  }
  if (obj(a) || obj(b)) return false;
  return closeNum(a, b ?? null);
}

/** Run build/flywheel (or $FLYWHEEL_BIN) synchronously. */
export function run(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000 });
  if (r.error) throw r.error;
  return r;
}

/** flywheel import into `data`; insists on success. */
export function importFile(data, file) {
  const r = run(['import', '--data', data, file]);
  assert.equal(r.status, 0, `flywheel import failed: ${r.stderr}`);
  return r;
}
