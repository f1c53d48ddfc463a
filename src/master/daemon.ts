/**
 * uWSGI's `daemonize <logfile>` and `daemonize2 <logfile>`: run in the background, logging to
 * a file.
 *
 * Theory of operation: Node cannot fork, so the foreground process re-executes itself — same
 * Node, same script, same arguments — as a detached child (its own session, stdin /dev/null,
 * stdout and stderr appended to the log file). The child gets one more file descriptor, a pipe
 * back to the foreground process, whose number is in _BERTH_DAEMON_FD (its presence marks the
 * daemon; the leading underscore keeps it out of the BERTH_<OPTION> variables). On it the child
 * reports milestones as JSON lines: `listening` once the listeners are bound and the app is
 * ready (so an app that cannot be imported is never reported as started), `ready` right after
 * it, or `failed`. The
 * foreground process waits for `listening` (daemonize) or `ready` (daemonize2), prints
 * "started as pid N" and exits 0; if the child fails or dies first it prints the child's log
 * lines and exits 1. So a broken config or app shows up on the terminal, where uWSGI's
 * daemonize would exit 0 and leave the error in a log file nobody reads.
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { explainWriteFailure } from '../config/fs-kind.js';
import { describeSource } from '../config/problem.js';
import type { ValueSource } from '../config/schema.js';

export const DAEMON_FD_ENV = '_BERTH_DAEMON_FD';
/** How long the foreground process waits for the child's milestone. */
const WAIT_MS = 60_000;
/** After `failed`, how long to let the child finish writing its log before showing it. */
const FAILED_EXIT_WAIT_MS = 5_000;
/** The child's log lines shown on the terminal when it fails. */
const SHOWN_LOG_LINES = 40;

export type DaemonEvent = 'listening' | 'ready' | 'failed';

export interface DaemonOptions {
  /** `daemonize`: detach; the foreground returns once Berth listens (bound, app ready). */
  readonly daemonize: string | null;
  /** `daemonize2`: detach once the app is loaded (a broken app is reported on the terminal). */
  readonly daemonize2: string | null;
  /** Where each option was set, so a refusal can name the file and line. */
  readonly sources?: Readonly<Record<string, ValueSource>>;
}

/** Where the foreground process writes what it has to say (tests pass their own). */
export interface DaemonTerminal {
  out(text: string): void;
  err(text: string): void;
}

const TERMINAL: DaemonTerminal = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/** In the daemon child, the log file the daemonize option names (null elsewhere). */
export function daemonLogFile(options: DaemonOptions, env: NodeJS.ProcessEnv = process.env): string | null {
  if (env[DAEMON_FD_ENV] === undefined) return null;
  return options.daemonize2 ?? options.daemonize;
}

/**
 * In the foreground process with daemonize/daemonize2 set: starts the daemon, waits for it and
 * resolves with this process's exit code. Resolves null when there is nothing to do here (no
 * daemonize, or this is the daemon itself): go on serving.
 */
