import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccepted, assertRejected, heads } from './feed.js';

const RL = 'GET / HTTP/1.1\r\nHost: h\r\n';

test('fields: names keep their case, values are trimmed of OWS, order and duplicates kept', () => {
  const [head] = heads(assertAccepted(`${RL}X-A:  one \t\r\nx-a:two\r\nCookie: a=1\r\nCookie: b=2\r\nEmpty:\r\nSpaces:   \r\n\r\n`));
  assert.deepEqual(head?.headers, ['Host', 'h', 'X-A', 'one', 'x-a', 'two', 'Cookie', 'a=1', 'Cookie', 'b=2', 'Empty', '', 'Spaces', '']);
});

test('fields: inner whitespace, HTAB and obs-text (0x80–0xFF) are kept in values', () => {
  const input = Buffer.concat([Buffer.from(`${RL}X-Text: a \t b`), Buffer.from([0x80, 0xe9, 0xff]), Buffer.from('\r\n\r\n')]);
  const [head] = heads(assertAccepted(input));
  assert.equal(head?.headers[3], 'a \t b\u0080\u00e9\u00ff');
});

test('fields: every tchar is allowed in a name', () => {
  const [head] = heads(assertAccepted(`${RL}!#$%&'*+-.^_\`|~09azAZ: v\r\n\r\n`));
  assert.equal(head?.headers[2], "!#$%&'*+-.^_`|~09azAZ");
});

const rejected: ReadonlyArray<readonly [string, string]> = [
  ['space before colon (RFC 9112 §5.1)', `${RL}Transfer-Encoding : chunked\r\n\r\n`],
  ['tab before colon', `${RL}X-A\t: b\r\n\r\n`],
  ['obs-fold (RFC 9112 §5.2)', `${RL}X-A: b\r\n Folded: x\r\n\r\n`],
  ['obs-fold with tab', `${RL}X-A: b\r\n\tmore\r\n\r\n`],
  ['space in name', `${RL}X A: b\r\n\r\n`],
  ['empty name', `${RL}: b\r\n\r\n`],
  ['no colon', `${RL}X-A b\r\n\r\n`],
  ['non-token in name', `${RL}X[A]: b\r\n\r\n`],
  ['obs-text in name', `${RL}X-\xe9: b\r\n\r\n`],
  ['NUL in value', `${RL}X-A: a\0b\r\n\r\n`],
  ['DEL in value', `${RL}X-A: a\x7fb\r\n\r\n`],
  ['other CTL in value', `${RL}X-A: a\x01b\r\n\r\n`],
  ['bare CR in value', `${RL}X-A: a\rb\r\n\r\n`],
  ['bare CR at end of value', `${RL}X-A: ab\r\r\n\r\n`],
  ['bare LF in value', `${RL}X-A: a\nb\r\n\r\n`],
  ['bare LF ending a field', `${RL}X-A: ab\nX-B: c\r\n\r\n`],
  ['bare LF ending the head', `${RL}X-A: ab\r\n\n`],
  ['CR CR LF', `${RL}X-A: ab\r\r\n\r\n`],
  ['field line of a lone CR', `${RL}\r\r\n\r\n`],
];

for (const [name, input] of rejected) {
  test(`fields rejected (400): ${name}`, () => assertRejected(input, 400));
}
