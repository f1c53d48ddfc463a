/**
 * The stats and metrics listeners: `stats` (uWSGI's plain protocol, or HTTP with stats-http)
 * and Berth's `metrics` (/metrics on its own address).
 *
 * Plain: every connection gets one document, then EOF (uwsgitop, uwsgi_exporter's tcp:// and
 * unix://, netdata). HTTP: GET / → the document as `application/json` exactly (uwsgi_exporter's
 * http:// refuses anything else), /metrics → Prometheus text, /dashboard… → the dashboard.
 * Each answer builds the document from the registry and the master's facts at that moment; no
 * answer waits on a worker.
 */
import http from 'node:http';
import net from 'node:net';
import { lstatSync, unlinkSync } from 'node:fs';
import type { ListenAddress } from '../config/schema.js';
import { buildStatsDocument, renderStatsDocument, type DocumentOptions, type StatsDocument, type StatsSource } from './document.js';
import { handleDashboard } from './dashboard-route.js';
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from './prometheus.js';
import { StatsRegistry } from './registry.js';

type Level = 'info' | 'warn' | 'error';

export interface StatsServiceDeps {
  /** The master's facts now (Arbiter.observed); its config decides the addresses and options. */
  readonly source: () => StatsSource;
  readonly version: string;
  readonly log: (level: Level, message: string) => void;
  /** "line 7 of /srv/uwsgi.ini", for messages about an option. */
  readonly origin: (option: string) => string;
}

/** Removes a stale unix socket left by a previous run; anything else at that path is kept (listen then fails and says so). */
function clearStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // nothing there
  }
}

export class StatsService {
  readonly registry = new StatsRegistry();
  readonly #deps: StatsServiceDeps;
  readonly #servers: net.Server[] = [];
  /** Unix socket paths this service created: removed when it closes. */
  readonly #paths: string[] = [];
  /** The bound addresses as host:port or path (tests use port 0). */
  readonly bound: { stats?: string; metrics?: string } = {};

  constructor(deps: StatsServiceDeps) {
    this.#deps = deps;
  }

  snapshot(): StatsDocument {
    const source = this.#deps.source();
    const c = source.config;
    const opts: DocumentOptions = { version: this.#deps.version, noCores: c.statsNoCores, redact: c.statsRedact, showSecrets: c.statsShowSecrets };
    return buildStatsDocument(source, this.registry, opts);
  }

  /** Bind what the config asks for; a listener that cannot bind is logged and left out, Berth serves on. */
  async start(): Promise<void> {
    const c = this.#deps.source().config;
    if (c.stats !== null) {
      const server = c.statsHttp ? http.createServer((req, res) => this.#http(req, res, true)) : net.createServer((s) => this.#plain(s));
      const where = await this.#listen(server, c.stats, 'stats');
      if (where !== null) {
        this.bound.stats = where;
        this.#deps.log('info', `stats ${c.statsHttp ? 'over HTTP (/, /metrics, /dashboard)' : '(uWSGI protocol)'} on ${where}`);
      }
    }
    if (c.metrics !== null) {
      const where = await this.#listen(http.createServer((req, res) => this.#http(req, res, false)), c.metrics, 'metrics');
      if (where !== null) {
        this.bound.metrics = where;
        this.#deps.log('info', `Prometheus metrics on http://${where}/metrics`);
      }
    }
  }

  close(): void {
    for (const s of this.#servers) s.close();
    this.#servers.length = 0;
    for (const p of this.#paths) clearStaleSocket(p);
    this.#paths.length = 0;
    this.registry.close();
  }

  #listen(server: net.Server, address: ListenAddress, option: string): Promise<string | null> {
    return new Promise((resolve) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        this.#deps.log('error', `option '${option}' (${this.#deps.origin(option)}): cannot listen on ${address.text}: ${err.code ?? err.message}; Berth serves without it. Fix: choose a free address (${option} = 127.0.0.1:9191) or stop what holds it`);
        resolve(null);
      });
      const done = (): void => {
        this.#servers.push(server);
        server.unref();
        const a = server.address();
        resolve(typeof a === 'string' ? a : a === null ? address.text : `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
      };
      if (address.kind === 'unix') {
        clearStaleSocket(address.path);
        server.listen(address.path, () => {
          this.#paths.push(address.path);
          done();
        });
      } else {
        server.listen(address.port, address.host === '' ? undefined : address.host, done);
      }
    });
  }

  #plain(socket: net.Socket): void {
    socket.on('error', () => undefined);
    // What the client sends is not read; it is drained so closing does not reset the connection.
    socket.resume();
    const c = this.#deps.source().config;
    socket.end(renderStatsDocument(this.snapshot(), c.statsMinified));
  }

  #http(req: http.IncomingMessage, res: http.ServerResponse, statsToo: boolean): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/metrics') {
      void renderMetrics(this.snapshot()).then((text) => {
        res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE });
        res.end(text);
      }, (err: Error) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`metrics failed: ${err.message}\n`);
      });
      return;
    }
    if (statsToo && path === '/') {
      const body = renderStatsDocument(this.snapshot(), this.#deps.source().config.statsMinified);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
      return;
    }
    if (statsToo && path.startsWith('/dashboard')) {
      handleDashboard(req, res, () => this.snapshot());
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end(statsToo ? 'not found: try /, /metrics or /dashboard\n' : 'not found: try /metrics\n');
  }
}
