/**
 * The previous generation standing by after a reload, for a rollback (reload-rollback-after).
 *
 * Theory of operation: under preload a generation's Python parent (the zygote) holds the app
 * as it was imported, so it can fork workers of the previous code even after the files on disk
 * changed. After a switch the previous generation's workers retire as usual but its parent is
 * kept (`standby`) while the new generation is on probation (./probation.ts). Proven, quiet or
 * cut short: the parent is stopped. Failed: fresh workers are forked from it and switched in
 * whole (./generation-switch.ts), and the new generation retires. The memory kept meanwhile is
 * one Python process with the app imported. Under lazy-apps nothing holds the previous code,
 * so no rollback is offered.
 */
import type { Config } from '../config/schema.js';
import type { WorkerReadyInfo } from '../worker/handle.js';
import type { Generation } from './generation.js';
import { wholeSwitch, type SwitchContext } from './generation-switch.js';
import type { Interpreter } from './interpreter.js';
import { Probation, type Verdict } from './probation.js';

export interface StandbyContext {
  readonly switching: SwitchContext;
  serving(): Generation | null;
  generations(): Iterable<Generation>;
  stopGeneration(g: Generation): void;
  /** Every answer a worker gives goes to `watch` (null: stop watching). */
  watchAnswers(watch: ((generation: number, status: number) => void) | null): void;
  /** The serving generation changed back: the crash-loop policy counts its slots. */
  rolledBack(g: Generation): void;
}

export interface RolledBack {
  readonly ready: WorkerReadyInfo | null;
  readonly config: Config;
  readonly interpreter: Interpreter;
}

export class Standby {
  readonly #c: StandbyContext;
  #probation: Probation | null = null;

  constructor(context: StandbyContext) {
    this.#c = context;
  }

  /** Before a switch from `old`: keep its Python parent if a rollback may be needed. */
  keep(old: Generation, config: Config): void {
    old.standby = config.reloadRollbackAfter > 0 && old.launcher.mode === 'preload';
  }

  /** `g` switched in: watch its first answers while `old` stands by; null when no rollback is possible. */
  start(old: Generation, g: Generation): Promise<Verdict> | null {
    const limit = g.config.reloadRollbackAfter;
    if (limit === 0) return null;
    const log = this.#c.switching.log;
    if (!old.standby) {
      log('info', `reload-rollback-after = ${limit}: no rollback is possible after this reload (under lazy-apps the previous code is not kept loaded; preload keeps its Python parent)`);
      return null;
    }
    return new Promise((resolve) => {
      this.#probation = new Probation(g.number, limit, (v) => {
        this.#probation = null;
        this.#c.watchAnswers(null);
        if (v.kind !== 'failed') this.release(old);
        resolve(v);
      });
      this.#c.watchAnswers((generation, status) => this.#probation?.answered(generation, status));
    });
  }

  /** A reload or a stop comes during the probation: the new generation stays. */
  end(why: string): void {
    this.#probation?.end(why);
  }

  /** `g` is not needed for a rollback any more: stopped once it has no worker left. */
  release(g: Generation): void {
    g.standby = false;
    if (g !== this.#c.serving() && g.workers.size === 0) this.#c.stopGeneration(g);
  }

  /**
   * The new generation failed its probation: workers forked from the standing-by generation
   * take over and the new ones retire. Its READY facts, or why it could not (the new one serves on).
   */
  async rollBack(): Promise<RolledBack | string> {
    const g = this.#c.serving();
    const old = g === null ? undefined : [...this.#c.generations()].find((o) => o.standby && o.number < g.number);
    if (g === null || old === undefined || this.#c.switching.stopping()) return 'the previous generation is no longer there';
    this.#c.switching.log('warn', `rolling back: generation ${g.number} → ${old.number}`);
    const failure = await wholeSwitch(this.#c.switching, g, old);
    old.standby = false;
    if (failure !== null) {
      this.#c.switching.log('error', `rollback failed: ${failure}; generation ${g.number} keeps serving`);
      return failure;
    }
    this.#c.rolledBack(old);
    return { ready: old.firstReady, config: old.config, interpreter: old.interpreter };
  }
}
