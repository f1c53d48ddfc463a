/**
 * Who the client is when Berth sits behind proxies: REMOTE_ADDR and the scheme taken from
 * `Forwarded` (RFC 7239) or X-Forwarded-For / X-Forwarded-Proto, only for a peer in
 * forwarded-allow-ips (gunicorn's option and default, 127.0.0.1,::1; `*` trusts every peer).
 *
 * Theory of operation. Each proxy appends the address it received the request from, so the
 * list reads client, proxy1, proxy2… and only its right end is vouched for. The walk starts
 * at the right: a hop that is itself a trusted proxy is stepped over, the first one that is
 * not is the client (nginx's real_ip_recursive; "rightmost untrusted"). Everything left of it
 * was written by the client and is ignored. If every hop is trusted the leftmost is the
 * client. A hop that is not an address (`unknown`, an obfuscated RFC 7239 node, garbage)
 * stops the walk and the header is not used: the peer stays the client. `Forwarded` wins
 * over X-Forwarded-* when both are present. The scheme is the one the client's own hop
 * reported (its element's proto=, or the X-Forwarded-Proto entry at the same position, or
 * the single X-Forwarded-Proto value), and only http or https.
 */
import { isIP } from 'node:net';
import { inNetworks, parseCidr, type Cidr } from '../config/cidr.js';

/** The trusted peers: a list of networks, or every peer (`*`). */
export type ForwardedTrust = readonly Cidr[] | 'all';

export interface ForwardedClient {
  readonly remoteAddress: string;
  /** 0 when the header gave no port. */
  readonly remotePort: number;
  readonly scheme: 'http' | 'https' | null;
}

/** Parses `forwarded-allow-ips` (comma-separated IPs or CIDRs, or `*`); `bad` names the first entry that is neither. */
export function parseForwardedAllow(value: string): ForwardedTrust | { readonly bad: string } {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.includes('*')) return 'all';
  const nets: Cidr[] = [];
  for (const item of items) {
    const net = parseCidr(item);
    if (net === null) return { bad: item };
    nets.push(net);
  }
  return nets;
}

/** Whether a connection's peer may speak for the client; unix-socket peers ('') are, as in gunicorn. */
export function peerIsTrusted(peer: string, trust: ForwardedTrust): boolean {
  return trust === 'all' || peer === '' || inNetworks(peer, trust);
}

interface Hop {
  readonly address: string;
  readonly port: number;
  readonly proto: string | null;
}

/**
 * The client named by the headers (flat [name, value, …]) of a request from a trusted peer,
 * or null when they name none usably.
 */
export function forwardedClient(headers: readonly string[], trust: ForwardedTrust): ForwardedClient | null {
  let forwarded: string | null = null;
  let xff: string | null = null;
  let xfp: string | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const raw = headers[i]!;
    // Per request on a trusted peer: only the three names' lengths (9, 15, 17) are lowercased.
    if (raw.length !== 9 && raw.length !== 15 && raw.length !== 17) continue;
    const name = raw.toLowerCase();
    const value = headers[i + 1]!;
    if (name === 'forwarded') forwarded = forwarded === null ? value : `${forwarded},${value}`;
    else if (name === 'x-forwarded-for') xff = xff === null ? value : `${xff},${value}`;
    else if (name === 'x-forwarded-proto') xfp = xfp === null ? value : `${xfp},${value}`;
  }
  const hops = forwarded !== null ? forwardedHops(forwarded) : xff !== null ? xffHops(xff, xfp) : null;
  if (hops === null || hops.length === 0) return null;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop.address) === 0) return null;
    if (i > 0 && (trust === 'all' || inNetworks(hop.address, trust))) continue;
    const proto = hop.proto?.toLowerCase() ?? null;
    return { remoteAddress: hop.address, remotePort: hop.port, scheme: proto === 'http' || proto === 'https' ? proto : null };
  }
  return null;
}

function xffHops(xff: string, xfp: string | null): Hop[] {
  const addresses = xff.split(',').map((s) => s.trim());
  const protos = xfp === null ? [] : xfp.split(',').map((s) => s.trim());
  return addresses.map((text, i) => {
    const node = parseNode(text);
    const proto = protos.length === addresses.length ? protos[i]! : protos.length === 1 ? protos[0]! : null;
    return { ...node, proto };
  });
}

/** RFC 7239 §4: elements separated by ',', pairs by ';', values tokens or quoted strings. */
function forwardedHops(value: string): Hop[] {
  const hops: Hop[] = [];
  for (const element of splitOutsideQuotes(value, ',')) {
    let node: { address: string; port: number } = { address: 'unknown', port: 0 };
    let proto: string | null = null;
    for (const pair of splitOutsideQuotes(element, ';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const key = pair.slice(0, eq).trim().toLowerCase();
      let v = pair.slice(eq + 1).trim();
      if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
      if (key === 'for') node = parseNode(v);
      else if (key === 'proto') proto = v;
    }
    hops.push({ ...node, proto });
  }
  return hops;
}

function splitOutsideQuotes(text: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/** A node: `192.0.2.1`, `192.0.2.1:8080`, `[2001:db8::1]:4711`, `2001:db8::1` (X-Forwarded-For), else not an address. */
function parseNode(text: string): { address: string; port: number } {
  const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracket) return { address: bracket[1]!, port: bracket[2] === undefined ? 0 : Number(bracket[2]) };
  const v4port = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(text);
  if (v4port) return { address: v4port[1]!, port: Number(v4port[2]) };
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  return { address: mapped ? mapped[1]! : text, port: 0 };
}
