/**
 * The master's supervision of one worker: lifecycle, accounting, harakiri, exit.
 *
 * Theory of operation: the master's supervision of one Python worker process — its life
 * (./lifecycle.ts), its accounting, harakiri and its exit. The requests themselves travel
 * through its RequestLink (./request-link.ts), the protocol side: frames, request ids, body
 * windows, FILE. The handle joins the two and reports to the workforce through WorkerEvents.
 *
 * If the process dies, only the requests it was running fail (502, or a cut connection when
 * the response had started); prefetched requests it had not started are handed back
 * (takeReplays()) for the dispatcher to send again; the workforce decides about respawning. Harakiri (`harakiri()`,
 * called by the arbiter's watchdog) asks the worker for its threads' stacks (SIGUSR2), then
 * kills it; the requests that ran past the limit are answered 504, the others 502.
 *
 * The OS process behind a handle is a WorkerProcess (./process.ts): a spawned child (lazy-apps)
 * or a child forked by the zygote (preload), whose channel connects a little later.
 */
import type { ChildProcess } from 'node:child_process';
import { FromWorker } from '../protocol/worker/frames.js';
import type { Frame } from '../protocol/worker/decode.js';
import { parseBootFail, parseDirect, parseModules, parseReady, parseRecycle, type BootFailInfo, type DirectReport, type DjangoStaticInfo, type ReadyInfo, type RecycleInfo } from '../protocol/worker/payloads.js';
import type { Exchange } from '../server/exchange.js';
import { canTransition, transition, type WorkerState } from './lifecycle.js';
import { RequestLink } from './request-link.js';
import { SpawnedProcess, type WorkerProcess } from './process.js';

/** Harakiri: how long the worker has to print its stacks after SIGUSR2 before SIGKILL. */
export const HARAKIRI_STACK_MS = 1_000;
/** …or this long after its first output following SIGUSR2 (the dump is written in one go). */
const HARAKIRI_AFTER_OUTPUT_MS = 100;

/** READY as the codec validated it; `django` only with static-from-django, when the app loaded a configured Django. */
export type WorkerReadyInfo = Omit<ReadyInfo, 'django'> & { readonly django?: DjangoStaticInfo };

export type { DjangoStaticInfo };

export type WorkerBootFailure = BootFailInfo;

