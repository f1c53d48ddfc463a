/**
 * One vassal: a child `berth --ini FILE`, its own master, started, reloaded, restarted and
 * stopped by the emperor. Its stdout and stderr lines reach the emperor's log prefixed with
 * its name. Its fd 3 is a socket pair with the emperor: the vassal reports `accepting` and
 * `ready` on it, and stops gracefully when it reads EOF, which is how vassals die with an
 * emperor killed by SIGKILL (Node has no PR_SET_PDEATHSIG).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { formatUptime } from './program.js';
import { LOYAL_MS, Throttle } from './throttle.js';
import { VASSAL_PIPE_VARIABLE } from './emperor-pipe.js';

export type VassalState = 'running' | 'throttled' | 'stopping' | 'stopped';

export interface VassalDeps {
  readonly name: string;
  readonly path: string;
  /** The command that runs Berth: [node, bin/berth.js]. */
  readonly berth: readonly [string, ...string[]];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly throttle: Throttle;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** One line the vassal printed, already prefixed by nothing: the emperor adds the name. */
  readonly output: (name: string, line: string) => void;
}

/** What the stats document shows of a vassal (uWSGI's keys, src/supervise/emperor-stats.ts). */
export interface VassalFacts {
  readonly id: string;
  readonly pid: number;
  readonly born: number;
  readonly lastMod: number;
  readonly loyal: number;
  readonly ready: number;
  readonly accepting: number;
  readonly lastReady: number;
  readonly lastAccepting: number;
  readonly lastLoyal: number;
  readonly firstRun: number;
  readonly lastRun: number;
  readonly respawns: number;
  readonly attempts: number;
  readonly throttleMs: number;
  readonly state: VassalState;
}

const now = (): number => Math.floor(Date.now() / 1000);

export class Vassal {
  readonly #d: VassalDeps;
  #child: ChildProcess | null = null;
  #state: VassalState = 'stopped';
  #timer: NodeJS.Timeout | null = null;
  #startedAt = 0;
  #lastMod = 0;
  #firstRun = 0;
  #lastRun = 0;
  #ready = 0;
  #accepting = 0;
  #respawns = 0;
  #throttleMs = 0;
  readonly #exitWaiters: (() => void)[] = [];

  constructor(deps: VassalDeps) {
    this.#d = deps;
  }

