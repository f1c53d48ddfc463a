/**
 * One request/response pair, whatever protocol it came in on.
 *
 * Theory of operation: an Exchange is one request/response pair, independent of the protocol
 * it arrived on. A front (HTTP/1.1 today, uwsgi later) fills in the CGI variables and the body,
 * then hands it to the router; whoever produces the response (a Python worker, a static file,
 * an upstream) drives it through the Responder methods. The front decides how those calls
 * become bytes, so a worker never needs to know which protocol the client spoke.
 */
import type { RequestBody } from './request-body.js';
import type { KeptResponse } from './kept-response.js';

export interface ExchangeRequest {
  readonly method: string;
  /** The raw request-target, e.g. "/a%20b?x=1". */
  readonly target: string;
  readonly versionMinor: 0 | 1;
  /** Flat [name, value, …] as received. */
  readonly headers: readonly string[];
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly scheme: 'http' | 'https';
}

/** How a response reaches the client. Implemented by each front. */
export interface Responder {
  /** Start a streamed response. Returns false if the head was refused (the front answered 500 itself). */
  sendHead(status: string, headers: readonly string[]): boolean;
  /** A piece of a streamed body; `flushed` runs once the bytes have left Berth's buffers. */
  sendBody(chunk: Buffer, flushed: () => void): void;
  /**
   * The streamed body is complete. `trailers`: fields for a chunked body's trailer section
   * (already validated: a backend's parsed trailers), dropped when the body is not chunked.
   */
  sendEnd(trailers?: readonly string[]): void;
  /** An interim 1xx response before the head (fields already validated); a front that cannot send one leaves this out. */
  sendInterim?(status: string, headers: readonly string[]): void;
  /**
   * A whole response at once (the fast path). `shared`: `body` is a long-lived buffer that
   * never changes (a cached static file), so the front may keep bytes derived from it.
   */
  sendFull(status: string, headers: readonly string[], body: Buffer, shared?: boolean): void;
  /**
   * A kept static response (kept-response.ts), sent from its ready bytes where the front can;
   * a front without this method is given the same response through sendFull.
   */
  sendKept?(kept: KeptResponse): void;
  /** Berth's own short response (500, 502, 503, 504) when nothing was sent yet; otherwise the connection is cut. */
  sendError(status: number, message: string, retryAfterSeconds?: number): void;
  /** Whether a response head has already been written (so an error can only cut the connection). */
  readonly headSent: boolean;
}

/** The Responder of an exchange whose response has already gone out (nothing is left to send). */
export const ANSWERED: Responder = {
  headSent: true,
  sendHead: () => false,
  sendBody: (_chunk, flushed) => flushed(),
  sendEnd: () => undefined,
  sendFull: () => undefined,
  sendError: () => undefined,
};

/** Builds an exchange's CGI block on first use (see Exchange.cgiBlock). */
export interface CgiSource {
  cgiBlockOf(ex: Exchange): string;
}

/** What the request log needs to know about the worker that served an exchange. */
export interface ServedBy {
  readonly pid: number;
  /** The worker's generation (a rollback watches the new generation's answers). */
  readonly generation: number;
  readonly requestsServed: number;
}

export class Exchange {
  readonly request: ExchangeRequest;
  #cgiBlock: string;
  #cgiSource: CgiSource | null = null;
  readonly body: RequestBody | null;
  readonly responder: Responder;
  readonly startedAt: number;
  /** Set by whoever serves it: called if the client goes away first. */
  onAbort: (() => void) | null = null;
  aborted = false;
  finished = false;
  /** For the request log. */
  status = 0;
  bytesSent = 0;
  workerId = 0;
  /**
   * The worker that served it, for the request log (pid, requests served). A reference, not a
   * slot number: during a reload two workers share a slot, and a worker may be gone by the time
   * the line is written.
   */
  servedBy: ServedBy | null = null;
  /** A proxied request: the backends tried, as nginx's $upstream_addr ("127.0.0.1:9001, 127.0.0.1:9002"). */
  upstreamAddr: string | null = null;
  /** Milliseconds spent waiting on backends ($upstream_response_time). */
  upstreamMs = 0;

  constructor(request: ExchangeRequest, cgiBlock: string, body: RequestBody | null, responder: Responder, startedAt: number) {
    this.request = request;
    this.#cgiBlock = cgiBlock;
    this.body = body;
    this.responder = responder;
    this.startedAt = startedAt;
  }

  /**
   * latin1 "KEY\0VALUE\0…" CGI variables (REQUEST_METHOD, PATH_INFO, HTTP_*, …) from the
   * front. An HTTP front builds them only when something reads them (a worker, the request
   * log): a static file or a proxied request never needs them.
   */
  get cgiBlock(): string {
    const source = this.#cgiSource;
    if (source !== null) {
      this.#cgiSource = null;
      this.#cgiBlock = source.cgiBlockOf(this);
    }
    return this.#cgiBlock;
  }

  /** The block is built by `source` when first read. */
  buildCgiBlockLater(source: CgiSource): void {
    this.#cgiSource = source;
  }

  /** The client is gone: stop producing. */
  abort(): void {
    if (this.aborted || this.finished) return;
    this.aborted = true;
    const cb = this.onAbort;
    this.onAbort = null;
    if (cb) cb();
  }
}
