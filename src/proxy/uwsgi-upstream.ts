/**
 * A uwsgi backend (a real uWSGI `socket`, or a Berth one): one connection per request, as
 * nginx's uwsgi_pass does, through the client codec of ../protocol/uwsgi/.
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
 */
import net from 'node:net';
import type { BackendSpec } from '../config/schema.js';
import { encodeUwsgiRequest, RawHttpResponseParser } from '../protocol/uwsgi/client.js';
import type { RawHttpResponseHead } from '../protocol/uwsgi/types.js';
import { noteReadGarbage } from '../server/young-collection.js';
import { drainOrClose } from './drain-or-close.js';
import { uwsgiVars, withoutHopByHop } from './forward-headers.js';
import { IdleSweep, type Watched } from './idle-sweep.js';
import type { AttemptHandler, OutgoingRequest, Transport } from './transport.js';

const PAUSE_AT = 256 * 1024;
const BODY_PIECE = 64 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
/** Parsers kept for reuse; more are left to the GC. */
const MAX_FREE_PARSERS = 256;

const sweep = new IdleSweep();
const ATTEMPT = Symbol('uwsgi attempt');
/** Its attempt while connected; null once closed, so a kept socket holds on to no request. */
type AttemptSocket = net.Socket & { [ATTEMPT]: UwsgiAttempt | null };

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
  this[ATTEMPT]?.onData((buffer as Buffer).subarray(0, bytes));
  // Pausing is onBody's (socket.pause()), as on a socket read by 'data'.
  return true;
}
function onEnd(this: AttemptSocket): void {
  this[ATTEMPT]?.onEnd();
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
  // One left paused (a slow client) would not read after connecting again.
  if (!this.isPaused() && freeSockets.length < MAX_FREE_SOCKETS) freeSockets.push(this);
}
function newSocket(): AttemptSocket {
  // net.Socket reads `onread` in its constructor (net.connect passes it there); the typings list it for connect only.
  const socket = new net.Socket({ onread: { buffer: READ_BUFFER, callback: onRead } } as net.SocketConstructorOpts) as AttemptSocket;
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
  readonly #socket: AttemptSocket;
  readonly #out: OutgoingRequest;
  readonly #handler: AttemptHandler;
  #slot: ParserSlot | null;
  /** Inside the parser: its slot goes back to the free list only once it has returned. */
  #parsing = false;
  #unflushed = 0;

  constructor(spec: BackendSpec, out: OutgoingRequest, handler: AttemptHandler) {
    this.#out = out;
    this.#handler = handler;
    this.limitMs = out.connectTimeoutMs;
    this.#slot = takeSlot(this, out.request.method === 'HEAD');
    const t = spec.target;
    const socket = freeSockets.pop() ?? newSocket();
    socket[ATTEMPT] = this;
    this.#socket = socket;
    if (t.kind === 'unix') socket.connect(t.path);
    else socket.connect(t.port, t.host);
    sweep.watch(this, Math.min(out.connectTimeoutMs, out.readTimeoutMs));
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
      packet = encodeUwsgiRequest(uwsgiVars(out.request, out.cgiBlock(), out.pathInfo, out.body === null ? null : out.body.totalBytes, out.target === out.request.target ? null : out.target));
    } catch (err) {
      this.fail('error', `the request cannot be put in a uwsgi packet: ${(err as Error).message}`);
      return;
    }
    this.#socket.write(packet);
    if (out.body !== null) void this.#writeBody();
  }

  onData(chunk: Buffer): void {
    if (this.settled) return;
    this.progressAt = sweep.clock;
    this.#parsing = true;
    this.#slot!.parser.execute(chunk);
    this.#parsing = false;
    if (this.settled) this.#releaseSlot();
    else this.#handler.readDone();
  }

  onEnd(): void {
    if (!this.settled) {
      this.#parsing = true;
      this.#slot!.parser.finish();
      this.#parsing = false;
    }
    if (!this.settled) this.fail('error', 'the backend closed the connection before the response was complete');
    this.#releaseSlot();
  }

  onHead(head: RawHttpResponseHead): void {
    this.#handler.head(head.statusCode, head.reason, withoutHopByHop(head.headers), head.contentLength);
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
    if (this.settle()) this.#handler.fail(kind, kind !== 'connect', message);
  }

  /**
   * True the first time: the socket is closed and the sweep forgets the attempt. After a
   * complete response it is reset (RST) rather than closed with a FIN: the backend has sent
   * everything and closes its side anyway, so the FIN exchange and the backend's TIME_WAIT
   * are work for nothing (measured in docs/benchmarks.md, s7L: real uWSGI logs no error).
   */
  settle(complete = false): boolean {
    if (this.settled) return false;
    this.settled = true;
    sweep.forget(this);
    if (complete && this.#socket.readyState === 'open') this.#socket.resetAndDestroy();
    else this.#socket.destroy();
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

  async #writeBody(): Promise<void> {
    const socket = this.#socket;
    try {
      for await (const piece of this.#out.body!.replay(BODY_PIECE)) {
        if (this.settled) return;
        noteReadGarbage(piece.length);
        if (!socket.write(piece)) await drainOrClose(socket);
        this.progressAt = sweep.clock;
      }
    } catch (err) {
      // Once settled, the socket may already carry another request.
      if (!this.settled) socket.destroy(err as Error);
    }
  }
}

export class UwsgiUpstream implements Transport {
  readonly #spec: BackendSpec;

  constructor(spec: BackendSpec) {
    this.#spec = spec;
  }

  send(out: OutgoingRequest, handler: AttemptHandler): () => void {
    const attempt = new UwsgiAttempt(this.#spec, out, handler);
    return () => {
      attempt.settle();
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
