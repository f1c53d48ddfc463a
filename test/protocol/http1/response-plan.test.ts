import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRejection, planResponse, type PlanRequest } from '../../../src/protocol/http1/response.js';
import type { ResponsePlan } from '../../../src/protocol/http1/types.js';

const DATE = 'Sun, 06 Nov 1994 08:49:37 GMT';
const GET11: PlanRequest = { method: 'GET', versionMinor: 1, keepAlive: true };
const GET10: PlanRequest = { method: 'GET', versionMinor: 0, keepAlive: false };
const GET10KA: PlanRequest = { method: 'GET', versionMinor: 0, keepAlive: true };
const HEAD11: PlanRequest = { method: 'HEAD', versionMinor: 1, keepAlive: true };

function plan(req: PlanRequest, status: string, headers: string[], forceClose = false): ResponsePlan {
  const result = planResponse(req, status, headers, { date: DATE, forceClose });
  if (isRejection(result)) assert.fail(result.reason);
  return result;
}

function rejection(status: string, headers: string[], req: PlanRequest = GET11): string {
  const result = planResponse(req, status, headers, { date: DATE });
  assert.ok(isRejection(result), 'expected a rejection');
  return result.reason;
}

test('plan: Content-Length from the app → length framing, Date added', () => {
  const p = plan(GET11, '200 OK', ['Content-Type', 'text/plain', 'Content-Length', '5']);
  assert.equal(p.head, `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nDate: ${DATE}\r\n\r\n`);
  assert.deepEqual([p.statusCode, p.framing, p.contentLength, p.keepAlive], [200, 'length', 5, true]);
});

test('plan: no length on HTTP/1.1 → chunked, Transfer-Encoding added', () => {
  const p = plan(GET11, '404 Not Found', ['Content-Type', 'text/html']);
  assert.equal(p.head, `HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nDate: ${DATE}\r\n\r\n`);
  assert.deepEqual([p.framing, p.contentLength, p.keepAlive], ['chunked', -1, true]);
});

test('plan: no length on HTTP/1.0 → close framing, Connection: close', () => {
  const p = plan(GET10KA, '200 OK', []);
  assert.equal(p.head, `HTTP/1.1 200 OK\r\nDate: ${DATE}\r\nConnection: close\r\n\r\n`);
  assert.deepEqual([p.framing, p.keepAlive], ['close', false]);
});

test('plan: kept-alive HTTP/1.0 client with a length gets Connection: keep-alive', () => {
  const p = plan(GET10KA, '200 OK', ['Content-Length', '0']);
  assert.equal(p.head, `HTTP/1.1 200 OK\r\nContent-Length: 0\r\nDate: ${DATE}\r\nConnection: keep-alive\r\n\r\n`);
  assert.deepEqual([p.framing, p.keepAlive], ['length', true]);
  const closing = plan(GET10, '200 OK', ['Content-Length', '0']);
  assert.match(closing.head, /\r\nConnection: close\r\n\r\n$/);
  assert.equal(closing.keepAlive, false);
});

test('plan: HEAD → no body, the app’s Content-Length kept and reported', () => {
  const p = plan(HEAD11, '200 OK', ['Content-Length', '1234']);
  assert.equal(p.head, `HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nDate: ${DATE}\r\n\r\n`);
  assert.deepEqual([p.framing, p.contentLength, p.keepAlive], ['none', 1234, true]);
  const noLength = plan(HEAD11, '200 OK', []);
  assert.equal(noLength.head, `HTTP/1.1 200 OK\r\nDate: ${DATE}\r\n\r\n`);
  assert.deepEqual([noLength.framing, noLength.contentLength, noLength.keepAlive], ['none', -1, true]);
});

test('plan: 204 → no body and its Content-Length dropped (RFC 9110 §8.6)', () => {
  const p = plan(GET11, '204 No Content', ['Content-Length', '0', 'X-A', 'b']);
  assert.equal(p.head, `HTTP/1.1 204 No Content\r\nX-A: b\r\nDate: ${DATE}\r\n\r\n`);
  assert.deepEqual([p.framing, p.contentLength, p.keepAlive], ['none', -1, true]);
});

