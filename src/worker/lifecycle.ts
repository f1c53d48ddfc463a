/**
 * A worker's states as one table, with the only function that moves between them.
 *
 * Theory of operation: the life of a worker is a small state table. Every change goes through
 * transition(), which refuses moves the table does not list, so a bug that would, say, route
 * requests to a worker that is already retiring throws at once instead of losing requests.
 *
 *   STARTING ──READY frame──▶ READY ──retire / harakiri──▶ RETIRING ──exit──▶ EXITED
 *
 * STARTING may also retire (→ RETIRING), and STARTING or READY may exit at any time (a crash,
 * a kill → EXITED).
 *
 * BUSY/IDLE is not a state of its own: it is READY with in-flight requests counted by the pool.
 * A crash loop is not a state of a worker either: each worker ends in EXITED, and whether its
 * slot is respawned (after a back-off) or given up as FATAL is decided per slot by the
 * crash-loop policy (master/crash-backoff.ts).
 */
import { BerthError } from '../errors/berth-error.js';

export type WorkerState = 'STARTING' | 'READY' | 'RETIRING' | 'EXITED';

const ALLOWED: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  STARTING: ['READY', 'RETIRING', 'EXITED'],
  READY: ['RETIRING', 'EXITED'],
  RETIRING: ['EXITED'],
  EXITED: [],
};

export class IllegalTransition extends BerthError {
  constructor(from: WorkerState, to: WorkerState) {
    super('BERTH_ILLEGAL_TRANSITION', `illegal worker state change ${from} → ${to}`);
    this.name = 'IllegalTransition';
  }
}

export function transition(from: WorkerState, to: WorkerState): WorkerState {
  if (!ALLOWED[from].includes(to)) throw new IllegalTransition(from, to);
  return to;
}

export function canTransition(from: WorkerState, to: WorkerState): boolean {
  return ALLOWED[from].includes(to);
}
