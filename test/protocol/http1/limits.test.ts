import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccepted, assertRejected, heads, run } from './feed.js';

const SMALL = { maxHeadBytes: 64, maxBodyBytes: 10 };

/** A head of exactly `size` bytes (request-line + one field + final CRLF). */
function headOfSize(size: number): string {
  const base = 'GET / HTTP/1.1\r\nHost: h\r\nX: \r\n\r\n';
  return base.replace('X: ', 'X: ' + 'a'.repeat(size - base.length));
}

test('limits: a head of exactly maxHeadBytes is accepted', () => {
  const input = headOfSize(64);
  assert.equal(input.length, 64);
  assertAccepted(input, SMALL);
});

test('limits: one byte over maxHeadBytes → 431', () => {
  assertRejected(headOfSize(65), 431, SMALL);
});

test('limits: a head that never ends → 431 once the budget is used', () => {
  assertRejected('GET / HTTP/1.1\r\nHost: h\r\nX: ' + 'a'.repeat(100), 431, SMALL);
});

test('limits: request-line alone over maxHeadBytes → 414', () => {
  assertRejected(`GET /${'a'.repeat(80)} HTTP/1.1\r\nHost: h\r\n\r\n`, 414, SMALL);
  assertRejected(`GET /${'a'.repeat(80)}`, 414, SMALL);
});

test('limits: request-line whose CRLF straddles the limit → 414', () => {
  const line = `GET /${'a'.repeat(64 - 'GET / HTTP/1.1\r'.length)} HTTP/1.1\r\n`;
  assert.equal(line.length, 65);
  assertRejected(`${line}Host: h\r\n\r\n`, 414, SMALL);
});

test('limits: empty lines before the request-line count against the head budget', () => {
  assertRejected('\r\n'.repeat(40) + 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', 431, SMALL);
  assertAccepted('\r\n'.repeat(2) + 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', SMALL);
});

test('limits: a bare LF within the budget is reported as 400, not as a limit', () => {
  assertRejected('GET / HTTP/1.1\r\nHost: h\nX: ' + 'a'.repeat(100), 400, SMALL);
});

test('limits: Content-Length over maxBodyBytes → 413 at the head', () => {
  assertRejected('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n', 413, SMALL);
  assertAccepted('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789', SMALL);
});

test('limits: chunked body over maxBodyBytes → 413 when the chunk-size says so', () => {
  const input = 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n';
  assertRejected(input, 413, SMALL, true);
  const events = run([Buffer.from(input)], SMALL);
  assert.deepEqual(events.map((e) => e.type), ['head', 'body', 'error']);
  assertAccepted('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n', SMALL);
});

test('limits: maxBodyBytes 0 means unlimited', () => {
  const big = 'x'.repeat(5000);
  const events = run([Buffer.from(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n${big}`)], { maxHeadBytes: 8192, maxBodyBytes: 0 });
  assert.deepEqual(events.map((e) => e.type), ['head', 'body', 'end']);
  assert.equal(heads(events)[0]?.contentLength, 5000);
});

test('limits: trailers count against what the head left of maxHeadBytes → 431', () => {
  const head = 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n';
  assert.equal(head.length, 56);
  assertAccepted(`${head}0\r\nA: b\r\n\r\n`, SMALL);
  assertRejected(`${head}0\r\nA: bcd\r\n\r\n`, 431, SMALL, true);
});
