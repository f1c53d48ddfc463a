import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccepted, heads, packet } from './feed.js';
import { MODIFIER1_WSGI, MODIFIER1_WSGI_STRIP_SCRIPT_NAME } from '../../../src/protocol/uwsgi/types.js';

test('modifiers: 0/0 is a plain WSGI request', () => {
  const [head] = heads(assertAccepted(packet(['PATH_INFO', '/'])));
  assert.equal(head?.modifier1, MODIFIER1_WSGI);
  assert.equal(head?.modifier2, 0);
});

test('modifiers: modifier1 30 (strip SCRIPT_NAME) is reported, vars untouched', () => {
  const [head] = heads(assertAccepted(packet(['SCRIPT_NAME', '/app', 'PATH_INFO', '/app/x'], '', 30)));
  assert.equal(head?.modifier1, MODIFIER1_WSGI_STRIP_SCRIPT_NAME);
  assert.deepEqual(head?.vars, ['SCRIPT_NAME', '/app', 'PATH_INFO', '/app/x']);
});

test('modifiers: any other modifier1/modifier2 is reported as is (the front decides)', () => {
  for (const [m1, m2] of [[5, 0], [100, 0], [255, 255], [0, 1], [71, 32]] as const) {
    const [head] = heads(assertAccepted(packet(['A', 'b'], '', m1, m2)));
    assert.equal(head?.modifier1, m1);
    assert.equal(head?.modifier2, m2);
  }
});
