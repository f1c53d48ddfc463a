/**
 * Turns a parsed HTTP/1.1 request into the CGI variables of the WSGI environ (PEP 3333), as one
 * latin1 "KEY\0VALUE\0…" block the Python worker splits with a single C-level call.
 *
 * - PATH_INFO is the percent-decoded path as raw bytes read as latin-1 (PEP 3333 "bytes as str");
 *   a decoded NUL would end a C string somewhere downstream, so it is refused (400).
 * - Request headers become HTTP_*; names containing '_' are dropped, because `X_Forwarded_For`
 *   and `X-Forwarded-For` would otherwise collide in the environ (header spoofing; nginx and
 *   gunicorn drop them too). Repeated headers are joined with ", " (Cookie with "; ").
 * - An absolute-form target's authority replaces the Host field (RFC 9112 §3.2.2): HTTP_HOST and
 *   SERVER_NAME come from it, so the app and the router agree on which host was asked for — also
 *   when no Host was sent (HTTP/1.0).
 * - SERVER_NAME is Host's host part, else the local address; an IPv6 literal keeps its brackets
 *   (RFC 3875 §4.1.14), so SERVER_NAME + ":" + SERVER_PORT stays a valid authority.
 * - The body is complete before the app runs, so CONTENT_LENGTH is always exact, even for
 *   chunked uploads (Django and Flask need it to read a body).
 */
import { absoluteFormAuthority } from '../protocol/http1/target.js';
import type { ScriptNameRule } from './script-name.js';

export interface ConnectionFacts {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly scheme: 'http' | 'https';
}

export interface EnvironRequest {
  readonly method: string;
  readonly target: string;
  readonly versionMinor: 0 | 1;
  readonly headers: readonly string[];
}

export class CgiNameCache {
  readonly #names = new Map<string, string>();

