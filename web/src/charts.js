// charts.js — uPlot line and bar charts, sparklines, and SVG funnel bars.
// Every chart fits its container's width (and follows it when the window is
// resized); times are UTC days, as in the API.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, svg } from './dom.js';
import * as fmt from './format.js';
import { dayMs } from './state.js';

export const PALETTE = ['#4f6bed', '#e8833a', '#2bb673', '#d64550', '#8e6bd8', '#1fa2b8', '#c4a21b', '#7a8290'];

const charts = new Set();
const resizer = new ResizeObserver((entries) => {
  for (const e of entries) {
    const c = e.target.__chart;
    if (!c) continue;
    const w = Math.floor(e.contentRect.width);
    if (w > 0 && Math.abs(w - c.width) > 2) c.setSize({ width: w, height: c.height });
  }
});

/** Destroy every chart (on leaving a page). */
export function destroyCharts() {
  for (const c of charts) {
    resizer.unobserve(c.__host);
    c.destroy();
  }
  charts.clear();
}

function mount(host, opts, data) {
  const width = Math.max(160, Math.floor(host.getBoundingClientRect().width || host.parentElement?.clientWidth || 600));
  const u = new uPlot({ ...opts, width }, data, host);
  u.__host = host;
  host.__chart = u;
  charts.add(u);
  resizer.observe(host);
  return u;
}

const fmtFor = (kind) => (v) => (v === null || v === undefined ? fmt.DASH : fmt.byKind(kind, v));
const shortFmt = (kind) => (v) => {
  if (kind === 'pct') return fmt.pct(v);
  if (kind === 'money') return fmt.money(v, { compact: Math.abs(v) >= 10000 });
  if (kind === 'duration') return fmt.duration(v);
  if (Math.abs(v) >= 10000) return new Intl.NumberFormat('en-US', { notation: 'compact' }).format(v);
  return fmt.num(v);
};

// whole-number steps for counts (no "0.2 people")
const COUNT_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2.5e3, 5e3, 1e4, 2e4, 2.5e4, 5e4, 1e5, 2e5, 2.5e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8];
const yAxis = (kind) => ({ stroke: '#666', grid: { stroke: '#eee' }, size: 64, values: (u, vals) => vals.map(shortFmt(kind)), ...(kind === 'count' ? { incrs: COUNT_INCRS } : {}) });

const utc = (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');
const alpha = (hex, a) => `${hex}${Math.round(a * 255).toString(16).padStart(2, '0')}`;

/**
 * A time chart over UTC days. days: ["2026-01-01", …]; series: [{label, values,
 * color?, bars?}]; kind formats the y axis and legend (count | pct | money | …).
 */
export function timeChart(host, { days, series, kind = 'count', height = 240, stacked = false }) {
  host.classList.add('chart');
  const x = days.map((d) => dayMs(d) / 1000);
  const many = x.length > 45;
  // bars get half a period of room at both ends, so the first and last show whole
  const bars = series.some((s) => s.bars);
  const step = x.length > 1 ? Math.min(...x.slice(1).map((v, i) => v - x[i])) : 86400;
  const xRange = bars && x.length ? [x[0] - step * 0.6, x[x.length - 1] + step * 0.6] : null;
  const opts = {
    height,
    tzDate: utc,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, ...(xRange ? { range: xRange } : {}) }, y: { range: (u, min, max) => [Math.min(0, min ?? 0), max > 0 ? max * 1.08 : 1] } },
    axes: [
      { stroke: '#666', grid: { stroke: '#eee' } },
      yAxis(kind),
    ],
    series: [
      { label: 'Day', value: (u, v) => (v == null ? fmt.DASH : new Date(v * 1000).toISOString().slice(0, 10)) },
      ...series.map((s, i) => {
        const c = s.color || PALETTE[i % PALETTE.length];
        return {
          label: s.label,
          stroke: c,
          width: s.bars ? 0 : 2,
          fill: s.bars ? alpha(c, 0.85) : stacked ? alpha(c, 0.25) : undefined,
          points: { show: !s.bars && !many },
          spanGaps: false,
          value: (u, v, si, di) => fmtFor(kind)(s.raw ? s.raw[di] : v),
          ...(s.bars ? { paths: uPlot.paths.bars({ size: [0.7, 80], align: 0 }) } : {}),
        };
      }),
    ],
  };
  return mount(host, opts, [x, ...series.map((s) => s.values)]);
}

