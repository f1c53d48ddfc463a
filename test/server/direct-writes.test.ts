// Writes through the socket's handle: the sync path, a write the kernel did not take (slow
// reader) with later writes, drain, end and destroy while it is pending, a peer reset, and the
// sockets that must keep the stream (corked, a Socket subclass).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type Socket } from 'node:net';
import { once } from 'node:events';
import { unsentBytes, writeDirect } from '../../src/server/direct-writes.js';

/** More than loopback's socket buffers hold, so a write of it cannot complete at once. */
const BIG = Buffer.alloc(32 * 1024 * 1024, 0x61);

interface Pair {
  readonly server: Socket;
  readonly client: Socket;
  stop(): void;
}

async function pair(): Promise<Pair> {
  const listener = net.createServer({ allowHalfOpen: true });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'connection');
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  client.on('error', () => undefined);
  const [server] = (await accepted) as [Socket];
  await once(client, 'connect');
  return {
    server,
    client,
    stop: () => {
      server.destroy();
      client.destroy();
      listener.close();
    },
  };
}

/** Runs `body` on a fresh pair, stopped after it whatever happens. */
async function withPair(body: (p: Pair) => Promise<void>): Promise<void> {
  const p = await pair();
  try {
    await body(p);
  } finally {
    p.stop();
  }
}

/** The client stops reading and the server writes BIG: the write stays pending. */
function pendBig(p: Pair): void {
  p.client.pause();
  assert.equal(writeDirect(p.server, BIG), false);
}

/** Everything the client receives until the server's end, resolved at 'end'. */
function collect(client: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  client.on('data', (c: Buffer) => chunks.push(c));
  return once(client, 'end').then(() => Buffer.concat(chunks));
}

/** Counts the calls of `s.write` (an own property shadowing the stream's). */
function countStreamWrites(s: Socket): { calls: number } {
  const count = { calls: 0 };
  const write = s.write.bind(s) as (...args: unknown[]) => boolean;
  (s as unknown as { write: (...args: unknown[]) => boolean }).write = (...args) => {
    count.calls++;
    return write(...args);
  };
  return count;
}

/** Resolves at 'close' (events.once would reject at the 'error' before it). */
function closeOf(s: Socket): Promise<boolean> {
  return new Promise((resolve) => s.once('close', resolve));
}

test('a small write is taken at once through the handle, with no stream write and no drain', () =>
  withPair(async (p) => {
    let drains = 0;
    p.server.on('drain', () => drains++);
    const received = collect(p.client);
    const streamWrites = countStreamWrites(p.server);
    assert.equal(writeDirect(p.server, 'HTTP/1.1 200 OK\r\n\r\n'), true);
    assert.equal(streamWrites.calls, 0, 'the write went past the stream');
    assert.equal(writeDirect(p.server, Buffer.from('body')), true);
    assert.equal(unsentBytes(p.server), 0);
    assert.equal(p.server.bytesWritten, 23);
    p.server.end();
    assert.equal((await received).toString('latin1'), 'HTTP/1.1 200 OK\r\n\r\nbody');
    assert.equal(drains, 0);
  }));

test('a write the slow reader did not take reports not drained, keeps order with later writes, and drains once', () =>
  withPair(async (p) => {
    p.client.pause();
    let drains = 0;
    p.server.on('drain', () => drains++);
    assert.equal(writeDirect(p.server, BIG), false);
    assert.equal(p.server.writableNeedDrain, true);
    assert.ok(unsentBytes(p.server) > 0, 'the pending bytes are counted');
    const streamWrites = countStreamWrites(p.server);
    assert.equal(writeDirect(p.server, 'middle'), false, 'still not drained');
    assert.equal(streamWrites.calls, 1, 'behind a pending write, through the stream');
    p.server.write(Buffer.from('tail'));
    const drained = once(p.server, 'drain');
    const received = collect(p.client);
    p.client.resume();
    await drained;
    assert.equal(unsentBytes(p.server), 0);
    assert.equal(p.server.writableNeedDrain, false);
    p.server.end();
    const all = await received;
    assert.equal(all.length, BIG.length + 10);
    assert.equal(all.subarray(BIG.length).toString('latin1'), 'middletail');
    assert.equal(all.indexOf(0x6d), BIG.length, 'no byte of the later writes came before the big one ended');
    assert.equal(drains, 1);
  }));

test('a pending write alone emits drain when it completes', () =>
  withPair(async (p) => {
    pendBig(p);
    const drained = once(p.server, 'drain');
    const received = collect(p.client);
    p.client.resume();
    await drained;
    p.server.end();
    assert.equal((await received).length, BIG.length);
  }));

