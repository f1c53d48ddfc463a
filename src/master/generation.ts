/**
 * One generation of workers: a loaded configuration, its launcher (./launcher.ts), the live
 * workers it started (serving or staged) and the ones it must replace when they exit.
 */
import type { Config } from '../config/schema.js';
import type { WorkerEvents, WorkerHandle, WorkerReadyInfo } from '../worker/handle.js';
import { describeBootFailure } from './boot-failure.js';
import type { Interpreter } from './interpreter.js';
import { AppLoadFailure, createLauncher, type Launcher } from './launcher.js';
import type { DirectSockets } from './spawn.js';

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export class Generation {
  readonly number: number;
  readonly config: Config;
  readonly interpreter: Interpreter;
  readonly launcher: Launcher;
  /** Live workers of this generation, serving or staged. */
  readonly workers = new Set<WorkerHandle>();
  /** Workers this generation must replace on exit; a retired or surplus one is not. */
  readonly keep = new Set<WorkerHandle>();
  /** READY of the generation's first worker to report it (static-from-django reads its Django settings). */
  firstReady: WorkerReadyInfo | null = null;
  /** Kept after a newer generation took over, for a rollback (reload-rollback-after): not stopped when its last worker exits. */
  standby = false;
  /** Workers of this generation that reached READY so far (for the "all ready" line). */
  readyCount = 0;
  /** Its workers accept on shared listeners themselves (uwsgi-direct, http-direct): a switch away waits for their ACCEPT_STOPPED. */
  readonly acceptsDirectly: boolean;

  constructor(number: number, config: Config, interpreter: Interpreter, events: WorkerEvents, log: Log, direct: DirectSockets | null) {
    this.number = number;
    this.config = config;
    this.interpreter = interpreter;
    this.acceptsDirectly = direct !== null && (direct.listeners.length > 0 || (direct.http?.listeners.length ?? 0) > 0);
    this.launcher = createLauncher({ config, interpreter, generation: number, events, log, direct });
  }

  /** Start the launcher (preload: the app is imported here); a string explains why the app could not load. */
  async start(): Promise<string | null> {
    try {
      await this.launcher.start();
      return null;
    } catch (err) {
      await this.launcher.stop().catch(() => undefined);
      if (!(err instanceof AppLoadFailure)) return `the app could not be loaded: ${(err as Error)?.message ?? String(err)}`;
      const consequence = this.number === 1 ? undefined : `The reload is abandoned; generation ${this.number - 1} keeps serving.`;
      return describeBootFailure({ slot: 0, code: err.exitCode, signal: err.signal, failure: err.failure, interpreter: this.interpreter, config: this.config, consequence });
    }
  }

  /** A new worker for `slot`, counted live and kept. */
  spawn(slot: number): WorkerHandle {
    const w = this.launcher.spawnWorker(slot);
    this.workers.add(w);
    this.keep.add(w);
    return w;
  }

  /** The lowest slot no kept worker holds (SIGTTIN). */
  freeSlot(): number {
    const used = new Set([...this.keep].map((w) => w.slot));
    let slot = 1;
    while (used.has(slot)) slot++;
    return slot;
  }
}
