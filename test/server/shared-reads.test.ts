// Client sockets rebuilt to read into the shared buffer: bytes, half-close, backpressure,
// the server's connection count, the stream fallback, and sockets handed over by another process
// (as a net.Socket, or as the bare handle a worker's hand-over sends).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net, { type Socket } from 'node:net';
import { once } from 'node:events';
import { readAsStream, readsShared, readWith, socketOfHandle, withSharedReads } from '../../src/server/shared-reads.js';
import { REPO, debianPython } from '../helpers/berth.js';
import { join } from 'node:path';
import { holdReading } from '../../src/router/door-modules.js';

/** A process that accepts one connection, unread (pauseOnConnect), and sends it to its parent. */
const HANDING_CHILD = `
const net = require('node:net');
const server = net.createServer({ pauseOnConnect: true }, (s) => process.send({ handed: true }, s));
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
`;

interface Served {
  readonly server: net.Server;
  readonly port: number;
  readonly sockets: Socket[];
  readonly accepted: Promise<Socket>;
}

async function serve(onSocket: (s: Socket) => void = () => undefined): Promise<Served> {
  const sockets: Socket[] = [];
  let first!: (s: Socket) => void;
  const accepted = new Promise<Socket>((r) => (first = r));
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const rebuilt = withSharedReads(s);
    sockets.push(rebuilt);
    onSocket(rebuilt);
    first(rebuilt);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port, sockets, accepted };
}

async function connect(port: number): Promise<Socket> {
  const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(c, 'connect');
  return c;
}

/** Collects a socket's bytes through readWith and, once the client has half-closed, answers `got <bytes>`. */
function answerAtEnd(s: Socket): void {
  const got: string[] = [];
  readWith(s, (bytes) => { got.push(bytes.toString()); });
  s.on('end', () => s.end(`got ${got.join('')}`));
}

/** Writes `parts` one write each, half-closing with the last; what the server sent before its end. */
async function halfClosedAnswer(c: Socket, ...parts: string[]): Promise<string> {
  const answer: Buffer[] = [];
  c.on('data', (d: Buffer) => answer.push(d));
  for (const part of parts.slice(0, -1)) c.write(part);
  c.end(parts[parts.length - 1]);
  await once(c, 'end');
  return Buffer.concat(answer).toString();
}

test('an accepted socket reads into the shared buffer; a half-closed peer still gets its answer, and server.close completes after it', async () => {
  const { server, port } = await serve((s) => {
    assert.equal(readsShared(s), true);
    answerAtEnd(s);
  });
  const c = await connect(port);
  assert.equal(await halfClosedAnswer(c, 'GET / HTTP/1.1\r\n', '\r\n'), 'got GET / HTTP/1.1\r\n\r\n');
  c.destroy();
  // The rebuilt socket carries the server's connection count: close() waits for it, then ends.
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

test('pause() stops the reads and resume() starts them again; a new reader takes over within a read', async () => {
  const seen: string[] = [];
  const { server, port, accepted, sockets } = await serve((s) => {
    // Every connection after the first echoes: a round trip that shows the loop turned.
    if (sockets.length > 0) readWith(s, (bytes) => s.write(bytes.toString()));
  });
  const c = await connect(port);
  const s = await accepted;
  let first = true;
  readWith(s, (bytes) => {
    seen.push(`a:${bytes.toString()}`);
    if (first) {
      first = false;
      s.pause();
      readWith(s, (more) => { seen.push(`b:${more.toString()}`); });
    }
  });
  c.write('one');
  while (seen.length === 0) await new Promise((r) => setImmediate(r));
  c.write('two');
  // 'two' reached the server's kernel buffer before the probe's bytes; the probe's echo
  // coming back means the server's loop polled after both.
  const probe = await connect(port);
  probe.write('x');
  await once(probe, 'data');
  assert.deepEqual(seen, ['a:one']);
  s.resume();
  while (seen.length < 2) await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['a:one', 'b:two']);
  for (const x of [c, s, probe]) x.destroy();
  server.close();
});

test('readAsStream: a consumer of data events gets its own copies', async () => {
  const { server, port, accepted } = await serve();
  const c = await connect(port);
  const s = await accepted;
  // Rebuilt onto the shared buffer: otherwise its 'data' chunks are its own anyway and this proves nothing.
  assert.equal(readsShared(s), true);
  readAsStream(s);
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  c.write('abc');
  while (chunks.length === 0) await new Promise((r) => setImmediate(r));
  c.write('xyz');
  while (Buffer.concat(chunks).length < 6) await new Promise((r) => setImmediate(r));
  assert.equal(Buffer.concat(chunks).toString(), 'abcxyz');
  c.destroy();
  s.destroy();
  server.close();
});

test('a socket already read from keeps its stream, and readWith still delivers its bytes', async () => {
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const connection = once(server, 'connection') as Promise<[Socket]>;
  const c = await connect((server.address() as net.AddressInfo).port);
  const [s] = await connection;
  c.write('early');
  const [early] = (await once(s, 'data')) as [Buffer];
  assert.equal(early.toString(), 'early');
  const same = withSharedReads(s);
  assert.equal(same, s);
  assert.equal(readsShared(same), false);
  const got: string[] = [];
  readWith(same, (bytes) => { got.push(bytes.toString()); });
  c.write('later');
  while (got.length === 0) await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['later']);
  c.destroy();
  s.destroy();
  server.close();
});

