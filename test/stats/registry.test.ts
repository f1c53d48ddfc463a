/** The stats registry, fed through the same diagnostics channels the core publishes on. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { appFailed, directDone, generationServing, requestDone, staticServed, workerGone, workerRecycled } from '../../src/server/observe.js';
import { StatsRegistry, lastTraceback } from '../../src/stats/registry.js';
import { maskedConfig, MASK } from '../../src/stats/document.js';
import { httpExchange } from '../log/fake-exchange.js';

function finished(status: number, workerId: number, method = 'GET') {
  const ex = httpExchange({ method, target: '/x', headers: [] });
  ex.status = status;
  ex.bytesSent = 10;
  ex.workerId = workerId;
  return ex;
}

test('requests by class, method, worker slot; static ones and their 304s apart; uwsgi-direct records counted', (t) => {
  const reg = new StatsRegistry();
  t.after(() => reg.close());
  requestDone.publish(finished(200, 1));
  requestDone.publish(finished(404, 2, 'POST'));
  const file = finished(304, 0);
  staticServed.publish(file);
  requestDone.publish(file);
  directDone.publish({ ex: finished(200, 0), micros: 1500, slot: 2 });
  assert.equal(reg.requests, 4);
  assert.equal(reg.directRequests, 1);
  assert.deepEqual(reg.byClass, [0, 0, 2, 1, 1, 0]);
  assert.equal(reg.byMethod[0], 3);
  assert.equal(reg.byMethod[2], 1);
  assert.equal(reg.staticRequests, 1);
  assert.equal(reg.static304, 1);
  assert.deepEqual([reg.slot(1).requests, reg.slot(2).requests], [1, 2]);
  assert.equal(reg.latencyCounts.reduce((a, b) => a + b, 0), 4);
  assert.equal(reg.latencyCounts[1], 1, 'the 1.5 ms direct record falls in the ≤ 2 ms bucket');
});

test('respawns by cause: crash, harakiri, the watchdog\'s recycling reasons, and reloads', (t) => {
  const reg = new StatsRegistry();
  t.after(() => reg.close());
  generationServing.publish({ generation: 1, processes: 2 });
  workerGone.publish({ slot: 1, pid: 10, generation: 1, kind: 'crashed' });
  workerGone.publish({ slot: 2, pid: 11, generation: 1, kind: 'harakiri' });
  workerGone.publish({ slot: 2, pid: 12, generation: 1, kind: 'retired' });
  workerRecycled.publish({ slot: 1, pid: 13, reason: 'RSS 300 MB over reload-on-rss = 256 MB' });
  workerRecycled.publish({ slot: 1, pid: 14, reason: 'served 1000 requests (max-requests = 1000)' });
  workerRecycled.publish({ slot: 2, pid: 15, reason: 'alive 3600 s (max-worker-lifetime = 3600 s)' });
  generationServing.publish({ generation: 2, processes: 2 });
  assert.deepEqual(Object.fromEntries(reg.respawns), { crash: 1, harakiri: 1, 'max-requests': 1, rss: 1, lifetime: 1, reload: 2 });
  assert.equal(reg.reloads, 1);
  assert.equal(reg.slot(2).harakiri, 1);
  assert.deepEqual([reg.slot(1).respawns, reg.slot(2).respawns], [5, 4], 'first spawn + crash + 2 recycles + reload; first + harakiri + recycle + reload');
});

test('recent errors: the traceback of the worker\'s ERROR frame, the last 20 kept, newest last', (t) => {
  const reg = new StatsRegistry();
  t.after(() => reg.close());
  for (let i = 0; i < 25; i++) {
    const ex = finished(500, 1);
    appFailed.publish({ ex, traceback: `Traceback (most recent call last):\nValueError: ${i}` });
    requestDone.publish(ex);
  }
  assert.equal(reg.recentErrors.length, 20);
  assert.match(reg.recentErrors.at(-1)!.traceback, /ValueError: 24$/);
  assert.match(reg.recentErrors[0]!.traceback, /ValueError: 5$/);
  assert.equal(lastTraceback('x\nTraceback (most recent call last):\n  File "a"\nKeyError: 1\nlater line\n'), 'Traceback (most recent call last):\n  File "a"\nKeyError: 1');
});

test('recent errors on the direct path: the traceback is looked for in the worker\'s output until a new one shows, for at most 2 s', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const wait = (ms: number): void => { for (let i = 0; i < ms / 200; i++) t.mock.timers.tick(200); };
  const reg = new StatsRegistry();
  t.after(() => reg.close());
  let output = 'Traceback (most recent call last):\nKeyError: older\n';
  const failed = (): void => {
    const ex = finished(500, 1);
    ex.servedBy = { recentOutput: () => output } as unknown as typeof ex.servedBy;
    requestDone.publish(ex);
  };
  failed();
  wait(600);
  assert.equal(reg.recentErrors[0]!.traceback, '', 'the older traceback is not taken for this error while the new one may still come');
  output += 'Traceback (most recent call last):\nValueError: late output\n';
  wait(200);
  assert.match(reg.recentErrors[0]!.traceback, /ValueError: late output$/);
  failed(); // the same text again never differs: after ten looks, what is there is taken
  wait(1800);
  assert.equal(reg.recentErrors[1]!.traceback, '');
  wait(200);
  assert.match(reg.recentErrors[1]!.traceback, /ValueError: late output$/);
});

test('the config as written, secrets masked: option names with pass/secret/key/token, and env values', () => {
  const written = { processes: '4', 'stats-redact': ['X-Api-Key'], env: ['DJANGO_SETTINGS_MODULE=site.settings', 'DB_PASSWORD=x'], 'fake-token-option': 'abc' };
  assert.deepEqual(maskedConfig(written, false), {
    processes: '4', 'stats-redact': ['X-Api-Key'], env: [`DJANGO_SETTINGS_MODULE=${MASK}`, `DB_PASSWORD=${MASK}`], 'fake-token-option': MASK,
  });
  assert.deepEqual(maskedConfig(written, true), written);
});
