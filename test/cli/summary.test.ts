/**
 * The one-screen summary from a real `berth check` and in a real start-up log, and the two
 * listener displays it fixed: `berth check` printed each `socket` as [object Object], and
 * `daemonize` with only a `socket` (the workers accept on it) printed "listening on ),".
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../src/master/proc.js';
import { APPS, debianPython, runBerth, startBerth } from '../helpers/berth.js';
import { until } from '../helpers/seeds.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-summary-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('berth check: sockets as addresses, then the summary with the interpreter version', async (t) => {
  const dir = tmp(t);
  const r = await runBerth(['check', '--http', '127.0.0.1:8000', '--socket', '127.0.0.1:3031', '--socket', join(dir, 'app.sock'), '--chdir', APPS, '--module', 'echo', '--python', debianPython(), '-p', '3', '--threads', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /\[object Object\]/);
  assert.match(r.stdout, new RegExp(`^ {2}socket +127\\.0\\.0\\.1:3031, ${join(dir, 'app.sock').replace(/[.]/g, '\\.')} +command line$`, 'm'));
  const summary = r.stdout.slice(r.stdout.indexOf('\nsummary:\n'));
  assert.match(summary, /^ {2}listeners {2}http:\/\/127\.0\.0\.1:8000 {2}\(http = HTTP\/1\.1, TCP\)$/m);
  assert.match(summary, /^ {13}uwsgi:\/\/127\.0\.0\.1:3031 {2}\(socket = uwsgi protocol, TCP/m);
  assert.match(summary, /app\.sock {2}\(socket = uwsgi protocol, unix socket/);
  assert.match(summary, /^ {2}python {5}\/usr\/bin\/python3 \(Python 3\.\d+\.\d+\), python = \/usr\/bin\/python3$/m);
  assert.match(summary, /^ {2}workers {4}3 × 2 threads, preload$/m);
});

test('the start-up log carries the summary, with the bound port', async (t) => {
  const berth = await startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--python', debianPython()]);
  t.after(() => berth.stop());
  await berth.waitForLog(/summary: stats/);
  assert.match(berth.logs(), new RegExp(`summary: listeners {2}http://127\\.0\\.0\\.1:${berth.port} {2}\\(http = HTTP/1\\.1, TCP\\)`));
  assert.match(berth.logs(), /summary: app {8}module echo; chdir /);
});

test('daemonize with only a uwsgi socket the workers accept on: the terminal names it', async (t) => {
  const dir = tmp(t);
  const log = join(dir, 'site.log');
  const pidfile = join(dir, 'site.pid');
  let pid: number | null = null;
  t.after(() => {
    if (pid !== null && isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  const r = await runBerth(['--socket', '127.0.0.1:0', '--uwsgi-direct', '--chdir', APPS, '--module', 'echo', '--python', debianPython(), '--daemonize', log, '--pidfile', pidfile]);
  const m = /^berth: started as pid (\d+) \(listening on 127\.0\.0\.1:(\d+)\), logging to /m.exec(r.stdout);
  assert.ok(m !== null, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  pid = Number(m[1]);
  assert.notEqual(Number(m[2]), 0);
  // The daemon's log is written asynchronously: "started" can reach the terminal a moment before
  // the summary reaches the file, so wait for the line (it fails if it never comes).
  const line = new RegExp(`summary: listeners {2}uwsgi://127\\.0\\.0\\.1:${m[2]} {2}\\(socket = uwsgi protocol, TCP, the workers accept \\(uwsgi-direct\\)\\)`);
  await until('the summary line in the daemon log', async () => assert.match(readFileSync(log, 'utf8'), line), 10_000);
  const stop = await runBerth(['--stop', pidfile]);
  assert.equal(stop.code, 0, stop.stderr);
});
