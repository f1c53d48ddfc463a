import test from 'node:test';
import assert from 'node:assert/strict';
import { makeBalancer, type BackendView } from '../../src/proxy/balance/balancer.js';

const view = (index: number, weight: number, extra: Partial<BackendView> = {}): BackendView => ({ index, weight, backup: false, available: true, active: 0, ...extra });

test("smooth weighted round robin picks 5/1/1 as nginx does: a a b a c a a", () => {
  const b = makeBalancer({ kind: 'round-robin' });
  const backends = [view(0, 5), view(1, 1), view(2, 1)];
  const picks = Array.from({ length: 14 }, () => 'abc'[b.pick(backends, null, new Set())!]).join('');
  assert.equal(picks, 'aabacaaaabacaa');
});

test('unavailable and excluded backends are skipped; backups only when no primary can serve', () => {
  const b = makeBalancer({ kind: 'round-robin' });
  const backends = [view(0, 1, { available: false }), view(1, 1), view(2, 1, { backup: true })];
  assert.equal(b.pick(backends, null, new Set()), 1);
  assert.equal(b.pick(backends, null, new Set([1])), 2);
  assert.equal(b.pick([view(0, 1, { available: false }), view(1, 1, { backup: true, available: false })], null, new Set()), null);
});
