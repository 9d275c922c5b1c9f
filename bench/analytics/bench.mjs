// bench/analytics/bench.mjs — the questions of the analytics benchmark, asked of
// Flywheel (HTTP, keep-alive), DuckDB (in-process, in the duck.mjs child) and
// ClickHouse (its HTTP interface), each answer cross-checked between the three.
// Started by bench/analytics/run.sh, which generated the data, imported it into
// Flywheel, loaded ClickHouse and started both servers; the settings come in the
// environment (FWA_*, see run.sh). Prints a table on stdout, progress on stderr,
// writes FWA_OUT (bench/out/analytics.json). Exit status 1 if any two engines
// disagree on any answer (a MISMATCH line says where), 2 on a setup failure.
// After the questions (so that it moves no memory figure) it loads FWA_FULL_TSV,
// every message whole, into ClickHouse for the disk figure "ClickHouse holding
// the same events" that Flywheel's data directory is compared with.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const env = (k, d) => (process.env[k] === undefined || process.env[k] === '' ? d : process.env[k]);
const RUNS = Math.max(5, Number(env('FWA_RUNS', 5)) | 0);
const MAX_RUNS = Math.max(RUNS, Number(env('FWA_MAX_RUNS', 25)) | 0);
const MIN_TOTAL_MS = 2000;
const THREADS = Number(env('FWA_THREADS', 2)) | 0;
const QUERY_TIMEOUT_MS = Number(env('FWA_QUERY_TIMEOUT', 600)) * 1000;
const OPEN_TIMEOUT_MS = Number(env('FWA_OPEN_TIMEOUT', 600)) * 1000;
const OUT = env('FWA_OUT');
const GOAL = 5;
const DAY = 86400000;
const W_DAYS = 14;

const log = (...a) => console.error('  ', ...a);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (a) => { const s = [...a].sort((x, y) => x - y); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : null; };
const day = (ms) => new Date(ms).toISOString().slice(0, 10);
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function procMem(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => { const m = s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')); return m ? Number(m[1]) * 1024 : null; };
    return { rss_bytes: kb('VmRSS'), hwm_bytes: kb('VmHWM') };
  } catch { return null; }
}

// ---------------------------------------------------------------- inputs
const gen = readJson(env('FWA_GEN'));
const loads = readJson(env('FWA_LOADS'));
const names = new Map(); // name -> id
for (const l of fs.readFileSync(env('FWA_NAMES'), 'utf8').split('\n')) {
  if (!l) continue;
  const [id, name] = l.split('\t');
  names.set(name, Number(id));
}
const nameById = new Map([...names].map(([n, i]) => [i, n]));
const N = (n) => { const id = names.get(n); if (!id) throw new Error(`no event name ${n}`); return id; };

const START = gen.start_ms, END = gen.end_ms;
const D1 = Math.floor(END / DAY), D0 = D1 - 30; // DAU/MAU: the last 30 days of the data
const monday = (d) => d - ((d + 3) % 7); // epoch day -> epoch day of its Monday (1970-01-01 was a Thursday)
const RET_FROM = monday(Math.floor(START / DAY)) * DAY;
const RET_TO = (monday(Math.floor((END - 1) / DAY)) + 7) * DAY;
const FUNNEL = ['Signed Up', 'Project Created', 'Invite Sent', 'Limit Reached'];
const WEEKS = 8; // retained in weeks k = 0..8 after the sign-up week: Flywheel's "periods": 9

// ---------------------------------------------------------------- clients
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function post(url, body, headers = {}, timeoutMs = QUERY_TIMEOUT_MS) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const t0 = now();
    const req = http.request({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', agent,
      headers: { 'Content-Length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), ms: now() - t0 }));
      res.on('error', (e) => resolve({ status: 0, body: String(e), ms: now() - t0 }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (e) => resolve({ status: 0, body: String(e.message || e), ms: now() - t0 }));
    req.end(body);
  });
}

const FW_URL = env('FWA_FW_URL'), FW_KEY = env('FWA_SECRET'), FW_PID = env('FWA_FW_PID');
async function flywheel(q) {
  const r = await post(`${FW_URL}/api/v1/query`, JSON.stringify(q), { Authorization: `Bearer ${FW_KEY}`, 'Content-Type': 'application/json' });
  if (r.status !== 200) {
    let msg = r.body;
    try { const o = JSON.parse(r.body); msg = (o.error && (o.error.message || o.error)) || o.message || r.body; } catch { /* as is */ }
    return { error: `${r.status}: ${String(msg).slice(0, 160)}`, ms: r.ms };
  }
  return { ms: r.ms, data: JSON.parse(r.body) };
}

const CH_URL = env('FWA_CH_URL'), CH_PID = env('FWA_CH_PID');
async function clickhouse(sql) {
  const r = await post(`${CH_URL}/?max_threads=${THREADS}`, `${sql} FORMAT TabSeparated`);
  if (r.status !== 200) return { error: `${r.status}: ${r.body.trim().slice(0, 300)}`, ms: r.ms };
  const rows = r.body.split('\n').filter((l) => l !== '').map((l) => l.split('\t').map(Number));
  return { ms: r.ms, rows };
}

let duck = null;
function duckStart(dbFile) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(HERE, 'duck.mjs'), 'serve', dbFile, String(THREADS)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const waiting = new Map();
    let buf = '', seq = 0, ready = null;
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve({ error: 'duckdb did not open within the time limit' }); }, OPEN_TIMEOUT_MS);
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 1);
        const o = JSON.parse(line);
        if (o.ready) { clearTimeout(timer); ready = o; resolve({ child, open_ms: o.open_ms, pid: child.pid }); continue; }
        const w = waiting.get(o.id); waiting.delete(o.id);
        if (w) w(o);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      for (const w of waiting.values()) w({ error: `duckdb process exited (${code})` });
      waiting.clear();
      if (!ready) resolve({ error: `duckdb process exited (${code}) before it was ready` });
    });
    duck = {
      child,
      query(sql) {
        return new Promise((res) => {
          const id = ++seq;
          const t = setTimeout(() => { waiting.delete(id); res({ error: 'no answer within the time limit (interrupt failed)' }); }, QUERY_TIMEOUT_MS + 30000);
          waiting.set(id, (o) => { clearTimeout(t); res(o); });
          child.stdin.write(JSON.stringify({ id, sql, timeout_ms: QUERY_TIMEOUT_MS }) + '\n');
        });
      },
    };
  });
}
async function duckdb(sql) {
  if (!duck) return { error: 'duckdb not running' };
  const o = await duck.query(sql);
  return o.error ? { error: o.error.slice(0, 300) } : { ms: o.ms, rows: o.rows };
}

