// api.js — the read API with the secret key (Authorization: Bearer), kept in
// sessionStorage (or localStorage with "remember me"). Answers to the same
// request within a few seconds are shared, so moving between pages is cheap.
const KEY = 'flywheel.secret';
const CACHE_MS = 10000;
const cache = new Map();

export class ApiError extends Error {
  constructor(status, body, path) {
    super((body && body.error) || `${path}: HTTP ${status}`);
    this.status = status;
    this.reason = body && body.reason;
  }
}

export function getKey() {
  return sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
}

export function setKey(key, remember) {
  sessionStorage.setItem(KEY, key);
  if (remember) localStorage.setItem(KEY, key);
  else localStorage.removeItem(KEY);
}

export function clearKey() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
  cache.clear();
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

async function call(method, path, body, { key = getKey(), fresh = false, login = false } = {}) {
  const ck = `${method} ${path} ${body ? JSON.stringify(body) : ''}`;
  const hit = cache.get(ck);
  if (!fresh && hit && Date.now() - hit.at < CACHE_MS) return hit.promise;
  const promise = (async () => {
    let res;
    try {
      res = await fetch(path, {
        method,
        headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        cache: 'no-store',
      });
    } catch (e) {
      throw new ApiError(0, { error: `Cannot reach the Flywheel server (${e.message}). Is it running?` }, path);
    }
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = new ApiError(res.status, json || { error: text.slice(0, 200) }, path);
      if (res.status === 401 && !login) onUnauthorized(err);
      throw err;
    }
    return json;
  })();
  cache.set(ck, { at: Date.now(), promise });
  promise.catch(() => cache.delete(ck));
  if (cache.size > 300) cache.delete(cache.keys().next().value);
  return promise;
}

export const api = {
  get: (path, opts) => call('GET', path, null, opts),
  query: (body, opts) => call('POST', '/api/v1/query', body, opts),
  metrics: (from, to) => call('GET', `/api/v1/metrics?from=${from}&to=${to}`),
};
