/**
 * The request side of the master as one object: listeners, fronts, routes, dispatcher, access log.
 *
 * Theory of operation: the request side of the master, as one object. It owns what turns a
 * connection into served requests — the bound listeners handed to it, the HTTP and uwsgi
 * fronts behind the front door, the route table (static stage, then the worker dispatcher)
 * and the access log, including the records workers report for requests they served on the
 * uwsgi sockets themselves (uwsgi-direct).
 *
 * What it serves changes at one commit point only: commit(generation) swaps the route table
 * (static mappings, Django STATIC/MEDIA), the access-log settings and the config they came
 * from together. The arbiter commits a generation once it is wholly ready (all its workers
 * READY and switched in, or the first READY at start, when nothing older exists); a reload that
 * fails, whole or part-way, commits nothing, so the front keeps serving what it served.
 *
 * The worker pool and dispatcher are shared with the arbiter's workforce, which adds and
 * removes workers; the front only sends requests through them.
 */
import type { Socket } from 'node:net';
import type { Config } from '../config/schema.js';
import type { DirectReport } from '../protocol/worker/payloads.js';
import { exchangeFromRecord } from '../server/direct-record.js';
import { endpointsOf, type Endpoints } from '../server/endpoints.js';
import type { Exchange } from '../server/exchange.js';
import { directDone, requestDone, staticServed } from '../server/observe.js';
import type { KeptAnswer } from '../server/kept-exchange.js';
import type { ListenerFacts } from '../server/front-door.js';
import type { BoundListener } from '../server/listeners.js';
import { ScriptNameRule } from '../server/script-name.js';
import type { StaticFiles } from '../static/static-files.js';
import type { DjangoStaticInfo, WorkerHandle } from '../worker/handle.js';
import type { WorkerPool } from '../worker/pool.js';
import { Dispatcher } from './dispatcher.js';
import { noAppAnswer } from './no-app.js';
import { Router } from './router.js';
import { SpoolBudget } from '../server/spool-budget.js';
import type { ProxyStage } from '../proxy/proxy-stage.js';
import { needsProxy, needsStatic, withStagesFor, type StageModules } from './stage-modules.js';
import { holdReading, loadDoor, type Door, type DoorDeps } from './door-modules.js';

/** The request log (../log/access-log.ts): keep() counts and filters, render() formats a kept request. */
export interface AccessLogger {
  keep(ex: Exchange, nowMonotonic: number): boolean;
  /** keep() for an answer of `status` started at `startedAt` that has no Exchange yet. */
  keepAnswer(status: number, startedAt: number, nowMonotonic: number): boolean;
  render(ex: Exchange, workerPid: number, workerRequests: number, nowWall: number): string;
}

/** What the front serves from: a generation's config and the READY facts its routes need. */
export interface FrontGeneration {
  readonly config: Config;
  /** static-from-django: the STATIC/MEDIA settings a READY worker of this generation read. */
  readonly django: DjangoStaticInfo | null;
}

type Level = 'info' | 'warn' | 'error';

export interface FrontDeps {
  /** The configuration at start: it fixes the listeners' protocol settings and the queue length. */
  readonly config: Config;
  readonly pool: WorkerPool;
  readonly accessLog: (config: Config) => AccessLogger;
  /** One finished line for the log (access-log lines). */
  readonly line: (text: string) => void;
  readonly log: (level: Level, message: string) => void;
  /** The stages' code, imported for `config` (./stage-modules.ts: withStagesFor). */
  readonly stages: StageModules;
}

const APP_DOWN = 'Service Unavailable: every worker of the application crashed repeatedly; see the server log.';

export class Front {
  readonly dispatcher: Dispatcher;
  readonly #deps: FrontDeps;
  readonly #pool: WorkerPool;
  readonly #doorDeps: DoorDeps;
  /** The front door and the fronts behind it: null until the first connection or listener (./door-modules.ts). */
  #door: Door | null = null;
  #doorLoading: Promise<void> | null = null;
  /** Connections that came while the door's code was being imported, in order: each given the door, or null when it failed to load. */
  #waiting: ((door: Door | null) => void)[] = [];
  #draining = false;
  readonly #scriptNames: ScriptNameRule;
  readonly #listeners: BoundListener[] = [];
  #serving: FrontGeneration;
  #router: Router;
  #proxy: ProxyStage | null = null;
  /** The serving generation's static stage (null when no static option is set). */
  #statics: StaticFiles | null = null;
  #accessLog: AccessLogger;
  /** Every worker crash-looped into FATAL: answer 503 at once until a generation is committed. */
  #appDown = false;
  /** reload-rollback-after: told every answer a worker gives while a new generation is on probation. */
  #watch: ((generation: number, status: number) => void) | null = null;
  #stages: StageModules;

