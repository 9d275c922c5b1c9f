// bench/report.mjs — assembles bench/out/results.d/*.json (written by run.sh)
// into a table on stdout and bench/out/results.json.
//   node bench/report.mjs RESULTS_DIR OUT_JSON
import fs from 'node:fs';
import path from 'node:path';

const [dir, outFile] = process.argv.slice(2);
const raw = {};
for (const f of fs.readdirSync(dir)) {
  if (!f.endsWith('.json')) continue;
  try { raw[f.slice(0, -5)] = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')); } catch { /* partial */ }
}
const notes = raw.notes || {};
const fmt = (n, d = 0) => (n === undefined || n === null || Number.isNaN(n)) ? 'n/a'
  : Number(n).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const ms = (n) => (n === undefined ? 'n/a' : `${Number(n).toFixed(n < 10 ? 2 : 1)} ms`);

const GOALS = { ingest_events_per_s: 250000, half_rate_p99_ms: 20, import_events_per_s: 1000000 };
const fwMax = raw.flywheel_max, fwHalf = raw.flywheel_half, nMax = raw.node_max, nHalf = raw.node_half;
const imp = raw.flywheel_import, ch = raw.clickhouse_import, file = raw.import_file;

const verdict = (ok) => (ok === undefined ? '' : ok ? 'PASS' : 'FAIL');
const rows = [];
const row = (name, value, goal = '', ok) => rows.push([name, value, goal, verdict(ok)]);
const sub = (name, value) => rows.push([`  ${name}`, value, '', '']);

const results = { date: new Date().toISOString(), notes, goals: GOALS, figures: {}, pass: {}, raw };
const F = results.figures;

const conns = (fwMax || nMax || {}).connections, batch = (fwMax || nMax || {}).batch;
const bpe = (fwMax || nMax || {}).bytes_per_event;
const clean = (o) => o && o.errors === 0 && o.non2xx === 0;

// stalls: 100 ms windows holding a request whose send->ack time exceeded 100 ms
const logsDir = path.join(path.dirname(outFile), 'logs');
function stalls(phase) {
  let txt;
  try { txt = fs.readFileSync(path.join(logsDir, `${phase}.timeline.txt`), 'utf8'); } catch { return null; }
  const out = [];
  for (const l of txt.split('\n')) {
    if (!l || l[0] === '#') continue;
    const [t, , , smx] = l.split(' ').map(Number);
    if (smx > 100) {
      const last = out[out.length - 1];
      if (last && t - last.to <= 0.11) { last.to = t; last.max = Math.max(last.max, smx); } else out.push({ from: t, to: t, max: smx });
    }
  }
  return out;
}
const stallText = (st) => st.length === 0 ? 'none'
  : st.slice(0, 6).map((x) => `${x.from.toFixed(1)} s (${Math.round(x.max)} ms)`).join(', ') + (st.length > 6 ? `, … ${st.length} in all` : '');

// ---- HTTP ingest
if (fwMax) {
  F.ingest_events_per_s = fwMax.events_per_s;
  F.ingest_p50_ms = fwMax.p50_ms; F.ingest_p99_ms = fwMax.p99_ms; F.ingest_max_ms = fwMax.max_ms;
  results.pass.ingest_events_per_s = fwMax.events_per_s >= GOALS.ingest_events_per_s && clean(fwMax);
  row(`flywheel HTTP ingest, closed loop (${conns} conns x ${batch} events)`, `${fmt(fwMax.events_per_s)} events/s`,
    `>= ${fmt(GOALS.ingest_events_per_s)}`, results.pass.ingest_events_per_s);
  sub('ack latency p50 / p99 / max', `${ms(fwMax.p50_ms)} / ${ms(fwMax.p99_ms)} / ${ms(fwMax.max_ms)}`);
  if (fwMax.max_at_s !== undefined)
    sub('worst request / requests over 100 ms', `sent ${fwMax.max_at_s.toFixed(1)} s into the run / ${fwMax.slow_over_100ms}`);
  const st = stalls('flywheel_max');
  if (st) { F.ingest_stalls = st; sub('stalls (request > 100 ms send->ack), at', stallText(st)); }
  sub('request bodies', `${fmt(fwMax.mb_per_s, 1)} MB/s, ${fmt(fwMax.requests)} requests`);
  sub('errors / non-2xx', `${fwMax.errors} / ${fwMax.non2xx}  ${JSON.stringify(fwMax.status)}`);
} else {
  row('flywheel HTTP ingest', `not measured (${notes.flywheel_build || notes.flywheel_serve || 'see logs'})`,
    `>= ${fmt(GOALS.ingest_events_per_s)}`, false);
  results.pass.ingest_events_per_s = false;
}
if (fwHalf) {
  F.half_rate_target_events_per_s = fwHalf.target_events_per_s;
  F.half_rate_events_per_s = fwHalf.events_per_s;
  F.half_rate_p50_ms = fwHalf.p50_ms; F.half_rate_p99_ms = fwHalf.p99_ms; F.half_rate_max_ms = fwHalf.max_ms;
  results.pass.half_rate_p99_ms = fwHalf.p99_ms <= GOALS.half_rate_p99_ms && clean(fwHalf)
    && fwHalf.events_per_s >= 0.95 * fwHalf.target_events_per_s;
  row(`flywheel at half max, open loop (${fmt(fwHalf.target_events_per_s)} events/s) p99`, ms(fwHalf.p99_ms),
    `<= ${GOALS.half_rate_p99_ms} ms`, results.pass.half_rate_p99_ms);
  sub('achieved rate', `${fmt(fwHalf.events_per_s)} events/s`);
  sub('ack latency p50 / p99 / max (from schedule)', `${ms(fwHalf.p50_ms)} / ${ms(fwHalf.p99_ms)} / ${ms(fwHalf.max_ms)}`);
  if (fwHalf.max_at_s !== undefined)
    sub('worst request / requests over 100 ms', `scheduled ${fwHalf.max_at_s.toFixed(1)} s into the run / ${fwHalf.slow_over_100ms}`);
  const st = stalls('flywheel_half');
  if (st) { F.half_rate_stalls = st; sub('stalls (request > 100 ms send->ack), at', stallText(st)); }
  sub('same, from actual send', `${ms(fwHalf.send_p50_ms)} / ${ms(fwHalf.send_p99_ms)} / ${ms(fwHalf.send_max_ms)}`);
  sub('errors / non-2xx', `${fwHalf.errors} / ${fwHalf.non2xx}  ${JSON.stringify(fwHalf.status)}`);
} else {
  row('flywheel at half max, open loop p99', 'not measured', `<= ${GOALS.half_rate_p99_ms} ms`, false);
  results.pass.half_rate_p99_ms = false;
}
if (raw.flywheel_count) {
  const c = raw.flywheel_count;
  F.acked_events = c.acked; F.counted_events = c.count;
  results.pass.acked_events_counted = c.count !== null && c.count >= c.acked;
  row('acknowledged events found by /api/v1/events/count', `${fmt(c.count)} of ${fmt(c.acked)}`, '= all',
    results.pass.acked_events_counted);
  if (c.wait_s !== undefined) sub('time for the count to reach that', `${c.wait_s.toFixed(1)} s`);
}
if (nMax) {
  F.node_events_per_s = nMax.events_per_s;
  row(`node-discard (node:http, bodies dropped), closed loop`, `${fmt(nMax.events_per_s)} events/s`);
  sub('latency p50 / p99 / max', `${ms(nMax.p50_ms)} / ${ms(nMax.p99_ms)} / ${ms(nMax.max_ms)}`);
  sub('errors / non-2xx', `${nMax.errors} / ${nMax.non2xx}`);
}
if (nHalf) {
  F.node_half_rate_p99_ms = nHalf.p99_ms;
  const same = fwHalf && Math.abs(fwHalf.target_events_per_s - nHalf.target_events_per_s) < 1;
  row(`node-discard, open loop at ${same ? "flywheel's half-max rate" : 'half its max'} (${fmt(nHalf.target_events_per_s)} events/s) p99`,
    ms(nHalf.p99_ms));
  sub('achieved rate, p50 / max', `${fmt(nHalf.events_per_s)} events/s, ${ms(nHalf.p50_ms)} / ${ms(nHalf.max_ms)}`);
}
if (fwMax && nMax) {
  F.ratio_flywheel_node = fwMax.events_per_s / nMax.events_per_s;
  row('ratio flywheel / node-discard (max events/s)', `${F.ratio_flywheel_node.toFixed(2)}x`);
  if (fwHalf && nHalf) {
    F.ratio_flywheel_node_half_rate_p99 = fwHalf.p99_ms / nHalf.p99_ms;
    sub('p99 at the paced rate, flywheel / node', `${F.ratio_flywheel_node_half_rate_p99.toFixed(2)}x`);
  }
}

// ---- import
if (file) {
  F.import_lines = file.lines; F.import_bytes = file.bytes;
}
const fileDesc = file ? `${fmt(file.lines)} lines, ${fmt(file.bytes / 1e6)} MB` : '';
if (imp) {
  F.import_events_per_s = imp.events_per_s; F.import_mb_per_s = imp.mb_per_s; F.import_seconds = imp.seconds;
  results.pass.import_events_per_s = imp.exit === 0 && imp.events_per_s >= GOALS.import_events_per_s;
  row(`flywheel import (${fileDesc})`, `${fmt(imp.events_per_s)} events/s`, `>= ${fmt(GOALS.import_events_per_s)}`,
    results.pass.import_events_per_s);
  sub('throughput / time / exit', `${fmt(imp.mb_per_s, 1)} MB/s, ${imp.seconds.toFixed(2)} s, exit ${imp.exit}`);
  if (imp.durable_seconds !== undefined) {
    F.import_durable_events_per_s = imp.durable_events_per_s;
    sub('events durable after (importer\'s own report)', `${imp.durable_seconds.toFixed(2)} s = ${fmt(imp.durable_events_per_s)} events/s; the rest is people/accounts`);
  }
  const ic = raw.flywheel_import_count;
  if (ic) {
    results.pass.import_events_counted = ic.count === ic.expected;
    F.import_counted_events = ic.count;
    row('imported events found by /api/v1/events/count', `${fmt(ic.count)} of ${fmt(ic.expected)} (track+page)`, '= all',
      results.pass.import_events_counted);
  }
} else {
  row('flywheel import', 'not measured', `>= ${fmt(GOALS.import_events_per_s)}`, false);
  results.pass.import_events_per_s = false;
}
if (ch) {
  F.clickhouse_events_per_s = ch.events_per_s; F.clickhouse_mb_per_s = ch.mb_per_s;
  row(`clickhouse ${ch.version} INSERT FORMAT JSONEachRow (same file)`, `${fmt(ch.events_per_s)} events/s`);
  sub('throughput / time / rows', `${fmt(ch.mb_per_s, 1)} MB/s, ${ch.seconds.toFixed(2)} s, ${fmt(ch.rows)} rows`);
  if (imp) {
    F.ratio_flywheel_clickhouse = imp.events_per_s / ch.events_per_s;
    row('ratio flywheel import / clickhouse', `${F.ratio_flywheel_clickhouse.toFixed(2)}x`);
  }
} else {
  row('clickhouse', notes.clickhouse || 'not available');
}

// ---- json_bench hook
if (raw.json_bench) {
  const j = { ...raw.json_bench }; delete j.raw;
  if (j.flywheel_mb_s !== undefined && j.jansson_mb_s !== undefined) {
    F.json_flywheel_mb_s = j.flywheel_mb_s; F.json_jansson_mb_s = j.jansson_mb_s;
    row('JSON parser (json_bench), 100-event Segment batch', `${fmt(j.flywheel_mb_s)} MB/s`);
    sub('jansson / ratio flywheel/jansson', `${fmt(j.jansson_mb_s)} MB/s / ${Number(j.ratio).toFixed(2)}x`);
  } else {
    row('json_bench', Object.keys(j).length ? JSON.stringify(j).slice(0, 90) : 'see bench/out/logs/json_bench.out');
  }
}

// ---- print
const w0 = Math.max(...rows.map((r) => r[0].length)), w1 = Math.max(...rows.map((r) => r[1].length));
const w2 = Math.max(...rows.map((r) => r[2].length), 4);
const line = '-'.repeat(w0 + w1 + w2 + 12);
console.log(`\nFlywheel benchmarks  ${results.date}`);
if (notes.machine) console.log(`machine: ${notes.machine}; data dir on ${notes.data_fs || '?'}`);
if (bpe) console.log(`load: ${conns} keep-alive connections, POST /v1/batch, ${batch} Segment track events/request, ~${bpe} bytes/event`);
console.log(line);
console.log(`${'figure'.padEnd(w0)}  ${'measured'.padEnd(w1)}  ${'goal'.padEnd(w2)}  result`);
console.log(line);
for (const r of rows) console.log(`${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2].padEnd(w2)}  ${r[3]}`);
console.log(line);
const other = Object.entries(notes).filter(([k]) => !['machine', 'data_fs', 'clickhouse'].includes(k));
for (const [k, v] of other) console.log(`${k}: ${v}`);
if (ch) console.log(`clickhouse: ${ch.what}`);
console.log(`results: ${outFile}; logs: ${path.join(path.dirname(outFile), 'logs')}`);
fs.writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
