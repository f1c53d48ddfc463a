/**
 * The walk nginx's ip_hash and hash use to turn a number into a backend: `w = n mod total
 * weight`, then step through the backends subtracting weights until `w` fits. A backend of
 * weight 3 owns three consecutive slots, so the mapping is weighted and stable.
 */
import type { BackendView } from './types.js';

export function totalWeight(backends: readonly BackendView[]): number {
  let total = 0;
  for (const b of backends) total += b.weight;
  return total;
}

/** The backend owning slot `n mod total`; `total` must be positive. */
export function weightedSlot(backends: readonly BackendView[], n: number, total: number): BackendView {
  let w = n % total;
  let i = 0;
  while (w >= backends[i]!.weight) {
    w -= backends[i]!.weight;
    i++;
  }
  return backends[i]!;
}
