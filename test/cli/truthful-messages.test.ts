/**
 * Messages that tell the truth, with the real CLI: a refused second start leaves the running
 * instance's log alone; a worker's print() is one log line; `berth --stop` says "stopped" only
 * once the pid is gone; a uwsgi socket other hosts can reach is explained at start-up and by
 * `berth check`; an edit to the app right after its import is seen by py-autoreload.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, BERTH_BIN, debianPython, runBerth, startBerth } from '../helpers/berth.js';
import { pidExists } from '../../src/master/proc.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-truth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const hello = (extra: string[]): string[] => ['--chdir', APPS, '--module', 'hello', '--python', debianPython(), ...extra];

test('a second start refused by the pidfile writes nothing into the running instance\'s log; refused by its port, it does not say "stopped"', async (t) => {
  const dir = tmp(t);
  const log = join(dir, 'site.log');
  const pidfile = join(dir, 'site.pid');
  const berth = await startBerth(hello(['--http', '127.0.0.1:0', '--logto', log, '--pidfile', pidfile]), { logFile: log });
  t.after(() => berth.stop());
  const before = readFileSync(log, 'utf8');

  const samePidfile = await runBerth(hello(['--http', '127.0.0.1:0', '--logto', log, '--pidfile', pidfile]));
  assert.equal(samePidfile.code, 1);
  assert.match(samePidfile.stderr, new RegExp(`Berth is already running as pid ${berth.proc.pid}`));
  assert.match(samePidfile.stderr, /nothing was started/);
  assert.equal(readFileSync(log, 'utf8'), before, 'the running instance\'s log is untouched');

  const samePort = await runBerth(hello(['--http', `127.0.0.1:${berth.port}`, '--logto', log]));
  assert.equal(samePort.code, 1);
  const added = readFileSync(log, 'utf8').slice(before.length);
  assert.match(added, new RegExp(`address 127\\.0\\.0\\.1:${berth.port} is already in use by pid ${berth.proc.pid}`));
  assert.match(added, /\[berth\] pid \d+ did not start \(exit code 1\)/);
  assert.doesNotMatch(added, /stopped \(exit code/, 'the instance that owns the log did not stop');
  assert.equal((await fetch(berth.url('/'))).status, 200);
});

test("an app's print() written in two pieces is one line in the log", async (t) => {
  const berth = await startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'partial_print', '--python', debianPython()]);
  t.after(() => berth.stop());
  await berth.waitForLog(/second half/);
  const lines = berth.logs().split('\n').filter((l) => l.includes('half'));
  assert.deepEqual(lines, ['partial-print: first half and second half']);
});

test('berth --stop says "stopped" only once the pid is gone; a master exited but not reaped is described as such', async (t) => {
  const dir = tmp(t);
  const pidfile = join(dir, 'site.pid');
  // `exec sleep` leaves the master a child of a process that never reaps it: a zombie after exit.
  const args = [BERTH_BIN, ...hello(['--http', '127.0.0.1:0', '--pidfile', pidfile])].map((a) => `'${a}'`).join(' ');
  const parent = spawn('/bin/sh', ['-c', `'${process.execPath}' ${args} 2>/dev/null & exec sleep 120`], { stdio: 'ignore' });
  t.after(() => void parent.kill('SIGKILL'));
  const end = Date.now() + 20_000;
  while (!existsSync(pidfile) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(pidfile), 'Berth wrote its pidfile');
  const pid = Number(readFileSync(pidfile, 'utf8').trim());
  const stopped = await runBerth(['--stop', pidfile]);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(pidExists(pid), 'the test set-up: the master is a zombie until its parent reaps it');
  assert.doesNotMatch(stopped.stdout, new RegExp(`stopped pid ${pid}\\b`));
  assert.match(stopped.stdout, new RegExp(`pid ${pid} has exited and serves nothing, but its parent \\(pid ${parent.pid}\\) has not collected it yet`));
});

test('a uwsgi socket other hosts can reach: a start-up warning, and a berth check line with the uwsgi-allow line to add', async () => {
  // 192.0.2.1 (TEST-NET-1) is not on this machine: the start is refused at binding, after the warning.
  const started = await runBerth(hello(['--socket', '192.0.2.1:8001']));
  assert.equal(started.code, 1);
  assert.match(started.stderr, /\[berth\] WARNING: socket 192\.0\.2\.1:8001 can be reached from other hosts, but Berth takes uwsgi packets on it only from loopback peers .* — add uwsgi-allow = 192\.0\.2\.0\/24 under \[uwsgi\]/);
  const checked = await runBerth(['check', ...hello(['--socket', '0.0.0.0:8001'])]);
  assert.equal(checked.code, 0, checked.stderr);
  assert.match(checked.stdout, /^uwsgi peers: socket 0\.0\.0\.0:8001 can be reached from other hosts.*refuses every other peer.* for example uwsgi-allow = 10\.0\.0\.0\/24/m);
  const allowed = await runBerth(['check', ...hello(['--socket', '0.0.0.0:8001', '--uwsgi-allow', '10.0.0.0/8'])]);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.doesNotMatch(allowed.stdout + allowed.stderr, /uwsgi peers:|can be reached from other hosts/);
});

test('py-autoreload sees an edit made right after the first import (before its first report)', async (t) => {
  const dir = tmp(t);
  copyFileSync(join(APPS, 'edits_itself.py'), join(dir, 'edits_itself.py'));
  const marker = join(dir, 'edited.marker');
  const berth = await startBerth(['--http', '127.0.0.1:0', '--chdir', dir, '--module', 'edits_itself', '--python', debianPython(), '--py-autoreload', '1'], { env: { BERTH_TEST_MARKER: marker } });
  t.after(() => berth.stop());
  assert.ok(statSync(marker).isFile(), 'the first import edited its source');
  await berth.waitForLog(/py-autoreload \(.*edits_itself\.py changed\)/);
  await berth.waitForLog(/reload (done|complete)|generation 2/i);
  const end = Date.now() + 20_000;
  let body = '';
  while (Date.now() < end && body !== 'after-reload') body = await (await fetch(berth.url('/'))).text();
  assert.equal(body, 'after-reload');
});
