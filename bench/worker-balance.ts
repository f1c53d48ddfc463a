/**
 * How kept connections spread over the workers on the direct HTTP path (issue 16, session s15A).
 *
 * Per round, server and wrk -c: start the server (hello by default, 2 workers; Berth also with --threads 2),
 * run wrk -t2 for the given seconds, and sample `ss` three times during the run for who holds
 * each established connection on the port (pid → count; a master's share shows as its pid).
 * Prints req/s, p50/p99 and, per worker, the connections held and its CPU µs per request
 * (utime+stime from /proc over the run ÷ all requests: a worker doing more of the work shows a
 * higher share). uWSGI --http-socket closes every connection, so its counts are a snapshot of
 * requests in flight, not kept connections. Builds alternate within each round (A/B).
 * Run: bash scripts/build.sh && node dist/bench/worker-balance.js [rounds] [seconds] [berth.js …]
 * (default: this tree's bin/berth.js; give two paths to compare, e.g. /tmp/berth-base-A/bin/berth.js).
 * WORKER_BALANCE_UWSGI=0 leaves uWSGI out. WORKER_BALANCE_APP=django runs bench/lib/scenarios.ts's
 * Django site instead of hello, at its own wrk -c (16) only: a CPU-bound app, where the split
 * sets how deep each worker's queue is (after a 1 s wrk warm-up, so both workers are warm).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childrenOf, cpuSeconds, Tracker } from './lib/proc.js';
import { freePort, untilAnswered } from './lib/http-probe.js';
import { runWrk } from './lib/wrk.js';
import { SCENARIOS } from './lib/scenarios.js';

const ROOT = process.cwd();
const args = process.argv.slice(2);
const ROUNDS = Number(args[0] ?? 1);
const SECONDS = Number(args[1] ?? 6);
const BUILDS = args.length > 2 ? args.slice(2) : [join(ROOT, 'bin', 'berth.js')];
const APP_NAME = process.env['WORKER_BALANCE_APP'] ?? 'hello';
const APP = SCENARIOS.find((s) => s.name === APP_NAME && !s.slowClients && s.optIn !== true)
  ?? (() => { throw new Error(`WORKER_BALANCE_APP=${APP_NAME}: give hello or django`); })();
const APP_DIR = join(ROOT, APP.appDir);
const PREPARED = APP.prepare?.(ROOT, '/usr/bin/python3');
const APP_ENV = { ...process.env, ...PREPARED?.env };
const CONNECTIONS = APP_NAME === 'hello' ? [64, 16] : [APP.connections];

interface Server { readonly label: string; readonly start: (port: number) => ChildProcess }

function berth(path: string, threads: number): Server {
  return {
    label: `${path} t${threads}`,
    start: (port) => spawn(process.execPath, [path, '--http', `127.0.0.1:${port}`, '--chdir', APP_DIR, '--module', APP.module,
      '--processes', '2', '--threads', String(threads), '--python', '/usr/bin/python3', '--disable-logging'], { stdio: 'ignore', env: APP_ENV }),
  };
}

const UWSGI: Server = {
  label: 'uwsgi --http-socket',
  start: (port) => spawn('uwsgi', ['--plugin', 'python3', '--http-socket', `127.0.0.1:${port}`, '--master', '--processes', '2',
    '--threads', '1', '--chdir', APP_DIR, '--module', APP.module, '--disable-logging', '--die-on-term'], { stdio: 'ignore', env: APP_ENV }),
};

/** pid → established connections it holds on `port` (server side). */
function holders(port: number): Map<number, number> {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  const counts = new Map<number, number>();
  for (const m of out.matchAll(/pid=(\d+)/g)) counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1);
  return counts;
}

/** The worker pids of a server: Berth's workers are the zygote's children, uWSGI's the master's. */
function workersOf(proc: ChildProcess): number[] {
  const kids = childrenOf(proc.pid!);
  const grand = kids.flatMap((k) => childrenOf(k));
  return (grand.length > 0 ? grand : kids).sort((a, b) => a - b);
}

async function measure(server: Server, connections: number): Promise<string> {
  const port = await freePort();
  const proc = server.start(port);
  const tracker = new Tracker();
  try {
    await untilAnswered(`http://127.0.0.1:${port}${APP.path}`, proc);
    await sleep(1500); // every worker up, not only the one that answered (a busy machine forks slowly)
    // Django's first request in a worker is slow (its lazy set-up): run cold, it keeps the loop in
    // the app past the idle grace and that worker's kept connections go to the master for the run.
    if (APP_NAME !== 'hello') await runWrk(tracker, { url: `http://127.0.0.1:${port}${APP.path}`, connections, durationS: 1 });
    const workers = workersOf(proc);
    const cpu0 = workers.map(cpuSeconds);
    const run = runWrk(tracker, { url: `http://127.0.0.1:${port}${APP.path}`, connections, durationS: SECONDS });
    const samples: string[] = [];
    for (let i = 1; i <= 3; i++) {
      await sleep((SECONDS * 1000) / 4);
      const held = holders(port);
      const others = [...held.entries()].filter(([pid]) => !workers.includes(pid)).reduce((n, [, c]) => n + c, 0);
      samples.push(workers.map((w) => held.get(w) ?? 0).join('/') + (others > 0 ? ` (+${others})` : ''));
    }
    const r = await run;
    const cpu = workers.map((w, i) => (((cpuSeconds(w) - cpu0[i]!) / r.requests) * 1e6).toFixed(1));
    return `| ${server.label} | ${connections} | ${Math.round(r.rps)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${samples.join(', ')} | ${cpu.join(' / ')} |`;
  } finally {
    proc.kill('SIGTERM');
    if (proc.exitCode === null) await new Promise((r) => proc.once('exit', r));
  }
}

console.log('| server | wrk -c | req/s | p50 ms | p99 ms | connections per worker (3 samples) | worker CPU µs/req |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (let round = 1; round <= ROUNDS; round++) {
  const servers = [...BUILDS.flatMap((b) => [berth(b, 1), berth(b, 2)]), ...(process.env['WORKER_BALANCE_UWSGI'] === '0' ? [] : [UWSGI])];
  for (const connections of CONNECTIONS) {
    for (const server of servers) console.log(await measure(server, connections));
  }
}
if (PREPARED !== undefined) rmSync(PREPARED.tempDir, { recursive: true, force: true });
