/**
 * The master loop: signals, reloads, stops and the watch loop, as named steps over the process tree.
 *
 * Theory of operation (after gunicorn's arbiter): the master binds the listeners once, drops
 * privileges, starts the workers (./workforce.ts) and then only reacts. Signal handlers merely
 * queue the signal; named steps do the work:
 *
 *   SIGHUP           reload (./reloads.ts): re-read the config; if it is valid and the new app
 *                    imports and passes its checks, switch to a new generation of workers
 *                    (chain-reload: one at a time), rolling back if its first answers are all
 *                    5xx — otherwise the running generation keeps serving and the log says why
 *   SIGTERM, SIGINT  graceful stop: stop accepting, finish in-flight requests, retire the
 *                    workers; reload-mercy bounds it all (then SIGKILL); again stops at once
 *   SIGQUIT          immediate stop
 *   SIGUSR1          reopen the log file (after an external logrotate)
 *   SIGTTIN/SIGTTOU  one worker more / less
 *
 * Once a second the watchdog looks at the workers (harakiri, max-requests, lifetime, RSS).
 * touch-reload / touch-chain-reload / touch-logreopen and py-autoreload are file triggers
 * (./reload-triggers.ts), re-armed with each committed config.
 * The listeners are never closed by a reload, so no connection is refused while it runs.
 *
 * The arbiter owns the process tree only: requests are the front's (../router/front.ts), which
 * it hands a generation once that generation is wholly ready — the one commit point of a
 * reload. Its own life is the state table in ./master-state.ts; stopping is driven by events
 * (the front going idle, the workforce's last exit), not by polling.
 */
import type { Config } from '../config/schema.js';
import { describeSource } from '../config/problem.js';
import { schemeOf, summarizeConfig, type SummaryListener } from '../config/summary.js';
import type { Logger } from '../log/logger.js';
import { IdleCompaction } from './idle-compaction.js';
import { MasterSockets } from './sockets.js';
import { directInFlight, refreshDirectReports } from './direct-in-flight.js';
import { Front, type AccessLogger } from '../router/front.js';
import { WorkerPool } from '../worker/pool.js';
import type { WorkerHandle, WorkerReadyInfo } from '../worker/handle.js';
import type { Interpreter } from './interpreter.js';
import { Reloads } from './reloads.js';
import { ReloadReporter } from './reload-report.js';
import { Workforce } from './workforce.js';
import { WatchLoop } from './watch-loop.js';
import { ReloadTriggers } from './reload-triggers.js';
import { dropPrivileges } from './privileges.js';
import { canMasterTransition, isServing, masterTransition, type MasterState } from './master-state.js';
import { heartbeatOf, RequestRate } from './sd-notify.js';
import { appName, frontGeneration, hasApp, type ArbiterDeps } from './arbiter-deps.js';

type Level = 'info' | 'warn' | 'error';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGTTIN', 'SIGTTOU'];

export class Arbiter {
  readonly #deps: ArbiterDeps;
  readonly #logger: Logger;
  readonly #pool = new WorkerPool();
  readonly #front: Front;
  readonly #workforce: Workforce;
  readonly #sockets: MasterSockets;
  readonly #signalQueue: NodeJS.Signals[] = [];
  #state: MasterState = 'STARTING';
  readonly #reloads: Reloads;
  readonly #reporter: ReloadReporter;
  #config: Config;
  /** The bound listeners as "listening on" names them, once bound. */
  #where = '';
  #bound = false;
  #interpreter: Interpreter;
  readonly #watchLoop: WatchLoop;
  readonly #triggers: ReloadTriggers;
  #exitCode = 0;
  readonly #startedAt = Date.now();
  #finish: (code: number) => void = () => undefined;
  readonly #rate = new RequestRate();
  readonly #compaction = new IdleCompaction();
  /** The side programs' stop, begun with the master's; the stop finishes when both are done. */
  #sideStop: Promise<void> = Promise.resolve();

