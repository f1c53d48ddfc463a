/**
 * uWSGI's `pidfile` / `pidfile2`: a file holding the master's pid and a newline (the same
 * format, so init scripts, monit and logrotate keep working).
 *
 * Theory of operation: before anything is bound, claim() reads each configured pidfile. If it
 * names a live Berth master that is not us, Berth refuses to start — a second instance would
 * fail on its ports anyway, or worse, succeed on a unix socket path and steal it — and the error
 * says how to stop or reload the running one. A pidfile naming a dead pid, or a pid the kernel
 * has since given to an unrelated program, is stale: it is replaced, with a log line. Files are
 * written atomically (temp file + rename) so a reader never sees a half-written pid. release()
 * (on exit, with `vacuum`) removes a pidfile only while it still holds our pid: a newer
 * instance that took it over keeps its file.
 *
 * uWSGI writes pidfile2 after dropping privileges (uid/gid), so the unprivileged master can
 * remove it again; Berth writes it once the app is ready (after the drop): claim() checks it
 * with the pidfile, writeLate() writes it.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { explainWriteFailure } from '../config/fs-kind.js';
import { BerthError } from '../errors/berth-error.js';
import { formatCommand, formatDuration, isAlive, isBerthCommand, readCmdline, startedAt } from './proc.js';

export type PidfileState =
  | { readonly kind: 'absent' }
  | { readonly kind: 'unreadable'; readonly reason: string }
  | { readonly kind: 'stale'; readonly pid: number | null; readonly why: string }
  | { readonly kind: 'running'; readonly pid: number; readonly argv: readonly string[]; readonly startedAt: Date | null };

/** The pid a pidfile holds (first line, digits), or null. */
export function parsePid(text: string): number | null {
  const m = /^\s*(\d+)\s*(?:\n|$)/.exec(text);
  if (m === null) return null;
  const pid = Number(m[1]);
  return pid > 0 && Number.isSafeInteger(pid) ? pid : null;
}

/** What a pidfile says, checked against the running processes. */
export function inspectPidfile(path: string): PidfileState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return { kind: 'absent' };
    return { kind: 'unreadable', reason: e.code === 'EACCES' ? 'permission denied' : e.message };
  }
  const pid = parsePid(text);
  if (pid === null) return { kind: 'stale', pid: null, why: `it does not hold a pid (${JSON.stringify(text.slice(0, 20))})` };
  if (!isAlive(pid)) return { kind: 'stale', pid, why: `pid ${pid} is no longer running` };
  const argv = readCmdline(pid);
  if (argv === null || !isBerthCommand(argv)) {
    const what = argv === null ? 'a process that is not Berth' : `'${formatCommand(argv)}', not Berth`;
    return { kind: 'stale', pid, why: `pid ${pid} is now ${what}` };
  }
  return { kind: 'running', pid, argv, startedAt: startedAt(pid) };
}

/** "started 2024-05-01 12:00:03, up 3m 12s" — or '' when /proc does not say. */
export function describeStart(at: Date | null, now = Date.now()): string {
  if (at === null) return '';
  const local = new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 19).replace('T', ' ');
  return `started ${local}, up ${formatDuration(now - at.getTime())}`;
}

export interface PidfileOptions {
  readonly pidfile: string | null;
  readonly pidfile2: string | null;
  /** Where an option was set ("line 4 of /etc/site.ini"), for messages; absent in unit tests. */
  readonly origin?: (option: 'pidfile' | 'pidfile2') => string;
}

export type PidfileLog = (level: 'info' | 'warn', message: string) => void;

/**
 * Writes `pid\n` to `path` so that readers see either the old file or the whole new one.
 * `setting` says which option named the path and where ("option 'pidfile' (line 4 of /etc/site.ini)").
 */
export function writePidfileAtomically(path: string, pid: number, setting = "option 'pidfile'"): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${pid}\n`, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was created
    }
    const why = explainWriteFailure(path, err as NodeJS.ErrnoException);
    throw new BerthError('BERTH_PIDFILE_FAILED', `${setting}: cannot write pidfile ${path}: ${why}`, { cause: err });
  }
}

/** The pidfiles this master wrote; see the theory of operation above. */
export class Pidfiles {
  readonly #paths: string[];
  readonly #late: string | null;
  readonly #pid: number;
  readonly #lateSetting: string;

  private constructor(paths: string[], late: string | null, pid: number, lateSetting: string) {
    this.#paths = paths;
    this.#late = late;
    this.#pid = pid;
    this.#lateSetting = lateSetting;
  }

  /**
   * Checks every configured pidfile first (so a refusal writes nothing), then writes `pidfile`
   * (pidfile2 waits for writeLate()). Throws BERTH_ALREADY_RUNNING or BERTH_PIDFILE_FAILED.
   */
  static claim(options: PidfileOptions, pid: number, log: PidfileLog): Pidfiles {
    const paths = [options.pidfile, options.pidfile2].filter((p): p is string => p !== null);
    const unique = [...new Set(paths)];
    for (const path of unique) {
      const state = inspectPidfile(path);
      if (state.kind === 'running' && state.pid !== pid) {
        const since = describeStart(state.startedAt);
        throw new BerthError(
          'BERTH_ALREADY_RUNNING',
          `Berth is already running as pid ${state.pid} (pidfile ${path}${since !== '' ? `, ${since}` : ''}) — ` +
            `stop it with 'berth --stop ${path}' or reload it with 'berth --reload ${path}'; nothing was started`,
        );
      }
      if (state.kind === 'unreadable') {
        throw new BerthError('BERTH_PIDFILE_FAILED', `${settingOf(options, path)}: cannot read pidfile ${path} (${state.reason}), so Berth cannot tell whether it is already running — fix the file's permissions or remove it`);
      }
      if (state.kind === 'stale') log('warn', `pidfile ${path} is stale (${state.why}); replacing it`);
    }
    const late = options.pidfile2 !== null && options.pidfile2 !== options.pidfile ? options.pidfile2 : null;
    if (options.pidfile !== null) {
      writePidfileAtomically(options.pidfile, pid, settingOf(options, options.pidfile));
      log('info', `pid ${pid} written to ${options.pidfile}`);
    }
    return new Pidfiles(options.pidfile !== null ? [options.pidfile] : [], late, pid, late !== null ? settingOf(options, late) : "option 'pidfile2'");
  }

  /** Writes pidfile2 (once the app is ready); returns an error message instead of throwing. */
  writeLate(): string | null {
    if (this.#late === null || this.#paths.includes(this.#late)) return null;
    try {
      writePidfileAtomically(this.#late, this.#pid, this.#lateSetting);
    } catch (err) {
      return (err as Error).message;
    }
    this.#paths.push(this.#late);
    return null;
  }

  /** The pidfiles written so far. */
  get paths(): readonly string[] {
    return this.#paths;
  }

  /** Removes each pidfile that still holds our pid; returns the removed paths. */
  release(): string[] {
    const removed: string[] = [];
    for (const path of this.#paths) {
      try {
        if (parsePid(readFileSync(path, 'utf8')) !== this.#pid) continue;
        unlinkSync(path);
        removed.push(path);
      } catch {
        // already gone, or not ours to remove: leave it
      }
    }
    return removed;
  }
}

/** "option 'pidfile2' (line 4 of /etc/site.ini)": the option that named `path` and where it was set. */
function settingOf(options: PidfileOptions, path: string): string {
  const option = options.pidfile === path ? 'pidfile' : 'pidfile2';
  const origin = options.origin?.(option);
  return origin === undefined ? `option '${option}'` : `option '${option}' (${origin})`;
}
