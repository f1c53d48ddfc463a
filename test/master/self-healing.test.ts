/**
 * Self-healing and signals with real workers: harakiri (504 + the stuck stack in the log),
 * max-requests and reload-on-rss recycling without a failed request, SIGTTIN/SIGTTOU, SIGUSR1
 * log reopen after an external rename, a crash loop that becomes FATAL, and no process left
 * behind — grandchildren included — after SIGTERM, SIGINT or SIGKILL of the master.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth } from '../helpers/berth.js';
import { alive, descendants, get, makeOpsSite, pidOf, pythonDescendants, steadyLoad, waitUntil } from './ops-helpers.js';

for (const mode of ['preload', 'lazy-apps'] as const) {
  test(`${mode}: harakiri answers 504, logs the request and its Python stack, and replaces the worker`, async (t) => {
    const site = makeOpsSite(['harakiri = 1', ...(mode === 'lazy-apps' ? ['lazy-apps = true'] : [])]);
    t.after(site.remove);
    const berth = await startBerth(['--ini', site.ini]);
    t.after(() => berth.stop());
    const before = pidOf((await get(berth.url('/'))).text);
    const stuck = await get(berth.url('/sleep?s=30'));
    assert.equal(stuck.status, 504);
    await berth.waitForLog(/harakiri: GET \/sleep\?s=30 ran longer than 1 s in worker 1 \(pid \d+\)/);
    await berth.waitForLog(/harakiri: stack of thread .* running GET \/sleep\?s=30[\s\S]*in application[\s\S]*time\.sleep/);
    await waitUntil(async () => (await get(berth.url('/'))).status === 200, 'a new worker serves');
    assert.notEqual(pidOf((await get(berth.url('/'))).text), before);
    assert.ok(!alive(before), 'the stuck worker is gone');
  });
}

test('max-requests recycles workers with no failed request, spread by max-requests-delta', async (t) => {
  const site = makeOpsSite(['processes = 2', 'max-requests = 20', 'max-requests-delta = 10', 'min-worker-lifetime = 0']);
  t.after(site.remove);
  const berth = await startBerth(['--ini', site.ini]);
  t.after(() => berth.stop());
  const seen = new Set<number>();
  const load = steadyLoad(berth.url('/'), 2);
  await waitUntil(async () => {
    seen.add(pidOf((await get(berth.url('/'))).text));
    return (berth.logs().match(/recycling worker \d \(pid \d+\): served \d+ requests \(max-requests/g) ?? []).length >= 3;
  }, 'three recycles', 30_000);
  const result = await load.stop();
  assert.deepEqual(result.failed, []);
  // The load's kept connections and the probe's may sit on different workers (the shares split
  // them), so the pids that answered are gathered from both.
  for (const pid of load.pids) seen.add(pid);
  assert.ok(seen.size >= 3, `several worker pids answered: ${[...seen].join(', ')}`);
});

test('reload-on-rss replaces a worker whose memory grew past the limit, after its request', async (t) => {
  const site = makeOpsSite(['reload-on-rss = 80', 'min-worker-lifetime = 0']);
  t.after(site.remove);
  const berth = await startBerth(['--ini', site.ini]);
  t.after(() => berth.stop());
  const leak = await get(berth.url('/leak?mb=120'));
  assert.equal(leak.status, 200);
  const leaky = pidOf(leak.text);
  await berth.waitForLog(/recycling worker 1 \(pid \d+\): RSS \d+(\.\d+)? MB over reload-on-rss = 80(\.0)? MB/);
  await waitUntil(() => !alive(leaky), 'the leaking worker exited');
  const next = await get(berth.url('/'));
  assert.equal(next.status, 200);
  assert.notEqual(pidOf(next.text), leaky);
});

test('SIGTTIN adds a worker and SIGTTOU removes one (never the last)', async (t) => {
  const site = makeOpsSite(['processes = 1']);
  t.after(site.remove);
  const berth = await startBerth(['--ini', site.ini]);
  t.after(() => berth.stop());
  const workers = (): number => pythonDescendants(berth.proc.pid!).length;
  const start = workers();
  berth.proc.kill('SIGTTIN');
  await berth.waitForLog(/SIGTTIN: adding worker 2/);
  await waitUntil(() => workers() === start + 1, 'one more process');
  berth.proc.kill('SIGTTOU');
  await berth.waitForLog(/SIGTTOU: retiring worker 2/);
  await waitUntil(() => workers() === start, 'back to the start count');
  berth.proc.kill('SIGTTOU');
  await berth.waitForLog(/SIGTTOU: only one worker left; keeping it/);
  assert.equal((await get(berth.url('/'))).status, 200);
});

test('SIGUSR1 reopens the log after logrotate renamed it', async (t) => {
  const site = makeOpsSite();
  t.after(site.remove);
  const log = join(site.dir, 'berth.log');
  site.writeIni([`logto = ${log}`]);
  const berth = await startBerth(['--ini', site.ini], { logFile: log });
  t.after(() => berth.stop());
  await get(berth.url('/before-rotation'));
  await berth.waitForLog(/GET \/before-rotation/);
  renameSync(log, `${log}.1`);
  berth.proc.kill('SIGUSR1');
  await waitUntil(() => {
    try {
      return /SIGUSR1: log file reopened/.test(readFileSync(log, 'utf8'));
    } catch {
      return false;
    }
  }, 'the new log file has the reopen line');
  await get(berth.url('/after-rotation'));
  await waitUntil(() => /GET \/after-rotation/.test(readFileSync(log, 'utf8')), 'the request is in the new file');
  assert.doesNotMatch(readFileSync(`${log}.1`, 'utf8'), /after-rotation/);
});

for (const signal of ['SIGTERM', 'SIGINT', 'SIGKILL'] as const) {
  for (const mode of ['preload', 'lazy-apps'] as const) {
    test(`${mode}: no process outlives the master after ${signal}, grandchildren included`, async (t) => {
      const site = makeOpsSite(['processes = 2', ...(mode === 'lazy-apps' ? ['lazy-apps = true'] : [])]);
      t.after(site.remove);
      const berth = await startBerth(['--ini', site.ini]);
      t.after(() => berth.stop('SIGKILL'));
      const spawned = await get(berth.url('/spawn'));
      const grandchild = Number(/started (\d+)/.exec(spawned.text)![1]);
      const tree = descendants(berth.proc.pid!);
      assert.ok(tree.includes(grandchild), 'the sleep runs below the master');
      assert.ok(tree.length >= 3, `the tree: ${tree.join(', ')}`);
      const exit = await berth.stop(signal);
      if (signal !== 'SIGKILL') assert.equal(exit.code, 0);
      await waitUntil(() => tree.every((p) => !alive(p)), `every process of ${tree.join(', ')} is gone`, 10_000);
    });
  }
}

for (const httpDirect of [false, true]) test(`http-direct = ${httpDirect}: a worker that keeps crashing backs off, becomes FATAL with its last output, a request then gets 503, and a fixed reload recovers`, async (t) => {
  // With http-direct the workers accept on the listener: with every one FATAL the master
  // accepts there itself until a reload brings workers back, so the answer is its 503 too.
  const site = makeOpsSite(['lazy-apps = true', `http-direct = ${httpDirect}`]);
  t.after(site.remove);
  const source = readFileSync(join(site.dir, 'ops.py'), 'utf8');
  // Imports fine, then dies right after READY: a crash loop, not an import failure.
  writeFileSync(join(site.dir, 'ops.py'), source + "\nimport threading\nprint('ops: about to crash', flush=True)\nthreading.Timer(0.05, lambda: os._exit(7)).start()\n");
  const berth = await startBerth(['--ini', site.ini]);
  t.after(() => berth.stop());
  await berth.waitForLog(/worker 1 is FATAL: .*; not respawning it/, 60_000);
  assert.match(berth.logs(), /starting a new one in \d+ ms/, 'it backed off first');
  assert.match(berth.logs(), /ops: about to crash/);
  assert.match(berth.logs(), /exit code 7/);
  // Bounded so that, should nobody accept, the test fails saying so instead of waiting forever.
  const down = await fetch(berth.url('/'), { signal: AbortSignal.timeout(30_000) }).catch((err: Error) => assert.fail(`no answer while every worker is FATAL: ${err.message}`));
  assert.equal(down.status, 503);
  site.setVersion('v2');
  berth.proc.kill('SIGHUP');
  await berth.waitForLog(/generation 2 serves/);
  assert.match((await get(berth.url('/'))).text, /^v2 /);
});
