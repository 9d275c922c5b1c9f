// bench/analytics/duck.mjs — the DuckDB side of the analytics benchmark, run as
// a child process of bench.mjs so that its resident memory is DuckDB's (plus
// node's own ~45 MB) and a runaway query can be interrupted.
//
//   node duck.mjs load DBFILE TSV THREADS
//       creates the table `events` (integer ids, sorted by person_id, time) in
//       DBFILE from the generator's TSV, checkpoints, prints {"load_ms":…,"rows":…}
//   node duck.mjs serve DBFILE THREADS
//       opens DBFILE, prints {"ready":true,"open_ms":…}, then answers JSON lines on
//       stdin {"id","sql","timeout_ms"} with {"id","ms","rows"} or {"id","error"};
//       ms is the in-process time of running the query and reading every row.
import { DuckDBInstance } from '@duckdb/node-api';
import readline from 'node:readline';

const [mode, dbFile, a3, a4] = process.argv.slice(2);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const plain = (v) => (typeof v === 'bigint' ? Number(v) : v);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

async function open(threads) {
  const inst = await DuckDBInstance.create(dbFile);
  const conn = await inst.connect();
  await conn.run(`SET threads = ${Number(threads) | 0 || 1}`);
  return { inst, conn };
}

if (mode === 'load') {
  const [tsv, threads] = [a3, a4];
  const t0 = now();
  const { conn } = await open(threads);
  await conn.run(`CREATE TABLE events AS
    SELECT * FROM read_csv('${tsv.replace(/'/g, "''")}', delim = '\t', header = false,
      columns = {'person_id': 'UINTEGER', 'account_id': 'UINTEGER', 'name_id': 'UTINYINT', 'time': 'BIGINT'})
    ORDER BY person_id, time`);
  await conn.run('CHECKPOINT');
  const load_ms = now() - t0;
  const rows = plain((await conn.runAndReadAll('SELECT count(*) FROM events')).getRowsJS()[0][0]);
  say({ load_ms, rows });
  conn.closeSync();
  process.exit(0);
} else if (mode === 'serve') {
  const t0 = now();
  const { conn } = await open(a3);
  await conn.runAndReadAll('SELECT count(*) FROM events');
  say({ ready: true, open_ms: now() - t0, pid: process.pid });
  const rl = readline.createInterface({ input: process.stdin });
  // one request at a time: bench.mjs waits for each answer
  for await (const line of rl) {
    if (!line.trim()) continue;
    const req = JSON.parse(line);
    const timer = setTimeout(() => conn.interrupt(), req.timeout_ms || 600000);
    try {
      const s = now();
      const reader = await conn.runAndReadAll(req.sql);
      const rows = reader.getRowsJS();
      const ms = now() - s;
      say({ id: req.id, ms, rows: rows.map((r) => r.map(plain)) });
    } catch (e) {
      say({ id: req.id, error: String(e && e.message || e) });
    } finally {
      clearTimeout(timer);
    }
  }
  conn.closeSync();
  process.exit(0);
} else {
  console.error('usage: node duck.mjs load DBFILE TSV THREADS | serve DBFILE THREADS');
  process.exit(2);
}
