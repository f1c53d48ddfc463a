/**
 * The proxy stage of the route table: proxy-pass routes matched by host and longest prefix,
 * each request sent to a backend of its group, failed attempts retried as nginx does.
 *
 * Theory of operation: a route matches when its host fits (exact, `*.suffix`, or any) and
 * the path is its exact path (`=/p`, tried first, as nginx's `location =`) or is its prefix or
 * lies below it; the longest prefix wins, and a static-map mountpoint longer than it wins over
 * it (the stage then passes the request on). A route with a URI part sends the path with its
 * written prefix replaced by that URI (nginx's `proxy_pass http://b/v1/`). The body is
 * already whole (the front read it first), so a slow client never holds a backend, and it can
 * be sent again. Per attempt: pick a backend not yet tried; on failure count it against the
 * backend (passive health), log a line naming group and backend, and try the next one if the
 * rule allows — a connect failure always, anything after the request may have reached the
 * backend only for idempotent methods (or non_idempotent). With nothing left: 502 (504 after a
 * read timeout), and at once when every backend was out before the first try.
 */
import { balanceKey } from './balance-key.js';
import type { ProxyRouteSpec } from '../config/schema.js';
import type { Exchange } from '../server/exchange.js';
import { absoluteFormAuthority } from '../protocol/http1/target.js';
import { decodePath, hostName, splitTarget } from '../server/http-environ.js';
import { answerAsFinalRecipient, maxForwardsOf } from './max-forwards.js';
import { ProxyAttempt } from './proxy-attempt.js';
import type { FailureKind, OutgoingRequest } from './transport.js';
import { Backend, Upstream } from './upstream.js';
import { makeTransport, type Transports } from './transports.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const NOTHING_TRIED: ReadonlySet<number> = new Set();

/** One group in the stats document. */
export interface UpstreamFacts {
  readonly name: string;
  readonly requests: number;
  readonly failures: number;
  readonly backends: readonly { readonly url: string; readonly address: string; readonly state: string; readonly weight: number; readonly backup: boolean; readonly requests: number; readonly failures: number; readonly in_flight: number }[];
}

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

interface CompiledRoute { readonly spec: ProxyRouteSpec; readonly upstream: Upstream }

function hostMatches(pattern: string | null, host: string): boolean {
  if (pattern === null) return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return host === pattern;
}

function below(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47);
}

/**
 * nginx's proxy_pass with a URI: the part of the path the location matched is replaced by the
 * URI (`/api/` → `/v1/` sends `/api/x` as `/v1/x`; an exact route sends the URI itself). The
 * path `/api` under a written `/api/` (which Berth's prefix also takes) becomes the URI.
 */
export function rewritePath(path: string, route: { readonly writtenPrefix: string; readonly uri: string | null }): string {
  const uri = route.uri;
  if (uri === null) return path;
  const written = route.writtenPrefix;
  if (path.startsWith(written)) return uri + path.slice(written.length);
  return uri;
}

/**
 * The request as sent on. A class, not a literal with a closure: the CGI block and PATH_INFO
 * (uwsgi backends only) are made when asked, not for every request.
 */
class ProxiedRequest implements OutgoingRequest {
  readonly request: Exchange['request'];
  readonly target: string;
  readonly body: Exchange['body'];
  readonly via: boolean;
  readonly host: string | null;
  readonly maxForwards: string | null;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly #ex: Exchange;
  readonly #sentPath: string;
  #pathInfo: string | null = null;

  constructor(ex: Exchange, target: string, sentPath: string, upstream: Upstream, host: string | null, maxForwards: string | null) {
    this.request = ex.request;
    this.target = target;
    this.body = ex.body;
    this.via = upstream.spec.via;
    this.host = host;
    this.maxForwards = maxForwards;
    this.connectTimeoutMs = upstream.spec.connectTimeoutMs;
    this.readTimeoutMs = upstream.spec.readTimeoutMs;
    this.#ex = ex;
    this.#sentPath = sentPath;
  }

  cgiBlock(): string {
    return this.#ex.cgiBlock;
  }

