// scoring.test.mjs — PQL scores live, end to end: events sent with the real
// Segment Node SDK move an account through the routes within seconds (the
// activation guard holding it first), the API and the CLI list it with its
// reasons, every route change is in its history and arrives as a signed
// webhook (verified with the standardwebhooks package), a restart sends no
// route change twice, and at-risk / expansion list paying accounts with the
// numbers behind them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Analytics } from '@segment/analytics-node';
import { Webhook } from 'standardwebhooks';
import { start, tempDataDir, sleep, BIN } from './lib/server.mjs';
import { webhookReceiver } from './lib/receiver.mjs';

const WRITE = 'wk_scoring';
const SECRET = 'sk_scoring';
const WH_SECRET = 'whsec_' + Buffer.from('scoring-test-secret-0123456789ab').toString('base64');
const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function receiver() {
  const r = await webhookReceiver();
  cleanups.push(r.close);
  return r;
}

function sdk(url) {
  const client = new Analytics({ writeKey: WRITE, host: url, flushAt: 1, flushInterval: 50, maxRetries: 3 });
  const errors = [];
  client.on('error', (e) => errors.push(e));
  return { client, errors };
}

/** Poll fn() until it returns a truthy value (bounded). */
async function until(fn, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (let i = 0; i < 1500 && Date.now() < deadline; i++) {
    last = await fn();
    if (last) return last;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const DAY = 86400000;
const ago = (days) => new Date(Date.now() - days * DAY);

test('an account moves through the routes as its events arrive, with reasons, history and signed webhooks', async () => {
  const hook = await receiver();
  const dataDir = tempDataDir('scoring');
  fs.writeFileSync(path.join(dataDir, 'flywheel.yaml'), [
    'activation:',
    '  event: Project Created',
    'triggers:',
    '  enterprise_domain: {domains: [bigcorp.example]}',
    'destinations:',
    '  - name: crm',
    `    url: ${hook.url}`,
    `    secret: ${WH_SECRET}`,
    '    events: ["lead.*"]',
    '    allow_private: true',
    'webhooks:',
    '  retry_schedule_seconds: [0.2, 0.4]',
    '',
  ].join('\n'));
  const srv = await start({ dataDir, writeKeys: [WRITE], secret: SECRET, label: 'scoring' });
  cleanups.push(() => srv.dispose());
  cleanups.push(() => fs.promises.rm(dataDir, { recursive: true, force: true }));

  const { client, errors } = sdk(srv.url);
  const send = (m) => new Promise((res, rej) => client.track(m, (e) => (e ? rej(e) : res())));
  const userId = 'ada@acme.example';
  client.identify({ userId, traits: { email: userId }, timestamp: ago(3) });
  client.group({ userId, groupId: 'acme', traits: { name: 'Acme', employees: 300 }, timestamp: ago(3) });
  await send({ userId, event: 'Signed Up', timestamp: ago(3), context: { groupId: 'acme' } });
  // 30 (limit) + 40 (payment) + 10 (ICP size) = 80: inside sales by score, but
  // not activated yet — held at upgrade_campaign
  await send({ userId, event: 'Limit Reached', properties: { limit: 'seats' }, timestamp: ago(2), context: { groupId: 'acme' } });
  await send({ userId, event: 'Payment Info Entered', timestamp: ago(2), context: { groupId: 'acme' } });
  await client.closeAndFlush({ timeout: 10000 });
  assert.deepEqual(errors, []);

  const held = await until(async () => {
    const r = await srv.api('/api/v1/pqls/account/acme');
    return r.status === 200 && r.json.score === 80 ? r.json : null;
  }, 'acme to score 80');
  assert.equal(held.route, 'upgrade_campaign');
  assert.match(held.cause, /held at upgrade_campaign until activation/);
  assert.deepEqual(held.rules.filter((r) => r.points > 0).map((r) => [r.rule, r.points, r.from ?? null]), [
    ['hit_plan_limit', 30, userId], ['payment_info_entered', 40, userId], ['icp_company_size', 10, null],
  ]);

  // activation: inside sales now, within seconds of the event's acknowledgement
  const { client: c2 } = sdk(srv.url);
  const t0 = Date.now();
  await new Promise((res, rej) => c2.track({ userId, event: 'Project Created', timestamp: new Date(), context: { groupId: 'acme' } }, (e) => (e ? rej(e) : res())));
  const moved = await until(async () => {
    const r = await srv.api('/api/v1/pqls/account/acme');
    return r.json?.route === 'inside_sales' ? r.json : null;
  }, 'acme to reach inside_sales', 5000);
  const took = Date.now() - t0;
  await c2.closeAndFlush({ timeout: 5000 });
  assert.equal(moved.activated, true);
  assert.ok(took < 5000, `route moved ${took} ms after the event`);

  // the list, sales routes first, with reasons
  const list = await srv.apiJson('/api/v1/pqls?unit=account&limit=5');
  assert.equal(list.leads[0].key, 'acme');
  assert.equal(list.leads[0].route, 'inside_sales');
  assert.deepEqual(list.leads[0].reasons.map((r) => r.rule), ['hit_plan_limit', 'payment_info_entered', 'icp_company_size']);
  assert.equal(list.routes.inside_sales, 1);
  const bad = await srv.api('/api/v1/pqls?route=sales');
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /route must be one of/);
  assert.equal((await srv.api('/api/v1/pqls/account/nobody')).status, 404);

  // history: upgrade_campaign, then inside_sales, each with its cause
  const hist = (await srv.apiJson('/api/v1/pqls/account/acme')).history;
  const routes = hist.filter((h) => h.kind === 'route').map((h) => h.route).reverse();
  assert.deepEqual(routes, ['upgrade_campaign', 'inside_sales']);

  // the two route changes arrived as signed webhooks
  const wh = new Webhook(WH_SECRET);
  const changes = await until(() => {
    const c = hook.got.map((g) => ({ ...g, p: JSON.parse(g.body) }))
      .filter((g) => g.p.type === 'lead.route_changed' && g.p.data.unit === 'account' && g.p.data.key === 'acme');
    return c.length >= 2 ? c : null;
  }, 'two lead.route_changed webhooks for acme');
  for (const c of changes) wh.verify(c.body, c.headers); // throws on a bad signature
  assert.equal(changes[0].p.data.route, 'upgrade_campaign');
  assert.deepEqual([changes[1].p.data.previous_route, changes[1].p.data.route], ['upgrade_campaign', 'inside_sales']);
  assert.match(changes[1].p.data.summary, /acme: inside_sales, score 80/);

  // the CLI against the running server
  const cli = spawnSync(BIN, ['query', 'pqls', '--top', '3', '--url', srv.url, '--key', SECRET], { encoding: 'utf8', timeout: 20000 });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /inside_sales\s+80\s+acme\s+-\s+hit_plan_limit 30, payment_info_entered 40, icp_company_size 10/);

  // a restart rescores everyone and sends no route change again
  const before = hook.got.length;
  await srv.restart();
  await until(async () => (await srv.api('/api/v1/pqls')).status === 200, 'scores after restart');
  const again = await srv.apiJson('/api/v1/pqls/account/acme');
  assert.equal(again.route, 'inside_sales');
  await sleep(1000);
  assert.equal(hook.got.slice(before).filter((g) => JSON.parse(g.body).type === 'lead.route_changed').length, 0);
});

