/**
 * A uwsgi backend (a real uWSGI `socket`, or a Berth one): one connection per request, as
 * nginx's uwsgi_pass does, through the client codec of ../protocol/uwsgi/ — or, to a Berth
 * backend that took the keep-alive offer, connections kept for the next request.
 *
 * Theory of operation: connect (bounded by connect-timeout), write the packet (vars from the
 * front's CGI block, nginx's uwsgi_params) then the stored body with the socket's own
 * backpressure, and feed what comes back to RawHttpResponseParser. read-timeout bounds each
 * wait for bytes, as nginx's uwsgi_read_timeout does (a write counts as progress too).
 * Unflushed response bytes past PAUSE_AT stop the socket being read, so a large response
 * passes in constant memory.
 *
 * Why it is shaped this way: the connection is new for every request, so what comes with it
 * is kept small. Closed Socket objects are kept and connect again (the one change here that
 * measurably cut the front's CPU per request); the listeners are module functions (the
 * attempt hangs off the socket), not closures made per request; reads go into one shared
 * buffer (net's `onread`), not a fresh 64 KiB one each; the timeouts are watched by one
 * IdleSweep, not a timer per socket; response parsers are reused from a free list; the
 * connection is reset as soon as the response has ended.
 *
 * Keep-alive (../protocol/uwsgi/keepalive-marker.ts): every packet carries the front's offer;
 * a response that carries the marker (only a Berth backend sends it) leaves its connection in
 * the backend's UwsgiIdlePool, and the next request to that backend takes it instead of
 * connecting. A reused connection that breaks before any byte of the response may have been
 * closed by the backend as the request left: an idempotent request is then sent once more on
 * a new connection (nginx's and the HTTP pool's rule); any other fails as sent.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { BackendSpec } from '../config/schema.js';
import { encodeUwsgiRequest, RawHttpResponseParser } from '../protocol/uwsgi/client.js';
import { KEEPALIVE_VAR, keepAliveGranted, withoutKeepAliveField } from '../protocol/uwsgi/keepalive-marker.js';
import type { RawHttpResponseHead } from '../protocol/uwsgi/types.js';
import { noteReadGarbage } from '../server/young-collection.js';
import { drainOrClose } from './drain-or-close.js';
import { uwsgiVars, withoutHopByHop } from './forward-headers.js';
import { IdleSweep, type Watched } from './idle-sweep.js';
import { unsentBytes, writeDirect } from '../server/direct-writes.js';
import type { AttemptHandler, OutgoingRequest, Transport } from './transport.js';
import { UwsgiIdlePool, type PoolableSocket } from './uwsgi-idle-pool.js';

const PAUSE_AT = 256 * 1024;
const BODY_PIECE = 64 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
/** Parsers kept for reuse; more are left to the GC. */
const MAX_FREE_PARSERS = 256;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
/** This front's keep-alive token: a backend's marker must echo it (random, so no app can send it by accident). */
const KEEPALIVE_TOKEN = randomBytes(9).toString('base64url');

const sweep = new IdleSweep();
const ATTEMPT = Symbol('uwsgi attempt');
/** Its attempt while connected; null once closed, so a kept socket holds on to no request. */
type AttemptSocket = PoolableSocket & { [ATTEMPT]: UwsgiAttempt | null };

/** A response parser whose callbacks go to whichever attempt holds it. */
class ParserSlot {
  attempt: UwsgiAttempt | null = null;
  readonly parser = new RawHttpResponseParser({
    onHead: (head) => this.attempt?.onHead(head),
    onBody: (chunk) => this.attempt?.onBody(chunk),
    onMessageEnd: () => this.attempt?.onMessageEnd(),
    onError: (err) => this.attempt?.fail('error', `unusable response: ${err.message}`),
  }, { maxHeadBytes: MAX_HEAD_BYTES });
}

const freeSlots: ParserSlot[] = [];

function takeSlot(attempt: UwsgiAttempt, headRequest: boolean): ParserSlot {
  const slot = freeSlots.pop() ?? new ParserSlot();
  slot.parser.reset(headRequest);
  slot.attempt = attempt;
  return slot;
}

function onConnect(this: AttemptSocket): void {
  this[ATTEMPT]?.onConnect();
}
/**
 * Every backend socket reads into this one buffer (net's `onread`), so a read allocates
 * nothing: the parser copies what it keeps of a split head, and onBody copies the body
 * pieces it passes on. Safe to share: each read is parsed before the next one is made.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
function onRead(this: AttemptSocket, bytes: number, buffer: Uint8Array): boolean {
  const attempt = this[ATTEMPT];
  // Bytes on an idle kept connection: the backend and the front disagree about the framing.
  if (attempt === null) this.destroy();
  else attempt.onData((buffer as Buffer).subarray(0, bytes));
  // Pausing is onBody's (socket.pause()), as on a socket read by 'data'.
  return true;
}
function onEnd(this: AttemptSocket): void {
  const attempt = this[ATTEMPT];
  if (attempt === null) this.destroy();
  else attempt.onEnd();
}
function onError(this: AttemptSocket, err: NodeJS.ErrnoException): void {
  const attempt = this[ATTEMPT];
  attempt?.fail(attempt.connected ? 'error' : 'connect', `${err.code ?? ''} ${err.message}`.trim());
}

/**
 * Closed sockets kept to connect again (net allows it once 'close' has been emitted): the
 * Socket, its stream states and its listeners are made once, not per request.
 */
