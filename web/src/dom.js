// dom.js — a tiny element builder: h('div', {class: 'card', onclick: fn}, 'text', child…).
// Strings become text nodes (never HTML), so data from events cannot inject markup.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** An SVG element with attributes. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** A section with a heading, optional controls on the right, and a body. */
export function panel(title, body, { controls = null, id, note } = {}) {
  return h('section', { class: 'panel', id },
    h('header', { class: 'panel-head' }, h('h2', null, title), controls ? h('div', { class: 'panel-controls' }, controls) : null),
    note ? h('p', { class: 'note' }, note) : null,
    body);
}

/** An HTML table: cols [{label, get(row)→node|text, class, num}], rows. */
export function table(cols, rows, { empty = 'Nothing here for this range.', rowAttrs } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data' },
      h('thead', null, h('tr', null, cols.map((c) => h('th', { class: c.num ? 'num' : c.class }, c.label)))),
      h('tbody', null, rows.map((r, i) => h('tr', rowAttrs ? rowAttrs(r, i) : null,
        cols.map((c) => h('td', { class: c.num ? 'num' : c.class }, c.get(r, i))))))));
}

export function select(value, options, onchange, attrs = {}) {
  return h('select', { ...attrs, onchange: (e) => onchange(e.target.value) },
    options.map(([v, label]) => h('option', { value: v, selected: String(v) === String(value) }, label)));
}

export function field(label, control) {
  return h('label', { class: 'field' }, h('span', null, label), control);
}
