/**
 * Makes the worker processes of one generation: forked by a zygote, which imported the app (preload) or not (lazy-apps).
 *
 * Theory of operation: a Launcher makes the worker processes of one generation. Both modes
 * start one zygote (start() waits for its READY) and fork a worker per spawnWorker(slot):
 * FORK → FORKED(pid) → the child connects to the channel server with HELLO(slot, pid, token)
 * → that connection is its channel → READY as usual. EXITED from the zygote reports a
 * worker's end. If the zygote dies, its workers die with it (PR_SET_PDEATHSIG; the arbiter
 * respawns them) and the next spawnWorker starts a new zygote. stop() (after the workers
 * exited) sends the zygote SHUTDOWN, kills what is left of its process group and removes the
 * socket's directory.
 *
 *   preload  the zygote imports the app once, before READY; the forks share its pages.
 *   lazy     the zygote imports nothing of the app; each worker imports it after the fork
 *            (uWSGI's lazy-apps). The zygote is there to be the workers' subreaper: whatever
 *            the app starts, even with setsid or a double fork, stays below it and is killed
 *            when the master dies (python/berth_runtime/subreaper.py). A fork is also cheaper
 *            than starting an interpreter for every worker.
 *
 * Either way spawnWorker returns a WorkerHandle in STARTING, which becomes READY on its READY.
 * Reload = a new Launcher with generation + 1 (a new zygote imports the new code); the old
 * launcher is stopped once its workers are gone.
 */
import type { Socket } from 'node:net';
import type { ExitedInfo } from '../protocol/worker/payloads.js';
import { WorkerHandle, type WorkerEvents, type WorkerReadyInfo } from '../worker/handle.js';
import { ForkedProcess } from '../worker/process.js';
import { ChannelServer, HELLO_TIMEOUT_MS } from './channel-server.js';
import type { Interpreter } from './interpreter.js';
import { isAlive } from './proc.js';
import { spawnZygoteProcess, type DirectSockets, type LaunchConfig } from './spawn.js';
import { AppLoadFailure, Zygote } from './zygote.js';

export { AppLoadFailure } from './zygote.js';

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface Launcher {
  readonly mode: 'preload' | 'lazy';
  readonly generation: number;
  /** The zygote's READY (preload: with the Django info), once start() resolved. */
  readonly zygoteReady: WorkerReadyInfo | null;
  /** The zygote's pid while it runs, else 0. */
  readonly zygotePid: number;
  /** The unix socket forked workers connect to (HELLO). */
  readonly channelPath: string | null;
  /** Spawn the zygote and wait for its READY (rejects with AppLoadFailure; preload: the app did not import). */
  start(): Promise<void>;
  /** A worker for `slot`, STARTING until its READY. */
  spawnWorker(slot: number): WorkerHandle;
  /** After its workers exited: end the zygote, close the channel server; kills anything left. */
  stop(): Promise<void>;
}

export interface LauncherOptions {
  readonly config: LaunchConfig;
  readonly interpreter: Interpreter;
  readonly generation: number;
  readonly events: WorkerEvents;
  readonly log: Log;
  /** Default: config.lazyApps ? 'lazy' : 'preload'. */
  readonly mode?: 'preload' | 'lazy';
  /** uwsgi-direct: the sockets every worker (or the zygote, for its workers) inherits. */
  readonly direct?: DirectSockets | null;
}

export function createLauncher(opts: LauncherOptions): Launcher {
  return new ZygoteLauncher(opts, opts.mode ?? (opts.config.lazyApps ? 'lazy' : 'preload'));
}

/** How long stop() waits for workers / the zygote to exit before it kills them. */
const STOP_WORKERS_MS = 2_000;
const ZYGOTE_EXIT_MS = 3_000;

