// Lazy-apps launcher with real Python: a zygote that never imports the app forks each worker,
// which imports it; requests, kill, harakiri (504 + stack in the output), MODULES, stop.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createLauncher, type Launcher } from '../../src/master/launcher.js';
import { INTERPRETER, Recorder, alive, get, groupEmpties, groupMembers, launchConfig, oneReadyWorker, spawnerFor, until } from './launcher-harness.js';

function lazy(rec: Recorder, over: Parameters<typeof launchConfig>[0] = {}): Launcher {
  return createLauncher({ config: launchConfig(over), interpreter: INTERPRETER, generation: 3, events: rec.events, log: rec.events.log, mode: 'lazy' });
}

test('lazy: a zygote without the app forks the workers, each leading its own process group; they serve and can be killed', async (t) => {
  const rec = new Recorder();
  const launcher = lazy(rec);
  const spawn = spawnerFor(t, launcher);
  assert.equal(launcher.mode, 'lazy');
  await launcher.start();
  assert.notEqual(launcher.zygoteReady, null);
  const zygote = launcher.zygotePid;
  assert.ok(groupMembers(zygote).includes(zygote), 'the zygote leads its own process group');
  const workers = [spawn(1), spawn(2)];
  await Promise.all(workers.map((w) => rec.readyOf(w)));
  for (const w of workers) {
    assert.equal(w.generation, 3);
    assert.equal(w.process.kind, 'forked');
    assert.notEqual(w.pid, zygote);
    assert.ok(groupMembers(w.pid).includes(w.pid), 'the worker leads its own process group');
  }
  const { ex, answer } = get('/hello');
  workers[0]!.send(ex);
  assert.deepEqual(await answer, { status: 200, body: 'Hello, World!' });

  const victim = workers[1]!;
  victim.kill();
  assert.deepEqual(await rec.exitOf(victim), { code: null, signal: 'SIGKILL' });
  assert.equal(victim.state, 'EXITED');
  assert.equal(alive(victim.pid), false);
});

test('lazy: harakiri answers the stuck request 504, the younger one 502, and logs the stack', async (t) => {
  const rec = new Recorder();
  const launcher = lazy(rec, { threads: 2 });
  const w = await oneReadyWorker(t, launcher, rec);
  const stuck = get('/sleep?s=30');
  w.send(stuck.ex);
  await new Promise((r) => setTimeout(r, 300)); // the app is in time.sleep by now
  const younger = get('/sleep?s=31');
  w.send(younger.ex);
  w.harakiri(100);
  assert.equal(w.state, 'RETIRING', 'no new requests are routed to it');
  assert.deepEqual(await stuck.answer, { status: 504, body: 'Gateway Timeout: the request ran longer than harakiri.' });
  assert.equal((await younger.answer).status, 502);
  assert.deepEqual(await rec.exitOf(w), { code: null, signal: 'SIGKILL' });
  assert.ok(rec.logs.some((l) => l === `error: harakiri: GET /sleep?s=30 ran longer than 0.1 s in worker 1 (pid ${w.pid}); killing the worker`), rec.logs.join('\n'));
  assert.ok(rec.logs.some((l) => /answered 504 \(harakiri\) to 1, 502 to the others/.test(l)), rec.logs.join('\n'));
  assert.match(rec.output, /harakiri: stack of thread .* running GET \/sleep\?s=30/);
  assert.match(rec.output, /time\.sleep/);
  assert.match(w.recentOutput(), /time\.sleep/, 'recentOutput keeps the stack for the arbiter');
});

test('lazy: MODULES reaches events.modules with the app\'s files (py-autoreload)', async (t) => {
  const rec = new Recorder();
  const launcher = lazy(rec, { pyAutoreloadMs: 1000 });
  const w = await oneReadyWorker(t, launcher, rec);
  await until('MODULES arrived', () => rec.modules.length > 0);
  assert.equal(rec.modules[0]!.worker, w);
  assert.ok(rec.modules[0]!.paths.some((p) => p.endsWith('/worker-apps/apps.py')), rec.modules[0]!.paths.join('\n'));
});

test('lazy: stop kills workers still running, and nothing of their groups is left', async () => {
  const rec = new Recorder();
  const launcher = lazy(rec);
  const w = launcher.spawnWorker(1);
  await rec.readyOf(w);
  const pid = w.pid;
  const zygote = launcher.zygotePid;
  await launcher.stop();
  assert.equal((await rec.exitOf(w)).signal, 'SIGKILL');
  assert.equal(alive(pid), false);
  await groupEmpties(pid, 'nothing is left in the killed worker\'s process group');
  await groupEmpties(zygote, 'nothing is left in the zygote\'s process group');
});

test('lazy: the zygote starts although the app cannot be imported; the worker fails, its last output in recentOutput', async (t) => {
  const rec = new Recorder();
  const launcher = lazy(rec, { module: 'import_error' });
  t.after(() => launcher.stop());
  await launcher.start(); // preload would reject here: the zygote imports nothing of the app
  const w = launcher.spawnWorker(1);
  const exit = await rec.exitOf(w);
  assert.equal(exit.code, 4);
  assert.equal(w.bootFailure?.kind, 'import');
  assert.match(w.recentOutput(), /Traceback|Error/);
});
