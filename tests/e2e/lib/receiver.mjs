// A webhook receiver on 127.0.0.1 for e2e tests: keeps every delivery
// ({headers, body, json}) and answers 204. close() stops it.
import http from 'node:http';

export async function webhookReceiver() {
  const got = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json;
      try { json = JSON.parse(body); } catch { json = undefined; }
      got.push({ headers: req.headers, body, json });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}/hook`,
    got,
    of: (type) => got.filter((g) => g.json?.type === type),
    close: () => new Promise((r) => srv.close(r)),
  };
}
