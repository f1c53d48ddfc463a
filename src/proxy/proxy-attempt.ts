/** One try of a proxied request at one backend: the transport's handler, relaying the response to the client or handing the request on for a retry. */
import { balanceKey } from './balance-key.js';
import type { Exchange } from '../server/exchange.js';
import { withVia } from './forward-headers.js';
import type { AttemptHandler, FailureKind, OutgoingRequest } from './transport.js';
import type { Backend, Upstream } from './upstream.js';

/** What an attempt needs of the proxy stage (proxy-stage.ts). */
export interface AttemptOwner {
  attempt(ex: Exchange, upstream: Upstream, out: OutgoingRequest, tried: Set<number> | null, lastFailure: FailureKind | null): void;
  settled(): void;
  counted(upstream: Upstream, backend: Backend, what: string): void;
  mayRetry(upstream: Upstream, ex: Exchange, sent: boolean, kind: FailureKind): boolean;
}

const NO_HEADERS: readonly string[] = [];

/**
 * The last status line made, with its code and reason: a backend answers "200 OK" again and
 * again, and the same string (not one joined per response) is also what the front's response
 * plan compares by identity first.
 */
let lastStatus = { code: 0, reason: '', line: '' };

export function statusLine(code: number, reason: string): string {
  const last = lastStatus;
  if (last.code === code && last.reason === reason) return last.line;
  const line = reason === '' ? String(code) : `${code} ${reason}`;
  lastStatus = { code, reason, line };
  return line;
}

/**
 * Why a class: one object per attempt, where closures per callback (handler, finish, the held
 * head, its flush) made ten. The response head is held until the first body piece or the end
 * of the read that brought it (the transport's readDone): a body that came with it (the common
 * small response) leaves in the same write as the head — one system call instead of two.
 */
export class ProxyAttempt implements AttemptHandler {
  /** The transport's cancel, set once the request is sent. */
  cancel: () => void = () => undefined;
  readonly #owner: AttemptOwner;
  readonly #ex: Exchange;
  readonly #upstream: Upstream;
  readonly #backend: Backend;
  readonly #out: OutgoingRequest;
  /** The backends tried before this one; null on a first attempt (made only when a retry needs it). */
  #triedBefore: Set<number> | null;
  readonly #started = performance.now();
  #open = true;
  /** False once this attempt was abandoned for another backend: its late events are ignored. */
  #current = true;
  /** The held head's status line ('' when none is held), fields and declared length. */
  #heldStatus = '';
  #heldHeaders: readonly string[] = NO_HEADERS;
  #heldLength = -1;
  /** A chunked response's trailer fields, sent with its end. */
  #trailers: readonly string[] | undefined = undefined;

  constructor(owner: AttemptOwner, ex: Exchange, upstream: Upstream, backend: Backend, out: OutgoingRequest, tried: Set<number> | null) {
    this.#owner = owner;
    this.#ex = ex;
    this.#upstream = upstream;
    this.#backend = backend;
    this.#out = out;
    this.#triedBefore = tried;
  }

  /** The client went away (Exchange.onAbort). */
  readonly abort = (): void => {
    this.cancel();
    this.#finish();
    this.#owner.settled();
  };

  head(status: number, reason: string, headers: readonly string[], contentLength: number): void {
    const ex = this.#ex;
    const upstream = this.#upstream;
    if (upstream.countsAsFailure(status)) {
      this.#owner.counted(upstream, this.#backend, `answered ${status}`);
      if (this.#owner.mayRetry(upstream, ex, true, 'error') && upstream.pick(balanceKey(upstream.spec.balance, ex.request), this.#tried()) !== null) {
        this.#current = false;
        this.cancel();
        this.#finish();
        this.#owner.attempt(ex, upstream, this.#out, this.#tried(), 'error');
        return;
      }
    } else {
      this.#backend.succeed();
    }
    if (!this.#current || ex.aborted) return;
    this.#heldStatus = statusLine(status, reason);
    this.#heldHeaders = this.#out.via ? withVia(headers) : headers;
    this.#heldLength = contentLength;
  }

  /** RFC 9110 §15.2: a proxy forwards 1xx responses (the front's writer keeps them from an HTTP/1.0 client, which knows none). */
  interim(status: number, reason: string, headers: readonly string[]): void {
    const ex = this.#ex;
    if (!this.#current || ex.aborted) return;
    ex.responder.sendInterim?.(statusLine(status, reason), this.#out.via ? withVia(headers) : headers);
  }

  trailers(fields: readonly string[]): void {
    this.#trailers = fields;
  }

  body(chunk: Buffer, resume: () => void): void {
    const ex = this.#ex;
    if (!this.#current || ex.aborted) return;
    const status = this.#heldStatus;
    if (status !== '') {
      const headers = this.#heldHeaders;
      this.#release();
      if (this.#heldLength === chunk.length && chunk.length > 0) {
        ex.responder.sendFull(status, headers, chunk);
        resume();
        return;
      }
      ex.responder.sendHead(status, headers);
    }
    ex.responder.sendBody(chunk, resume);
  }

  readDone(): void {
    this.#sendHeld();
  }

  end(): void {
    if (!this.#current) return;
    this.#finish();
    this.#owner.settled();
    const ex = this.#ex;
    ex.onAbort = null;
    this.#sendHeld();
    if (!ex.aborted) ex.responder.sendEnd(this.#trailers);
  }

  fail(kind: FailureKind, sent: boolean, message: string): void {
    if (!this.#current) return;
    // A head held back never reached the client: the request may still go elsewhere.
    this.#release();
    this.#finish();
    const owner = this.#owner;
    const ex = this.#ex;
    owner.counted(this.#upstream, this.#backend, `${kind === 'connect' ? 'could not be reached' : kind === 'timeout' ? 'timed out' : 'failed'} (${message})`);
    // The client went away: onAbort already settled this request.
    if (ex.aborted) return;
    if (!ex.responder.headSent && owner.mayRetry(this.#upstream, ex, sent, kind)) owner.attempt(ex, this.#upstream, this.#out, this.#tried(), kind);
    else {
      owner.settled();
      ex.onAbort = null;
      ex.responder.sendError(kind === 'timeout' ? 504 : 502, kind === 'timeout' ? 'Gateway Timeout: the backend did not answer in time.' : 'Bad Gateway: the backend could not answer.');
    }
  }

  #sendHeld(): void {
    const status = this.#heldStatus;
    if (status === '') return;
    const headers = this.#heldHeaders;
    this.#release();
    if (this.#current && !this.#ex.aborted) this.#ex.responder.sendHead(status, headers);
  }

  /** Every backend tried so far, this one included. */
  #tried(): Set<number> {
    const tried = (this.#triedBefore ??= new Set());
    tried.add(this.#backend.index);
    return tried;
  }

  #release(): void {
    this.#heldStatus = '';
    this.#heldHeaders = NO_HEADERS;
  }

  #finish(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#backend.active--;
    this.#ex.upstreamMs += performance.now() - this.#started;
  }
}
