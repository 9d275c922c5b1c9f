// entitlements.test.mjs — the entitlement API (docs/billing.md) against the
// real `flywheel serve`: meter events sent with the real Segment Node SDK
// (the account in context.groupId) count toward an account's usage; checks
// answer with usage, limit, remaining, the upgrade prompt and overage; 400s
// say what to fix; 40 concurrent consuming checks with repeated request ids
// stop exactly at the limit; denials and prompts come back as events
// (counts, a funnel, the PQL score); a trial that ends while the server is
// stopped expires on the next start, once, with one signed `trial.expired`
// webhook (verified with the standardwebhooks package); trial start and
// conversion by API send their webhooks; usage reports count each key once.
//
// Every wait polls with a deadline; the only fixed waits are the few seconds
// a trial needs to run out, and short quiet periods that check nothing more
// arrives.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Analytics } from '@segment/analytics-node';
import { Webhook } from 'standardwebhooks';
import { start, tempDataDir, sleep, bearer } from './lib/server.mjs';
import { webhookReceiver } from './lib/receiver.mjs';

const WRITE = 'wk_entitlements';
const SECRET = 'sk_entitlements';
const WH_SECRET = 'whsec_' + Buffer.from('entitlements-e2e-secret-0123456789').toString('base64');
const DAY = 86400000;
const auth = { Authorization: bearer(SECRET) };

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function receiver() {
  const r = await webhookReceiver();
  cleanups.push(r.close);
  return r;
}

function configYaml(hookUrl) {
  return [
    'default_plan: free',
    'plans:',
    '  free:',
    '    price: 0',
    '    limits:',
    '      seats: 3',
    '      api_calls: 5',
    '      tokens: {limit: 100, hard: false}',
    '      jobs: 6',
    '    upgrade_to: pro',
    '  trial: {price: 0, trial_days: 7, trial_ends_to: free, limits: {seats: 10, api_calls: 1000}, features: [sso]}',
    '  pro: {price: 49, limits: {seats: 20, api_calls: 100000, jobs: 1000}, features: [sso, audit_log]}',
    'meters:',
    '  api_calls: {events: [API Call]}',
    '  tokens: {events: [Completion], aggregate: sum, property: tokens}',
    '  jobs: {events: [Job Run]}',
    '  storage_gb: {events: [Storage Measured], aggregate: sum, property: gb, period: anniversary}',
    'entitlements:',
    '  prompt_share: 0.8',
    ...(hookUrl ? [
      'destinations:',
      '  - name: crm',
      `    url: ${hookUrl}`,
      `    secret: ${WH_SECRET}`,
      '    events: ["trial.*"]',
      '    allow_private: true',
      'webhooks:',
      '  retry_schedule_seconds: [0.2, 0.4]',
    ] : []),
    '',
  ].join('\n');
}

/** A server whose data dir holds the config; ready once entitlements answer. */
async function serve(label, hookUrl) {
  const dataDir = tempDataDir(`ent-${label}`);
  fs.writeFileSync(path.join(dataDir, 'flywheel.yaml'), configYaml(hookUrl));
  const srv = await start({ dataDir, writeKeys: [WRITE], secret: SECRET, label: `entitlements-${label}` });
  cleanups.push(async () => {
    await srv.stop().catch(() => {});
    if (!process.env.FW_KEEP_DATA) fs.rmSync(dataDir, { recursive: true, force: true });
  });
  await ready(srv);
  return srv;
}

/** Until the billing thread has read the log (503 before). */
async function ready(srv) {
  await until(async () => (await srv.api('/api/v1/entitlements/__probe')).status === 200, 'entitlements to be ready', 15000);
}

