/**
 * Reloads with real workers: SIGHUP switches to a new generation with the new code while a
 * steady load sees no failure; chain reload replaces workers one at a time; a reload with a
 * broken config or an app that no longer imports leaves the running generation serving; a
 * touched file triggers a reload. Both preload (default) and lazy-apps.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth } from '../helpers/berth.js';
import { get, makeOpsSite, pidOf, steadyLoad, waitUntil } from './ops-helpers.js';

for (const mode of ['preload', 'lazy-apps'] as const) {
  test(`${mode}: SIGHUP loads the new code with no failed request under load`, async (t) => {
    const site = makeOpsSite(['processes = 2', ...(mode === 'lazy-apps' ? ['lazy-apps = true'] : [])]);
    t.after(site.remove);
    const berth = await startBerth(['--ini', site.ini]);
    t.after(() => berth.stop());
    const before = await get(berth.url('/'));
    assert.match(before.text, /^v1 pid \d+$/);
    const load = steadyLoad(berth.url('/'));
    site.setVersion('v2');
    berth.proc.kill('SIGHUP');
    await berth.waitForLog(/reload done in \d+ ms: generation 2 serves/);
    const after = await get(berth.url('/'));
    const result = await load.stop();
    assert.deepEqual(result.failed, [], 'no request failed during the reload');
    assert.ok(result.ok > 0);
    assert.match(after.text, /^v2 pid \d+$/);
    assert.notEqual(pidOf(after.text), pidOf(before.text), 'a new worker process answers');
  });
}

test('ten SIGHUPs in a row under load: every request answered 200, the last code serves', async (t) => {
  const site = makeOpsSite(['processes = 2']);
  t.after(site.remove);
  const berth = await startBerth(['--ini', site.ini]);
  t.after(() => berth.stop());
  const load = steadyLoad(berth.url('/'));
  for (let i = 2; i <= 11; i++) {
    site.setVersion(`v${i}`);
    berth.proc.kill('SIGHUP');
    await berth.waitForLog(new RegExp(`generation ${i} serves`), 30_000);
  }
  const result = await load.stop();
  assert.deepEqual(result.failed, []);
  assert.match((await get(berth.url('/'))).text, /^v11 /);
});

test('chain reload replaces the workers one at a time, each new one ready first', async (t) => {
  const site = makeOpsSite(['processes = 2', 'chain-reload = true']);
  t.after(site.remove);
  const berth = await startBerth(['--ini', site.ini]);
  t.after(() => berth.stop());
  const load = steadyLoad(berth.url('/'));
  site.setVersion('v2');
  berth.proc.kill('SIGHUP');
  await berth.waitForLog(/reload done in \d+ ms: generation 2 serves with 2 worker\(s\) \(chain\)/);
  const result = await load.stop();
  assert.deepEqual(result.failed, []);
  assert.match((await get(berth.url('/'))).text, /^v2 /);
});

test('a reload with a broken config keeps the running generation and says why', async (t) => {
  const site = makeOpsSite();
  t.after(site.remove);
  const berth = await startBerth(['--ini', site.ini]);
  t.after(() => berth.stop());
  const before = await get(berth.url('/'));
  site.writeIni(['procesess = 4']);
  berth.proc.kill('SIGHUP');
  await berth.waitForLog(/reload refused: the configuration has problems; generation 1 keeps serving:\n.*unknown option 'procesess' \(line 6 of .*site\.ini\) — did you mean 'processes'\?/);
  const after = await get(berth.url('/'));
  assert.equal(after.text, before.text, 'the same worker still answers');
});

test('a reload whose app no longer imports keeps the old generation; fixing it and reloading works', async (t) => {
  for (const lazy of [false, true]) {
    const site = makeOpsSite(lazy ? ['lazy-apps = true'] : []);
    t.after(site.remove);
    const berth = await startBerth(['--ini', site.ini]);
    t.after(() => berth.stop());
    const before = await get(berth.url('/'));
    site.breakApp();
    berth.proc.kill('SIGHUP');
    await berth.waitForLog(/reload failed: .*keeps serving/s);
    assert.match(berth.logs(), /No module named 'no_such_module_for_berth'/);
    assert.equal((await get(berth.url('/'))).text, before.text, `lazy=${lazy}: old worker still serves`);
    site.setVersion('v3');
    berth.proc.kill('SIGHUP');
    await berth.waitForLog(/reload done in \d+ ms: generation \d+ serves/);
    assert.match((await get(berth.url('/'))).text, /^v3 /);
    await berth.stop();
  }
});

test('touch-reload and touch-chain-reload fire on touch; the files may not exist at start', async (t) => {
  const site = makeOpsSite();
  t.after(site.remove);
  const full = join(site.dir, 'reload.trigger');
  const chain = join(site.dir, 'chain.trigger');
  site.writeIni([`touch-reload = ${full}`, `touch-chain-reload = ${chain}`]);
  const berth = await startBerth(['--ini', site.ini]);
  t.after(() => berth.stop());
  site.setVersion('v2');
  writeFileSync(full, '');
  await berth.waitForLog(/touch-reload \(.*reload\.trigger\): reload of generation 1 requested/);
  await berth.waitForLog(/generation 2 serves/);
  assert.match((await get(berth.url('/'))).text, /^v2 /);
  site.setVersion('v3');
  writeFileSync(chain, '');
  await berth.waitForLog(/touch-chain-reload .*chain reload of generation 2 requested/);
  await berth.waitForLog(/generation 3 serves .*\(chain\)/);
  site.setVersion('v4');
  const later = new Date(Date.now() + 5000);
  utimesSync(chain, later, later);
  await berth.waitForLog(/generation 4 serves/);
  await waitUntil(async () => /^v4 /.test((await get(berth.url('/'))).text), 'v4 answers');
});

test('py-autoreload: editing an imported module reloads', async (t) => {
  const site = makeOpsSite(['py-autoreload = 1']);
  t.after(site.remove);
  const berth = await startBerth(['--ini', site.ini]);
  t.after(() => berth.stop());
  await new Promise((r) => setTimeout(r, 1500)); // the module list reaches the master after READY
  site.setVersion('v2');
  await berth.waitForLog(/py-autoreload \(.*ops\.py changed\)/);
  await berth.waitForLog(/generation 2 serves/);
  assert.match((await get(berth.url('/'))).text, /^v2 /);
});

test('during a reload, each request-log line names the worker that really served it', async (t) => {
  const site = makeOpsSite(['processes = 1']);
  t.after(site.remove);
  const berth = await startBerth(['--ini', site.ini]);
  t.after(() => berth.stop());
  const old = pidOf((await get(berth.url('/'))).text);
  const sleeping = get(berth.url('/sleep?s=3')); // keeps the old worker (same slot) draining
  await new Promise((r) => setTimeout(r, 200));
  site.setVersion('v2');
  berth.proc.kill('SIGHUP');
  await berth.waitForLog(/generation 2 serves/);
  const fresh = pidOf((await get(berth.url('/after-switch'))).text);
  assert.notEqual(fresh, old);
  await berth.waitForLog(/GET \/after-switch =>/);
  assert.match(berth.logs(), new RegExp(`\\[pid: ${fresh}\\|worker: 1\\|req: \\d+/\\d+\\] [^\\n]* GET /after-switch =>`));
  assert.match((await sleeping).text, new RegExp(`slept in pid ${old}`));
  await berth.waitForLog(new RegExp(`\\[pid: ${old}\\|[^\\n]* GET /sleep\\?s=3 =>`));
});
