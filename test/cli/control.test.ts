/**
 * `berth --status / --stop / --reload <pidfile>` against a real Berth, against stale pidfiles
 * (dead pid, pid reused by another program) and with bad arguments.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseControl } from '../../src/cli/commands/control.js';
import { helpText } from '../../src/cli/help.js';
import { isAlive } from '../../src/master/proc.js';
import { APPS, debianPython, runBerth, startBerth } from '../helpers/berth.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-control-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const echoArgs = (pidfile: string): string[] => ['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--python', debianPython(), '--pidfile', pidfile];

test('parseControl: --stop X, --stop=X, anywhere; missing pidfile; extra words kept for the error', () => {
  assert.deepEqual(parseControl(['--stop', '/run/a.pid']), { action: 'stop', pidfile: '/run/a.pid', extra: [] });
  assert.deepEqual(parseControl(['--reload=/run/a.pid']), { action: 'reload', pidfile: '/run/a.pid', extra: [] });
  assert.deepEqual(parseControl(['--status']), { action: 'status', pidfile: null, extra: [] });
  assert.deepEqual(parseControl(['--stop', '--http', ':8000']), { action: 'stop', pidfile: null, extra: ['--http', ':8000'] });
  assert.deepEqual(parseControl(['--ini', 'x.ini', '--stop', 'a.pid']), { action: 'stop', pidfile: 'a.pid', extra: ['--ini', 'x.ini'] });
  assert.equal(parseControl(['--http', ':8000']), null);
  assert.equal(parseControl(['--stopper', 'x']), null);
});

test('--help lists the control commands within 100 columns', () => {
  const text = helpText();
  for (const flag of ['--stop PIDFILE', '--reload PIDFILE', '--status PIDFILE']) assert.ok(text.includes(flag), flag);
  for (const line of text.split('\n')) assert.ok(line.length <= 100, line);
});

test('--status: 3 without a pidfile, 1 with a stale one, 0 with a running Berth (pid and uptime)', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'site.pid');
  const none = await runBerth(['--status', path]);
  assert.equal(none.code, 3);
  assert.match(none.stdout, /berth is not running \(no pidfile at .*site\.pid\)/);

  const dead = Number(spawnSync('/bin/sh', ['-c', 'echo $$']).stdout.toString().trim());
  writeFileSync(path, `${dead}\n`);
  const stale = await runBerth(['--status', path]);
  assert.equal(stale.code, 1);
  assert.match(stale.stdout, new RegExp(`pidfile remains: .*site\\.pid is stale \\(pid ${dead} is no longer running\\)`));

  const berth = await startBerth(echoArgs(path));
  t.after(() => berth.stop());
  const running = await runBerth([`--status=${path}`]);
  assert.equal(running.code, 0, running.stderr);
  assert.match(running.stdout, new RegExp(`berth is running as pid ${berth.proc.pid} \\(started \\d{4}-\\d\\d-\\d\\d [\\d:]+, up \\d+s\\); pidfile `));
});

test('--stop: SIGTERM, waits until the master and its workers are gone, prints stopped pid N', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'site.pid');
  const berth = await startBerth([...echoArgs(path), '--processes', '2']);
  t.after(() => berth.stop('SIGKILL'));
  const workers = new Set<number>();
  for (let i = 0; i < 8 && workers.size < 2; i++) workers.add(((await (await fetch(berth.url('/pid'))).json()) as { pid: number }).pid);
  assert.ok(workers.size >= 1);
  const r = await runBerth(['--stop', path]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /sent SIGTERM to pid \d+/);
  assert.match(r.stdout, new RegExp(`^stopped pid ${berth.proc.pid}$`, 'm'));
  assert.ok(!isAlive(berth.proc.pid!), 'the master has exited when --stop returns');
  for (const w of workers) assert.ok(!isAlive(w), `worker ${w} has exited`);
  assert.match(berth.logs(), /SIGTERM: stopping gracefully/);
});

test('--reload: SIGHUP reaches the master, which says so in its log; the output says where to look and how the reload ended', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'site.pid');
  const log = join(dir, 'site.log');
  const berth = await startBerth([...echoArgs(path), '--logto', log], { logFile: log });
  t.after(() => berth.stop());
  const pending = runBerth(['--reload', path]);
  // --reload waits for the new generation's first answer below 500 (reload-rollback-after).
  await berth.waitForLog(/reload done in \d+ ms/);
  await (await fetch(berth.url('/'))).text();
  const r = await pending;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(`sent SIGHUP (reload) to pid ${berth.proc.pid}`), r.stdout);
  assert.ok(r.stdout.includes(`see ${log}`), r.stdout);
  assert.match(r.stdout, /reload done: generation 2 serves \(its first answer below 500 was \d+\)/);
  await berth.waitForLog(/SIGHUP/);
  assert.ok(isAlive(berth.proc.pid!));
});

test('--stop and --reload never signal a live program that is not Berth (a reused pid)', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'site.pid');
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => sleeper.kill('SIGKILL'));
  await new Promise((r) => sleeper.once('spawn', r));
  // 'spawn' comes after fork; the command line is 'sleep 30' only once exec has run.
  for (let i = 0; i < 200 && !readFileSync(`/proc/${sleeper.pid}/cmdline`, 'latin1').startsWith('sleep'); i++) await new Promise((r) => setTimeout(r, 10));
  writeFileSync(path, `${sleeper.pid}\n`);
  for (const action of ['--stop', '--reload']) {
    const r = await runBerth([action, path]);
    assert.equal(r.code, 1, action);
    assert.match(r.stderr, new RegExp(`stale \\(pid ${sleeper.pid} is now 'sleep 30', not Berth\\); nothing was signalled`));
  }
  assert.equal(sleeper.exitCode, null);
  assert.equal(sleeper.signalCode, null);
});

test('--stop with a missing pidfile, a dead pid, no pidfile argument, extra words', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'site.pid');
  const missing = await runBerth(['--stop', path]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no pidfile at .*site\.pid — is Berth running with 'pidfile = /);
  const dead = Number(spawnSync('/bin/sh', ['-c', 'echo $$']).stdout.toString().trim());
  writeFileSync(path, `${dead}\n`);
  const stale = await runBerth(['--stop', path]);
  assert.equal(stale.code, 0, 'stopping a stopped service succeeds (LSB)');
  assert.match(stale.stderr, /not running: the pidfile .* is stale/);
  assert.ok(existsSync(path));
  const bare = await runBerth(['--stop']);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /--stop needs the pidfile/);
  const extra = await runBerth(['--stop', path, '--http', ':8000']);
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /takes only the pidfile; remove '--http' ':8000'/);
});
