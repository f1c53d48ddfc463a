/** Keep-alive connections to one HTTP backend: each a net.Socket with one response parser, idle ones kept for the next request. */
import net from 'node:net';
import type { BackendSpec } from '../config/schema.js';
import { RawHttpResponseParser, responseKeepsAlive } from '../protocol/uwsgi/client.js';
import type { RawHttpResponseHead } from '../protocol/uwsgi/types.js';
import { IdleSweep, type Watched } from './idle-sweep.js';
import { writeDirect } from '../server/direct-writes.js';

const MAX_HEAD_BYTES = 64 * 1024;
/** Idle connections kept per backend; more are closed when their response ends. */
const MAX_IDLE = 256;
const SWEEP_MS = 250;
/**
 * Sweeps an idle connection is kept: 1.25–1.5 s, under gunicorn's 2 s keepalive (a Berth
 * backend keeps it on its worker up to its http-timeout since s16H). Counted in the pool's
 * sweeps, not read from a clock per response.
 */
const IDLE_SWEEPS = 5;
/**
 * Requests one connection carries before it is closed (nginx's `keepalive_requests`, there
 * 1,000 by default). Why: a kept connection stays with the backend process that accepted it —
 * a Berth backend's worker, or its master once the worker handed it over (an idle spell, a
 * worker descheduled past idle_ms) — so long-lived connections freeze an uneven spread; a new
 * one goes to whichever worker accepts first, the least busy. nginx's 1,000: 100 cost the front
 * more than it saved the backends (docs/benchmarks.md, session s15B); this bounds a stuck spread
 * to seconds at a busy backend's rate for one connect per 1,000 requests.
 */
export const REQUESTS_PER_CONNECTION = 1000;

/**
 * The connect and read timeouts of every busy connection: Node refreshes a socket's own
 * timeout timer on each read and write (two timer-list moves per request), here progress is
 * one assignment.
 */
const sweep = new IdleSweep();

/**
 * Every backend connection reads into this one buffer (net's `onread`), not a fresh 64 KiB
 * one per read: the parser copies what it keeps of a split head and body pieces are copied
 * before they are passed on. Safe to share: each read is parsed before the next one is made.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** The request using a connection: hears its response, or why there will be none. */
export interface ConnectionUser {
  head(head: RawHttpResponseHead): void;
  /** An interim response (1xx other than 100) before the head. */
  interim(head: RawHttpResponseHead): void;
  body(chunk: Buffer): void;
  /** A chunked response's trailer fields, just before end(). */
  trailers(fields: readonly string[]): void;
  /** What one read brought has been handed on (the response is not complete yet). */
  readDone(): void;
  /** The response is complete; the connection is already back in the pool or closed. */
  end(): void;
  /**
   * The connection broke. `responseStarted`: some of the response had arrived. `connect`:
   * the backend was never reached (refused, unreachable, connect-timeout).
   */
  broken(kind: 'connect' | 'timeout' | 'error', responseStarted: boolean, message: string): void;
}

/**
 * One connection. Its listeners are attached once and route to the current user, so a
 * reused connection costs no listener or closure per request; with no user, anything the
 * backend does (bytes, close, idle timeout) ends the connection.
 */
export class BackendConnection implements Watched {
  readonly socket: net.Socket;
  /** True once it has carried a response: a failure before any new byte may be the backend's keep-alive close. */
  reused = false;
  #user: ConnectionUser | null = null;
  #connected = false;
  #responseStarted = false;
  #responseDone = false;
  #keepAlive = false;
  #requestWritten = false;
  #readTimeoutMs = 0;
  /** Requests begun on it, against REQUESTS_PER_CONNECTION. */
  #carried = 0;
  readonly #connectTimeoutMs: number;
  /** The pool's sweep count when it went idle. */
  idleSince = 0;
  /** Watched by the sweep while it has a user (see Watched). */
  progressAt = 0;
  progressBound = 0;
  limitMs = 0;
  /**
   * Whether the sweep holds it. A connection stays watched while idle in the pool (limitMs
   * Infinity) until it closes: no Set insert and delete per request.
   */
  #watched = false;
  readonly #pool: HttpBackendPool;
  readonly #parser: RawHttpResponseParser;

