/**
 * The dispatcher tells a graceful stop when nothing is left in a worker or its queue — at the
 * moment a request completes or fails, with no polling — and tells it once.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { Dispatcher } from '../../src/router/dispatcher.js';
import { fakeExchange, fakePool } from './fake-pool.js';

test('with nothing in flight or queued, idle is told at once', () => {
  const { pool } = fakePool();
  const d = new Dispatcher(pool, 10);
  let told = 0;
  d.whenIdle(() => told++);
  assert.equal(told, 1);
});

test('idle waits for the last running request, then is told once', () => {
  const { pool, sent: running } = fakePool();
  const d = new Dispatcher(pool, 10);
  d.dispatch(fakeExchange([]));
  d.dispatch(fakeExchange([]));
  let told = 0;
  d.whenIdle(() => told++);
  assert.equal(told, 0, 'two requests run');
  running.pop();
  d.drain(); // a thread became free
  assert.equal(told, 0, 'one still runs');
  running.pop();
  d.drain();
  assert.equal(told, 1);
  d.drain();
  d.checkIdle();
  assert.equal(told, 1, 'told once only');
});

test('a queued request keeps it busy until served; a worker exit is checked too', () => {
  const { pool, sent: running, busy } = fakePool();
  const d = new Dispatcher(pool, 10);
  const answers: number[] = [];
  busy.value = true;
  d.dispatch(fakeExchange(answers));
  assert.equal(d.queued, 1);
  let told = 0;
  d.whenIdle(() => told++);
  d.checkIdle();
  assert.equal(told, 0, 'a request waits in the queue');
  busy.value = false;
  d.drain();
  assert.equal(running.length, 1, 'the queued request went to the worker');
  assert.equal(told, 0);
  running.length = 0; // the worker died with it (its handle answered 502)
  d.checkIdle();
  assert.equal(told, 1);
});

test('failing the queue (an immediate stop) leaves nothing: idle', () => {
  const { pool, busy } = fakePool();
  const d = new Dispatcher(pool, 10);
  const answers: number[] = [];
  busy.value = true;
  d.dispatch(fakeExchange(answers));
  let told = 0;
  d.whenIdle(() => told++);
  assert.equal(told, 0);
  d.failAll(503, 'stopping');
  assert.deepEqual(answers, [503]);
  assert.equal(told, 1);
});