/**
 * Stacked bars: layers [{label, values, sign: 1|-1, color}] — positives stacked
 * upward, negatives downward. The legend shows each layer's own value.
 */
export function stackedBars(host, { days, layers, kind = 'count', height = 240 }) {
  const pos = layers.filter((l) => (l.sign ?? 1) > 0);
  const neg = layers.filter((l) => (l.sign ?? 1) < 0);
  const cum = (group, sign) => {
    const out = [];
    let acc = days.map(() => 0);
    for (const l of group) {
      acc = acc.map((a, i) => a + (l.values[i] || 0));
      out.push({ ...l, values: acc.map((a) => sign * a), raw: l.values.map((v) => v ?? 0) });
    }
    return out.reverse(); // the tallest first, so each shorter one paints over its part
  };
  const series = [...cum(pos, 1), ...cum(neg, -1)].map((s) => ({ ...s, bars: true }));
  return timeChart(host, { days, series, kind, height });
}

/** Bars over categories (labels on x). series: [{label, values, color}]. */
export function categoryBars(host, { labels, series, kind = 'count', height = 220, xLabel = '' }) {
  host.classList.add('chart');
  const x = labels.map((_, i) => i);
  const opts = {
    height,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false, range: [-0.6, labels.length - 0.4] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { stroke: '#666', grid: { show: false }, splits: () => x, values: (u, vals) => vals.map((v) => labels[v] ?? ''), label: xLabel || undefined },
      yAxis(kind),
    ],
    series: [
      { label: xLabel || 'x', value: (u, v) => (v == null ? fmt.DASH : labels[v]) },
      ...series.map((s, i) => {
        const c = s.color || PALETTE[i % PALETTE.length];
        return { label: s.label, stroke: c, width: 0, fill: alpha(c, 0.85), value: (u, v) => fmtFor(kind)(v), paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false } };
      }),
    ],
  };
  return mount(host, opts, [x, ...series.map((s) => s.values)]);
}

/** A line over numbered periods (retention curve): x = 0 … n-1. */
export function periodLine(host, { labels, series, kind = 'pct', height = 240, xLabel = '' }) {
  host.classList.add('chart');
  const x = labels.map((_, i) => i);
  const opts = {
    height,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false }, y: { range: [0, kind === 'pct' ? 1 : null] } },
    axes: [
      { stroke: '#666', grid: { stroke: '#eee' }, splits: () => x, values: (u, vals) => vals.map((v) => labels[v] ?? ''), label: xLabel || undefined },
      yAxis(kind),
    ],
    series: [
      { label: xLabel || 'x', value: (u, v) => (v == null ? fmt.DASH : labels[v]) },
      ...series.map((s, i) => ({ label: s.label, stroke: s.color || PALETTE[i % PALETTE.length], width: 2, points: { show: true, size: 6 }, value: (u, v) => fmtFor(kind)(v) })),
    ],
  };
  if (kind === 'pct') opts.scales.y = { range: (u, min, max) => [0, Math.max(1, max || 0)] };
  return mount(host, opts, [x, ...series.map((s) => s.values)]);
}

/** A small line without axes; values may hold nulls. */
export function sparkline(host, values, { color = PALETTE[0], height = 36, titles = [] } = {}) {
  host.classList.add('spark');
  const x = values.map((_, i) => i);
  const nums = values.filter((v) => v !== null && v !== undefined);
  const lo = nums.length ? Math.min(...nums) : 0;
  const hi = nums.length ? Math.max(...nums) : 1;
  const pad = hi === lo ? Math.abs(hi) * 0.1 || 1 : (hi - lo) * 0.15;
  const opts = {
    height,
    legend: { show: false },
    cursor: { show: false },
    select: { show: false },
    scales: { x: { time: false }, y: { range: [lo - pad, hi + pad] } },
    axes: [{ show: false }, { show: false }],
    series: [{}, { stroke: color, width: 1.5, fill: alpha(color, 0.12), points: { show: true, size: 3 }, spanGaps: true }],
  };
  host.title = titles.filter(Boolean).join('\n');
  return mount(host, opts, [x, values]);
}

