/**
 * The watchdog's pass, about once a second (more often with a short harakiri): it gathers the
 * live workers' facts for the pure policy in ./watchdog.ts and carries out its answers —
 * harakiri for a stuck request, a graceful replacement for a worn worker. Each pass also beats
 * the heartbeat (systemd's WATCHDOG=1 and STATUS=, ./sd-notify.ts): the same loop, so a master
 * too stuck to check harakiri stops telling systemd it is alive.
 */
import type { Config } from '../config/schema.js';
import type { WorkerHandle } from '../worker/handle.js';
import { Watchdog } from './watchdog.js';

const WATCHDOG_INTERVAL_MS = 1000;

export interface WatchLoopDeps {
  /** Every live worker of every generation. */
  workers(): Iterable<WorkerHandle>;
  /** Replace a worn worker (its replacement is READY before it retires). */
  replace(w: WorkerHandle, reason: string): void;
  /** False while starting or stopping: the pass checks no worker then. */
  active(): boolean;
  /** Called on every pass, starting included, at least every `everyMs`. */
  readonly heartbeat?: { readonly everyMs: number; beat(): void };
}

export class WatchLoop {
  readonly #deps: WatchLoopDeps;
  #timer: NodeJS.Timeout | null = null;

  constructor(deps: WatchLoopDeps) {
    this.#deps = deps;
  }

  /** (Re)start the passes with `config`'s limits; with none configured, no timer runs. */
  arm(config: Config): void {
    this.disarm();
    const watchdog = new Watchdog({
      harakiriMs: config.harakiriMs,
      maxRequests: config.maxRequests,
      maxRequestsDelta: config.maxRequestsDelta,
      minWorkerLifetimeMs: config.minWorkerLifetimeMs,
      maxWorkerLifetimeMs: config.maxWorkerLifetimeMs,
      reloadOnRssBytes: config.reloadOnRssBytes,
    });
    const beat = this.#deps.heartbeat;
    if (!watchdog.enabled && beat === undefined) return;
    const policyEvery = watchdog.enabled ? Math.max(100, config.harakiriMs / 4 || WATCHDOG_INTERVAL_MS) : WATCHDOG_INTERVAL_MS;
    this.#timer = setInterval(() => this.#pass(watchdog), Math.min(WATCHDOG_INTERVAL_MS, policyEvery, beat?.everyMs ?? WATCHDOG_INTERVAL_MS));
    this.#timer.unref();
  }

  disarm(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #pass(watchdog: Watchdog): void {
    this.#deps.heartbeat?.beat();
    if (!watchdog.enabled || !this.#deps.active()) return;
    const now = performance.now();
    const wallToMono = now - Date.now();
    const byPid = new Map<number, WorkerHandle>();
    const facts = [];
    for (const w of this.#deps.workers()) {
      if (w.pid === 0) continue;
      byPid.set(w.pid, w);
      facts.push({
        slot: w.slot, pid: w.pid, generation: w.generation, spawnedAtMs: w.spawnedAt + wallToMono,
        requestsServed: w.requestsServed, oldestInFlightSinceMs: w.oldestInFlightSince(), state: w.state,
      });
    }
    for (const action of watchdog.check(facts, now)) {
      const w = byPid.get(action.pid);
      if (w === undefined) continue;
      if (action.kind === 'harakiri') w.harakiri(action.limitMs);
      else this.#deps.replace(w, action.reason);
    }
  }
}
