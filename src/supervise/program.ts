/**
 * One side program process under supervision: the state table (program-state.ts) driven by a
 * real process (program-process.ts), its startsecs and backoff timers, its ready-check, its
 * tail of output lines, and, for smart-attach-daemon, the pid its pidfile names.
 */
import { readFileSync } from 'node:fs';
import type { ProgramSpec } from '../config/program-spec.js';
import { ProgramProcess, type Stream } from './program-process.js';
import { canMove, move, onExit, type ProgramState } from './program-state.js';
import { probeOnce } from './readiness.js';

type Level = 'info' | 'warn' | 'error';
const TAIL_LINES = 200;
const FATAL_LINES = 10;
const PROBE_EVERY_MS = 250;
const PIDFILE_POLL_MS = 1000;

export interface ProgramDeps {
  readonly log: (level: Level, message: string) => void;
  readonly line: (text: string) => void;
  /** Something changed that dependents may be waiting on. */
  readonly changed: () => void;
}

export interface ProgramStatus {
  readonly name: string;
  readonly program: string;
  readonly state: ProgramState;
  readonly pid: number | null;
  readonly ready: boolean;
  readonly restarts: number;
  readonly startedAt: number | null;
  readonly uptimeMs: number;
  readonly exitCode: number | null;
  readonly description: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Program {
  spec: ProgramSpec;
  readonly #deps: ProgramDeps;
  #state: ProgramState = 'STOPPED';
  #proc: ProgramProcess | null = null;
  /** smart-attach-daemon: the daemon's pid, read from the pidfile. */
  #watchedPid: number | null = null;
  #retries = 0;
  #restarts = 0;
  #ready = false;
  #startedAt: number | null = null;
  #lastExit: { code: number | null; signal: NodeJS.Signals | null; at: number } | null = null;
  #timer: NodeJS.Timeout | null = null;
  #probe: NodeJS.Timeout | null = null;
  readonly #tail: { stream: Stream; line: string }[] = [];
  readonly #followers = new Set<(stream: Stream, line: string) => void>();
  #stopped: (() => void)[] = [];

  constructor(spec: ProgramSpec, deps: ProgramDeps) {
    this.spec = spec;
    this.#deps = deps;
  }

  get name(): string { return this.spec.name; }
  get state(): ProgramState { return this.#state; }
  /** RUNNING and, with a ready-check, passing it: what depends-on waits for. */
  get ready(): boolean { return this.#ready; }
  get pid(): number | null { return this.#watchedPid ?? this.#proc?.pid ?? null; }

  status(now = Date.now()): ProgramStatus {
    const up = this.#state === 'RUNNING' && this.#startedAt !== null;
    const exit = this.#lastExit;
    const description = up ? `pid ${this.pid}, uptime ${formatUptime(now - this.#startedAt!)}`
      : exit !== null && (this.#state === 'EXITED' || this.#state === 'FATAL' || this.#state === 'BACKOFF') ? `exited ${exit.signal ?? `with code ${exit.code}`} ${new Date(exit.at).toISOString()}`
        : this.#state === 'STOPPED' && exit !== null ? `stopped ${new Date(exit.at).toISOString()}` : this.#state === 'STOPPED' ? 'not started' : '';
    return { name: this.name, program: this.spec.program, state: this.#state, pid: this.pid, ready: this.#ready, restarts: this.#restarts, startedAt: this.#startedAt, uptimeMs: up ? now - this.#startedAt! : 0, exitCode: exit?.code ?? null, description };
  }

  tail(stream: Stream | 'all', lines: number): string[] {
    return this.#tail.filter((t) => stream === 'all' || t.stream === stream).slice(-lines).map((t) => t.line);
  }

  follow(fn: (stream: Stream, line: string) => void): () => void {
    this.#followers.add(fn);
    return () => this.#followers.delete(fn);
  }

  /** Start from STOPPED, EXITED or FATAL (a manual start resets the retries, as supervisor does). */
  start(): boolean {
    if (!canMove(this.#state, 'STARTING')) return false;
    this.#retries = 0;
    this.#spawn();
    return true;
  }

  /** Stop and resolve once STOPPED (at once from BACKOFF, EXITED, FATAL, STOPPED). */
  stop(): Promise<void> {
    this.#clearTimers();
    if (this.#state === 'BACKOFF') this.#moveTo('STOPPED');
    if (this.#state === 'STOPPED' || this.#state === 'EXITED' || this.#state === 'FATAL') return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#stopped.push(resolve));
    if (this.#state !== 'STOPPING') {
      this.#moveTo('STOPPING');
      this.#ready = false;
      const s = this.spec;
      this.#deps.log('info', `program ${this.name}: stopping (${s.stopsignal}${s.stopasgroup ? ' to its process group' : ''}; SIGKILL after ${s.stopwaitMs / 1000} s)`);
      if (this.#watchedPid !== null && this.#proc === null) this.#stopWatched();
      else this.#proc?.stop(s.stopsignal, s.stopasgroup, s.killasgroup, s.stopwaitMs, () => this.#deps.log('warn', `program ${this.name}: still running ${s.stopwaitMs / 1000} s after ${s.stopsignal} (stopwaitsecs); killing it`));
    }
    return done;
  }

  /** The stop bound ran out: SIGKILL whatever is left. */
  kill(): void {
    this.#proc?.kill();
    if (this.#watchedPid !== null) try { process.kill(this.#watchedPid, 'SIGKILL'); } catch { /* gone */ }
  }

  signal(sig: NodeJS.Signals): boolean {
    if (this.#watchedPid !== null && this.#proc === null) {
      try { process.kill(this.#watchedPid, sig); return true; } catch { return false; }
    }
    return this.#proc?.signal(sig, false) ?? false;
  }

  #moveTo(next: ProgramState): void {
    this.#state = move(this.#state, next);
    this.#deps.changed();
  }

  #spawn(): void {
    this.#moveTo('STARTING');
    this.#ready = false;
    if (this.spec.pidfile !== null && this.#adopt()) return;
    try {
      const proc = new ProgramProcess(this.spec, {
        logLine: this.#deps.line,
        captured: (stream, line) => this.#capture(stream, line),
        warn: (message) => this.#deps.log('warn', message),
      }, (code, signal) => this.#exited(proc, code, signal));
      this.#proc = proc;
      this.#startedAt = proc.startedAt;
      this.#deps.log('info', `program ${this.name}: spawned with pid ${proc.pid}${this.#retries > 0 ? ` (retry ${this.#retries} of ${this.spec.startretries})` : ''}`);
    } catch (err) {
      this.#deps.log('error', `program ${this.name}: ${(err as Error).message}`);
      this.#exited(null, 127, null);
      return;
    }
    if (this.spec.pidfile !== null) return;
    this.#timer = setTimeout(() => this.#running(), this.spec.startsecsMs);
  }

  /** smart-attach-daemon: a live pid in the pidfile is the daemon, already running (it outlives reloads and Berth). */
  #adopt(): boolean {
    const pid = this.#readPidfile();
    if (pid === null || !pidAlive(pid)) return false;
    this.#watchedPid = pid;
    this.#startedAt = Date.now();
    this.#deps.log('info', `program ${this.name}: pid ${pid} from ${this.spec.pidfile} is running; watching it`);
    this.#running();
    this.#watchPid();
    return true;
  }

  #readPidfile(): number | null {
    try {
      const pid = Number(readFileSync(this.spec.pidfile!, 'utf8').trim());
      return Number.isInteger(pid) && pid > 1 ? pid : null;
    } catch {
      return null;
    }
  }

  #watchPid(): void {
    this.#timer = setInterval(() => {
      if (this.#watchedPid === null || pidAlive(this.#watchedPid)) return;
      this.#clearTimers();
      this.#watchedPid = null;
      if (this.#state === 'STOPPING') return this.#finishStop();
      this.#deps.log('warn', `program ${this.name}: the pid in ${this.spec.pidfile} is gone; starting ${this.spec.command} again`);
      this.#restarts++;
      this.#lastExit = { code: null, signal: null, at: Date.now() };
      this.#moveTo('EXITED');
      this.#spawn();
    }, PIDFILE_POLL_MS);
  }

  #stopWatched(): void {
    const pid = this.#watchedPid!;
    try { process.kill(pid, this.spec.stopsignal); } catch { /* gone */ }
    const deadline = setTimeout(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }, this.spec.stopwaitMs);
    deadline.unref();
  }

  #running(): void {
    this.#timer = null;
    if (this.#state !== 'STARTING') return;
    this.#moveTo('RUNNING');
    this.#retries = 0;
    this.#deps.log('info', `program ${this.name}: RUNNING (up for ${this.spec.startsecsMs / 1000} s, startsecs)${this.spec.readyCheck !== null ? `; checking ${this.spec.readyCheck.text}` : ''}`);
    if (this.spec.readyCheck === null) this.#becomeReady();
    else this.#probeUntilReady();
  }

  #probeUntilReady(): void {
    const check = this.spec.readyCheck!;
    void probeOnce(check).then((ok) => {
      if (this.#state !== 'RUNNING' || this.#ready) return;
      if (ok) return this.#becomeReady(`${check.text} answered`);
      this.#probe = setTimeout(() => this.#probeUntilReady(), PROBE_EVERY_MS);
    });
  }

  #becomeReady(why?: string): void {
    this.#ready = true;
    if (why !== undefined) this.#deps.log('info', `program ${this.name}: ready (${why})`);
    this.#deps.changed();
  }

  #exited(proc: ProgramProcess | null, code: number | null, signal: NodeJS.Signals | null): void {
    if (proc !== null && proc !== this.#proc) return;
    this.#proc = null;
    this.#clearTimers();
    this.#ready = false;
    this.#lastExit = { code, signal, at: Date.now() };
    const how = signal !== null ? `by ${signal}` : `with code ${code}`;
    // smart-attach-daemon: the command put the daemon in the background and wrote its pid.
    if (this.spec.pidfile !== null && this.#state === 'STARTING' && code === 0) {
      const pid = this.#readPidfile();
      if (pid !== null && pidAlive(pid)) {
        this.#watchedPid = pid;
        this.#deps.log('info', `program ${this.name}: daemon pid ${pid} (from ${this.spec.pidfile})`);
        this.#running();
        this.#watchPid();
        return;
      }
    }
    const outcome = onExit({ state: this.#state, code, retries: this.#retries, startretries: this.spec.startretries, autorestart: this.spec.autorestart, exitcodes: this.spec.exitcodes });
    switch (outcome.next) {
      case 'STOPPED':
        this.#deps.log('info', `program ${this.name}: stopped (exited ${how})`);
        return this.#finishStop();
      case 'BACKOFF':
        this.#retries = outcome.retry;
        this.#moveTo('BACKOFF');
        this.#deps.log('warn', `program ${this.name}: exited ${how} before startsecs (${this.spec.startsecsMs / 1000} s); BACKOFF: retry ${outcome.retry} of ${this.spec.startretries} in ${outcome.delayMs / 1000} s`);
        this.#timer = setTimeout(() => { this.#timer = null; if (this.#state === 'BACKOFF') { this.#restarts++; this.#spawn(); } }, outcome.delayMs);
        return;
      case 'FATAL': {
        this.#moveTo('BACKOFF');
        this.#moveTo('FATAL');
        const last = this.tail('all', FATAL_LINES);
        this.#deps.log('error', `program ${this.name}: FATAL: exited ${how} before startsecs ${this.spec.startretries + 1} time(s) in a row (startretries = ${this.spec.startretries}); not starting it again — fix it, then berth ctl start ${this.name}. Its last ${last.length} line(s):${last.length === 0 ? ' (none)' : ''}`);
        for (const l of last) this.#deps.line(`[${this.name}] | ${l}`);
        return;
      }
      case 'EXITED':
        this.#moveTo('EXITED');
        this.#deps.log(outcome.expected ? 'info' : 'warn', `program ${this.name}: exited ${how} (${outcome.expected ? 'expected' : 'not expected'})${outcome.restart ? '; starting it again' : ''}`);
        if (outcome.restart) {
          this.#restarts++;
          this.#spawn();
        }
    }
  }

  #finishStop(): void {
    this.#moveTo('STOPPED');
    this.#startedAt = null;
    const waiting = this.#stopped;
    this.#stopped = [];
    for (const w of waiting) w();
  }

  #capture(stream: Stream, line: string): void {
    this.#tail.push({ stream, line });
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
    for (const f of this.#followers) f(stream, line);
  }

  #clearTimers(): void {
    if (this.#timer !== null) { clearTimeout(this.#timer); clearInterval(this.#timer); }
    if (this.#probe !== null) clearTimeout(this.#probe);
    this.#timer = null;
    this.#probe = null;
  }
}

/** 1:02:03 or 2 days, 1:02:03, as supervisorctl shows uptime. */
export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const hms = `${Math.floor((s % 86400) / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  const days = Math.floor(s / 86400);
  return days > 0 ? `${days} day${days > 1 ? 's' : ''}, ${hms}` : hms;
}
