/** The types the balancing policies share: a backend as a policy sees it, the policy choice, the interface. */

export interface BackendView { readonly index: number; readonly weight: number; readonly backup: boolean; readonly available: boolean; readonly active: number }
export type BalanceSpec = { readonly kind: 'round-robin' } | { readonly kind: 'least-conn' } | { readonly kind: 'ip-hash' } | { readonly kind: 'hash'; readonly key: string; readonly consistent: boolean } | { readonly kind: 'random-two' };
export interface Balancer { pick(backends: readonly BackendView[], key: string | null, exclude: ReadonlySet<number>): number | null }

/**
 * A BackendView that also says how nginx would name it in `server` (`10.0.0.5:9001`,
 * `unix:/run/app.sock`): the consistent hash derives its ring points from that name, so a ring
 * built from the same names as nginx's sends each key to the same backend. Without a name the
 * index stands in (still consistent, not nginx's ring).
 */
export interface NamedBackendView extends BackendView { readonly name: string }

export type Usable = (b: BackendView) => boolean;

/** One policy over one tier: picks a usable backend of `tier`, or null (balancer.ts explains tiers). */
export type TierPolicy = (tier: readonly BackendView[], usable: Usable, key: string | null) => number | null;