  /** Decoded on the first read (a retry reads it again). */
  get pathInfo(): string {
    return (this.#pathInfo ??= decodePath(this.#sentPath) ?? this.#sentPath);
  }
}

export class ProxyStage {
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly #routes: readonly CompiledRoute[];
  readonly #staticPrefixes: readonly string[];
  readonly #transports: Transports;
  readonly #log: Log;
  /** Requests on their way to or back from a backend. */
  inFlight = 0;
  #idle: (() => void)[] = [];

  constructor(upstreams: ReadonlyMap<string, Upstream>, routes: readonly ProxyRouteSpec[], staticPrefixes: readonly string[], log: Log) {
    this.upstreams = upstreams;
    // Exact paths first, then the longest prefix; a route for one host before a route for any host of equal length.
    this.#routes = routes
      .map((spec) => ({ spec, upstream: upstreams.get(spec.group) as Upstream }))
      .sort((a, b) => Number(b.spec.exact) - Number(a.spec.exact) || b.spec.prefix.length - a.spec.prefix.length || Number(b.spec.host !== null) - Number(a.spec.host !== null));
    this.#staticPrefixes = staticPrefixes;
    this.#transports = new Map();
    for (const u of upstreams.values()) for (const b of u.backends) this.#transports.set(b, makeTransport(b.spec, u.spec.connectTimeoutMs));
    this.#log = log;
    for (const u of upstreams.values()) u.startChecks(log);
  }

  get active(): boolean {
    return this.#routes.length > 0;
  }

  /** The route table for `berth check` and the stats: one line per route. */
  describe(): string[] {
    return this.#routes.map(({ spec, upstream }) => `${spec.host ?? '*'}${spec.exact ? '=' : ''}${spec.prefix} → ${upstream.name}${spec.uri === null ? '' : spec.uri} (${upstream.backends.map((b) => `${b.spec.url}${b.spec.weight !== 1 ? ` weight=${b.spec.weight}` : ''}${b.spec.backup ? ' backup' : ''}${b.spec.down ? ' down' : ''}`).join(', ')})`);
  }

  /** Plain facts per group and backend for the stats document (`berth.upstreams`). */
  snapshot(): UpstreamFacts[] {
    return [...this.upstreams.values()].map((u) => ({
      name: u.name, requests: u.requests, failures: u.failures,
      backends: u.backends.map((b) => ({ url: b.spec.url, address: b.address, state: b.state, weight: b.weight, backup: b.backup, requests: b.requests, failures: b.failures, in_flight: b.active })),
    }));
  }

  /** The route `ex` goes to, or null (a longer static-map mountpoint, or no route). */
  match(ex: Exchange): CompiledRoute | null {
    return this.#routeFor(ex, splitTarget(ex.request.target).path, absoluteFormAuthority(ex.request.target));
  }

  /** `authority`: an absolute-form target's (RFC 9112 §3.2.2), which routes instead of Host; null for origin-form. */
  #routeFor(ex: Exchange, path: string, authority: string | null): CompiledRoute | null {
    let host = '';
    const h = ex.request.headers;
    if (authority !== null) host = hostName(authority).toLowerCase();
    else for (let i = 0; i < h.length; i += 2) if ((h[i] as string).length === 4 && (h[i] as string).toLowerCase() === 'host') host = hostName(h[i + 1] as string).toLowerCase();
    // Loops, not find/some with closures: this runs for every request while proxy routes exist.
    for (const route of this.#routes) {
      const spec = route.spec;
      if (!hostMatches(spec.host, host) || !(spec.exact ? path === spec.prefix : below(path, spec.prefix))) continue;
      if (!spec.exact) for (const p of this.#staticPrefixes) if (p.length > spec.prefix.length && below(path, p)) return null;
      return route;
    }
    return null;
  }

