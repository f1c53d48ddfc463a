/**
 * The self-healing policy for live workers: harakiri, max-requests, lifetime, reload-on-rss.
 *
 * Theory of operation: the watchdog is the self-healing policy for live workers. The arbiter
 * calls check() about once a second with one WorkerFacts per live worker and the clock; the
 * watchdog answers with actions and does nothing itself (no signals, no timers), so every rule
 * is testable with a fake clock.
 *
 * - harakiri: a worker whose oldest in-flight request has run longer than harakiriMs is hung;
 *   the arbiter kills it (uWSGI `harakiri`). Applies in every state, also while it drains after
 *   a recycle, and regardless of min-worker-lifetime.
 * - recycle: a worker past one of its limits is replaced gracefully: the arbiter spawns the
 *   replacement, and retires the old worker once the new one is READY, so capacity never drops.
 *     max-requests         requests served ≥ maxRequests + (slot − 1) × maxRequestsDelta, so with
 *                          a delta the workers (slots 1…N) reach their limit at different times
 *                          (uWSGI computes the same threshold per worker id);
 *     reload-on-rss        resident memory ≥ reloadOnRssBytes (RSS is read only when enabled);
 *                          the backstop: the worker itself checks after every request and
 *                          asks for its replacement at once (RECYCLE, workforce.replace);
 *     max-worker-lifetime  alive ≥ maxWorkerLifetimeMs.
 *   Like uWSGI, no worker is recycled (harakiri aside) before minWorkerLifetimeMs, so a leak
 *   that is immediate cannot turn into a respawn storm.
 *
 * Unlike uWSGI, where every worker decides alone, recycles are paced: at most
 * maxConcurrentRecycles (default 1) at a time. A recycle counts as under way while the
 * recycled pid is still alive (it is draining) or any worker is STARTING; workers that came
 * due meanwhile wait for the next check. Pacing keeps one extra process's memory and one app
 * boot at a time, and staggers workers that were spawned together (max-worker-lifetime) or
 * served evenly (max-requests without a delta). Only the newest generation is recycled: older
 * generations are already being replaced by a reload. A pid is never recycled twice, nor
 * harakiri'd twice; what the watchdog remembers about a pid is dropped once it is gone.
 */
import type { WorkerState } from '../worker/lifecycle.js';
import { formatMegabytes, readRssBytes } from '../worker/proc-memory.js';

/** What the arbiter knows about one live worker. All times use the clock passed to check(). */
export interface WorkerFacts {
  readonly slot: number;
  readonly pid: number;
  readonly generation: number;
  readonly spawnedAtMs: number;
  readonly requestsServed: number;
  /** Start of the oldest request the worker is still running; Infinity when it is idle. */
  readonly oldestInFlightSinceMs: number;
  readonly state: WorkerState;
  /** Resident memory if the caller already knows it; otherwise read through readRssBytes. */
  readonly rssBytes?: number;
}

export interface WatchdogOptions {
  /** 0 = off. */
  readonly harakiriMs: number;
  /** 0 = off. */
  readonly maxRequests: number;
  readonly maxRequestsDelta: number;
  readonly minWorkerLifetimeMs: number;
  /** 0 = off. */
  readonly maxWorkerLifetimeMs: number;
  /** 0 = off. */
  readonly reloadOnRssBytes: number;
  /** How many recycles may be under way at once (default 1). */
  readonly maxConcurrentRecycles?: number;
  /** Reads a pid's RSS (default: /proc/<pid>/statm); null when the process is gone. */
  readonly readRssBytes?: (pid: number) => number | null;
}

export type RecycleCause = 'reload-on-rss' | 'max-requests' | 'max-worker-lifetime';

export type WatchdogAction =
  | { readonly kind: 'harakiri'; readonly slot: number; readonly pid: number; readonly runningMs: number; readonly limitMs: number }
  | { readonly kind: 'recycle'; readonly slot: number; readonly pid: number; readonly cause: RecycleCause; readonly reason: string };

type Recycle = Extract<WatchdogAction, { kind: 'recycle' }>;

/** When several workers are due, memory first (it may be about to run out), then requests, then age. */
const CAUSE_ORDER: readonly RecycleCause[] = ['reload-on-rss', 'max-requests', 'max-worker-lifetime'];

/** max-requests threshold of a slot (slots count from 1), as uWSGI spreads it per worker id. */
export function maxRequestsFor(slot: number, maxRequests: number, maxRequestsDelta: number): number {
  return maxRequests + (slot - 1) * maxRequestsDelta;
}

export class Watchdog {
  readonly #o: WatchdogOptions;
  readonly #readRss: (pid: number) => number | null;
  readonly #maxConcurrent: number;
  readonly #recycled = new Set<number>();
  readonly #harakiried = new Set<number>();

