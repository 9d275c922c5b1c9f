// compaction.test.mjs — the running server compacts the log into columnar
// segments in the background (FLYWHEEL_COMPACT_IDLE_MS shortens the quiet
// time it waits for), and nothing acknowledged is lost or duplicated:
//   - events are visible to queries right after acknowledgement, before and
//     after compaction; the compacted log files are removed;
//   - duplicates of compacted events are still dropped, across restarts;
//   - kill -9 at random moments while compaction runs loses nothing;
//   - a damaged segment stops start-up with the file named.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { start, basic, sleep } from './lib/server.mjs';

const KEY = 'wk_compaction';
const SECRET = 'sk_compaction';
const servers = [];
after(async () => {
  for (const s of servers) await s.dispose().catch(() => {});
});

function batch(prefix, n, from = 0) {
  return {
    batch: Array.from({ length: n }, (_, k) => {
      const i = from + k;
      return {
        type: 'track', event: i % 4 ? 'Page Viewed' : 'Signed Up', userId: `u${i % 37}`,
        messageId: `${prefix}-${i}`, timestamp: new Date(Date.UTC(2026, 0, 1) + i * 60000).toISOString(),
        properties: { i, plan: i % 2 ? 'free' : 'pro' }, context: { groupId: `acct${i % 5}` },
      };
    }),
  };
}

async function health(srv) {
  const r = await srv.api('/healthz');
  return r.json;
}

async function waitCompacted(srv, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const h = await health(srv);
    if (h.records > 0 && h.compacted === h.records) return h;
    if (Date.now() > end) throw new Error(`not compacted within ${timeoutMs} ms: ${JSON.stringify(h)}`);
    await sleep(100);
  }
}

async function eventTotal(srv) {
  const r = await srv.api('/api/v1/events/count');
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}

const env = { FLYWHEEL_COMPACT_IDLE_MS: '300' };

test('background compaction: visible at once, log files dropped, duplicates still dropped', async () => {
  const srv = await start({ writeKeys: [KEY], secret: SECRET, env, label: 'compaction-basic' });
  servers.push(srv);
  for (let b = 0; b < 3; b++) {
    const r = await srv.post('/v1/batch', batch('c', 100, b * 100), { Authorization: basic(KEY) });
    assert.equal(r.status, 200);
    assert.equal(await eventTotal(srv), (b + 1) * 100, 'acknowledged events are visible at once');
  }
  const h = await waitCompacted(srv);
  assert.ok(h.segments >= 1, JSON.stringify(h));
  assert.equal(await eventTotal(srv), 300);
  // the analyses read the segments: 37 people, 5 accounts
  const q = await srv.post('/api/v1/query', { kind: 'events' }, { Authorization: `Bearer ${SECRET}` });
  assert.equal(q.status, 200, q.text);
  assert.deepEqual(q.json.rows.map((r) => [r.event, r.count, r.people]), [['Page Viewed', 225, 37], ['Signed Up', 75, 37]]);
  // counts only: from the snapshot's per-day counts, whole range and a day range
  const c1 = await srv.post('/api/v1/query', { kind: 'events', uniques: false }, { Authorization: `Bearer ${SECRET}` });
  assert.deepEqual(c1.json.rows, [{ event: 'Page Viewed', count: 225 }, { event: 'Signed Up', count: 75 }]);
  const c2 = await srv.post('/api/v1/query', { kind: 'events', uniques: false, from: '2026-01-01', to: '2026-01-01T00:00:00Z' }, { Authorization: `Bearer ${SECRET}` });
  assert.equal(c2.status, 400, 'an empty range is refused');
  const c3 = await srv.post('/api/v1/query', { kind: 'events', uniques: false, from: '2026-01-01', to: '2026-01-02' }, { Authorization: `Bearer ${SECRET}` });
  assert.equal(c3.json.total, 300, 'all 300 events fall on 2026-01-01 (one a minute)');
  const acc = await srv.post('/api/v1/query', { kind: 'accounts', limit: 10 }, { Authorization: `Bearer ${SECRET}` });
  assert.equal(acc.json.total, 5);
  // duplicates of compacted events are dropped, also after a restart
  let r = await srv.post('/v1/batch', batch('c', 50, 100), { Authorization: basic(KEY) });
  assert.equal(r.status, 200);
  assert.equal(await eventTotal(srv), 300);
  await srv.restart();
  r = await srv.post('/v1/batch', batch('c', 50, 200), { Authorization: basic(KEY) });
  assert.equal(r.status, 200);
  assert.equal(await eventTotal(srv), 300);
  // a person's events come from the segments
  const p = await srv.api('/api/v1/people/u3');
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.event_count, [...Array(300).keys()].filter((i) => i % 37 === 3).length);
  await srv.stop();
});

test('kill -9 during compaction loses nothing and duplicates nothing', async () => {
  const srv = await start({ writeKeys: [KEY], secret: SECRET, env, label: 'compaction-kill' });
  servers.push(srv);
  let acked = 0;
  for (let round = 0; round < 6; round++) {
    for (let b = 0; b < 20; b++) {
      const r = await srv.post('/v1/batch', batch('k', 250, acked), { Authorization: basic(KEY) });
      assert.equal(r.status, 200, r.text);
      acked += 250;
    }
    // kill somewhere in the compaction that starts after 300 ms of quiet
    await sleep(250 + Math.floor(Math.random() * 400));
    await srv.restart({ kill: true });
    assert.equal(await eventTotal(srv), acked, `round ${round}: every acknowledged event, once`);
  }
  // resend everything: all duplicates
  for (let i = 0; i < acked; i += 2500) {
    const r = await srv.post('/v1/batch', batch('k', 2500, i), { Authorization: basic(KEY) });
    assert.equal(r.status, 200);
  }
  assert.equal(await eventTotal(srv), acked);
  await waitCompacted(srv, 30000);
  assert.equal(await eventTotal(srv), acked);
  const logs = fs.readdirSync(path.join(srv.dataDir, 'log'));
  assert.ok(logs.length <= 2, `compacted log files are removed: ${logs}`);
  await srv.stop();
});

test('a damaged segment stops start-up and names the file', async () => {
  const srv = await start({ writeKeys: [KEY], secret: SECRET, env, label: 'compaction-damage' });
  servers.push(srv);
  const r = await srv.post('/v1/batch', batch('d', 200), { Authorization: basic(KEY) });
  assert.equal(r.status, 200);
  await waitCompacted(srv);
  await srv.stop();
  const dir = path.join(srv.dataDir, 'segments');
  const seg = fs.readdirSync(dir).find((f) => f.endsWith('.fwseg'));
  const file = path.join(dir, seg);
  const buf = fs.readFileSync(file);
  buf[buf.length - 120] ^= 0xff; // inside the directory: the footer checksum
  fs.writeFileSync(file, buf);
  await assert.rejects(srv.restart(), (e) => {
    assert.match(e.message, new RegExp(seg.replace('.', '\\.')));
    assert.match(e.message, /checksum|damaged|bad/);
    return true;
  });
});