  constructor(deps: FrontDeps) {
    this.#deps = deps;
    this.#stages = deps.stages;
    this.#pool = deps.pool;
    const config = deps.config;
    this.dispatcher = new Dispatcher(deps.pool, config.listen);
    this.#serving = { config, django: null };
    this.#accessLog = deps.accessLog(config);
    this.#router = this.#makeRouter(this.#serving);
    this.#scriptNames = new ScriptNameRule(config.mounts);
    this.#doorDeps = {
      config,
      scriptNames: this.#scriptNames,
      spool: new SpoolBudget(config.spoolLimitBytes),
      dispatch: (ex: Exchange) => this.#router.route(ex),
      exchangeDone: (ex: Exchange) => this.#exchangeDone(ex),
      keptDone: (answer: KeptAnswer) => this.#keptDone(answer),
      // Only the static stage's kept answers skip the route table, and only when no proxy
      // route (which comes before it) could claim the request.
      hotStatic: (target: string, requestHeaders: readonly string[]) => (this.#proxy === null && this.#statics !== null ? this.#statics.keptFor(target, requestHeaders) : null),
      log: deps.log,
    };
  }

  /** The generation whose routes and access-log settings are in force. */
  get serving(): FrontGeneration {
    return this.#serving;
  }

  /** A connection from one of the listeners (or relayed by a worker, with its `initial` bytes). */
  accept(socket: Socket, listener: ListenerFacts, initial: Buffer | null = null, ends?: Endpoints): void {
    if (this.#door !== null) {
      this.#door.door.accept(socket, listener, initial, ends);
      return;
    }
    // The peer's address is read now, while the socket is surely open; the socket reads nothing
    // until the door takes it, so the door sees its bytes and its end as if it had been there.
    const from = ends ?? endpointsOf(socket);
    const resume = holdReading(socket);
    this.#waiting.push((door) => {
      if (door === null) {
        socket.destroy();
        return;
      }
      door.door.accept(socket, listener, initial, from);
      resume();
    });
    this.#openDoor();
  }

  /** A listener the master bound: the front closes it when it stops accepting. */
  adopt(listener: BoundListener): void {
    this.#listeners.push(listener);
  }

  /** Imports the door now: for a master that accepts itself or takes relays, before its first connection. */
  openDoor(): Promise<void> {
    return this.#openDoor();
  }

  /**
   * Imports the door's code once. Why lazily: with http-direct and uwsgi-direct the workers
   * accept, and a master that never gets a connection need not hold the HTTP and uwsgi fronts'
   * modules (docs/benchmarks.md, "issue 16 item 5: the master's memory, third pass").
   */
  #openDoor(): Promise<void> {
    if (this.#doorLoading !== null) return this.#doorLoading;
    const loading = loadDoor(this.#doorDeps).then(
      (door) => {
        this.#door = door;
        if (this.#draining) this.#drainDoor();
        this.#takeWaiting(door);
      },
      (err: unknown) => {
        this.#deps.log('error', `could not load the master's HTTP and uwsgi fronts (${String(err)}): the connections waiting for them are closed — reinstall Berth (dist/src/server/ is incomplete)`);
        this.#doorLoading = null;
        this.#takeWaiting(null);
      },
    );
    this.#doorLoading = loading;
    return loading;
  }

  #takeWaiting(door: Door | null): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const take of waiting) take(door);
  }

  get listeners(): readonly BoundListener[] {
    return this.#listeners;
  }

  /** Imports the stages `config` routes to and this front lacks: await it before commit()ting `config`. */
  async prepare(config: Config): Promise<void> {
    this.#stages = await withStagesFor(config, this.#stages);
  }

  /** The one commit point: routes, static mappings and access-log settings of `g`, all at once. */
  commit(g: FrontGeneration): void {
    if (g.config !== this.#serving.config) this.#accessLog = this.#deps.accessLog(g.config);
    this.#serving = g;
    this.#appDown = false;
    this.#router = this.#makeRouter(g);
    this.dispatcher.drain();
  }

  /** No worker can serve until the next commit: answer 503 now instead of queueing. */
  appDown(): void {
    this.#appDown = true;
    this.dispatcher.failAll(503, APP_DOWN);
  }

  /** Tell `watch` the status of every answer a worker gives, with the worker's generation (null: stop). */
  watchAnswers(watch: ((generation: number, status: number) => void) | null): void {
    this.#watch = watch;
  }

  /** Requests a worker served on a uwsgi socket itself: into the access log like any other. */
  directReport(w: WorkerHandle, report: DirectReport): void {
    const log = this.#accessLog;
    // A verdict reached mid-batch stops the watch (watchAnswers(null)): re-read it per record.
    for (const record of report.records) {
      const watch = this.#watch;
      if (watch === null) break;
      watch(w.generation, record.status);
    }
    const manageScriptName = this.#serving.config.manageScriptName;
    for (const record of report.records) {
      const ex = exchangeFromRecord(record, { manageScriptName, scriptNames: this.#scriptNames });
      if (ex === null) continue;
      ex.workerId = w.slot;
      ex.servedBy = w;
      if (directDone.hasSubscribers) directDone.publish({ ex, micros: record.micros, slot: w.slot });
      if (log.keep(ex, record.micros / 1000)) this.#deps.line(log.render(ex, w.pid, w.requestsServed, record.endWallMs));
    }
  }

  /** Requests sent to workers or waiting for one, and proxied requests. */
  get busy(): number {
    return this.#pool.inFlight + this.dispatcher.queued + (this.#proxy?.inFlight ?? 0);
  }

  /** The proxy stage in force (upstream groups, their backends and counters), if any route proxies. */
  get proxy(): ProxyStage | null {
    return this.#proxy;
  }

  /**
   * Graceful stop: close the listeners, refuse new connections, close idle ones (busy ones
   * close after their response). `idle` runs once no request is in a worker or the queue.
   */
  stopAccepting(idle: () => void): void {
    this.closeListeners();
    this.#draining = true;
    this.#drainDoor();
    this.dispatcher.whenIdle(() => {
      const proxyIdle = (done: () => void): void => (this.#proxy === null ? done() : this.#proxy.whenIdle(done));
      proxyIdle(() => {
        this.closeIdle();
        idle();
      });
    });
  }

  /** Stop at once: close the listeners and answer every waiting request 503. */
  stopNow(): void {
    this.closeListeners();
    this.dispatcher.failAll(503, 'Service Unavailable: the server is stopping.');
  }

  /** Answer every waiting request (the app could not be loaded at all). */
  failAll(status: number, message: string): void {
    this.dispatcher.failAll(status, message);
  }

  /** Both fronts refuse new requests: at stopAccepting, or when the door loads after it. */
  #drainDoor(): void {
    this.#door?.http.drain();
    this.#door?.uwsgi.drain();
  }

  closeIdle(): void {
    this.#door?.http.closeIdle();
    this.#door?.uwsgi.closeIdle();
  }

  closeListeners(): void {
    for (const l of this.#listeners) l.server.close();
  }

  #makeRouter(g: FrontGeneration): Router {
    const { config, django } = g;
    const statics = needsStatic(config) ? new (this.#stage('StaticFiles'))(config, this.#deps.log) : null;
    if (statics !== null && django !== null) statics.addDjangoMappings(django);
    // With static-from-django the mappings arrive with the first READY, so the stage is routed
    // from the start; until then it finds nothing and requests fall through to the app.
    const routed = statics !== null && (statics.active || config.staticFromDjango) ? statics : null;
    // A reload's new groups serve new requests; the old ones finish what they hold, then close.
    const before = this.#proxy;
    if (needsProxy(config)) {
      const { ProxyStage, Upstream } = this.#stage('proxy');
      this.#proxy = new ProxyStage(
        // Backends a reload keeps (same group, same URL) keep their health: one put out stays out.
        new Map(config.upstreams.map((u) => [u.name, new Upstream(u, undefined, before?.upstreams.get(u.name) ?? null)])),
        config.proxyRoutes,
        config.staticMaps.map((m) => m.mountpoint),
        this.#deps.log,
      );
    } else {
      this.#proxy = null;
    }
    if (before !== null) void before.close();
    const stages = [...(this.#proxy !== null ? [this.#proxy] : []), ...(routed !== null ? [routed] : [])];
    this.#statics = routed;
    const hasApp = config.module !== null || config.wsgiFile !== null;
    const noApp = config.needApp ? null : noAppAnswer(this.#deps.log);
    return new Router(stages, (ex) => {
      if (!hasApp && noApp !== null) noApp(ex);
      else if (!hasApp) ex.responder.sendError(404, 'Not Found: no route serves this path (this Berth is a pure front: proxy-pass and static-map only).');
      else if (this.#appDown) ex.responder.sendError(503, APP_DOWN);
      else this.dispatcher.dispatch(ex);
    });
  }

  /** The imported code of a stage the configuration routes to; missing means prepare(config) was not awaited. */
  #stage<K extends keyof StageModules>(name: K): NonNullable<StageModules[K]> {
    const loaded = this.#stages[name];
    if (loaded === null) throw new Error(`internal: a configuration that routes to the ${name} stage was committed before front.prepare(config) imported that stage`);
    return loaded as NonNullable<StageModules[K]>;
  }

  #exchangeDone(ex: Exchange): void {
    if (requestDone.hasSubscribers) requestDone.publish(ex);
    if (this.#watch !== null && ex.servedBy !== null) this.#watch(ex.servedBy.generation, ex.status);
    const log = this.#accessLog;
    if (!log.keep(ex, performance.now())) return; // filtered out (disable-logging)
    const w = ex.servedBy;
    this.#deps.line(log.render(ex, w?.pid ?? 0, w?.requestsServed ?? 0, Date.now()));
  }

  /**
   * #exchangeDone + the static channel for a hot answer the HTTP front wrote itself; its Exchange
   * is made only when stats subscribe or the log keeps the request (with disable-logging, a hot
   * 200 costs the log one count and one compare).
   */
  #keptDone(answer: KeptAnswer): void {
    if (requestDone.hasSubscribers || staticServed.hasSubscribers) {
      const ex = answer.exchange();
      this.#exchangeDone(ex);
      if (staticServed.hasSubscribers) staticServed.publish(ex);
      return;
    }
    const log = this.#accessLog;
    if (!log.keepAnswer(answer.statusCode, answer.startedAt, performance.now())) return;
    this.#deps.line(log.render(answer.exchange(), 0, 0, Date.now()));
  }
}
