/**
 * Berth as a program of a real supervisord (Debian's `supervisor`, see
 * scripts/install-test-deps.sh): an ini with `daemonize` is refused with the fix in the
 * program's log and leaves no Berth behind after `supervisorctl stop` (uWSGI's trap: the
 * detached copy keeps serving); without daemonize Berth runs in the foreground and
 * `supervisorctl stop` (SIGTERM) stops it gracefully, workers included.
 */
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, BERTH_BIN, debianPython } from '../helpers/berth.js';

const SUPERVISORD = '/usr/bin/supervisord';
const SUPERVISORCTL = '/usr/bin/supervisorctl';

function requireSupervisor(): void {
  for (const bin of [SUPERVISORD, SUPERVISORCTL]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: install the Debian package 'supervisor' (sudo bash scripts/install-test-deps.sh)`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | null | Promise<T | null>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Pids whose working directory is `dir` or whose command line names it: this test's Berth and its workers. */
function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = /\) (\S)/.exec(readFileSync(`/proc/${entry}/stat`, 'utf8'))?.[1];
      if (state !== 'Z' && (cwd === dir || cmdline.includes(dir)) && !cmdline.includes('supervisord')) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function ctl(conf: string, ...args: string[]): Promise<string> {
  return new Promise((resolve) => execFile(SUPERVISORCTL, ['-c', conf, ...args], { timeout: 60_000 }, (_err, stdout, stderr) => resolve(stdout + stderr)));
}

interface Supervised { readonly dir: string; readonly conf: string; readonly out: string; readonly port: number }

/** A supervisord (foreground, our child) with one program running Berth on `ini` lines. */
async function supervise(t: TestContext, iniLines: (dir: string, port: number) => string[]): Promise<Supervised> {
  requireSupervisor();
  const dir = mkdtempSync(join(tmpdir(), 'berth-supervisor-'));
  const port = await freePort();
  copyFileSync(join(APPS, 'hello.py'), join(dir, 'hello.py'));
  writeFileSync(join(dir, 'site.ini'), ['[uwsgi]', ...iniLines(dir, port), ''].join('\n'));
  const conf = join(dir, 'supervisord.conf');
  const out = join(dir, 'site.out');
  writeFileSync(conf, [
    '[unix_http_server]', `file = ${dir}/supervisor.sock`, '',
    '[supervisord]', `logfile = ${dir}/supervisord.log`, `pidfile = ${dir}/supervisord.pid`, `childlogdir = ${dir}`, 'user = root', '',
    '[rpcinterface:supervisor]', 'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface', '',
    '[supervisorctl]', `serverurl = unix://${dir}/supervisor.sock`, '',
    '[program:site]', `command = ${process.execPath} ${BERTH_BIN} --ini ${dir}/site.ini`, `directory = ${dir}`,
    'autostart = true', 'autorestart = true', 'startsecs = 1', 'startretries = 2', 'stopsignal = TERM', 'stopwaitsecs = 30',
    `stdout_logfile = ${out}`, 'redirect_stderr = true', '',
  ].join('\n'));
  const daemon: ChildProcess = spawn(SUPERVISORD, ['-n', '-c', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => daemon.on('exit', () => resolve()));
  t.after(async () => {
    daemon.kill('SIGTERM');
    const timer = setTimeout(() => daemon.kill('SIGKILL'), 40_000);
    await exited;
    clearTimeout(timer);
    // Anything the test's supervisord left behind is stopped, so a failure leaks no process.
    for (const pid of processesIn(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  await until('supervisord to answer', async () => (/site/.test(await ctl(conf, 'status')) ? true : null));
  return { dir, conf, out, port };
}

test('daemonize under supervisord is refused with the fix in the program log, and no Berth is left after supervisorctl stop', async (t) => {
  const s = await supervise(t, (dir, port) => [`http = 127.0.0.1:${port}`, 'module = hello', `python = ${debianPython()}`, 'master = true', `daemonize = ${dir}/berth.log`]);
  const log = await until('the refusal in the program log', () => {
    const text = existsSync(s.out) ? readFileSync(s.out, 'utf8') : '';
    return /daemonize = .* under supervisord/.test(text) ? text : null;
  });
  assert.match(log, /daemonize = \S+berth\.log under supervisord \(SUPERVISOR_ENABLED is set\): Berth would detach/);
  assert.match(log, new RegExp(`\\(line 6 of ${s.dir}/site\\.ini\\) — replace daemonize = \\S+ with logto = `));
  // supervisord's own log keeps every transition, so a state passed between two polls is not missed.
  await until('supervisord to see the program exit (or give up)', () => {
    const text = existsSync(join(s.dir, 'supervisord.log')) ? readFileSync(join(s.dir, 'supervisord.log'), 'utf8') : '';
    return /exited: site \(exit status 1|gave up: site/.test(text) ? true : null;
  });
  await ctl(s.conf, 'stop', 'site');
  assert.deepEqual(processesIn(s.dir), [], 'no Berth (master or worker) outlives the refusal');
  assert.equal(existsSync(join(s.dir, 'berth.log')), false, 'nothing was daemonized');
  await assert.rejects(fetch(`http://127.0.0.1:${s.port}/`), 'nothing serves the port');
});

test('without daemonize Berth runs under supervisord, and supervisorctl stop stops it gracefully with its workers', async (t) => {
  const s = await supervise(t, (_dir, port) => [`http = 127.0.0.1:${port}`, 'module = hello', `python = ${debianPython()}`, 'master = true', 'processes = 2']);
  await until('RUNNING', async () => (/RUNNING/.test(await ctl(s.conf, 'status', 'site')) ? true : null));
  const body = await until('the app to answer', async () => {
    try {
      const r = await fetch(`http://127.0.0.1:${s.port}/`);
      return r.status === 200 ? await r.text() : null;
    } catch {
      return null;
    }
  });
  assert.equal(body, 'Hello, World!');
  assert.ok(processesIn(s.dir).length >= 3, 'a master and two workers run');
  const stopped = await ctl(s.conf, 'stop', 'site');
  assert.match(stopped, /site: stopped/);
  assert.deepEqual(processesIn(s.dir), [], 'no orphan: master and workers are gone');
  const log = readFileSync(s.out, 'utf8');
  assert.match(log, /SIGTERM: stopping gracefully/);
  assert.match(log, /stopped \(exit code 0\)/);
  assert.doesNotMatch(log, /did not start|ERROR/);
});