export async function daemonizeIfAsked(
  options: DaemonOptions,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  terminal: DaemonTerminal = TERMINAL,
): Promise<number | null> {
  const logFile = options.daemonize2 ?? options.daemonize;
  if (logFile === null || env[DAEMON_FD_ENV] !== undefined) return null;
  const option = options.daemonize2 !== null ? 'daemonize2' : 'daemonize';
  const waitFor: DaemonEvent = options.daemonize2 !== null ? 'ready' : 'listening';
  let logFd: number;
  try {
    logFd = openSync(logFile, 'a', 0o644);
  } catch (err) {
    const source = options.sources?.[option];
    const where = source !== undefined ? ` (${describeSource(source)})` : '';
    terminal.err(`[berth] ERROR: option '${option}'${where}: cannot open ${logFile}: ${explainWriteFailure(logFile, err as NodeJS.ErrnoException)}\n`);
    return 1;
  }
  const logStart = fstatSync(logFd).size;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
    detached: true,
    stdio: ['ignore', logFd, logFd, 'pipe'],
    env: { ...env, [DAEMON_FD_ENV]: '3' },
  });
  closeSync(logFd);
  const pipe = child.stdio[3] as Readable;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal !== null ? `killed by ${signal}` : `exit code ${code}`));
    child.once('error', (err) => resolve(`could not start ${process.execPath}: ${err.message}`));
  });
  const outcome = await new Promise<{ kind: DaemonEvent | 'exited' | 'timeout'; text: string }>((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'timeout', text: '' }), WAIT_MS);
    let buffered = '';
    pipe.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const msg = parseMessage(line);
        if (msg !== null && (msg.kind === waitFor || msg.kind === 'failed')) {
          clearTimeout(timer);
          resolve(msg);
        }
      }
    });
    pipe.on('error', () => undefined);
    void exited.then((how) => {
      clearTimeout(timer);
      resolve({ kind: 'exited', text: how });
    });
  });
  const pid = child.pid ?? 0;
  let how = outcome.text;
  if (outcome.kind === 'failed') {
    let timer: NodeJS.Timeout | undefined;
    how = await Promise.race([exited, new Promise<string>((r) => (timer = setTimeout(() => r('still running'), FAILED_EXIT_WAIT_MS)))]);
    clearTimeout(timer);
  }
  // From here nothing of the child may keep this process alive.
  pipe.destroy();
  child.unref();
  if (outcome.kind === waitFor) {
    terminal.out(`berth: started as pid ${pid} (${outcome.text}), logging to ${logFile}\n`);
    return 0;
  }
  if (outcome.kind === 'timeout') {
    terminal.err(`[berth] ERROR: the daemon (pid ${pid}) has not reported '${waitFor}' within ${WAIT_MS / 1000} s; it keeps starting in the background — watch ${logFile}, or stop it with 'kill -TERM ${pid}'\n`);
    return 1;
  }
  const shown = logTail(logFile, logStart);
  if (shown !== '') terminal.err(shown.endsWith('\n') ? shown : `${shown}\n`);
  if (outcome.kind === 'failed' && !shown.includes(outcome.text)) terminal.err(`[berth] ERROR: ${outcome.text}\n`);
  terminal.err(`[berth] the daemon (pid ${pid}) did not start (${how}); the lines above are from its log ${logFile}\n`);
  return 1;
}

function parseMessage(line: string): { kind: DaemonEvent; text: string } | null {
  try {
    const m = JSON.parse(line) as { kind?: unknown; text?: unknown };
    if ((m.kind === 'listening' || m.kind === 'ready' || m.kind === 'failed') && typeof m.text === 'string') return { kind: m.kind, text: m.text };
  } catch {
    // not ours
  }
  return null;
}

/** The last lines the child appended to the log after `from`. */
function logTail(path: string, from: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - 64 * 1024);
    const buf = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buf, 0, buf.length, start);
    return buf.toString('utf8').split('\n').slice(-SHOWN_LOG_LINES - 1).join('\n');
  } finally {
    closeSync(fd);
  }
}

/**
 * The daemon child's end of the pipe: report milestones to the waiting foreground process.
 * After `ready` or `failed` the pipe is closed; later reports are ignored. Writes never throw:
 * the foreground process may already be gone (daemonize exits after `listening`).
 */
export class DaemonLink {
  #fd: number | null;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** The link when this process is a daemon child with a parent waiting, else null. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): DaemonLink | null {
    const fd = Number(env[DAEMON_FD_ENV]);
    if (!Number.isInteger(fd) || fd < 3) return null;
    return new DaemonLink(fd);
  }

  notify(kind: DaemonEvent, text: string): void {
    if (this.#fd === null) return;
    try {
      writeSync(this.#fd, `${JSON.stringify({ kind, text })}\n`);
    } catch {
      // EPIPE: nobody is waiting any more
    }
    if (kind !== 'listening') this.close();
  }

  close(): void {
    if (this.#fd === null) return;
    try {
      closeSync(this.#fd);
    } catch {
      // already closed
    }
    this.#fd = null;
  }
}