/** Poll fn() until it returns a truthy value (bounded). */
async function until(fn, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (let i = 0; i < 2000 && Date.now() < deadline; i++) {
    last = await fn();
    if (last) return last;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Send Segment calls with the real SDK; resolves when each was acknowledged. */
async function segment(url, calls) {
  const client = new Analytics({ writeKey: WRITE, host: url, flushAt: 1, flushInterval: 50, maxRetries: 3 });
  const errors = [];
  client.on('error', (e) => errors.push(e));
  await Promise.all(calls.map(([kind, msg]) => new Promise((res, rej) => client[kind](msg, (e) => (e ? rej(e) : res())))));
  await client.closeAndFlush({ timeout: 10000 });
  assert.deepEqual(errors, []);
}

const check = (srv, body) => srv.post('/api/v1/entitlements/check', body, auth);
const entitlements = (srv, id) => srv.apiJson(`/api/v1/entitlements/${encodeURIComponent(id)}`);
const meterOf = (ent, name) => ent.meters.find((m) => m.meter === name);

/** The check's answer, insisting on 200. */
async function ok(srv, body) {
  const r = await check(srv, body);
  assert.equal(r.status, 200, `${JSON.stringify(body)} -> ${r.status} ${r.text}`);
  return r.json;
}

/** The first of next month (UTC), as the API writes times. */
function nextMonth(now = new Date()) {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
}

test('meter events from the Segment SDK count; checks answer usage, limits, prompts, overage and features', async () => {
  const srv = await serve('usage');
  const ctx = { groupId: 'acme' };
  await segment(srv.url, [
    ['track', { userId: 'u1', event: 'API Call', context: ctx }],
    ['track', { userId: 'u1', event: 'API Call', context: ctx }],
    ['track', { userId: 'u2', event: 'API Call', context: ctx }],
    ['track', { userId: 'u1', event: 'Completion', properties: { tokens: 30 }, context: ctx }],
    ['track', { userId: 'u1', event: 'Completion', properties: { tokens: '20' }, context: ctx }],
    ['track', { userId: 'u1', event: 'API Call', context: { groupId: 'other' } }],
    ['track', { userId: 'u1', event: 'API Call' }], // names no account: not metered
    ['group', { userId: 'u3', groupId: 'acme', traits: { name: 'Acme' } }],
  ]);
  const month = nextMonth();
  const ent = await until(async () => {
    const e = await entitlements(srv, 'acme');
    return meterOf(e, 'api_calls').usage === 3 && meterOf(e, 'tokens').usage === 50 && meterOf(e, 'seats').usage === 3 ? e : null;
  }, 'acme to show 3 API calls, 50 tokens and 3 seats');
  assert.equal(ent.plan, 'free');
  assert.equal(ent.known_plan, true);
  assert.equal(ent.trial, null);
  assert.deepEqual(ent.features, []);
  assert.equal(ent.meters[0].meter, 'seats');
  assert.deepEqual(meterOf(ent, 'seats'), { meter: 'seats', aggregate: 'members', usage: 3, limit: 3, remaining: 0, hard: true, resets_at: null });
  const api = meterOf(ent, 'api_calls');
  assert.equal(api.aggregate, 'count');
  assert.equal(api.limit, 5);
  assert.equal(api.remaining, 2);
  assert.equal(api.hard, true);
  assert.equal(api.records, 3);
  assert.equal(api.resets_at, month);
  assert.equal(meterOf(ent, 'tokens').hard, false);
  assert.equal(meterOf(await entitlements(srv, 'other'), 'api_calls').usage, 1);

  // a preflight: answers, counts nothing
  let r = await ok(srv, { account_id: 'acme', meter: 'api_calls', preflight: true });
  assert.equal(r.allowed, true);
  assert.equal(r.reason, 'near_limit'); // 4 of 5 after it
  assert.equal(r.usage, 3);
  assert.equal(r.limit, 5);
  assert.equal(r.remaining, 2);
  assert.equal(r.consumed, false);
  assert.equal(r.preflight, true);
  assert.equal(r.resets_at, month);
  assert.deepEqual(r.upgrade, { plan: 'pro', price: 49, limit: 100000, unlocks: ['sso', 'audit_log'] });
  const g = await srv.api('/api/v1/entitlements/check?account_id=acme&meter=api_calls&quantity=2');
  assert.equal(g.status, 200, g.text);
  assert.equal(g.json.preflight, true);
  assert.equal(g.json.allowed, true);
  assert.equal(g.json.usage, 3);
  assert.equal(meterOf(await entitlements(srv, 'acme'), 'api_calls').usage, 3);

  // consuming checks up to the hard limit, then a denial with its prompt
  r = await ok(srv, { account_id: 'acme', user_id: 'u1', meter: 'api_calls', request_id: 'c1' });
  assert.deepEqual([r.allowed, r.consumed, r.replayed, r.usage, r.remaining], [true, true, false, 3, 1]);
  const again = await ok(srv, { account_id: 'acme', user_id: 'u1', meter: 'api_calls', request_id: 'c1' });
  assert.equal(again.replayed, true);
  assert.deepEqual([again.allowed, again.consumed, again.usage, again.remaining], [true, true, 3, 1]);
  r = await ok(srv, { account_id: 'acme', user_id: 'u1', meter: 'api_calls', request_id: 'c2' });
  assert.deepEqual([r.allowed, r.usage, r.remaining], [true, 4, 0]);
  r = await ok(srv, { account_id: 'acme', user_id: 'u1', meter: 'api_calls', request_id: 'c3' });
  assert.equal(r.allowed, false);
  assert.equal(r.reason, 'limit');
  assert.equal(r.consumed, false);
  assert.deepEqual([r.usage, r.limit, r.remaining, r.hard], [5, 5, 0, true]);
  assert.deepEqual(r.upgrade, { plan: 'pro', price: 49, limit: 100000, unlocks: ['sso', 'audit_log'] });
  const api2 = meterOf(await entitlements(srv, 'acme'), 'api_calls');
  assert.deepEqual([api2.usage, api2.remaining, api2.denials], [5, 0, 1]);

  // a soft limit: allowed, overage recorded
  r = await ok(srv, { account_id: 'acme', user_id: 'u1', meter: 'tokens', quantity: 60, request_id: 't1' });
  assert.equal(r.allowed, true);
  assert.equal(r.reason, 'overage');
  assert.deepEqual([r.usage, r.limit, r.remaining, r.overage, r.hard, r.consumed], [50, 100, 0, 10, false, true]);
  assert.equal(r.upgrade.plan, 'pro');
  assert.equal(meterOf(await entitlements(srv, 'acme'), 'tokens').usage, 110);

  // seats: at the limit of 3 members; a seats check never consumes
  r = await ok(srv, { account_id: 'acme', meter: 'seats', request_id: 's1' });
  assert.deepEqual([r.allowed, r.reason, r.usage, r.limit, r.consumed, r.resets_at], [false, 'limit', 3, 3, false, null]);

  // a gated feature
  r = await ok(srv, { account_id: 'acme', user_id: 'u1', feature: 'sso' });
  assert.equal(r.allowed, false);
  assert.equal(r.reason, 'feature');
  assert.equal(r.feature, 'sso');
  assert.equal(r.usage, undefined);
  assert.deepEqual(r.upgrade, { plan: 'pro', price: 49, limit: null, unlocks: ['sso', 'audit_log'] });
  const moved = await srv.post('/api/v1/accounts/acme/plan', { plan: 'pro' }, auth);
  assert.equal(moved.status, 200, moved.text);
  assert.equal(moved.json.plan, 'pro');
  assert.equal(moved.json.mrr, 49);
  r = await ok(srv, { account_id: 'acme', user_id: 'u1', feature: 'sso' });
  assert.deepEqual([r.allowed, r.reason, r.plan, r.upgrade], [true, 'ok', 'pro', null]);
  r = await ok(srv, { account_id: 'acme', user_id: 'u1', meter: 'api_calls', request_id: 'c4' });
  assert.deepEqual([r.allowed, r.usage, r.limit, r.remaining], [true, 5, 100000, 99994]);

  // every denial and prompt is an event of the log; $usage records too
  const counts = await srv.waitCounts((c) => c.events['Limit Reached'] === 3 && c.events['Premium Feature Attempted'] === 1);
  assert.equal(counts.events['Limit Reached'], 3); // api_calls, tokens, seats (u1, u1, no one)
  assert.equal(counts.events['Premium Feature Attempted'], 1);
  assert.equal(counts.events.$usage, 4); // c1, c2, t1, c4
  assert.equal(counts.events['API Call'], 5);
  await srv.stop();
});

test('bad requests: 400 with what to fix, 401 without the secret key, 409 for a second trial', async () => {
  const srv = await serve('errors');
  const bad = async (body, re, reason = 'invalid_request') => {
    const r = await srv.post('/api/v1/entitlements/check', body, { ...auth, 'Content-Type': 'application/json' });
    assert.equal(r.status, 400, `${typeof body === 'string' ? body : JSON.stringify(body)} -> ${r.status} ${r.text}`);
    assert.equal(r.json.code, 400);
    assert.equal(r.json.reason, reason);
    assert.match(r.json.error, re);
    return r.json;
  };
  await bad({ meter: 'api_calls', request_id: 'x' }, /^account_id is required/);
  await bad({ account_id: 'a', feature: 'sso', meter: 'api_calls' }, /give either feature .* or meter/);
  await bad({ account_id: 'a' }, /give either feature .* or meter/);
  await bad({ account_id: 'a', meter: 'nope', request_id: 'x' }, /no meter "nope": the meters are seats and those under `meters` in flywheel.yaml/);
  await bad({ account_id: 'a', feature: 'teleport' }, /no plan has the feature "teleport"/);
  await bad({ account_id: 'a', meter: 'api_calls' }, /a consuming check needs a request_id .*or set preflight: true/);
  await bad({ account_id: 'a', meter: 'api_calls', request_id: 'x', quantity: '2' }, /quantity must be a number/);
  await bad({ account_id: 'a', meter: 'api_calls', request_id: 'x', quantity: -1 }, /quantity must be a number above 0/);
  await bad('{"account_id": "a", ', /^body is not JSON: .* at line 1, column \d+/, 'invalid_json');
  await bad('[1, 2]', /must be a JSON object/, 'invalid_json');
  assert.equal((await srv.api('/api/v1/entitlements/check?account_id=a&meter=api_calls&quantity=lots')).status, 400);

  // the secret key, and only it
  const anon = await srv.post('/api/v1/entitlements/check', { account_id: 'a', meter: 'api_calls', preflight: true });
  assert.equal(anon.status, 401, anon.text);
  const writeKey = await srv.post('/api/v1/entitlements/check', { account_id: 'a', meter: 'api_calls', preflight: true }, { Authorization: bearer(WRITE) });
  assert.equal(writeKey.status, 401, writeKey.text);
  assert.equal((await srv.get('/api/v1/entitlements/a')).status, 401);
  assert.equal((await srv.post('/api/v1/usage', { account_id: 'a', meter: 'tokens', quantity: 1, idempotency_key: 'k' })).status, 401);
  assert.equal((await srv.post('/api/v1/accounts/a/trial', {})).status, 401);

  // plans and trials
  const t1 = await srv.post('/api/v1/accounts/tt/trial', {}, auth);
  assert.equal(t1.status, 201, t1.text);
  assert.equal(t1.json.plan, 'trial');
  assert.equal(t1.json.trial.state, 'running');
  const t2 = await srv.post('/api/v1/accounts/tt/trial', {}, auth);
  assert.equal(t2.status, 409, t2.text);
  assert.equal(t2.json.reason, 'conflict');
  assert.match(t2.json.error, /account tt already had a trial \(from \d{4}-\d\d-\d\d\)/);
  const t3 = await srv.post('/api/v1/accounts/zz/trial', { plan: 'pro' }, auth);
  assert.equal(t3.status, 400, t3.text);
  assert.match(t3.json.error, /plan "pro" is no trial/);
  const p1 = await srv.post('/api/v1/accounts/zz/plan', {}, auth);
  assert.equal(p1.status, 400, p1.text);
  assert.match(p1.json.error, /plan is required/);
  const p2 = await srv.post('/api/v1/accounts/zz/plan', { plan: 'platinum' }, auth);
  assert.equal(p2.status, 400, p2.text);
  assert.match(p2.json.error, /no plan "platinum"/);
  const p3 = await srv.post('/api/v1/accounts/zz/plan', { plan: 'trial' }, auth);
  assert.equal(p3.status, 400, p3.text);
  assert.match(p3.json.error, /trial plan: start it with POST \/api\/v1\/accounts\/ID\/trial/);
  const u = await srv.post('/api/v1/usage', { account_id: 'a', meter: 'tokens', quantity: 1 }, auth);
  assert.equal(u.status, 400, u.text);
  assert.match(u.json.error, /idempotency_key/);
  // nothing of that was counted or written
  const counts = await srv.counts();
  assert.equal(counts.events.$usage, undefined);
  await srv.stop();
});

test('40 concurrent consuming checks, 10 request ids 4 times each, against a limit of 6: exactly 6 consumed', async () => {
  const srv = await serve('concurrent');
  const one = async (i) => {
    const body = { account_id: 'busy', user_id: `w${i % 4}`, meter: 'jobs', request_id: `job-${i % 10}` };
    for (let tries = 0; tries < 400; tries++) {
      const r = await check(srv, body);
      if (r.status === 409) { // the same request id is being written: retry
        await sleep(5);
        continue;
      }
      assert.equal(r.status, 200, r.text);
      return { id: body.request_id, ...r.json };
    }
    throw new Error(`${body.request_id}: still 409 after 400 tries`);
  };
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => one(i)));
  const byId = new Map();
  for (const a of answers) byId.set(a.id, [...(byId.get(a.id) || []), a]);
  assert.equal(byId.size, 10);
  let allowedIds = 0;
  for (const [id, as] of byId) {
    assert.equal(as.length, 4);
    const first = as.filter((a) => !a.replayed);
    assert.equal(first.length, 1, `${id}: exactly one first answer, got ${first.length}`);
    for (const a of as) {
      assert.equal(a.allowed, first[0].allowed, `${id}: the same answer every time`);
      assert.equal(a.consumed, first[0].consumed, `${id}: the same answer every time`);
      assert.equal(a.usage, first[0].usage, `${id}: the same answer every time`);
      assert.ok(a.usage <= 6, `${id}: usage ${a.usage} above the limit`);
    }
    if (first[0].allowed) {
      allowedIds++;
      assert.equal(first[0].consumed, true);
      assert.ok(first[0].usage <= 5, `${id} allowed at usage ${first[0].usage}`);
    } else {
      assert.equal(first[0].reason, 'limit');
    }
  }
  assert.equal(allowedIds, 6);
  const jobs = meterOf(await entitlements(srv, 'busy'), 'jobs');
  assert.equal(jobs.usage, 6);
  assert.equal(jobs.remaining, 0);
  const counts = await srv.waitCounts((c) => c.events.$usage === 6);
  assert.equal(counts.events.$usage, 6);
  // and after a restart, from the log: the same usage and answers
  await srv.restart();
  await ready(srv);
  assert.equal(meterOf(await entitlements(srv, 'busy'), 'jobs').usage, 6);
  for (const [id, as] of byId) {
    const first = as.find((a) => !a.replayed);
    if (!first.allowed) continue;
    const r = await ok(srv, { account_id: 'busy', meter: 'jobs', request_id: id });
    assert.deepEqual([r.replayed, r.allowed, r.consumed], [true, true, true], id);
  }
  assert.equal(meterOf(await entitlements(srv, 'busy'), 'jobs').usage, 6);
  await srv.stop();
});

