/**
 * Side-program features with real processes: smart-attach-daemon (a daemon that forks into the
 * background and writes its pidfile: found, kept across a web reload, restarted when it dies,
 * stopped with Berth), [program:x] user= and umask (run as nobody; refused when Berth is not
 * root), berth ctl tail -f (follows until interrupted) and berth ctl signal (a trap sees it).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { APPS, BERTH_BIN, REPO, startBerth } from '../helpers/berth.js';
import { readableCopy } from '../helpers/readable-copy.js';
import { until } from '../helpers/wait.js';
import { isAlive } from '../../src/master/proc.js';

function ctl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BERTH_BIN, 'ctl', ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

function site(dir: string, extra: readonly string[]): string {
  const file = join(dir, 'site.ini');
  writeFileSync(file, ['[uwsgi]', 'http = 127.0.0.1:0', `wsgi-file = ${join(APPS, 'hello.py')}`, 'processes = 1', `pidfile = ${dir}/berth.pid`, ...extra].join('\n') + '\n');
  return file;
}

test('smart-attach-daemon: the forked daemon is found by its pidfile, survives a reload, is restarted when it dies, is stopped with Berth', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-smart-'));
  copyFileSync(join(REPO, 'test/fixtures/programs/forking_daemon.py'), join(dir, 'daemon.py'));
  const pidfile = join(dir, 'daemon.pid');
  const file = site(dir, [`smart-attach-daemon = ${pidfile} /usr/bin/python3 ${dir}/daemon.py ${pidfile}`]);
  const berth = await startBerth(['--ini', file]);
  try {
    await berth.waitForLog(/program python3: daemon pid \d+ \(from /);
    const first = Number(readFileSync(pidfile, 'utf8'));
    assert.ok(isAlive(first));
    assert.notEqual(execFileSync('ps', ['-o', 'sid=', '-p', String(first)], { encoding: 'utf8' }).trim(), String(berth.proc.pid), 'the daemon left Berth\'s session');
    const status = JSON.parse((await ctl(['--ini', file, 'status', 'python3', '--json'])).stdout) as { programs: { state: string; pid: number }[] };
    assert.deepEqual(status.programs.map((p) => [p.state, p.pid]), [['RUNNING', first]]);

    berth.proc.kill('SIGHUP');
    await berth.waitForLog(/reload done in \d+ ms: generation 2/);
    assert.ok(isAlive(first), 'the daemon survives a web reload');
    assert.equal(Number(readFileSync(pidfile, 'utf8')), first);
    assert.doesNotMatch(berth.logs(), /program python3: (stopping|spawned with pid \d+ \(retry|the pid in .* is gone)/);

    process.kill(first, 'SIGKILL');
    await berth.waitForLog(/program python3: the pid in .*daemon\.pid is gone; starting .* again/);
    await until('a new daemon pid in the pidfile', () => { try { const p = Number(readFileSync(pidfile, 'utf8')); return p !== first && isAlive(p); } catch { return false; } });
    await berth.waitForLog(new RegExp(`program python3: daemon pid ${Number(readFileSync(pidfile, 'utf8'))} `));
    const second = Number(readFileSync(pidfile, 'utf8'));

    await berth.stop('SIGTERM');
    await until('the daemon stopped with Berth', () => !isAlive(second), 5_000);
  } finally {
    if (berth.proc.exitCode === null) await berth.stop('SIGKILL');
    try { process.kill(Number(readFileSync(pidfile, 'utf8')), 'SIGKILL'); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
});

test('[program:x] user = nobody and umask = 077: the program runs as nobody and its files are 0600; user= when Berth is not root is refused', async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root (as the suite does) to start a program as nobody');
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const dir = mkdtempSync(join(tmpdir(), 'berth-user-'));
  chmodSync(dir, 0o777);
  const file = site(dir, ['[program:who]', `command = /bin/sh -c 'id -u > ${dir}/uid; touch ${dir}/made; exec sleep 300'`, 'user = nobody', 'umask = 077', 'startsecs = 0']);
  const berth = await startBerth(['--ini', file]);
  try {
    await berth.waitForLog(/program who: RUNNING/);
    await until('the program wrote its uid', () => existsSync(join(dir, 'made')));
    assert.equal(readFileSync(join(dir, 'uid'), 'utf8').trim(), String(nobody));
    assert.equal(statSync(join(dir, 'made')).uid, nobody);
    assert.equal(statSync(join(dir, 'made')).mode & 0o777, 0o600, 'umask = 077: touch makes 0600');
    const pid = (JSON.parse((await ctl(['--ini', file, 'status', 'who', '--json'])).stdout) as { programs: { pid: number }[] }).programs[0]!.pid;
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), new RegExp(`^Uid:\\s+${nobody}\\s`, 'm'));
  } finally {
    await berth.stop('SIGTERM');
  }

  // Berth itself as nobody: a program asking for another user cannot be started, and is refused up front.
  const copy = readableCopy(['bin', 'dist/src', 'package.json', 'test/fixtures/apps']);
  symlinkSync(join(REPO, 'node_modules'), join(copy.dir, 'node_modules'));
  const ini = join(dir, 'as-nobody.ini');
  writeFileSync(ini, ['[uwsgi]', 'http = 127.0.0.1:0', `wsgi-file = ${copy.path('test/fixtures/apps/hello.py')}`, '', '[program:who]', 'command = sleep 300', 'user = root'].join('\n') + '\n');
  chmodSync(ini, 0o644);
  try {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [copy.path('bin/berth.js'), '--ini', ini], { uid: nobody, gid: nobody, timeout: 20_000, cwd: copy.dir }, (err, _out, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stderr });
      });
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`\\[program:who\\] sets user = root, but Berth runs as uid ${nobody}, not root.*\\(line 5 of ${ini.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) — start Berth as root`));
    assert.match(r.stderr, /nothing was started/);
  } finally {
    copy.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('berth ctl tail -f follows new lines until interrupted; berth ctl signal USR1 reaches the program (its trap runs)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tailf-'));
  const file = site(dir, [
    '[program:trapper]',
    `command = /bin/sh -c 'trap "echo got-usr1; touch ${dir}/usr1" USR1; echo first; while :; do sleep 0.1; done'`,
    'startsecs = 0',
    '[program:idle]', 'command = true', 'startsecs = 0', 'autorestart = false',
  ]);
  const berth = await startBerth(['--ini', file]);
  const tail = spawn(process.execPath, [BERTH_BIN, 'ctl', '--ini', file, 'tail', '-f', 'trapper'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await berth.waitForLog(/\[trapper\] first/);
    let out = '';
    tail.stdout.on('data', (d) => { out += String(d); });
    await until('tail -f shows the lines so far', () => /^first$/m.test(out));
    assert.doesNotMatch(out, /got-usr1/);

    const sent = await ctl(['--ini', file, 'signal', 'USR1', 'trapper']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /trapper: signalled USR1/);
    await until('the trap touched its file', () => existsSync(join(dir, 'usr1')));
    await until('tail -f followed the new line', () => /^got-usr1$/m.test(out));
    assert.equal(tail.exitCode, null, 'tail -f keeps following');

    tail.kill('SIGINT');
    const [code] = await new Promise<[number | null]>((resolve) => tail.once('exit', (c) => resolve([c])));
    assert.equal(code, 0, 'interrupted, tail -f exits 0 as supervisorctl fg/tail does');

    await berth.waitForLog(/program idle: exited with code 0/);
    const toStopped = await ctl(['--ini', file, 'signal', 'HUP', 'idle']);
    assert.equal(toStopped.code, 7, 'signal to a program that is not running: 7, as supervisorctl');
    assert.equal((await ctl(['--ini', file, 'signal', 'HUP', 'nosuch'])).code, 1);
    assert.equal((await ctl(['--ini', file, 'signal', 'NOPE', 'trapper'])).code, 2);
  } finally {
    if (tail.exitCode === null && tail.signalCode === null) tail.kill('SIGKILL');
    await berth.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});
