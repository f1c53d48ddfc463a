/**
 * The log file: appends, rotates by size, reopens on demand. Never throws into the server.
 *
 * Theory of operation: every write is synchronous, so rotation happens between two whole
 * writes and no line can fall between the old file and the new one. A batch (the Logger writes
 * one per event-loop turn) is cut at line ends so each file stays within `maxBytes`; a single
 * line longer than `maxBytes` gets a file of its own. Rotating is: make room among the backups,
 * rename the live file to the newest backup name, open the path again, close the old fd. If any
 * step fails (directory not writable, disk full, backup directory missing) the old fd stays
 * open and keeps receiving lines; the problem is reported once, and rotation is retried after
 * `retryMs` rather than on every batch.
 *
 * Backup names:
 *   - `backupName` given: `<backupName>.1` (newest) … `<backupName>.N`;
 *   - otherwise uWSGI's `<path>.<unix seconds>`, plus `.<k>` when two rotations fall in one second.
 *   Only the newest `backups` are kept (0 = keep all); only files with these exact name shapes
 *   are ever deleted.
 *
 * `reopen()` is for an external logrotate that renamed the file: open the path again (creating
 * it), then close the old fd; if the path cannot be opened it throws and the old fd stays.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface RotatingFileOptions {
  readonly path: string;
  /** Rotate before the file would grow past this many bytes; 0 = never. */
  readonly maxBytes: number;
  /** `log-backupname`; null = `<path>.<timestamp>`. */
  readonly backupName: string | null;
  /** Backups to keep; 0 = all. */
  readonly backups: number;
  /** Where problems are reported; default: a warning line in the log itself (else stderr). */
  readonly report?: (message: string) => void;
  /** Wall clock (ms), for backup names and the retry delay; tests pass their own. */
  readonly now?: () => number;
  /** After a failed rotation, wait this long before trying again (default 10 s). */
  readonly retryMs?: number;
  /** The option that named the file and where it was set ("option 'logto' (line 3 of /etc/site.ini)"), to begin failure reports. */
  readonly setting?: string;
}

const NEWLINE = 10;
const MODE = 0o644;
/** `<base>.<unix seconds>[.<k>]`: ten or more digits, so logrotate's `.1`, `.2` are never taken for ours. */
const STAMPED = /^(\d{10,})(?:\.(\d+))?$/;

export class RotatingFileSink {
  readonly #path: string;
  readonly #maxBytes: number;
  readonly #backupName: string | null;
  readonly #backups: number;
  readonly #report: (message: string) => void;
  readonly #now: () => number;
  readonly #retryMs: number;
  /** "option 'logto' (line 3 of …): " or '' — so a failure names where the path was set. */
  readonly #setting: string;
  #fd: number;
  #size: number;
  #retryAt = 0;
  #failing = false;
  #writeFailing = false;

  /** Opens (creating) the file; throws if it cannot be opened at all, which is a startup error. */
  constructor(opts: RotatingFileOptions) {
    this.#path = opts.path;
    this.#maxBytes = opts.maxBytes;
    this.#backupName = opts.backupName;
    this.#backups = opts.backups;
    this.#report = opts.report ?? ((m) => this.#reportInFile(m));
    this.#now = opts.now ?? Date.now;
    this.#retryMs = opts.retryMs ?? 10_000;
    this.#setting = opts.setting !== undefined ? `${opts.setting}: ` : '';
    this.#fd = openSync(this.#path, 'a', MODE);
    this.#size = fstatSync(this.#fd).size;
  }

