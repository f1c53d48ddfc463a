import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccepted, assertRejected, heads } from './feed.js';

function head11(fields: string) {
  return heads(assertAccepted(`GET / HTTP/1.1\r\nHost: h\r\n${fields}\r\n`))[0];
}
function head10(fields: string) {
  return heads(assertAccepted(`GET / HTTP/1.0\r\n${fields}\r\n`))[0];
}

test('keep-alive: HTTP/1.1 defaults to on', () => {
  assert.equal(head11('')?.keepAlive, true);
  assert.equal(head11('Connection: keep-alive\r\n')?.keepAlive, true);
  assert.equal(head11('Connection: Upgrade\r\n')?.keepAlive, true);
  assert.equal(head11('Connection: closed\r\n')?.keepAlive, true);
});

test('keep-alive: Connection: close (any case, anywhere in the list) turns it off on HTTP/1.1', () => {
  for (const v of ['close', 'Close', 'CLOSE', 'keep-alive, close', 'upgrade,close ', ' , close', 'foo,\tClose\t,bar']) {
    assert.equal(head11(`Connection: ${v}\r\n`)?.keepAlive, false, v);
  }
  assert.equal(head11('Connection: keep-alive\r\nConnection: close\r\n')?.keepAlive, false);
});

test('keep-alive: HTTP/1.0 defaults to off, Connection: keep-alive turns it on', () => {
  assert.equal(head10('')?.keepAlive, false);
  assert.equal(head10('Connection: keep-alive\r\n')?.keepAlive, true);
  assert.equal(head10('Connection: Keep-Alive\r\n')?.keepAlive, true);
  assert.equal(head10('Connection: keep-alive, close\r\n')?.keepAlive, false);
  assert.equal(head10('Connection: keep-alived\r\n')?.keepAlive, false);
});

test('expect: 100-continue on HTTP/1.1, case-insensitive', () => {
  assert.equal(head11('Expect: 100-continue\r\n')?.expectContinue, true);
  assert.equal(head11('expect: 100-Continue\r\n')?.expectContinue, true);
  assert.equal(head11('')?.expectContinue, false);
  assert.equal(head11('Expect: 100-continue-please\r\n')?.expectContinue, false);
  assert.equal(head10('Expect: 100-continue\r\n')?.expectContinue, false);
});

test('expect: a POST waiting for 100 Continue gets its head before any body byte', () => {
  const events = assertAccepted('POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok');
  assert.equal(heads(events)[0]?.expectContinue, true);
  assert.deepEqual(events.map((e) => e.type), ['head', 'body', 'end']);
});

test('host: accepted forms (RFC 9112 §3.2)', () => {
  for (const v of ['example.com', 'example.com:8080', '[::1]:8080', '[::1]', '[v1.x]:80', '127.0.0.1', '', 'xn--caf-dma.example', 'a:']) {
    assert.deepEqual(heads(assertAccepted(`GET / HTTP/1.1\r\nHost: ${v}\r\n\r\n`))[0]?.headers, ['Host', v], v);
  }
});

const rejected: ReadonlyArray<readonly [string, string]> = [
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n'],
  ['HTTP/1.1 without Host but with other fields', 'GET / HTTP/1.1\r\nX-Host: h\r\n\r\n'],
  ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n'],
  ['two Host fields in HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n'],
  ['Host with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n'],
  ['Host with a slash', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n'],
  ['Host with userinfo', 'GET / HTTP/1.1\r\nHost: user@a\r\n\r\n'],
  ['Host with obs-text', 'GET / HTTP/1.1\r\nHost: caf\xe9\r\n\r\n'],
  // RFC 9110 §7.2: uri-host [ ":" port ], port = *DIGIT (RFC 3986 §3.2.3).
  ['Host with two colons', 'GET / HTTP/1.1\r\nHost: a:b:c\r\n\r\n'],
  ['Host with a non-numeric port', 'GET / HTTP/1.1\r\nHost: a:b\r\n\r\n'],
  ['Host with an unbracketed IPv6 address', 'GET / HTTP/1.1\r\nHost: ::1\r\n\r\n'],
  ['Host with an unclosed IP-literal', 'GET / HTTP/1.1\r\nHost: [::1\r\n\r\n'],
  ['Host with bytes after an IP-literal', 'GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n'],
  ['Host with a bracket inside a reg-name', 'GET / HTTP/1.1\r\nHost: a]b\r\n\r\n'],
];

for (const [name, input] of rejected) {
  test(`host rejected (400): ${name}`, () => assertRejected(input, 400));
}
