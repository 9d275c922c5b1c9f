// cohorts/oracle.mjs — the answers of the "retention", "stickiness",
// "lifecycle" and "trends" kinds computed independently of Flywheel, in SQL on
// DuckDB, from the definitions in docs/query/{retention,stickiness,lifecycle,trends}.md.
//
//   const o = await CohortOracle.load(lines);       // NDJSON lines, file order
//   const want = await o.retention({ period: 'week', periods: 8, from, to, as_of });
//   o.close();
//
// Loading is ../metrics/oracle.mjs (DuckDB): deduplicated messages (first copy
// wins), people as the connected components of identify/alias joins, `ev` (track,
// page, screen events with their person, time in UTC ms, account from
// context.groupId) and `signup` (first `Signed Up`, else first identify carrying
// created_at). On top of those, the SQL here says each definition once. JavaScript
// only lists the calendar's periods (which days, weeks or months a range holds)
// and lays the SQL's rows out in Flywheel's answer shape.
//
// Config assumed: Flywheel's built-in defaults (sign-up `Signed Up`, activation
// `Project Created` with min_count 1, the default inactive_events below).
import { Oracle, dayMs } from '../metrics/oracle.mjs';

const DAY = 86400000;
export const INACTIVE = ['$feature_flag_called', '$identify', '$groupidentify', '$create_alias', '$set', '$opt_in', '$exception'];
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const dayStr = (ms) => new Date(ms).toISOString().slice(0, 10);
const timeMs = (s) => (/^\d{4}-\d{2}-\d{2}$/.test(s) ? dayMs(s) : Date.parse(s));

// ---- the calendar (UTC; weeks start Monday; months by the Gregorian calendar)
export function floorPeriod(p, t) {
  const d = Math.floor(t / DAY);
  if (p === 'day') return d * DAY;
  if (p === 'week') return (d - ((d % 7) + 7 + 3) % 7) * DAY; // 1970-01-01 was a Thursday
  const x = new Date(d * DAY);
  return Date.UTC(x.getUTCFullYear(), x.getUTCMonth(), 1);
}
export function nextPeriod(p, s) {
  if (p === 'day') return s + DAY;
  if (p === 'week') return s + 7 * DAY;
  const x = new Date(s);
  return Date.UTC(x.getUTCFullYear(), x.getUTCMonth() + 1, 1);
}
const ceilPeriod = (p, t) => (floorPeriod(p, t) === t ? t : nextPeriod(p, floorPeriod(p, t)));
/** Period starts s >= first with s < to (full: next(s) <= to). */
function starts(p, first, to, full) {
  const out = [];
  for (let s = first; full ? nextPeriod(p, s) <= to : s < to; s = nextPeriod(p, s)) out.push(s);
  return out;
}
/** SQL: the start (epoch ms) of the period holding time column t. */
function periodStartSql(p, t) {
  if (p === 'day') return `((${t}) // ${DAY}) * ${DAY}`;
  if (p === 'week') return `(((${t}) // ${DAY}) - (((${t}) // ${DAY}) + 3) % 7) * ${DAY}`;
  return `epoch_ms(date_trunc('month', epoch_ms(${t})))`;
}
/** SQL VALUES of periods: (i, s, e) for the consecutive starts given and their end. */
function periodsSql(list) {
  return `(VALUES ${list.slice(0, -1).map((s, i) => `(${i}, ${s}::BIGINT, ${list[i + 1]}::BIGINT)`).join(', ')}) AS per(i, s, e)`;
}