test('plan: 304 → no body, Content-Length kept as is, even on HTTP/1.0', () => {
  const p = plan(GET10KA, '304 Not Modified', ['ETag', '"x"', 'Content-Length', '10']);
  assert.equal(p.head, `HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 10\r\nDate: ${DATE}\r\nConnection: keep-alive\r\n\r\n`);
  assert.deepEqual([p.framing, p.contentLength, p.keepAlive], ['none', -1, true]);
});

test('plan: the app’s Date is kept, not doubled', () => {
  const p = plan(GET11, '200 OK', ['date', 'Mon, 07 Nov 1994 08:49:37 GMT', 'Content-Length', '0']);
  assert.equal(p.head, 'HTTP/1.1 200 OK\r\ndate: Mon, 07 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n');
});

test('plan: hop-by-hop fields from the app are stripped (PEP 3333)', () => {
  const hop = ['Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'transfer-encoding', 'chunked', 'Upgrade', 'h2c',
    'Proxy-Connection', 'keep-alive', 'TE', 'trailers', 'Trailer', 'X-Sum'];
  const p = plan(GET11, '200 OK', [...hop, 'Content-Length', '2', 'X-Keep', 'yes']);
  assert.equal(p.head, `HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Keep: yes\r\nDate: ${DATE}\r\n\r\n`);
  assert.equal(p.keepAlive, true);
});

test('plan: app Connection: close → keepAlive false and Connection: close sent', () => {
  for (const v of ['close', 'Close', 'keep-alive, close', 'close ,x']) {
    const p = plan(GET11, '200 OK', ['Connection', v, 'Content-Length', '0']);
    assert.equal(p.head, `HTTP/1.1 200 OK\r\nContent-Length: 0\r\nDate: ${DATE}\r\nConnection: close\r\n\r\n`, v);
    assert.equal(p.keepAlive, false);
  }
  assert.equal(plan(GET11, '200 OK', ['Connection', 'closed', 'Content-Length', '0']).keepAlive, true);
});

test('plan: forceClose and a non-keep-alive request both announce Connection: close', () => {
  assert.equal(plan(GET11, '200 OK', ['Content-Length', '0'], true).keepAlive, false);
  const p = plan({ method: 'GET', versionMinor: 1, keepAlive: false }, '200 OK', []);
  assert.deepEqual([p.framing, p.keepAlive], ['chunked', false]);
  assert.match(p.head, /\r\nConnection: close\r\n\r\n$/);
});

test('plan: status variants accepted', () => {
  assert.equal(plan(GET11, '200 ', []).statusCode, 200);
  assert.equal(plan(GET11, '599 Custom reason\twith tab', []).statusCode, 599);
  assert.equal(plan(GET11, '200 Ok\u00e9', []).head.startsWith('HTTP/1.1 200 Ok\u00e9\r\n'), true);
  assert.equal(plan(GET11, '451 Unavailable For Legal Reasons', []).statusCode, 451);
});

const badStatus: ReadonlyArray<readonly [string, RegExp]> = [
  ['20 OK', /^status '20 OK' is not 'NNN reason'$/],
  ['200', /is not 'NNN reason'/],
  ['200OK', /is not 'NNN reason'/],
  [' 200 OK', /is not 'NNN reason'/],
  ['2000 OK', /is not 'NNN reason'/],
  ['600 Nope', /is not 'NNN reason'/],
  ['099 Low', /is not 'NNN reason'/],
  ['abc OK', /is not 'NNN reason'/],
  ['', /is not 'NNN reason'/],
  ['200\tOK', /is not 'NNN reason'/],
  ['100 Continue', /1xx interim/],
  ['101 Switching Protocols', /1xx interim/],
  ['200 OK\r\nX-Injected: 1', /CR\/LF \(response splitting\)/],
  ['200 OK\n', /CR\/LF/],
  ['200 OK\0', /control or non-latin1/],
  ['200 OK\u010a', /control or non-latin1/],
];
for (const [status, reason] of badStatus) {
  test(`plan rejected: status ${JSON.stringify(status)}`, () => assert.match(rejection(status, []), reason));
}

