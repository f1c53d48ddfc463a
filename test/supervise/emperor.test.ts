/**
 * The emperor with real vassals (each a real Berth with a real Python worker): three vassal inis,
 * a fourth added, one touched, one removed, one that cannot import its app (throttled), the
 * stats document in uWSGI's emperor format, and no vassal left after SIGTERM or SIGKILL.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { APPS, BERTH_BIN, debianPython } from '../helpers/berth.js';
import { until } from '../helpers/wait.js';
import { isAlive } from '../../src/master/proc.js';
import { canConnect, freePort } from '../helpers/nginx.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-emperor-'));
const started: ChildProcess[] = [];
after(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function get(port: number, path = '/'): Promise<string> {
  return fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.text());
}


/** Who listens on `port` (ss -ltnp), for a failure message. */
function listenersOn(port: number): string {
  try {
    return execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' }) || '(nobody listens)';
  } catch (e) {
    return `ss failed: ${String(e)}`;
  }
}

function vassalIni(name: string, port: number, app = 'hello.py'): void {
  writeFileSync(join(dir, name), `[uwsgi]\nhttp = 127.0.0.1:${port}\nwsgi-file = ${resolve(APPS, app)}\nprocesses = 1\npython = ${debianPython()}\n`);
}

interface EmperorDoc { pid: number; vassals: { id: string; pid: number; born: number; last_mod: number; loyal: number; ready: number; accepting: number; respawns: number }[]; blacklist: { id: string; attempt: number; throttle_level: number }[] }

function stats(port: number): Promise<EmperorDoc> {
  return new Promise((resolve, reject) => {
    let text = '';
    createConnection(port, '127.0.0.1').on('data', (d) => { text += String(d); }).on('end', () => resolve(JSON.parse(text) as EmperorDoc)).on('error', reject);
  });
}

