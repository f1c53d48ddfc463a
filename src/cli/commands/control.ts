/**
 * `berth --stop <pidfile>`, `berth --reload <pidfile>`, `berth --status <pidfile>` (uWSGI's
 * --stop/--reload spelling, with `--stop=<pidfile>` too). Each reads the pidfile, makes sure the
 * pid is a live Berth master — a stale pidfile whose pid now belongs to another program must
 * never get our signal — and then signals it or reports on it. --reload then waits for the
 * master's report of that reload beside the pidfile and exits 0 only when the new generation
 * serves (1: refused, rolled back, or no outcome in time).
 * --status exits like an LSB init script: 0 running, 1 dead but the pidfile remains, 3 not
 * running, 4 unknown (pidfile unreadable).
 */
import { describeStart, inspectPidfile, type PidfileState } from '../../master/pidfile.js';
import { argValue, fdTarget, isAlive, pidExists, readStat } from '../../master/proc.js';
import { PROBATION_MS } from '../../master/probation.js';
import { BOOT_TIMEOUT_MS } from '../../master/ready-gate.js';
import { readReport, reportPath } from '../../master/reload-report.js';

export type ControlAction = 'stop' | 'reload' | 'status';

const CONTROL_FLAGS: Readonly<Record<string, ControlAction>> = { '--stop': 'stop', '--reload': 'reload', '--status': 'status' };

/** LSB status codes (Linux Standard Base, init script actions). */
const STATUS_RUNNING = 0;
const STATUS_DEAD_PIDFILE = 1;
const STATUS_NOT_RUNNING = 3;
const STATUS_UNKNOWN = 4;

export interface ControlIo {
  out(text: string): void;
  err(text: string): void;
  /** How long --stop waits for the master to exit (its graceful stop allows reload-mercy, 30 s by default). */
  readonly stopTimeoutMs: number;
  readonly progressEveryMs: number;
  /** How long --reload waits for the outcome: the new workers' boot, reload-check, then the probation. */
  readonly reloadTimeoutMs: number;
  /** How long --reload waits for the master's first report of the reload it asked for. */
  readonly reportWaitMs: number;
}

/** After the master exits, how long --stop waits for its parent to reap it, so "stopped" means gone. */
const REAP_WAIT_MS = 2_000;

const IO: ControlIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  stopTimeoutMs: 60_000,
  progressEveryMs: 5_000,
  reloadTimeoutMs: BOOT_TIMEOUT_MS + PROBATION_MS + 30_000,
  reportWaitMs: 10_000,
};

/** Finds `--stop X` / `--stop=X` (or --reload, --status) in argv; null when argv is not a control command. */
export function parseControl(argv: readonly string[]): { action: ControlAction; pidfile: string | null; extra: string[] } | null {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const eq = word.indexOf('=');
    const flag = eq < 0 ? word : word.slice(0, eq);
    const action = CONTROL_FLAGS[flag];
    if (action === undefined) continue;
    const inline = eq < 0 ? null : word.slice(eq + 1);
    const next = argv[i + 1];
    const pidfile = inline ?? (next !== undefined && !next.startsWith('-') ? next : null);
    const used = inline !== null || pidfile === null ? 1 : 2;
    const extra = [...argv.slice(0, i), ...argv.slice(i + used)];
    return { action, pidfile: pidfile === '' ? null : pidfile, extra };
  }
  return null;
}

export async function runControl(argv: readonly string[], io: ControlIo = IO): Promise<number> {
  const parsed = parseControl(argv)!;
  const flag = `--${parsed.action}`;
  if (parsed.pidfile === null) {
    io.err(`[berth] ${flag} needs the pidfile of the running Berth: berth ${flag} /run/site.pid (the path given to its 'pidfile' option)\n`);
    return 2;
  }
  if (parsed.extra.length > 0) {
    io.err(`[berth] ${flag} takes only the pidfile; remove ${parsed.extra.map((w) => `'${w}'`).join(' ')} (write: berth ${flag} ${parsed.pidfile})\n`);
    return 2;
  }
  const path = parsed.pidfile;
  const state = inspectPidfile(path);
  if (parsed.action === 'status') return status(path, state, io);
  if (state.kind === 'absent') {
    io.err(`[berth] no pidfile at ${path} — is Berth running with 'pidfile = ${path}'? Nothing to ${parsed.action}\n`);
    return 1;
  }
  if (state.kind === 'unreadable') {
    io.err(`[berth] cannot read ${path}: ${state.reason} — run as the user Berth runs as (or root)\n`);
    return 1;
  }
  if (state.kind === 'stale') {
    // A dead pid: stopping succeeded already (LSB); a reload has nothing to act on.
    io.err(`[berth] Berth is not running: the pidfile ${path} is stale (${state.why}); nothing was signalled\n`);
    return parsed.action === 'stop' && state.pid !== null && !isAlive(state.pid) ? 0 : 1;
  }
  return parsed.action === 'stop' ? stop(path, state.pid, io) : reload(path, state.pid, state.argv, io);
}

