/**
 * Staged workers waiting for their READY: a reload or a replacement asks wait(w) and gets true
 * on READY, false when the worker exits first, is not ready within the boot timeout, or the
 * master stops (cancelAll). The workforce reports READY and exits; nothing here polls.
 */
import type { WorkerHandle } from '../worker/handle.js';

/** How long a new generation's workers may take to import the app and report READY. */
export const BOOT_TIMEOUT_MS = 120_000;

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export class ReadyGate {
  readonly #waiters = new Map<WorkerHandle, { readonly resolve: (ready: boolean) => void; readonly timer: NodeJS.Timeout }>();
  readonly #log: Log;

  constructor(log: Log) {
    this.#log = log;
  }

  /** Resolves true once `w` is READY; false if it cannot be (see above). */
  wait(w: WorkerHandle): Promise<boolean> {
    if (w.state === 'READY') return Promise.resolve(true);
    if (w.state !== 'STARTING') return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(w);
        this.#log('error', `worker ${w.slot} (pid ${w.pid}) was not ready after ${BOOT_TIMEOUT_MS / 1000} s; stopping it`);
        resolve(false);
      }, BOOT_TIMEOUT_MS);
      this.#waiters.set(w, { resolve, timer });
    });
  }

  /** Something waits for `w`'s READY (it is staged: its reload decides about it). */
  waiting(w: WorkerHandle): boolean {
    return this.#waiters.has(w);
  }

  ready(w: WorkerHandle): void {
    this.#settle(w, true);
  }

  exited(w: WorkerHandle): void {
    this.#settle(w, false);
  }

  cancelAll(): void {
    for (const w of [...this.#waiters.keys()]) this.#settle(w, false);
  }

  #settle(w: WorkerHandle, ready: boolean): void {
    const waiter = this.#waiters.get(w);
    if (waiter === undefined) return;
    this.#waiters.delete(w);
    clearTimeout(waiter.timer);
    waiter.resolve(ready);
  }
}
