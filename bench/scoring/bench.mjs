// bench/scoring/bench.mjs URL SECRET WRITE SCALE PID OUT.json — see run.sh.
import { readFileSync, writeFileSync } from 'node:fs';

const [url, secret, write, scale, pid, outFile] = process.argv.slice(2);
const RUNS = Number(process.env.FW_BENCH_RUNS || 5);
const RATE = Number(process.env.FW_BENCH_SCORING_RATE || 2000);
const SECONDS = Number(process.env.FW_BENCH_SCORING_SECONDS || 20);
const auth = { Authorization: `Bearer ${secret}` };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const basic = 'Basic ' + Buffer.from(write + ':').toString('base64');

async function get(path) {
  const r = await fetch(url + path, { headers: auth });
  return { status: r.status, body: await r.json().catch(() => null) };
}
function rssMiB() {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
    return m ? Number(m[1]) / 1024 : null;
  } catch { return null; }
}
function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : null;
}

// 1. ready: the first full rescore after start
const t0 = Date.now();
for (;;) {
  let r;
  try { r = await get('/api/v1/pqls?limit=1'); } catch { r = { status: 0 }; }
  if (r.status === 200) break;
  if (Date.now() - t0 > 900_000) { console.error('scoring: server not ready after 900 s'); process.exit(1); }
  await sleep(200);
}
const ready = (Date.now() - t0) / 1000;
const people = (await get('/api/v1/pqls?unit=person&limit=1')).body.total;
const accounts = (await get('/api/v1/pqls?unit=account&limit=1')).body.total;

// 2. full rescores
const runs = [];
for (let i = 0; i <= RUNS; i++) {
  const r = await fetch(url + '/api/v1/rescore', { method: 'POST', headers: auth });
  const b = await r.json();
  if (r.status !== 200) { console.error('rescore failed', r.status, b); process.exit(1); }
  if (i) runs.push(b.score_seconds);
}
const health = (await (await fetch(url + '/healthz')).json());

// 3. event to score under sustained ingest
let stop = false, sent = 0, failed = 0;
async function ingest() {
  const batch = 100, every = 1000 * batch / RATE;
  let next = Date.now();
  while (!stop) {
    const events = [];
    for (let i = 0; i < batch; i++)
      events.push({ type: 'track', event: 'Page Loaded', userId: `bench_u${(sent + i) % 5000}`,
                    timestamp: new Date().toISOString(), properties: { path: '/app' } });
    const r = await fetch(url + '/v1/batch', { method: 'POST', headers: { Authorization: basic, 'content-type': 'application/json' },
                                              body: JSON.stringify({ batch: events }) }).catch(() => ({ ok: false }));
    if (r.ok) sent += batch; else failed++;
    next += every;
    const wait = next - Date.now();
    if (wait > 0) await sleep(wait);
  }
}
const lat = [];
async function probes() {
  const end = Date.now() + SECONDS * 1000;
  for (let i = 0; Date.now() < end; i++) {
    const id = `probe_${process.pid}_${i}`;
    const start = Date.now();
    const r = await fetch(url + '/v1/track', { method: 'POST', headers: { Authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: id, event: 'Payment Info Entered', timestamp: new Date().toISOString() }) });
    if (!r.ok) { failed++; continue; }
    const acked = performance.now();
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      const s = await get(`/api/v1/pqls/person/${id}?history=0`);
      if (s.status === 200 && s.body.score >= 40) { lat.push(performance.now() - acked); break; }
      await sleep(5);
    }
    const wait = start + 100 - Date.now();
    if (wait > 0) await sleep(wait);
  }
  stop = true;
}
const ing = ingest();
await probes();
await ing;

const med = pct(runs, 0.5);
const result = {
  scale: Number(scale), people, accounts, events: health.events, records: health.records,
  ready_s: ready, rescore_s: { median: med, min: Math.min(...runs), runs },
  event_to_score_ms: { p50: pct(lat, 0.5), p99: pct(lat, 0.99), max: Math.max(...lat), probes: lat.length },
  ingest: { rate_target: RATE, events_sent: sent, failed_requests: failed, seconds: SECONDS },
  rss_mib: rssMiB(),
};
writeFileSync(outFile, JSON.stringify(result, null, 2));
const f = (x, d = 1) => (x == null ? '-' : x.toFixed(d));
console.log(`\nPQL scoring (${people} people, ${accounts} accounts, ${health.events} events)`);
console.log(`  start to first scores        ${f(ready)} s`);
console.log(`  full rescore (median of ${RUNS})   ${f(med * 1000)} ms   (goal < 1000 ms)  min ${f(Math.min(...runs) * 1000)} ms`);
console.log(`  event ack -> score p50/p99   ${f(lat.length ? pct(lat, 0.5) : null)} / ${f(lat.length ? pct(lat, 0.99) : null)} ms (goal p99 < 1000 ms), ${lat.length} probes, max ${f(Math.max(...lat))} ms`);
console.log(`  under ingest of              ${f(sent / SECONDS, 0)} events/s (target ${RATE}), ${failed} failed requests`);
console.log(`  server RSS                   ${f(rssMiB(), 0)} MiB`);
