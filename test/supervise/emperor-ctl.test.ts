/**
 * berth ctl against an emperor: three real vassals (two serving, one crash-looping), their rows in
 * the status table and --json (state, pid, uptime, restarts, throttle delay), and stop, start and
 * restart of one vassal by name, with supervisorctl's exit codes.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { APPS, BERTH_BIN, debianPython } from '../helpers/berth.js';
import { until } from '../helpers/wait.js';
import { isAlive } from '../../src/master/proc.js';
import { freePort } from '../helpers/nginx.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-emperor-ctl-'));
const vassals = join(dir, 'vassals');
const started: ChildProcess[] = [];
after(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function ctl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BERTH_BIN, 'ctl', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      res({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

interface Row { name: string; state: string; pid: number; uptimeMs: number; restarts: number; throttleMs: number }

test('berth ctl status/stop/start/restart against an emperor with three vassals, one crash-looping', async () => {
  mkdirSync(vassals);
  const vassal = async (name: string, app: string): Promise<void> => writeFileSync(join(vassals, name),
    `[uwsgi]\nhttp = 127.0.0.1:${await freePort()}\nwsgi-file = ${app}\nprocesses = 1\npython = ${debianPython()}\n`);
  await vassal('a.ini', resolve(APPS, 'hello.py'));
  await vassal('b.ini', resolve(APPS, 'hello.py'));
  writeFileSync(join(dir, 'broken_app.py'), 'import no_such_module_for_berth\n');
  await vassal('broken.ini', join(dir, 'broken_app.py'));
  const emperorIni = join(dir, 'emperor.ini');
  const socket = join(dir, 'emperor.ctl');
  writeFileSync(emperorIni, `[uwsgi]\nemperor = ${vassals}\nemperor-throttle = 300\nctl-socket = ${socket}\n`);
  const proc = spawn(process.execPath, [BERTH_BIN, '--ini', emperorIni], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(proc);
  let log = '';
  proc.stdout?.on('data', (d) => { log += String(d); });
  proc.stderr?.on('data', (d) => { log += String(d); });

  await until('the control socket', () => /berth ctl: control socket/.test(log));
  assert.equal(statSync(socket).mode & 0o777, 0o600);
  await until('a.ini and b.ini ready, broken.ini throttled twice', async () => {
    const r = await ctl(['--ini', emperorIni, 'status', '--json']);
    const rows = (JSON.parse(r.stdout) as { programs: Row[] }).programs;
    return rows.length === 3 && rows.filter((x) => x.state === 'RUNNING' && x.name !== 'broken.ini').length === 2 && (rows.find((x) => x.name === 'broken.ini')?.restarts ?? 0) >= 2;
  });

  const table = await ctl(['--ini', emperorIni, 'status']);
  assert.equal(table.code, 0, 'a throttled vassal is like supervisor BACKOFF: status exits 0');
  assert.match(table.stdout, /^a\.ini\s+RUNNING\s+pid \d+, uptime 0:0\d:\d\d, 0 restart\(s\)$/m, `the emperor's log:\n${log}`);
  assert.match(table.stdout, /^b\.ini\s+RUNNING\s+pid \d+, uptime/m);
  assert.match(table.stdout, /^broken\.ini\s+(THROTTLED\s+crash-looping: next start in \d+ ms \(attempt \d+\)|RUNNING\s+pid \d+, uptime \S+), [2-9]\d* restart\(s\)$/m);

  const json = JSON.parse((await ctl(['--socket', socket, 'status', '--json'])).stdout) as { programs: Row[] };
  const a = json.programs.find((r) => r.name === 'a.ini')!;
  assert.ok(a.pid > 0 && isAlive(a.pid));
  assert.equal(a.restarts, 0);
  assert.equal(a.throttleMs, 0);
  await until('broken.ini seen throttled with its delay', async () => {
    const rows = (JSON.parse((await ctl(['--socket', socket, 'status', 'broken.ini', '--json'])).stdout) as { programs: Row[] }).programs;
    return rows[0]!.state === 'THROTTLED' && rows[0]!.throttleMs >= 300 && rows[0]!.pid === 0;
  });

  const stopped = await ctl(['--socket', socket, 'stop', 'a.ini']);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /^a\.ini: stopped$/m);
  await until('a.ini master gone', () => !isAlive(a.pid));
  const afterStop = await ctl(['--socket', socket, 'status', 'a.ini']);
  assert.equal(afterStop.code, 3, 'status of a STOPPED vassal exits 3, as supervisorctl');
  assert.match(afterStop.stdout, /^a\.ini\s+STOPPED\s+not running/m);
  assert.equal((await ctl(['--socket', socket, 'stop', 'a.ini'])).code, 0, 'stop of a stopped vassal: 0, as supervisorctl');

  const startedAgain = await ctl(['--socket', socket, 'start', 'a.ini']);
  assert.equal(startedAgain.code, 0);
  assert.match(startedAgain.stdout, /^a\.ini: started$/m);
  const a2 = (JSON.parse((await ctl(['--socket', socket, 'status', 'a.ini', '--json'])).stdout) as { programs: Row[] }).programs[0]!;
  assert.equal(a2.state, 'RUNNING');
  assert.notEqual(a2.pid, a.pid);
  assert.match((await ctl(['--socket', socket, 'start', 'a.ini'])).stdout, /a\.ini: ERROR \(already started\)/);

  const b = json.programs.find((r) => r.name === 'b.ini')!;
  assert.equal((await ctl(['--socket', socket, 'restart', 'b.ini'])).code, 0);
  const b2 = (JSON.parse((await ctl(['--socket', socket, 'status', 'b.ini', '--json'])).stdout) as { programs: Row[] }).programs[0]!;
  assert.ok(!isAlive(b.pid) && b2.pid !== b.pid && b2.state === 'RUNNING');

  assert.equal((await ctl(['--socket', socket, 'status', 'nosuch.ini'])).code, 4);
  assert.equal((await ctl(['--socket', socket, 'start', 'nosuch.ini'])).code, 1);
  assert.equal((await ctl(['--socket', socket, 'stop', 'nosuch.ini'])).code, 1);
  assert.match(log, /\[emperor\] berth ctl stop a\.ini: a\.ini: stopped/);

  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  for (const pid of [a2.pid, b2.pid]) assert.ok(!isAlive(pid), `vassal ${pid} stopped with the emperor`);
  assert.equal((await ctl(['--socket', socket, 'status'])).code, 4, 'no emperor: 4');
});
