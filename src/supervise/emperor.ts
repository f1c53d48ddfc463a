/**
 * The emperor: keeps one vassal (a child Berth) per vassal file. A scan compares the files with
 * the vassals: a new file starts one, a changed mtime reloads it, a missing file stops it.
 * fs.watch asks for a scan at once; a periodic scan catches what inotify misses (renames
 * across directories, editors that replace files, network filesystems).
 */
import { watch, type FSWatcher } from 'node:fs';
import { scanVassals, vassalPattern, type VassalPattern } from './vassal-files.js';
import { Throttle } from './throttle.js';
import { Vassal, type VassalFacts } from './vassal.js';

export interface EmperorSettings {
  readonly emperor: string;
  readonly throttleMs: number;
  readonly maxThrottleMs: number;
  readonly freqSeconds: number;
}

export interface EmperorDeps {
  readonly settings: EmperorSettings;
  readonly cwd: string;
  readonly berth: readonly [string, ...string[]];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  readonly output: (name: string, line: string) => void;
}

export class Emperor {
  readonly #d: EmperorDeps;
  readonly #pattern: VassalPattern;
  readonly #vassals = new Map<string, { vassal: Vassal; mtimeMs: number }>();
  /** Vassals whose file is gone, until they have exited. */
  readonly #leaving = new Set<Promise<void>>();
  #watcher: FSWatcher | null = null;
  #interval: NodeJS.Timeout | null = null;
  #soon: NodeJS.Timeout | null = null;
  #stopping = false;

  constructor(deps: EmperorDeps) {
    this.#d = deps;
    this.#pattern = vassalPattern(deps.settings.emperor, deps.cwd);
  }

  get directory(): string { return this.#pattern.dir; }

  /** Throws (ENOENT, EACCES) when the directory cannot be read, before any vassal starts. */
  start(): void {
    this.scan();
    try {
      this.#watcher = watch(this.#pattern.dir, () => this.#scanSoon());
      this.#watcher.on('error', () => undefined);
    } catch (err) {
      this.#d.log('warn', `[emperor] cannot watch ${this.#pattern.dir} (${(err as Error).message}): scanning every ${this.#d.settings.freqSeconds}s only`);
    }
    this.#interval = setInterval(() => this.scan(), this.#d.settings.freqSeconds * 1000);
  }

  scan(): void {
    if (this.#stopping) return;
    let files;
    try {
      files = scanVassals(this.#pattern);
    } catch (err) {
      if (this.#interval === null) throw err;
      this.#d.log('error', `[emperor] cannot read ${this.#pattern.dir}: ${(err as Error).message}; vassals keep running`);
      return;
    }
    for (const [name, known] of this.#vassals) {
      const file = files.get(name);
      if (file === undefined) {
        this.#vassals.delete(name);
        const gone = known.vassal.stop(`${name} was removed`);
        this.#leaving.add(gone);
        void gone.then(() => this.#leaving.delete(gone));
      } else if (file.mtimeMs !== known.mtimeMs) {
        known.mtimeMs = file.mtimeMs;
        known.vassal.reload(file.mtimeMs);
      }
    }
    for (const [name, file] of files) {
      if (this.#vassals.has(name)) continue;
      const vassal = new Vassal({
        name, path: file.path, berth: this.#d.berth, env: this.#d.env, log: this.#d.log, output: this.#d.output,
        throttle: new Throttle(this.#d.settings.throttleMs, this.#d.settings.maxThrottleMs),
      });
      this.#vassals.set(name, { vassal, mtimeMs: file.mtimeMs });
      vassal.start(file.mtimeMs);
    }
  }

  /** Every vassal reloads (the emperor got SIGHUP). */
  reloadAll(): void {
    for (const { vassal, mtimeMs } of this.#vassals.values()) vassal.reload(mtimeMs);
  }

  /** Stops watching, then every vassal gracefully; resolves once all have exited. */
  async stop(why: string): Promise<void> {
    this.#stopping = true;
    this.#watcher?.close();
    if (this.#interval !== null) clearInterval(this.#interval);
    if (this.#soon !== null) clearTimeout(this.#soon);
    const all = [...this.#vassals.values()].map(({ vassal }) => vassal.stop(why));
    this.#vassals.clear();
    await Promise.all([...all, ...this.#leaving]);
  }

  /** The vassal with this id (its file name), for berth ctl. */
  vassal(name: string): Vassal | undefined {
    return this.#vassals.get(name)?.vassal;
  }

  /** Whether stop() began: berth ctl then starts no vassal (nobody would stop it). */
  get stopping(): boolean {
    return this.#stopping;
  }

  get vassals(): Vassal[] {
    return [...this.#vassals.values()].map(({ vassal }) => vassal);
  }

  facts(): VassalFacts[] {
    return [...this.#vassals.values()].map(({ vassal }) => vassal.facts());
  }

  #scanSoon(): void {
    // One scan for a burst of events (an editor writes, renames and chmods in one save).
    if (this.#soon !== null || this.#stopping) return;
    this.#soon = setTimeout(() => {
      this.#soon = null;
      this.scan();
    }, 50);
  }
}
