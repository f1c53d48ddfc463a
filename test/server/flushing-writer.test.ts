/** FlushingWriter on a real loopback socket: flushed fires on acceptance or drain, and on close. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { FlushingWriter } from '../../src/server/flushing-writer.js';

async function pair(): Promise<{ client: Socket; server: Socket; close: () => void }> {
  return new Promise((resolve) => {
    const srv = createServer((server) => resolve({ client, server, close: () => (client.destroy(), server.destroy(), srv.close()) }));
    let client: Socket;
    srv.listen(0, '127.0.0.1', () => {
      client = connect((srv.address() as { port: number }).port, '127.0.0.1');
    });
  });
}

test('a small write is flushed at once; a large one only after the reader drains it', async (t) => {
  const { client, server, close } = await pair();
  t.after(close);
  const w = new FlushingWriter(server);
  server.on('drain', () => w.drained());
  let small = false;
  w.write('hello', () => (small = true));
  assert.equal(small, true);
  client.pause();
  let big = false;
  w.write(Buffer.alloc(32 * 1024 * 1024), () => (big = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(big, false, 'not flushed while the reader is paused');
  client.resume();
  await new Promise<void>((r) => {
    const check = setInterval(() => big && (clearInterval(check), r()), 10);
  });
});

test('closing releases every waiter and drops later writes', async (t) => {
  const { client, server, close } = await pair();
  t.after(close);
  const w = new FlushingWriter(server);
  client.pause();
  let released = 0;
  w.write(Buffer.alloc(32 * 1024 * 1024), () => released++);
  assert.equal(released, 0);
  w.close();
  assert.equal(released, 1);
  w.write('late', () => released++);
  assert.equal(released, 2);
});
