// cohorts/generate.mjs — a deterministic (seeded) Segment-spec dataset for the
// retention, stickiness, lifecycle and trends tests: ~300 people, ~40 accounts,
// ~10k lines over 70 days from 2026-01-01 (a Thursday), with the edge cases of
// the period definitions (docs/query/*.md, DESIGN.md "Fine print"):
//
//   sign-ups     `Signed Up` by userId; by an anonymous id joined later by identify
//                or by alias (earlier anonymous visits then count for the person);
//                no `Signed Up` but an identify carrying created_at (the sign-up is
//                that identify's time; some such people send no event at all); never
//                (active only); anonymous and never joined (a person of its own).
//   boundaries   events at 23:59:59.999 and 00:00:00.000 UTC, on Sunday night /
//                Monday morning (weeks start Monday), on 01-31 / 02-01 and 02-28 /
//                03-01 (month lengths); timestamps written with +05:30 and -08:00
//                offsets (some crossing the UTC day, week or month).
//   activity     `$feature_flag_called` alone on some days (inactive), identify calls
//                alone on some days (not events), `Project Created` before and after
//                sign-up (activation is at or after it), late arrivals (lines out of
//                time order).
//   dedup        repeated messageIds later in the file with other content (another
//                time, another event): the first copy wins.
//   accounts     context.groupId on the events of account members (not on events
//                before they joined).
//   properties   `channel` (organic/paid) on `Signed Up`; `plan` (free/pro/team or
//                absent) on tracks; `ref` on pages, 30 values with a skewed
//                distribution (a breakdown has a "$other").
//
// generate() returns { lines, days }: NDJSON lines in file order (what `flywheel
// import` reads and the oracle loads) and the number of days.
import { mulberry32, iso, DAY, HOUR, MIN, DAY0 } from '../metrics/generate.mjs';

export { DAY, DAY0 };

