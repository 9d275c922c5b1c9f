// util.js — what pages share: a section that loads (shows "Loading…", then its
// content or the API's error message), and stat cards.
import { clear, h } from '../dom.js';

/** Run fn(el) for a section; on failure show the error in place. Resolves to ok. */
export async function section(el, fn) {
  clear(el).append(h('p', { class: 'loading' }, 'Loading…'));
  try {
    await fn(el);
    return true;
  } catch (e) {
    if (e && e.status === 401) throw e;
    clear(el).append(h('div', { class: 'error-box' }, e && e.message ? e.message : String(e)));
    return false;
  }
}

export function fill(el, ...nodes) {
  clear(el).append(...nodes.flat().filter(Boolean));
  return el;
}

/** Await every section; false if one failed. */
export async function allOk(promises) {
  const r = await Promise.all(promises);
  return r.every(Boolean);
}

/** A compact number card: label, value, optional sub-line. */
export function stat(label, value, { sub, metric, raw, cls } = {}) {
  return h('div', { class: `stat${cls ? ` ${cls}` : ''}`, dataset: metric ? { metric } : undefined },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value', dataset: raw !== undefined ? { raw: JSON.stringify(raw) } : undefined }, value),
    sub ? h('div', { class: 'stat-sub' }, sub) : null);
}

export const el = (cls) => h('div', { class: cls });
