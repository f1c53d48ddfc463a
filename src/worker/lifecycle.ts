/**
 * Theory of operation: the life of a worker is a small state table. Every change goes through
 * transition(), which refuses moves the table does not list, so a bug that would, say, route
 * requests to a worker that is already retiring throws at once instead of losing requests.
 *
 *   STARTING ──READY frame──▶ READY ──retire──▶ RETIRING ──exit──▶ EXITED
 *      │                       │                                   ▲
 *      ├──exit before READY──▶ BACKOFF (crashed; respawn after a delay) ──respawn──▶ (new worker)
 *      └──import failure─────▶ FATAL (the app cannot load: stop, show why, no respawn loop)
 *
 * BUSY/IDLE is not a state of its own: it is READY with in-flight requests counted by the pool.
 */
export type WorkerState = 'STARTING' | 'READY' | 'RETIRING' | 'EXITED' | 'BACKOFF' | 'FATAL';

const ALLOWED: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  STARTING: ['READY', 'RETIRING', 'EXITED', 'BACKOFF', 'FATAL'],
  READY: ['RETIRING', 'EXITED', 'BACKOFF'],
  RETIRING: ['EXITED'],
  BACKOFF: ['EXITED'],
  FATAL: ['EXITED'],
  EXITED: [],
};

export class IllegalTransition extends Error {
  constructor(from: WorkerState, to: WorkerState) {
    super(`illegal worker state change ${from} → ${to}`);
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
