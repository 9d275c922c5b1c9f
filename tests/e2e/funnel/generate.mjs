// funnel/generate.mjs — a deterministic (seeded) Segment-spec dataset for the
// funnel oracle: ~420 people in ~40 accounts, ~10k events over 60 days from
// 2026-01-05 (a Monday), shaped like a SaaS sign-up flow and full of the edge
// cases of the funnel definition (docs/query/funnel.md):
//
//   flow        page views, `Signed Up` {channel organic/paid/partner, or none},
//               `Project Created`, `Report Viewed` (often, so repeated steps have
//               choices), `Invite Sent`, `Upgraded` {plan}, `Cancelled`
//               {reason} (the exclusion), `Settings Updated` (noise between steps).
//   identity    people browsing and even signing up anonymously, then joined by
//               identify (their anonymous events count for them); anonymous
//               visitors never joined; a track carrying both ids.
//   accounts    context.groupId on most events of account members, not all (so
//               per-account funnels differ from per-person ones).
//   windows     `Project Created` exactly 1 day, 7 days and 2 hours after sign-up,
//               and 1 ms more; at the sign-up's millisecond (equal times);
//               `Invite Sent` exactly 7 days after sign-up and 7 days + 1 ms.
//   days        events at 23:59:59.999 and 00:00:00.000 UTC, range edges.
//   re-entries  a second `Signed Up` weeks later (several first-step events).
//   pending     sign-ups exactly 14 days before EDGE_AS_OF, and 1 ms earlier.
//   duplicates  messageIds sent again later in the file, some with other content
//               (another event, another time): the first copy wins.
//
// generate() returns { lines, start, end }: NDJSON lines in file order, and the
// data's first day and the day after its last event (YYYY-MM-DD).
// CLI: node funnel/generate.mjs OUT.ndjson [seed]
import fs from 'node:fs';

