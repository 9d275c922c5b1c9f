// funnel/oracle.mjs — the funnel of docs/query/funnel.md computed independently of
// Flywheel, in SQL on DuckDB, from the definitions (not from src/query/funnel.c).
//
//   const o = await FunnelOracle.load(lines);   // NDJSON lines, file order
//   const a = await o.funnel(request);          // same shape as Flywheel's answer:
//   // { steps: [{count, dropped, pending, median_seconds, p90_seconds}],
//   //   breakdown: [{value, steps}], people: {total, items} }
//   o.close();
//
// Messages, deduplication, people (identify/alias joins) and their events come from
// ../metrics/oracle.mjs (tables msg, person_of, ev), which implements DESIGN.md's
// data rules. On top, every statement below says which part of the definition it
// implements. All of it is SQL; JS only assembles statements and the answer.
import { Oracle } from '../metrics/oracle.mjs';

const DAY = 86400000;

/** A request duration ("30m", "12h", "14d", "2w", "90s", or days as a number) in ms. */
export function durationMs(v, dflt) {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return Math.round(v * DAY);
  const m = /^([\d.]+)([smhdw])$/.exec(v);
  if (!m) throw new Error(`oracle: bad duration ${v}`);
  return Math.round(Number(m[1]) * { s: 1000, m: 60000, h: 3600000, d: DAY, w: 7 * DAY }[m[2]]);
}

const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const prop = (p) => `json_extract_string(props, ${lit(`$."${p}"`)})`;

/** A `where` list as SQL over uev (eq, neq, in, set, not_set: what the tests use). */
function whereSql(where = []) {
  const parts = where.map((f) => {
    const v = prop(f.property);
    switch (f.op || 'eq') {
      case 'eq': return `${v} = ${lit(f.value)}`;
      case 'neq': return `${v} IS DISTINCT FROM ${lit(f.value)}`; // absent != value
      case 'in': return `${v} IN (${f.value.map(lit).join(', ')})`;
      case 'set': return `${v} IS NOT NULL`;
      case 'not_set': return `${v} IS NULL`;
      default: throw new Error(`oracle: op ${f.op} not implemented`);
    }
  });
  return parts.length ? parts.join(' AND ') : 'true';
}

const ms = (iso) => (iso ? new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso).getTime() : null);

export class FunnelOracle {
  constructor(o) {
    this.o = o;
    this.conn = o.conn;
  }

  static async load(lines) {
    const o = await Oracle.load(lines);
    // A unit's events in (time, log order) — log order is the order in the file of
    // the first copy (seq) — numbered rn from 1. Persons: all their events;
    // accounts: the events that name the account (context.groupId).
    // A person's key (the id Flywheel lists people by) is their user id, else their
    // only (anonymous) id.
    await o.conn.run(`
      CREATE TABLE uev_person AS
      SELECT person AS unit, t, seq, event, props, row_number() OVER (PARTITION BY person ORDER BY t, seq) AS rn FROM ev;
      CREATE TABLE uev_account AS
      SELECT account AS unit, t, seq, event, props, row_number() OVER (PARTITION BY account ORDER BY t, seq) AS rn
      FROM ev WHERE account IS NOT NULL;
      CREATE TABLE pkey AS
      SELECT p.person AS unit, coalesce(min(p.id) FILTER (WHERE p.id IN (SELECT user_id FROM msg WHERE user_id IS NOT NULL)), p.person) AS key
      FROM person_of p GROUP BY p.person;
    `);
    return new FunnelOracle(o);
  }

  async rows(sql) {
    const r = await this.conn.runAndReadAll(sql);
    return r.getRowObjectsJson();
  }

