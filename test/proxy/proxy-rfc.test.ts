// The proxy audited against RFC 9110 §7.6 and RFC 9112 §6.3 (docs/proxy.md, "RFC audit"): a real
// pure Berth front, a scripted raw backend for exact bytes, and real Berth / uWSGI backends.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth, type RunningBerth } from '../helpers/berth.js';
import { startBerthApp, startUwsgiSocket, type RunningPeer } from '../helpers/backends.js';
import { exchangeRaw, sendUntilClose } from '../helpers/raw-http.js';
import { eachRequest } from '../helpers/request-splitter.js';

interface Seen { readonly path: string; readonly head: string; readonly conn: number }

/**
 * A backend that answers by path with exact bytes. A function answer writes itself (it may
 * close). Every request is recorded with the number of the connection it came on.
 */
async function scriptedBackend(answers: Record<string, string | ((s: net.Socket) => void)>): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const sockets = new Set<net.Socket>();
  let conns = 0;
  const server = net.createServer((socket) => {
    const conn = ++conns;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    eachRequest(socket, (head) => {
      const path = head.split(' ')[1]!;
      seen.push({ path, head, conn });
      const answer = answers[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n';
      if (typeof answer === 'function') answer(socket);
      else socket.write(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

const ANSWERS: Record<string, string | ((s: net.Socket) => void)> = {
  '/plain': OK,
  '/after': OK,
  '/hop': 'HTTP/1.1 200 OK\r\nConnection: X-Internal, Cache-Control\r\nX-Internal: 1\r\nCache-Control: private\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok',
  '/via': 'HTTP/1.1 200 OK\r\nVia: 1.1 app-cache\r\nContent-Length: 2\r\n\r\nok',
  '/te-cl': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  '/two-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
  '/bad-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc',
  '/close-delimited': (s) => s.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end'),
  '/close-delimited-11': (s) => s.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end'),
  '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n',
  '/too-much': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA',
  '/head': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n',
  '/no-content': 'HTTP/1.1 204 No Content\r\n\r\n',
  '/not-modified': 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 10\r\n\r\n',
  '/early-hints': 'HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  '/continue': 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  '/trailers': 'HTTP/1.1 200 OK\r\nTrailer: X-Checksum\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Checksum: abc\r\n\r\n',
  '/abs': OK,
  '/options': OK,
  '/cut-length': (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this'),
  '/cut-chunked': (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nonly this\r\n'),
  '/no-date': 'HTTP/1.1 200 OK\r\nServer: legacy/1.0\r\nContent-Length: 2\r\n\r\nok',
  '/dated': 'HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 2\r\n\r\nok',
};

/** The head (up to CRLF CRLF) and what follows, of the first response in `text`. */
function split(text: string): { head: string; body: string } {
  const end = text.indexOf('\r\n\r\n');
  assert.notEqual(end, -1, `no complete head in ${JSON.stringify(text)}`);
  return { head: text.slice(0, end + 2), body: text.slice(end + 4) };
}

function field(head: string, name: string): string[] {
  return [...head.matchAll(new RegExp(`\\r\\n${name}: ([^\\r]*)`, 'gi'))].map((m) => m[1]!);
}

describe('the proxy against RFC 9110 §7.6 and RFC 9112 §6.3', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-proxy-rfc-'));
  let raw: Awaited<ReturnType<typeof scriptedBackend>>;
  let app: RunningBerth;
  let uwsgi: RunningPeer;
  let front: RunningBerth;

  before(async () => {
    [raw, app, uwsgi] = await Promise.all([scriptedBackend(ANSWERS), startBerthApp('echo.py'), startUwsgiSocket('echo.py')]);
    writeFileSync(join(dir, 'front.ini'), [
      '[upstream:raw]', `server = http://127.0.0.1:${raw.port} max_fails=0`, 'read-timeout = 5s', '',
      '[upstream:quiet]', `server = http://127.0.0.1:${raw.port} max_fails=0`, 'via = off', '',
      '[upstream:app]', `server = http://127.0.0.1:${app.port}`, '',
      '[upstream:legacy]', `server = uwsgi://127.0.0.1:${uwsgi.port}`, '',
      '[uwsgi]', 'http = 127.0.0.1:0',
      'proxy-pass = app.test/=app', 'proxy-pass = quiet.test/=quiet', 'proxy-pass = legacy.test/=legacy', 'proxy-pass = /=raw', '',
    ].join('\n'));
    front = await startBerth(['--ini', join(dir, 'front.ini')], { waitReady: false });
  });

  after(async () => {
    await Promise.all([front?.stop(), app?.stop(), uwsgi?.stop(), raw?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, extra = '', version = '1.1', method = 'GET'): Promise<string> =>
    sendUntilClose(front.port, Buffer.from(`${method} ${path} HTTP/${version}\r\nHost: raw.test\r\n${extra}Connection: close\r\n\r\n`));
  const lastSeen = (path: string): Seen => [...raw.seen].reverse().find((s) => s.path === path)!;
  /** `path` then /after in turn on one client connection: whether /after reused the backend connection `path` came on. */
  const reusedAfter = async (path: string): Promise<boolean> => {
    await get(path);
    await get('/after');
    return lastSeen('/after').conn === lastSeen(path).conn;
  };

  it('§7.6.1 hop-by-hop: Connection, what it names (end-to-end ones too), Keep-Alive, Proxy-Connection, TE, Upgrade go both ways', async () => {
    const text = await get('/hop', 'Connection: X-Secret, Cache-Control\r\nX-Secret: 1\r\nCache-Control: no-cache\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: gzip\r\nX-Kept: yes\r\n');
    const sent = lastSeen('/hop').head;
    for (const name of ['x-secret', 'cache-control', 'keep-alive', 'proxy-connection', 'te', 'upgrade']) assert.deepEqual(field(sent, name), [], `${name} went to the backend`);
    assert.deepEqual(field(sent, 'connection'), [], 'the client\'s Connection went to the backend');
    assert.deepEqual(field(sent, 'x-kept'), ['yes']);
    const { head, body } = split(text);
    for (const name of ['x-internal', 'cache-control', 'keep-alive', 'proxy-connection', 'upgrade']) assert.deepEqual(field(head, name), [], `${name} came back to the client`);
    assert.deepEqual(field(head, 'x-kept'), ['yes']);
    assert.equal(body, 'ok');
  });

  it('§7.6.3 Via: "1.1 berth" added to the request and the response, after any Via already there', async () => {
    const text = await get('/via', 'Via: 1.0 fred, 1.1 p.example\r\n');
    assert.deepEqual(field(lastSeen('/via').head, 'via').join(', '), '1.0 fred, 1.1 p.example, 1.1 berth');
    assert.deepEqual(field(split(text).head, 'via').join(', '), '1.1 app-cache, 1.1 berth');
    assert.deepEqual(field(split(await get('/plain')).head, 'via'), ['1.1 berth']);
    const quiet = await sendUntilClose(front.port, Buffer.from('GET /via HTTP/1.1\r\nHost: quiet.test\r\nVia: 1.0 fred\r\nConnection: close\r\n\r\n'));
    assert.deepEqual(field(lastSeen('/via').head, 'via'), ['1.0 fred'], 'via = off: the chain passes as it came');
    assert.deepEqual(field(split(quiet).head, 'via'), ['1.1 app-cache']);
  });

  it('§6.3: a response framed both by Transfer-Encoding and Content-Length is read chunked, relayed without the length, and its connection closed', async () => {
    const { head, body } = split(await get('/te-cl'));
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.deepEqual(field(head, 'content-length'), []);
    assert.match(body, /^5\r\nhello\r\n0\r\n\r\n$/);
    assert.equal(await reusedAfter('/te-cl'), false);
    assert.equal(await reusedAfter('/plain'), true, 'control: a plain response keeps its connection');
  });

  it('§6.3: two different Content-Lengths or an invalid one: 502, the backend connection closed, a log line', async () => {
    for (const path of ['/two-cl', '/bad-cl']) {
      assert.match(await get(path), /^HTTP\/1\.1 502 /);
      assert.equal(await reusedAfter(path), false, path);
    }
    await front.waitForLog(/backend http:\/\/127\.0\.0\.1:\d+ failed \(unusable response: (more than one|invalid) Content-Length/);
  });

  it('§6.3: a close-delimited body goes to an HTTP/1.1 client chunked on a kept connection, to an HTTP/1.0 client until close', async () => {
    for (const path of ['/close-delimited', '/close-delimited-11']) {
      const r = await exchangeRaw(front.port, `GET ${path} HTTP/1.1\r\nHost: raw.test\r\n\r\n`, 5000, (t) => t.endsWith('0\r\n\r\n'));
      assert.equal(r.closed, false, 'the client connection stays open');
      const { head, body } = split(r.text);
      assert.deepEqual(field(head, 'transfer-encoding'), ['chunked']);
      assert.equal(body, 'd\r\nuntil the end\r\n0\r\n\r\n');
    }
    const old = split(await get('/close-delimited', '', '1.0'));
    assert.deepEqual(field(old.head, 'transfer-encoding'), []);
    assert.equal(old.body, 'until the end');
  });

  it('§6.3: a chunked response to an HTTP/1.0 client is de-chunked and the connection closed', async () => {
    const r = await exchangeRaw(front.port, 'GET /chunked HTTP/1.0\r\nHost: raw.test\r\nConnection: keep-alive\r\n\r\n', 5000);
    assert.equal(r.closed, true);
    const { head, body } = split(r.text);
    assert.deepEqual(field(head, 'transfer-encoding'), []);
    assert.equal(body, 'abcdefg');
  });

  it('§6.3: bytes after a complete response reach no client, and that backend connection is not reused', async () => {
    const { head, body } = split(await get('/too-much'));
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.equal(body, 'ok');
    assert.equal(await reusedAfter('/too-much'), false);
    assert.doesNotMatch(front.logs(), /bytes after the end of the response/, 'a complete response is not counted as a failure');
  });

  it('§6.3 rule 1: HEAD, 204 and 304 have no body (a Content-Length there frames nothing), and the connection is kept', async () => {
    const head = await get('/head', '', '1.1', 'HEAD');
    assert.equal(split(head).body, '');
    assert.deepEqual(field(split(head).head, 'content-length'), ['5']);
    for (const path of ['/no-content', '/not-modified']) {
      const r = split(await get(path));
      assert.equal(r.body, '');
      assert.equal(await reusedAfter(path), true, path);
    }
  });

  it('§15.2: 103 Early Hints reach an HTTP/1.1 client before the response, not an HTTP/1.0 one; a backend\'s 100 is not relayed', async () => {
    const t = await get('/early-hints');
    assert.match(t, /^HTTP\/1\.1 103 Early Hints\r\nlink: <\/s\.css>; rel=preload\r\nvia: 1\.1 berth\r\n\r\nHTTP\/1\.1 200 /i);
    assert.match(await get('/early-hints', '', '1.0'), /^HTTP\/1\.1 200 /);
    const c = await get('/continue');
    assert.match(c, /^HTTP\/1\.1 200 /);
  });

  it('§10.1.1 Expect: 100-continue: the front answers 100 itself, reads the body, and the backend sees no Expect', async () => {
    const s = net.connect(front.port, '127.0.0.1');
    let text = '';
    s.setEncoding('latin1');
    const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
    s.on('data', (t: string) => {
      const first = text === '';
      text += t;
      if (first && text.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) s.write('abc');
    });
    s.write('POST /continue HTTP/1.1\r\nHost: raw.test\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n');
    await closed;
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 [^]*\r\n\r\nok$/);
    assert.equal([...text.matchAll(/ 100 Continue/g)].length, 1);
    assert.deepEqual(field(lastSeen('/continue').head, 'expect'), []);
  });

  it('§6.5 trailers: relayed to an HTTP/1.1 client (the Trailer field is not, a SHOULD); dropped for an HTTP/1.0 one', async () => {
    const { head, body } = split(await get('/trailers', 'TE: trailers\r\n'));
    assert.deepEqual(field(head, 'trailer'), []);
    assert.equal(body, '2\r\nok\r\n0\r\nX-Checksum: abc\r\n\r\n');
    assert.deepEqual(field(lastSeen('/trailers').head, 'te'), ['trailers'], 'the front says it takes trailers');
    const old = split(await get('/trailers', '', '1.0'));
    assert.equal(old.body, 'ok');
  });

  it('RFC 9112 §3.2.2: an absolute-form target routes by its authority and is sent on in origin-form with that Host', async () => {
    const text = await sendUntilClose(front.port, Buffer.from('GET http://app.test/environ?x=1 HTTP/1.1\r\nHost: raw.test\r\nConnection: close\r\n\r\n'));
    const env = JSON.parse(split(text).body.replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, '')) as Record<string, string>;
    assert.equal(env['HTTP_HOST'], 'app.test');
    assert.equal(env['REQUEST_URI'] ?? `${env['PATH_INFO']}?${env['QUERY_STRING']}`, '/environ?x=1');
    await sendUntilClose(front.port, Buffer.from('GET http://raw.test/abs HTTP/1.1\r\nHost: elsewhere\r\nConnection: close\r\n\r\n'));
    assert.match(lastSeen('/abs').head, /^GET \/abs HTTP\/1\.1\r\n/);
    assert.deepEqual(field(lastSeen('/abs').head, 'host'), ['raw.test']);
  });

  it('§7.6.2 Max-Forwards: OPTIONS/TRACE with 0 are answered by the front, a larger value is decremented', async () => {
    const before = raw.seen.length;
    const zero = await get('/options', 'Max-Forwards: 0\r\n', '1.1', 'OPTIONS');
    assert.match(zero, /^HTTP\/1\.1 200 /);
    assert.equal(raw.seen.length, before, 'OPTIONS with Max-Forwards: 0 was not forwarded');
    assert.match(await get('/options', 'Max-Forwards: 0\r\n', '1.1', 'TRACE'), /^HTTP\/1\.1 405 /);
    assert.equal(raw.seen.length, before, 'TRACE with Max-Forwards: 0 was not forwarded');
    await get('/options', 'Max-Forwards: 5\r\n', '1.1', 'OPTIONS');
    assert.deepEqual(field(lastSeen('/options').head, 'max-forwards'), ['4']);
    await get('/plain', 'Max-Forwards: 5\r\n');
    assert.deepEqual(field(lastSeen('/plain').head, 'max-forwards'), ['5'], 'other methods pass it unchanged');
  });

  it('a backend closing mid-body: the client connection is closed before the body looks complete, and a log line names the backend', async () => {
    const cut = await get('/cut-length');
    const { head, body } = split(cut);
    assert.deepEqual(field(head, 'content-length'), ['100']);
    assert.ok(body.length < 100, 'the client can tell the body is short');
    const chunked = split(await get('/cut-chunked'));
    assert.doesNotMatch(chunked.body, /0\r\n\r\n$/, 'no last chunk: the client can tell the body is cut');
    await front.waitForLog(new RegExp(`backend http://127\\.0\\.0\\.1:${raw.port} failed \\(unusable response: upstream closed before the end of the response body`));
  });

  it('§6.6.1 Date added when the backend sent none, kept when it did; Server passed through', async () => {
    const plain = split(await get('/no-date')).head;
    assert.equal(field(plain, 'date').length, 1);
    assert.deepEqual(field(plain, 'server'), ['legacy/1.0']);
    assert.deepEqual(field(split(await get('/dated')).head, 'date'), ['Sun, 06 Nov 1994 08:49:37 GMT']);
  });

  it('real backends: a Berth app over HTTP and uWSGI over uwsgi see Via and no hop-by-hop fields', async () => {
    for (const host of ['app.test', 'legacy.test']) {
      const text = await sendUntilClose(front.port, Buffer.from(`GET /environ HTTP/1.1\r\nHost: ${host}\r\nConnection: X-Secret, close\r\nX-Secret: 1\r\nTE: gzip, trailers\r\nKeep-Alive: 5\r\nX-Kept: yes\r\n\r\n`));
      const { head, body } = split(text);
      const env = JSON.parse(head.includes('chunked') ? body.replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, '') : body) as Record<string, string>;
      assert.equal(env['HTTP_VIA'], '1.1 berth', host);
      for (const key of ['HTTP_X_SECRET', 'HTTP_KEEP_ALIVE', 'HTTP_CONNECTION']) assert.equal(env[key], undefined, `${host}: ${key}`);
      // The client's TE is not relayed; over HTTP the front sends its own (it relays trailers), over uwsgi none.
      assert.equal(env['HTTP_TE'], host === 'app.test' ? 'trailers' : undefined, `${host}: HTTP_TE`);
      assert.equal(env['HTTP_X_KEPT'], 'yes');
      assert.deepEqual(field(head, 'via'), ['1.1 berth'], host);
    }
  });
});
