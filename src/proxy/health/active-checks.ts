/**
 * The runner of active health checks: one timer per backend probes it every interval and feeds
 * the result to the group's HealthBoard. A probe never overlaps the next one of the same
 * backend (the next is scheduled when the last ends), and stop() cancels every timer, so a
 * stopped group leaves nothing behind. The first round starts at once: a new backend is
 * untrusted until it passes, so the sooner the better.
 */
import type { HealthBoard, HealthChange } from './health-board.js';
import { probeBackend, type Probe, type ProbeTarget } from './probes.js';

export interface ActiveChecks {
  stop(): void;
}

export interface ActiveCheckOptions {
  /** Called on each change of state, for the log line ("backend 10.0.0.5:9001 of api is down: status 503"). */
  readonly onChange?: (change: HealthChange) => void;
  /** The probe; tests and the proxy may pass their own. */
  readonly probe?: Probe;
}

/** `targets[i]` is backend i of `board`. */
export function startActiveChecks(board: HealthBoard, targets: readonly ProbeTarget[], options: ActiveCheckOptions = {}): ActiveChecks {
  if (targets.length !== board.size) throw new RangeError(`${targets.length} targets for a board of ${board.size} backends`);
  const probe = options.probe ?? probeBackend;
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const round = (i: number): void => {
    void probe(targets[i]!, board.spec).then(
      (result) => result,
      (err: unknown) => ({ ok: false, detail: `probe failed: ${String(err)}` }),
    ).then((result) => {
      if (stopped) return;
      const change = board.onResult(i, result.ok, result.detail);
      if (change !== null) options.onChange?.(change);
      const timer = setTimeout(() => {
        timers.delete(timer);
        round(i);
      }, board.spec.intervalMs);
      timers.add(timer);
    });
  };

  for (let i = 0; i < targets.length; i++) round(i);
  return {
    stop(): void {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