test('end() with a write pending sends it whole, then the end', () =>
  withPair(async (p) => {
    pendBig(p);
    const finished = once(p.server, 'finish');
    p.server.end('bye');
    const received = collect(p.client);
    p.client.resume();
    const all = await received;
    await finished;
    assert.equal(all.length, BIG.length + 3);
    assert.equal(all.subarray(BIG.length).toString('latin1'), 'bye');
  }));

test('destroy() with a write pending closes once, with no error', () =>
  withPair(async (p) => {
    p.client.pause();
    const errors: Error[] = [];
    p.server.on('error', (e) => errors.push(e));
    assert.equal(writeDirect(p.server, BIG), false);
    const closed = once(p.server, 'close');
    p.server.destroy();
    const [hadError] = (await closed) as [boolean];
    await new Promise((r) => setImmediate(r));
    assert.equal(hadError, false);
    assert.deepEqual(errors, []);
    assert.equal(writeDirect(p.server, 'late'), false, 'a write after destroy goes to the stream, which refuses it');
  }));

test('a peer reset under a pending write reaches the socket as its error, once', () =>
  withPair(async (p) => {
    p.client.pause();
    const errors: NodeJS.ErrnoException[] = [];
    p.server.on('error', (e) => errors.push(e));
    const closed = closeOf(p.server);
    assert.equal(writeDirect(p.server, BIG), false);
    p.client.resetAndDestroy();
    const hadError = await closed;
    assert.equal(hadError, true);
    assert.equal(errors.length, 1);
    // The reset may reach the socket's read first: the same single error either way.
    assert.ok(['ECONNRESET', 'EPIPE'].includes(errors[0]!.code ?? ''), `code ${errors[0]!.code}`);
  }));

test('a write to a peer already reset is refused as the error of the socket', () =>
  withPair(async (p) => {
    const errors: NodeJS.ErrnoException[] = [];
    p.server.on('error', (e) => errors.push(e));
    const closed = closeOf(p.server);
    p.client.resetAndDestroy();
    await once(p.client, 'close');
    // The reset may arrive as a read error first; either way the socket ends with one error.
    while (!p.server.destroyed && writeDirect(p.server, Buffer.alloc(64 * 1024))) await new Promise((r) => setImmediate(r));
    await closed;
    assert.equal(errors.length, 1);
    assert.ok(['ECONNRESET', 'EPIPE'].includes(errors[0]!.code ?? ''), `code ${errors[0]!.code}`);
  }));

test('a corked socket and a Socket subclass keep the stream', () =>
  withPair(async (p) => {
    const received = collect(p.client);
    p.server.cork();
    writeDirect(p.server, 'a');
    assert.equal(p.server.writableLength, 1, 'buffered by the corked stream');
    p.server.uncork();
    class Wrapped extends net.Socket {}
    const wrapped = Object.setPrototypeOf(p.server, Wrapped.prototype) as Socket;
    const streamWrites = countStreamWrites(wrapped);
    writeDirect(wrapped, 'b');
    assert.equal(streamWrites.calls, 1, 'went through the stream');
    wrapped.end();
    assert.equal((await received).toString('latin1'), 'ab');
  }));

test('writes while the stream holds bytes (a socket still connecting) go through it, in order with the direct ones after', async () => {
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'connection');
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  try {
    const streamWrites = countStreamWrites(client);
    assert.equal(client.connecting, true);
    writeDirect(client, 'GET / HTTP/1.1\r\n');
    writeDirect(client, Buffer.from('host: a\r\n'));
    assert.equal(streamWrites.calls, 2, 'a connecting socket keeps the stream');
    await once(client, 'connect');
    const [server] = (await accepted) as [Socket];
    const received = collect(server);
    writeDirect(client, '\r\n');
    client.end();
    assert.equal((await received).toString('latin1'), 'GET / HTTP/1.1\r\nhost: a\r\n\r\n');
    server.destroy();
  } finally {
    client.destroy();
    listener.close();
  }
});

test('a write after stream bytes still waiting in Node (one stream write in flight) goes through the stream, behind them', () =>
  withPair(async (p) => {
    p.client.pause();
    p.server.write(BIG); // in flight in libuv: the client reads nothing
    p.server.write('a'); // held in the stream's own buffer behind it
    const streamWrites = countStreamWrites(p.server);
    writeDirect(p.server, 'b');
    assert.equal(streamWrites.calls, 1, 'the stream holds bytes: this write must queue behind them');
    const received = collect(p.client);
    p.server.end();
    p.client.resume();
    const all = await received;
    assert.equal(all.length, BIG.length + 2);
    assert.equal(all.subarray(-2).toString('latin1'), 'ab');
  }));
