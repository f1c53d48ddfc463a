/**
 * The crash-loop policy per worker slot: respawn delays, then FATAL with the last traceback.
 *
 * Theory of operation: the crash-loop policy, per worker slot. The arbiter reports every
 * unexpected worker exit (not a retirement it asked for) with the worker's start and exit
 * times; the policy answers how long to wait before respawning the slot, or that the slot —
 * or, when every slot is in that state, the whole app — is FATAL and must not be respawned.
 *
 * A *fast crash* is an exit within fastCrashMs of the worker's start, or before the worker ever
 * reported READY (an app that needs 3 s to import and then segfaults is crash-looping too).
 * This is supervisor's `startsecs` idea: a process must stay up a moment to count as started.
 * Consecutive fast crashes back off exponentially (initialDelayMs, ×2 each, capped at
 * maxDelayMs), so a broken deploy does not fork hundreds of interpreters a second the way
 * uWSGI's respawn loop can. fatalAfter consecutive fast crashes that all happened within
 * windowMs make the slot FATAL (supervisor's `startretries` → FATAL). A worker that lived past
 * fastCrashMs after READY proves the slot can work: its exit resets the count and the slot is
 * respawned at once.
 *
 * Pure: no timers, no clock of its own — times come in the facts; reset() clears everything
 * (after a reload with new code, FATAL slots deserve another chance).
 */

export interface CrashBackoffOptions {
  /** Number of worker slots (1…slots); "the whole app is FATAL" means all of them are. */
  readonly slots: number;
  /** An exit sooner than this after spawn is a fast crash (default 1000 ms). */
  readonly fastCrashMs?: number;
  /** Delay after the first fast crash (default 100 ms); doubles with each consecutive one. */
  readonly initialDelayMs?: number;
  /** Ceiling for the delay (default 5000 ms). */
  readonly maxDelayMs?: number;
  /** This many consecutive fast crashes within windowMs make the slot FATAL (default 5). */
  readonly fatalAfter?: number;
  /** (default 60_000 ms). */
  readonly windowMs?: number;
}

export interface WorkerExit {
  readonly slot: number;
  readonly spawnedAtMs: number;
  readonly exitedAtMs: number;
  /** Whether the worker reported READY before it died. */
  readonly wasReady: boolean;
  /** How it died, in words, for the FATAL reason: "exit code 1", "killed by SIGSEGV". */
  readonly how?: string;
}

export type CrashDecision =
  | { readonly kind: 'respawn'; readonly delayMs: number; readonly fastCrashes: number }
  | { readonly kind: 'fatal'; readonly scope: 'slot' | 'app'; readonly reason: string };

export const CRASH_BACKOFF_DEFAULTS = {
  fastCrashMs: 1000,
  initialDelayMs: 100,
  maxDelayMs: 5000,
  fatalAfter: 5,
  windowMs: 60_000,
} as const;

interface SlotRecord {
  /** Length of the current run of consecutive fast crashes (sets the delay). */
  run: number;
  /** Exit times of that run's crashes within the window (decides FATAL); older ones are dropped. */
  recent: number[];
  fatal: boolean;
}

export class CrashBackoff {
  readonly #fastCrashMs: number;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #fatalAfter: number;
  readonly #windowMs: number;
  #slots: number;
  readonly #records = new Map<number, SlotRecord>();

  constructor(options: CrashBackoffOptions) {
    const d = CRASH_BACKOFF_DEFAULTS;
    this.#slots = options.slots;
    this.#fastCrashMs = options.fastCrashMs ?? d.fastCrashMs;
    this.#initialDelayMs = options.initialDelayMs ?? d.initialDelayMs;
    this.#maxDelayMs = options.maxDelayMs ?? d.maxDelayMs;
    this.#fatalAfter = Math.max(1, options.fatalAfter ?? d.fatalAfter);
    this.#windowMs = options.windowMs ?? d.windowMs;
  }

  /** The worker count changed (TTIN/TTOU); slots above the new count are forgotten. */
  setSlots(slots: number): void {
    this.#slots = slots;
    for (const slot of this.#records.keys()) if (slot > slots) this.#records.delete(slot);
  }

  exited(e: WorkerExit): CrashDecision {
    const rec = this.#record(e.slot);
    const livedMs = e.exitedAtMs - e.spawnedAtMs;
    if (e.wasReady && livedMs >= this.#fastCrashMs) {
      rec.run = 0;
      rec.recent = [];
      rec.fatal = false;
      return { kind: 'respawn', delayMs: 0, fastCrashes: 0 };
    }
    rec.run++;
    rec.recent = rec.recent.filter((t) => e.exitedAtMs - t <= this.#windowMs);
    rec.recent.push(e.exitedAtMs);
    const recent = rec.recent.length;
    if (recent >= this.#fatalAfter) {
      rec.fatal = true;
      return { kind: 'fatal', scope: this.#allFatal() ? 'app' : 'slot', reason: this.#reason(e, recent) };
    }
    const delayMs = Math.min(this.#maxDelayMs, this.#initialDelayMs * 2 ** Math.min(rec.run - 1, 30));
    return { kind: 'respawn', delayMs, fastCrashes: rec.run };
  }

  /** A worker of this slot proved healthy some other way (e.g. it served requests): start over. */
  resetSlot(slot: number): void {
    this.#records.delete(slot);
  }

  /** Forget every crash and FATAL state (after a reload, new code deserves a fresh start). */
  reset(): void {
    this.#records.clear();
  }

  isFatal(slot: number): boolean {
    return this.#records.get(slot)?.fatal ?? false;
  }

  /** Slots currently FATAL, in order. */
  get fatalSlots(): number[] {
    return [...this.#records].filter(([, r]) => r.fatal).map(([slot]) => slot).sort((a, b) => a - b);
  }

  #allFatal(): boolean {
    for (let slot = 1; slot <= this.#slots; slot++) if (!this.isFatal(slot)) return false;
    return true;
  }

  #record(slot: number): SlotRecord {
    let rec = this.#records.get(slot);
    if (rec === undefined) {
      rec = { run: 0, recent: [], fatal: false };
      this.#records.set(slot, rec);
    }
    return rec;
  }

  #reason(e: WorkerExit, count: number): string {
    const how = e.how !== undefined ? ` (last: ${e.how})` : '';
    const within = this.#windowMs % 1000 === 0 ? `${this.#windowMs / 1000} s` : `${this.#windowMs} ms`;
    const head = `worker ${e.slot} crashed ${count} times in a row within ${within}, each before it was ready or within ${this.#fastCrashMs} ms of starting${how}`;
    const what = this.#allFatal()
      ? 'every worker slot is crash-looping, so Berth stops'
      : `Berth stops respawning slot ${e.slot}; the other workers keep serving`;
    return `${head}: ${what}. Fix: read the worker's output above for the cause, then reload (SIGHUP) or restart Berth`;
  }
}
