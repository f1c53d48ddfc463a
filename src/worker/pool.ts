/**
 * The set of live workers that can take requests, and the choice of which one gets the next
 * request: the READY worker with the fewest requests in flight that still has a free thread.
 */
import type { WorkerHandle } from './handle.js';

export class WorkerPool {
  readonly #workers: WorkerHandle[] = [];

  add(w: WorkerHandle): void {
    this.#workers.push(w);
  }

  remove(w: WorkerHandle): void {
    const i = this.#workers.indexOf(w);
    if (i !== -1) this.#workers.splice(i, 1);
  }

  get all(): readonly WorkerHandle[] {
    return this.#workers;
  }

  /** Least-loaded READY worker with a free thread, or null when every thread is busy. */
  pick(): WorkerHandle | null {
    let best: WorkerHandle | null = null;
    let bestLoad = Infinity;
    for (const w of this.#workers) {
      if (w.state !== 'READY') continue;
      const load = w.load;
      if (load < w.capacity && load < bestLoad) {
        best = w;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    return best;
  }

  get inFlight(): number {
    let n = 0;
    for (const w of this.#workers) n += w.load;
    return n;
  }

  countIn(state: WorkerHandle['state']): number {
    let n = 0;
    for (const w of this.#workers) if (w.state === state) n++;
    return n;
  }
}
