import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHUNK_TRAILER, encodeChunkHeader, LAST_CHUNK } from '../../../src/protocol/http1/chunked.js';
import { cannedResponse, CONTINUE_100 } from '../../../src/protocol/http1/canned.js';
import { imfFixdate } from '../../../src/protocol/http1/date.js';
import { RequestParser } from '../../../src/protocol/http1/request-parser.js';
import { LIMITS, run } from './feed.js';

const DATE = 'Sun, 06 Nov 1994 08:49:37 GMT';

test('chunked encoder: hex size + CRLF; zero and non-integers refused', () => {
  assert.equal(encodeChunkHeader(1), '1\r\n');
  assert.equal(encodeChunkHeader(255), 'ff\r\n');
  assert.equal(encodeChunkHeader(65536), '10000\r\n');
  assert.equal(CHUNK_TRAILER, '\r\n');
  assert.equal(LAST_CHUNK, '0\r\n\r\n');
  for (const bad of [0, -1, 1.5, NaN, Infinity]) assert.throws(() => encodeChunkHeader(bad), RangeError);
});

test('chunked encoder output decodes with our own parser', () => {
  const pieces = ['hello', ' ', 'x'.repeat(300)];
  const body = pieces.map((p) => encodeChunkHeader(p.length) + p + CHUNK_TRAILER).join('') + LAST_CHUNK;
  const events = run([Buffer.from(`POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${body}`)]);
  assert.deepEqual(events.map((e) => e.type), ['head', 'body', 'end']);
  assert.equal(events[1]?.type === 'body' && events[1].data, pieces.join(''));
});

test('date: IMF-fixdate (RFC 9110 §5.6.7)', () => {
  assert.equal(imfFixdate(784111777000), DATE);
  assert.equal(imfFixdate(0), 'Thu, 01 Jan 1970 00:00:00 GMT');
  assert.match(imfFixdate(Date.now()), /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/);
});

test('canned: 100 Continue', () => {
  assert.equal(CONTINUE_100.toString(), 'HTTP/1.1 100 Continue\r\n\r\n');
});

test('canned: complete plain-text responses with length, date and close', () => {
  const expected: Record<number, string> = {
    400: 'Bad Request', 408: 'Request Timeout', 413: 'Content Too Large', 414: 'URI Too Long',
    431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented',
    502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
  };
  for (const [code, reason] of Object.entries(expected)) {
    const text = cannedResponse(Number(code), { date: DATE, close: true }).toString('latin1');
    assert.equal(
      text,
      `HTTP/1.1 ${code} ${reason}\r\nDate: ${DATE}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${reason.length + 1}\r\nConnection: close\r\n\r\n${reason}\n`,
    );
  }
});

test('canned: 503 with Retry-After, kept alive, UTF-8 message measured in bytes', () => {
  const buf = cannedResponse(503, { date: DATE, close: false, retryAfterSeconds: 2, message: 'busy — retry' });
  const body = 'busy — retry\n';
  assert.equal(
    buf.toString('utf8'),
    `HTTP/1.1 503 Service Unavailable\r\nDate: ${DATE}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nRetry-After: 2\r\n\r\n${body}`,
  );
  assert.throws(() => cannedResponse(503, { date: DATE, close: false, retryAfterSeconds: -1 }), RangeError);
  assert.throws(() => cannedResponse(42, { date: DATE, close: false }), RangeError);
});

test('canned: for a HEAD request the body is left out, the length kept', () => {
  const text = cannedResponse(404, { date: DATE, close: false, headRequest: true }).toString();
  assert.match(text, /^HTTP\/1\.1 404 Not Found\r\n/);
  assert.match(text, /\r\nContent-Length: 10\r\n\r\n$/);
});

test('canned: a response head is itself a valid HTTP/1.1 message head (round trip through field rules)', () => {
  // Reuse the request parser's field validation by dressing the canned head as a request.
  const head = cannedResponse(400, { date: DATE, close: true }).toString('latin1').split('\r\n\r\n')[0] ?? '';
  const fields = head.split('\r\n').slice(1).join('\r\n');
  let ok = false;
  new RequestParser(
    { onHead: () => (ok = true), onBody: () => {}, onMessageEnd: () => {}, onError: (e) => assert.fail(e) },
    LIMITS,
  ).execute(Buffer.from(`GET / HTTP/1.0\r\n${fields}\r\n\r\n`, 'latin1'));
  assert.ok(ok);
});
