/**
 * The Python workers by generation: start, reload (whole or chain), replace, respawn.
 *
 * Theory of operation: the set of Python workers, by generation. A generation is one loaded
 * configuration with its Launcher (preload: a Python parent that imported the app and forks
 * workers; lazy-apps: workers spawned one by one). Requests only reach workers in the pool;
 * a worker joins the pool when it is READY *and* its generation serves.
 *
 *   start     generation 1: start the launcher, spawn N workers straight into the pool.
 *   reload    generation g+1 is started beside g: launcher, then N workers kept out of the
 *             pool until every one is READY (and answers reload-check 2xx); then one switch:
 *             the new ones join, the old ones retire (finish what they hold, then exit). If
 *             the new app does not import (or fails Django's check), a new worker dies before
 *             READY or fails reload-check, the new generation is torn down and g keeps serving.
 *   chain     the same, one slot at a time: a new worker for slot i, READY, joins; the old
 *             worker of slot i retires; then slot i+1. Gated on readiness, never on a timer.
 *   replace   one slot (max-requests, reload-on-rss, lifetime): the replacement is READY before
 *             the old worker retires, so capacity never dips.
 *   respawn   a worker that died is replaced from its own generation's launcher (if that is
 *             still the serving one), after the crash-loop policy's delay; FATAL stops that.
 * A launcher is stopped (its Python parent and process group with it) once the last worker of
 * its generation has exited and a newer generation serves — unless it stands by for a rollback.
 *
 * reload() resolves once the new generation is wholly READY, checked (reload-check) and
 * switched in (with the first READY's facts, which the arbiter commits to the front, and the
 * probation's verdict to come: ./standby.ts), or with why it was abandoned. Every exit passes
 * through #reap, which asks ./worker-exit.ts what it means and tells the pool, the dispatcher, the ready gate and the crash-loop policy. While stopping,
 * allExited() resolves with the last exit.
 */
import type { Config } from '../config/schema.js';
import type { Dispatcher } from '../router/dispatcher.js';
import type { WorkerPool } from '../worker/pool.js';
import type { WorkerHandle, WorkerEvents, WorkerReadyInfo } from '../worker/handle.js';
import { describeBootFailure } from './boot-failure.js';
import { CrashBackoff } from './crash-backoff.js';
import type { Interpreter } from './interpreter.js';
import { Generation } from './generation.js';
import type { DirectSockets } from './spawn.js';
import type { DirectReport } from '../protocol/worker/payloads.js';
import { classifyExit, describeExit, type ExitKind } from './worker-exit.js';
import { ReadyGate } from './ready-gate.js';
import { chainSwitch, replaceSlot, wholeSwitch, type SwitchContext } from './generation-switch.js';
import type { Verdict } from './probation.js';
import { Standby, type RolledBack } from './standby.js';
import { formatMegabytes } from '../worker/proc-memory.js';
import { generationServing, workerGone, workerRecycled } from '../server/observe.js';

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface WorkforceDeps {
  readonly pool: WorkerPool;
  readonly dispatcher: Dispatcher;
  readonly log: Log;
  /** Raw worker output for the log. */
  readonly output: (text: string) => void;
  /** The first READY worker of generation 1: the app is up (static-from-django reads its Django settings). */
  readonly firstReady: (w: WorkerHandle, config: Config) => void;
  /** Every worker of generation 1 is READY and in the pool: a request now is served. */
  readonly allReady?: (config: Config) => void;
  /** py-autoreload: a worker reported the module files it imported. */
  readonly modules: (paths: readonly string[]) => void;
  /**
   * No worker can serve: the app does not import at start (`recoverable` false: stop), or every
   * slot of the serving generation crash-loops (`recoverable`: a reload with fixed code may help).
   */
  readonly fatal: (message: string, recoverable: boolean) => void;
  /** uwsgi-direct: the sockets a generation's workers accept on (null: the master accepts). */
  readonly direct?: (config: Config) => DirectSockets | null;
  /** uwsgi-direct: a worker's report of what it served itself (its records go to the access log). */
  readonly directReport?: (w: WorkerHandle, report: DirectReport) => void;
  /** reload-rollback-after: every answer a worker gives goes to `watch` (null: stop watching). */
  readonly watchAnswers?: (watch: ((generation: number, status: number) => void) | null) => void;
}

/** A reload's result: refused (why), or switched, with the probation's verdict to come (null: none). */
export type ReloadResult =
  | { readonly switched: false; readonly why: string }
  | { readonly switched: true; readonly ready: WorkerReadyInfo | null; readonly probation: Promise<Verdict> | null };

