/**
 * The master's CPU per request with stats off and on: hello-world through `http`, 2 workers,
 * wrk for a fixed time, then the master's utime+stime (/proc/<pid>/stat) divided by the
 * requests served. CPU time per request is far less disturbed by other load on the machine than
 * req/s is. Interleaved rounds (default 3); prints µs per request for each round and the median.
 * Run: bash scripts/build.sh && node dist/bench/stats-cpu.js [rounds] [seconds]
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { cpuSeconds } from './lib/proc.js';

const ROOT = process.cwd();
const ROUNDS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 5);
const VARIANTS: Record<string, string[]> = { off: [], on: ['--stats', '127.0.0.1:0', '--stats-http', '--metrics', '127.0.0.1:0'] };


async function round(extra: readonly string[]): Promise<number> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'berth.js'), '--http', '127.0.0.1:0', '--wsgi-file', join(ROOT, 'test', 'fixtures', 'apps', 'hello.py'),
    '--processes', '2', '--python', '/usr/bin/python3', '--disable-logging', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setInterval(() => {
      const m = /all 2 worker\(s\) ready/.test(log) ? /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log) : null;
      if (m !== null) {
        clearInterval(t);
        resolve(Number(m[1]));
      }
    }, 50);
    proc.once('exit', () => reject(new Error(log)));
  });
  const url = `http://127.0.0.1:${port}/`;
  execFileSync('wrk', ['-t1', '-c16', '-d1s', url]); // warm-up
  const before = cpuSeconds(proc.pid!);
  const out = execFileSync('wrk', ['-t1', '-c16', `-d${SECONDS}s`, url], { encoding: 'utf8' });
  const cpu = cpuSeconds(proc.pid!) - before;
  proc.kill('SIGQUIT');
  await new Promise((r) => proc.once('exit', r));
  const requests = Number(/(\d+) requests in/.exec(out)![1]);
  return (cpu / requests) * 1e6;
}

const results: Record<string, number[]> = { off: [], on: [] };
for (let r = 1; r <= ROUNDS; r++) {
  for (const [name, extra] of Object.entries(VARIANTS)) {
    const us = await round(extra);
    results[name]!.push(us);
    console.log(`round ${r} stats ${name}: ${us.toFixed(2)} µs of master CPU per request`);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const off = median(results['off']!);
const on = median(results['on']!);
console.log(`median: off ${off.toFixed(2)} µs, on ${on.toFixed(2)} µs per request (${(((on - off) / off) * 100).toFixed(1)} %)`);
