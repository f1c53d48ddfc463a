/** What an HTTP connection asks of its front (http-front.ts): limits, shared caches, and where exchanges go. */
import type { RequestParserLimits } from '../protocol/http1/types.js';
import type { Exchange } from './exchange.js';
import type { ForwardedTrust } from './forwarded.js';
import type { CgiNameCache } from './http-environ.js';
import type { JoinedResponses } from './joined-responses.js';
import type { KeptAnswer } from './kept-exchange.js';
import type { KeptResponse } from './kept-response.js';
import type { ScriptNameRule } from './script-name.js';
import type { SpoolBudget } from './spool-budget.js';

export interface HttpFrontContext {
  readonly limits: RequestParserLimits;
  readonly names: CgiNameCache;
  readonly scriptNames: ScriptNameRule;
  readonly joined: JoinedResponses;
  readonly spool: SpoolBudget;
  /** forwarded-allow-ips: the peers whose Forwarded / X-Forwarded-* headers name the client. */
  readonly forwardedTrust: ForwardedTrust;
  readonly draining: boolean;
  date(): string;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  dispatch(ex: Exchange): void;
  /** The response left Berth (for the request log and stats). */
  exchangeDone(ex: Exchange): void;
  /** A kept answer left Berth (#answerKept): for the request log, stats and the static channel, as exchangeDone + staticServed would have it. */
  keptDone(answer: KeptAnswer): void;
  /**
   * The kept 200 the routes would answer this plain keep-alive GET with (a hot static file,
   * src/static/hot-responses.ts), or null: the request then takes the routes.
   */
  hotStatic(target: string, requestHeaders: readonly string[]): KeptResponse | null;
}
