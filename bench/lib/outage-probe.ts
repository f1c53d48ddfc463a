// A light side client for the reload bench: one GET at a time on a new
// connection, every intervalMs, next to wrk. wrk's error counts depend on how fast
// it reconnects (it counts a refused connection as a *write* error, once per
// attempt, in a tight loop), so they say "something failed" but not for how long.
// The probe answers that: how many of its requests failed, and the longest time
// between two successful answers (the worst outage a client saw).

import { request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface ProbeStats {
  sent: number;
  failed: number;
  /** Failures by kind: an HTTP status, "refused", "reset", "timeout", or another error code. */
  byKind: Record<string, number>;
  /** Longest time from one successful answer to the next, in ms. */
  longestGapMs: number;
}

function once(port: number, path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode !== undefined && res.statusCode < 400 ? 'ok' : String(res.statusCode)));
      res.on('error', () => resolve('reset'));
    });
    req.on('timeout', () => { req.destroy(); resolve('timeout'); });
    req.on('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code === 'ECONNREFUSED' ? 'refused' : err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : err.code ?? 'error');
    });
    req.end();
  });
}

export class OutageProbe {
  #running = false;
  #done: Promise<void> = Promise.resolve();
  readonly #stats: ProbeStats = { sent: 0, failed: 0, byKind: {}, longestGapMs: 0 };

  constructor(readonly port: number, readonly path: string, readonly intervalMs = 50, readonly timeoutMs = 5000) {}

  start(): void {
    this.#running = true;
    this.#done = this.#loop();
  }

  async stop(): Promise<ProbeStats> {
    this.#running = false;
    await this.#done;
    return this.#stats;
  }

  async #loop(): Promise<void> {
    let lastOk = performance.now();
    while (this.#running) {
      const t0 = performance.now();
      const outcome = await once(this.port, this.path, this.timeoutMs);
      this.#stats.sent++;
      const now = performance.now();
      if (outcome === 'ok') {
        this.#stats.longestGapMs = Math.max(this.#stats.longestGapMs, now - lastOk);
        lastOk = now;
      } else {
        this.#stats.failed++;
        this.#stats.byKind[outcome] = (this.#stats.byKind[outcome] ?? 0) + 1;
      }
      const wait = this.intervalMs - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    // A failure streak still running at the end counts too.
    this.#stats.longestGapMs = Math.max(this.#stats.longestGapMs, performance.now() - lastOk);
  }
}
