/**
 * One client connection on the HTTP/1.1 front: parse, dispatch in order, write, keep alive.
 *
 * Theory of operation: bytes go into the sans-IO RequestParser; each parsed request becomes an Exchange queued in
 * arrival order. Responses may be produced out of order (two workers, pipelined requests), so
 * only the oldest exchange writes to the socket; later ones buffer until they reach the front
 * of the queue (RFC 9112 §9.3.2: responses in request order). Side effects stay in order
 * too: a request with an unsafe method is held back until the requests before it have
 * completed, and holds back those after it (see pipeline-order.ts). Past MAX_PIPELINED
 * queued exchanges the socket stops being read, so a pipelining client cannot grow memory.
 *
 * A request reaches the router only once its body is complete (see RequestBody), so a slow
 * client never holds a Python thread. One timer per connection covers: an unfinished request
 * head (deadline from its first byte: slowloris), a stalled body (no progress), a client that
 * stops reading its response, and idle keep-alive connections — all bounded by http-timeout.
 */
import type { Socket } from 'node:net';
import type { Endpoints } from './endpoints.js';
import { RequestParser } from '../protocol/http1/request-parser.js';
import { CONTINUE_100 } from '../protocol/http1/canned.js';
import type { HttpParseError, RequestHead, RequestParserHandler } from '../protocol/http1/types.js';
import { Exchange, type CgiSource } from './exchange.js';
import { KeptAnswer } from './kept-exchange.js';
import type { KeptResponse } from './kept-response.js';
import { RequestBody } from './request-body.js';
import type { HttpFrontContext } from './http-front-context.js';
import { SPOOL_FULL_MESSAGE } from './spool-budget.js';
import { QueuedResponse, type ResponseQueue } from './queued-response.js';
import { FlushingWriter } from './flushing-writer.js';
import { unsentBytes } from './direct-writes.js';
import { peerIsTrusted } from './forwarded.js';
import { requestRecord, unparsedRecord } from './http-request-record.js';
import { buildCgiBlock, pathDecodesToNul, type ConnectionFacts } from './http-environ.js';
import { mustWait } from './pipeline-order.js';
import { readWith } from './shared-reads.js';
import { readPacerOf, type ReadPacer } from './read-pacing.js';

const MAX_PIPELINED = 32;

export class HttpConnection implements RequestParserHandler, CgiSource, ResponseQueue {
  readonly ctx: HttpFrontContext;
  readonly #socket: Socket;
  readonly #facts: ConnectionFacts;
  /** The peer is in forwarded-allow-ips: each request's headers may name the client. */
  readonly #trustForwarded: boolean;
  readonly #parser: RequestParser;
  readonly #queue: QueuedResponse[] = [];
  #receiving: { response: QueuedResponse; head: RequestHead } | null = null;
  /** Queued requests with an unsafe method that have not completed. */
  #unsafeOpen = 0;
  /** Queued requests held back by an earlier one (pipeline-order.ts). */
  #held = 0;
  #partialHead = false;
  #stopParsing = false;
  #closed = false;
  readonly #out: FlushingWriter;
  readonly #timeoutMs: number;
  readonly #timeoutOption: string;
  #timer: NodeJS.Timeout;
  /**
   * performance.now() at the last progress: the timer is not restarted per request (two
   * `refresh()` calls per proxied request, ~1–2 % of the front's user time, issue 14); when it
   * fires early for this mark, it is set again for what is left.
   */
  #activeAt = performance.now();
  readonly #draining = (): boolean => this.ctx.draining;
  /** Handed over by a busy or stopping worker: the last answer closes it (giveBack()). */
  #givesBack = false;
  /** Made on the first kept answer, refilled for each (kept-exchange.ts). */
  #keptAnswer: KeptAnswer | null = null;
  readonly #pacer: ReadPacer;
  /** What a TLS connection adds to each request's vars (HTTPS=on…); '' on plain HTTP. */
  readonly #tlsVars: string;

