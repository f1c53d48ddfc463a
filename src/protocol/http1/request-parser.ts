/**
 * Sans-IO HTTP/1.1 request parser (RFC 9112): bytes in through execute(), events out
 * through the handler. No sockets, timers or files.
 *
 * Theory of operation. A connection is a sequence of messages; each message is a head and
 * then a body framed by Content-Length or chunked coding (RFC 9112 §6). The parser is one
 * state machine over that sequence, so pipelined requests in one chunk are parsed in one
 * execute() call, one after another, without a reset.
 *
 * Head: the fast path finds the first CRLF CRLF in the chunk with Buffer#indexOf, decodes
 * the head to a latin1 string once and validates it in head.ts. Only when a head is split
 * across chunks are its bytes copied, into a buffer bounded by maxHeadBytes; the new bytes
 * are scanned for bare CR / bare LF so that such input fails at once instead of waiting for
 * a CRLF CRLF that will never come. Line endings must be CRLF: a bare LF is refused like a
 * bare CR (RFC 9112 §2.2 allows, but does not require, accepting bare LF; refusing it
 * closes the LF-vs-CRLF disagreement that request smuggling between proxies relies on).
 *
 * Body: Content-Length bodies are passed on as views into the input chunk (no copy).
 * Chunked bodies are decoded by a byte-wise machine for the size lines and trailers
 * (short), and by views for chunk data. Trailers are validated like fields and dropped.
 *
 * After a message whose head says the connection will not be kept alive, further input is
 * ignored: the front closes the connection and nothing more may be answered on it. After
 * onError the parser is dead and ignores all input.
 */
import { FieldBounds, parseHead } from './head.js';
import { opensWithHeadMethod } from './methods.js';
import { CR, LF } from './tables.js';
import { ChunkedDecoder } from './chunked-decoder.js';
import { appendSplitHead, startSplitHead } from './split-head.js';
import { HttpParseError, type RequestHead, type RequestParserHandler, type RequestParserLimits } from './types.js';

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * New bytes of a split head at or below which they are scanned in a loop here rather than with
 * Buffer#indexOf, a native call each: a slow client's head arrives a byte or a few per read.
 */
const SMALL_APPEND = 16;

/** Chunk extensions are ignored, so only a little of them is worth reading per message. */
export const MAX_CHUNK_EXTENSION_BYTES = 16 * 1024;

// Parser states. Plain numeric constants (not an enum) so that type-stripping runners work.
const S_HEAD = 0;
const S_BODY = 1;
const S_CHUNKED = 2;
const S_CLOSED = 3;
const S_DEAD = 4;

/** Coarse state for the front: which timeout applies, and whether closing loses data. */
export type RequestParserState = 'idle' | 'head' | 'body' | 'closed' | 'error';

export class RequestParser {
  readonly #handler: RequestParserHandler;
  readonly #maxHeadBytes: number;
  readonly #maxBodyBytes: number;
  #state = S_HEAD;
  /** Empty-line bytes skipped before the request-line (RFC 9112 §2.2), and whether the last was a CR. */
  #skipped = 0;
  #leadCr = false;
  /** A head split across chunks: its bytes so far, bounded by the head budget. */
  #headBuf: Buffer | null = null;
  #headLen = 0;
  #headCap = 0;
  /** Bytes left of the head budget for trailers. */
  #budget = 0;
  #keepAlive = false;
  /** Body bytes still expected (Content-Length). */
  #remaining = 0;
  /** Where parseHead notes each field, reused for every head of this connection. */
  readonly #fields = new FieldBounds();
  /** Made on the first chunked request only: most connections never need one. */
  #chunked: ChunkedDecoder | null = null;

  constructor(handler: RequestParserHandler, limits: RequestParserLimits) {
    this.#handler = handler;
    this.#maxHeadBytes = limits.maxHeadBytes;
    this.#maxBodyBytes = limits.maxBodyBytes;
  }

  get state(): RequestParserState {
    switch (this.#state) {
      case S_HEAD:
        return this.#headLen === 0 && this.#skipped === 0 ? 'idle' : 'head';
      case S_CLOSED:
        return 'closed';
      case S_DEAD:
        return 'error';
      default:
        return 'body';
    }
  }

