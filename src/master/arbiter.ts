/**
 * Theory of operation (after gunicorn's arbiter): the master binds the listeners, spawns the
 * workers and then only reacts — signal handlers merely queue the signal; the named steps
 * below do the work: handle queued signals, reap exited workers, bring the worker count back.
 * A worker that cannot load the app is FATAL: Berth stops and shows why, instead of
 * respawning it in a loop (uWSGI's classic failure mode).
 */
import type { Config } from '../config/schema.js';
import { EXIT_CODES } from '../protocol/worker/frames.js';
import type { Logger } from '../log/logger.js';
import { RequestLog } from '../log/request-log.js';
import { bindListener, type BoundListener } from '../server/listeners.js';
import { HttpFront } from '../server/http-front.js';
import { UwsgiFront } from '../server/uwsgi-front.js';
import { FrontDoor } from '../server/front-door.js';
import { ScriptNameRule } from '../server/script-name.js';
import type { Exchange } from '../server/exchange.js';
import { Dispatcher } from '../router/dispatcher.js';
import { Router } from '../router/router.js';
import { StaticFiles } from '../static/static-files.js';
import { WorkerPool } from '../worker/pool.js';
import { WorkerHandle, type WorkerEvents } from '../worker/handle.js';
import type { Interpreter } from './interpreter.js';
import { spawnWorkerProcess } from './spawn.js';
import { describeBootFailure } from './boot-failure.js';

/** How long in-flight requests may take to finish on a graceful stop. */
const STOP_MERCY_MS = 30_000;
/** How long a retiring worker may take to exit before SIGKILL. */
const WORKER_EXIT_MERCY_MS = 5_000;
/** A worker that dies sooner than this after its start is respawned after a pause. */
const RESPAWN_BACKOFF_MS = 1_000;

export interface ArbiterDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly interpreter: Interpreter;
  readonly requestLog: RequestLog | null;
}

type StopMode = 'running' | 'graceful' | 'immediate';

export class Arbiter {
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #interpreter: Interpreter;
  readonly #requestLog: RequestLog | null;
  readonly #pool = new WorkerPool();
  readonly #dispatcher: Dispatcher;
  readonly #router: Router;
  readonly #statics: StaticFiles;
  readonly #front: HttpFront;
  readonly #uwsgiFront: UwsgiFront;
  readonly #door: FrontDoor;
  readonly #listeners: BoundListener[] = [];
  readonly #signalQueue: NodeJS.Signals[] = [];
  readonly #events: WorkerEvents;
  /** With disable-logging, 5xx answers are still logged: hiding them hides outages. */
  readonly #errorLog = new RequestLog();
  #mode: StopMode = 'running';
  #exitCode = 0;
  #everReady = false;
  #startedAt = Date.now();
  #finish: (code: number) => void = () => undefined;
  #respawnTimers = new Set<NodeJS.Timeout>();

