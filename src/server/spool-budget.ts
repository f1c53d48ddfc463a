/**
 * The disk all spooled request bodies may use together (spool-limit), shared by both fronts.
 *
 * Theory of operation: a body over SPOOL_THRESHOLD_BYTES waits in a spool file until a worker
 * takes it (request-body.ts). limit-post bounds one upload; this bounds their sum, so many
 * concurrent uploads cannot fill the temporary directory. A body with a declared length takes
 * its whole length at its head, before a byte of it is read, and is refused at once when that
 * does not fit; a chunked body takes its bytes as they reach the spool file and is refused
 * mid-way. Either way the client gets 503 with a message naming the option, and the bytes are
 * given back when the exchange ends. 0 = no cap.
 */

/** The 503's text: what happened and what to change. */
export const SPOOL_FULL_MESSAGE = 'The server is storing too many uploads at the moment; try again shortly (spool-limit).';

export class SpoolBudget {
  readonly limitBytes: number;
  #used = 0;

  constructor(limitBytes: number) {
    this.limitBytes = limitBytes;
  }

  get usedBytes(): number {
    return this.#used;
  }

  /** Takes `bytes` if they fit under the limit; false (nothing taken) otherwise. */
  take(bytes: number): boolean {
    if (this.limitBytes > 0 && this.#used + bytes > this.limitBytes) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}
