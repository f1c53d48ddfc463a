// Process handling for the bench: spawn a server in its own process group,
// sample the RSS of its whole tree, stop it and prove nothing is left behind.
//
// Why a process group: uWSGI, gunicorn and Berth all fork children; killing the
// group (-pgid) reaches every descendant that did not call setsid(), and the
// pids seen by the sampler cover the rest. The Tracker remembers every live
// group so that Ctrl-C on the bench kills them all before it exits.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const OUTPUT_TAIL_BYTES = 4096;

/** Every process group the bench started and has not reaped yet. */
export class Tracker {
  #groups = new Set<number>();
  #pidSets = new Set<Set<number>>();

  add(pid: number): void { this.#groups.add(pid); }
  remove(pid: number): void { this.#groups.delete(pid); }
  /** A live set of pids (a sampler's "seen") to kill too, for daemons that left the group. */
  watch(pids: Set<number>): void { this.#pidSets.add(pids); }
  unwatch(pids: Set<number>): void { this.#pidSets.delete(pids); }

  /** Synchronous on purpose: it runs from signal and 'exit' handlers. */
  killAll(): void {
    for (const pgid of this.#groups) trySignal(-pgid, 'SIGKILL');
    for (const set of this.#pidSets) for (const pid of set) if (isAlive(pid)) trySignal(pid, 'SIGKILL');
    this.#groups.clear();
    this.#pidSets.clear();
  }
}

export function trySignal(pid: number, signal: NodeJS.Signals): boolean {
  try { process.kill(pid, signal); return true; } catch { return false; }
}

/** A pid is alive if /proc has it and it is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch { return false; }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) {
        if (c.trim() !== '') out.push(Number(c));
      }
    } catch { /* task exited meanwhile */ }
  }
  return out;
}

/** The root pid and all its descendants (breadth first). */
export function processTree(root: number): number[] {
  const seen: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (!isAlive(pid) || seen.includes(pid)) continue;
    seen.push(pid);
    queue.push(...childrenOf(pid));
  }
  return seen;
}

export function rssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

/**
 * Proportional set size: shared pages split between the processes sharing
 * them. Summing RSS counts a forked worker's copy-on-write pages once per
 * process (uWSGI forks after loading the app), so PSS is reported beside it.
 */
export function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

/** Samples sum(VmRSS) and sum(Pss) over the tree every intervalMs; keeps the peaks. */
export class RssSampler {
  #timer: NodeJS.Timeout | undefined;
  #peakKb = 0;
  #peakPssKb = 0;
  readonly seen = new Set<number>();

  constructor(readonly root: number, readonly intervalMs = 100) {}

  start(): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
  }

  sample(): void {
    let total = 0;
    let pss = 0;
    for (const pid of processTree(this.root)) {
      this.seen.add(pid);
      total += rssKb(pid);
      pss += pssKb(pid);
    }
    if (total > this.#peakKb) this.#peakKb = total;
    if (pss > this.#peakPssKb) this.#peakPssKb = pss;
  }

  get peakPssKb(): number { return this.#peakPssKb; }

  /** Stops sampling; returns the peak summed RSS in kB. */
  stop(): number {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    return this.#peakKb;
  }
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) once the root exits. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
  outputTail(): string;
}

export function spawnServer(
  tracker: Tracker, command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv,
): ServerProcess {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let done = false;
  const exited = new Promise<string>((resolve) => {
    child.on('error', (err) => { done = true; keep(Buffer.from(`spawn error: ${err.message}\n`)); resolve('spawn-error'); });
    child.on('exit', (code, signal) => { done = true; resolve(signal ?? `exit ${code}`); });
  });
  if (child.pid !== undefined) tracker.add(child.pid);
  return {
    child, pid: child.pid ?? -1, exited,
    hasExited: () => done,
    outputTail: () => tail,
  };
}

export interface StopResult {
  /** How the root went away: "exit 0", "SIGTERM", or "killed after 5 s". */
  how: string;
  /** Pids of the tree still alive after the stop (then SIGKILLed). */
  leftovers: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends `signal` to the root only (the server must stop its own children, as
 * under a real supervisor), waits up to graceMs, then SIGKILLs the group.
 * Afterwards every pid ever seen in the tree must be gone.
 */
export async function stopServer(
  tracker: Tracker, server: ServerProcess, seen: Iterable<number>,
  signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000,
): Promise<StopResult> {
  let how: string;
  if (server.hasExited()) {
    how = `already ${await server.exited}`;
  } else {
    trySignal(server.pid, signal);
    const timeout = sleep(graceMs).then(() => 'timeout');
    how = await Promise.race([server.exited, timeout]);
    if (how === 'timeout') {
      trySignal(-server.pid, 'SIGKILL');
      how = `killed after ${graceMs / 1000} s (${await server.exited})`;
    }
  }
  // Children get a moment to notice their parent left before we call them leftovers.
  const candidates = [...new Set([...seen, ...processTree(server.pid)])].filter((p) => p !== server.pid);
  const deadline = Date.now() + 2000;
  let alive = candidates.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(100);
    alive = alive.filter(isAlive);
  }
  for (const pid of alive) trySignal(pid, 'SIGKILL');
  trySignal(-server.pid, 'SIGKILL');
  tracker.remove(server.pid);
  return { how, leftovers: alive };
}