  /**
   * Parses as much of `chunk` as possible. Handler callbacks run synchronously inside and
   * must not throw or call execute() again; body buffers may be views into `chunk`.
   */
  execute(chunk: Buffer): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      switch (this.#state) {
        case S_HEAD:
          pos = this.#readHead(chunk, pos, end);
          break;
        case S_BODY: {
          const n = Math.min(this.#remaining, end - pos);
          this.#handler.onBody(n === end && pos === 0 ? chunk : chunk.subarray(pos, pos + n));
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#endMessage();
          break;
        }
        case S_CHUNKED:
          pos = this.#readChunked(chunk, pos, end);
          break;
        default:
          return;
      }
    }
  }

  /** A partly received head opens with HEAD (so an answer to it, e.g. 408, has no body). */
  get pendingHeadIsHead(): boolean {
    return this.#headBuf !== null && opensWithHeadMethod(this.#headBuf, 0, this.#headLen);
  }

  /** The peer closed its side. Mid-message, that is an error (the request is truncated). */
  finish(): void {
    const state = this.state;
    if (state === 'closed' || state === 'error') return;
    if (state === 'idle') {
      this.#state = S_CLOSED;
      return;
    }
    this.#fail(400, `connection closed in the middle of the request ${state}`, this.pendingHeadIsHead);
  }

  #fail(status: HttpParseError['status'], message: string, headRequest = false): number {
    this.#state = S_DEAD;
    this.#headBuf = null;
    this.#handler.onError(new HttpParseError(status, message, headRequest));
    return Number.MAX_SAFE_INTEGER;
  }

  #readHead(buf: Buffer, pos: number, end: number): number {
    if (this.#headLen > 0) return this.#appendHead(buf, pos, end);
    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) received before
    // the request-line; they count against the head budget so they cannot go on forever.
    while (pos < end) {
      const c = buf[pos];
      if (this.#leadCr) {
        if (c !== LF) return this.#fail(400, 'bare CR before the request-line (RFC 9112 §2.2)');
        this.#leadCr = false;
      } else if (c === CR) {
        this.#leadCr = true;
      } else if (c === LF) {
        return this.#fail(400, 'bare LF before the request-line (RFC 9112 §2.2)');
      } else {
        break;
      }
      pos++;
      if (++this.#skipped >= this.#maxHeadBytes) return this.#fail(431, 'too many empty lines before the request-line');
    }
    if (pos === end) return end;
    const budget = this.#maxHeadBytes - this.#skipped;
    const idx = buf.indexOf(CRLFCRLF, pos);
    if (idx !== -1 && idx + 4 - pos <= budget) {
      this.#onHeadBytes(buf, pos, idx + 2, idx + 4 - pos);
      return idx + 4;
    }
    const n = Math.min(end - pos, budget);
    if (!this.#checkLineEnds(buf, pos, pos, pos + n)) return Number.MAX_SAFE_INTEGER;
    if (idx !== -1 || end - pos >= budget) return this.#failHeadTooLarge(buf, pos, pos + n);
    // Incomplete head: keep its bytes (only this part of the chunk) for the next execute().
    // The copy starts small (a split head is usually short) and grows up to the budget.
    this.#headBuf = startSplitHead(buf, pos, end, budget);
    this.#headLen = end - pos;
    this.#headCap = budget;
    return end;
  }

  #appendHead(buf: Buffer, pos: number, end: number): number {
    const old = this.#headLen;
    const n = Math.min(end - pos, this.#headCap - old);
    const headBuf = (this.#headBuf = appendSplitHead(this.#headBuf as Buffer, old, buf, pos, pos + n, this.#headCap));
    this.#headLen = old + n;
    // A terminator may straddle the previous chunk and this one: search from 3 bytes back.
    const idx = n <= SMALL_APPEND ? findCrlfCrlf(headBuf, Math.max(0, old - 3), old + n) : headBuf.subarray(0, old + n).indexOf(CRLFCRLF, Math.max(0, old - 3));
    if (idx !== -1) {
      this.#headBuf = null;
      this.#headLen = 0;
      this.#onHeadBytes(headBuf, 0, idx + 2, idx + 4);
      return pos + (idx + 4 - old);
    }
    if (!this.#checkLineEnds(headBuf, 0, old, old + n)) return Number.MAX_SAFE_INTEGER;
    if (old + n === this.#headCap) return this.#failHeadTooLarge(headBuf, 0, old + n);
    return end;
  }

  /**
   * Refuses a bare LF, or a CR not followed by LF, among the new bytes buf[from, to) of a
   * head that starts at `start` (RFC 9112 §2.2). A CR just before `from` was unresolved
   * last time, so it is checked now; a CR at the very end waits for the next chunk.
   */
  #checkLineEnds(buf: Buffer, start: number, from: number, to: number): boolean {
    if (to - from <= SMALL_APPEND) return this.#checkFewLineEnds(buf, start, from, to);
    for (let i = buf.indexOf(LF, from); i !== -1 && i < to; i = buf.indexOf(LF, i + 1)) {
      // A head never starts with LF (empty lines were skipped), so i > start here.
      if (i === start || buf[i - 1] !== CR) {
        this.#fail(400, 'bare LF in the request head (RFC 9112 §2.2)', opensWithHeadMethod(buf, start, to));
        return false;
      }
    }
    for (let i = buf.indexOf(CR, Math.max(start, from - 1)); i !== -1 && i + 1 < to; i = buf.indexOf(CR, i + 1)) {
      if (buf[i + 1] !== LF) {
        this.#fail(400, 'bare CR in the request head (RFC 9112 §2.2)', opensWithHeadMethod(buf, start, to));
        return false;
      }
    }
    return true;
  }

  /** #checkLineEnds for a few new bytes: the same checks in the same order, without native calls. */
  #checkFewLineEnds(buf: Buffer, start: number, from: number, to: number): boolean {
    for (let i = from; i < to; i++) {
      if (buf[i] === LF && (i === start || buf[i - 1] !== CR)) {
        this.#fail(400, 'bare LF in the request head (RFC 9112 §2.2)', opensWithHeadMethod(buf, start, to));
        return false;
      }
    }
    for (let i = Math.max(start, from - 1); i + 1 < to; i++) {
      if (buf[i] === CR && buf[i + 1] !== LF) {
        this.#fail(400, 'bare CR in the request head (RFC 9112 §2.2)', opensWithHeadMethod(buf, start, to));
        return false;
      }
    }
    return true;
  }

  /** 414 when the request-line alone does not fit in the budget (RFC 9112 §3), else 431. */
  #failHeadTooLarge(buf: Buffer, start: number, limit: number): number {
    const lineEnd = buf.indexOf(CRLF, start);
    const headRequest = opensWithHeadMethod(buf, start, limit);
    if (lineEnd === -1 || lineEnd + 2 > limit) {
      return this.#fail(414, `request-line longer than the ${this.#maxHeadBytes}-byte head limit`, headRequest);
    }
    return this.#fail(431, `request head larger than ${this.#maxHeadBytes} bytes`, headRequest);
  }

  #onHeadBytes(buf: Buffer, start: number, end: number, headBytes: number): void {
    const head = parseHead(buf, start, end, this.#maxBodyBytes, this.#fields);
    if (head instanceof HttpParseError) {
      this.#state = S_DEAD;
      this.#handler.onError(opensWithHeadMethod(buf, start, end) ? new HttpParseError(head.status, head.message, true) : head);
      return;
    }
    this.#budget = this.#maxHeadBytes - this.#skipped - headBytes;
    this.#keepAlive = head.keepAlive;
    this.#startBody(head);
  }

  #startBody(head: RequestHead): void {
    if (head.chunked) {
      this.#state = S_CHUNKED;
      // Trailers count against what the head left of maxHeadBytes (→ 431).
      this.#chunked ??= new ChunkedDecoder();
      this.#chunked.start({ maxBodyBytes: this.#maxBodyBytes, maxExtensionBytes: MAX_CHUNK_EXTENSION_BYTES, trailerBudget: this.#budget });
      this.#handler.onHead(head);
    } else if (head.contentLength > 0) {
      this.#state = S_BODY;
      this.#remaining = head.contentLength;
      this.#handler.onHead(head);
    } else {
      this.#handler.onHead(head);
      this.#endMessage();
    }
  }

  #endMessage(): void {
    this.#skipped = 0;
    this.#leadCr = false;
    // A handler that called finish() from inside onHead/onBody has already ended the parser.
    if (this.#state < S_CLOSED) this.#state = this.#keepAlive ? S_HEAD : S_CLOSED;
    this.#handler.onMessageEnd();
  }

  /** A chunked body (RFC 9112 §7.1), decoded by the shared ChunkedDecoder. */
  #readChunked(buf: Buffer, pos: number, end: number): number {
    const chunked = this.#chunked!;
    const next = chunked.decode(buf, pos, end, this.#handler);
    const failure = chunked.failure;
    if (failure !== null) {
      const status = failure.kind === 'body-too-large' ? 413 : failure.kind === 'trailers-too-large' ? 431 : 400;
      const message = failure.kind === 'trailers-too-large' ? `request head and trailers larger than ${this.#maxHeadBytes} bytes` : failure.message;
      return this.#fail(status, message);
    }
    if (chunked.done && this.#state === S_CHUNKED) this.#endMessage();
    return next;
  }
}

/** Where CR LF CR LF starts within buf[from, to), or -1. */
function findCrlfCrlf(buf: Buffer, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (buf[i] === CR && buf[i + 1] === LF && buf[i + 2] === CR && buf[i + 3] === LF) return i;
  }
  return -1;
}
