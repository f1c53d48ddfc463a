/** One interval that times out many in-flight backend exchanges, instead of a timer object per socket. */

/** Never finer than this: a timeout may fire this much later than asked, never earlier. */
const MIN_PERIOD_MS = 5;
const MAX_PERIOD_MS = 500;
/** The period is this fraction of the shortest limit watched, so a timeout fires at most ~10% late. */
const PERIODS_PER_LIMIT = 20;

export interface Watched {
  /** The sweep's `clock` when it last made progress: its owner sets it on every read or write. */
  progressAt: number;
  /** The sweep's own: the latest moment that progress can have happened (its owner starts it at 0). */
  progressBound: number;
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
    w.progressBound = this.clock;
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
    // A mark made since the last tick carries the last tick's clock, yet happened at some moment
    // up to now (a late tick means a busy loop, and the marks ran in it): bound it by now, so
    // nothing expires early however late the ticks run.
    const stampedSinceLastTick = this.clock;
    this.clock = now;
    if (this.#watched.size === 0) {
      this.#stop();
      return;
    }
    for (const w of this.#watched) {
      if (w.progressAt === stampedSinceLastTick) w.progressBound = now;
      else if (now - w.progressBound >= w.limitMs) {
        this.#watched.delete(w);
        w.expire();
      }
    }
  }
}
