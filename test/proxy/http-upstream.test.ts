import assert from 'node:assert/strict';
import net from 'node:net';
import test from 'node:test';
import type { BackendSpec } from '../../src/config/schema.js';
import { HttpUpstream } from '../../src/proxy/http-upstream.js';
import type { FailureKind, OutgoingRequest } from '../../src/proxy/transport.js';
import type { RequestBody } from '../../src/server/request-body.js';
import { eachRequest } from '../helpers/request-splitter.js';
import { send } from '../helpers/upstream-send.js';

/**
 * A scripted HTTP/1.1 backend on loopback: `answer` decides, per request on a connection
 * (0-based), what to write back (null: close without answering; '': it wrote itself). Counts connections.
 */
async function backend(answer: (index: number, head: string, socket: net.Socket) => string | null): Promise<{ port: number; connections: () => number; heads: string[]; close: () => Promise<void> }> {
  let connections = 0;
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let index = 0;
    eachRequest(socket, (head, whole) => {
      heads.push(whole);
      const reply = answer(index++, head, socket);
      if (reply === null) socket.destroy();
      else if (reply !== '') socket.write(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, heads, connections: () => connections,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

function spec(port: number): BackendSpec {
  return { url: `http://127.0.0.1:${port}`, protocol: 'http', target: { kind: 'tcp', host: '127.0.0.1', port }, weight: 1, maxFails: 1, failTimeoutMs: 10_000, backup: false, down: false };
}

function body(text: string): RequestBody {
  const bytes = Buffer.from(text);
  return { totalBytes: bytes.length, async *replay() { yield bytes; } } as unknown as RequestBody;
}

function outgoing(method: string, target: string, withBody: RequestBody | null = null): OutgoingRequest {
  return {
    request: { method, target, versionMinor: 1, headers: ['Host', 'app.example', 'Connection', 'keep-alive, x-drop', 'X-Drop', '1', 'Expect', '100-continue'], remoteAddress: '127.0.0.9', remotePort: 5000, scheme: 'http' },
    target, cgiBlock: () => '', pathInfo: target, body: withBody, via: false, host: null, maxForwards: null, connectTimeoutMs: 5000, readTimeoutMs: 5000,
  };
}

test('http upstream: requests in turn share one kept-alive connection; the head is forwarded without hop-by-hop fields', async () => {
  const b = await backend(() => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
  const up = new HttpUpstream(spec(b.port), 5000);
  try {
    for (let i = 0; i < 3; i++) assert.deepEqual(await send(up, outgoing('GET', `/n${i}`)), { status: 200, headers: ['Content-Length', '2'], body: 'ok' });
    assert.equal(b.connections(), 1);
    const head = b.heads[0]!;
    assert.match(head, /^GET \/n0 HTTP\/1\.1\r\nhost: app\.example\r\n/);
    assert.doesNotMatch(head, /x-drop|expect|connection/i);
    assert.match(head, /\r\nx-forwarded-for: 127\.0\.0\.9\r\n/);
    const post = await send(up, outgoing('POST', '/form', body('a=1')));
    assert.equal((post as { body: string }).body, 'ok');
    assert.match(b.heads[3]!, /\r\ncontent-length: 3\r\n\r\na=1$/);
  } finally {
    await up.close();
    await b.close();
  }
});

test('http upstream: Connection: close, HTTP/1.0 and close-delimited responses are not reused; chunked is', async () => {
  const replies = [
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\na',
    'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb',
    'HTTP/1.1 200 OK\r\n\r\nc',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nd\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\ne',
  ];
  let n = 0;
  const b = await backend((_i, _head, socket) => {
    const reply = replies[n++]!;
    // A close-delimited body ends when the backend closes.
    if (n === 3) { socket.end(reply); return ''; }
    return reply;
  });
  const up = new HttpUpstream(spec(b.port), 5000);
  try {
    const bodies: string[] = [];
    for (let i = 0; i < replies.length; i++) bodies.push(((await send(up, outgoing('GET', '/'))) as { body: string }).body);
    assert.deepEqual(bodies, ['a', 'b', 'c', 'd', 'e']);
    // Three connections closed after a/b/c; d and e share the fourth.
    assert.equal(b.connections(), 4);
  } finally {
    await up.close();
    await b.close();
  }
});

test('http upstream: a kept-alive connection the backend drops unanswered: GET is sent again on a new one, POST fails as sent', async () => {
  // Every connection answers its first request and drops the second without a byte (a keep-alive timeout racing the request).
  const b = await backend((index) => (index === 0 ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' : null));
  const up = new HttpUpstream(spec(b.port), 5000);
  try {
    assert.equal((await send(up, outgoing('GET', '/')) as { body: string }).body, 'ok');
    assert.equal((await send(up, outgoing('GET', '/again')) as { body: string }).body, 'ok');
    assert.equal(b.connections(), 2);
    const post = await send(up, outgoing('POST', '/form', body('x')));
    assert.equal((post as { failed: FailureKind }).failed, 'error');
    assert.equal((post as { sent: boolean }).sent, true);
    assert.equal(b.connections(), 2);
  } finally {
    await up.close();
    await b.close();
  }
});

test('http upstream: a refused connect is a connect failure (nothing sent)', async () => {
  const b = await backend(() => '');
  const port = b.port;
  await b.close();
  const up = new HttpUpstream(spec(port), 5000);
  const out = await send(up, outgoing('POST', '/', body('x')));
  assert.equal((out as { failed: FailureKind }).failed, 'connect');
  assert.equal((out as { sent: boolean }).sent, false);
  await up.close();
});

test('http upstream: body pieces handed on stay intact after later reads (they are not views of a reused read buffer)', async () => {
  const payload = Buffer.alloc(300_000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 11)) & 0xff;
  const b = await backend((_i, _head, socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n`);
    // In pieces over several turns, so the front reads them separately.
    let at = 0;
    const more = (): void => {
      if (at >= payload.length) return;
      socket.write(payload.subarray(at, at + 20_000));
      at += 20_000;
      setTimeout(more, 1);
    };
    more();
    return '';
  });
  const upstream = new HttpUpstream(spec(b.port), 5000);
  try {
    const pieces: Buffer[] = [];
    const whole = await new Promise<Buffer>((resolve, reject) => {
      upstream.send(outgoing('GET', '/big'), {
        head: () => undefined,
        // Kept, not copied here: a view of a shared read buffer would be overwritten by the next read.
        body: (chunk, resume) => { pieces.push(chunk); resume(); },
        readDone: () => undefined,
        end: () => resolve(Buffer.concat(pieces)),
        fail: (kind, _sent, message) => reject(new Error(`${kind}: ${message}`)),
      });
    });
    assert.ok(pieces.length > 1, `the body came in ${pieces.length} piece(s); the test needs several reads`);
    assert.equal(whole.length, payload.length);
    assert.ok(whole.equals(payload), 'the relayed body differs from what the backend sent');
  } finally {
    await upstream.close();
    await b.close();
  }
});

test('http upstream: a response that stalls past read-timeout fails as a timeout, the request counted as sent', async () => {
  const b = await backend((_i, _head, socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    return '';
  });
  const upstream = new HttpUpstream(spec(b.port), 5000);
  try {
    const out = { ...outgoing('GET', '/stall'), readTimeoutMs: 300 };
    const got = await send(upstream, out);
    assert.ok('failed' in got, `expected a failure, got ${JSON.stringify(got)}`);
    assert.equal(got.failed, 'timeout');
    assert.equal(got.sent, true);
    assert.match(got.message, /read-timeout: nothing received for 300 ms/);
  } finally {
    await upstream.close();
    await b.close();
  }
});
