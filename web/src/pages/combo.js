// combo.js — an input with suggestions (event names): type to filter, click a
// suggestion or use ↑/↓ and Enter. onPick(name) receives the chosen text.
import { clear, h } from '../dom.js';

export function combo({ placeholder, options, onPick, id, allowFree = true }) {
  const input = h('input', { type: 'text', placeholder, id, autocomplete: 'off', class: 'ac-input', role: 'combobox', 'aria-expanded': 'false' });
  const listEl = h('ul', { class: 'ac-list', role: 'listbox', hidden: true });
  let active = -1;
  let shown = [];
  const close = () => {
    listEl.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    active = -1;
  };
  const pick = (name) => {
    close();
    input.value = '';
    onPick(name);
  };
  const render = () => {
    const q = input.value.trim().toLowerCase();
    shown = options().filter((o) => !q || o.name.toLowerCase().includes(q)).slice(0, 30);
    clear(listEl).append(...shown.map((o, i) => h('li', {
      class: `ac-item${i === active ? ' active' : ''}`,
      role: 'option',
      'data-name': o.name,
      // mousedown: before the input's blur closes the list
      onmousedown: (e) => {
        e.preventDefault();
        pick(o.name);
      },
    }, h('span', null, o.name), o.hint ? h('span', { class: 'ac-hint' }, o.hint) : null)));
    if (!shown.length) listEl.append(h('li', { class: 'ac-none' }, q ? 'no event has that name (Enter adds it anyway)' : 'no events yet'));
    listEl.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  };
  input.addEventListener('focus', render);
  input.addEventListener('input', () => {
    active = -1;
    render();
  });
  input.addEventListener('blur', () => setTimeout(close, 100));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (listEl.hidden) render();
      active = Math.max(0, Math.min(shown.length - 1, active + (e.key === 'ArrowDown' ? 1 : -1)));
      render();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (active >= 0 && shown[active]) pick(shown[active].name);
      else if (allowFree && input.value.trim()) pick(input.value.trim());
    } else if (e.key === 'Escape') close();
  });
  return h('div', { class: 'ac' }, input, listEl);
}
