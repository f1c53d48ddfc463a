/**
 * daemonize / daemonize2: the command returns once the daemon is listening (or ready), the
 * daemon serves and logs to the file, `berth --stop` ends it; a daemon that cannot start
 * reports why on the terminal and exits 1.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../src/master/proc.js';
import { APPS, debianPython, runBerth } from '../helpers/berth.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-daemon-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Whatever happens, no daemon started by a test outlives it. */
function reapDaemon(t: { after: (fn: () => void) => void }, pid: () => number | null): void {
  t.after(() => {
    const p = pid();
    if (p !== null && isAlive(p)) process.kill(p, 'SIGKILL');
  });
}

async function waitUntil(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const base = (module: string, dir: string): string[] => ['--http', '127.0.0.1:0', '--chdir', dir, '--module', module, '--python', debianPython()];

for (const option of ['--daemonize', '--daemonize2']) {
  test(`${option}: returns at once, the daemon serves and logs to the file, --stop ends it`, async (t) => {
    const dir = tmp(t);
    const log = join(dir, 'site.log');
    const pidfile = join(dir, 'site.pid');
    let daemonPid: number | null = null;
    reapDaemon(t, () => daemonPid);
    const r = await runBerth([...base('hello', APPS), option, log, '--pidfile', pidfile, '--vacuum']);
    const m = /^berth: started as pid (\d+) \((?:listening on 127\.0\.0\.1:\d+|app ready: hello)\), logging to (.*)$/m.exec(r.stdout);
    assert.ok(m !== null, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    daemonPid = Number(m[1]);
    assert.equal(r.code, 0);
    assert.equal(m[2], log);
    assert.ok(isAlive(daemonPid), 'the daemon outlives the command');
    assert.equal(readFileSync(pidfile, 'utf8'), `${daemonPid}\n`, 'the pidfile holds the daemon, not the command that started it');
    await waitUntil(() => /app ready/.test(readFileSync(log, 'utf8')), 'the app is ready');
    const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(log, 'utf8'))![1]);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), 'Hello, World!');
    await waitUntil(() => /"GET \/ HTTP\/1\.1"|GET \/ /.test(readFileSync(log, 'utf8')), 'the request is logged');
    const stop = await runBerth(['--stop', pidfile]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`stopped pid ${daemonPid}`));
    assert.ok(!isAlive(daemonPid));
    assert.equal(existsSync(pidfile), false, 'vacuum removed the pidfile');
    assert.match(readFileSync(log, 'utf8'), /SIGTERM: stopping gracefully[\s\S]*stopped \(exit code 0\)/);
  });
}

for (const option of ['--daemonize', '--daemonize2']) {
  test(`${option} with an app that cannot be imported: the error is shown on the terminal, exit 1, no daemon left`, async (t) => {
    const dir = tmp(t);
    writeFileSync(join(dir, 'broken.py'), 'import no_such_module_here\n');
    const log = join(dir, 'site.log');
    const r = await runBerth([...base('broken', dir), option, log]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /no_such_module_here/);
    assert.match(r.stderr, /the daemon \(pid (\d+)\) did not start \(exit code 1\); the lines above are from its log/);
    const pid = Number(/the daemon \(pid (\d+)\)/.exec(r.stderr)![1]);
    assert.ok(!isAlive(pid));
    assert.match(readFileSync(log, 'utf8'), /no_such_module_here/);
  });
}

test('--daemonize on an address in use: the owner is named on the terminal, exit 1', async (t) => {
  const dir = tmp(t);
  const holder = createServer();
  t.after(() => holder.close());
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const port = (holder.address() as { port: number }).port;
  const log = join(dir, 'site.log');
  const r = await runBerth(['--http', `127.0.0.1:${port}`, '--chdir', APPS, '--module', 'hello', '--python', debianPython(), '--daemonize', log]);
  assert.equal(r.code, 1, r.stdout);
  assert.ok(r.stderr.includes(`address 127.0.0.1:${port} is already in use by pid ${process.pid}`), r.stderr);
  assert.match(r.stderr, /did not start \(exit code 1\)/);
});

test('--daemonize into a directory that does not exist: refused in the foreground, nothing started', async (t) => {
  const dir = tmp(t);
  const r = await runBerth([...base('hello', APPS), '--daemonize', join(dir, 'no', 'site.log')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /daemonize .*site\.log/);
  assert.match(r.stderr, /does not exist|cannot open/);
  assert.doesNotMatch(r.stdout, /started/);
});

test('--daemonize into /proc: refused in the foreground naming the option, the ini line and the real cause', async (t) => {
  const dir = tmp(t);
  const ini = join(dir, 'site.ini');
  writeFileSync(ini, `[uwsgi]\nhttp = 127.0.0.1:0\nchdir = ${APPS}\nmodule = hello\ndaemonize = /proc/berth-test.log\npython = ${debianPython()}\n`);
  const r = await runBerth(['--ini', ini]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`option 'daemonize' \\(line 5 of ${ini}\\): cannot open /proc/berth-test\\.log: /proc is on the virtual filesystem proc, where files cannot be created — choose a path`));
  assert.doesNotMatch(r.stdout, /started/);
});
