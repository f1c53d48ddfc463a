/**
 * The master's memory against the floor Node itself sets: PSS, RSS and USS (smaps_rollup) of Berth's master
 * (hello app, `http`, 2 workers, after wrk warmed the serving path) and of a bare Node process
 * that only listens, started in the same round, so both share the same mapped binary and the
 * same machine state. Interleaved rounds; prints each round and the median ratios. PSS splits
 * the node binary's pages among every Node process on the machine, so on a shared machine it
 * swings with the others' tests; RSS (all pages mapped) and USS (pages only this process has)
 * do not, and the ratio is reported for all three.
 * Variants: `berth` (this build), `berth-base` (another build, A/B), and with --node-flags
 * any V8 flags for the master (e.g. --max-semi-space-size=1), applied through NODE_OPTIONS.
 * With --breakdown the master (not a base build) is started with bench/lib/memory-probe.js preloaded and each
 * round also prints where its memory goes: V8's heap spaces (used/size), external and malloced memory.
 * --settle S reads the memory S seconds after wrk (default 1.5; the master compacts its old
 * generation once it has been idle for a whole 5 s check, so --settle 12 shows the idle master);
 * --direct serves with http-direct (the workers accept; the master holds what they hand over);
 * without it the master holds every connection (http-direct = false, named whatever the default).
 * Run: bash scripts/build.sh && node dist/bench/memory.js [rounds] [base bin/berth.js] [--node-flags "…"] [--breakdown] [--settle S] [--direct]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readMemoryReport } from '../src/worker/proc-memory.js';
import { waitForOutput } from './lib/proc.js';

const ROOT = process.cwd();
const args = process.argv.slice(2);
const flagAt = args.indexOf('--node-flags');
const NODE_FLAGS = flagAt >= 0 ? args.splice(flagAt, 2)[1]! : '';
const breakdownAt = args.indexOf('--breakdown');
const BREAKDOWN = breakdownAt >= 0;
if (BREAKDOWN) args.splice(breakdownAt, 1);
const settleAt = args.indexOf('--settle');
const SETTLE_MS = settleAt >= 0 ? Number(args.splice(settleAt, 2)[1]) * 1000 : 1500;
const directAt = args.indexOf('--direct');
const DIRECT = directAt >= 0;
if (DIRECT) args.splice(directAt, 1);
const PROBE_DIR = BREAKDOWN ? mkdtempSync(join(tmpdir(), 'berth-memory-probe-')) : '';
const ROUNDS = Number(args[0] ?? 3);
const BASE = args[1];
const MiB = 1024 * 1024;


async function stop(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null) return;
  proc.kill(signal);
  await new Promise((r) => proc.once('exit', r));
}

interface Mem {
  readonly pss: number;
  readonly rss: number;
  readonly uss: number;
}

function memOf(pid: number): Mem {
  const m = readMemoryReport(pid)!;
  return { pss: m.pssBytes / MiB, rss: m.rssBytes / MiB, uss: m.ussBytes / MiB };
}

/** Memory in MiB of a bare Node process listening on a port (no other work): Node's floor. */
async function bareMem(): Promise<Mem> {
  const proc = spawn(process.execPath, ['-e', "require('node:net').createServer().listen(0, '127.0.0.1', () => console.log('listening'))"], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForOutput(proc, /listening/);
  await sleep(1000);
  const mem = memOf(proc.pid!);
  await stop(proc, 'SIGTERM');
  return mem;
}

interface Probe {
  readonly usage: NodeJS.MemoryUsage;
  readonly spaces: Record<string, { used: number; size: number }>;
  readonly mallocedBytes: number;
  readonly externalBytes: number;
}

function printProbe(p: Probe): void {
  const mib = (x: number): string => (x / MiB).toFixed(2);
  const spaces = Object.entries(p.spaces).filter(([, s]) => s.size > 0).map(([name, s]) => `${name.replace(/_space$/, '')} ${mib(s.used)}/${mib(s.size)}`);
  console.log(`  heap used/total ${mib(p.usage.heapUsed)}/${mib(p.usage.heapTotal)} MiB, external ${mib(p.usage.external)} (array buffers ${mib(p.usage.arrayBuffers)}), malloced ${mib(p.mallocedBytes)}, rss ${mib(p.usage.rss)}`);
  console.log(`  spaces used/size MiB: ${spaces.join(', ')}`);
}

async function berthMem(bin: string, probe: boolean): Promise<Mem> {
  const probeFile = join(PROBE_DIR, 'probe.json');
  const options = [NODE_FLAGS, ...(probe ? [`--import=${join(ROOT, 'dist', 'bench', 'lib', 'memory-probe.js')}`] : [])].filter((o) => o !== '').join(' ');
  const env = options === '' ? process.env : { ...process.env, NODE_OPTIONS: options, ...(probe ? { BERTH_MEMORY_PROBE_OUT: probeFile } : {}) };
  const proc = spawn(process.execPath, [bin, '--http', '127.0.0.1:0', '--wsgi-file', join(ROOT, 'test', 'fixtures', 'apps', 'hello.py'),
    '--processes', '2', '--python', '/usr/bin/python3', '--disable-logging', DIRECT ? '--http-direct' : '--http-direct=false'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const m = await waitForOutput(proc, /listening on http:\/\/127\.0\.0\.1:(\d+)[\s\S]*all 2 worker\(s\) ready|all 2 worker\(s\) ready[\s\S]*listening on http:\/\/127\.0\.0\.1:(\d+)/);
  execFileSync('wrk', ['-t1', '-c16', '-d2s', `http://127.0.0.1:${m[1] ?? m[2]}/`]);
  await sleep(SETTLE_MS);
  const mem = memOf(proc.pid!);
  if (probe) printProbe(JSON.parse(readFileSync(probeFile, 'utf8')) as Probe);
  await stop(proc, 'SIGQUIT');
  return mem;
}

const variants: [string, string][] = [['berth', join(ROOT, 'bin', 'berth.js')], ...(BASE !== undefined ? [['berth-base', BASE] as [string, string]] : [])];
const ratios = new Map<string, number[]>();
const keep = (key: string, x: number): void => void ratios.set(key, [...(ratios.get(key) ?? []), x]);
const f = (x: number): string => x.toFixed(1);
for (let r = 1; r <= ROUNDS; r++) {
  const bare = await bareMem();
  for (const [name, bin] of variants) {
    const m = await berthMem(bin, BREAKDOWN && name === 'berth');
    for (const k of ['pss', 'rss', 'uss'] as const) keep(`${name} ${k}`, m[k] / bare[k]);
    console.log(`round ${r} ${name}${NODE_FLAGS !== '' ? ` (${NODE_FLAGS})` : ''}${DIRECT ? ' http-direct' : ''}, +${SETTLE_MS / 1000} s: master PSS/RSS/USS ${f(m.pss)}/${f(m.rss)}/${f(m.uss)} MiB, bare Node ${f(bare.pss)}/${f(bare.rss)}/${f(bare.uss)} MiB, PSS ratio ${(m.pss / bare.pss).toFixed(2)}×`);
  }
}
for (const [key, xs] of ratios) {
  const s = [...xs].sort((a, b) => a - b);
  console.log(`median ${key}: ${s[Math.floor(s.length / 2)]!.toFixed(2)}× bare Node (range ${s[0]!.toFixed(2)}–${s.at(-1)!.toFixed(2)})`);
}
if (BREAKDOWN) rmSync(PROBE_DIR, { recursive: true, force: true });
