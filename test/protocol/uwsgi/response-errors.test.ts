import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../../src/errors/berth-error.js';
import { RawHttpResponseParser } from '../../../src/protocol/uwsgi/client.js';
import { UpstreamResponseError } from '../../../src/protocol/uwsgi/types.js';
import { assertBadResponse, runResponse } from './response-feed.js';

const OK = 'HTTP/1.1 200 OK\r\n';

const cases: ReadonlyArray<readonly [string, string, string]> = [
  ['not HTTP at all', 'garbage\r\n\r\n', 'bad-status-line'],
  ['HTTP/2.0', 'HTTP/2.0 200 OK\r\n\r\n', 'bad-status-line'],
  ['HTTP/1.2', 'HTTP/1.2 200 OK\r\n\r\n', 'bad-status-line'],
  ['lowercase version', 'http/1.1 200 OK\r\n\r\n', 'bad-status-line'],
  ['two-digit status', 'HTTP/1.1 20 OK\r\n\r\n', 'bad-status-line'],
  ['four-digit status', 'HTTP/1.1 2000 OK\r\n\r\n', 'bad-status-line'],
  ['status 099', 'HTTP/1.1 099 Low\r\n\r\n', 'bad-status-line'],
  ['status 600', 'HTTP/1.1 600 High\r\n\r\n', 'bad-status-line'],
  ['two spaces after the version', 'HTTP/1.1  200 OK\r\n\r\n', 'bad-status-line'],
  ['bare LF ending the status line', 'HTTP/1.1 200 OK\nX: y\r\n\r\n', 'bad-status-line'],
  ['control char in the reason', 'HTTP/1.1 200 O\u0000K\r\n\r\n', 'bad-status-line'],
  ['obs-fold', `${OK}X: a\r\n b\r\n\r\n`, 'bad-header'],
  ['space before the colon', `${OK}X : a\r\n\r\n`, 'bad-header'],
  ['no colon', `${OK}X\r\n\r\n`, 'bad-header'],
  ['empty name', `${OK}: a\r\n\r\n`, 'bad-header'],
  ['non-token name', `${OK}X(y): a\r\n\r\n`, 'bad-header'],
  ['bare LF in a field line', `${OK}X: a\nY: b\r\n\r\n`, 'bad-header'],
  ['bare CR in a value', `${OK}X: a\rb\r\n\r\n`, 'bad-header'],
  ['NUL in a value', `${OK}X: a\u0000b\r\n\r\n`, 'bad-header'],
  ['TE in HTTP/1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'conflicting-framing'],
  ['duplicate CL, equal', `${OK}Content-Length: 1\r\nContent-Length: 1\r\n\r\na`, 'bad-content-length'],
  ['CL list', `${OK}Content-Length: 1, 1\r\n\r\na`, 'bad-content-length'],
  ['CL negative', `${OK}Content-Length: -1\r\n\r\n`, 'bad-content-length'],
  ['CL empty', `${OK}Content-Length:\r\n\r\n`, 'bad-content-length'],
  ['CL too large', `${OK}Content-Length: 99999999999999999\r\n\r\n`, 'bad-content-length'],
  ['TE gzip', `${OK}Transfer-Encoding: gzip\r\n\r\n`, 'unsupported-transfer-coding'],
  ['TE gzip, chunked', `${OK}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 'unsupported-transfer-coding'],
  ['TE chunked twice', `${OK}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'unsupported-transfer-coding'],
  ['101 Switching Protocols', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', 'unsupported-status'],
  ['chunk size not hex', `${OK}Transfer-Encoding: chunked\r\n\r\nzz\r\n`, 'bad-chunk'],
  ['chunk size with 0x', `${OK}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`, 'bad-chunk'],
  ['chunk size too many digits', `${OK}Transfer-Encoding: chunked\r\n\r\n${'0'.repeat(17)}1\r\n`, 'bad-chunk'],
  ['chunk data longer than its size', `${OK}Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n`, 'bad-chunk'],
  ['chunk size line ended by bare LF', `${OK}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`, 'bad-chunk'],
  ['control char in a chunk extension', `${OK}Transfer-Encoding: chunked\r\n\r\n5;a\u0001\r\nhello\r\n0\r\n\r\n`, 'bad-chunk'],
  ['obs-fold in trailers', `${OK}Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n`, 'bad-chunk'],
  ['bad trailer name', `${OK}Transfer-Encoding: chunked\r\n\r\n0\r\n(x): a\r\n\r\n`, 'bad-chunk'],
  ['last chunk not ended by CRLF', `${OK}Transfer-Encoding: chunked\r\n\r\n0\r\n\rx`, 'bad-chunk'],
  ['bytes after a Content-Length body', `${OK}Content-Length: 2\r\n\r\nokEXTRA`, 'trailing-bytes'],
  ['bytes after a chunked body', `${OK}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n`, 'trailing-bytes'],
  ['bytes after a 204', 'HTTP/1.1 204 No Content\r\n\r\nx', 'trailing-bytes'],
  ['no response at all', '', 'truncated'],
  ['closed mid-head', `${OK}Content-Le`, 'truncated'],
  ['closed mid Content-Length body', `${OK}Content-Length: 10\r\n\r\nshort`, 'truncated'],
  ['closed mid chunked body', `${OK}Transfer-Encoding: chunked\r\n\r\n5\r\nhel`, 'truncated'],
  ['closed before the last chunk', `${OK}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`, 'truncated'],
  ['closed after a 100 Continue', 'HTTP/1.1 100 Continue\r\n\r\n', 'truncated'],
];

for (const [name, input, reason] of cases) {
  test(`response errors: ${name} → ${reason}`, () => {
    assertBadResponse(input, reason);
  });
}

test('response errors: a head over maxHeadBytes is refused, however it is split', () => {
  assertBadResponse(`${OK}X: ${'v'.repeat(200)}\r\n\r\n`, 'head-too-large', { maxHeadBytes: 100 });
  // One byte over: the terminator ends at byte 101.
  const start = `${OK}X: `;
  assertBadResponse(start + 'v'.repeat(101 - start.length - 4) + '\r\n\r\n', 'head-too-large', { maxHeadBytes: 100 });
  // A head that never ends is refused once maxHeadBytes arrived, without waiting for the close.
  const events = runResponse([Buffer.from(`${OK}X: ${'v'.repeat(200)}`)], { maxHeadBytes: 100 }, false);
  assert.equal(events[0]?.type === 'error' && events[0].reason, 'head-too-large');
});

test('response errors: trailers over maxHeadBytes are refused', () => {
  assertBadResponse(`${OK}Transfer-Encoding: chunked\r\n\r\n0\r\nX: ${'v'.repeat(200)}\r\n\r\n`, 'bad-chunk', { maxHeadBytes: 100 });
});

test('response errors: the error is a BerthError with status 502, and input after it is ignored', () => {
  const errors: unknown[] = [];
  const parser = new RawHttpResponseParser(
    { onHead: () => assert.fail('no head'), onBody: () => assert.fail('no body'), onMessageEnd: () => assert.fail('no end'), onError: (e) => errors.push(e) },
    { maxHeadBytes: 1024 },
  );
  parser.execute(Buffer.from('nonsense\r\n\r\n'));
  parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
  parser.finish();
  assert.equal(errors.length, 1);
  const [error] = errors;
  assert.ok(error instanceof BerthError && error instanceof UpstreamResponseError, String(error));
  assert.equal(error.code, 'BERTH_HTTP_PROTOCOL');
  assert.equal(error.status, 502);
  assert.equal(error.reason, 'bad-status-line');
  const events = runResponse([Buffer.from('nonsense\r\n\r\n'), Buffer.from('HTTP/1.1 200 OK\r\n\r\n')]);
  assert.deepEqual(events.map((e) => e.type), ['error']);
});