  /** The answer to a funnel request (the fields docs/query/funnel.md lists). */
  async funnel(req) {
    const steps = req.steps.map((s) => (typeof s === 'string' ? { event: s } : s));
    const K = steps.length;
    const mode = req.mode || 'ordered';
    const W = durationMs(req.window, 14 * DAY);
    const F = ms(req.from) ?? -1e15;
    const T = ms(req.to) ?? 1e15;
    const asOf = ms(req.as_of);
    const uev = req.unit === 'account' ? 'uev_account' : 'uev_person';
    const within = steps.map((s) => durationMs(s.within, null));
    // per-step window of step k (1-based) as SQL: t_k - t_{k-1} <= within_k
    const withinSql = (k, tk, tprev) => {
      const cases = within.map((w, i) => (w === null ? '' : ` WHEN ${i + 1} THEN ${tk} - ${tprev} <= ${w}`)).join('');
      return cases ? `(CASE ${k}${cases} ELSE true END)` : 'true';
    };
    const strict = mode === 'strict';
    const run = (sql) => this.conn.run(sql);

    // se: events matching step k = its event name and all its `where` filters.
    await run(`CREATE OR REPLACE TEMP TABLE se AS ${steps.map((s, i) =>
      `SELECT unit, rn, t, ${i + 1} AS k FROM ${uev} WHERE event = ${lit(s.event)} AND (${whereSql(s.where)})`).join(' UNION ALL ')}`);

    if (mode === 'any_order') {
      // any_order: p1 = a first-step event in [from, to); step k (≥ 2) is reached if
      // some step-k event lies in (t1, t1 + W]; the reach is the longest prefix of
      // steps 2.. that are all reached. The chosen p1: largest reach, then earliest.
      // Its path: the first step-k event in (t1, t1 + W].
      await run(`
        CREATE OR REPLACE TEMP TABLE s1c AS SELECT unit, rn AS s1, t AS t1 FROM se WHERE k = 1 AND t >= ${F} AND t < ${T};
        CREATE OR REPLACE TEMP TABLE hit AS
        SELECT s.unit, s.s1, e.k, min(e.t) AS tk FROM s1c s JOIN se e ON e.unit = s.unit AND e.k > 1 AND e.t > s.t1 AND e.t - s.t1 <= ${W}
        GROUP BY ALL;
        CREATE OR REPLACE TEMP TABLE chosen AS
        SELECT * FROM (
          SELECT s.unit, s.s1, s.t1, coalesce(min(g.k) FILTER (WHERE h.k IS NULL), ${K + 1}) - 1 AS r
          FROM s1c s CROSS JOIN range(2, ${K + 1}) g(k) LEFT JOIN hit h ON h.unit = s.unit AND h.s1 = s.s1 AND h.k = g.k
          GROUP BY ALL)
        QUALIFY row_number() OVER (PARTITION BY unit ORDER BY r DESC, s1) = 1;
        CREATE OR REPLACE TEMP TABLE path AS
        SELECT unit, 1 AS k, t1 AS t FROM chosen
        UNION ALL SELECT c.unit, h.k, h.tk FROM chosen c JOIN hit h ON h.unit = c.unit AND h.s1 = c.s1 AND h.k <= c.r;
      `);
    } else {
      // ordered/strict. A path: p1 a first-step event in [from, to), then p_k matching
      // step k with t_k > t_{k-1} (strictly), t_k - t1 <= W, t_k - t_{k-1} <= within_k;
      // strict: p_k is the very next event of the unit after p_{k-1}.
      // p: every (p1, k, p_k) on some path.
      const next = (a, b) => `${b}.t > ${a}.t AND ${withinSql(`${b}.k`, `${b}.t`, `${a}.t`)}${strict ? ` AND ${b}.rn = ${a}.rn + 1` : ''}`;
      await run(`
        CREATE OR REPLACE TEMP TABLE p AS
        WITH RECURSIVE p(unit, s1, t1, k, rn, t) AS (
          SELECT unit, rn, t, 1, rn, t FROM se WHERE k = 1 AND t >= ${F} AND t < ${T}
          UNION
          SELECT p.unit, p.s1, p.t1, e.k, e.rn, e.t FROM p JOIN se e ON e.unit = p.unit AND e.k = p.k + 1
            AND e.t - p.t1 <= ${W} AND ${next('p', 'e')}
        ) SELECT * FROM p;
      `);
      // The reach of a p1 is the largest k on one of its paths; the chosen p1 reaches
      // furthest, ties: the earliest (time, log order), i.e. the smallest rn.
      await run(`
        CREATE OR REPLACE TEMP TABLE chosen AS
        SELECT * FROM (SELECT unit, s1, t1, max(k) AS r FROM p GROUP BY ALL)
        QUALIFY row_number() OVER (PARTITION BY unit ORDER BY r DESC, s1) = 1;
      `);
      // The chosen path: after p1, each p_k is the earliest event (smallest rn) from
      // which the reach can still be completed. can: the (k, p_k) of the chosen p1 that
      // lie on a path to its reach (backward from the reach); succ: from each, the
      // earliest next one; path: the walk from p1.
      await run(`
        CREATE OR REPLACE TEMP TABLE can AS
        WITH RECURSIVE can(unit, k, rn, t) AS (
          SELECT p.unit, p.k, p.rn, p.t FROM p JOIN chosen c ON c.unit = p.unit AND c.s1 = p.s1 AND p.k = c.r
          UNION
          SELECT p.unit, p.k, p.rn, p.t FROM p JOIN chosen c ON c.unit = p.unit AND c.s1 = p.s1
            JOIN can n ON n.unit = p.unit AND n.k = p.k + 1 AND ${next('p', 'n')}
        ) SELECT * FROM can;
        CREATE OR REPLACE TEMP TABLE succ AS
        SELECT a.unit, a.k, a.rn, min(b.rn) AS nrn FROM can a JOIN can b ON b.unit = a.unit AND b.k = a.k + 1 AND ${next('a', 'b')}
        GROUP BY ALL;
        CREATE OR REPLACE TEMP TABLE path AS
        WITH RECURSIVE w(unit, k, rn) AS (
          SELECT unit, 1, s1 FROM chosen
          UNION ALL
          SELECT w.unit, w.k + 1, s.nrn FROM w JOIN succ s ON s.unit = w.unit AND s.k = w.k AND s.rn = w.rn
        ) SELECT w.unit, w.k, u.t FROM w JOIN ${uev} u ON u.unit = w.unit AND u.rn = w.rn;
      `);
    }

    // Exclusions {event E, after_step a, before_step b, where}: if the chosen path
    // reached b and an event matching E lies strictly between t_a and t_b, the reach
    // becomes b - 1 and the unit is dropped at b.
    const ex = req.exclusions || [];
    if (ex.length) {
      await run(`CREATE OR REPLACE TEMP TABLE xe AS ${ex.map((x, i) =>
        `SELECT ${i} AS i, unit, t FROM ${uev} WHERE event = ${lit(x.event)} AND (${whereSql(x.where)})`).join(' UNION ALL ')}`);
      await run(`
        CREATE OR REPLACE TEMP TABLE cap AS
        SELECT c.unit, min(x.b - 1) AS cap
        FROM chosen c JOIN (VALUES ${ex.map((x, i) => `(${i}, ${x.after_step ?? 1}, ${x.before_step ?? K})`).join(', ')}) x(i, a, b) ON c.r >= x.b
        JOIN path pa ON pa.unit = c.unit AND pa.k = x.a JOIN path pb ON pb.unit = c.unit AND pb.k = x.b
        WHERE EXISTS (SELECT 1 FROM xe WHERE xe.i = x.i AND xe.unit = c.unit AND xe.t > pa.t AND xe.t < pb.t)
        GROUP BY c.unit;
      `);
    } else {
      await run(`CREATE OR REPLACE TEMP TABLE cap AS SELECT NULL::VARCHAR AS unit, NULL::INTEGER AS cap WHERE false`);
    }

    // fin: per unit its reach, its state at the step after it (converted: reached the
    // last step; dropped: excluded, or as_of > t1 + W; pending: as_of <= t1 + W), and
    // the breakdown value: the property on the chosen p1 event (null if absent).
    const bv = req.breakdown ? `json_extract_string(s.props, ${lit(`$."${req.breakdown}"`)})` : 'NULL';
    await run(`
      CREATE OR REPLACE TEMP TABLE fin AS
      SELECT c.unit, c.t1, least(c.r, coalesce(x.cap, c.r)) AS r,
             CASE WHEN least(c.r, coalesce(x.cap, c.r)) = ${K} THEN 'converted'
                  WHEN x.cap IS NOT NULL THEN 'dropped'
                  WHEN ${asOf} - c.t1 <= ${W} THEN 'pending' ELSE 'dropped' END AS status,
             ${bv} AS bv
      FROM chosen c LEFT JOIN cap x ON x.unit = c.unit LEFT JOIN ${uev} s ON s.unit = c.unit AND s.rn = c.s1;
      CREATE OR REPLACE TEMP TABLE delta AS
      SELECT f.unit, f.bv, b.k, b.t - a.t AS d
      FROM fin f JOIN path b ON b.unit = f.unit AND b.k >= 2 AND b.k <= f.r
      JOIN path a ON a.unit = f.unit AND a.k = ${mode === 'any_order' ? '1' : 'b.k - 1'};
    `);

    // Per group (all units, or one breakdown value) and step k: the units that reached
    // k; dropped/pending at k: reach k - 1 and that state; median and p90 of the times
    // into k by nearest rank (the value at rank ceil(p n)), in seconds.
    const stats = async (groupBy) => {
      const rows = await this.rows(`
        WITH g AS (SELECT DISTINCT ${groupBy} AS grp FROM fin),
        ks AS (SELECT range AS k FROM range(1, ${K + 1}))
        SELECT g.grp, ks.k,
          (SELECT count(*) FROM fin WHERE ${groupBy} IS NOT DISTINCT FROM g.grp AND r >= ks.k) AS count,
          (SELECT count(*) FROM fin WHERE ${groupBy} IS NOT DISTINCT FROM g.grp AND r = ks.k - 1 AND status = 'dropped') AS dropped,
          (SELECT count(*) FROM fin WHERE ${groupBy} IS NOT DISTINCT FROM g.grp AND r = ks.k - 1 AND status = 'pending') AS pending,
          (SELECT CASE WHEN count(*) = 0 THEN NULL ELSE list_sort(list(d))[(count(*) + 1) // 2] / 1000.0 END
             FROM delta WHERE ${groupBy.replace('bv', 'delta.bv')} IS NOT DISTINCT FROM g.grp AND delta.k = ks.k) AS median_seconds,
          (SELECT CASE WHEN count(*) = 0 THEN NULL ELSE list_sort(list(d))[(9 * count(*) + 9) // 10] / 1000.0 END
             FROM delta WHERE ${groupBy.replace('bv', 'delta.bv')} IS NOT DISTINCT FROM g.grp AND delta.k = ks.k) AS p90_seconds
        FROM g CROSS JOIN ks ORDER BY g.grp, ks.k`);
      const out = new Map();
      for (const r of rows) {
        if (!out.has(r.grp)) out.set(r.grp, []);
        out.get(r.grp).push({
          count: Number(r.count), dropped: Number(r.dropped), pending: Number(r.pending),
          median_seconds: r.median_seconds === null ? null : Number(r.median_seconds),
          p90_seconds: r.p90_seconds === null ? null : Number(r.p90_seconds),
        });
      }
      return out;
    };
    const empty = () => steps.map(() => ({ count: 0, dropped: 0, pending: 0, median_seconds: null, p90_seconds: null }));
    const answer = { steps: (await stats("'all'")).get('all') || empty() };
    if (req.breakdown) {
      // rows: most units entering first, then by value; units lacking the value last
      const by = await stats('bv');
      answer.breakdown = [...by.entries()].map(([value, s]) => ({ value, steps: s }))
        .sort((a, b) => b.steps[0].count - a.steps[0].count || (a.value === null) - (b.value === null) ||
          (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    }
    if (req.people) {
      // the units behind one number: step N converted (reach >= N), dropped or pending
      // at N (reach N - 1 and that state), sorted by key
      const n = req.people.step || 1;
      const st = req.people.status || 'converted';
      const cond = st === 'converted' ? `r >= ${n}` : `r = ${n - 1} AND status = ${lit(st)}`;
      const key = req.unit === 'account' ? 'fin.unit' : '(SELECT key FROM pkey WHERE pkey.unit = fin.unit)';
      const rows = await this.rows(`SELECT ${key} AS key FROM fin WHERE ${cond} ORDER BY key`);
      answer.people = { total: rows.length, items: rows.map((r) => r.key) };
    }
    return answer;
  }

  close() {
    this.o.close();
  }
}
