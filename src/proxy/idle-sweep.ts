/** One interval that times out many in-flight backend exchanges, instead of a timer object per socket. */

/** Never finer than this: a timeout may fire this much later than asked, never earlier. */
const MIN_PERIOD_MS = 5;
const MAX_PERIOD_MS = 500;
/** The period is this fraction of the shortest limit watched, so a timeout fires at most ~10% late. */
const PERIODS_PER_LIMIT = 20;

export interface Watched {
  /** The sweep's `clock` when it last made progress: its owner sets it on every read or write. */
  progressAt: number;
  /** How long it may go without progress (may change while watched, e.g. connect then read timeout). */
  limitMs: number;
  /** Called once, when limitMs has passed without progress; the sweep has already forgotten it. */
  expire(): void;
}

/**
 * Why: Node makes a new timer object for every `socket.setTimeout`, and a connection per
 * request (uwsgi backends) made two per request. Here marking progress is one assignment
 * (`progressAt = sweep.clock`, a clock read once per tick) and the interval runs only while
 * something is watched.
 */
export class IdleSweep {
  /** performance.now() at the last tick (or when watching began): at most one period behind. */
  clock = performance.now();
  #periodMs = MAX_PERIOD_MS;
  #timer: NodeJS.Timeout | null = null;
  readonly #watched = new Set<Watched>();

  /** Watch `w` until forget(); `shortestLimitMs` is the smallest limitMs it will have. */
  watch(w: Watched, shortestLimitMs: number): void {
    const wanted = Math.min(MAX_PERIOD_MS, Math.max(MIN_PERIOD_MS, Math.floor(shortestLimitMs / PERIODS_PER_LIMIT)));
    if (this.#timer === null) this.clock = performance.now();
    w.progressAt = this.clock;
    this.#watched.add(w);
    if (wanted < this.#periodMs) {
      this.#periodMs = wanted;
      this.#stop();
    }
    if (this.#timer === null) this.#start();
  }

  forget(w: Watched): void {
    this.#watched.delete(w);
  }

  #start(): void {
    this.#timer = setInterval(() => this.#tick(), this.#periodMs);
    this.#timer.unref();
  }

  #stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #tick(): void {
    const now = performance.now();
    this.clock = now;
    if (this.#watched.size === 0) {
      this.#stop();
      return;
    }
    // progressAt may be up to one period older than the progress it marks: allow for that,
    // so nothing expires early.
    const slack = this.#periodMs;
    for (const w of this.#watched) {
      if (now - w.progressAt >= w.limitMs + slack) {
        this.#watched.delete(w);
        w.expire();
      }
    }
  }
}
