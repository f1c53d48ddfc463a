/**
 * The requests workers serve themselves (uwsgi-direct, http-direct), counted for a graceful
 * stop: the master routes none of them, so it asks each worker for its DIRECT report once, at
 * the stop, instead of tracking every request as it starts (no cost on the hot path).
 */
import type { WorkerHandle } from '../worker/handle.js';

/** How long a stop waits for the workers' reports before it states what it waits for. */
export const DIRECT_REPORT_WAIT_MS = 250;

/** Ask every ready worker for its report now; settles when all came, or after waitMs. */
export async function refreshDirectReports(workers: Iterable<WorkerHandle>, waitMs: number = DIRECT_REPORT_WAIT_MS): Promise<void> {
  await Promise.all([...workers].filter((w) => w.state === 'READY').map((w) => w.askDirectReport(waitMs)));
}

/** Requests running in the workers at their last reports. */
export function directInFlight(workers: Iterable<WorkerHandle>): number {
  let n = 0;
  for (const w of workers) n += w.directRunning.running.length;
  return n;
}
