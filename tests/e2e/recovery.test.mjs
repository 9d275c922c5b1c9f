// recovery.test.mjs — what the log promises across restarts and disk faults:
// a torn tail is truncated and reported (stderr and GET /api/v1/warnings), a
// damaged record in the middle stops start-up naming the file and offset, and
// a full disk answers 503 with Retry-After (SDKs retry) and stores nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { start, basic, BIN, tempDataDir } from './lib/server.mjs';

const KEY = 'wk_recovery';
const servers = [];
after(async () => {
  for (const s of servers) await s.dispose().catch(() => {});
});

function batch(prefix, n) {
  return {
    batch: Array.from({ length: n }, (_, i) => ({
      type: 'track', event: 'Recovered', userId: `u${i % 3}`, messageId: `${prefix}-${i}`,
      timestamp: '2026-01-05T10:00:00.000Z', properties: { i },
    })),
  };
}

function logFile(dataDir) {
  const dir = path.join(dataDir, 'log');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.fwlog')).sort();
  return path.join(dir, files[files.length - 1]);
}

test('a torn tail is truncated, reported, and the rest is intact', async () => {
  const srv = await start({ writeKeys: [KEY], label: 'torn-tail' });
  servers.push(srv);
  const r = await srv.post('/v1/batch', batch('torn', 10), { Authorization: basic(KEY) });
  assert.equal(r.status, 200);
  await srv.stop();
  // a record header promising 100 bytes that never arrived: a torn write
  const f = logFile(srv.dataDir);
  const before = fs.statSync(f).size;
  fs.appendFileSync(f, Buffer.from([0xf1, 0x57, 1, 0, 100, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7]));
  await srv.restart();
  assert.match(srv.stderr, /truncated a torn tail at byte \d+ \(15 bytes/);
  assert.equal(fs.statSync(f).size, before);
  assert.equal((await srv.counts()).events.Recovered, 10);
  const w = await srv.apiJson('/api/v1/warnings');
  assert.ok(w.warnings.some((x) => x.reason === 'recovery' && /torn tail/.test(x.message)), JSON.stringify(w));
  // and it keeps accepting events after the truncation
  const r2 = await srv.post('/v1/batch', batch('after-torn', 5), { Authorization: basic(KEY) });
  assert.equal(r2.status, 200);
  assert.equal((await srv.counts()).events.Recovered, 15);
});

test('damage in the middle of the log stops start-up with the file and offset', async () => {
  const srv = await start({ writeKeys: [KEY], label: 'middle-damage' });
  servers.push(srv);
  for (let k = 0; k < 3; k++) {
    const r = await srv.post('/v1/batch', batch(`mid${k}`, 5), { Authorization: basic(KEY) });
    assert.equal(r.status, 200);
  }
  await srv.stop();
  const f = logFile(srv.dataDir);
  const fd = fs.openSync(f, 'r+');
  fs.writeSync(fd, Buffer.from('X'), 0, 1, 64 + 12 + 40); // inside the first record
  fs.closeSync(fd);
  const run = spawnSync(BIN, ['serve', '--data', srv.dataDir, '--listen', '127.0.0.1:0'], {
    env: { ...process.env, FLYWHEEL_WRITE_KEY: KEY, FLYWHEEL_SECRET_KEY: 'sk_x' },
    encoding: 'utf8', timeout: 20000,
  });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /event log damaged in .*00000001\.fwlog at byte 64 \(checksum mismatch\)/);
  assert.match(run.stderr, /will not skip events/);
});

test('a full disk answers 503 with Retry-After and stores nothing', async () => {
  // --min-free-mb larger than any disk: the server must refuse to write
  const srv = await start({ writeKeys: [KEY], label: 'disk-full', args: ['--min-free-mb', '100000000'] });
  servers.push(srv);
  const r = await srv.post('/v1/batch', batch('full', 3), { Authorization: basic(KEY) });
  assert.equal(r.status, 503);
  assert.equal(r.json.reason, 'disk_full');
  assert.ok(Number(r.headers['retry-after']) > 0);
  assert.match(r.json.error, /disk almost full/);
  const c = await srv.counts();
  assert.equal(c.total, 0);
  // PostHog and Amplitude get the same 5xx (they retry 5xx too)
  const p = await srv.post('/batch/', { api_key: KEY, batch: [{ event: 'x', distinct_id: 'd', uuid: 'u1' }] });
  assert.equal(p.status, 503);
});

test('the data directory is locked against a second server', async () => {
  const dataDir = tempDataDir('lock');
  const srv = await start({ writeKeys: [KEY], label: 'lock', dataDir });
  servers.push(srv);
  const run = spawnSync(BIN, ['serve', '--data', dataDir, '--listen', '127.0.0.1:0'], {
    env: { ...process.env, FLYWHEEL_WRITE_KEY: KEY }, encoding: 'utf8', timeout: 20000,
  });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /in use by another flywheel process/);
  await srv.stop();
  fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 2 });
});
