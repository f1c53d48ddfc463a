// Crashed-worker respawn time and worker memory, Berth vs uWSGI vs gunicorn, on
// the Django app, with the app preloaded (imported once, workers forked) or
// loaded lazily (imported by every worker).
//
//   node dist/bench/respawn.js [--only respawn,memory] [--servers a,b,...]
//        [--reps 10] [--workers 2,4] [--python /usr/bin/python3] [--berth bin/berth.js]
//
// respawn: 1 worker; SIGKILL it and time until a request is answered 200 again;
//   `reps` times; median and p90.
// memory: 2 and 4 workers, after a 1 s wrk warm-up; USS and PSS of the master,
//   of a preloading parent if any, and of each worker (/proc/<pid>/smaps_rollup).
//
// Not a test: no assertions. Every process it starts is stopped (process groups).

import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { eachFlag, fmt, benchSession, log, mdTable, nameList, positive, prepareDjango, resultsBase, runMain } from './lib/cli-common.js';
import { RESPAWN_LIMIT_MS, measureMemory, measureRespawn, type MemoryResult, type RespawnResult } from './lib/respawn-run.js';
import { RESPAWN_SERVERS } from './lib/respawn-servers.js';
import type { ProcMemory } from './lib/tree-memory.js';

interface Args {
  only: string[];
  servers: string[];
  reps: number;
  workers: number[];
  python: string;
  berth?: string;
}

const PARTS = ['respawn', 'memory'];

const USAGE = `usage: node dist/bench/respawn.js [options]
  --only LIST      ${PARTS.join(',')} (default both)
  --servers LIST   ${RESPAWN_SERVERS.map((s) => s.name).join(',')}
  --reps N         kills per server (default 10)
  --workers LIST   worker counts for the memory table (default 2,4)
  --python PATH    interpreter for the app (default /usr/bin/python3)
  --berth PATH     Berth launcher (default <repo>/bin/berth.js)`;

function parseArgs(argv: string[]): Args {
  const args: Args = { only: PARTS, servers: RESPAWN_SERVERS.map((s) => s.name), reps: 10, workers: [2, 4], python: '/usr/bin/python3' };
  eachFlag(argv, (flag, take) => {
    switch (flag) {
      case '--only': args.only = nameList(take(), PARTS, 'part'); break;
      case '--servers': args.servers = nameList(take(), RESPAWN_SERVERS.map((s) => s.name), 'server'); break;
      case '--reps': args.reps = Math.round(positive(take(), flag)); break;
      case '--workers': args.workers = take().split(',').map((w) => Math.round(positive(w, flag))); break;
      case '--python': args.python = take(); break;
      case '--berth': args.berth = resolve(take()); break;
      case '-h': case '--help': console.log(USAGE); process.exit(0);
      default: throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  });
  return args;
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))]!;
}

const mib = (kb: number) => fmt(kb / 1024, 1);
const sum = (ms: ProcMemory[], key: 'ussKb' | 'pssKb') => ms.reduce((n, m) => n + m[key], 0);
const failure = (error: string | undefined) => `failed: ${(error ?? '').replace(/\|/g, '/').slice(0, 160)}`;

function respawnTable(results: RespawnResult[]): string {
  const head = ['server', 'app loading', 'median ms', 'p90 ms', 'min ms', 'max ms', 'respawns timed', 'notes'];
  return mdTable(head, results.map((r) => {
    const notes = [
      r.failures > 0 ? `${r.failures} without a 200 in ${RESPAWN_LIMIT_MS / 1000} s` : '',
      Object.keys(r.failedProbes).length > 0
        ? `failed requests while waiting: ${Object.entries(r.failedProbes).map(([st, n]) => `${st === '0' ? 'conn. error' : st} ×${n}`).join(', ')}`
        : '',
      r.throttled > 0 ? `${r.throttled}× "respawning too fast"` : '',
      r.error ? failure(r.error) : '',
    ].filter(Boolean).join('; ');
    if (r.timesMs.length === 0) return [r.server, r.loading, '—', '—', '—', '—', '0', notes];
    return [r.server, r.loading, fmt(percentile(r.timesMs, 50), 0), fmt(percentile(r.timesMs, 90), 0),
      fmt(Math.min(...r.timesMs), 0), fmt(Math.max(...r.timesMs), 0), String(r.timesMs.length), notes];
  }));
}

