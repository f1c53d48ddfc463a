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

test('at the limit, requests whose client left no longer hold places: a live one waits, not 503', () => {
  const { pool, sent: running, busy } = fakePool();
  const d = new Dispatcher(pool, 3);
  const answers: number[] = [];
  busy.value = true;
  const waiting = [fakeExchange(answers), fakeExchange(answers), fakeExchange(answers)];
  for (const ex of waiting) d.dispatch(ex);
  d.dispatch(fakeExchange(answers));
  assert.deepEqual(answers, [503], 'three live requests fill a queue of three');
  (waiting[0] as { aborted: boolean }).aborted = true; // its client timed out and went
  (waiting[2] as { aborted: boolean }).aborted = true;
  const late = fakeExchange(answers);
  d.dispatch(late);
  assert.deepEqual(answers, [503], 'the late request waits in a place a gone client held');
  assert.equal(d.queued, 2);
  busy.value = false;
  d.drain();
  assert.deepEqual(running, [waiting[1], late], 'the live ones, in their order');
});
