/**
 * Hands requests to idle worker threads, queues them (listen) when none is idle, 503 past that.
 *
 * Theory of operation: a request goes to an idle worker thread at once; when every thread is
 * busy it waits in a bounded FIFO (`listen` entries); past that it is refused with 503 and
 * Retry-After. A request is never dropped silently: it is either served, answered 503, or
 * answered 502/500 by the worker handle. Requests whose client left while waiting are skipped,
 * and do not count against the limit.
 * A request sent ahead to a worker that died before starting it comes back through
 * redispatch() and goes first in the queue; it is sent again at most once, so a request that
 * kills its worker cannot go on to kill the others.
 */
import type { Exchange } from '../server/exchange.js';
import type { WorkerPool } from '../worker/pool.js';

export class Dispatcher {
  readonly #pool: WorkerPool;
  readonly #limit: number;
  #queue: Exchange[] = [];
  #head = 0;
  #refused = 0;
  /** Requests already sent again once after their worker died (see redispatch()). */
  readonly #replayed = new WeakSet<Exchange>();
  /** Graceful stop: called once when nothing is in a worker or the queue any more. */
  #idle: (() => void) | null = null;

  constructor(pool: WorkerPool, queueLimit: number) {
    this.#pool = pool;
    this.#limit = queueLimit;
  }

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  get refused(): number {
    return this.#refused;
  }

  dispatch(ex: Exchange): void {
    if (this.queued === 0) {
      const w = this.#pool.pick();
      if (w !== null) {
        w.send(ex);
        return;
      }
    }
    if (this.queued >= this.#limit && this.#dropAborted() >= this.#limit) {
      this.#refused++;
      ex.responder.sendError(503, 'Service Unavailable: every worker is busy and the wait queue is full; retry shortly.', 1);
      return;
    }
    // While queued, an abort only needs the flag Exchange.abort() sets; it is skipped on dequeue.
    ex.onAbort = null;
    this.#queue.push(ex);
  }

  /**
   * Requests a dead worker had not started (its handle's takeReplays()): first in line again,
   * once each. Without `canWait` (stopping: no worker takes new work) they are answered 502.
   */
  redispatch(exchanges: readonly Exchange[], canWait: boolean): void {
    const again: Exchange[] = [];
    for (const ex of exchanges) {
      if (ex.aborted) continue;
      if (!canWait || this.#replayed.has(ex)) {
        ex.responder.sendError(502, 'Bad Gateway: the worker this request was sent to died; see the server log.');
        continue;
      }
      this.#replayed.add(ex);
      again.push(ex);
    }
    if (again.length > 0) {
      this.#queue = again.concat(this.#queue.slice(this.#head));
      this.#head = 0;
    }
    this.drain();
  }

  /** A worker thread became free (or a worker became ready): hand out waiting requests. */
  drain(): void {
    while (this.#head < this.#queue.length) {
      const ex = this.#queue[this.#head]!;
      if (ex.aborted) {
        this.#shift();
        continue;
      }
      const w = this.#pool.pick();
      if (w === null) break;
      this.#shift();
      w.send(ex);
    }
    if (this.#idle !== null) this.checkIdle();
  }

  /** Calls `idle` once no request is in a worker or waiting here (now, if that is already so). */
  whenIdle(idle: () => void): void {
    this.#idle = idle;
    this.checkIdle();
  }

  /** A request left a worker other than by completing (the worker exited): maybe now idle. */
  checkIdle(): void {
    const idle = this.#idle;
    if (idle === null || this.queued > 0 || this.#pool.inFlight > 0) return;
    this.#idle = null;
    idle();
  }

  /** Answer everything still waiting (used when no worker can ever serve them). */
  failAll(status: number, message: string): void {
    while (this.#head < this.#queue.length) {
      const ex = this.#queue[this.#head]!;
      this.#shift();
      if (!ex.aborted) ex.responder.sendError(status, message);
    }
    if (this.#idle !== null) this.checkIdle();
  }

  /**
   * At the limit only: requests whose client left while waiting are skipped when they come up, but
   * until then they hold places that live requests need (a client that timed out and reconnected
   * would be refused behind its own dead request). Returns what still waits.
   */
  #dropAborted(): number {
    const live = this.#queue.slice(this.#head).filter((ex) => !ex.aborted);
    this.#queue = live;
    this.#head = 0;
    return live.length;
  }

  #shift(): void {
    this.#queue[this.#head++] = undefined as unknown as Exchange;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    }
  }
}
