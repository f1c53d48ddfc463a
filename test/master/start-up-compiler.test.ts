/**
 * V8's optimizing compiler is held while the master starts and resumed once it serves: the
 * flag's effect in V8 (a hot function stays unoptimized while held, is optimized once resumed),
 * and the order in which a real master sets it (a preload logs every setFlagsFromString).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setImmediate as turn } from 'node:timers/promises';
import { holdOptimizingCompiler, optimizingCompilerHeld, resumeOptimizingCompiler, withoutOptimizing } from '../../src/master/start-up-compiler.js';
import { APPS, REPO, debianPython, runBerth, startBerth } from '../helpers/berth.js';

const PRELOAD = join(REPO, 'dist', 'test', 'helpers', 'flag-log.js');
/** V8's %GetOptimizationStatus bit for code TurboFan compiled. */
const TURBOFANNED = 1 << 4;

function scratch(t: test.TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-start-up-compiler-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The opt flags the process set, in order. */
function optFlags(log: string): string[] {
  return readFileSync(log, 'utf8').split('\n').filter((f) => f === '--opt' || f === '--no-opt');
}

function flagLogEnv(log: string): Record<string, string> {
  return { NODE_OPTIONS: `--import=${PRELOAD}`, BERTH_TEST_FLAG_LOG: log };
}

/** A fresh hot function and a probe of its optimization status (natives syntax, left allowed in this test process: the probe compiles lazily). */
function hotFunction(): { run: (n: number) => number; status: () => number } {
  setFlagsFromString('--allow-natives-syntax');
  return runInNewContext(`
    function sum(n) { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; }
    ({ run: (n) => sum(n), status: () => %GetOptimizationStatus(sum) })`) as { run: (n: number) => number; status: () => number };
}

/** Calls the function until V8 has optimized it or the budget is spent (concurrent compilation finishes between turns). */
async function heat(f: { run: (n: number) => number; status: () => number }, turns: number): Promise<boolean> {
  for (let i = 0; i < turns; i++) {
    for (let j = 0; j < 100; j++) f.run(200);
    if ((f.status() & TURBOFANNED) !== 0) return true;
    await turn();
  }
  return false;
}

test('held, a hot function is not optimized; resumed, it is', async () => {
  const f = hotFunction();
  holdOptimizingCompiler();
  try {
    assert.equal(await heat(f, 200), false, 'TurboFan compiled while the compiler was held');
  } finally {
    resumeOptimizingCompiler();
  }
  assert.equal(await heat(f, 5000), true, 'not optimized once the compiler was resumed');
});

test('withoutOptimizing restores what was: resumed after, held still when it was held', () => {
  assert.equal(withoutOptimizing(() => optimizingCompilerHeld()), true);
  assert.equal(optimizingCompilerHeld(), false);
  holdOptimizingCompiler();
  withoutOptimizing(() => undefined);
  assert.equal(optimizingCompilerHeld(), true);
  resumeOptimizingCompiler();
});

test('a serving master holds the compiler from its first module to listening, and for a reload\'s config load', async (t) => {
  const dir = scratch(t);
  const log = join(dir, 'flags.log');
  const ini = join(dir, 'berth.ini');
  writeFileSync(ini, `[uwsgi]\nhttp = 127.0.0.1:0\nwsgi-file = ${join(APPS, 'hello.py')}\npython = ${debianPython()}\n`);
  const berth = await startBerth(['--ini', ini], { env: flagLogEnv(log) });
  t.after(() => berth.stop());
  assert.deepEqual(optFlags(log), ['--no-opt', '--opt']);
  assert.equal((await fetch(berth.url('/'))).status, 200);
  berth.proc.kill('SIGHUP');
  await berth.waitForLog(/reload done/);
  assert.deepEqual(optFlags(log), ['--no-opt', '--opt', '--no-opt', '--opt']);
  assert.equal((await fetch(berth.url('/'))).status, 200);
});

test('every other command resumes the compiler before it runs', async (t) => {
  const log = join(scratch(t), 'flags.log');
  const r = await runBerth(['--version'], { env: flagLogEnv(log) });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(optFlags(log), ['--no-opt', '--opt']);
});
