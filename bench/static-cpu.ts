/**
 * CPU per static request of the process that serves it: Berth's master (static-map) and the
 * bare-Node reference (bench/lib/bare-node.ts), optionally a base build of Berth (A/B), for a
 * 10 KiB and a 1 MiB file. wrk for a fixed time, then utime+stime from /proc/<pid>/stat divided
 * by the requests served: far less disturbed by other load on the machine than req/s.
 * The workers' CPU is read the same way (every other process of the tree): with http-direct on,
 * a worker accepts the connection and hands it to the master on its first static request, so
 * on kept connections it should be near zero. With --close every request asks
 * `Connection: close` (10 KiB only; berth against berth-master, http-direct off): each request
 * is then a new connection, and the difference is the price of that first hand-off.
 * Also the serving process's context switches per request under load, and the whole tree's
 * wake-ups per second while idle (IDLE_SECONDS before the warm-up): what else competes for the
 * cores besides the requests themselves (a worker's poll, ticks, timers).
 * Interleaved rounds; prints µs per request for each round and the median.
 * Run: bash scripts/build.sh && node dist/bench/static-cpu.js [rounds] [seconds] [base bin/berth.js] [--close]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contextSwitches, cpuSeconds, processTree, waitForOutput } from './lib/proc.js';
import { freePort } from './lib/http-probe.js';

const ROOT = process.cwd();
const CLOSE = process.argv.includes('--close');
const [rounds, seconds, base] = process.argv.slice(2).filter((a) => a !== '--close');
const ROUNDS = Number(rounds ?? 3);
const SECONDS = Number(seconds ?? 5);
const BASE = base;
const FILES = { '10k': { bytes: 10 * 1024, connections: 64 }, '1m': { bytes: 1024 * 1024, connections: 16 } } as const;
const WRK_CLOSE = CLOSE ? ['-H', 'Connection: close'] : [];
const IDLE_SECONDS = 2;

/** Context switches of every process in `pid`'s tree, itself included. */
function treeSwitches(pid: number): number {
  let sum = 0;
  for (const p of processTree(pid)) {
    try {
      sum += contextSwitches(p);
    } catch {
      /* exited meanwhile */
    }
  }
  return sum;
}

/** utime+stime of every process in `pid`'s tree but `pid` itself (Berth's workers and zygote). */
function othersCpuSeconds(pid: number): number {
  let sum = 0;
  for (const p of processTree(pid)) {
    if (p === pid) continue;
    try {
      sum += cpuSeconds(p);
    } catch {
      /* exited meanwhile */
    }
  }
  return sum;
}

async function start(variant: string, dir: string): Promise<{ proc: ChildProcess; port: number }> {
  if (variant === 'bare-node') {
    // bare-node takes its port on the command line: one the kernel just handed out (./lib/http-probe.ts).
    const port = await freePort();
    const proc = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'lib', 'bare-node.js'), String(port), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (;;) {
      try {
        execFileSync('curl', ['-sf', '-o', '/dev/null', `http://127.0.0.1:${port}/static/10k.bin`]);
        return { proc, port };
      } catch {
        if (proc.exitCode !== null) throw new Error('bare-node did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  const bin = variant === 'berth-base' ? BASE! : join(ROOT, 'bin', 'berth.js');
  // Named on both sides, so a base build with another default is measured on the same path.
  const direct = variant === 'berth-master' ? ['--http-direct=false'] : ['--http-direct=true'];
  const proc = spawn(process.execPath, [bin, '--http', '127.0.0.1:0', '--wsgi-file', join(ROOT, 'test', 'fixtures', 'apps', 'hello.py'),
    '--processes', '1', '--python', '/usr/bin/python3', '--disable-logging', '--static-map', `/static=${dir}`, ...direct], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForOutput(proc, /listening on http:\/\/127\.0\.0\.1:(\d+)[\s\S]*all 1 worker\(s\) ready|all 1 worker\(s\) ready[\s\S]*listening on http:\/\/127\.0\.0\.1:(\d+)/);
  return { proc, port: Number(m[1] ?? m[2]) };
}

interface RoundResult { us: number; workersUs: number; rps: number; switchesPerRequest: number; idleWakeups: number }

async function round(variant: string, dir: string, file: keyof typeof FILES): Promise<RoundResult> {
  const { proc, port } = await start(variant, dir);
  const url = `http://127.0.0.1:${port}/static/${file}.bin`;
  const c = String(FILES[file].connections);
  const idleBefore = treeSwitches(proc.pid!);
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const idleWakeups = (treeSwitches(proc.pid!) - idleBefore) / IDLE_SECONDS;
  execFileSync('wrk', ['-t2', `-c${c}`, '-d1s', ...WRK_CLOSE, url]); // warm-up
  const before = cpuSeconds(proc.pid!);
  const othersBefore = othersCpuSeconds(proc.pid!);
  const switchesBefore = contextSwitches(proc.pid!);
  const out = execFileSync('wrk', ['-t2', `-c${c}`, `-d${SECONDS}s`, ...WRK_CLOSE, url], { encoding: 'utf8' });
  const cpu = cpuSeconds(proc.pid!) - before;
  const othersCpu = othersCpuSeconds(proc.pid!) - othersBefore;
  const switches = contextSwitches(proc.pid!) - switchesBefore;
  proc.kill(variant === 'bare-node' ? 'SIGTERM' : 'SIGQUIT');
  await new Promise((r) => proc.once('exit', r));
  const requests = Number(/(\d+) requests in/.exec(out)![1]);
  if (/Non-2xx|Socket errors/.test(out)) throw new Error(`${variant}: non-2xx answers or socket errors\n${out}`);
  return { us: (cpu / requests) * 1e6, workersUs: (othersCpu / requests) * 1e6, rps: requests / SECONDS, switchesPerRequest: switches / requests, idleWakeups };
}

const dir = mkdtempSync(join(tmpdir(), 'berth-static-cpu-'));
for (const [name, f] of Object.entries(FILES)) writeFileSync(join(dir, `${name}.bin`), randomBytes(f.bytes));
// bare-node answers keep-alive whatever the request asks, so it has no place in --close rounds.
const variants = ['berth', ...(BASE !== undefined ? ['berth-base'] : []), CLOSE ? 'berth-master' : 'bare-node'];
const files = (CLOSE ? ['10k'] : Object.keys(FILES)) as (keyof typeof FILES)[];
const results = new Map<string, number[]>();
try {
  for (let r = 1; r <= ROUNDS; r++) {
    for (const file of files) {
      for (const v of variants) {
        const { us, workersUs, rps, switchesPerRequest, idleWakeups } = await round(v, dir, file);
        const key = `${file} ${v}`;
        results.set(key, [...(results.get(key) ?? []), us]);
        // bare-node is one process: it has no workers to report.
        if (v !== 'bare-node') results.set(`${key} workers`, [...(results.get(`${key} workers`) ?? []), workersUs]);
        console.log(`round ${r} ${key}: ${us.toFixed(1)} µs CPU per request${v === 'bare-node' ? '' : `, workers ${workersUs.toFixed(1)} µs`} (${Math.round(rps)} req/s; ${switchesPerRequest.toFixed(3)} switches per request, idle tree ${idleWakeups.toFixed(1)} wake-ups/s)`);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const [key, xs] of results) {
  const sorted = [...xs].sort((a, b) => a - b);
  console.log(`median ${key}: ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} µs (range ${sorted[0]!.toFixed(1)}–${sorted.at(-1)!.toFixed(1)})`);
}