  constructor(pool: HttpBackendPool, spec: BackendSpec, connectTimeoutMs: number) {
    this.#pool = pool;
    this.#connectTimeoutMs = connectTimeoutMs;
    const t = spec.target;
    const onread = { buffer: READ_BUFFER, callback: (bytes: number): boolean => this.#onData(bytes) };
    this.socket = t.kind === 'unix' ? net.connect({ path: t.path, onread }) : net.connect({ port: t.port, host: t.host, noDelay: true, onread });
    this.#parser = new RawHttpResponseParser({
      onHead: (head) => {
        this.#keepAlive = responseKeepsAlive(head);
        this.#user?.head(head);
      },
      // The piece lies in READ_BUFFER, which the next read overwrites. (allocUnsafe + set: a
      // plain copy, where Buffer.from takes the generic array-like path.)
      onBody: (chunk) => {
        const copy = Buffer.allocUnsafe(chunk.length);
        copy.set(chunk);
        this.#user?.body(copy);
      },
      onMessageEnd: () => (this.#responseDone = true),
      onError: (err) => this.#onParseError(err.message),
      onInterim: (head) => this.#user?.interim(head),
      onTrailers: (fields) => this.#user?.trailers(fields),
    }, { maxHeadBytes: MAX_HEAD_BYTES, reuseRepeatedHead: true, keepTrailers: true });
    const s = this.socket;
    s.on('connect', () => {
      this.#connected = true;
      this.limitMs = this.#readTimeoutMs;
      this.progressAt = sweep.clock;
    });
    s.on('end', () => this.#onEnd());
    s.on('error', (err: NodeJS.ErrnoException) => {
      this.#break(this.#connected ? 'error' : 'connect', `${err.code ?? ''} ${err.message}`.trim());
    });
    s.on('close', () => {
      pool.forget(this);
      this.#unwatch();
      this.#break('error', 'the backend closed the connection before the response was complete');
    });
  }

  /** Starts one exchange: the head is written at once (queued by Node until connected). */
  begin(user: ConnectionUser, head: string, headRequest: boolean, readTimeoutMs: number, hasBody: boolean): void {
    this.#user = user;
    this.#carried++;
    this.#responseStarted = false;
    this.#responseDone = false;
    this.#keepAlive = false;
    this.#requestWritten = !hasBody;
    this.#readTimeoutMs = readTimeoutMs;
    this.#parser.reset(headRequest);
    this.limitMs = this.#connected ? readTimeoutMs : this.#connectTimeoutMs;
    if (this.#watched) this.progressAt = this.progressBound = sweep.clock;
    else {
      sweep.watch(this, this.#connected ? readTimeoutMs : Math.min(readTimeoutMs, this.#connectTimeoutMs));
      this.#watched = true;
    }
    writeDirect(this.socket, head);
  }

  /**
   * A piece of the request body was written: progress, as a read is — once connected. Before,
   * the write only queues, and the connect timeout must not restart with each piece (as a
   * socket's own timer did not: Node refreshes it on writes only once connected).
   */
  wrote(): void {
    if (this.#connected) this.progressAt = sweep.clock;
  }

  /** The sweep's verdict: no progress within limitMs. */
  expire(): void {
    // Idle ones never expire (limitMs Infinity): this one has a user.
    this.#watched = false;
    if (this.#connected) this.#break('timeout', `read-timeout: nothing received for ${this.#readTimeoutMs} ms`);
    else this.#break('connect', `connect-timeout: no connection within ${this.#connectTimeoutMs} ms`);
  }

  /** The request body has been written whole: only then may the connection carry another request. */
  requestWritten(): void {
    this.#requestWritten = true;
  }

  isUsedBy(user: ConnectionUser): boolean {
    return this.#user === user;
  }

  /** The user gives up (the client went away): the connection cannot be reused. */
  abandon(user: ConnectionUser): void {
    if (this.#user !== user) return;
    this.#user = null;
    this.#unwatch();
    this.socket.destroy();
  }

  /** The read lies in READ_BUFFER[0, bytes). Always true: pausing is the user's (socket.pause()), as with 'data'. */
  #onData(bytes: number): boolean {
    if (this.#user === null) {
      // Bytes nobody asked for: the backend and Berth disagree about the framing.
      this.socket.destroy();
      return true;
    }
    this.#responseStarted = true;
    this.progressAt = sweep.clock;
    this.#parser.execute(READ_BUFFER, bytes);
    if (this.#user === null) return true;
    if (this.#responseDone) this.#finish();
    else this.#user.readDone();
    return true;
  }

  /**
   * Bytes after a complete response (the only error the parser reports once a response is
   * done): the response stands, but this connection and the backend disagree about framing,
   * so it carries nothing more (RFC 9112 §6.3).
   */
  #onParseError(message: string): void {
    if (this.#responseDone) this.#keepAlive = false;
    else this.#break('error', `unusable response: ${message}`);
  }

  #onEnd(): void {
    if (this.#user === null) {
      this.socket.destroy();
      return;
    }
    this.#parser.finish();
    if (this.#responseDone && this.#user !== null) {
      this.#keepAlive = false;
      this.#finish();
    } else {
      this.#break('error', 'the backend closed the connection before the response was complete');
    }
  }

  #finish(): void {
    const user = this.#user!;
    this.#user = null;
    this.reused = true;
    if (this.#keepAlive && this.#requestWritten && !this.socket.destroyed && this.#carried < REQUESTS_PER_CONNECTION) {
      this.limitMs = Infinity;
      this.#pool.give(this);
    } else {
      this.#unwatch();
      this.socket.destroy();
    }
    user.end();
  }

  #break(kind: 'connect' | 'timeout' | 'error', message: string): void {
    const user = this.#user;
    if (user === null) return;
    this.#user = null;
    this.#unwatch();
    this.socket.destroy();
    user.broken(kind, this.#responseStarted, message);
  }

  #unwatch(): void {
    if (!this.#watched) return;
    this.#watched = false;
    sweep.forget(this);
  }

  /** Idle in the pool: reading resumed, so a close or stray bytes from the backend are seen. */
  idle(sweeps: number): void {
    this.idleSince = sweeps;
    if (this.socket.isPaused()) this.socket.resume();
  }
}

/**
 * The pool: idle connections last in, first out (the warmest socket, and the others age out
 * by the idle timeout); as many busy ones as requests in flight, as undici's Pool without a
 * connection limit.
 */
export class HttpBackendPool {
  readonly #spec: BackendSpec;
  readonly #connectTimeoutMs: number;
  readonly #idle: BackendConnection[] = [];
  #closed = false;
  /** Runs while connections are idle: one timer per pool, not one per request. */
  #sweep: NodeJS.Timeout | null = null;
  /** Sweeps run so far: the idle connections' clock. */
  #sweeps = 0;

  constructor(spec: BackendSpec, connectTimeoutMs: number) {
    this.#spec = spec;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** An idle connection the backend has not closed, else a new one. `fresh`: always a new one. */
  take(fresh: boolean): BackendConnection {
    while (!fresh && this.#idle.length > 0) {
      const c = this.#idle.pop()!;
      // A connection whose close arrived is already gone (forget); this also covers a half-closed one.
      if (!c.socket.destroyed && c.socket.readable && c.socket.writable) return c;
      c.socket.destroy();
    }
    return new BackendConnection(this, this.#spec, this.#connectTimeoutMs);
  }

  give(c: BackendConnection): void {
    if (this.#closed || this.#idle.length >= MAX_IDLE) {
      c.socket.destroy();
      return;
    }
    c.idle(this.#sweeps);
    this.#idle.push(c);
    this.#sweep ??= setInterval(() => this.#expire(), SWEEP_MS).unref();
  }

  /** Closes what has been idle for IDLE_SWEEPS sweeps (the oldest are first in the list). */
  #expire(): void {
    const limit = ++this.#sweeps - IDLE_SWEEPS;
    let n = 0;
    // Idle since sweep S: the sweep after it ran within SWEEP_MS, so S + IDLE_SWEEPS + 1 is 1.25–1.5 s on.
    while (n < this.#idle.length && this.#idle[n]!.idleSince < limit) n++;
    for (const c of this.#idle.splice(0, n)) c.socket.destroy();
    if (this.#idle.length === 0 && this.#sweep !== null) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
  }

  forget(c: BackendConnection): void {
    const i = this.#idle.lastIndexOf(c);
    if (i !== -1) this.#idle.splice(i, 1);
  }

  /** Closes the idle connections; busy ones close when their response ends. */
  close(): void {
    this.#closed = true;
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
    for (const c of this.#idle.splice(0)) c.socket.destroy();
  }
}
