import test from 'node:test';
import assert from 'node:assert/strict';
import type { BackendSpec, UpstreamGroupSpec } from '../../src/config/schema.js';
import { Upstream } from '../../src/proxy/upstream.js';

const server = (port: number, extra: Partial<BackendSpec> = {}): BackendSpec => ({ url: `http://127.0.0.1:${port}`, protocol: 'http', target: { kind: 'tcp', host: '127.0.0.1', port }, weight: 1, maxFails: 2, failTimeoutMs: 10_000, backup: false, down: false, ...extra });
const group = (backends: BackendSpec[]): UpstreamGroupSpec => ({ name: 'api', backends, balance: { kind: 'round-robin' }, nextUpstream: { error: true, timeout: true, statuses: [502], nonIdempotent: false, off: false }, connectTimeoutMs: 1000, readTimeoutMs: 1000, healthCheck: null, via: true, source: { kind: 'default' } });

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

test('a reload keeps the passive health and in-flight count of every backend whose URL is unchanged; a new one starts afresh', () => {
  let now = 0;
  const before = new Upstream(group([server(1, { maxFails: 1 }), server(2, { maxFails: 1 })]), () => now);
  assert.equal(before.backends[0]!.fail(), true);
  before.backends[1]!.fail();
  before.backends[1]!.active = 3;
  const after = new Upstream(group([server(3, { maxFails: 1 }), server(2, { maxFails: 1 }), server(1, { maxFails: 1 })]), () => now, before);
  assert.deepEqual(after.backends.map((b) => b.state), ['up', 'out', 'out']);
  assert.equal(after.backends[1]!.active, 3);
  // The old group's requests finishing lower the count the new group balances on.
  before.backends[1]!.active--;
  assert.equal(after.backends[1]!.active, 2);
  for (let i = 0; i < 3; i++) assert.equal(after.pick(null, new Set())?.index, 0);
  now = 10_001;
  assert.deepEqual(after.backends.map((b) => b.state), ['up', 'up', 'up']);
});

test('a reload carries the active-check state of kept backends; a new backend is untrusted until its first check', () => {
  const checked = (backends: BackendSpec[]): UpstreamGroupSpec => ({ ...group(backends), healthCheck: { mode: 'request', path: '/h', intervalMs: 1000, timeoutMs: 1000, rise: 1, fall: 1, statusMin: 200, statusMax: 399 } });
  const before = new Upstream(checked([server(1)]), () => 0);
  assert.equal(before.backends[0]!.state, 'out', 'not trusted before its first check');
  const after1 = new Upstream(checked([server(1)]), () => 0, before);
  assert.equal(after1.backends[0]!.state, 'out', 'still untrusted after a reload');
});
