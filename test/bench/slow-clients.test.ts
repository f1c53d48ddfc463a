// The slow-client generator's pacing against a real loopback server: one byte per client per tick, each its own segment, the whole request, then a fresh connection.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { SlowClients } from '../../bench/lib/slow-clients.js';

const GET = 'GET /?slow=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
const POST = 'POST /?slow=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 8\r\n\r\nslowbody';
const ANSWER = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

interface Seen {
  readonly chunks: Buffer[];
  bytes: number;
}

/** A server that keeps every read of every connection and answers a request once it is whole. */
function recordingServer(): { server: Server; seen: Seen[] } {
  const seen: Seen[] = [];
  const server = createServer((socket: Socket) => {
    const conn: Seen = { chunks: [], bytes: 0 };
    seen.push(conn);
    socket.on('data', (chunk: Buffer) => {
      conn.chunks.push(chunk);
      conn.bytes += chunk.length;
      const text = Buffer.concat(conn.chunks).toString('latin1');
      if (text === GET || text === POST) socket.end(ANSWER);
    });
    socket.on('error', () => {});
  });
  return { server, seen };
}

/** Yields to the event loop (setImmediate is not mocked) until `ready` holds: real socket events set it. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
}

test('each tick writes one byte per connected client, each read alone by the server, the whole request in order, then a fresh connection', async (t) => {
  const { server, seen } = recordingServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mock.timers.enable({ apis: ['setInterval', 'setTimeout'] });
  const clients = 4;
  // 420 ms for the GET's 42 bytes: a 10 ms tick, as the scenario's 2 s makes a 47 ms one.
  const slow = new SlowClients({ port: (server.address() as { port: number }).port, clients, requestMs: 420 });
  slow.start();
  t.after(async () => {
    // The clients first: the server's close waits for its connections to end.
    slow.stop();
    mock.timers.reset();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  mock.timers.tick(420); // every staggered start has fired; nothing is connected yet, so nothing is written
  await until(() => slow.connectedClients() === clients && seen.length === clients);
  assert.equal(slow.peek().bytesSent, 0);

  const first = seen.slice();
  for (let k = 1; k <= GET.length; k++) {
    mock.timers.tick(10);
    await until(() => first.every((c) => c.bytes >= k));
    for (const conn of first) {
      assert.equal(conn.bytes, k, 'one byte per tick, no more');
      assert.equal(conn.chunks.length, k, 'each byte its own write and segment');
    }
    assert.equal(slow.peek().bytesSent, clients * k);
  }
  const texts = first.map((c) => Buffer.concat(c.chunks).toString('latin1'));
  assert.deepEqual(texts.filter((x) => x === GET).length, clients / 2, 'every other client sends the GET whole');
  for (const x of texts.filter((y) => y !== GET)) assert.equal(x, POST.slice(0, GET.length), 'the others are a byte-paced prefix of the POST');
  assert.equal(slow.peek().requestsSent, clients / 2);

  // The GET clients have their answers: each connects again at once (a 0 ms timer) and starts
  // from the first byte, while the POST clients go on where they were.
  await until(() => slow.peek().responses === clients / 2);
  mock.timers.tick(0);
  await until(() => seen.length === clients + clients / 2 && slow.connectedClients() === clients);
  mock.timers.tick(10);
  const again = seen.slice(clients);
  await until(() => again.every((c) => c.bytes >= 1) && first.every((c) => c.bytes === GET.length || c.bytes >= GET.length + 1));
  for (const conn of again) assert.deepEqual(conn.chunks.map(String), ['G']);
  for (const conn of first.filter((c) => c.bytes > GET.length)) assert.equal(conn.bytes, GET.length + 1);
  assert.equal(slow.peek().errors, 0);
});
