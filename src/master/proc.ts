/**
 * Small, read-only questions about other processes, answered from Linux /proc: is a pid alive,
 * what command runs there, when did it start, is it a Berth master. Used by the pidfile guard,
 * the "address in use" explanation and `berth --stop/--reload/--status`. Every function returns
 * null (or false) when /proc does not say, never throws: these only improve messages and
 * safety checks, they must not become a new way to fail.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';

/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every Linux ABI Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  readonly state: string;
  readonly ppid: number;
  /** Clock ticks after boot. */
  readonly startTicks: number;
}

export function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (rest.length < 20) return null;
  return { state: rest[0]!, ppid: Number(rest[1]), startTicks: Number(rest[19]) };
}

/** True while `pid` has a process table entry, a zombie's included (what `kill -0` and ps see). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when `pid` exists and is not a zombie (a zombie has exited; only its parent's reap is missing). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const st = readStat(pid);
  return st === null || (st.state !== 'Z' && st.state !== 'X');
}

export function readCmdline(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return null; // kernel threads and zombies have none
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return null;
  }
}

/** When the process started, from its start time in ticks after boot and the boot time. */
export function startedAt(pid: number): Date | null {
  const st = readStat(pid);
  if (st === null) return null;
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    if (m === null) return null;
    return new Date(Number(m[1]) * 1000 + (st.startTicks * 1000) / CLOCK_TICKS_PER_SECOND);
  } catch {
    return null;
  }
}

/**
 * Whether a command line is Berth's: `node [node flags] …/berth(.js) …` (the npm bin link or
 * bin/berth.js), or a process titled `berth`. A pid in a stale pidfile that now belongs to some
 * other program must never be mistaken for Berth (we would refuse to start, or signal it).
 */
export function isBerthCommand(argv: readonly string[]): boolean {
  if (argv.length === 0) return false;
  const isScript = (word: string): boolean => /^berth(\.js)?$/.test(basename(word));
  if (isScript(argv[0]!)) return true;
  if (!/^node(js)?(\d+)?$/.test(basename(argv[0]!))) return false;
  const script = argv.slice(1).find((w) => !w.startsWith('-'));
  return script !== undefined && isScript(script);
}

/** A command line for a message: `berth --ini site.ini` (node and the script path shortened). */
export function formatCommand(argv: readonly string[]): string {
  const words = [...argv];
  if (isBerthCommand(words) && /^node/.test(basename(words[0]!))) {
    const i = words.findIndex((w, k) => k > 0 && !w.startsWith('-'));
    words.splice(0, i + 1, 'berth');
  }
  const text = words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** The value given to `--name X` / `--name=X` in a command line, if any. */
export function argValue(argv: readonly string[], name: string): string | null {
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === `--${name}` && i + 1 < argv.length) return argv[i + 1]!;
    if (w.startsWith(`--${name}=`)) return w.slice(name.length + 3);
  }
  return null;
}

/** Where a process's file descriptor points (e.g. its stderr log file), or null. */
export function fdTarget(pid: number, fd: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return null;
  }
}

/** "3h 12m", "4m 05s", "12s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}
