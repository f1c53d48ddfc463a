import test from 'node:test';
import assert from 'node:assert/strict';
import { IdleSweep, type Watched } from '../../src/proxy/idle-sweep.js';

// The sweep's interval is unref'd (in Berth, the listeners keep the process up): this does here.
const keepAlive = setInterval(() => undefined, 1000);
test.after(() => clearInterval(keepAlive));

function watched(sweep: IdleSweep, limitMs: number): Watched & { expired: Promise<number>; watchedAt: number } {
  let done!: (at: number) => void;
  const w = {
    progressAt: 0,
    progressBound: 0,
    limitMs,
    watchedAt: performance.now(),
    expired: new Promise<number>((resolve) => (done = resolve)),
    expire: () => done(performance.now()),
  };
  sweep.watch(w, limitMs);
  return w;
}

test('an exchange with no progress expires, never before its limit', async () => {
  const sweep = new IdleSweep();
  const w = watched(sweep, 40);
  const at = await w.expired;
  assert.ok(at - w.watchedAt >= 40, `expired after ${at - w.watchedAt} ms, limit 40 ms`);
});

test('progress keeps an exchange alive; once it stops, the exchange expires; a forgotten one never does', async () => {
  const sweep = new IdleSweep();
  const busy = watched(sweep, 1000);
  let expiredEarly = false;
  void busy.expired.then(() => (expiredEarly = !stopped));
  let stopped = false;
  const forgotten = watched(sweep, 20);
  let forgottenExpired = false;
  void forgotten.expired.then(() => (forgottenExpired = true));
  sweep.forget(forgotten);
  let lastProgress = performance.now();
  const marking = setInterval(() => {
    busy.progressAt = sweep.clock;
    lastProgress = performance.now();
  }, 10);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  clearInterval(marking);
  stopped = true;
  const at = await busy.expired;
  assert.equal(expiredEarly, false, 'expired while it was making progress');
  // Measured from the last progress itself: under load the last mark can fire well before the stop.
  assert.ok(at - lastProgress >= 1000, `expired ${at - lastProgress} ms after its last progress, limit 1000 ms`);
  assert.equal(forgottenExpired, false);
});

test('a shorter limit watched later is honoured even while a longer one set the period', async () => {
  const sweep = new IdleSweep();
  const long = watched(sweep, 60_000);
  const short = watched(sweep, 30);
  await short.expired;
  sweep.forget(long);
});

test('late ticks (a busy event loop) never make an exchange expire before its limit', async () => {
  const sweep = new IdleSweep();
  const w = watched(sweep, 50);
  let lastProgress = performance.now();
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    // The loop is busy for most of the limit, so the clock the mark reads is that much behind.
    const until = performance.now() + 45;
    while (performance.now() < until);
    w.progressAt = sweep.clock;
    lastProgress = performance.now();
  }
  const at = await w.expired;
  assert.ok(at - lastProgress >= 50, `expired ${at - lastProgress} ms after its last progress, limit 50 ms`);
});
