/**
 * The master loop: signals, reloads, stops and the watch loop, as named steps over the process tree.
 *
 * Theory of operation (after gunicorn's arbiter): the master binds the listeners once, drops
 * privileges, starts the workers (./workforce.ts) and then only reacts. Signal handlers merely
 * queue the signal; named steps do the work:
 *
 *   SIGHUP           reload: re-read the config; if it is valid and the new app imports, switch
 *                    to a new generation of workers (chain-reload: one at a time) — otherwise the
 *                    running generation keeps serving and the log says why
 *   SIGTERM, SIGINT  graceful stop: stop accepting, finish in-flight requests (reload-mercy),
 *                    retire the workers; the same signal again stops at once
 *   SIGQUIT          immediate stop
 *   SIGUSR1          reopen the log file (after an external logrotate)
 *   SIGTTIN/SIGTTOU  one worker more / less
 *
 * Once a second the watchdog looks at the workers (harakiri, max-requests, lifetime, RSS).
 * touch-reload / touch-chain-reload / touch-logreopen and py-autoreload are file triggers.
 * The listeners are never closed by a reload, so no connection is refused while it runs.
 *
 * The arbiter owns the process tree only: requests are the front's (../router/front.ts), which
 * it hands a generation once that generation is wholly ready — the one commit point of a
 * reload. Its own life is the state table in ./master-state.ts; stopping is driven by events
 * (the front going idle, the workforce's last exit), not by polling.
 */
import type { Config } from '../config/schema.js';
import { describeSource } from '../config/problem.js';
import type { Logger } from '../log/logger.js';
import type { BoundListener } from '../server/listeners.js';
import { MasterSockets } from './sockets.js';
import { Front, type AccessLogger, type FrontGeneration } from '../router/front.js';
import { WorkerPool } from '../worker/pool.js';
import type { WorkerHandle, WorkerReadyInfo } from '../worker/handle.js';
import { resolveInterpreter, type Interpreter } from './interpreter.js';
import { Workforce } from './workforce.js';
import { WatchLoop } from './watch-loop.js';
import { FileTrigger } from './file-triggers.js';
import { dropPrivileges } from './privileges.js';
import { canMasterTransition, isServing, masterTransition, type MasterState } from './master-state.js';

export interface ArbiterHooks {
  /** Listening: bound and the app is ready (daemonize reports success here), just before appReady. */
  listening?(): void;
  /** The first worker is ready (daemonize2, pidfile2). */
  appReady?(): void;
  /** Berth is stopping because it could not start (daemonize reports the message). */
  failed?(message: string): void;
}

export interface ArbiterDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly interpreter: Interpreter;
  readonly accessLog: (config: Config) => AccessLogger;
  /** Re-reads the configuration for a reload: a Config, or the problems as printable lines. */
  readonly reloadConfig?: () => Config | readonly string[];
  readonly hooks?: ArbiterHooks;
}

type Level = 'info' | 'warn' | 'error';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGTTIN', 'SIGTTOU'];

interface ReloadRequest {
  readonly chain: boolean;
  readonly why: string;
}

export class Arbiter {
  readonly #deps: ArbiterDeps;
  readonly #logger: Logger;
  readonly #pool = new WorkerPool();
  readonly #front: Front;
  readonly #workforce: Workforce;
  readonly #sockets: MasterSockets;
  readonly #signalQueue: NodeJS.Signals[] = [];
  #state: MasterState = 'STARTING';
  /** A reload asked for while one runs: it starts when that one ends (several asks make one). */
  #pendingReload: ReloadRequest | null = null;
  #config: Config;
  /** The bound listeners as "listening on" names them, once bound. */
  #where = '';
  #interpreter: Interpreter;
  readonly #watchLoop: WatchLoop;
  #triggers: FileTrigger[] = [];
  #autoreload: FileTrigger | null = null;
  #exitCode = 0;
  readonly #startedAt = Date.now();
  #finish: (code: number) => void = () => undefined;

