// bench/node-discard.mjs — the baseline: a node:http server that reads every
// request body, throws it away and answers 200 with Segment's success body.
// No parsing, no storage, no fsync: the ceiling for "HTTP in Node" on this box.
//
//   node bench/node-discard.mjs [--listen 127.0.0.1:PORT]
// Prints "node-discard: listening on http://HOST:PORT" on stderr when ready.
import http from 'node:http';

let listen = '127.0.0.1:0';
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--listen' && process.argv[i + 1]) listen = process.argv[++i];
}
const idx = listen.lastIndexOf(':');
const host = listen.slice(0, idx) || '127.0.0.1';
const port = Number(listen.slice(idx + 1));

const OK = Buffer.from('{"code":200,"success":true,"status":1}');
let requests = 0;
let bytes = 0;

const server = http.createServer((req, res) => {
  req.on('data', (chunk) => { bytes += chunk.length; });
  req.on('end', () => {
    requests++;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': OK.length });
    res.end(OK);
  });
  req.on('error', () => res.destroy());
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;
server.listen(port, host, () => {
  const a = server.address();
  process.stderr.write(`node-discard: listening on http://${a.address}:${a.port}\n`);
});

const stop = () => {
  process.stderr.write(`node-discard: ${requests} requests, ${bytes} body bytes\n`);
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