export interface WorkerEvents {
  ready(w: WorkerHandle): void;
  /** A thread of this worker became free. */
  free(w: WorkerHandle): void;
  exited(w: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** Raw output of the worker (the app's prints, wsgi.errors). */
  output(text: string): void;
  /**
   * py-autoreload: the absolute paths of the module files the app has loaded (MODULES; each
   * frame lists the whole set). `w` is null when the zygote sent it (preload: the app's import).
   */
  modules?(w: WorkerHandle | null, paths: string[]): void;
  /** uwsgi-direct: what the worker served on the uwsgi sockets itself since its last report. */
  direct?(w: WorkerHandle, report: DirectReport): void;
  /** reload-on-rss: after a request the worker found its RSS over the limit (RECYCLE). */
  recycle?(w: WorkerHandle, info: RecycleInfo): void;
}

export class WorkerHandle {
  readonly slot: number;
  readonly generation: number;
  readonly capacity: number;
  readonly process: WorkerProcess;
  readonly spawnedAt = Date.now();
  state: WorkerState = 'STARTING';
  ready: WorkerReadyInfo | null = null;
  bootFailure: WorkerBootFailure | null = null;
  /** performance.now() when harakiri() was called, else 0. */
  harakiriAt = 0;
  #harakiriLimitMs = 0;
  #harakiriTimer: NodeJS.Timeout | null = null;
  #replays: Exchange[] = [];
  readonly #events: WorkerEvents;
  readonly #link: RequestLink;
  /** uwsgi-direct: requests the worker served itself, the served count of its last DIRECT report, and its oldest running request (when it began, what it is). */
  #directCounted = 0;
  #directServed = 0;
  #directOldest = Infinity;
  #directOldestWhat = '';
  /** uwsgi-direct: the requests running at its last report, [seconds so far, method, uri], and when it came. */
  #directRunning: { readonly at: number; readonly running: DirectReport['running'] } = { at: 0, running: [] };
  /** Called by the next DIRECT frame, or the exit (askDirectReport). */
  #reportWaiters: (() => void)[] = [];
  /** A direct worker confirmed (ACCEPT_STOPPED) that it takes no connection on the shared listeners; or it exited. */
  #acceptStopped = false;
  #acceptStopWaiters: (() => void)[] = [];
  /** Output before READY is held back: if the app fails to load, the master prints one summary instead. */
  #startupOutput: string | null = '';

  /** `proc` may still be a bare ChildProcess from spawnWorkerProcess (it is wrapped as a SpawnedProcess). */
  constructor(slot: number, generation: number, capacity: number, proc: WorkerProcess | ChildProcess, events: WorkerEvents) {
    this.slot = slot;
    this.generation = generation;
    this.capacity = capacity;
    const wp: WorkerProcess = 'stdio' in proc ? new SpawnedProcess(proc) : proc;
    this.process = wp;
    this.#events = events;
    this.#link = new RequestLink({
      describe: () => `worker ${slot} (pid ${wp.pid})`,
      filePid: () => this.ready?.pid ?? wp.pid,
      requestDone: () => {
        if (this.state === 'READY') events.free(this);
      },
      control: (f) => this.#onControlFrame(f),
      broken: (message) => {
        events.log('error', `worker ${slot} (pid ${wp.pid}): ${message}; stopping it`);
        wp.kill('SIGKILL');
      },
      log: events.log,
      output: events.output,
    });
    wp.attach({
      channel: (socket, initial) => this.#link.connect(socket, initial),
      output: (text) => this.#onOutput(text),
      exit: (code, signal) => this.#onExit(code, signal),
    });
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Requests answered: through the master, and (uwsgi-direct) on the sockets the worker accepts on. */
  get requestsServed(): number {
    return this.#link.served + this.#directCounted;
  }

  /** Recent request service time (ms, exponentially weighted); Infinity until one completes. */
  get serviceEwmaMs(): number {
    return this.#link.serviceEwmaMs;
  }

  /** The last ~30 lines / 8 KiB the worker printed (for a forked worker: the zygote's shared output). */
  recentOutput(): string {
    return this.process.recentOutput();
  }

  get load(): number {
    return this.#link.load;
  }

  /**
   * A worker serving requests itself (uwsgi-direct, http-direct): ask for its DIRECT frame now;
   * settles when it comes (directRunning is then current), the worker exits, or after waitMs.
   */
  askDirectReport(waitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(), waitMs);
      const settle = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#reportWaiters.push(settle);
      this.#link.askReport();
    });
  }

  /**
   * A retiring direct worker (uwsgi-direct, http-direct): true once it confirmed that its accept
   * loops take no connection on the shared listeners (or it exited); false after waitMs.
   */
  acceptStopped(waitMs: number): Promise<boolean> {
    if (this.#acceptStopped) return Promise.resolve(true);
    return new Promise((resolve) => {
      const settle = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      // Past waitMs the waiter leaves the list, so a worker that never confirms keeps none.
      const timer = setTimeout(() => {
        const at = this.#acceptStopWaiters.indexOf(settle);
        if (at !== -1) this.#acceptStopWaiters.splice(at, 1);
        resolve(this.#acceptStopped);
      }, waitMs);
      this.#acceptStopWaiters.push(settle);
    });
  }

  #markAcceptStopped(): void {
    this.#acceptStopped = true;
    for (const settle of this.#acceptStopWaiters.splice(0)) settle();
  }

  /** uwsgi-direct: what ran at the worker's last report (once a second), and when that came (stats). */
  get directRunning(): { readonly at: number; readonly running: DirectReport['running'] } {
    return this.#directRunning;
  }

  /** The requests this worker runs for the master now, oldest first (stats). */
  inFlight(): { ex: Exchange; sentAt: number }[] {
    return this.#link.inFlight();
  }

  /** When the oldest request still in flight was sent (performance.now()), or +Infinity if none. */
  oldestInFlightSince(): number {
    return Math.min(this.#link.oldestSentAt(), this.#directOldest);
  }

  /** The requests this worker died before starting (once, after its exit; then empty). */
  takeReplays(): Exchange[] {
    const replays = this.#replays;
    this.#replays = [];
    return replays;
  }

  send(ex: Exchange): void {
    ex.workerId = this.slot;
    ex.servedBy = this;
    this.#link.send(ex);
  }

  /** Graceful: finish in-flight requests, then exit. */
  retire(): void {
    if (this.state === 'STARTING' || this.state === 'READY') this.state = transition(this.state, 'RETIRING');
    this.#link.shutdown();
  }

  kill(): void {
    this.process.kill('SIGKILL');
  }

  /**
   * The oldest request ran longer than `limitMs`: stop routing to this worker, ask it for its
   * threads' stacks (SIGUSR2; they reach the log through its stderr), then SIGKILL it. On exit
   * the requests older than the limit are answered 504, the others 502.
   */
  harakiri(limitMs: number): void {
    if (this.harakiriAt !== 0 || this.state === 'EXITED') return;
    this.harakiriAt = performance.now();
    this.#harakiriLimitMs = limitMs;
    if (canTransition(this.state, 'RETIRING')) this.state = transition(this.state, 'RETIRING');
    const viaMaster = this.#link.oldestRequest();
    const what = viaMaster !== null && this.#link.oldestSentAt() <= this.#directOldest
      ? viaMaster
      : this.#directOldestWhat !== '' ? this.#directOldestWhat : 'a request';
    this.#events.log('error', `harakiri: ${what} ran longer than ${limitMs / 1000} s in worker ${this.slot} (pid ${this.pid}); killing the worker`);
    this.process.kill('SIGUSR2');
    this.#harakiriTimer = setTimeout(() => this.process.kill('SIGKILL'), HARAKIRI_STACK_MS);
  }

  #onControlFrame(f: Frame): void {
    switch (f.type) {
      case FromWorker.LOG:
        this.#events.output(f.payload.toString('utf8'));
        return;
      case FromWorker.READY: {
        const ready = parseReady(f.payload);
        const inherited = this.process.inheritedDjango;
        // A forked worker's Django settings were read once, by the zygote.
        this.ready = (ready.django === undefined && inherited !== undefined ? { ...ready, django: inherited } : ready) as WorkerReadyInfo;
        if (this.state === 'STARTING') {
          this.#releaseStartupOutput();
          this.state = transition(this.state, 'READY');
          this.#events.ready(this);
        }
        return;
      }
      case FromWorker.BOOT_FAIL:
        this.bootFailure = parseBootFail(f.payload);
        return;
      case FromWorker.MODULES:
        this.#events.modules?.(this, parseModules(f.payload));
        return;
      case FromWorker.DIRECT: {
        const report = parseDirect(f.payload);
        this.#directCounted += Math.max(0, report.served - this.#directServed);
        this.#directServed = report.served;
        let longest: (typeof report.running)[number] | null = null;
        for (const r of report.running) if (longest === null || r[0] > longest[0]) longest = r;
        this.#directOldest = longest === null ? Infinity : performance.now() - longest[0] * 1000;
        this.#directOldestWhat = longest === null ? '' : `${longest[1]} ${longest[2]}`;
        this.#directRunning = { at: performance.now(), running: report.running };
        for (const settle of this.#reportWaiters.splice(0)) settle();
        this.#events.direct?.(this, report);
        return;
      }
      case FromWorker.RECYCLE:
        this.#events.recycle?.(this, parseRecycle(f.payload));
        return;
      case FromWorker.ACCEPT_STOPPED:
        this.#markAcceptStopped();
        return;
      default:
        this.#events.log('warn', `worker ${this.slot} sent an unexpected frame type 0x${f.type.toString(16)} (id 0)`);
    }
  }

  #onOutput(text: string): void {
    if (this.#startupOutput === null) this.#events.output(text);
    else if (this.#startupOutput.length < 1 << 20) this.#startupOutput += text;
    if (this.#harakiriTimer !== null && performance.now() - this.harakiriAt < HARAKIRI_STACK_MS - HARAKIRI_AFTER_OUTPUT_MS) {
      // The stacks are coming out: give them a moment to finish, then kill.
      clearTimeout(this.#harakiriTimer);
      this.#harakiriTimer = setTimeout(() => this.process.kill('SIGKILL'), HARAKIRI_AFTER_OUTPUT_MS);
    }
  }

  #releaseStartupOutput(): void {
    let text = this.#startupOutput ?? '';
    this.#startupOutput = null;
    if (this.bootFailure !== null) {
      // The worker also printed its failure; the master's summary repeats it with more context.
      const at = text.indexOf(`berth worker ${this.pid}: cannot start`);
      if (at !== -1) text = text.slice(0, at);
    }
    if (text !== '') this.#events.output(text);
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    for (const settle of this.#reportWaiters.splice(0)) settle();
    this.#markAcceptStopped();
    if (this.#harakiriTimer !== null) clearTimeout(this.#harakiriTimer);
    this.#harakiriTimer = null;
    if (this.bootFailure === null) this.bootFailure = this.process.bootFailure;
    if (this.#startupOutput !== null) this.#releaseStartupOutput();
    const stuckBefore = this.harakiriAt === 0 ? -Infinity : this.harakiriAt - this.#harakiriLimitMs;
    const { lost, timedOut, replay } = this.#link.failInFlight(stuckBefore, this.capacity, code === 0 && signal === null);
    this.#replays = replay;
    const how = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
    if (lost.length > 0) {
      const answered = timedOut === 0 ? '502' : timedOut === lost.length ? '504 (harakiri)' : `504 (harakiri) to ${timedOut}, 502 to the others`;
      this.#events.log('error', `worker ${this.slot} (pid ${this.pid}) died (${how}) while running ${lost.length} request(s): ${lost.join(', ')} — answered ${answered}`);
    }
    if (replay.length > 0) {
      const what = replay.map((ex) => `${ex.request.method} ${ex.request.target}`).join(', ');
      this.#events.log('warn', `worker ${this.slot} (pid ${this.pid}) died (${how}) before starting ${replay.length} request(s) sent ahead to it: ${what} — dispatching them again`);
    }
    if (canTransition(this.state, 'EXITED')) this.state = transition(this.state, 'EXITED');
    this.#events.exited(this, code, signal);
  }
}
