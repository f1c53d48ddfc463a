/** The finished Exchange of a hot static GET the HTTP front answered from a kept response, for the request log and stats. */
import type { RequestHead } from '../protocol/http1/types.js';
import { ANSWERED, Exchange, type CgiSource } from './exchange.js';
import type { ConnectionFacts } from './http-environ.js';
import type { KeptWire } from './kept-response.js';

/**
 * The finished Exchange of a request the HTTP front answered with `wire` itself, as the static
 * stage's sendKept leaves one: for the request log and stats; its CGI block is built by
 * `source` only if the log reads it.
 */
export function keptExchange(head: RequestHead, facts: ConnectionFacts, wire: KeptWire, bodyBytes: number, startedAt: number, source: CgiSource): Exchange {
  const request = { method: head.method, target: head.target, versionMinor: head.versionMinor, headers: head.headers, remoteAddress: facts.remoteAddress, remotePort: facts.remotePort, scheme: facts.scheme };
  const ex = new Exchange(request, '', null, ANSWERED, startedAt);
  ex.status = wire.statusCode;
  ex.bytesSent = bodyBytes;
  ex.finished = true;
  ex.buildCgiBlockLater(source);
  return ex;
}
