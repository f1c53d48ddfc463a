/**
 * Theory of operation: the master's view of one Python worker process. It sends requests as
 * frames over the worker's channel, tracks them by request id while the worker's threads run
 * them, and turns the worker's frames back into Responder calls. Request bodies are sent
 * window by window (CREDIT frames open the window again); streamed response bodies are
 * acknowledged (ACK) only once the bytes left Berth, so a slow reader throttles the app
 * instead of growing memory. A wsgi.file_wrapper over a regular file arrives as FILE: the
 * master opens the worker's descriptor itself and sends the bytes (./file-sender.ts), and the
 * worker's thread is free as soon as it has closed the app's iterable.
 *
 * If the process dies, only the requests it was running fail (502, or a cut connection when
 * the response had started); the arbiter decides about respawning. Harakiri (`harakiri()`,
 * called by the arbiter's watchdog) asks the worker for its threads' stacks (SIGUSR2), then
 * kills it; the requests that ran past the limit are answered 504, the others 502.
 *
 * The OS process behind a handle is a WorkerProcess (./process.ts): a spawned child (lazy-apps)
 * or a child forked by the zygote (preload), whose channel connects a little later.
 */
import type { ChildProcess } from 'node:child_process';
import { FromWorker, REQUEST_BODY_WINDOW_BYTES, ToWorker } from '../protocol/worker/frames.js';
import type { Frame } from '../protocol/worker/decode.js';
import { parseBootFail, parseDirect, parseFile, parseFull, parseHeadBlock, parseModules, parseReady, parseU32, type BootFailInfo, type DirectReport, type DjangoStaticInfo, type FileRange, type ReadyInfo } from '../protocol/worker/decode.js';
import { encodeAbort, encodeAck, encodeBodyEnd, encodeFileFailed, encodeFileOpened, encodeRequest, encodeShutdown, frameHeader } from '../protocol/worker/encode.js';
import type { Exchange } from '../server/exchange.js';
import { canTransition, transition, type WorkerState } from './lifecycle.js';
import { WorkerChannel } from './channel.js';
import { FileSender, openWorkerFile } from './file-sender.js';
import { SpawnedProcess, type WorkerProcess } from './process.js';

const BODY_PIECE_BYTES = 256 * 1024;
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
}