// ---------------------------------------------------------------- the questions
// Each question: the Flywheel request, the SQL per engine, and a normalizer per
// engine to one canonical answer that cross-check compares.
const SU = N('Signed Up'), IS = N('Invite Sent'), LR = N('Limit Reached'), PV = N('Pricing Viewed');
const W_MS = W_DAYS * DAY;

function funnelDuck() {
  const ids = FUNNEL.map(N);
  // a person reaches step i from a given start if the greedy earliest next step
  // does: for one start event that is optimal, so max over starts is the definition
  let sql = `WITH e AS (SELECT person_id, name_id, time FROM events WHERE name_id IN (${ids.join(',')}) AND time >= ${START} AND time < ${END}),
  s1 AS (SELECT person_id, time AS t1, time AS t FROM e WHERE name_id = ${ids[0]})`;
  for (let i = 1; i < ids.length; i++) {
    sql += `,
  s${i + 1} AS (SELECT p.person_id, p.t1, min(e.time) AS t FROM s${i} p JOIN e ON e.person_id = p.person_id AND e.name_id = ${ids[i]}
        AND e.time > p.t AND e.time <= p.t1 + ${W_MS} GROUP BY p.person_id, p.t1)`;
  }
  sql += `\nSELECT ${ids.map((_, i) => `(SELECT count(DISTINCT person_id) FROM s${i + 1})`).join(', ')}`;
  return sql;
}
function funnelClick() {
  const ids = FUNNEL.map(N);
  return `SELECT level, count() FROM (SELECT person_id, windowFunnel(${W_MS / 1000})(toDateTime(intDiv(time, 1000)), ${ids.map((id) => `name_id = ${id}`).join(', ')}) AS level
    FROM events WHERE name_id IN (${ids.join(',')}) AND time >= ${START} AND time < ${END} GROUP BY person_id) GROUP BY level ORDER BY level`;
}
const funnelFromLevels = (rows) => FUNNEL.map((_, i) => rows.filter(([lvl]) => lvl >= i + 1).reduce((s, [, n]) => s + n, 0));
function funnelFromFlywheel(o) {
  const steps = o.steps || (o.result && o.result.steps) || (Array.isArray(o.series) && o.series[0] && o.series[0].steps);
  if (!Array.isArray(steps)) return null;
  const v = steps.map((s) => (typeof s === 'number' ? s : s.count ?? s.people ?? s.converted ?? s.total ?? s.value));
  return v.every((x) => typeof x === 'number') ? v : null;
}

// Per engine the fastest of the formulations tried (bench/README.md): DuckDB joins the
// cohorts to the distinct (person, week) pairs; ClickHouse 18.16 is faster without a JOIN,
// one GROUP BY person with the person's distinct weeks as an array.
const retentionSql = (engine) => {
  if (engine === 'ch') {
    const wk = (t) => `toInt64(intDiv(${t}, ${DAY}) - (intDiv(${t}, ${DAY}) + 3) % 7)`;
    return `SELECT cw, k, count() FROM (
      SELECT ${wk('su')} AS cw, arrayFilter(x -> x >= 0 AND x <= ${WEEKS}, arrayMap(w -> intDiv(w - cw, 7), ws)) AS ks
      FROM (SELECT person_id, minIf(time, name_id = ${SU}) AS su, countIf(name_id = ${SU}) AS n1, groupUniqArray(${wk('time')}) AS ws
            FROM events GROUP BY person_id)
      WHERE n1 > 0 AND su >= ${RET_FROM} AND su < ${RET_TO})
    ARRAY JOIN arrayConcat([toInt64(-1)], ks) AS k GROUP BY cw, k ORDER BY cw, k`;
  }
  const wk = (t) => `(${t} // ${DAY} - (${t} // ${DAY} + 3) % 7)`;
  return `WITH c AS (SELECT person_id, ${wk('min(time)')} AS cw FROM events WHERE name_id = ${SU} AND time >= ${RET_FROM} AND time < ${RET_TO} GROUP BY person_id),
         a AS (SELECT DISTINCT person_id, ${wk('time')} AS w FROM events)
    SELECT cw, -1 AS k, count(*) AS n FROM c GROUP BY cw
    UNION ALL
    SELECT cw, (w - cw) // 7 AS k, count(*) AS n FROM c JOIN a USING (person_id) WHERE w >= cw AND w <= cw + ${7 * WEEKS} GROUP BY cw, k
    ORDER BY cw, k`;
};
function retentionFromRows(rows) {
  const m = new Map();
  for (const [cw, k, n] of rows) {
    if (!m.has(cw)) m.set(cw, { cohort: day(cw * DAY), size: 0, retained: new Array(WEEKS + 1).fill(0) });
    if (k === -1) m.get(cw).size = n; else m.get(cw).retained[k] = n;
  }
  return [...m.keys()].sort((a, b) => a - b).map((k) => m.get(k));
}
function retentionFromFlywheel(o) {
  if (!Array.isArray(o.cohorts)) return null;
  return o.cohorts.map((c) => ({
    cohort: String(c.cohort || c.period || c.start).slice(0, 10),
    size: c.size ?? c.people ?? c.count,
    retained: (c.retained || c.values || []).map((v) => (v === null || typeof v === 'number' ? v : v.count ?? v.people ?? v.value ?? null)),
  }));
}