const MAX_FREE_SOCKETS = 256;
const freeSockets: AttemptSocket[] = [];
function onClose(this: AttemptSocket): void {
  this[ATTEMPT] = null;
  UwsgiIdlePool.forget(this);
  // One left paused (a slow client) would not read after connecting again.
  if (!this.isPaused() && freeSockets.length < MAX_FREE_SOCKETS) freeSockets.push(this);
}
function newSocket(): AttemptSocket {
  // net.Socket reads `onread` in its constructor (net.connect passes it there); the typings list it for connect only.
  const socket = new net.Socket({ onread: { buffer: READ_BUFFER, callback: onRead } } as net.SocketConstructorOpts) as AttemptSocket;
  socket[ATTEMPT] = null;
  socket.on('connect', onConnect);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', onClose);
  return socket;
}

/** One request's exchange with the backend: its socket, parser and timeout state. */
class UwsgiAttempt implements Watched {
  progressAt = 0;
  progressBound = 0;
  limitMs: number;
  connected = false;
  settled = false;
  #socket: AttemptSocket;
  readonly #spec: BackendSpec;
  readonly #pool: UwsgiIdlePool;
  readonly #out: OutgoingRequest;
  readonly #handler: AttemptHandler;
  #slot: ParserSlot | null;
  /** Inside the parser: its slot goes back to the free list only once it has returned. */
  #parsing = false;
  #unflushed = 0;
  /** On a kept connection; cleared when the request is sent again on a new one. */
  #reused = false;
  #resent = false;
  #responseStarted = false;
  /** The response carried this front's keep-alive marker and is framed. */
  #reusable = false;
  #bodyWritten: boolean;
  /** Body bytes handed to the socket: all of them, flushed, count as written even before the drain wait returns. */
  #bodyQueued = 0;

  constructor(spec: BackendSpec, pool: UwsgiIdlePool, out: OutgoingRequest, handler: AttemptHandler) {
    this.#spec = spec;
    this.#pool = pool;
    this.#out = out;
    this.#handler = handler;
    this.#bodyWritten = out.body === null;
    this.#slot = takeSlot(this, out.request.method === 'HEAD');
    const kept = pool.take() as AttemptSocket | null;
    if (kept !== null) {
      kept[ATTEMPT] = this;
      this.#socket = kept;
      this.#reused = true;
      this.limitMs = out.readTimeoutMs;
      sweep.watch(this, Math.min(out.connectTimeoutMs, out.readTimeoutMs));
      // Not inside send(): a packet that cannot be encoded fails the attempt, which send's caller must hear after it returns.
      queueMicrotask(() => {
        if (!this.settled && this.#socket === kept) this.onConnect();
      });
      return;
    }
    this.limitMs = out.connectTimeoutMs;
    this.#socket = this.#connect();
    sweep.watch(this, Math.min(out.connectTimeoutMs, out.readTimeoutMs));
  }

  #connect(): AttemptSocket {
    const t = this.#spec.target;
    const socket = freeSockets.pop() ?? newSocket();
    socket[ATTEMPT] = this;
    if (t.kind === 'unix') socket.connect(t.path);
    else socket.connect(t.port, t.host);
    return socket;
  }

  expire(): void {
    if (this.connected) this.fail('timeout', `read-timeout: nothing received for ${this.#out.readTimeoutMs} ms`);
    else this.fail('connect', `connect-timeout: no connection within ${this.#out.connectTimeoutMs} ms`);
  }

