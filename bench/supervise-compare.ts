// Berth's supervision against supervisor 4.2 and uWSGI 2.0, with the same programs
// (bench/lib/supervise-fixtures.ts):
//
//   node dist/bench/supervise-compare.js [--reps 3] [--only dependency,reload]
//
// dependency: B needs a slow-starting A (A listens 3 s after it starts). supervisord runs them by
//   priority (A 1, B 2); Berth with `depends-on = a` and A's `ready-check = tcp:…`. Times from the
//   start of supervisord/Berth: A listening, B's first start, B up; B's failed starts; B's end state.
// reload: a daemon beside the web app, then SIGHUP to the master (uWSGI: a graceful reload, which
//   re-executes the master; Berth: a graceful reload of the web workers). The daemon's pid before,
//   after (3 s after the reload is done), and whether the old pid still runs. uWSGI with
//   attach-daemon and smart-attach-daemon; Berth with attach-daemon, [program:x], smart-attach-daemon.
//
// Not a test: no assertions. Every process it starts is stopped (process groups, then the pidfiles).

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eachFlag, findRoot, log, mdTable, positive } from './lib/cli-common.js';
import { writeFixtures, type Fixtures } from './lib/supervise-fixtures.js';
import { freePort } from './lib/http-probe.js';
import { isAlive } from '../src/master/proc.js';

const ROOT = findRoot();
const BERTH = join(ROOT, 'bin', 'berth.js');
const HELLO = join(ROOT, 'test', 'fixtures', 'apps', 'hello.py');
const PY = '/usr/bin/python3';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');

async function until<T>(check: () => T | null, ms: number, everyMs = 50): Promise<T | null> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = check();
    if (v !== null) return v;
    await sleep(everyMs);
  }
  return null;
}

/** Starts `cmd` in its own process group, output to `logFile`. */
function start(cmd: string, args: readonly string[], logFile: string, cwd: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  return spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', fd, fd] });
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const pid = child.pid as number;
  try { process.kill(-pid, signal); } catch { /* gone */ }
  const done = await until(() => (child.exitCode !== null || child.signalCode !== null ? true : null), 15_000);
  if (done === null) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
}

interface DependencyRun { who: string; aListening: number; bFirstStart: number; bUp: number | null; bStarts: number; bFails: number; bState: string }