// Both engines: a person's distinct active days d1 < d2 < … cover the days [d, min(d + 29,
// next d − 1)], one interval per covered day, so MAU(t) is a plain count of the intervals
// holding t (no COUNT DISTINCT over 30 × people rows; 2-3x faster than that in both).
const dauMauSql = (engine) => engine === 'ch'
  ? `SELECT t, countIf(t = d) AS dau, count() AS mau FROM (
       SELECT d, e FROM (SELECT arraySort(groupUniqArray(intDiv(time, ${DAY}))) AS ds FROM events
                         WHERE time >= ${(D0 - 29) * DAY} AND time < ${D1 * DAY} GROUP BY person_id)
       ARRAY JOIN ds AS d, arrayMap((x, n) -> least(x + 29, n - 1), ds, arrayPushBack(arrayPopFront(ds), toUInt64(4294967295))) AS e)
     ARRAY JOIN arrayMap(k -> d + k, range(toUInt64(e - d + 1))) AS t
     WHERE t >= ${D0} AND t < ${D1} GROUP BY t ORDER BY t`
  : `WITH pd AS (SELECT DISTINCT person_id, time // ${DAY} AS d FROM events WHERE time >= ${(D0 - 29) * DAY} AND time < ${D1 * DAY}),
          iv AS (SELECT d, least(d + 29, coalesce(lead(d) OVER (PARTITION BY person_id ORDER BY d) - 1, d + 29)) AS e FROM pd)
     SELECT t, count(*) FILTER (WHERE d = t) AS dau, count(*) AS mau FROM range(${D0}, ${D1}) r(t) JOIN iv ON t BETWEEN d AND e
     GROUP BY t ORDER BY t`;
const dauMauFromRows = (rows) => rows.map(([t, dau, mau]) => ({ day: day(t * DAY), dau, mau, value: mau ? dau / mau : null }));
function dauMauFromFlywheel(o) {
  const pts = o.series && o.series[0] && o.series[0].points;
  if (!Array.isArray(pts)) return null;
  return pts.map((p) => ({ day: String(p.period || p.day || p.date).slice(0, 10), value: p.value ?? null }));
}

const accountsSql = (engine) => engine === 'ch'
  ? `SELECT account_id, any(first), uniqExact(person_id), count(), uniqExactIf(intDiv(time, ${DAY}), time < first + ${W_MS}),
       countIf(name_id = ${IS}), uniqExact(name_id), countIf(name_id = ${LR}), countIf(name_id = ${PV})
     FROM events ALL INNER JOIN (SELECT account_id, min(time) AS first FROM events WHERE account_id != 0 GROUP BY account_id) USING account_id
     WHERE account_id != 0 GROUP BY account_id ORDER BY account_id`
  : `WITH f AS (SELECT account_id, min(time) AS first FROM events WHERE account_id <> 0 GROUP BY account_id)
     SELECT e.account_id, any_value(f.first), count(DISTINCT e.person_id), count(*),
       count(DISTINCT e.time // ${DAY}) FILTER (WHERE e.time < f.first + ${W_MS}),
       count(*) FILTER (WHERE e.name_id = ${IS}), count(DISTINCT e.name_id), count(*) FILTER (WHERE e.name_id = ${LR}),
       count(*) FILTER (WHERE e.name_id = ${PV})
     FROM events e JOIN f USING (account_id) GROUP BY e.account_id ORDER BY e.account_id`;
const ACC_FIELDS = ['first_seen', 'members', 'events', 'active_days', 'invites', 'features', 'limit_hits', 'pricing_views'];
const accountsFromRows = (rows) => new Map(rows.map(([a, first, members, events, ad, inv, feat, lim, pv]) =>
  [`acc_${a}`, { first_seen: day(first), members, events, active_days: ad, invites: inv, features: feat, limit_hits: lim, pricing_views: pv }]));
function accountsFromFlywheel(o) {
  if (!Array.isArray(o.rows)) return null;
  return new Map(o.rows.map((r) => [r.account, { first_seen: r.first_seen, members: r.members, events: r.events,
    active_days: r.active_days_first_window, invites: r.invites, features: r.features, limit_hits: r.limit_hits, pricing_views: r.pricing_views }]));
}

// counts only (no people per name) on every engine: Flywheel's "uniques": false
const eventsSql = (engine) => engine === 'ch'
  ? 'SELECT name_id, count() FROM events GROUP BY name_id ORDER BY name_id'
  : 'SELECT name_id, count(*) FROM events GROUP BY name_id ORDER BY name_id';
const eventsFromRows = (rows) => new Map(rows.map(([id, count]) => [nameById.get(id), { count }]));
// rows [{event, count}] (no "people" without uniques)
const eventsFromFlywheel = (o) => (Array.isArray(o.rows) && o.rows.every((r) => typeof r.event === 'string' && typeof r.count === 'number')
  ? new Map(o.rows.map((r) => [r.event, { count: r.count }])) : null);

