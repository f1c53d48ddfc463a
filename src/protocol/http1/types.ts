/**
 * The interface between the HTTP/1.1 codec (sans-IO, this folder) and the HTTP front
 * (src/server/). The front owns sockets and timers; the codec only turns bytes into
 * events and response descriptions into bytes.
 */
import { BerthError } from '../../errors/berth-error.js';

/** A parsed request head. Header names keep the client's case; lookups are case-insensitive. */
export interface RequestHead {
  /** e.g. "GET"; a valid RFC 9110 token. */
  readonly method: string;
  /** The request-target exactly as sent (origin-form "/a?b", absolute-form, "*" or authority-form). */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly versionMinor: 0 | 1;
  /** Flat list [name0, value0, name1, value1, …], latin1-decoded, values trimmed of OWS. */
  readonly headers: readonly string[];
  /** Declared body length, or -1 when the body is chunked or absent. 0 when no body. */
  readonly contentLength: number;
  readonly chunked: boolean;
  /** Whether the connection may stay open after this exchange (version + Connection header). */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` was sent (HTTP/1.1 only). */
  readonly expectContinue: boolean;
}

/** Events from RequestParser.execute(). */
export interface RequestParserHandler {
  onHead(head: RequestHead): void;
  /** A piece of the decoded body (de-chunked). The buffer may be a view into the input chunk: copy it to keep it. */
  onBody(chunk: Buffer): void;
  /** The message (body and trailers) is complete. The parser then expects the next pipelined request. */
  onMessageEnd(): void;
  /** The input is broken or over a limit; the parser ignores everything after this. */
  onError(error: HttpParseError): void;
}

export interface RequestParserLimits {
  /** Max bytes of request line + header fields (+ trailers), counted as received. → 431 (or 414 for a long target). */
  readonly maxHeadBytes: number;
  /** Max body bytes; 0 = unlimited. → 413. */
  readonly maxBodyBytes: number;
}

/** A protocol error that carries the status code to answer with (h11's LocalProtocolError idea). */
export class HttpParseError extends BerthError {
  readonly status: 400 | 413 | 414 | 431 | 501 | 505;
  /** The broken head is a HEAD request's, so the answer must have no body (RFC 9110 §9.3.2). */
  readonly headRequest: boolean;
  constructor(status: HttpParseError['status'], message: string, headRequest = false) {
    super('BERTH_HTTP_PROTOCOL', message);
    this.name = 'HttpParseError';
    this.status = status;
    this.headRequest = headRequest;
  }
}

/** How the body of a response is framed on the wire. */
export type ResponseFraming = 'length' | 'chunked' | 'close' | 'none';

/** What the front needs to send a response head and frame its body. */
export interface ResponsePlan {
  /** The complete head: status line, headers, blank line (latin1). */
  readonly head: string;
  readonly statusCode: number;
  readonly framing: ResponseFraming;
  /** The declared Content-Length when framing is 'length' (also reported for HEAD), else -1. */
  readonly contentLength: number;
  /** False when the connection must close after this response (announced with Connection: close). */
  readonly keepAlive: boolean;
}

/** An app response that must not reach the wire, with the reason for the log. */
export interface ResponseRejection {
  readonly ok: false;
  readonly reason: string;
}
