/**
 * `log-format`: uWSGI's request-log template, "%(method) %(uri) => %(status)". A format is
 * compiled once into literal strings and getter functions, so rendering a request is one pass
 * over a short array — no regex, no parsing per request.
 *
 * Parsing follows uWSGI: "%(" opens a variable that ends at the next ")"; any other "%" is
 * literal text, and so is a "%(" with no closing ")". A variable whose value is empty prints
 * "-", as in uWSGI.
 *
 * uWSGI silently prints "-" for a name it does not know (it may be a logvar the app sets);
 * Berth has no app-set logvars, so an unknown name is a typo: `compileLogFormat` lists them and
 * config validation reports them.
 *
 * Every value from the wire is escaped (peer-text.ts), so no peer can break or forge a line.
 */
import type { Exchange } from '../server/exchange.js';
import type { LogClock } from './log-clock.js';
import { cgiValue, countVars, headerValue, serverProtocol } from './request-facts.js';
import { logSafe } from '../protocol/peer-text.js';

/** What one request log line is made of; AccessLog fills one reused object per request. */
export interface LogFacts {
  ex: Exchange;
  /** The worker that served it; 0 when Berth answered itself. */
  workerPid: number;
  workerRequests: number;
  /** Requests seen by this log so far, this one included. */
  totalRequests: number;
  /** Duration in milliseconds as measured (monotonic clock, fractional). */
  ms: number;
  /** The same in whole microseconds. */
  micros: number;
  /** When the request started and when it ended, in ms since the epoch. */
  startWall: number;
  nowWall: number;
  clock: LogClock;
}

type Getter = (f: LogFacts) => string | number;

const writeErrors = (f: LogFacts): number => (f.ex.aborted ? 1 : 0);

/**
 * The supported variables, with the help text docs/configuration.md can show. Sizes are body
 * bytes: Berth does not count response header bytes (uWSGI's `size` adds them).
 */
export const LOG_VARIABLES: Readonly<Record<string, { readonly help: string; readonly get: Getter }>> = {
  addr: { help: 'client address (REMOTE_ADDR)', get: (f) => logSafe(f.ex.request.remoteAddress) },
  user: { help: 'REMOTE_USER, "-" when none', get: (f) => logSafe(cgiValue(f.ex.cgiBlock, 'REMOTE_USER')) },
  method: { help: 'request method', get: (f) => logSafe(f.ex.request.method) },
  uri: { help: 'request target as sent (REQUEST_URI)', get: (f) => logSafe(f.ex.request.target) },
  scheme: { help: 'request scheme: https on a TLS listener (or as a trusted proxy names it), else http', get: (f) => f.ex.request.scheme },
  proto: { help: 'SERVER_PROTOCOL, e.g. HTTP/1.1', get: (f) => logSafe(serverProtocol(f.ex.cgiBlock, f.ex.request.versionMinor)) },
  host: { help: 'Host header', get: (f) => logSafe(headerValue(f.ex.request.headers, 'host')) },
  uagent: { help: 'User-Agent header', get: (f) => logSafe(headerValue(f.ex.request.headers, 'user-agent')) },
  referer: { help: 'Referer header', get: (f) => logSafe(headerValue(f.ex.request.headers, 'referer')) },
  status: { help: 'response status code', get: (f) => f.ex.status },
  size: { help: 'response body bytes (uWSGI adds header bytes)', get: (f) => f.ex.bytesSent },
  rsize: { help: 'response body bytes', get: (f) => f.ex.bytesSent },
  cl: { help: 'request body bytes', get: (f) => f.ex.body?.totalBytes ?? 0 },
  micros: { help: 'response time in microseconds', get: (f) => f.micros },
  msecs: { help: 'response time in milliseconds', get: (f) => Math.floor(f.micros / 1000) },
  secs: { help: 'response time in seconds, 6 decimals', get: (f) => (f.micros / 1e6).toFixed(6) },
  time: { help: 'request start, Unix seconds', get: (f) => Math.floor(f.startWall / 1000) },
  tmsecs: { help: 'request start, Unix milliseconds', get: (f) => Math.floor(f.startWall) },
  tmicros: { help: 'request start, Unix microseconds', get: (f) => Math.floor(f.startWall * 1000) },
  epoch: { help: 'time of logging, Unix seconds', get: (f) => Math.floor(f.nowWall / 1000) },
  ltime: { help: 'request start, local time "21/Nov/2026:21:40:00 +0000"', get: (f) => f.clock.ltime(f.startWall) },
  ftime: { help: 'same as ltime (Berth has no log-strftime)', get: (f) => f.clock.ltime(f.startWall) },
  ctime: { help: 'request start, ctime(3) "Sat Nov 21 21:40:00 2026"', get: (f) => f.clock.ctime(f.startWall) },
  pid: { help: 'pid of the worker that served it (0: Berth answered itself)', get: (f) => f.workerPid },
  wid: { help: 'id of the worker that served it (0: Berth answered itself)', get: (f) => f.ex.workerId },
  vars: { help: 'number of CGI variables', get: (f) => countVars(f.ex.cgiBlock) },
  pktsize: { help: 'bytes of the CGI variable block', get: (f) => f.ex.cgiBlock.length },
  switches: { help: 'async switches: always 0 (Berth workers use threads)', get: () => 0 },
  core: { help: 'always 0 (the master does not know the worker thread)', get: () => 0 },
  rerr: { help: 'read errors: always 0 (a broken upload is answered before the app runs)', get: () => 0 },
  werr: { help: '1 when the client went away before the response was complete', get: writeErrors },
  ioerr: { help: 'rerr + werr', get: writeErrors },
  upstream_addr: { help: 'the backends a proxied request was sent to, "-" when none (nginx $upstream_addr)', get: (f) => f.ex.upstreamAddr ?? '' },
  upstream_msecs: { help: 'milliseconds spent on backends (nginx $upstream_response_time, in ms)', get: (f) => Math.round(f.ex.upstreamMs) },
};

