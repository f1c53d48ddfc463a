/**
 * Picks a backend of an upstream group: the one interface every balancing policy implements.
 *
 * Theory of operation: a balancer is pure apart from its own counters — it sees a view of the
 * backends (weight, backup, whether passive health lets it serve, requests in flight) and
 * returns an index, or null when none may serve. `exclude` holds the backends this request
 * has already tried. Only nginx's smooth weighted round robin lives here for now: each pick
 * adds every candidate's weight to its current weight, takes the largest, and subtracts the
 * total from the winner (ngx_http_upstream_round_robin.c's algorithm, so 5/1/1 picks
 * a a b a c a a). Backups are candidates only when no primary is.
 */
export interface BackendView { readonly index: number; readonly weight: number; readonly backup: boolean; readonly available: boolean; readonly active: number }
export type BalanceSpec = { readonly kind: 'round-robin' } | { readonly kind: 'least-conn' } | { readonly kind: 'ip-hash' } | { readonly kind: 'hash'; readonly key: string; readonly consistent: boolean } | { readonly kind: 'random-two' };
export interface Balancer { pick(backends: readonly BackendView[], key: string | null, exclude: ReadonlySet<number>): number | null }

class SmoothWeightedRoundRobin implements Balancer {
  /** Current weight per backend index. */
  readonly #current = new Map<number, number>();

  pick(backends: readonly BackendView[], _key: string | null, exclude: ReadonlySet<number>): number | null {
    return this.#pickAmong(backends, false, exclude) ?? this.#pickAmong(backends, true, exclude);
  }

  #pickAmong(backends: readonly BackendView[], backup: boolean, exclude: ReadonlySet<number>): number | null {
    let total = 0;
    let best: BackendView | null = null;
    let bestWeight = -Infinity;
    for (const b of backends) {
      if (b.backup !== backup || !b.available || exclude.has(b.index)) continue;
      const w = (this.#current.get(b.index) ?? 0) + b.weight;
      this.#current.set(b.index, w);
      total += b.weight;
      if (w > bestWeight) {
        best = b;
        bestWeight = w;
      }
    }
    if (best === null) return null;
    this.#current.set(best.index, bestWeight - total);
    return best.index;
  }
}

export function makeBalancer(spec: BalanceSpec): Balancer {
  // The other policies arrive with the balancing work; until then every spec balances this way.
  void spec;
  return new SmoothWeightedRoundRobin();
}
