import assert from 'node:assert/strict';
import net from 'node:net';
import test from 'node:test';
import type { BackendSpec } from '../../src/config/schema.js';
import { REQUESTS_PER_CONNECTION } from '../../src/proxy/http-backend-pool.js';
import { HttpUpstream } from '../../src/proxy/http-upstream.js';
import type { OutgoingRequest } from '../../src/proxy/transport.js';
import { eachRequest } from '../helpers/request-splitter.js';
import { send } from '../helpers/upstream-send.js';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** One connection as the backend saw it: requests read on it, and whether the front closed it. */
interface Seen { requests: number; closedByFront: boolean; closed: Promise<void> }

/**
 * A loopback HTTP/1.1 backend that records each connection; `answer(connection, socket)` replies
 * to a request (by default at once with OK), or holds it when it returns false.
 */
async function backend(answer: (connection: number, socket: net.Socket) => boolean = () => true): Promise<{ port: number; seen: Seen[]; byRequest: number[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const byRequest: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const index = seen.length;
    let closedByFront = false;
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const s: Seen = { requests: 0, get closedByFront() { return closedByFront; }, closed };
    seen.push(s);
    sockets.add(socket);
    socket.on('end', () => { closedByFront = true; socket.end(); });
    socket.on('close', () => sockets.delete(socket));
    eachRequest(socket, () => {
      s.requests++;
      byRequest.push(index);
      if (answer(index, socket)) socket.write(OK);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port, seen, byRequest,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

function spec(port: number): BackendSpec {
  return { url: `http://127.0.0.1:${port}`, protocol: 'http', target: { kind: 'tcp', host: '127.0.0.1', port }, weight: 1, maxFails: 1, failTimeoutMs: 10_000, backup: false, down: false };
}

function get(target: string): OutgoingRequest {
  return {
    request: { method: 'GET', target, versionMinor: 1, headers: ['Host', 'app.example'], remoteAddress: '127.0.0.9', remotePort: 5000, scheme: 'http' },
    target, cgiBlock: () => '', pathInfo: target, body: null, via: false, host: null, maxForwards: null, connectTimeoutMs: 5000, readTimeoutMs: 5000,
  };
}

/** Runs `use` with a client pool to `b`, then closes both. */
async function through(b: { port: number; close: () => Promise<void> }, use: (up: HttpUpstream) => Promise<void>): Promise<void> {
  const up = new HttpUpstream(spec(b.port), 5000);
  try {
    await use(up);
  } finally {
    await up.close();
    await b.close();
  }
}

/** One GET through `up`, answered OK. */
async function getOk(up: HttpUpstream, target: string): Promise<void> {
  assert.equal((await send(up, get(target)) as { body: string }).body, 'ok');
}

test('http backend pool: the most recently released connection is reused first, and none is opened while one is idle', async () => {
  const held: net.Socket[] = [];
  let holding = true;
  let bothArrived!: () => void;
  const arrived = new Promise<void>((resolve) => (bothArrived = resolve));
  const b = await backend((_connection, socket) => {
    if (!holding) return true;
    if (held.push(socket) === 2) bothArrived();
    return false;
  });
  await through(b, async (up) => {
    const first = send(up, get('/a'));
    const second = send(up, get('/b'));
    await arrived;
    holding = false;
    // Released in the order the backend answers: connection 0's, then connection 1's.
    held[b.byRequest.indexOf(0)]!.write(OK);
    assert.equal((await Promise.race([first, second]) as { body: string }).body, 'ok');
    held[b.byRequest.indexOf(1)]!.write(OK);
    await Promise.all([first, second]);
    for (let i = 0; i < 3; i++) await getOk(up, `/next${i}`);
    assert.deepEqual(b.byRequest.slice(2), [1, 1, 1], 'the last released (connection 1) carries the next requests');
    assert.equal(b.seen.length, 2, 'no connection opened while one was idle');
  });
});

test('http backend pool: a connection that carried REQUESTS_PER_CONNECTION requests is closed by the front and the next request opens a new one', async () => {
  const b = await backend();
  await through(b, async (up) => {
    for (let i = 0; i < 2 * REQUESTS_PER_CONNECTION + 7; i++) await getOk(up, `/r${i}`);
    assert.deepEqual(b.seen.map((s) => s.requests), [REQUESTS_PER_CONNECTION, REQUESTS_PER_CONNECTION, 7]);
    await Promise.all([b.seen[0]!.closed, b.seen[1]!.closed]);
    assert.deepEqual(b.seen.map((s) => s.closedByFront), [true, true, false]);
  });
});

test('http backend pool: idle connections are closed by the front after their idle spell (the sweep of the pool)', async () => {
  const b = await backend();
  await through(b, async (up) => {
    await Promise.all([getOk(up, '/x'), getOk(up, '/y'), getOk(up, '/z')]);
    assert.equal(b.seen.length, 3);
    // Nothing else closes them: the backend keeps connections forever.
    await Promise.all(b.seen.map((s) => s.closed));
    assert.deepEqual(b.seen.map((s) => s.closedByFront), [true, true, true]);
    await getOk(up, '/after');
    assert.equal(b.seen.length, 4, 'a request after the idle close opens a new connection');
  });
});
