// usage-export.test.mjs — the usage export for invoicing, end to end:
// metered events sent with the real Segment Node SDK (the account in
// context.groupId, as Segment sends it), then GET /api/v1/usage/export as
// JSON and CSV and `flywheel usage export` (--url, then --data once the
// server is stopped) must give the totals that were sent, the plan at each
// period's end with its limit and overage, the same numbers in both formats
// and the same bytes on every run; bad input gets precise 400s, no key 401.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Analytics } from '@segment/analytics-node';
import { start, tempDataDir, basic, BIN } from './lib/server.mjs';

const WRITE = 'wk_usage_export';
const SECRET = 'sk_usage_export';
const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const CONFIG = [
  'default_plan: free',
  'plans:',
  '  free: {limits: {seats: 2, api_calls: {limit: 10, hard: false}, spend: {limit: 20, hard: false}}}',
  '  team: {price: 49, limits: {seats: 10, api_calls: 100}}',
  'meters:',
  '  api_calls: {events: [API Call]}',
  '  storage_gb: {events: [Storage Measured], aggregate: max, property: gb}',
  '  editors: {events: [Doc Edited], aggregate: unique, property: editor, period: anniversary}',
  '  spend: {events: [Charge], aggregate: sum, property: amount}',
  '',
].join('\n');

const at = (iso) => new Date(iso);

/** What is sent: [account, user, event, properties, ISO time]. All in 2025, so every period is closed. */
function plan() {
  const msgs = [];
  const track = (account, userId, event, properties, time) => msgs.push({ account, userId, event, properties, time });
  // acme: 12 calls in January (free: 10, so 2 over), 30 in February (team from Feb 20), 5 in March
  for (let i = 0; i < 12; i++) track('acme', i % 2 ? 'ada' : 'alan', 'API Call', {}, `2025-01-${String(16 + i).padStart(2, '0')}T10:00:00.000Z`);
  for (let i = 0; i < 30; i++) track('acme', 'ada', 'API Call', { path: '/v1/x' }, `2025-02-${String(1 + (i % 27)).padStart(2, '0')}T1${i % 10}:00:00.000Z`);
  for (let i = 0; i < 5; i++) track('acme', 'grace', 'API Call', {}, `2025-03-0${1 + i}T08:00:00.000Z`);
  // globex: 7 calls in February, 3 in March
  for (let i = 0; i < 7; i++) track('globex', 'bob', 'API Call', {}, `2025-02-${String(10 + i).padStart(2, '0')}T12:00:00.000Z`);
  for (let i = 0; i < 3; i++) track('globex', 'bob', 'API Call', {}, `2025-03-${String(10 + i).padStart(2, '0')}T12:00:00.000Z`);
  // "initech, llc" (a comma for CSV): 4 calls in February
  for (let i = 0; i < 4; i++) track('initech, llc', 'peter', 'API Call', {}, `2025-02-${String(20 + i).padStart(2, '0')}T09:30:00.000Z`);
  // spend: cents summed exactly; a string number counts, a word does not
  track('acme', 'ada', 'Charge', { amount: 19.99 }, '2025-01-20T00:00:00.000Z');
  track('acme', 'ada', 'Charge', { amount: 0.01 }, '2025-01-21T00:00:00.000Z');
  track('acme', 'ada', 'Charge', { amount: '5.5' }, '2025-01-22T00:00:00.000Z');
  track('acme', 'ada', 'Charge', { amount: 'abc' }, '2025-01-23T00:00:00.000Z');
  track('acme', 'ada', 'Charge', { amount: 0.1 }, '2025-02-03T00:00:00.000Z');
  track('acme', 'ada', 'Charge', { amount: 0.2 }, '2025-02-04T00:00:00.000Z');
  track('globex', 'bob', 'Charge', { amount: 12.3 }, '2025-03-15T00:00:00.000Z');
  // storage: the most in a month
  track('acme', 'ada', 'Storage Measured', { gb: 3 }, '2025-01-25T00:00:00.000Z');
  track('acme', 'ada', 'Storage Measured', { gb: 7.5 }, '2025-01-26T00:00:00.000Z');
  track('acme', 'ada', 'Storage Measured', { gb: '2' }, '2025-01-27T00:00:00.000Z');
  // editors: distinct values per anniversary period (acme from Jan 15, globex from Jan 31)
  for (const [e, d] of [['e1', '2025-01-16'], ['e2', '2025-01-17'], ['e1', '2025-02-14'], [1, '2025-02-14'], ['e1', '2025-02-15']]) {
    track('acme', 'ada', 'Doc Edited', { editor: e }, `${d}T12:00:00.000Z`);
  }
  track('globex', 'bob', 'Doc Edited', { editor: 'b1' }, '2025-02-27T12:00:00.000Z');
  track('globex', 'bob', 'Doc Edited', { editor: 'b2' }, '2025-02-28T12:00:00.000Z');
  // named no account: metered nowhere
  track(null, 'ada', 'API Call', {}, '2025-01-20T00:00:00.000Z');
  track(null, 'ada', 'Charge', { amount: 99 }, '2025-01-20T00:00:00.000Z');
  return msgs;
}

