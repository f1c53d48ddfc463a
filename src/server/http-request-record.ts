/** The ExchangeRequest an HTTP/1.1 request head becomes on one connection (the client's address, or the one its forwarded headers name). */
import type { RequestHead } from '../protocol/http1/types.js';
import type { ExchangeRequest } from './exchange.js';
import { forwardedClient, type ForwardedTrust } from './forwarded.js';
import type { ConnectionFacts } from './http-environ.js';

/**
 * `trust`: the forwarded-allow-ips list when the peer is in it (its Forwarded / X-Forwarded-*
 * headers name the client), else null.
 */
export function requestRecord(head: RequestHead, facts: ConnectionFacts, trust: ForwardedTrust | null): ExchangeRequest {
  const request = { method: head.method, target: head.target, versionMinor: head.versionMinor, headers: head.headers, remoteAddress: facts.remoteAddress, remotePort: facts.remotePort, scheme: facts.scheme };
  if (trust !== null) {
    const client = forwardedClient(head.headers, trust);
    if (client !== null) {
      request.remoteAddress = client.remoteAddress;
      request.remotePort = client.remotePort;
      if (client.scheme !== null) request.scheme = client.scheme;
    }
  }
  return request;
}

/** The request of an answer to input that never became a request (a broken head, a timeout): logged as "- -". */
export function unparsedRecord(facts: ConnectionFacts): ExchangeRequest {
  return { method: '-', target: '-', versionMinor: 1, headers: [], remoteAddress: facts.remoteAddress, remotePort: facts.remotePort, scheme: facts.scheme };
}
