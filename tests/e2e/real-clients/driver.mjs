// real-clients/driver.mjs — run one REAL analytics SDK (via send-events.mjs,
// in its own node process) through scenario.json against a server URL.
//
//   const r = await runClient(url, 'segment', { fixedIds: 'e2e' });
//   r.code      0 = every delivery acknowledged by the SDK, 1 = some failed, 3 = timed out
//   r.summary   the harness summary: sent, expectedWire, delivery {acknowledged, failed, errors}
//   r.stderr    SDK log output
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SCRIPT = path.join(here, 'send-events.mjs');
export const scenario = JSON.parse(fs.readFileSync(path.join(here, 'scenario.json'), 'utf8'));
export const CLIENTS = ['posthog', 'segment', 'rudderstack', 'mixpanel', 'amplitude'];

/** Track events per name in the main scenario (every client sends all of them). */
export function trackCounts() {
  const out = {};
  for (const s of scenario.steps) if (s.type === 'track') out[s.event] = (out[s.event] || 0) + 1;
  return out;
}

/** Page calls in the scenario (stored as `$pageview` by clients that have page). */
export const pageCount = scenario.steps.filter((s) => s.type === 'page').length;

/**
 * Per-client facts the tests rely on (see WIRE.md §3 / README expectedWire):
 *  pages:   does the client send the scenario's page() calls (as $pageview)?
 *  alias:   does the client send the alias (anon_7f3a03 -> user_003)?
 *  noDedupId: event names this client cannot give a caller-chosen id to, so a
 *           re-run with --fixed-ids legitimately creates them again.
 */
export const CLIENT_FACTS = {
  posthog: { pages: true, alias: true, noDedupId: ['$identify', '$groupidentify', '$create_alias'] },
  segment: { pages: true, alias: true, noDedupId: [] },
  rudderstack: { pages: true, alias: true, noDedupId: [] },
  mixpanel: { pages: false, alias: true, noDedupId: ['$create_alias'] },
  amplitude: { pages: false, alias: false, noDedupId: [] },
};

export function runClient(baseUrl, client, { fixedIds = null, timeoutMs = 45000, env = {} } = {}) {
  const args = [SCRIPT, baseUrl, client, '--timeout-ms', String(timeoutMs)];
  if (fixedIds) args.push(`--fixed-ids=${fixedIds}`);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, {
      cwd: here,
      env: { ...process.env, POSTHOG_CAPTURE_MODE: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.length > 1e6) stderr = stderr.slice(-5e5);
    });
    // the script has its own timeout; this is the hard backstop
    const hard = setTimeout(() => p.kill('SIGKILL'), timeoutMs + 15000);
    p.on('error', (e) => {
      clearTimeout(hard);
      reject(e);
    });
    p.on('exit', (code, signal) => {
      clearTimeout(hard);
      let summary;
      try {
        summary = JSON.parse(stdout);
      } catch {
        summary = undefined;
      }
      resolve({ code, signal, summary, stdout, stderr });
    });
  });
}
