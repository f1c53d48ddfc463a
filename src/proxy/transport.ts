/** The one interface both backend transports (HTTP via Berth's keep-alive client, uwsgi via the client codec) offer to the proxy. */
import type { RequestBody } from '../server/request-body.js';
import type { ExchangeRequest } from '../server/exchange.js';

/**
 * Why an attempt failed. `connect`: the backend was never reached (refused, unreachable,
 * connect-timeout), so any request may go to the next one. `timeout`: read-timeout passed.
 * `error`: the connection broke or the response was unusable after the request was sent.
 */
export type FailureKind = 'connect' | 'timeout' | 'error';

export interface AttemptHandler {
  /** The backend's response head, hop-by-hop fields already removed; `contentLength` as the response parser read it, or -1. */
  head(statusCode: number, reason: string, headers: readonly string[], contentLength: number): void;
  /** An interim response (1xx other than 100, e.g. 103 Early Hints) before the head, hop-by-hop fields removed. */
  interim?(statusCode: number, reason: string, headers: readonly string[]): void;
  /** A chunked response's trailer fields (hop-by-hop ones removed), just before end(). */
  trailers?(fields: readonly string[]): void;
  /** A piece of the body; call `resume` once it has left Berth, then more follows. */
  body(chunk: Buffer, resume: () => void): void;
  /** Everything one read from the backend brought has been handed on (a head held for its body may go out now). */
  readDone(): void;
  end(): void;
  /** `sent`: the request may have reached the backend (nginx's rule for re-sending). */
  fail(kind: FailureKind, sent: boolean, message: string): void;
}

export interface OutgoingRequest {
  readonly request: ExchangeRequest;
  /** The request target sent on: the client's, or with the route's prefix replaced by its URI part. */
  readonly target: string;
  /** The front's CGI block (uwsgi backends read their vars from it). */
  readonly cgiBlock: () => string;
  readonly pathInfo: string;
  readonly body: RequestBody | null;
  /** Add this hop to Via (the group's `via`, RFC 9110 §7.6.3). */
  readonly via: boolean;
  /** The Host sent instead of the client's: an absolute-form target's authority (RFC 9112 §3.2.2); null: the client's. */
  readonly host: string | null;
  /** Max-Forwards as sent on (an OPTIONS or TRACE decremented, RFC 9110 §7.6.2); null: as received. */
  readonly maxForwards: string | null;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
}

export interface Transport {
  /** Send one request; the handler hears exactly one of end() or fail(). Returns a cancel. */
  send(out: OutgoingRequest, handler: AttemptHandler): () => void;
  /** Close idle keep-alive connections (a group replaced by a reload, or Berth stopping). */
  close(): Promise<void>;
}