const badHeaders: ReadonlyArray<readonly [string, string[], RegExp]> = [
  ['CRLF in value', ['X-Bad', 'a\r\nSet-Cookie: x=1'], /^header 'X-Bad' value contains CR\/LF \(response splitting\)$/],
  ['bare LF in value', ['X-Bad', 'a\nb'], /header 'X-Bad' value contains CR\/LF/],
  ['bare CR in value', ['X-Bad', 'a\rb'], /header 'X-Bad' value contains CR\/LF/],
  ['NUL in value', ['X-Bad', 'a\0b'], /header 'X-Bad' value contains control character 0x00/],
  ['DEL in value', ['X-Bad', 'a\x7f'], /control character 0x7f/],
  ['char above 0xFF that latin1 would truncate to LF', ['X-Bad', 'a\u010ab'], /non-latin1 character U\+10A/],
  ['space in name', ['X Bad', 'v'], /header name 'X Bad' is not a token/],
  ['colon in name', ['X-Bad:', 'v'], /is not a token/],
  ['CRLF in name', ['X\r\nY', 'v'], /is not a token/],
  ['empty name', ['', 'v'], /empty name/],
  ['odd list', ['X-A'], /odd length/],
  ['two Content-Length', ['Content-Length', '1', 'content-length', '1'], /more than one Content-Length/],
  ['non-numeric Content-Length', ['Content-Length', 'abc'], /Content-Length 'abc' is not a non-negative integer/],
  ['negative Content-Length', ['Content-Length', '-1'], /not a non-negative integer/],
  ['Content-Length with spaces', ['Content-Length', ' 1'], /not a non-negative integer/],
  ['CRLF in a hop-by-hop value is still refused', ['Connection', 'close\r\nX: y'], /CR\/LF/],
];
for (const [name, headers, reason] of badHeaders) {
  test(`plan rejected: ${name}`, () => assert.match(rejection('200 OK', headers), reason));
}

test('plan: a frozen field list is planned once and each plan still follows its request', () => {
  // Every case twice in a row (the second a memo hit), and in an order where each one changes
  // one input from the previous: the frozen list must plan exactly as a fresh copy does.
  const lists = [
    ['Content-Type', 'text/plain', 'Content-Length', '5'],
    ['Content-Type', 'text/plain', 'Content-Length', '5', 'Date', DATE],
    ['Content-Type', 'text/plain', 'Connection', 'close', 'Content-Length', '5'],
    ['Content-Type', 'text/html'],
  ];
  const cases: [PlanRequest, string, boolean, string][] = [
    [GET11, '200 OK', false, DATE], [GET11, '200 OK', false, 'Mon, 07 Nov 1994 08:49:38 GMT'],
    [HEAD11, '200 OK', false, DATE], [GET11, '200 OK', true, DATE], [GET10, '200 OK', false, DATE],
    [GET10KA, '200 OK', false, DATE], [GET11, '404 Not Found', false, DATE], [GET11, '304 Not Modified', false, DATE],
    [GET11, '200 OK', false, DATE],
  ];
  for (const list of lists) {
    const frozen = Object.freeze([...list]);
    for (const [req, status, forceClose, date] of cases) {
      const fresh = planResponse(req, status, [...list], { date, forceClose });
      for (let i = 0; i < 2; i++) assert.deepEqual(planResponse(req, status, frozen, { date, forceClose }), fresh, `${list.join(' ')} ${req.method} 1.${req.versionMinor} ${status} ${date}`);
    }
  }
  const repeated = Object.freeze(['Content-Type', 'text/plain', 'Content-Length', '5']);
  assert.equal(planResponse(GET11, '200 OK', repeated, { date: DATE }), planResponse(GET11, '200 OK', repeated, { date: DATE }), 'the same plan object again');
  const bad = Object.freeze(['X-Bad', 'a\r\nb']);
  for (let i = 0; i < 2; i++) assert.equal(rejection('200 OK', bad as string[]), "header 'X-Bad' value contains CR/LF (response splitting)");
});