  constructor(deps: ArbiterDeps) {
    this.#deps = deps;
    this.#config = deps.config;
    this.#interpreter = deps.interpreter;
    this.#logger = deps.logger;
    const log = (level: Level, message: string): void => this.#log(level, message);
    this.#front = new Front({ config: deps.config, pool: this.#pool, accessLog: deps.accessLog, line: (text) => this.#logger.line(text), log, stages: deps.stages });
    this.#sockets = new MasterSockets(this.#front);
    this.#triggers = new ReloadTriggers({
      reload: (request) => this.#requestReload(request),
      reopenLog: (why) => this.#reopenLog(why),
      notice: (message) => this.#log('warn', message),
    });
    this.#workforce = new Workforce({
      pool: this.#pool,
      dispatcher: this.#front.dispatcher,
      log,
      output: (text) => this.#logger.line(text),
      firstReady: (w, config) => this.#appReady(w, config),
      allReady: () => { deps.notifier?.ready(this.#serviceStatus()); this.#compaction.start(); },
      modules: (paths) => this.#triggers.setModules(paths),
      fatal: (message, recoverable) => this.#fatal(message, recoverable),
      direct: (config) => this.#sockets.direct(config),
      directReport: (w, report) => this.#front.directReport(w, report),
      watchAnswers: (watch) => this.#front.watchAnswers(watch),
    });
    this.#reporter = new ReloadReporter([deps.config.pidfile, deps.config.pidfile2], (message) => this.#log('warn', message));
    this.#reloads = new Reloads({
      workforce: this.#workforce,
      reporter: this.#reporter,
      log,
      ...(deps.reloadConfig !== undefined ? { reloadConfig: deps.reloadConfig } : {}),
      state: () => this.#state,
      moveTo: (next) => this.#moveTo(next),
      current: () => ({ config: this.#config, interpreter: this.#interpreter }),
      // A reload renews the TLS listeners' certificates before the new generation is prepared.
      prepare: (config) => (this.#sockets.renewTls(config, (level, message) => this.#log(level, message)), this.#front.prepare(config)),
      commit: (config, interpreter, ready, importStartedAt) => this.#commit(config, interpreter, ready, importStartedAt),
      reopenLog: (why) => this.#reopenLog(why),
      began: (why) => deps.notifier?.reloading(why),
      ended: (ok, message) => {
        if (this.#state === 'RUNNING') deps.notifier?.ready(ok ? this.#serviceStatus() : `${message.split('\n')[0]}`);
      },
    });
    this.#watchLoop = new WatchLoop({
      workers: () => this.#workforce.workers(),
      replace: (w, reason) => this.#workforce.replace(w, reason),
      active: () => this.#state === 'RUNNING' || this.#state === 'RELOADING',
      ...(deps.notifier !== undefined ? { heartbeat: heartbeatOf(deps.notifier, () => this.#serviceStatus()) } : {}),
    });
  }

  /** Whether the listeners were bound: false after a run refused at the start (address in use), which never served. */
  get bound(): boolean {
    return this.#bound;
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
      await this.#sockets.bind(this.#config, (level, message) => this.#log(level, message), this.#deps.inherited, hasApp(this.#config) ? this.#interpreter.path : null);
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
    this.#bound = true;
    const viaMaster = this.#config.uwsgiViaMasterFor;
    // HTTP listeners first (a client's address), whoever accepts on them, then the uwsgi sockets.
    const own = this.#front.listeners;
    this.#where = [
      ...own.filter((l) => l.address.via !== 'socket').map((l) => `${schemeOf(l.address)}://${l.display}`),
      ...this.#sockets.handedHttpDisplays,
      ...own.filter((l) => l.address.via === 'socket').map((l) =>
        `${schemeOf(l.address)}://${l.display}${viaMaster !== null ? ` (through the master, for ${viaMaster}; if nginx serves those files itself, uwsgi-direct = true lets the workers answer the pages themselves, docs/benchmarks.md)` : ''}`),
      ...this.#sockets.handedUwsgiDisplays,
    ].join(', ');
    // Bound, not yet "listening": the workers need the sockets (uwsgi-direct, before dropping
    // privileges), and connections are accepted now so none is refused while the app loads —
    // they wait in the queue. "listening on" and the daemonize report wait for the app.
    this.#log('info', `bound ${this.#where}; loading the app (connections wait until it is ready)`);
    const c = this.#config;
    if (hasApp(this.#config)) this.#log('info', `python: ${this.#interpreter.path} (${this.#interpreter.chosenBy}); ${c.processes} worker(s) × ${c.threads} thread(s), ${c.lazyApps ? 'lazy-apps (each worker imports the app)' : 'preload (the app is imported once, workers are forked)'}`);
    // A stop signal while binding has already ended the run: start no worker then.
    if (this.#state === 'STARTING') this.#triggers.arm(c, Date.now());
    // The heartbeat (systemd's watchdog) beats while the app loads too.
    if (this.#state === 'STARTING') this.#watchLoop.arm(c);
    if (this.#state === 'STARTING') await this.#deps.sidePrograms?.startBeforeWorkers();
    if (this.#state === 'STARTING' && !hasApp(c)) {
      // A pure front (proxy-pass and static-map only): no Python to start.
      this.#front.commit(frontGeneration(c, null));
      this.#moveTo('RUNNING');
      this.#log('info', `pure front (no module or wsgi-file): no Python workers; listening on ${this.#where}`);
      for (const line of this.#front.proxy?.describe() ?? []) this.#log('info', `route: ${line}`);
      this.#deps.hooks?.listening?.();
      this.#deps.notifier?.ready(this.#serviceStatus());
      this.#watchLoop.arm(c);
    } else if (this.#state === 'STARTING' && await this.#workforce.start(c, this.#interpreter) && this.#state === 'STARTING') {
      this.#moveTo('RUNNING');
      this.#watchLoop.arm(c);
    }
    const code = await done;
    for (const s of SIGNALS) process.off(s, onSignal);
    return code;
  }

  /** Every bound listener, the master's and the ones the workers accept on (uwsgi-direct). */
  get boundListeners(): readonly SummaryListener[] {
    return this.#sockets.boundListeners;
  }

  /** What the stats server reads (src/stats/): facts held here, so a scrape never waits on a worker. */
  get observed() {
    const d = this.#front.dispatcher;
    return { workers: [...this.#workforce.workers()], generation: this.#workforce.generation, queued: d.queued, refused: d.refused, inFlight: this.#front.busy - d.queued, config: this.#config, python: this.#interpreter.path, startedAt: this.#startedAt, listeners: [...this.#front.listeners, ...this.#sockets.handed], upstreams: this.#front.proxy?.snapshot() ?? [] };
  }

  get state(): MasterState {
    return this.#state;
  }

  #moveTo(next: MasterState): void {
    this.#state = masterTransition(this.#state, next);
  }

  /** systemd's STATUS=: what `systemctl status` shows. */
  #serviceStatus(): string {
    const workers = [...this.#workforce.workers()];
    const rate = this.#rate.sample(workers);
    const state = this.#state === 'RELOADING' ? 'reloading' : 'serving';
    return `${state}: ${workers.filter((w) => w.pid !== 0).length} worker(s), ${rate.toFixed(1)} req/s, generation ${this.#workforce.generation}`;
  }

  /** Generation 1's first READY: the app is up; its Django settings complete the routes. */
  #appReady(w: WorkerHandle, config: Config): void {
    const info = w.ready!;
    this.#log('info', `app ready in ${Date.now() - this.#startedAt} ms: ${appName(config)} on Python ${info.version} (${info.executable})`);
    this.#log('info', `listening on ${this.#where}`);
    const python = { path: this.#interpreter.path, chosenBy: this.#interpreter.chosenBy, version: info.version };
    for (const line of summarizeConfig(config, { python, listeners: this.boundListeners })) this.#log('info', `summary: ${line}`);
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
            this.#stopGracefully(sig);
          }
      }
    }
  }

  /** The one commit point of a reload (or a rollback): routes, static mappings and access log switch with the workers. */
  #commit(config: Config, interpreter: Interpreter, ready: WorkerReadyInfo | null, importStartedAt: number): void {
    this.#front.commit(frontGeneration(config, ready));
    this.#sockets.workersAccept();
    this.#config = config;
    this.#interpreter = interpreter;
    this.#watchLoop.arm(config);
    this.#triggers.arm(config, importStartedAt);
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

  #fatal(message: string, recoverable: boolean): void {
    this.#log('error', message);
    if (recoverable) {
      this.#front.appDown();
      this.#sockets.masterAccepts(this.#interpreter.path, (level, m) => this.#log(level, m));
      return;
    }
    this.#deps.hooks?.failed?.(message);
    this.#front.failAll(503, 'Service Unavailable: the application could not be loaded.');
    this.#stopImmediately(1);
  }

  /**
   * Stop accepting; once nothing is in flight the workers retire. reload-mercy is the one bound,
   * stated once in the log and kept: when it runs out, every worker still there is killed.
   */
  #stopGracefully(sig: NodeJS.Signals): void {
    this.#moveTo('STOPPING_GRACEFUL');
    this.#deps.notifier?.stopping(`${sig}: graceful stop`);
    this.#stopSidePrograms();
    this.#disarm();
    const workersAccept = this.#sockets.handed.length > 0;
    this.#closeListeners();
    // Workers serving requests themselves report them first, so the count below includes them.
    if (!workersAccept) this.#awaitRequests(sig);
    else void refreshDirectReports(this.#workforce.workers()).then(() => this.#state === 'STOPPING_GRACEFUL' && this.#awaitRequests(sig));
  }

  #awaitRequests(sig: NodeJS.Signals): void {
    const bound = this.#config.reloadMercyMs;
    const running = (): number => this.#front.busy + directInFlight(this.#workforce.workers());
    this.#log('info', `${sig}: stopping gracefully: waiting up to ${bound / 1000} s for ${running()} request(s) (reload-mercy), then killing the workers still running; send ${sig} again to stop now`);
    let ending = false;
    const end = (): void => {
      if (ending) return;
      ending = true;
      void this.#workforce.allExited().then(() => this.#finishStop());
    };
    const deadline = setTimeout(() => {
      if (this.#state !== 'STOPPING_GRACEFUL') return;
      const left = [...this.#workforce.workers()];
      if (left.length === 0) return;
      this.#log('warn', `stopping: ${running()} request(s) still running after ${bound / 1000} s (reload-mercy); killing ${left.map((w) => `worker ${w.slot} (pid ${w.pid})`).join(', ')}`);
      this.#workforce.killAll();
      end();
    }, bound);
    deadline.unref();
    // The front is idle (or reload-mercy ran out first): the workers finish and exit.
    this.#front.stopAccepting(() => {
      if (this.#state !== 'STOPPING_GRACEFUL') return;
      this.#workforce.retireAll();
      end();
    });
  }

  #stopImmediately(code: number): void {
    if (!canMasterTransition(this.#state, 'STOPPING_IMMEDIATE')) {
      // Already stopping at once (SIGQUIT, then the app failed to load): keep the worse exit code.
      if (code !== 0) this.#exitCode = code;
      return;
    }
    this.#moveTo('STOPPING_IMMEDIATE');
    this.#deps.notifier?.stopping(code === 0 ? 'immediate stop' : 'the app could not start');
    this.#stopSidePrograms();
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
    this.#reporter.remove();
    await this.#workforce.stopLaunchers();
    await this.#sideStop;
    this.#closeListeners();
    this.#front.closeIdle();
    this.#deps.notifier?.close();
    this.#finish(this.#exitCode);
  }

  /** Every reload asked for (signal, file trigger, berth ctl): the side programs that go with the web workers restart too. */
  #requestReload(request: { chain: boolean; why: string }): void {
    if (this.#state === 'RUNNING') this.#deps.sidePrograms?.webReloading();
    this.#reloads.request(request);
  }

  /** Once per stop, within the same bound as the workers (reload-mercy). */
  #stopSidePrograms(): void {
    const side = this.#deps.sidePrograms;
    if (side !== undefined) this.#sideStop = side.stopAll(this.#config.reloadMercyMs);
  }

  #disarm(): void {
    this.#watchLoop.disarm();
    this.#compaction.stop();
    this.#triggers.close();
  }

  #closeListeners(): void {
    this.#sockets.close();
  }

  #log(level: Level, message: string): void {
    this.#logger[level](message);
  }
}
