/**
 * The master's states as one table, with the only function that moves between them.
 *
 * Theory of operation: the life of the master is a small state table, as a worker's is
 * (../worker/lifecycle.ts). Every change goes through masterTransition(), which refuses moves the
 * table does not list, so a second stop signal, a reload during a stop or a late READY cannot
 * quietly put the master back to serving.
 *
 *   STARTING ──generation 1 launched──▶ RUNNING ◀──committed / abandoned── RELOADING
 *       │                                  │  └───────────SIGHUP, touch-reload──────▲
 *       │                                  ▼
 *       └──────────────────────────▶ STOPPING_GRACEFUL ──again / mercy──▶ STOPPING_IMMEDIATE
 *                                          │                                      │
 *                                          └──────────last worker exited──────────┴──▶ STOPPED
 *
 * STARTING, RUNNING and RELOADING may also stop at once (SIGQUIT, or the app cannot load:
 * STOPPING_IMMEDIATE), and STARTING may end in STOPPED directly (a listener cannot be bound).
 * "Every worker is FATAL" is not a master state: the master keeps RUNNING, the front answers
 * 503 and a reload may bring the app back.
 */
import { BerthError } from '../errors/berth-error.js';
export type MasterState = 'STARTING' | 'RUNNING' | 'RELOADING' | 'STOPPING_GRACEFUL' | 'STOPPING_IMMEDIATE' | 'STOPPED';

const ALLOWED: Readonly<Record<MasterState, readonly MasterState[]>> = {
  STARTING: ['RUNNING', 'STOPPING_GRACEFUL', 'STOPPING_IMMEDIATE', 'STOPPED'],
  RUNNING: ['RELOADING', 'STOPPING_GRACEFUL', 'STOPPING_IMMEDIATE'],
  RELOADING: ['RUNNING', 'STOPPING_GRACEFUL', 'STOPPING_IMMEDIATE'],
  STOPPING_GRACEFUL: ['STOPPING_IMMEDIATE', 'STOPPED'],
  STOPPING_IMMEDIATE: ['STOPPED'],
  STOPPED: [],
};

export class IllegalMasterTransition extends BerthError {
  constructor(from: MasterState, to: MasterState) {
    super('BERTH_ILLEGAL_TRANSITION', `illegal master state change ${from} → ${to}`);
    this.name = 'IllegalMasterTransition';
  }
}

export function masterTransition(from: MasterState, to: MasterState): MasterState {
  if (!ALLOWED[from].includes(to)) throw new IllegalMasterTransition(from, to);
  return to;
}

export function canMasterTransition(from: MasterState, to: MasterState): boolean {
  return ALLOWED[from].includes(to);
}

/** Serving requests and accepting control signals (reload, more or fewer workers). */
export function isServing(state: MasterState): boolean {
  return state === 'STARTING' || state === 'RUNNING' || state === 'RELOADING';
}

export function isStopping(state: MasterState): boolean {
  return state === 'STOPPING_GRACEFUL' || state === 'STOPPING_IMMEDIATE';
}
