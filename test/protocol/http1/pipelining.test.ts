import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestParser } from '../../../src/protocol/http1/request-parser.js';
import { HttpParseError } from '../../../src/protocol/http1/types.js';
import { assertAccepted, heads, LIMITS, run } from './feed.js';

const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`;

test('pipelining: several GETs in one chunk come out in order', () => {
  const events = assertAccepted(GET('/1') + GET('/2') + GET('/3'));
  assert.deepEqual(events.map((e) => e.type), ['head', 'end', 'head', 'end', 'head', 'end']);
  assert.deepEqual(heads(events).map((h) => h.target), ['/1', '/2', '/3']);
});

test('pipelining: bodies of every framing followed by more requests', () => {
  const input =
    'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc' +
    'POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n' +
    // Some clients send a stray CRLF after a body (RFC 9112 §2.2).
    '\r\n' +
    GET('/c');
  const events = assertAccepted(input);
  assert.deepEqual(events.map((e) => (e.type === 'body' ? e.data : e.type)), ['head', 'abc', 'end', 'head', 'de', 'end', 'head', 'end']);
});

test('pipelining: requests after Connection: close are ignored', () => {
  const events = run([Buffer.from('GET /1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' + GET('/2'))]);
  assert.deepEqual(heads(events).map((h) => h.target), ['/1']);
});

test('pipelining: requests after an HTTP/1.0 request without keep-alive are ignored', () => {
  const events = run([Buffer.from('GET /1 HTTP/1.0\r\n\r\n' + GET('/2'))]);
  assert.deepEqual(heads(events).map((h) => h.target), ['/1']);
});

test('body: Content-Length bodies are views into the input chunk, not copies', () => {
  const views: Buffer[] = [];
  const parser = new RequestParser(
    { onHead: () => {}, onBody: (b) => views.push(b), onMessageEnd: () => {}, onError: (e) => assert.fail(e) },
    LIMITS,
  );
  const chunk = Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello');
  parser.execute(chunk);
  const more = Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n');
  parser.execute(more);
  const tail = Buffer.from('wxyz');
  parser.execute(tail);
  assert.equal(views.length, 2);
  assert.equal(views[0]?.buffer, chunk.buffer);
  assert.equal(views[0]?.byteOffset, chunk.byteOffset + chunk.length - 5);
  assert.equal(views[1], tail);
});

function recorder() {
  const log: string[] = [];
  const parser = new RequestParser(
    {
      onHead: (h) => log.push(`head ${h.target}`),
      onBody: (b) => log.push(`body ${b.toString()}`),
      onMessageEnd: () => log.push('end'),
      onError: (e) => {
        assert.ok(e instanceof HttpParseError);
        assert.equal(e.code, 'BERTH_HTTP_PROTOCOL');
        log.push(`error ${e.status}`);
      },
    },
    LIMITS,
  );
  return { parser, log };
}

test('state: idle → head → body → idle → closed', () => {
  const { parser, log } = recorder();
  assert.equal(parser.state, 'idle');
  parser.execute(Buffer.from('POST / HTTP/1.1\r\nHo'));
  assert.equal(parser.state, 'head');
  parser.execute(Buffer.from('st: h\r\nContent-Length: 2\r\n\r\na'));
  assert.equal(parser.state, 'body');
  parser.execute(Buffer.from('b'));
  assert.equal(parser.state, 'idle');
  parser.execute(Buffer.from('\r\n'));
  assert.equal(parser.state, 'head', 'an empty line has started the next message');
  parser.execute(Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'));
  assert.equal(parser.state, 'closed');
  assert.deepEqual(log, ['head /', 'body a', 'body b', 'end', 'head /', 'end']);
});

test('finish: at a message boundary is quiet; mid-head or mid-body is a 400', () => {
  const idle = recorder();
  idle.parser.execute(Buffer.from(GET('/')));
  idle.parser.finish();
  assert.deepEqual(idle.log, ['head /', 'end']);
  assert.equal(idle.parser.state, 'closed');

  const midHead = recorder();
  midHead.parser.execute(Buffer.from('GET / HTTP/1.1\r\n'));
  midHead.parser.finish();
  assert.deepEqual(midHead.log, ['error 400']);

  const midBody = recorder();
  midBody.parser.execute(Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'));
  midBody.parser.finish();
  assert.deepEqual(midBody.log, ['head /', 'body hel', 'error 400']);
  assert.equal(midBody.parser.state, 'error');
});

test('error: after onError the parser is dead and ignores input', () => {
  const { parser, log } = recorder();
  parser.execute(Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n'));
  parser.execute(Buffer.from(GET('/after')));
  parser.finish();
  assert.deepEqual(log, ['error 400']);
  assert.equal(parser.state, 'error');
});

test('error: HttpParseError carries the status and a message naming the rule', () => {
  const events = run([Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx')]);
  const last = events[events.length - 1];
  assert.ok(last?.type === 'error');
  assert.equal(last.status, 400);
  assert.match(last.message, /Content-Length/);
});
