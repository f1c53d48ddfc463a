/** What the arbiter is given (cli builds it): the config, the logger, the hooks, systemd's notifier and sockets, the side programs. */
import type { StageModules } from '../router/stage-modules.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { AccessLogger, FrontGeneration } from '../router/front.js';
import type { WorkerReadyInfo } from '../worker/handle.js';
import type { Interpreter } from './interpreter.js';
import type { ServiceNotifier } from './sd-notify.js';
import type { InheritedSocket } from './socket-activation.js';

export interface ArbiterHooks {
  /** Listening: bound and the app is ready (daemonize reports success here), just before appReady. */
  listening?(): void;
  /** The first worker is ready (daemonize2, pidfile2). */
  appReady?(): void;
  /** Berth is stopping because it could not start (daemonize reports the message). */
  failed?(message: string): void;
}

/** The side programs as the master sees them (src/supervise/ builds them; cli wires them in). */
export interface SidePrograms {
  /** Start the programs; resolves once those the web workers depend on (web-depends-on) are ready. */
  startBeforeWorkers(): Promise<void>;
  /** The web workers are about to reload (programs with reload-with-web restart). */
  webReloading(): void;
  /** Stop every program within boundMs (then SIGKILL). */
  stopAll(boundMs: number): Promise<void>;
}

export interface ArbiterDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly interpreter: Interpreter;
  readonly accessLog: (config: Config) => AccessLogger;
  /** Re-reads the configuration for a reload: a Config, or the problems as printable lines. */
  readonly reloadConfig?: () => Config | readonly string[];
  readonly hooks?: ArbiterHooks;
  /** systemd's notify protocol (./sd-notify.ts), when Berth runs under it. */
  readonly notifier?: ServiceNotifier;
  /** Listening sockets systemd passed (socket activation, ./socket-activation.ts). */
  readonly inherited?: readonly InheritedSocket[];
  readonly sidePrograms?: SidePrograms;
  /** The static and proxy stages' code, imported for `config` (../router/stage-modules.ts). */
  readonly stages: StageModules;
}

/** Whether the config names a WSGI app (else Berth is a pure front: routes only, no workers). */
export function hasApp(c: Config): boolean {
  return c.module !== null || c.wsgiFile !== null;
}

/** What the front serves from a generation: its config and, with static-from-django, its Django settings. */
export function frontGeneration(config: Config, ready: WorkerReadyInfo | null): FrontGeneration {
  return { config, django: config.staticFromDjango ? ready?.django ?? null : null };
}

/** "module x" or "wsgi-file y", for the log. */
export function appName(config: Config): string {
  return config.module !== null ? `module ${config.module}` : `wsgi-file ${config.wsgiFile}`;
}
