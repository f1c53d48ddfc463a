/**
 * The watchdog policy with a fake clock and hand-made worker facts, plus one check of
 * reload-on-rss against a real Python process read through /proc.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { debianPython } from '../helpers/berth.js';
import { maxRequestsFor, Watchdog, type WatchdogAction, type WatchdogOptions, type WorkerFacts } from '../../src/master/watchdog.js';

const MB = 1024 * 1024;
const OFF: WatchdogOptions = { harakiriMs: 0, maxRequests: 0, maxRequestsDelta: 0, minWorkerLifetimeMs: 0, maxWorkerLifetimeMs: 0, reloadOnRssBytes: 0 };

function worker(slot: number, over: Partial<WorkerFacts> = {}): WorkerFacts {
  return { slot, pid: 1000 + slot, generation: 1, spawnedAtMs: 0, requestsServed: 0, oldestInFlightSinceMs: Infinity, state: 'READY', ...over };
}

const kinds = (actions: WatchdogAction[]): string[] => actions.map((a) => `${a.kind}:${a.slot}:${a.pid}`);

test('harakiri: fires once the oldest request ran longer than the limit, once per pid, never for an idle worker', () => {
  const dog = new Watchdog({ ...OFF, harakiriMs: 5000 });
  const busy = worker(1, { oldestInFlightSinceMs: 1000 });
  const idle = worker(2);
  assert.deepEqual(dog.check([busy, idle], 6000), []);
  const actions = dog.check([busy, idle], 6001);
  assert.deepEqual(actions, [{ kind: 'harakiri', slot: 1, pid: 1001, runningMs: 5001, limitMs: 5000 }]);
  assert.deepEqual(dog.check([busy, idle], 7000), [], 'the same pid is not killed twice');
  assert.deepEqual(dog.check([idle], 8000), []);
});

test('harakiri ignores min-worker-lifetime and also covers a worker that is draining (RETIRING)', () => {
  const dog = new Watchdog({ ...OFF, harakiriMs: 1000, minWorkerLifetimeMs: 60_000 });
  const draining = worker(1, { state: 'RETIRING', spawnedAtMs: 500, oldestInFlightSinceMs: 600 });
  assert.deepEqual(kinds(dog.check([draining], 2000)), ['harakiri:1:1001']);
});

test('max-requests is spread by max-requests-delta: slot i recycles at max + (i − 1) × delta', () => {
  assert.equal(maxRequestsFor(1, 1000, 10), 1000);
  assert.equal(maxRequestsFor(3, 1000, 10), 1020);
  const dog = new Watchdog({ ...OFF, maxRequests: 1000, maxRequestsDelta: 10, maxConcurrentRecycles: 3 });
  const workers = [worker(1, { requestsServed: 1000 }), worker(2, { requestsServed: 1009 }), worker(3, { requestsServed: 1020 })];
  const actions = dog.check(workers, 1);
  assert.deepEqual(kinds(actions), ['recycle:1:1001', 'recycle:3:1003']);
  assert.equal((actions[0] as { reason: string }).reason, 'served 1000 requests (max-requests = 1000)');
  assert.equal((actions[1] as { reason: string }).reason, 'served 1020 requests (max-requests = 1000 + 20 for worker 3 (max-requests-delta = 10))');
});

test('nothing but harakiri happens before min-worker-lifetime', () => {
  const dog = new Watchdog({ ...OFF, maxRequests: 10, reloadOnRssBytes: 1, maxWorkerLifetimeMs: 1, minWorkerLifetimeMs: 10_000, readRssBytes: () => 500 * MB });
  const w = worker(1, { spawnedAtMs: 1000, requestsServed: 5000 });
  assert.deepEqual(dog.check([w], 10_999), []);
  assert.deepEqual(kinds(dog.check([w], 11_000)), ['recycle:1:1001']);
});

test('one recycle at a time: the next waits until the recycled pid is gone and no worker is STARTING', () => {
  const dog = new Watchdog({ ...OFF, maxRequests: 100 });
  const w1 = worker(1, { requestsServed: 100 });
  const w2 = worker(2, { requestsServed: 150 });
  assert.deepEqual(kinds(dog.check([w1, w2], 1)), ['recycle:1:1001']);
  assert.deepEqual(dog.check([w1, w2], 2), [], 'slot 1 still serving until its replacement is READY');
  const fresh = worker(1, { pid: 2001, spawnedAtMs: 2, state: 'STARTING' });
  assert.deepEqual(dog.check([w1, fresh, w2], 3), [], 'replacement booting');
  const retiring = { ...w1, state: 'RETIRING' as const };
  const ready = { ...fresh, state: 'READY' as const };
  assert.deepEqual(dog.check([retiring, ready, w2], 4), [], 'old worker still draining');
  assert.deepEqual(kinds(dog.check([ready, w2], 5)), ['recycle:2:1002']);
});

test('a crash respawn that is STARTING also holds recycles back', () => {
  const dog = new Watchdog({ ...OFF, maxRequests: 100 });
  const booting = worker(2, { state: 'STARTING' });
  assert.deepEqual(dog.check([worker(1, { requestsServed: 100 }), booting], 1), []);
  assert.deepEqual(kinds(dog.check([worker(1, { requestsServed: 100 }), { ...booting, state: 'READY' }], 2)), ['recycle:1:1001']);
});

test('a pid is never recycled twice, even with room for more recycles', () => {
  const dog = new Watchdog({ ...OFF, maxRequests: 1, maxConcurrentRecycles: 4 });
  const w = worker(1, { requestsServed: 5 });
  assert.equal(dog.check([w], 1).length, 1);
  assert.deepEqual(dog.check([w], 2), []);
  assert.deepEqual(dog.check([{ ...w, requestsServed: 50 }], 3), []);
});

test('a sole worker is recycled too (its replacement is spawned before it retires)', () => {
  const dog = new Watchdog({ ...OFF, maxWorkerLifetimeMs: 3_600_000 });
  const actions = dog.check([worker(1)], 3_600_000);
  assert.deepEqual(actions, [{ kind: 'recycle', slot: 1, pid: 1001, cause: 'max-worker-lifetime', reason: 'alive 3600 s (max-worker-lifetime = 3600 s)' }]);
});

test('reload-on-rss reads memory only when enabled, and only for workers that could be recycled', () => {
  const reads: number[] = [];
  const reader = (pid: number): number => (reads.push(pid), 312 * MB);
  new Watchdog({ ...OFF, harakiriMs: 1000, maxRequests: 1, readRssBytes: reader }).check([worker(1), worker(2)], 1);
  assert.deepEqual(reads, [], 'reload-on-rss off: /proc is not read');
  const dog = new Watchdog({ ...OFF, reloadOnRssBytes: 300 * MB, minWorkerLifetimeMs: 100, readRssBytes: reader });
  const young = worker(1, { spawnedAtMs: 50 });
  const old = worker(2);
  const starting = worker(3, { state: 'STARTING' });
  assert.deepEqual(dog.check([young, old], 100), [{ kind: 'recycle', slot: 2, pid: 1002, cause: 'reload-on-rss', reason: 'RSS 312 MB over reload-on-rss = 300 MB' }]);
  assert.deepEqual(reads, [1002]);
  reads.length = 0;
  dog.check([young, old, starting], 200);
  assert.deepEqual(reads, [], 'recycle under way: nothing to decide, nothing read');
});

test('rssBytes in the facts is used instead of reading /proc; a vanished process (null) is skipped', () => {
  const dog = new Watchdog({ ...OFF, reloadOnRssBytes: 100 * MB, readRssBytes: () => null, maxConcurrentRecycles: 2 });
  assert.deepEqual(kinds(dog.check([worker(1), worker(2, { rssBytes: 150 * MB })], 1)), ['recycle:2:1002']);
});

test('when several are due, memory goes first, then requests, then age', () => {
  const dog = new Watchdog({ ...OFF, maxRequests: 10, maxWorkerLifetimeMs: 1000, reloadOnRssBytes: 100 * MB, readRssBytes: (pid) => (pid === 1003 ? 200 * MB : 10 * MB) });
  const workers = [worker(1), worker(2, { requestsServed: 10 }), worker(3)];
  const first = dog.check(workers, 5000);
  assert.deepEqual(first.map((a) => (a.kind === 'recycle' ? a.cause : a.kind)), ['reload-on-rss']);
  assert.equal(first[0]!.slot, 3);
});

test('only the newest generation is recycled; older ones are already being replaced by a reload', () => {
  const dog = new Watchdog({ ...OFF, maxRequests: 10, maxConcurrentRecycles: 4 });
  const old = worker(1, { generation: 1, requestsServed: 99 });
  const current = worker(2, { generation: 2, pid: 3002, requestsServed: 99 });
  assert.deepEqual(kinds(dog.check([old, current], 1)), ['recycle:2:3002']);
});

test('a worker harakiri-killed in this check is not also recycled', () => {
  const dog = new Watchdog({ ...OFF, harakiriMs: 10, maxRequests: 1 });
  const w = worker(1, { requestsServed: 3, oldestInFlightSinceMs: 0 });
  assert.deepEqual(kinds(dog.check([w], 100)), ['harakiri:1:1001']);
});

test('enabled is false when every rule is off', () => {
  assert.equal(new Watchdog(OFF).enabled, false);
  assert.equal(new Watchdog({ ...OFF, reloadOnRssBytes: 1 }).enabled, true);
});

test('reload-on-rss against a real Python process holding 60 MB (default /proc reader)', async (t) => {
  const code = "b = bytearray(b'\\x01') * (60 << 20)\nprint('ready', flush=True)\nimport sys\nsys.stdin.read()";
  const child = spawn(debianPython(), ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  await once(child.stdout!, 'data');
  const facts = [worker(1, { pid: child.pid! })];
  assert.deepEqual(new Watchdog({ ...OFF, reloadOnRssBytes: 500 * MB }).check(facts, 1), []);
  const actions = new Watchdog({ ...OFF, reloadOnRssBytes: 40 * MB }).check(facts, 1);
  assert.equal(actions.length, 1);
  assert.match((actions[0] as { reason: string }).reason, /^RSS \d+ MB over reload-on-rss = 40 MB$/);
});
