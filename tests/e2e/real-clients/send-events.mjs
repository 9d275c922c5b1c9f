#!/usr/bin/env node
// Copied from the team's real-clients harness (tools/real-clients/send-events.mjs)
// so the e2e tests carry their own driver; only the node_modules lookup changed.
// tests/e2e/real-clients/driver.mjs runs it as a child process.
//
// send-events.mjs — replay the deterministic scenario in scenario.json through
// one REAL analytics SDK against <baseUrl>, flush/shut it down cleanly, and
// print one summary JSON object on stdout (SDK log output goes to stderr).
//
// usage: node send-events.mjs <baseUrl> <client> [options]
//   client: posthog | posthog-v1 | segment | rudderstack | mixpanel | amplitude
//   options:
//     --probe               send the 4-event 'probe' scenario with bounded
//                           retry settings (used by probe-retries.mjs)
//     --amplitude-timer     amplitude only: let the SDK's own flush timer send
//                           (that path retries); default is an explicit
//                           flush(), which never retries
//     --fixed-ids[=SALT]    give every message a deterministic id
//                           (messageId / uuid / insert_id / $insert_id)
//     --timeout-ms N        give up after N ms (default 60000) => exit 3
//   env:
//     WRITE_KEY             override the key/token every client sends
//     SEGMENT_PATH, RUDDER_PATH (default /v1/batch), AMPLITUDE_PATH
//     (default /2/httpapi) — override the ingest path appended to baseUrl
//
// exit status: 0 all deliveries acknowledged; 1 some delivery failed;
//              2 usage/setup error; 3 timed out.

import fs from 'node:fs';
import util from 'node:util';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// Keep stdout for the summary JSON only: route every console method to stderr.
const realStdoutWrite = process.stdout.write.bind(process.stdout);
for (const m of ['log', 'info', 'warn', 'debug', 'error', 'trace']) {
  console[m] = (...a) => process.stderr.write(`[sdk:${m}] ${util.format(...a)}\n`);
}

const CLIENTS = {
  posthog: 'posthog-node',
  'posthog-v1': 'posthog-node',
  segment: '@segment/analytics-node',
  rudderstack: '@rudderstack/rudder-sdk-node',
  mixpanel: 'mixpanel',
  amplitude: '@amplitude/analytics-node',
};

