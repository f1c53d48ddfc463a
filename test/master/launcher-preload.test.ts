// Preload launcher with real Python: the zygote imports the app once and forks workers that
// connect back with HELLO; kill, respawn, zygote death, harakiri, MODULES, Django info, stop.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { AppLoadFailure, createLauncher, type Launcher } from '../../src/master/launcher.js';
import { readableCopy } from '../helpers/readable-copy.js';
import { INTERPRETER, Recorder, alive, get, groupEmpties, launchConfig, oneReadyWorker, spawnerFor, until } from './launcher-harness.js';

function preload(rec: Recorder, over: Parameters<typeof launchConfig>[0] = {}): Launcher {
  return createLauncher({ config: launchConfig(over), interpreter: INTERPRETER, generation: 2, events: rec.events, log: rec.events.log, mode: 'preload' });
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

test('preload: forked workers serve, a killed one is reported with its signal, a respawn is quick, stop leaves nothing', async (t) => {
  const rec = new Recorder();
  const launcher = preload(rec);
  const spawn = spawnerFor(t, launcher);
  assert.equal(launcher.mode, 'preload');
  await launcher.start();
  const zygote = launcher.zygotePid;
  assert.ok(zygote > 0);
  assert.equal(launcher.zygoteReady?.pid, zygote);
  const dir = path.dirname(launcher.channelPath!);
  assert.equal(statSync(dir).mode & 0o777, 0o700, 'the channel socket lives in a private directory');

  const workers = [spawn(1), spawn(2)];
  await Promise.all(workers.map((w) => rec.readyOf(w)));
  for (const w of workers) {
    assert.equal(w.process.kind, 'forked');
    assert.equal(w.generation, 2);
    assert.equal(w.ready?.pid, w.pid);
    assert.equal(parentOf(w.pid), zygote, 'forked by the zygote');
    const { ex, answer } = get('/hello');
    w.send(ex);
    assert.deepEqual(await answer, { status: 200, body: 'Hello, World!' });
  }

  const victim = workers[1]!;
  victim.kill();
  assert.deepEqual(await rec.exitOf(victim), { code: null, signal: 'SIGKILL' });
  assert.equal(alive(victim.pid), false);

  const t0 = performance.now();
  const again = spawn(2);
  workers.push(again);
  await rec.readyOf(again);
  t.diagnostic(`respawn of a forked worker: ${(performance.now() - t0).toFixed(1)} ms from spawnWorker to READY`);
  const { ex, answer } = get('/hello');
  again.send(ex);
  assert.equal((await answer).status, 200);

  const pids = [zygote, ...workers.map((w) => w.pid)];
  for (const w of [workers[0]!, again]) w.retire();
  for (const w of [workers[0]!, again]) assert.deepEqual(await rec.exitOf(w), { code: 0, signal: null });
  await launcher.stop();
  for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} is gone`);
  await groupEmpties(zygote, 'nothing is left in the zygote\'s process group');
  assert.equal(existsSync(dir), false, 'the channel directory is removed');
});

test('preload: an app that cannot be imported rejects start with AppLoadFailure (exit 4, the traceback)', async () => {
  const rec = new Recorder();
  const launcher = preload(rec, { module: 'import_error' });
  const err = await launcher.start().then(() => null, (e: unknown) => e);
  assert.ok(err instanceof AppLoadFailure, String(err));
  assert.equal(err.exitCode, 4);
  assert.equal(err.code, 'BERTH_APP_IMPORT_FAILED');
  assert.equal(err.signal, null);
  assert.equal(err.failure?.kind, 'import');
  assert.match(err.failure?.traceback ?? '', /this_module_does_not_exist_berth/);
  assert.equal(launcher.channelPath === null || !existsSync(launcher.channelPath), true);
  await launcher.stop();
});

test('preload: a zygote killed while importing the app rejects start with AppLoadFailure (BERTH_WORKER_BOOT_FAILED, the signal)', async () => {
  const rec = new Recorder();
  const launcher = preload(rec, { module: 'dies_at_import' });
  const err = await launcher.start().then(() => null, (e: unknown) => e);
  assert.ok(err instanceof AppLoadFailure, String(err));
  assert.equal(err.code, 'BERTH_WORKER_BOOT_FAILED');
  assert.equal(err.signal, 'SIGKILL');
  assert.equal(err.exitCode, null);
  assert.match(err.message, /killed by SIGKILL before the app was ready/);
  await launcher.stop();
});

test('preload: if the zygote dies its workers are reported gone and the next spawnWorker starts a new one', async (t) => {
  const rec = new Recorder();
  const launcher = preload(rec);
  const spawn = spawnerFor(t, launcher);
  await launcher.start();
  const first = launcher.zygotePid;
  const w = spawn(1);
  await rec.readyOf(w);
  process.kill(first, 'SIGKILL');
  assert.equal((await rec.exitOf(w)).signal, 'SIGKILL');
  assert.equal(alive(w.pid), false, 'the worker died with its zygote');
  assert.ok(rec.logs.some((l) => l.startsWith(`error: the zygote (pid ${first}) died (killed by SIGKILL)`)), rec.logs.join('\n'));

  const w2 = spawn(1);
  await rec.readyOf(w2);
  assert.notEqual(launcher.zygotePid, first);
  assert.equal(parentOf(w2.pid), launcher.zygotePid);
  const { ex, answer } = get('/hello');
  w2.send(ex);
  assert.equal((await answer).status, 200);
});

test('preload: harakiri answers 504, kills the forked worker, and its stack reaches the log through the zygote\'s pipes', async (t) => {
  const rec = new Recorder();
  const launcher = preload(rec, { threads: 1 });
  const w = await oneReadyWorker(t, launcher, rec);
  const stuck = get('/sleep?s=30');
  w.send(stuck.ex);
  await new Promise((r) => setTimeout(r, 300));
  w.harakiri(200);
  assert.equal((await stuck.answer).status, 504);
  assert.deepEqual(await rec.exitOf(w), { code: null, signal: 'SIGKILL' });
  await rec.outputMatching(/time\.sleep/);
  assert.match(rec.output, new RegExp(`berth worker ${w.pid}: harakiri: stack of thread .* running GET /sleep\\?s=30`));
  assert.match(w.recentOutput(), /time\.sleep/);
});

test('preload: the zygote\'s MODULES reach events.modules with no worker', async (t) => {
  const rec = new Recorder();
  const launcher = preload(rec, { pyAutoreloadMs: 1000 });
  t.after(() => launcher.stop());
  await launcher.start();
  await until('MODULES arrived', () => rec.modules.length > 0);
  assert.equal(rec.modules[0]!.worker, null);
  assert.ok(rec.modules[0]!.paths.some((p) => p.endsWith('/worker-apps/apps.py')), rec.modules[0]!.paths.join('\n'));
});

test('preload: a forked worker\'s READY carries the Django static settings the zygote read', async (t) => {
  const rec = new Recorder();
  const djsite = path.join(process.cwd(), 'test', 'fixtures', 'apps', 'djsite');
  const launcher = preload(rec, { module: 'djsite.wsgi', chdir: djsite, staticFromDjango: true, threads: 1 });
  const spawn = spawnerFor(t, launcher);
  await launcher.start();
  const django = launcher.zygoteReady?.django;
  assert.ok(django !== undefined && !('error' in django), JSON.stringify(django));
  const w = spawn(1);
  await rec.readyOf(w);
  assert.deepEqual(w.ready?.django, django);
});

test('preload: with uid/gid the channel directory is handed to them, and the unprivileged workers connect', async (t) => {
  assert.equal(process.getuid?.(), 0, 'needs root (the test suite runs as root: scripts/test.sh installs packages with apt)');
  const apps = readableCopy(['test/fixtures/worker-apps']); // the workers import it as nobody
  t.after(apps.remove);
  const rec = new Recorder();
  const launcher = preload(rec, { uid: 'nobody', gid: '65534', threads: 1, chdir: apps.path('test/fixtures/worker-apps') });
  const spawn = spawnerFor(t, launcher);
  await launcher.start();
  const dir = statSync(path.dirname(launcher.channelPath!));
  assert.deepEqual([dir.uid, dir.gid, dir.mode & 0o777], [65534, 65534, 0o710]);
  const w = spawn(1);
  await rec.readyOf(w);
  const status = readFileSync(`/proc/${w.pid}/status`, 'utf8');
  assert.match(status, /^Uid:\s+65534\s/m);
  const { ex, answer } = get('/hello');
  w.send(ex);
  assert.equal((await answer).status, 200);
});