test('a socket handed over by another process (child_process IPC) is rebuilt too', async () => {
  const child = spawn(process.execPath, ['-e', HANDING_CHILD], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const [ready] = (await once(child, 'message')) as [{ port: number }];
    const handed = once(child, 'message') as Promise<[unknown, Socket]>;
    const c = await connect(ready.port);
    const [, socket] = await handed;
    const s = withSharedReads(socket);
    assert.equal(readsShared(s), true);
    readWith(s, (bytes) => s.write(`echo ${bytes.toString()}`));
    c.write('hi');
    const [answer] = (await once(c, 'data')) as [Buffer];
    assert.equal(answer.toString(), 'echo hi');
    c.end();
    await once(s, 'end');
    s.destroy();
    c.destroy();
  } finally {
    child.kill();
  }
});

/** A worker's hand-over (python http_handoff.HandOff): accepts one connection and sends it down the IPC channel. */
const HANDING_WORKER = `
import os, socket, sys
sys.path.insert(0, sys.argv[1])
from berth_runtime.http_handoff import HandOff
listener = socket.create_server(('127.0.0.1', 0))
print(listener.getsockname()[1], flush=True)
conn, peer = listener.accept()
HandOff(int(os.environ['NODE_CHANNEL_FD']), print).hand(conn, 0, 'partial', 0, (conn.getsockname(), peer))
sys.stdin.read()
`;

test('a connection a worker hands over arrives as a bare handle (net.Native) and becomes one shared-read socket, half-open', async () => {
  const child = spawn(debianPython(), ['-c', HANDING_WORKER, join(REPO, 'python')], { stdio: ['pipe', 'pipe', 'inherit', 'ipc'] });
  try {
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const handed = once(child, 'message') as Promise<[{ reason: string }, unknown]>;
    const c = await connect(Number(line.toString().trim()));
    const [note, handle] = await handed;
    assert.equal(note.reason, 'partial');
    assert.equal(handle instanceof net.Socket, false, 'Node built no socket of its own');
    const s = socketOfHandle(handle as object, true);
    assert.equal(readsShared(s), true);
    assert.equal(withSharedReads(s), s, 'the front door does not rebuild it');
    answerAtEnd(s);
    assert.equal(await halfClosedAnswer(c, 'GET / HTTP/1.1\r\n\r\n'), 'got GET / HTTP/1.1\r\n\r\n');
    c.destroy();
  } finally {
    child.kill();
  }
});

/** A server whose sockets are held (../router/front.ts, accept before the door loads), then rebuilt and resumed after `ms`. */
async function serveHeld(ms: number, onSocket: (s: Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const resume = holdReading(s);
    setTimeout(() => {
      const rebuilt = withSharedReads(s);
      onSocket(rebuilt);
      resume();
    }, ms);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port };
}

test('a socket held while its bytes and its end arrive is rebuilt and resumed: every byte once, then the end, and server.close completes', async () => {
  const got: string[] = [];
  let starts = 0;
  const { server, port } = await serveHeld(50, (s) => {
    assert.equal(readsShared(s), true);
    const handle = (s as unknown as { _handle: { readStart(): number } })._handle;
    const readStart = handle.readStart.bind(handle);
    handle.readStart = () => (starts++, readStart());
    readWith(s, (bytes) => { got.push(bytes.toString()); });
    s.on('end', () => s.end(`got ${got.join('')}`));
  });
  const c = await connect(port);
  c.end('GET / HTTP/1.1\r\n\r\n');
  const answer: Buffer[] = [];
  c.on('data', (d: Buffer) => answer.push(d));
  await once(c, 'end');
  assert.equal(Buffer.concat(answer).toString(), 'got GET / HTTP/1.1\r\n\r\n');
  // The rebuild started reading; resume() found it reading and did not start it again.
  assert.equal(starts, 0);
  c.destroy();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

test('a peer that resets while its socket is held: the rebuilt socket reports it, and server.close completes', async () => {
  let closed!: () => void;
  const wasClosed = new Promise<void>((r) => (closed = r));
  const { server, port } = await serveHeld(50, (s) => {
    s.on('error', () => undefined);
    s.on('close', () => closed());
  });
  const c = await connect(port);
  c.resetAndDestroy();
  await wasClosed;
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});
