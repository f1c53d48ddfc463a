import assert from 'node:assert/strict';
import test from 'node:test';
import { RawHttpResponseParser, responseKeepsAlive } from '../../../src/protocol/uwsgi/client.js';
import { parseResponseHead } from '../../../src/protocol/uwsgi/response-head.js';
import { UpstreamResponseError, type RawHttpResponseHead } from '../../../src/protocol/uwsgi/types.js';
import { slicings, toBuffer } from '../slicing.js';
import { runResponse, type ResponseEvent } from './response-feed.js';

/** Events of `second` through a parser that first parsed `first` (each in `firstChunks`) and was reset. */
function afterReset(firstChunks: readonly Buffer[], secondChunks: readonly Buffer[], headRequest = false): ResponseEvent[] {
  const events: ResponseEvent[] = [];
  let target = [] as ResponseEvent[];
  const parser = new RawHttpResponseParser({
    onHead: (head) => target.push({ type: 'head', head: { ...head, headers: [...head.headers] } }),
    onBody: (chunk) => {
      const last = target[target.length - 1];
      if (last?.type === 'body') last.data += chunk.toString('latin1');
      else target.push({ type: 'body', data: chunk.toString('latin1') });
    },
    onMessageEnd: () => target.push({ type: 'end' }),
    onError: (e) => target.push({ type: 'error', reason: e.reason, status: e.status, message: e.message }),
  }, { maxHeadBytes: 1024 });
  for (const c of firstChunks) parser.execute(c);
  parser.reset(headRequest);
  target = events;
  for (const c of secondChunks) parser.execute(c);
  return events;
}

const FIRST = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
  // Cut short in the middle of a head: what reset() must forget.
  'HTTP/1.1 200 OK\r\nContent-Le',
  // Broken: reset() must bring a dead parser back.
  'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
];
const SECOND = [
  'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc',
  'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
  'HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
];

test('keep-alive: after reset() the next response parses as on a fresh parser, in every slicing of both', () => {
  for (const first of FIRST) {
    for (const second of SECOND) {
      const fresh = runResponse([toBuffer(second)], { maxHeadBytes: 1024 }, false);
      assert.ok(!fresh.some((e) => e.type === 'error'));
      for (const firstChunks of slicings(toBuffer(first))) {
        for (const secondChunks of slicings(toBuffer(second))) {
          assert.deepEqual(afterReset(firstChunks, secondChunks), fresh, `${JSON.stringify(first)} then ${JSON.stringify(second)}`);
        }
      }
    }
  }
});

test('keep-alive: reset(true) makes the next response the answer to HEAD (no body whatever its length says)', () => {
  const first = [toBuffer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')];
  const events = afterReset(first, [toBuffer('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n')], true);
  assert.deepEqual(events.map((e) => e.type), ['head', 'end']);
  // And back to a body for the request after it.
  const parser = afterReset(first, [toBuffer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno')], false);
  assert.deepEqual(parser.map((e) => e.type), ['head', 'body', 'end']);
});

test('keep-alive: bytes after a complete response are refused, not taken as the next one', () => {
  const events = runResponse([toBuffer('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n')], { maxHeadBytes: 1024 }, false);
  assert.deepEqual(events.map((e) => e.type), ['head', 'body', 'end', 'error']);
});

function head(text: string, headRequest = false): RawHttpResponseHead {
  const buf = toBuffer(text);
  const h = parseResponseHead(buf, 0, buf.indexOf('\r\n\r\n') + 2, headRequest);
  assert.ok(!(h instanceof UpstreamResponseError), text);
  return h;
}

test('keep-alive: responseKeepsAlive follows RFC 9112 §9.3', () => {
  const cases: [string, boolean, boolean?][] = [
    ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n', true],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', true],
    ['HTTP/1.1 204 No Content\r\n\r\n', true],
    ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: Keep-Alive, CLOSE\r\n\r\n', false],
    ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: x-custom\r\nConnection: close\r\n\r\n', false],
    // The body ends with the connection.
    ['HTTP/1.1 200 OK\r\n\r\n', false],
    // HEAD: no body, so no close delimiting either.
    ['HTTP/1.1 200 OK\r\n\r\n', true, true],
    ['HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n', false],
    ['HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n', true],
  ];
  for (const [text, keeps, headRequest] of cases) assert.equal(responseKeepsAlive(head(text, headRequest === true)), keeps, text);
});
