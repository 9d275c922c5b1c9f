// lib/replay.mjs — re-send recorded SDK requests (fixtures/<client>.requests.json,
// recorded by the real-clients harness's capture server with --fixed-ids=fixture)
// byte-for-byte, and judge each reply with the acceptance rule of the SDK that
// sent it (adapted from the harness's replay-captures.mjs; rules: WIRE.md §4).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURES = path.resolve(here, '..', 'fixtures');

export function loadCaptures(client) {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, `${client}.requests.json`), 'utf8'));
}

/** The acceptance rule of each real SDK for a response (status, body text). */
export function accepted(client, status, body, query = {}) {
  let j;
  try {
    j = JSON.parse(body);
  } catch {
    j = undefined;
  }
  switch (client) {
    case 'posthog':
      return status >= 200 && status < 300; // body ignored
    case 'segment':
      return status >= 200 && status < 400; // body ignored
    case 'rudderstack':
      return status >= 200 && status < 300; // axios validateStatus; body ignored
    case 'mixpanel':
      return query.verbose === '1' ? j?.status === 1 : body === '1'; // HTTP status ignored
    case 'amplitude':
      if (j === undefined) return status >= 200 && status < 300; // not JSON: HTTP status decides
      if (j === null || typeof j !== 'object') return false; // JSON scalar => failed
      return j.code >= 200 && j.code < 300; // JSON object: its "code" decides
    default:
      return status >= 200 && status < 300;
  }
}

/** Send one recorded request to baseUrl exactly as captured (minus Host/Connection). */
export function sendCaptured(baseUrl, r, agent = false) {
  const base = new URL(baseUrl);
  const u = new URL(r.url, 'http://x');
  const headers = {};
  for (const [k, v] of r.headers) {
    const lk = k.toLowerCase();
    if (lk === 'host' || lk === 'connection') continue;
    headers[k] = v;
  }
  const body = r.bodyRawBase64 ? Buffer.from(r.bodyRawBase64, 'base64') : Buffer.alloc(0);
  if (body.length) headers['Content-Length'] = String(body.length);
  return new Promise((resolve) => {
    const req = http.request(
      { host: base.hostname, port: base.port, method: r.method, path: `${u.pathname}${u.search}`, headers, agent, timeout: 10000 },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
      }
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
    if (body.length) req.write(body);
    req.end();
  });
}