async function dependency(who: 'supervisor' | 'berth', fx: Fixtures): Promise<DependencyRun> {
  const dir = mkdtempSync(join(tmpdir(), `sv-dep-${who}-`));
  const port = await freePort();
  const aReady = join(dir, 'a.ready');
  const bLog = join(dir, 'b.log');
  const a = `${PY} ${fx.slowServer} ${port} ${aReady}`;
  const b = `${PY} ${fx.needsA} ${port} ${bLog}`;
  let child: ChildProcess;
  const t0 = Date.now() / 1000;
  let state: () => string;
  if (who === 'supervisor') {
    const conf = join(dir, 'supervisord.conf');
    writeFileSync(conf, [
      '[unix_http_server]', `file = ${dir}/s.sock`, '[supervisord]', `logfile = ${dir}/supervisord.log`, `pidfile = ${dir}/s.pid`, `childlogdir = ${dir}`, 'user = root',
      '[rpcinterface:supervisor]', 'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface', '[supervisorctl]', `serverurl = unix://${dir}/s.sock`,
      '[program:a]', `command = ${a}`, 'priority = 1', '[program:b]', `command = ${b}`, 'priority = 2', '',
    ].join('\n'));
    child = start('/usr/bin/supervisord', ['-n', '-c', conf], join(dir, 'out.log'), dir);
    state = () => { try { return execFileSync('/usr/bin/supervisorctl', ['-c', conf, 'status', 'b'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/\s+/)[1] ?? '?'; } catch (e) { return String((e as { stdout?: string }).stdout ?? '').split(/\s+/)[1] ?? '?'; } };
  } else {
    const ini = join(dir, 'site.ini');
    writeFileSync(ini, [
      '[uwsgi]', 'http = 127.0.0.1:0', `wsgi-file = ${HELLO}`, 'processes = 1', `pidfile = ${dir}/berth.pid`, `python = ${PY}`,
      '[program:a]', `command = ${a}`, `ready-check = tcp:127.0.0.1:${port}`, '[program:b]', `command = ${b}`, 'depends-on = a', '',
    ].join('\n'));
    child = start(process.execPath, [BERTH, '--ini', ini], join(dir, 'out.log'), dir);
    state = () => { try { return (JSON.parse(execFileSync(process.execPath, [BERTH, 'ctl', '--ini', ini, 'status', 'b', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { programs: { state: string }[] }).programs[0]?.state ?? '?'; } catch (e) { try { return (JSON.parse(String((e as { stdout?: string }).stdout ?? '')) as { programs?: { state: string }[] }).programs?.[0]?.state ?? '?'; } catch { return '?'; } } };
  }
  // B is up, or gave up (supervisor: FATAL after startretries), or 25 s passed.
  try {
    await until(() => (/^ok /m.test(read(bLog)) || /FATAL/.test(state()) ? true : null), 25_000, 300);
    await sleep(1500);
    const lines = read(bLog).split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]);
    const at = (kind: string): number | null => { const l = lines.find(([k]) => k === kind); return l === undefined ? null : Number(l[1]) - t0; };
    const run: DependencyRun = {
      who, aListening: Number(read(aReady).trim()) - t0, bFirstStart: at('start') ?? NaN, bUp: at('ok'),
      bStarts: lines.filter(([k]) => k === 'start').length, bFails: lines.filter(([k]) => k === 'fail').length, bState: state(),
    };
    return run;
  } finally {
    await stop(child, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

type ReloadKind = 'uwsgi attach-daemon' | 'uwsgi smart-attach-daemon' | 'berth attach-daemon' | 'berth [program:x]' | 'berth smart-attach-daemon';
interface ReloadRun { kind: ReloadKind; before: number | null; after: number | null; oldAlive: boolean; starts: number }

async function reload(kind: ReloadKind, fx: Fixtures): Promise<ReloadRun> {
  const dir = mkdtempSync(join(tmpdir(), 'sv-reload-'));
  const port = await freePort();
  const out = join(dir, 'out.log');
  const pidfile = join(dir, 'smart.pid');
  const pids = join(dir, 'plain.pids');
  writeFileSync(join(dir, 'plain_daemon.sh'), read(fx.plainDaemon), { mode: 0o755 });
  const plain = `${join(dir, 'plain_daemon.sh')} plain`;
  const smart = `${PY} ${fx.forkingDaemon} ${pidfile}`;
  const isSmart = kind.endsWith('smart-attach-daemon');
  const current = (): number | null => {
    const text = isSmart ? read(pidfile) : read(pids).trim().split('\n').at(-1) ?? '';
    return text.trim() === '' ? null : Number(text.trim());
  };
  const starts = (): number => (isSmart ? 0 : read(pids).split('\n').filter(Boolean).length);
  let child: ChildProcess;
  let reloaded: () => number;
  if (kind.startsWith('uwsgi')) {
    const daemon = isSmart ? ['--smart-attach-daemon', `${pidfile} ${smart}`] : ['--attach-daemon', plain];
    child = start('uwsgi', ['--plugin', 'python3', '--master', '--http-socket', `127.0.0.1:${port}`, '--wsgi-file', HELLO, '--processes', '1', ...daemon], out, dir);
    reloaded = () => (read(out).match(/spawned uWSGI worker 1 /g) ?? []).length - 1;
  } else {
    const side = kind === 'berth attach-daemon' ? [`attach-daemon = ${plain}`] : kind === 'berth [program:x]' ? ['[program:d]', `command = ${plain}`] : [`smart-attach-daemon = ${pidfile} ${smart}`];
    const ini = join(dir, 'site.ini');
    writeFileSync(ini, ['[uwsgi]', `http = 127.0.0.1:${port}`, `wsgi-file = ${HELLO}`, 'processes = 1', `python = ${PY}`, ...side, ''].join('\n'));
    child = start(process.execPath, [BERTH, '--ini', ini], out, dir);
    reloaded = () => (read(out).match(/reload done in \d+ ms/g) ?? []).length;
  }
  try {
    const before = await until(() => { const p = current(); return p !== null && isAlive(p) && /spawned uWSGI worker 1 |all \d+ worker\(s\) ready/.test(read(out)) ? p : null; }, 20_000);
    await sleep(1500);
    const startsBefore = starts();
    process.kill(child.pid as number, 'SIGHUP');
    await until(() => (reloaded() >= 1 ? true : null), 30_000);
    await sleep(3000);
    const after = current();
    const run: ReloadRun = { kind, before, after, oldAlive: before !== null && isAlive(before), starts: starts() - startsBefore };
    return run;
  } finally {
    await stop(child, kind.startsWith('uwsgi') ? 'SIGINT' : 'SIGTERM');
    // A smart daemon left its group (setsid): stopped by its pidfile if its supervisor did not.
    const left = current();
    if (left !== null && isAlive(left)) try { process.kill(left, 'SIGKILL'); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let reps = 3;
  let only = ['dependency', 'reload'];
  eachFlag(process.argv.slice(2), (flag, take) => {
    if (flag === '--reps') reps = positive(take(), flag);
    else if (flag === '--only') only = take().split(',');
    else throw new Error(`unknown flag ${flag}`);
  });
  const work = mkdtempSync(join(tmpdir(), 'sv-compare-'));
  const fx = writeFixtures(work);
  const s = (n: number | null): string => (n === null || Number.isNaN(n) ? '—' : n.toFixed(2));
  if (only.includes('dependency')) {
    const rows: string[][] = [];
    for (let i = 0; i < reps; i++) {
      for (const who of ['supervisor', 'berth'] as const) {
        const r = await dependency(who, fx);
        log(`dependency ${who} #${i + 1}: ${JSON.stringify(r)}`);
        rows.push([who === 'supervisor' ? 'supervisor 4.2.5' : 'Berth', String(i + 1), s(r.aListening), s(r.bFirstStart), s(r.bUp), String(r.bStarts), String(r.bFails), r.bState]);
      }
    }
    process.stdout.write(`${mdTable(['', 'run', 'A listening (s)', "B's first start (s)", 'B up (s)', "B's starts", "B's failed starts", "B's state after"], rows)}\n\n`);
  }
  if (only.includes('reload')) {
    const rows: string[][] = [];
    const kinds: ReloadKind[] = ['uwsgi attach-daemon', 'uwsgi smart-attach-daemon', 'berth attach-daemon', 'berth [program:x]', 'berth smart-attach-daemon'];
    for (let i = 0; i < reps; i++) {
      for (const kind of kinds) {
        const r = await reload(kind, fx);
        log(`reload ${kind} #${i + 1}: ${JSON.stringify(r)}`);
        rows.push([kind, String(i + 1), String(r.before ?? '—'), String(r.after ?? '—'), r.before !== null && r.before === r.after ? 'same' : 'new', r.oldAlive ? 'yes' : 'no', isSmartKind(kind) ? '—' : String(r.starts)]);
      }
    }
    process.stdout.write(`${mdTable(['daemon', 'run', 'pid before SIGHUP', 'pid after', 'same?', 'old pid alive after', 'starts of the daemon'], rows)}\n`);
  }
  rmSync(work, { recursive: true, force: true });
}

main().catch((err: unknown) => { process.stderr.write(`${(err as Error).stack ?? String(err)}\n`); process.exit(1); });

function isSmartKind(kind: ReloadKind): boolean {
  return kind.endsWith('smart-attach-daemon');
}
