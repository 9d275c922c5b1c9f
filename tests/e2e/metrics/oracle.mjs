// metrics/oracle.mjs — the 17 metrics of ../../../../shared/DESIGN.md
// ("Interfaces": `flywheel query metrics --json`), the further metrics of
// docs/metrics.md (EXTRA_METRICS), and the "revenue" and "virality" analyses
// (docs/query/revenue.md, docs/query/virality.md), computed independently of
// Flywheel in SQL with DuckDB (in memory) from the raw Segment-spec messages.
//
//   const o = await Oracle.load(lines, { coreFeatures: [...], onboardingSteps: [...] });
//   const m = await o.metrics('2026-01-01', '2026-02-01');
//   // { signups: { value: 12, previous: 0 }, activation_rate_1d: { value: 0.5, previous: null }, … }
//   const r = await o.revenue('2026-01-01', '2026-04-01', 'month');   // { periods: [...], range: {...} }
//   const v = await o.virality('2026-01-01', '2026-02-01', 30);        // { signups, inviters, … }
//   o.close();
//
// Every definition implemented is quoted in the comment above its SQL. Conventions
// shared by all: times are UTC epoch milliseconds; a day is [00:00, 24:00) UTC
// (`t // 86400000`, an epoch-day number); weeks start on Monday; ranges are
// half-open [from, to); "within N days" is at most N×24 h later; the previous
// period is [from − L, from) with L = to − from; percentiles are nearest rank
// (rank ⌈p·n⌉, computed exactly in integers); an empty denominator gives null;
// empty counts and sums give 0.
//
// Config assumed (Flywheel's built-in defaults, DESIGN.md "Data conventions"):
// sign-up `Signed Up` with channel properties [channel, utm_source] and the default
// paid channels, activation `Project Created` (min_count 1), inactive events
// `$feature_flag_called` (the only system event the data uses), plans `Plan
// Changed` {plan, mrr}, invites `Invite Sent` and `Invite Accepted` {inviter_id},
// conversion window 90 days, k-factor window 30 days; core features and onboarding
// steps as given to load() (default none).
import { DuckDBInstance } from '@duckdb/node-api';

export const METRICS = [
  'signups', 'activation_rate_1d', 'activation_rate_7d', 'ttfv_median_seconds', 'ttfv_p90_seconds',
  'retention_d1', 'retention_d7', 'retention_w1', 'dau_mau', 'wau', 'mau', 'free_to_paid_rate',
  'time_to_convert_median_days', 'acv', 'nrr', 'expansion_mrr', 'k_factor',
];
// Beyond the contract (docs/metrics.md), in report order after the 17.
export const EXTRA_METRICS = [
  'signups_organic', 'signups_paid', 'onboarding_completion', 'feature_adoption', 'feature_breadth',
  'active_days_per_week', 'grr', 'contraction_mrr', 'churned_mrr',
];
export const ALL_METRICS = [...METRICS, ...EXTRA_METRICS];
const PAID_CHANNELS = ['paid', 'cpc', 'ppc', 'ads', 'google_ads', 'facebook_ads', 'linkedin_ads'];
const CHANNEL_PROPERTIES = ['channel', 'utm_source'];
const sqlStr = (s) => `'${String(s).replace(/'/g, "''")}'`;
const sqlList = (xs) => xs.map(sqlStr).join(', ');

const DAY = 86400000;
const dayMs = (s) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) throw new Error(`not a day: ${s}`);
  return Date.UTC(+m[1], +m[2] - 1, +m[3]);
};
const dayStr = (ms) => new Date(ms).toISOString().slice(0, 10);

const idText = (v) => (v === undefined || v === null || v === '' || typeof v === 'boolean' || typeof v === 'object' ? null : String(v));
const jsonText = (v) => (v && typeof v === 'object' ? JSON.stringify(v) : null);

// Load-time SQL: messages → deduplicated messages → people → events, sign-ups,
// activity, accounts and plan changes. Each statement says what it implements.
const SCHEMA = `
CREATE TABLE raw (seq INTEGER, type VARCHAR, user_id VARCHAR, anon_id VARCHAR, message_id VARCHAR,
  ts VARCHAR, event VARCHAR, properties VARCHAR, traits VARCHAR, group_id VARCHAR,
  previous_id VARCHAR, context VARCHAR);
`;