  serve(ex: Exchange, next: () => void): void {
    const target = ex.request.target;
    const { path, query } = splitTarget(target);
    // RFC 9112 §3.2.2: an absolute-form target routes by its authority and goes on in origin-form, that authority as Host.
    const authority = absoluteFormAuthority(target);
    const route = this.#routeFor(ex, path, authority);
    if (route === null) {
      next();
      return;
    }
    const maxForwards = maxForwardsOf(ex.request);
    if (maxForwards === 0) {
      answerAsFinalRecipient(ex);
      return;
    }
    const sentPath = route.spec.uri === null ? path : rewritePath(path, route.spec);
    const out = new ProxiedRequest(ex, sentPath === path && authority === null ? target : `${sentPath}${query !== '' ? `?${query}` : ''}`, sentPath, route.upstream, authority, maxForwards > 0 ? String(maxForwards - 1) : null);
    this.inFlight++;
    route.upstream.requests++;
    this.attempt(ex, route.upstream, out, null, null);
  }

  /** Close the backends' idle connections once their requests are done (a reload replaced this stage). */
  close(): Promise<void> {
    for (const u of this.upstreams.values()) u.stopChecks();
    return Promise.all([...this.#transports.values()].map((t) => t.close())).then(() => undefined);
  }

  /**
   * Sends `out` to the next backend of `upstream` not yet tried (ProxyAttempt calls it again for
   * a retry). `tried`: the backends tried before; null on the first attempt — the set is made
   * only for a retry, not per request.
   */
  attempt(ex: Exchange, upstream: Upstream, out: OutgoingRequest, tried: Set<number> | null, lastFailure: FailureKind | null): void {
    const backend = upstream.pick(balanceKey(upstream.spec.balance, ex.request), tried ?? NOTHING_TRIED);
    if (backend === null) {
      this.#giveUp(ex, upstream, tried === null ? null : lastFailure);
      return;
    }
    // ProxyAttempt adds its own backend to `tried` when a retry asks for the set.
    backend.active++;
    backend.requests++;
    ex.upstreamAddr = ex.upstreamAddr === null ? backend.address : `${ex.upstreamAddr}, ${backend.address}`;
    const attempt = new ProxyAttempt(this, ex, upstream, backend, out, tried);
    attempt.cancel = this.#transports.get(backend)!.send(out, attempt);
    ex.onAbort = attempt.abort;
  }

  /** Run `cb` once no request is in flight (a graceful stop waits for proxied requests too). */
  whenIdle(cb: () => void): void {
    if (this.inFlight === 0) cb();
    else this.#idle.push(cb);
  }

  /** A request is done with the backends (ProxyAttempt, or no backend was left). */
  settled(): void {
    this.inFlight--;
    if (this.inFlight > 0 || this.#idle.length === 0) return;
    const waiting = this.#idle;
    this.#idle = [];
    for (const cb of waiting) cb();
  }

  /** A failed attempt counted against its backend (passive health) and logged. */
  counted(upstream: Upstream, backend: Backend, what: string): void {
    upstream.failures++;
    const out = backend.fail();
    this.#log('warn', `upstream ${upstream.name}: backend ${backend.spec.url} ${what}${out ? `; out for fail_timeout = ${backend.spec.failTimeoutMs / 1000} s after ${backend.spec.maxFails} failure(s)` : ''}`);
  }

  /** Whether nginx's proxy_next_upstream rule lets a failed request go to another backend. */
  mayRetry(upstream: Upstream, ex: Exchange, sent: boolean, kind: FailureKind): boolean {
    const rule = upstream.spec.nextUpstream;
    if (kind === 'connect') return !rule.off;
    if (rule.off || (kind === 'timeout' && !rule.timeout) || (kind === 'error' && !rule.error && !sent)) return false;
    return !sent || IDEMPOTENT.has(ex.request.method) || rule.nonIdempotent;
  }

  #giveUp(ex: Exchange, upstream: Upstream, last: FailureKind | null): void {
    this.settled();
    ex.onAbort = null;
    if (last === null) {
      this.#log('error', `upstream ${upstream.name}: no backend available (every one is out after failures, or down); answering 502`);
      ex.responder.sendError(502, `Bad Gateway: no backend of upstream ${upstream.name} is available.`);
      return;
    }
    ex.responder.sendError(last === 'timeout' ? 504 : 502, last === 'timeout' ? 'Gateway Timeout: the backend did not answer in time.' : 'Bad Gateway: no backend could answer.');
  }
}
