import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawHttpResponseParser, responseKeepsAlive } from '../../../src/protocol/uwsgi/client.js';
import type { RawHttpResponseHead } from '../../../src/protocol/uwsgi/types.js';
import { assertResponse, parseResponseEveryWay, runResponse } from './response-feed.js';
import { UWSGI_RESPONSE_204, UWSGI_RESPONSE_LENGTH, UWSGI_RESPONSE_NO_REASON, UWSGI_RESPONSE_STREAM } from './fixtures.js';

test('response framing: Content-Length (captured from uWSGI)', () => {
  const { head, body } = assertResponse(UWSGI_RESPONSE_LENGTH);
  assert.equal(head.statusCode, 200);
  assert.equal(head.reason, 'OK');
  assert.equal(head.versionMinor, 1);
  assert.deepEqual(head.headers, ['Content-Type', 'text/plain', 'Content-Length', '17']);
  assert.equal(head.framing, 'length');
  assert.equal(head.contentLength, 17);
  assert.equal(body, 'hello from uWSGI\n');
});

test('response framing: no length means read until close (captured from uWSGI)', () => {
  const { head, body } = assertResponse(UWSGI_RESPONSE_STREAM);
  assert.equal(head.framing, 'close');
  assert.equal(head.contentLength, -1);
  assert.equal(body, 'part 0\npart 1\npart 2\n');
  // Without finish() the body is not over yet.
  assert.deepEqual(runResponse([Buffer.from(UWSGI_RESPONSE_STREAM)], undefined, false).map((e) => e.type), ['head', 'body']);
});

test('response framing: close-delimited with an empty body', () => {
  const { head, body } = assertResponse('HTTP/1.0 200 OK\r\nServer: x\r\n\r\n');
  assert.equal(head.versionMinor, 0);
  assert.equal(head.framing, 'close');
  assert.equal(body, '');
});

test('response framing: 404 and 204 as uWSGI sends them', () => {
  assert.equal(assertResponse(UWSGI_RESPONSE_NO_REASON).head.reason, 'Not Found');
  const noContent = assertResponse(UWSGI_RESPONSE_204);
  assert.equal(noContent.head.framing, 'none');
  assert.equal(noContent.body, '');
  // End is reported at once, without waiting for the close.
  assert.deepEqual(runResponse([Buffer.from(UWSGI_RESPONSE_204)], undefined, false).map((e) => e.type), ['head', 'end']);
});

test('response framing: a status line without a reason (start_response("200", …)) is accepted', () => {
  const { head } = assertResponse('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n');
  assert.equal(head.statusCode, 200);
  assert.equal(head.reason, '');
  assert.equal(assertResponse('HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n').head.reason, '');
  assert.equal(assertResponse('HTTP/1.1 599 Odd \u00e9 reason\tx\r\nContent-Length: 0\r\n\r\n').head.reason, 'Odd \u00e9 reason\tx');
});

test('response framing: Transfer-Encoding and Content-Length: chunked wins, the length is dropped, the framing marked faulty (RFC 9112 §6.3 rule 3)', () => {
  const { head, body } = assertResponse('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX: y\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
  assert.equal(head.framing, 'chunked');
  assert.equal(head.contentLength, -1);
  assert.deepEqual(head.headers, ['X', 'y', 'Transfer-Encoding', 'chunked']);
  assert.equal(head.faultyFraming, true);
  assert.equal(responseKeepsAlive(head), false);
  assert.equal(body, 'hello');
  assert.equal(assertResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n').head.faultyFraming, false);
});

test('response framing: chunked, with extensions and trailers dropped', () => {
  const { head, body } = assertResponse(
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + '5\r\nhello\r\n' + '1;ext=1\r\n \r\n' + 'A \r\n0123456789\r\n' + '0\r\nX-Trailer: t\r\n\r\n',
  );
  assert.equal(head.framing, 'chunked');
  assert.equal(body, 'hello 0123456789');
  assert.equal(assertResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n').body, '');
});

test('response framing: 204, 304 and HEAD have no body whatever the fields say (RFC 9112 §6.3)', () => {
  assert.equal(assertResponse('HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n').head.framing, 'none');
  assert.equal(assertResponse('HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n').head.framing, 'none');
  const head = assertResponse('HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n', { maxHeadBytes: 1024, headRequest: true }).head;
  assert.equal(head.framing, 'none');
  assert.equal(head.contentLength, 5000, 'the declared length is still reported, for the HEAD answer');
});

test('response framing: Content-Length 0 ends the response at the head', () => {
  const { head } = assertResponse('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  assert.equal(head.framing, 'none');
  assert.equal(head.contentLength, 0);
});

test('response framing: 1xx interim responses are skipped (RFC 9110 §15.2)', () => {
  const events = parseResponseEveryWay(
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
  );
  assert.deepEqual(events.map((e) => e.type), ['head', 'body', 'end']);
  assert.equal(events[0]?.type === 'head' && events[0].head.statusCode, 201);
});

test('response framing: header values are trimmed of OWS; names keep their case', () => {
  const { head } = assertResponse('HTTP/1.1 200 OK\r\nX-A:  spaced \t\r\nx-b:\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n');
  assert.deepEqual(head.headers, ['X-A', 'spaced', 'x-b', '', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Length', '0']);
});

test('response framing: a head of exactly maxHeadBytes is accepted', () => {
  const start = 'HTTP/1.1 200 OK\r\nX: ';
  const input = start + 'v'.repeat(100 - start.length - 4) + '\r\n\r\n';
  assert.equal(input.length, 100);
  assertResponse(input, { maxHeadBytes: 100 });
});

test('response framing: interim 1xx heads other than 100 go to onInterim; trailers to onTrailers only with keepTrailers', () => {
  const events: string[] = [];
  const handler = {
    onHead: (h: RawHttpResponseHead) => events.push(`head ${h.statusCode}`),
    onBody: (b: Buffer) => events.push(`body ${b.toString()}`),
    onMessageEnd: () => events.push('end'),
    onError: (e: Error) => events.push(`error ${e.message}`),
    onInterim: (h: RawHttpResponseHead) => events.push(`interim ${h.statusCode} ${h.headers.join('=')}`),
    onTrailers: (f: string[]) => events.push(`trailers ${f.join('=')}`),
  };
  const text = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Sum: 1\r\nX-Two:  b \r\n\r\n';
  for (const keepTrailers of [true, false]) {
    events.length = 0;
    const p = new RawHttpResponseParser(handler, { maxHeadBytes: 4096, keepTrailers });
    // Byte by byte: the kept trailer text must not depend on how the input is split.
    for (const byte of Buffer.from(text)) p.execute(Buffer.from([byte]));
    assert.deepEqual(events, ['interim 103 Link=</a>', 'head 200', 'body o', 'body k', ...(keepTrailers ? ['trailers X-Sum=1=X-Two=b'] : []), 'end']);
  }
});