const QUESTIONS = [
  {
    key: 'funnel', title: `funnel, 4 steps, ${W_DAYS}-day window, 90 days`,
    flywheel: { kind: 'funnel', steps: FUNNEL.map((event) => ({ event })), window: W_DAYS, from: day(START), to: day(END) },
    fwNorm: funnelFromFlywheel, duck: funnelDuck(), duckNorm: (rows) => rows[0],
    ch: funnelClick(), chNorm: funnelFromLevels,
  },
  {
    key: 'retention', title: `weekly retention, ${WEEKS} weeks, sign-up cohorts`,
    flywheel: { kind: 'retention', period: 'week', periods: WEEKS + 1, from: day(RET_FROM), to: day(RET_TO) },
    fwNorm: retentionFromFlywheel, duck: retentionSql('duck'), duckNorm: retentionFromRows,
    ch: retentionSql('ch'), chNorm: retentionFromRows,
  },
  {
    key: 'dau_mau', title: 'DAU/MAU, each of the last 30 days',
    flywheel: { kind: 'trends', series: [{ math: 'dau_mau' }], period: 'day', from: day(D0 * DAY), to: day(D1 * DAY) },
    fwNorm: dauMauFromFlywheel, duck: dauMauSql('duck'), duckNorm: dauMauFromRows,
    ch: dauMauSql('ch'), chNorm: dauMauFromRows,
  },
  {
    key: 'accounts', title: `per-account feature table (${W_DAYS}-day window)`,
    flywheel: { kind: 'accounts', window: W_DAYS, limit: 1000000 },
    fwNorm: accountsFromFlywheel, duck: accountsSql('duck'), duckNorm: accountsFromRows,
    ch: accountsSql('ch'), chNorm: accountsFromRows,
  },
  {
    key: 'events', title: 'event counts by name',
    flywheel: { kind: 'events', uniques: false },
    fwNorm: eventsFromFlywheel, duck: eventsSql('duck'), duckNorm: eventsFromRows,
    ch: eventsSql('ch'), chNorm: eventsFromRows,
  },
];

