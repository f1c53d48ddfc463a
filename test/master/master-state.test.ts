/** The master's state table: every listed move is allowed, everything else refused. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { canMasterTransition, IllegalMasterTransition, isServing, isStopping, masterTransition, type MasterState } from '../../src/master/master-state.js';

const ALL: readonly MasterState[] = ['STARTING', 'RUNNING', 'RELOADING', 'STOPPING_GRACEFUL', 'STOPPING_IMMEDIATE', 'STOPPED'];
const LEGAL = new Set([
  'STARTING→RUNNING', 'STARTING→STOPPING_GRACEFUL', 'STARTING→STOPPING_IMMEDIATE', 'STARTING→STOPPED',
  'RUNNING→RELOADING', 'RUNNING→STOPPING_GRACEFUL', 'RUNNING→STOPPING_IMMEDIATE',
  'RELOADING→RUNNING', 'RELOADING→STOPPING_GRACEFUL', 'RELOADING→STOPPING_IMMEDIATE',
  'STOPPING_GRACEFUL→STOPPING_IMMEDIATE', 'STOPPING_GRACEFUL→STOPPED',
  'STOPPING_IMMEDIATE→STOPPED',
]);

test('every pair of master states: the listed moves pass, all others throw', () => {
  for (const from of ALL) {
    for (const to of ALL) {
      const key = `${from}→${to}`;
      if (LEGAL.has(key)) {
        assert.equal(masterTransition(from, to), to, key);
        assert.ok(canMasterTransition(from, to), key);
      } else {
        assert.throws(() => masterTransition(from, to), IllegalMasterTransition, key);
        assert.equal(canMasterTransition(from, to), false, key);
      }
    }
  }
});

test('a stopping master never goes back to serving or reloading', () => {
  for (const from of ['STOPPING_GRACEFUL', 'STOPPING_IMMEDIATE', 'STOPPED'] as const) {
    for (const to of ['STARTING', 'RUNNING', 'RELOADING'] as const) assert.throws(() => masterTransition(from, to), /illegal master state change/);
  }
});

test('a reload cannot start while one runs, and STOPPED is final', () => {
  assert.throws(() => masterTransition('RELOADING', 'RELOADING'), (err: unknown) =>
    err instanceof IllegalMasterTransition && err.code === 'BERTH_ILLEGAL_TRANSITION');
  for (const to of ALL) assert.equal(canMasterTransition('STOPPED', to), false);
});

test('serving and stopping are the two halves before STOPPED', () => {
  assert.deepEqual(ALL.filter(isServing), ['STARTING', 'RUNNING', 'RELOADING']);
  assert.deepEqual(ALL.filter(isStopping), ['STOPPING_GRACEFUL', 'STOPPING_IMMEDIATE']);
});
