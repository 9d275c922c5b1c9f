// accounts.js — the accounts table (kind "accounts"): members, events, active
// days in the first window, invites, features, limit hits and pricing views per
// account; search by id, sort by any column, open an account.
// URL: #/accounts?q=acme&sort=events&page=1
import { api } from '../api.js';
import { h, panel } from '../dom.js';
import * as fmt from '../format.js';
import { fill, section } from './util.js';

const PAGE = 50;
const BATCH = 5000;
const COLS = [
  ['account', 'Account', 'text'],
  ['first_seen', 'First seen', 'text'],
  ['members', 'Members', 'num'],
  ['events', 'Events', 'num'],
  ['active_days_first_window', 'Active days, first 14', 'num'],
  ['invites', 'Invites', 'num'],
  ['features', 'Features used', 'num'],
  ['limit_hits', 'Limit hits', 'num'],
  ['pricing_views', 'Pricing views', 'num'],
];

export default {
  title: 'Accounts',
  async render(root, ctx) {
    const { params } = ctx;
    const q = (params.q || '').trim();
    const sort = COLS.some(([k]) => k === params.sort) ? params.sort : 'events';
    const page = Math.max(1, parseInt(params.page || '1', 10) || 1);
    const search = h('input', {
      type: 'search', value: q, placeholder: 'Search accounts by id…', class: 'search', id: 'account-search',
      onkeydown: (e) => { if (e.key === 'Enter') ctx.go({ q: e.target.value.trim() || undefined, page: undefined }); },
    });
    const listEl = h('div');
    root.append(
      h('div', { class: 'toolbar' }, search,
        h('button', { onclick: () => ctx.go({ q: search.value.trim() || undefined, page: undefined }) }, 'Search'),
        h('button', { onclick: () => { const id = search.value.trim(); if (id) ctx.navigate('accounts', id, ctx.shared); } }, 'Open by id')),
      panel('Accounts', listEl, { note: 'Every account (group) that has events. Active days count the first 14 days after its first event.' }));
    return section(listEl, async () => {
      let res = await api.query({ kind: 'accounts', limit: BATCH });
      let rows = res.rows;
      if (params.all === '1') {
        while (rows.length < res.total) {
          res = await api.query({ kind: 'accounts', offset: rows.length, limit: BATCH });
          if (!res.rows.length) break;
          rows = rows.concat(res.rows);
        }
      }
      if (ctx.stale()) return;
      const total = res.total;
      const needle = q.toLowerCase();
      let shown = needle ? rows.filter((r) => r.account.toLowerCase().includes(needle)) : rows.slice();
      const text = COLS.find(([k]) => k === sort)[2] === 'text';
      shown.sort((a, b) => (text ? String(a[sort]).localeCompare(String(b[sort])) : b[sort] - a[sort]) || a.account.localeCompare(b.account));
      const pages = Math.max(1, Math.ceil(shown.length / PAGE));
      const p = Math.min(page, pages);
      const slice = shown.slice((p - 1) * PAGE, p * PAGE);
      const head = h('tr', null, COLS.map(([k, label, type]) => h('th', { class: type === 'num' ? 'num' : '' },
        h('a', { href: '#', class: k === sort ? 'sorted' : '', onclick: (e) => { e.preventDefault(); ctx.go({ sort: k === 'events' ? undefined : k, page: undefined }); } }, label, k === sort ? (text ? ' ▲' : ' ▼') : ''))));
      const body = slice.map((r) => h('tr', { 'data-account': r.account }, COLS.map(([k, , type]) => h('td', { class: type === 'num' ? 'num' : '' },
        k === 'account' ? h('a', { href: `#/accounts/${encodeURIComponent(r.account)}` }, r.account) : type === 'num' ? fmt.count(r[k]) : r[k]))));
      fill(listEl,
        h('p', { class: 'muted' }, `${fmt.count(shown.length)} ${needle ? `of ${fmt.count(rows.length)} ` : ''}accounts${rows.length < total ? ` (the first ${fmt.count(rows.length)} of ${fmt.count(total)} loaded; ` : ''}`,
          rows.length < total ? h('a', { href: '#', onclick: (e) => { e.preventDefault(); ctx.go({ all: '1' }); } }, 'load all') : null,
          rows.length < total ? ')' : ''),
        slice.length
          ? h('div', { class: 'table-wrap' }, h('table', { class: 'data accounts' }, h('thead', null, head), h('tbody', null, body)))
          : h('p', { class: 'empty' }, needle ? `No account id contains "${q}".` : 'No account has events yet.'),
        pages > 1 ? h('div', { class: 'pager' },
          p > 1 ? h('button', { onclick: () => ctx.go({ page: p - 1 }) }, '← Previous') : null,
          h('span', { class: 'muted' }, ` page ${p} of ${pages} `),
          p < pages ? h('button', { onclick: () => ctx.go({ page: p + 1 }) }, 'Next →') : null) : null);
    });
  },
};
