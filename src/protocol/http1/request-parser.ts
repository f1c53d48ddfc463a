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
import { parseHead } from './head.js';
import { COLON, CR, FIELD_VALUE, HEX_VALUE, HTAB, LF, SEMICOLON, SP, TOKEN } from './tables.js';
import { HttpParseError, type RequestHead, type RequestParserHandler, type RequestParserLimits } from './types.js';

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Hex digits in a chunk-size: 2^53 − 1 needs 14; leading zeros beyond 16 are abuse. */
const MAX_CHUNK_SIZE_DIGITS = 16;
/** Chunk extensions are ignored, so only a little of them is worth reading per message. */
export const MAX_CHUNK_EXTENSION_BYTES = 16 * 1024;
/** First allocation for a head split across chunks. */
const INITIAL_HEAD_BUFFER = 1024;

// Parser states. Plain numeric constants (not an enum) so that type-stripping runners work.
const S_HEAD = 0;
const S_BODY = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_EXT_PRE = 3;
const S_CHUNK_EXT = 4;
const S_CHUNK_SIZE_LF = 5;
const S_CHUNK_DATA = 6;
const S_CHUNK_DATA_CR = 7;
const S_CHUNK_DATA_LF = 8;
const S_TRAILER_START = 9;
const S_TRAILER_NAME = 10;
const S_TRAILER_VALUE = 11;
const S_TRAILER_LF = 12;
const S_END_LF = 13;
const S_CLOSED = 14;
const S_DEAD = 15;

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
  /** Body bytes still expected (Content-Length) or left in the current chunk. */
  #remaining = 0;
  #bodyBytes = 0;
  #sizeDigits = 0;
  #extBytes = 0;

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
        case S_CHUNK_DATA: {
          const n = Math.min(this.#remaining, end - pos);
          this.#handler.onBody(chunk.subarray(pos, pos + n));
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = S_CHUNK_DATA_CR;
          break;
        }
        case S_CLOSED:
        case S_DEAD:
          return;
        default:
          pos = this.#readChunkedFraming(chunk, pos, end);
      }
    }
  }

  /** The peer closed its side. Mid-message, that is an error (the request is truncated). */
  finish(): void {
    const state = this.state;
    if (state === 'closed' || state === 'error') return;
    if (state === 'idle') {
      this.#state = S_CLOSED;
      return;
    }
    this.#fail(400, `connection closed in the middle of the request ${state}`);
  }

  #fail(status: HttpParseError['status'], message: string): number {
    this.#state = S_DEAD;
    this.#headBuf = null;
    this.#handler.onError(new HttpParseError(status, message));
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
    const headBuf = Buffer.allocUnsafe(Math.min(budget, Math.max(INITIAL_HEAD_BUFFER, 2 * (end - pos))));
    buf.copy(headBuf, 0, pos, end);
    this.#headBuf = headBuf;
    this.#headLen = end - pos;
    this.#headCap = budget;
    return end;
  }

  #appendHead(buf: Buffer, pos: number, end: number): number {
    let headBuf = this.#headBuf as Buffer;
    const old = this.#headLen;
    const n = Math.min(end - pos, this.#headCap - old);
    if (old + n > headBuf.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.#headCap, Math.max(old + n, 2 * headBuf.length)));
      headBuf.copy(grown, 0, 0, old);
      this.#headBuf = headBuf = grown;
    }
    buf.copy(headBuf, old, pos, pos + n);
    this.#headLen = old + n;
    // A terminator may straddle the previous chunk and this one: search from 3 bytes back.
    const idx = headBuf.subarray(0, old + n).indexOf(CRLFCRLF, Math.max(0, old - 3));
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
    for (let i = buf.indexOf(LF, from); i !== -1 && i < to; i = buf.indexOf(LF, i + 1)) {
      // A head never starts with LF (empty lines were skipped), so i > start here.
      if (i === start || buf[i - 1] !== CR) {
        this.#fail(400, 'bare LF in the request head (RFC 9112 §2.2)');
        return false;
      }
    }
    for (let i = buf.indexOf(CR, Math.max(start, from - 1)); i !== -1 && i + 1 < to; i = buf.indexOf(CR, i + 1)) {
      if (buf[i + 1] !== LF) {
        this.#fail(400, 'bare CR in the request head (RFC 9112 §2.2)');
        return false;
      }
    }
    return true;
  }

  /** 414 when the request-line alone does not fit in the budget (RFC 9112 §3), else 431. */
  #failHeadTooLarge(buf: Buffer, start: number, limit: number): number {
    const lineEnd = buf.indexOf(CRLF, start);
    if (lineEnd === -1 || lineEnd + 2 > limit) {
      return this.#fail(414, `request-line longer than the ${this.#maxHeadBytes}-byte head limit`);
    }
    return this.#fail(431, `request head larger than ${this.#maxHeadBytes} bytes`);
  }

  #onHeadBytes(buf: Buffer, start: number, end: number, headBytes: number): void {
    const head = parseHead(buf, start, end, this.#maxBodyBytes);
    if (head instanceof HttpParseError) {
      this.#state = S_DEAD;
      this.#handler.onError(head);
      return;
    }
    this.#budget = this.#maxHeadBytes - this.#skipped - headBytes;
    this.#keepAlive = head.keepAlive;
    this.#startBody(head);
  }

  #startBody(head: RequestHead): void {
    if (head.chunked) {
      this.#state = S_CHUNK_SIZE;
      this.#bodyBytes = 0;
      this.#remaining = 0;
      this.#sizeDigits = 0;
      this.#extBytes = 0;
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

  /** Chunk-size lines, chunk-data CRLFs and the trailer section (RFC 9112 §7.1), byte by byte. */
  #readChunkedFraming(buf: Buffer, pos: number, end: number): number {
    while (pos < end) {
      const c = buf[pos];
      switch (this.#state) {
        case S_CHUNK_SIZE: {
          // chunk-size = 1*HEXDIG: no sign, no "0x", no leading whitespace.
          const hex = HEX_VALUE[c];
          if (hex !== 0) {
            if (++this.#sizeDigits > MAX_CHUNK_SIZE_DIGITS) return this.#fail(400, 'chunk-size has too many digits');
            this.#remaining = this.#remaining * 16 + (hex - 1);
            if (this.#remaining > Number.MAX_SAFE_INTEGER) return this.#fail(400, 'chunk-size overflows');
          } else if (this.#sizeDigits === 0) {
            return this.#fail(400, 'chunk-size is not a hex number (RFC 9112 §7.1)');
          } else if (c === CR) {
            this.#state = S_CHUNK_SIZE_LF;
          } else if (c === SEMICOLON) {
            this.#state = S_CHUNK_EXT;
          } else if (c === SP || c === HTAB) {
            this.#state = S_CHUNK_EXT_PRE;
          } else {
            return this.#fail(400, 'chunk-size is not a hex number (RFC 9112 §7.1)');
          }
          break;
        }
        case S_CHUNK_EXT_PRE:
          // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) (RFC 9112 §7.1.1)
          if (c === SEMICOLON) this.#state = S_CHUNK_EXT;
          else if (c !== SP && c !== HTAB) return this.#fail(400, 'junk after chunk-size (RFC 9112 §7.1.1)');
          break;
        case S_CHUNK_EXT:
          // Extensions are ignored; only their bytes are checked: no CTL can hide a line end.
          if (++this.#extBytes > MAX_CHUNK_EXTENSION_BYTES) return this.#fail(400, 'chunk extensions too long');
          if (c === CR) this.#state = S_CHUNK_SIZE_LF;
          else if (FIELD_VALUE[c] !== 1) return this.#fail(400, 'control character in chunk extension');
          break;
        case S_CHUNK_SIZE_LF:
          if (c !== LF) return this.#fail(400, 'chunk-size line not ended by CRLF (RFC 9112 §7.1)');
          if (this.#remaining === 0) {
            this.#state = S_TRAILER_START;
            break;
          }
          this.#bodyBytes += this.#remaining;
          if (this.#maxBodyBytes > 0 && this.#bodyBytes > this.#maxBodyBytes) {
            return this.#fail(413, `chunked body exceeds the body limit of ${this.#maxBodyBytes}`);
          }
          this.#state = S_CHUNK_DATA;
          return pos + 1;
        case S_CHUNK_DATA_CR:
          if (c !== CR) return this.#fail(400, 'chunk-data not followed by CRLF (RFC 9112 §7.1)');
          this.#state = S_CHUNK_DATA_LF;
          break;
        case S_CHUNK_DATA_LF:
          if (c !== LF) return this.#fail(400, 'chunk-data not followed by CRLF (RFC 9112 §7.1)');
          this.#state = S_CHUNK_SIZE;
          this.#sizeDigits = 0;
          break;
        default:
          if (!this.#readTrailerByte(c)) return Number.MAX_SAFE_INTEGER;
          // The final CRLF ended the message: the next bytes belong to the next request.
          if (this.#state < S_TRAILER_START || this.#state > S_END_LF) return pos + 1;
      }
      pos++;
    }
    return pos;
  }

  /**
   * trailer-section = *( field-line CRLF ) CRLF (RFC 9112 §7.1.2), validated with the field
   * rules, counted against what is left of maxHeadBytes, then dropped: Berth does not pass
   * trailers to WSGI apps (PEP 3333 has no place for them).
   */
  #readTrailerByte(c: number): boolean {
    if (--this.#budget < 0) {
      this.#fail(431, `request head and trailers larger than ${this.#maxHeadBytes} bytes`);
      return false;
    }
    switch (this.#state) {
      case S_TRAILER_START:
        if (c === CR) this.#state = S_END_LF;
        else if (TOKEN[c] === 1) this.#state = S_TRAILER_NAME;
        else if (c === SP || c === HTAB) return this.#failBool('obs-fold in trailer section (RFC 9112 §5.2)');
        else return this.#failBool('invalid trailer field name (RFC 9110 §5.1)');
        return true;
      case S_TRAILER_NAME:
        if (c === COLON) this.#state = S_TRAILER_VALUE;
        else if (c === SP || c === HTAB) return this.#failBool('whitespace between trailer name and colon (RFC 9112 §5.1)');
        else if (TOKEN[c] !== 1) return this.#failBool('invalid trailer field name (RFC 9110 §5.1)');
        return true;
      case S_TRAILER_VALUE:
        if (c === CR) this.#state = S_TRAILER_LF;
        else if (FIELD_VALUE[c] !== 1) return this.#failBool('invalid character in trailer value (RFC 9110 §5.5)');
        return true;
      case S_TRAILER_LF:
        if (c !== LF) return this.#failBool('trailer line not ended by CRLF (RFC 9112 §2.2)');
        this.#state = S_TRAILER_START;
        return true;
      default:
        if (c !== LF) return this.#failBool('chunked message not ended by CRLF (RFC 9112 §7.1)');
        this.#endMessage();
        return true;
    }
  }

  #failBool(message: string): false {
    this.#fail(400, message);
    return false;
  }
}