const DERIVE = `
-- "A duplicate message id keeps the first copy received; later copies change
-- nothing." First = first in file order (seq). The time is the message's own
-- \`timestamp\`, any ISO-8601 offset converted to UTC, in milliseconds.
-- For a group call the account is its groupId; for any other message, context.groupId.
CREATE TABLE msg AS
SELECT seq, lower(type) AS type, user_id, anon_id, message_id,
       epoch_ms(CAST(ts AS TIMESTAMPTZ)) AS t,
       CASE lower(type) WHEN 'track' THEN event WHEN 'page' THEN '$pageview' WHEN 'screen' THEN '$screen' END AS event,
       CAST(properties AS JSON) AS props, CAST(traits AS JSON) AS traits,
       CASE WHEN lower(type) = 'group' THEN group_id ELSE json_extract_string(CAST(context AS JSON), '$.groupId') END AS account,
       previous_id
FROM raw
QUALIFY row_number() OVER (PARTITION BY coalesce(message_id, 'no-id-' || seq) ORDER BY seq) = 1;

-- "Person: all ids joined by identify/alias (anonymous id → user id) are one
-- person." "Only identify (with both ids), alias … join ids; a track that carries
-- both ids does not. An anonymous id never joined is a person of its own."
-- Connected components of the join graph; a person is named by its smallest id.
CREATE TABLE edge AS
  SELECT anon_id AS a, user_id AS b FROM msg WHERE type = 'identify' AND user_id IS NOT NULL AND anon_id IS NOT NULL
  UNION
  SELECT previous_id, user_id FROM msg WHERE type = 'alias' AND user_id IS NOT NULL AND previous_id IS NOT NULL;
CREATE TABLE person_of AS
WITH RECURSIVE
  node(id) AS (SELECT user_id FROM msg WHERE user_id IS NOT NULL UNION SELECT anon_id FROM msg WHERE anon_id IS NOT NULL
               UNION SELECT previous_id FROM msg WHERE previous_id IS NOT NULL),
  e(a, b) AS (SELECT a, b FROM edge UNION SELECT b, a FROM edge),
  reach(id, r) AS (SELECT id, id FROM node UNION SELECT reach.id, e.b FROM reach JOIN e ON e.a = reach.r)
SELECT id, min(r) AS person FROM reach GROUP BY id;

-- "Events are track, page and screen messages; identify, group and alias calls
-- are not events and not activity." An event belongs to the person of its userId
-- (else of its anonymousId); "events sent before the merge count for the merged
-- person" (the join graph is taken whole, whatever the order).
CREATE TABLE ev AS
SELECT m.seq, m.t, m.event, m.props, m.account, p.person
FROM msg m JOIN person_of p ON p.id = coalesce(m.user_id, m.anon_id)
WHERE m.type IN ('track', 'page', 'screen');
CREATE TABLE identify_call AS
SELECT m.seq, m.t, m.traits, p.person
FROM msg m JOIN person_of p ON p.id = coalesce(m.user_id, m.anon_id)
WHERE m.type = 'identify';

-- "Sign-up time is the first Signed Up event; a person with none signs up at
-- the time of their first identify carrying created_at." (the identify's time,
-- not the created_at value). \`obj\` is where its channel is read
-- (docs/metrics.md): that event's properties, or that identify's traits; the
-- first one by time, then file order.
CREATE TABLE signup AS
WITH su AS (SELECT person, min(t) AS t, arg_min(props, t * 1000000 + seq) AS obj FROM ev WHERE event = 'Signed Up' GROUP BY person),
     ca AS (SELECT person, min(t) AS t, arg_min(traits, t * 1000000 + seq) AS obj FROM identify_call
            WHERE json_type(traits, '$.created_at') IS NOT NULL AND json_type(traits, '$.created_at') <> 'NULL'
            GROUP BY person)
SELECT coalesce(su.person, ca.person) AS person, coalesce(su.t, ca.t) AS s,
       CASE WHEN su.person IS NOT NULL THEN su.obj ELSE ca.obj END AS obj
FROM su FULL OUTER JOIN ca ON su.person = ca.person;

-- "activation: first activation event after sign-up"; "after sign-up means at or
-- after it". a = time of the first \`Project Created\` at or after s (null: never).
CREATE TABLE act AS
SELECT s.person, s.s, min(e.t) AS a
FROM signup s LEFT JOIN ev e ON e.person = s.person AND e.event = 'Project Created' AND e.t >= s.s
GROUP BY s.person, s.s;

-- "An active event is any event not listed in inactive_events." Active days as
-- (person, epoch day) pairs.
CREATE TABLE active_day AS
SELECT DISTINCT person, t // ${DAY} AS day FROM ev WHERE event NOT IN ('$feature_flag_called');

-- "An account is created at the earliest of its created_at trait and its first
-- event." "An account's first event, for its creation time, includes the group
-- calls that name it." Events name an account by context.groupId. The account's
-- created_at trait is its current value, as for any trait: the one of the latest
-- group call (by time, then file order) carrying an ISO-8601 created_at.
CREATE TABLE account AS
WITH first_ev AS (SELECT account, min(t) AS t FROM msg WHERE account IS NOT NULL AND type IN ('track', 'page', 'screen', 'group') GROUP BY account),
     trait AS (SELECT account, arg_max(epoch_ms(TRY_CAST(json_extract_string(traits, '$.created_at') AS TIMESTAMPTZ)), t * 1000000 + seq) AS t
               FROM msg WHERE type = 'group' AND json_type(traits, '$.created_at') = 'VARCHAR'
                 AND TRY_CAST(json_extract_string(traits, '$.created_at') AS TIMESTAMPTZ) IS NOT NULL
               GROUP BY account)
SELECT f.account, least(f.t, coalesce(tr.t, f.t)) AS created
FROM first_ev f LEFT JOIN trait tr ON tr.account = f.account;

-- "plan and revenue: Plan Changed track (or account traits plan and mrr)";
-- "A group call whose traits carry both plan and mrr is a plan change; plan alone
-- is not." "paid ⇔ mrr > 0": a negative mrr pays nothing, it counts as 0
-- (docs/metrics.md).
CREATE TABLE plan_change AS
SELECT account, t, seq, greatest(CAST(json_extract(props, '$.mrr') AS DOUBLE), 0) AS mrr
FROM msg WHERE type = 'track' AND event = 'Plan Changed' AND account IS NOT NULL
  AND json_type(props, '$.plan') IS NOT NULL AND json_type(props, '$.mrr') IN ('BIGINT', 'UBIGINT', 'DOUBLE')
UNION ALL
SELECT account, t, seq, greatest(CAST(json_extract(traits, '$.mrr') AS DOUBLE), 0)
FROM msg WHERE type = 'group'
  AND json_type(traits, '$.plan') IS NOT NULL AND json_type(traits, '$.mrr') IN ('BIGINT', 'UBIGINT', 'DOUBLE');

-- "MRR of an account is the mrr of its latest plan-change at that time"; "its plan
-- at time t is the plan/mrr of its latest plan change at or before t (an account
-- with none is on the default free plan, mrr 0)". Each plan change holds from its
-- time t until the next one (next_t); prev_mrr is the MRR just before it.
CREATE TABLE plan_seg AS
SELECT account, t, seq, mrr,
       coalesce(lag(mrr) OVER w, 0) AS prev_mrr,
       lead(t) OVER w AS next_t
FROM plan_change WINDOW w AS (PARTITION BY account ORDER BY t, seq);

-- Per account: creation, MRR at creation ("starts free if its MRR at creation
-- is 0"), and its first paid plan (first plan change with mrr > 0: time and mrr).
CREATE TABLE acct AS
SELECT a.account, a.created,
       coalesce((SELECT ps.mrr FROM plan_seg ps WHERE ps.account = a.account AND ps.t <= a.created
                 AND (ps.next_t IS NULL OR ps.next_t > a.created)), 0) AS start_mrr,
       (SELECT min(t) FROM plan_change pc WHERE pc.account = a.account AND pc.mrr > 0) AS paid_t,
       (SELECT arg_min(mrr, t * 1000000 + seq) FROM plan_change pc WHERE pc.account = a.account AND pc.mrr > 0) AS paid_mrr
FROM account a;

-- Invite acceptances: (invitee person, inviter person) pairs, distinct; the
-- inviter is the person whose id is properties.inviter_id.
CREATE TABLE invite AS
SELECT DISTINCT e.person AS invitee, p.person AS inviter
FROM ev e JOIN person_of p ON p.id = json_extract_string(e.props, '$.inviter_id')
WHERE e.event = 'Invite Accepted';

-- Members of an account (docs/query/virality.md): the people with any message
-- (event or call) naming it, as the metadata records memberships, at their first.
CREATE TABLE member AS
SELECT m.account, p.person, min(m.t) AS t
FROM msg m JOIN person_of p ON p.id = coalesce(m.user_id, m.anon_id)
WHERE m.account IS NOT NULL GROUP BY m.account, p.person;

-- The key Flywheel lists a person by: their user id, else their (only) id.
CREATE TABLE person_key AS
SELECT p.person, coalesce(min(p.id) FILTER (WHERE p.id IN (SELECT user_id FROM msg WHERE user_id IS NOT NULL)), p.person) AS key
FROM person_of p GROUP BY p.person;
`;