function startEmperor(statsPort: number): { proc: ChildProcess; log: () => string } {
  const proc = spawn(process.execPath, [BERTH_BIN, '--emperor', dir, '--emperor-stats', `127.0.0.1:${statsPort}`, '--emperor-throttle', '200', '--emperor-freq', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(proc);
  let out = '';
  proc.stdout?.on('data', (d) => { out += String(d); });
  proc.stderr?.on('data', (d) => { out += String(d); });
  return { proc, log: () => out };
}

test('emperor: vassals start, reload on touch, stop on removal, crash-loop throttled, all gone on SIGTERM', async () => {
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const [pa, pb, pc, pd, statsPort] = ports as [number, number, number, number, number];
  vassalIni('a.ini', pa);
  vassalIni('b.ini', pb);
  vassalIni('c.ini', pc);
  const emperor = startEmperor(statsPort);
  for (const p of [pa, pb, pc]) await until(`vassal on ${p} serves\n${emperor.log()}`, async () => (await get(p).catch(() => '')) === 'Hello, World!');

  const doc = await stats(statsPort);
  assert.equal(doc.pid, emperor.proc.pid);
  assert.deepEqual(doc.vassals.map((v) => v.id).sort(), ['a.ini', 'b.ini', 'c.ini']);
  for (const v of doc.vassals) {
    for (const key of ['pid', 'born', 'last_mod', 'last_heartbeat', 'loyal', 'ready', 'accepting', 'last_loyal', 'last_ready', 'last_accepting', 'first_run', 'last_run', 'cursed', 'zerg', 'suspended', 'adopted', 'uid', 'gid', 'respawns']) {
      assert.equal(typeof (v as unknown as Record<string, unknown>)[key], 'number', `vassal key ${key} is a number`);
    }
    assert.equal(typeof (v as unknown as Record<string, unknown>)['on_demand'], 'string');
    assert.ok(Array.isArray((v as unknown as Record<string, unknown>)['attrs']));
  }
  await until('every vassal reports ready and accepting', async () => (await stats(statsPort)).vassals.every((v) => v.ready === 1 && v.accepting === 1));
  const pidOf = async (id: string): Promise<number> => (await stats(statsPort)).vassals.find((v) => v.id === id)?.pid ?? 0;

  // A fourth file: a fourth vassal.
  vassalIni('d.ini', pd);
  await until('the added vassal d.ini serves', async () => (await get(pd).catch(() => '')) === 'Hello, World!');

  // Touched: the same master (pid), a new generation of workers.
  const bPid = await pidOf('b.ini');
  const later = new Date(Date.now() + 5000);
  utimesSync(join(dir, 'b.ini'), later, later);
  await until('b.ini reloaded to generation 2', () => /\[vassal b\.ini\] .*generation 2 serves/.test(emperor.log()));
  assert.equal(await pidOf('b.ini'), bPid, 'a touched vassal keeps its master');
  assert.equal(await get(pb), 'Hello, World!');

  // Removed: its port closes, its master is gone.
  const cPid = await pidOf('c.ini');
  rmSync(join(dir, 'c.ini'));
  await until('c.ini stopped', async () => !isAlive(cPid) && !(await canConnect(pc)));
  assert.ok(!(await stats(statsPort)).vassals.some((v) => v.id === 'c.ini'));

  // A vassal whose app cannot be imported: restarted with a growing delay.
  writeFileSync(join(dir, 'broken_app.py'), 'import no_such_module_for_berth\n');
  vassalIni('broken.ini', await freePort(), join(dir, 'broken_app.py'));
  await until('three throttled restarts of broken.ini', () => (emperor.log().match(/vassal broken\.ini exited on its own.*throttled, next start in \d+ ms/g) ?? []).length >= 3);
  const delays = [...emperor.log().matchAll(/vassal broken\.ini exited on its own.*attempt (\d+): throttled, next start in (\d+) ms/g)].map((m) => Number(m[2]));
  assert.deepEqual(delays.slice(0, 3), [200, 400, 800], 'the delay doubles');
  const black = (await stats(statsPort)).blacklist;
  assert.ok(black.length === 0 || black.every((b) => b.id === 'broken.ini'));
  rmSync(join(dir, 'broken.ini'));

  // SIGTERM: every vassal stops, then the emperor exits 0.
  const pids = (await stats(statsPort)).vassals.map((v) => v.pid).filter((p) => p > 0);
  assert.ok(pids.length >= 3);
  const exited = new Promise<number | null>((resolve) => emperor.proc.once('exit', (code) => resolve(code)));
  emperor.proc.kill('SIGTERM');
  assert.equal(await exited, 0, emperor.log());
  assert.deepEqual(pids.filter((p) => isAlive(p)), [], 'no vassal outlives the emperor');
  for (const p of [pa, pb, pd]) assert.ok(!(await canConnect(p)));
});

test('emperor: SIGKILLed, its vassals notice the closed pipe and stop', async () => {
  const [pa, pb, statsPort] = await Promise.all([freePort(), freePort(), freePort()]);
  for (const f of ['a.ini', 'b.ini', 'd.ini', 'broken.ini']) rmSync(join(dir, f), { force: true });
  vassalIni('k1.ini', pa);
  vassalIni('k2.ini', pb);
  const emperor = startEmperor(statsPort);
  for (const p of [pa, pb]) await until(`vassal on ${p} serves\n${emperor.log()}`, async () => (await get(p).catch(() => '')) === 'Hello, World!');
  const pids = (await stats(statsPort)).vassals.map((v) => v.pid);
  assert.equal(pids.length, 2);
  emperor.proc.kill('SIGKILL');
  await until('both vassal masters exit after the emperor was killed', () => pids.every((p) => !isAlive(p)), 15_000);
  for (const p of [pa, pb]) assert.ok(!(await canConnect(p)), `port ${p} still accepts after the masters ${pids.join(', ')} exited: ${listenersOn(p)}\n${emperor.log()}`);
});