// ---------------------------------------------------------------- comparing answers
// Returns a list of differences (empty = equal). a is the reference (an SQL engine).
function diff(key, a, b) {
  const out = [];
  const num = (x, y, where) => {
    const bad = (typeof x === 'number' && typeof y === 'number') ? (Number.isInteger(x) && Number.isInteger(y) ? x !== y : Math.abs(x - y) > 1e-9) : x !== y;
    if (bad) out.push(`${where}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
  };
  if (key === 'funnel') {
    if (a.length !== b.length) out.push(`steps: ${a.length} vs ${b.length}`);
    a.forEach((x, i) => num(x, b[i], `step ${i + 1}`));
  } else if (key === 'retention') {
    const bm = new Map(b.map((c) => [c.cohort, c]));
    const am = new Map(a.map((c) => [c.cohort, c]));
    for (const c of a) {
      const d = bm.get(c.cohort);
      if (!d) { if (c.size) out.push(`cohort ${c.cohort}: size ${c.size} vs missing`); continue; }
      num(c.size, d.size, `cohort ${c.cohort} size`);
      const rates = d.retained.some((v) => typeof v === 'number' && !Number.isInteger(v));
      if (d.retained.length !== c.retained.length) out.push(`cohort ${c.cohort}: ${c.retained.length} weeks vs ${d.retained.length}`);
      for (let k = 0; k < Math.min(c.retained.length, d.retained.length); k++) {
        num(rates ? c.retained[k] / c.size : c.retained[k], d.retained[k], `cohort ${c.cohort} week ${k}`);
      }
    }
    for (const c of b) if (!am.has(c.cohort) && c.size) out.push(`cohort ${c.cohort}: missing vs size ${c.size}`);
  } else if (key === 'dau_mau') {
    const bm = new Map(b.map((p) => [p.day, p]));
    for (const p of a) {
      const q = bm.get(p.day);
      if (!q) { out.push(`${p.day}: missing`); continue; }
      if (q.dau !== undefined) { num(p.dau, q.dau, `${p.day} dau`); num(p.mau, q.mau, `${p.day} mau`); }
      if (p.value === null || q.value === null) { if (p.value !== q.value) out.push(`${p.day}: ${p.value} vs ${q.value}`); } else if (Math.abs(p.value - q.value) > 1e-9) out.push(`${p.day}: ${p.value} vs ${q.value}`);
    }
    if (b.length !== a.length) out.push(`days: ${a.length} vs ${b.length}`);
  } else { // maps: accounts, events
    for (const [k, v] of a) {
      const w = b.get(k);
      if (!w) { out.push(`${k}: missing`); continue; }
      for (const f of Object.keys(v)) num(v[f], w[f], `${k}.${f}`);
    }
    for (const k of b.keys()) if (!a.has(k)) out.push(`${k}: unexpected`);
  }
  return out;
}

// ---------------------------------------------------------------- run
async function timed(fn, arg) {
  const warm = await fn(arg);
  if (warm.error) return { error: warm.error };
  const times = [];
  let last = warm;
  // at least RUNS runs; fast questions run on (up to MAX_RUNS) until MIN_TOTAL_MS of
  // timed work, so that one scheduling hiccup does not move the median
  for (let i = 0, total = 0; i < RUNS || (total < MIN_TOTAL_MS && i < MAX_RUNS); i++) {
    const r = await fn(arg);
    if (r.error) return { error: `run ${i + 1}: ${r.error}` };
    times.push(r.ms);
    total += r.ms;
    last = r;
  }
  return { median_ms: median(times), min_ms: Math.min(...times), runs_ms: times, warmup_ms: warm.ms, answer: last };
}

async function flywheelOpen() {
  // serve was started by run.sh at FWA_FW_START_MS; wait for "listening", then time
  // the first query (the dataset snapshot is built then)
  const t0 = Number(env('FWA_FW_START_MS'));
  const logFile = env('FWA_FW_LOG');
  const deadline = Date.now() + OPEN_TIMEOUT_MS;
  let listening = null;
  while (Date.now() < deadline) {
    let txt = '';
    try { txt = fs.readFileSync(logFile, 'utf8'); } catch { /* not yet */ }
    if (/listening on/.test(txt)) { listening = Date.now(); break; }
    if (!procMem(FW_PID)) return { error: `flywheel serve exited: ${txt.trim().split('\n').slice(-3).join(' | ')}` };
    await sleep(10);
  }
  if (!listening) return { error: 'flywheel serve did not listen within the time limit' };
  const r = await flywheel({ kind: 'events' });
  if (r.error) return { error: `first query: ${r.error}` };
  const answered = Date.now();
  return { listening_ms: listening - t0, first_query_ms: r.ms, open_ms: answered - t0 };
}

// ---------------------------------------------------------------- ClickHouse holding the same events
// Every message of the NDJSON whole (gen.c --full-tsv), in the per-person, time-ordered
// layout Flywheel keeps; default compression (LZ4), and ZSTD(3) where the server has
// column codecs. Loaded after the questions, in the same server.
const FULL_COLS = [['message_id', 'String'], ['type', 'String'], ['event', 'String'], ['user_id', 'String'], ['anonymous_id', 'String'],
  ['account', 'String'], ['time_ms', 'UInt64'], ['properties', 'String'], ['traits', 'String'], ['context', 'String']];
async function chText(sql) {
  const r = await post(`${CH_URL}/`, sql);
  return r.status === 200 ? { body: r.body } : { error: `${r.status}: ${r.body.trim().slice(0, 300)}` };
}
function chClient(query, input, logName, timeoutMs = 1800000) {
  return new Promise((resolve) => {
    const t0 = now();
    let fd = 'ignore';
    try { if (input) fd = fs.openSync(input, 'r'); } catch (e) { resolve({ error: String(e.message || e) }); return; }
    const c = spawn(env('FWA_CH_CLIENT'), ['--host', '127.0.0.1', '--port', env('FWA_CH_TCP'), '--query', query], { stdio: [fd, 'ignore', 'pipe'] });
    if (typeof fd === 'number') fs.closeSync(fd);
    let errText = '';
    c.stderr.on('data', (d) => { errText += d; });
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', (e) => { errText += String(e.message || e); });
    c.on('close', (code) => {
      clearTimeout(timer);
      if (env('FWA_LOGS')) fs.writeFileSync(path.join(env('FWA_LOGS'), logName), errText);
      resolve(code === 0 ? { ms: now() - t0 } : { error: `exit ${code}: ${errText.trim().slice(0, 300)}`, ms: now() - t0 });
    });
  });
}
async function clickhouseFullTable(table, codec, tsv) {
  const cols = FULL_COLS.map(([n, t]) => `${n} ${t}${codec ? ` CODEC(${codec})` : ''}`).join(', ');
  const c = await chText(`CREATE TABLE ${table} (${cols}) ENGINE = MergeTree() ORDER BY (user_id, anonymous_id, time_ms)`);
  if (c.error) return { error: `CREATE TABLE: ${c.error}` };
  log(`${table}: insert`);
  const ins = await chClient(`INSERT INTO ${table} FORMAT TabSeparated`, tsv, `clickhouse-insert-${table}.log`);
  if (ins.error) return { error: `INSERT: ${ins.error}` };
  log(`${table}: optimize final`);
  const opt = await chClient(`OPTIMIZE TABLE ${table} FINAL`, null, `clickhouse-optimize-${table}.log`);
  if (opt.error) return { error: `OPTIMIZE: ${opt.error}` };
  const p = await clickhouse(`SELECT sum(bytes_on_disk), sum(rows), count() FROM system.parts WHERE database = 'default' AND table = '${table}' AND active`);
  if (p.error) return { error: p.error };
  const [[disk_bytes, rows, parts]] = p.rows;
  const o = { codec: codec || 'default (LZ4)', insert_s: ins.ms / 1000, optimize_s: opt.ms / 1000, load_s: (ins.ms + opt.ms) / 1000, disk_bytes, rows, parts };
  // where the bytes are: compressed bytes per column
  const col = await chText(`SELECT name, data_compressed_bytes, data_uncompressed_bytes FROM system.columns WHERE database = 'default' AND table = '${table}' FORMAT TabSeparated`);
  if (!col.error) {
    o.columns = {};
    for (const l of col.body.split('\n')) {
      if (!l) continue;
      const [name, comp, uncomp] = l.split('\t');
      o.columns[name] = { compressed_bytes: Number(comp), uncompressed_bytes: Number(uncomp) };
    }
  }
  return o;
}
async function clickhouseFull(E, gen) {
  const tsv = env('FWA_FULL_TSV');
  if (!tsv) { E.full_error = 'no full TSV (BENCH_SKIP_CLICKHOUSE when generating?)'; return; }
  console.error('== clickhouse: the same full events (every message whole), for the disk figure');
  const full = await clickhouseFullTable('events_full', null, tsv);
  if (full.error) { E.full_error = full.error; log(`events_full: ${full.error}`); } else {
    E.full = full; E.full_disk_bytes = full.disk_bytes;
    log(`events_full: ${full.rows} rows (messages), ${full.parts} part(s), ${full.disk_bytes} bytes; insert ${full.insert_s.toFixed(1)} s, optimize ${full.optimize_s.toFixed(1)} s`);
    if (full.rows !== gen.lines) E.full_error = `events_full holds ${full.rows} rows, the NDJSON ${gen.lines} lines`;
  }
  // column codecs (ClickHouse 19.1 and later): try a tiny table first
  const probe = await chText('CREATE TABLE codec_probe (a String CODEC(ZSTD(3))) ENGINE = MergeTree() ORDER BY a');
  if (probe.error) {
    E.full_zstd_error = `skipped: ClickHouse ${E.version || ''} has no column codecs (a tiny CREATE TABLE with CODEC(ZSTD(3)) fails)`;
    E.full_zstd_probe_error = probe.error.split('\n')[0].slice(0, 300);
    log(`events_full_zstd: skipped: ${E.full_zstd_error}`);
    return;
  }
  await chText('DROP TABLE codec_probe');
  const z = await clickhouseFullTable('events_full_zstd', 'ZSTD(3)', tsv);
  if (z.error) { E.full_zstd_error = z.error; log(`events_full_zstd: ${z.error}`); return; }
  E.full_zstd = z; E.full_zstd_disk_bytes = z.disk_bytes;
  log(`events_full_zstd: ${z.rows} rows, ${z.parts} part(s), ${z.disk_bytes} bytes; insert ${z.insert_s.toFixed(1)} s, optimize ${z.optimize_s.toFixed(1)} s`);
}

async function main() {
  const result = {
    date: new Date().toISOString(), machine: env('FWA_MACHINE', ''), runs: RUNS, threads: THREADS, goal: `flywheel >= ${GOAL}x faster than the faster engine on every question`,
    dataset: gen, loads, engines: {}, questions: {}, mismatches: [],
  };
  const E = result.engines;
  E.flywheel = { version: env('FWA_FW_VERSION', ''), load_s: loads.flywheel_import_s, disk_bytes: loads.flywheel_disk_bytes };
  E.duckdb = {};
  E.clickhouse = CH_URL ? { version: loads.clickhouse_version, load_s: loads.clickhouse_load_s, insert_s: loads.clickhouse_insert_s, optimize_s: loads.clickhouse_optimize_s } : { error: env('FWA_CH_REASON', 'not available') };

  // Flywheel: time to open the data directory
  let fwOk = !!FW_URL;
  if (fwOk) {
    console.error('== flywheel: open (serve start -> first query answered)');
    const o = await flywheelOpen();
    Object.assign(E.flywheel, o);
    if (o.error) { fwOk = false; log(o.error); } else log(`listening after ${o.listening_ms} ms, first query answered after ${o.open_ms} ms (the query itself ${o.first_query_ms.toFixed(0)} ms)`);
  } else E.flywheel.error = env('FWA_FW_REASON', 'not available');

  // DuckDB: load into a file, then open it in a fresh process for the questions
  console.error('== duckdb: load');
  const dbFile = env('FWA_DUCK_DB');
  fs.rmSync(dbFile, { force: true }); fs.rmSync(`${dbFile}.wal`, { force: true });
  const t0 = now();
  const load = await new Promise((resolve) => {
    const c = spawn(process.execPath, [path.join(HERE, 'duck.mjs'), 'load', dbFile, env('FWA_TSV'), String(THREADS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => c.kill('SIGKILL'), Number(env('FWA_LOAD_TIMEOUT', 3600)) * 1000);
    c.stdout.on('data', (d) => { out += d; });
    c.on('exit', (code) => { clearTimeout(timer); try { resolve(code === 0 ? JSON.parse(out) : { error: `exit ${code}` }); } catch { resolve({ error: `bad output: ${out.slice(0, 200)}` }); } });
  });
  let duckOk = !load.error;
  if (duckOk) {
    E.duckdb.load_s = load.load_ms / 1000;
    E.duckdb.load_wall_s = (now() - t0) / 1000;
    E.duckdb.rows = load.rows;
    E.duckdb.disk_bytes = fs.statSync(dbFile).blocks * 512;
    E.duckdb.file_bytes = fs.statSync(dbFile).size;
    log(`${load.rows} rows in ${E.duckdb.load_s.toFixed(2)} s, ${E.duckdb.file_bytes} bytes`);
    const s = await duckStart(dbFile);
    if (s.error) { duckOk = false; E.duckdb.error = s.error; log(s.error); } else { E.duckdb.open_ms = s.open_ms; E.duckdb.pid = s.pid; }
    const v = duckOk && await duckdb('SELECT version()');
    if (v && v.rows) E.duckdb.version = v.rows[0][0];
  } else { E.duckdb.error = `load failed: ${load.error}`; log(E.duckdb.error); }

  let chOk = !!CH_URL;
  if (chOk) {
    const p = await clickhouse("SELECT sum(bytes_on_disk), sum(rows), count() FROM system.parts WHERE database = 'default' AND table = 'events' AND active");
    if (p.error) { chOk = false; E.clickhouse.error = p.error; } else [[E.clickhouse.disk_bytes, E.clickhouse.rows, E.clickhouse.parts]] = p.rows;
  }

  const engines = [
    ['flywheel', fwOk, (q) => flywheel(q.flywheel), (q, a) => q.fwNorm(a.data)],
    ['duckdb', duckOk, (q) => duckdb(q.duck), (q, a) => q.duckNorm(a.rows)],
    ['clickhouse', chOk, (q) => clickhouse(q.ch), (q, a) => q.chNorm(a.rows)],
  ];
  result.loadavg_before_questions = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  for (const q of QUESTIONS) {
    console.error(`== ${q.key}: ${q.title}`);
    const R = result.questions[q.key] = { title: q.title, flywheel_request: q.flywheel, duckdb_sql: q.duck, clickhouse_sql: q.ch };
    const answers = {};
    for (const [name, ok, run, norm] of engines) {
      if (!ok) { R[name] = { error: E[name].error || 'not available' }; continue; }
      const t = await timed(run, q);
      if (t.error) { R[name] = { error: t.error }; log(`${name}: ${t.error}`); continue; }
      let ans = null;
      try { ans = norm(q, t.answer); } catch { ans = null; }
      const raw = JSON.stringify(t.answer.data || t.answer.rows || '').slice(0, 300);
      delete t.answer;
      R[name] = t;
      if (!ans) { t.error = `answer not understood: ${raw}`; log(`${name}: ${t.error}`); continue; }
      answers[name] = ans;
      log(`${name}: median ${t.median_ms.toFixed(1)} ms (min ${t.min_ms.toFixed(1)}, warm-up ${t.warmup_ms.toFixed(1)}, ${t.runs_ms.length} runs)`);
    }
    // cross-check: each pair that answered
    const have = Object.keys(answers);
    R.checked = have;
    const ref = have.includes('duckdb') ? 'duckdb' : have.includes('clickhouse') ? 'clickhouse' : null;
    for (const other of have) {
      if (other === ref || !ref) continue;
      const d = diff(q.key, answers[ref], answers[other]);
      if (d.length) {
        const line = `MISMATCH ${q.key}: ${ref} vs ${other}: ${d.length} difference(s): ${d.slice(0, 5).join('; ')}`;
        console.log(line); console.error(line);
        result.mismatches.push({ question: q.key, a: ref, b: other, count: d.length, first: d.slice(0, 20) });
      }
    }
    R.agree = have.length >= 2 && !result.mismatches.some((m) => m.question === q.key);
    R.summary = summarize(q.key, answers[ref] || answers.flywheel);
    if (R.summary) log(`answer: ${R.summary}`);
  }

  // memory after the questions
  if (fwOk) E.flywheel.memory = procMem(FW_PID);
  if (duckOk) E.duckdb.memory = procMem(duck.child.pid);
  if (chOk && CH_PID) E.clickhouse.memory = procMem(CH_PID);
  if (duck) { duck.child.stdin.end(); await Promise.race([new Promise((r) => duck.child.on('exit', r)), sleep(10000)]); if (duck.child.exitCode === null) duck.child.kill('SIGKILL'); }

  // ClickHouse holding the same events as Flywheel: after the memory figures
  if (chOk) await clickhouseFull(E.clickhouse, gen);
  else E.clickhouse.full_error = E.clickhouse.error || 'not available';
  agent.destroy();

  report(result);
  if (OUT) fs.writeFileSync(OUT, JSON.stringify(result, null, 1));
  return result.mismatches.length ? 1 : 0;
}

function summarize(key, a) {
  if (!a) return '';
  if (key === 'funnel') return `steps ${a.join(' → ')}`;
  if (key === 'retention') return `${a.length} cohorts, ${a.reduce((s, c) => s + c.size, 0)} people`;
  if (key === 'dau_mau') return `${a.length} days, first ${a[0] && a[0].value !== undefined ? Number(a[0].value).toFixed(4) : '?'}, last ${a.length ? Number(a[a.length - 1].value).toFixed(4) : '?'}`;
  if (key === 'accounts') return `${a.size} accounts`;
  if (key === 'events') return `${a.size} names, ${[...a.values()].reduce((s, v) => s + v.count, 0)} events`;
  return '';
}

// ---------------------------------------------------------------- report
function report(r) {
  const fmtMs = (t) => (t && !t.error && t.median_ms !== undefined ? t.median_ms.toFixed(t.median_ms < 10 ? 2 : 1) : 'n/a');
  const mb = (b) => (b ? `${(b / 1048576).toFixed(0)} MiB` : 'n/a');
  const rows = [['question', 'flywheel ms', 'duckdb ms', 'clickhouse ms', 'duck/fw', 'ch/fw', 'fw vs faster', 'answers']];
  const goal = [];
  for (const [k, q] of Object.entries(r.questions)) {
    const f = q.flywheel, d = q.duckdb, c = q.clickhouse;
    const ok = (t) => t && !t.error && t.median_ms !== undefined; // timed and its answer checked
    const ratio = (t) => (ok(t) && ok(f) ? (t.median_ms / f.median_ms).toFixed(2) : 'n/a');
    const faster = [d, c].filter(ok).map((t) => t.median_ms);
    const best = faster.length ? Math.min(...faster) : null;
    q.ratio_duckdb = ok(d) && ok(f) ? d.median_ms / f.median_ms : null;
    q.ratio_clickhouse = ok(c) && ok(f) ? c.median_ms / f.median_ms : null;
    q.speedup_vs_faster = best !== null && ok(f) ? best / f.median_ms : null;
    q.goal_met = q.speedup_vs_faster !== null ? q.speedup_vs_faster >= GOAL : null;
    const ans = r.mismatches.some((m) => m.question === k) ? 'MISMATCH'
      : q.checked.length >= 2 ? `agree (${q.checked.join(', ')})` : q.checked.length ? `only ${q.checked.join(', ')}` : 'none';
    rows.push([k, ok(f) ? fmtMs(f) : `n/a (${(f && f.error || '').slice(0, 40)})`, fmtMs(d), fmtMs(c), ratio(d), ratio(c),
      q.speedup_vs_faster !== null ? `${q.speedup_vs_faster.toFixed(2)}x` : 'n/a', ans]);
    goal.push(`${k} ${q.goal_met === null ? 'n/a' : q.goal_met ? 'met' : 'missed'}${q.speedup_vs_faster !== null ? ` (${q.speedup_vs_faster.toFixed(2)}x)` : ''}`);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((x) => String(x[i]).length)));
  const line = (x) => x.map((v, i) => (i === 0 || i === x.length - 1 ? String(v).padEnd(w[i]) : String(v).padStart(w[i]))).join('  ');
  const ds = r.dataset;
  console.log('');
  console.log(`Analytics benchmark: ${ds.events.toLocaleString('en')} events, ${ds.people.toLocaleString('en')} people, ${ds.accounts.toLocaleString('en')} accounts, ${ds.days} days; ` +
    `median of >= ${r.runs} runs after a warm-up; ${r.threads} threads for DuckDB and ClickHouse; load average ${r.loadavg_before_questions.join(' ')} before the questions`);
  console.log(line(rows[0]));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const x of rows.slice(1)) console.log(line(x));
  console.log(`ratios: engine ms / flywheel ms; "fw vs faster" = the faster of DuckDB and ClickHouse / flywheel`);
  const allMet = Object.values(r.questions).every((q) => q.goal_met === true);
  r.goal_met = allMet;
  console.log(`goal: flywheel ≥ ${GOAL}× faster than the faster engine on every question: ${allMet ? 'MET' : 'MISSED'} — ${goal.join(', ')}`);
  // the fastest run of each engine is less sensitive to other work on the machine
  const best = Object.entries(r.questions).map(([k, q]) => {
    const ok = (t) => t && !t.error && t.min_ms !== undefined;
    const m = [q.duckdb, q.clickhouse].filter(ok).map((t) => t.min_ms);
    q.speedup_vs_faster_min = ok(q.flywheel) && m.length ? Math.min(...m) / q.flywheel.min_ms : null;
    return `${k} ${q.speedup_vs_faster_min === null ? 'n/a' : `${q.speedup_vs_faster_min.toFixed(2)}x`}`;
  });
  console.log(`fastest run vs fastest run (less sensitive to other load): ${best.join(', ')}`);
  console.log('');
  const E = r.engines, n = ds.events;
  const per = (b) => (b ? `${(b / n).toFixed(1)} B/event` : 'n/a');
  const mem = (m) => (m ? `RSS ${mb(m.rss_bytes)}, peak ${mb(m.hwm_bytes)}` : 'n/a');
  console.log('disk: Flywheel keeps every message whole (ids, properties, context, people and accounts); DuckDB and ClickHouse (the tables queried) hold only the 4 integer columns;');
  console.log(`      "same full events" = ClickHouse holding every message whole (${ds.lines.toLocaleString('en')} messages: ${ds.events.toLocaleString('en')} track/page events plus identify/group calls), loaded after the questions; bytes/event = bytes / ${n.toLocaleString('en')} events, as for the others`);
  const eng = [['engine', 'load', 'disk', 'bytes/event', 'memory after the questions', 'notes']];
  eng.push(['flywheel', E.flywheel.load_s !== undefined ? `${E.flywheel.load_s.toFixed(1)} s` : 'n/a', mb(E.flywheel.disk_bytes), per(E.flywheel.disk_bytes), mem(E.flywheel.memory),
    E.flywheel.open_ms !== undefined ? `import of the NDJSON; open (serve start -> first answer) ${(E.flywheel.open_ms / 1000).toFixed(2)} s` : (E.flywheel.error || '')]);
  eng.push(['duckdb', E.duckdb.load_s !== undefined ? `${E.duckdb.load_s.toFixed(1)} s` : 'n/a', mb(E.duckdb.disk_bytes), per(E.duckdb.disk_bytes), mem(E.duckdb.memory),
    E.duckdb.version ? `${E.duckdb.version}, TSV -> sorted table; node process (incl. ~45 MB of node)` : (E.duckdb.error || '')]);
  eng.push(['clickhouse', E.clickhouse.load_s !== undefined ? `${E.clickhouse.load_s.toFixed(1)} s` : 'n/a', mb(E.clickhouse.disk_bytes), per(E.clickhouse.disk_bytes), mem(E.clickhouse.memory),
    E.clickhouse.version ? `${E.clickhouse.version}, TSV INSERT + OPTIMIZE FINAL; server process` : (E.clickhouse.error || '')]);
  const perMsg = (b) => (b ? `${(b / ds.lines).toFixed(1)} B/message` : '');
  const full = (label, o, err) => eng.push([label, o ? `${o.load_s.toFixed(1)} s` : 'n/a', o ? mb(o.disk_bytes) : 'n/a', o ? per(o.disk_bytes) : 'n/a', '',
    o ? `${perMsg(o.disk_bytes)}; 10 columns, ORDER BY (user_id, anonymous_id, time_ms), ${o.codec}; ${o.rows.toLocaleString('en')} rows${err ? `; ${err}` : ''}` : (err || 'n/a').slice(0, 160)]);
  if (E.clickhouse.version) {
    full('clickhouse (same full events, lz4)', E.clickhouse.full, E.clickhouse.full_error);
    full('clickhouse (same full events, zstd)', E.clickhouse.full_zstd, E.clickhouse.full_zstd_error);
  }
  const w2 = eng[0].map((_, i) => Math.max(...eng.map((x) => String(x[i]).length)));
  for (const x of eng) console.log(x.map((v, i) => String(v).padEnd(w2[i])).join('  ').trimEnd());
  // disk goal: Flywheel's directory against ClickHouse holding the same events (default compression)
  const fwB = E.flywheel.disk_bytes, chB = E.clickhouse.full_disk_bytes;
  r.disk_goal = `flywheel bytes/event <= clickhouse holding the same events (${E.clickhouse.full ? E.clickhouse.full.codec : 'default'})`;
  r.disk_goal_met = fwB && chB ? fwB <= chB : null;
  const zs = E.clickhouse.full_zstd_disk_bytes ? `; zstd(3): ${(E.clickhouse.full_zstd_disk_bytes / n).toFixed(1)} B/event` : '';
  console.log(`goal: flywheel bytes/event <= clickhouse holding the same events: ${r.disk_goal_met === null ? 'n/a' : r.disk_goal_met ? 'met' : 'missed'}` +
    ` (${fwB ? (fwB / n).toFixed(1) : 'n/a'} vs ${chB ? (chB / n).toFixed(1) : 'n/a'} B/event${zs})`);
  if (r.mismatches.length) console.log(`\n${r.mismatches.length} MISMATCH(ES): the engines disagree; see above and ${OUT || 'the JSON'}`);
}

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => { if (duck && duck.child.exitCode === null) duck.child.kill('SIGKILL'); process.exit(130); });
}
main().then((code) => process.exit(code), (e) => { console.error(e && e.stack || e); process.exit(2); });
