/**
 * One connection on a uwsgi listener: one packet, one request, the response, close.
 *
 * Theory of operation: one connection on a uwsgi-protocol listener carries one request (as
 * nginx's uwsgi_pass uses it). The sans-IO UwsgiRequestParser turns bytes into the packet's
 * vars and body; the vars become the worker's CGI block (uwsgi-environ.ts); the body is
 * buffered like an HTTP body (so a slow upload holds no Python thread and a 75 MB upload is
 * spooled to disk, not memory). The reply is a raw HTTP response written by the same
 * HttpResponseWriter as the HTTP front — framed by Content-Length, or by closing the
 * connection, which is how the uwsgi protocol ends a response — then the socket is closed.
 */
import type { Socket } from 'node:net';
import type { Endpoints } from './endpoints.js';
import { UwsgiRequestParser } from '../protocol/uwsgi/request-parser.js';
import { MODIFIER1_WSGI, MODIFIER1_WSGI_STRIP_SCRIPT_NAME, type UwsgiParserHandler, type UwsgiParserLimits, type UwsgiProtocolError, type UwsgiRequestHead } from '../protocol/uwsgi/types.js';
import { Exchange, type Responder } from './exchange.js';
import { cannedResponse } from '../protocol/http1/canned.js';
import { RequestBody } from './request-body.js';
import { HttpResponseWriter, type Output } from './http-response-writer.js';
import { FlushingWriter } from './flushing-writer.js';
import { unsentBytes } from './direct-writes.js';
import { buildUwsgiEnviron, exchangeRequestOf } from './uwsgi-environ.js';
import type { ScriptNameRule } from './script-name.js';
import { requestOnlyVars } from './uwsgi-trust.js';
import { logSafe, quotePeer } from '../protocol/peer-text.js';
import { SPOOL_FULL_MESSAGE, type SpoolBudget } from './spool-budget.js';

export interface UwsgiFrontContext {
  /** Built once per front; the parser clamps maxVarsBytes to the protocol's 65535. */
  readonly limits: UwsgiParserLimits;
  readonly timeoutMs: number;
  readonly manageScriptName: boolean;
  readonly scriptNames: ScriptNameRule;
  readonly spool: SpoolBudget;
  date(): string;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  dispatch(ex: Exchange): void;
  exchangeDone(ex: Exchange): void;
}

export class UwsgiConnection implements UwsgiParserHandler, Output, Responder {
  readonly #socket: Socket;
  readonly #ctx: UwsgiFrontContext;
  readonly #parser: UwsgiRequestParser;
  readonly #peer: string;
  /** null when the peer's vars are trusted; else the connection's ends, for request-only vars. */
  readonly #untrustedEnds: Endpoints | null;
  #exchange: Exchange | null = null;
  #writer: HttpResponseWriter | null = null;
  #closed = false;
  #messageEnded = false;
  readonly #out: FlushingWriter;
  readonly #timer: NodeJS.Timeout;

