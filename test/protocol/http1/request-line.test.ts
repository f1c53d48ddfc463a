import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccepted, assertRejected, heads } from './feed.js';

const H = 'Host: example.com\r\n';

test('request-line: method, target and version are taken as sent', () => {
  const [head] = heads(assertAccepted(`GET /a/b?c=d&e HTTP/1.1\r\n${H}\r\n`));
  assert.equal(head?.method, 'GET');
  assert.equal(head?.target, '/a/b?c=d&e');
  assert.equal(head?.versionMinor, 1);
});

test('request-line: every target form is accepted (RFC 9112 §3.2)', () => {
  for (const [method, target] of [
    ['GET', 'http://example.com/x?y'],
    ['OPTIONS', '*'],
    ['CONNECT', 'example.com:443'],
    ['M-SEARCH', '/%7Euser'],
    ["!#$%&'*+-.^_`|~09azAZ", '/'],
  ] as const) {
    const [head] = heads(assertAccepted(`${method} ${target} HTTP/1.1\r\n${H}\r\n`));
    assert.equal(head?.method, method);
    assert.equal(head?.target, target);
  }
});

test('request-line: raw obs-text bytes in the target reach the app latin1-decoded', () => {
  const [head] = heads(assertAccepted(Buffer.concat([Buffer.from('GET /caf'), Buffer.from([0xc3, 0xa9]), Buffer.from(` HTTP/1.1\r\n${H}\r\n`)])));
  assert.equal(head?.target, '/caf\u00c3\u00a9');
});

test('request-line: HTTP/1.0 is accepted without Host', () => {
  const [head] = heads(assertAccepted('GET / HTTP/1.0\r\n\r\n'));
  assert.equal(head?.versionMinor, 0);
});

test('request-line: HTTP/1.2–1.9 are served as HTTP/1.1 (RFC 9112 §2.6)', () => {
  for (const minor of [2, 5, 9]) {
    const [head] = heads(assertAccepted(`GET / HTTP/1.${minor}\r\n${H}\r\n`));
    assert.equal(head?.versionMinor, 1, `HTTP/1.${minor}`);
  }
  // Served as 1.1, so 1.1's rules apply: Host is required.
  assertRejected('GET / HTTP/1.2\r\n\r\n', 400);
});

test('request-line: empty lines before it are skipped (RFC 9112 §2.2)', () => {
  const [head] = heads(assertAccepted(`\r\n\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`));
  assert.equal(head?.target, '/');
});

const rejected: ReadonlyArray<readonly [string, string, number]> = [
  ['two spaces after method', `GET  / HTTP/1.1\r\n${H}\r\n`, 400],
  ['two spaces before version', `GET /  HTTP/1.1\r\n${H}\r\n`, 400],
  ['leading space', ` GET / HTTP/1.1\r\n${H}\r\n`, 400],
  ['trailing space', `GET / HTTP/1.1 \r\n${H}\r\n`, 400],
  ['tab separator', `GET\t/ HTTP/1.1\r\n${H}\r\n`, 400],
  ['lowercase version', `GET / http/1.1\r\n${H}\r\n`, 400],
  ['HTTP/2.0', `GET / HTTP/2.0\r\n${H}\r\n`, 505],
  ['HTTP/0.9', `GET / HTTP/0.9\r\n${H}\r\n`, 505],
  ['HTTP/1.10', `GET / HTTP/1.10\r\n${H}\r\n`, 400],
  ['HTTP/1', `GET / HTTP/1\r\n${H}\r\n`, 400],
  ['HTTP/0.9 style (no version)', 'GET /\r\n\r\n', 400],
  ['garbage version', `GET / FOO\r\n${H}\r\n`, 400],
  ['non-token method', `G(T / HTTP/1.1\r\n${H}\r\n`, 400],
  ['empty method', ` / HTTP/1.1\r\n${H}\r\n`, 400],
  ['NUL in target', `GET /a\0b HTTP/1.1\r\n${H}\r\n`, 400],
  ['DEL in target', `GET /a\x7fb HTTP/1.1\r\n${H}\r\n`, 400],
  ['tab in target', `GET /a\tb HTTP/1.1\r\n${H}\r\n`, 400],
  ['bare CR in request-line', `GET /a\rb HTTP/1.1\r\n${H}\r\n`, 400],
  ['bare LF ends the request-line', `GET / HTTP/1.1\n${H}\r\n`, 400],
  ['bare LF everywhere', 'GET / HTTP/1.1\nHost: a\n\n', 400],
  ['bare CR before the request-line', `\rGET / HTTP/1.1\r\n${H}\r\n`, 400],
  ['bare LF before the request-line', `\nGET / HTTP/1.1\r\n${H}\r\n`, 400],
  ['505 still loses to a bare LF later in the head', `GET / HTTP/2.0\r\nA: b\nC: d\r\n\r\n`, 400],
  ['505 still loses to a bad field later in the head', `GET / HTTP/2.0\r\nA : b\r\n\r\n`, 400],
  ['binary garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 400],
];

for (const [name, input, status] of rejected) {
  test(`request-line rejected (${status}): ${name}`, () => assertRejected(input, status));
}
