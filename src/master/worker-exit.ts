/**
 * The one classifier of a worker's exit: what it means and what the workforce does about it.
 *
 * Theory of operation: the one place that decides what a worker's exit means. The workforce
 * gathers the facts when a worker process is gone and acts on the kind this returns; nothing
 * else in the master interprets an exit code.
 *
 *   stopping        the master is stopping: nothing to replace
 *   retired         asked to go (reload, SIGTTOU, recycling) or surplus: nothing to replace
 *   staged          a new generation's worker that died before READY: its reload decides
 *   boot-failed     the app could not be imported by generation 1 before anything served: stop
 *   zygote-gone     preload: its zygote died and took it along; replace it (a new zygote starts)
 *   harakiri        killed by the watchdog for a stuck request: replace it
 *   crashed-before-ready / crashed   replace it after the crash-loop policy's delay (or FATAL)
 */
import { EXIT_CODES } from '../protocol/worker/frames.js';

export type ExitKind = 'stopping' | 'retired' | 'staged' | 'boot-failed' | 'zygote-gone' | 'harakiri' | 'crashed-before-ready' | 'crashed';

export interface ExitFacts {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stopping: boolean;
  /** Its generation still counted on it (it was neither retired nor surplus). */
  readonly wanted: boolean;
  /** A reload or a replacement was waiting for its READY. */
  readonly staged: boolean;
  readonly wasReady: boolean;
  readonly harakiri: boolean;
  readonly zygoteGone: boolean;
  /** Generation 1 before any of its workers was READY. */
  readonly firstBoot: boolean;
}

const IMPORT_FAILURES: readonly (number | null)[] = [EXIT_CODES.APP_IMPORT_FAILURE, EXIT_CODES.BOOT_FAILURE, EXIT_CODES.USAGE];

export function classifyExit(f: ExitFacts): ExitKind {
  if (f.stopping) return 'stopping';
  if (!f.wanted) return 'retired';
  if (f.staged) return 'staged';
  if (f.zygoteGone) return 'zygote-gone';
  if (f.harakiri) return 'harakiri';
  if (f.wasReady) return 'crashed';
  if (f.firstBoot && IMPORT_FAILURES.includes(f.code)) return 'boot-failed';
  return 'crashed-before-ready';
}

/** "exit code 3" or "killed by SIGKILL", for the log. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `killed by ${signal}` : `exit code ${code}`;
}
