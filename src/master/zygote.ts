/**
 * The master's handle on the zygote: the Python process that imports the app once and forks workers.
 *
 * Theory of operation: the zygote is the Python process of preload mode. It imports the app
 * once (READY, or BOOT_FAIL and exit as a worker would), then forks one worker per FORK and
 * reports FORKED(slot, pid) and, after reaping it, EXITED(slot, pid, code, signal); SHUTDOWN
 * ends it. This class is the master's end of its fd-3 control channel and of its output pipes,
 * which its forked workers share (their output is logged here, once, and kept in one tail).
 *
 * Output printed before READY is held back, as WorkerHandle does for a worker: if the app
 * cannot be imported the master prints one summary (describeBootFailure) instead.
 */
import { LineJoiner } from '../worker/line-joiner.js';
import type { ChildProcess } from 'node:child_process';
import { Socket as NetSocket, type Socket } from 'node:net';
import type { HandOffNote } from './spawn.js';
import { unmapIPv4, type Endpoints } from '../server/endpoints.js';
import { socketOfHandle } from '../server/shared-reads.js';
import { type Frame } from '../protocol/worker/decode.js';
import { parseBootFail, parseExited, parseForked, parseModules, parseReady, type BootFailInfo, type ExitedInfo, type ReadyInfo } from '../protocol/worker/payloads.js';
import { encodeFork, encodeShutdown } from '../protocol/worker/encode.js';
import { EXIT_CODES, FromWorker } from '../protocol/worker/frames.js';
import { BerthError } from '../errors/berth-error.js';
import { WorkerChannel } from '../worker/channel.js';
import { OutputTail } from '../worker/output-tail.js';

/**
 * The app could not be imported by the zygote (BERTH_APP_IMPORT_FAILED), or the zygote died
 * before READY for another reason (BERTH_WORKER_BOOT_FAILED). `exitCode` is the zygote's exit
 * code (EXIT_CODES), as for a worker that failed to boot; the arbiter prints
 * describeBootFailure() from these facts.
 */
export class AppLoadFailure extends BerthError {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly failure: BootFailInfo | null;

