import assert from 'node:assert/strict';
import test from 'node:test';
import { backoffDelayMs, canMove, move, onExit } from '../../src/supervise/program-state.js';

const facts = { code: 1, retries: 0, startretries: 3, autorestart: 'unexpected' as const, exitcodes: [0] };

test("supervisor's moves are legal, others refused", () => {
  assert.equal(move('STOPPED', 'STARTING'), 'STARTING');
  assert.ok(canMove('STARTING', 'RUNNING'));
  assert.ok(canMove('BACKOFF', 'FATAL'));
  assert.ok(!canMove('STOPPED', 'RUNNING'));
  assert.throws(() => move('FATAL', 'RUNNING'), /FATAL → RUNNING/);
});

test('an exit before startsecs backs off 1 s, 2 s, 3 s, then FATAL past startretries', () => {
  assert.deepEqual(onExit({ ...facts, state: 'STARTING' }), { next: 'BACKOFF', retry: 1, delayMs: 1000 });
  assert.deepEqual(onExit({ ...facts, state: 'STARTING', retries: 2 }), { next: 'BACKOFF', retry: 3, delayMs: 3000 });
  assert.deepEqual(onExit({ ...facts, state: 'STARTING', retries: 3 }), { next: 'FATAL' });
  assert.equal(backoffDelayMs(4), 4000);
});

test('an exit while RUNNING follows autorestart and exitcodes; while STOPPING it is the stop', () => {
  assert.deepEqual(onExit({ ...facts, state: 'RUNNING', code: 0 }), { next: 'EXITED', expected: true, restart: false });
  assert.deepEqual(onExit({ ...facts, state: 'RUNNING', code: 1 }), { next: 'EXITED', expected: false, restart: true });
  assert.deepEqual(onExit({ ...facts, state: 'RUNNING', code: null }), { next: 'EXITED', expected: false, restart: true });
  assert.deepEqual(onExit({ ...facts, state: 'RUNNING', code: 0, autorestart: 'true' }), { next: 'EXITED', expected: true, restart: true });
  assert.deepEqual(onExit({ ...facts, state: 'RUNNING', code: 1, autorestart: 'false' }), { next: 'EXITED', expected: false, restart: false });
  assert.deepEqual(onExit({ ...facts, state: 'STOPPING' }), { next: 'STOPPED' });
});
