/** Gives the master's dead old-generation pages back to the system once it is idle. */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { collector } from '../server/young-collection.js';

/**
 * Why: start-up (config, validation, the front's tables) and every burst of requests leave
 * dead objects in the old generation, and V8 returns old-space pages only when a major
 * collection compacts them. V8's own memory reducer starts only after a major collection
 * that the heap's growth forced, which a master that allocates little per request may never
 * reach: measured, its private memory stayed 4–5 MiB above what one compaction leaves, for
 * as long as it ran (docs/benchmarks.md, "issue 16 item 5: where the master's memory goes,
 * again"). So: one compacting collection (about 1–10 ms) each time the master goes idle
 * after work (start-up counts as work): a check found the event loop busy, a later whole check
 * found it nearly idle. Under load the loop is busy and nothing runs: the hot path never sees
 * it. Not at start itself: a compacted heap has no free holes for what the first requests
 * promote, and V8 then grew the old space by 6–8 MiB more under load before collecting
 * (measured in the same section).
 */
export const IDLE_CHECK_MS = 5000;
/** Share of a check's wall time the event loop may have been busy and still count as idle. */
export const IDLE_UTILIZATION = 0.05;

/** One full collection that moves live objects together, so the emptied pages are released. */
export function compactOldGeneration(): void {
  const collect = collector();
  if (collect === null) return;
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    // Without options: Node 20's V8 does not run a full collection for { type: 'major' } (measured).
    collect();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

/** One check's verdict: compact when the loop was idle over the check after work since the last compaction. */
export function idleStep(worked: boolean, busy: number): { worked: boolean; compact: boolean } {
  if (busy > IDLE_UTILIZATION) return { worked: true, compact: false };
  return { worked: false, compact: worked };
}

export class IdleCompaction {
  #timer: NodeJS.Timeout | null = null;
  #loop: EventLoopUtilization = performance.eventLoopUtilization();
  /** Whether the loop was busy since the last compaction (start-up was): the garbage of that work is still there. */
  #worked = true;

  /** Checks every IDLE_CHECK_MS from now on; never keeps the process alive. */
  start(): void {
    if (this.#timer !== null) return;
    this.#loop = performance.eventLoopUtilization();
    this.#timer = setInterval(() => this.#check(), IDLE_CHECK_MS).unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #check(): void {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, this.#loop).utilization;
    this.#loop = now;
    const step = idleStep(this.#worked, busy);
    this.#worked = step.worked;
    if (!step.compact) return;
    compactOldGeneration();
    // The collection's own time is not the next check's work.
    this.#loop = performance.eventLoopUtilization();
  }
}
