/**
 * The interface between the uwsgi codecs (sans-IO, this folder) and their users: the
 * uwsgi front (src/server/, server side) and the uwsgi upstream (src/proxy/, client side).
 * The users own sockets and timers; the codecs only turn bytes into events and back.
 *
 * Wire format (uWSGI docs, "The uwsgi protocol"): a 4-byte header — modifier1 (u8),
 * datasize (u16 little-endian), modifier2 (u8) — then `datasize` bytes of vars, each
 * [u16 LE key length][key][u16 LE value length][value], then the request body. The
 * answer is a raw HTTP/1.x response; the connection carries one request.
 */
import { BerthError } from '../../errors/berth-error.js';

/** modifier1 0: a WSGI request (uWSGI docs, "uwsgi packet header"). */
export const MODIFIER1_WSGI = 0;
/** modifier1 30: WSGI, with SCRIPT_NAME to be removed from the front of PATH_INFO. */
export const MODIFIER1_WSGI_STRIP_SCRIPT_NAME = 30;
/** A u16 datasize or key/value length cannot say more. */
export const MAX_VARS_BYTES = 65535;

/** One parsed uwsgi request packet header and vars block. */
export interface UwsgiRequestHead {
  readonly modifier1: number;
  readonly modifier2: number;
  /**
   * Flat [key0, value0, key1, value1, …] in packet order, latin1-decoded. Keys are never
   * empty. Duplicate keys are all kept, in order (nginx sends a uwsgi_param once per
   * directive, so duplicates come from configuration): the front decides which wins.
   */
  readonly vars: readonly string[];
  /** The CONTENT_LENGTH var as a number; 0 when absent or empty. The body is exactly this long. */
  readonly contentLength: number;
  /** The datasize field: bytes in the vars block. */
  readonly varsBytes: number;
}

/** Events from UwsgiRequestParser.execute()/finish(). */
export interface UwsgiParserHandler {
  onHead(head: UwsgiRequestHead): void;
  /** A piece of the body: a view into the input chunk, not a copy. Copy it to keep it. */
  onBody(chunk: Buffer): void;
  /** The body is complete. One request per connection: nothing more may follow. */
  onMessageEnd(): void;
  /** The input is broken or over a limit; the parser ignores everything after this. */
  onError(error: UwsgiProtocolError): void;
}

export interface UwsgiParserLimits {
  /** Max datasize accepted (uWSGI's buffer-size, at most 65535). → 431. */
  readonly maxVarsBytes: number;
  /** Max CONTENT_LENGTH; 0 = unlimited. → 413. */
  readonly maxBodyBytes: number;
}

export type UwsgiErrorReason =
  | 'truncated'
  | 'bad-length'
  | 'empty-key'
  | 'vars-too-large'
  | 'body-too-large'
  | 'bad-content-length'
  | 'trailing-bytes';

const STATUS_OF_REASON = {
  truncated: 400,
  'bad-length': 400,
  'empty-key': 400,
  'vars-too-large': 431,
  'body-too-large': 413,
  'bad-content-length': 400,
  'trailing-bytes': 400,
} as const satisfies Record<UwsgiErrorReason, 400 | 413 | 431>;

/**
 * A uwsgi packet that breaks the protocol or a limit, with the status to answer with when
 * an answer is still possible (h11's RemoteProtocolError idea). `reason` is stable for
 * logs and tests; `message` is for people.
 */
export class UwsgiProtocolError extends BerthError {
  readonly reason: UwsgiErrorReason;
  readonly status: 400 | 413 | 431;
  constructor(reason: UwsgiErrorReason, message: string) {
    super('BERTH_HTTP_PROTOCOL', message);
    this.name = 'UwsgiProtocolError';
    this.reason = reason;
    this.status = STATUS_OF_REASON[reason];
  }
}

/** Why encodeUwsgiRequest refused its vars. The proxy answers `status` to its client. */
export class UwsgiEncodeError extends BerthError {
  readonly reason: 'vars-too-large' | 'var-too-long' | 'empty-key' | 'not-latin1' | 'odd-vars' | 'bad-modifier';
  readonly status: 431 | 500;
  constructor(reason: UwsgiEncodeError['reason'], message: string) {
    super('BERTH_HTTP_PROTOCOL', message);
    this.name = 'UwsgiEncodeError';
    this.reason = reason;
    // Oversized vars come from the client's headers (431); the rest are bugs in the caller.
    this.status = reason === 'vars-too-large' || reason === 'var-too-long' ? 431 : 500;
  }
}

/** How the body of an upstream response is framed (RFC 9112 §6.3). */
export type ResponseBodyFraming = 'none' | 'length' | 'chunked' | 'close';

/** A parsed final (non-1xx) response head from an upstream. */
export interface RawHttpResponseHead {
  readonly statusCode: number;
  /** The reason-phrase as sent (may be empty). */
  readonly reason: string;
  readonly versionMinor: 0 | 1;
  /** Flat [name0, value0, …], latin1-decoded, names in the upstream's case, values trimmed of OWS. */
  readonly headers: readonly string[];
  readonly framing: ResponseBodyFraming;
  /** The declared Content-Length (also for HEAD, 204, 304), or -1 when absent. */
  readonly contentLength: number;
  /** Both Transfer-Encoding and Content-Length came (the length was dropped): the connection must not carry another response. */
  readonly faultyFraming?: boolean;
}

export interface RawHttpResponseHandler {
  onHead(head: RawHttpResponseHead): void;
  /** A piece of the de-chunked body; may be a view into the input chunk. */
  onBody(chunk: Buffer): void;
  onMessageEnd(): void;
  onError(error: UpstreamResponseError): void;
  /** An interim response other than 100 (e.g. 103 Early Hints), for a proxy to relay (RFC 9110 §15.2); without it they are skipped. */
  onInterim?(head: RawHttpResponseHead): void;
  /** A chunked body's trailer fields, flat [name, value, …], just before onMessageEnd; only when asked (keepTrailers) and some came. */
  onTrailers?(fields: string[]): void;
}

export interface RawHttpResponseOptions {
  /** Max bytes of one response head (status line + fields + blank line); also bounds trailers. */
  readonly maxHeadBytes: number;
  /** The request was HEAD: the response has no body whatever its fields say (RFC 9110 §9.3.2). */
  readonly headRequest?: boolean;
  /** Hand a chunked body's trailer fields to onTrailers instead of dropping them. */
  readonly keepTrailers?: boolean;
  /**
   * A head byte for byte the same as this parser's previous final head (a keep-alive backend
   * answering the same way again) is handed on as that same frozen head object, not parsed
   * again: no strings, list or object per response. Off by default.
   */
  readonly reuseRepeatedHead?: boolean;
}

export type UpstreamErrorReason =
  | 'truncated'
  | 'head-too-large'
  | 'bad-status-line'
  | 'bad-header'
  | 'bad-content-length'
  | 'conflicting-framing'
  | 'unsupported-transfer-coding'
  | 'unsupported-status'
  | 'bad-chunk'
  | 'trailing-bytes';

/** An upstream response that cannot be relayed safely: the proxy answers 502 (RFC 9110 §15.6.3). */
export class UpstreamResponseError extends BerthError {
  readonly reason: UpstreamErrorReason;
  readonly status = 502;
  constructor(reason: UpstreamErrorReason, message: string) {
    super('BERTH_HTTP_PROTOCOL', message);
    this.name = 'UpstreamResponseError';
    this.reason = reason;
  }
}
