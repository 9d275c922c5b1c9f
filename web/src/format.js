// format.js — how numbers read on the dashboard: counts with separators, rates
// as %, seconds and days as durations, money in the chosen currency.
const nf0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const nf2 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export const DASH = '—';

export function count(v) {
  return v === null || v === undefined ? DASH : nf0.format(v);
}

export function num(v, digits = 2) {
  if (v === null || v === undefined) return DASH;
  return digits === 1 ? nf1.format(v) : nf2.format(v);
}

/** 0.4321 -> "43.2%" (one decimal under 10%: "4.3%"; whole above). */
export function pct(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return DASH;
  const p = v * 100;
  return `${Math.abs(p) >= 99.95 || p === 0 ? nf0.format(p) : nf1.format(p)}%`;
}

/** Seconds -> "45 s", "12 min", "3.5 h", "2.1 d". */
export function duration(s) {
  if (s === null || s === undefined) return DASH;
  const a = Math.abs(s);
  if (a < 60) return `${nf1.format(s)} s`;
  if (a < 3600) return `${nf1.format(s / 60)} min`;
  if (a < 86400) return `${nf1.format(s / 3600)} h`;
  return `${nf1.format(s / 86400)} d`;
}

export function days(d) {
  return d === null || d === undefined ? DASH : duration(d * 86400);
}

let currency = 'USD';
export function setCurrency(c) {
  if (/^[A-Z]{3}$/.test(c || '')) currency = c;
}
export function getCurrency() {
  return currency;
}

export function money(v, { compact = false } = {}) {
  if (v === null || v === undefined) return DASH;
  const abs = Math.abs(v);
  const f = new Intl.NumberFormat('en-US', {
    style: 'currency', currency,
    maximumFractionDigits: abs >= 1000 || compact ? 0 : 2,
    minimumFractionDigits: abs >= 1000 || compact || Number.isInteger(v) ? 0 : 2,
    notation: compact && abs >= 10000 ? 'compact' : 'standard',
  });
  return f.format(v).replace('-', '−');
}

/** Format by kind: count | pct | duration | days | money | num. */
export function byKind(kind, v) {
  switch (kind) {
    case 'count': return count(v);
    case 'pct': return pct(v);
    case 'duration': return duration(v);
    case 'days': return days(v);
    case 'money': return money(v);
    default: return num(v);
  }
}

/** "2026-01-05" -> "Jan 5, 2026" (UTC). */
export function day(s) {
  if (!s) return DASH;
  const d = new Date(`${s.slice(0, 10)}T00:00:00Z`);
  return d.toLocaleDateString('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
}

/** ISO time -> "2026-01-05 14:03:22 UTC". */
export function time(s) {
  if (!s) return DASH;
  return `${s.slice(0, 10)} ${s.slice(11, 19)} UTC`;
}

/** "5 s ago" style, from an ISO time. */
export function ago(s, now = Date.now()) {
  const t = Date.parse(s);
  if (Number.isNaN(t)) return DASH;
  const d = Math.round((now - t) / 1000);
  if (d < 0) return 'in the future';
  if (d < 60) return `${d} s ago`;
  if (d < 3600) return `${Math.round(d / 60)} min ago`;
  if (d < 86400) return `${Math.round(d / 3600)} h ago`;
  return `${Math.round(d / 86400)} d ago`;
}