export function generate({ seed = 20260105, nPeople = 300, nAccounts = 40, nDays = 70 } = {}) {
  const rnd = mulberry32(seed);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const chance = (p) => rnd() < p;
  const out = []; // [t, message]
  const late = []; // [t, message]: appended after everything else
  const dups = [];
  let nid = 0;
  const newId = () => `k${(++nid).toString(36).padStart(5, '0')}`;

  // a time somewhere in day d, now and then exactly at its first or last millisecond
  const timeIn = (d) => {
    const r = rnd();
    if (r < 0.05) return DAY0 + d * DAY;
    if (r < 0.1) return DAY0 + d * DAY + DAY - 1;
    return DAY0 + d * DAY + int(0, DAY - 1);
  };
  // how a timestamp is written: mostly UTC, sometimes with an offset
  const offset = () => {
    const r = rnd();
    return r < 0.08 ? 330 : r < 0.13 ? -480 : 0;
  };
  const emit = (m, t, o = offset()) => {
    const msg = { ...m, messageId: newId(), timestamp: iso(t, o) };
    (chance(0.02) ? late : out).push([t, msg]);
    if (chance(0.03)) dups.push(msg);
    return msg;
  };

  const accounts = Array.from({ length: nAccounts }, (_, a) => `acct_${String(a).padStart(2, '0')}`);
  const ACTIVE = ['Report Viewed', 'Task Completed', 'Comment Added', 'File Uploaded'];
  const PLANS = ['free', 'pro', 'team', null];
  const ref = () => `ref${String(Math.min(29, Math.floor(-Math.log(1 - rnd()) * 6))).padStart(2, '0')}`;

  for (let i = 0; i < nPeople; i++) {
    const uid = `u_${String(i).padStart(3, '0')}`;
    const anon = `anon_${(i * 2654435761 >>> 0).toString(16)}`;
    const r = rnd();
    const kind = r < 0.35 ? 'user' : r < 0.55 ? 'anon' : r < 0.65 ? 'alias' : r < 0.82 ? 'created' : r < 0.92 ? 'none' : 'anon_only';
    const sd = int(0, nDays - 10);
    let S = timeIn(sd);
    if (chance(0.05)) S = DAY0 + (sd - ((sd + 3) % 7) + 6) * DAY + DAY - 1; // its week's Sunday, 23:59:59.999 (day 0 is a Thursday)
    const joinT = S + 2 * MIN;
    const anonUntil = kind === 'anon_only' ? Infinity : kind === 'anon' || kind === 'alias' ? joinT : -Infinity;
    const idAt = (t) => (t < anonUntil ? { anonymousId: anon } : { userId: uid });
    const account = chance(0.7) ? pick(accounts) : null;
    const joinAcct = S + int(0, 3) * DAY;
    const ctx = (t) => (account && t >= joinAcct ? { context: { groupId: account } } : {});
    const track = (t, event, properties = {}, o) => emit({ type: 'track', ...idAt(t), event, properties, ...ctx(t) }, t, o);
    const page = (t, o) => emit({ type: chance(0.8) ? 'page' : 'screen', ...idAt(t), name: pick(['Home', 'Docs', 'Pricing']), properties: { ref: ref() }, ...ctx(t) }, t, o);

    // anonymous visits before sign-up (they count for the person once joined)
    if (kind === 'anon' || kind === 'alias' || kind === 'anon_only')
      for (let k = int(0, 2); k > 0; k--) page(S - k * DAY + int(-HOUR, HOUR));
    // sign-up
    const channel = chance(0.6) ? 'organic' : 'paid';
    if (kind === 'user' || kind === 'anon' || kind === 'alias' || kind === 'anon_only') track(S, 'Signed Up', { channel });
    if (kind === 'anon') emit({ type: 'identify', userId: uid, anonymousId: anon, traits: { email: `${uid}@x.test` } }, joinT, 0);
    if (kind === 'alias') emit({ type: 'alias', previousId: anon, userId: uid }, joinT, 0);
    if (kind === 'created') emit({ type: 'identify', userId: uid, traits: { created_at: iso(S - 9 * DAY) } }, S, 0);
    if (kind === 'created' && chance(0.15)) continue; // signed up, never sends an event
    // activation: before sign-up, soon after, later, or never
    const a = rnd();
    if (a < 0.1) track(S - int(HOUR, DAY), 'Project Created');
    else if (a < 0.5) track(S + int(0, 2 * DAY), 'Project Created');
    else if (a < 0.65) track(S + int(3 * DAY, 20 * DAY), 'Project Created');
    // activity on later days: a habit that fades
    const loyalty = rnd();
    for (let d = Math.floor((S - DAY0) / DAY); d < nDays; d++) {
      const age = d - (S - DAY0) / DAY;
      if (!chance(loyalty * Math.exp(-age / (10 + 40 * loyalty)))) {
        if (chance(0.04)) track(timeIn(d), '$feature_flag_called', { flag: 'beta' }); // inactive alone
        if (chance(0.03)) emit({ type: 'identify', ...idAt(timeIn(d)), traits: { seen: d } }, timeIn(d)); // not an event
        continue;
      }
      for (let k = int(1, 4); k > 0; k--) {
        const t = timeIn(d);
        if (chance(0.25)) page(t);
        else track(t, pick(ACTIVE), { plan: pick(PLANS) ?? undefined });
      }
    }
  }

  // hand-placed boundary events (their own people, so their effect is plain)
  const edge = (n, events) => {
    const uid = `edge_${n}`;
    for (const [when, event, o] of events) {
      const t = Date.parse(when);
      emit({ type: 'track', userId: uid, event, properties: { plan: 'pro' }, context: { groupId: 'acct_edge' } }, t, o ?? 0);
    }
  };
  edge('sun_mon', [['2026-01-11T10:00:00.000Z', 'Signed Up'], ['2026-01-11T23:59:59.999Z', 'Report Viewed'], ['2026-01-12T00:00:00.000Z', 'Report Viewed']]);
  edge('month_end', [['2026-01-20T10:00:00.000Z', 'Signed Up'], ['2026-01-31T23:59:59.999Z', 'Task Completed'], ['2026-02-01T00:00:00.000Z', 'Task Completed'],
    ['2026-02-28T23:59:59.999Z', 'Task Completed'], ['2026-03-01T00:00:00.000Z', 'Task Completed']]);
  // written +05:30 on 02-01 at 05:29:59.999 local = 01-31 23:59:59.999 UTC; -08:00 on 01-31 16:00 = 02-01 00:00 UTC
  edge('offsets', [['2026-01-25T12:00:00.000Z', 'Signed Up'], ['2026-01-31T23:59:59.999Z', 'Report Viewed', 330], ['2026-02-01T00:00:00.000Z', 'Report Viewed', -480],
    ['2026-02-08T23:59:59.999Z', 'Comment Added', 330], ['2026-02-09T00:00:00.000Z', 'Comment Added', -480]]);

  out.sort((x, y) => x[0] - y[0]);
  const lines = [...out, ...late].map(([, m]) => JSON.stringify(m));
  // duplicates: the same messageId with other content, later in the file (dropped)
  for (const m of dups) {
    const copy = { ...m, timestamp: iso(Date.parse(m.timestamp) - int(1, 5) * DAY) };
    if (copy.type === 'track' && chance(0.5)) copy.event = 'Report Viewed';
    lines.push(JSON.stringify(copy));
  }
  return { lines, days: nDays };
}