/** Resolves when `arm`'s callback is called, or after `ms` at the latest. */
function untilOrAfter(ms: number, arm: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    arm(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Polls `done` every 20 ms until it holds or `ms` passed. Only for what no event reports: a
 * worker forked by a zygote that died is nobody's child here, so its exit is not signalled.
 */
async function pollUntil(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

interface EarlyHello {
  readonly slot: number;
  readonly socket: Socket;
  readonly initial: Buffer;
  readonly timer: NodeJS.Timeout;
}

class ZygoteLauncher implements Launcher {
  readonly mode: 'preload' | 'lazy';
  readonly generation: number;
  zygoteReady: WorkerReadyInfo | null = null;
  readonly #opts: LauncherOptions;
  #server: ChannelServer | null = null;
  #zygote: Zygote | null = null;
  /** The zygote being (re)started; workers asked for meanwhile wait in #queued. */
  #starting: Promise<void> | null = null;
  readonly #queued: ForkedProcess[] = [];
  /** FORK sent, FORKED not back yet, per slot in order (the zygote answers FORKs in order). */
  readonly #awaitingForked = new Map<number, ForkedProcess[]>();
  readonly #byPid = new Map<number, ForkedProcess>();
  /** HELLOs that overtook their FORKED, by pid. */
  readonly #earlyHello = new Map<number, EarlyHello>();
  #stopping = false;
  #stopped: Promise<void> | null = null;
  /** stop(): called once no forked worker is left. */
  #emptied: (() => void) | null = null;

  constructor(opts: LauncherOptions, mode: 'preload' | 'lazy') {
    this.#opts = opts;
    this.mode = mode;
    this.generation = opts.generation;
  }

  get zygotePid(): number {
    return this.#zygote?.alive === true ? this.#zygote.pid : 0;
  }

  get channelPath(): string | null {
    return this.#server?.path ?? null;
  }

  async start(): Promise<void> {
    await this.#openServer();
    try {
      await this.#startZygote();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  spawnWorker(slot: number): WorkerHandle {
    const proc = new ForkedProcess({
      slot,
      inheritedDjango: this.zygoteReady?.django,
      recentOutput: () => this.#zygote?.recentOutput() ?? '',
    });
    const handle = new WorkerHandle(slot, this.generation, this.#opts.config.threads, proc, this.#opts.events);
    if (this.#stopping) {
      proc.exited(null, 'SIGKILL');
    } else if (this.#zygote !== null && this.#zygote.alive && this.#starting === null) {
      this.#fork(proc);
    } else {
      this.#queued.push(proc);
      if (this.#starting === null) void this.#restartZygote();
    }
    return handle;
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    for (const p of this.#queued.splice(0)) p.exited(null, 'SIGKILL');
    const workerPids = this.#live().map((p) => p.pid).filter((pid) => pid > 0);
    for (const p of this.#live()) p.kill('SIGKILL');
    if (this.#live().length > 0) await untilOrAfter(STOP_WORKERS_MS, (done) => (this.#emptied = done));
    this.#emptied = null;
    for (const p of this.#live()) p.exited(null, 'SIGKILL'); // the zygote never reported them
    const z = this.#zygote;
    if (z !== null) {
      if (z.alive) {
        z.shutdown();
        await untilOrAfter(ZYGOTE_EXIT_MS, (done) => void z.exited.then(done));
        if (z.alive) this.#opts.log('warn', `the zygote (pid ${z.pid}) did not exit within ${ZYGOTE_EXIT_MS / 1000} s of SHUTDOWN; killing it`);
      }
      z.kill();
      await untilOrAfter(ZYGOTE_EXIT_MS, (done) => void z.exited.then(done));
    }
    // A worker whose exit the zygote did not report in time may still be dying on a loaded
    // machine, holding the listening sockets: the master exits only once none is left.
    await pollUntil(() => workerPids.every((pid) => !isAlive(pid)), ZYGOTE_EXIT_MS);
    for (const e of this.#earlyHello.values()) {
      clearTimeout(e.timer);
      e.socket.destroy();
    }
    this.#earlyHello.clear();
    this.#server?.close();
  }

  #live(): ForkedProcess[] {
    const live = new Set(this.#byPid.values());
    for (const list of this.#awaitingForked.values()) for (const p of list) live.add(p);
    return [...live];
  }

  #fork(proc: ForkedProcess): void {
    if (proc.pendingSignal === 'SIGKILL') {
      proc.exited(null, 'SIGKILL'); // killed before it was ever forked
      return;
    }
    let list = this.#awaitingForked.get(proc.slot);
    if (list === undefined) this.#awaitingForked.set(proc.slot, (list = []));
    list.push(proc);
    this.#zygote!.fork(proc.slot);
  }

  async #openServer(): Promise<void> {
    if (this.#server !== null) return;
    const { config, log } = this.#opts;
    this.#server = await ChannelServer.open({
      uid: config.uid,
      gid: config.gid,
      onHello: (slot, pid, socket, initial) => this.#onHello(slot, pid, socket, initial),
      log,
    });
  }

  async #startZygote(): Promise<void> {
    await this.#openServer(); // spawnWorker without start() still works
    const { config, interpreter, log } = this.#opts;
    const server = this.#server!;
    const child = spawnZygoteProcess({ config, interpreter, channelPath: server.path, token: server.token, direct: this.#opts.direct ?? null, lazy: this.mode === 'lazy' });
    const z = new Zygote(child, {
      forked: (slot, pid) => this.#onForked(slot, pid),
      exited: (slot, info) => this.#onExited(slot, info),
      modules: (paths) => this.#opts.events.modules?.(null, paths),
      gone: (code, signal) => this.#onZygoteGone(z, code, signal),
      output: (text) => this.#opts.events.output(text),
      log,
      handOff: (note, socket) => {
        const http = this.#opts.direct?.http;
        if (http) http.onHandOff(note, socket);
        else socket.destroy();
      },
    });
    this.#zygote = z;
    const info = await z.ready;
    this.zygoteReady = info as WorkerReadyInfo;
  }

  async #restartZygote(): Promise<void> {
    this.#starting = (async () => {
      try {
        await this.#startZygote();
        this.#opts.log('info', `zygote restarted (pid ${this.#zygote!.pid}); forking ${this.#queued.length} worker(s)`);
        for (const p of this.#queued.splice(0)) this.#fork(p);
      } catch (err) {
        const failure = err as AppLoadFailure;
        this.#opts.log('error', `the zygote could not be started again: ${failure.message}`);
        for (const p of this.#queued.splice(0)) {
          p.bootFailure = failure.failure ?? null;
          p.exited(failure.exitCode ?? null, failure.signal ?? null);
        }
      } finally {
        this.#starting = null;
      }
    })();
    await this.#starting;
  }

  #onForked(slot: number, pid: number): void {
    const proc = this.#awaitingForked.get(slot)?.shift();
    if (proc === undefined) {
      this.#opts.log('warn', `the zygote reported a worker (pid ${pid}) for slot ${slot} that was not asked for; killing it`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      return;
    }
    this.#byPid.set(pid, proc);
    proc.forked(pid);
    const early = this.#earlyHello.get(pid);
    if (early !== undefined) {
      this.#earlyHello.delete(pid);
      clearTimeout(early.timer);
      if (early.slot === slot) proc.connect(early.socket, early.initial);
      else {
        this.#opts.log('warn', `worker channel: refused HELLO from pid ${pid}: it claimed slot ${early.slot}, the zygote forked it for slot ${slot}`);
        early.socket.destroy();
      }
    }
  }

  #onExited(slot: number, info: ExitedInfo): void {
    if (info.pid === null) {
      // fork() failed: the oldest FORK of this slot has no process.
      const proc = this.#awaitingForked.get(slot)?.shift();
      this.#opts.log('error', `the zygote could not fork worker ${slot}: ${info.error ?? 'no reason given'}`);
      proc?.exited(info.code, info.signal);
      this.#noteGone();
      return;
    }
    const proc = this.#byPid.get(info.pid);
    if (proc === undefined) return; // not ours any more (reported already after a zygote crash)
    this.#byPid.delete(info.pid);
    const early = this.#earlyHello.get(info.pid);
    if (early !== undefined) {
      clearTimeout(early.timer);
      early.socket.destroy();
      this.#earlyHello.delete(info.pid);
    }
    if (proc.slot !== slot) this.#opts.log('warn', `the zygote reported pid ${info.pid} of slot ${proc.slot} as slot ${slot}`);
    proc.exited(info.code, info.signal);
    this.#noteGone();
  }

  /** A forked worker is gone: if stop() waits for the last one, tell it. */
  #noteGone(): void {
    if (this.#emptied !== null && this.#live().length === 0) this.#emptied();
  }

  #onHello(slot: number, pid: number, socket: Socket, initial: Buffer): string | null {
    const proc = this.#byPid.get(pid);
    if (proc !== undefined) {
      if (proc.slot !== slot) return `pid ${pid} was forked for slot ${proc.slot}, not ${slot}`;
      if (proc.connected) return `worker ${slot} (pid ${pid}) is already connected`;
      proc.connect(socket, initial);
      return null;
    }
    if ((this.#awaitingForked.get(slot)?.length ?? 0) === 0) return `no worker is being started for slot ${slot} with pid ${pid}`;
    if (this.#earlyHello.has(pid)) return `pid ${pid} said HELLO twice`;
    // The child was quicker than the zygote's FORKED: hold the connection until it arrives.
    const timer = setTimeout(() => {
      this.#earlyHello.delete(pid);
      this.#opts.log('warn', `worker channel: refused HELLO from pid ${pid} (slot ${slot}): the zygote never reported forking it`);
      socket.destroy();
    }, HELLO_TIMEOUT_MS);
    this.#earlyHello.set(pid, { slot, socket, initial, timer });
    return null;
  }

  #onZygoteGone(z: Zygote, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#stopping || z !== this.#zygote) return;
    const how = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
    const live = this.#live();
    this.#opts.log('error', `the zygote (pid ${z.pid}) died (${how}); its ${live.length} worker(s) die with it; a new zygote starts with the next worker`);
    this.#awaitingForked.clear();
    this.#byPid.clear();
    for (const p of live) {
      p.lostWithZygote = true;
      if (p.pid === 0) {
        p.exited(null, 'SIGKILL');
        continue;
      }
      p.kill('SIGKILL'); // PR_SET_PDEATHSIG already did; this covers a child forked a moment before
      void pollUntil(() => !isAlive(p.pid), STOP_WORKERS_MS).then(() => p.exited(null, 'SIGKILL'));
    }
  }
}
