/**
 * proxy-protocol on the HTTP listeners: which connections must open with a PROXY header, and
 * reading it off the socket before the front door looks at the protocol.
 *
 * A header is required only from a peer in forwarded-allow-ips on a listener proxy-protocol
 * names: a balancer that speaks it sends it on every connection, and a header from anyone
 * else would let any client choose its REMOTE_ADDR. Such a peer's connection that does not
 * open with a valid header is closed with a log line (HAProxy and nginx do the same).
 */
import type { Socket } from 'node:net';
import { decodeProxyHeader, V1_MAX, V2_MAX, type ProxyClient } from '../protocol/proxy/proxy-header.js';
import { peerIsTrusted, type ForwardedTrust } from './forwarded.js';

export interface ProxyProtocolRule {
  /** 'all' http listeners, or the listener addresses as written (`:8080`, `127.0.0.1:8081`, a socket path). */
  readonly listeners: 'all' | readonly string[];
  readonly trust: ForwardedTrust;
}

/** The rule for the option's value; null when it is off. */
export function proxyProtocolRule(value: string, trust: ForwardedTrust): ProxyProtocolRule | null {
  const v = value.trim().toLowerCase();
  if (['false', 'no', 'off', '0', ''].includes(v)) return null;
  if (['true', 'yes', 'on', '1'].includes(v)) return { listeners: 'all', trust };
  return { listeners: value.split(',').map((s) => s.trim()).filter((s) => s !== ''), trust };
}

/** Whether a connection from `peer` on the listener shown as `display` must open with a header. */
export function headerRequired(rule: ProxyProtocolRule | null, display: string, peer: string): boolean {
  if (rule === null) return false;
  const named = rule.listeners === 'all' || rule.listeners.some((l) => l === display || (l.startsWith(':') && display.endsWith(l)));
  return named && peerIsTrusted(peer, rule.trust);
}

export type HeaderOutcome = { readonly ok: true; readonly client: ProxyClient | null; readonly rest: Buffer } | { readonly ok: false; readonly reason: string };

/**
 * Reads the header from `socket` (after `initial`), then calls `done` once: with the client it
 * names and the bytes after it, or with why it is not valid. The caller owns the timeout.
 */
export function readProxyHeader(socket: Socket, initial: Buffer | null, done: (outcome: HeaderOutcome) => void): void {
  let seen: Buffer = initial ?? Buffer.alloc(0);
  let finished = false;
  const finish = (outcome: HeaderOutcome): void => {
    if (finished) return;
    finished = true;
    socket.off('data', onData);
    socket.off('end', onEnd);
    done(outcome);
  };
  const look = (): void => {
    const r = decodeProxyHeader(seen);
    if (r.kind === 'header') finish({ ok: true, client: r.client, rest: seen.subarray(r.consumed) });
    else if (r.kind === 'invalid') finish({ ok: false, reason: r.reason });
    else if (seen.length > Math.max(V1_MAX, V2_MAX)) finish({ ok: false, reason: 'no complete PROXY header in the first bytes' });
  };
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    look();
  };
  const onEnd = (): void => finish({ ok: false, reason: `the peer closed after ${seen.length} byte(s), before a whole PROXY header` });
  socket.on('data', onData);
  socket.once('end', onEnd);
  if (seen.length > 0) look();
  if (!finished && socket.isPaused()) socket.resume();
}
