// lib/server.mjs — start/stop/restart the real flywheel binary for the e2e
// tests, plus small HTTP helpers (read API with the secret key, raw POST).
//
//   const srv = await start({ writeKeys: ['k1'], secret: 'sk', args: ['--timeout', '2'] });
//   await srv.post('/v1/batch', {...}, { authorization: basic('k1') });
//   const { status, json } = await srv.api('/api/v1/events/count');
//   await srv.kill9(); await srv.restart();   // same data dir
//   await srv.stop();                          // SIGTERM, then SIGKILL after 5 s
//
// Everything is bounded: startup (FW_START_TIMEOUT_MS, default 20 s), each
// request (10 s default), shutdown (5 s + SIGKILL).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = path.resolve(here, '..');
export const BIN = process.env.FLYWHEEL_BIN || path.resolve(E2E_DIR, '../../build/flywheel');
export const ARTIFACTS = path.join(E2E_DIR, 'artifacts');
const START_TIMEOUT_MS = Number(process.env.FW_START_TIMEOUT_MS || 20000);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (listen on 0, read the port, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A fresh, empty temp directory for one test file's data. */
export function tempDataDir(label = 'e2e') {
  return fs.mkdtempSync(path.join(os.tmpdir(), `flywheel-${label}-`));
}

export const basic = (key) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
export const bearer = (key) => `Bearer ${key}`;

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One HTTP request. Resolves {status, headers, text, json, body(Buffer)};
 * rejects on a network error before any response or after `timeoutMs`.
 * body: Buffer | string | object (object => JSON). opts.gzip compresses the
 * body and sets Content-Encoding: gzip (unless a content-encoding header is given).
 * opts.chunked: send without Content-Length (Transfer-Encoding: chunked),
 * in opts.chunks pieces.
 */
export function request(baseUrl, method, p, body, headers = {}, opts = {}) {
  const u = new URL(p, baseUrl);
  let buf = null;
  const h = { ...headers };
  const lower = Object.fromEntries(Object.keys(h).map((k) => [k.toLowerCase(), k]));
  if (body !== undefined && body !== null) {
    if (Buffer.isBuffer(body)) buf = body;
    else if (typeof body === 'string') buf = Buffer.from(body, 'utf8');
    else {
      buf = Buffer.from(JSON.stringify(body), 'utf8');
      if (!lower['content-type']) h['Content-Type'] = 'application/json';
    }
    if (opts.gzip) {
      buf = zlib.gzipSync(buf);
      if (!lower['content-encoding']) h['Content-Encoding'] = 'gzip';
    }
    if (!opts.chunked) h['Content-Length'] = String(buf.length);
  }
  const timeoutMs = opts.timeoutMs ?? 10000;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (fn, v) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        fn(v);
      }
    };
    const req = http.request(
      { host: u.hostname, port: u.port, method, path: u.pathname + u.search, headers: h, agent: opts.agent ?? false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          const text = b.toString('utf8');
          finish(resolve, { status: res.statusCode, headers: res.headers, body: b, text, json: parseJson(text), socket: req.socket });
        });
        res.on('error', (e) => finish(reject, e));
      }
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`${method} ${p}: no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => finish(reject, e));
    if (opts.onSocket) req.on('socket', opts.onSocket);
    if (buf && opts.chunked) {
      const n = Math.max(1, opts.chunks || 3);
      const size = Math.ceil(buf.length / n);
      (async () => {
        for (let i = 0; i < buf.length; i += size) {
          req.write(buf.subarray(i, i + size));
          await sleep(opts.chunkDelayMs ?? 20);
        }
        req.end();
      })();
    } else {
      if (buf) req.write(buf);
      req.end();
    }
  });
}

class Server {
  constructor(o) {
    this.dataDir = o.dataDir || tempDataDir(o.label || 'srv');
    this.ownsDataDir = !o.dataDir;
    this.writeKeys = o.writeKeys || ['wk_e2e_1', 'wk_e2e_2'];
    this.secret = o.secret || 'sk_e2e_secret';
    this.extraEnv = o.env || {};
    this.args = o.args || [];
    this.label = o.label || 'server';
    this.bin = o.bin || BIN;
    this.proc = null;
    this.url = null;
    this.port = null;
    this.stderr = '';
    this.starts = 0;
    this.history = []; // stderr of previous runs
  }

  get key() {
    return this.writeKeys[0];
  }

  async _spawn(port) {
    if (!fs.existsSync(this.bin)) {
      throw new Error(`flywheel binary not found at ${this.bin} (build it with 'make', or set FLYWHEEL_BIN)`);
    }
    this.port = port || (await freePort());
    this.stderr = '';
    this.starts++;
    const env = {
      ...process.env,
      FLYWHEEL_WRITE_KEY: this.writeKeys.join(','),
      FLYWHEEL_SECRET_KEY: this.secret,
      ...this.extraEnv,
    };
    const args = ['serve', '--data', this.dataDir, '--listen', `127.0.0.1:${this.port}`, ...this.args];
    const proc = spawn(this.bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stoppedByUs = false;
    proc.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        proc.exitInfo = { code, signal };
        resolve(proc.exitInfo);
      });
    });
    proc.stdout.on('data', (d) => { this.stdout = (this.stdout || '') + d.toString(); });
    proc.stderr.on('data', (d) => {
      this.stderr += d.toString();
      if (this.stderr.length > 4e6) this.stderr = this.stderr.slice(-2e6);
    });
    const ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: not ready within ${START_TIMEOUT_MS} ms; stderr:\n${this.stderr.slice(-4000)}`)), START_TIMEOUT_MS);
      const check = () => {
        const m = this.stderr.match(/flywheel: listening on (http:\/\/127\.0\.0\.1:(\d+))/);
        if (m) {
          clearTimeout(timer);
          proc.stderr.off('data', check);
          this.url = m[1];
          resolve();
        }
      };
      proc.stderr.on('data', check);
      proc.on('error', (e) => { clearTimeout(timer); reject(e); });
      proc.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${this.label}: exited before ready (code ${code}, signal ${signal}); stderr:\n${this.stderr.slice(-4000)}`));
      });
      check();
    });
    try {
      await ready;
    } catch (e) {
      if (proc.exitInfo === undefined) {
        proc.kill('SIGKILL');
        await proc.exited;
      }
      throw e;
    }
    return this;
  }

  /** true if the process is running (and was not stopped by us). */
  get alive() {
    return !!this.proc && this.proc.exitInfo === undefined;
  }

  _saveLog(tag) {
    try {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const f = path.join(ARTIFACTS, `${this.label.replace(/[^\w.-]+/g, '_')}.log`);
      if (!this.logStarted) {
        fs.writeFileSync(f, ''); // one log per server object per test run
        this.logStarted = true;
      }
      fs.appendFileSync(f, `==== run ${this.starts} (${tag}) data=${this.dataDir} url=${this.url}\n${this.stderr}\n`);
    } catch { /* best effort */ }
    this.history.push(this.stderr);
  }

  /** Throws if the server died on its own, or its stderr shows a sanitizer report. */
  checkHealthy() {
    const san = /(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)/.exec(this.stderr);
    if (san) throw new Error(`${this.label}: sanitizer report in server stderr:\n${this.stderr.slice(Math.max(0, san.index - 200), san.index + 4000)}`);
    if (this.proc && this.proc.exitInfo && !this.proc.stoppedByUs) {
      const { code, signal } = this.proc.exitInfo;
      throw new Error(`${this.label}: server exited unexpectedly (code ${code}, signal ${signal}); stderr:\n${this.stderr.slice(-4000)}`);
    }
  }

  /**
   * Graceful stop: SIGTERM, wait up to 5 s, then SIGKILL. Returns exit info.
   * Throws if the server had died on its own, needed SIGKILL, exited non-zero,
   * or printed a sanitizer report (leaks are reported at exit).
   */
  async stop() {
    const p = this.proc;
    if (!p) return null;
    const problems = [];
    if (p.exitInfo !== undefined && !p.stoppedByUs) {
      problems.push(`server exited unexpectedly (code ${p.exitInfo.code}, signal ${p.exitInfo.signal})`);
    }
    if (p.exitInfo === undefined) {
      p.stoppedByUs = true;
      p.kill('SIGTERM');
      const t = await Promise.race([p.exited, sleep(5000).then(() => null)]);
      if (!t) {
        problems.push('server did not exit within 5 s of SIGTERM (killed with SIGKILL)');
        p.kill('SIGKILL');
        await p.exited;
      } else if (!(t.code === 0 || t.signal === 'SIGTERM')) {
        problems.push(`server exited with code ${t.code}, signal ${t.signal} on SIGTERM`);
      }
    }
    this._saveLog('stop');
    this.proc = null;
    const san = /(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)/.exec(this.stderr);
    if (san) problems.push(`sanitizer report:\n${this.stderr.slice(Math.max(0, san.index - 200), san.index + 4000)}`);
    if (problems.length) throw new Error(`${this.label}: ${problems.join('; ')}\nstderr tail:\n${this.stderr.slice(-3000)}`);
    return p.exitInfo;
  }

  /** kill -9 the server and wait until it is gone. */
  async kill9() {
    const p = this.proc;
    if (!p) return null;
    const diedAlone = p.exitInfo !== undefined && !p.stoppedByUs;
    if (p.exitInfo === undefined) {
      p.stoppedByUs = true;
      p.kill('SIGKILL');
      await p.exited;
    }
    this._saveLog('kill9');
    this.proc = null;
    const san = /(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)/.exec(this.stderr);
    if (diedAlone || san) {
      throw new Error(`${this.label}: server ${diedAlone ? `had already exited on its own (code ${p.exitInfo.code}, signal ${p.exitInfo.signal})` : 'printed a sanitizer report'} before kill -9; stderr tail:\n${this.stderr.slice(-4000)}`);
    }
    return p.exitInfo;
  }

  /** Start again on the same data dir (a new free port unless samePort). */
  async restart({ samePort = false, kill = false } = {}) {
    if (this.proc) await (kill ? this.kill9() : this.stop());
    return this._spawn(samePort ? this.port : undefined);
  }

  /** Stop (if running) and remove the data dir if this server created it. */
  async dispose() {
    let err = null;
    try {
      await this.stop();
    } catch (e) {
      err = e;
    }
    if (this.ownsDataDir && !process.env.FW_KEEP_DATA) fs.rmSync(this.dataDir, { recursive: true, force: true });
    if (err) throw err;
  }

  async request(method, p, body, headers = {}, opts = {}) {
    if (!this.url) throw new Error(`${this.label}: not started`);
    try {
      return await request(this.url, method, p, body, headers, opts);
    } catch (e) {
      // say whether the server is still there: a crash shows up here first
      const st = this.proc?.exitInfo
        ? `server EXITED (code ${this.proc.exitInfo.code}, signal ${this.proc.exitInfo.signal}); stderr tail:\n${this.stderr.slice(-3000)}`
        : 'server process still running';
      e.message = `${method} ${p}: ${e.message} [${st}]`;
      throw e;
    }
  }

  /** GET with the secret key; returns {status, json, text, headers}. */
  api(p, opts = {}) {
    return this.request('GET', p, null, { Authorization: bearer(this.secret), ...(opts.headers || {}) }, opts);
  }

  /** GET the read API and insist on 200 + JSON; returns the parsed JSON. */
  async apiJson(p, opts = {}) {
    const r = await this.api(p, opts);
    if (r.status !== 200 || r.json === undefined) throw new Error(`GET ${p} -> ${r.status} ${r.text.slice(0, 500)}`);
    return r.json;
  }

  /** Raw POST: body Buffer|string|object; opts {gzip, chunked, agent, timeoutMs}. */
  post(p, body, headers = {}, opts = {}) {
    return this.request('POST', p, body, headers, opts);
  }

  get(p, headers = {}, opts = {}) {
    return this.request('GET', p, null, headers, opts);
  }

  /** {name: count} from GET /api/v1/events/count (plus total). */
  async counts() {
    const j = await this.apiJson('/api/v1/events/count');
    return j;
  }

  /**
   * Poll GET /api/v1/events/count until pred(json) is true or timeoutMs passes
   * (bounded: at most ~timeoutMs/50 polls). Returns the last json.
   */
  async waitCounts(pred, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (let i = 0; i < 1000; i++) {
      last = await this.counts();
      if (pred(last)) return last;
      if (Date.now() > deadline) break;
      await sleep(50);
    }
    return last;
  }
}

/**
 * Start a flywheel server. Options: {env, args, dataDir, writeKeys, secret, label, port}.
 * Returns the Server: {url, proc, stderr, stop(), kill9(), restart(), dispose(), api(), post()}.
 */
export async function start(opts = {}) {
  const s = new Server(opts);
  try {
    await s._spawn(opts.port);
  } catch (e) {
    s._saveLog('failed start');
    if (s.ownsDataDir && !process.env.FW_KEEP_DATA) fs.rmSync(s.dataDir, { recursive: true, force: true });
    throw e;
  }
  return s;
}

/** A unique-ish name for barrier/sentinel events. */
let seq = 0;
export function uniq(prefix = 'x') {
  seq++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq}`;
}

/**
 * A read barrier: send one Segment track event named `name` with a write key
 * and wait until the read API counts it (so everything sent before it is
 * visible too, if the server applies events in order). Returns the counts.
 */
export async function barrier(srv, name = uniq('__barrier'), key = srv.key, timeoutMs = 5000) {
  const r = await srv.post('/v1/track', { type: 'track', event: name, userId: '__barrier_user', messageId: name }, { Authorization: basic(key) });
  if (r.status !== 200) throw new Error(`barrier event: POST /v1/track -> ${r.status} ${r.text.slice(0, 300)}`);
  const j = await srv.waitCounts((c) => (c.events || {})[name] === 1, timeoutMs);
  if ((j.events || {})[name] !== 1) throw new Error(`barrier event ${name} not visible in /api/v1/events/count within ${timeoutMs} ms: ${JSON.stringify(j).slice(0, 500)}`);
  return j;
}

/** counts.events without barrier events (names starting with "__barrier"). */
export function withoutBarriers(events = {}) {
  return Object.fromEntries(Object.entries(events).filter(([k]) => !k.startsWith('__barrier')));
}
