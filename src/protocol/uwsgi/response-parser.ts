/**
 * Sans-IO parser of the raw HTTP/1.x response a uWSGI backend writes on a uwsgi
 * connection (client side of the protocol): bytes in through execute(), events out
 * through the handler. No sockets, timers or files.
 *
 * Theory of operation. The connection carries one request, so it carries one final
 * response, possibly after interim 1xx responses (RFC 9110 §15.2), which are skipped. The
 * parser is one state machine: HEAD → a body framed per RFC 9112 §6.3 by Content-Length,
 * chunked coding, or the close of the connection → DONE; DEAD after an error.
 *
 * Head: the first CRLF CRLF is found with Buffer#indexOf in the chunk; only a head split
 * across chunks is copied, into a buffer bounded by maxHeadBytes. The terminator must lie
 * within the first maxHeadBytes bytes of the head, however the input is split, so the
 * outcome never depends on the split. response-head.ts validates the bytes.
 *
 * Body: Content-Length bodies and chunk data are passed on as views into the input chunk.
 * Chunk-size lines and trailers are read by a byte-wise machine (they are short); chunk
 * extensions and trailers count against maxHeadBytes, validated, then dropped (trailers go to
 * onTrailers with keepTrailers). Interim 1xx heads other than 100 go to onInterim. A close-
 * delimited body ends at finish(); a Content-Length or chunked body cut short by finish()
 * is an error, because relaying it as complete would hand the client a truncated file.
 *
 * Bytes after the end of a length- or chunk-framed response are an error: a uWSGI backend
 * sends one response and closes, and an HTTP keep-alive backend sends nothing unasked (the
 * proxy never pipelines), so extra bytes mean it and the framing disagree. reset() readies
 * the parser for the next response on a kept-alive HTTP connection.
 */
