/**
 * Request-target forms and authorities (RFC 9112 §3.2, RFC 9110 §4.2, §7.2): which form a
 * target has, whether its method may use it, and the authority a Host value or target names.
 *
 * Theory of operation: the four forms are told apart by their first bytes — "/" is
 * origin-form, a lone "*" is asterisk-form (OPTIONS only), a CONNECT target is authority-form
 * (CONNECT only), and "scheme://" is absolute-form, whose authority then stands in for Host
 * (RFC 9112 §3.2.2). Anything else is refused: it names no resource a server can map. Bytes
 * inside a target are checked by the TARGET table before this runs.
 */
import { COLON, DIGIT_0, DIGIT_9, HOST } from './tables.js';

const LEFT_BRACKET = 0x5b;
const RIGHT_BRACKET = 0x5d;
const SLASH = 0x2f;
const QUESTION = 0x3f;
const STAR = 0x2a;

/**
 * Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2–§3.2.3) in buf[start, end):
 * one colon at most outside an IP-literal "[…]", only digits after it. Returns where the
 * host part ends (the colon or `end`), or -1 when invalid. Empty is a valid Host value
 * (RFC 9112 §3.2); no "userinfo@" (RFC 9110 §4.2.4).
 */
export function authorityHostEnd(buf: Buffer, start: number, end: number): number {
  let i = start;
  if (buf[i] === LEFT_BRACKET) {
    // IP-literal: its colons are the address's own.
    for (i++; i < end && buf[i] !== RIGHT_BRACKET; i++) {
      if (HOST[buf[i] as number] !== 1 || buf[i] === LEFT_BRACKET) return -1;
    }
    if (i === end) return -1;
    i++;
  } else {
    for (; i < end && buf[i] !== COLON; i++) {
      const c = buf[i] as number;
      if (HOST[c] !== 1 || c === LEFT_BRACKET || c === RIGHT_BRACKET) return -1;
    }
  }
  const hostEnd = i;
  if (i === end) return hostEnd;
  if (buf[i] !== COLON) return -1;
  for (i++; i < end; i++) {
    const c = buf[i] as number;
    if (c < DIGIT_0 || c > DIGIT_9) return -1;
  }
  return hostEnd;
}

/** Whether buf[start, end) opens with `scheme "://"` (RFC 3986 §3.1); returns the authority's start or -1. */
function authorityStart(buf: Buffer, start: number, end: number): number {
  let i = start;
  const first = (buf[i] as number) | 0x20;
  if (i >= end || first < 0x61 || first > 0x7a) return -1;
  for (i++; i < end; i++) {
    const c = buf[i] as number;
    const l = c | 0x20;
    if ((l >= 0x61 && l <= 0x7a) || (c >= DIGIT_0 && c <= DIGIT_9) || c === 0x2b || c === 0x2d || c === 0x2e) continue;
    break;
  }
  if (end - i < 3 || buf[i] !== COLON || buf[i + 1] !== SLASH || buf[i + 2] !== SLASH) return -1;
  return i + 3;
}

/** The end of the authority that starts at `from` in an absolute-form target: the first "/" or "?", or `end`. */
function authorityEnd(buf: Buffer, from: number, end: number): number {
  let i = from;
  while (i < end && buf[i] !== SLASH && buf[i] !== QUESTION) i++;
  return i;
}

/**
 * Why `method` may not use the target in buf[start, end) (RFC 9112 §3.2.1–§3.2.4), or null
 * when it may. Methods are case-sensitive (RFC 9110 §9.1): only "CONNECT" and "OPTIONS" are
 * the methods with a form of their own.
 */
export function targetFormError(method: string, buf: Buffer, start: number, end: number): string | null {
  const connect = method === 'CONNECT';
  if (buf[start] === SLASH) return connect ? 'CONNECT needs an authority-form target, host:port (RFC 9112 §3.2.3)' : null;
  if (buf[start] === STAR && end - start === 1) {
    return method === 'OPTIONS' ? null : 'the asterisk-form target "*" is for OPTIONS only (RFC 9112 §3.2.4)';
  }
  if (connect) {
    const hostEnd = authorityHostEnd(buf, start, end);
    return hostEnd > start && hostEnd < end ? null : 'CONNECT needs an authority-form target, host:port (RFC 9112 §3.2.3)';
  }
  const from = authorityStart(buf, start, end);
  if (from === -1) return 'request-target is not origin-form ("/…") nor absolute-form ("scheme://…") (RFC 9112 §3.2)';
  const to = authorityEnd(buf, from, end);
  const hostEnd = authorityHostEnd(buf, from, to);
  if (hostEnd <= from) return 'absolute-form target without a valid host (RFC 9110 §4.2.1, RFC 9112 §3.2.2)';
  return null;
}

/**
 * The authority of an absolute-form target ("http://h:8/x" → "h:8"), which replaces the Host
 * field (RFC 9112 §3.2.2); null for the other forms. The target is one the parser accepted.
 */
export function absoluteFormAuthority(target: string): string | null {
  const c = target.charCodeAt(0);
  if (c === SLASH || c === STAR) return null;
  const scheme = target.indexOf('://');
  if (scheme === -1) return null;
  let end = scheme + 3;
  while (end < target.length && target.charCodeAt(end) !== SLASH && target.charCodeAt(end) !== QUESTION) end++;
  return target.slice(scheme + 3, end);
}
