// crash.test.mjs — 4 concurrent clients POST Segment /v1/batch requests while
// the server is kill -9'd at random moments and restarted on the same data
// dir (FW_CRASH_ROUNDS rounds, default 3). Every batch that got a 2xx must
// survive; after each restart no client may have fewer events than it got
// acknowledged (nor more than it sent). At the end every unacknowledged batch
// is re-sent, as a real SDK would retry, and each client must have exactly its
// distinct messages: acknowledged ones present, nothing twice.
//
//   FW_CRASH_ROUNDS=40 node --test crash.test.mjs      (make crash-long)
//   FW_CRASH_SEED=N    reproduce the kill schedule and batch sizes of a run
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { start, basic, sleep } from './lib/server.mjs';

const ROUNDS = Math.max(1, Number(process.env.FW_CRASH_ROUNDS || 3));
const SEED = Number(process.env.FW_CRASH_SEED || 20240301);
const N_CLIENTS = 4;
const KEY = 'wk_crash';

// mulberry32: a tiny seeded PRNG so batch sizes and kill delays are reproducible
function mulberry32(a) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rng = mulberry32(SEED);
/** 50..100 events, a pure function of (client, batch). */
const batchSize = (n, b) => 50 + (Math.floor(mulberry32(SEED ^ (n * 100003 + b * 7919))() * 1e6) % 51);
const eventName = (n) => `crash-client-${n}`;

function batchBody(n, b) {
  const size = batchSize(n, b);
  const batch = [];
  for (let e = 0; e < size; e++) {
    batch.push({
      type: 'track',
      event: eventName(n),
      userId: `crash_user_${n}`,
      messageId: `c${n}-b${b}-e${e}`,
      timestamp: new Date(Date.UTC(2024, 2, 1, 12, 0, 0) + b * 1000 + e).toISOString(),
      properties: { client: n, batch: b, e },
    });
  }
  return JSON.stringify({ batch, writeKey: KEY, sentAt: new Date().toISOString() });
}

/** POST one batch; resolves {status} or {error}. Never rejects; bounded by 10 s. */
function postBatch(url, body, agent) {
  const u = new URL('/v1/batch', url);
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: u.hostname, port: u.port, method: 'POST', path: u.pathname, agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Authorization: basic(KEY), 'User-Agent': 'analytics-node-next/latest' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
        res.on('error', (e) => resolve({ error: e.message }));
      }
    );
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.message }));
    req.end(body);
  });
}

class Client {
  constructor(n) {
    this.n = n;
    this.next = 0;
    this.batches = new Map(); // b -> {size, acked}
  }
  get sentEvents() {
    let s = 0;
    for (const v of this.batches.values()) s += v.size;
    return s;
  }
  get ackedEvents() {
    let s = 0;
    for (const v of this.batches.values()) if (v.acked) s += v.size;
    return s;
  }
  get unacked() {
    return [...this.batches.entries()].filter(([, v]) => !v.acked).map(([b]) => b);
  }
  /** Send new batches back to back until `stop()` or a network error (server gone). */
  async load(url, stop) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 100000 && !stop(); i++) {
        const b = this.next++;
        const rec = { size: batchSize(this.n, b), acked: false };
        this.batches.set(b, rec);
        const r = await postBatch(url, batchBody(this.n, b), agent);
        if (r.status >= 200 && r.status < 300) rec.acked = true;
        else if (r.error) break; // killed: stop until the next round
        else await sleep(50); // 429/503: back off a little, retry at the end
      }
    } finally {
      agent.destroy();
    }
  }
}

describe(`kill -9 under load (${ROUNDS} rounds, seed ${SEED})`, { timeout: 60000 + ROUNDS * 20000 }, () => {
  let srv;
  const clients = Array.from({ length: N_CLIENTS }, (_, i) => new Client(i + 1));
  before(async () => {
    srv = await start({ writeKeys: [KEY], secret: 'sk_crash', label: 'crash' });
  });
  after(async () => {
    await srv?.dispose();
  });

  /** Poll the counts (bounded) until every client has >= `atLeast(c)`; fail fast on > `atMost(c)`. */
  async function checkBounds(when, atLeast, atMost, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    let j;
    for (let i = 0; i < 400; i++) {
      j = await srv.counts();
      const ev = j.events || {};
      for (const c of clients) {
        const got = ev[eventName(c.n)] || 0;
        assert.ok(got <= atMost(c), `${when}: client ${c.n} has ${got} events stored but only ${atMost(c)} distinct were sent (duplicates)`);
      }
      if (clients.every((c) => (ev[eventName(c.n)] || 0) >= atLeast(c))) return j;
      if (Date.now() > deadline) break;
      await sleep(100);
    }
    const ev = j.events || {};
    const lines = clients.map((c) => `client ${c.n}: stored ${ev[eventName(c.n)] || 0}, acknowledged ${c.ackedEvents}, sent ${c.sentEvents}`);
    assert.fail(`${when}: acknowledged events missing after ${timeoutMs} ms\n${lines.join('\n')}`);
  }

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: load, kill -9, restart; every acknowledged batch survived`, async (t) => {
      let stopped = false;
      const url = srv.url;
      const loads = clients.map((c) => c.load(url, () => stopped));
      const delay = 1000 + Math.floor(rng() * 1000);
      await sleep(delay);
      await srv.kill9();
      stopped = true;
      await Promise.all(loads);
      const acked = clients.reduce((a, c) => a + c.ackedEvents, 0);
      const sent = clients.reduce((a, c) => a + c.sentEvents, 0);
      t.diagnostic(`killed after ${delay} ms; so far ${acked} of ${sent} events acknowledged`);
      await srv.restart();
      await checkBounds(`after restart ${round}`, (c) => c.ackedEvents, (c) => c.sentEvents);
    });
  }

  it('some batches were acknowledged under load (the test exercised something)', () => {
    const acked = clients.reduce((a, c) => a + c.ackedEvents, 0);
    assert.ok(acked > 0, 'no batch was ever acknowledged');
  });

  it('after re-sending every unacknowledged batch, each client has exactly its distinct events', async (t) => {
    let resent = 0;
    await Promise.all(
      clients.map(async (c) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          for (const b of c.unacked) {
            let last;
            for (let attempt = 0; attempt < 8; attempt++) {
              last = await postBatch(srv.url, batchBody(c.n, b), agent);
              if (last.status >= 200 && last.status < 300) break;
              await sleep(200 * (attempt + 1));
            }
            assert.ok(last.status >= 200 && last.status < 300, `client ${c.n} batch ${b}: re-send failed: ${JSON.stringify(last)}`);
            c.batches.get(b).acked = true;
            resent++;
          }
        } finally {
          agent.destroy();
        }
      })
    );
    t.diagnostic(`re-sent ${resent} batches`);
    const j = await checkBounds('after re-sending', (c) => c.sentEvents, (c) => c.sentEvents);
    for (const c of clients) assert.equal(j.events[eventName(c.n)], c.sentEvents, `client ${c.n}`);
  });

  it('a final restart keeps exactly the same counts', async () => {
    await srv.restart();
    const j = await checkBounds('after the final restart', (c) => c.sentEvents, (c) => c.sentEvents);
    for (const c of clients) assert.equal(j.events[eventName(c.n)], c.sentEvents, `client ${c.n}`);
    srv.checkHealthy();
  });
});