export const DAY = 86400000;
export const HOUR = 3600000;
export const MIN = 60000;
export const DAY0 = Date.UTC(2026, 0, 5);
export const EDGE_AS_OF = '2026-03-10T00:00:00.000Z'; // see "the pending/dropped edge" 

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generate({ seed = 20260105, nPeople = 420, nAccounts = 40, nDays = 60 } = {}) {
  const rnd = mulberry32(seed);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const chance = (p) => rnd() < p;
  const out = []; // [time, message]
  const dups = [];
  let nid = 0;
  const push = (t, m) => {
    const msg = { messageId: `fm${(++nid).toString(36).padStart(5, '0')}`, timestamp: new Date(t).toISOString(), ...m };
    out.push([t, msg]);
    if (chance(0.015)) dups.push([t, msg]);
    return msg;
  };

  for (let i = 0; i < nPeople; i++) {
    const uid = `u_${String(i).padStart(3, '0')}`;
    const anon = `anon_${(Math.imul(i + 1, 2654435761) >>> 0).toString(16)}`;
    const account = chance(0.8) ? `acct_${String(int(0, nAccounts - 1)).padStart(2, '0')}` : null;
    const kind = pick(['user', 'user', 'anon_then_identify', 'anon_then_identify', 'anon_only']);
    const day = int(0, nDays - 10);
    let t = DAY0 + day * DAY + int(0, DAY - 1);
    if (chance(0.05)) t = DAY0 + day * DAY + DAY - 1; // 23:59:59.999
    if (chance(0.05)) t = DAY0 + day * DAY; // 00:00:00.000
    let identified = kind === 'user';
    const identifyAt = kind === 'anon_then_identify' ? int(0, 6) : Infinity; // after this many events
    let n = 0;
    const ids = () => (identified ? (chance(0.1) ? { userId: uid, anonymousId: anon } : { userId: uid }) : { anonymousId: anon });
    const ctx = () => (account && chance(0.85) ? { context: { groupId: account } } : {});
    const emit = (at, event, properties = {}) => {
      if (!identified && n >= identifyAt) {
        push(at - 1, { type: 'identify', userId: uid, anonymousId: anon, traits: { email: `${uid}@example.test` } });
        identified = true;
      }
      n++;
      if (event === '$pageview') return push(at, { type: 'page', name: pick(['Home', 'Pricing', 'Docs']), properties: {}, ...ids(), ...ctx() });
      return push(at, { type: 'track', event, properties, ...ids(), ...ctx() });
    };

    // browse before signing up
    for (let k = int(0, 4); k > 0; k--) {
      emit(t, '$pageview');
      t += int(10, 600) * 1000;
    }
    if (!chance(0.85)) continue; // never signs up: page views only
    const channel = pick(['organic', 'paid', 'partner', 'organic', null]);
    const su = t;
    emit(su, 'Signed Up', channel ? { channel } : {});
    if (chance(0.2)) emit(su + int(1, 30) * 1000, 'Settings Updated');
    // Project Created: exact window edges, the same millisecond, usual delays, never
    const r = rnd();
    let pc = null;
    if (r < 0.04) pc = su + DAY;
    else if (r < 0.07) pc = su + DAY + 1;
    else if (r < 0.10) pc = su + 7 * DAY;
    else if (r < 0.13) pc = su + 7 * DAY + 1;
    else if (r < 0.16) pc = su + 2 * HOUR;
    else if (r < 0.18) pc = su + 2 * HOUR + 1;
    else if (r < 0.22) pc = su; // equal times: not strictly after
    else if (r < 0.55) pc = su + int(1, 120) * MIN;
    else if (r < 0.75) pc = su + int(2, 72) * HOUR;
    else if (r < 0.85) pc = su + int(4, 20) * DAY;
    if (pc !== null) {
      if (chance(0.5)) emit(su + Math.floor((pc - su) / 2) + 1, 'Report Viewed');
      emit(pc, 'Project Created');
      for (let k = int(0, 5), at = pc; k > 0; k--) {
        at += int(1, 48) * HOUR;
        emit(at, pick(['Report Viewed', 'Report Viewed', '$pageview', 'Settings Updated']));
      }
    }
    // Invite Sent: exactly 7 days after sign-up, 1 ms more, or some time
    const q = rnd();
    if (q < 0.05) emit(su + 7 * DAY, 'Invite Sent');
    else if (q < 0.1) emit(su + 7 * DAY + 1, 'Invite Sent');
    else if (q < 0.45) emit(su + int(1, 200) * HOUR, 'Invite Sent');
    if (chance(0.1)) emit(su + int(1, 200) * HOUR, 'Cancelled', { reason: pick(['price', 'features']) });
    if (chance(0.35)) emit(su + int(2, 400) * HOUR, 'Upgraded', { plan: pick(['pro', 'business', 'team']) });
    if (chance(0.3)) emit(su + int(3, 500) * HOUR, 'Report Viewed');
    // usage sessions over the following weeks: bursts of a few events
    for (let k = int(2, 9), at = su; k > 0; k--) {
      at += int(6, 120) * HOUR;
      for (let e = int(1, 5); e > 0; e--) {
        emit(at, pick(['Report Viewed', 'Report Viewed', '$pageview', '$pageview', 'Settings Updated', 'Project Created', 'Invite Sent']));
        at += int(5, 900) * 1000;
      }
    }
    if (chance(0.08)) { // comes back: a second sign-up and more
      const su2 = su + int(15, 30) * DAY;
      emit(su2, 'Signed Up', { channel: pick(['organic', 'paid']) });
      if (chance(0.7)) emit(su2 + int(1, 48) * HOUR, 'Project Created');
      if (chance(0.5)) emit(su2 + int(49, 96) * HOUR, 'Invite Sent');
    }
  }
  // the pending/dropped edge at EDGE_AS_OF with a 14-day window: a sign-up exactly
  // 14 days before (its window is still open: pending) and 1 ms earlier (dropped)
  for (const [i, back] of [[0, 14 * DAY], [1, 14 * DAY + 1], [2, 14 * DAY], [3, 14 * DAY + 1]]) {
    const su = Date.parse(EDGE_AS_OF) - back;
    push(su, { type: 'track', event: 'Signed Up', userId: `u_edge${i}`, properties: { channel: 'paid' } });
    if (i >= 2) push(su + HOUR, { type: 'track', event: 'Project Created', userId: `u_edge${i}`, properties: {} });
  }
  // a day of plain noise: page views and settings at midnight edges
  for (let k = 0; k < 200; k++) {
    const at = DAY0 + int(0, nDays - 1) * DAY + pick([0, DAY - 1, int(0, DAY - 1)]);
    push(at, { type: 'track', event: 'Settings Updated', anonymousId: `visitor_${int(0, 150)}`, properties: {} });
  }
  out.sort((a, b) => a[0] - b[0]); // stable: equal times keep emission order
  const lines = out.map(([, m]) => JSON.stringify(m));
  // duplicates at the end: identical copies, and copies that say something else
  for (const [t, m] of dups) {
    const copy = { ...m };
    const r = rnd();
    if (r < 0.3) copy.timestamp = new Date(t - 3 * DAY).toISOString();
    else if (r < 0.6 && copy.type === 'track') copy.event = 'Upgraded';
    lines.push(JSON.stringify(copy));
  }
  const last = Math.max(...out.map(([t]) => t));
  const dayStr = (ms) => new Date(ms).toISOString().slice(0, 10);
  return { lines, start: dayStr(DAY0), end: dayStr(Math.floor(last / DAY) * DAY + DAY) };
}

if (process.argv[1] && process.argv[1].endsWith('generate.mjs') && process.argv[2]) {
  const g = generate({ seed: Number(process.argv[3] || 20260105) });
  fs.writeFileSync(process.argv[2], g.lines.join('\n') + '\n');
  console.log(`${g.lines.length} lines, ${g.start} .. ${g.end}`);
}
