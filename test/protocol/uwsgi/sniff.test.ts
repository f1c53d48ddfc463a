import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SNIFF_BYTES, sniffProtocol, type SniffedProtocol } from '../../../src/protocol/uwsgi/sniff.js';
import { encodeUwsgiRequest } from '../../../src/protocol/uwsgi/client.js';
import { NGINX_CHUNKED_PUT, NGINX_GET, NGINX_POST } from './fixtures.js';
import { packet } from './feed.js';
import { Prng } from '../../../bench/lib/fuzz/prng.js';
import { run as parseHttp } from '../http1/feed.js';
import { loadTable } from '../../helpers/conformance.js';

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

/** token characters (RFC 9110 §5.6.2). */
const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Bytes of an HTTP opening still undecided: empty lines, then method characters. */
function httpOpeningLength(input: Buffer): number {
  let i = 0;
  while (input[i] === 0x0d && input[i + 1] === 0x0a) i += 2;
  while (i < input.length && TCHARS.includes(String.fromCharCode(input[i] as number))) i++;
  return i;
}

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
  // Any token is a method the parsers accept (the app answers it), however short.
  ['two-letter method', Buffer.from('GE / HTTP/1.1\r\n'), 'http'],
  ['one-letter method', Buffer.from('G / HTTP/1.1\r\n'), 'http'],
  ['one-digit method', Buffer.from('7 /a HTTP/1.1\r\n'), 'http'],
  ['every tchar in one method', Buffer.from("!#$%&'*+-.^_`|~09azAZ / HTTP/1.1\r\n"), 'http'],
  // RFC 9112 §2.2: both parsers skip empty lines before the request-line.
  ['an empty line, then GET', Buffer.from('\r\nGET / HTTP/1.1\r\n'), 'http'],
  ['seven empty lines, then GET', Buffer.from('\r\n'.repeat(7) + 'GET / HTTP/1.1\r\n'), 'http'],
  ['a bare CR, then GET', Buffer.from('\rGET / HTTP/1.1\r\n'), 'unknown'],
  ['a bare LF, then GET', Buffer.from('\nGET / HTTP/1.1\r\n'), 'unknown'],
  // The target's first byte as the method's form allows (RFC 9112 §3.2).
  ['absolute-form', Buffer.from('GET http://a/ HTTP/1.1\r\n'), 'http'],
  ['CONNECT authority-form', Buffer.from('CONNECT a.example:443 HTTP/1.1\r\n'), 'http'],
  ['CONNECT to an IP literal', Buffer.from('CONNECT [::1]:443 HTTP/1.1\r\n'), 'http'],
  ['CONNECT to an empty host', Buffer.from('CONNECT :443 HTTP/1.1\r\n'), 'unknown'],
  ['asterisk-form for a method other than OPTIONS (the parsers answer 400)', Buffer.from('GET * HTTP/1.1\r\n'), 'http'],
  ['a target opening with a digit', Buffer.from('GET 1/ HTTP/1.1\r\n'), 'unknown'],
  ['two spaces after the method', Buffer.from('GET  / HTTP/1.1\r\n'), 'unknown'],
  ['a method as long as the whole sniff window', Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ /a HTTP/1.1\r\n'), 'http'],
  ['leading space', Buffer.from(' GET / HTTP/1.1\r\n'), 'unknown'],
  ['SSH banner', Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), 'unknown'],
  ['JSON', Buffer.from('{"hello": "world"}'), 'unknown'],
  ['uwsgi header whose key runs past the block', bytes('00 0600 00 0500 41424344 45'), 'unknown'],
  ['uwsgi header with an empty first key', bytes('00 0600 00 0000 0000 0000'), 'unknown'],
  ['uwsgi header with a NUL in the key', bytes('00 1000 00 0400 4100 4142'), 'unknown'],
  ['datasize 1', bytes('00 0100 00 41'), 'unknown'],
  ['empty block with an odd modifier1', bytes('07 0000 00'), 'unknown'],
  ['zeros', Buffer.alloc(12), 'uwsgi'],
  // A method token that is not followed by SP is no request-line: the uwsgi shape is judged.
  ['tchars whose bytes fit a uwsgi header, then CRLF', Buffer.from('GE9007199254740993T\r\n'), 'uwsgi'],
  ...tcharRows(),
];

/**
 * For every tchar: as a method's first character (it is then modifier1) and as a later one
 * (the datasize's low byte, and far past the uwsgi header), in a method whose bytes otherwise
 * fit a uwsgi header ('E9' a datasize of 14,661, '07' a key length that fits, '199254' key
 * characters) — what the workers' parser serves must never read as a uwsgi packet.
 */