function memoryTable(results: MemoryResult[]): string {
  const head = ['server', 'app loading', 'workers', 'master USS / PSS', 'parent USS / PSS', 'per worker USS / PSS (mean)',
    'workers USS / PSS (sum)', 'guard shells USS / PSS', 'total USS / PSS'];
  return mdTable(head, results.map((r) => {
    if (!r.master) return [r.server, r.loading, String(r.processes), failure(r.error), '', '', '', '', ''];
    const n = r.workers.length;
    const all = [r.master, ...r.parents, ...r.workers, ...r.helpers];
    const pair = (ms: ProcMemory[]) => `${mib(sum(ms, 'ussKb'))} / ${mib(sum(ms, 'pssKb'))}`;
    const per = n === 0 ? '—' : `${mib(sum(r.workers, 'ussKb') / n)} / ${mib(sum(r.workers, 'pssKb') / n)}`;
    const workersCell = `${n}${r.error ? ` (${r.error})` : ''}`;
    return [r.server, r.loading, workersCell, pair([r.master]), r.parents.length ? pair(r.parents) : '—', per, pair(r.workers),
      r.helpers.length ? `${r.helpers.length}: ${pair(r.helpers)}` : '—', pair(all)];
  }));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { root, tracker, tempDirs, cleanup } = benchSession();
  const servers = RESPAWN_SERVERS.filter((s) => args.servers.includes(s.name));
  const respawns: RespawnResult[] = [];
  const memory: MemoryResult[] = [];
  try {
    const django = prepareDjango(root, args.python);
    tempDirs.push(django.prepared.tempDir);
    const settings = {
      appDir: django.appDir, module: django.module, path: django.path, python: args.python,
      berthBin: args.berth ?? join(root, 'bin/berth.js'), env: django.prepared.env, readyTimeoutMs: 30_000,
    };
    for (const server of servers) {
      if (args.only.includes('respawn')) {
        log(`[${server.name}] respawn × ${args.reps} ...`);
        const r = await measureRespawn(tracker, settings, server, args.reps);
        respawns.push(r);
        log(`  ${r.timesMs.map((t) => Math.round(t)).join(' ')} ms${r.error ? ` ERROR ${r.error}` : ''}`);
      }
      if (args.only.includes('memory')) {
        for (const n of args.workers) {
          log(`[${server.name}] memory with ${n} workers ...`);
          const m = await measureMemory(tracker, settings, server, n);
          memory.push(m);
          log(`  ${m.master ? `total PSS ${mib(sum([m.master, ...m.parents, ...m.workers, ...m.helpers], 'pssKb'))} MiB, ${m.workers.length} workers` : ''}${m.error ? ` ERROR ${m.error}` : ''}`);
        }
      }
    }
  } finally {
    cleanup();
  }
  if (respawns.length > 0) {
    console.log(`\nRespawn of a SIGKILLed worker (1 worker; time from SIGKILL to the next 200; ${args.reps} kills):\n`);
    console.log(respawnTable(respawns));
  }
  if (memory.length > 0) {
    console.log('\nMemory after a 1 s wrk warm-up, MiB (USS = private pages; PSS = shared pages split among sharers):\n');
    console.log(memoryTable(memory));
  }
  const file = `${resultsBase(root, 'respawn-')}.json`;
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), args, respawns, memory }, null, 2)}\n`);
  log(`results: ${file}`);
}

runMain('respawn bench', main);
