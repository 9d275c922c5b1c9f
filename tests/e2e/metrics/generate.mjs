// metrics/generate.mjs — a deterministic (seeded) Segment-spec dataset for the
// metrics oracle: ~325 people, 60 accounts, ~70 days from 2026-01-01, and every
// edge case of ../../../../shared/DESIGN.md's metric definitions and "Fine print":
//
//   sign-ups     `Signed Up` tracks (channel organic/paid) by userId, by an anonymous
//                id later joined by identify or by alias, and people with no
//                `Signed Up` whose first identify carrying traits.created_at is the
//                sign-up (an earlier identify without created_at does not count);
//                a `Signed Up` after such an identify still wins; a second
//                `Signed Up` does not move the sign-up; an anonymous id that signs up
//                and is never joined is a person of its own.
//   activation   `Project Created` within 1 day, within 7, later, never; exactly
//                24 h and exactly 7×24 h after sign-up, 24 h + 1 ms, at the sign-up
//                millisecond; one only *before* sign-up (does not activate).
//   activity     tracks, pages and screens on later days, events at 23:59:59.999
//                and 00:00:00.000 UTC,
//                timestamps written with +05:30 and -08:00 offsets (crossing the UTC
//                day), `$feature_flag_called` (inactive) alone on some days, identify
//                calls alone on some days (calls are not activity), anonymous
//                activity before the identify that joins it, anonymous visitors never
//                joined, a track carrying both ids (does not join).
//   dedup        repeated messageIds — identical copies and copies with other
//                content (earlier time, other event, other mrr, other traits): the
//                first copy in the file wins.
//   accounts     `group` calls with traits (name, created_at, plan, mrr),
//                context.groupId on tracks and pages, `Plan Changed` tracks
//                {plan, mrr}, group calls with plan+mrr (a plan change) vs plan or mrr
//                alone (not one), started free / trial / paid, upgrades within and
//                after 90 days (and exactly 90×24 h), expansions, contractions, churn
//                (mrr 0) and re-subscription, a created_at trait earlier than the
//                first event (and later, which changes nothing), a created_at
//                corrected by a later group call (its latest value counts; one moves
//                an account from December into January), an event naming the
//                account before its first group call, plan changes exactly at
//                midnight of range boundaries, fractional mrr.
//   channels     the sign-up's channel (docs/metrics.md): `channel`, else
//                `utm_source`, as a non-empty string; paid values in other case
//                (`Paid`, `CPC`), an empty channel (falls to utm_source), a numeric
//                channel (not a channel), a channel that wins over a paid
//                utm_source, no properties; sign-ups by identify whose traits carry
//                the channel, a later identify claiming another (ignored), and an
//                identify's paid channel losing to a later `Signed Up`.
//   onboarding   `Profile Completed` and `Tour Finished` (with `Project Created`
//                the configured steps, see ONBOARDING_STEPS) after sign-up, at the
//                sign-up millisecond, or only before it (does not count).
//   features     the activity events; CORE_FEATURES names one never sent.
//   revenue      a negative mrr (pays nothing), and the scenarios under accounts.
//   invites      `Invite Sent` by inviters, `Invite Accepted` with
//                properties.inviter_id by invitees (some anonymously before they sign
//                up), invitees signing up within / after 30 days of the inviter's
//                sign-up (and exactly 30×24 h, and 30×24 h + 1 ms), the same invitee
//                accepting twice (counts once), an invitee who never signs up.
//
// generate() returns { messages, lines, facts }: `messages` are the Segment
// messages in file order, `lines` their NDJSON text (what `flywheel import` reads
// and what the oracle loads), `facts` a few named ids for the tests.
// CLI: node metrics/generate.mjs OUT.ndjson [seed]
import fs from 'node:fs';

export const DAY = 86400000;
export const HOUR = 3600000;
export const MIN = 60000;
export const DAY0 = Date.UTC(2026, 0, 1); // a Thursday
// The config the metrics tests run this data with (flywheel.yaml and the oracle).
export const CORE_FEATURES = ['Report Viewed', 'File Uploaded', 'Comment Added', 'Export Created'];
export const ONBOARDING_STEPS = ['Profile Completed', 'Tour Finished', 'Project Created'];

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

