/**
 * berth ctl's exit codes against the real supervisorctl (Debian's supervisor 4.2): the same three
 * programs (one RUNNING, one EXITED, one FATAL) run by supervisord and by Berth, and the same
 * commands asked of both. One known difference, by the choice: a missing socket is 4 for
 * every Berth command, where supervisorctl says 7 for all but status.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { APPS, BERTH_BIN, startBerth } from '../helpers/berth.js';
import { until } from '../helpers/wait.js';

const SUPERVISORD = '/usr/bin/supervisord';
const SUPERVISORCTL = '/usr/bin/supervisorctl';

function run(cmd: string, args: readonly string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, out: stdout + stderr });
    });
  });
}

const PROGRAMS = [
  '[program:sleeper]', 'command = sleep 300', 'startsecs = 0', '',
  '[program:once]', 'command = true', 'startsecs = 0', 'autorestart = false', '',
  '[program:broken]', 'command = false', 'startsecs = 1', 'startretries = 0', 'autorestart = false', '',
];

/** Each command, as words after `supervisorctl -c CONF` and `berth ctl --ini INI`. */
const CASES: readonly (readonly string[])[] = [
  ['status'], ['status', 'sleeper'], ['status', 'once'], ['status', 'broken'], ['status', 'nosuch'],
  ['start', 'sleeper'], ['start', 'nosuch'], ['stop', 'once'], ['stop', 'nosuch'], ['restart', 'nosuch'],
  ['signal', 'HUP', 'once'], ['signal', 'HUP', 'nosuch'], ['signal', 'HUP', 'sleeper'],
];

test('berth ctl exits as supervisorctl 4.2 does, command by command, against the same programs', async (t) => {
  for (const bin of [SUPERVISORD, SUPERVISORCTL]) assert.ok(existsSync(bin), `${bin} is missing: install the Debian package 'supervisor' (sudo bash scripts/install-test-deps.sh)`);
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctl-codes-'));
  const conf = join(dir, 'supervisord.conf');
  writeFileSync(conf, [
    '[unix_http_server]', `file = ${dir}/supervisor.sock`, '',
    '[supervisord]', `logfile = ${dir}/supervisord.log`, `pidfile = ${dir}/supervisord.pid`, `childlogdir = ${dir}`, 'user = root', '',
    '[rpcinterface:supervisor]', 'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface', '',
    '[supervisorctl]', `serverurl = unix://${dir}/supervisor.sock`, '',
    ...PROGRAMS,
  ].join('\n'));
  const ini = join(dir, 'site.ini');
  writeFileSync(ini, ['[uwsgi]', 'http = 127.0.0.1:0', `wsgi-file = ${join(APPS, 'hello.py')}`, 'processes = 1', `pidfile = ${dir}/berth.pid`, '', ...PROGRAMS].join('\n'));
  const daemon: ChildProcess = spawn(SUPERVISORD, ['-n', '-c', conf], { stdio: 'ignore' });
  const berth = await startBerth(['--ini', ini]);
  try {
    const sctl = (words: readonly string[]): Promise<{ code: number; out: string }> => run(SUPERVISORCTL, ['-c', conf, ...words]);
    const bctl = (words: readonly string[]): Promise<{ code: number; out: string }> => run(process.execPath, [BERTH_BIN, 'ctl', '--ini', ini, ...words]);
    await until('supervisord: sleeper RUNNING, once EXITED, broken FATAL', async () => /sleeper\s+RUNNING[\s\S]*once\s+EXITED|once\s+EXITED[\s\S]*sleeper\s+RUNNING/.test((await sctl(['status'])).out) && /broken\s+FATAL/.test((await sctl(['status'])).out));
    await until('Berth: the same states', async () => {
      const s = (await bctl(['status'])).out;
      return /^sleeper\s+RUNNING/m.test(s) && /^once\s+EXITED/m.test(s) && /^broken\s+FATAL/m.test(s);
    });
    const table: string[] = [];
    for (const words of CASES) {
      const s = await sctl(words);
      const b = await bctl(words);
      table.push(`${words.join(' ')}: supervisorctl ${s.code}, berth ctl ${b.code}`);
      assert.equal(b.code, s.code, `${words.join(' ')}: supervisorctl exits ${s.code} (${s.out.trim()}), berth ctl ${b.code} (${b.out.trim()})`);
    }
    t.diagnostic(table.join('; '));

    // Nobody there: status is 4 for both; other commands 7 (supervisorctl, ENOENT) and 4 (Berth).
    const gone = join(dir, 'gone.conf');
    writeFileSync(gone, ['[supervisorctl]', `serverurl = unix://${dir}/nothing.sock`, ''].join('\n'));
    assert.equal((await run(SUPERVISORCTL, ['-c', gone, 'status'])).code, 4);
    assert.equal((await run(process.execPath, [BERTH_BIN, 'ctl', '--socket', join(dir, 'nothing.sock'), 'status'])).code, 4);
    assert.equal((await run(SUPERVISORCTL, ['-c', gone, 'stop', 'sleeper'])).code, 7);
    assert.equal((await run(process.execPath, [BERTH_BIN, 'ctl', '--socket', join(dir, 'nothing.sock'), 'stop', 'sleeper'])).code, 4);
  } finally {
    await berth.stop('SIGTERM');
    daemon.kill('SIGTERM');
    await new Promise((r) => (daemon.exitCode !== null ? r(null) : daemon.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
});
