/**
 * File watches behind touch-reload, touch-chain-reload, touch-logreopen and py-autoreload.
 *
 * Theory of operation: FileTrigger calls onChange(paths) when watched files really change —
 * the engine behind touch-reload, touch-chain-reload, touch-logreopen and py-autoreload.
 *
 * What counts as a change follows uWSGI's touch options: the file's modification time moved
 * (`touch` on an existing file, even with the same content), the file appeared (a trigger file
 * that does not exist yet is fine: creating it fires), or it disappeared (uWSGI 2.0 fires on
 * removal too). We compare a signature — inode, size, mtime in nanoseconds — taken when the file
 * is added and after each event, so events that change nothing (chmod, a read-only open, an
 * unrelated file) are ignored, and a replace-by-rename (how editors and `git checkout` save)
 * is seen through its new inode.
 *
 * How we learn of events: one fs.watch (inotify) per parent *directory*, not per file — a watch
 * on the file itself follows the old inode and goes deaf once an editor renames a new file over
 * it, and cannot be set up before the file exists. If a directory cannot be watched (missing,
 * no permission, inotify limit) its files are polled with fs.watchFile every pollMs instead,
 * which is what uWSGI does for all of them (it stats each touch file once per master cycle).
 *
 * Bursts are debounced: each event restarts a debounceMs timer, bounded by maxWaitMs after the
 * first event of the burst; then every file touched in the burst is stat'ed once and the
 * changed ones are reported together — an editor's save or a checkout of 30 files is one call.
 *
 * Watchers are not persistent by default (they do not keep Node alive: the arbiter's listeners
 * do); close() releases every watcher and timer either way.
 */
import { statSync, unwatchFile, watch, watchFile, type FSWatcher, type Stats, type StatsListener } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export interface FileTriggerOptions {
  /** Files to watch (resolved against the cwd if relative); more can come via setFiles(). */
  readonly files?: readonly string[];
  /** Called once per burst with the files whose signature changed. */
  readonly onChange: (paths: string[]) => void;
  /** Quiet time that ends a burst (default 200 ms). */
  readonly debounceMs?: number;
  /** A burst that never goes quiet is reported after this long anyway (default 2000 ms). */
  readonly maxWaitMs?: number;
  /** Polling interval where fs.watch is unavailable (default 1000 ms). */
  readonly pollMs?: number;
  /** 'poll' skips fs.watch entirely (network file systems where inotify sees nothing). */
  readonly mode?: 'watch' | 'poll';
  /** Keep Node alive while watching (default false). */
  readonly persistent?: boolean;
  /** Told when a directory cannot be watched and its files are polled instead. */
  readonly onNotice?: (message: string) => void;
  /**
   * py-autoreload: when the app's import began (Date.now() scale). A file added later whose
   * mtime is past it was edited after the import may have read it, and counts as changed:
   * without this, an edit in the moment between the import and the watch would be its baseline.
   */
  readonly changedSince?: number;
}

export const FILE_TRIGGER_DEFAULTS = { debounceMs: 200, maxWaitMs: 2000, pollMs: 1000 } as const;

interface WatchedDir {
  watcher: FSWatcher | null;
  /** The directory's own inode when the watch began (its mtime moves with every entry). */
  readonly inode: string;
  /** basename → absolute path of the watched files in this directory. */
  readonly names: Map<string, string>;
}

const MISSING = 'missing';

