// resolveInterpreter: home's bin/python3, else `python`, else python3 on PATH; each miss is BERTH_PYTHON_NOT_FOUND naming the fix.
import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { resolveInterpreter } from '../../src/master/interpreter.js';

/** resolveInterpreter reads only `home` and `python`. */
function config(over: { home?: string | null; python?: string | null }): Config {
  return { home: null, python: null, ...over } as unknown as Config;
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-interpreter-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('home with bin/python3 is chosen; home without one is BERTH_PYTHON_NOT_FOUND naming venv', (t) => {
  const home = tempDir(t);
  assert.throws(() => resolveInterpreter(config({ home }), '/usr/bin'), (e: Error & { code?: string }) => e.code === 'BERTH_PYTHON_NOT_FOUND' && e.message.includes(`option 'home': ${home} has no bin/python3`) && e.message.includes('python3 -m venv'));
  mkdirSync(join(home, 'bin'));
  writeFileSync(join(home, 'bin', 'python3'), '#!/bin/sh\n');
  chmodSync(join(home, 'bin', 'python3'), 0o755);
  assert.deepEqual(resolveInterpreter(config({ home }), ''), { path: join(home, 'bin', 'python3'), chosenBy: `home = ${home}` });
});

test('python naming a missing or non-executable file is BERTH_PYTHON_NOT_FOUND saying which', (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'python3.99');
  assert.throws(() => resolveInterpreter(config({ python: missing }), '/usr/bin'), { code: 'BERTH_PYTHON_NOT_FOUND', message: `option 'python': ${missing} was not found — give the full path of an interpreter, e.g. 'python = /usr/bin/python3'` });
  const plain = join(dir, 'python3');
  writeFileSync(plain, '');
  chmodSync(plain, 0o644);
  assert.throws(() => resolveInterpreter(config({ python: plain }), '/usr/bin'), { code: 'BERTH_PYTHON_NOT_FOUND', message: /is not an executable file/ });
  assert.deepEqual(resolveInterpreter(config({ python: '/usr/bin/python3' }), ''), { path: '/usr/bin/python3', chosenBy: 'python = /usr/bin/python3' });
});

test('no python3 on PATH is BERTH_PYTHON_NOT_FOUND; one on PATH is chosen', (t) => {
  const dir = tempDir(t);
  assert.throws(() => resolveInterpreter(config({}), dir), { code: 'BERTH_PYTHON_NOT_FOUND', message: /no 'python3' on PATH/ });
  assert.throws(() => resolveInterpreter(config({}), undefined), { code: 'BERTH_PYTHON_NOT_FOUND' });
  assert.deepEqual(resolveInterpreter(config({}), `${dir}:/usr/bin`), { path: '/usr/bin/python3', chosenBy: 'python3 on PATH' });
});
