import test from 'node:test';
import assert from 'node:assert/strict';
import { eachRelayedField, forwardingLines, uwsgiVars, withoutHopByHop } from '../../src/proxy/forward-headers.js';
import type { ExchangeRequest } from '../../src/server/exchange.js';

const req = (headers: string[], extra: Partial<ExchangeRequest> = {}): ExchangeRequest => ({ method: 'GET', target: '/a?b=1', versionMinor: 1, headers, remoteAddress: '10.0.0.7', remotePort: 5000, scheme: 'http', ...extra });

/**
 * The fields the HTTP upstream sends (eachRelayedField, then forwardingLines, as its request
 * head does), as a record with repeated names as arrays.
 */
function forwardRequestHeaders(r: ExchangeRequest): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const add = (name: string, value: string): void => {
    const before = out[name];
    if (before === undefined) out[name] = value;
    else if (Array.isArray(before)) before.push(value);
    else out[name] = [before, value];
  };
  const seen = eachRelayedField(r, add);
  const lines = forwardingLines(r, seen);
  assert.ok(lines.endsWith('\r\n'), 'forwarding lines end each with CRLF');
  for (const line of lines.slice(0, -2).split('\r\n')) {
    const colon = line.indexOf(': ');
    assert.ok(colon > 0, `a head line: ${line}`);
    add(line.slice(0, colon), line.slice(colon + 2));
  }
  return out;
}

test('hop-by-hop fields and the ones Connection names are dropped from a response', () => {
  assert.deepEqual(withoutHopByHop(['Connection', 'close, X-Private', 'X-Private', '1', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']), ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  assert.deepEqual(withoutHopByHop(['Content-Type', 'text/plain', 'Keep-Alive', 'timeout=5', 'X-A', '1', 'Proxy-Thing', 'y', 'X-B', '2']), ['Content-Type', 'text/plain', 'X-A', '1', 'X-B', '2']);
  const clean = ['Content-Type', 'text/plain', 'Content-Length', '2'];
  assert.deepEqual(withoutHopByHop(clean), ['Content-Type', 'text/plain', 'Content-Length', '2']);
  assert.equal(withoutHopByHop(clean), clean, 'a response without hop-by-hop fields keeps its field list (no copy)');
});

test('a request to an HTTP backend keeps Host, appends X-Forwarded-For and Forwarded, replaces -Proto and -Host', () => {
  const h = forwardRequestHeaders(req(['Host', 'shop.example', 'X-Forwarded-For', '203.0.113.1', 'X-Forwarded-Proto', 'https', 'TE', 'trailers', 'Upgrade', 'h2c', 'Proxy-Authorization', 'x', 'Cookie', 'a', 'Cookie', 'b']));
  assert.equal(h['host'], 'shop.example');
  assert.equal(h['x-forwarded-for'], '203.0.113.1, 10.0.0.7');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-host'], 'shop.example');
  assert.equal(h['forwarded'], 'for=10.0.0.7;proto=http;host=shop.example');
  assert.deepEqual(h['cookie'], ['a', 'b']);
  for (const gone of ['te', 'upgrade', 'proxy-authorization']) assert.equal(h[gone], undefined, gone);
  assert.equal(forwardRequestHeaders(req([], { remoteAddress: '::1' }))['forwarded'], 'for="[::1]";proto=http');
});

test("uwsgi vars carry nginx's uwsgi_params set from the front's CGI block", () => {
  const block = ['REQUEST_METHOD', 'POST', 'REQUEST_URI', '/a?b=1', 'PATH_INFO', '/stripped', 'QUERY_STRING', 'b=1', 'SCRIPT_NAME', '/x', 'SERVER_PROTOCOL', 'HTTP/1.1', 'SERVER_NAME', 'shop.example', 'SERVER_PORT', '8080', 'REMOTE_ADDR', '10.0.0.7', 'REMOTE_PORT', '5000', 'wsgi.url_scheme', 'https', 'CONTENT_TYPE', 'text/plain', 'CONTENT_LENGTH', '3', 'HTTP_HOST', 'shop.example', 'HTTP_CONNECTION', 'keep-alive', 'HTTP_TE', 'x'].join('\0');
  const vars = uwsgiVars(req(['Host', 'shop.example', 'Connection', 'keep-alive'], { method: 'POST', scheme: 'https' }), block, '/a', 3);
  const map = new Map<string, string>();
  for (let i = 0; i < vars.length; i += 2) {
    assert.equal(map.has(vars[i]!), false, `${vars[i]} sent once`);
    map.set(vars[i]!, vars[i + 1]!);
  }
  for (const [k, v] of [['REQUEST_METHOD', 'POST'], ['QUERY_STRING', 'b=1'], ['CONTENT_TYPE', 'text/plain'], ['CONTENT_LENGTH', '3'], ['REQUEST_URI', '/a?b=1'], ['PATH_INFO', '/a'], ['DOCUMENT_ROOT', ''], ['SERVER_PROTOCOL', 'HTTP/1.1'], ['REQUEST_SCHEME', 'https'], ['HTTPS', 'on'], ['REMOTE_ADDR', '10.0.0.7'], ['REMOTE_PORT', '5000'], ['SERVER_PORT', '8080'], ['SERVER_NAME', 'shop.example'], ['HTTP_HOST', 'shop.example'], ['HTTP_X_FORWARDED_FOR', '10.0.0.7'], ['HTTP_X_FORWARDED_PROTO', 'https'], ['HTTP_X_FORWARDED_HOST', 'shop.example']]) {
    assert.equal(map.get(k as string), v, k);
  }
  for (const gone of ['SCRIPT_NAME', 'wsgi.url_scheme', 'HTTP_CONNECTION', 'HTTP_TE']) assert.equal(map.has(gone), false, gone);
});

test('forwardingLines follows the client address, scheme and Host from one request to the next', () => {
  const lines = (r: ExchangeRequest): string => forwardingLines(r, eachRelayedField(r, () => {}));
  const a = lines(req(['Host', 'a.example']));
  assert.equal(a, 'x-forwarded-for: 10.0.0.7\r\nx-forwarded-proto: http\r\nx-forwarded-host: a.example\r\nforwarded: for=10.0.0.7;proto=http;host=a.example\r\n');
  assert.equal(lines(req(['Host', 'a.example'])), a);
  assert.equal(lines(req(['Host', 'b.example'])), 'x-forwarded-for: 10.0.0.7\r\nx-forwarded-proto: http\r\nx-forwarded-host: b.example\r\nforwarded: for=10.0.0.7;proto=http;host=b.example\r\n');
  assert.equal(lines(req([], { remoteAddress: '::1', scheme: 'https' })), 'x-forwarded-for: ::1\r\nx-forwarded-proto: https\r\nforwarded: for="[::1]";proto=https\r\n');
  assert.equal(lines(req(['X-Forwarded-For', '203.0.113.1'], { remoteAddress: '::1', scheme: 'https' })), 'x-forwarded-for: 203.0.113.1, ::1\r\nx-forwarded-proto: https\r\nforwarded: for="[::1]";proto=https\r\n');
  assert.equal(lines(req(['Host', 'a.example'])), a);
});