function status(path: string, state: PidfileState, io: ControlIo): number {
  switch (state.kind) {
    case 'absent':
      io.out(`berth is not running (no pidfile at ${path})\n`);
      return STATUS_NOT_RUNNING;
    case 'unreadable':
      io.err(`[berth] cannot read ${path}: ${state.reason} — status unknown; run as the user Berth runs as (or root)\n`);
      return STATUS_UNKNOWN;
    case 'stale':
      io.out(`berth is not running, but its pidfile remains: ${path} is stale (${state.why})\n`);
      return STATUS_DEAD_PIDFILE;
    case 'running': {
      const since = describeStart(state.startedAt);
      io.out(`berth is running as pid ${state.pid}${since !== '' ? ` (${since})` : ''}; pidfile ${path}\n`);
      return STATUS_RUNNING;
    }
  }
}

/** Sends `signal`; returns why it could not (`gone`: the process had already exited), or null. */
function send(pid: number, signal: NodeJS.Signals): { message: string; gone: boolean } | null {
  try {
    process.kill(pid, signal);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPERM') return { message: `not allowed to signal pid ${pid} (it belongs to another user) — run this as that user or as root`, gone: false };
    if (code === 'ESRCH') return { message: `pid ${pid} exited just now`, gone: true };
    return { message: `cannot signal pid ${pid}: ${(err as Error).message}`, gone: false };
  }
}

async function stop(path: string, pid: number, io: ControlIo): Promise<number> {
  const failed = send(pid, 'SIGTERM');
  if (failed !== null) {
    io.err(`[berth] ${failed.message}\n`);
    return failed.gone ? 0 : 1;
  }
  io.out(`berth: sent SIGTERM to pid ${pid}; waiting for in-flight requests to finish and the workers to exit\n`);
  const started = Date.now();
  let nextProgress = started + io.progressEveryMs;
  while (isAlive(pid)) {
    const now = Date.now();
    if (now - started > io.stopTimeoutMs) {
      io.err(`[berth] pid ${pid} is still running after ${Math.round(io.stopTimeoutMs / 1000)} s — it may be finishing long requests; 'berth --stop ${path}' again stops it at once (a second SIGTERM skips the wait), 'kill -KILL ${pid}' as a last resort\n`);
      return 1;
    }
    if (now >= nextProgress) {
      io.out(`berth: pid ${pid} still stopping (${Math.round((now - started) / 1000)} s)…\n`);
      nextProgress += io.progressEveryMs;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // Exited is not yet gone: until its parent reaps it, the pid stays a zombie that ps and kill -0 still show.
  const reapBy = Date.now() + REAP_WAIT_MS;
  while (pidExists(pid) && Date.now() < reapBy) await new Promise((r) => setTimeout(r, 20));
  if (pidExists(pid)) {
    const parent = readStat(pid)?.ppid;
    io.out(`berth: pid ${pid} has exited and serves nothing, but its parent${parent !== undefined ? ` (pid ${parent})` : ''} has not collected it yet, so ps shows it as <defunct> until then\n`);
    return 0;
  }
  io.out(`stopped pid ${pid}\n`);
  return 0;
}

/**
 * SIGHUP, then wait for the master's report of that reload (../../master/reload-report.ts): 0 only
 * when the new generation serves; 1 when it was refused or rolled back, or no outcome came.
 */
async function reload(path: string, pid: number, argv: readonly string[], io: ControlIo): Promise<number> {
  const reportFile = reportPath(path);
  const before = readReport(reportFile);
  const seen = before !== null && before.pid === pid ? before.seq : 0;
  const failed = send(pid, 'SIGHUP');
  if (failed !== null) {
    io.err(`[berth] ${failed.message}\n`);
    return 1;
  }
  io.out(`berth: sent SIGHUP (reload) to pid ${pid} from ${path}; waiting for the outcome (the log has the details: see ${logPlace(pid, argv)})\n`);
  const started = Date.now();
  let said = '';
  for (;;) {
    const r = readReport(reportFile);
    if (r !== null && r.pid === pid && r.seq > seen) {
      if (r.phase === 'done') {
        if (r.ok) io.out(`berth: ${r.message}\n`);
        else io.err(`[berth] ${r.message}\n[berth] the log has the details: ${logPlace(pid, argv)}\n`);
        return r.ok ? 0 : 1;
      }
      if (r.phase === 'probation' && said !== r.message) io.out(`berth: ${(said = r.message)}\n`);
    } else if (Date.now() - started > io.reportWaitMs) {
      io.err(`[berth] pid ${pid} did not report on the reload within ${io.reportWaitMs / 1000} s: it writes ${reportFile} (a Berth that old does not, or its user cannot write there); the reload may still run — see ${logPlace(pid, argv)}\n`);
      return 1;
    }
    if (!isAlive(pid)) {
      io.err(`[berth] pid ${pid} exited during the reload; see ${logPlace(pid, argv)}\n`);
      return 1;
    }
    if (Date.now() - started > io.reloadTimeoutMs) {
      io.err(`[berth] no outcome after ${io.reloadTimeoutMs / 1000} s (the new workers may still be importing the app); the reload goes on in the background — see ${logPlace(pid, argv)}, then 'berth --reload ${path}' again\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Where the master's log goes: logto/daemonize from its command line, else its stderr target. */
function logPlace(pid: number, argv: readonly string[]): string {
  const named = argValue(argv, 'logto') ?? argValue(argv, 'daemonize2') ?? argValue(argv, 'daemonize');
  if (named !== null) return named;
  const stderr = fdTarget(pid, 2);
  if (stderr !== null && stderr.startsWith('/') && !stderr.startsWith('/dev/')) return stderr;
  return "the master's log (its logto file, or its stderr: 'journalctl -u <unit>' under systemd)";
}
