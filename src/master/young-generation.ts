/** Keeps the serving master's young generation at the size V8 starts it with. */
import { setFlagsFromString } from 'node:v8';

/**
 * Why: under load V8 doubles the young generation up to 2 × 8 MiB semi-spaces, and the pages
 * it touched stay resident: 6 MiB of the master's private memory after a minute of requests,
 * for objects that live one request. --semi-space-growth-factor is read each time V8 considers
 * growing, so setting it at run time works (--max-semi-space-size, fixed when the heap is
 * made, would need a flag on node's command line). Measured in docs/benchmarks.md: the
 * master's CPU per request did not move, since scavenge cost follows the survivors, not the
 * space.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