  /** "User-Agent" → "HTTP_USER_AGENT"; null for names Berth drops. */
  get(headerName: string): string | null {
    let cgi = this.#names.get(headerName);
    if (cgi !== undefined) return cgi === '' ? null : cgi;
    const lower = headerName.toLowerCase();
    if (lower.includes('_') || lower === 'transfer-encoding' || lower === 'content-length') cgi = '';
    else if (lower === 'content-type') cgi = 'CONTENT_TYPE';
    else cgi = 'HTTP_' + lower.toUpperCase().replace(/-/g, '_');
    // Bounded: a client inventing names must not grow memory without end.
    if (this.#names.size < 2048) this.#names.set(headerName, cgi);
    return cgi === '' ? null : cgi;
  }
}

/** Splits a request-target into raw path and query (handles origin-, absolute- and asterisk-form). */
export function splitTarget(target: string): { path: string; query: string } {
  let start = 0;
  if (target.charCodeAt(0) !== 47 /* / */ && target !== '*') {
    // absolute-form (RFC 9112 §3.2.2): drop "scheme://authority".
    const scheme = target.indexOf('://');
    if (scheme !== -1) {
      // The authority ends at the first "/" or "?" (RFC 3986 §3.2): "http://h?q" has query q.
      start = scheme + 3;
      while (start < target.length && target.charCodeAt(start) !== 47 && target.charCodeAt(start) !== 63 /* ? */) start++;
    }
  }
  const q = target.indexOf('?', start);
  const path = q === -1 ? target.slice(start) : target.slice(start, q);
  return { path: path === '' ? '/' : path, query: q === -1 ? '' : target.slice(q + 1) };
}

/** Percent-decodes to bytes and reads them as latin-1; returns null when a NUL appears. */
export function decodePath(path: string): string | null {
  if (path.indexOf('%') === -1) return path.indexOf('\0') === -1 ? path : null;
  const bytes = Buffer.from(path, 'latin1');
  let w = 0;
  for (let r = 0; r < bytes.length; r++) {
    const c = bytes[r]!;
    if (c === 37 && r + 2 < bytes.length) {
      const hi = hexValue(bytes[r + 1]!);
      const lo = hexValue(bytes[r + 2]!);
      if (hi >= 0 && lo >= 0) {
        bytes[w++] = (hi << 4) | lo;
        r += 2;
        continue;
      }
    }
    bytes[w++] = c;
  }
  const out = bytes.toString('latin1', 0, w);
  return out.indexOf('\0') === -1 ? out : null;
}

/**
 * Whether the path of a request-target percent-decodes to a NUL byte (the parser refuses a
 * raw NUL, so only "%00" can make one): cheap enough to ask of every request up front.
 */
export function pathDecodesToNul(target: string): boolean {
  return target.indexOf('%00') !== -1 && decodePath(splitTarget(target).path) === null;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** The Host header's host part, without port ("[::1]:80" → "::1"). */
export function hostName(host: string): string {
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(1, end);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/**
 * SERVER_NAME (RFC 3875 §4.1.14): the host part of a Host value ("[::1]:80" → "[::1]"),
 * or, for an empty one, the local address (an IPv6 one bracketed).
 */
export function cgiServerName(host: string, localAddress: string): string {
  let name: string;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    name = end === -1 ? host : host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(':');
    name = colon === -1 ? host : host.slice(0, colon);
  }
  if (name !== '') return name;
  return localAddress.includes(':') ? '[' + localAddress + ']' : localAddress;
}

/**
 * Builds the CGI block. Returns null when the request cannot be mapped safely (decoded NUL).
 * `contentLength` is the exact body size (0 when there is none).
 */
export function buildCgiBlock(
  req: EnvironRequest,
  conn: ConnectionFacts,
  contentLength: number,
  names: CgiNameCache,
  scriptNames: ScriptNameRule | null = null,
): string | null {
  const { path, query } = splitTarget(req.target);
  const decoded = decodePath(path);
  if (decoded === null) return null;
  let scriptName = '';
  let pathInfo = decoded;
  if (scriptNames !== null && scriptNames.active) [scriptName, pathInfo] = scriptNames.split(decoded);
  const authority = absoluteFormAuthority(req.target);
  let host: string | null = null;
  let headerPart = '';
  const seen: string[] = [];
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    const cgi = names.get(name);
    if (cgi === null) continue;
    let value = h[i + 1]!;
    if (cgi === 'HTTP_HOST') {
      value = authority ?? value;
      host ??= value;
    }
    if (seen.includes(cgi)) {
      headerPart = joinRepeated(headerPart, cgi, value);
      continue;
    }
    seen.push(cgi);
    headerPart += '\0' + cgi + '\0' + value;
  }
  if (host === null && authority !== null) {
    host = authority;
    headerPart += '\0HTTP_HOST\0' + authority;
  }
  const serverName = cgiServerName(host ?? '', conn.localAddress);
  let block =
    'REQUEST_METHOD\0' + req.method +
    '\0REQUEST_URI\0' + req.target +
    '\0PATH_INFO\0' + pathInfo +
    '\0QUERY_STRING\0' + query +
    '\0SCRIPT_NAME\0' + scriptName +
    '\0SERVER_PROTOCOL\0' + (req.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0') +
    '\0SERVER_NAME\0' + serverName +
    '\0SERVER_PORT\0' + conn.localPort +
    '\0REMOTE_ADDR\0' + conn.remoteAddress +
    '\0REMOTE_PORT\0' + conn.remotePort +
    '\0wsgi.url_scheme\0' + conn.scheme;
  if (contentLength > 0 || req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
    block += '\0CONTENT_LENGTH\0' + contentLength;
  }
  return block + headerPart;
}

/** Appends `value` to an already present CGI variable inside the block being built. */
function joinRepeated(block: string, cgi: string, value: string): string {
  const key = '\0' + cgi + '\0';
  const at = block.indexOf(key);
  const valueStart = at + key.length;
  const next = block.indexOf('\0', valueStart);
  const end = next === -1 ? block.length : next;
  const sep = cgi === 'HTTP_COOKIE' ? '; ' : ', ';
  return block.slice(0, end) + sep + value + block.slice(end);
}
