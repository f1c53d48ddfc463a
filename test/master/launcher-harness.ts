/**
 * Test helper (no tests here) for the launcher tests: a launch config for the worker-protocol
 * test app, WorkerEvents that record everything, exchanges whose responses can be awaited,
 * and /proc checks that no process outlived a test.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';

import type { Launcher } from '../../src/master/launcher.js';
import type { LaunchConfig } from '../../src/master/spawn.js';
import type { Interpreter } from '../../src/master/interpreter.js';
import { Exchange, type Responder } from '../../src/server/exchange.js';
import { CgiNameCache, buildCgiBlock } from '../../src/server/http-environ.js';
import type { WorkerEvents, WorkerHandle } from '../../src/worker/handle.js';

export const INTERPRETER: Interpreter = { path: '/usr/bin/python3', chosenBy: 'test' };
export const APPS = path.join(process.cwd(), 'test', 'fixtures', 'worker-apps');

export function launchConfig(over: Partial<LaunchConfig> = {}): LaunchConfig {
  return {
    module: 'apps', wsgiFile: null, callable: 'application', chdir: APPS, pythonpath: [], threads: 2, processes: 2,
    staticFromDjango: false, env: [], uid: null, gid: null, umask: null, pyAutoreloadMs: 0, lazyApps: false, reloadOnRssBytes: 0, reloadCheckDjango: true, ...over,
  };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** A Responder that records one answer (FULL, streamed, or Berth's own error). */
class RecordingResponder implements Responder {
  headSent = false;
  readonly answer: Promise<Answer>;
  #status = 0;
  #chunks: Buffer[] = [];
  #resolve: (a: Answer) => void = () => undefined;

  constructor() {
    this.answer = new Promise((resolve) => (this.#resolve = resolve));
  }

  sendHead(status: string): boolean {
    this.headSent = true;
    this.#status = Number.parseInt(status, 10);
    return true;
  }

  sendBody(chunk: Buffer, flushed: () => void): void {
    this.#chunks.push(Buffer.from(chunk));
    flushed();
  }

  sendEnd(): void {
    this.#resolve({ status: this.#status, body: Buffer.concat(this.#chunks).toString() });
  }

  sendFull(status: string, _headers: readonly string[], body: Buffer): void {
    this.headSent = true;
    this.#resolve({ status: Number.parseInt(status, 10), body: body.toString() });
  }

  sendError(status: number, message: string): void {
    this.#resolve({ status, body: message });
  }
}

/** A GET exchange for `target` and the promise of its answer. */
export function get(target: string): { ex: Exchange; answer: Promise<Answer> } {
  const request = {
    method: 'GET', target, versionMinor: 1 as const, headers: ['Host', 'localhost'], remoteAddress: '127.0.0.1', remotePort: 50000, scheme: 'http' as const,
  };
  const facts = { remoteAddress: '127.0.0.1', remotePort: 50000, localAddress: '127.0.0.1', localPort: 8000, scheme: 'http' as const };
  const block = buildCgiBlock(request, facts, 0, new CgiNameCache());
  if (block === null) throw new Error(`no CGI block for ${target}`);
  const responder = new RecordingResponder();
  return { ex: new Exchange(request, block, null, responder, performance.now()), answer: responder.answer };
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** WorkerEvents that record; `readyOf` / `exitOf` wait for one handle. */
export class Recorder {
  readonly logs: string[] = [];
  output = '';
  readonly modules: Array<{ worker: WorkerHandle | null; paths: string[] }> = [];
  readonly #ready = new Map<WorkerHandle, () => void>();
  readonly #readySeen = new Set<WorkerHandle>();
  readonly #exits = new Map<WorkerHandle, Exit>();
  readonly #exitWaiters = new Map<WorkerHandle, Array<(e: Exit) => void>>();
  #outputWaiters: Array<{ re: RegExp; resolve: () => void }> = [];

  readonly events: WorkerEvents = {
    ready: (w) => {
      this.#readySeen.add(w);
      this.#ready.get(w)?.();
    },
    free: () => undefined,
    exited: (w, code, signal) => {
      this.#exits.set(w, { code, signal });
      for (const waiter of this.#exitWaiters.get(w) ?? []) waiter({ code, signal });
    },
    log: (level, message) => void this.logs.push(`${level}: ${message}`),
    output: (text) => {
      this.output += text;
      this.#outputWaiters = this.#outputWaiters.filter((w) => (w.re.test(this.output) ? (w.resolve(), false) : true));
    },
    modules: (worker, paths) => void this.modules.push({ worker, paths }),
  };

  readyOf(w: WorkerHandle): Promise<void> {
    if (this.#readySeen.has(w)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#ready.set(w, resolve);
      this.#onExit(w, (e) => reject(new Error(`worker ${w.slot} exited (${e.code}, ${e.signal}) before READY; logs: ${this.logs.join('\n')}\noutput: ${this.output}`)));
    });
  }

  exitOf(w: WorkerHandle): Promise<Exit> {
    const seen = this.#exits.get(w);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#onExit(w, resolve));
  }

  #onExit(w: WorkerHandle, waiter: (e: Exit) => void): void {
    const list = this.#exitWaiters.get(w) ?? [];
    list.push(waiter);
    this.#exitWaiters.set(w, list);
  }

  outputMatching(re: RegExp): Promise<void> {
    if (re.test(this.output)) return Promise.resolve();
    return new Promise((resolve) => this.#outputWaiters.push({ re, resolve }));
  }
}

/**
 * The launcher's spawnWorker, remembering each worker: after the test every one is killed and
 * the launcher is stopped.
 */
/** Starts `launcher`, spawns slot 1 and waits for its READY; everything is stopped after the test. */
export async function oneReadyWorker(t: TestContext, launcher: Launcher, rec: Recorder): Promise<WorkerHandle> {
  const spawn = spawnerFor(t, launcher);
  await launcher.start();
  const w = spawn(1);
  await rec.readyOf(w);
  return w;
}

export function spawnerFor(t: TestContext, launcher: Launcher): (slot: number) => WorkerHandle {
  const workers: WorkerHandle[] = [];
  t.after(async () => {
    for (const w of workers) w.kill();
    await launcher.stop();
  });
  return (slot) => {
    const w = launcher.spawnWorker(slot);
    workers.push(w);
    return w;
  };
}

/** Alive: a /proc entry that is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Live processes whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * Waits until a process group is empty. The guardian `sh` a group leader starts exits only
 * after the leader (on its "q" or on EOF), so on a loaded machine it may outlive the leader
 * by a moment; anything still there after `ms` is a real leftover and fails the assertion.
 */
export async function groupEmpties(pgid: number, message: string, ms = 5_000): Promise<void> {
  await until(`process group ${pgid} is empty`, () => groupMembers(pgid).length === 0, ms).catch(() => undefined);
  assert.deepEqual(groupMembers(pgid), [], message);
}

export async function until(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
