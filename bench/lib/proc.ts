// Process handling for the bench: spawn a server in its own process group,
// watch its whole tree (and sample its memory), stop it and prove nothing is
// left behind.
//
// Why a process group: uWSGI, gunicorn and Berth all fork children; killing the
// group (-pgid) reaches every descendant that did not call setsid(), and the
// pids seen by the sampler cover the rest. The Tracker remembers every live
// group so that Ctrl-C on the bench kills them all before it exits.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readMemoryReport, readRssBytes } from '../../src/worker/proc-memory.js';
import { isAlive } from '../../src/master/proc.js';

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

/** The direct children of `pid`, from every thread's /proc children list. */
export function childrenOf(pid: number): number[] {
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

/** A pid's memory; 0 once it is gone (or unreadable): the sampler races with exits. */
function memoryKb(pid: number): { rssKb: number; pssKb: number } {
  let pss: number | undefined;
  try { pss = readMemoryReport(pid)?.pssBytes; } catch { /* not ours to read */ }
  return { rssKb: (readRssBytes(pid) ?? 0) / 1024, pssKb: (pss ?? 0) / 1024 };
}

/**
 * Records every pid ever seen in a server's tree (killed and retired workers included), every
 * intervalMs, so that the stop can check that all of them are gone; the tracker kills them on
 * Ctrl-C. Reads nothing but the tree, so it does not load the server being measured.
 */
export class TreeWatcher {
  #timer: NodeJS.Timeout | undefined;
  readonly seen = new Set<number>();

  constructor(readonly root: number, readonly intervalMs: number) {}

  start(tracker: Tracker): void {
    tracker.watch(this.seen);
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** Records the tree as it is now; returns its pids. */
  sample(): number[] {
    const pids = processTree(this.root);
    for (const pid of pids) this.seen.add(pid);
    return pids;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * Also sums VmRSS (statm) and PSS (smaps_rollup) over the tree at every sample and keeps the
 * peaks. Summing RSS counts a forked worker's copy-on-write pages once per process (uWSGI forks
 * after loading the app), so PSS, which splits shared pages between their sharers, is kept beside it.
 */
export class RssSampler extends TreeWatcher {
  #peakRssKb = 0;
  #peakPssKb = 0;

  override sample(): number[] {
    const pids = super.sample();
    let rss = 0;
    let pss = 0;
    for (const pid of pids) {
      const m = memoryKb(pid);
      rss += m.rssKb;
      pss += m.pssKb;
    }
    if (rss > this.#peakRssKb) this.#peakRssKb = rss;
    if (pss > this.#peakPssKb) this.#peakPssKb = pss;
    return pids;
  }

  get peakRssKb(): number { return this.#peakRssKb; }
  get peakPssKb(): number { return this.#peakPssKb; }
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

/** What a run records about its server's stop. */
export interface Stopped {
  error?: string;
  /** Pids of the tree still alive after the stop (then SIGKILLed). */
  leftovers: number[];
}

/**
 * Sends SIGTERM to the root only (the server must stop its own children, as under a real
 * supervisor), waits up to graceMs, then SIGKILLs the group. Afterwards every pid the watcher
 * ever saw must be gone: those still alive are SIGKILLed and recorded in `into.leftovers` and
 * `into.error`. Returns how the root went away: "exit 0", "SIGTERM", or "killed after 5 s (…)".
 */
export async function stopServer(
  tracker: Tracker, server: ServerProcess, watcher: TreeWatcher, into: Stopped, graceMs = 5000,
): Promise<string> {
  // The newest workers (started since the last sample) are counted too.
  watcher.sample();
  watcher.stop();
  let how: string;
  if (server.hasExited()) {
    how = `already ${await server.exited}`;
  } else {
    trySignal(server.pid, 'SIGTERM');
    const timeout = sleep(graceMs).then(() => 'timeout');
    how = await Promise.race([server.exited, timeout]);
    if (how === 'timeout') {
      trySignal(-server.pid, 'SIGKILL');
      how = `killed after ${graceMs / 1000} s (${await server.exited})`;
    }
  }
  // Children get a moment to notice their parent left before we call them leftovers.
  const candidates = [...new Set([...watcher.seen, ...processTree(server.pid)])].filter((p) => p !== server.pid);
  const deadline = Date.now() + 2000;
  let alive = candidates.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(100);
    alive = alive.filter(isAlive);
  }
  for (const pid of alive) trySignal(pid, 'SIGKILL');
  trySignal(-server.pid, 'SIGKILL');
  tracker.remove(server.pid);
  tracker.unwatch(watcher.seen);
  into.leftovers = alive;
  if (alive.length > 0) into.error = `${into.error ? `${into.error}; ` : ''}left processes behind: ${alive.join(' ')}`;
  return how;
}

/** Kernel ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuSecondsSplit(pid);
  return user + system;
}

/** A pid's CPU seconds so far in user space and in the kernel, apart (utime, stime). */
export function cpuSecondsSplit(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
}

/** CPU seconds so far of every process of the tree under `pid`, user space and kernel apart. */
export function treeCpuSplit(pid: number): { user: number; system: number } {
  const split = processTree(pid).map(cpuSecondsSplit);
  return { user: split.reduce((s, c) => s + c.user, 0), system: split.reduce((s, c) => s + c.system, 0) };
}

/**
 * Context switches (voluntary + involuntary) of every thread of a process so far: each is a
 * wake-up or a preemption, so their rate says how often the process competes for a core.
 */
export function contextSwitches(pid: number): number {
  let sum = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
      sum += Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0) + Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      /* the thread exited meanwhile */
    }
  }
  return sum;
}

/**
 * Busy CPU seconds of the whole machine so far, all cores (/proc/stat's first line: every
 * column but idle and iowait; guest time is already inside user and nice).
 */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
  return (ticks.reduce((a, b) => a + b, 0) - ticks[3]! - ticks[4]!) / TICKS_PER_SECOND;
}

/** Resolves with the first match of `pattern` in the process's output; rejects with the output if it exits first. */
export function waitForOutput(proc: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      const m = pattern.exec(log);
      if (m !== null) {
        clearInterval(t);
        resolve(m);
      }
    }, 50);
    proc.once('exit', () => {
      clearInterval(t);
      reject(new Error(log));
    });
  });
}
