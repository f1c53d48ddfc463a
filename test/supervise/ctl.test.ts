import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { readStatsDocument } from '../../src/stats/stats-client.js';
import { APPS, BERTH_BIN, startBerth } from '../helpers/berth.js';

function ctl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BERTH_BIN, 'ctl', ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

function ini(dir: string, programs: string): string {
  return [
    '[uwsgi]', 'http = 127.0.0.1:0', `wsgi-file = ${join(APPS, 'hello.py')}`, 'processes = 2', `pidfile = ${dir}/berth.pid`, `stats = ${dir}/stats.sock`,
    programs,
  ].join('\n');
}

async function workerPids(dir: string): Promise<number[]> {
  const doc = await readStatsDocument(join(dir, 'stats.sock'), { timeoutMs: 5000 });
  return (doc['workers'] as { pid: number }[]).map((w) => w.pid).sort();
}

test('berth ctl against a running Berth: the status table, --json, tail, the exit codes, update after an ini edit (web workers untouched), stats', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctl-'));
  const file = join(dir, 'site.ini');
  writeFileSync(file, ini(dir, [
    '[program:sleeper]', "command = /bin/sh -c 'echo sleeper up; exec sleep 300'", 'startsecs = 0',
    '[program:gone]', 'command = sleep 300', 'startsecs = 0',
    '[program:once]', 'command = true', 'startsecs = 0', 'autorestart = false',
  ].join('\n')));
  const berth = await startBerth(['--ini', file]);
  try {
    await berth.waitForLog(/program sleeper: RUNNING/);
    await berth.waitForLog(/program once: exited with code 0 \(expected\)/);
    assert.equal(statSync(`${dir}/berth.pid.ctl`).mode & 0o777, 0o600);

    const table = await ctl(['--ini', file, 'status']);
    assert.equal(table.code, 3, 'a program (once) is not running: 3, as supervisorctl');
    assert.match(table.stdout, /^web\s+RUNNING\s+master pid \d+, 2 worker\(s\), generation 1$/m);
    assert.match(table.stdout, /^sleeper\s+RUNNING\s+pid \d+, uptime 0:00:\d\d$/m);
    assert.match(table.stdout, /^once\s+EXITED\s+exited with code 0/m);

    const one = await ctl(['--pidfile', `${dir}/berth.pid`, 'status', 'sleeper', '--json']);
    assert.equal(one.code, 0);
    const json = JSON.parse(one.stdout) as { programs: { name: string; state: string; pid: number }[] };
    assert.deepEqual(json.programs.map((p) => [p.name, p.state]), [['sleeper', 'RUNNING']]);

    assert.match((await ctl(['--socket', `${dir}/berth.pid.ctl`, 'tail', 'sleeper'])).stdout, /^sleeper up$/m);
    assert.equal((await ctl(['--socket', `${dir}/nothing.ctl`, 'status'])).code, 4);
    assert.equal((await ctl(['--ini', file, 'stop', 'nosuch'])).code, 1);

    const stats = await readStatsDocument(join(dir, 'stats.sock'), { timeoutMs: 5000 });
    const listed = (stats['berth'] as { programs: { name: string; state: string }[] }).programs;
    assert.deepEqual(listed.map((p) => [p.name, p.state]), [['sleeper', 'RUNNING'], ['gone', 'RUNNING'], ['once', 'EXITED']]);

    const before = await workerPids(dir);
    const sleeperPid = json.programs[0]!.pid;
    writeFileSync(file, ini(dir, [
      '[program:sleeper]', "command = /bin/sh -c 'echo sleeper up; exec sleep 300'", 'startsecs = 0',
      '[program:once]', 'command = true', 'startsecs = 0', 'autorestart = false', 'exitcodes = 0,1',
      '[program:added]', 'command = sleep 300', 'startsecs = 0',
    ].join('\n')));
    const reread = await ctl(['--ini', file, 'reread']);
    assert.equal(reread.stdout, 'added: available\nonce: changed\ngone: disappeared\n');
    const update = await ctl(['--ini', file, 'update', '--json']);
    assert.equal(update.code, 0, update.stderr);
    assert.deepEqual(JSON.parse(update.stdout).plan, { added: ['added'], changed: ['once'], removed: ['gone'] });
    await berth.waitForLog(/program added: RUNNING/);
    const after = JSON.parse((await ctl(['--ini', file, 'status', '--json'])).stdout) as { programs: { name: string; state: string; pid: number }[] };
    assert.deepEqual(after.programs.map((p) => p.name), ['web', 'sleeper', 'once', 'added']);
    assert.equal(after.programs.find((p) => p.name === 'sleeper')!.pid, sleeperPid, 'an unchanged program keeps running');
    assert.deepEqual(await workerPids(dir), before, 'the web workers are untouched by update');
    assert.doesNotMatch(berth.logs(), /SIGHUP|reloading|generation 2/);
  } finally {
    const stopped = await berth.stop();
    assert.equal(stopped.code, 0);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.match(berth.logs(), /program sleeper: stopped/);
});