  get name(): string { return this.#d.name; }
  get state(): VassalState { return this.#state; }
  get pid(): number { return this.#child?.pid ?? 0; }

  start(mtimeMs: number): void {
    this.#lastMod = Math.floor(mtimeMs / 1000);
    this.#spawn();
  }

  /** The file changed: a graceful reload (SIGHUP), or at once a start for a throttled vassal. */
  reload(mtimeMs: number): void {
    this.#lastMod = Math.floor(mtimeMs / 1000);
    if (this.#state === 'throttled') {
      this.#clearTimer();
      this.#d.throttle.reset();
      this.#d.log('info', `[emperor] vassal ${this.name} changed while throttled: starting it now`);
      this.#spawn();
      return;
    }
    if (this.#state !== 'running' || this.#child === null) return;
    this.#d.log('info', `[emperor] vassal ${this.name} changed: reloading it gracefully (SIGHUP to pid ${this.pid})`);
    this.#ready = 0;
    this.#child.kill('SIGHUP');
  }

  /** Graceful stop (SIGTERM; the vassal keeps its own stop bound); resolves once it exited. */
  stop(why: string): Promise<void> {
    this.#clearTimer();
    if (this.#child === null) {
      this.#state = 'stopped';
      return Promise.resolve();
    }
    if (this.#state !== 'stopping') {
      this.#state = 'stopping';
      this.#d.log('info', `[emperor] stopping vassal ${this.name} (pid ${this.pid}): ${why}`);
      this.#child.kill('SIGTERM');
    }
    return new Promise((resolve) => this.#exitWaiters.push(resolve));
  }

  /** berth ctl start: a stopped vassal starts, a throttled one starts now; false when it runs already. */
  startNow(): boolean {
    if (this.#state === 'running' || this.#state === 'stopping') return false;
    this.#clearTimer();
    this.#d.throttle.reset();
    this.#d.log('info', `[emperor] vassal ${this.name}: started by berth ctl`);
    this.#spawn();
    return true;
  }

  /** berth ctl's row: state, pid, uptime, restarts and the throttle delay. */
  status(now = Date.now()): Record<string, unknown> {
    const up = this.#state === 'running' && this.#child !== null ? now - this.#startedAt : 0;
    const state = this.#state.toUpperCase();
    const restarts = `${this.#respawns} restart(s)`;
    const description = this.#state === 'running' ? `pid ${this.pid}, uptime ${formatUptime(up)}, ${restarts}`
      : this.#state === 'throttled' ? `crash-looping: next start in ${this.#throttleMs} ms (attempt ${this.#d.throttle.attempts}), ${restarts}`
        : this.#state === 'stopping' ? `pid ${this.pid}, stopping` : `not running, ${restarts}`;
    return { name: this.name, kind: 'vassal', file: this.#d.path, state, pid: this.pid, uptimeMs: up, restarts: this.#respawns, throttleMs: this.#state === 'throttled' ? this.#throttleMs : 0, description };
  }

  facts(): VassalFacts {
    const up = this.#child !== null && this.#state === 'running' ? Date.now() - this.#startedAt : 0;
    const loyal = up >= LOYAL_MS ? 1 : 0;
    return {
      id: this.name, pid: this.pid, born: Math.floor(this.#startedAt / 1000), lastMod: this.#lastMod,
      loyal, ready: this.#ready, accepting: this.#accepting,
      lastReady: this.#ready, lastAccepting: this.#accepting, lastLoyal: loyal,
      firstRun: this.#firstRun, lastRun: this.#lastRun, respawns: this.#respawns,
      attempts: this.#d.throttle.attempts, throttleMs: this.#throttleMs, state: this.#state,
    };
  }

  #spawn(): void {
    const [command, ...args] = this.#d.berth;
    const env: Record<string, string | undefined> = { ...this.#d.env, [VASSAL_PIPE_VARIABLE]: '3' };
    // The emperor's own BERTH_EMPEROR* variables would make every vassal an emperor too.
    for (const key of Object.keys(env)) if (key.startsWith('BERTH_EMPEROR')) delete env[key];
    const child = spawn(command, [...args, '--ini', this.#d.path], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env });
    this.#child = child;
    this.#state = 'running';
    this.#startedAt = Date.now();
    this.#ready = 0;
    this.#accepting = 0;
    if (this.#firstRun === 0) this.#firstRun = now();
    this.#lastRun = now();
    this.#d.log('info', `[emperor] vassal ${this.name} started (pid ${child.pid ?? '?'}, berth --ini ${this.#d.path})`);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.#d.output(this.name, line));
    }
    const pipe = child.stdio[3] as Readable | null;
    if (pipe !== null) {
      createInterface({ input: pipe }).on('line', (line) => {
        if (line === 'accepting') this.#accepting = 1;
        else if (line === 'ready') this.#ready = 1;
      });
    }
    child.on('error', (err) => this.#d.log('error', `[emperor] vassal ${this.name}: cannot start berth: ${err.message}`));
    child.on('exit', (code, signal) => this.#exited(child, code, signal));
  }

  #exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    this.#child = null;
    this.#ready = 0;
    this.#accepting = 0;
    const how = signal !== null ? `killed by ${signal}` : `exit code ${code ?? '?'}`;
    if (this.#state === 'stopping') {
      this.#state = 'stopped';
      this.#d.log('info', `[emperor] vassal ${this.name} stopped (${how})`);
      for (const w of this.#exitWaiters.splice(0)) w();
      return;
    }
    const uptimeMs = Date.now() - this.#startedAt;
    const delay = this.#d.throttle.next(uptimeMs);
    this.#throttleMs = delay;
    this.#respawns += 1;
    this.#state = 'throttled';
    this.#d.log('warn', `[emperor] vassal ${this.name} exited on its own (${how}) after ${(uptimeMs / 1000).toFixed(1)}s; attempt ${this.#d.throttle.attempts}: throttled, next start in ${delay} ms`);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#state === 'throttled') this.#spawn();
    }, delay);
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
