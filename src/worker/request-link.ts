/**
 * The protocol side of one worker: its channel, in-flight requests, body windows, FILE.
 *
 * Theory of operation: the protocol side of one worker — its channel and the requests in
 * flight on it, kept apart from the supervision of the process (./handle.ts), as undici keeps
 * its HTTP/1 client apart from the pool. It sends requests as frames with request ids, tracks
 * them while the worker's threads run them, and turns the worker's frames back into Responder
 * calls. Request bodies are sent window by window (CREDIT frames open the window again);
 * streamed response bodies are acknowledged (ACK) only once the bytes left Berth, so a slow
 * reader throttles the app instead of growing memory. A wsgi.file_wrapper over a regular file
 * arrives as FILE: the master opens the worker's descriptor itself and sends the bytes
 * (./file-sender.ts), and the worker's thread is free as soon as it has closed the iterable.
 *
 * Frames with id 0 are the worker's own (READY, BOOT_FAIL, MODULES, DIRECT, LOG): they go to
 * the owner. When the process is gone, failInFlight() answers what it was running and hands
 * back the prefetched requests it cannot have started, to be dispatched again.
 */
import type { Socket } from 'node:net';
import { FromWorker, REQUEST_BODY_WINDOW_BYTES, ToWorker } from '../protocol/worker/frames.js';
import { parseFile, parseFull, parseHeadBlock, parseU32, type FileRange, type Frame } from '../protocol/worker/decode.js';
import { encodeAbort, encodeAck, encodeBodyEnd, encodeFileFailed, encodeFileOpened, encodeReport, encodeRequest, encodeShutdown, frameHeader } from '../protocol/worker/encode.js';
import type { Exchange } from '../server/exchange.js';
import { appFailed } from '../server/observe.js';
import { WorkerChannel } from './channel.js';
import { FileSender, openWorkerFile } from './file-sender.js';

const BODY_PIECE_BYTES = 256 * 1024;

/**
 * Methods a request may be sent again for after its worker died unseen (RFC 9110 §9.2.2:
 * repeating an idempotent request has the intended effect of one; nginx's
 * proxy_next_upstream makes the same distinction).
 */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

type Level = 'info' | 'warn' | 'error';

/** What the link needs from the worker it belongs to. */
export interface RequestLinkOwner {
  /** "worker 2 (pid 1234)", for the log. */
  describe(): string;
  /** The pid whose descriptors FILE frames name. */
  filePid(): number;
  /** A request finished: one of the worker's threads is free. */
  requestDone(): void;
  /** A frame with id 0 (the worker's own, not a request's). */
  control(f: Frame): void;
  /** The channel failed other than by the process going away: stop the process. */
  broken(message: string): void;
  log(level: Level, message: string): void;
  output(text: string): void;
}

interface InFlight {
  readonly id: number;
  readonly sentAt: number;
  readonly ex: Exchange;
  rejected: boolean;
  bodyWindow: number;
  bodyPumping: boolean;
  bodyDone: boolean;
  /**
   * A spooled body's pieces are read into this ring, one window long, at `bodySent` modulo its
   * length: a piece is only read while the window is open, so the bytes it overwrites were sent
   * a whole window earlier and the worker has credited them (received them). One buffer per
   * upload instead of a fresh one per piece, which V8 frees late.
   */
  bodyRing: Buffer | null;
  bodySent: number;
  /** The worker sent a frame for it (so a thread took it) or its body was streamed: no replay. */
  started: boolean;
  /** After FILE_OPENED: the master sends the body itself and ends the response (not END). */
  file: FileSender | null;
}

export class RequestLink {
  /** Requests the worker answered (FULL, END or ERROR). */
  served = 0;
  /** Recent request service time (ms, exponentially weighted); Infinity until one completes. */
  serviceEwmaMs = Infinity;
  readonly #owner: RequestLinkOwner;
  readonly #channel: WorkerChannel;
  readonly #inflight = new Map<number, InFlight>();
  #nextId = 1;