/**
 * Funnel bars in SVG. steps: [{label, count, conversion, dropped, pending}];
 * onPick(i) on a click. Each bar carries data-count (for tests and bench).
 */
export function funnelBars(steps, { onPick, selected = -1, height = 260, gaps = true } = {}) {
  const n = steps.length;
  const max = Math.max(1, ...steps.map((s) => s.count));
  const W = Math.max(640, n * 170);
  const top = 34;
  const bottom = 46;
  const plotH = height - top - bottom;
  const slot = W / n;
  const bw = Math.min(90, slot * 0.55);
  const kids = [];
  steps.forEach((s, i) => {
    const x = i * slot + (slot - bw) / 2;
    const y = (v) => top + plotH - (v / max) * plotH;
    const prev = i && gaps ? steps[i - 1].count : s.count;
    const g = [];
    // the part that stopped before this step: dropped below pending
    if (i && gaps && prev > s.count) {
      const dropTop = y(s.count + (s.dropped || 0));
      g.push(svg('rect', { x, y: dropTop, width: bw, height: y(s.count) - dropTop, class: 'fb-dropped' }));
      if (s.pending) {
        const pendTop = y(s.count + s.dropped + s.pending);
        g.push(svg('rect', { x, y: pendTop, width: bw, height: dropTop - pendTop, class: 'fb-pending' }));
      }
    }
    g.push(svg('rect', { x, y: y(s.count), width: bw, height: Math.max(1, top + plotH - y(s.count)), class: 'fb-bar', 'data-count': s.count }));
    g.push(svg('text', { x: x + bw / 2, y: y(Math.max(s.count, prev)) - 16, class: 'fb-count', 'text-anchor': 'middle' }, fmt.count(s.count)));
    g.push(svg('text', { x: x + bw / 2, y: y(Math.max(s.count, prev)) - 3, class: 'fb-conv', 'text-anchor': 'middle' }, s.note ?? (i ? fmt.pct(s.conversion) : '')));
    g.push(svg('text', { x: x + bw / 2, y: height - bottom + 16, class: 'fb-label', 'text-anchor': 'middle' }, truncate(`${i + 1}. ${s.label}`, Math.floor(slot / 7))));
    if (s.sub) g.push(svg('text', { x: x + bw / 2, y: height - bottom + 32, class: 'fb-sub', 'text-anchor': 'middle' }, s.sub));
    g.push(svg('rect', { x: i * slot, y: 0, width: slot, height, class: 'fb-hit' }));
    kids.push(svg('g', {
      class: `fb-step${i === selected ? ' selected' : ''}`,
      'data-step': i + 1,
      role: onPick ? 'button' : null,
      tabindex: onPick ? 0 : null,
      onclick: onPick ? () => onPick(i) : null,
      onkeydown: onPick ? (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onPick(i); } } : null,
    }, svg('title', {}, `${s.label}: ${fmt.count(s.count)}${i && gaps ? ` (${fmt.pct(s.conversion)} of the previous step; dropped ${fmt.count(s.dropped)}, pending ${fmt.count(s.pending)})` : ''}`), g));
  });
  kids.push(svg('line', { x1: 0, x2: W, y1: top + plotH, y2: top + plotH, class: 'fb-axis' }));
  return h('div', { class: 'funnel-chart' },
    svg('svg', { viewBox: `0 0 ${W} ${height}`, width: '100%', height, preserveAspectRatio: 'xMidYMid meet', class: 'funnel-svg', role: 'img' }, kids),
    gaps && h('div', { class: 'legend-row' },
      h('span', { class: 'key key-bar' }, 'reached the step'),
      h('span', { class: 'key key-dropped' }, 'dropped (window over)'),
      h('span', { class: 'key key-pending' }, 'pending (may still convert)')));
}

function truncate(s, n) {
  return s.length > n ? `${s.slice(0, Math.max(1, n - 1))}…` : s;
}

/** A cell colour for a rate in [0, 1] (retention heatmap). */
export function heat(rate) {
  if (rate === null || rate === undefined) return 'transparent';
  const a = 0.08 + 0.85 * Math.max(0, Math.min(1, rate));
  return `rgba(79, 107, 237, ${a.toFixed(3)})`;
}