// ---- the events an analysis counts
/** SQL condition: an event of name `event`, or (none given) any active event. */
const eventCond = (event, col = 'event') => (event ? `${col} = ${q(event)}` : `${col} NOT IN (${INACTIVE.map(q).join(', ')})`);
/** SQL condition for `where` (eq, neq, in, set, not_set: what the tests use) on props column. */
function whereCond(where, col = 'props') {
  const parts = (where || []).map((f) => {
    const v = `json_extract_string(${col}, ${q(`$.${f.property}`)})`;
    switch (f.op || 'eq') {
      case 'eq': return `${v} = ${q(f.value)}`;
      case 'neq': return `${v} IS DISTINCT FROM ${q(f.value)}`;
      case 'in': return `${v} IN (${f.value.map(q).join(', ')})`;
      case 'set': return `${v} IS NOT NULL`;
      case 'not_set': return `${v} IS NULL`;
      default: throw new Error(`oracle: op ${f.op} not supported`);
    }
  });
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

// Units: a person's events, or the events naming an account. Persons are named
// as Flywheel names them: their user id, else their (anonymous) id.
const EXTRA = `
CREATE TABLE uev AS
  SELECT 'person' AS kind, person AS unit, seq, t, event, props FROM ev
  UNION ALL
  SELECT 'account', account, seq, t, event, props FROM ev WHERE account IS NOT NULL;
CREATE TABLE unit_key AS
  SELECT 'person' AS kind, person AS unit,
         coalesce(min(id) FILTER (WHERE id IN (SELECT user_id FROM msg WHERE user_id IS NOT NULL)), min(id)) AS key
  FROM person_of GROUP BY person
  UNION ALL
  SELECT DISTINCT 'account', account, account FROM ev WHERE account IS NOT NULL;
`;

const ratio = (n, d) => (d > 0 ? n / d : null);

export class CohortOracle {
  constructor(o) {
    this.o = o;
  }

  static async load(lines) {
    const o = await Oracle.load(lines);
    await o.conn.run(EXTRA);
    return new CohortOracle(o);
  }

  close() {
    this.o.close();
  }

  /** Rows as arrays of plain numbers / strings / null. */
  async rows(sql) {
    const r = await this.o.conn.runAndReadAll(sql);
    return r.getRows().map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
  }

  /** The people keys of a set of units (SQL selecting `unit`), sorted, paged as Flywheel does. */
  async people(kind, unitsSql, spec) {
    const keys = (await this.rows(`SELECT k.key FROM (${unitsSql}) u JOIN unit_key k ON k.kind = ${q(kind)} AND k.unit = u.unit`))
      .map(([k]) => k).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const offset = spec.offset ?? 0, limit = spec.limit ?? 100;
    return { unit: kind, total: keys.length, offset, limit, items: keys.slice(offset, offset + limit) };
  }

  // ------------------------------------------------------------------ retention
  /**
   * "cohort": first_time = the period of the unit's first cohort event (persons
   * without "event": their sign-up; accounts: the first `Signed Up` among the
   * account's events), if that event passes `where`; recurring = every period in
   * which the unit did a cohort event passing `where` (default any active event).
   * "activated_only": a `Project Created` at or after the unit's sign-up.
   * Retained at k: mode "on" = a return event in period c+k; "on_or_after" = a
   * return event at or after the start of period c+k. Period k of a cohort is
   * reported once it has started (before as_of); as_of hides no event.
   */
  async retention(req) {
    const p = req.period ?? 'week', N = req.periods ?? 8, kind = req.unit ?? 'person';
    const asOf = req.as_of ? timeMs(req.as_of) : Date.now();
    const cs = starts(p, ceilPeriod(p, timeMs(req.from)), timeMs(req.to), false);
    const C = cs.length, W = C + N - 1;
    const all = [...cs];
    while (all.length < W + 1) all.push(nextPeriod(p, all[all.length - 1]));
    const per = periodsSql(all);
    const R = all.slice(0, W).filter((s) => s < asOf).length;
    const reach = (c) => Math.max(0, Math.min(N, R - c));
    const where = whereCond(req.where, 'x.props');
    const signup = kind === 'person'
      ? `SELECT person AS unit, s FROM signup`
      : `SELECT unit, min(t) AS s FROM uev WHERE kind = 'account' AND event = 'Signed Up' GROUP BY unit`;
    let first;
    if (req.cohort === 'recurring') {
      first = null;
    } else if (!req.event && kind === 'person') {
      // the sign-up; its properties are those of the first Signed Up event (none for an identify)
      first = `SELECT s.person AS unit, s.s AS t,
                 (SELECT arg_min(e.props, e.seq) FROM ev e WHERE e.person = s.person AND e.event = 'Signed Up' AND e.t = s.s) AS props,
                 EXISTS (SELECT 1 FROM ev e WHERE e.person = s.person AND e.event = 'Signed Up' AND e.t = s.s) AS has_event
               FROM signup s`;
    } else {
      first = `SELECT unit, min(t) AS t, arg_min(props, t * 1000000 + seq) AS props, TRUE AS has_event FROM uev
               WHERE kind = ${q(kind)} AND event = ${q(req.event ?? 'Signed Up')} GROUP BY unit`;
    }
    const activated = req.activated_only
      ? `AND EXISTS (SELECT 1 FROM (${signup}) su JOIN uev a ON a.kind = ${q(kind)} AND a.unit = su.unit
                     WHERE su.unit = x.unit AND a.event = 'Project Created' AND a.t >= su.s)`
      : '';
    const cohort = first
      ? `SELECT x.unit, per.i AS c FROM (${first}) x JOIN ${per} ON x.t >= per.s AND x.t < per.e
         WHERE per.i < ${C} AND (${req.where ? `x.has_event AND ${where}` : 'TRUE'}) ${activated}`
      : `SELECT DISTINCT x.unit, per.i AS c FROM uev x JOIN ${per} ON x.t >= per.s AND x.t < per.e
         WHERE x.kind = ${q(kind)} AND per.i < ${C} AND ${eventCond(req.event, 'x.event')} AND ${where} ${activated}`;
    const ret = eventCond(req.return_event, 'a.event');
    const retained = req.mode === 'on_or_after'
      ? `SELECT coh.unit, coh.c, k.range AS k FROM coh CROSS JOIN range(${N}) k JOIN ${per} ON per.i = coh.c + k.range
         WHERE EXISTS (SELECT 1 FROM uev a WHERE a.kind = ${q(kind)} AND a.unit = coh.unit AND ${ret} AND a.t >= per.s)`
      : `SELECT DISTINCT coh.unit, coh.c, per.i - coh.c AS k FROM coh JOIN uev a ON a.kind = ${q(kind)} AND a.unit = coh.unit
         JOIN ${per} ON a.t >= per.s AND a.t < per.e
         WHERE ${ret} AND per.i >= coh.c AND per.i < coh.c + ${N}`;
    const sizes = new Map((await this.rows(`WITH coh AS (${cohort}) SELECT c, count(*) FROM coh GROUP BY c`)).map(([c, n]) => [c, n]));
    const kept = new Map((await this.rows(`WITH coh AS (${cohort}), r AS (${retained}) SELECT c, k, count(*) FROM r GROUP BY c, k`))
      .map(([c, k, n]) => [`${c}/${k}`, n]));
    const cohorts = cs.map((s, c) => {
      const size = sizes.get(c) || 0;
      const r = Array.from({ length: reach(c) }, (_, k) => kept.get(`${c}/${k}`) || 0);
      return { cohort: dayStr(s), size, retained: r, rates: r.map((n) => ratio(n, size)) };
    });
    const curve = [];
    for (let k = 0; k < N; k++) {
      const reached = cohorts.filter((_, c) => reach(c) > k);
      if (!reached.length) break;
      const size = reached.reduce((a, x) => a + x.size, 0), n = reached.reduce((a, x) => a + x.retained[k], 0);
      curve.push({ period: k, cohorts: reached.length, size, retained: n, rate: ratio(n, size) });
    }
    const answer = { cohorts, curve };
    if (req.people) {
      const c = cs.findIndex((s, i) => timeMs(req.people.cohort) >= s && timeMs(req.people.cohort) < all[i + 1]);
      const k = req.people.period;
      const units = k === undefined
        ? `WITH coh AS (${cohort}) SELECT unit FROM coh WHERE c = ${c}`
        : `WITH coh AS (${cohort}), r AS (${retained}) SELECT unit FROM coh WHERE c = ${c}
           AND unit ${req.people.status === 'lost' ? 'NOT IN' : 'IN'} (SELECT unit FROM r WHERE c = ${c} AND k = ${k})`;
      answer.people = await this.people(kind, units, req.people);
    }
    return answer;
  }

  // ----------------------------------------------------------------- stickiness
  /** Per whole period inside [from, to): units by their number of distinct active days in it. */
  async stickiness(req) {
    const p = req.period ?? 'week', kind = req.unit ?? 'person';
    const ps = starts(p, ceilPeriod(p, timeMs(req.from)), timeMs(req.to), true);
    const all = [...ps, ps.length ? nextPeriod(p, ps[ps.length - 1]) : 0];
    const sel = `kind = ${q(kind)} AND ${eventCond(req.event)} AND ${whereCond(req.where)}`;
    const perUnit = `SELECT per.i, ud.unit, count(*) AS n
      FROM (SELECT DISTINCT unit, t // ${DAY} AS d FROM uev WHERE ${sel}) ud
      JOIN ${periodsSql(all)} ON ud.d * ${DAY} >= per.s AND ud.d * ${DAY} < per.e GROUP BY per.i, ud.unit`;
    const hist = ps.length ? await this.rows(`SELECT i, n, count(*) FROM (${perUnit}) GROUP BY i, n`) : [];
    const summary = (days, counts) => {
      const active = counts.reduce((a, x) => a + x, 0);
      return { active, active_days: counts, mean_active_days: ratio(counts.reduce((a, x, d) => a + x * (d + 1), 0), active) };
    };
    let maxDays = 0;
    const periods = ps.map((s, i) => {
      const days = (all[i + 1] - s) / DAY;
      maxDays = Math.max(maxDays, days);
      const counts = Array.from({ length: days }, (_, d) => (hist.find(([j, n]) => j === i && n === d + 1) || [0, 0, 0])[2]);
      return { period: dayStr(s), days, ...summary(days, counts) };
    });
    const pooled = Array.from({ length: maxDays }, (_, d) => periods.reduce((a, x) => a + (x.active_days[d] || 0), 0));
    const answer = { periods, pooled: { periods: ps.length, ...summary(maxDays, pooled) } };
    if (req.people) {
      const i = ps.findIndex((s, j) => timeMs(req.people.period) >= s && timeMs(req.people.period) < all[j + 1]);
      answer.people = await this.people(kind, `SELECT unit FROM (${perUnit}) WHERE i = ${i}${req.people.days ? ` AND n = ${req.people.days}` : ''}`, req.people);
    }
    return answer;
  }

  // ------------------------------------------------------------------ lifecycle
  /**
   * Per period P with start in [from, to), over every unit's whole history:
   * new = first active period is P; returning = active in P and in P−1;
   * resurrecting = active in P, not in P−1, but before; dormant = active in P−1, not in P.
   */
  async lifecycle(req) {
    const p = req.period ?? 'week', kind = req.unit ?? 'person';
    const ps = starts(p, ceilPeriod(p, timeMs(req.from)), timeMs(req.to), false);
    const per = `(VALUES ${ps.map((s, i) => `(${i}, ${s}::BIGINT, ${floorPeriod(p, s - 1)}::BIGINT)`).join(', ')}) AS per(i, s, ps)`;
    const x = `WITH up AS (SELECT DISTINCT unit, ${periodStartSql(p, 't')} AS p FROM uev WHERE kind = ${q(kind)} AND ${eventCond(req.event)} AND ${whereCond(req.where)}),
      f AS (SELECT unit, min(p) AS fp FROM up GROUP BY unit),
      x AS (SELECT per.i, per.s, f.unit, f.fp,
                   EXISTS (SELECT 1 FROM up WHERE up.unit = f.unit AND up.p = per.s) AS now,
                   EXISTS (SELECT 1 FROM up WHERE up.unit = f.unit AND up.p = per.ps) AS prev
            FROM ${per} CROSS JOIN f),
      st AS (SELECT i, unit, CASE WHEN now AND fp = s THEN 'new' WHEN now AND prev THEN 'returning'
                                  WHEN now AND fp < s THEN 'resurrecting' WHEN prev THEN 'dormant' END AS status FROM x)`;
    const rows = ps.length ? await this.rows(`${x} SELECT i, status, count(*) FROM st WHERE status IS NOT NULL GROUP BY i, status`) : [];
    const get = (i, s) => (rows.find(([j, t]) => j === i && t === s) || [0, 0, 0])[2];
    const periods = ps.map((s, i) => {
      const o = { period: dayStr(s) };
      for (const st of ['new', 'returning', 'resurrecting', 'dormant']) o[st] = get(i, st);
      o.active = o.new + o.returning + o.resurrecting;
      return o;
    });
    const answer = { periods };
    if (req.people) {
      const i = ps.findIndex((s) => floorPeriod(p, timeMs(req.people.period)) === s);
      answer.people = await this.people(kind, `${x} SELECT unit FROM st WHERE i = ${i} AND status = ${q(req.people.status)}`, req.people);
    }
    return answer;
  }

  // --------------------------------------------------------------------- trends
  /**
   * Points: the periods holding the days of [from, to), each over its days in the
   * range. count = events; uniques = distinct units; dau / wau / mau = distinct
   * units with an event on the point's last day in range / in the 7 / 30 days
   * ending it; dau_mau = mean over the point's days with MAU > 0 of DAU/MAU.
   * Totals: count and uniques over the range; dau, wau, mau on its last day;
   * dau_mau the mean over all its days. Breakdown: the 25 values with most events
   * in the range (the absent value too; ties by text, absent last), then "$other".
   */
  async trends(req) {
    const p = req.period ?? 'day', kind = req.unit ?? 'person';
    const F = dayMs(req.from), T = dayMs(req.to), fd = F / DAY, td = T / DAY;
    const points = []; // [start, first day, last day]
    for (let d = fd; d < td; d++) {
      const s = floorPeriod(p, d * DAY);
      if (!points.length || points[points.length - 1][0] !== s) points.push([s, d, d]);
      else points[points.length - 1][2] = d;
    }
    const series = req.series || [{}];
    const out = [];
    for (const s of series) {
      const math = s.math ?? 'count';
      const base = `kind = ${q(kind)} AND ${eventCond(s.event)} AND ${whereCond(s.where)}`;
      let groups = [{ cond: 'TRUE' }];
      if (req.breakdown) {
        const v = `json_extract_string(props, ${q(`$.${req.breakdown}`)})`;
        const ranked = await this.rows(`SELECT ${v} AS v, count(*) AS n FROM uev WHERE ${base} AND t >= ${F} AND t < ${T}
                                        GROUP BY v ORDER BY n DESC, v ASC NULLS LAST`);
        const top = ranked.slice(0, 25).map(([x]) => x);
        groups = top.map((x) => ({ value: x, cond: x === null ? `${v} IS NULL` : `${v} = ${q(x)}` }));
        if (ranked.length > 25) {
          const named = top.filter((x) => x !== null);
          groups.push({ value: '$other', cond: `(${named.length ? `${v} NOT IN (${named.map(q).join(', ')})` : 'TRUE'})
                                               AND ${top.includes(null) ? `${v} IS NOT NULL` : 'TRUE'}` });
        }
      }
      for (const g of groups) {
        const sel = `${base} AND ${g.cond}`;
        let pts, total;
        if (math === 'count' || math === 'uniques') {
          const agg = math === 'count' ? 'count(*)' : 'count(DISTINCT unit)';
          const rows = new Map(await this.rows(`SELECT ${periodStartSql(p, 't')} AS p, ${agg} FROM uev WHERE ${sel} AND t >= ${F} AND t < ${T} GROUP BY p`));
          pts = points.map(([st]) => rows.get(st) || 0);
          total = (await this.rows(`SELECT ${agg} FROM uev WHERE ${sel} AND t >= ${F} AND t < ${T}`))[0][0];
        } else {
          // per day d of the range: DAU(d), WAU(d) over (d−7, d], MAU(d) over (d−30, d]
          const days = new Map((await this.rows(`
            WITH days AS (SELECT range AS d FROM range(${fd}, ${td})),
                 ud AS (SELECT DISTINCT unit, t // ${DAY} AS d FROM uev WHERE ${sel} AND t >= ${(fd - 29) * DAY} AND t < ${T})
            SELECT days.d, count(DISTINCT ud.unit) FILTER (WHERE ud.d = days.d),
                   count(DISTINCT ud.unit) FILTER (WHERE ud.d > days.d - 7), count(DISTINCT ud.unit)
            FROM days LEFT JOIN ud ON ud.d > days.d - 30 AND ud.d <= days.d GROUP BY days.d`)).map(([d, ...v]) => [d, v]));
          const at = (d) => days.get(d);
          const mean = (d0, d1) => {
            const r = [];
            for (let d = d0; d <= d1; d++) if (at(d)[2] > 0) r.push(at(d)[0] / at(d)[2]);
            return r.length ? r.reduce((a, x) => a + x, 0) / r.length : null;
          };
          const pick = (d) => at(d)[{ dau: 0, wau: 1, mau: 2 }[math]];
          pts = points.map(([, d0, d1]) => (math === 'dau_mau' ? mean(d0, d1) : pick(d1)));
          total = math === 'dau_mau' ? mean(fd, td - 1) : pick(td - 1);
        }
        const entry = { label: s.label ?? s.event ?? 'All active events', event: s.event ?? null, math };
        if (req.breakdown) entry.breakdown_value = g.value;
        entry.points = points.map(([st], i) => ({ period: dayStr(st), value: pts[i] }));
        entry.total = total;
        out.push(entry);
      }
    }
    return { series: out };
  }
}