/** inode, size and mtime (ns): what tells a real change from a spurious event. */
function signature(path: string): string {
  try {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    return st === undefined ? MISSING : `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return MISSING; // ENOTDIR, EACCES…: as good as missing until it can be stat'ed
  }
}

function modifiedAfter(path: string, sinceMs: number): boolean {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st !== undefined && st.mtimeMs > sinceMs;
  } catch {
    return false;
  }
}

function inode(path: string): string {
  try {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    return st === undefined ? MISSING : `${st.dev}:${st.ino}`;
  } catch {
    return MISSING;
  }
}

export class FileTrigger {
  readonly #onChange: (paths: string[]) => void;
  readonly #onNotice: (message: string) => void;
  readonly #debounceMs: number;
  readonly #maxWaitMs: number;
  readonly #pollMs: number;
  readonly #mode: 'watch' | 'poll';
  readonly #persistent: boolean;
  readonly #changedSince: number | null;
  readonly #signatures = new Map<string, string>();
  readonly #dirs = new Map<string, WatchedDir>();
  readonly #polled = new Map<string, StatsListener>();
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #burstStartedAt = 0;
  /** Newly polled files, re-checked once after one poll interval (see #poll). */
  readonly #settling = new Set<string>();
  #settleTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: FileTriggerOptions) {
    const d = FILE_TRIGGER_DEFAULTS;
    this.#onChange = options.onChange;
    this.#onNotice = options.onNotice ?? (() => undefined);
    this.#debounceMs = options.debounceMs ?? d.debounceMs;
    this.#maxWaitMs = options.maxWaitMs ?? d.maxWaitMs;
    this.#pollMs = options.pollMs ?? d.pollMs;
    this.#mode = options.mode ?? 'watch';
    this.#persistent = options.persistent ?? false;
    this.#changedSince = options.changedSince ?? null;
    this.setFiles(options.files ?? []);
  }

  /** The watched files (absolute). */
  get files(): string[] {
    return [...this.#signatures.keys()];
  }

  /** Watch exactly these files: new ones are added (their current state is the baseline), missing ones dropped. */
  setFiles(paths: readonly string[]): void {
    if (this.#closed) return;
    const wanted = new Set(paths.map((p) => resolve(p)));
    for (const path of [...this.#signatures.keys()]) if (!wanted.has(path)) this.#remove(path);
    for (const path of wanted) if (!this.#signatures.has(path)) this.#add(path);
  }

  /** Stop watching; no callback runs after this. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#settleTimer !== null) clearTimeout(this.#settleTimer);
    this.#timer = null;
    this.#settleTimer = null;
    this.#settling.clear();
    for (const dir of this.#dirs.values()) dir.watcher?.close();
    for (const [path, listener] of this.#polled) unwatchFile(path, listener);
    this.#dirs.clear();
    this.#polled.clear();
    this.#pending.clear();
    this.#signatures.clear();
  }

  #add(path: string): void {
    const dirPath = dirname(path);
    let dir = this.#dirs.get(dirPath);
    if (dir === undefined) {
      const watcher = this.#mode === 'watch' ? this.#watchDir(dirPath) : null;
      dir = { watcher, inode: inode(dirPath), names: new Map() };
      this.#dirs.set(dirPath, dir);
    }
    dir.names.set(basename(path), path);
    // The baseline is taken once the watch is in place, so no change can fall in between.
    const baseline = signature(path);
    const editedSince = this.#changedSince !== null && modifiedAfter(path, this.#changedSince);
    this.#signatures.set(path, editedSince ? `${baseline}:edited-after-import` : baseline);
    if (dir.watcher === null) this.#poll(path);
    if (editedSince) this.#mark(path);
  }

  #remove(path: string): void {
    this.#signatures.delete(path);
    this.#pending.delete(path);
    this.#settling.delete(path);
    const listener = this.#polled.get(path);
    if (listener !== undefined) {
      unwatchFile(path, listener);
      this.#polled.delete(path);
    }
    const dirPath = dirname(path);
    const dir = this.#dirs.get(dirPath);
    if (dir === undefined) return;
    dir.names.delete(basename(path));
    if (dir.names.size === 0) {
      dir.watcher?.close();
      this.#dirs.delete(dirPath);
    }
  }

  #watchDir(dirPath: string): FSWatcher | null {
    let watcher: FSWatcher;
    try {
      watcher = watch(dirPath, { persistent: this.#persistent }, (_event, filename) => this.#dirEvent(dirPath, filename));
    } catch (err) {
      this.#onNotice(`cannot watch directory ${dirPath} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); checking its files every ${this.#pollMs} ms instead`);
      return null;
    }
    watcher.on('error', (err) => this.#watcherFailed(dirPath, err));
    return watcher;
  }

  /** The directory watch died (e.g. the directory was removed): poll its files from now on. */
  #watcherFailed(dirPath: string, err: Error): void {
    const dir = this.#dirs.get(dirPath);
    if (dir === undefined || dir.watcher === null) return;
    dir.watcher.close();
    dir.watcher = null;
    this.#onNotice(`watching directory ${dirPath} failed (${err.message}); checking its files every ${this.#pollMs} ms instead`);
    for (const path of dir.names.values()) {
      this.#poll(path);
      this.#mark(path);
    }
  }

  /**
   * fs.watchFile reports differences between its own successive stats, and its first stat runs
   * on the thread pool a moment after ours: a change in between would become its baseline and
   * never be reported. So each newly polled file is compared with our baseline once more after
   * one interval.
   */
  #poll(path: string): void {
    if (this.#polled.has(path)) return;
    const listener = (_curr: Stats, _prev: Stats): void => this.#mark(path);
    watchFile(path, { persistent: this.#persistent, interval: this.#pollMs }, listener);
    this.#polled.set(path, listener);
    this.#settling.add(path);
    if (this.#settleTimer === null) {
      this.#settleTimer = setTimeout(() => {
        this.#settleTimer = null;
        for (const p of this.#settling) this.#mark(p);
        this.#settling.clear();
      }, this.#pollMs);
      if (!this.#persistent) this.#settleTimer.unref();
    }
  }

  #dirEvent(dirPath: string, filename: string | null): void {
    const dir = this.#dirs.get(dirPath);
    if (dir === undefined) return;
    // inotify reports the removal of the watched directory itself as an event named after it,
    // and the watch is deaf from then on (a recreated directory is a new inode).
    if (filename === basename(dirPath) && dir.watcher !== null && inode(dirPath) !== dir.inode) {
      this.#watcherFailed(dirPath, new Error('the directory was removed or replaced'));
      return;
    }
    if (filename === null) {
      // The kernel did not say which entry changed (queue overflow): look at all of them.
      for (const path of dir.names.values()) this.#mark(path);
      return;
    }
    const path = dir.names.get(filename);
    if (path !== undefined) this.#mark(path);
  }

  #mark(path: string): void {
    if (this.#closed || !this.#signatures.has(path)) return;
    this.#pending.add(path);
    const now = performance.now();
    if (this.#timer === null) {
      this.#burstStartedAt = now;
    } else {
      clearTimeout(this.#timer);
    }
    const wait = Math.max(0, Math.min(this.#debounceMs, this.#burstStartedAt + this.#maxWaitMs - now));
    this.#timer = setTimeout(() => this.#flush(), wait);
    if (!this.#persistent) this.#timer.unref();
  }

  #flush(): void {
    this.#timer = null;
    const changed: string[] = [];
    for (const path of this.#pending) {
      const now = signature(path);
      if (now !== this.#signatures.get(path)) {
        this.#signatures.set(path, now);
        changed.push(path);
      }
    }
    this.#pending.clear();
    if (changed.length > 0 && !this.#closed) this.#onChange(changed);
  }
}
