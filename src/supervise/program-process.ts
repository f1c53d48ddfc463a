/**
 * One running process of a side program: started by /bin/sh -c 'exec COMMAND' in a process
 * group of its own (a new session), its output kept in whole lines (to Berth's log with the
 * name in front, to its own rotating file, and in a tail for berth ctl tail and FATAL), and
 * stopped by signalling the whole group, so grandchildren go too. A grandchild that calls
 * setsid() itself leaves the group and is not reached (docs/supervision.md says so).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import type { OutputTarget, ProgramSpec } from '../config/program-spec.js';
import { RotatingFileSink } from '../log/rotating-file.js';
import { LineJoiner } from '../worker/line-joiner.js';

export type Stream = 'stdout' | 'stderr';

export interface ProcessSinks {
  /** A line for Berth's log (already prefixed with the program's name). */
  readonly logLine: (text: string) => void;
  /** Every line the program wrote, for its tail and the berth ctl tail -f subscribers. */
  readonly captured: (stream: Stream, line: string) => void;
  readonly warn: (message: string) => void;
}

/** uid/gid of a user name (or number), looked up by id(1) so that NSS (LDAP, …) answers too. */
function idsOf(user: string): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export class ProgramProcess {
  readonly #child: ChildProcess;
  readonly #files: RotatingFileSink[] = [];
  readonly #joiners: LineJoiner[] = [];
  readonly pid: number;
  readonly startedAt = Date.now();
  #exited = false;
  #killTimer: NodeJS.Timeout | null = null;

  /** Throws when the process cannot be started at all (command or directory missing, unknown user). */
  constructor(spec: ProgramSpec, sinks: ProcessSinks, onExit: (code: number | null, signal: NodeJS.Signals | null) => void) {
    const env: Record<string, string | undefined> = { ...process.env, SUPERVISOR_PROCESS_NAME: spec.name, SUPERVISOR_GROUP_NAME: spec.program, BERTH_PROGRAM: spec.name };
    // Berth's own supervisor markers would make a Berth started as a side program think supervisord runs it.
    delete env.SUPERVISOR_ENABLED;
    for (const [k, v] of spec.environment) env[k] = v;
    const ids = spec.user !== null ? idsOf(spec.user) : null;
    const previousMask = spec.umask !== null ? process.umask(spec.umask) : null;
    try {
      this.#child = spawn('/bin/sh', ['-c', `exec ${spec.command}`], {
        detached: true,
        cwd: spec.directory ?? undefined,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(ids !== null ? { uid: ids.uid, gid: ids.gid } : {}),
      });
    } finally {
      if (previousMask !== null) process.umask(previousMask);
    }
    if (this.#child.pid === undefined) {
      // spawn reports ENOENT (a missing directory) asynchronously; the pid tells at once.
      this.#child.on('error', () => undefined);
      throw new Error(`could not start ${spec.command}${spec.directory !== null ? ` in ${spec.directory}` : ''}`);
    }
    this.pid = this.#child.pid;
    const route = (stream: Stream, target: OutputTarget): ((text: string) => void) => {
      let file: RotatingFileSink | null = null;
      if (target.kind === 'file') {
        try {
          file = new RotatingFileSink({ path: target.path, maxBytes: target.maxBytes, backupName: target.path, backups: target.backups, report: sinks.warn, setting: `[program:${spec.program}] ${stream}_logfile` });
          this.#files.push(file);
        } catch (err) {
          sinks.warn(`[program:${spec.program}] ${stream}_logfile: cannot open ${target.path}: ${(err as Error).message}; its output goes to Berth's log instead`);
        }
      }
      return (text: string) => {
        for (const line of text.split('\n')) {
          if (line === '') continue;
          sinks.captured(stream, line);
          if (file !== null) file.write(`${line}\n`);
          else if (target.kind === 'log' || (target.kind === 'file')) sinks.logLine(`[${spec.name}] ${line}`);
        }
      };
    };
    const outTarget = spec.stdout;
    const errTarget = spec.redirectStderr ? spec.stdout : spec.stderr;
    const outJoin = new LineJoiner(route('stdout', outTarget));
    const errJoin = spec.redirectStderr ? outJoin : new LineJoiner(route('stderr', errTarget));
    this.#joiners.push(outJoin, errJoin);
    this.#child.stdout?.setEncoding('utf8').on('data', (t: string) => outJoin.push(t));
    this.#child.stderr?.setEncoding('utf8').on('data', (t: string) => errJoin.push(t));
    this.#child.on('error', () => undefined);
    this.#child.on('exit', (code, signal) => {
      this.#exited = true;
      if (this.#killTimer !== null) clearTimeout(this.#killTimer);
      // What the program left in its group (a worker it forked, a shell's child) goes with it,
      // unless the program's job is to leave a daemon behind (pidfile-tracked).
      if (spec.killasgroup && spec.pidfile === null) this.#killGroup();
      onExit(code, signal);
    });
    this.#child.on('close', () => {
      for (const j of this.#joiners) j.flush();
      for (const f of this.#files) f.close();
    });
  }

  #killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is gone already.
    }
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Send a signal to the process group (asGroup) or the process alone. */
  signal(sig: NodeJS.Signals, asGroup: boolean): boolean {
    if (this.#exited) return false;
    try {
      process.kill(asGroup ? -this.pid : this.pid, sig);
      return true;
    } catch {
      return false;
    }
  }

  /** stopsignal now, SIGKILL (to the group with killasgroup) after waitMs if it is still there. */
  stop(sig: NodeJS.Signals, asGroup: boolean, killAsGroup: boolean, waitMs: number, onKill: () => void): void {
    this.signal(sig, asGroup);
    if (this.#killTimer !== null || this.#exited) return;
    this.#killTimer = setTimeout(() => {
      if (this.#exited) return;
      onKill();
      this.signal('SIGKILL', killAsGroup);
    }, waitMs);
  }

  /** SIGKILL to the whole group at once (the stop bound ran out). */
  kill(): void {
    if (!this.#exited) this.signal('SIGKILL', true);
  }
}