/** ISO-8601 with milliseconds, written in UTC (`Z`) or in a fixed offset in minutes. */
export function iso(ms, offsetMin = 0) {
  if (!offsetMin) return new Date(ms).toISOString();
  const local = new Date(ms + offsetMin * MIN).toISOString().slice(0, -1);
  const sign = offsetMin < 0 ? '-' : '+';
  const a = Math.abs(offsetMin);
  return `${local}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

export function generate({ seed = 20260101, nPeople = 300, nAccounts = 60, nDays = 70 } = {}) {
  const rnd = mulberry32(seed);
  // The cases added for the metrics beyond the contract draw from their own stream
  // and emit with explicit offsets, so the rest of the data stays as it was.
  const rnd2 = mulberry32(seed ^ 0x9e3779b9);
  const pick2 = (xs) => xs[Math.floor(rnd2() * xs.length)];
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const chance = (p) => rnd() < p;

  // Every message gets a sort time `_t` (its instant) and is emitted in time order,
  // except late arrivals and duplicates, which go later in the file.
  const out = [];
  let nid = 0;
  const newId = () => `m${(++nid).toString(36).padStart(5, '0')}`;
  const ids = (p, anon = false) => (anon ? { anonymousId: p.anon } : { userId: p.uid });
  const offsetFor = (t) => {
    const r = rnd();
    if (r < 0.07) return 330; // +05:30
    if (r < 0.1) return -480; // -08:00
    return 0;
  };
  const push = (m, t, { offset } = {}) => {
    const o = offset === undefined ? offsetFor(t) : offset;
    const msg = { type: m.type, messageId: m.messageId || newId(), timestamp: iso(t, o), ...m };
    msg.timestamp = iso(t, o);
    Object.defineProperty(msg, '_t', { value: t, enumerable: false });
    out.push(msg);
    return msg;
  };
  const track = (idObj, event, t, properties = {}, opts = {}) =>
    push({ type: 'track', ...idObj, event, properties, ...(opts.groupId ? { context: { groupId: opts.groupId } } : {}) }, t, opts);
  const page = (idObj, name, t, opts = {}) =>
    push({ type: opts.screen ? 'screen' : 'page', ...idObj, name, properties: { path: `/${name.toLowerCase()}` }, ...(opts.groupId ? { context: { groupId: opts.groupId } } : {}) }, t, opts);
  const identify = (idObj, t, traits, opts = {}) => push({ type: 'identify', ...idObj, traits }, t, opts);
  const group = (idObj, groupId, t, traits, opts = {}) => push({ type: 'group', ...idObj, groupId, traits }, t, opts);
  const alias = (previousId, userId, t, opts = {}) => push({ type: 'alias', previousId, userId }, t, opts);
  const dups = []; // [original message, overrides] emitted at the end of the file
  const dup = (msg, overrides = {}) => dups.push([msg, overrides]);

  // ---------------------------------------------------------------- people
  const people = [];
  const mk = (i, extra = {}) => ({
    i,
    uid: `u_${String(i).padStart(3, '0')}`,
    anon: `anon_${(i * 2654435761 >>> 0).toString(16)}`,
    email: `user${i}@example${i % 7}.test`,
    ...extra,
  });
  for (let i = 0; i < nPeople; i++) {
    const signupDay = int(0, nDays - 8);
    const r = rnd();
    const kind = r < 0.33 ? 'track_user' : r < 0.6 ? 'track_anon' : r < 0.7 ? 'track_alias' : r < 0.94 ? 'identify_created' : 'none';
    let signupT = DAY0 + signupDay * DAY + int(0, DAY - 1);
    if (chance(0.04)) signupT = DAY0 + signupDay * DAY + DAY - 1; // 23:59:59.999
    if (chance(0.03)) signupT = DAY0 + signupDay * DAY; // 00:00:00.000
    const a = rnd();
    const actDelay = a < 0.3 ? int(0, DAY - 1) : a < 0.5 ? int(DAY + 1, 7 * DAY) : a < 0.65 ? int(7 * DAY + 1, 25 * DAY) : null;
    people.push(mk(i, { kind, signupT, actDelay, channel: chance(0.6) ? 'organic' : 'paid', loyalty: rnd() }));
  }
  // Hand-placed edge cases (their own ids; signup times exact).
  let nextI = nPeople;
  const edge = (name, extra) => {
    const p = mk(nextI++, { kind: 'track_user', channel: 'organic', loyalty: 0.5, edge: name, ...extra });
    people.push(p);
    return p;
  };
  const D = (day, h = 0, m = 0, s = 0, ms = 0) => DAY0 + day * DAY + h * HOUR + m * MIN + s * 1000 + ms;
  edge('act_exactly_1d', { signupT: D(10, 9, 15, 3, 7), actDelay: DAY });
  edge('act_exactly_7d', { signupT: D(12, 17, 0, 0, 0), actDelay: 7 * DAY });
  edge('act_1d_plus_1ms', { signupT: D(14, 6, 0, 0, 1), actDelay: DAY + 1 });
  edge('act_7d_plus_1ms', { signupT: D(33, 6, 30, 0, 0), actDelay: 7 * DAY + 1 });
  edge('act_at_signup', { signupT: D(20, 12, 0, 0, 0), actDelay: 0 });
  edge('act_before_signup_only', { signupT: D(22, 12, 0, 0, 0), actDelay: null, kind: 'track_anon', actBefore: true });
  edge('signup_2359', { signupT: D(31, 23, 59, 59, 999), actDelay: null, nextMidnight: true, loyalty: 0 });
  edge('signup_0000', { signupT: D(31, 0, 0, 0, 0), actDelay: 3 * HOUR, loyalty: 0 });
  edge('signup_offset', { signupT: D(30, 20, 0, 0, 0), actDelay: null, signupOffset: 330 }); // 2026-02-01T01:30+05:30
  edge('signup_dup_earlier', { signupT: D(40, 10, 0, 0, 0), actDelay: 2 * HOUR, dupEarlier: true });
  edge('signup_twice', { signupT: D(41, 10, 0, 0, 0), actDelay: 30 * HOUR, signupAgain: 3 * DAY });
  edge('signup_twice_merged', { signupT: D(26, 10, 0, 0, 0), actDelay: 40 * HOUR, signupAgain: 2 * DAY, kind: 'track_anon' });
  edge('identify_then_signed_up', { signupT: D(42, 8, 0, 0, 0), actDelay: 10 * HOUR, kind: 'identify_then_track' });
  edge('identify_no_created_first', { signupT: D(43, 8, 0, 0, 0), actDelay: 5 * DAY, kind: 'identify_created', earlyPlainIdentify: 2 * DAY });
  edge('ff_only_day1', { signupT: D(44, 8, 0, 0, 0), actDelay: null, loyalty: 0, day1: 'ff' });
  edge('identify_only_day1', { signupT: D(45, 8, 0, 0, 0), actDelay: null, loyalty: 0, day1: 'identify' });
  edge('anon_signup_never_joined', { signupT: D(46, 8, 0, 0, 0), actDelay: 4 * HOUR, kind: 'anon_only' });
  edge('both_ids_track', { signupT: D(47, 8, 0, 0, 0), actDelay: 6 * HOUR, bothIds: true });
  edge('w1_sunday', { signupT: D(38, 22, 0, 0, 0), actDelay: null, loyalty: 0, w1: 'next_monday' }); // 2026-02-08 is a Sunday
  edge('w1_monday', { signupT: D(39, 1, 0, 0, 0), actDelay: null, loyalty: 0, w1: 'next_sunday' }); // 2026-02-09 is a Monday
  edge('w1_same_week_only', { signupT: D(39, 3, 0, 0, 0), actDelay: null, loyalty: 0, w1: 'same_sunday' });
  const inviterEdge = edge('inviter_edges', { signupT: D(5, 10, 0, 0, 0), actDelay: 2 * HOUR });
  const inv30 = edge('invitee_exactly_30d', { signupT: D(35, 10, 0, 0, 0), actDelay: null, invitedBy: inviterEdge });
  const inv30p = edge('invitee_30d_plus_1ms', { signupT: D(35, 10, 0, 0, 1), actDelay: null, invitedBy: inviterEdge });
  edge('invitee_accepts_twice', { signupT: D(8, 11, 0, 0, 0), actDelay: DAY / 2, invitedBy: inviterEdge, acceptTwice: true, kind: 'track_anon' });
  edge('invitee_never_signs_up', { signupT: D(9, 11, 0, 0, 0), actDelay: null, invitedBy: inviterEdge, kind: 'none' });
  const byEdge = Object.fromEntries(people.filter((p) => p.edge).map((p) => [p.edge, p]));

  // Invites among the generated people: ~25% of those who sign up were invited by
  // someone who signed up before them (some more than 30 days before).
  const signed = people.filter((p) => p.kind !== 'none').sort((a, b) => a.signupT - b.signupT);
  for (const p of signed) {
    if (p.invitedBy || p.edge || !chance(0.25)) continue;
    const cands = signed.filter((q) => q !== p && q.signupT < p.signupT - HOUR && p.signupT - q.signupT < 45 * DAY);
    if (!cands.length) continue;
    p.invitedBy = pick(cands);
    if (chance(0.15)) p.acceptTwice = true;
  }
  for (const p of people) if (p.kind === 'none' && !p.invitedBy && chance(0.2)) p.invitedBy = pick(signed);

  // ---------------------------------------------------------------- accounts
  const accounts = [];
  // Founders are spread over the sign-up order, so accounts are created all along
  // the period; every other member joins an account founded before they signed up.
  const bySignup = people.filter((p) => p.kind !== 'anon_only').sort((x, y) => x.signupT - y.signupT);
  const founders = new Set();
  for (let a = 0; a < nAccounts; a++) {
    const p = bySignup[Math.floor((a * bySignup.length) / nAccounts)];
    const acc = { a, id: `acct_${String(a).padStart(2, '0')}`, members: [p] };
    accounts.push(acc);
    p.account = acc;
    founders.add(p);
  }
  const order = [...accounts].sort(() => rnd() - 0.5); // account index ≠ founding order
  order.forEach((acc, k) => { acc.a = k; acc.id = `acct_${String(k).padStart(2, '0')}`; });
  for (const p of bySignup) {
    if (founders.has(p) || chance(0.15)) continue; // some people have no account
    const open = accounts.filter((acc) => acc.members[0].signupT < p.signupT);
    if (!open.length) continue;
    const acc = pick(open);
    acc.members.push(p);
    p.account = acc;
  }
  const memberJoin = (p) => p.signupT + MIN; // each member's group call

  // ---------------------------------------------------------------- emit people
  const ACTIVITY = ['Task Completed', 'Report Viewed', 'Comment Added', 'File Uploaded'];
  const PAGES = ['Dashboard', 'Settings', 'Pricing', 'Projects'];
  for (const p of people) {
    const S = p.signupT;
    const anonFirst = p.kind === 'track_anon' || p.kind === 'track_alias' || p.kind === 'identify_created' || p.kind === 'anon_only';
    const joinT = S + 2 * MIN; // identify/alias joining anon → user
    const gid = (t) => (p.account && t >= memberJoin(p) ? p.account.id : undefined);
    const idsAt = (t) => (p.kind === 'anon_only' || (anonFirst && t < joinT) ? ids(p, true) : ids(p));
    // anonymous browsing before sign-up (counts for the person once joined)
    if (anonFirst && chance(0.7)) {
      for (let k = int(1, 3); k >= 1; k--) {
        const t = S - k * DAY + int(-3 * HOUR, 3 * HOUR);
        if (t < DAY0 - 20 * DAY) continue;
        page(ids(p, true), pick(PAGES), t);
      }
    }
    if (p.actBefore) track(ids(p, true), 'Project Created', S - 3 * HOUR, { name: 'early' });
    // sign-up
    let suProps = { channel: p.channel, ...(p.channel === 'paid' ? { utm_source: 'google' } : {}) };
    const rc = rnd2();
    if (rc < 0.06) suProps = { utm_source: pick2(['cpc', 'google', 'ppc', 'newsletter']) };
    else if (rc < 0.1) suProps = { channel: pick2(['Paid', 'CPC', 'Organic']) };
    else if (rc < 0.13) suProps = { channel: '', utm_source: 'ads' };
    else if (rc < 0.16) suProps = { channel: 42, utm_source: 'cpc' };
    else if (rc < 0.19) suProps = { channel: 'organic', utm_source: 'cpc' };
    else if (rc < 0.21) suProps = {};
    const ri = rnd2();
    const idChannel = ri < 0.25 ? { channel: pick2(['paid', 'organic', 'LinkedIn_Ads']) } : ri < 0.35 ? { utm_source: 'facebook_ads' } : {};
    if (p.kind === 'track_user' || p.kind === 'identify_then_track') {
      if (p.kind === 'identify_then_track')
        identify(ids(p), S - 5 * DAY, { email: p.email, created_at: iso(S - 5 * DAY), channel: 'paid' }); // the Signed Up wins
      const su = track(ids(p), 'Signed Up', S, suProps, p.signupOffset ? { offset: p.signupOffset } : {});
      if (p.dupEarlier) dup(su, { timestamp: iso(S - 9 * DAY) }); // a later copy claims an earlier time
      identify(ids(p), S + MIN / 2, { email: p.email, name: `User ${p.i}` });
    } else if (p.kind === 'track_anon' || p.kind === 'track_alias') {
      track(ids(p, true), 'Signed Up', S, suProps);
      if (p.kind === 'track_anon') identify({ userId: p.uid, anonymousId: p.anon }, joinT, { email: p.email });
      else {
        alias(p.anon, p.uid, joinT);
        identify(ids(p), joinT + 1000, { email: p.email });
      }
    } else if (p.kind === 'identify_created') {
      if (p.earlyPlainIdentify) identify({ userId: p.uid, anonymousId: p.anon }, S - p.earlyPlainIdentify, { email: p.email });
      // the sign-up is the time of this identify, not the created_at value
      identify({ userId: p.uid, anonymousId: p.anon }, S, { email: p.email, created_at: iso(S - int(0, 40) * DAY), plan: 'free', ...idChannel });
      if (chance(0.3)) identify(ids(p), S + int(1, 9) * DAY, { email: p.email, created_at: iso(S + DAY), channel: 'cpc' }); // a later one changes nothing
    } else if (p.kind === 'anon_only') {
      track(ids(p, true), 'Signed Up', S, suProps);
    } else if (p.kind === 'none') {
      identify(ids(p), S, { email: p.email }); // identified, never signs up
    }
    if (p.signupAgain) track(ids(p), 'Signed Up', S + p.signupAgain, suProps);
    // onboarding steps (the third configured step is the activation event)
    if (p.kind !== 'none') {
      for (const step of ONBOARDING_STEPS.slice(0, 2)) {
        const r = rnd2();
        let t = null;
        if (r < 0.03) t = S; // at the sign-up millisecond: counts
        else if (r < 0.58) t = S + Math.floor(rnd2() * 10 * DAY);
        else if (r < 0.65) t = S - 1 - Math.floor(rnd2() * DAY); // only before the sign-up: does not count
        if (t === null) continue;
        const who = p.kind === 'anon_only' ? ids(p, true) : idsAt(t);
        track(who, step, t, {}, { offset: 0, groupId: gid(t) });
        if (rnd2() < 0.1) track(who, step, t + HOUR, {}, { offset: 0, groupId: gid(t + HOUR) }); // again
      }
    }
    // account membership
    if (p.account) group(ids(p), p.account.id, memberJoin(p), { name: `Account ${p.account.a}` });
    // activation
    if (p.actDelay != null) {
      const t = S + p.actDelay;
      const m = track(p.kind === 'anon_only' ? ids(p, true) : ids(p), 'Project Created', t, { name: 'first' }, { groupId: gid(t) });
      if (chance(0.1)) dup(m); // identical copy
      if (chance(0.4)) track(ids(p), 'Project Created', t + int(1, 10) * DAY, { name: 'another' }, { groupId: gid(t + DAY) });
    }
    // invites
    if (p.invitedBy) {
      const inviter = p.invitedBy;
      const st = Math.max(inviter.signupT + MIN, S - int(1, 40) * HOUR);
      track(ids(inviter), 'Invite Sent', st, { invitee_email: p.email }, { groupId: inviter.account && st >= memberJoin(inviter) ? inviter.account.id : undefined });
      // accepted 30 s after signing up, or 20 s before (anonymously when the invitee's
      // ids are joined later): the acceptance's time does not matter, only the sign-ups'
      const at = chance(0.3) ? S - 20 * 1000 : S + 30 * 1000;
      const acc = track(p.kind === 'none' ? ids(p) : idsAt(at), 'Invite Accepted', at, { inviter_id: inviter.uid });
      if (chance(0.3)) dup(acc);
      if (p.acceptTwice) track(ids(p), 'Invite Accepted', S + 2 * HOUR, { inviter_id: inviter.uid });
    }
    // a track carrying both ids does not join: the anonymous id stays a person of its own
    if (p.bothIds) {
      const other = `anon_other_${p.i}`;
      page({ anonymousId: other }, 'Pricing', S - DAY);
      page({ anonymousId: other }, 'Pricing', S + DAY);
      track({ userId: p.uid, anonymousId: other }, 'Report Viewed', S + 2 * HOUR, {});
    }
    // later activity
    const lastDay = nDays - 1;
    const sDay = Math.floor((S - DAY0) / DAY);
    for (let d = sDay; d <= lastDay; d++) {
      const dayStart = DAY0 + d * DAY;
      const age = d - sDay;
      if (p.nextMidnight && d === sDay + 1) track(ids(p), 'Report Viewed', dayStart, {}, { offset: 0, groupId: gid(dayStart) });
      if (p.day1 && d === sDay + 1) {
        if (p.day1 === 'ff') track(ids(p), '$feature_flag_called', dayStart + 10 * HOUR, { flag: 'beta' });
        else identify(ids(p), dayStart + 10 * HOUR, { email: p.email, seen: d });
        continue;
      }
      if (p.w1) {
        const want = p.w1 === 'next_monday' ? d === sDay + 1 : p.w1 === 'next_sunday' ? d === sDay + 13 : d === sDay + 6;
        if (want) track(ids(p), 'Task Completed', dayStart + 12 * HOUR, {}, { groupId: gid(dayStart) });
        continue;
      }
      const pAct = age === 0 ? 0.9 : (0.5 * Math.exp(-age / (2 + 25 * p.loyalty)) + 0.2 * p.loyalty * p.loyalty) * (p.actDelay != null ? 1.2 : 0.7);
      if (chance(pAct)) {
        for (let k = int(1, 4); k > 0; k--) {
          let t = dayStart + int(0, DAY - 1);
          const r = rnd();
          if (r < 0.06) t = dayStart + DAY - 1; // 23:59:59.999
          else if (r < 0.12) t = dayStart; // 00:00:00.000
          else if (r < 0.2) t = dayStart + int(18 * HOUR + 30 * MIN, DAY - 1); // +05:30 writes the next local date
          if (age === 0 && t < S + 3 * MIN) t = S + 3 * MIN + int(0, HOUR);
          if (t >= dayStart + DAY) continue;
          const o = r >= 0.12 && r < 0.2 ? 330 : undefined;
          const m = chance(0.3)
            ? page(idsAt(t), pick(PAGES), t, { groupId: gid(t), offset: o, screen: chance(0.2) })
            : track(idsAt(t), pick(ACTIVITY), t, { n: k }, { groupId: gid(t), offset: o });
          if (chance(0.02)) dup(m);
        }
        if (chance(0.3)) track(idsAt(dayStart + DAY / 2), '$feature_flag_called', dayStart + int(0, DAY - 1), { flag: 'f' });
      } else if (age > 0 && chance(0.12)) {
        // inactive-only day: flag checks and an identify, which are not activity
        track(idsAt(dayStart), '$feature_flag_called', dayStart + int(0, DAY - 1), { flag: 'g' });
        if (chance(0.5)) identify(ids(p), dayStart + int(0, DAY - 1), { email: p.email });
      }
    }
  }
  // anonymous visitors never joined (persons of their own; count in DAU/MAU)
  for (let v = 0; v < 40; v++) {
    const anon = `visitor_${v}`;
    const d0 = int(0, nDays - 1);
    for (let k = int(1, 4); k > 0; k--) {
      const d = Math.min(nDays - 1, d0 + int(0, 20));
      page({ anonymousId: anon }, pick(PAGES), DAY0 + d * DAY + int(0, DAY - 1));
    }
  }

  // ---------------------------------------------------------------- emit accounts
  // scenario by index; `C` is the founder's group call (the account's first event
  // unless a created_at trait or an earlier event naming it says otherwise).
  const planBy = (acc) => pick(acc.members.filter((m) => m.kind !== 'none')) || acc.members[0];
  const pc = (acc, t, plan, mrr, opts = {}) => {
    const who = planBy(acc);
    return track(ids(who), 'Plan Changed', t, { plan, mrr }, { groupId: acc.id, ...opts });
  };
  const boundaryAt = [Date.UTC(2026, 1, 1), Date.UTC(2026, 2, 1), Date.UTC(2026, 0, 19)];
  let boundaryUsed = 0;
  let crossedNewYear = false;
  for (const acc of accounts) {
    const founder = acc.members.reduce((x, y) => (y.signupT < x.signupT ? y : x));
    const C = memberJoin(founder) - 1; // the founder's account-defining group call, just before the member call
    const tr = { name: `Account ${acc.a}`, domain: `acct${acc.a}.test`, employees: int(2, 500) };
    const sc = acc.a % 12;
    const fid = ids(founder);
    const after = (lo, hi) => C + int(lo * DAY, hi * DAY);
    acc.scenario = sc;
    if (sc === 0) {
      group(fid, acc.id, C, { ...tr, plan: 'free', mrr: 0 }); // free forever (a plan change to 0)
      if (rnd2() < 0.5) track(fid, 'Plan Changed', C + Math.floor(rnd2() * 20 * DAY), { plan: 'refund', mrr: -10 }, { offset: 0, groupId: acc.id }); // pays nothing
    } else if (sc === 1) {
      const g = group(fid, acc.id, C, { ...tr, plan: 'trial', mrr: 0 });
      dup(g, { traits: { ...tr, plan: 'enterprise', mrr: 5000 } }); // later copy ignored
      pc(acc, after(3, 40), 'pro', 49);
    } else if (sc === 2) {
      group(fid, acc.id, C, { ...tr, created_at: iso(C + 3 * DAY) }); // no plan traits: default free; created_at after the first event
      group(fid, acc.id, after(5, 30), { plan: 'team', mrr: 99 }); // plan change by group call
    } else if (sc === 3) {
      group(fid, acc.id, C, { ...tr, plan: 'pro', mrr: 49 }); // starts paid
      let t1 = after(10, 30);
      if (boundaryUsed < boundaryAt.length && boundaryAt[boundaryUsed] > C + HOUR) t1 = boundaryAt[boundaryUsed++]; // exactly midnight
      pc(acc, t1, 'business', 199); // expansion +150
      pc(acc, t1 + int(5 * DAY, 25 * DAY), 'pro', 99); // contraction
    } else if (sc === 4) {
      group(fid, acc.id, C, { ...tr, plan: 'free', mrr: 0 });
      const up = after(2, 20);
      pc(acc, up, 'pro', 49);
      const churn = up + int(5 * DAY, 20 * DAY);
      pc(acc, churn, 'free', 0); // churn
      if (chance(0.5)) pc(acc, churn + int(3 * DAY, 15 * DAY), 'pro', 49); // re-subscribes: not expansion
    } else if (sc === 5) {
      group(fid, acc.id, C, { ...tr, plan: 'trial' }); // plan alone: not a plan change
      const up = after(1, 14);
      const m = pc(acc, up, 'pro', 49);
      dup(m, { properties: { plan: 'pro', mrr: 999 } }); // later copy ignored
      pc(acc, up + int(3 * DAY, 20 * DAY), 'pro', 98); // seats: expansion +49
    } else if (sc === 6) {
      let created = C - int(5, 20) * DAY - int(0, DAY);
      let corrected = chance(0.5) ? created + int(HOUR, 3 * DAY) : null;
      if (!crossedNewYear && C > Date.UTC(2026, 0, 3)) {
        // the trait's first value says December, its correction says January
        crossedNewYear = true;
        created = Date.UTC(2025, 11, 31, 20);
        corrected = Date.UTC(2026, 0, 1, 4);
      }
      group(fid, acc.id, C, { ...tr, created_at: iso(created) }); // created before its first event
      // a later group call corrects created_at: the trait's latest value counts
      if (corrected !== null) group(fid, acc.id, C + 2 * DAY, { created_at: iso(corrected) });
      group(fid, acc.id, after(3, 25), { plan: 'pro', mrr: 49 });
    } else if (sc === 7) {
      group(fid, acc.id, C, { ...tr, plan: 'free', mrr: 0 });
      group(fid, acc.id, after(2, 10), { plan: 'pro' }); // plan alone: not a plan change
      group(fid, acc.id, after(11, 20), { mrr: 49 }); // mrr alone: not a plan change
    } else if (sc === 8) {
      // created_at 60 days before the first event: upgrades 95 days after creation
      const created = C - 60 * DAY - int(0, DAY);
      group(fid, acc.id, C, { ...tr, created_at: iso(created), plan: 'free', mrr: 0 });
      pc(acc, created + 95 * DAY, 'pro', 49);
    } else if (sc === 9) {
      group(fid, acc.id, C, { ...tr, plan: 'starter', mrr: 24.5 }); // starts paid, fractional mrr
      pc(acc, after(4, 30), 'pro', 49.75); // expansion +25.25
    } else if (sc === 10) {
      // an event naming the account an hour before its first group call: the
      // account is created then, on the free default, and converts an hour later
      const who = founder;
      track(ids(who), 'Report Viewed', C - HOUR, {}, { groupId: acc.id });
      group(fid, acc.id, C, { ...tr, plan: 'pro', mrr: 49 });
    } else if (sc === 11) {
      group(fid, acc.id, C, { ...tr, plan: 'trial', mrr: 0 });
      // the first one converts exactly 90×24 h after creation (within), the others later
      pc(acc, acc.a === 11 ? C + 90 * DAY : C + 90 * DAY + int(1, 5 * DAY), 'pro', 49);
    }
  }

  // ---------------------------------------------------------------- file order
  out.sort((x, y) => x._t - y._t);
  // late arrivals: ~3% of messages move to a random later position
  for (let k = 0; k < out.length / 33; k++) {
    const i = int(0, out.length - 2);
    const [m] = out.splice(i, 1);
    out.splice(int(i, out.length), 0, m);
  }
  for (const [orig, over] of dups) out.push({ ...orig, ...over, messageId: orig.messageId });
  const messages = out;
  const lines = messages.map((m) => JSON.stringify(m));
  const facts = {
    edges: Object.fromEntries(Object.entries(byEdge).map(([k, p]) => [k, p.uid])),
    invitees30: [inv30.uid, inv30p.uid],
    people: people.length,
    accounts: accounts.length,
  };
  return { messages, lines, facts };
}

export function writeNdjson(file, opts) {
  const g = generate(opts);
  fs.writeFileSync(file, g.lines.join('\n') + '\n');
  return g;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const g = writeNdjson(process.argv[2] || 'metrics.ndjson', { seed: Number(process.argv[3] || 20260101) });
  console.error(`${g.lines.length} lines, ${g.facts.people} people, ${g.facts.accounts} accounts`);
}