test('triggers route without score; at-risk and expansion show their numbers', async () => {
  const dataDir = tempDataDir('scoring-signals');
  fs.writeFileSync(path.join(dataDir, 'flywheel.yaml'), [
    'triggers:',
    '  enterprise_domain: {domains: [bigcorp.example]}',
    'plans:',
    '  free: {price: 0, limits: {seats: 2}}',
    '',
  ].join('\n'));
  const srv = await start({ dataDir, writeKeys: [WRITE], secret: SECRET, label: 'scoring-signals' });
  cleanups.push(() => srv.dispose());
  cleanups.push(() => fs.promises.rm(dataDir, { recursive: true, force: true }));
  const { client, errors } = sdk(srv.url);
  // an enterprise sign-up, not activated: account executive all the same
  client.identify({ userId: 'cto@bigcorp.example', traits: { email: 'cto@BigCorp.example' }, timestamp: ago(1) });
  client.group({ userId: 'cto@bigcorp.example', groupId: 'bigcorp', timestamp: ago(1) });
  // a paying account that went quiet 20 days ago
  client.group({ userId: 'pat', groupId: 'quietco', traits: { plan: 'pro', mrr: 99 }, timestamp: ago(40) });
  for (let d = 30; d > 20; d--) client.track({ userId: 'pat', event: 'Page Loaded', timestamp: ago(d), context: { groupId: 'quietco' } });
  // a free account at its seat limit
  for (const u of ['s1', 's2']) client.group({ userId: u, groupId: 'seatsco', timestamp: ago(2) });
  await client.closeAndFlush({ timeout: 10000 });
  assert.deepEqual(errors, []);

  const ent = await until(async () => {
    const r = await srv.api('/api/v1/pqls/account/bigcorp');
    return r.status === 200 && r.json.triggers.includes('enterprise_domain') ? r.json : null;
  }, 'the enterprise trigger');
  assert.equal(ent.route, 'account_executive');
  assert.equal(ent.activated, false);
  const risk = await until(async () => {
    const r = await srv.api('/api/v1/signals/at-risk');
    // quiet from its group call alone at first: wait for its page views too
    const a = r.status === 200 && r.json.accounts.find((x) => x.key === 'quietco');
    return a && a.last_active ? a : null;
  }, 'quietco at risk, with its last activity');
  assert.equal(risk.mrr, 99);
  assert.equal(risk.active_events_7d, 0);
  assert.ok(Date.parse(risk.last_active) < Date.now() - 19 * DAY);
  const exp = await until(async () => {
    const r = await srv.api('/api/v1/signals/expansion');
    return r.status === 200 && r.json.accounts.find((a) => a.key === 'seatsco');
  }, 'seatsco near its seat limit');
  assert.equal(exp.members, 2);
  assert.equal(exp.seat_limit, 2);
  assert.equal(exp.plan, 'free');
});
