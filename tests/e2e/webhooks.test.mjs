// webhooks.test.mjs — webhook delivery by the real `flywheel serve` to
// receivers on 127.0.0.1 (docs/webhooks.md): signatures checked with the
// `standardwebhooks` package, retries on the schedule and Retry-After, the
// dead-letter list and replay, `kill -9` mid-delivery (at least once, same
// webhook-id), the Slack format, the API's errors, the CLI, and `flywheel
// check` refusing a private address without allow_private.
//
// Times: only lower bounds are asserted (a wait is at least the schedule's);
// every wait for something to happen polls with a deadline.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { BIN, bearer, sleep, start, tempDataDir } from './lib/server.mjs';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const API_KEY = 'sk_e2e_webhooks';
const FAST = '[0.2, 0.4, 0.8]';

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/**
 * An HTTP receiver on 127.0.0.1. `respond(req, res, n, rec)` answers the
 * n-th request (1-based); rec = {at, id, headers, body}. Every request is kept
 * in `requests`.
 */
async function receiver(respond) {
  const r = { requests: [], respond, open: new Set() };
  r.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const rec = { at: Date.now(), id: req.headers['webhook-id'], headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      r.requests.push(rec);
      try {
        r.respond(req, res, r.requests.length, rec);
      } catch (e) {
        res.destroy();
      }
    });
  });
  r.server.on('connection', (s) => {
    r.open.add(s);
    s.on('close', () => r.open.delete(s));
  });
  await new Promise((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.port = r.server.address().port;
  r.url = `http://127.0.0.1:${r.port}/hook`;
  r.close = () => new Promise((resolve) => {
    for (const s of r.open) s.destroy();
    r.server.close(() => resolve());
  });
  cleanups.push(r.close);
  return r;
}

const ok = (req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');

function destinationYaml(d) {
  return [
    `  - name: ${d.name}`,
    `    url: ${d.url}`,
    d.secret === undefined ? `    secret: ${SECRET}` : d.secret ? `    secret: ${d.secret}` : null,
    d.format ? `    format: ${d.format}` : null,
    d.events ? `    events: ${d.events}` : null,
    `    allow_private: ${d.allowPrivate === false ? 'false' : 'true'}`,
  ].filter((l) => l !== null).join('\n');
}

function configYaml(destinations, webhooks = {}) {
  return [
    'destinations:',
    ...destinations.map(destinationYaml),
    'webhooks:',
    `  retry_schedule_seconds: ${webhooks.schedule || FAST}`,
    `  give_up_after_hours: ${webhooks.giveUpHours ?? 72}`,
    `  timeout_seconds: ${webhooks.timeout ?? 10}`,
    '',
  ].join('\n');
}

/**
 * A server whose data dir holds flywheel.yaml with these destinations. Each
 * test ends with `await srv.stop()`, which fails on a sanitizer report or an
 * unclean exit; the cleanup here only covers tests that failed before it.
 */
async function serve(label, destinations, webhooks) {
  const dataDir = tempDataDir(`wh-${label}`);
  fs.writeFileSync(path.join(dataDir, 'flywheel.yaml'), configYaml(destinations, webhooks));
  const srv = await start({ dataDir, label: `webhooks-${label}`, secret: API_KEY });
  cleanups.push(async () => {
    await srv.stop().catch(() => {});
    if (!process.env.FW_KEEP_DATA) fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return srv;
}

const auth = { Authorization: bearer(API_KEY) };

async function sendTest(srv, destination) {
  const r = await srv.post(`/api/v1/destinations/${encodeURIComponent(destination)}/test`, '', auth);
  assert.equal(r.status, 200, r.text);
  assert.ok(Number.isInteger(r.json.id) && r.json.id > 0, r.text);
  assert.match(r.json.webhook_id, /^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
  return r.json;
}

async function delivery(srv, id) {
  return srv.apiJson(`/api/v1/deliveries/${id}`);
}

/** Poll fn() until it returns a truthy value or timeoutMs passes. */
async function waitFor(what, fn, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function waitStatus(srv, id, status, timeoutMs = 15000) {
  let last;
  try {
    return await waitFor(`delivery ${id} to be ${status}`, async () => {
      last = await delivery(srv, id);
      return last.status === status ? last : null;
    }, timeoutMs);
  } catch (e) {
    e.message += `; last: ${JSON.stringify(last)}`;
    throw e;
  }
}

function verify(rec, secret = SECRET) {
  // throws WebhookVerificationError unless the signature and timestamp hold
  return new Webhook(secret).verify(rec.body, rec.headers);
}

/** `flywheel ARGS` without blocking the event loop (the receivers live here). */
function cli(args) {
  return new Promise((resolve) => {
    execFile(BIN, args, { encoding: 'utf8', timeout: 30000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('retries on the schedule and Retry-After until a 2xx; one webhook-id, valid signatures', async () => {
  // 500, then 503 with Retry-After: 1, then a dropped connection, then 200
  const rcv = await receiver((req, res, n) => {
    if (n === 1) res.writeHead(500).end('boom');
    else if (n === 2) res.writeHead(503, { 'Retry-After': '1' }).end('busy');
    else if (n === 3) req.socket.destroy();
    else ok(req, res);
  });
  const srv = await serve('retry', [{ name: 'crm', url: rcv.url }]);
  const t = await sendTest(srv, 'crm');
  const d = await waitStatus(srv, t.id, 'delivered');
  assert.equal(d.attempts, 4);
  assert.equal(d.webhook_id, t.webhook_id);
  assert.equal(d.last_status, 200);
  assert.equal(d.last_error, null);
  assert.match(d.delivered_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(d.attempt_log.map((a) => a.http_status), [500, 503, 0, 200]);
  assert.match(d.attempt_log[0].error, /^HTTP 500: boom/);
  assert.match(d.attempt_log[2].error, /empty reply|nothing|reset|closed/i);
  assert.equal(d.attempt_log[3].error, null);

  await sleep(300); // nothing more may come after the 2xx
  assert.equal(rcv.requests.length, 4);
  for (const rec of rcv.requests) {
    assert.equal(rec.id, t.webhook_id);
    assert.equal(rec.headers['content-type'], 'application/json');
    assert.equal(rec.headers['user-agent'], 'Flywheel-Webhooks/1');
    assert.match(rec.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]{43}=$/);
    const payload = verify(rec);
    assert.equal(payload.type, 'webhook.test');
    assert.match(payload.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(payload.data, { summary: 'Test webhook from Flywheel', destination: 'crm' });
    assert.equal(rec.body, rcv.requests[0].body, 'every attempt posts the same bytes');
  }
  // a changed body fails verification: the check above means something
  assert.throws(() => verify({ ...rcv.requests[0], body: rcv.requests[0].body.replace('crm', 'crn') }));
  const gaps = rcv.requests.slice(1).map((r, i) => r.at - rcv.requests[i].at);
  assert.ok(gaps[0] >= 200, `after attempt 1 (schedule 0.2 s): ${gaps[0]} ms`);
  assert.ok(gaps[1] >= 1000, `after attempt 2 (Retry-After: 1 beats 0.4 s): ${gaps[1]} ms`);
  assert.ok(gaps[2] >= 800, `after attempt 3 (schedule 0.8 s): ${gaps[2]} ms`);

  const list = await srv.apiJson('/api/v1/deliveries?status=delivered');
  assert.equal(list.deliveries.length, 1);
  assert.equal(list.deliveries[0].id, t.id);
  assert.equal(list.deliveries[0].attempts, 4);
  assert.deepEqual(list.counts, { pending: 0, delivered: 1, dead: 0 });
  await srv.stop();
});

test('gives up into the dead-letter list; replay delivers it with the same webhook-id', async () => {
  let failing = true;
  const rcv = await receiver((req, res) => (failing ? res.writeHead(502).end('down') : ok(req, res)));
  // 0.0003 h = 1.08 s: attempts at 0, 0.2 and 0.6 s; the next (1.4 s) is past it
  const srv = await serve('dead', [{ name: 'crm', url: rcv.url }], { giveUpHours: 0.0003 });
  const t = await sendTest(srv, 'crm');
  const d = await waitStatus(srv, t.id, 'dead');
  assert.equal(d.attempts, 3);
  assert.equal(d.last_status, 502);
  assert.match(d.last_error, /HTTP 502: down; gave up/);
  assert.equal(d.next_at, null);
  const dead = await srv.apiJson('/api/v1/deliveries?status=dead');
  assert.deepEqual(dead.deliveries.map((x) => x.id), [t.id]);
  assert.equal(dead.counts.dead, 1);
  await sleep(500);
  assert.equal(rcv.requests.length, 3, 'no attempts after dead');

  failing = false;
  const r = await srv.post(`/api/v1/deliveries/${t.id}/replay`, '', auth);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.webhook_id, t.webhook_id);
  const done = await waitStatus(srv, t.id, 'delivered');
  assert.equal(done.attempts, 4);
  assert.equal(rcv.requests.length, 4);
  assert.ok(rcv.requests.every((x) => x.id === t.webhook_id));
  verify(rcv.requests[3]);
  // replay by webhook id works too, and a delivered row can be sent again
  const again = await srv.post(`/api/v1/deliveries/${t.webhook_id}/replay`, '', auth);
  assert.equal(again.status, 200, again.text);
  await waitStatus(srv, t.id, 'delivered');
  await waitFor('the fifth request', () => rcv.requests.length >= 5);
  assert.equal(rcv.requests[4].id, t.webhook_id);
  await srv.stop();
});

test('kill -9 mid-delivery: every webhook arrives at least once after restart, signed', async () => {
  let hold = true;
  const held = [];
  const rcv = await receiver((req, res) => {
    if (!hold) return ok(req, res);
    held.push(res);
    setTimeout(() => { if (!res.destroyed) ok(req, res); }, 2000);
  });
  const srv = await serve('kill9', [{ name: 'crm', url: rcv.url }]);
  const ids = [];
  for (let i = 0; i < 20; i++) ids.push((await sendTest(srv, 'crm')).webhook_id);
  await waitFor('a delivery in flight', () => rcv.requests.length >= 1, 10000);
  await srv.kill9();
  const before = rcv.requests.length;
  assert.ok(before < 20, `only ${before} in flight when killed`);
  hold = false;
  await srv.restart();
  await waitFor('all 20 webhook ids', () => ids.every((id) => rcv.requests.some((r) => r.id === id)), 30000);
  for (const rec of rcv.requests) verify(rec);
  const counts = await waitFor('20 delivered in the API', async () => {
    const l = await srv.apiJson('/api/v1/deliveries?limit=100');
    return l.counts.delivered === 20 ? l.counts : null;
  });
  assert.deepEqual(counts, { pending: 0, delivered: 20, dead: 0 });
  // no id was invented: every request carries one of ours
  assert.ok(rcv.requests.every((r) => ids.includes(r.id)));
  await srv.stop();
});

test('Slack format posts {"text": summary}, signed the same way', async () => {
  const rcv = await receiver(ok);
  const srv = await serve('slack', [{ name: 'team-chat', url: rcv.url, format: 'slack', events: '[account.at_risk]' }]);
  const t = await sendTest(srv, 'team-chat');
  await waitStatus(srv, t.id, 'delivered');
  assert.equal(rcv.requests.length, 1);
  assert.deepEqual(JSON.parse(rcv.requests[0].body), { text: 'Test webhook from Flywheel' });
  assert.deepEqual(verify(rcv.requests[0]), { text: 'Test webhook from Flywheel' });
  // the API still shows the generic envelope that was queued
  const d = await delivery(srv, t.id);
  assert.equal(d.body.type, 'webhook.test');
  assert.equal(d.body.data.destination, 'team-chat');
  await srv.stop();
});

test('the deliveries API: keys, bad ids and parameters, 404s, 409 for a pending replay', async () => {
  // this receiver asks for an hour's wait: the row stays pending
  const rcv = await receiver((req, res) => res.writeHead(503, { 'Retry-After': '3600' }).end());
  const srv = await serve('api', [{ name: 'crm', url: rcv.url }]);
  const t = await sendTest(srv, 'crm');
  const d = await waitFor('the first attempt', async () => {
    const x = await delivery(srv, t.id);
    return x.attempts === 1 ? x : null;
  });
  assert.equal(d.status, 'pending');
  assert.ok(Date.parse(d.next_at) - Date.now() > 3000 * 1000, d.next_at);

  const replay = await srv.post(`/api/v1/deliveries/${t.id}/replay`, '', auth);
  assert.equal(replay.status, 409, replay.text);
  assert.equal(replay.json.reason, 'already_pending');
  assert.match(replay.json.error, /pending already/);

  const noKey = await srv.get('/api/v1/deliveries');
  assert.equal(noKey.status, 401);
  const writeKey = await srv.get('/api/v1/deliveries', { Authorization: bearer(srv.key) });
  assert.equal(writeKey.status, 401);
  const noKeyTest = await srv.post('/api/v1/destinations/crm/test', '', {});
  assert.equal(noKeyTest.status, 401);

  const cases = [
    ['/api/v1/deliveries?status=lost', 400, /status="lost" is not a status: use pending, delivered or dead/],
    ['/api/v1/deliveries?limit=0', 400, /limit="0" must be a whole number from 1 to 1000/],
    ['/api/v1/deliveries?limit=abc', 400, /limit/],
    ['/api/v1/deliveries?before=-1', 400, /before/],
    ['/api/v1/deliveries/abc', 400, /"abc" is not a delivery id/],
    ['/api/v1/deliveries/999999', 404, /no delivery has the id 999999/],
    ['/api/v1/deliveries/msg_NOPE', 404, /no delivery has the webhook id/],
  ];
  for (const [p, status, msg] of cases) {
    const r = await srv.api(p);
    assert.equal(r.status, status, `${p}: ${r.text}`);
    assert.match(r.json.error, msg, p);
  }
  const unknown = await srv.post('/api/v1/destinations/nope/test', '', auth);
  assert.equal(unknown.status, 404);
  assert.match(unknown.json.error, /no destination is named "nope"/);
  const badAction = await srv.post(`/api/v1/deliveries/${t.id}/resend`, '', auth);
  assert.equal(badAction.status, 404);
  const missingReplay = await srv.post('/api/v1/deliveries/999999/replay', '', auth);
  assert.equal(missingReplay.status, 404);

  // paging: newest first, `before` continues
  for (let i = 0; i < 4; i++) await sendTest(srv, 'crm');
  const p1 = await srv.apiJson('/api/v1/deliveries?limit=2');
  assert.equal(p1.deliveries.length, 2);
  assert.ok(p1.deliveries[0].id > p1.deliveries[1].id);
  assert.equal(p1.next_before, p1.deliveries[1].id);
  const p2 = await srv.apiJson(`/api/v1/deliveries?limit=2&before=${p1.next_before}`);
  assert.ok(p2.deliveries.every((x) => x.id < p1.next_before));
  const byDest = await srv.apiJson('/api/v1/deliveries?destination=crm&status=pending');
  assert.equal(byDest.counts.pending + byDest.counts.delivered + byDest.counts.dead, 5);
  const other = await srv.apiJson('/api/v1/deliveries?destination=other');
  assert.deepEqual(other.deliveries, []);
  await srv.stop(); // with a transfer possibly in flight: a clean, prompt stop
});

test('flywheel webhooks: list, show, test and replay against a running server', async () => {
  const rcv = await receiver(ok);
  const srv = await serve('cli', [{ name: 'crm', url: rcv.url }]);
  const base = ['--url', srv.url, '--key', API_KEY];

  const help = await cli(['webhooks', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: flywheel webhooks ACTION/);
  const top = await cli(['--help']);
  assert.match(top.stdout, /webhooks +webhook deliveries/);

  const sent = await cli(['webhooks', 'test', 'crm', ...base]);
  assert.equal(sent.status, 0, sent.stderr);
  const m = /queued a webhook\.test for crm: delivery (\d+) \((msg_\w+)\)/.exec(sent.stdout);
  assert.ok(m, sent.stdout);
  await waitStatus(srv, Number(m[1]), 'delivered');

  const list = await cli(['webhooks', 'list', ...base]);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /^ID +STATUS +ATTEMPTS +DESTINATION +TYPE +CREATED +LAST/);
  assert.match(list.stdout, new RegExp(`\\n${m[1]} +delivered +1 +crm +webhook\\.test `));
  assert.match(list.stdout, /pending 0, delivered 1, dead 0/);
  const json = JSON.parse((await cli(['webhooks', 'list', '--status', 'delivered', '--json', ...base])).stdout);
  assert.equal(json.deliveries[0].webhook_id, m[2]);

  const show = await cli(['webhooks', 'show', m[2], ...base]);
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /status +delivered/);
  assert.match(show.stdout, /ATTEMPT +AT +HTTP +MS +ERROR\n1 +\S+ +200 /);

  const replay = await cli(['webhooks', 'replay', m[1], ...base]);
  assert.equal(replay.status, 0, replay.stderr);
  assert.match(replay.stdout, new RegExp(`delivery ${m[1]} \\(${m[2]}\\) is pending again`));
  await waitFor('the replayed request', () => rcv.requests.length >= 2);

  const unknown = await cli(['webhooks', 'test', 'nope', ...base]);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /no destination is named "nope".*\(HTTP 404\)/);
  const badKey = await cli(['webhooks', 'list', '--url', srv.url, '--key', 'wrong']);
  assert.equal(badKey.status, 1);
  assert.match(badKey.stderr, /Invalid API key/);
  const usage = await cli(['webhooks', 'show', ...base]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /give a delivery id/);
  const badAction = await cli(['webhooks', 'resend', '1', ...base]);
  assert.equal(badAction.status, 2);
  await srv.stop();
});

test('flywheel check refuses a private address without allow_private', async () => {
  const dir = tempDataDir('wh-check');
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://10.1.2.3/hook']) {
    const file = path.join(dir, 'flywheel.yaml');
    fs.writeFileSync(file, configYaml([{ name: 'crm', url, allowPrivate: false }]));
    const r = await cli(['check', '--config', file]);
    assert.equal(r.status, 1, `${url}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /flywheel\.yaml:\d+:\d+: error: .*allow_private/, url);
  }
  // and with allow_private it is accepted
  const file = path.join(dir, 'ok.yaml');
  fs.writeFileSync(file, configYaml([{ name: 'crm', url: 'http://127.0.0.1:9/hook' }]));
  const r = await cli(['check', '--config', file]);
  assert.equal(r.status, 0, r.stderr);
});