// Nearest rank: the p-th percentile of n sorted values is the one at rank
// ⌈p·n⌉ (1-based). p is given as num/den so ⌈num·n/den⌉ is exact integer arithmetic.
const nearestRank = (expr, num, den) =>
  `CASE WHEN count(*) = 0 THEN NULL ELSE list_sort(list(${expr}))[(${num} * count(*) + ${den} - 1) // ${den}] END`;

/** The SQL of each metric for [F, T) (epoch ms) and fd/td (epoch days); cfg as load()'s. */
function metricSql(F, T, cfg) {
  const fd = F / DAY;
  const td = T / DAY;
  const inRange = (col) => `${col} >= ${F} AND ${col} < ${T}`;
  return {
    // signups: people whose sign-up time is in [from, to). A count: 0 when empty.
    signups: `SELECT count(*)::DOUBLE FROM signup WHERE ${inRange('s')}`,

    // "Activation rate within D days for signups in [from, to): people whose first
    // activation event is at most D×24h after their sign-up ÷ people who signed up."
    activation_rate_1d: `SELECT (count(*) FILTER (WHERE a IS NOT NULL AND a - s <= ${DAY}))::DOUBLE / nullif(count(*), 0)
                         FROM act WHERE ${inRange('s')}`,
    activation_rate_7d: `SELECT (count(*) FILTER (WHERE a IS NOT NULL AND a - s <= ${7 * DAY}))::DOUBLE / nullif(count(*), 0)
                         FROM act WHERE ${inRange('s')}`,

    // "TTFV: activation time − sign-up time, over people who activated"; "TTFV covers
    // people who signed up in the range and activated at any time (also after to);
    // it is in seconds with millisecond precision." Median = nearest rank p = 0.5.
    ttfv_median_seconds: `SELECT ${nearestRank('(a - s)::DOUBLE / 1000', 1, 2)}
                          FROM act WHERE ${inRange('s')} AND a IS NOT NULL`,
    // p90 = the value at rank ⌈0.9·n⌉.
    ttfv_p90_seconds: `SELECT ${nearestRank('(a - s)::DOUBLE / 1000', 9, 10)}
                       FROM act WHERE ${inRange('s')} AND a IS NOT NULL`,

    // "N-day retention (bounded): of the people who signed up on day d, the share with
    // an active event on day d+N"; "retention over [from, to) pools the signup days d
    // in [from, to − N days)"; "Retention pools cohorts: retained people summed over
    // cohorts ÷ cohort sizes summed."
    retention_d1: `SELECT count(ad.person)::DOUBLE / nullif(count(*), 0)
                   FROM signup s LEFT JOIN active_day ad ON ad.person = s.person AND ad.day = s.s // ${DAY} + 1
                   WHERE s.s // ${DAY} >= ${fd} AND s.s // ${DAY} < ${td - 1}`,
    retention_d7: `SELECT count(ad.person)::DOUBLE / nullif(count(*), 0)
                   FROM signup s LEFT JOIN active_day ad ON ad.person = s.person AND ad.day = s.s // ${DAY} + 7
                   WHERE s.s // ${DAY} >= ${fd} AND s.s // ${DAY} < ${td - 7}`,
    // "retention_w1 pools people who signed up on days in [from, to − 7 days); each
    // counts as retained if active in the calendar week (weeks start Monday) after the
    // week of sign-up." Epoch day 0 (1970-01-01) is a Thursday, so the Monday that
    // starts day d's week is d − (d + 3) mod 7; the next week is [ws + 7, ws + 14).
    retention_w1: `WITH c AS (SELECT person, s // ${DAY} AS d, s // ${DAY} - ((s // ${DAY} + 3) % 7) AS ws FROM signup
                              WHERE s // ${DAY} >= ${fd} AND s // ${DAY} < ${td - 7})
                   SELECT (count(*) FILTER (WHERE EXISTS (SELECT 1 FROM active_day ad WHERE ad.person = c.person
                                                           AND ad.day >= c.ws + 7 AND ad.day < c.ws + 14)))::DOUBLE
                          / nullif(count(*), 0) FROM c`,

    // "DAU/MAU for a day t: distinct active people on t ÷ distinct active people in
    // (t−30d, t]" (days t−29 … t); "dau_mau is the mean over days t in [from, to) of
    // DAU(t)/MAU(t)"; "dau_mau skips days whose MAU is 0 and is null if every day does."
    dau_mau: `WITH days AS (SELECT range AS d FROM range(${fd}, ${td})),
                   x AS (SELECT days.d, count(DISTINCT ad.person) FILTER (WHERE ad.day = days.d) AS dau,
                                count(DISTINCT ad.person) AS mau
                         FROM days LEFT JOIN active_day ad ON ad.day > days.d - 30 AND ad.day <= days.d
                         GROUP BY days.d)
              SELECT avg(dau::DOUBLE / mau) FILTER (WHERE mau > 0) FROM x`,
    // "wau and mau are taken on the last day of the range" (t = to − 1 day): distinct
    // active people in (t − 7d, t] and (t − 30d, t]. Counts: 0 when empty.
    wau: `SELECT count(DISTINCT person)::DOUBLE FROM active_day WHERE day > ${td - 1 - 7} AND day <= ${td - 1}`,
    mau: `SELECT count(DISTINCT person)::DOUBLE FROM active_day WHERE day > ${td - 1 - 30} AND day <= ${td - 1}`,

    // "free_to_paid_rate counts accounts created in the range whose first plan was
    // free and that reached a paid plan within 90 days of creation" ÷ the accounts
    // created in the range that started free ("An account starts free if its MRR at
    // creation is 0 (a trial is free)"); within 90 days = at most 90×24 h later.
    free_to_paid_rate: `SELECT (count(*) FILTER (WHERE paid_t IS NOT NULL AND paid_t - created <= ${90 * DAY}))::DOUBLE
                               / nullif(count(*), 0)
                        FROM acct WHERE ${inRange('created')} AND start_mrr = 0`,
    // "acv and time_to_convert_median_days cover accounts whose first paid plan began
    // in the range"; time to conversion = first paid time − creation, "in fractional
    // days, without a cap"; median by nearest rank. (An account that started paid has
    // its first paid plan begin at creation: 0 days.)
    time_to_convert_median_days: `SELECT ${nearestRank(`(paid_t - created)::DOUBLE / ${DAY}`, 1, 2)}
                                  FROM acct WHERE paid_t IS NOT NULL AND ${inRange('paid_t')}`,
    // "ACV = 12 × that plan's mrr"; "acv is the mean."
    acv: `SELECT avg(12 * paid_mrr) FROM acct WHERE paid_t IS NOT NULL AND ${inRange('paid_t')}`,

    // "NRR over [t0, t1) = MRR at t1 of the accounts that paid at t0 ÷ their MRR at
    // t0 (expansion and contraction included, new accounts excluded)"; MRR at t is
    // the mrr of the latest plan change at or before t.
    nrr: `WITH m AS (SELECT a.account,
                            coalesce((SELECT ps.mrr FROM plan_seg ps WHERE ps.account = a.account AND ps.t <= ${F}
                                      AND (ps.next_t IS NULL OR ps.next_t > ${F})), 0) AS m0,
                            coalesce((SELECT ps.mrr FROM plan_seg ps WHERE ps.account = a.account AND ps.t <= ${T}
                                      AND (ps.next_t IS NULL OR ps.next_t > ${T})), 0) AS m1
                     FROM (SELECT DISTINCT account FROM plan_change) a)
          SELECT sum(m1) / nullif(sum(m0), 0) FROM m WHERE m0 > 0`,
    // "expansion_mrr sums the positive MRR steps, inside the range, of accounts
    // already paying before the step": plan changes at t in [from, to) with MRR
    // before > 0 and after > before; the sum of (after − before). A sum: 0 when empty.
    expansion_mrr: `SELECT coalesce(sum(mrr - prev_mrr), 0)::DOUBLE FROM plan_seg
                    WHERE ${inRange('t')} AND prev_mrr > 0 AND mrr > prev_mrr`,

    // "k-factor: people who signed up in [from, to); for each, count invitees who
    // signed up within 30 days of the inviter's sign-up through an invite (Invite
    // Accepted naming the inviter); k = total ÷ signups." "k_factor counts distinct
    // invitees per inviter; an invitee may sign up after to if within 30 days of the
    // inviter's sign-up." Within 30 days = at or after the inviter's sign-up and at
    // most 30×24 h later.
    k_factor: `SELECT (SELECT count(*) FROM invite i
                       JOIN signup si ON si.person = i.inviter JOIN signup se ON se.person = i.invitee
                       WHERE i.invitee <> i.inviter AND si.s >= ${F} AND si.s < ${T}
                         AND se.s >= si.s AND se.s - si.s <= ${30 * DAY})::DOUBLE
                      / nullif((SELECT count(*) FROM signup WHERE ${inRange('s')}), 0)`,

    // ---- beyond the contract (docs/metrics.md) ----

    // signups_paid: sign-ups in range whose channel — the first of channel_properties
    // their sign-up event's properties (for a sign-up by identify, that identify's
    // traits) carry as a non-empty string — is a paid channel, ignoring case.
    // signups_organic: the others (no channel is organic). Counts: 0 when empty.
    signups_paid: `SELECT count(*) FILTER (WHERE ${paidExpr('obj')})::DOUBLE FROM signup WHERE ${inRange('s')}`,
    signups_organic: `SELECT count(*) FILTER (WHERE NOT ${paidExpr('obj')})::DOUBLE FROM signup WHERE ${inRange('s')}`,

    // onboarding_completion: of the sign-ups in range, the share with an event of
    // every configured step (any order) at or after their sign-up, at any time.
    // null without steps.
    onboarding_completion: cfg.onboardingSteps.length === 0 ? 'SELECT NULL' :
      `WITH done AS (SELECT su.person, count(DISTINCT e.event) AS n FROM signup su
                     JOIN ev e ON e.person = su.person AND e.t >= su.s AND e.event IN (${sqlList(cfg.onboardingSteps)})
                     WHERE ${inRange('su.s')} GROUP BY su.person)
       SELECT (SELECT count(*) FROM done WHERE n = ${new Set(cfg.onboardingSteps).size})::DOUBLE
              / nullif((SELECT count(*) FROM signup WHERE ${inRange('s')}), 0)`,

    // feature_breadth: over the people active on a day in range, the mean number of
    // distinct core features (events) they used in range. null without features.
    feature_breadth: cfg.coreFeatures.length === 0 ? 'SELECT NULL' :
      `WITH a AS (SELECT DISTINCT person FROM active_day WHERE day >= ${fd} AND day < ${td}),
            u AS (SELECT person, count(DISTINCT event) AS n FROM ev
                  WHERE event IN (${sqlList(cfg.coreFeatures)}) AND ${inRange('t')} GROUP BY person)
       SELECT sum(coalesce(u.n, 0))::DOUBLE / nullif(count(*), 0) FROM a LEFT JOIN u USING (person)`,

    // active_days_per_week: over the full calendar weeks (Monday..Sunday) inside
    // [from, to), the active days of each (person, week) with any, averaged.
    active_days_per_week: (() => {
      const monday = (d) => d - ((d + 3) % 7);
      const w0 = monday(fd) === fd ? fd : monday(fd) + 7;
      const wend = td > w0 ? w0 + Math.floor((td - w0) / 7) * 7 : w0;
      return `SELECT count(*)::DOUBLE / nullif(count(DISTINCT person || '|' || (day - (day + 3) % 7)), 0)
              FROM active_day WHERE day >= ${w0} AND day < ${wend}`;
    })(),

    // grr: like nrr, each account's MRR at to capped at its MRR at from (no expansion).
    grr: `WITH m AS (SELECT a.account,
                            coalesce((SELECT ps.mrr FROM plan_seg ps WHERE ps.account = a.account AND ps.t <= ${F}
                                      AND (ps.next_t IS NULL OR ps.next_t > ${F})), 0) AS m0,
                            coalesce((SELECT ps.mrr FROM plan_seg ps WHERE ps.account = a.account AND ps.t <= ${T}
                                      AND (ps.next_t IS NULL OR ps.next_t > ${T})), 0) AS m1
                     FROM (SELECT DISTINCT account FROM plan_change) a)
          SELECT sum(least(m1, m0)) / nullif(sum(m0), 0) FROM m WHERE m0 > 0`,
    // contraction_mrr and churned_mrr mirror expansion_mrr: plan changes at t in
    // [from, to) of accounts paying before the step; a step down to a positive MRR
    // is contraction (before − after), a step to 0 is churn (before).
    contraction_mrr: `SELECT coalesce(sum(prev_mrr - mrr), 0)::DOUBLE FROM plan_seg
                      WHERE ${inRange('t')} AND prev_mrr > 0 AND mrr > 0 AND mrr < prev_mrr`,
    churned_mrr: `SELECT coalesce(sum(prev_mrr), 0)::DOUBLE FROM plan_seg
                  WHERE ${inRange('t')} AND prev_mrr > 0 AND mrr = 0`,
  };
}

