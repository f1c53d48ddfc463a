import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccepted, assertRejected, heads, parseEveryWay, type Event } from './feed.js';

const RL = 'POST /upload HTTP/1.1\r\nHost: h\r\n';

function body(events: Event[]): string {
  return events.flatMap((e) => (e.type === 'body' ? [e.data] : [])).join('');
}

test('framing: Content-Length body is delivered exactly', () => {
  const events = assertAccepted(`${RL}Content-Length: 11\r\n\r\nhello world`);
  const [head] = heads(events);
  assert.equal(head?.contentLength, 11);
  assert.equal(head?.chunked, false);
  assert.equal(body(events), 'hello world');
});

test('framing: POST with Content-Length: 0 has an empty body', () => {
  const events = assertAccepted(`${RL}Content-Length: 0\r\n\r\n`);
  assert.deepEqual(events.map((e) => e.type), ['head', 'end']);
  assert.equal(heads(events)[0]?.contentLength, 0);
});

test('framing: no Content-Length and no Transfer-Encoding means no body (RFC 9112 §6.3 rule 6)', () => {
  const events = assertAccepted(`${RL}\r\n`);
  assert.deepEqual(events.map((e) => e.type), ['head', 'end']);
  assert.equal(heads(events)[0]?.contentLength, 0);
});

test('framing: leading zeros and the largest exact length are accepted', () => {
  const events = assertAccepted(`${RL}Content-Length: 0005\r\n\r\nabcde`);
  assert.equal(heads(events)[0]?.contentLength, 5);
  // With no body limit the head is accepted and the parser waits for the body.
  const big = parseEveryWay(`${RL}Content-Length: 9007199254740991\r\n\r\n`, { maxHeadBytes: 8192, maxBodyBytes: 0 });
  assert.deepEqual(big.map((e) => e.type), ['head']);
  assert.equal(heads(big)[0]?.contentLength, 9007199254740991);
});

test('framing: Transfer-Encoding chunked in any case is accepted', () => {
  for (const te of ['chunked', 'Chunked', 'CHUNKED', ' chunked ', ', chunked', 'chunked,']) {
    const events = assertAccepted(`${RL}Transfer-Encoding: ${te}\r\n\r\n0\r\n\r\n`);
    assert.equal(heads(events)[0]?.chunked, true, te);
    assert.equal(heads(events)[0]?.contentLength, -1);
  }
});

const smuggling: ReadonlyArray<readonly [string, string, number]> = [
  ['CL + TE (RFC 9112 §6.3 rule 3)', `${RL}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ['TE + CL', `${RL}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`, 400],
  ['CL + TE with CL 0', `${RL}Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n`, 400],
  ['duplicate CL, equal values', `${RL}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, 400],
  ['duplicate CL, different values', `${RL}Content-Length: 5\r\ncontent-length: 6\r\n\r\nhello!`, 400],
  ['CL list 1,1', `${RL}Content-Length: 1,1\r\n\r\na`, 400],
  ['CL negative', `${RL}Content-Length: -1\r\n\r\n`, 400],
  ['CL with plus sign', `${RL}Content-Length: +5\r\n\r\nhello`, 400],
  ['CL hex', `${RL}Content-Length: 0x5\r\n\r\nhello`, 400],
  ['CL with inner space', `${RL}Content-Length: 1 2\r\n\r\n`, 400],
  ['CL non-digits', `${RL}Content-Length: five\r\n\r\n`, 400],
  ['CL empty', `${RL}Content-Length:\r\n\r\n`, 400],
  ['CL decimal point', `${RL}Content-Length: 5.0\r\n\r\n`, 400],
  ['CL 2^53', `${RL}Content-Length: 9007199254740992\r\n\r\n`, 400],
  ['CL overflow', `${RL}Content-Length: 99999999999999999999999\r\n\r\n`, 400],
  ['TE chunked, identity', `${RL}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, 400],
  ['TE identity', `${RL}Transfer-Encoding: identity\r\n\r\n`, 400],
  ['TE gzip (not chunked last)', `${RL}Transfer-Encoding: gzip\r\n\r\n`, 400],
  ['TE chunked twice', `${RL}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`, 400],
  ['TE chunked in two fields', `${RL}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ['TE split chunked then identity', `${RL}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n`, 400],
  ['TE empty', `${RL}Transfer-Encoding: \r\n\r\n`, 400],
  ['TE xchunked', `${RL}Transfer-Encoding: xchunked\r\n\r\n`, 400],
  ['TE "chunked" quoted', `${RL}Transfer-Encoding: "chunked"\r\n\r\n`, 400],
  ['TE gzip, chunked → unsupported coding', `${RL}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 501],
  ['TE gzip then chunked in two fields', `${RL}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n`, 501],
  ['TE in HTTP/1.0 (RFC 9112 §6.1)', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['space before colon in TE', `${RL}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, 400],
  ['TE with vertical tab', `${RL}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n`, 400],
];

for (const [name, input, status] of smuggling) {
  test(`framing rejected (${status}): ${name}`, () => assertRejected(input, status));
}
