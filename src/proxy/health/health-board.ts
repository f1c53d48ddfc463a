/**
 * The active health of the backends of one upstream group: a state machine per backend, fed
 * with probe results.
 *
 * Theory of operation. Each backend is in one of three states:
 *
 *   state      trusted   pass                      fail
 *   unknown    no        → up                      stays unknown
 *   up         yes       stays up (failures := 0)  fall-th failure in a row → down
 *   down       no        rise-th pass in a row → up   stays down (passes := 0)
 *
 * A backend starts unknown: it is not trusted until its first check passes (Caddy trusts a new
 * backend until a check fails; a backend still starting would get requests it cannot answer).
 * `forget(i)` puts a backend back to unknown, for one known to have restarted. Only the
 * caller's timers and probes make results; this module has no I/O and no clock.
 */
import type { HealthSpec } from '../../config/health-spec.js';

export type HealthState = 'unknown' | 'up' | 'down';

export interface HealthChange {
  readonly index: number;
  readonly from: HealthState;
  readonly to: HealthState;
  /** The last probe's detail (`status 503`, `connect ECONNREFUSED`, `timeout after 2000ms`). */
  readonly detail: string;
}

interface Track {
  state: HealthState;
  /** Passes in a row while down, failures in a row while up. */
  streak: number;
  lastDetail: string;
}

export class HealthBoard {
  readonly spec: HealthSpec;
  readonly #tracks: Track[];

  constructor(spec: HealthSpec, backendCount: number) {
    this.spec = spec;
    this.#tracks = Array.from({ length: backendCount }, () => ({ state: 'unknown' as HealthState, streak: 0, lastDetail: 'not checked yet' }));
  }

  get size(): number {
    return this.#tracks.length;
  }

  /** Whether backend `i` may get requests as far as active checks know. */
  isTrusted(i: number): boolean {
    return this.#tracks[i]?.state === 'up';
  }

  state(i: number): HealthState {
    return this.#track(i).state;
  }

  lastDetail(i: number): string {
    return this.#track(i).lastDetail;
  }

  /** Records one probe result; returns the change it caused (for the log), or null. */
  onResult(i: number, ok: boolean, detail: string): HealthChange | null {
    const t = this.#track(i);
    t.lastDetail = detail;
    const from = t.state;
    if (t.state === 'unknown') {
      if (ok) t.state = 'up';
    } else if (t.state === 'up') {
      t.streak = ok ? 0 : t.streak + 1;
      if (t.streak >= this.spec.fall) t.state = 'down';
    } else {
      t.streak = ok ? t.streak + 1 : 0;
      if (t.streak >= this.spec.rise) t.state = 'up';
    }
    if (t.state === from) return null;
    t.streak = 0;
    return { index: i, from, to: t.state, detail };
  }

  /** Backend `i` takes the state of backend `j` of `other` (the same backend in the group a reload replaced). */
  adopt(i: number, other: HealthBoard, j: number): void {
    const t = this.#track(i);
    const o = other.#track(j);
    t.state = o.state;
    t.streak = o.streak;
    t.lastDetail = o.lastDetail;
  }

  /** Back to unknown (untrusted until a check passes), e.g. for a backend known to have restarted. */
  forget(i: number): void {
    const t = this.#track(i);
    t.state = 'unknown';
    t.streak = 0;
  }

  #track(i: number): Track {
    const t = this.#tracks[i];
    if (t === undefined) throw new RangeError(`no backend ${i} in a group of ${this.#tracks.length}`);
    return t;
  }
}
