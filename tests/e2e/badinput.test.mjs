// badinput.test.mjs — every kind of bad input gets the documented status,
// reason and message (docs/api.md "Errors"), and leaves the stored data
// intact: each case posts a good batch first, then the bad request, then
// checks the counts are unchanged and that a later good request still works.
// Also: the wire quirks real SDKs rely on (chunked bodies, keep-alive, gzip
// labelled as a form, Mixpanel's literal '+' base64) and slow-client timeouts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { start, basic, bearer, sleep, uniq, withoutBarriers } from './lib/server.mjs';

const KEY = 'wk_bad_1';
const KEY2 = 'wk_bad_2';
const SECRET = 'sk_bad_secret';
const PH = '/batch/';

let srv;
let seqNo = 0;

const auth = (k = KEY) => ({ Authorization: basic(k) });
function trackEvt(name, i, extra = {}) {
  return {
    type: 'track',
    event: name,
    userId: 'u_bad',
    messageId: `${name}#${i}`,
    timestamp: '2024-05-01T12:00:00.000Z',
    properties: { i },
    ...extra,
  };
}
const batchOf = (name, n, extra) => ({ batch: Array.from({ length: n }, (_, i) => trackEvt(name, i, extra)) });

/** POST a good Segment batch of n events named `name`; insist on 200. */
async function goodBatch(name, n = 3) {
  const r = await srv.post('/v1/batch', batchOf(name, n), auth());
  assert.equal(r.status, 200, `good batch "${name}" -> ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}

/** Wait (bounded) until `name` has exactly n events; returns counts. */
async function visible(name, n) {
  const c = await srv.waitCounts((j) => (j.events || {})[name] >= n, 5000);
  assert.equal((c.events || {})[name] || 0, n, `"${name}" should have ${n} stored events`);
  return c;
}

/**
 * good batch -> snapshot -> bad() -> good batch -> the counts, apart from the
 * new good batch, are exactly the snapshot (nothing of the bad request stored).
 */
async function intact(label, bad) {
  const pre = uniq(`pre ${label}`);
  await goodBatch(pre, 3);
  const snap = withoutBarriers((await visible(pre, 3)).events);
  const out = await bad();
  const post = uniq(`post ${label}`);
  await goodBatch(post, 2);
  const now = withoutBarriers((await visible(post, 2)).events);
  delete now[post];
  assert.deepEqual(now, snap, `${label}: stored counts changed by the bad request`);
  return out;
}

/** Assert an error reply: status, JSON body {code, error, reason}. */
function assertError(r, status, reason, what) {
  const ctx = `${what}: got ${r.status} ${r.text.slice(0, 400)}`;
  assert.equal(r.status, status, ctx);
  assert.ok(r.json && typeof r.json === 'object', `${ctx} (body must be JSON)`);
  assert.match(String(r.headers['content-type'] || ''), /application\/json/, `${ctx} (content-type)`);
  assert.equal(r.json.code, status, `${ctx} (body "code")`);
  assert.equal(r.json.reason, reason, `${ctx} (body "reason")`);
  assert.equal(typeof r.json.error, 'string', `${ctx} (body "error")`);
  assert.ok(r.json.error.length > 0, `${ctx} (empty "error")`);
}

before(async () => {
  srv = await start({ writeKeys: [KEY, KEY2], secret: SECRET, label: 'badinput' });
});
after(async () => {
  await srv?.dispose();
});

describe('success replies and basics', { timeout: 60000 }, () => {
  it('GET /healthz needs no key', async () => {
    const r = await srv.get('/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.json?.status, 'ok', r.text); // extra fields (stats) are allowed
  });

  it('each ingest family answers its documented success body', async () => {
    const name = uniq('success bodies');
    const s = await srv.post('/v1/batch', batchOf(name, 2), auth());
    assert.equal(s.status, 200, s.text);
    assert.deepEqual(s.json, { code: 200, success: true, status: 1 });

    const p = await srv.post(PH, { api_key: KEY, batch: [{ event: name, distinct_id: 'u_bad', uuid: '0190a0b0-0000-7000-8000-000000000001', timestamp: '2024-05-01T12:00:00.000Z', properties: {} }] });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(p.json, { code: 200, status: 1 });

    const ampBody = JSON.stringify({ api_key: KEY, events: [
      { event_type: name, user_id: 'u_bad', time: 1714564800000, insert_id: `${name}-a1` },
      { event_type: name, user_id: 'u_bad', time: 1714564800001, insert_id: `${name}-a2` },
    ] });
    const a = await srv.post('/2/httpapi', ampBody, { 'Content-Type': 'application/json' });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.code, 200);
    assert.equal(a.json.events_ingested, 2);
    assert.equal(a.json.payload_size_bytes, Buffer.byteLength(ampBody));
    assert.equal(typeof a.json.server_upload_time, 'number');

    await visible(name, 5);
  });

  it('the secret key is accepted wherever a write key is', async () => {
    const name = uniq('secret ingest');
    const r = await srv.post('/v1/batch', batchOf(name, 1), auth(SECRET));
    assert.equal(r.status, 200, r.text);
    await visible(name, 1);
  });
});

describe('malformed requests', { timeout: 60000 }, () => {
  it('malformed JSON -> 400 invalid_json with the byte offset, line and column', async () => {
    const body = '{"batch":[{"type":"track","event":"Bad""userId":"u"}]}';
    const off = body.indexOf('""userId') + 1; // the '"' where ',' or '}' was expected
    const r = await intact('invalid json', () => srv.post('/v1/batch', body, { ...auth(), 'Content-Type': 'application/json' }));
    assertError(r, 400, 'invalid_json', 'POST /v1/batch with a missing comma');
    assert.equal(r.json.offset, off, `offset (body: ${r.text})`);
    assert.equal(r.json.line, 1);
    assert.equal(r.json.column, off + 1);
    assert.match(r.json.error, new RegExp(`^invalid JSON at line 1, column ${off + 1} \\(byte ${off}\\)`));
  });

  it('malformed JSON on line 4 -> line/column point at the bad byte', async () => {
    const body = '{\n  "batch": [\n    {"type": "track", "event": "x", "userId": "u"},\n    @\n  ]\n}';
    const off = body.indexOf('@');
    const r = await intact('invalid json multiline', () => srv.post('/v1/batch', body, { ...auth(), 'Content-Type': 'application/json' }));
    assertError(r, 400, 'invalid_json', 'POST /v1/batch with a stray @ on line 4');
    assert.deepEqual({ offset: r.json.offset, line: r.json.line, column: r.json.column }, { offset: off, line: 4, column: 5 });
  });

  it('malformed JSON on the PostHog and Amplitude routes -> 400 invalid_json', async () => {
    const ph = `{"api_key":"${KEY}","batch":[{"event":"x",,}]}`;
    const r1 = await intact('invalid json posthog', () => srv.post(PH, ph, { 'Content-Type': 'application/json' }));
    assertError(r1, 400, 'invalid_json', 'POST /batch/');
    assert.equal(r1.json.offset, ph.indexOf(',,') + 1);
    const amp = `{"api_key":"${KEY}","events":[{"event_type":"x"]}`;
    const r2 = await intact('invalid json amplitude', () => srv.post('/2/httpapi', amp, { 'Content-Type': 'application/json' }));
    assertError(r2, 400, 'invalid_json', 'POST /2/httpapi');
    assert.equal(r2.json.offset, amp.indexOf(']}'));
  });

  it('a gzip body that is not valid gzip -> 400, nothing stored', async () => {
    const good = zlib.gzipSync(Buffer.from(JSON.stringify(batchOf(uniq('truncated gzip'), 5))));
    const cut = good.subarray(0, Math.floor(good.length / 2));
    const r = await intact('truncated gzip', () => srv.post('/v1/batch', cut, { ...auth(), 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }));
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json?.code, 400, r.text);
  });

  it('Mixpanel data= that is not base64 -> 400 invalid_base64', async () => {
    const r = await intact('invalid base64', () => srv.post('/track?ip=0&verbose=0', 'data=%%%not*base64!!', { 'Content-Type': 'application/x-www-form-urlencoded' }));
    assertError(r, 400, 'invalid_base64', 'POST /track data=garbage');
  });
});

describe('keys', { timeout: 60000 }, () => {
  it('no key -> 401 missing_key, "Invalid API key..."', async () => {
    const r = await intact('missing key', () => srv.post('/v1/batch', batchOf(uniq('nokey'), 2), {}));
    assertError(r, 401, 'missing_key', 'POST /v1/batch without a key');
    assert.match(r.json.error, /^Invalid API key/);
    const p = await intact('missing key posthog', () => srv.post(PH, { batch: [{ event: 'x', distinct_id: 'u', properties: {} }] }));
    assertError(p, 401, 'missing_key', 'POST /batch/ without api_key');
    assert.match(p.json.error, /^Invalid API key/);
  });

  it('unknown key -> 401 unknown_key on every ingest family', async () => {
    const n = uniq('badkey');
    const cases = [
      ['segment Basic', () => srv.post('/v1/batch', batchOf(n, 2), auth('wk_not_a_key'))],
      ['segment body writeKey', () => srv.post('/v1/batch', { ...batchOf(n, 2), writeKey: 'wk_not_a_key' })],
      ['posthog api_key', () => srv.post(PH, { api_key: 'phc_not_a_key', batch: [{ event: n, distinct_id: 'u', properties: {} }] })],
      ['amplitude api_key', () => srv.post('/2/httpapi', { api_key: 'amp_not_a_key', events: [{ event_type: n, user_id: 'u' }] })],
      ['mixpanel token', () => srv.get(`/track?ip=0&verbose=0&data=${encodeURIComponent(Buffer.from(JSON.stringify({ event: n, properties: { distinct_id: 'u', token: 'mp_not_a_key' } })).toString('base64'))}`)],
    ];
    for (const [what, fn] of cases) {
      const r = await intact(`unknown key ${what}`, fn);
      assertError(r, 401, 'unknown_key', what);
      assert.match(r.json.error, /^Invalid API key/, what);
    }
  });

  it('read API: write key -> 401 unknown_key, no key -> 401 missing_key', async () => {
    for (const p of ['/api/v1/events/count', '/api/v1/warnings', '/api/v1/people/u_bad', '/api/v1/events/latest']) {
      const w = await srv.get(p, { Authorization: bearer(KEY) });
      assertError(w, 401, 'unknown_key', `GET ${p} with a write key`);
      assert.match(w.json.error, /^Invalid API key/);
      const n = await srv.get(p);
      assertError(n, 401, 'missing_key', `GET ${p} without a key`);
      const ok = await srv.api(p);
      assert.equal(ok.status, 200, `GET ${p} with the secret key -> ${ok.status} ${ok.text.slice(0, 200)}`);
    }
  });
});

describe('size limits', { timeout: 60000 }, () => {
  it('Segment POST /v1/track with one 33 KB event -> 413 too_large', async () => {
    const name = uniq('big event');
    const ev = trackEvt(name, 0, { properties: { pad: 'x'.repeat(33 * 1024) } });
    const r = await intact('segment event > 32KB', () => srv.post('/v1/track', ev, auth()));
    assertError(r, 413, 'too_large', 'POST /v1/track 33 KB');
  });

  it('Segment POST /v1/track with a 30 KB event is accepted', async () => {
    const name = uniq('30k event');
    const r = await srv.post('/v1/track', trackEvt(name, 0, { properties: { pad: 'y'.repeat(30 * 1000) } }), auth());
    assert.equal(r.status, 200, r.text);
    await visible(name, 1);
  });

  it('Segment /v1/batch over 500 KB -> 413 too_large, none of it stored', async () => {
    const name = uniq('big batch');
    const body = batchOf(name, 600, { properties: { pad: 'z'.repeat(1000) } });
    assert.ok(JSON.stringify(body).length > 600 * 1000);
    const r = await intact('segment request > 500KB', () => srv.post('/v1/batch', body, auth()));
    assertError(r, 413, 'too_large', 'POST /v1/batch 640 KB');
  });

  it('Segment /v1/batch of 350 KB is accepted in full', async () => {
    const name = uniq('350k batch');
    const body = batchOf(name, 350, { properties: { pad: 'w'.repeat(900) } });
    const r = await srv.post('/v1/batch', body, auth());
    assert.equal(r.status, 200, r.text);
    await visible(name, 350);
  });

  it('PostHog gzip bomb (30 MB of spaces, ~30 KB gzipped) -> 413 too_large', async () => {
    const name = uniq('gzip bomb');
    const head = Buffer.from(`{"api_key":"${KEY}","batch":[{"event":"${name}","distinct_id":"u_bad","properties":{"pad":"`);
    const tail = Buffer.from('"}}]}');
    const pad = Buffer.alloc(30 * 1024 * 1024, 0x20);
    const gz = zlib.gzipSync(Buffer.concat([head, pad, tail]), { level: 9 });
    assert.ok(gz.length < 100 * 1024, `bomb is ${gz.length} bytes`);
    const r = await intact('gzip bomb', () => srv.post(PH, gz, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, { timeoutMs: 20000 }));
    assertError(r, 413, 'too_large', 'POST /batch/ gzip bomb');
    // the same bomb without a Content-Encoding label (gzip sniffed by magic bytes)
    const r2 = await intact('gzip bomb unlabelled', () => srv.post(PH, gz, { 'Content-Type': 'application/json' }, { timeoutMs: 20000 }));
    assertError(r2, 413, 'too_large', 'POST /batch/ unlabelled gzip bomb');
  });

  it('unknown Content-Encoding (br, zstd) -> 415 unsupported_encoding', async () => {
    const plain = Buffer.from(JSON.stringify(batchOf(uniq('brotli'), 3)));
    const br = zlib.brotliCompressSync(plain);
    const r = await intact('content-encoding br', () => srv.post('/v1/batch', br, { ...auth(), 'Content-Type': 'application/json', 'Content-Encoding': 'br' }));
    assertError(r, 415, 'unsupported_encoding', 'POST /v1/batch Content-Encoding: br');
    // an encoding label the server cannot know, on a body that is plain JSON
    const r2 = await intact('content-encoding zstd', () => srv.post('/v1/batch', plain, { ...auth(), 'Content-Type': 'application/json', 'Content-Encoding': 'zstd' }));
    assertError(r2, 415, 'unsupported_encoding', 'POST /v1/batch Content-Encoding: zstd');
  });
});

describe('partly invalid batches', { timeout: 60000 }, () => {
  it('invalid events inside a good batch are skipped, the rest stored, and a warning recorded', async () => {
    const name = uniq('mixed batch');
    const markNoName = `${name}-noname`;
    const markNoId = `${name}-noid`;
    const w0 = await srv.apiJson('/api/v1/warnings?limit=1000');
    assert.ok(Array.isArray(w0.warnings), JSON.stringify(w0).slice(0, 300));
    const batch = [
      { type: 'track', messageId: markNoName, userId: 'u_bad', properties: {} }, // no event name
      trackEvt(name, 1),
      trackEvt(name, 2),
      { type: 'track', messageId: markNoId, event: name, properties: {} }, // no userId/anonymousId
      trackEvt(name, 3),
    ];
    const r = await srv.post('/v1/batch', { batch }, auth());
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { code: 200, success: true, status: 1 });
    await visible(name, 3);
    const w1 = await srv.apiJson('/api/v1/warnings?limit=1000');
    assert.equal(w1.warnings.length, w0.warnings.length + 2, `two new warnings: ${JSON.stringify(w1.warnings.slice(0, 3)).slice(0, 1500)}`);
    const fresh = w1.warnings.slice(0, 2);
    for (const w of fresh) {
      for (const k of ['time', 'source', 'reason', 'message', 'sample']) assert.ok(k in w, `warning has "${k}": ${JSON.stringify(w)}`);
      assert.equal(typeof w.reason, 'string');
      assert.ok(w.reason.length > 0);
    }
    const all = JSON.stringify(fresh);
    assert.ok(all.includes(markNoName), `a warning should show the event without a name (${markNoName}): ${all.slice(0, 1500)}`);
    assert.ok(all.includes(markNoId), `a warning should show the event without an id (${markNoId}): ${all.slice(0, 1500)}`);
    assert.match(all, /segment/i, 'warning source');
  });
});

describe('framing and encodings real SDKs use', { timeout: 60000 }, () => {
  it('chunked Transfer-Encoding body is accepted', async () => {
    const name = uniq('chunked');
    const r = await srv.post('/v1/batch', batchOf(name, 5), auth(), { chunked: true, chunks: 4, chunkDelayMs: 30 });
    assert.equal(r.status, 200, r.text);
    await visible(name, 5);
    const name2 = uniq('chunked gzip');
    const r2 = await srv.post('/v1/batch', batchOf(name2, 4), auth(), { chunked: true, chunks: 3, gzip: true });
    assert.equal(r2.status, 200, r2.text);
    await visible(name2, 4);
  });

  it('keep-alive: 60 requests over one connection', async () => {
    const name = uniq('keepalive');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set();
    try {
      for (let i = 0; i < 60; i++) {
        const r = await srv.post('/v1/track', trackEvt(name, i), auth(), { agent, onSocket: (s) => sockets.add(s) });
        assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.text}`);
        assert.notEqual(String(r.headers.connection || '').toLowerCase(), 'close', `request ${i} answered Connection: close`);
      }
      // the read API over the same connection too
      const c = await srv.api('/api/v1/events/count', { agent, onSocket: (s) => sockets.add(s) });
      assert.equal(c.status, 200);
    } finally {
      agent.destroy();
    }
    assert.equal(sockets.size, 1, `all requests should share one TCP connection (used ${sockets.size})`);
    await visible(name, 60);
  });

  it('gzip body labelled application/x-www-form-urlencoded (RudderStack) is accepted', async () => {
    const name = uniq('rudder form gzip');
    const r = await srv.post('/v1/batch', batchOf(name, 4), { ...auth(), 'Content-Type': 'application/x-www-form-urlencoded' }, { gzip: true });
    assert.equal(r.status, 200, r.text);
    await visible(name, 4);
    // and with no Content-Encoding at all: recognised by the gzip magic bytes
    const name2 = uniq('rudder form gzip unlabelled');
    const gz = zlib.gzipSync(Buffer.from(JSON.stringify(batchOf(name2, 3))));
    const r2 = await srv.post('/v1/batch', gz, { ...auth(), 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(r2.status, 200, r2.text);
    await visible(name2, 3);
  });

  it('Mixpanel POST /track data=<base64 with a literal +> is decoded exactly', async () => {
    const name = uniq('mixpanel plus');
    const expr = 'duration >>>>>> 1000 ?????? ~~~~~~';
    const events = [0, 1, 2].map((i) => ({
      event: name,
      properties: { distinct_id: 'u_bad', time: 1714564800000 + i, expr, $insert_id: `${name}-${i}`, token: KEY },
    }));
    const b64 = Buffer.from(JSON.stringify(events)).toString('base64');
    assert.ok(b64.includes('+') && b64.includes('/'), 'the payload base64 must contain + and /');
    const r = await srv.post('/track?ip=0&verbose=0', `data=${b64}`, { 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(r.text, '1', `mixpanel needs body exactly "1" (got ${r.status} ${r.text.slice(0, 300)})`);
    await visible(name, 3);
    const latest = await srv.apiJson('/api/v1/events/latest?limit=50');
    const mine = latest.events.filter((e) => e.event === name);
    assert.equal(mine.length, 3);
    for (const e of mine) assert.equal(e.properties?.expr, expr, `property survived base64 with '+': ${JSON.stringify(e).slice(0, 500)}`);

    // GET with URL-encoded base64 (%2B, %2F, %3D), and verbose=1
    const name2 = uniq('mixpanel get');
    const one = { event: name2, properties: { distinct_id: 'u_bad', time: 1714564800000, expr, $insert_id: `${name2}-0`, token: KEY } };
    const g = await srv.get(`/track?ip=0&verbose=1&data=${encodeURIComponent(Buffer.from(JSON.stringify(one)).toString('base64'))}`);
    assert.deepEqual(g.json, { status: 1, error: null }, `verbose=1 body: ${g.status} ${g.text}`);
    await visible(name2, 1);
  });
});

describe('routes', { timeout: 60000 }, () => {
  it('unknown route -> 404 not_found (JSON)', async () => {
    for (const [m, p] of [['GET', '/nope'], ['POST', '/v2/batch'], ['GET', '/api/v1/nothing']]) {
      const r = await srv.request(m, p, m === 'POST' ? '{}' : null, { Authorization: bearer(SECRET), 'Content-Type': 'application/json' });
      assertError(r, 404, 'not_found', `${m} ${p}`);
    }
  });

  it('unknown person / account -> 404 not_found', async () => {
    assertError(await srv.api('/api/v1/people/nobody_here'), 404, 'not_found', 'GET /api/v1/people/nobody_here');
    assertError(await srv.api('/api/v1/accounts/no_such_ws'), 404, 'not_found', 'GET /api/v1/accounts/no_such_ws');
  });

  it('wrong method -> 405 method_not_allowed', async () => {
    const r = await srv.get('/v1/batch', auth());
    assertError(r, 405, 'method_not_allowed', 'GET /v1/batch');
  });

  it('the server survived everything above', async () => {
    const name = uniq('final good');
    await goodBatch(name, 2);
    await visible(name, 2);
    srv.checkHealthy();
  });
});

describe('slow clients (--timeout 2)', { timeout: 60000 }, () => {
  let slow;
  before(async () => {
    slow = await start({ writeKeys: [KEY], secret: SECRET, label: 'badinput-timeout', args: ['--timeout', '2'] });
  });
  after(async () => {
    await slow?.dispose();
  });

  /** Connect, write `data`, stall; resolve ms until the server closes the socket (or 8000 if it never does). */
  function stallAndTime(data) {
    return new Promise((resolve) => {
      const u = new URL(slow.url);
      const s = net.connect({ host: u.hostname, port: Number(u.port) });
      let t0 = 0;
      let received = '';
      const guard = setTimeout(() => {
        s.destroy();
        resolve({ ms: 8000, received });
      }, 8000);
      s.on('connect', () => {
        s.write(data);
        t0 = Date.now();
      });
      s.on('data', (d) => { received += d.toString(); });
      s.on('error', () => {}); // a reset counts as closed too
      s.on('close', () => {
        clearTimeout(guard);
        resolve({ ms: Date.now() - t0, received });
      });
    });
  }

  it('headers sent partly, then a stall -> disconnected within ~5 s', async () => {
    const { ms, received } = await stallAndTime(`POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n`);
    assert.ok(ms < 5000, `socket still open after ${ms} ms (received: ${JSON.stringify(received.slice(0, 200))})`);
    assert.ok(ms >= 1000, `closed after only ${ms} ms, before the 2 s timeout`);
  });

  it('headers complete, body stalls -> disconnected within ~5 s', async () => {
    const { ms, received } = await stallAndTime(
      `POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${basic(KEY)}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"batch":[`
    );
    assert.ok(ms < 5000, `socket still open after ${ms} ms (received: ${JSON.stringify(received.slice(0, 200))})`);
    assert.ok(ms >= 1000, `closed after only ${ms} ms, before the 2 s timeout`);
  });

  it('still serves normal requests after the stalled ones', async () => {
    const name = uniq('after stall');
    const r = await slow.post('/v1/batch', batchOf(name, 2), auth());
    assert.equal(r.status, 200, r.text);
    const c = await slow.waitCounts((j) => (j.events || {})[name] === 2, 5000);
    assert.equal(c.events[name], 2);
    slow.checkHealthy();
  });
});
