/**
 * The master's presence on the machine, for `berth --stop/--reload/--status` and init systems:
 * its pidfiles and, when daemonized, the link back to the process that started it.
 *
 * Theory of operation: runServe opens an InstanceControl after the config is loaded (and after
 * daemonizeIfAsked, so in the daemon child). claim() takes the pidfile before anything is
 * bound; the arbiter's hooks write pidfile2 when the app is ready and report `listening` /
 * `ready` / `failed` to a waiting foreground process; finish() removes our pidfiles (vacuum)
 * and tells a still-waiting foreground process that the start failed.
 */
import { DaemonLink, daemonLogFile, type DaemonOptions } from './daemon.js';
import { Pidfiles, type PidfileLog, type PidfileOptions } from './pidfile.js';

export interface InstanceOptions extends PidfileOptions, DaemonOptions {
  readonly logto: string | null;
  readonly vacuum: boolean;
  readonly module: string | null;
  readonly wsgiFile: string | null;
}

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

/** The arbiter's hooks (ArbiterHooks in arbiter.ts), structurally. */
export interface InstanceHooks {
  listening(): void;
  appReady(): void;
  failed(message: string): void;
}

export class InstanceControl {
  readonly #options: InstanceOptions;
  readonly #daemon: DaemonLink | null;
  readonly #logFile: string | null;
  #pidfiles: Pidfiles | null = null;

  constructor(options: InstanceOptions, env: NodeJS.ProcessEnv = process.env) {
    this.#options = options;
    this.#daemon = DaemonLink.fromEnv(env);
    this.#logFile = options.logto ?? daemonLogFile(options, env);
  }

  /** Whether this process is the detached child of daemonize (its stderr is the log file). */
  get isDaemonChild(): boolean {
    return this.#daemon !== null;
  }

  /** Where the log goes: `logto`, else (in the daemon) the daemonize file, else null (stderr). */
  get logFile(): string | null {
    return this.#logFile;
  }

  /** Takes the pidfile; throws BERTH_ALREADY_RUNNING / BERTH_PIDFILE_FAILED. */
  claim(log: PidfileLog): void {
    this.#pidfiles = Pidfiles.claim(this.#options, process.pid, log);
  }

  hooks(where: () => string, log: Log): InstanceHooks {
    const app = this.#options.module ?? this.#options.wsgiFile ?? 'the app';
    return {
      listening: () => this.#daemon?.notify('listening', `listening on ${where()}`),
      appReady: () => {
        const failed = this.#pidfiles?.writeLate() ?? null;
        if (failed !== null) log('error', failed);
        this.#daemon?.notify('ready', `app ready: ${app}`);
      },
      failed: (message) => this.#daemon?.notify('failed', message),
    };
  }

  failed(message: string): void {
    this.#daemon?.notify('failed', message);
  }

  /** On exit: vacuum our pidfiles; a foreground process still waiting learns the start failed. */
  finish(code: number, log: Log): void {
    if (this.#options.vacuum && this.#pidfiles !== null) for (const p of this.#pidfiles.release()) log('info', `removed pidfile ${p}`);
    this.#daemon?.notify('failed', `Berth stopped with exit code ${code} before it was ready`);
  }
}
