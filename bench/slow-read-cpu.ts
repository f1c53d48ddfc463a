/**
 * The master's CPU per slow-client read, A/B between Berth builds (issues 16 × 14).
 *
 * 256 slow clients as the slow-clients scenario sends them (bench/lib/slow-clients.ts: one
 * byte per tick, a request every 2 s), no wrk: on the direct path the workers hand every slow
 * connection to the master, so nearly all the master's CPU goes to those reads. Per round and
 * build: start Berth (hello, 2 workers, defaults), let the clients settle, then the master's
 * utime+stime from /proc over the run divided by the one-byte writes the clients made: the
 * master's reads are not counted, so the figure is per byte sent (on loopback with no delay,
 * about one read each, but coalesced bytes make it a bound, not a count). CPU per unit is little moved by other load on
 * a shared machine; the builds alternate within each round.
 * Run: bash scripts/build.sh && node dist/bench/slow-read-cpu.js [rounds] [seconds] [berth.js …]
 * (default builds: this tree's bin/berth.js; give two paths to compare, e.g. a copy of main's.)
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds } from './lib/proc.js';
import { freePort, untilAnswered } from './lib/http-probe.js';
import { SlowClients } from './lib/slow-clients.js';
import { SLOW_CLIENTS, SLOW_REQUEST_MS } from './lib/scenarios.js';

const ROOT = process.cwd();
const args = process.argv.slice(2);
const ROUNDS = Number(args[0] ?? 3);
const SECONDS = Number(args[1] ?? 6);
const BUILDS = args.length > 2 ? args.slice(2) : [join(ROOT, 'bin', 'berth.js')];
interface Sample {
  readonly usPerRead: number;
  readonly reads: number;
  readonly answers: number;
  readonly errors: number;
}

const HELLO = join(ROOT, 'test', 'fixtures', 'apps');
/** Long enough for every client to have connected and been handed to the master. */
const SETTLE_MS = 3000;

async function measure(berth: string): Promise<Sample> {
  const port = await freePort();
  const proc = spawn(process.execPath, [berth, '--http', `127.0.0.1:${port}`, '--chdir', HELLO, '--module', 'hello', '--processes', '2', '--threads', '1', '--python', '/usr/bin/python3', '--disable-logging'], { stdio: 'ignore' });
  const slow = new SlowClients({ port, clients: SLOW_CLIENTS, requestMs: SLOW_REQUEST_MS });
  try {
    await untilAnswered(`http://127.0.0.1:${port}/`, proc);
    slow.start();
    await sleep(SETTLE_MS);
    const sentBefore = slow.peek().bytesSent;
    const answersBefore = slow.peek().responses;
    const cpuBefore = cpuSeconds(proc.pid!);
    await sleep(SECONDS * 1000);
    const cpuAfter = cpuSeconds(proc.pid!);
    const stats = slow.peek();
    const reads = stats.bytesSent - sentBefore;
    return { usPerRead: ((cpuAfter - cpuBefore) / reads) * 1e6, reads, answers: stats.responses - answersBefore, errors: stats.errors };
  } finally {
    slow.stop();
    proc.kill('SIGTERM');
    if (proc.exitCode === null) await new Promise((r) => proc.once('exit', r));
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = BUILDS.map(() => [] as Sample[]);
for (let r = 1; r <= ROUNDS; r++) {
  for (const [i, berth] of BUILDS.entries()) {
    const s = await measure(berth);
    results[i]!.push(s);
    console.log(`round ${r} ${berth}: master ${s.usPerRead.toFixed(2)} µs per byte sent (${s.reads} one-byte writes, ${s.answers} answers, ${s.errors} errors)`);
  }
}
console.log('\n| build | master µs per byte the slow clients sent (median) | all rounds |');
console.log('| --- | --- | --- |');
for (const [i, berth] of BUILDS.entries()) {
  const xs = results[i]!.map((s) => s.usPerRead);
  console.log(`| ${berth} | ${median(xs).toFixed(2)} | ${xs.map((x) => x.toFixed(2)).join(', ')} |`);
}
