/**
 * One queued response on an HTTP connection: the Responder a producer drives, buffering until it is the oldest.
 */
import { isSafeMethod } from '../protocol/http1/methods.js';
import type { Exchange, Responder } from './exchange.js';
import { HttpResponseWriter, type Output } from './http-response-writer.js';
import type { JoinedResponses } from './joined-responses.js';
import type { KeptResponse } from './kept-response.js';

/** What a queued response needs of its connection (http-connection.ts). */
export interface ResponseQueue {
  readonly ctx: {
    readonly joined: JoinedResponses;
    readonly draining: boolean;
    date(): string;
    log(level: 'info' | 'warn' | 'error', message: string): void;
  };
  /**
   * What says whether `r` must close its connection: one function per connection (a graceful
   * stop), or one per response on a connection given back to the workers (its last closes).
   */
  closeRuleOf(r: QueuedResponse): () => boolean;
  isFront(r: QueuedResponse): boolean;
  write(data: Buffer | string, flushed?: () => void): void;
  writePair(head: string, body: Buffer): void;
  responseCompleted(r: QueuedResponse): void;
  cut(r: QueuedResponse): void;
}

/** One queued response: the Responder the producer drives, and the Output the writer emits to. */
export class QueuedResponse implements Output, Responder {
  readonly conn: ResponseQueue;
  readonly writer: HttpResponseWriter;
  exchange!: Exchange;
  /** What it emitted while not the oldest; null until then (most responses never wait). */
  buffered: { data: Buffer | string; flushed: (() => void) | undefined }[] | null = null;
  completed = false;
  closeAfter = false;
  needsContinue = false;
  /** RFC 9110 §9.2.1: may run alongside other safe requests of this connection. */
  readonly safe: boolean;
  /** Ready for the app but waiting for earlier requests (see pipeline-order.ts). */
  held = false;

  constructor(conn: ResponseQueue, head: { method: string; target: string; versionMinor: 0 | 1; keepAlive: boolean }) {
    this.conn = conn;
    this.safe = isSafeMethod(head.method);
    this.writer = new HttpResponseWriter(this, head, conn.closeRuleOf(this));
  }

  get date(): string {
    return this.conn.ctx.date();
  }
  get joined(): JoinedResponses {
    return this.conn.ctx.joined;
  }
  get headSent(): boolean {
    return this.writer.headSent;
  }
  emit(data: Buffer | string, flushed?: () => void): void {
    if (this.conn.isFront(this)) this.conn.write(data, flushed);
    else (this.buffered ??= []).push({ data, flushed });
  }
  emitPair(head: string, body: Buffer): void {
    if (this.conn.isFront(this)) this.conn.writePair(head, body);
    else (this.buffered ??= []).push({ data: head, flushed: undefined }, { data: body, flushed: undefined });
  }
  complete(close: boolean): void {
    this.completed = true;
    this.closeAfter = close;
    this.exchange.finished = true;
    this.exchange.status = this.writer.status;
    this.exchange.bytesSent = this.writer.bytesSent;
    this.conn.responseCompleted(this);
  }
  cut(): void {
    this.exchange.finished = true;
    this.exchange.status = this.writer.status;
    this.exchange.bytesSent = this.writer.bytesSent;
    this.conn.cut(this);
  }
  log(level: 'warn' | 'error', message: string): void {
    this.conn.ctx.log(level, message);
  }
  sendHead(status: string, headers: readonly string[]): boolean {
    return this.writer.sendHead(status, headers);
  }
  sendBody(chunk: Buffer, flushed: () => void): void {
    this.writer.sendBody(chunk, flushed);
  }
  sendEnd(trailers?: readonly string[]): void {
    this.writer.sendEnd(trailers);
  }
  sendInterim(status: string, headers: readonly string[]): void {
    this.writer.sendInterim(status, headers);
  }
  sendFull(status: string, headers: readonly string[], body: Buffer, shared?: boolean): void {
    this.writer.sendFull(status, headers, body, shared);
  }
  sendKept(kept: KeptResponse): void {
    this.writer.sendKept(kept);
  }
  sendError(status: number, message: string, retryAfterSeconds?: number): void {
    this.writer.sendError(status, message, retryAfterSeconds);
  }
}
