// build.mjs — bundle the dashboard (web/src) into web/dist: one JS and one CSS
// file named by their content hash (app-HASH.js, app-HASH.css; the server
// caches them for a year), index.html pointing at them, and the icon.
// `make web` runs it; web/dist is committed so that `make` needs no node_modules.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, 'src');
const dist = path.join(here, 'dist');

fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(dist, { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: path.join(src, 'app.js') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  outdir: dist,
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

const outs = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
const js = outs.find((f) => f.endsWith('.js'));
const css = outs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`esbuild made ${outs.join(', ')}: expected one .js and one .css`);
const html = fs.readFileSync(path.join(src, 'index.html'), 'utf8').replace('{{JS}}', js).replace('{{CSS}}', css);
fs.writeFileSync(path.join(dist, 'index.html'), html);
fs.copyFileSync(path.join(src, 'favicon.svg'), path.join(dist, 'favicon.svg'));
for (const f of fs.readdirSync(dist).sort()) console.log(`web/dist/${f}  ${fs.statSync(path.join(dist, f)).size} bytes`);
