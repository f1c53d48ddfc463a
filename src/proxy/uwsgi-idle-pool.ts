/** Idle keep-alive connections to one Berth uwsgi backend: the ones whose last response carried the keep-alive marker, kept for the next request. */
import type net from 'node:net';

/** Idle connections kept per backend; more are reset when their response ends. */
const MAX_IDLE = 64;
/**
 * How long an idle connection is kept: below the 1 s that socket-timeout (the backend's own
 * bound on an idle connection) can be at least, sweep period included, so the backend is not
 * the one to close it as a request leaves.
 */
const IDLE_TIMEOUT_MS = 500;
const SWEEP_MS = 250;

const IDLE_IN = Symbol('uwsgi idle pool');
/** A socket knows the pool it idles in, so its close can take it out. */
export type PoolableSocket = net.Socket & { [IDLE_IN]?: UwsgiIdlePool | null; idleSince?: number };

/**
 * Last in, first out (the warmest connection; the others age out); one sweep timer per pool,
 * running only while something is idle.
 */
export class UwsgiIdlePool {
  readonly #idle: PoolableSocket[] = [];
  #closed = false;
  #sweep: NodeJS.Timeout | null = null;

  /** An idle connection the backend has not closed, or null. */
  take(): PoolableSocket | null {
    while (this.#idle.length > 0) {
      const s = this.#idle.pop()!;
      s[IDLE_IN] = null;
      if (!s.destroyed && s.readable && s.writable) return s;
      s.destroy();
    }
    return null;
  }

  /** Keeps `s` for the next request; false when it cannot be kept (full, closed): the caller closes it. */
  give(s: PoolableSocket): boolean {
    if (this.#closed || this.#idle.length >= MAX_IDLE) return false;
    // Read while idle, so a close or stray bytes from the backend are seen at once.
    if (s.isPaused()) s.resume();
    s[IDLE_IN] = this;
    s.idleSince = performance.now();
    this.#idle.push(s);
    this.#sweep ??= setInterval(() => this.#expire(), SWEEP_MS).unref();
    return true;
  }

  /** `s` closed or misbehaved while idle: it is no longer offered. */
  static forget(s: PoolableSocket): void {
    const pool = s[IDLE_IN];
    if (pool === undefined || pool === null) return;
    s[IDLE_IN] = null;
    const i = pool.#idle.lastIndexOf(s);
    if (i !== -1) pool.#idle.splice(i, 1);
  }

  static isIdle(s: PoolableSocket): boolean {
    return s[IDLE_IN] !== undefined && s[IDLE_IN] !== null;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  #expire(): void {
    const limit = performance.now() - IDLE_TIMEOUT_MS;
    let n = 0;
    while (n < this.#idle.length && this.#idle[n]!.idleSince! <= limit) n++;
    for (const s of this.#idle.splice(0, n)) {
      s[IDLE_IN] = null;
      s.destroy();
    }
    if (this.#idle.length === 0 && this.#sweep !== null) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
  }

  /** Closes the idle connections (a reload replaced the group, or Berth stops); busy ones close or come back to a closed pool. */
  close(): void {
    this.#closed = true;
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
    for (const s of this.#idle.splice(0)) {
      s[IDLE_IN] = null;
      s.destroy();
    }
  }
}
