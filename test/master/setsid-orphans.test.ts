/**
 * Preload (the default) and lazy-apps: no process the app started outlives a master SIGKILL,
 * not even one that left the worker's process group (`setsid`) or was double-forked so its
 * parent is gone. In both modes the workers are forked by a zygote (lazy-apps: one that never
 * imports the app), which is their subreaper and, once the master is gone, kills its whole
 * subtree before it exits.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { startBerth } from '../helpers/berth.js';
import { alive, get, makeOpsSite, waitUntil } from './ops-helpers.js';

for (const mode of ['preload', 'lazy-apps'] as const) {
  test(`${mode}: children the app started with setsid, or double-forked, die with a SIGKILLed master`, async (t) => {
    const site = makeOpsSite(['processes = 2', ...(mode === 'lazy-apps' ? ['lazy-apps = true'] : [])]);
    t.after(site.remove);
    const berth = await startBerth(['--ini', site.ini]);
    t.after(() => berth.stop('SIGKILL'));
    const escapees: number[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await get(berth.url('/setsid'));
      assert.equal(answer.status, 200);
      escapees.push(...(/escaped ([\d ]+) from/.exec(answer.text)?.[1] ?? '').split(' ').map(Number));
    }
    t.after(() => {
      for (const pid of escapees) if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    assert.equal(escapees.length, 6);
    assert.ok(escapees.every(alive), 'the escapees run');
    await berth.stop('SIGKILL');
    try {
      await waitUntil(() => escapees.every((pid) => !alive(pid)), 'every escapee is gone', 5_000);
    } catch (e) {
      assert.fail(`${(e as Error).message}; still alive: ${escapees.filter(alive).join(', ')} of ${escapees.join(', ')}`);
    }
  });
}

test('lazy-apps: what a worker started in its process group dies with that worker, not only with the master', async (t) => {
  const site = makeOpsSite(['processes = 1', 'lazy-apps = true']);
  t.after(site.remove);
  const berth = await startBerth(['--ini', site.ini]);
  t.after(() => berth.stop('SIGKILL'));
  const spawned = await get(berth.url('/spawn'));
  const child = Number(/started (\d+)/.exec(spawned.text)?.[1]);
  t.after(() => {
    if (alive(child)) process.kill(child, 'SIGKILL');
  });
  assert.ok(child > 0 && alive(child), spawned.text);
  await get(berth.url('/exit')).catch(() => undefined); // the worker crashes
  await waitUntil(() => !alive(child), "the crashed worker's child is gone", 5_000);
  // The crashed worker took the connections it kept idle (http-direct) with it: a client's
  // pooled one may be reset, as any server may close an idle connection; the next one is served.
  await waitUntil(async () => (await get(berth.url('/')).catch(() => null))?.status === 200, 'a new worker serves');
});