  constructor(deps: ArbiterDeps) {
    this.#config = deps.config;
    this.#logger = deps.logger;
    this.#interpreter = deps.interpreter;
    this.#requestLog = deps.requestLog;
    this.#dispatcher = new Dispatcher(this.#pool, deps.config.listen);
    this.#statics = new StaticFiles(deps.config, (level, message) => this.#log(level, message));
    // With static-from-django the mappings arrive with the first READY, so the stage is routed
    // from the start; until then it finds nothing and requests fall through to the app.
    const routed = this.#statics.active || deps.config.staticFromDjango;
    this.#router = new Router(routed ? [this.#statics] : [], (ex) => this.#dispatcher.dispatch(ex));
    const scriptNames = new ScriptNameRule(deps.config.mounts);
    const common = {
      config: deps.config,
      scriptNames,
      dispatch: (ex: Exchange) => this.#router.route(ex),
      exchangeDone: (ex: Exchange) => this.#exchangeDone(ex),
      log: (level: 'info' | 'warn' | 'error', message: string) => this.#log(level, message),
    };
    this.#front = new HttpFront(common);
    this.#uwsgiFront = new UwsgiFront({ ...common, date: () => this.#front.date() });
    this.#door = new FrontDoor({
      http: this.#front,
      uwsgi: this.#uwsgiFront,
      detectProtocol: deps.config.detectProtocol,
      uwsgiAllow: deps.config.uwsgiAllow,
      timeoutMs: deps.config.httpTimeoutMs,
      log: common.log,
    });
    this.#events = {
      ready: (w) => this.#workerReady(w),
      free: () => this.#dispatcher.drain(),
      exited: (w, code, signal) => this.#reapWorker(w, code, signal),
      log: (level, message) => this.#log(level, message),
      output: (text) => this.#logger.line(text),
    };
  }

  /** Runs until stopped; resolves with the process exit code. */
  async run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.#finish = resolve));
    const onSignal = (sig: NodeJS.Signals): void => {
      this.#signalQueue.push(sig);
      setImmediate(() => this.#handleSignals());
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP'];
    for (const s of signals) process.on(s, onSignal);
    try {
      const unix = { chmod: this.#config.chmodSocket, chown: this.#config.chownSocket };
      for (const address of [...this.#config.http, ...this.#config.uwsgi]) {
        const facts = { via: address.via ?? 'http', display: address.kind === 'unix' ? address.path : address.text, unix: address.kind === 'unix' };
        const bound = await bindListener(address, this.#config.listen, (socket) => this.#door.accept(socket, facts), unix);
        facts.display = bound.display;
        this.#listeners.push(bound);
      }
    } catch (err) {
      this.#log('error', (err as Error).message);
      for (const l of this.#listeners) l.server.close();
      for (const s of signals) process.off(s, onSignal);
      return 1;
    }
    const where = this.#listeners.map((l) => `${l.address.via === 'socket' ? 'uwsgi' : 'http'}://${l.display}`).join(', ');
    this.#log('info', `listening on ${where}`);
    this.#log('info', `python: ${this.#interpreter.path} (${this.#interpreter.chosenBy}); ${this.#config.processes} worker(s) × ${this.#config.threads} thread(s)`);
    for (let slot = 1; slot <= this.#config.processes; slot++) this.#spawnWorker(slot);
    const code = await done;
    for (const s of signals) process.off(s, onSignal);
    return code;
  }

  /** The bound addresses (tests use port 0). */
  get listeners(): readonly BoundListener[] {
    return this.#listeners;
  }

  #spawnWorker(slot: number): void {
    const child = spawnWorkerProcess({ config: this.#config, interpreter: this.#interpreter, slot, check: false });
    const w = new WorkerHandle(slot, 1, this.#config.threads, child, this.#events);
    child.on('error', (err) => this.#log('error', `worker ${slot} could not start ${this.#interpreter.path}: ${err.message}`));
    this.#pool.add(w);
  }

  #workerReady(w: WorkerHandle): void {
    if (!this.#everReady) {
      this.#everReady = true;
      const info = w.ready!;
      this.#log('info', `app ready in ${Date.now() - this.#startedAt} ms: ${this.#appName()} on Python ${info.version} (${info.executable})`);
      if (this.#config.staticFromDjango) this.#statics.addDjangoMappings(info.django);
    }
    if (this.#mode !== 'running') {
      w.retire();
      return;
    }
    this.#dispatcher.drain();
  }

  #reapWorker(w: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void {
    this.#pool.remove(w);
    if (this.#mode !== 'running') {
      if (this.#pool.all.length === 0) this.#finishStop();
      return;
    }
    const neverReady = w.ready === null;
    const importFailed = code === EXIT_CODES.APP_IMPORT_FAILURE || code === EXIT_CODES.BOOT_FAILURE || code === EXIT_CODES.USAGE;
    if (neverReady && (importFailed || !this.#everReady)) {
      this.#log('error', describeBootFailure({ slot: w.slot, code, signal, failure: w.bootFailure, interpreter: this.#interpreter, config: this.#config }));
      this.#dispatcher.failAll(503, 'Service Unavailable: the application could not be loaded.');
      this.#stopImmediately(1);
      return;
    }
    if (code !== 0 || signal !== null) {
      const how = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
      this.#log('warn', `worker ${w.slot} (pid ${w.pid}) exited (${how}); starting a new one`);
    }
    const delay = Date.now() - w.spawnedAt < RESPAWN_BACKOFF_MS ? RESPAWN_BACKOFF_MS : 0;
    const timer = setTimeout(() => {
      this.#respawnTimers.delete(timer);
      if (this.#mode === 'running') this.#spawnWorker(w.slot);
    }, delay);
    this.#respawnTimers.add(timer);
  }

  #handleSignals(): void {
    while (this.#signalQueue.length > 0) {
      const sig = this.#signalQueue.shift()!;
      if (sig === 'SIGHUP') {
        this.#log('warn', 'SIGHUP (reload) is not supported yet; ignored — restart Berth to load new code');
      } else if (sig === 'SIGQUIT' || this.#mode === 'graceful') {
        this.#log('info', `${sig}: stopping now`);
        this.#stopImmediately(0);
      } else if (this.#mode === 'running') {
        this.#log('info', `${sig}: stopping gracefully (in-flight requests may take up to ${STOP_MERCY_MS / 1000} s; send it again to stop now)`);
        this.#stopGracefully();
      }
    }
  }

  #stopGracefully(): void {
    this.#mode = 'graceful';
    this.#closeListeners();
    this.#front.drain();
    this.#uwsgiFront.drain();
    const deadline = Date.now() + STOP_MERCY_MS;
    const poll = setInterval(() => {
      this.#front.closeIdle();
      this.#uwsgiFront.closeIdle();
      const busy = this.#pool.inFlight + this.#dispatcher.queued;
      if (this.#mode !== 'graceful') {
        clearInterval(poll);
      } else if (busy === 0 || Date.now() > deadline) {
        clearInterval(poll);
        if (busy > 0) this.#log('warn', `${busy} request(s) still running after ${STOP_MERCY_MS / 1000} s; stopping anyway`);
        this.#retireAll();
      }
    }, 20);
  }

  #retireAll(): void {
    if (this.#pool.all.length === 0) {
      this.#finishStop();
      return;
    }
    for (const w of this.#pool.all) w.retire();
    const killer = setTimeout(() => {
      for (const w of this.#pool.all) {
        this.#log('warn', `worker ${w.slot} (pid ${w.pid}) did not exit within ${WORKER_EXIT_MERCY_MS / 1000} s; killing it`);
        w.kill();
      }
    }, WORKER_EXIT_MERCY_MS);
    killer.unref();
  }

  #stopImmediately(code: number): void {
    this.#mode = 'immediate';
    this.#exitCode = code;
    this.#closeListeners();
    this.#dispatcher.failAll(503, 'Service Unavailable: the server is stopping.');
    for (const w of this.#pool.all) w.kill();
    if (this.#pool.all.length === 0) this.#finishStop();
  }

  #finishStop(): void {
    for (const t of this.#respawnTimers) clearTimeout(t);
    this.#respawnTimers.clear();
    this.#closeListeners();
    this.#front.closeIdle();
    this.#uwsgiFront.closeIdle();
    this.#finish(this.#exitCode);
  }

  #closeListeners(): void {
    for (const l of this.#listeners) l.server.close();
  }

  #exchangeDone(ex: Exchange): void {
    if (this.#requestLog === null && ex.status < 500) return;
    const w = this.#pool.all.find((x) => x.slot === ex.workerId);
    const line = (this.#requestLog ?? this.#errorLog).format(ex, w?.pid ?? 0, w?.requestsServed ?? 0, performance.now(), Date.now());
    this.#logger.line(line);
  }

  #appName(): string {
    return this.#config.module !== null ? `module ${this.#config.module}` : `wsgi-file ${this.#config.wsgiFile}`;
  }

  #log(level: 'info' | 'warn' | 'error', message: string): void {
    this.#logger[level](message);
  }
}
