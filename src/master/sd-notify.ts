/**
 * sd_notify(3) without libsystemd: READY, RELOADING, STOPPING, STATUS and WATCHDOG messages to
 * $NOTIFY_SOCKET, sent through a small Python process (python/berth_notify.py).
 *
 * Theory of operation: Node has no unix datagram sockets (dgram is UDP only), so the master
 * writes each message as a JSON line to the helper's stdin and the helper sends it as one
 * datagram; the pipe keeps the order. The helper is not the main PID, so every message carries
 * MAINPID= and the unit needs NotifyAccess=all (`berth systemd-unit` writes it). The variables
 * are taken out of process.env at once, so workers and side programs never see them and an app
 * cannot confuse systemd. WATCHDOG=1 and STATUS= are sent from the master's watch loop
 * (./watch-loop.ts), on the event loop that serves everything else: a stuck master stops
 * sending them, which is what the watchdog is for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

/** STATUS= at most this often: systemctl status shows the latest, and each costs a datagram. */
const STATUS_EVERY_MS = 5000;

/** What the master tells systemd; ./arbiter.ts calls it at each step of its life. */
export interface ServiceNotifier {
  /** Serving: the first generation's workers are all READY, or a reload ended either way. */
  ready(status: string): void;
  reloading(why: string): void;
  stopping(why: string): void;
  /** The watch loop's heartbeat: WATCHDOG=1 when due, STATUS= from `status()` when due. */
  tick(status: () => string): void;
  /** How often tick() must run for the watchdog (ms), or null when no watchdog was asked for. */
  readonly heartbeatMs: number | null;
  close(): void;
}

export interface NotifyEnvironment {
  readonly socket: string;
  /** Half of WATCHDOG_USEC, when it is set and WATCHDOG_PID is unset or ours. */
  readonly watchdogMs: number | null;
}

/** Reads and removes NOTIFY_SOCKET / WATCHDOG_USEC / WATCHDOG_PID from `env`; null when not under systemd's notify. */
export function takeNotifyEnvironment(env: NodeJS.ProcessEnv, pid: number): NotifyEnvironment | null {
  const socket = env.NOTIFY_SOCKET ?? '';
  const usec = Number(env.WATCHDOG_USEC ?? '');
  const watchPid = env.WATCHDOG_PID;
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  if (socket === '' || !(socket.startsWith('/') || socket.startsWith('@'))) return null;
  const ours = watchPid === undefined || watchPid === '' || Number(watchPid) === pid;
  const watchdogMs = Number.isFinite(usec) && usec > 0 && ours ? Math.max(1, Math.floor(usec / 2000)) : null;
  return { socket, watchdogMs };
}

/** CLOCK_MONOTONIC in µs: libuv's hrtime reads that clock on Linux, as systemd wants for MONOTONIC_USEC. */
export function monotonicMicros(): bigint {
  return process.hrtime.bigint() / 1000n;
}

export function notifyScriptPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'python', 'berth_notify.py');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('python/berth_notify.py not found beside Berth');
}

export class SystemdNotifier implements ServiceNotifier {
  readonly #helper: ChildProcess;
  readonly #mainPid = `MAINPID=${process.pid}`;
  readonly heartbeatMs: number | null;
  #lastWatchdog = 0;
  #lastStatus = 0;
  #closed = false;

  constructor(target: NotifyEnvironment, python: string, log: Log) {
    this.heartbeatMs = target.watchdogMs;
    const env: NodeJS.ProcessEnv = { ...process.env, BERTH_NOTIFY_TARGET: target.socket };
    this.#helper = spawn(python, ['-I', '-S', notifyScriptPath()], { stdio: ['pipe', 'ignore', 'pipe'], env });
    this.#helper.on('error', (err) => log('error', `sd_notify: could not start ${python} for NOTIFY_SOCKET=${target.socket}: ${err.message}`));
    this.#helper.stdin?.on('error', () => undefined);
    this.#helper.stderr?.setEncoding('utf8').on('data', (text: string) => {
      for (const line of text.split('\n')) if (line.trim() !== '') log('warn', `sd_notify: ${line.trim()}`);
    });
    log('info', `sd_notify: NOTIFY_SOCKET=${target.socket}${target.watchdogMs !== null ? `, WATCHDOG=1 every ${target.watchdogMs} ms` : ''} (sent by helper pid ${this.#helper.pid ?? '?'}, so the unit needs NotifyAccess=all)`);
  }

  ready(status: string): void {
    this.#send(['READY=1', `STATUS=${status}`, this.#mainPid]);
  }

  reloading(why: string): void {
    this.#send(['RELOADING=1', `MONOTONIC_USEC=${monotonicMicros()}`, `STATUS=reloading (${why})`, this.#mainPid]);
  }

  stopping(why: string): void {
    this.#send(['STOPPING=1', `STATUS=stopping (${why})`, this.#mainPid]);
  }

  tick(status: () => string): void {
    const now = performance.now();
    if (this.heartbeatMs !== null && now - this.#lastWatchdog >= this.heartbeatMs * 0.9) {
      this.#lastWatchdog = now;
      this.#send(['WATCHDOG=1']);
    }
    if (now - this.#lastStatus >= STATUS_EVERY_MS) {
      this.#lastStatus = now;
      this.#send([`STATUS=${status()}`]);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // End of stdin ends the helper once it has sent what was written before.
    this.#helper.stdin?.end();
  }

  #send(fields: readonly string[]): void {
    if (this.#closed) return;
    // A datagram is one message; a newline inside a value would start a new field.
    this.#helper.stdin?.write(`${JSON.stringify(fields.map((f) => f.replace(/\n/g, ' ')))}\n`);
  }
}

/** The watch loop's heartbeat for `notifier`: at least once a second (STATUS=), more often for a short watchdog. */
export function heartbeatOf(notifier: ServiceNotifier, status: () => string): { everyMs: number; beat(): void } {
  return { everyMs: Math.min(1000, notifier.heartbeatMs ?? 1000), beat: () => notifier.tick(status) };
}

/** Requests per second between two samples of the live workers' counters (a worker gone meanwhile loses its last few). */
export class RequestRate {
  #seen = new Map<number, number>();
  #at = performance.now();

  sample(workers: Iterable<{ readonly pid: number; readonly requestsServed: number }>): number {
    const now = performance.now();
    const seen = new Map<number, number>();
    let served = 0;
    for (const w of workers) {
      if (w.pid === 0) continue;
      seen.set(w.pid, w.requestsServed);
      served += Math.max(0, w.requestsServed - (this.#seen.get(w.pid) ?? 0));
    }
    const seconds = (now - this.#at) / 1000;
    this.#seen = seen;
    this.#at = now;
    return seconds > 0 ? served / seconds : 0;
  }
}
