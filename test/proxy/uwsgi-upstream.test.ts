import assert from 'node:assert/strict';
import net from 'node:net';
import test from 'node:test';
import type { BackendSpec } from '../../src/config/schema.js';
import type { OutgoingRequest } from '../../src/proxy/transport.js';
import { UwsgiUpstream } from '../../src/proxy/uwsgi-upstream.js';
import type { RequestBody } from '../../src/server/request-body.js';
import { send } from '../helpers/upstream-send.js';

/** The vars of one uwsgi packet at the start of `buf`, and its total length with the body; null when not whole. */
function packet(buf: Buffer): { vars: Map<string, string>; length: number } | null {
  if (buf.length < 4) return null;
  const size = buf.readUInt16LE(1);
  if (buf.length < 4 + size) return null;
  const vars = new Map<string, string>();
  for (let pos = 4; pos < 4 + size;) {
    const kl = buf.readUInt16LE(pos);
    const key = buf.toString('latin1', pos + 2, pos + 2 + kl);
    pos += 2 + kl;
    const vl = buf.readUInt16LE(pos);
    vars.set(key, buf.toString('latin1', pos + 2, pos + 2 + vl));
    pos += 2 + vl;
  }
  const length = 4 + size + Number(vars.get('CONTENT_LENGTH') || 0);
  return buf.length < length ? null : { vars, length };
}

const EOF = '<EOF>';

/**
 * A scripted uwsgi backend: `answer(index, vars)` (index: the request's number on its connection)
 * returns the raw response, with `TOKEN` replaced by the front's offered token (ending in EOF: then closed); null: close unanswered.
 */
async function backend(answer: (index: number, vars: Map<string, string>) => string | null): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // the front resets a connection it does not keep
    let index = 0;
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (let p = packet(buf); p !== null; p = packet(buf)) {
        buf = buf.subarray(p.length);
        const reply = answer(index++, p.vars);
        const text = reply?.replace('TOKEN', p.vars.get('BERTH_KEEPALIVE') ?? 'none');
        if (text === undefined) socket.destroy();
        else if (text.endsWith(EOF)) socket.end(text.slice(0, -EOF.length));
        else socket.write(text);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, connections: () => connections,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

function spec(port: number): BackendSpec {
  return { url: `uwsgi://127.0.0.1:${port}`, protocol: 'uwsgi', target: { kind: 'tcp', host: '127.0.0.1', port }, weight: 1, maxFails: 1, failTimeoutMs: 10_000, backup: false, down: false };
}

function outgoing(method: string, text: string | null = null): OutgoingRequest {
  const bytes = text === null ? null : Buffer.from(text);
  const body = bytes === null ? null : ({ totalBytes: bytes.length, async *replay() { yield bytes; } } as unknown as RequestBody);
  return {
    request: { method, target: '/x', versionMinor: 1, headers: ['Host', 'app.example'], remoteAddress: '127.0.0.9', remotePort: 5000, scheme: 'http' },
    target: '/x', cgiBlock: () => `REQUEST_METHOD\0${method}\0`, pathInfo: '/x', body, via: false, host: null, maxForwards: null, connectTimeoutMs: 5000, readTimeoutMs: 5000,
  };
}

const MARKED = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBerth-Keep-Alive: TOKEN\r\n\r\nok';

test('uwsgi upstream: a marked response keeps the connection for the next request; the marker is not passed on', async () => {
  const b = await backend(() => MARKED);
  const up = new UwsgiUpstream(spec(b.port));
  try {
    for (let i = 0; i < 5; i++) assert.deepEqual(await send(up, outgoing('GET')), { status: 200, headers: ['Content-Length', '2'], body: 'ok' });
    assert.equal(b.connections(), 1);
    assert.equal(up.idleConnections, 1);
    const chunked = await backend(() => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nBerth-Keep-Alive: TOKEN\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    const up2 = new UwsgiUpstream(spec(chunked.port));
    for (let i = 0; i < 3; i++) assert.equal((await send(up2, outgoing('POST', 'hello')) as { body: string }).body, 'ok');
    assert.equal(chunked.connections(), 1);
    await up2.close();
    assert.equal(up2.idleConnections, 0);
    await chunked.close();
  } finally {
    await up.close();
    await b.close();
  }
});

test('uwsgi upstream: no marker, a wrong one, Connection: close or a close-delimited body: one connection per request', async () => {
  for (const reply of [
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBerth-Keep-Alive: 1\r\n\r\nok',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\nBerth-Keep-Alive: TOKEN\r\n\r\nok',
    `HTTP/1.1 200 OK\r\nBerth-Keep-Alive: TOKEN\r\n\r\nok${EOF}`,
  ]) {
    const b = await backend((index) => (index === 0 ? reply : 'HTTP/1.1 500 Reused\r\nContent-Length: 0\r\n\r\n'));
    const up = new UwsgiUpstream(spec(b.port));
    for (let i = 0; i < 3; i++) {
      const got = await send(up, outgoing('GET')) as { status: number; headers: readonly string[] };
      assert.equal(got.status, 200, reply);
      assert.ok(!got.headers.some((h) => h.toLowerCase() === 'berth-keep-alive'), reply);
    }
    assert.equal(b.connections(), 3, reply);
    await up.close();
    await b.close();
  }
});

test('uwsgi upstream: a kept connection the backend drops unanswered: GET is sent again on a new one, POST fails as sent', async () => {
  const b = await backend((index) => (index === 0 ? MARKED : null));
  const up = new UwsgiUpstream(spec(b.port));
  try {
    assert.equal((await send(up, outgoing('GET')) as { body: string }).body, 'ok');
    assert.equal((await send(up, outgoing('GET')) as { body: string }).body, 'ok', 'sent again on a new connection');
    assert.equal(b.connections(), 2);
    const post = await send(up, outgoing('POST', 'data'));
    assert.ok('failed' in post && post.failed === 'error' && post.sent, JSON.stringify(post));
    assert.equal(b.connections(), 2, 'a POST is not sent again');
  } finally {
    await up.close();
    await b.close();
  }
});
