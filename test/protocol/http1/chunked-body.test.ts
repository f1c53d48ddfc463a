import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccepted, assertRejected, heads, run, type Event } from './feed.js';
import { MAX_CHUNK_EXTENSION_BYTES } from '../../../src/protocol/http1/request-parser.js';

const RL = 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n';

function body(events: Event[]): string {
  return events.flatMap((e) => (e.type === 'body' ? [e.data] : [])).join('');
}

test('chunked: chunks are decoded and concatenated', () => {
  const events = assertAccepted(`${RL}5\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\n`);
  assert.equal(body(events), 'hello 0123456789');
  assert.equal(heads(events)[0]?.chunked, true);
});

test('chunked: upper and lower case hex, leading zeros', () => {
  assert.equal(body(assertAccepted(`${RL}0a\r\n0123456789\r\nB\r\nabcdefghijk\r\n000\r\n\r\n`)), '0123456789abcdefghijk');
});

test('chunked: extensions are accepted and ignored (RFC 9112 §7.1.1)', () => {
  const input = `${RL}5;name=value\r\nhello\r\n3 ; a ;b="q;uo\\"ted"\r\nabc\r\n0;last\r\n\r\n`;
  assert.equal(body(assertAccepted(input)), 'helloabc');
});

test('chunked: trailers are validated and dropped', () => {
  const events = assertAccepted(`${RL}3\r\nabc\r\n0\r\nX-Checksum: 123\r\nX-Other:\t v \r\n\r\n`);
  assert.equal(body(events), 'abc');
  assert.deepEqual(heads(events)[0]?.headers, ['Host', 'h', 'Transfer-Encoding', 'chunked']);
});

test('chunked: empty body (only the last-chunk)', () => {
  assert.deepEqual(assertAccepted(`${RL}0\r\n\r\n`).map((e) => e.type), ['head', 'end']);
});

const rejected: ReadonlyArray<readonly [string, string]> = [
  ['size 0x10', `${RL}0x10\r\n0123456789abcdef\r\n0\r\n\r\n`],
  ['size -1', `${RL}-1\r\n\r\n`],
  ['size +1', `${RL}+1\r\na\r\n0\r\n\r\n`],
  ['size overflow ffffffffffffffffff', `${RL}ffffffffffffffffff\r\n`],
  ['size above 2^53', `${RL}20000000000000\r\n`],
  ['size with too many leading zeros', `${RL}00000000000000001\r\na\r\n0\r\n\r\n`],
  ['space before size', `${RL} 5\r\nhello\r\n0\r\n\r\n`],
  ['empty size line', `${RL}\r\nhello\r\n0\r\n\r\n`],
  ['non-hex size', `${RL}g\r\n`],
  ['junk after size', `${RL}5 x\r\nhello\r\n0\r\n\r\n`],
  ['trailing space after size without extension', `${RL}5 \r\nhello\r\n0\r\n\r\n`],
  ['bare LF after size', `${RL}5\nhello\r\n0\r\n\r\n`],
  ['bare CR after size', `${RL}5\rhello\r\n0\r\n\r\n`],
  ['missing CRLF after chunk data', `${RL}5\r\nhelloX\r\n0\r\n\r\n`],
  ['LF only after chunk data', `${RL}5\r\nhello\n0\r\n\r\n`],
  ['CR then junk after chunk data', `${RL}5\r\nhello\rX0\r\n\r\n`],
  ['chunk data longer than its size', `${RL}3\r\nhello\r\n0\r\n\r\n`],
  ['control character in extension', `${RL}5;a=\x01\r\nhello\r\n0\r\n\r\n`],
  ['bare LF in extension', `${RL}5;a\nhello\r\n0\r\n\r\n`],
  ['obs-fold in trailers', `${RL}0\r\nX-A: b\r\n folded\r\n\r\n`],
  ['space before colon in trailer', `${RL}0\r\nX-A : b\r\n\r\n`],
  ['NUL in trailer value', `${RL}0\r\nX-A: \0\r\n\r\n`],
  ['bare LF in trailers', `${RL}0\r\nX-A: b\n\r\n`],
  ['bare LF ending the message', `${RL}0\r\n\n`],
  ['junk ending the message', `${RL}0\r\n\rX`],
];

for (const [name, input] of rejected) {
  test(`chunked rejected (400): ${name}`, () => assertRejected(input, 400, undefined, true));
}

test('chunked: extensions beyond the per-message bound are refused', () => {
  // Too long to split at every offset; whole and byte by byte are enough here.
  const ext = ';' + 'e'.repeat(MAX_CHUNK_EXTENSION_BYTES / 2);
  const input = Buffer.from(`${RL}1${ext}\r\na\r\n1${ext}\r\nb\r\n0\r\n\r\n`);
  for (const chunks of [[input], [...input].map((b) => Buffer.from([b]))]) {
    const events = run(chunks);
    assert.deepEqual(events.map((e) => e.type), ['head', 'body', 'error']);
    assert.equal(events[2]?.type === 'error' && events[2].status, 400);
  }
  assert.equal(body(run([Buffer.from(`${RL}1${ext}\r\na\r\n0\r\n\r\n`)])), 'a');
});
