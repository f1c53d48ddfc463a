/**
 * What a proxied request and its response carry across Berth: hop-by-hop headers stripped,
 * X-Forwarded-* and Forwarded set, and the uwsgi vars (nginx's uwsgi_params) for uwsgi backends.
 *
 * Theory of operation: pure functions over flat [name, value, …] lists. Hop-by-hop fields
 * (RFC 9110 §7.6.1: Connection and every field it names, plus Keep-Alive, Proxy-*, TE,
 * Trailer, Transfer-Encoding, Upgrade) belong to one connection and are never relayed in
 * either direction. X-Forwarded-For and Forwarded (RFC 7239) are appended to, so a backend
 * that trusts the proxies before Berth still sees the whole chain; X-Forwarded-Proto and
 * X-Forwarded-Host describe Berth's own client connection, so they are replaced. Via (RFC 9110
 * §7.6.3) gets this hop, `1.1 berth`, after any Via already there, unless a group turns it off.
 */
import type { ExchangeRequest } from '../server/exchange.js';

const ALWAYS_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization']);

/** This hop in Via (RFC 9110 §7.6.3): the protocol the message came in on and a pseudonym, no host name or port. */
export const VIA_HOP = '1.1 berth';

/** A backend's repeated head (one frozen array per kept head) and its copy with Via: a lookup, not a copy, per response. */
const viaCopies = new WeakMap<readonly string[], readonly string[]>();

/**
 * `headers` with `Via: 1.1 berth` after them (so after any Via the backend sent: a list in
 * field-line order). A frozen list is a parser's kept head, shared by every response that
 * repeats it: copied once per list (several backends take turns) and the copy frozen too, as
 * shared; any other is this response's own and is extended in place.
 */
export function withVia(headers: readonly string[]): readonly string[] {
  if (!Object.isFrozen(headers)) {
    (headers as string[]).push('Via', VIA_HOP);
    return headers;
  }
  let copy = viaCopies.get(headers);
  if (copy === undefined) {
    copy = Object.freeze([...headers, 'Via', VIA_HOP]);
    viaCopies.set(headers, copy);
  }
  return copy;
}

/** Lower-case names of the hop-by-hop fields in `headers` (the fixed ones and what Connection lists). */
export function hopByHopNames(headers: readonly string[]): ReadonlySet<string> {
  // The fixed set itself unless a Connection field names more (most messages): no copy per message.
  let hop: Set<string> | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    hop ??= new Set(ALWAYS_HOP);
    for (const token of (headers[i + 1] as string).split(',')) {
      const t = token.trim().toLowerCase();
      if (t !== '') hop.add(t);
    }
  }
  return hop ?? ALWAYS_HOP;
}

function isHop(name: string, hop: ReadonlySet<string>): boolean {
  return hop.has(name) || name.startsWith('proxy-');
}

/**
 * Whether `name` (any case) has the length of a fixed hop-by-hop name or starts with p: the
 * others (Content-Type, Content-Length, …) need no lower-cased copy to be told apart.
 */
function mayBeFixedHop(name: string): boolean {
  const n = name.length;
  return n === 2 || n === 7 || n === 10 || n === 17 || (n >= 6 && (name.charCodeAt(0) | 0x20) === 0x70);
}

/** `headers` without the hop-by-hop fields (for a response on its way back): `headers` itself when it has none. */
export function withoutHopByHop(headers: readonly string[]): readonly string[] {
  const hop = hopByHopNames(headers);
  const fixed = hop === ALWAYS_HOP;
  // Copied only from the first field to drop: most responses through a tuned backend carry none.
  let out: string[] | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if ((!fixed || mayBeFixedHop(name)) && isHop(name.toLowerCase(), hop)) out ??= headers.slice(0, i);
    else if (out !== null) out.push(name, headers[i + 1] as string);
  }
  return out ?? headers;
}

/** An address as Forwarded's node (RFC 7239 §6): IPv6 in quotes and brackets. */
function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}

