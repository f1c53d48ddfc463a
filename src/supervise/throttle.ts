/**
 * The emperor's restart schedule for a vassal that exits on its own. A vassal that had run
 * LOYAL_MS or more is restarted after the base delay; each exit before that doubles the delay
 * (base, 2×, 4×, …) up to the maximum. uWSGI grows its delay linearly; doubling reaches a slow
 * retry sooner for a vassal that cannot start (an app that fails to import), and is reset by
 * one loyal run or by touching the file.
 */

/** A vassal up this long has proved it can start (uWSGI calls it loyal). */
export const LOYAL_MS = 30_000;

export class Throttle {
  readonly #baseMs: number;
  readonly #maxMs: number;
  #attempts = 0;

  constructor(baseMs: number, maxMs: number) {
    this.#baseMs = baseMs;
    this.#maxMs = Math.max(baseMs, maxMs);
  }

  /** Exits in a row before the vassal was loyal. */
  get attempts(): number { return this.#attempts; }

  /** The delay before the next start, after an exit `uptimeMs` after the last start. */
  next(uptimeMs: number): number {
    if (uptimeMs >= LOYAL_MS) this.#attempts = 0;
    this.#attempts += 1;
    return Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(this.#attempts - 1, 30));
  }

  reset(): void { this.#attempts = 0; }
}
