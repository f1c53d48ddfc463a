/**
 * Requests a dead worker had not started: they go first in line, are sent again once, and are
 * answered 502 when their second worker dies too or when Berth is stopping.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { Dispatcher } from '../../src/router/dispatcher.js';
import { fakeExchange, fakePool } from './fake-pool.js';

test('a request given back goes before those already waiting, and is sent again only once', () => {
  const { pool, sent, busy } = fakePool();
  const d = new Dispatcher(pool, 10);
  const answers: number[] = [];
  busy.value = true;
  const waiting = fakeExchange(answers);
  d.dispatch(waiting);
  const back = fakeExchange(answers);
  d.redispatch([back], true);
  assert.equal(d.queued, 2);
  busy.value = false;
  d.drain();
  assert.deepEqual(sent, [back, waiting], 'the one given back first');
  d.redispatch([back], true);
  assert.deepEqual(answers, [502], 'its second worker died too: answered, not sent a third time');
  assert.equal(sent.length, 2);
});

test('while stopping, a request given back is answered 502 instead of waiting for a worker', () => {
  const { pool, sent } = fakePool();
  const d = new Dispatcher(pool, 10);
  const answers: number[] = [];
  d.redispatch([fakeExchange(answers)], false);
  assert.deepEqual(answers, [502]);
  assert.equal(sent.length, 0);
});