  constructor(deps: ArbiterDeps) {
    this.#deps = deps;
    this.#config = deps.config;
    this.#interpreter = deps.interpreter;
    this.#logger = deps.logger;
    const log = (level: Level, message: string): void => this.#log(level, message);
    this.#front = new Front({ config: deps.config, pool: this.#pool, accessLog: deps.accessLog, line: (text) => this.#logger.line(text), log });
    this.#sockets = new MasterSockets(this.#front);
    this.#workforce = new Workforce({
      pool: this.#pool,
      dispatcher: this.#front.dispatcher,
      log,
      output: (text) => this.#logger.line(text),
      firstReady: (w, config) => this.#appReady(w, config),
      modules: (paths) => this.#autoreload?.setFiles(paths),
      fatal: (message, recoverable) => this.#fatal(message, recoverable),
      direct: (config) => this.#sockets.direct(config),
      directReport: (w, report) => this.#front.directReport(w, report),
    });
    this.#watchLoop = new WatchLoop({
      workers: () => this.#workforce.workers(),
      replace: (w, reason) => this.#workforce.replace(w, reason),
      active: () => this.#state === 'RUNNING' || this.#state === 'RELOADING',
    });
  }

  /** Runs until stopped; resolves with the process exit code. */
  async run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.#finish = resolve));
    const onSignal = (sig: NodeJS.Signals): void => {
      this.#signalQueue.push(sig);
      setImmediate(() => this.#handleSignals());
    };
    for (const s of SIGNALS) process.on(s, onSignal);
    try {
      await this.#sockets.bind(this.#config, (level, message) => this.#log(level, message));
      dropPrivileges(this.#config, (level, message) => this.#log(level, message));
    } catch (err) {
      const message = (err as Error).message;
      this.#log('error', message);
      this.#deps.hooks?.failed?.(message);
      this.#closeListeners();
      if (canMasterTransition(this.#state, 'STOPPED')) this.#moveTo('STOPPED');
      for (const s of SIGNALS) process.off(s, onSignal);
      return 1;
    }
    const viaMaster = this.#config.uwsgiViaMasterFor;
    this.#where = [
      ...this.#front.listeners.map((l) => l.address.via === 'socket'
        ? `uwsgi://${l.display}${viaMaster !== null ? ` (through the master, for ${viaMaster}; if nginx serves those files itself, uwsgi-direct = true lets the workers answer the pages themselves, docs/benchmarks.md)` : ''}`
        : `http://${l.display}`),
      ...this.#sockets.handedDisplays,
    ].join(', ');
    // Bound, not yet "listening": the workers need the sockets (uwsgi-direct, before dropping
    // privileges), and connections are accepted now so none is refused while the app loads —
    // they wait in the queue. "listening on" and the daemonize report wait for the app.
    this.#log('info', `bound ${this.#where}; loading the app (connections wait until it is ready)`);
    const c = this.#config;
    this.#log('info', `python: ${this.#interpreter.path} (${this.#interpreter.chosenBy}); ${c.processes} worker(s) × ${c.threads} thread(s), ${c.lazyApps ? 'lazy-apps (each worker imports the app)' : 'preload (the app is imported once, workers are forked)'}`);
    // A stop signal while binding has already ended the run: start no worker then.
    if (this.#state === 'STARTING') this.#armTriggers(c);
    if (this.#state === 'STARTING' && await this.#workforce.start(c, this.#interpreter) && this.#state === 'STARTING') {
      this.#moveTo('RUNNING');
      this.#watchLoop.arm(c);
    }
    const code = await done;
    for (const s of SIGNALS) process.off(s, onSignal);
    return code;
  }

  /** The bound addresses (tests use port 0). */
  get listeners(): readonly BoundListener[] {
    return this.#front.listeners;
  }

  get state(): MasterState {
    return this.#state;
  }

  #moveTo(next: MasterState): void {
    this.#state = masterTransition(this.#state, next);
  }

  /** Generation 1's first READY: the app is up; its Django settings complete the routes. */
  #appReady(w: WorkerHandle, config: Config): void {
    const info = w.ready!;
    this.#log('info', `app ready in ${Date.now() - this.#startedAt} ms: ${appName(config)} on Python ${info.version} (${info.executable})`);
    this.#log('info', `listening on ${this.#where}`);
    this.#deps.hooks?.listening?.();
    this.#deps.hooks?.appReady?.();
    // Nothing older exists to fall back to, so generation 1 is committed with its first READY.
    if (config.staticFromDjango) this.#front.commit(frontGeneration(config, info));
  }

  #handleSignals(): void {
    while (this.#signalQueue.length > 0) {
      const sig = this.#signalQueue.shift()!;
      switch (sig) {
        case 'SIGHUP':
          this.#requestReload({ chain: this.#config.chainReload, why: 'SIGHUP' });
          break;
        case 'SIGUSR1':
          this.#reopenLog('SIGUSR1');
          break;
        case 'SIGTTIN':
          if (isServing(this.#state)) this.#workforce.addWorker();
          break;
        case 'SIGTTOU':
          if (isServing(this.#state)) this.#workforce.removeWorker();
          break;
        case 'SIGQUIT':
          if (!canMasterTransition(this.#state, 'STOPPING_IMMEDIATE')) break;
          this.#log('info', 'SIGQUIT: stopping now');
          this.#stopImmediately(0);
          break;
        default:
          if (this.#state === 'STOPPING_GRACEFUL') {
            this.#log('info', `${sig} again: stopping now`);
            this.#stopImmediately(0);
          } else if (isServing(this.#state)) {
            this.#log('info', `${sig}: stopping gracefully (in-flight requests may take up to reload-mercy = ${this.#config.reloadMercyMs / 1000} s; send ${sig} again to stop now)`);
            this.#stopGracefully();
          }
      }
    }
  }

  #requestReload(request: ReloadRequest): void {
    if (this.#state === 'RELOADING') {
      this.#pendingReload = request;
      this.#log('info', `${request.why}: a reload is running; another one follows it`);
    } else if (this.#state === 'RUNNING') {
      void this.#reload(request);
    } else if (this.#state === 'STARTING') {
      this.#log('info', `${request.why}: reload ignored; the first generation is still starting`);
    }
  }

  /** RUNNING → RELOADING → RUNNING: the new generation is committed to the front only when wholly ready. */
  async #reload({ chain, why }: ReloadRequest): Promise<void> {
    this.#moveTo('RELOADING');
    try {
      await this.#runReload(chain, why);
    } finally {
      if (this.#state === 'RELOADING') this.#moveTo('RUNNING');
    }
    const next = this.#pendingReload;
    this.#pendingReload = null;
    if (next !== null && this.#state === 'RUNNING') void this.#reload(next);
  }

  async #runReload(chain: boolean, why: string): Promise<void> {
    const kind = chain ? 'chain reload' : 'reload';
    this.#log('info', `${why}: ${kind} of generation ${this.#workforce.generation} requested`);
    const loaded = this.#deps.reloadConfig?.() ?? this.#config;
    if (!('http' in loaded)) {
      this.#log('error', `${kind} refused: the configuration has problems; generation ${this.#workforce.generation} keeps serving:\n${loaded.map((l) => `  ${l}`).join('\n')}`);
      return;
    }
    const config = loaded as Config;
    let interpreter: Interpreter;
    try {
      interpreter = resolveInterpreter(config, process.env.PATH);
    } catch (err) {
      this.#log('error', `${kind} refused: ${(err as Error).message}; generation ${this.#workforce.generation} keeps serving`);
      return;
    }
    const kept = fixedAtStart(this.#config, config);
    if (kept.length > 0) this.#log('warn', `${kind}: ${kept.join(', ')} changed; these take effect only after a restart (the bound sockets and the master's identity are kept)`);
    if (config.logReopen) this.#reopenLog('log-reopen');
    const ready = await this.#workforce.reload(config, interpreter, chain);
    if (ready === null || this.#state !== 'RELOADING') return;
    // The commit point: routes, static mappings and access log switch with the workers.
    this.#front.commit(frontGeneration(config, ready));
    this.#config = config;
    this.#interpreter = interpreter;
    this.#watchLoop.arm(config);
    this.#armTriggers(config);
  }

  #reopenLog(why: string): void {
    try {
      this.#logger.reopen();
      this.#log('info', `${why}: log file reopened`);
    } catch (err) {
      const option = this.#config.logto !== null ? 'logto' : this.#config.daemonize2 !== null ? 'daemonize2' : 'daemonize';
      const origin = describeSource(this.#config.sources[option] ?? { kind: 'default' });
      this.#log('error', `${why}: option '${option}' (${origin}): could not reopen the log file: ${(err as Error).message}`);
    }
  }

  #armTriggers(config: Config): void {
    for (const t of this.#triggers) t.close();
    this.#triggers = [];
    const notice = (message: string): void => this.#log('warn', message);
    const on = (files: readonly string[], action: (paths: string[]) => void): void => {
      if (files.length > 0) this.#triggers.push(new FileTrigger({ files, onChange: action, onNotice: notice }));
    };
    on(config.touchReload, (p) => this.#requestReload({ chain: this.#config.chainReload, why: `touch-reload (${p.join(', ')})` }));
    on(config.touchChainReload, (p) => this.#requestReload({ chain: true, why: `touch-chain-reload (${p.join(', ')})` }));
    on(config.touchLogreopen, (p) => this.#reopenLog(`touch-logreopen (${p.join(', ')})`));
    const previous = this.#autoreload?.files ?? [];
    this.#autoreload?.close();
    this.#autoreload = null;
    if (config.pyAutoreloadMs > 0) {
      this.#autoreload = new FileTrigger({ files: previous, onChange: (p) => this.#requestReload({ chain: false, why: `py-autoreload (${p.join(', ')} changed)` }), onNotice: notice });
    }
  }

  #fatal(message: string, recoverable: boolean): void {
    this.#log('error', message);
    if (recoverable) {
      this.#front.appDown();
      return;
    }
    this.#deps.hooks?.failed?.(message);
    this.#front.failAll(503, 'Service Unavailable: the application could not be loaded.');
    this.#stopImmediately(1);
  }

  /** Stop accepting; once nothing is in flight (or reload-mercy ran out) retire every worker. */
  #stopGracefully(): void {
    this.#moveTo('STOPPING_GRACEFUL');
    this.#disarm();
    this.#closeListeners();
    const mercy = this.#config.reloadMercyMs;
    let retired = false;
    // Called by whichever comes first: the front going idle, or reload-mercy running out.
    const retire = (): void => {
      clearTimeout(deadline);
      if (retired || this.#state !== 'STOPPING_GRACEFUL') return;
      retired = true;
      const busy = this.#front.busy;
      if (busy > 0) this.#log('warn', `${busy} request(s) still running after reload-mercy = ${mercy / 1000} s; stopping anyway`);
      this.#workforce.retireAll();
      this.#killAfter(this.#config.workerReloadMercyMs);
      void this.#workforce.allExited().then(() => this.#finishStop());
    };
    const deadline = setTimeout(retire, mercy);
    deadline.unref();
    this.#front.stopAccepting(retire);
  }

  #killAfter(ms: number): void {
    const killer = setTimeout(() => {
      for (const w of this.#workforce.workers()) {
        this.#log('warn', `worker ${w.slot} (pid ${w.pid}) did not exit within worker-reload-mercy = ${ms / 1000} s; killing it`);
        w.kill();
      }
    }, ms);
    killer.unref();
  }

  #stopImmediately(code: number): void {
    if (!canMasterTransition(this.#state, 'STOPPING_IMMEDIATE')) {
      // Already stopping at once (SIGQUIT, then the app failed to load): keep the worse exit code.
      if (code !== 0) this.#exitCode = code;
      return;
    }
    this.#moveTo('STOPPING_IMMEDIATE');
    this.#sockets.stopRelaying();
    this.#exitCode = code;
    this.#disarm();
    this.#closeListeners();
    this.#front.stopNow();
    this.#workforce.killAll();
    void this.#workforce.allExited().then(() => this.#finishStop());
  }

  /** The last worker exited: stop the launchers and finish (once, whichever stop got here). */
  async #finishStop(): Promise<void> {
    if (this.#state === 'STOPPED') return;
    this.#moveTo('STOPPED');
    await this.#workforce.stopLaunchers();
    this.#closeListeners();
    this.#front.closeIdle();
    this.#finish(this.#exitCode);
  }

  #disarm(): void {
    this.#watchLoop.disarm();
    for (const t of this.#triggers) t.close();
    this.#triggers = [];
    this.#autoreload?.close();
    this.#autoreload = null;
  }

  #closeListeners(): void {
    this.#sockets.close();
  }

  #log(level: Level, message: string): void {
    this.#logger[level](message);
  }
}

/** What the front serves from a generation: its config and, with static-from-django, its Django settings. */
function frontGeneration(config: Config, ready: WorkerReadyInfo): FrontGeneration {
  return { config, django: config.staticFromDjango ? ready.django ?? null : null };
}

function appName(config: Config): string {
  return config.module !== null ? `module ${config.module}` : `wsgi-file ${config.wsgiFile}`;
}

/** Options a reload cannot change: the sockets stay bound and the master keeps its identity. */
function fixedAtStart(before: Config, after: Config): string[] {
  const fields = ['http', 'uwsgi', 'uwsgiDirect', 'chmodSocket', 'chownSocket', 'detectProtocol', 'uwsgiAllow', 'mounts', 'bufferSizeBytes', 'limitPostBytes', 'spoolLimitBytes', 'listen', 'httpTimeoutMs', 'socketTimeoutMs', 'uid', 'gid', 'umask', 'pidfile', 'pidfile2', 'daemonize', 'daemonize2', 'logto'] as const;
  return fields.filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
}
