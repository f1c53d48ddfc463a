/**
 * An exchange's Responder calls turned into HTTP/1.1 bytes, with the framing the plan allows.
 *
 * Theory of operation: turns Responder calls for one exchange into HTTP/1.1 bytes, enforcing
 * what the codec's plan says: framing (Content-Length, chunked, close-delimited, none for HEAD/
 * 204/304), no more bytes than declared (a longer body is cut and the connection closed; a
 * shorter one closes it, so the client sees an incomplete message instead of a hang), and
 * `Connection: close` whenever Berth will close. The writer never touches the socket itself:
 * it emits into an Output (the connection), which orders pipelined responses.
 */
import { isRejection, planResponse } from '../protocol/http1/response.js';
import { cannedResponse } from '../protocol/http1/canned.js';
import { encodeChunkHeader, LAST_CHUNK } from '../protocol/http1/chunked.js';
import type { ResponsePlan } from '../protocol/http1/types.js';
import { JOIN_LIMIT, joinHeadAndBody, type JoinedResponses } from './joined-responses.js';
import type { KeptResponse } from './kept-response.js';

export interface Output {
  emit(data: Buffer | string, flushed?: () => void): void;
  /** A head and a long body in one system call (writev) where the output can; else two emits. */
  emitPair?(head: string, body: Buffer): void;
  /** This response is complete; `close` asks the connection to close after it. */
  complete(close: boolean): void;
  /** Cut the connection now (a response that cannot be finished correctly). */
  cut(): void;
  readonly date: string;
  /** Where heads joined to shared bodies are kept (see JoinedResponses); none: joined afresh. */
  readonly joined?: JoinedResponses;
  log(level: 'warn' | 'error', message: string): void;
}

export interface RequestSummary {
  readonly method: string;
  readonly target: string;
  readonly versionMinor: 0 | 1;
  readonly keepAlive: boolean;
}

function hasContentLength(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!;
    if (n.length === 14 && n.toLowerCase() === 'content-length') return true;
  }
  return false;
}

/** `Name: value` CRLF per field. */
function fieldLines(headers: readonly string[]): string {
  let lines = '';
  for (let i = 0; i < headers.length; i += 2) lines += `${headers[i]!}: ${headers[i + 1]!}\r\n`;
  return lines;
}

export class HttpResponseWriter {
  #out: Output;
  #req: RequestSummary;
  #forceClose: () => boolean;
  #activePlan: ResponsePlan | null = null;
  #remaining = 0;
  #done = false;
  headSent = false;
  status = 0;
  bytesSent = 0;

  constructor(out: Output, req: RequestSummary, forceClose: () => boolean) {
    this.#out = out;
    this.#req = req;
    this.#forceClose = forceClose;
  }

  get done(): boolean {
    return this.#done;
  }

