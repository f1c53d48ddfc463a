/**
 * A worker OS process as its handle sees it: spawned (lazy-apps) or forked by the zygote.
 *
 * Theory of operation: "a worker OS process" as WorkerHandle sees it, whichever way it came
 * to be. A handle attaches a sink once and from then on hears of the channel socket, the
 * process's output and its exit; it signals the process through `kill`.
 *
 *   SpawnedProcess (lazy-apps)  a child of the master (master/spawn.ts), detached so that it
 *                               leads its own process group: SIGKILL takes down whatever the
 *                               app started too. Channel = its fd 3; output = its own pipes;
 *                               exit = the child's 'close' (or shortly after 'exit', should a
 *                               grandchild keep the pipes open).
 *   ForkedProcess (preload)     a child of the zygote (master/zygote.ts). The launcher feeds it:
 *                               `forked(pid)` on FORKED, `connect(socket)` on HELLO, `exited()`
 *                               on EXITED. Its output goes through the zygote's shared pipes
 *                               and is logged there, so `recentOutput` is the zygote's tail.
 */
import { LineJoiner } from './line-joiner.js';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { BootFailInfo } from '../protocol/worker/payloads.js';
import { OutputTail } from './output-tail.js';

export interface WorkerProcessSink {
  /** The connected channel; `initial` holds bytes already read from it. Called at most once. */
  channel(socket: Socket, initial: Buffer | null): void;
  /** Text the worker printed (only for processes whose output is their own). */
  output(text: string): void;
  /** Called once, after which the process is gone. */
  exit(code: number | null, signal: NodeJS.Signals | null): void;
}

export interface WorkerProcess {
  readonly kind: 'spawned' | 'forked';
  /** 0 until known (a forked worker's pid arrives with FORKED). */
  readonly pid: number;
  /** Why the app could not load, when that was learnt outside the worker's channel (the zygote's BOOT_FAIL). */
  readonly bootFailure: BootFailInfo | null;
  /** What the worker's own READY may leave out because the zygote reported it (static-from-django). */
  readonly inheritedDjango: unknown;
  /** A forked worker that died because its zygote died (the launcher says so before its exit). */
  readonly lostWithZygote: boolean;
  attach(sink: WorkerProcessSink): void;
  /** SIGKILL reaches the worker's process group where it leads one; other signals only the worker. */
  kill(signal: NodeJS.Signals): void;
  /** The last ~30 lines / 8 KiB of output (a forked worker's: the zygote's shared output). */
  recentOutput(): string;
}

/** After 'exit', how long to wait for the pipes to close before reporting the exit anyway. */
const CLOSE_AFTER_EXIT_MS = 500;

