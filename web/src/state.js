// state.js — everything a page shows is in the URL, so a URL is a shareable view:
//   #/PAGE[/ID]?range=30d                   a rolling range (default: the last 30 days)
//   #/PAGE[/ID]?from=2026-01-01&to=2026-02-01   a fixed range, `to` exclusive as in the API
// plus each page's own parameters (steps, window, period …). Repeated parameters
// (step=A&step=B) are lists.
export const DAY_MS = 86400000;

export function parseHash(hash = location.hash) {
  const s = hash.replace(/^#\/?/, '');
  const q = s.indexOf('?');
  const path = (q < 0 ? s : s.slice(0, q)).split('/').filter(Boolean).map(decodeURIComponent);
  const sp = new URLSearchParams(q < 0 ? '' : s.slice(q + 1));
  const params = {};
  for (const k of new Set(sp.keys())) {
    const all = sp.getAll(k);
    params[k] = all.length > 1 ? all : all[0];
  }
  return { page: path[0] || 'overview', id: path[1] ?? null, params };
}

export function formatHash(page, id, params) {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => sp.append(k, x));
    else sp.append(k, String(v));
  }
  const qs = sp.toString();
  return `#/${encodeURIComponent(page)}${id != null ? `/${encodeURIComponent(id)}` : ''}${qs ? `?${qs}` : ''}`;
}

/** A list parameter as an array ("a" -> ["a"], undefined -> []). */
export function list(v) {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
export const dayMs = (s) => Date.parse(`${s}T00:00:00Z`);
const validDay = (s) => typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(dayMs(s));

export const PRESETS = [
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['90d', 'Last 90 days'],
  ['180d', 'Last 6 months'],
  ['365d', 'Last 12 months'],
  ['mtd', 'This month'],
  ['lastmonth', 'Last month'],
];

/**
 * The range of a view: {from, to, days, preset, label}. `to` is exclusive;
 * "the last N days" ends with today (UTC) included, as GET /api/v1/metrics does.
 */
export function resolveRange(params, now = Date.now()) {
  if (validDay(params.from) && validDay(params.to) && dayMs(params.to) > dayMs(params.from)) {
    const from = params.from;
    const to = params.to;
    return { from, to, days: (dayMs(to) - dayMs(from)) / DAY_MS, preset: 'custom', label: `${from} – ${isoDay(dayMs(to) - DAY_MS)}` };
  }
  const tomorrow = Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
  const preset = PRESETS.some(([k]) => k === params.range) ? params.range : '30d';
  let fromMs;
  let toMs = tomorrow;
  if (preset === 'mtd') {
    const d = new Date(tomorrow - DAY_MS);
    fromMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  } else if (preset === 'lastmonth') {
    const d = new Date(tomorrow - DAY_MS);
    toMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    fromMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
  } else {
    fromMs = tomorrow - parseInt(preset, 10) * DAY_MS;
  }
  return {
    from: isoDay(fromMs), to: isoDay(toMs), days: (toMs - fromMs) / DAY_MS, preset,
    label: PRESETS.find(([k]) => k === preset)[1],
  };
}
