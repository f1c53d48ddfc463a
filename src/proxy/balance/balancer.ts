/**
 * The balancing policies of an upstream group behind one interface: which backend gets the
 * next attempt of a request. Pure: no sockets, no timers; randomness is injected.
 *
 * Theory of operation. The caller describes each backend as a BackendView (its index in the
 * group, weight, backup flag, whether health lets it serve, requests in flight) and passes the
 * backends this request already tried in `exclude`. Backends are split into two tiers, as
 * nginx's `backup` does: the primaries, and the backups, which are consulted only when no
 * primary is usable (available and not excluded). Each policy sees one whole tier, usable or
 * not, because the hash policies must map a key onto the same positions whatever is down; it
 * picks only a usable backend, or null. null from the balancer means nothing is left: the
 * caller answers 502/503 at once.
 *
 * A balancer keeps state between picks (the smooth round-robin weights, the consistent-hash
 * ring), so make one per group and keep it for the group's life.
 */
import { SmoothWeighted } from './smooth-weighted.js';
import { ipHashPolicy, keyHashPolicy } from './hash-policies.js';
import { ConsistentHashPolicy } from './consistent-hash.js';

export type { BackendView, BalanceSpec, Balancer, NamedBackendView, TierPolicy, Usable } from './types.js';
import type { BackendView, BalanceSpec, Balancer, TierPolicy, Usable } from './types.js';

/** `random` returns a float in [0, 1) as Math.random does; tests pass a seeded one. */
export function makeBalancer(spec: BalanceSpec, random: () => number = Math.random): Balancer {
  return new TieredBalancer(policyFor(spec, random));
}

function policyFor(spec: BalanceSpec, random: () => number): TierPolicy {
  const rr = new SmoothWeighted();
  const roundRobin: TierPolicy = (tier, usable) => rr.pick(tier, usable);
  switch (spec.kind) {
    case 'round-robin': return roundRobin;
    case 'least-conn': return (tier, usable) => leastConn(rr, tier, usable);
    case 'ip-hash': return (tier, usable, key) => ipHashPolicy(tier, usable, key) ?? rr.pick(tier, usable);
    case 'hash': {
      if (spec.consistent) {
        const ring = new ConsistentHashPolicy();
        return (tier, usable, key) => ring.pick(tier, usable, key) ?? rr.pick(tier, usable);
      }
      return (tier, usable, key) => keyHashPolicy(tier, usable, key) ?? rr.pick(tier, usable);
    }
    case 'random-two': return (tier, usable) => randomTwo(tier, usable, random);
  }
}

/** The test of a first attempt (nothing tried yet): one function for all, not a closure per pick. */
const isAvailable: Usable = (b) => b.available;

class TieredBalancer implements Balancer {
  readonly #policy: TierPolicy;

  constructor(policy: TierPolicy) {
    this.#policy = policy;
  }

  pick(backends: readonly BackendView[], key: string | null, exclude: ReadonlySet<number>): number | null {
    const usable: Usable = exclude.size === 0 ? isAvailable : (b) => b.available && !exclude.has(b.index);
    let anyBackup = false;
    let primaryUsable = false;
    for (const b of backends) {
      if (b.backup) anyBackup = true;
      else if (usable(b)) primaryUsable = true;
    }
    if (!anyBackup) return primaryUsable ? this.#policy(backends, usable, key) : null;
    const tier = backends.filter((b) => b.backup !== primaryUsable);
    return tier.some(usable) ? this.#policy(tier, usable, key) : null;
  }
}

/** nginx least_conn: the fewest requests in flight per unit of weight; ties share by smooth round robin. */
function leastConn(rr: SmoothWeighted, tier: readonly BackendView[], usable: Usable): number | null {
  let best: BackendView | null = null;
  for (const b of tier) {
    if (usable(b) && (best === null || b.active * best.weight < best.active * b.weight)) best = b;
  }
  if (best === null) return null;
  const least = best;
  return rr.pick(tier, (b) => usable(b) && b.active * least.weight === least.active * b.weight);
}

/**
 * Power of two choices (nginx `random two least_conn`): two different usable backends drawn at
 * random in proportion to weight, and the one with fewer requests in flight per unit of weight
 * wins. On a tie the first drawn wins, so an idle group is shared exactly by weight (nginx keeps
 * the second, which leans towards the light backends).
 */
function randomTwo(tier: readonly BackendView[], usable: Usable, random: () => number): number | null {
  const pool = tier.filter(usable);
  if (pool.length <= 1) return pool.length === 1 ? pool[0]!.index : null;
  const first = drawWeighted(pool, random, null);
  const second = drawWeighted(pool, random, first);
  return second.active * first.weight < first.active * second.weight ? second.index : first.index;
}

function drawWeighted(pool: readonly BackendView[], random: () => number, skip: BackendView | null): BackendView {
  let total = 0;
  for (const b of pool) if (b !== skip) total += b.weight;
  let x = random() * total;
  let last = pool[0]!;
  for (const b of pool) {
    if (b === skip) continue;
    last = b;
    if (x < b.weight) return b;
    x -= b.weight;
  }
  return last;
}
