// import.test.mjs — `flywheel import`: Segment-spec JSON lines (plain and .gz),
// the same dedup, identity and warning rules as HTTP, and `flywheel query`
// reading the result from the data directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { BIN, tempDataDir } from './lib/server.mjs';

function run(args, input) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000, input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function query(dataDir, ...args) {
  const r = run(['query', '--data', dataDir, ...args, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const lines = [
  { type: 'track', event: 'Signed Up', anonymousId: 'anon_1', messageId: 'i1', timestamp: '2026-01-05T10:00:00Z' },
  { type: 'identify', userId: 'user_1', anonymousId: 'anon_1', traits: { email: 'a@acme.example' }, messageId: 'i2', timestamp: '2026-01-05T10:01:00Z' },
  { type: 'group', userId: 'user_1', groupId: 'ws_1', traits: { name: 'Acme' }, messageId: 'i3', timestamp: '2026-01-05T10:02:00Z' },
  { type: 'track', event: 'Project Created', userId: 'user_1', messageId: 'i4', timestamp: '2026-01-06T09:00:00Z' },
  { type: 'page', name: 'Pricing', userId: 'user_1', messageId: 'i5', timestamp: '2026-01-06T09:05:00Z' },
  { type: 'track', event: 'Project Created', userId: 'user_1', messageId: 'i4', timestamp: '2026-01-06T09:00:00Z' }, // duplicate
];

test('import stores each message once, joins ids, and lists skipped lines', () => {
  const dir = tempDataDir('import');
  const file = path.join(dir, 'events.ndjson');
  const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n{"type":"track", broken\n\n'
    + JSON.stringify({ type: 'track', userId: 'user_1', messageId: 'i6' }) + '\n'; // no event name
  fs.writeFileSync(file, text);
  const data = path.join(dir, 'data');
  const r = run(['import', '--data', data, file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /imported 8 lines, 5 stored, 1 duplicates, 2 skipped/);
  assert.match(r.stderr, /skipped lines are listed by `flywheel query warnings`/);

  const counts = query(data, 'events');
  assert.deepEqual(counts, { total: 3, events: { 'Signed Up': 1, 'Project Created': 1, $pageview: 1 } });
  const p = query(data, 'person', 'anon_1');
  assert.deepEqual(p.distinct_ids, ['anon_1', 'user_1']);
  assert.equal(p.traits.email, 'a@acme.example');
  assert.deepEqual(p.accounts, ['ws_1']);
  assert.equal(p.event_count, 3);
  const w = query(data, 'warnings');
  const msgs = w.warnings.map((x) => `${x.reason}: ${x.message}`).join('\n');
  assert.match(msgs, /invalid_json: .*events\.ndjson line 7: invalid JSON at column 18/);
  assert.match(msgs, /missing_event: .*events\.ndjson line 9:/);
  const daily = query(data, 'daily', '--from', '2026-01-06', '--to', '2026-01-07');
  assert.deepEqual(daily.days, [{ day: '2026-01-06', count: 2 }]);

  // importing the same file again (gzipped this time) stores nothing new
  const gz = path.join(dir, 'events.ndjson.gz');
  fs.writeFileSync(gz, zlib.gzipSync(text));
  const again = run(['import', '--data', data, gz]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /imported 8 lines, 0 stored, 6 duplicates, 2 skipped/);
  assert.equal(query(data, 'events').total, 3);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('import reads standard input and explains bad usage', () => {
  const dir = tempDataDir('import-stdin');
  const r = run(['import', '--data', dir, '-'], lines.map((l) => JSON.stringify(l)).join('\n'));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(query(dir, 'events').total, 3);
  const missing = run(['import', '--data', dir, path.join(dir, 'nope.ndjson')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot open .*nope\.ndjson/);
  const usage = run(['import']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /usage: flywheel import/);
  const help = run(['import', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /one JSON\nobject per line/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('query --url asks a running server; tables on the terminal, JSON with --json', async () => {
  const { start, basic } = await import('./lib/server.mjs');
  const srv = await start({ writeKeys: ['wk_q'], secret: 'sk_q', label: 'query-url' });
  try {
    const r = await srv.post('/v1/batch', { batch: lines }, { Authorization: basic('wk_q') });
    assert.equal(r.status, 200);
    const table = run(['query', 'events', '--url', srv.url, '--key', 'sk_q']);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^EVENT\s+COUNT\n/);
    assert.match(table.stdout, /Project Created\s+1\n/);
    assert.match(table.stdout, /total\s+3\n$/);
    const json = JSON.parse(run(['query', 'person', 'user_1', '--url', srv.url, '--key', 'sk_q', '--json']).stdout);
    assert.deepEqual(json.distinct_ids, ['anon_1', 'user_1']);
    assert.equal(json.latest_events[0].event, '$pageview'); // newest received first
    const bad = run(['query', 'events', '--url', srv.url, '--key', 'wk_q']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /answered 401/);
    const bogus = run(['query', 'events', '--url', srv.url, '--key', 'sk_q', '--from', 'yesterday']);
    assert.equal(bogus.status, 1);
    assert.match(bogus.stderr, /from=\\"yesterday\\" is not a date/);
  } finally {
    await srv.dispose();
  }
});