export interface ForwardFacts {
  readonly host: string | null;
  readonly xForwardedFor: string | null;
  readonly forwarded: string | null;
  /** The client's TE listed `trailers` (it takes a chunked response's trailer fields, RFC 9110 §10.1.4). */
  readonly teTrailers?: boolean;
}

/**
 * The forwarding fields (X-Forwarded-For, -Proto, -Host, Forwarded) as head lines: the same
 * string while a client's first-hop values repeat, made once for them.
 */
export function forwardingLines(req: ExchangeRequest, seen: ForwardFacts): string {
  const f = forwardingValues(req, seen);
  const last = lastFirstHop;
  if (last !== null && last.values === f && last.lines !== null) return last.lines;
  const lines = `x-forwarded-for: ${f.xForwardedFor}\r\nx-forwarded-proto: ${req.scheme}\r\n${seen.host !== null ? `x-forwarded-host: ${seen.host}\r\n` : ''}forwarded: ${f.forwarded}\r\n`;
  if (last !== null && last.values === f) last.lines = lines;
  return lines;
}

/**
 * The request's own fields for an HTTP backend, in order, names in lower case, hop-by-hop and
 * forwarding ones left out; returns what the forwarding fields build on.
 */
export function eachRelayedField(req: ExchangeRequest, emit: (name: string, value: string) => void): ForwardFacts {
  const hop = hopByHopNames(req.headers);
  let host: string | null = null;
  let xff: string | null = null;
  let forwarded: string | null = null;
  let teTrailers = false;
  for (let i = 0; i < req.headers.length; i += 2) {
    const name = (req.headers[i] as string).toLowerCase();
    const value = req.headers[i + 1] as string;
    if (isHop(name, hop)) {
      if (name === 'te' && /(^|,)\s*trailers\s*(,|;|$)/i.test(value)) teTrailers = true;
      continue;
    }
    if (name === 'x-forwarded-for') xff = xff === null ? value : `${xff}, ${value}`;
    else if (name === 'forwarded') forwarded = forwarded === null ? value : `${forwarded}, ${value}`;
    else if (name === 'x-forwarded-proto' || name === 'x-forwarded-host') continue;
    else {
      if (name === 'host') host = value;
      emit(name, value);
    }
  }
  return { host, xForwardedFor: xff, forwarded, teTrailers };
}

interface ForwardingValues { readonly xForwardedFor: string; readonly forwarded: string }

/**
 * The last first-hop values made (no X-Forwarded-For or Forwarded came in), with what they were
 * made of: a client's keep-alive connection sends request after request with the same address,
 * scheme and Host, and each would otherwise build the same strings again.
 */
let lastFirstHop: { readonly me: string; readonly scheme: string; readonly host: string | null; readonly values: ForwardingValues; lines: string | null } | null = null;

/** X-Forwarded-For and Forwarded with this hop appended. */
export function forwardingValues(req: ExchangeRequest, seen: ForwardFacts): ForwardingValues {
  const me = req.remoteAddress;
  const firstHop = seen.xForwardedFor === null && seen.forwarded === null;
  const last = lastFirstHop;
  if (firstHop && last !== null && last.me === me && last.scheme === req.scheme && last.host === seen.host) return last.values;
  const values = appendedHop(req, seen);
  if (firstHop) lastFirstHop = { me, scheme: req.scheme, host: seen.host, values, lines: null };
  return values;
}

function appendedHop(req: ExchangeRequest, seen: ForwardFacts): ForwardingValues {
  const me = req.remoteAddress;
  const element = `for=${forwardedNode(me)};proto=${req.scheme}${seen.host !== null && /^[A-Za-z0-9.:[\]-]+$/.test(seen.host) ? `;host=${seen.host}` : ''}`;
  return {
    xForwardedFor: seen.xForwardedFor === null ? me : `${seen.xForwardedFor}, ${me}`,
    forwarded: seen.forwarded === null ? element : `${seen.forwarded}, ${element}`,
  };
}

