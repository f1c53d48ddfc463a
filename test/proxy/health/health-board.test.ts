/** The per-backend state machine: untrusted until the first pass, fall failures out, rise passes back. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { HealthBoard } from '../../../src/proxy/health/health-board.js';
import { HEALTH_DEFAULTS, type HealthSpec } from '../../../src/config/health-spec.js';

const SPEC: HealthSpec = { mode: 'request', path: '/h', ...HEALTH_DEFAULTS, rise: 2, fall: 3 };

test('a new backend is not trusted until its first check passes (unlike Caddy)', () => {
  const board = new HealthBoard(SPEC, 2);
  assert.equal(board.isTrusted(0), false);
  assert.equal(board.onResult(0, false, 'connect ECONNREFUSED'), null);
  assert.equal(board.onResult(0, false, 'connect ECONNREFUSED'), null);
  assert.equal(board.isTrusted(0), false);
  assert.deepEqual(board.onResult(0, true, 'status 200'), { index: 0, from: 'unknown', to: 'up', detail: 'status 200' });
  assert.equal(board.isTrusted(0), true);
  assert.equal(board.isTrusted(1), false, 'each backend has its own state');
});

test('fall failures in a row take it out; a pass in between resets the count', () => {
  const board = new HealthBoard(SPEC, 1);
  board.onResult(0, true, 'status 200');
  board.onResult(0, false, 'status 500');
  board.onResult(0, false, 'status 500');
  board.onResult(0, true, 'status 200');
  board.onResult(0, false, 'status 500');
  board.onResult(0, false, 'status 500');
  assert.equal(board.isTrusted(0), true, 'two failures after a pass are not three in a row');
  assert.deepEqual(board.onResult(0, false, 'timeout after 2000ms'), { index: 0, from: 'up', to: 'down', detail: 'timeout after 2000ms' });
  assert.equal(board.isTrusted(0), false);
  assert.equal(board.lastDetail(0), 'timeout after 2000ms');
});

test('rise passes in a row bring it back; a failure in between starts again', () => {
  const board = new HealthBoard(SPEC, 1);
  board.onResult(0, true, 'ok');
  for (let i = 0; i < 3; i++) board.onResult(0, false, 'bad');
  assert.equal(board.state(0), 'down');
  assert.equal(board.onResult(0, true, 'ok'), null);
  board.onResult(0, false, 'bad');
  assert.equal(board.onResult(0, true, 'ok'), null);
  assert.equal(board.isTrusted(0), false);
  assert.equal(board.onResult(0, true, 'ok')?.to, 'up');
  assert.equal(board.isTrusted(0), true);
});

test('forget(): a restarted backend is untrusted again until a pass', () => {
  const board = new HealthBoard(SPEC, 1);
  board.onResult(0, true, 'ok');
  board.forget(0);
  assert.equal(board.state(0), 'unknown');
  assert.equal(board.isTrusted(0), false);
  board.onResult(0, true, 'ok');
  assert.equal(board.isTrusted(0), true);
  assert.throws(() => board.onResult(3, true, 'ok'), /no backend 3/);
});

test('adopt carries one backend\'s state over to a new board (a reload keeping the backend)', () => {
  const old = new HealthBoard(SPEC, 2);
  old.onResult(1, true, 'status 200');
  old.onResult(1, false, 'status 500');
  const fresh = new HealthBoard(SPEC, 2);
  fresh.adopt(0, old, 1);
  assert.equal(fresh.isTrusted(0), true);
  assert.equal(fresh.isTrusted(1), false, 'a backend not carried over is untrusted until its first pass');
  fresh.onResult(0, false, 'status 500');
  assert.deepEqual(fresh.onResult(0, false, 'status 500'), { index: 0, from: 'up', to: 'down', detail: 'status 500' }, 'the failure streak carried over too');
});