  constructor(owner: RequestLinkOwner) {
    this.#owner = owner;
    this.#channel = new WorkerChannel(
      null,
      (f) => this.#onFrame(f),
      (err) => {
        // A reset channel just means the process is going; its exit is handled by the owner.
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ECONNRESET' || code === 'EPIPE') return;
        owner.broken(err.message);
      },
      () => undefined,
    );
  }

  connect(socket: Socket, initial: Buffer | null): void {
    this.#channel.connect(socket, initial);
  }

  get load(): number {
    return this.#inflight.size;
  }

  /** When the oldest request still in flight was sent (performance.now()), or +Infinity if none. */
  oldestSentAt(): number {
    for (const r of this.#inflight.values()) return r.sentAt;
    return Infinity;
  }

  /** "GET /path" of the oldest request in flight, or null. */
  oldestRequest(): string | null {
    for (const r of this.#inflight.values()) return `${r.ex.request.method} ${r.ex.request.target}`;
    return null;
  }

  /** The requests in flight, oldest first, with when each was sent (stats: what the threads run). */
  inFlight(): { ex: Exchange; sentAt: number }[] {
    return [...this.#inflight.values()].map((r) => ({ ex: r.ex, sentAt: r.sentAt }));
  }

  send(ex: Exchange): void {
    const id = this.#nextId;
    this.#nextId = id === 0xffffffff ? 1 : id + 1;
    const hasBody = ex.body !== null && ex.body.totalBytes > 0;
    const r: InFlight = { id, sentAt: performance.now(), ex, rejected: false, bodyWindow: REQUEST_BODY_WINDOW_BYTES, bodyPumping: false, bodyDone: !hasBody, bodyRing: null, bodySent: 0, started: false, file: null };
    this.#inflight.set(id, r);
    ex.onAbort = () => this.#channel.send(encodeAbort(id));
    this.#channel.send(encodeRequest(id, ex.cgiBlock, hasBody));
    if (hasBody) this.#sendBody(r);
  }

  /** Ask the worker to finish what it runs and exit. */
  shutdown(): void {
    this.#channel.send(encodeShutdown());
  }

  /** Ask a direct worker for its DIRECT frame (served, running) now. */
  askReport(): void {
    this.#channel.send(encodeReport());
  }

  /**
   * The process is gone: answer what it was running — 504 to requests sent at or before
   * `stuckBefore` (harakiri), 502 to the others. Returns them ("GET /x"), the 504 count, and
   * `replay`: the requests it cannot have been running, for the dispatcher to send again.
   *
   * The worker takes requests in the order they were sent (a FIFO for its `threads`), so
   * only the oldest `threads` requests still in flight can be running; the ones behind them
   * were prefetched and are replayed when that is safe: no frame came back for them, their
   * body (if any) was sent whole from memory, and their method is idempotent. A worker that
   * batches its replies may have taken one of them after finishing an earlier request it had
   * not yet reported; the idempotent-method rule is what makes that case harmless.
   *
   * `clean`: the worker exited 0, which it does only after finishing and reporting every
   * request it started (SHUTDOWN or SIGTERM), so a request with no frame back was never
   * started, whatever its position: a stop that reached an idle worker before its socket was
   * read leaves such requests behind.
   */
  failInFlight(stuckBefore: number, threads: number, clean = false): { lost: string[]; timedOut: number; replay: Exchange[] } {
    this.#channel.close();
    const lost: InFlight[] = [];
    const replay: Exchange[] = [];
    let position = 0;
    for (const r of this.#inflight.values()) {
      // A request whose file the master already sends is not lost: its descriptor is the master's.
      if (r.file !== null) continue;
      if ((position++ >= threads || clean) && !r.started && r.sentAt > stuckBefore && IDEMPOTENT_METHODS.has(r.ex.request.method)) {
        r.ex.onAbort = null;
        replay.push(r.ex);
      } else {
        lost.push(r);
      }
    }
    this.#inflight.clear();
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
    return { lost: lost.map((r) => `${r.ex.request.method} ${r.ex.request.target}`), timedOut, replay };
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
    // A streamed body is consumed as it goes: such a request can never be sent again.
    r.started = true;
    void this.#pumpBody(r);
  }

  async #pumpBody(r: InFlight): Promise<void> {
    if (r.bodyPumping || r.bodyDone) return;
    r.bodyPumping = true;
    try {
      r.bodyRing ??= Buffer.allocUnsafeSlow(REQUEST_BODY_WINDOW_BYTES);
      while (r.bodyWindow > 0 && this.#inflight.get(r.id) === r) {
        const at = r.bodySent % REQUEST_BODY_WINDOW_BYTES;
        const max = Math.min(BODY_PIECE_BYTES, r.bodyWindow, REQUEST_BODY_WINDOW_BYTES - at);
        const chunk = await r.ex.body!.readChunk(max, r.bodyRing.subarray(at, at + max));
        if (this.#inflight.get(r.id) !== r) return;
        if (chunk === null) {
          this.#channel.send(encodeBodyEnd(r.id));
          r.bodyDone = true;
          return;
        }
        r.bodyWindow -= chunk.length;
        r.bodySent += chunk.length;
        this.#channel.send(frameHeader(r.id, ToWorker.BODY, chunk.length), chunk);
      }
    } catch (err) {
      this.#owner.log('error', `reading the spooled body of ${r.ex.request.method} ${r.ex.request.target} failed: ${(err as Error).message}`);
      this.#channel.send(encodeAbort(r.id));
    } finally {
      r.bodyPumping = false;
    }
  }

  #onFrame(f: Frame): void {
    if (f.id === 0) {
      // Request ids start at 1: id 0 is the worker's own (READY, BOOT_FAIL, MODULES, LOG).
      this.#owner.control(f);
      return;
    }
    const r = this.#inflight.get(f.id);
    if (r === undefined) return;
    r.started = true;
    const responder = r.ex.responder;
    switch (f.type) {
      case FromWorker.FULL: {
        this.served++;
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
        this.served++;
        if (!r.rejected && r.file === null) responder.sendEnd();
        this.#complete(r);
        return;
      case FromWorker.ERROR: {
        this.served++;
        const req = r.ex.request;
        const traceback = f.payload.toString('utf8').trimEnd();
        this.#owner.log('error', `${req.method} ${req.target} failed in ${this.#owner.describe()}:\n${traceback}`);
        if (appFailed.hasSubscribers) appFailed.publish({ ex: r.ex, traceback });
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
        this.#owner.output(f.payload.toString('utf8'));
        return;
      default:
        this.#owner.log('warn', `${this.#owner.describe()} sent an unexpected frame type 0x${f.type.toString(16)}`);
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
    const fh = await openWorkerFile(this.#owner.filePid(), range.fd);
    if (this.#inflight.get(r.id) !== r) {
      await fh?.close().catch(() => undefined); // the worker died meanwhile; the client got its 502
      return;
    }
    if (fh === null) {
      this.#channel.send(encodeFileFailed(r.id));
      return;
    }
    r.file = new FileSender(ex, fh, range.offset, range.length, (level, message) => this.#owner.log(level, message));
    this.#channel.send(encodeFileOpened(r.id));
    r.file.start();
  }

  #complete(r: InFlight): void {
    this.#inflight.delete(r.id);
    const ms = performance.now() - r.sentAt;
    this.serviceEwmaMs = this.serviceEwmaMs === Infinity ? ms : this.serviceEwmaMs * 0.8 + ms * 0.2;
    if (r.file === null) r.ex.onAbort = null; // a FileSender keeps its own hook until it is done
    this.#owner.requestDone();
  }
}