const HOP_CGI = new Set([...ALWAYS_HOP].map((n) => `HTTP_${n.toUpperCase().replace(/-/g, '_')}`));
/** CGI vars of the front's block that uwsgi_params does not send (they describe Berth's own WSGI side). */
const NOT_SENT = new Set(['wsgi.url_scheme', 'SCRIPT_NAME', 'CONTENT_LENGTH', 'CONTENT_TYPE', 'PATH_INFO', 'HTTP_X_FORWARDED_PROTO', 'HTTP_X_FORWARDED_HOST', 'HTTP_X_FORWARDED_FOR', 'HTTP_FORWARDED']);

/**
 * The vars of a uwsgi request to a backend, from the front's CGI block (latin1 KEY\0VALUE\0…):
 * nginx's uwsgi_params set (REQUEST_METHOD, QUERY_STRING, CONTENT_TYPE, CONTENT_LENGTH,
 * REQUEST_URI, PATH_INFO, DOCUMENT_ROOT, SERVER_PROTOCOL, REQUEST_SCHEME, HTTPS, REMOTE_ADDR,
 * REMOTE_PORT, SERVER_PORT, SERVER_NAME) plus the HTTP_* fields, forwarding ones set.
 * `requestUri` replaces the block's REQUEST_URI (a route with a URI part rewrote the path).
 */
export function uwsgiVars(req: ExchangeRequest, cgiBlock: string, pathInfo: string, bodyBytes: number | null, requestUri: string | null = null, via = false, maxForwards: string | null = null): string[] {
  const parts = cgiBlock.split('\0');
  const hop = hopByHopNames(req.headers);
  const vars: string[] = [];
  let contentType = '';
  let viaChain: string | null = null;
  const seen: { host: string | null; xForwardedFor: string | null; forwarded: string | null } = { host: null, xForwardedFor: null, forwarded: null };
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const key = parts[i] as string;
    const value = parts[i + 1] as string;
    if (key === 'CONTENT_TYPE') contentType = value;
    else if (key === 'HTTP_HOST') seen.host = value;
    else if (key === 'HTTP_X_FORWARDED_FOR') seen.xForwardedFor = value;
    else if (key === 'HTTP_FORWARDED') seen.forwarded = value;
    else if (key === 'HTTP_VIA' && via) {
      viaChain = value;
      continue;
    } else if (key === 'HTTP_MAX_FORWARDS' && maxForwards !== null) continue;
    if (NOT_SENT.has(key) || HOP_CGI.has(key) || (requestUri !== null && key === 'REQUEST_URI')) continue;
    if (key.startsWith('HTTP_') && (key.startsWith('HTTP_PROXY_') || hop.has(key.slice(5).toLowerCase().replace(/_/g, '-')))) continue;
    vars.push(key, value);
  }
  const f = forwardingValues(req, seen);
  vars.push(
    'PATH_INFO', pathInfo,
    'CONTENT_TYPE', contentType,
    'CONTENT_LENGTH', bodyBytes === null ? '' : String(bodyBytes),
    'DOCUMENT_ROOT', '',
    'REQUEST_SCHEME', req.scheme,
    'HTTP_X_FORWARDED_FOR', f.xForwardedFor,
    'HTTP_X_FORWARDED_PROTO', req.scheme,
    'HTTP_FORWARDED', f.forwarded,
  );
  if (seen.host !== null) vars.push('HTTP_X_FORWARDED_HOST', seen.host);
  if (via) vars.push('HTTP_VIA', viaChain === null ? VIA_HOP : `${viaChain}, ${VIA_HOP}`);
  if (maxForwards !== null) vars.push('HTTP_MAX_FORWARDS', maxForwards);
  if (requestUri !== null) vars.push('REQUEST_URI', requestUri);
  if (req.scheme === 'https') vars.push('HTTPS', 'on');
  return vars;
}