function tcharRows(): Array<readonly [string, Buffer, SniffedProtocol]> {
  return [...TCHARS].flatMap((c) => [
    [`'${c}' as a method's first character`, Buffer.from(`${c}E9007199254740993T /a?fz=1 HTTP/1.1\r\n`, 'latin1'), 'http'],
    [`'${c}' as a method's second character`, Buffer.from(`G${c}9007199254740993T /a HTTP/1.1\r\n`, 'latin1'), 'http'],
    [`'${c}' as a method's last character`, Buffer.from(`GE900719925474099${c} /a HTTP/1.1\r\n`, 'latin1'), 'http'],
    [`'${c}' alone as a method`, Buffer.from(`${c} / HTTP/1.1\r\n`, 'latin1'), 'http'],
  ] as const);
}

for (const [name, input, expected] of table) {
  test(`sniff: ${name} → ${expected}`, () => {
    assert.equal(sniffProtocol(input), expected);
    // Decided at some prefix and stable from there on; 'need-more' before, never after.
    let decidedAt = -1;
    for (let n = 0; n <= Math.min(input.length, 64); n++) {
      const got = sniffProtocol(input.subarray(0, n));
      if (got === 'need-more') {
        assert.equal(decidedAt, -1, `need-more at ${n} bytes after deciding at ${decidedAt}`);
      } else {
        if (decidedAt === -1) decidedAt = n;
        assert.equal(got, expected, `at ${n} bytes`);
      }
    }
    // SNIFF_BYTES suffice, or the HTTP opening and the SP and target byte after it.
    assert.ok(decidedAt !== -1 && decidedAt <= Math.max(SNIFF_BYTES, httpOpeningLength(input) + 2), `decided at ${decidedAt}`);
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

/** Asserts `input` sniffs as HTTP, and every prefix of it as need-more or HTTP. */
function assertSniffedAsHttp(input: Buffer, what: string): void {
  for (let n = 1; n <= input.length; n++) {
    const got = sniffProtocol(input.subarray(0, n));
    if (got === 'http') return;
    assert.equal(got, 'need-more', `${what}: ${JSON.stringify(input.toString('latin1'))} at ${n} bytes`);
  }
  assert.fail(`${what}: ${JSON.stringify(input.toString('latin1'))} is still need-more when whole`);
}

/** Whether the master's HTTP codec (src/protocol/http1/) parses a head from `input`. */
function codecAccepts(input: Buffer, maxHeadBytes = 8192, maxBodyBytes = 0): boolean {
  return parseHttp([input], { maxHeadBytes, maxBodyBytes }).some((e) => e.type === 'head');
}

test('sniff: every request the TS codec accepts from random request lines is HTTP', () => {
  const prng = new Prng(0x9c);
  const token = (n: number): string => Array.from({ length: n }, () => prng.pick([...TCHARS])).join('');
  const targetChars = [...'abcXYZ019-._~!$&\'()*+,;=:@/?%'];
  const N = 5000;
  let accepted = 0;
  for (let i = 0; i < N; i++) {
    const method = prng.below(8) === 0 ? prng.pick(['CONNECT', 'OPTIONS']) : token(1 + prng.below(24));
    const tail = token(prng.below(6)) + Array.from({ length: prng.below(8) }, () => prng.pick(targetChars)).join('');
    const target = prng.pick([
      `/${tail}`,
      `http://${token(1 + prng.below(5))}/${tail}`,
      `${prng.pick(['h', 'H', 'coap+tcp', 'z9'])}://x${tail}`,
      '*',
      `${token(1 + prng.below(8))}:${prng.below(65536)}`,
      `[::${prng.below(9)}]:443`,
      tail,
    ]);
    const lead = '\r\n'.repeat(prng.below(4) === 0 ? 1 + prng.below(4) : 0);
    const input = Buffer.from(`${lead}${method} ${target} HTTP/1.${prng.below(2)}\r\nHost: a\r\n\r\n`, 'latin1');
    if (!codecAccepts(input)) continue;
    accepted++;
    assertSniffedAsHttp(input, 'accepted by the codec');
  }
  // The property holds for many inputs, not for a handful the generator happened to get right.
  assert.ok(accepted > N / 5, `only ${accepted} of ${N} accepted`);
});

test('sniff: every request of the conformance table that the TS codec accepts is HTTP', () => {
  interface HeadCase { readonly name: string; readonly why: string; readonly request: string; readonly max_head?: number; readonly max_body?: number }
  const table = loadTable<HeadCase>('http-request-heads.json');
  let accepted = 0;
  for (const c of table.cases) {
    const input = Buffer.from(c.request, 'latin1');
    if (!codecAccepts(input, c.max_head ?? 8192, c.max_body ?? 0)) continue;
    accepted++;
    assertSniffedAsHttp(input, c.name);
  }
  assert.ok(accepted > 0);
});