/** Signals a process group led by `pid`, else the process alone (not a leader, or already gone). */
function killGroupOrProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
    return;
  } catch {
    // ESRCH: no such group (not a leader yet, or it is gone); try the process itself.
  }
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export class SpawnedProcess implements WorkerProcess {
  readonly kind = 'spawned';
  readonly bootFailure = null;
  readonly inheritedDjango = undefined;
  readonly lostWithZygote = false;
  readonly #child: ChildProcess;
  readonly #tail = new OutputTail();
  readonly #joiners: LineJoiner[] = [];
  #sink: WorkerProcessSink | null = null;
  #exited = false;

  constructor(child: ChildProcess) {
    this.#child = child;
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  attach(sink: WorkerProcessSink): void {
    if (this.#sink !== null) throw new Error('a worker process takes one sink');
    this.#sink = sink;
    const child = this.#child;
    const channel = child.stdio[3] as Socket | null | undefined;
    if (channel) sink.channel(channel, null);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const lines = new LineJoiner((text) => sink.output(text));
      this.#joiners.push(lines);
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        this.#tail.append(text);
        lines.push(text);
      });
      stream.on('end', () => lines.flush());
    }
    child.on('close', (code, signal) => this.#exit(code, signal));
    child.on('exit', (code, signal) => {
      const timer = setTimeout(() => this.#exit(code, signal), CLOSE_AFTER_EXIT_MS);
      timer.unref();
    });
  }

  #exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#exited) return;
    this.#exited = true;
    for (const lines of this.#joiners) lines.flush();
    this.#sink?.exit(code, signal);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#exited || this.#child.pid === undefined) return;
    if (signal === 'SIGKILL') killGroupOrProcess(this.#child.pid, signal);
    else this.#child.kill(signal);
  }

  recentOutput(): string {
    return this.#tail.text();
  }
}

export interface ForkedProcessOptions {
  readonly slot: number;
  readonly inheritedDjango: unknown;
  /** The zygote's output tail (its workers share its pipes). */
  readonly recentOutput: () => string;
}

export class ForkedProcess implements WorkerProcess {
  readonly kind = 'forked';
  readonly slot: number;
  readonly #opts: ForkedProcessOptions;
  #pid = 0;
  #sink: WorkerProcessSink | null = null;
  /** A channel that arrived before attach (cannot happen via the launcher, but costs nothing). */
  #early: { socket: Socket; initial: Buffer | null } | null = null;
  #killPending: NodeJS.Signals | null = null;
  #connected = false;
  #channel: Socket | null = null;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  #exitReported = false;
  bootFailure: BootFailInfo | null = null;
  lostWithZygote = false;

  constructor(opts: ForkedProcessOptions) {
    this.slot = opts.slot;
    this.#opts = opts;
  }

  get pid(): number {
    return this.#pid;
  }

  get inheritedDjango(): unknown {
    return this.#opts.inheritedDjango;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** A signal asked for before the pid was known (the launcher cancels an unsent FORK on SIGKILL). */
  get pendingSignal(): NodeJS.Signals | null {
    return this.#pid === 0 ? this.#killPending : null;
  }

  attach(sink: WorkerProcessSink): void {
    if (this.#sink !== null) throw new Error('a worker process takes one sink');
    this.#sink = sink;
    if (this.#early !== null) sink.channel(this.#early.socket, this.#early.initial);
    this.#early = null;
    if (this.#exitReported) sink.exit(this.#exit!.code, this.#exit!.signal);
  }

  /** FORKED: the zygote reports the worker's pid. */
  forked(pid: number): void {
    if (this.#pid !== 0 || this.#exit !== null) return;
    this.#pid = pid;
    if (this.#killPending !== null) this.kill(this.#killPending);
  }

  /** HELLO checked by the launcher: this is the worker's channel. */
  connect(socket: Socket, initial: Buffer | null): void {
    if (this.#connected || this.#exit !== null) {
      socket.destroy();
      return;
    }
    this.#connected = true;
    this.#channel = socket;
    if (this.#sink !== null) this.#sink.channel(socket, initial);
    else this.#early = { socket, initial };
  }

  /** EXITED from the zygote, or the launcher's verdict (never forked, zygote gone). Once. */
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#exit !== null) return;
    this.#exit = { code, signal };
    const channel = this.#channel;
    if (this.#sink !== null && channel !== null && !channel.destroyed) {
      // EXITED comes on the zygote's socket and can overtake the worker's last frames on its own
      // channel (BOOT_FAIL): the exit is reported once the channel has been read to its end.
      const timer = setTimeout(() => this.#reportExit(), CLOSE_AFTER_EXIT_MS);
      channel.once('close', () => {
        clearTimeout(timer);
        this.#reportExit();
      });
      return;
    }
    this.#reportExit();
  }

  #reportExit(): void {
    if (this.#exitReported) return;
    this.#exitReported = true;
    this.#early?.socket.destroy();
    this.#early = null;
    this.#sink?.exit(this.#exit!.code, this.#exit!.signal);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#exit !== null) return;
    if (this.#pid === 0) {
      // FORK sent, FORKED not back yet: the signal goes out as soon as the pid is known.
      if (this.#killPending !== 'SIGKILL') this.#killPending = signal;
      return;
    }
    // Only the worker: it shares the zygote's process group (SIGKILL included).
    try {
      process.kill(this.#pid, signal);
    } catch {
      // already gone; EXITED is on its way
    }
  }

  recentOutput(): string {
    return this.#opts.recentOutput();
  }
}