  write(text: string): void {
    if (text === '') return;
    const buf = Buffer.from(text, 'utf8');
    if (this.#maxBytes <= 0) {
      this.#writeAll(buf, 0, buf.length);
      return;
    }
    let off = 0;
    // A file just opened by rotation takes at least one line even if someone else wrote to the
    // path meanwhile, so a batch always makes progress.
    let fresh = false;
    while (off < buf.length) {
      const left = buf.length - off;
      if (this.#size + left > this.#maxBytes && this.#size > 0) this.#size = this.#currentSize();
      const room = this.#maxBytes - this.#size;
      if (left <= room || !this.#mayRotate()) {
        this.#writeAll(buf, off, buf.length);
        return;
      }
      const end = this.#cut(buf, off, room, fresh || this.#size === 0);
      if (end > off) {
        this.#writeAll(buf, off, end);
        off = end;
        fresh = false;
        if (off === buf.length) return;
      }
      if (!this.#rotate()) {
        this.#writeAll(buf, off, buf.length);
        return;
      }
      fresh = true;
    }
  }

  /**
   * Close and open the path again (an external tool renamed or removed the file). Asked for
   * by a person (SIGUSR1, touch-logreopen), so a failure is thrown for the caller to log; the
   * old fd stays open and keeps receiving lines.
   */
  reopen(): void {
    let fd: number;
    try {
      fd = openSync(this.#path, 'a', MODE);
    } catch (err) {
      throw new Error(`cannot open ${this.#path}: ${(err as Error).message}; still writing to the previous file — check that the directory exists and is writable`, { cause: err });
    }
    this.#swap(fd);
  }

  close(): void {
    try {
      closeSync(this.#fd);
    } catch {
      // Already closed or never valid: nothing left to release.
    }
  }

  /**
   * Where to end this file's share of buf[off…]: after the last newline that fits in `room`.
   * A line longer than maxBytes goes whole into an empty (`fresh`) file, which it then has to itself.
   */
  #cut(buf: Buffer, off: number, room: number, fresh: boolean): number {
    if (room > 0) {
      const nl = buf.lastIndexOf(NEWLINE, off + room - 1);
      if (nl >= off) return nl + 1;
    }
    if (!fresh) return off;
    const nl = buf.indexOf(NEWLINE, off);
    return nl === -1 ? buf.length : nl + 1;
  }

  #mayRotate(): boolean {
    return this.#retryAt === 0 || this.#now() >= this.#retryAt;
  }

  #rotate(): boolean {
    let step = 'make room among the backups';
    try {
      const target = this.#backupName !== null ? this.#shiftNumbered(this.#backupName) : this.#stampedName();
      step = `rename it to ${target}`;
      // Absent when an earlier rotation renamed it but could not open a new one: just open.
      if (existsSync(this.#path)) renameSync(this.#path, target);
      step = `open a new ${this.#path}`;
      this.#swap(openSync(this.#path, 'a', MODE));
      step = 'remove old backups';
      if (this.#backupName === null && this.#backups > 0) this.#pruneStamped();
    } catch (err) {
      this.#retryAt = this.#now() + this.#retryMs;
      this.#fail(`could not rotate the log file ${this.#path} (${step}): ${(err as Error).message}; still writing to the current file — make its directory writable or fix log-backupname`);
      // The rename may have succeeded before the failure: the fd still holds the same file.
      return step === 'remove old backups';
    }
    this.#retryAt = 0;
    this.#failing = false;
    return true;
  }

  /** Shift `<name>.1…` up by one (dropping the oldest beyond N) and return `<name>.1`. */
  #shiftNumbered(name: string): string {
    let last: number;
    if (this.#backups > 0) {
      last = this.#backups;
      if (existsSync(`${name}.${last}`)) unlinkSync(`${name}.${last}`);
      last--;
    } else {
      last = 0;
      while (existsSync(`${name}.${last + 1}`)) last++;
    }
    for (let i = last; i >= 1; i--) {
      if (existsSync(`${name}.${i}`)) renameSync(`${name}.${i}`, `${name}.${i + 1}`);
    }
    return `${name}.1`;
  }

  #stampedName(): string {
    const base = `${this.#path}.${Math.floor(this.#now() / 1000)}`;
    if (!existsSync(base)) return base;
    let k = 1;
    while (existsSync(`${base}.${k}`)) k++;
    return `${base}.${k}`;
  }

  #pruneStamped(): void {
    const dir = dirname(this.#path);
    const prefix = basename(this.#path) + '.';
    const found: { name: string; stamp: number; k: number }[] = [];
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(prefix)) continue;
      const m = STAMPED.exec(name.slice(prefix.length));
      if (m !== null) found.push({ name, stamp: Number(m[1]), k: m[2] === undefined ? 0 : Number(m[2]) });
    }
    found.sort((a, b) => b.stamp - a.stamp || b.k - a.k);
    for (const old of found.slice(this.#backups)) unlinkSync(join(dir, old.name));
  }

  #swap(fd: number): void {
    const old = this.#fd;
    this.#fd = fd;
    try {
      this.#size = fstatSync(fd).size;
    } catch {
      this.#size = 0;
    }
    try {
      closeSync(old);
    } catch {
      // The old fd is gone either way.
    }
  }

  #currentSize(): number {
    try {
      return fstatSync(this.#fd).size;
    } catch {
      return this.#size;
    }
  }

  #writeAll(buf: Buffer, from: number, to: number): void {
    try {
      let off = from;
      while (off < to) {
        const n = writeSync(this.#fd, buf, off, to - off);
        if (n <= 0) throw new Error('the file accepted no bytes');
        off += n;
      }
      this.#size += to - from;
      this.#writeFailing = false;
    } catch (err) {
      if (this.#writeFailing) return;
      this.#writeFailing = true;
      process.stderr.write(`[berth] ERROR: ${this.#setting}could not write to the log file ${this.#path}: ${(err as Error).message}; log lines are being lost — check free disk space\n`);
    }
  }

  #fail(message: string): void {
    if (this.#failing) return;
    this.#failing = true;
    this.#report(this.#setting + message);
  }

  #reportInFile(message: string): void {
    const line = Buffer.from(`[berth] WARNING: ${message}\n`, 'utf8');
    this.#writeAll(line, 0, line.length);
  }
}