function exportUrl(q) {
  return `/api/v1/usage/export?${new URLSearchParams(q)}`;
}

function cli(args) {
  return spawnSync(BIN, ['usage', 'export', ...args], { encoding: 'utf8', timeout: 30000 });
}

/** RFC 4180: rows of fields. */
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', i = 0, quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 2; continue; }
    field += c; i++;
  }
  assert.equal(field, '', 'the CSV ends with a line break');
  return rows;
}

test('usage export: what the Segment SDK sent, per account, meter and period, as JSON, CSV and from the CLI', async () => {
  const dataDir = tempDataDir('usage-export');
  fs.writeFileSync(path.join(dataDir, 'flywheel.yaml'), CONFIG);
  const srv = await start({ dataDir, writeKeys: [WRITE], secret: SECRET, label: 'usage-export' });
  cleanups.push(() => srv.dispose());
  cleanups.push(() => fs.promises.rm(dataDir, { recursive: true, force: true }));

  const errors = [];
  const sdk = () => {
    const c = new Analytics({ writeKey: WRITE, host: srv.url, flushAt: 20, flushInterval: 50, maxRetries: 3 });
    c.on('error', (e) => errors.push(e));
    return c;
  };
  // accounts and their members first, acknowledged before anything else is
  // sent: the SDK sends batches concurrently, and a member's first record in
  // the log is what the metadata takes as the day they joined
  let client = sdk();
  client.group({ userId: 'ada', groupId: 'acme', traits: { name: 'Acme' }, timestamp: at('2025-01-15T09:00:00.000Z') });
  client.group({ userId: 'alan', groupId: 'acme', timestamp: at('2025-01-16T09:00:00.000Z') });
  client.group({ userId: 'grace', groupId: 'acme', timestamp: at('2025-02-02T09:00:00.000Z') });
  client.group({ userId: 'bob', groupId: 'globex', traits: { name: 'Globex' }, timestamp: at('2025-01-31T00:00:00.000Z') });
  client.group({ userId: 'peter', groupId: 'initech, llc', timestamp: at('2025-02-19T00:00:00.000Z') });
  await client.closeAndFlush({ timeout: 20000 });
  // acme moves to team on Feb 20; then the metered events
  client = sdk();
  client.track({ userId: 'ada', event: 'Plan Changed', properties: { plan: 'team', mrr: 49 }, timestamp: at('2025-02-20T00:00:00.000Z'), context: { groupId: 'acme' } });
  const sent = plan();
  for (const m of sent) {
    client.track({ userId: m.userId, event: m.event, properties: m.properties, timestamp: at(m.time), ...(m.account ? { context: { groupId: m.account } } : {}) });
  }
  await client.closeAndFlush({ timeout: 20000 });
  assert.deepEqual(errors, []);

  const q = { from: '2025-01-01', to: '2025-04-01' };
  const r = await srv.api(exportUrl(q));
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type'], /^application\/json/);
  const j = r.json;
  assert.equal(j.from, '2025-01-01');
  assert.equal(j.to, '2025-04-01');

  // totals: what was sent with an account (a word is no amount)
  const withAccount = sent.filter((m) => m.account);
  const calls = withAccount.filter((m) => m.event === 'API Call').length;
  assert.equal(j.totals.api_calls.value, calls);
  assert.equal(j.totals.api_calls.records, calls);
  const charges = withAccount.filter((m) => m.event === 'Charge' && !Number.isNaN(Number(m.properties.amount)));
  const cents = charges.reduce((s, m) => s + Math.round(Number(m.properties.amount) * 100), 0);
  assert.ok(Math.abs(j.totals.spend.value - cents / 100) < 1e-9, `spend ${j.totals.spend.value} vs ${cents / 100}`);
  assert.equal(j.totals.spend.records, charges.length);

  const row = (account, meter, start) => j.rows.find((x) => x.account === account && x.meter === meter && x.period_start === start);
  const jan = '2025-01-01T00:00:00.000Z', feb = '2025-02-01T00:00:00.000Z', mar = '2025-03-01T00:00:00.000Z';
  // acme's January: free, 12 calls against 10 → 2 over; February: team at the period's end
  assert.deepEqual(row('acme', 'api_calls', jan), {
    account: 'acme', meter: 'api_calls', aggregate: 'count', period_start: jan, period_end: feb,
    closed: true, value: 12, records: 12, plan: 'free', limit: 10, overage: 2,
  });
  assert.deepEqual([row('acme', 'api_calls', feb).value, row('acme', 'api_calls', feb).plan, row('acme', 'api_calls', feb).limit, row('acme', 'api_calls', feb).overage], [30, 'team', 100, 0]);
  assert.equal(row('globex', 'api_calls', feb).value, 7);
  assert.equal(row('initech, llc', 'api_calls', feb).value, 4);
  // spend 19.99 + 0.01 + 5.5 = 25.5 against 20 → 5.5 over; 0.1 + 0.2 rounded once
  assert.deepEqual([row('acme', 'spend', jan).value, row('acme', 'spend', jan).records, row('acme', 'spend', jan).overage], [25.5, 3, 5.5]);
  assert.equal(row('acme', 'spend', feb).value, 0.1 + 0.2);
  assert.equal(row('acme', 'spend', feb).limit, null); // team has no spend limit
  assert.deepEqual([row('acme', 'storage_gb', jan).aggregate, row('acme', 'storage_gb', jan).value, row('acme', 'storage_gb', jan).records], ['max', 7.5, 3]);
  // editors by anniversary: acme from the 15th ("e1" and 1 are two values), globex from the 31st (Feb 28)
  assert.deepEqual([row('acme', 'editors', '2025-01-15T00:00:00.000Z').value, row('acme', 'editors', '2025-01-15T00:00:00.000Z').period_end], [3, '2025-02-15T00:00:00.000Z']);
  assert.equal(row('acme', 'editors', '2025-02-15T00:00:00.000Z').value, 1);
  assert.equal(row('globex', 'editors', '2025-01-31T00:00:00.000Z').value, 1);
  assert.equal(row('globex', 'editors', '2025-01-31T00:00:00.000Z').period_end, '2025-02-28T00:00:00.000Z');
  assert.equal(row('globex', 'editors', '2025-02-28T00:00:00.000Z').value, 1);
  // seats: members first seen before each month's end; acme has 2 in January (free: 2), 3 after
  assert.deepEqual([row('acme', 'seats', jan).aggregate, row('acme', 'seats', jan).value, row('acme', 'seats', jan).overage], ['members', 2, 0]);
  assert.deepEqual([row('acme', 'seats', feb).value, row('acme', 'seats', feb).limit], [3, 10]);
  assert.equal(row('initech, llc', 'seats', jan), undefined); // it began in February
  assert.ok(j.rows.every((x) => x.closed === true && x.account));
  // sorted: account, meter, period start
  const keys = j.rows.map((x) => [x.account, x.meter, x.period_start]);
  const sorted = [...keys].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
  assert.deepEqual(keys, sorted);

  // CSV: the same rows and numbers
  const c = await srv.api(exportUrl({ ...q, format: 'csv' }));
  assert.equal(c.status, 200, c.text);
  assert.equal(c.headers['content-type'], 'text/csv; charset=utf-8');
  assert.match(c.headers['content-disposition'], /usage-2025-01-01-2025-04-01\.csv/);
  const csv = parseCsv(c.text);
  assert.deepEqual(csv[0], ['account', 'meter', 'aggregate', 'period_start', 'period_end', 'closed', 'value', 'records', 'plan', 'limit', 'overage']);
  assert.equal(csv.length, j.rows.length + 1);
  j.rows.forEach((x, i) => {
    assert.deepEqual(csv[i + 1], [x.account, x.meter, x.aggregate, x.period_start, x.period_end, String(x.closed),
      String(x.value), String(x.records), x.plan, x.limit === null ? '' : String(x.limit), String(x.overage)]);
  });
  assert.ok(c.text.includes('\r\n"initech, llc",api_calls,count,'));

  // re-runs: the same bytes
  assert.equal((await srv.api(exportUrl(q))).text, r.text);
  assert.equal((await srv.api(exportUrl({ ...q, format: 'csv' }))).text, c.text);
  // one account
  const one = await srv.apiJson(exportUrl({ ...q, account: 'initech, llc' }));
  assert.deepEqual(one.rows, j.rows.filter((x) => x.account === 'initech, llc'));

  // the CLI against the server: the same bytes, to stdout and to a file
  const viaCli = cli(['--url', srv.url, '--key', SECRET, '--from', q.from, '--to', q.to]);
  assert.equal(viaCli.status, 0, viaCli.stderr);
  assert.equal(viaCli.stdout, r.text + '\n');
  const out = path.join(dataDir, '..', `usage-export-${process.pid}.csv`);
  cleanups.push(() => fs.promises.rm(out, { force: true }));
  const toFile = cli(['--url', srv.url, '--key', SECRET, '--from', q.from, '--to', q.to, '--format', 'csv', '--output', out]);
  assert.equal(toFile.status, 0, toFile.stderr);
  assert.equal(fs.readFileSync(out, 'utf8'), c.text);
  const oneCli = cli(['--url', srv.url, '--key', SECRET, '--from', q.from, '--to', q.to, '--account', 'initech, llc']);
  assert.deepEqual(JSON.parse(oneCli.stdout), one);

  // bad input: precise 400s; no key or a write key: 401
  const bad = async (query, re) => {
    const b = await srv.api(`/api/v1/usage/export?${query}`);
    assert.equal(b.status, 400, `${query}: ${b.text}`);
    assert.equal(b.json.reason, 'invalid_query');
    assert.match(b.json.error, re);
  };
  await bad('to=2025-02-01', /from and to are required/);
  await bad('from=2025-01-01', /from and to are required/);
  await bad('from=2025-02-01&to=2025-01-01', /the range is empty: to \(2025-01-01\) must be after from \(2025-02-01\)/);
  await bad('from=2025-01-01&to=2025-01-01', /the range is empty/);
  await bad('from=2025-13-01&to=2026-01-01', /from="2025-13-01" is not a day: use YYYY-MM-DD/);
  await bad('from=2025-01-01&to=tomorrow', /to="tomorrow" is not a day/);
  await bad('from=2024-01-01&to=2025-03-01', /the range is 425 days; export at most 400 days/);
  await bad('from=2025-01-01&to=2025-02-01&format=xml', /format must be json or csv; got "xml"/);
  const noKey = await srv.get(exportUrl(q));
  assert.equal(noKey.status, 401);
  assert.match(noKey.json.error, /^Invalid API key/);
  const writeKey = await srv.get(exportUrl(q), { Authorization: `Bearer ${WRITE}` });
  assert.equal(writeKey.status, 401);
  assert.equal(writeKey.json.reason, 'unknown_key');
  assert.equal((await srv.get(exportUrl(q), { Authorization: basic(WRITE) })).status, 401);
  const cliBad = cli(['--url', srv.url, '--key', SECRET, '--from', '2025-01-01', '--to', '2025-02-01', '--format', 'xml']);
  assert.equal(cliBad.status, 2);
  assert.match(cliBad.stderr, /format must be json or csv; got "xml"/);
  const cliNoKey = cli(['--url', srv.url, '--key', 'nope', '--from', '2025-01-01', '--to', '2025-02-01']);
  assert.equal(cliNoKey.status, 1);
  assert.match(cliNoKey.stderr, /the server answered 401: Invalid API key/);
  const cliMissing = cli(['--url', srv.url, '--key', SECRET, '--from', '2025-01-01']);
  assert.equal(cliMissing.status, 2);
  assert.match(cliMissing.stderr, /give --from DAY and --to DAY/);
  const help = spawnSync(BIN, ['usage', 'export', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--from DAY/);

  // the data directory, with the server stopped: the same bytes again
  await srv.stop();
  const local = cli(['--data', dataDir, '--from', q.from, '--to', q.to, '--format', 'csv']);
  assert.equal(local.status, 0, local.stderr);
  assert.equal(local.stdout, c.text);
});
