/**
 * The pieces of a reload that proves the new code, in memory: the probation's verdicts, the
 * report file `berth --reload` reads, the reload-check target, and the three options.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { Probation, type Verdict } from '../../src/master/probation.js';
import { checkTarget } from '../../src/master/reload-check.js';
import { ReloadReporter, readReport, reportPath } from '../../src/master/reload-report.js';
import { ok, problems } from '../config/results.js';
import { makeTree } from '../config/tmp-dir.js';

function probation(limit: number): { p: Probation; verdicts: Verdict[] } {
  const verdicts: Verdict[] = [];
  const p = new Probation(2, limit, (v) => verdicts.push(v));
  return { p, verdicts };
}

test('probation: the first answer under 500 proves the generation; later answers change nothing', () => {
  const { p, verdicts } = probation(3);
  p.answered(2, 502);
  p.answered(2, 404);
  p.answered(2, 500);
  p.answered(2, 500);
  p.answered(2, 500);
  assert.deepEqual(verdicts, [{ kind: 'proven', status: 404 }]);
  assert.equal(p.over, true);
});

test('probation: N answers of 5xx from the start fail it; other generations are not counted', () => {
  const { p, verdicts } = probation(3);
  p.answered(1, 500);
  p.answered(1, 200); // the previous generation finishing its requests
  p.answered(2, 500);
  p.answered(2, 503);
  assert.deepEqual(verdicts, []);
  p.answered(2, 504);
  assert.deepEqual(verdicts, [{ kind: 'failed', statuses: [500, 503, 504] }]);
});

test('probation: cut short by a new reload or a stop, given once', () => {
  const { p, verdicts } = probation(5);
  p.answered(2, 500);
  p.end('SIGHUP asked for a new reload');
  p.end('Berth is stopping');
  p.answered(2, 200);
  assert.deepEqual(verdicts, [{ kind: 'ended', why: 'SIGHUP asked for a new reload' }]);
});

test('reload report: numbered, replaced whole at each step, read back; removed at stop; junk reads as none', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pidfile = join(dir, 'site.pid');
  const warnings: string[] = [];
  const r = new ReloadReporter([pidfile, null], (m) => warnings.push(m));
  assert.equal(readReport(reportPath(pidfile)), null);
  r.begin('SIGHUP');
  assert.deepEqual(readReport(reportPath(pidfile)), { pid: process.pid, seq: 1, phase: 'running', ok: false, message: 'SIGHUP' });
  r.probation('generation 2 serves; waiting');
  r.done(true, 'reload done: generation 2 serves');
  assert.deepEqual(readReport(reportPath(pidfile)), { pid: process.pid, seq: 1, phase: 'done', ok: true, message: 'reload done: generation 2 serves' });
  r.begin('touch-reload');
  assert.equal(readReport(reportPath(pidfile))?.seq, 2);
  r.remove();
  assert.equal(existsSync(reportPath(pidfile)), false);
  writeFileSync(reportPath(pidfile), '{"pid": "x"}');
  assert.equal(readReport(reportPath(pidfile)), null);
  assert.deepEqual(warnings, []);
});

test('reload report: a directory it cannot write is said once in the log', () => {
  const warnings: string[] = [];
  const r = new ReloadReporter(['/nonexistent-dir/site.pid'], (m) => warnings.push(m));
  r.begin('SIGHUP');
  r.done(false, 'x');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /cannot write the reload report \/nonexistent-dir\/site\.pid\.reload: .*'berth --reload' cannot learn the outcome/);
});

test('reload-check target: a bare path sends Host: localhost; a URL names the Host (and port)', () => {
  assert.deepEqual(checkTarget('/health/?deep=1'), { host: 'localhost', port: 80, target: '/health/?deep=1' });
  assert.deepEqual(checkTarget('http://example.com/health/'), { host: 'example.com', port: 80, target: '/health/' });
  assert.deepEqual(checkTarget('http://example.com:8080'), { host: 'example.com:8080', port: 8080, target: '/' });
});

test('options: reload-check off, Django check on, rollback after 5 by default; a reload-check that is no path is refused with the fix', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const c = ok(loadConfig({ argv: ['--http', ':0', '-w', 'a'], env: {}, cwd: tree.dir }));
  assert.deepEqual([c.reloadCheck, c.reloadCheckDjango, c.reloadRollbackAfter], [null, true, 5]);
  const set = ok(loadConfig({ argv: ['--http', ':0', '-w', 'a', '--reload-check', '/health/', '--reload-check-django=false', '--reload-rollback-after', '0'], env: {}, cwd: tree.dir }));
  assert.deepEqual([set.reloadCheck, set.reloadCheckDjango, set.reloadRollbackAfter], ['/health/', false, 0]);
  const bad = problems(loadConfig({ argv: ['--http', ':0', '-w', 'a', '--reload-check', 'health'], env: {}, cwd: tree.dir }));
  assert.equal(bad.length, 1);
  assert.match(bad[0]!, /reload-check: 'health' is not a request path/);
  assert.match(bad[0]!, /reload-check = \/health\//);
});