export class Workforce {
  readonly #d: WorkforceDeps;
  readonly #generations = new Map<number, Generation>();
  readonly #readyGate: ReadyGate;
  readonly #timers = new Set<NodeJS.Timeout>();
  #serving: Generation | null = null;
  #backoff: CrashBackoff = new CrashBackoff({ slots: 1 });
  #stopping = false;
  readonly #standby: Standby;
  #busy: Promise<unknown> = Promise.resolve();
  /** Resolves once stopping and the last live worker has exited. */
  readonly #allExited: Promise<void>;
  #markAllExited: () => void = () => undefined;

  constructor(deps: WorkforceDeps) {
    this.#d = deps;
    this.#readyGate = new ReadyGate(deps.log);
    this.#allExited = new Promise((resolve) => (this.#markAllExited = resolve));
    this.#standby = new Standby({
      switching: this.#switching,
      serving: () => this.#serving,
      generations: () => this.#generations.values(),
      stopGeneration: (g) => void this.#stopGeneration(g),
      watchAnswers: (watch) => deps.watchAnswers?.(watch),
      rolledBack: (g) => (this.#backoff = new CrashBackoff({ slots: g.config.processes })),
    });
  }

  /** After retireAll() or killAll(): resolves when no worker of any generation is left. */
  allExited(): Promise<void> {
    return this.#allExited;
  }

  get generation(): number {
    return this.#serving?.number ?? 0;
  }

  /** Generation 1. Resolves false when the app cannot load (already reported through `fatal`). */
  async start(config: Config, interpreter: Interpreter): Promise<boolean> {
    const g = await this.#launch(1, config, interpreter);
    if (typeof g === 'string') {
      this.#d.fatal(g, false);
      return false;
    }
    this.#serving = g;
    this.#backoff = new CrashBackoff({ slots: config.processes });
    for (let slot = 1; slot <= config.processes; slot++) this.#d.pool.add(g.spawn(slot));
    if (generationServing.hasSubscribers) generationServing.publish({ generation: 1, processes: config.processes });
    return true;
  }

  /**
   * A new generation from `config`, switched in whole (chain = false) or one slot at a time.
   * Serialised: a reload asked for while one runs starts after it. Resolves, once every new
   * worker is READY and serving, with the READY of the first; null if the reload was abandoned.
   */
  reload(config: Config, interpreter: Interpreter, chain: boolean): Promise<ReloadResult> {
    const run = this.#busy.then((): Promise<ReloadResult> | ReloadResult => (this.#stopping ? { switched: false, why: 'Berth is stopping' } : this.#reload(config, interpreter, chain)));
    this.#busy = run.catch(() => null);
    return run;
  }

  /** Replace one worker (recycling); its replacement serves first. `stopRouting`: no request meanwhile. */
  replace(old: WorkerHandle, reason: string, stopRouting = false): void {
    const g = this.#generations.get(old.generation);
    if (g === undefined || g !== this.#serving || !g.keep.has(old) || this.#stopping) return;
    this.#d.log('info', `recycling worker ${old.slot} (pid ${old.pid}): ${reason}`);
    if (workerRecycled.hasSubscribers) workerRecycled.publish({ slot: old.slot, pid: old.pid, reason });
    g.keep.delete(old);
    if (stopRouting) this.#d.pool.remove(old);
    void replaceSlot(this.#switching, g, old.slot, old, false).then((failure) => {
      if (failure !== null && this.#serving === g && old.state === 'READY') {
        g.keep.add(old); // the replacement failed: keep the old one serving
        if (stopRouting) this.#d.pool.add(old);
        this.#d.log('warn', `worker ${old.slot} (pid ${old.pid}) keeps serving: its replacement did not start`);
      }
    });
  }

  /** SIGTTIN: one worker more. */
  addWorker(): void {
    const g = this.#serving;
    if (g === null || this.#stopping) return;
    const slot = g.freeSlot();
    this.#backoff.setSlots(Math.max(slot, g.keep.size));
    this.#d.log('info', `SIGTTIN: adding worker ${slot} (${g.keep.size + 1} workers)`);
    this.#d.pool.add(g.spawn(slot));
  }

  /** SIGTTOU: one worker less (never below one). */
  removeWorker(): void {
    const g = this.#serving;
    if (g === null || this.#stopping) return;
    const kept = [...g.keep].sort((a, b) => b.slot - a.slot);
    if (kept.length <= 1) {
      this.#d.log('warn', 'SIGTTOU: only one worker left; keeping it');
      return;
    }
    const w = kept[0]!;
    g.keep.delete(w);
    this.#d.log('info', `SIGTTOU: retiring worker ${w.slot} (pid ${w.pid}); ${kept.length - 1} worker(s) left`);
    this.#retire(w);
  }

  /** Stop: no respawns from now on; every worker is asked to finish and exit. */
  retireAll(): void {
    this.#endAll((w) => w.retire());
  }

  /** Stop now: no respawns; every worker is killed. */
  killAll(): void {
    this.#endAll((w) => w.kill());
  }

  get liveWorkers(): number {
    let n = 0;
    for (const g of this.#generations.values()) n += g.workers.size;
    return n;
  }

  /** Every worker of every generation (the watchdog looks at all of them). */
  *workers(): Iterable<WorkerHandle> {
    for (const g of this.#generations.values()) yield* g.workers;
  }

  /** After the workers are gone: stop every launcher (and so every process group). */
  async stopLaunchers(): Promise<void> {
    const all = [...this.#generations.values()];
    this.#generations.clear();
    await Promise.all(all.map((g) => g.launcher.stop().catch(() => undefined)));
  }

  async #reload(config: Config, interpreter: Interpreter, chain: boolean): Promise<ReloadResult> {
    const old = this.#serving;
    if (old === null) return { switched: false, why: 'nothing is serving yet' };
    const started = Date.now();
    const g = await this.#launch(old.number + 1, config, interpreter);
    if (typeof g === 'string') {
      this.#d.log('error', `reload failed: ${g}`);
      return { switched: false, why: g };
    }
    if (this.#stopping) {
      void this.#stopGeneration(g);
      return { switched: false, why: 'Berth is stopping' };
    }
    this.#backoff = new CrashBackoff({ slots: config.processes });
    this.#standby.keep(old, config);
    const failure = chain ? await chainSwitch(this.#switching, old, g) : await wholeSwitch(this.#switching, old, g);
    if (failure !== null || this.#stopping) {
      this.#standby.release(old);
      if (!this.#stopping) this.#d.log('error', `reload failed: ${failure}${chain ? '' : `; generation ${old.number} keeps serving`}`);
      return { switched: false, why: failure ?? 'Berth is stopping' };
    }
    if (generationServing.hasSubscribers) generationServing.publish({ generation: g.number, processes: config.processes });
    this.#d.log('info', `reload done in ${Date.now() - started} ms: generation ${g.number} serves with ${config.processes} worker(s)${chain ? ' (chain)' : ''}`);
    return { switched: true, ready: g.firstReady, probation: this.#standby.start(old, g) };
  }

  /** A reload or a stop comes while the newest generation is on probation: it stays. */
  endProbation(why: string): void {
    this.#standby.end(why);
  }

  /** The new generation failed its probation: back to the previous one (./standby.ts). */
  rollBack(): Promise<RolledBack | string> {
    return this.#standby.rollBack();
  }

  /** What ./generation-switch.ts works with. */
  get #switching(): SwitchContext {
    return {
      pool: this.#d.pool,
      dispatcher: this.#d.dispatcher,
      readyGate: this.#readyGate,
      log: this.#d.log,
      stopping: () => this.#stopping,
      setServing: (g) => (this.#serving = g),
      retire: (w) => this.#retire(w),
      stopGeneration: (g) => void this.#stopGeneration(g),
      acceptsDirectly: (w) => this.#generations.get(w.generation)?.acceptsDirectly ?? false,
    };
  }

  /** Start a generation's launcher; a string explains why the app could not load. */
  async #launch(number: number, config: Config, interpreter: Interpreter): Promise<Generation | string> {
    const g = new Generation(number, config, interpreter, this.#events(), this.#d.log, this.#d.direct?.(config) ?? null);
    this.#generations.set(number, g);
    const failure = await g.start();
    if (failure === null) return g;
    this.#generations.delete(number);
    return failure;
  }

  #retire(w: WorkerHandle): void {
    const g = this.#generations.get(w.generation);
    g?.keep.delete(w);
    w.retire();
    const mercy = g?.config.workerReloadMercyMs ?? 30_000;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (w.state === 'EXITED') return;
      this.#d.log('warn', `worker ${w.slot} (pid ${w.pid}) did not finish within worker-reload-mercy = ${mercy / 1000} s; killing it`);
      w.kill();
    }, mercy);
    timer.unref();
    this.#timers.add(timer);
  }

  #events(): WorkerEvents {
    return {
      ready: (w) => this.#workerReady(w),
      free: () => this.#d.dispatcher.drain(),
      exited: (w, code, signal) => this.#reap(w, code, signal),
      log: this.#d.log,
      output: this.#d.output,
      modules: (_w, paths) => this.#d.modules(paths),
      direct: (w, report) => this.#d.directReport?.(w, report),
      recycle: (w, info) => this.replace(w, `RSS ${formatMegabytes(info.rss)} over reload-on-rss = ${formatMegabytes(info.limit)} (the worker's check after a request)`, true),
    };
  }

  #workerReady(w: WorkerHandle): void {
    const g = this.#generations.get(w.generation);
    if (g !== undefined && g.firstReady === null) {
      g.firstReady = w.ready;
      if (g.number === 1) this.#d.firstReady(w, g.config);
    }
    const allReady = g !== undefined && ++g.readyCount === g.config.processes && g.number === 1;
    if (allReady) this.#d.log('info', `all ${g.config.processes} worker(s) ready (${g.launcher.mode})`);
    if (this.#stopping) {
      w.retire();
      return;
    }
    this.#readyGate.ready(w);
    this.#d.dispatcher.drain();
    if (allReady) this.#d.allReady?.(g.config);
  }

  /** A worker process is gone: the one place that decides what that means (./worker-exit.ts). */
  #reap(w: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void {
    this.#d.pool.remove(w);
    const replays = w.takeReplays();
    // Requests it died before starting go to another worker, unless nothing will take new work.
    if (replays.length > 0) this.#d.dispatcher.redispatch(replays, !this.#stopping);
    this.#d.dispatcher.checkIdle();
    const staged = this.#readyGate.waiting(w);
    this.#readyGate.exited(w);
    const g = this.#generations.get(w.generation);
    if (g !== undefined) {
      g.workers.delete(w);
      const wanted = g.keep.delete(w);
      if (g !== this.#serving && g.workers.size === 0 && !g.standby) void this.#stopGeneration(g);
      const kind = classifyExit({
        code, signal, stopping: this.#stopping, wanted, staged, wasReady: w.ready !== null,
        harakiri: w.harakiriAt !== 0, zygoteGone: w.process.lostWithZygote, firstBoot: g.number === 1 && g.firstReady === null,
      });
      if (workerGone.hasSubscribers) workerGone.publish({ slot: w.slot, pid: w.pid, generation: w.generation, kind });
      this.#afterExit(kind, w, g, code, signal);
    }
    if (this.#stopping && this.liveWorkers === 0) this.#markAllExited();
  }

  #afterExit(kind: ExitKind, w: WorkerHandle, g: Generation, code: number | null, signal: NodeJS.Signals | null): void {
    switch (kind) {
      case 'stopping':
      case 'retired':
      case 'staged': // the reload or replacement waiting for its READY decides
        return;
      case 'boot-failed':
        this.#d.fatal(describeBootFailure({ slot: w.slot, code, signal, failure: w.bootFailure, interpreter: g.interpreter, config: g.config }), false);
        return;
      case 'zygote-gone':
      case 'harakiri':
      case 'crashed':
      case 'crashed-before-ready':
        this.#respawnAfterCrash(w, g, describeExit(code, signal));
    }
  }

  #respawnAfterCrash(w: WorkerHandle, g: Generation, how: string): void {
    const decision = this.#backoff.exited({ slot: w.slot, spawnedAtMs: w.spawnedAt, exitedAtMs: Date.now(), wasReady: w.ready !== null, how });
    if (decision.kind === 'fatal') {
      const tail = w.recentOutput().trimEnd();
      const message = `worker ${w.slot} is FATAL: ${decision.reason}; not respawning it${tail !== '' ? `. Its last output:\n${tail}` : ''}`;
      if (decision.scope !== 'app') this.#d.log('error', message);
      else if (g.number === 1 && g.firstReady === null) this.#d.fatal(message, false);
      else this.#d.fatal(`${message}\nevery worker is FATAL, so requests are answered 503: fix the app and reload (SIGHUP, or berth --reload <pidfile>)`, true);
      return;
    }
    this.#d.log('warn', `worker ${w.slot} (pid ${w.pid}) exited (${how}); starting a new one${decision.delayMs > 0 ? ` in ${decision.delayMs} ms` : ''}`);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      // Stopping, or a reload happened meanwhile: the slot is served by the new generation.
      if (this.#stopping || !this.#generations.has(g.number) || this.#serving !== g) return;
      this.#d.pool.add(g.spawn(w.slot));
    }, decision.delayMs);
    this.#timers.add(timer);
  }

  async #stopGeneration(g: Generation): Promise<void> {
    if (this.#generations.get(g.number) !== g) return;
    this.#generations.delete(g.number);
    await g.launcher.stop().catch((err: Error) => this.#d.log('warn', `stopping generation ${g.number}: ${err.message}`));
  }

  #endAll(end: (w: WorkerHandle) => void): void {
    this.#stopping = true;
    this.#standby.end('Berth is stopping');
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#readyGate.cancelAll();
    for (const g of this.#generations.values()) {
      g.keep.clear();
      for (const w of g.workers) end(w);
    }
    if (this.liveWorkers === 0) this.#markAllExited();
  }
}