import { ChunkedDecoder, trailerFields } from '../http1/chunked-decoder.js';
import { appendSplitHead, startSplitHead } from '../http1/split-head.js';
import { parseResponseHead } from './response-head.js';
import { UpstreamResponseError, type RawHttpResponseHandler, type RawHttpResponseHead, type RawHttpResponseOptions, type UpstreamErrorReason } from './types.js';

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** Heads longer than this are not kept for reuse (a typical small response's is ~100 bytes). */
const REUSED_HEAD_MAX = 512;

// Parser states. Plain numeric constants (not an enum) so that type-stripping runners work.
const S_HEAD = 0;
const S_BODY_LENGTH = 1;
const S_BODY_CLOSE = 2;
const S_CHUNKED = 3;
const S_DONE = 4;
const S_DEAD = 5;

export class RawHttpResponseParser {
  readonly #handler: RawHttpResponseHandler;
  readonly #maxHeadBytes: number;
  readonly #keepTrailers: boolean;
  #headRequest: boolean;
  #state = S_HEAD;
  /** A head split across chunks: its bytes so far. */
  #headBuf: Buffer | null = null;
  #headLen = 0;
  /** Bytes received for this response so far, to tell "no response" from "cut short". */
  #seen = false;
  /** Body bytes left (Content-Length). */
  #remaining = 0;
  #chunked: ChunkedDecoder | null = null;
  /** reuseRepeatedHead: the bytes of the last final head parsed in one piece, and its result. */
  readonly #lastHeadBytes: Buffer | null;
  #lastHeadLength = 0;
  #lastHead: RawHttpResponseHead | null = null;
  #lastHeadRequest = false;

  constructor(handler: RawHttpResponseHandler, options: RawHttpResponseOptions) {
    this.#handler = handler;
    this.#maxHeadBytes = options.maxHeadBytes;
    this.#headRequest = options.headRequest === true;
    this.#keepTrailers = options.keepTrailers === true;
    this.#lastHeadBytes = options.reuseRepeatedHead === true ? Buffer.allocUnsafe(REUSED_HEAD_MAX) : null;
  }

  /**
   * Ready for the next response on the same connection (an HTTP keep-alive backend), after
   * the previous one ended (onMessageEnd) or failed.
   */
  reset(headRequest: boolean): void {
    this.#state = S_HEAD;
    this.#headRequest = headRequest;
    this.#headBuf = null;
    this.#headLen = 0;
    this.#seen = false;
    this.#remaining = 0;
  }

  /**
   * Parses as much of chunk[0, end) as possible (`end`: a reader's shared buffer is parsed where
   * it lies, no view made per read). Handler callbacks run synchronously inside and must not
   * throw or call execute() again; body buffers may be views into `chunk`.
   */
  execute(chunk: Buffer, end = chunk.length): void {
    let pos = 0;
    if (end > 0) this.#seen = true;
    while (pos < end) {
      switch (this.#state) {
        case S_HEAD:
          pos = this.#readHead(chunk, pos, end);
          break;
        case S_BODY_CLOSE:
          this.#handler.onBody(pos === 0 && end === chunk.length ? chunk : chunk.subarray(pos, end));
          return;
        case S_BODY_LENGTH: {
          const n = Math.min(this.#remaining, end - pos);
          const piece = n === chunk.length ? chunk : chunk.subarray(pos, pos + n);
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = S_DONE;
          this.#handler.onBody(piece);
          if (this.#remaining === 0) this.#handler.onMessageEnd();
          break;
        }
        case S_CHUNKED:
          pos = this.#readChunked(chunk, pos, end);
          break;
        case S_DONE:
          this.#fail('trailing-bytes', `${end - pos} bytes after the end of the response`);
          return;
        default:
          return;
      }
    }
  }

  /** The upstream closed. That ends a close-delimited body; anywhere else it cuts the response short. */
  finish(): void {
    switch (this.#state) {
      case S_DONE:
      case S_DEAD:
        return;
      case S_BODY_CLOSE:
        this.#state = S_DONE;
        this.#handler.onMessageEnd();
        return;
      case S_HEAD:
        this.#fail('truncated', this.#seen ? 'upstream closed in the middle of the response head' : 'upstream closed without sending a response');
        return;
      default:
        this.#fail('truncated', 'upstream closed before the end of the response body (RFC 9112 §8)');
    }
  }

  #fail(reason: UpstreamErrorReason, message: string): number {
    this.#state = S_DEAD;
    this.#headBuf = null;
    this.#handler.onError(new UpstreamResponseError(reason, message));
    return Number.MAX_SAFE_INTEGER;
  }

  #readHead(buf: Buffer, pos: number, end: number): number {
    const max = this.#maxHeadBytes;
    if (this.#headBuf === null) {
      const idx = buf.indexOf(CRLFCRLF, pos);
      // A terminator found at or past `end` lies in bytes this read did not bring.
      if (idx !== -1 && idx + 4 <= end && idx + 4 - pos <= max) {
        const last = this.#lastHeadBytes;
        if (last !== null) this.#onWholeHead(last, buf, pos, idx + 2);
        else this.#onHeadBytes(buf, pos, idx + 2);
        return idx + 4;
      }
      if (end - pos >= max) return this.#fail('head-too-large', `response head larger than ${max} bytes`);
      this.#headBuf = startSplitHead(buf, pos, end, max);
      this.#headLen = end - pos;
      return end;
    }
    const old = this.#headLen;
    const n = Math.min(end - pos, max - old);
    const headBuf = (this.#headBuf = appendSplitHead(this.#headBuf, old, buf, pos, pos + n, max));
    this.#headLen = old + n;
    // A terminator may straddle the previous chunk and this one: search from 3 bytes back.
    const idx = headBuf.subarray(0, old + n).indexOf(CRLFCRLF, Math.max(0, old - 3));
    if (idx !== -1) {
      this.#headBuf = null;
      this.#headLen = 0;
      this.#onHeadBytes(headBuf, 0, idx + 2);
      return pos + (idx + 4 - old);
    }
    if (old + n === max) return this.#fail('head-too-large', `response head larger than ${max} bytes`);
    return pos + n;
  }

  /** A head that lies whole in buf[start, end): the previous one again, or parsed and kept in `last`. */
  #onWholeHead(last: Buffer, buf: Buffer, start: number, end: number): void {
    const length = end - start;
    const previous = this.#lastHead;
    if (previous !== null && length === this.#lastHeadLength && this.#lastHeadRequest === this.#headRequest && buf.compare(last, 0, length, start, end) === 0) {
      this.#onHead(previous);
      return;
    }
    const head = parseResponseHead(buf, start, end, this.#headRequest);
    if (!(head instanceof UpstreamResponseError) && head.statusCode >= 200 && length <= REUSED_HEAD_MAX) {
      buf.copy(last, 0, start, end);
      this.#lastHeadLength = length;
      this.#lastHeadRequest = this.#headRequest;
      // Frozen: every response that repeats these bytes is handed this one object.
      Object.freeze(head.headers);
      this.#lastHead = Object.freeze(head);
    }
    this.#onHead(head);
  }

  #onHeadBytes(buf: Buffer, start: number, end: number): void {
    this.#onHead(parseResponseHead(buf, start, end, this.#headRequest));
  }

  #onHead(head: RawHttpResponseHead | UpstreamResponseError): void {
    if (head instanceof UpstreamResponseError) {
      this.#state = S_DEAD;
      this.#handler.onError(head);
      return;
    }
    if (head.statusCode < 200) {
      // RFC 9110 §15.2: interim responses precede the final one. 100 answers an Expect the
      // front dealt with itself; 101 would switch the connection to another protocol, which
      // Berth cannot relay; the others go to onInterim when there is one.
      if (head.statusCode === 101) this.#fail('unsupported-status', '101 Switching Protocols from a uwsgi backend');
      else if (head.statusCode !== 100) this.#handler.onInterim?.(head);
      return;
    }
    switch (head.framing) {
      case 'none':
        this.#state = S_DONE;
        break;
      case 'length':
        this.#state = S_BODY_LENGTH;
        this.#remaining = head.contentLength;
        break;
      case 'chunked':
        this.#state = S_CHUNKED;
        // Extensions and trailers are each bounded by maxHeadBytes.
        this.#chunked ??= new ChunkedDecoder();
        this.#chunked.start({ maxBodyBytes: 0, maxExtensionBytes: this.#maxHeadBytes, trailerBudget: this.#maxHeadBytes, lenientExtensions: true, keepTrailers: this.#keepTrailers });
        break;
      default:
        this.#state = S_BODY_CLOSE;
    }
    this.#handler.onHead(head);
    if (head.framing === 'none' && this.#state === S_DONE) this.#handler.onMessageEnd();
  }

  /** A chunked body (RFC 9112 §7.1), decoded by the shared ChunkedDecoder. */
  #readChunked(buf: Buffer, pos: number, end: number): number {
    const chunked = this.#chunked!;
    const next = chunked.decode(buf, pos, end, this.#handler);
    if (chunked.failure !== null) return this.#fail('bad-chunk', chunked.failure.message);
    if (chunked.done && this.#state === S_CHUNKED) {
      this.#state = S_DONE;
      if (this.#keepTrailers) {
        const fields = trailerFields(chunked.trailers);
        if (fields.length > 0) this.#handler.onTrailers?.(fields);
      }
      this.#handler.onMessageEnd();
    }
    return next;
  }
}
