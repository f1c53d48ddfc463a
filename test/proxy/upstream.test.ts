import test from 'node:test';
import assert from 'node:assert/strict';
import type { BackendSpec, UpstreamGroupSpec } from '../../src/config/schema.js';
import { Upstream } from '../../src/proxy/upstream.js';

const server = (port: number, extra: Partial<BackendSpec> = {}): BackendSpec => ({ url: `http://127.0.0.1:${port}`, protocol: 'http', target: { kind: 'tcp', host: '127.0.0.1', port }, weight: 1, maxFails: 2, failTimeoutMs: 10_000, backup: false, down: false, ...extra });
const group = (backends: BackendSpec[]): UpstreamGroupSpec => ({ name: 'api', backends, balance: { kind: 'round-robin' }, nextUpstream: { error: true, timeout: true, statuses: [502], nonIdempotent: false, off: false }, connectTimeoutMs: 1000, readTimeoutMs: 1000, healthCheck: null, source: { kind: 'default' } });

test('max_fails failures within fail_timeout put a backend out for fail_timeout, then it is tried again', () => {
  let now = 0;
  const u = new Upstream(group([server(1), server(2)]), () => now);
  const [a] = u.backends;
  assert.equal(a!.fail(), false);
  now = 5_000;
  assert.equal(a!.fail(), true);
  assert.equal(a!.state, 'out');
  for (let i = 0; i < 4; i++) assert.equal(u.pick(null, new Set())?.index, 1);
  now = 15_001;
  assert.equal(a!.state, 'up');
});

test('failures further apart than fail_timeout do not add up; a success clears the count', () => {
  let now = 0;
  const u = new Upstream(group([server(1)]), () => now);
  const [a] = u.backends;
  a!.fail();
  now = 10_500;
  assert.equal(a!.fail(), false);
  a!.succeed();
  assert.equal(a!.fail(), false);
  assert.equal(a!.state, 'up');
});

test('a down backend is never picked, a backup only when every primary is out; 403/404 never count', () => {
  const u = new Upstream(group([server(1, { down: true }), server(2, { maxFails: 1 }), server(3, { backup: true })]), () => 0);
  assert.equal(u.pick(null, new Set())?.index, 1);
  u.backends[1]!.fail();
  assert.equal(u.pick(null, new Set())?.index, 2);
  assert.equal(u.countsAsFailure(502), true);
  assert.equal(u.countsAsFailure(404), false);
  assert.equal(u.countsAsFailure(403), false);
});
