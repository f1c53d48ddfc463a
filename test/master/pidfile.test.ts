/**
 * The pidfile guard: a fresh file, a stale one (dead pid, pid reused by another program), a
 * live Berth that makes a second one refuse (unit and with the real CLI), vacuum removing only
 * our own pid, and the atomic write.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectPidfile, parsePid, Pidfiles, writePidfileAtomically } from '../../src/master/pidfile.js';
import { BerthError } from '../../src/errors/berth-error.js';
import { APPS, debianPython, runBerth, startBerth } from '../helpers/berth.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pidfile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function recorder(): { lines: string[]; log: (level: 'info' | 'warn', m: string) => void } {
  const lines: string[] = [];
  return { lines, log: (level, m) => lines.push(`${level}: ${m}`) };
}

/** A pid that existed a moment ago and has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync('/bin/sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

const helloArgs = (extra: string[]): string[] => ['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'hello', '--python', debianPython(), ...extra];

test('parsePid reads the first line only when it is a pid', () => {
  assert.equal(parsePid('4242\n'), 4242);
  assert.equal(parsePid('4242'), 4242);
  assert.equal(parsePid(' 17 \n'), 17);
  assert.equal(parsePid(''), null);
  assert.equal(parsePid('abc\n'), null);
  assert.equal(parsePid('0\n'), null);
  assert.equal(parsePid('12x\n'), null);
});

test('a fresh pidfile gets our pid and a newline at claim; pidfile2 at writeLate (app ready)', (t) => {
  const dir = tmp(t);
  const rec = recorder();
  const pf = Pidfiles.claim({ pidfile: join(dir, 'a.pid'), pidfile2: join(dir, 'b.pid') }, 4242, rec.log);
  assert.equal(readFileSync(join(dir, 'a.pid'), 'utf8'), '4242\n');
  assert.equal(existsSync(join(dir, 'b.pid')), false);
  assert.match(rec.lines.join('\n'), /info: pid 4242 written to .*a\.pid/);
  assert.equal(pf.writeLate(), null);
  assert.equal(readFileSync(join(dir, 'b.pid'), 'utf8'), '4242\n');
  assert.deepEqual(pf.paths, [join(dir, 'a.pid'), join(dir, 'b.pid')]);
  assert.equal(pf.writeLate(), null, 'a second call changes nothing');
  assert.deepEqual(pf.paths, [join(dir, 'a.pid'), join(dir, 'b.pid')]);
});

test('pidfile2 that cannot be written: writeLate returns the message instead of throwing', (t) => {
  const dir = tmp(t);
  const pf = Pidfiles.claim({ pidfile: null, pidfile2: join(dir, 'gone', 'b.pid') }, 4242, () => undefined);
  assert.match(pf.writeLate() ?? '', /cannot write pidfile .*b\.pid: the directory .*gone does not exist/);
});

test('no pidfile configured: nothing is written or logged', () => {
  const rec = recorder();
  const pf = Pidfiles.claim({ pidfile: null, pidfile2: null }, 4242, rec.log);
  assert.deepEqual(pf.paths, []);
  assert.deepEqual(rec.lines, []);
});

test('a pidfile naming a dead pid is stale: replaced, with a warning', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'a.pid');
  const dead = deadPid();
  writeFileSync(path, `${dead}\n`);
  assert.equal(inspectPidfile(path).kind, 'stale');
  const rec = recorder();
  Pidfiles.claim({ pidfile: path, pidfile2: null }, 4242, rec.log);
  assert.equal(readFileSync(path, 'utf8'), '4242\n');
  assert.match(rec.lines[0]!, new RegExp(`warn: pidfile .*a\\.pid is stale \\(pid ${dead} is no longer running\\); replacing it`));
});

test('a pidfile naming a live program that is not Berth is stale too (pid reused)', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'a.pid');
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => sleeper.kill('SIGKILL'));
  await new Promise((r) => sleeper.once('spawn', r));
  // 'spawn' comes after fork; the command line is 'sleep 30' only once exec has run.
  for (let i = 0; i < 200 && !readFileSync(`/proc/${sleeper.pid}/cmdline`, 'latin1').startsWith('sleep'); i++) await new Promise((r) => setTimeout(r, 10));
  writeFileSync(path, `${sleeper.pid}\n`);
  const rec = recorder();
  Pidfiles.claim({ pidfile: path, pidfile2: null }, 4242, rec.log);
  assert.equal(readFileSync(path, 'utf8'), '4242\n');
  assert.match(rec.lines[0]!, new RegExp(`pid ${sleeper.pid} is now 'sleep 30', not Berth`));
  assert.equal(sleeper.exitCode, null, 'the unrelated program was left alone');
});

test('garbage in the pidfile is stale', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'a.pid');
  writeFileSync(path, 'hello\n');
  const rec = recorder();
  Pidfiles.claim({ pidfile: path, pidfile2: null }, 4242, rec.log);
  assert.equal(readFileSync(path, 'utf8'), '4242\n');
  assert.match(rec.lines[0]!, /does not hold a pid/);
});

test('a live Berth in the pidfile: claim refuses and writes nothing; a second CLI start exits 1 without binding', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'site.pid');
  const other = join(dir, 'other.pid');
  const berth = await startBerth(helloArgs(['--pidfile', path]));
  t.after(() => berth.stop());
  const pid = berth.proc.pid!;
  assert.equal(readFileSync(path, 'utf8'), `${pid}\n`);
  const state = inspectPidfile(path);
  assert.equal(state.kind, 'running');

  assert.throws(() => Pidfiles.claim({ pidfile: other, pidfile2: path }, process.pid, () => undefined), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.code, 'BERTH_ALREADY_RUNNING');
    assert.match(err.message, new RegExp(`already running as pid ${pid} \\(pidfile ${path}, started .*, up \\d+s\\)`));
    assert.ok(err.message.includes(`'berth --stop ${path}'`), err.message);
    assert.ok(err.message.includes(`'berth --reload ${path}'`), err.message);
    return true;
  });
  assert.equal(existsSync(other), false, 'a refusal writes no pidfile at all');
  assert.equal(readFileSync(path, 'utf8'), `${pid}\n`);

  const second = await runBerth(helloArgs(['--pidfile', path]));
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`Berth is already running as pid ${pid}`));
  assert.doesNotMatch(second.stderr, /listening on/);
  assert.equal(readFileSync(path, 'utf8'), `${pid}\n`, 'the running Berth keeps its pidfile');
  assert.equal((await fetch(berth.url('/'))).status, 200);
});

test('release() (vacuum) removes only a pidfile that still holds our pid', (t) => {
  const dir = tmp(t);
  const a = join(dir, 'a.pid');
  const b = join(dir, 'b.pid');
  const pf = Pidfiles.claim({ pidfile: a, pidfile2: b }, 4242, () => undefined);
  pf.writeLate();
  writeFileSync(b, '5151\n'); // a newer instance took b over
  assert.deepEqual(pf.release(), [a]);
  assert.equal(existsSync(a), false);
  assert.equal(readFileSync(b, 'utf8'), '5151\n');
  assert.deepEqual(pf.release(), [], 'a second release finds nothing of ours');
});

test('the CLI writes pidfile and pidfile2; --vacuum removes them on a clean stop, without it they stay', async (t) => {
  const dir = tmp(t);
  for (const vacuum of [true, false]) {
    const path = join(dir, `v${vacuum}.pid`);
    const path2 = join(dir, `v${vacuum}-2.pid`);
    const berth = await startBerth(helloArgs(['--pidfile', path, '--pidfile2', path2, ...(vacuum ? ['--vacuum'] : [])]));
    t.after(() => berth.stop('SIGKILL'));
    assert.equal(readFileSync(path, 'utf8'), `${berth.proc.pid}\n`);
    assert.equal(readFileSync(path2, 'utf8'), `${berth.proc.pid}\n`, 'pidfile2 is there once the app is ready');
    assert.equal((await berth.stop()).code, 0);
    assert.equal(existsSync(path), !vacuum, `vacuum=${vacuum}`);
    assert.equal(existsSync(path2), !vacuum, `vacuum=${vacuum}`);
  }
});

test('the write is atomic: a new inode renamed into place, no temp file left behind', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'a.pid');
  writeFileSync(path, '1\n');
  const before = statSync(path).ino;
  writePidfileAtomically(path, 4242);
  assert.notEqual(statSync(path).ino, before, 'replaced by rename, not rewritten in place');
  assert.equal(readFileSync(path, 'utf8'), '4242\n');
  assert.deepEqual(readdirSync(dir), ['a.pid']);
});

test('a pidfile in a missing directory: BERTH_PIDFILE_FAILED naming the directory and the fix', (t) => {
  const dir = tmp(t);
  const path = join(dir, 'nope', 'a.pid');
  assert.throws(() => Pidfiles.claim({ pidfile: path, pidfile2: null }, 4242, () => undefined), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.equal(err.code, 'BERTH_PIDFILE_FAILED');
    assert.ok(err.message.includes(`mkdir -p ${join(dir, 'nope')}`), err.message);
    return true;
  });
  assert.deepEqual(readdirSync(dir), []);
});

test('a pidfile under /proc is diagnosed as a virtual filesystem, not as a directory to create', () => {
  assert.throws(() => writePidfileAtomically('/proc/berth-test.pid', 4242), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.match(err.message, /option 'pidfile': cannot write pidfile \/proc\/berth-test\.pid: \/proc is on the virtual filesystem proc/);
    assert.doesNotMatch(err.message, /mkdir/);
    return true;
  });
});

test('runtime pidfile and logto refusals name the option, the file and line where it was set, and the fix', async (t) => {
  const dir = tmp(t);
  const ini = join(dir, 'site.ini');
  writeFileSync(ini, `[uwsgi]\nhttp = 127.0.0.1:0\nchdir = ${APPS}\nmodule = echo\npython = ${debianPython()}\npidfile = /proc/berth-test.pid\n`);
  const pid = await runBerth(['--ini', ini]);
  assert.equal(pid.code, 1);
  assert.match(pid.stderr, new RegExp(`option 'pidfile' \\(line 6 of ${ini}\\): cannot write pidfile /proc/berth-test\\.pid: /proc is on the virtual filesystem proc, where files cannot be created — choose a path`));
  writeFileSync(ini, `[uwsgi]\nhttp = 127.0.0.1:0\nchdir = ${APPS}\nlogto = /proc/berth-test.log\nmodule = echo\npython = ${debianPython()}\n`);
  const log = await runBerth(['--ini', ini]);
  assert.equal(log.code, 1);
  assert.match(log.stderr, new RegExp(`option 'logto' \\(line 4 of ${ini}\\): cannot open the log file /proc/berth-test\\.log: /proc is on the virtual filesystem proc`));
});
