/**
 * An HTTP backend: Berth's own keep-alive HTTP/1.1 client (./http-backend-pool.ts, the shared
 * response parser of ../protocol/uwsgi/), responses streamed back with backpressure.
 *
 * Theory of operation: the request head is written as one latin1 string, then the stored body
 * with the socket's backpressure. Failures map onto the proxy's three kinds: `connect` (nothing
 * reached the backend), `timeout` (read-timeout), `error` (the request may have arrived). A
 * reused connection that breaks before any byte of the response may simply have been closed by
 * the backend's keep-alive timeout as the request left: an idempotent request is then sent once
 * more on a new connection (as browsers and undici do); any other fails as sent, and the proxy's
 * retry rule (nginx's) decides. At most PAUSE_AT unflushed response bytes are in Berth before
 * the socket stops being read, so a large response passes in constant memory. Why not undici:
 * docs/proxy.md, "The HTTP client".
 */
import type { BackendSpec } from '../config/schema.js';
import type { RawHttpResponseHead } from '../protocol/uwsgi/types.js';
import { noteReadGarbage } from '../server/young-collection.js';
import { drainOrClose } from './drain-or-close.js';
import { eachRelayedField, forwardingLines, VIA_HOP, withoutHopByHop } from './forward-headers.js';
import { HttpBackendPool, type BackendConnection, type ConnectionUser } from './http-backend-pool.js';
import type { AttemptHandler, OutgoingRequest, Transport } from './transport.js';

/** Unflushed response bytes past which the backend is not read. */
const PAUSE_AT = 256 * 1024;
const BODY_PIECE = 64 * 1024;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
/** After the client's own Via fields: this hop appended to the chain. */
const VIA_LINE = `via: ${VIA_HOP}\r\n`;
/** Anything that would end the request line early or smuggle a line into the head. */
const BAD_TARGET = /[\s\0]/;

/**
 * The request line and fields as one string: one write, no Buffer or record per field.
 * Expect is the client's business with Berth (the body is already stored); Content-Length is
 * the stored body's when there is one.
 */
function requestHead(out: OutgoingRequest, fallbackHost: string): string {
  let fields = '';
  const stored = out.body !== null;
  const host = out.host;
  const maxForwards = out.maxForwards;
  const received = eachRelayedField(out.request, (name, value) => {
    if (name === 'expect' || (stored && name === 'content-length')) return;
    if (host !== null && name === 'host') return;
    fields += `${name}: ${maxForwards !== null && name === 'max-forwards' ? maxForwards : value}\r\n`;
  });
  const seen = host === null ? received : { ...received, host };
  // An absolute-form target's authority replaces the client's Host; a request without one gets the backend's.
  const hostLine = host !== null ? `host: ${host}\r\n` : received.host === null ? `host: ${fallbackHost}\r\n` : '';
  const line = `${out.request.method} ${out.target} HTTP/1.1\r\n${hostLine}`;
  // The front relays trailers to an HTTP/1.1 client, so it may say so for a client that takes them.
  const te = received.teTrailers === true && out.request.versionMinor === 1 ? 'te: trailers\r\n' : '';
  return `${line}${fields}${te}${out.via ? VIA_LINE : ''}${forwardingLines(out.request, seen)}${out.body !== null ? `content-length: ${out.body.totalBytes}\r\n` : ''}\r\n`;
}

/** One request's life on the pool: which connection, the resend, the pause. */
class HttpAttempt implements ConnectionUser {
  readonly #pool: HttpBackendPool;
  readonly #out: OutgoingRequest;
  readonly #handler: AttemptHandler;
  readonly #head: string;
  #conn: BackendConnection | null = null;
  #resent = false;
  #settled = false;
  #unflushed = 0;

  constructor(pool: HttpBackendPool, out: OutgoingRequest, handler: AttemptHandler, head: string) {
    this.#pool = pool;
    this.#out = out;
    this.#handler = handler;
    this.#head = head;
  }

  start(fresh: boolean): void {
    const conn = (this.#conn = this.#pool.take(fresh));
    const out = this.#out;
    conn.begin(this, this.#head, out.request.method === 'HEAD', out.readTimeoutMs, out.body !== null);
    if (out.body !== null) void this.#writeBody(conn);
  }

  cancel(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#conn?.abandon(this);
  }

  head(head: RawHttpResponseHead): void {
    if (this.#settled) return;
    this.#handler.head(head.statusCode, head.reason, withoutHopByHop(head.headers), head.contentLength);
  }

  interim(head: RawHttpResponseHead): void {
    if (!this.#settled) this.#handler.interim?.(head.statusCode, head.reason, withoutHopByHop(head.headers));
  }

  trailers(fields: readonly string[]): void {
    if (!this.#settled) this.#handler.trailers?.(withoutHopByHop(fields));
  }

  body(chunk: Buffer): void {
    if (this.#settled) return;
    const conn = this.#conn!;
    const bytes = chunk.length;
    this.#unflushed += bytes;
    noteReadGarbage(bytes);
    if (this.#unflushed > PAUSE_AT) conn.socket.pause();
    this.#handler.body(chunk, () => {
      this.#unflushed -= bytes;
      if (this.#unflushed <= PAUSE_AT && conn.isUsedBy(this) && conn.socket.isPaused()) conn.socket.resume();
    });
  }

  readDone(): void {
    if (!this.#settled) this.#handler.readDone();
  }

  end(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#handler.end();
  }

  broken(kind: 'connect' | 'timeout' | 'error', responseStarted: boolean, message: string): void {
    if (this.#settled) return;
    const conn = this.#conn!;
    if (kind === 'error' && conn.reused && !responseStarted && !this.#resent && IDEMPOTENT.has(this.#out.request.method)) {
      this.#resent = true;
      this.start(true);
      return;
    }
    this.#settled = true;
    if (kind === 'connect') this.#handler.fail('connect', false, message);
    else this.#handler.fail(kind, true, message);
  }

  async #writeBody(conn: BackendConnection): Promise<void> {
    const socket = conn.socket;
    try {
      for await (const piece of this.#out.body!.replay(BODY_PIECE)) {
        if (!conn.isUsedBy(this)) return;
        noteReadGarbage(piece.length);
        conn.wrote();
        if (!socket.write(piece)) await drainOrClose(socket);
      }
      if (conn.isUsedBy(this)) conn.requestWritten();
    } catch (err) {
      socket.destroy(err as Error);
    }
  }
}

export class HttpUpstream implements Transport {
  readonly #pool: HttpBackendPool;
  readonly #host: string;

  constructor(spec: BackendSpec, connectTimeoutMs: number) {
    const t = spec.target;
    this.#host = t.kind === 'unix' ? 'localhost' : `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    this.#pool = new HttpBackendPool(spec, connectTimeoutMs);
  }

  send(out: OutgoingRequest, handler: AttemptHandler): () => void {
    if (BAD_TARGET.test(out.target)) {
      queueMicrotask(() => handler.fail('error', false, `the request target ${JSON.stringify(out.target)} cannot be sent in an HTTP/1.1 request line`));
      return () => undefined;
    }
    const attempt = new HttpAttempt(this.#pool, out, handler, requestHead(out, this.#host));
    attempt.start(false);
    return () => attempt.cancel();
  }

  close(): Promise<void> {
    this.#pool.close();
    return Promise.resolve();
  }
}
