/** Who the client is behind trusted proxies: Forwarded and X-Forwarded-For, rightmost untrusted. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { forwardedClient, parseForwardedAllow, peerIsTrusted, type ForwardedTrust } from '../../src/server/forwarded.js';

const trust = parseForwardedAllow('127.0.0.1,::1,10.0.0.0/8') as ForwardedTrust;

test('forwarded-allow-ips: lists, networks, *, and the bad entry named', () => {
  assert.equal(parseForwardedAllow(' * '), 'all');
  assert.deepEqual(parseForwardedAllow('127.0.0.1, nonsense'), { bad: 'nonsense' });
  assert.ok(peerIsTrusted('10.2.3.4', trust));
  assert.ok(peerIsTrusted('::1', trust));
  assert.ok(!peerIsTrusted('127.0.0.2', trust));
  assert.ok(peerIsTrusted('', trust), 'a unix-socket peer is trusted, as in gunicorn');
});

const CASES: ReadonlyArray<[string, string[], ReturnType<typeof forwardedClient>]> = [
  ['one hop', ['X-Forwarded-For', '203.0.113.7'], { remoteAddress: '203.0.113.7', remotePort: 0, scheme: null }],
  ['rightmost untrusted: a spoofed left entry is ignored', ['X-Forwarded-For', '1.1.1.1, 203.0.113.7, 10.0.0.5'], { remoteAddress: '203.0.113.7', remotePort: 0, scheme: null }],
  ['every hop trusted: the leftmost', ['X-Forwarded-For', '10.0.0.9, 10.0.0.5'], { remoteAddress: '10.0.0.9', remotePort: 0, scheme: null }],
  ['repeated headers join', ['X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '203.0.113.7'], { remoteAddress: '203.0.113.7', remotePort: 0, scheme: null }],
  ['proto', ['X-Forwarded-For', '203.0.113.7', 'X-Forwarded-Proto', 'https'], { remoteAddress: '203.0.113.7', remotePort: 0, scheme: 'https' }],
  ['proto list aligned with hops', ['X-Forwarded-For', '203.0.113.7, 10.0.0.5', 'X-Forwarded-Proto', 'https, http'], { remoteAddress: '203.0.113.7', remotePort: 0, scheme: 'https' }],
  ['a strange proto is ignored', ['X-Forwarded-For', '203.0.113.7', 'X-Forwarded-Proto', 'gopher'], { remoteAddress: '203.0.113.7', remotePort: 0, scheme: null }],
  ['IPv6 hop', ['X-Forwarded-For', '2001:db8::7'], { remoteAddress: '2001:db8::7', remotePort: 0, scheme: null }],
  ['garbage: not used', ['X-Forwarded-For', '203.0.113.7, evil'], null],
  ['Forwarded, RFC 7239 examples', ['Forwarded', 'for="_gazonk", for=192.0.2.60;proto=https;by=203.0.113.43'], { remoteAddress: '192.0.2.60', remotePort: 0, scheme: 'https' }],
  ['Forwarded IPv6 with port', ['Forwarded', 'for="[2001:db8:cafe::17]:4711";proto=http'], { remoteAddress: '2001:db8:cafe::17', remotePort: 4711, scheme: 'http' }],
  ['Forwarded wins over X-Forwarded-For', ['X-Forwarded-For', '1.1.1.1', 'Forwarded', 'For=203.0.113.8'], { remoteAddress: '203.0.113.8', remotePort: 0, scheme: null }],
  ['Forwarded: unknown stops the walk', ['Forwarded', 'for=unknown'], null],
  ['no header', ['Host', 'x'], null],
];

for (const [name, headers, want] of CASES) {
  test(`forwardedClient: ${name}`, () => assert.deepEqual(forwardedClient(headers, trust), want));
}

test('with * every hop is trusted: the leftmost is the client', () => {
  assert.equal(forwardedClient(['X-Forwarded-For', '198.51.100.1, 203.0.113.7'], 'all')?.remoteAddress, '198.51.100.1');
});