function usage(msg) {
  if (msg) process.stderr.write(`error: ${msg}\n`);
  process.stderr.write(`usage: node send-events.mjs <baseUrl> <${Object.keys(CLIENTS).join('|')}> [--probe] [--amplitude-timer] [--fixed-ids[=SALT]] [--timeout-ms N]\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const positional = argv.filter((a) => !a.startsWith('--'));
const flags = Object.fromEntries(
  argv.filter((a) => a.startsWith('--')).map((a) => {
    const i = a.indexOf('=');
    return i < 0 ? [a.slice(2), true] : [a.slice(2, i), a.slice(i + 1)];
  })
);
// allow "--timeout-ms 5000" as well as "--timeout-ms=5000"
for (let i = 0; i < argv.length - 1; i++) {
  if (argv[i] === '--timeout-ms' && !argv[i + 1].startsWith('--')) {
    flags['timeout-ms'] = argv[i + 1];
    positional.splice(positional.indexOf(argv[i + 1]), 1);
  }
}
const [baseUrlArg, clientName] = positional;
if (!baseUrlArg || !clientName) usage();
if (!CLIENTS[clientName]) usage(`unknown client '${clientName}'`);
let base;
try {
  base = new URL(baseUrlArg);
} catch {
  usage(`bad baseUrl '${baseUrlArg}'`);
}
const baseUrl = baseUrlArg.replace(/\/+$/, '');
const basePrefix = base.pathname.replace(/\/+$/, ''); // '' or '/prefix'
const probe = !!flags.probe;
const timeoutMs = Number(flags['timeout-ms'] || 60000);
const fixedIdsSalt = flags['fixed-ids'] ? (flags['fixed-ids'] === true ? 'harness' : String(flags['fixed-ids'])) : null;

const scenario = JSON.parse(fs.readFileSync(new URL('./scenario.json', import.meta.url), 'utf8'));
const steps = probe ? scenario.probe : scenario.steps;
const keyFor = (c) => process.env.WRITE_KEY || scenario.keys[c.replace(/-v1$/, '')];
const groupType = scenario.groupType;
const groupOf = (userId) => (userId && scenario.users[userId] ? scenario.users[userId].group : undefined);
// The SDKs are installed in tests/e2e/node_modules (one level up from here).
const pkgVersion = (pkg) => {
  for (const rel of [`../node_modules/${pkg}/package.json`, `./node_modules/${pkg}/package.json`]) {
    const u = new URL(rel, import.meta.url);
    if (fs.existsSync(u)) return JSON.parse(fs.readFileSync(u, 'utf8')).version;
  }
  return 'unknown';
};

function detUuid(id) {
  if (!fixedIdsSalt) return undefined;
  const h = crypto.createHash('sha1').update(`${fixedIdsSalt}:${clientName}:${id}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50; // version 5 layout
  h[8] = (h[8] & 0x3f) | 0x80; // RFC 4122 variant
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// ------------------------------------------------------------------ summary

const summary = {
  client: clientName,
  package: CLIENTS[clientName],
  version: pkgVersion(CLIENTS[clientName]),
  baseUrl,
  scenario: probe ? 'probe' : 'steps',
  fixedIds: !!fixedIdsSalt,
  sent: { calls: {}, skipped: {}, trackEvents: {}, distinctUsers: 0, anonymousIds: 0, groups: 0 },
  // what a server should end up storing, named the way this client names it
  // (the capture server's /__capture/summary uses the same names)
  expectedWire: { records: 0, byName: {} },
  delivery: { acknowledged: 0, failed: 0, errors: [] },
  timedOut: false,
  durationMs: 0,
};
const users = new Set();
const anons = new Set();
const groupsSeen = new Set();
function noteCall(step) {
  summary.sent.calls[step.type] = (summary.sent.calls[step.type] || 0) + 1;
  if (step.type === 'track') summary.sent.trackEvents[step.event] = (summary.sent.trackEvents[step.event] || 0) + 1;
  if (step.userId) users.add(step.userId);
  if (step.anonymousId) anons.add(step.anonymousId);
  if (step.type === 'alias' && step.previousId) anons.add(step.previousId);
  if (step.groupId) groupsSeen.add(step.groupId);
}
function noteSkip(step, why) {
  summary.sent.skipped[step.type] = summary.sent.skipped[step.type] || { count: 0, why };
  summary.sent.skipped[step.type].count++;
}
function expect(name, n = 1) {
  summary.expectedWire.records += n;
  summary.expectedWire.byName[name] = (summary.expectedWire.byName[name] || 0) + n;
}
function ack(n = 1) {
  summary.delivery.acknowledged += n;
}
function fail(n, err) {
  summary.delivery.failed += n;
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (summary.delivery.errors.length < 20) summary.delivery.errors.push(msg.slice(0, 300));
}

const ts = (s) => new Date(s.timestamp);

// ------------------------------------------------------------------ drivers

async function runPosthog(v1) {
  if (v1) process.env.POSTHOG_CAPTURE_MODE = 'v1';
  else delete process.env.POSTHOG_CAPTURE_MODE;
  const { PostHog } = await import('posthog-node');
  const client = new PostHog(keyFor(clientName), {
    host: baseUrl,
    // defaults made explicit: flushAt 20, flushInterval 10000, fetchRetryCount 3, fetchRetryDelay 3000
  });
  let flushed = 0;
  let v1Failed = 0;
  client.on('flush', (msgs) => { flushed += msgs.length; });
  client.on('error', (err) => {
    // v1 surfaces per-event drops / exhausted retries as CaptureV1Error
    const n = (err?.drops?.length || 0) + (err?.retryExhausted?.length || 0);
    if (n) v1Failed += n;
    if (summary.delivery.errors.length < 20) summary.delivery.errors.push(`${err?.name}: ${String(err?.message).slice(0, 300)}`);
  });
  for (const s of steps) {
    const distinctId = s.userId || s.anonymousId;
    const groups = groupOf(s.userId) ? { [groupType]: groupOf(s.userId) } : undefined;
    switch (s.type) {
      case 'identify':
        // posthog-node identify() has no timestamp option: it is stamped "now"
        client.identify({ distinctId, properties: { $set: scenario.users[s.userId].traits } });
        expect('$identify');
        break;
      case 'group':
        // no timestamp option either
        client.groupIdentify({ groupType, groupKey: s.groupId, properties: scenario.groups[s.groupId].traits, distinctId });
        expect('$groupidentify');
        break;
      case 'track':
        client.capture({ distinctId, event: s.event, properties: s.properties, timestamp: ts(s), groups, uuid: detUuid(s.id) });
        expect(s.event);
        break;
      case 'alias':
        client.alias({ distinctId: s.userId, alias: s.previousId });
        expect('$create_alias');
        break;
      case 'page': {
        const p = s.properties;
        client.capture({
          distinctId, event: '$pageview', timestamp: ts(s), groups, uuid: detUuid(s.id),
          properties: { $current_url: p.url, $pathname: p.path, $referrer: p.referrer, title: p.title, name: s.name, category: s.category },
        });
        expect('$pageview');
        break;
      }
    }
    noteCall(s);
  }
  let flushErr = null;
  try {
    await client.flush();
  } catch (e) {
    flushErr = e;
  }
  await client.shutdown(probe ? 20000 : 30000);
  const total = summary.expectedWire.records;
  const okN = Math.max(0, flushed - v1Failed);
  ack(okN);
  if (total - okN > 0) fail(total - okN, flushErr || new Error(`${total - okN} event(s) not acknowledged`));
}

async function runSegment() {
  const { Analytics } = await import('@segment/analytics-node');
  const client = new Analytics({
    writeKey: keyFor('segment'),
    host: base.origin,
    path: `${basePrefix}${process.env.SEGMENT_PATH || '/v1/batch'}`,
    // defaults: flushAt 15, flushInterval 10000, maxRetries 10, httpRequestTimeout 10000
    ...(probe ? { maxRetries: 3 } : {}),
  });
  client.on('error', (e) => process.stderr.write(`[segment:error] ${e?.code || ''} ${e?.reason || e?.message || e}\n`));
  const cb = (err) => (err ? fail(1, err) : ack(1));
  for (const s of steps) {
    const id = { ...(s.userId ? { userId: s.userId } : { anonymousId: s.anonymousId }) };
    const messageId = detUuid(s.id);
    switch (s.type) {
      case 'identify':
        client.identify({ ...id, traits: scenario.users[s.userId].traits, timestamp: ts(s), messageId }, cb);
        expect('identify');
        break;
      case 'group':
        client.group({ ...id, groupId: s.groupId, traits: scenario.groups[s.groupId].traits, timestamp: ts(s), messageId }, cb);
        expect('group');
        break;
      case 'track':
        client.track({ ...id, event: s.event, properties: s.properties, timestamp: ts(s), messageId }, cb);
        expect(s.event);
        break;
      case 'alias':
        client.alias({ userId: s.userId, previousId: s.previousId, timestamp: ts(s), messageId }, cb);
        expect('alias');
        break;
      case 'page':
        client.page({ ...id, name: s.name, category: s.category, properties: s.properties, timestamp: ts(s), messageId }, cb);
        expect('page');
        break;
    }
    noteCall(s);
  }
  await client.closeAndFlush({ timeout: timeoutMs - 2000 });
  // callbacks for all messages have fired once closeAndFlush resolves
}

async function runRudder() {
  const mod = await import('@rudderstack/rudder-sdk-node');
  const Analytics = mod.default || mod;
  const handlerErrors = [];
  const client = new Analytics(keyFor('rudderstack'), {
    dataPlaneUrl: baseUrl,
    path: process.env.RUDDER_PATH || '/v1/batch',
    logLevel: 'error',
    // defaults: flushAt 20, flushInterval 10000, retryCount 3, gzip true
    errorHandler: (err) => handlerErrors.push(err),
  });
  const pending = [];
  const call = (fn, msg) => {
    pending.push(new Promise((resolve) => {
      fn.call(client, msg, (err) => { (err ? fail(1, err) : ack(1)); resolve(); });
    }));
  };
  for (const s of steps) {
    const id = { ...(s.userId ? { userId: s.userId } : { anonymousId: s.anonymousId }) };
    const messageId = detUuid(s.id);
    const extra = messageId ? { messageId } : {};
    switch (s.type) {
      case 'identify':
        call(client.identify, { ...id, traits: scenario.users[s.userId].traits, timestamp: ts(s), ...extra });
        expect('identify');
        break;
      case 'group':
        call(client.group, { ...id, groupId: s.groupId, traits: scenario.groups[s.groupId].traits, timestamp: ts(s), ...extra });
        expect('group');
        break;
      case 'track':
        call(client.track, { ...id, event: s.event, properties: s.properties, timestamp: ts(s), ...extra });
        expect(s.event);
        break;
      case 'alias':
        call(client.alias, { userId: s.userId, previousId: s.previousId, timestamp: ts(s), ...extra });
        expect('alias');
        break;
      case 'page':
        call(client.page, { ...id, name: s.name, category: s.category, properties: s.properties, timestamp: ts(s), ...extra });
        expect('page');
        break;
    }
    noteCall(s);
  }
  // flush() sends at most flushAt messages per call: drain (bounded)
  for (let i = 0; i < 100 && client.queue.length > 0; i++) {
    try { await client.flush(); } catch { /* reported via callbacks */ }
  }
  try { await client.flush(); } catch {}
  await Promise.all(pending);
}

async function runMixpanel() {
  const Mixpanel = require('mixpanel');
  const client = Mixpanel.init(keyFor('mixpanel'), {
    host: base.host, // "127.0.0.1:port" — the SDK splits host:port itself
    protocol: base.protocol.replace(':', ''),
    path: basePrefix,
    // defaults: verbose false (expects body "1"), geolocate false (ip=0), keepAlive true
  });
  const pending = [];
  const cbp = (n) => {
    let resolve;
    pending.push(new Promise((r) => (resolve = r)));
    return (err) => {
      if (err && !(Array.isArray(err) && err.length === 0)) fail(n, Array.isArray(err) ? err[0] : err);
      else ack(n);
      resolve();
    };
  };
  const batch = [];
  const firstUser = steps.find((s) => s.userId)?.userId;
  for (const s of steps) {
    const distinct_id = s.userId || s.anonymousId;
    switch (s.type) {
      case 'identify': {
        const t = scenario.users[s.userId].traits;
        // people.set => GET /engage?data=base64({$token,$distinct_id,$set,$time})
        client.people.set(distinct_id, { $email: t.email, $name: t.name, $created: t.created_at }, { $time: ts(s) }, cbp(1));
        expect('engage:$set');
        break;
      }
      case 'group':
        // groups.set => GET /groups ; association: profile property named by the group key
        client.groups.set(`${groupType}_id`, s.groupId, scenario.groups[s.groupId].traits, { $time: ts(s) }, cbp(1));
        client.people.set(distinct_id, `${groupType}_id`, s.groupId, { $time: ts(s) }, cbp(1));
        expect('groups:$set');
        expect('engage:$set');
        break;
      case 'track': {
        const props = {
          distinct_id,
          time: ts(s),
          ...(groupOf(s.userId) ? { [`${groupType}_id`]: groupOf(s.userId) } : {}),
          ...s.properties,
          ...(detUuid(s.id) ? { $insert_id: detUuid(s.id) } : {}),
        };
        if (s.userId === firstUser) {
          // one event per request: GET /track?data=base64(...)
          client.track(s.event, props, cbp(1));
        } else {
          batch.push({ event: s.event, properties: props });
        }
        expect(s.event);
        break;
      }
      case 'alias':
        // mixpanel-node alias(distinct_id, alias) => GET /track $create_alias
        client.alias(s.previousId, s.userId, cbp(1));
        expect('$create_alias');
        break;
      case 'page':
        noteSkip(s, 'mixpanel-node has no page() call');
        continue;
    }
    noteCall(s);
  }
  if (batch.length) {
    // track_batch => POST /track, body "data=<base64 JSON array>", <=50 events/request
    client.track_batch(batch, cbp(batch.length));
  }
  await Promise.all(pending);
}

async function runAmplitude() {
  const amp = await import('@amplitude/analytics-node');
  const { createInstance, Identify } = amp;
  const client = createInstance();
  const useTimer = !!flags['amplitude-timer'];
  await client.init(keyFor('amplitude'), {
    serverUrl: `${baseUrl}${process.env.AMPLITUDE_PATH || '/2/httpapi'}`,
    // defaults: flushQueueSize 200, flushIntervalMillis 10000, flushMaxRetries 12
    ...(useTimer ? { flushIntervalMillis: 250, flushMaxRetries: probe ? 4 : 12 } : {}),
  }).promise;
  const results = [];
  const track = (r) => results.push(r.promise);
  for (const s of steps) {
    const who = s.userId ? { user_id: s.userId } : { device_id: s.anonymousId };
    const time = ts(s).getTime();
    const insert_id = detUuid(s.id);
    const idopt = insert_id ? { insert_id } : {};
    switch (s.type) {
      case 'identify': {
        const t = scenario.users[s.userId].traits;
        const idn = new Identify().set('email', t.email).set('name', t.name).set('created_at', t.created_at);
        track(client.identify(idn, { ...who, time, ...idopt }));
        expect('$identify');
        break;
      }
      case 'group': {
        // association: setGroup => $identify event carrying "groups" + user_properties.$set
        const sgId = detUuid(`${s.id}:setGroup`);
        track(client.setGroup(groupType, s.groupId, { ...who, time, ...(sgId ? { insert_id: sgId } : {}) }));
        // group traits: groupIdentify => $groupidentify event with group_properties
        const gi = new Identify();
        for (const [k, v] of Object.entries(scenario.groups[s.groupId].traits)) gi.set(k, v);
        const giId = detUuid(`${s.id}:groupIdentify`);
        track(client.groupIdentify(groupType, s.groupId, gi, { ...who, time, ...(giId ? { insert_id: giId } : {}) }));
        expect('$identify');
        expect('$groupidentify');
        break;
      }
      case 'track':
        track(client.track(s.event, s.properties, { ...who, time, ...idopt, ...(groupOf(s.userId) ? { groups: { [groupType]: groupOf(s.userId) } } : {}) }));
        expect(s.event);
        break;
      case 'alias':
        noteSkip(s, '@amplitude/analytics-node has no alias call (aliasing is a separate Amplitude API)');
        continue;
      case 'page':
        noteSkip(s, '@amplitude/analytics-node has no page call');
        continue;
    }
    noteCall(s);
  }
  if (!useTimer) await client.flush().promise; // explicit flush: single attempt, no retries
  const res = await Promise.all(results);
  for (const r of res) {
    if (r && r.code === 200) ack(1);
    else fail(1, new Error(`code=${r?.code} ${r?.message}`));
  }
}

// ------------------------------------------------------------------ main

const started = Date.now();
let finished = false;
function finish(code) {
  if (finished) return;
  finished = true;
  summary.sent.distinctUsers = users.size;
  summary.sent.anonymousIds = anons.size;
  summary.sent.groups = groupsSeen.size;
  summary.durationMs = Date.now() - started;
  realStdoutWrite(JSON.stringify(summary, null, 2) + '\n', () => process.exit(code));
}

process.on('unhandledRejection', (e) => {
  if (summary.delivery.errors.length < 20) summary.delivery.errors.push(`unhandledRejection: ${e?.message || e}`);
});

const timer = setTimeout(() => {
  summary.timedOut = true;
  const unacked = summary.expectedWire.records - summary.delivery.acknowledged - summary.delivery.failed;
  if (unacked > 0) fail(unacked, new Error(`timed out after ${timeoutMs}ms with ${unacked} record(s) unacknowledged`));
  finish(3);
}, timeoutMs);

try {
  switch (clientName) {
    case 'posthog': await runPosthog(false); break;
    case 'posthog-v1': await runPosthog(true); break;
    case 'segment': await runSegment(); break;
    case 'rudderstack': await runRudder(); break;
    case 'mixpanel': await runMixpanel(); break;
    case 'amplitude': await runAmplitude(); break;
  }
} catch (e) {
  clearTimeout(timer);
  if (!finished) {
    fail(Math.max(1, summary.expectedWire.records - summary.delivery.acknowledged - summary.delivery.failed), e);
    process.stderr.write(`driver error: ${e?.stack || e}\n`);
    finish(1);
  }
}
clearTimeout(timer);
if (!finished) {
  // Segment reports per-message; for clients that report per batch the
  // accounting above is per record too, so these should add up.
  const unacked = summary.expectedWire.records - summary.delivery.acknowledged - summary.delivery.failed;
  if (unacked > 0) fail(unacked, new Error(`${unacked} record(s) never acknowledged by the SDK`));
  finish(summary.delivery.failed > 0 ? 1 : 0);
}