/** SQL: is the channel of the sign-up object `obj` a paid one? (never null) */
function paidExpr(obj) {
  const chan = CHANNEL_PROPERTIES.map((k) =>
    `CASE WHEN json_type(${obj}, '$.${k}') = 'VARCHAR' AND json_extract_string(${obj}, '$.${k}') <> ''
          THEN json_extract_string(${obj}, '$.${k}') END`).join(', ');
  return `coalesce(lower(coalesce(${chan})) IN (${sqlList(PAID_CHANNELS)}), false)`;
}

// ---- periods (UTC; weeks start Monday), as the revenue analysis cuts them ----
function periodFloor(period, ms) {
  const d = new Date(ms);
  if (period === 'day') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const day = Math.floor(ms / DAY);
  return (day - ((day + 3) % 7 + 7) % 7) * DAY;
}
function periodNext(period, start) {
  if (period === 'day') return start + DAY;
  if (period === 'week') return start + 7 * DAY;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
/** Boundaries of the periods of [F, T): F, each period start inside, T. */
export function boundaries(F, T, period) {
  const b = [F];
  for (let t = periodNext(period, periodFloor(period, F)); t < T; t = periodNext(period, t)) b.push(t);
  b.push(T);
  return b;
}

export class Oracle {
  constructor(instance, conn) {
    this.instance = instance;
    this.conn = conn;
  }

  /** lines: NDJSON strings or message objects (Segment spec), in file order. */
  static async load(lines, config = {}) {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    await conn.run(SCHEMA);
    const app = await conn.createAppender('raw');
    let seq = 0;
    for (const line of lines) {
      let m = line;
      if (typeof line === 'string') {
        if (!line.trim()) continue;
        try {
          m = JSON.parse(line);
        } catch {
          continue; // an unparsable line is skipped, as by `flywheel import`
        }
      }
      const type = typeof m.type === 'string' ? m.type.toLowerCase() : null;
      const userId = idText(m.userId);
      const anonId = idText(m.anonymousId);
      // Lines Flywheel skips with a warning are skipped here too (docs/ingest.md).
      if (!['track', 'page', 'screen', 'identify', 'group', 'alias'].includes(type)) continue;
      if (!userId && !anonId) continue;
      if (type === 'track' && (typeof m.event !== 'string' || !m.event)) continue;
      if (type === 'group' && !idText(m.groupId)) continue;
      if (type === 'alias' && !idText(m.previousId)) continue;
      if (typeof m.timestamp !== 'string') throw new Error(`oracle: every message needs a timestamp: ${JSON.stringify(m)}`);
      const row = [seq++, type, userId, anonId, idText(m.messageId), m.timestamp, type === 'track' ? m.event : null,
        jsonText(m.properties), jsonText(m.traits), type === 'group' ? idText(m.groupId) : null,
        type === 'alias' ? idText(m.previousId) : null, jsonText(m.context)];
      app.appendInteger(row[0]);
      for (const v of row.slice(1)) (v === null ? app.appendNull() : app.appendVarchar(v));
      app.endRow();
    }
    app.closeSync();
    await conn.run(DERIVE);
    const o = new Oracle(instance, conn);
    o.cfg = { coreFeatures: config.coreFeatures || [], onboardingSteps: config.onboardingSteps || [] };
    return o;
  }

  async scalar(sql) {
    const r = await this.conn.runAndReadAll(sql);
    const v = r.getRows()[0][0];
    if (v === null || v === undefined) return null;
    return typeof v === 'bigint' ? Number(v) : Number(v);
  }

  async over(F, T) {
    const sqls = metricSql(F, T, this.cfg);
    const out = {};
    for (const k of ALL_METRICS) out[k] = k === 'feature_adoption' ? await this.adoption(F, T) : await this.scalar(sqls[k]);
    return out;
  }

  /** feature_adoption over [F, T): {feature: share of the people active on a day in
   * range who used it in range}, the distinct core features in config order; null
   * without features or without anybody active. */
  async adoption(F, T) {
    const features = [...new Set(this.cfg.coreFeatures)];
    if (!features.length) return null;
    const active = await this.scalar(`SELECT count(DISTINCT person) FROM active_day WHERE day >= ${F / DAY} AND day < ${T / DAY}`);
    if (!active) return null;
    const rows = await this.rows(`
      WITH a AS (SELECT DISTINCT person FROM active_day WHERE day >= ${F / DAY} AND day < ${T / DAY})
      SELECT e.event, count(DISTINCT e.person)::DOUBLE AS n FROM ev e JOIN a USING (person)
      WHERE e.event IN (${sqlList(features)}) AND e.t >= ${F} AND e.t < ${T} GROUP BY e.event`);
    const n = Object.fromEntries(rows.map((r) => [r.event, Number(r.n)]));
    return Object.fromEntries(features.map((f) => [f, (n[f] || 0) / active]));
  }

  /** { metric: { value, previous } } for [from, to), days as YYYY-MM-DD: the 17
   * of the contract and EXTRA_METRICS. */
  async metrics(from, to) {
    const F = dayMs(from);
    const T = dayMs(to);
    if (!(T > F)) throw new Error(`oracle: empty range ${from}..${to}`);
    const cur = await this.over(F, T);
    const prev = await this.over(F - (T - F), F);
    return Object.fromEntries(ALL_METRICS.map((k) => [k, { value: cur[k], previous: prev[k] }]));
  }

  /**
   * The revenue analysis (docs/query/revenue.md) over [from, to) by period:
   * { periods: [row…], range: row }, row = { start, end, mrr_start, mrr_end,
   * paying_start, paying_end, new, new_accounts, reactivation, …, churn_accounts,
   * nrr, grr }; and with people = {period: index or 'range', movement}, the
   * accounts behind that movement, sorted.
   *
   * Each account's MRR at a boundary b is the mrr of its latest plan change at or
   * before b (0 without one). Over a period [b0, b1) an account moves from m0 =
   * MRR(b0) to m1 = MRR(b1): new if m0 = 0 < m1 and no plan change at or before b0
   * was paid, reactivation if m0 = 0 < m1 and one was; expansion m1 − m0 if 0 < m0
   * < m1; contraction m0 − m1 if 0 < m1 < m0; churn m0 if m0 > 0 = m1. NRR = Σ m1
   * ÷ Σ m0 over the accounts with m0 > 0; GRR = Σ min(m0, m1) ÷ Σ m0 over them.
   */
  async revenue(from, to, period = 'month', people = null) {
    const F = dayMs(from);
    const T = dayMs(to);
    const b = boundaries(F, T, period);
    const periods = await this.revenueRows(b);
    const range = (await this.revenueRows([F, T]))[0];
    const out = { periods, range };
    if (people) {
      const bb = people.period === 'range' ? [F, T] : [b[people.period], b[people.period + 1]];
      const rows = await this.rows(`${this.movementSql(bb)}
        SELECT account FROM x WHERE movement = ${sqlStr(people.movement)} ORDER BY account`);
      out.people = rows.map((r) => r.account);
    }
    return out;
  }

  movementSql(b) {
    return `WITH b(k, t) AS (VALUES ${b.map((t, k) => `(${k}, ${t})`).join(', ')}),
      a AS (SELECT DISTINCT account FROM plan_change),
      m AS (SELECT a.account, b.k, b.t,
                   coalesce((SELECT ps.mrr FROM plan_seg ps WHERE ps.account = a.account AND ps.t <= b.t
                             AND (ps.next_t IS NULL OR ps.next_t > b.t)), 0) AS mrr,
                   EXISTS (SELECT 1 FROM plan_change pc WHERE pc.account = a.account AND pc.mrr > 0 AND pc.t <= b.t) AS paid_before
            FROM a CROSS JOIN b),
      x AS (SELECT s.k, s.account, s.mrr AS m0, e.mrr AS m1,
                   CASE WHEN s.mrr = 0 AND e.mrr > 0 AND NOT s.paid_before THEN 'new'
                        WHEN s.mrr = 0 AND e.mrr > 0 THEN 'reactivation'
                        WHEN s.mrr > 0 AND e.mrr = 0 THEN 'churn'
                        WHEN s.mrr > 0 AND e.mrr > s.mrr THEN 'expansion'
                        WHEN s.mrr > 0 AND e.mrr < s.mrr THEN 'contraction' END AS movement
            FROM m s JOIN m e ON e.account = s.account AND e.k = s.k + 1)`;
  }

  async revenueRows(b) {
    const moves = ['new', 'reactivation', 'expansion', 'contraction', 'churn'];
    const amount = { new: 'm1', reactivation: 'm1', expansion: 'm1 - m0', contraction: 'm0 - m1', churn: 'm0' };
    const rows = await this.rows(`${this.movementSql(b)},
      k AS (SELECT range AS k FROM range(0, ${b.length - 1}))
      SELECT k.k,
             coalesce(sum(m0), 0)::DOUBLE AS mrr_start, coalesce(sum(m1), 0)::DOUBLE AS mrr_end,
             count(*) FILTER (WHERE m0 > 0) AS paying_start, count(*) FILTER (WHERE m1 > 0) AS paying_end,
             ${moves.map((mv) => `coalesce(sum(${amount[mv]}) FILTER (WHERE movement = '${mv}'), 0)::DOUBLE AS "${mv}",
             count(*) FILTER (WHERE movement = '${mv}') AS "${mv}_accounts"`).join(', ')},
             sum(m1) FILTER (WHERE m0 > 0) / nullif(sum(m0) FILTER (WHERE m0 > 0), 0) AS nrr,
             sum(least(m0, m1)) FILTER (WHERE m0 > 0) / nullif(sum(m0) FILTER (WHERE m0 > 0), 0) AS grr
      FROM k LEFT JOIN x ON x.k = k.k GROUP BY k.k ORDER BY k.k`);
    return rows.map((r) => {
      const row = { start: dayStr(b[Number(r.k)]), end: dayStr(b[Number(r.k) + 1]) };
      for (const [key, v] of Object.entries(r)) if (key !== 'k') row[key] = v === null ? null : Number(v);
      return row;
    });
  }

  /**
   * The virality analysis (docs/query/virality.md) of the people who signed up in
   * [from, to), window in days: { signups, inviters, invites_sent, invites_accepted,
   * invitees_signed_up, invitees_activated, k_factor, workspaces: { created,
   * with_2_members, with_5_members } }, and people: { status: [keys, sorted] }.
   */
  async virality(from, to, windowDays = 30) {
    const F = dayMs(from);
    const T = dayMs(to);
    const W = Math.round(windowDays * DAY);
    const cte = `WITH c AS (SELECT person, s FROM signup WHERE s >= ${F} AND s < ${T}),
      sent AS (SELECT e.person FROM ev e JOIN c USING (person) WHERE e.event = 'Invite Sent'),
      pairs AS (SELECT DISTINCT i.inviter, i.invitee, c.s FROM invite i JOIN c ON c.person = i.inviter WHERE i.invitee <> i.inviter),
      su AS (SELECT p.inviter, p.invitee FROM pairs p JOIN signup se ON se.person = p.invitee
             WHERE se.s >= p.s AND se.s - p.s <= ${W}),
      act_ AS (SELECT su.* FROM su JOIN act a ON a.person = su.invitee AND a.a IS NOT NULL),
      ws AS (SELECT a.account, count(mb.person) FILTER (WHERE mb.t - a.created <= ${W}) AS n
             FROM account a LEFT JOIN member mb USING (account)
             WHERE a.created >= ${F} AND a.created < ${T} GROUP BY a.account)`;
    const one = async (sql) => this.scalar(`${cte} ${sql}`);
    const signups = await one('SELECT count(*) FROM c');
    const out = {
      signups,
      inviters: await one('SELECT count(DISTINCT person) FROM sent'),
      invites_sent: await one('SELECT count(*) FROM sent'),
      invites_accepted: await one('SELECT count(*) FROM pairs'),
      invitees_signed_up: await one('SELECT count(*) FROM su'),
      invitees_activated: await one('SELECT count(*) FROM act_'),
    };
    out.k_factor = signups ? out.invitees_signed_up / signups : null;
    out.workspaces = {
      created: await one('SELECT count(*) FROM ws'),
      with_2_members: await one('SELECT count(*) FROM ws WHERE n >= 2'),
      with_5_members: await one('SELECT count(*) FROM ws WHERE n >= 5'),
    };
    const keys = async (sql) => (await this.rows(`${cte} SELECT DISTINCT k.key FROM (${sql}) x JOIN person_key k ON k.person = x.p ORDER BY k.key`)).map((r) => r.key);
    out.people = {
      signups: await keys('SELECT person AS p FROM c'),
      inviters: await keys('SELECT person AS p FROM sent'),
      invitees_accepted: await keys('SELECT invitee AS p FROM pairs'),
      invitees_signed_up: await keys('SELECT invitee AS p FROM su'),
      invitees_activated: await keys('SELECT invitee AS p FROM act_'),
      workspaces_2: (await this.rows(`${cte} SELECT account FROM ws WHERE n >= 2 ORDER BY account`)).map((r) => r.account),
      workspaces_5: (await this.rows(`${cte} SELECT account FROM ws WHERE n >= 5 ORDER BY account`)).map((r) => r.account),
    };
    return out;
  }

  /** Debug helper: rows of any SQL over the derived tables. */
  async rows(sql) {
    const r = await this.conn.runAndReadAll(sql);
    return r.getRowObjectsJson();
  }

  close() {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

export { dayMs, dayStr };
