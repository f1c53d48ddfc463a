/**
 * nginx's smooth weighted round robin (ngx_http_upstream_get_peer): each candidate's current
 * weight grows by its weight, the largest wins and gives back the total. Weights 5/1/1 give
 * `a a b a c a a`: the heavy backend's turns are spread out, never bursts of five.
 */
import type { BackendView } from './types.js';

export class SmoothWeighted {
  /** Current weight by backend index; a backend never seen starts at 0, as nginx's do. */
  readonly #current = new Map<number, number>();

  /**
   * Picks among the backends `candidate` accepts; null when none does. Only the candidates'
   * current weights move, as nginx skips tried, down and failed peers before adding.
   */
  pick(backends: readonly BackendView[], candidate: (b: BackendView) => boolean): number | null {
    let best: BackendView | null = null;
    let bestCurrent = 0;
    let total = 0;
    for (const b of backends) {
      if (!candidate(b)) continue;
      const current = (this.#current.get(b.index) ?? 0) + b.weight;
      this.#current.set(b.index, current);
      total += b.weight;
      if (best === null || current > bestCurrent) {
        best = b;
        bestCurrent = current;
      }
    }
    if (best === null) return null;
    this.#current.set(best.index, bestCurrent - total);
    return best.index;
  }
}