  sendHead(status: string, headers: readonly string[]): boolean {
    if (this.#done || this.headSent) return false;
    const plan = this.#makePlan(status, headers);
    if (plan === null) return false;
    this.#out.emit(plan.head);
    return true;
  }

  sendBody(chunk: Buffer, flushed: () => void): void {
    const plan = this.#activePlan;
    if (this.#done || plan === null || chunk.length === 0) {
      flushed();
      return;
    }
    switch (plan.framing) {
      case 'none':
        flushed();
        return;
      case 'chunked':
        this.#out.emit(encodeChunkHeader(chunk.length));
        this.#out.emit(chunk);
        this.#out.emit('\r\n', flushed);
        this.bytesSent += chunk.length;
        return;
      case 'close':
        this.#out.emit(chunk, flushed);
        this.bytesSent += chunk.length;
        return;
      case 'length':
        if (chunk.length > this.#remaining) {
          this.#overrun(chunk.length);
          if (this.#remaining > 0) this.#out.emit(chunk.subarray(0, this.#remaining));
          this.bytesSent += this.#remaining;
          this.#remaining = 0;
          flushed();
          this.#finish(true);
          return;
        }
        this.#remaining -= chunk.length;
        this.bytesSent += chunk.length;
        this.#out.emit(chunk, flushed);
        return;
    }
  }

  /** An interim response (RFC 9110 §15.2) before the head: only HTTP/1.1 clients know 1xx. */
  sendInterim(status: string, headers: readonly string[]): void {
    if (this.#done || this.headSent || this.#req.versionMinor !== 1) return;
    this.#out.emit(`HTTP/1.1 ${status}\r\n${fieldLines(headers)}\r\n`);
  }

  sendEnd(trailers?: readonly string[]): void {
    const plan = this.#activePlan;
    if (this.#done || plan === null) return;
    if (plan.framing === 'chunked') {
      // RFC 9112 §7.1.2: the trailer section follows the last chunk.
      this.#out.emit(trailers === undefined || trailers.length === 0 ? LAST_CHUNK : `0\r\n${fieldLines(trailers)}\r\n`);
      this.#finish(!plan.keepAlive);
    } else if (plan.framing === 'length' && this.#remaining > 0) {
      this.#out.log('error', `${this.#req.method} ${this.#req.target}: the app sent ${plan.contentLength - this.#remaining} of the ${plan.contentLength} bytes its Content-Length declared; closing the connection`);
      this.#done = true;
      this.#out.cut();
    } else {
      this.#finish(!plan.keepAlive || plan.framing === 'close');
    }
  }

  /** `shared`: `body` is a long-lived buffer that never changes (see Responder.sendFull). */
  sendFull(status: string, headers: readonly string[], body: Buffer, shared = false): void {
    if (this.#done || this.headSent) return;
    // The whole body is known: frame it with Content-Length rather than chunked — except for
    // 1xx/204/304, which carry no content and no invented length (RFC 9110 §8.6).
    const bodiless = status.startsWith('204') || status.startsWith('304') || status.charCodeAt(0) === 49;
    const hs = bodiless || hasContentLength(headers) ? headers : [...headers, 'Content-Length', String(body.length)];
    const plan = this.#makePlan(status, hs);
    if (plan === null) return;
    let payload = body;
    let close = !plan.keepAlive || plan.framing === 'close';
    if (plan.framing === 'none') payload = EMPTY;
    else if (plan.framing === 'length' && body.length !== plan.contentLength) {
      if (body.length > plan.contentLength) {
        this.#overrun(body.length);
        payload = body.subarray(0, plan.contentLength);
        close = true;
      } else {
        this.#out.log('error', `${this.#req.method} ${this.#req.target}: the app sent ${body.length} of the ${plan.contentLength} bytes its Content-Length declared; closing the connection`);
        this.#emitHeadAndBody(plan.head, payload, false);
        this.bytesSent = payload.length;
        this.#done = true;
        this.#out.cut();
        return;
      }
    }
    this.#emitHeadAndBody(plan.head, payload, shared && payload === body);
    this.bytesSent = payload.length;
    this.#finish(close);
  }

  /**
   * A kept response (kept-response.ts): its ready bytes for a keep-alive HTTP/1.1 GET, the
   * full path with its status, fields and body for any other request.
   */
  sendKept(kept: KeptResponse): void {
    if (this.#done || this.headSent) return;
    const req = this.#req;
    const wire = req.method === 'GET' && req.versionMinor === 1 && req.keepAlive && !this.#forceClose() ? kept.wireAt(this.#out.date) : null;
    if (wire === null) {
      this.sendFull(kept.status, kept.headers, kept.body, true);
      return;
    }
    this.headSent = true;
    this.status = wire.statusCode;
    this.bytesSent = kept.body.length;
    if (wire.joined !== null) this.#out.emit(wire.joined);
    else if (this.#out.emitPair !== undefined) this.#out.emitPair(wire.head, kept.body);
    else {
      this.#out.emit(wire.head);
      this.#out.emit(kept.body);
    }
    this.#finish(false);
  }

  sendError(status: number, message: string, retryAfterSeconds?: number): void {
    this.#sendError(status, message, retryAfterSeconds, false);
  }

  /** An error after which the connection closes (the parser gave up): says `Connection: close`. */
  sendErrorAndClose(status: number, message: string): void {
    this.#sendError(status, message, undefined, true);
  }

  #sendError(status: number, message: string, retryAfterSeconds: number | undefined, mustClose: boolean): void {
    if (this.#done) return;
    if (this.headSent) {
      this.#done = true;
      this.#out.cut();
      return;
    }
    const close = mustClose || this.#forceClose() || !this.#req.keepAlive || status === 400 || status === 408;
    const buf = cannedResponse(status, { date: this.#out.date, message, close, headRequest: this.#req.method === 'HEAD', ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
    this.headSent = true;
    this.status = status;
    this.#out.emit(buf);
    this.#finish(close);
  }

  /** The exchange was abandoned mid-way (client gone, worker died after the head). */
  abandon(): void {
    if (this.#done) return;
    this.#done = true;
    this.#out.cut();
  }

  #makePlan(status: string, headers: readonly string[]): ResponsePlan | null {
    const plan = planResponse(this.#req, status, headers, { date: this.#out.date, forceClose: this.#forceClose() });
    if (isRejection(plan)) {
      this.#out.log('error', `${this.#req.method} ${this.#req.target}: invalid response from the app, answered 500 instead: ${plan.reason}`);
      this.sendError(500, 'The application sent an invalid response; see the server log.');
      return null;
    }
    const p = plan;
    this.#activePlan = p;
    this.headSent = true;
    this.status = p.statusCode;
    this.#remaining = p.framing === 'length' ? p.contentLength : 0;
    return p;
  }

  #emitHeadAndBody(head: string, body: Buffer, shared: boolean): void {
    if (body.length === 0) {
      this.#out.emit(head);
      return;
    }
    if (body.length <= JOIN_LIMIT) {
      const joined = shared ? this.#out.joined : undefined;
      this.#out.emit(joined !== undefined ? joined.join(head, body) : joinHeadAndBody(head, body));
      return;
    }
    if (this.#out.emitPair !== undefined) this.#out.emitPair(head, body);
    else {
      this.#out.emit(head);
      this.#out.emit(body);
    }
  }

  #overrun(got: number): void {
    this.#out.log('error', `${this.#req.method} ${this.#req.target}: the app sent more body bytes (${got}+) than its Content-Length (${this.#activePlan?.contentLength}); the body was cut there and the connection closed`);
  }

  #finish(close: boolean): void {
    this.#done = true;
    this.#out.complete(close);
  }
}

const EMPTY = Buffer.alloc(0);