  constructor(socket: Socket, ctx: UwsgiFrontContext, ends: Endpoints, trusted: boolean) {
    this.#socket = socket;
    this.#untrustedEnds = trusted ? null : ends;
    this.#ctx = ctx;
    this.#peer = ends.remoteAddress !== '' ? `${ends.remoteAddress}:${ends.remotePort}` : 'a unix-socket peer';
    this.#parser = new UwsgiRequestParser(this, ctx.limits);
    this.#out = new FlushingWriter(socket);
    socket.setNoDelay(true);
    this.#timer = setTimeout(() => this.#onTimeout(), ctx.timeoutMs);
    socket.on('data', (chunk: Buffer) => this.#parser.execute(chunk));
    socket.on('end', () => this.#parser.finish());
    socket.on('drain', () => this.#onDrain());
    socket.on('error', () => this.#destroy());
    socket.on('close', () => this.#onClose());
  }

  get idle(): boolean {
    return this.#exchange === null;
  }

  feed(chunk: Buffer): void {
    this.#parser.execute(chunk);
  }

  close(): void {
    this.#destroy();
  }

  // --- parser events ---

  onHead(head: UwsgiRequestHead): void {
    if (head.modifier1 !== MODIFIER1_WSGI && head.modifier1 !== MODIFIER1_WSGI_STRIP_SCRIPT_NAME) {
      this.#ctx.log('warn', `uwsgi packet from ${this.#peer} with modifier1 ${head.modifier1} (modifier2 ${head.modifier2}): Berth serves WSGI requests (modifier1 0 or 30); closing the connection — check uwsgi_modifier1 in nginx`);
      this.#destroy();
      return;
    }
    const vars = this.#untrustedEnds === null ? head.vars : requestOnlyVars(head.vars, this.#untrustedEnds);
    const env = buildUwsgiEnviron(vars, head.contentLength, {
      stripScriptName: head.modifier1 === MODIFIER1_WSGI_STRIP_SCRIPT_NAME || this.#ctx.manageScriptName,
      scriptNames: this.#ctx.scriptNames,
    });
    if (env === null) {
      this.#ctx.log('warn', `uwsgi packet from ${this.#peer} has a NUL byte inside a var; closing the connection`);
      this.#destroy();
      return;
    }
    const body = head.contentLength > 0 ? new RequestBody(this.#ctx.spool) : null;
    this.#exchange = new Exchange(exchangeRequestOf(env), env.block, body, this, performance.now());
    // The uwsgi protocol ends a response by closing, so never keep-alive; HTTP/1.0 framing
    // avoids chunked encoding, which uwsgi peers (nginx's uwsgi module) do not expect.
    this.#writer = new HttpResponseWriter(this, { method: env.method, target: env.target, versionMinor: 0, keepAlive: false }, () => true);
    this.#timer.refresh();
    if (body?.reserve(head.contentLength) === false) {
      // The body is left to drain unread (the socket keeps flowing), so nginx sees the 503, not a reset.
      this.#ctx.log('warn', `upload refused from ${this.#peer}: ${SPOOL_FULL_MESSAGE} (answered 503)`);
      this.#writer.sendError(503, SPOOL_FULL_MESSAGE);
    }
  }

  onBody(chunk: Buffer): void {
    const body = this.#exchange?.body;
    if (body === null || body === undefined) return;
    body.append(chunk);
    if (body.backlogged) {
      this.#socket.pause();
      body.onDrained(() => {
        if (!this.#closed) this.#socket.resume();
      });
    }
    this.#timer.refresh();
  }

  onMessageEnd(): void {
    this.#messageEnded = true;
    const ex = this.#exchange;
    if (ex === null) return;
    if (ex.body === null) this.#ctx.dispatch(ex);
    else if (!ex.body.refused)
      ex.body.finish().then(
        () => {
          if (!ex.aborted) this.#ctx.dispatch(ex);
        },
        (err: Error) => {
          this.#ctx.log('error', `could not buffer the request body of ${logSafe(ex.request.method)} ${quotePeer(ex.request.target)}: ${err.message}`);
          this.sendError(500, 'The request body could not be stored.');
        },
      );
  }

  onError(error: UwsgiProtocolError): void {
    if (this.#messageEnded) {
      // Bytes after a complete packet: the request itself is intact, so it is still answered.
      this.#ctx.log('warn', `uwsgi peer ${this.#peer} sent bytes after a complete request (${error.message}); they were ignored — check that nginx sends CONTENT_LENGTH (include uwsgi_params)`);
      return;
    }
    this.#ctx.log('warn', `bad uwsgi packet from ${this.#peer}: ${error.message} (${error.reason}); answered ${error.status} and closed`);
    if (this.#writer !== null && !this.#writer.headSent) this.#writer.sendError(error.status, error.message);
    else if (this.#writer === null) {
      // Refused before the vars were read (too large): answer anyway, then end our side and let
      // the rest of the upload drain, so nginx sees 413/431 rather than a reset (502).
      this.#socket.end(cannedResponse(error.status, { date: this.#ctx.date(), message: error.message, close: true }));
      this.#socket.resume();
    } else this.#destroy();
  }

  // --- Output (for the writer) ---

  get date(): string {
    return this.#ctx.date();
  }

  emit(data: Buffer | string, flushed?: () => void): void {
    this.#out.write(data, flushed);
  }

  complete(): void {
    this.#finishExchange();
    // One request per connection: when the response already left Node's buffers, closing now
    // saves waiting for the peer's FIN (the kernel still delivers the bytes, then FIN).
    if (unsentBytes(this.#socket) === 0 && this.#messageEnded) this.#destroy();
    else this.#socket.end();
  }

  cut(): void {
    this.#finishExchange();
    this.#destroy();
  }

  log(level: 'warn' | 'error', message: string): void {
    this.#ctx.log(level, message);
  }

  // --- Responder (for the worker) ---

  get headSent(): boolean {
    return this.#writer?.headSent ?? false;
  }
  sendHead(status: string, headers: readonly string[]): boolean {
    return this.#writer?.sendHead(status, headers) ?? false;
  }
  sendBody(chunk: Buffer, flushed: () => void): void {
    if (this.#writer === null) flushed();
    else this.#writer.sendBody(chunk, flushed);
  }
  sendEnd(): void {
    this.#writer?.sendEnd();
  }
  sendFull(status: string, headers: readonly string[], body: Buffer): void {
    this.#writer?.sendFull(status, headers, body);
  }
  sendError(status: number, message: string, retryAfterSeconds?: number): void {
    if (this.#writer === null) this.#destroy();
    else this.#writer.sendError(status, message, retryAfterSeconds);
  }

  #finishExchange(): void {
    const ex = this.#exchange;
    if (ex === null || ex.finished) return;
    ex.finished = true;
    ex.status = this.#writer?.status ?? 0;
    ex.bytesSent = this.#writer?.bytesSent ?? 0;
    ex.body?.dispose();
    this.#ctx.exchangeDone(ex);
  }

  #onTimeout(): void {
    if (this.#closed) return;
    const ex = this.#exchange;
    if (ex !== null && ex.cgiBlock !== '' && unsentBytes(this.#socket) === 0 && !ex.finished && (ex.body === null || ex.body.complete)) {
      // Waiting for the app, not for the peer.
      this.#timer.refresh();
      return;
    }
    this.#ctx.log('info', `closing uwsgi connection from ${this.#peer}: nothing moved for ${this.#ctx.timeoutMs / 1000} s (socket-timeout)`);
    this.#destroy();
  }

  #onDrain(): void {
    this.#out.drained();
    this.#timer.refresh();
  }

  #destroy(): void {
    if (!this.#closed) this.#socket.destroy();
    this.#onClose();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    const ex = this.#exchange;
    if (ex !== null && !ex.finished) {
      ex.abort();
      ex.body?.dispose();
    }
    this.#out.close();
  }
}
