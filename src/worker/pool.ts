/**
 * The set of live workers that can take requests, and the choice of which one gets the next
 * request.
 *
 * First choice: the READY worker with the fewest requests in flight that has an idle thread.
 * When every thread is busy, a request may still be *prefetched* to a worker so it finds its
 * next request already in its socket instead of idling for a round trip through the master:
 * up to PREFETCH_PER_THREAD extra per thread for fast apps (recent service time under
 * FAST_SERVICE_MS, where the round trip is a large share of the cost — it doubles hello-world
 * throughput on 2 cores), one extra per thread otherwise. A request is never prefetched behind
 * a request that is overdue (running longer than max(PREFETCH_MAX_AGE_MS, 2 × the recent
 * service time)): then it waits in the master's queue, where any worker can take it.
 */
import type { WorkerHandle } from './handle.js';

export const PREFETCH_PER_THREAD = 3;
export const FAST_SERVICE_MS = 1;
export const PREFETCH_MAX_AGE_MS = 2;

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

  /** The worker for the next request, or null when it should wait in the master's queue. */
  pick(): WorkerHandle | null {
    let idle: WorkerHandle | null = null;
    let idleLoad = Infinity;
    let prefetch: WorkerHandle | null = null;
    let prefetchLoad = Infinity;
    let now = 0;
    for (const w of this.#workers) {
      if (w.state !== 'READY') continue;
      const load = w.load;
      if (load < w.capacity) {
        if (load === 0) return w;
        if (load < idleLoad) {
          idle = w;
          idleLoad = load;
        }
      } else if (idle === null && load < prefetchLoad && w.serviceEwmaMs !== Infinity) {
        const depth = w.serviceEwmaMs <= FAST_SERVICE_MS ? PREFETCH_PER_THREAD : 1;
        if (load >= w.capacity * (1 + depth)) continue;
        if (now === 0) now = performance.now();
        if (now - w.oldestInFlightSince() <= Math.max(PREFETCH_MAX_AGE_MS, 2 * w.serviceEwmaMs)) {
          prefetch = w;
          prefetchLoad = load;
        }
      }
    }
    return idle ?? prefetch;
  }

  get inFlight(): number {
    let n = 0;
    for (const w of this.#workers) n += w.load;
    return n;
  }
}