  onConnect(): void {
    this.connected = true;
    this.limitMs = this.#out.readTimeoutMs;
    this.progressAt = sweep.clock;
    const out = this.#out;
    let packet: Buffer;
    try {
      const vars = uwsgiVars(out.request, out.cgiBlock(), out.pathInfo, out.body === null ? null : out.body.totalBytes, out.target === out.request.target ? null : out.target, out.via, out.maxForwards);
      vars.push(KEEPALIVE_VAR, KEEPALIVE_TOKEN);
      packet = encodeUwsgiRequest(vars);
    } catch (err) {
      this.fail('error', `the request cannot be put in a uwsgi packet: ${(err as Error).message}`);
      return;
    }
    writeDirect(this.#socket, packet);
    if (out.body !== null) void this.#writeBody(this.#socket);
  }

  onData(chunk: Buffer): void {
    if (this.settled) return;
    this.#responseStarted = true;
    this.progressAt = sweep.clock;
    this.#parsing = true;
    this.#slot!.parser.execute(chunk);
    this.#parsing = false;
    if (this.settled) this.#releaseSlot();
    else this.#handler.readDone();
  }

  onEnd(): void {
    const socket = this.#socket;
    if (!this.settled) {
      this.#parsing = true;
      this.#slot!.parser.finish();
      this.#parsing = false;
    }
    // The parser's error may have sent the request again on a new socket: this end is the old one's.
    if (!this.settled && this.#socket === socket) this.fail('error', 'the backend closed the connection before the response was complete');
    if (this.settled) this.#releaseSlot();
  }

  onHead(head: RawHttpResponseHead): void {
    this.#reusable = keepAliveGranted(head, KEEPALIVE_TOKEN);
    this.#handler.head(head.statusCode, head.reason, withoutKeepAliveField(withoutHopByHop(head.headers)), head.contentLength);
  }

  /** `view` lies in READ_BUFFER, which the next read overwrites: what is passed on is a copy. */
  onBody(view: Buffer): void {
    const chunk = Buffer.from(view);
    this.#unflushed += chunk.length;
    noteReadGarbage(chunk.length);
    const socket = this.#socket;
    if (this.#unflushed > PAUSE_AT) socket.pause();
    this.#handler.body(chunk, () => {
      this.#unflushed -= chunk.length;
      if (this.#unflushed <= PAUSE_AT && socket.isPaused() && !this.settled) socket.resume();
    });
  }

  onMessageEnd(): void {
    if (this.settle(true)) this.#handler.end();
  }

  fail(kind: 'connect' | 'timeout' | 'error', message: string): void {
    if (this.settled) return;
    if (kind === 'error' && this.#reused && !this.#responseStarted && !this.#resent && IDEMPOTENT.has(this.#out.request.method)) {
      this.#sendAgain();
      return;
    }
    if (this.settle()) this.#handler.fail(kind, kind !== 'connect', message);
  }

  /** The kept connection broke before any byte of the response: the same request on a new one. */
  #sendAgain(): void {
    const old = this.#socket;
    old[ATTEMPT] = null;
    old.destroy();
    this.#resent = true;
    this.#reused = false;
    this.#bodyWritten = this.#out.body === null;
    this.#bodyQueued = 0;
    this.#slot!.parser.reset(this.#out.request.method === 'HEAD');
    this.connected = false;
    this.limitMs = this.#out.connectTimeoutMs;
    this.progressAt = sweep.clock;
    this.#socket = this.#connect();
  }

  /**
   * True the first time: the sweep forgets the attempt, and the socket goes back to the
   * backend's pool when the backend granted keep-alive and the exchange is whole, else it is
   * closed. After a complete response it is reset (RST) rather than closed with a FIN: the
   * backend has sent everything and closes its side anyway, so the FIN exchange and the
   * backend's TIME_WAIT are work for nothing (measured in docs/benchmarks.md, s7L: real uWSGI
   * logs no error).
   */
  settle(complete = false): boolean {
    if (this.settled) return false;
    this.settled = true;
    sweep.forget(this);
    const socket = this.#socket;
    const open = socket.readyState === 'open';
    const written = this.#bodyWritten || (this.#bodyQueued === this.#out.body!.totalBytes && unsentBytes(socket) === 0);
    if (complete && open && this.#reusable && written) {
      socket[ATTEMPT] = null;
      // Packet then body are two writes on a kept connection: Nagle would hold the second for the backend's delayed ACK.
      socket.setNoDelay(true);
      if (!this.#pool.give(socket)) socket.resetAndDestroy();
    } else if (complete && open) socket.resetAndDestroy();
    else socket.destroy();
    if (!this.#parsing) this.#releaseSlot();
    return true;
  }

  #releaseSlot(): void {
    const slot = this.#slot;
    if (slot === null) return;
    this.#slot = null;
    slot.attempt = null;
    if (freeSlots.length < MAX_FREE_PARSERS) freeSlots.push(slot);
  }

  async #writeBody(socket: AttemptSocket): Promise<void> {
    try {
      for await (const piece of this.#out.body!.replay(BODY_PIECE)) {
        if (this.settled || this.#socket !== socket) return;
        noteReadGarbage(piece.length);
        this.#bodyQueued += piece.length;
        if (!socket.write(piece)) await drainOrClose(socket);
        this.progressAt = sweep.clock;
      }
      if (!this.settled && this.#socket === socket) this.#bodyWritten = true;
    } catch (err) {
      // Once settled or sent again, the socket may already carry another request.
      if (!this.settled && this.#socket === socket) socket.destroy(err as Error);
    }
  }
}

export class UwsgiUpstream implements Transport {
  readonly #spec: BackendSpec;
  readonly #pool = new UwsgiIdlePool();

  constructor(spec: BackendSpec) {
    this.#spec = spec;
  }

  send(out: OutgoingRequest, handler: AttemptHandler): () => void {
    const attempt = new UwsgiAttempt(this.#spec, this.#pool, out, handler);
    return () => {
      attempt.settle();
    };
  }

  /** Kept connections idle now (tests, docs/proxy.md "how to see it"). */
  get idleConnections(): number {
    return this.#pool.idleCount;
  }

  close(): Promise<void> {
    this.#pool.close();
    return Promise.resolve();
  }
}
