/**
 * A graceful stop keeps its word (issue 12): with one request stuck in the app, the stop log
 * states one bound (reload-mercy) once, the stuck worker is killed when it runs out, and when
 * `berth --stop` returns the master and the worker are gone.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../src/master/proc.js';
import { debianPython, runBerth, startBerth } from '../helpers/berth.js';

const STUCK_APP = [
  'import sys, time',
  'def application(environ, start_response):',
  "    if environ['PATH_INFO'] == '/stuck':",
  "        sys.stderr.write('stuck request started\\n')",
  '        sys.stderr.flush()',
  '        time.sleep(600)',
  "    start_response('200 OK', [('Content-Type', 'text/plain')])",
  "    return [b'ok']",
  '',
].join('\n');

// http-direct = true: the stuck request runs in a worker that accepted it itself; the master,
// which never routed it, still counts it (the workers report at the stop).
for (const httpDirect of [false, true]) for (const mode of ['preload', 'lazy-apps'] as const) {
  test(`${mode}, http-direct = ${httpDirect}: a stop with a stuck request says "waiting up to 1 s for 1 request(s)", kills the worker after it, and is over when berth --stop returns`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-stop-bound-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'stuck_app.py'), STUCK_APP);
    const pidfile = join(dir, 'site.pid');
    const berth = await startBerth(['--http', '127.0.0.1:0', '--chdir', dir, '--module', 'stuck_app', '--python', debianPython(), '--pidfile', pidfile,
      '--reload-mercy', '1', '--worker-reload-mercy', '30', `--http-direct=${httpDirect}`, ...(mode === 'lazy-apps' ? ['--lazy-apps'] : [])]);
    t.after(() => berth.stop('SIGKILL'));
    const stuck = fetch(berth.url('/stuck')).then((r) => r.status, () => 'cut');
    await berth.waitForLog(/stuck request started/);
    const r = await runBerth(['--stop', pidfile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^stopped pid ${berth.proc.pid}$`, 'm'));
    const log = berth.logs();
    assert.equal(log.match(/stopping gracefully: waiting up to/g)?.length, 1, log);
    assert.match(log, /SIGTERM: stopping gracefully: waiting up to 1 s for 1 request\(s\) \(reload-mercy\), then killing the workers still running/);
    const killed = /stopping: 1 request\(s\) still running after 1 s \(reload-mercy\); killing worker 1 \(pid (\d+)\)/.exec(log);
    assert.ok(killed !== null, log);
    assert.doesNotMatch(log, /worker-reload-mercy/);
    assert.ok(!isAlive(berth.proc.pid!), 'the master is gone when --stop returns');
    assert.ok(!isAlive(Number(killed[1])), 'the stuck worker is gone when --stop returns');
    assert.notEqual(await stuck, 200);
  });
}
