/** The crash-loop policy with a fake clock: back-off steps, FATAL per slot and for the app, resets. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { CrashBackoff, type CrashDecision } from '../../src/master/crash-backoff.js';

/** Replays fast crashes of one slot: each worker lives `lifeMs` and is respawned after the advised delay. */
function crashLoop(policy: CrashBackoff, slot: number, times: number, startMs = 0, lifeMs = 50): { decisions: CrashDecision[]; endMs: number } {
  const decisions: CrashDecision[] = [];
  let now = startMs;
  for (let i = 0; i < times; i++) {
    const d = policy.exited({ slot, spawnedAtMs: now, exitedAtMs: now + lifeMs, wasReady: false, how: 'exit code 1' });
    decisions.push(d);
    now += lifeMs + (d.kind === 'respawn' ? d.delayMs : 0);
  }
  return { decisions, endMs: now };
}

const delays = (ds: CrashDecision[]): (number | string)[] => ds.map((d) => (d.kind === 'respawn' ? d.delayMs : `fatal:${d.scope}`));

test('consecutive fast crashes back off 100, 200, 400, 800 ms, and the fifth makes a single-slot app FATAL', () => {
  const policy = new CrashBackoff({ slots: 1 });
  const { decisions } = crashLoop(policy, 1, 5);
  assert.deepEqual(delays(decisions), [100, 200, 400, 800, 'fatal:app']);
  const last = decisions[4]!;
  assert.ok(last.kind === 'fatal');
  assert.match(last.reason, /worker 1 crashed 5 times in a row within 60 s/);
  assert.match(last.reason, /last: exit code 1/);
  assert.match(last.reason, /every worker slot is crash-looping, so Berth stops/);
  assert.equal(policy.isFatal(1), true);
});

test('with two slots the first to loop is FATAL alone; when the second loops too the app is', () => {
  const policy = new CrashBackoff({ slots: 2 });
  const one = crashLoop(policy, 1, 5).decisions.at(-1)!;
  assert.ok(one.kind === 'fatal' && one.scope === 'slot');
  assert.match(one.reason, /Berth stops respawning slot 1; the other workers keep serving/);
  assert.deepEqual(policy.fatalSlots, [1]);
  const two = crashLoop(policy, 2, 5).decisions.at(-1)!;
  assert.ok(two.kind === 'fatal' && two.scope === 'app');
  assert.deepEqual(policy.fatalSlots, [1, 2]);
});

test('a worker that was ready and lived past fast-crash-ms resets the count: respawn at once, back-off starts over', () => {
  const policy = new CrashBackoff({ slots: 1 });
  const { endMs } = crashLoop(policy, 1, 4);
  assert.deepEqual(policy.exited({ slot: 1, spawnedAtMs: endMs, exitedAtMs: endMs + 1000, wasReady: true }), { kind: 'respawn', delayMs: 0, fastCrashes: 0 });
  assert.deepEqual(delays(crashLoop(policy, 1, 2, endMs + 2000).decisions), [100, 200]);
});

test('a worker that died before READY counts as a fast crash however long its boot took', () => {
  const policy = new CrashBackoff({ slots: 1 });
  const d = policy.exited({ slot: 1, spawnedAtMs: 0, exitedAtMs: 30_000, wasReady: false });
  assert.deepEqual(d, { kind: 'respawn', delayMs: 100, fastCrashes: 1 });
});

test('a ready worker that died within fast-crash-ms still counts as a fast crash', () => {
  const policy = new CrashBackoff({ slots: 1, fastCrashMs: 2000 });
  assert.deepEqual(policy.exited({ slot: 1, spawnedAtMs: 0, exitedAtMs: 1999, wasReady: true }), { kind: 'respawn', delayMs: 100, fastCrashes: 1 });
});

test('crashes spread wider than the window never go FATAL, and the delay stops growing at 5 s', () => {
  const policy = new CrashBackoff({ slots: 1, windowMs: 1000 });
  const { decisions } = crashLoop(policy, 1, 9, 0, 900);
  assert.deepEqual(delays(decisions), [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
});

test('slots are independent: one slot crashing does not slow another', () => {
  const policy = new CrashBackoff({ slots: 2 });
  crashLoop(policy, 1, 3);
  assert.deepEqual(delays(crashLoop(policy, 2, 1).decisions), [100]);
});

test('reset() forgets FATAL slots (a reload with new code gets a fresh start); setSlots drops slots above the count', () => {
  const policy = new CrashBackoff({ slots: 3 });
  crashLoop(policy, 1, 5);
  crashLoop(policy, 3, 5);
  assert.deepEqual(policy.fatalSlots, [1, 3]);
  policy.setSlots(2);
  assert.deepEqual(policy.fatalSlots, [1]);
  const last = crashLoop(policy, 2, 5).decisions.at(-1)!;
  assert.ok(last.kind === 'fatal' && last.scope === 'app', 'slots 1 and 2 are all there is now');
  policy.reset();
  assert.deepEqual(policy.fatalSlots, []);
  assert.deepEqual(delays(crashLoop(policy, 1, 1).decisions), [100]);
});
