// bench/entitlements/node-check.mjs — the peer for HTTP entitlement checks:
// what a team would otherwise write, a node:http service answering the same
// checks from memory (a Map of accounts with their plan, limits and usage),
// no durability, no records of denials or prompts. Same accounts and limits
// as the Flywheel server in bench/entitlements/run.sh: it reads the seed NDJSON
// (group calls with the plan, File Uploaded, Dashboard Viewed, API Call) and
// the usage report batches, and bench/entitlements/flywheel.yaml's numbers
// (below). Answers start {"allowed":true|false, as Flywheel's do.
//
//   node node-check.mjs --listen 127.0.0.1:PORT --seed FILE.ndjson --usage DIR --key KEY
// Prints "node-check: listening on http://HOST:PORT" on stderr when ready.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
const [host, port] = [args.listen.slice(0, args.listen.lastIndexOf(':')), Number(args.listen.slice(args.listen.lastIndexOf(':') + 1))];
const AUTH = `Bearer ${args.key}`;

// bench/entitlements/flywheel.yaml
const PLANS = {
  free: { features: new Set(['reports']), limits: { seats: [3, true], api_calls: [10000, true], storage_mb: [500, false], active_users: [20, true] }, upgrade: 'pro' },
  pro: { features: new Set(['reports', 'sso', 'export', 'audit_log']), limits: { seats: [50, true], api_calls: [1e6, true], storage_mb: [1e5, true], active_users: [1000, true] } },
};
const accounts = new Map();
const acct = (id) => {
  let a = accounts.get(id);
  if (!a) accounts.set(id, a = { plan: 'free', members: new Set(), api_calls: 0, storage_mb: 0, users: new Set() });
  return a;
};

const rl = readline.createInterface({ input: fs.createReadStream(args.seed) });
for await (const line of rl) {
  const m = JSON.parse(line);
  if (m.type === 'group') {
    const a = acct(m.groupId);
    a.members.add(m.userId);
    if (m.traits?.plan) a.plan = m.traits.plan;
    continue;
  }
  const a = acct(m.context.groupId);
  if (m.event === 'API Call') a.api_calls++;
  else if (m.event === 'File Uploaded') a.storage_mb += m.properties.size_mb;
  else if (m.event === 'Dashboard Viewed') a.users.add(JSON.stringify(m.properties.viewer));
}
for (const f of fs.readdirSync(args.usage).filter((f) => f.endsWith('.json'))) {
  for (const u of JSON.parse(fs.readFileSync(path.join(args.usage, f), 'utf8')).batch) acct(u.account_id).api_calls += u.quantity;
}

function check(c) {
  const a = acct(c.account_id);
  const plan = PLANS[a.plan];
  if (c.feature) {
    const allowed = plan.features.has(c.feature);
    return { allowed, reason: allowed ? 'ok' : 'feature', account_id: c.account_id, plan: a.plan, feature: c.feature, upgrade: allowed ? null : plan.upgrade || null };
  }
  const m = c.meter;
  const lim = plan.limits[m];
  if (!lim) return null;
  const q = c.quantity ?? 1;
  const usage = m === 'seats' ? a.members.size : m === 'active_users' ? a.users.size : a[m];
  const after = m === 'active_users' ? usage + (c.value !== undefined && !a.users.has(JSON.stringify(c.value)) ? 1 : 0) : usage + q;
  const [limit, hard] = lim;
  const allowed = !(after > limit && hard);
  const consume = c.preflight !== true && allowed && m !== 'seats';
  if (consume) {
    if (m === 'active_users') a.users.add(JSON.stringify(c.value));
    else a[m] += q;
  }
  const reason = after > limit ? (hard ? 'limit' : 'overage') : after >= 0.8 * limit ? 'near_limit' : 'ok';
  return { allowed, reason, account_id: c.account_id, plan: a.plan, meter: m, usage, limit, remaining: Math.max(0, limit - (consume ? after : usage)), hard, consumed: consume, upgrade: reason === 'ok' ? null : plan.upgrade || null };
}

function answer(res, status, body) {
  const b = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': b.length });
  res.end(b);
}

const server = http.createServer((req, res) => {
  if (req.headers.authorization !== AUTH) return answer(res, 401, { error: 'unknown key' });
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/api/v1/entitlements/check') return answer(res, 404, { error: 'no route' });
  if (req.method === 'GET') {
    const c = Object.fromEntries(url.searchParams);
    if (c.quantity !== undefined) c.quantity = Number(c.quantity);
    c.preflight = true;
    const r = check(c);
    return r ? answer(res, 200, r) : answer(res, 400, { error: 'unknown meter' });
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    let c;
    try { c = JSON.parse(body); } catch { return answer(res, 400, { error: 'invalid json' }); }
    const r = check(c);
    return r ? answer(res, 200, r) : answer(res, 400, { error: 'unknown meter' });
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;
server.listen(port, host, () => {
  const a = server.address();
  process.stderr.write(`node-check: ${accounts.size} accounts; listening on http://${a.address}:${a.port}\n`);
});
const stop = () => { server.close(); server.closeAllConnections?.(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
