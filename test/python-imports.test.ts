/**
 * The Python runtime is stdlib-only (DESIGN.md): test/python/import_graph.py checks every module
 * under python/ statically (ast), dynamically (imported under `python3 -I -S`, no site-packages)
 * and for import cycles. A synthetic runtime with one of each mistake proves every check can fail.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(process.cwd(), 'test', 'python', 'import_graph.py');
const RUNTIME = join(process.cwd(), 'python');

interface Report {
  modules: string[];
  imports_seen: number;
  modules_loaded: number;
  static: string[];
  dynamic: string[];
  cycles: string[];
  allowed: string[];
}

function importGraph(dir: string): Promise<{ code: number | null; report: Report }> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-I', '-S', SCRIPT, dir], { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      try {
        resolve({ code, report: JSON.parse(stdout) as Report });
      } catch {
        reject(new Error(`import_graph.py gave no report (exit ${code}): ${stderr}`));
      }
    });
  });
}

test('python/ imports only the standard library and itself, and has no import cycle', async (t) => {
  const { code, report } = await importGraph(RUNTIME);
  for (const line of report.allowed) t.diagnostic(`allowed: ${line}`);
  assert.deepEqual({ static: report.static, dynamic: report.dynamic, cycles: report.cycles }, { static: [], dynamic: [], cycles: [] });
  assert.equal(code, 0);
  assert.ok(report.modules.includes('berth_worker'), `the launcher is found: ${report.modules.join(', ')}`);
  assert.ok(report.imports_seen > 20, `the imports are seen (${report.imports_seen})`);
  assert.ok(report.modules_loaded > 5, `the probe imported the runtime (${report.modules_loaded} modules loaded)`);
});

test('import_graph.py fails on a third-party import (top level or lazy), a missing own module, and a cycle', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-import-graph-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(RUNTIME, 'berth_worker.py'), join(dir, 'berth_worker.py'));
  const pkg = join(dir, 'berth_runtime');
  mkdirSync(join(pkg, 'inner'), { recursive: true });
  writeFileSync(join(pkg, '__init__.py'), '"""package"""\n');
  writeFileSync(join(pkg, 'cycle_a.py'), 'from . import cycle_b\n');
  writeFileSync(join(pkg, 'cycle_b.py'), 'from .cycle_a import __name__ as a_name\n');
  writeFileSync(join(pkg, 'web.py'), 'import os\nimport django\n');
  writeFileSync(join(pkg, 'lazy.py'), 'import json\n\ndef later():\n    import flask\n    from .missing import nothing_here\n    return flask\n');
  writeFileSync(join(pkg, 'inner', '__init__.py'), '');
  writeFileSync(join(pkg, 'inner', 'deep.py'), 'from .. import web\nfrom ...berth_worker import main\n');
  const { code, report } = await importGraph(dir);
  assert.equal(code, 1);
  assert.deepEqual(report.modules, ['berth_runtime', 'berth_runtime.cycle_a', 'berth_runtime.cycle_b', 'berth_runtime.inner', 'berth_runtime.inner.deep', 'berth_runtime.lazy', 'berth_runtime.web', 'berth_worker']);
  assert.ok(report.static.some((p) => p.startsWith('berth_runtime/web.py:2 imports django at import time')), report.static.join('\n'));
  assert.ok(report.static.some((p) => p.startsWith('berth_runtime/lazy.py:4 imports flask inside a function')), report.static.join('\n'));
  assert.ok(report.static.some((p) => p.startsWith('berth_runtime/lazy.py:5 imports berth_runtime.missing: not a module of the runtime')), report.static.join('\n'));
  assert.ok(report.static.some((p) => p.startsWith('berth_runtime/inner/deep.py:2 imports ...berth_worker: a relative import above the top-level package')), report.static.join('\n'));
  assert.ok(report.dynamic.some((p) => p.includes('importing berth_runtime.web failed') && p.includes("No module named 'django'")), report.dynamic.join('\n'));
  assert.ok(report.dynamic.some((p) => p.includes('importing berth_runtime.inner.deep failed')), report.dynamic.join('\n'));
  assert.deepEqual(report.cycles, ['berth_runtime.cycle_a -> berth_runtime.cycle_b -> berth_runtime.cycle_a']);
});
