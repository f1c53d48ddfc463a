import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeUwsgiRequest } from '../../../src/protocol/uwsgi/client.js';
import { UwsgiEncodeError } from '../../../src/protocol/uwsgi/types.js';
import { assertAccepted, body, heads, packet, varsBlock } from './feed.js';
import { NGINX_GET } from './fixtures.js';

test('round trip: encode then parse gives back the vars, modifiers and body', () => {
  const vars = ['REQUEST_METHOD', 'PUT', 'PATH_INFO', '/caf\u00e9', 'CONTENT_LENGTH', '3', 'EMPTY', '', 'HTTP_X', 'a', 'HTTP_X', 'b'];
  const encoded = encodeUwsgiRequest(vars, 30, 7);
  const events = assertAccepted(Buffer.concat([encoded, Buffer.from('abc')]));
  const [head] = heads(events);
  assert.deepEqual(head?.vars, vars);
  assert.equal(head?.modifier1, 30);
  assert.equal(head?.modifier2, 7);
  assert.equal(head?.varsBytes, encoded.length - 4);
  assert.equal(body(events), 'abc');
});

test('round trip: the encoder writes what nginx writes, byte for byte', () => {
  const [head] = heads(assertAccepted(NGINX_GET));
  assert.deepEqual(encodeUwsgiRequest(head?.vars ?? []), NGINX_GET);
  assert.deepEqual(encodeUwsgiRequest(['A', 'b']), packet(['A', 'b']));
});

test('round trip: no vars is a 4-byte packet', () => {
  assert.deepEqual(encodeUwsgiRequest([]), Buffer.from([0, 0, 0, 0]));
});

test('round trip: a block of exactly 65535 bytes is encoded; one more byte is refused', () => {
  const max = encodeUwsgiRequest(['K', 'v'.repeat(65535 - 5)]);
  assert.equal(max.readUInt16LE(1), 65535);
  assert.deepEqual(max.subarray(4), varsBlock(['K', 'v'.repeat(65535 - 5)]));
  assert.throws(() => encodeUwsgiRequest(['K', 'v'.repeat(65535 - 4)]), (e: unknown) => e instanceof UwsgiEncodeError && e.reason === 'vars-too-large' && e.status === 431);
  // Many vars adding up past the limit, none too long on its own.
  const many = Array.from({ length: 2000 }, (_, i) => [`HTTP_X_${i}`, 'y'.repeat(30)]).flat();
  assert.throws(() => encodeUwsgiRequest(many), (e: unknown) => e instanceof UwsgiEncodeError && e.reason === 'vars-too-large');
});

test('round trip: the encoder refuses what no server would accept', () => {
  const refuses = (vars: string[], reason: string, m1 = 0, m2 = 0): void => {
    assert.throws(() => encodeUwsgiRequest(vars, m1, m2), (e: unknown) => e instanceof UwsgiEncodeError && e.reason === reason && e.code === 'BERTH_HTTP_PROTOCOL', reason);
  };
  refuses(['K', 'v'.repeat(70000)], 'var-too-long');
  refuses(['', 'v'], 'empty-key');
  refuses(['K', 'snowman \u2603'], 'not-latin1');
  refuses(['K\u0100', 'v'], 'not-latin1');
  refuses(['K'], 'odd-vars');
  refuses(['K', 'v'], 'bad-modifier', 256);
  refuses(['K', 'v'], 'bad-modifier', 0, -1);
  refuses(['K', 'v'], 'bad-modifier', 1.5);
});
