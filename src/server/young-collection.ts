/** A young-generation collection on demand, for paths that make socket-read garbage by the MiB. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Why: every socket read is a fresh 64 KiB Buffer, and V8 frees young backing stores only at a
 * scavenge, which it forces once they reach twice the default semi-space (32 MiB), whatever
 * --max-semi-space-size says. Relaying a 75 MB upload thus let the master's RSS climb by
 * 35–43 MiB. A scavenge of a young generation holding little else costs about a millisecond.
 * `gc` is taken from a fresh context with --expose-gc on only for that moment, so the app-facing
 * global stays absent.
 */
export type Collect = (options?: { type: 'minor' }) => void;

function takeCollector(): Collect | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as Collect) : null;
  } catch {
    return null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

// Taken at the first use: the fresh context (~150 KiB) costs memory that a master never collecting keeps for nothing.
let collect: Collect | null | undefined;

/** V8's `gc` (one fresh context for every caller in the process), or null if this V8 refuses the flag. */
export function collector(): Collect | null {
  if (collect === undefined) collect = takeCollector();
  return collect;
}

/** Bytes of read garbage after which a body being spooled asks for a young collection. */
export const YOUNG_COLLECTION_BYTES = 4 << 20;

export function collectYoungGarbage(): void {
  collector()?.({ type: 'minor' });
}

let unswept = 0;

/**
 * Counts `bytes` of read garbage made by a relay (the proxy's response and request bodies),
 * across all relays of the process, and asks for a young collection every
 * YOUNG_COLLECTION_BYTES: a 1 GB proxied response otherwise let the front's RSS climb by tens
 * of MiB more than a 10 MB one did.
 */
export function noteReadGarbage(bytes: number): void {
  unswept += bytes;
  if (unswept < YOUNG_COLLECTION_BYTES) return;
  unswept = 0;
  collectYoungGarbage();
}
