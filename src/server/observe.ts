/**
 * The diagnostics channels the core publishes on and src/stats/ subscribes to (issue 13).
 *
 * Theory of operation: publishing costs one `hasSubscribers` check when nobody listens, and a
 * synchronous call when stats are on, so the hot path never allocates for observers it does not
 * have. Messages are the objects the core already holds (the finished Exchange) where possible.
 * Nothing here imports stats: the direction stays core → channel ← stats.
 */
import diagnostics from 'node:diagnostics_channel';
import type { Exchange } from './exchange.js';

/** A request the master answered (a worker's response, a static file, a canned error); message: the Exchange. */
export const requestDone = diagnostics.channel('berth:request-done');

/** A uwsgi-direct request a worker served itself, from its DIRECT report. */
export interface DirectDone { readonly ex: Exchange; readonly micros: number; readonly slot: number }
export const directDone = diagnostics.channel('berth:direct-done');

/** The static stage took this Exchange (it answers it, not the app); message: the Exchange. */
export const staticServed = diagnostics.channel('berth:static');

/** A worker process is gone; `kind` is worker-exit.ts's classification of it. */
export interface WorkerGone { readonly slot: number; readonly pid: number; readonly generation: number; readonly kind: string }
export const workerGone = diagnostics.channel('berth:worker-exit');

/** A worker is being replaced while it works (recycling); `reason` is the watchdog's sentence. */
export interface WorkerRecycled { readonly slot: number; readonly pid: number; readonly reason: string }
export const workerRecycled = diagnostics.channel('berth:worker-recycle');

/** A generation started serving (1 at start, then one per successful reload). */
export interface GenerationServing { readonly generation: number; readonly processes: number }
export const generationServing = diagnostics.channel('berth:generation');

/** The app raised for this request: the worker's ERROR frame (the traceback), before the 500 goes out. */
export interface AppFailed { readonly ex: Exchange; readonly traceback: string }
export const appFailed = diagnostics.channel('berth:app-error');
