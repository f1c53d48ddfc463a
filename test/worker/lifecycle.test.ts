import test from 'node:test';
import assert from 'node:assert/strict';
import { canTransition, IllegalTransition, transition, type WorkerState } from '../../src/worker/lifecycle.js';

const ALL: WorkerState[] = ['STARTING', 'READY', 'RETIRING', 'EXITED'];

test('the normal life: STARTING → READY → RETIRING → EXITED', () => {
  let s: WorkerState = 'STARTING';
  s = transition(s, 'READY');
  s = transition(s, 'RETIRING');
  s = transition(s, 'EXITED');
  assert.equal(s, 'EXITED');
});

test('illegal moves throw', () => {
  assert.throws(() => transition('EXITED', 'READY'), IllegalTransition);
  assert.throws(() => transition('RETIRING', 'READY'), IllegalTransition);
  assert.throws(() => transition('RETIRING', 'STARTING'), IllegalTransition);
  assert.throws(() => transition('READY', 'STARTING'), IllegalTransition);
});

test('an illegal move is a BerthError with a catalogued code naming both states', () => {
  assert.throws(() => transition('EXITED', 'READY'), { name: 'IllegalTransition', code: 'BERTH_ILLEGAL_TRANSITION', message: 'illegal worker state change EXITED → READY' });
});

test('every state but EXITED can reach EXITED, and nothing leaves EXITED', () => {
  for (const s of ALL) assert.equal(canTransition(s, 'EXITED'), s !== 'EXITED', s);
  for (const s of ALL) assert.equal(canTransition('EXITED', s), false);
});
