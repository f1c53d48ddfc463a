/**
 * The static and proxy stages are imported only for a configuration that routes to them:
 * which modules a real master loaded (a loader hook preloaded with --import logs each one),
 * and that a stage a reload adds is imported then and serves.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, REPO, debianPython, startBerth } from '../helpers/berth.js';

const PRELOAD = join(REPO, 'dist', 'test', 'helpers', 'module-log.js');

function scratch(t: test.TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-stage-modules-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The dist/src areas (static, proxy, ...) of the modules logged, each once. */
function loadedAreas(log: string): Set<string> {
  const areas = new Set<string>();
  for (const url of readFileSync(log, 'utf8').split('\n')) {
    const m = /\/dist\/src\/([^/]+)\/[^/]/.exec(url);
    if (m !== null) areas.add(m[1]!);
  }
  return areas;
}

function moduleLogEnv(log: string): Record<string, string> {
  return { NODE_OPTIONS: `--import=${PRELOAD}`, BERTH_TEST_MODULE_LOG: log };
}

test('a master that serves only an app imports neither the static nor the proxy stage', async (t) => {
  const dir = scratch(t);
  const log = join(dir, 'modules.log');
  const berth = await startBerth(['--http', '127.0.0.1:0', '--wsgi-file', join(APPS, 'hello.py'), '--python', debianPython()], { env: moduleLogEnv(log) });
  t.after(() => berth.stop());
  assert.equal((await fetch(berth.url('/'))).status, 200);
  const areas = loadedAreas(log);
  assert.ok(areas.has('router') && areas.has('master'), `the log saw the master's modules: ${[...areas].join(', ')}`);
  assert.ok(!areas.has('static'), 'static/ loaded without a static option');
  assert.ok(!areas.has('proxy'), 'proxy/ loaded without proxy-pass');
});

test('static-map and proxy-pass import their stages at start, and both serve', async (t) => {
  const dir = scratch(t);
  const log = join(dir, 'modules.log');
  writeFileSync(join(dir, 'f.txt'), 'static file');
  const backend = await startBerth(['--http', '127.0.0.1:0', '--wsgi-file', join(APPS, 'hello.py'), '--python', debianPython()]);
  t.after(() => backend.stop());
  const ini = join(dir, 'berth.ini');
  writeFileSync(ini, `[uwsgi]\nhttp = 127.0.0.1:0\nwsgi-file = ${join(APPS, 'hello.py')}\npython = ${debianPython()}\nstatic-map = /s=${dir}\nproxy-pass = /up=backend\n\n[upstream:backend]\nserver = http://127.0.0.1:${backend.port}\n`);
  const berth = await startBerth(['--ini', ini], { env: moduleLogEnv(log) });
  t.after(() => berth.stop());
  assert.equal(await (await fetch(berth.url('/s/f.txt'))).text(), 'static file');
  assert.equal((await fetch(berth.url('/up/'))).status, 200);
  const areas = loadedAreas(log);
  assert.ok(areas.has('static') && areas.has('proxy'), [...areas].join(', '));
});

test('a reload that adds a static-map imports the static stage then, and serves from it', async (t) => {
  const dir = scratch(t);
  const log = join(dir, 'modules.log');
  writeFileSync(join(dir, 'f.txt'), 'added by the reload');
  const ini = join(dir, 'berth.ini');
  const base = `[uwsgi]\nhttp = 127.0.0.1:0\nwsgi-file = ${join(APPS, 'hello.py')}\npython = ${debianPython()}\n`;
  writeFileSync(ini, base);
  const berth = await startBerth(['--ini', ini], { env: moduleLogEnv(log) });
  t.after(() => berth.stop());
  assert.ok(!loadedAreas(log).has('static'), 'static/ loaded before any static option');
  writeFileSync(ini, `${base}static-map = /s=${dir}\n`);
  berth.proc.kill('SIGHUP');
  await berth.waitForLog(/reload done/);
  assert.equal(await (await fetch(berth.url('/s/f.txt'))).text(), 'added by the reload');
  assert.ok(loadedAreas(log).has('static'));
});