  constructor(options: WatchdogOptions) {
    this.#o = options;
    this.#readRss = options.readRssBytes ?? readRssBytes;
    this.#maxConcurrent = Math.max(1, options.maxConcurrentRecycles ?? 1);
  }

  /** True when at least one rule is on; the arbiter may skip the 1 s timer otherwise. */
  get enabled(): boolean {
    const o = this.#o;
    return o.harakiriMs > 0 || o.maxRequests > 0 || o.maxWorkerLifetimeMs > 0 || o.reloadOnRssBytes > 0;
  }

  check(workers: readonly WorkerFacts[], nowMs: number): WatchdogAction[] {
    this.#forgetGone(workers);
    const actions: WatchdogAction[] = [];
    for (const w of workers) {
      const h = this.#harakiri(w, nowMs);
      if (h !== null) actions.push(h);
    }
    const killed = new Set(actions.map((a) => a.pid));
    const underWay = this.#recyclesUnderWay(workers);
    const room = this.#maxConcurrent - underWay;
    if (room <= 0) return actions;
    const newest = Math.max(...workers.map((w) => w.generation));
    const due: Recycle[] = [];
    for (const w of workers) {
      if (w.state !== 'READY' || w.generation !== newest || killed.has(w.pid) || this.#recycled.has(w.pid)) continue;
      if (nowMs - w.spawnedAtMs < this.#o.minWorkerLifetimeMs) continue;
      const r = this.#recycleReason(w, nowMs);
      if (r !== null) due.push(r);
    }
    due.sort((a, b) => CAUSE_ORDER.indexOf(a.cause) - CAUSE_ORDER.indexOf(b.cause) || a.slot - b.slot);
    for (const r of due.slice(0, room)) {
      this.#recycled.add(r.pid);
      actions.push(r);
    }
    return actions;
  }

  #harakiri(w: WorkerFacts, nowMs: number): WatchdogAction | null {
    const limitMs = this.#o.harakiriMs;
    if (limitMs <= 0 || !Number.isFinite(w.oldestInFlightSinceMs) || this.#harakiried.has(w.pid)) return null;
    const runningMs = nowMs - w.oldestInFlightSinceMs;
    if (runningMs <= limitMs) return null;
    this.#harakiried.add(w.pid);
    return { kind: 'harakiri', slot: w.slot, pid: w.pid, runningMs, limitMs };
  }

  #recycleReason(w: WorkerFacts, nowMs: number): Recycle | null {
    const o = this.#o;
    const base = { kind: 'recycle', slot: w.slot, pid: w.pid } as const;
    if (o.reloadOnRssBytes > 0) {
      const rss = w.rssBytes ?? this.#readRss(w.pid);
      if (rss !== null && rss >= o.reloadOnRssBytes) {
        return { ...base, cause: 'reload-on-rss', reason: `RSS ${formatMegabytes(rss)} over reload-on-rss = ${formatMegabytes(o.reloadOnRssBytes)}` };
      }
    }
    if (o.maxRequests > 0) {
      const limit = maxRequestsFor(w.slot, o.maxRequests, o.maxRequestsDelta);
      if (w.requestsServed >= limit) {
        const spread = limit === o.maxRequests ? '' : ` + ${limit - o.maxRequests} for worker ${w.slot} (max-requests-delta = ${o.maxRequestsDelta})`;
        return { ...base, cause: 'max-requests', reason: `served ${w.requestsServed} requests (max-requests = ${o.maxRequests}${spread})` };
      }
    }
    if (o.maxWorkerLifetimeMs > 0) {
      const aliveMs = nowMs - w.spawnedAtMs;
      if (aliveMs >= o.maxWorkerLifetimeMs) {
        return { ...base, cause: 'max-worker-lifetime', reason: `alive ${Math.floor(aliveMs / 1000)} s (max-worker-lifetime = ${o.maxWorkerLifetimeMs / 1000} s)` };
      }
    }
    return null;
  }

  /** Recycled pids still draining; a STARTING worker (a replacement, a respawn) counts as one. */
  #recyclesUnderWay(workers: readonly WorkerFacts[]): number {
    const draining = workers.filter((w) => this.#recycled.has(w.pid)).length;
    const starting = workers.some((w) => w.state === 'STARTING');
    return Math.max(draining, starting ? 1 : 0);
  }

  #forgetGone(workers: readonly WorkerFacts[]): void {
    const alive = new Set(workers.map((w) => w.pid));
    for (const set of [this.#recycled, this.#harakiried]) {
      for (const pid of set) if (!alive.has(pid)) set.delete(pid);
    }
  }
}