  constructor(code: number | null, signal: NodeJS.Signals | null, failure: BootFailInfo | null) {
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}${code === EXIT_CODES.APP_IMPORT_FAILURE ? ' (the app could not be imported)' : ''}`;
    super(code === EXIT_CODES.APP_IMPORT_FAILURE ? 'BERTH_APP_IMPORT_FAILED' : 'BERTH_WORKER_BOOT_FAILED', `the zygote ${how} before the app was ready${failure !== null ? `: ${failure.message}` : ''}`);
    this.name = 'AppLoadFailure';
    this.exitCode = code;
    this.signal = signal;
    this.failure = failure;
  }
}

export interface ZygoteEvents {
  forked(slot: number, pid: number): void;
  exited(slot: number, info: ExitedInfo): void;
  /** py-autoreload: the module files the app loaded at import (its workers add theirs on their channels). */
  modules(paths: string[]): void;
  /** The zygote process is gone (after SHUTDOWN, or a crash); `ready` had settled before. */
  gone(code: number | null, signal: NodeJS.Signals | null): void;
  /** Output of the zygote and of every worker it forked. */
  output(text: string): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** http-direct: a connection one of its workers handed over on the IPC channel. */
  handOff?(note: HandOffNote, socket: Socket): void;
}

export class Zygote {
  readonly #child: ChildProcess;
  readonly #events: ZygoteEvents;
  readonly #channel: WorkerChannel;
  readonly #tail = new OutputTail();
  readonly #joiners: LineJoiner[] = [];
  readonly ready: Promise<ReadyInfo>;
  readonly exited: Promise<void>;
  bootFailure: BootFailInfo | null = null;
  #startupOutput: string | null = '';
  #alive = true;
  #settle: { resolve: (info: ReadyInfo) => void; reject: (err: AppLoadFailure) => void } | null = null;
  #markExited: () => void = () => undefined;

  constructor(child: ChildProcess, events: ZygoteEvents) {
    this.#child = child;
    this.#events = events;
    this.ready = new Promise<ReadyInfo>((resolve, reject) => (this.#settle = { resolve, reject }));
    this.ready.catch(() => undefined); // the launcher awaits it; an unwatched rejection must not crash the master
    this.exited = new Promise<void>((resolve) => (this.#markExited = resolve));
    this.#channel = new WorkerChannel(
      (child.stdio[3] as Socket | null) ?? null,
      (f) => this.#onFrame(f),
      (err) => {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ECONNRESET' || code === 'EPIPE') return;
        events.log('error', `zygote (pid ${this.pid}): ${err.message}; stopping it`);
        this.kill();
      },
      () => undefined,
    );
    // Its forked workers share these pipes: lines are kept whole per pipe (print() is two writes).
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const lines = new LineJoiner((text) => this.#onOutput(text));
      this.#joiners.push(lines);
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => lines.push(text));
      stream.on('end', () => lines.flush());
    }
    // http-direct: Node gives each NODE_HANDLE line's descriptor as a bare stream handle (handedSocket).
    child.on('message', (msg: unknown, handle: unknown) => this.#onHandOff(msg, handle));
    child.on('error', (err) => events.log('error', `the zygote could not start ${child.spawnfile}: ${err.message}`));
    child.on('close', (code, signal) => this.#onExit(code, signal));
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  get alive(): boolean {
    return this.#alive;
  }

  fork(slot: number): void {
    this.#channel.send(encodeFork(slot));
  }

  /** Exit once its workers are gone (the launcher sends it after they exited). */
  shutdown(): void {
    this.#channel.send(encodeShutdown());
  }

  /**
   * SIGKILL the zygote's process group: the zygote and anything still in its group (a group
   * id stays reserved while a member lives, so this is safe even after the zygote exited).
   */
  kill(): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      if (this.#alive) this.#child.kill('SIGKILL'); // not (yet) a group leader
    }
  }

  recentOutput(): string {
    return this.#tail.text();
  }

  #onFrame(f: Frame): void {
    switch (f.type) {
      case FromWorker.READY: {
        const info = parseReady(f.payload);
        this.#releaseStartupOutput();
        this.#settle?.resolve(info);
        this.#settle = null;
        return;
      }
      case FromWorker.BOOT_FAIL:
        this.bootFailure = parseBootFail(f.payload);
        return;
      case FromWorker.FORKED:
        this.#events.forked(f.id, parseForked(f.payload).pid);
        return;
      case FromWorker.EXITED:
        this.#events.exited(f.id, parseExited(f.payload));
        return;
      case FromWorker.MODULES:
        this.#events.modules(parseModules(f.payload));
        return;
      case FromWorker.LOG:
        this.#events.output(f.payload.toString('utf8'));
        return;
      default:
        this.#events.log('warn', `the zygote sent an unexpected frame type 0x${f.type.toString(16)}`);
    }
  }

  #onHandOff(msg: unknown, handle: unknown): void {
    const note = msg as Partial<Omit<HandOffNote, 'ends'>> & { berth?: string; ends?: unknown } | null;
    const socket = handedSocket(handle);
    if (socket === null) return;
    if (note === null || typeof note !== 'object' || note.berth !== 'http-direct' || typeof note.listener !== 'number' || this.#events.handOff === undefined) {
      socket.destroy();
      return;
    }
    this.#events.handOff({ listener: note.listener, pid: note.pid ?? 0, reason: String(note.reason), served: note.served ?? 0, ends: noteEnds(note.ends) }, socket);
  }

  #onOutput(text: string): void {
    this.#tail.append(text);
    if (this.#startupOutput === null) this.#events.output(text);
    else if (this.#startupOutput.length < 1 << 20) this.#startupOutput += text;
  }

  #releaseStartupOutput(): void {
    let text = this.#startupOutput ?? '';
    this.#startupOutput = null;
    if (this.bootFailure !== null) {
      // The zygote also printed its failure; the master's summary repeats it with more context.
      const at = text.search(/berth (worker|zygote) \d+: cannot start/);
      if (at !== -1) text = text.slice(0, at);
    }
    if (text !== '') this.#events.output(text);
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    for (const lines of this.#joiners) lines.flush();
    this.#alive = false;
    this.#channel.close();
    if (this.#startupOutput !== null) this.#releaseStartupOutput();
    if (this.#settle !== null) {
      this.#settle.reject(new AppLoadFailure(code, signal, this.bootFailure));
      this.#settle = null;
    } else {
      this.#events.gone(code, signal);
    }
    this.#markExited();
  }
}

/**
 * A hand-over line's ends ([local, local port, peer, peer port], python/berth_runtime/http_handoff.py)
 * as endpointsOf() reads them from a socket; undefined when absent or not that shape, and the
 * front asks the socket.
 */
export function noteEnds(ends: unknown): Endpoints | undefined {
  if (!Array.isArray(ends) || ends.length !== 4) return undefined;
  const [local, localPort, peer, peerPort] = ends as unknown[];
  if (typeof local !== 'string' || typeof peer !== 'string' || typeof localPort !== 'number' || typeof peerPort !== 'number') return undefined;
  return { remoteAddress: unmapIPv4(peer), remotePort: peerPort, localAddress: unmapIPv4(local), localPort };
}

/**
 * The socket of a handed-over connection. Workers send it as 'net.Native' (http_handoff.py), so
 * Node gives the bare stream handle and the socket is built once, reading into the shared
 * buffer; as 'net.Socket' Node would build one that the front door then rebuilds (a second
 * socket per connection, most of a slow client's hand-over cost after the ACK). Half-open as
 * the listeners' own connections are (sockets.ts). Null for anything else (not a connection).
 */
function handedSocket(handle: unknown): Socket | null {
  if (handle instanceof NetSocket) return handle;
  if (handle === null || typeof handle !== 'object' || typeof (handle as { useUserBuffer?: unknown }).useUserBuffer !== 'function') return null;
  return socketOfHandle(handle, true);
}