const VAR_PREFIX = 'var.';

export interface CompiledLogFormat {
  /** Names in the format that Berth does not know (empty when the format is valid). */
  readonly unknown: readonly string[];
  render(f: LogFacts): string;
}

/** Every accepted name, for error messages and docs (`var.NAME` reads any CGI variable). */
export function knownLogVariables(): string[] {
  return [...Object.keys(LOG_VARIABLES), 'var.NAME'];
}

/** One line of the "unknown variable" message config validation prints. */
export function unknownLogVariableMessage(name: string): string {
  return `unknown log-format variable %(${name}) — known: ${knownLogVariables().join(', ')}`;
}

export function compileLogFormat(format: string): CompiledLogFormat {
  const parts: (string | Getter)[] = [];
  const unknown: string[] = [];
  let text = '';
  let pos = 0;
  while (pos < format.length) {
    const open = format.indexOf('%(', pos);
    const close = open === -1 ? -1 : format.indexOf(')', open + 2);
    if (open === -1 || close === -1) {
      text += format.slice(pos);
      break;
    }
    const name = format.slice(open + 2, close);
    const getter = name === '' ? null : getterFor(name);
    if (getter === null) {
      if (name !== '') unknown.push(name);
      // Kept as text so a format with problems still renders something recognisable.
      text += format.slice(pos, close + 1);
    } else {
      text += format.slice(pos, open);
      if (text !== '') parts.push(text);
      text = '';
      parts.push(getter);
    }
    pos = close + 1;
  }
  if (text !== '') parts.push(text);
  return { unknown, render: (f) => render(parts, f) };
}

function getterFor(name: string): Getter | null {
  if (Object.hasOwn(LOG_VARIABLES, name)) return LOG_VARIABLES[name]!.get;
  if (name.startsWith(VAR_PREFIX) && name.length > VAR_PREFIX.length) {
    const cgi = name.slice(VAR_PREFIX.length);
    return (f) => logSafe(cgiValue(f.ex.cgiBlock, cgi));
  }
  return null;
}

function render(parts: readonly (string | Getter)[], f: LogFacts): string {
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (typeof p === 'string') out += p;
    else {
      const v = p(f);
      out += v === '' ? '-' : v;
    }
  }
  return out;
}
