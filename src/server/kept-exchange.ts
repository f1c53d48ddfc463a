/** The record of a hot static GET the HTTP front answered from a kept response: an Exchange made only when something reads it. */
import type { RequestHead } from '../protocol/http1/types.js';
import { ANSWERED, Exchange, type CgiSource } from './exchange.js';
import type { ConnectionFacts } from './http-environ.js';
import { requestRecord } from './http-request-record.js';

/**
 * One per connection, refilled for each kept answer: the request log with disable-logging and
 * stats without subscribers read only the status and the start time, so for them no Exchange is
 * made. `exchange()` makes the finished Exchange the static stage's sendKept would leave (for the
 * log line, stats, the static channel); it is valid only until the next answer refills this.
 */
export class KeptAnswer {
  readonly #facts: ConnectionFacts;
  readonly #source: CgiSource;
  #head: RequestHead | null = null;
  #made: Exchange | null = null;
  statusCode = 0;
  bodyBytes = 0;
  /** performance.now() when the answer started, the clock of Exchange.startedAt. */
  startedAt = 0;

  constructor(facts: ConnectionFacts, source: CgiSource) {
    this.#facts = facts;
    this.#source = source;
  }

  refill(head: RequestHead, statusCode: number, bodyBytes: number, startedAt: number): void {
    this.#head = head;
    this.#made = null;
    this.statusCode = statusCode;
    this.bodyBytes = bodyBytes;
    this.startedAt = startedAt;
  }

  /** The finished Exchange of this answer (one per answer, however often asked); its CGI block is built only if read. */
  exchange(): Exchange {
    if (this.#made !== null) return this.#made;
    // Kept answers are given only on connections whose forwarded headers are not trusted (#answerKept).
    const ex = new Exchange(requestRecord(this.#head!, this.#facts, null), '', null, ANSWERED, this.startedAt);
    ex.status = this.statusCode;
    ex.bytesSent = this.bodyBytes;
    ex.finished = true;
    ex.buildCgiBlockLater(this.#source);
    return (this.#made = ex);
  }

  /** Drops the head, so an idle connection does not keep the last request's strings alive. */
  clear(): void {
    this.#head = null;
    this.#made = null;
  }
}