  /** `timeoutMs`: the listener's http-timeout (or socket-timeout for http-socket listeners), named by `timeoutOption`. */
  constructor(socket: Socket, ctx: HttpFrontContext, scheme: 'http' | 'https', timeoutMs: number, ends: Endpoints, timeoutOption = 'http-timeout', tlsVars = '') {
    this.ctx = ctx;
    this.#tlsVars = tlsVars;
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#timeoutOption = timeoutOption;
    this.#facts = { ...ends, scheme };
    this.#trustForwarded = peerIsTrusted(ends.remoteAddress, ctx.forwardedTrust);
    this.#parser = new RequestParser(this, ctx.limits);
    this.#out = new FlushingWriter(socket);
    socket.setNoDelay(true);
    this.#timer = setTimeout(() => this.#onTimeout(), timeoutMs);
    this.#pacer = readPacerOf(socket);
    readWith(socket, (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#onDrain());
    socket.on('end', () => this.#onPeerEnd());
    socket.on('error', () => this.#destroy());
    socket.on('close', () => this.#onClose());
  }

  /** True when nothing is in progress: safe to close during a graceful stop. */
  get idle(): boolean {
    return this.#queue.length === 0 && this.#receiving === null && !this.#partialHead;
  }

  closeIfIdle(): void { if (this.idle) this.#destroy(); }

  /**
   * Given back to the workers: the answer to the last request received says `Connection: close`
   * and the connection closes after it, so the client reconnects and a worker accepts
   * (RFC 9112 §9.6). Requests already queued behind an answer are answered first.
   */
  giveBack(): void {
    this.#givesBack = true;
  }

  closeRuleOf(r: QueuedResponse): () => boolean {
    if (!this.#givesBack) return this.#draining;
    // Asked when r's head is written: nothing after r queued and no next request begun.
    return () => this.ctx.draining || (this.#queue[this.#queue.length - 1] === r && this.#parser.state === 'idle');
  }

  isFront(r: QueuedResponse): boolean {
    return this.#queue[0] === r;
  }

  write(data: Buffer | string, flushed?: () => void): void {
    this.#out.write(data, flushed);
  }

  writePair(head: string, body: Buffer): void {
    this.#out.writePair(head, body);
  }

  responseCompleted(r: QueuedResponse): void {
    if (!r.safe) this.#unsafeOpen--;
    while (this.#queue.length > 0 && this.#queue[0]!.completed) {
      const done = this.#queue.shift()!;
      done.exchange.body?.dispose();
      this.ctx.exchangeDone(done.exchange);
      if (done.closeAfter || (this.#stopParsing && this.#queue.length === 0 && this.#receiving === null)) {
        this.#endAfterWrites();
        return;
      }
      const next = this.#queue[0];
      if (next === undefined) break;
      this.#promote(next);
    }
    if (r.completed && this.#queue.length < MAX_PIPELINED && !this.#stopParsing && this.#socket.isPaused()) this.#socket.resume();
    if (this.#queue.length === 0) this.#touch();
    else if (this.#held > 0) this.#releaseHeld();
  }

  /** Dispatches the held requests that no longer wait, oldest first. */
  #releaseHeld(): void {
    // A dispatch may complete at once and re-enter here: each pass restarts from the head.
    for (let again = true; again && this.#held > 0; ) {
      again = false;
      for (const r of this.#queue) {
        if (!r.held || mustWait(this.#queue, r, this.#unsafeOpen)) continue;
        r.held = false;
        this.#held--;
        this.#dispatch(r.exchange);
        again = true;
        break;
      }
    }
  }

  cut(r: QueuedResponse): void {
    this.ctx.exchangeDone(r.exchange);
    this.#destroy();
  }

  onHead(head: RequestHead): void {
    if (this.#stopParsing) return;
    this.#partialHead = false;
    if (this.#queue.length === 0 && head.method === 'GET' && head.versionMinor === 1 && head.keepAlive && head.contentLength === 0 && !head.chunked && !this.#trustForwarded && !this.ctx.draining && !this.#givesBack) {
      const kept = this.ctx.hotStatic(head.target, head.headers);
      if (kept !== null && this.#answerKept(head, kept)) return;
    }
    const response = new QueuedResponse(this, head);
    const body = head.contentLength > 0 || head.chunked ? new RequestBody(this.ctx.spool) : null;
    response.exchange = new Exchange(requestRecord(head, this.#facts, this.#trustForwarded ? this.ctx.forwardedTrust : null), '', body, response, performance.now());
    this.#queue.push(response);
    if (!response.safe) this.#unsafeOpen++;
    this.#receiving = { response, head };
    if (body?.reserve(head.contentLength) === false) return this.#answerError(503, SPOOL_FULL_MESSAGE, head.method === 'HEAD', 'upload refused');
    if (head.expectContinue && body !== null) {
      if (this.isFront(response)) this.#socket.write(CONTINUE_100);
      else response.needsContinue = true;
    }
    if (this.#queue.length >= MAX_PIPELINED) this.#socket.pause();
    this.#touch();
  }

  /**
   * A hot static file's kept 200 written at once, with the bytes, log record and stats the static
   * stage's sendKept would give, but no queued response, writer or route walk. Only with nothing
   * queued before it (order); the target was answered 200 before, so it passed #ready's checks.
   */
  #answerKept(head: RequestHead, kept: KeptResponse): boolean {
    const wire = kept.wireAt(this.ctx.date());
    if (wire === null) return false;
    const startedAt = performance.now();
    if (wire.joined !== null) this.#out.write(wire.joined);
    else this.#out.writePair(wire.head, kept.body);
    const answer = (this.#keptAnswer ??= new KeptAnswer(this.#facts, this));
    answer.refill(head, wire.statusCode, kept.body.length, startedAt);
    this.ctx.keptDone(answer);
    answer.clear();
    this.#receiving = null;
    this.#touch();
    return true;
  }

  onBody(chunk: Buffer): void {
    const r = this.#receiving;
    if (r === null || r.response.exchange.body === null) return;
    const body = r.response.exchange.body;
    body.append(chunk);
    if (body.refused) return this.#answerError(503, SPOOL_FULL_MESSAGE, r.head.method === 'HEAD', 'upload refused');
    if (body.backlogged) {
      this.#socket.pause();
      body.onDrained(() => {
        if (!this.#closed && this.#queue.length < MAX_PIPELINED) this.#socket.resume();
      });
    }
    this.#touch();
  }

  onMessageEnd(): void {
    const r = this.#receiving;
    this.#receiving = null;
    if (r === null) return;
    if (!r.head.keepAlive || this.ctx.draining) this.#stopParsing = true;
    const ex = r.response.exchange;
    if (ex.body === null) this.#ready(ex);
    else
      ex.body.finish().then(
        () => this.#ready(ex),
        (err: Error) => {
          this.ctx.log('error', `could not buffer the request body of ${ex.request.method} ${ex.request.target}: ${err.message}`);
          ex.responder.sendError(500, 'The request body could not be stored.');
        },
      );
  }

  onError(error: HttpParseError): void {
    // After the connection's last answer, e.g. a 408, the head a closing client leaves
    // truncated needs no answer and is no request to log.
    if (this.#stopParsing) return;
    this.#answerError(error.status, error.message, error.headRequest);
  }

  /** Answers a broken, timed-out or refused request (a HEAD's without body) and closes after it. */
  #answerError(status: number, message: string, headRequest: boolean, what = 'bad request'): void {
    this.#stopParsing = true;
    this.#partialHead = false;
    this.#socket.pause();
    let response = this.#receiving?.response ?? null;
    this.#receiving = null;
    if (response === null) {
      response = new QueuedResponse(this, { method: headRequest ? 'HEAD' : 'GET', target: '-', versionMinor: 1, keepAlive: false });
      response.exchange = new Exchange(unparsedRecord(this.#facts), '', null, response, performance.now());
      this.#queue.push(response);
    }
    this.ctx.log('warn', `${what} from ${this.#facts.remoteAddress}:${this.#facts.remotePort}: ${message} (answered ${status})`);
    response.exchange.body?.dispose();
    response.writer.sendErrorAndClose(status, message);
  }

  #ready(ex: Exchange): void {
    if (ex.aborted) return;
    if (pathDecodesToNul(ex.request.target)) {
      this.ctx.log('warn', `bad request from ${this.#facts.remoteAddress}: the path of ${ex.request.target} decodes to a NUL byte (answered 400)`);
      ex.responder.sendError(400, 'The request path contains an encoded NUL byte.');
      return;
    }
    const r = ex.responder as QueuedResponse;
    if (mustWait(this.#queue, r, this.#unsafeOpen)) {
      r.held = true;
      this.#held++;
      return;
    }
    this.#dispatch(ex);
  }

  #dispatch(ex: Exchange): void {
    ex.buildCgiBlockLater(this);
    this.ctx.dispatch(ex);
  }

  cgiBlockOf(ex: Exchange): string {
    // A path decoding to NUL was answered 400 before dispatch, so the block always exists.
    const r = ex.request;
    const f = this.#facts;
    // Only a request whose headers named another client needs facts of its own.
    const same = r.remoteAddress === f.remoteAddress && r.remotePort === f.remotePort && r.scheme === f.scheme;
    const facts = same ? f : { ...f, remoteAddress: r.remoteAddress, remotePort: r.remotePort, scheme: r.scheme };
    const block = buildCgiBlock(r, facts, ex.body?.totalBytes ?? 0, this.ctx.names, this.ctx.scriptNames) ?? '';
    return this.#tlsVars === '' || block === '' ? block : block + this.#tlsVars;
  }

  #promote(next: QueuedResponse): void {
    if (next.needsContinue && !next.headSent) this.#socket.write(CONTINUE_100);
    const pending = next.buffered;
    if (pending === null) return;
    next.buffered = null;
    for (const p of pending) this.write(p.data, p.flushed);
  }

  /** Bytes read before this connection took over the socket (protocol detection). */
  feed(chunk: Buffer): void {
    this.#onData(chunk);
  }

  /** False: a trickling request's socket stops reading until the pacer's next sweep (read-pacing.ts). */
  #onData(chunk: Buffer): boolean {
    if (this.#receiving === null && !this.#partialHead) {
      // The first byte of a new request head starts its deadline; later bytes do not extend it.
      this.#partialHead = true;
      this.#touch();
    }
    this.#parser.execute(chunk);
    return this.#pacer.keepReading(chunk.length, this.#partialHead || this.#receiving !== null);
  }

  /** The timeout counts from now. */
  #touch(): void {
    this.#activeAt = performance.now();
  }

  #onDrain(): void {
    this.#out.drained();
    this.#touch();
  }

  #onPeerEnd(): void {
    // Half-close from the client: finish what was asked (RFC 9112 §9.6), then close.
    this.#parser.finish();
    this.#stopParsing = true;
    if (this.#queue.length === 0) this.#destroy();
  }

  /** In seconds, as the option is written and documented: "60 s (http-timeout)". */
  #timeoutText(): string {
    return `${this.#timeoutMs / 1000} s (${this.#timeoutOption})`;
  }

  #onTimeout(): void {
    if (this.#closed) return;
    const left = this.#activeAt + this.#timeoutMs - performance.now();
    if (left > 0) {
      this.#timer = setTimeout(() => this.#onTimeout(), Math.ceil(left));
      return;
    }
    if (unsentBytes(this.#socket) > 0) {
      this.ctx.log('info', `closing ${this.#facts.remoteAddress}:${this.#facts.remotePort}: it stopped reading its response for ${this.#timeoutText()}`);
      this.#destroy();
      return;
    }
    if (this.#receiving !== null) return this.#answerError(408, `the request body stalled for ${this.#timeoutText()}`, false);
    if (this.#partialHead && this.#queue.length === 0) return this.#answerError(408, `the request head did not arrive within ${this.#timeoutText()}`, this.#parser.pendingHeadIsHead);
    if (this.#queue.length > 0) {
      this.#touch();
      this.#timer = setTimeout(() => this.#onTimeout(), this.#timeoutMs);
      return;
    }
    this.#destroy();
  }

  #endAfterWrites(): void {
    this.#stopParsing = true;
    for (const r of this.#queue) r.exchange.abort();
    this.#queue.length = 0;
    this.#unsafeOpen = 0;
    this.#held = 0;
    this.#socket.end();
    this.#touch();
  }

  #destroy(): void {
    if (!this.#closed) this.#socket.destroy();
    this.#onClose();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#receiving?.response.exchange.body?.dispose();
    for (const r of this.#queue) {
      r.exchange.abort();
      r.exchange.body?.dispose();
    }
    this.#queue.length = 0;
    this.#unsafeOpen = 0;
    this.#held = 0;
    this.#out.close();
  }
}
