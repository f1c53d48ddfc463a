/**
 * When a pipelined request may reach the app, so that side effects happen in request order.
 *
 * Theory of operation: RFC 9112 §9.3.2 lets a server handle pipelined requests in parallel
 * only when their methods are safe (RFC 9110 §9.2.1). So a request with an unsafe method
 * starts only once every earlier request on its connection has completed, and no later
 * request starts while it is unfinished; safe requests between two unsafe ones overlap
 * freely. `queue` is the connection's queue of requests in arrival order (completed ones
 * at its head are already gone); `unsafeOpen` counts unsafe entries not yet completed, so
 * the common cases (one request at a time, or only safe methods) decide without a scan.
 */

export interface PipelineEntry {
  readonly safe: boolean;
  readonly completed: boolean;
}

/** True when `entry`, ready to be dispatched, must wait for earlier requests first. */
export function mustWait(queue: readonly PipelineEntry[], entry: PipelineEntry, unsafeOpen: number): boolean {
  if (queue[0] === entry) return false;
  if (entry.safe) {
    if (unsafeOpen === 0) return false;
    for (const earlier of queue) {
      if (earlier === entry) return false;
      if (!earlier.safe && !earlier.completed) return true;
    }
    return false;
  }
  for (const earlier of queue) {
    if (earlier === entry) return false;
    if (!earlier.completed) return true;
  }
  return false;
}
