import test from 'node:test';
import assert from 'node:assert/strict';
import { buildCgiBlock, CgiNameCache, decodePath, hostName, pathDecodesToNul, splitTarget } from '../../src/server/http-environ.js';
import { Exchange, type CgiSource, type Responder } from '../../src/server/exchange.js';

const conn = { remoteAddress: '10.0.0.9', remotePort: 5555, localAddress: '127.0.0.1', localPort: 8000, scheme: 'http' as const };

function parse(block: string): Record<string, string> {
  const parts = block.split('\0');
  const out: Record<string, string> = {};
  for (let i = 0; i < parts.length; i += 2) out[parts[i]!] = parts[i + 1]!;
  return out;
}

test('splitTarget handles origin-, absolute- and asterisk-form', () => {
  assert.deepEqual(splitTarget('/a/b?x=1&y'), { path: '/a/b', query: 'x=1&y' });
  assert.deepEqual(splitTarget('/'), { path: '/', query: '' });
  assert.deepEqual(splitTarget('http://example.com/p?q'), { path: '/p', query: 'q' });
  assert.deepEqual(splitTarget('http://example.com'), { path: '/', query: '' });
  assert.deepEqual(splitTarget('*'), { path: '*', query: '' });
  assert.deepEqual(splitTarget('/a?b?c'), { path: '/a', query: 'b?c' });
});

test('decodePath decodes to latin-1 bytes, keeps bad escapes, refuses NUL', () => {
  assert.equal(decodePath('/caf%C3%A9'), '/caf\u00c3\u00a9');
  assert.equal(decodePath('/a%2Fb'), '/a/b');
  assert.equal(decodePath('/100%'), '/100%');
  assert.equal(decodePath('/%zz'), '/%zz');
  assert.equal(decodePath('/a%00b'), null);
  assert.equal(decodePath('/plain'), '/plain');
});

test('hostName strips the port, including IPv6 literals', () => {
  assert.equal(hostName('example.com:8080'), 'example.com');
  assert.equal(hostName('[::1]:80'), '::1');
  assert.equal(hostName('plain'), 'plain');
});

test('buildCgiBlock maps headers, joins repeats, drops underscores and framing headers', () => {
  const block = buildCgiBlock(
    {
      method: 'POST',
      target: '/x%20y?q=1',
      versionMinor: 1,
      headers: ['Host', 'example.com:8080', 'Content-Type', 'text/plain', 'Content-Length', '5', 'Transfer-Encoding', 'chunked', 'X_Evil', '1', 'Accept', 'a', 'accept', 'b', 'Cookie', 'c=1', 'Cookie', 'd=2'],
    },
    conn,
    5,
    new CgiNameCache(),
  );
  assert.ok(block !== null);
  const env = parse(block);
  assert.equal(env.REQUEST_METHOD, 'POST');
  assert.equal(env.PATH_INFO, '/x y');
  assert.equal(env.REQUEST_URI, '/x%20y?q=1');
  assert.equal(env.QUERY_STRING, 'q=1');
  assert.equal(env.SCRIPT_NAME, '');
  assert.equal(env.SERVER_NAME, 'example.com');
  assert.equal(env.SERVER_PORT, '8000');
  assert.equal(env.REMOTE_ADDR, '10.0.0.9');
  assert.equal(env.REMOTE_PORT, '5555');
  assert.equal(env.CONTENT_TYPE, 'text/plain');
  assert.equal(env.CONTENT_LENGTH, '5');
  assert.equal(env.HTTP_ACCEPT, 'a, b');
  assert.equal(env.HTTP_COOKIE, 'c=1; d=2');
  assert.equal(env.HTTP_TRANSFER_ENCODING, undefined);
  assert.equal(env.HTTP_CONTENT_LENGTH, undefined);
  assert.equal(env.HTTP_X_EVIL, undefined);
  assert.equal(env['wsgi.url_scheme'], 'http');
});

test('buildCgiBlock falls back to the local address without Host, and refuses an encoded NUL', () => {
  const env = parse(buildCgiBlock({ method: 'GET', target: '/', versionMinor: 0, headers: [] }, conn, 0, new CgiNameCache())!);
  assert.equal(env.SERVER_NAME, '127.0.0.1');
  assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.0');
  assert.equal(env.CONTENT_LENGTH, undefined);
  assert.equal(buildCgiBlock({ method: 'GET', target: '/%00', versionMinor: 1, headers: [] }, conn, 0, new CgiNameCache()), null);
});

test('buildCgiBlock: an absolute-form target\'s authority replaces Host (RFC 9112 §3.2.2)', () => {
  const env = parse(buildCgiBlock({ method: 'GET', target: 'http://other.test:81/p?q', versionMinor: 1, headers: ['Host', 'example.com'] }, conn, 0, new CgiNameCache())!);
  assert.equal(env['HTTP_HOST'], 'other.test:81');
  assert.equal(env['SERVER_NAME'], 'other.test');
  assert.equal(env['PATH_INFO'], '/p');
  assert.equal(env['QUERY_STRING'], 'q');
});

test('pathDecodesToNul: only an encoded NUL in the path, in any target form', () => {
  for (const t of ['/a%00b', '/%00', 'http://h/x%00', '/a/%00/b?q=1']) assert.equal(pathDecodesToNul(t), true, t);
  for (const t of ['/a', '/a?x=%00', '/%0a', '/%2500', '/a%0', '*', 'http://h/?%00']) assert.equal(pathDecodesToNul(t), false, t);
});

test('Exchange.cgiBlock: built on first read only, once', () => {
  let builds = 0;
  const source: CgiSource = { cgiBlockOf: (ex) => { builds++; return `REQUEST_METHOD\0${ex.request.method}`; } };
  const request = { method: 'GET', target: '/', versionMinor: 1 as const, headers: [], remoteAddress: '127.0.0.1', remotePort: 1, scheme: 'http' as const };
  const ex = new Exchange(request, '', null, {} as Responder, 0);
  ex.buildCgiBlockLater(source);
  assert.equal(builds, 0, 'nothing read it yet: nothing built');
  assert.equal(ex.cgiBlock, 'REQUEST_METHOD\0GET');
  assert.equal(ex.cgiBlock, 'REQUEST_METHOD\0GET');
  assert.equal(builds, 1);
  assert.equal(new Exchange(request, 'A\0b', null, {} as Responder, 0).cgiBlock, 'A\0b', 'a block given up front is kept');
});
