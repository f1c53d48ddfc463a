// The bare-Node reference server of the static bench (issue 16): one Node process, a `net`
// server, every file of STATIC_DIR kept as one ready response (head + body) and written with
// one socket.write per request. Parsing is the least that keep-alive and pipelining need: find
// each blank line ending a head, take the path between the first two spaces. No Date header,
// no validators: it is the ceiling of Node's socket path on this machine, not a file server.
//
//   node dist/bench/lib/bare-node.js PORT STATIC_DIR

import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const [port, staticDir] = process.argv.slice(2) as [string | undefined, string | undefined];
if (port === undefined || staticDir === undefined) {
  process.stderr.write('usage: bare-node.js PORT STATIC_DIR\n');
  process.exit(2);
}

const responses = new Map<string, Buffer>();
for (const name of readdirSync(staticDir)) {
  const body = readFileSync(join(staticDir, name));
  const head = `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`;
  responses.set(`/static/${name}`, Buffer.concat([Buffer.from(head, 'latin1'), body]));
}
const notFound = Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 'latin1');
const END = Buffer.from('\r\n\r\n', 'latin1');

const server = createServer({ noDelay: true }, (socket) => {
  let pending: Buffer | null = null;
  socket.on('data', (chunk: Buffer) => {
    const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    let start = 0;
    for (let end = buf.indexOf(END, start); end >= 0; end = buf.indexOf(END, start)) {
      const s1 = buf.indexOf(32, start);
      const s2 = buf.indexOf(32, s1 + 1);
      socket.write(responses.get(buf.toString('latin1', s1 + 1, s2)) ?? notFound);
      start = end + 4;
    }
    pending = start < buf.length ? buf.subarray(start) : null;
  });
  socket.on('error', () => socket.destroy());
});
server.listen(Number(port), '127.0.0.1');
const stop = (): void => {
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