interface InFlight {
  readonly id: number;
  readonly sentAt: number;
  readonly ex: Exchange;
  rejected: boolean;
  bodyWindow: number;
  bodyPumping: boolean;
  bodyDone: boolean;
  /** After FILE_OPENED: the master sends the body itself and ends the response (not END). */
  file: FileSender | null;
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
  requestsServed = 0;
  /** Recent request service time (ms, exponentially weighted); Infinity until one completes. */
  serviceEwmaMs = Infinity;
  /** performance.now() when harakiri() was called, else 0. */
  harakiriAt = 0;
  #harakiriLimitMs = 0;
  #harakiriTimer: NodeJS.Timeout | null = null;
  readonly #events: WorkerEvents;
  readonly #channel: WorkerChannel;
  readonly #inflight = new Map<number, InFlight>();
  #nextId = 1;
  /** uwsgi-direct: the served count of the last DIRECT report, and its oldest running request (when it began, what it is). */
  #directServed = 0;
  #directOldest = Infinity;
  #directOldestWhat = '';
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
    this.#channel = new WorkerChannel(
      null,
      (f) => this.#onFrame(f),
      (err) => {
        // A reset channel just means the process is going; its exit is handled in #onExit.
        if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE') return;
        events.log('error', `worker ${slot} (pid ${wp.pid}): ${err.message}; stopping it`);
        wp.kill('SIGKILL');
      },
      () => undefined,
    );
    wp.attach({
      channel: (socket, initial) => this.#channel.connect(socket, initial),
      output: (text) => this.#onOutput(text),
      exit: (code, signal) => this.#onExit(code, signal),
    });
  }

  get pid(): number {
    return this.process.pid;
  }

  /** The last ~30 lines / 8 KiB the worker printed (for a forked worker: the zygote's shared output). */
  recentOutput(): string {
    return this.process.recentOutput();
  }

  get load(): number {
    return this.#inflight.size;
  }

  /** When the oldest request still in flight was sent (performance.now()), or +Infinity if none. */
  oldestInFlightSince(): number {
    for (const r of this.#inflight.values()) return Math.min(r.sentAt, this.#directOldest);
    return this.#directOldest;
  }

  send(ex: Exchange): void {
    const id = this.#nextId;
    this.#nextId = id === 0xffffffff ? 1 : id + 1;
    const hasBody = ex.body !== null && ex.body.totalBytes > 0;
    const r: InFlight = { id, sentAt: performance.now(), ex, rejected: false, bodyWindow: REQUEST_BODY_WINDOW_BYTES, bodyPumping: false, bodyDone: !hasBody, file: null };
    this.#inflight.set(id, r);
    ex.workerId = this.slot;
    ex.servedBy = this;
    ex.onAbort = () => this.#channel.send(encodeAbort(id));
    this.#channel.send(encodeRequest(id, ex.cgiBlock, hasBody));
    if (hasBody) this.#sendBody(r);
  }

  /** Graceful: finish in-flight requests, then exit. */
  retire(): void {
    if (this.state === 'STARTING' || this.state === 'READY') this.state = transition(this.state, 'RETIRING');
    this.#channel.send(encodeShutdown());
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
    let oldest: InFlight | null = null;
    for (const r of this.#inflight.values()) {
      oldest = r;
      break;
    }
    const what = oldest !== null && oldest.sentAt <= this.#directOldest
      ? `${oldest.ex.request.method} ${oldest.ex.request.target}`
      : this.#directOldestWhat !== '' ? this.#directOldestWhat : 'a request';
    this.#events.log('error', `harakiri: ${what} ran longer than ${limitMs / 1000} s in worker ${this.slot} (pid ${this.pid}); killing the worker`);
    this.process.kill('SIGUSR2');
    this.#harakiriTimer = setTimeout(() => this.process.kill('SIGKILL'), HARAKIRI_STACK_MS);
  }

  #sendBody(r: InFlight): void {
    const body = r.ex.body!;
    const memory = body.memoryChunks();
    if (memory !== null && body.totalBytes <= r.bodyWindow) {
      // Common case: the whole body fits the window; send it in this turn's write.
      for (const c of memory) this.#channel.send(frameHeader(r.id, ToWorker.BODY, c.length), c);
      this.#channel.send(encodeBodyEnd(r.id));
      r.bodyWindow -= body.totalBytes;
      r.bodyDone = true;
      return;
    }
    void this.#pumpBody(r);
  }

  async #pumpBody(r: InFlight): Promise<void> {
    if (r.bodyPumping || r.bodyDone) return;
    r.bodyPumping = true;
    try {
      while (r.bodyWindow > 0 && this.#inflight.get(r.id) === r) {
        const chunk = await r.ex.body!.readChunk(Math.min(BODY_PIECE_BYTES, r.bodyWindow));
        if (this.#inflight.get(r.id) !== r) return;
        if (chunk === null) {
          this.#channel.send(encodeBodyEnd(r.id));
          r.bodyDone = true;
          return;
        }
        r.bodyWindow -= chunk.length;
        this.#channel.send(frameHeader(r.id, ToWorker.BODY, chunk.length), chunk);
      }
    } catch (err) {
      this.#events.log('error', `reading the spooled body of ${r.ex.request.method} ${r.ex.request.target} failed: ${(err as Error).message}`);
      this.#channel.send(encodeAbort(r.id));
    } finally {
      r.bodyPumping = false;
    }
  }

  #onFrame(f: Frame): void {
    if (f.id === 0) {
      // Request ids start at 1: id 0 is the worker's own (READY, BOOT_FAIL, MODULES, LOG).
      this.#onControlFrame(f);
      return;
    }
    const r = this.#inflight.get(f.id);
    if (r === undefined) return;
    const responder = r.ex.responder;
    switch (f.type) {
      case FromWorker.FULL: {
        this.requestsServed++;
        const full = parseFull(f.payload);
        responder.sendFull(full.head.status, full.head.headers, full.body);
        this.#complete(r);
        return;
      }
      case FromWorker.HEAD: {
        const head = parseHeadBlock(f.payload);
        if (!responder.sendHead(head.status, head.headers)) {
          r.rejected = true;
          this.#channel.send(encodeAbort(r.id));
        }
        return;
      }
      case FromWorker.BODY: {
        const n = f.payload.length;
        if (r.rejected || r.ex.aborted) this.#channel.send(encodeAck(r.id, n));
        else responder.sendBody(f.payload, () => this.#channel.send(encodeAck(r.id, n)));
        return;
      }
      case FromWorker.FILE:
        void this.#onFile(r, parseFile(f.payload));
        return;
      case FromWorker.END:
        this.requestsServed++;
        if (!r.rejected && r.file === null) responder.sendEnd();
        this.#complete(r);
        return;
      case FromWorker.ERROR: {
        this.requestsServed++;
        const req = r.ex.request;
        this.#events.log('error', `${req.method} ${req.target} failed in worker ${this.slot} (pid ${this.pid}):\n${f.payload.toString('utf8').trimEnd()}`);
        const bodyDone = r.file !== null && r.file.finished;
        r.file?.cancel();
        if (!r.rejected && !bodyDone) responder.sendError(500, 'Internal Server Error: the application raised an exception; see the server log.');
        this.#complete(r);
        return;
      }
      case FromWorker.CREDIT:
        r.bodyWindow += parseU32(f.payload);
        if (!r.bodyDone) void this.#pumpBody(r);
        return;
      case FromWorker.LOG:
        this.#events.output(f.payload.toString('utf8'));
        return;
      default:
        this.#events.log('warn', `worker ${this.slot} sent an unexpected frame type 0x${f.type.toString(16)}`);
    }
  }

  /**
   * FILE (after HEAD): open the worker's descriptor and send the range from here. The worker
   * waits for the answer, so the descriptor stays valid until FILE_OPENED / FILE_FAILED leaves.
   */
  async #onFile(r: InFlight, range: FileRange): Promise<void> {
    const ex = r.ex;
    if (r.rejected || ex.aborted || ex.request.method === 'HEAD' || range.length === 0) {
      this.#channel.send(encodeFileOpened(r.id)); // no body to send: the worker just closes and ends
      return;
    }
    const fh = await openWorkerFile(this.ready?.pid ?? this.pid, range.fd);
    if (this.#inflight.get(r.id) !== r) {
      await fh?.close().catch(() => undefined); // the worker died meanwhile; the client got its 502
      return;
    }
    if (fh === null) {
      this.#channel.send(encodeFileFailed(r.id));
      return;
    }
    r.file = new FileSender(ex, fh, range.offset, range.length, (level, message) => this.#events.log(level, message));
    this.#channel.send(encodeFileOpened(r.id));
    r.file.start();
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
        this.requestsServed += Math.max(0, report.served - this.#directServed);
        this.#directServed = report.served;
        let longest: (typeof report.running)[number] | null = null;
        for (const r of report.running) if (longest === null || r[0] > longest[0]) longest = r;
        this.#directOldest = longest === null ? Infinity : performance.now() - longest[0] * 1000;
        this.#directOldestWhat = longest === null ? '' : `${longest[1]} ${longest[2]}`;
        this.#events.direct?.(this, report);
        return;
      }
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

  #complete(r: InFlight): void {
    this.#inflight.delete(r.id);
    const ms = performance.now() - r.sentAt;
    this.serviceEwmaMs = this.serviceEwmaMs === Infinity ? ms : this.serviceEwmaMs * 0.8 + ms * 0.2;
    if (r.file === null) r.ex.onAbort = null; // a FileSender keeps its own hook until it is done
    if (this.state === 'READY') this.#events.free(this);
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#harakiriTimer !== null) clearTimeout(this.#harakiriTimer);
    this.#harakiriTimer = null;
    this.#channel.close();
    if (this.bootFailure === null) this.bootFailure = this.process.bootFailure;
    if (this.#startupOutput !== null) this.#releaseStartupOutput();
    // A request whose file the master already sends is not lost: its descriptor is the master's.
    const lost = [...this.#inflight.values()].filter((r) => r.file === null);
    this.#inflight.clear();
    const stuckBefore = this.harakiriAt === 0 ? -Infinity : this.harakiriAt - this.#harakiriLimitMs;
    let timedOut = 0;
    for (const r of lost) {
      r.ex.onAbort = null;
      if (r.sentAt <= stuckBefore) {
        timedOut++;
        r.ex.responder.sendError(504, 'Gateway Timeout: the request ran longer than harakiri.');
      } else {
        r.ex.responder.sendError(502, 'Bad Gateway: the worker running this request died; see the server log.');
      }
    }
    if (lost.length > 0) {
      const how = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
      const answered = timedOut === 0 ? '502' : timedOut === lost.length ? '504 (harakiri)' : `504 (harakiri) to ${timedOut}, 502 to the others`;
      this.#events.log('error', `worker ${this.slot} (pid ${this.pid}) died (${how}) while running ${lost.length} request(s): ${lost.map((r) => `${r.ex.request.method} ${r.ex.request.target}`).join(', ')} — answered ${answered}`);
    }
    if (canTransition(this.state, 'EXITED')) this.state = transition(this.state, 'EXITED');
    this.#events.exited(this, code, signal);
  }
}
