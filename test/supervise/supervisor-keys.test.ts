/**
 * supervisor's [program:x] keys at work in a running Berth, each seen in what the processes did
 * (not only in the parsed spec): priority, directory, environment per process, numprocs,
 * SUPERVISOR_* variables, redirect_stderr, autostart = false, exitcodes with autorestart,
 * stopsignal + stopwaitsecs, supervisorctl's PROGRAM:* names, and state/restarts/uptime in the
 * stats document and /metrics.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject).end();
  });
}

interface ProgramRow { name: string; state: string; restarts: number; uptime_s: number; pid: number }

async function until<T>(what: string, probe: () => Promise<T | null>, boundMs = 20_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("supervisor's keys do what supervisor's do, in a running Berth; berth ctl takes PROGRAM:*; stats and /metrics show state, restarts, uptime", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-keys-'));
  mkdirSync(join(dir, 'sub'));
  const file = join(dir, 'site.ini');
  writeFileSync(file, [
    '[uwsgi]', 'http = 127.0.0.1:0', `wsgi-file = ${join(APPS, 'hello.py')}`, 'processes = 1', `pidfile = ${dir}/berth.pid`,
    `stats = ${dir}/stats.sock`, 'metrics = 127.0.0.1:0',
    // Written first, started last: priority orders the starts, not the file.
    '[program:later]', 'command = sleep 300', 'priority = 900', 'startsecs = 0',
    '[program:first]', 'command = sleep 300', 'priority = 1', 'startsecs = 0',
    '[program:env]', 'numprocs = 2', 'process_name = %(program_name)s_%(process_num)d', 'directory = %(here)s/sub',
    'environment = GREETING="hi %(process_num)d"', 'redirect_stderr = true', 'stdout_logfile = %(here)s/env_%(process_num)d.log', 'startsecs = 0',
    `command = /bin/sh -c 'echo "$GREETING $PWD $SUPERVISOR_PROCESS_NAME $SUPERVISOR_GROUP_NAME"; echo to-stderr >&2; exec sleep 300'`,
    '[program:manual]', 'command = sleep 300', 'autostart = false', 'startsecs = 0',
    '[program:three]', "command = /bin/sh -c 'sleep 0.2; exit 3'", 'exitcodes = 0,3', 'startsecs = 0',
    '[program:crashy]', `command = /bin/sh -c 'if [ -e ${dir}/crashed ]; then exec sleep 300; fi; touch ${dir}/crashed; sleep 0.2; exit 4'`, 'exitcodes = 0,3', 'startsecs = 0',
    '[program:stubborn]', 'stopsignal = INT', 'stopwaitsecs = 1', 'startsecs = 0',
    `command = /bin/sh -c 'trap "echo got-int" INT; echo armed; while :; do sleep 0.1; done'`,
  ].join('\n'));
  const berth = await startBerth(['--ini', file]);
  try {
    await berth.waitForLog(/\[stubborn\] armed/);
    await berth.waitForLog(/program crashy: spawned with pid \d+[^\n]*\n[\s\S]*program crashy: spawned with pid/);
    const log = berth.logs();
    assert.ok(log.indexOf('program first: spawned') < log.indexOf('program later: spawned'), `priority 1 starts before priority 900:\n${log}`);
    assert.match(log, /program three: exited with code 3 \(expected\)\n/, 'exit 3 is in exitcodes: not restarted');
    assert.match(log, /program crashy: exited with code 4 \(not expected\); starting it again/);
    assert.doesNotMatch(log, /program manual: spawned/, 'autostart = false');

    for (const n of [0, 1]) {
      const out = await until(`env_${n}.log`, async () => {
        const t = readFileSync(join(dir, `env_${n}.log`), 'utf8');
        return t.includes('to-stderr') ? t : null;
      });
      assert.match(out, new RegExp(`^hi ${n} ${join(dir, 'sub')} env_${n} env$`, 'm'), 'environment per process, directory, SUPERVISOR_PROCESS_NAME, SUPERVISOR_GROUP_NAME');
      assert.match(out, /^to-stderr$/m, 'redirect_stderr: stderr in the stdout file');
    }

    const stopGroup = await ctl(['--ini', file, 'stop', 'env:*']);
    assert.equal(stopGroup.code, 0, stopGroup.stderr);
    assert.equal(stopGroup.stdout, 'env_0: stopped\nenv_1: stopped\n');
    const one = await ctl(['--ini', file, 'start', 'env:env_1']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, 'env_1: started\n');
    const statusGroup = await ctl(['--ini', file, 'status', 'env:*']);
    assert.equal(statusGroup.code, 3, 'env_0 is STOPPED');
    assert.match(statusGroup.stdout, /^env_0\s+STOPPED\s+stopped /m);
    assert.match(statusGroup.stdout, /^env_1\s+RUNNING\s+pid \d+/m);
    assert.equal((await ctl(['--ini', file, 'status', 'env:nosuch'])).code, 4);
    assert.equal((await ctl(['--ini', file, 'status', 'nosuch:*'])).code, 4);

    assert.equal((await ctl(['--ini', file, 'start', 'manual'])).code, 0);
    await berth.waitForLog(/program manual: spawned/);

    const stop = await ctl(['--ini', file, 'stop', 'stubborn']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(berth.logs(), /program stubborn: stopping \(SIGINT to its process group; SIGKILL after 1 s\)/);
    assert.match(berth.logs(), /\[stubborn\] got-int/, 'stopsignal = INT reached the program');
    assert.match(berth.logs(), /program stubborn: still running 1 s after SIGINT \(stopwaitsecs\); killing it/);
    assert.match(berth.logs(), /program stubborn: stopped \(exited by SIGKILL\)/);

    const rows = await until('first up for a second and crashy running again', async () => {
      const doc = await readStatsDocument(join(dir, 'stats.sock'), { timeoutMs: 5000 });
      const programs = (doc['berth'] as unknown as { programs: ProgramRow[] }).programs;
      const by = new Map(programs.map((p) => [p.name, p]));
      return by.get('first')!.uptime_s >= 1 && by.get('crashy')!.state === 'RUNNING' ? by : null;
    });
    assert.deepEqual([rows.get('crashy')!.restarts, rows.get('three')!.restarts, rows.get('three')!.state], [1, 0, 'EXITED']);
    assert.deepEqual([rows.get('stubborn')!.state, rows.get('stubborn')!.uptime_s], ['STOPPED', 0]);

    const metricsAt = /Prometheus metrics on http:\/\/(127\.0\.0\.1:\d+)\/metrics/.exec(berth.logs())?.[1];
    assert.ok(metricsAt !== undefined, berth.logs());
    const metrics = await httpGet(`http://${metricsAt}/metrics`);
    assert.match(metrics, /^berth_program_restarts_total\{program="crashy"\} 1$/m);
    assert.match(metrics, /^berth_program_state\{program="crashy",state="RUNNING"\} 1$/m);
    assert.match(metrics, /^berth_program_state\{program="crashy",state="BACKOFF"\} 0$/m);
    assert.match(metrics, /^berth_program_state\{program="three",state="EXITED"\} 1$/m);
    assert.match(metrics, /^berth_program_state\{program="stubborn",state="STOPPED"\} 1$/m);
    assert.match(metrics, /^berth_program_uptime_seconds\{program="first"\} [1-9]\d*(\.\d+)?$/m);
    assert.match(metrics, /^berth_program_uptime_seconds\{program="stubborn"\} 0$/m);
  } finally {
    const stopped = await berth.stop();
    assert.equal(stopped.code, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
