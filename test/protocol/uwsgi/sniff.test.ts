import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SNIFF_BYTES, sniffProtocol, type SniffedProtocol } from '../../../src/protocol/uwsgi/sniff.js';
import { encodeUwsgiRequest } from '../../../src/protocol/uwsgi/client.js';
import { NGINX_CHUNKED_PUT, NGINX_GET, NGINX_POST } from './fixtures.js';
import { packet } from './feed.js';
import { Prng } from '../../../bench/lib/fuzz/prng.js';

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

/** The first bytes of a TLS 1.2/1.3 ClientHello as curl and browsers send it. */
const CLIENT_HELLO = bytes('16 0301 0200 01 0001fc 0303 1a2b3c4d5e6f70819293a4b5c6d7e8f9');

const table: ReadonlyArray<readonly [string, Buffer, SniffedProtocol]> = [
  ['nginx GET', NGINX_GET, 'uwsgi'],
  ['nginx POST', NGINX_POST, 'uwsgi'],
  ['nginx chunked PUT', NGINX_CHUNKED_PUT, 'uwsgi'],
  ['modifier1 30 packet', packet(['SCRIPT_NAME', '/app'], '', 30), 'uwsgi'],
  ['packet whose first key is short', packet(['A', 'b']), 'uwsgi'],
  ['packet with a lowercase first key', packet(['x_forwarded', 'b']), 'uwsgi'],
  ['empty WSGI packet', bytes('00 0000 00'), 'uwsgi'],
  ['uWSGI ping (modifier1 100, empty)', bytes('64 0000 00'), 'uwsgi'],
  ['GET', Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 'http'],
  ['POST', Buffer.from('POST /login HTTP/1.1\r\n'), 'http'],
  ['OPTIONS *', Buffer.from('OPTIONS * HTTP/1.1\r\n'), 'http'],
  ['HTTP/2 preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 'http'],
  ['M-SEARCH', Buffer.from('M-SEARCH * HTTP/1.1\r\n'), 'http'],
  ['a 12-letter extension method', Buffer.from('UPDATEREDIRECTREF / HTTP/1.1\r\n'), 'http'],
  // The fronts fuzz: a worker (http-direct) serves this as HTTP, so after a hand-over the master must too.
  ['a method with digits whose bytes also fit a uwsgi header', Buffer.from('GE9007199254740993T /a?fz=1429 HTTP/1.1\r\n'), 'http'],
  ['a short method with digits', Buffer.from('G1T / HTTP/1.1\r\n'), 'http'],
  ['TLS ClientHello', CLIENT_HELLO, 'tls'],
  ['SSL 3.0 record', bytes('16 0300 0040 01'), 'tls'],
  ['TLS 1.3 record version', bytes('16 0304 0040 01'), 'tls'],
  ['TLS alert record (not a handshake)', bytes('15 0301 0002 0228'), 'unknown'],
  ['0x16 0x03 0x05: not a TLS version', bytes('16 0305 0000 00000000'), 'unknown'],
  // Methods are case-sensitive tokens: `get` is HTTP (the app may not support it), not uwsgi.
  ['lowercase method', Buffer.from('get / HTTP/1.1\r\n'), 'http'],
  ['lowercase method whose bytes also fit a uwsgi header', Buffer.from('get /environ HTTP/1.1\r\n'), 'http'],
  ['mixed-case method', Buffer.from('Post /a HTTP/1.1\r\n'), 'http'],
  ['two-letter method', Buffer.from('GE / HTTP/1.1\r\n'), 'unknown'],
  ['leading space', Buffer.from(' GET / HTTP/1.1\r\n'), 'unknown'],
  ['SSH banner', Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), 'unknown'],
  ['JSON', Buffer.from('{"hello": "world"}'), 'unknown'],
  ['uwsgi header whose key runs past the block', bytes('00 0600 00 0500 41424344 45'), 'unknown'],
  ['uwsgi header with an empty first key', bytes('00 0600 00 0000 0000 0000'), 'unknown'],
  ['uwsgi header with a NUL in the key', bytes('00 1000 00 0400 4100 4142'), 'unknown'],
  ['datasize 1', bytes('00 0100 00 41'), 'unknown'],
  ['empty block with an odd modifier1', bytes('07 0000 00'), 'unknown'],
  ['zeros', Buffer.alloc(12), 'uwsgi'],
];

for (const [name, input, expected] of table) {
  test(`sniff: ${name} → ${expected}`, () => {
    assert.equal(sniffProtocol(input), expected);
    // Decided at some prefix and stable from there on; 'need-more' before, never after.
    let decidedAt = -1;
    for (let n = 0; n <= Math.min(input.length, 32); n++) {
      const got = sniffProtocol(input.subarray(0, n));
      if (got === 'need-more') {
        assert.equal(decidedAt, -1, `need-more at ${n} bytes after deciding at ${decidedAt}`);
      } else {
        if (decidedAt === -1) decidedAt = n;
        assert.equal(got, expected, `at ${n} bytes`);
      }
    }
    assert.ok(decidedAt !== -1 && decidedAt <= SNIFF_BYTES, `decided at ${decidedAt}`);
  });
}

test('sniff: no bytes yet is need-more', () => {
  assert.equal(sniffProtocol(Buffer.alloc(0)), 'need-more');
});

test('sniff: random bytes never throw, decide within 12 bytes, rarely pass for uwsgi or http', () => {
  const prng = new Prng(0x5eed);
  const counts = new Map<SniffedProtocol, number>();
  const N = 20_000;
  for (let i = 0; i < N; i++) {
    const input = prng.bytes(SNIFF_BYTES);
    const got = sniffProtocol(input);
    assert.notEqual(got, 'need-more');
    counts.set(got, (counts.get(got) ?? 0) + 1);
  }
  assert.ok((counts.get('uwsgi') ?? 0) < N / 100, JSON.stringify([...counts]));
  assert.ok((counts.get('http') ?? 0) < N / 1000, JSON.stringify([...counts]));
});

test('sniff: every request the encoder builds from nginx-like vars is uwsgi', () => {
  const prng = new Prng(42);
  const keys = ['QUERY_STRING', 'REQUEST_METHOD', 'PATH_INFO', 'HTTP_HOST', 'CONTENT_LENGTH', 'UWSGI_SCHEME', 'SCRIPT_NAME'];
  for (let i = 0; i < 1000; i++) {
    const vars = Array.from({ length: 1 + prng.below(6) }, () => [prng.pick(keys), 'v'.repeat(prng.below(300))]).flat();
    const modifier1 = prng.pick([0, 30]);
    assert.equal(sniffProtocol(encodeUwsgiRequest(vars, modifier1)), 'uwsgi', JSON.stringify(vars.slice(0, 2)));
  }
});
