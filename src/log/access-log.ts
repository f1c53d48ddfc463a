/**
 * The one entry point the arbiter calls when an exchange is done: decides whether the request
 * is logged (disable-logging, log-4xx, log-5xx, log-slow) and renders it in one of three shapes —
 * uWSGI's default line, a `log-format` template, or a JSON object per line (`log-json`).
 *
 * Theory of operation: the shape is chosen once in the constructor; per request, `line()` counts
 * the request, computes the duration once, applies the filter (`keep`), then fills one reused
 * LogFacts object and renders (`render`). Nothing per request allocates beyond the output
 * string, and wall-clock strings come from LogClock's per-second caches.
 *
 * Filter (uWSGI's log_request, with Berth's "errors are never hidden"):
 *   - logging enabled: every request;
 *   - disable-logging: 5xx always; 4xx with log-4xx; requests taking ≥ log-slow ms.
 *   log-5xx is accepted for uWSGI configs and changes nothing, since 5xx are always logged.
 */
import { BerthError } from '../errors/berth-error.js';
import type { Exchange } from '../server/exchange.js';
import { LogClock } from './log-clock.js';
import { compileLogFormat, unknownLogVariableMessage, type LogFacts } from './log-format.js';
import { jsonLine } from './json-line.js';
import { defaultLine } from './request-log.js';

export interface AccessLogOptions {
  /** `log-format` template; null for uWSGI's default line. */
  readonly format: string | null;
  /** `log-json`: one JSON object per request (takes precedence over `format`). */
  readonly json: boolean;
  readonly disableLogging: boolean;
  readonly log4xx: boolean;
  readonly log5xx: boolean;
  /** `log-slow` in milliseconds; 0 = off. */
  readonly slowMs: number;
}

export class AccessLog {
  readonly #render: (f: LogFacts) => string;
  readonly #everything: boolean;
  readonly #log4xx: boolean;
  readonly #slowMicros: number;
  readonly #facts: LogFacts;
  #total = 0;

  /** Throws BERTH_CONFIG_INVALID when `format` names unknown variables (validate with compileLogFormat first). */
  constructor(opts: AccessLogOptions) {
    if (opts.json) this.#render = jsonLine;
    else if (opts.format !== null) {
      const compiled = compileLogFormat(opts.format);
      if (compiled.unknown.length > 0) {
        throw new BerthError('BERTH_CONFIG_INVALID', compiled.unknown.map(unknownLogVariableMessage).join('\n'));
      }
      this.#render = compiled.render;
    } else this.#render = defaultLine;
    this.#everything = !opts.disableLogging;
    this.#log4xx = opts.log4xx;
    this.#slowMicros = opts.slowMs > 0 ? opts.slowMs * 1000 : Infinity;
    this.#facts = {
      ex: null as unknown as Exchange, workerPid: 0, workerRequests: 0, totalRequests: 0,
      ms: 0, micros: 0, startWall: 0, nowWall: 0, clock: new LogClock(),
    };
  }

  /**
   * The log line for a finished exchange (without newline), or null when the filter drops it.
   * `workerPid`/`workerRequests` describe who served it (0 when Berth answered itself);
   * `nowMonotonic` is performance.now() (the clock of `ex.startedAt`), `nowWall` Date.now().
   */
  line(ex: Exchange, workerPid: number, workerRequests: number, nowMonotonic: number, nowWall: number): string | null {
    return this.keep(ex, nowMonotonic) ? this.render(ex, workerPid, workerRequests, nowWall) : null;
  }

  /**
   * line() in two steps, for a caller that looks up who served the exchange only when the line
   * is wanted: keep() counts the request and applies the filter; when it returns true, render()
   * (called at once, for the same exchange) produces the line.
   */
  keep(ex: Exchange, nowMonotonic: number): boolean {
    return this.keepAnswer(ex.status, ex.startedAt, nowMonotonic);
  }

  /** keep() from the two facts it reads, for an answer whose Exchange is made only if kept. */
  keepAnswer(status: number, startedAt: number, nowMonotonic: number): boolean {
    const f = this.#facts;
    f.totalRequests = ++this.#total;
    f.ms = nowMonotonic - startedAt;
    f.micros = Math.round(f.ms * 1000);
    return this.#everything || this.#wanted(status, f.micros);
  }

  render(ex: Exchange, workerPid: number, workerRequests: number, nowWall: number): string {
    const f = this.#facts;
    f.ex = ex;
    f.workerPid = workerPid;
    f.workerRequests = workerRequests;
    f.startWall = nowWall - f.ms;
    f.nowWall = nowWall;
    const out = this.#render(f);
    f.ex = null as unknown as Exchange;
    return out;
  }

  #wanted(status: number, micros: number): boolean {
    if (status >= 500) return true;
    if (this.#log4xx && status >= 400 && status < 500) return true;
    // Whole milliseconds, as uWSGI compares them: micros ≥ slow·1000 ⇔ ⌊micros/1000⌋ ≥ slow.
    return micros >= this.#slowMicros;
  }
}
