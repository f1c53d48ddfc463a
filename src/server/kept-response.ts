/**
 * A whole response kept ready for the wire: a hot static file's 200, head and body joined once per Date second.
 *
 * Theory of operation: a hot static file (src/static/hot-responses.ts) answers every plain GET
 * of the same file version with the same status, header fields and body; for a keep-alive
 * HTTP/1.1 request not asked to close, the head the codec plans from them differs from one
 * request to the next only in its Date field. So the head is planned once per Date value (once
 * a second) and, for a body up to JOIN_LIMIT, joined to the body in a new Buffer: one write
 * per request and no plan, head string or copy in between. A new second makes a new Buffer
 * rather than patching the old one in place, because a socket may still hold the old one in
 * its write queue. Any other request (HEAD, HTTP/1.0, Connection: close, a draining server)
 * takes the writer's full path with the same status, fields and body.
 *
 * Bound: one head string and at most one joined Buffer (head + body ≤ JOIN_LIMIT + head) per
 * kept response; the static stage keeps them beside the cached bodies they join, so they live
 * no longer than those bodies and nothing is kept while no static file is served.
 */
import { isRejection, planResponse } from '../protocol/http1/response.js';
import { JOIN_LIMIT, joinHeadAndBody } from './joined-responses.js';

const PLAIN_GET = { method: 'GET', target: '-', versionMinor: 1, keepAlive: true } as const;

/** The bytes of one Date second: the head, and head + body joined when the body is short. */
export interface KeptWire {
  readonly statusCode: number;
  readonly head: string;
  readonly joined: Buffer | null;
}

export class KeptResponse {
  readonly status: string;
  /** The header fields as the producer gave them (Content-Length included). */
  readonly headers: readonly string[];
  readonly body: Buffer;
  #date = '';
  #wire: KeptWire | null = null;

  constructor(status: string, headers: readonly string[], body: Buffer) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /**
   * The wire bytes for a keep-alive HTTP/1.1 GET answered at `date`, or null when the codec
   * would not frame this response by its length (then the caller takes the full path).
   */
  wireAt(date: string): KeptWire | null {
    if (date === this.#date) return this.#wire;
    this.#date = date;
    const plan = planResponse(PLAIN_GET, this.status, this.headers, { date, forceClose: false });
    if (isRejection(plan) || plan.framing !== 'length' || plan.contentLength !== this.body.length || !plan.keepAlive) {
      this.#wire = null;
    } else {
      this.#wire = { statusCode: plan.statusCode, head: plan.head, joined: this.body.length <= JOIN_LIMIT ? joinHeadAndBody(plan.head, this.body) : null };
    }
    return this.#wire;
  }
}
