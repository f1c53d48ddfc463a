/**
 * The life of one side program as supervisor defines it, as a pure state table.
 *
 * Theory of operation. STOPPED --start--> STARTING. A process that stays up startsecs (or
 * whose ready-check passes) is RUNNING. One that exits sooner goes to BACKOFF and is started
 * again after 1 s, 2 s, 3 s … (one more second per retry); past startretries it is FATAL.
 * A RUNNING process that exits is EXITED, and started again per autorestart (true: always;
 * unexpected: when its code is not in exitcodes). stop: STARTING/RUNNING → STOPPING → STOPPED;
 * BACKOFF → STOPPED at once. FATAL and EXITED wait for a start.
 */

export type ProgramState = 'STOPPED' | 'STARTING' | 'RUNNING' | 'BACKOFF' | 'STOPPING' | 'EXITED' | 'FATAL';

const MOVES: Readonly<Record<ProgramState, readonly ProgramState[]>> = {
  STOPPED: ['STARTING'],
  STARTING: ['RUNNING', 'BACKOFF', 'STOPPING'],
  RUNNING: ['EXITED', 'STOPPING'],
  BACKOFF: ['STARTING', 'FATAL', 'STOPPED'],
  STOPPING: ['STOPPED'],
  EXITED: ['STARTING'],
  FATAL: ['STARTING'],
};

export function canMove(from: ProgramState, to: ProgramState): boolean {
  return MOVES[from].includes(to);
}

/** The next state, or a thrown error naming the illegal move (a bug, never a user mistake). */
export function move(from: ProgramState, to: ProgramState): ProgramState {
  if (!canMove(from, to)) throw new Error(`program state: ${from} → ${to} is not a legal move`);
  return to;
}

/** supervisor's backoff: the Nth retry (1-based) waits N seconds. */
export function backoffDelayMs(retry: number): number {
  return retry * 1000;
}

export interface ExitFacts {
  readonly state: ProgramState;
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  /** Retries already used since the last RUNNING. */
  readonly retries: number;
  readonly startretries: number;
  readonly autorestart: 'true' | 'false' | 'unexpected';
  readonly exitcodes: readonly number[];
}

/** What an exit leads to: the next state and, when it will be started again, after how long. */
export type ExitOutcome =
  | { readonly next: 'STOPPED' }
  | { readonly next: 'BACKOFF'; readonly retry: number; readonly delayMs: number }
  | { readonly next: 'FATAL' }
  | { readonly next: 'EXITED'; readonly expected: boolean; readonly restart: boolean };

export function onExit(f: ExitFacts): ExitOutcome {
  if (f.state === 'STOPPING') return { next: 'STOPPED' };
  if (f.state === 'STARTING') {
    const retry = f.retries + 1;
    // supervisor: BACKOFF, then FATAL once the retries are used up.
    if (retry > f.startretries) return { next: 'FATAL' };
    return { next: 'BACKOFF', retry, delayMs: backoffDelayMs(retry) };
  }
  const expected = f.code !== null && f.exitcodes.includes(f.code);
  const restart = f.autorestart === 'true' || (f.autorestart === 'unexpected' && !expected);
  return { next: 'EXITED', expected, restart };
}
