/** The arbiter's file triggers: touch-reload, touch-chain-reload, touch-logreopen and py-autoreload, re-armed with each committed config. */
import type { Config } from '../config/schema.js';
import { FileTrigger } from './file-triggers.js';

export interface ReloadTriggerActions {
  /** Ask for a reload (the arbiter's one way in, shared with signals and berth ctl). */
  readonly reload: (request: { chain: boolean; why: string }) => void;
  readonly reopenLog: (why: string) => void;
  /** A directory that could not be watched (its files are polled instead). */
  readonly notice: (message: string) => void;
}

/**
 * Why a class of its own: the watches belong to a generation's config, so each commit closes
 * them and opens the new config's; py-autoreload alone carries over the app's module list,
 * which the workers report once and a reload does not repeat until its workers are ready.
 */
export class ReloadTriggers {
  readonly #actions: ReloadTriggerActions;
  #touch: FileTrigger[] = [];
  #autoreload: FileTrigger | null = null;

  constructor(actions: ReloadTriggerActions) {
    this.#actions = actions;
  }

  /**
   * Watches what `config` names. importStartedAt is when that generation began importing the
   * app: a module edited after it counts as changed (FileTriggerOptions.changedSince).
   */
  arm(config: Config, importStartedAt: number): void {
    for (const t of this.#touch) t.close();
    this.#touch = [];
    const { reload, reopenLog, notice } = this.#actions;
    const on = (files: readonly string[], action: (paths: string[]) => void): void => {
      if (files.length > 0) this.#touch.push(new FileTrigger({ files, onChange: action, onNotice: notice }));
    };
    // config is the committed one until the next arm, so its chain-reload is the current one.
    on(config.touchReload, (p) => reload({ chain: config.chainReload, why: `touch-reload (${p.join(', ')})` }));
    on(config.touchChainReload, (p) => reload({ chain: true, why: `touch-chain-reload (${p.join(', ')})` }));
    on(config.touchLogreopen, (p) => reopenLog(`touch-logreopen (${p.join(', ')})`));
    const previous = this.#autoreload?.files ?? [];
    this.#autoreload?.close();
    this.#autoreload = null;
    if (config.pyAutoreloadMs > 0) {
      this.#autoreload = new FileTrigger({ files: previous, changedSince: importStartedAt, onChange: (p) => reload({ chain: false, why: `py-autoreload (${p.join(', ')} changed)` }), onNotice: notice });
    }
  }

  /** The app's module files, as the workers report them: what py-autoreload watches. */
  setModules(paths: readonly string[]): void {
    this.#autoreload?.setFiles(paths);
  }

  /** Stops every watch (the master is stopping). */
  close(): void {
    for (const t of this.#touch) t.close();
    this.#touch = [];
    this.#autoreload?.close();
    this.#autoreload = null;
  }
}
