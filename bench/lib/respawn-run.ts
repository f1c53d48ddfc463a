// Two measurements on one server start each:
//
// respawn: 1 worker. SIGKILL it, then send one request after another (a new
//   connection each) until one answers 200: that time is the respawn as a client
//   sees it. Requests that reach the server meanwhile either wait (uWSGI and
//   gunicorn keep the listening socket in the master; Berth queues them) or fail
//   fast and are retried after 5 ms. Repeated `reps` times; each new worker serves
//   for SETTLE_MS before it is killed, and kills are at least the server's
//   minKillIntervalMs apart.
// memory: N workers, warmed with a short wrk run, then USS/PSS of every process
//   of the tree by role (master, preloading parent, workers).
//
// Every process started is stopped through stopServer (SIGTERM, then SIGKILL to
// the process group) and checked to be gone.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, getStatus, waitReady } from './http-probe.js';
import { LogCapture } from './log-capture.js';
import { isAlive } from '../../src/master/proc.js';
import { TreeWatcher, spawnServer, stopServer, trySignal, type Tracker } from './proc.js';
import { whyFailed } from './reload-run.js';
import type { RespawnServer } from './respawn-servers.js';
import { procMemory, treeRoles, type ProcMemory } from './tree-memory.js';
import { runWrk } from './wrk.js';

export interface RespawnSettings {
  appDir: string;
  module: string;
  path: string;
  python: string;
  berthBin: string;
  env: NodeJS.ProcessEnv;
  readyTimeoutMs: number;
}

export interface RespawnResult {
  server: string;
  loading: string;
  ok: boolean;
  error?: string;
  /** Milliseconds from SIGKILL to the first 200, one per repetition that got one. */
  timesMs: number[];
  /** Repetitions without a 200 within the limit. */
  failures: number;
  /** Answers other than 200 seen while waiting, by status ("0" = connection error or timeout). */
  failedProbes: Record<string, number>;
  /** Log lines saying the server throttled respawns on purpose. */
  throttled: number;
  leftovers: number[];
}

export interface MemoryResult {
  server: string;
  loading: string;
  processes: number;
  ok: boolean;
  error?: string;
  master?: ProcMemory;
  parents: ProcMemory[];
  workers: ProcMemory[];
  /** Shells Berth keeps as process-group guards (see tree-memory.ts). */
  helpers: ProcMemory[];
  leftovers: number[];
}

/** A repetition without a 200 this long after the kill counts as a failure. */
export const RESPAWN_LIMIT_MS = 20_000;
/**
 * Each new worker serves this long before it is killed, so no server counts the kill
 * as a crash loop: Berth backs off (and after 5 such crashes gives the slot up) when a
 * worker dies within 1 s of its start; see also minKillIntervalMs for uWSGI.
 */
const SETTLE_MS = 1100;

async function waitForWorkers(root: number, count: number, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { workers } = treeRoles(root);
    if (workers.length === count || Date.now() > deadline) return workers;
    await sleep(20);
  }
}

/** Starts the server, waits for a 200, runs `body`, stops it; failures become `error`. */
async function withServer<T extends { ok: boolean; error?: string; leftovers: number[] }>(
  tracker: Tracker, s: RespawnSettings, server: RespawnServer, processes: number, result: T,
  body: (pid: number, port: number, log: LogCapture) => Promise<void>,
): Promise<T> {
  const port = await freePort();
  const { command, args } = server.command({ port, appDir: s.appDir, module: s.module, python: s.python, berthBin: s.berthBin, processes });
  const proc = spawnServer(tracker, command, args, s.appDir, { ...process.env, ...s.env });
  const log = new LogCapture(proc);
  // Every pid of the tree (killed workers included), for the final check.
  const watcher = new TreeWatcher(proc.pid, 200);
  watcher.start(tracker);
  try {
    const ready = await waitReady(proc, port, s.path, s.readyTimeoutMs);
    if (!ready.ok) {
      result.error = `failed to start: ${ready.reason}: ${whyFailed(log.text)}`;
      return result;
    }
    await body(proc.pid, port, log);
    if (proc.hasExited()) throw new Error(`server exited during the run (${await proc.exited}): ${whyFailed(log.text)}`);
    result.ok = result.error === undefined;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    await stopServer(tracker, proc, watcher, result);
  }
  return result;
}

export function measureRespawn(tracker: Tracker, s: RespawnSettings, server: RespawnServer, reps: number): Promise<RespawnResult> {
  const result: RespawnResult = {
    server: server.name, loading: server.loading, ok: false, timesMs: [], failures: 0, failedProbes: {}, throttled: 0, leftovers: [],
  };
  return withServer(tracker, s, server, 1, result, async (pid, port, log) => {
    for (let i = 0; i < 20; i++) await getStatus(port, s.path, 5000);
    let lastKill = 0;
    let lastServed = 0;
    for (let rep = 0; rep < reps; rep++) {
      const workers = await waitForWorkers(pid, 1, 5000);
      if (workers.length !== 1) throw new Error(`expected 1 worker process, found ${workers.length} (${workers.join(' ')})`);
      const victim = workers[0]!;
      const wait = Math.max(lastKill + server.minKillIntervalMs, lastServed + SETTLE_MS) - performance.now();
      if (wait > 0) await sleep(wait);
      lastKill = performance.now();
      trySignal(victim, 'SIGKILL');
      let status = 0;
      while (performance.now() - lastKill < RESPAWN_LIMIT_MS) {
        status = await getStatus(port, s.path, RESPAWN_LIMIT_MS);
        if (status === 200) break;
        result.failedProbes[status] = (result.failedProbes[status] ?? 0) + 1;
        await sleep(5);
      }
      lastServed = performance.now();
      const took = lastServed - lastKill;
      if (status !== 200) { result.failures++; continue; }
      if (isAlive(victim)) throw new Error(`worker ${victim} still alive after SIGKILL`);
      result.timesMs.push(took);
    }
    if (server.throttled) result.throttled = log.count(server.throttled);
  });
}

export function measureMemory(tracker: Tracker, s: RespawnSettings, server: RespawnServer, processes: number): Promise<MemoryResult> {
  const result: MemoryResult = { server: server.name, loading: server.loading, processes, ok: false, parents: [], workers: [], helpers: [], leftovers: [] };
  return withServer(tracker, s, server, processes, result, async (pid, port) => {
    const url = `http://127.0.0.1:${port}${s.path}`;
    await runWrk(tracker, { url, connections: 2 * processes, threads: 2, durationS: 1 });
    await sleep(300);
    const workers = await waitForWorkers(pid, processes, 5000);
    const roles = treeRoles(pid);
    if (workers.length !== processes || roles.workers.length !== processes) {
      result.error = `expected ${processes} worker processes, found ${roles.workers.length}`;
    }
    result.master = procMemory(roles.master);
    result.parents = roles.parents.map(procMemory);
    result.workers = roles.workers.map(procMemory);
    result.helpers = roles.helpers.map(procMemory);
  });
}