/** POST /api/v1/query with a funnel; the people who reached step 2. */
async function funnelStep2(srv, steps) {
  const r = await srv.post('/api/v1/query', { kind: 'funnel', steps, window: '1d', people: { step: 2, status: 'converted' } }, auth);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

test('the loop closes: denials and prompts are events, in counts, a funnel and the PQL score', async () => {
  const srv = await serve('loop');
  await segment(srv.url, [
    ['identify', { userId: 'u1', traits: { email: 'u1@loop.example' } }],
    ['track', { userId: 'u1', event: 'Signed Up', timestamp: new Date(Date.now() - 60000), context: { groupId: 'loopco' } }],
  ]);
  await until(async () => (await srv.counts()).events['Signed Up'] === 1, 'the sign-up');
  // near the limit (a prompt), then past it (Limit Reached), then a gated feature (another prompt)
  let r = await ok(srv, { account_id: 'loopco', user_id: 'u1', meter: 'api_calls', quantity: 5, request_id: 'l1' });
  assert.deepEqual([r.allowed, r.reason], [true, 'near_limit']);
  await sleep(5);
  r = await ok(srv, { account_id: 'loopco', user_id: 'u1', meter: 'api_calls', request_id: 'l2' });
  assert.deepEqual([r.allowed, r.reason], [false, 'limit']);
  r = await ok(srv, { account_id: 'loopco', user_id: 'u1', meter: 'api_calls', request_id: 'l3' }); // the same day: no new events
  assert.equal(r.allowed, false);
  await sleep(5);
  r = await ok(srv, { account_id: 'loopco', user_id: 'u1', feature: 'sso' });
  assert.deepEqual([r.allowed, r.reason], [false, 'feature']);

  const counts = await srv.waitCounts((c) => c.events['Limit Reached'] === 1 && c.events['Upgrade Prompt Shown'] === 2);
  assert.equal(counts.events['Limit Reached'], 1);
  assert.equal(counts.events['Upgrade Prompt Shown'], 2); // api_calls and sso, once a day each
  assert.equal(counts.events['Premium Feature Attempted'], 1);
  assert.equal(counts.events.$usage, 1);

  const f = await funnelStep2(srv, ['Limit Reached', 'Upgrade Prompt Shown']);
  assert.equal(f.steps[0].count, 1);
  assert.equal(f.steps[1].count, 1);
  assert.deepEqual(f.people.items, ['u1']);

  const rs = await srv.post('/api/v1/rescore', '', auth);
  assert.equal(rs.status, 200, rs.text);
  const lead = await until(async () => {
    const p = await srv.api('/api/v1/pqls/account/loopco');
    return p.status === 200 && p.json.rules?.some((x) => x.rule === 'hit_plan_limit' && x.points === 30) ? p.json : null;
  }, 'loopco to score the hit_plan_limit rule');
  const rule = lead.rules.find((x) => x.rule === 'hit_plan_limit');
  assert.equal(rule.points, 30);
  assert.equal(rule.from, 'u1');
  assert.equal(lead.rules.find((x) => x.rule === 'premium_feature_attempted')?.points, 20);
  assert.ok(lead.score >= 50, `score ${lead.score}`);
  await srv.stop();
});

// One denial writes `Limit Reached` and, with it, `Upgrade Prompt Shown`: the
// person hit the limit and was shown the prompt. A funnel from the one to
// the other must count them (docs/query/funnel.md: steps need strictly
// increasing times).
test('one denial and its prompt are one Limit Reached -> Upgrade Prompt Shown conversion', async () => {
  const srv = await serve('single');
  const r = await ok(srv, { account_id: 'solo', user_id: 'u2', meter: 'api_calls', quantity: 6, request_id: 's1' });
  assert.deepEqual([r.allowed, r.reason, r.upgrade?.plan], [false, 'limit', 'pro']);
  await srv.waitCounts((c) => c.events['Limit Reached'] === 1 && c.events['Upgrade Prompt Shown'] === 1);
  const f = await funnelStep2(srv, ['Limit Reached', 'Upgrade Prompt Shown']);
  assert.equal(f.steps[0].count, 1);
  assert.equal(f.steps[1].count, 1, `u2 was denied and prompted: ${JSON.stringify(f.steps)}`);
  assert.deepEqual(f.people.items, ['u2']);
  await srv.stop();
});

/** The webhooks of `type` for `account`, each verified. */
function hooksOf(hook, type, account) {
  const wh = new Webhook(WH_SECRET);
  return hook.of(type).filter((g) => g.json.data?.account_id === account).map((g) => {
    wh.verify(g.body, g.headers); // throws on a bad signature
    return g;
  });
}

test('a trial that ends while the server is stopped expires on the next start: once, with one signed trial.expired', async () => {
  const hook = await receiver();
  let srv = await serve('trial-restart', hook.url);
  // the trial began 7 days ago, less a few seconds: it ends a few seconds from now
  const startedAt = Date.now() - 7 * DAY + 6000;
  await segment(srv.url, [
    ['track', { userId: 'owner', event: 'Plan Changed', properties: { plan: 'trial', mrr: 0 }, timestamp: new Date(startedAt), context: { groupId: 'T' } }],
  ]);
  const running = await until(async () => {
    const e = await entitlements(srv, 'T');
    return e.plan === 'trial' && e.trial?.state === 'running' ? e : null;
  }, 'T to be on its trial');
  const endsAt = Date.parse(running.trial.ends_at);
  assert.ok(Math.abs(endsAt - (startedAt + 7 * DAY)) < 1000, `ends_at ${running.trial.ends_at}`);
  await srv.stop();
  assert.ok(Date.now() < endsAt, 'the server stopped before the trial ended (the test needs that)');
  assert.equal(hooksOf(hook, 'trial.expired', 'T').length, 0);

  await sleep(Math.max(0, endsAt - Date.now()) + 300);
  await srv.restart();
  const t0 = Date.now();
  const ended = await until(async () => {
    const r = await srv.api('/api/v1/entitlements/T');
    return r.status === 200 && r.json.plan === 'free' && r.json.trial?.state === 'ended' ? r.json : null;
  }, 'T to fall back to free', 5000);
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(ended.trial.plan, 'trial');
  assert.equal(ended.trial.ends_at, running.trial.ends_at);
  assert.equal(ended.plan_since, running.trial.ends_at); // the change is dated at the trial's end
  assert.equal(ended.mrr, 0);
  const counts = await srv.waitCounts((c) => c.events['Trial Expired'] === 1);
  assert.equal(counts.events['Trial Expired'], 1);
  const expired = await until(() => {
    const h = hooksOf(hook, 'trial.expired', 'T');
    return h.length ? h : null;
  }, 'the trial.expired webhook', 10000);
  const data = expired[0].json.data;
  assert.equal(data.plan, 'trial');
  assert.equal(data.to_plan, 'free');
  assert.equal(data.ends_at, running.trial.ends_at);
  assert.match(data.summary, /T's trial trial expired; now on free/);

  // a second restart: nothing again
  await srv.restart();
  await ready(srv);
  await sleep(2500); // two ticks of the billing thread, and webhook delivery
  assert.equal((await srv.counts()).events['Trial Expired'], 1);
  assert.equal((await entitlements(srv, 'T')).plan, 'free');
  assert.equal(hooksOf(hook, 'trial.expired', 'T').length, 1);
  assert.equal(hook.of('trial.started').length, 0, 'a trial started 7 days ago is old news');
  await srv.stop();
});

test('a trial by API, then a paid plan: trial.started and trial.converted webhooks, days_to_convert', async () => {
  const hook = await receiver();
  const srv = await serve('trial-api', hook.url);
  const t = await srv.post('/api/v1/accounts/V/trial', { user_id: 'vera' }, auth);
  assert.equal(t.status, 201, t.text);
  assert.equal(t.json.plan, 'trial');
  assert.equal(t.json.mrr, 0);
  assert.equal(t.json.trial.state, 'running');
  assert.equal(Date.parse(t.json.trial.ends_at) - Date.parse(t.json.trial.started_at), 7 * DAY);
  assert.deepEqual(t.json.features, ['sso']);
  const started = await until(() => hooksOf(hook, 'trial.started', 'V')[0], 'trial.started');
  assert.equal(started.json.data.plan, 'trial');
  assert.equal(started.json.data.started_at, t.json.trial.started_at);
  assert.equal(started.json.data.ends_at, t.json.trial.ends_at);
  let r = await ok(srv, { account_id: 'V', feature: 'sso' });
  assert.deepEqual([r.allowed, r.trial, r.trial_ends_at], [true, true, t.json.trial.ends_at]);

  await sleep(20);
  const p = await srv.post('/api/v1/accounts/V/plan', { plan: 'pro', user_id: 'vera' }, auth);
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.plan, 'pro');
  assert.equal(p.json.mrr, 49);
  const ent = await until(async () => {
    const e = await entitlements(srv, 'V');
    return e.trial?.state === 'converted' ? e : null;
  }, 'V converted');
  const days = ent.trial.days_to_convert;
  assert.ok(days > 0 && days < 0.01, `days_to_convert ${days}`);
  assert.equal(days, (Date.parse(ent.trial.converted_at) - Date.parse(ent.trial.started_at)) / DAY);
  const conv = await until(() => hooksOf(hook, 'trial.converted', 'V')[0], 'trial.converted');
  assert.equal(conv.json.data.to_plan, 'pro');
  assert.equal(conv.json.data.mrr, 49);
  assert.equal(conv.json.data.converted_at, ent.trial.converted_at);
  assert.equal(conv.json.data.days_to_convert, days);
  const counts = await srv.waitCounts((c) => c.events['Trial Converted'] === 1);
  assert.equal(counts.events['Trial Started'], 1);
  assert.equal(counts.events['Trial Converted'], 1);
  assert.equal(counts.events['Plan Changed'], 2);
  await sleep(1500); // one more tick: nothing twice
  assert.equal(hooksOf(hook, 'trial.started', 'V').length, 1);
  assert.equal(hooksOf(hook, 'trial.converted', 'V').length, 1);
  r = await ok(srv, { account_id: 'V', feature: 'audit_log' });
  assert.deepEqual([r.allowed, r.plan, r.trial], [true, 'pro', false]);
  await srv.stop();
});

test('usage reports: the Idempotency-Key header and batches count each key once', async () => {
  const srv = await serve('reports');
  const usage = (body, headers = {}) => srv.post('/api/v1/usage', body, { ...auth, ...headers });
  let r = await usage({ account_id: 'U', meter: 'tokens', quantity: 10 }, { 'Idempotency-Key': 'k1' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { recorded: true, replayed: false, idempotency_key: 'k1' });
  r = await usage({ account_id: 'U', meter: 'tokens', quantity: 10 }, { 'Idempotency-Key': 'k1' });
  assert.deepEqual(r.json, { recorded: false, replayed: true, idempotency_key: 'k1' });
  r = await usage({ batch: [
    { account_id: 'U', meter: 'tokens', quantity: 5, idempotency_key: 'k2' },
    { account_id: 'U', meter: 'tokens', quantity: 7, idempotency_key: 'k3' },
    { account_id: 'U', meter: 'tokens', quantity: 5, idempotency_key: 'k2' },
    { account_id: 'U', meter: 'tokens', quantity: 10, idempotency_key: 'k1' },
  ] });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.results.map((x) => [x.idempotency_key, x.recorded, x.replayed]),
    [['k2', true, false], ['k3', true, false], ['k2', false, true], ['k1', false, true]]);
  r = await usage({ batch: [{ account_id: 'U', meter: 'api_calls', quantity: 9, idempotency_key: 'k4' }] });
  assert.equal(r.status, 200, r.text);
  let ent = await entitlements(srv, 'U');
  assert.equal(meterOf(ent, 'tokens').usage, 22);
  assert.equal(meterOf(ent, 'api_calls').usage, 9); // past the limit of 5: reports are counted whatever the limits
  const counts = await srv.waitCounts((c) => c.events.$usage === 4);
  assert.equal(counts.events.$usage, 4);
  // after a restart the keys are still known
  await srv.restart();
  await ready(srv);
  r = await usage({ account_id: 'U', meter: 'tokens', quantity: 7, idempotency_key: 'k3' });
  assert.deepEqual(r.json, { recorded: false, replayed: true, idempotency_key: 'k3' });
  ent = await entitlements(srv, 'U');
  assert.equal(meterOf(ent, 'tokens').usage, 22);
  assert.equal((await srv.counts()).events.$usage, 4);
  await srv.stop();
});

// An account first named by a track (Segment's context.groupId, no group
// call): the billing thread counts the event, then recounts the account's
// seats and learns when it was created. That must not reset the anniversary
// period it has just counted in.
test('an anniversary meter keeps the usage of a new account first named by a track', async () => {
  const srv = await serve('anniversary');
  await segment(srv.url, [
    ['track', { userId: 'z1', event: 'Storage Measured', properties: { gb: 7 }, context: { groupId: 'Z' } }],
  ]);
  await srv.waitCounts((c) => c.events['Storage Measured'] === 1);
  let last;
  try {
    await until(async () => {
      last = meterOf(await entitlements(srv, 'Z'), 'storage_gb');
      return last.usage === 7 && last.records === 1;
    }, 'Z to show 7 GB', 5000);
  } catch (e) {
    e.message += `; last: ${JSON.stringify(last)}`;
    throw e;
  }
  await sleep(300);
  last = meterOf(await entitlements(srv, 'Z'), 'storage_gb');
  assert.equal(last.usage, 7, JSON.stringify(last));
  const today = new Date();
  assert.equal(last.period_start, new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())).toISOString());
  await srv.stop();
});

// After a restart a repeated request id gets its first answer back
// (docs/billing.md, Idempotency): for an account on a paid plan, the numbers
// of that plan.
test('after a restart, a repeated request id answers with the account plan\'s numbers', async () => {
  const srv = await serve('replay-plan');
  const moved = await srv.post('/api/v1/accounts/P/plan', { plan: 'pro' }, auth);
  assert.equal(moved.status, 200, moved.text);
  const first = await ok(srv, { account_id: 'P', meter: 'api_calls', quantity: 20, request_id: 'p1' });
  assert.deepEqual([first.allowed, first.usage, first.limit, first.remaining], [true, 0, 100000, 99980]);
  await srv.restart();
  await ready(srv);
  const again = await ok(srv, { account_id: 'P', meter: 'api_calls', quantity: 20, request_id: 'p1' });
  assert.equal(again.replayed, true);
  assert.equal(again.plan, 'pro');
  assert.deepEqual([again.allowed, again.consumed, again.usage, again.limit, again.remaining],
    [true, true, 0, 100000, 99980], JSON.stringify(again));
  assert.equal(meterOf(await entitlements(srv, 'P'), 'api_calls').usage, 20);
  await srv.stop();
});
