/**
 * The HTTP/1.1 front: accepts connections on the bound listeners and runs one HttpConnection
 * per client. It owns the connection set so a graceful stop can close idle keep-alive
 * connections at once and let busy ones finish with `Connection: close`.
 */
import type { Socket } from 'node:net';
import type { Config, ListenVia } from '../config/schema.js';
import type { Exchange } from './exchange.js';
import { HttpConnection } from './http-connection.js';
import type { HttpFrontContext } from './http-front-context.js';
import { JoinedResponses } from './joined-responses.js';
import { endpointsOf, type Endpoints } from './endpoints.js';
import { CgiNameCache } from './http-environ.js';
import { parseForwardedAllow, type ForwardedTrust } from './forwarded.js';
import { HttpDateClock } from './clock.js';
import type { ScriptNameRule } from './script-name.js';
import type { SpoolBudget } from './spool-budget.js';
import type { KeptResponse } from './kept-response.js';
import type { KeptAnswer } from './kept-exchange.js';
import { staticServed } from './observe.js';

export interface HttpFrontDeps {
  readonly config: Config;
  readonly scriptNames: ScriptNameRule;
  /** spool-limit: shared by both fronts. */
  readonly spool: SpoolBudget;
  dispatch(ex: Exchange): void;
  exchangeDone(ex: Exchange): void;
  /** See HttpFrontContext.keptDone; absent: the kept answer's Exchange goes to exchangeDone and the static channel. */
  keptDone?(answer: KeptAnswer): void;
  /** See HttpFrontContext.hotStatic; absent: every request goes through dispatch. */
  hotStatic?(target: string, requestHeaders: readonly string[]): KeptResponse | null;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export class HttpFront {
  readonly #connections = new Set<HttpConnection>();
  readonly #ctx: HttpFrontContext & { draining: boolean };
  readonly #httpTimeoutMs: number;
  /** For `http-socket` listeners, which take uWSGI's socket-timeout. */
  readonly #socketTimeoutMs: number;

  constructor(deps: HttpFrontDeps) {
    const clock = new HttpDateClock();
    this.#ctx = {
      limits: { maxHeadBytes: deps.config.bufferSizeBytes, maxBodyBytes: deps.config.limitPostBytes },
      names: new CgiNameCache(),
      scriptNames: deps.scriptNames,
      joined: new JoinedResponses(),
      spool: deps.spool,
      forwardedTrust: forwardedTrustOf(deps.config.forwardedAllowIps),
      draining: false,
      date: () => clock.now(),
      log: deps.log,
      dispatch: deps.dispatch,
      exchangeDone: deps.exchangeDone,
      keptDone: deps.keptDone ?? ((answer) => keptDoneAsExchange(answer, deps.exchangeDone)),
      hotStatic: deps.hotStatic ?? noHotStatic,
    };
    this.#httpTimeoutMs = deps.config.httpTimeoutMs;
    this.#socketTimeoutMs = deps.config.socketTimeoutMs;
  }

  /**
   * Serves an HTTP connection that arrived on a listener declared by `via`; `initial` holds
   * bytes already read while the front door looked at the protocol; `tlsVars` (a TLS
   * listener's connection) makes the scheme https and is added to each request's vars;
   * `givesBack`: closed after the requests it has sent (ListenerFacts.givesBack).
   */
  accept(socket: Socket, via: ListenVia = 'http', initial: Buffer | null = null, ends: Endpoints = endpointsOf(socket), tlsVars: string | null = null, givesBack = false): void {
    if (this.#ctx.draining) {
      socket.destroy();
      return;
    }
    const conn = new HttpConnection(socket, this.#ctx, tlsVars === null ? 'http' : 'https', via === 'http-socket' ? this.#socketTimeoutMs : this.#httpTimeoutMs, ends, via === 'http-socket' ? 'socket-timeout' : 'http-timeout', tlsVars ?? '');
    if (givesBack) conn.giveBack();
    this.#connections.add(conn);
    socket.once('close', () => this.#connections.delete(conn));
    if (initial !== null) conn.feed(initial);
  }

  date(): string {
    return this.#ctx.date();
  }

  /** Graceful stop: new responses say `Connection: close`; idle connections close now. */
  drain(): void {
    this.#ctx.draining = true;
    this.closeIdle();
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  closeIdle(): void {
    for (const c of this.#connections) c.closeIfIdle();
  }
}

function keptDoneAsExchange(answer: KeptAnswer, exchangeDone: (ex: Exchange) => void): void {
  const ex = answer.exchange();
  exchangeDone(ex);
  if (staticServed.hasSubscribers) staticServed.publish(ex);
}

function noHotStatic(): null {
  return null;
}

/** The option's check has refused a bad entry before a Config exists, so a bad one here trusts nobody. */
export function forwardedTrustOf(value: string): ForwardedTrust {
  const t = parseForwardedAllow(value);
  return t !== 'all' && 'bad' in t ? [] : t;
}
