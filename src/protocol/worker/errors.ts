/**
 * Typed errors of the master <-> worker codec. Both are BerthErrors so callers switch on
 * `code`; each carries what the caller needs to answer without re-parsing.
 */
import { BerthError } from '../../errors/berth-error.js';

/** A worker sent bytes that break the wire format: the channel must be closed, the worker killed. */
export class WorkerProtocolError extends BerthError {
  constructor(message: string) {
    super('BERTH_WORKER_PROTOCOL', message);
    this.name = 'WorkerProtocolError';
  }
}

/**
 * An environ key or value cannot travel in the NUL-separated latin1 block (it holds NUL,
 * e.g. a decoded `%00` in the path, or a character above U+00FF). The request is answered
 * 400: RFC 9110 §5.5 forbids NUL in field values, and PATH_INFO cannot carry it either.
 */
export class EnvironEncodingError extends BerthError {
  readonly status = 400;
  readonly key: string;
  constructor(key: string, message: string) {
    super('BERTH_HTTP_PROTOCOL', message);
    this.name = 'EnvironEncodingError';
    this.key = key;
  }
}
