/**
 * Which protocol a new connection speaks, from its first bytes: so that a uwsgi socket
 * hit by a browser (or an HTTP socket hit by nginx's uwsgi_pass, or by TLS) can be
 * answered with a useful message instead of garbage, and so that a connection a worker
 * hands over (http-direct) is read as the HTTP it is.
 *
 * Theory of operation: each protocol has a recognisable opening, checked in this order.
 *   tls   — a TLS record header of type handshake: 0x16, then version 0x03 0x00–0x04
 *           (RFC 8446 §5.1; SSL 3.0 to TLS 1.3 all open this way).
 *   http  — exactly what the HTTP parsers (src/protocol/http1/, python/berth_runtime/
 *           http_request.py) accept as the start of a request: any empty lines (CRLF,
 *           RFC 9112 §2.2), a method of 1+ tchar (token, RFC 9110 §5.6.2: letters of either
 *           case, digits and !#$%&'*+-.^_`|~ — methods are case-sensitive tokens, §9.1), one
 *           SP, and a first target byte that opens one of its forms (RFC 9112 §3.2: "/", "*", a
 *           scheme letter; for CONNECT an authority's host byte). Whatever a worker
 *           would serve, the master serves too after a hand-over; the HTTP/2 preface
 *           "PRI * HTTP/2.0" opens the same way (RFC 9113 §3.4) and is answered as unsupported.
 *   uwsgi — only bytes that cannot open an HTTP request: modifier1, u16 LE datasize, modifier2
 *           (uWSGI docs, "The uwsgi protocol"), then a vars block whose first var has a key
 *           length that fits in the block and a key of A–Z a–z 0–9 _ characters (nginx's
 *           uwsgi_params keys are all uppercase). A block of 0 bytes is accepted only with
 *           modifier1 0, 30 or 100 (uWSGI's ping), since any four bytes would otherwise match.
 * HTTP is decided first and uwsgi only where HTTP is ruled out. Real uwsgi peers are never
 * mistaken for HTTP: nginx sends modifier1 0 and the WSGI variant 30, neither a tchar nor CR,
 * and so does every uWSGI peer sending WSGI (its other modifier1 values are other languages
 * and services, which Berth does not serve). A packet whose modifier1 happens to be a tchar is
 * taken for HTTP when its next bytes also read as a method, SP and a target, and answered by
 * the HTTP parser.
 * The answer needs at most SNIFF_BYTES (12), except while the bytes are still an HTTP opening
 * (empty lines, then method characters): then it needs the whole opening and the two bytes
 * after the method, and says 'need-more' until it has them. The caller bounds that wait.
 */
import { CR, LF, SP, TOKEN, HOST } from '../http1/tables.js';

export type SniffedProtocol = 'uwsgi' | 'http' | 'tls' | 'unknown' | 'need-more';

/** Enough bytes to decide anything but a long HTTP opening: a 4-byte header, a 2-byte key length and 6 key bytes. */
export const SNIFF_BYTES = 12;
/** Key bytes checked for the uwsgi shape: "PATH_I", "QUERY_", "REQUES" … */
const KEY_BYTES_CHECKED = 6;
/** modifier1 values that may come with an empty vars block: WSGI, WSGI without SCRIPT_NAME, ping. */
const EMPTY_BLOCK_MODIFIERS = new Set([0, 30, 100]);

/** The first byte of a TLS record carrying a handshake (a ClientHello). */
export const TLS_HANDSHAKE = 0x16;
const SLASH = 0x2f;
const STAR = 0x2a;
const COLON = 0x3a;
const RIGHT_BRACKET = 0x5d;
const CONNECT = Buffer.from('CONNECT', 'latin1');

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isKeyChar(c: number): boolean {
  return isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

/** 'tls' | 'unknown' | 'need-more' for input opening with 0x16. */
function sniffTls(b: Buffer): SniffedProtocol | null {
  if (b[0] !== TLS_HANDSHAKE) return null;
  if (b.length < 2) return 'need-more';
  if (b[1] !== 0x03) return null;
  if (b.length < 3) return 'need-more';
  return (b[2] as number) <= 0x04 ? 'tls' : null;
}

/** Whether b[start, end) is "CONNECT", compared in place (a subarray per connection costs more than the sniff). */
function isConnect(b: Buffer, start: number, end: number): boolean {
  if (end - start !== CONNECT.length) return false;
  for (let i = 0; i < CONNECT.length; i++) if (b[start + i] !== CONNECT[i]) return false;
  return true;
}

/**
 * Whether `first` can begin a target of one of the four forms for the method in b[start, end)
 * (RFC 9112 §3.2, src/protocol/http1/target.ts): only CONNECT's differs.
 */
function mayOpenTarget(b: Buffer, start: number, end: number, first: number): boolean {
  // authority-form: a non-empty host (an IP literal's "[" included), then ":" port.
  if (isConnect(b, start, end)) return HOST[first] === 1 && first !== COLON && first !== RIGHT_BRACKET;
  // origin-form, asterisk-form (the parsers answer "*" for other methods than OPTIONS with a 400,
  // an HTTP answer: M-SEARCH *, the HTTP/2 preface's PRI *), or absolute-form's scheme (a letter
  // first, RFC 3986 §3.1).
  return first === SLASH || first === STAR || isLetter(first);
}

function sniffHttp(b: Buffer): SniffedProtocol | null {
  let i = 0;
  // Empty lines before the request-line: both parsers skip CRLF pairs (a bare CR or LF is refused).
  while (b[i] === CR) {
    if (i + 1 >= b.length) return 'need-more';
    if (b[i + 1] !== LF) return null;
    i += 2;
  }
  const methodStart = i;
  while (i < b.length && TOKEN[b[i] as number] === 1) i++;
  if (i === b.length) return 'need-more';
  if (i === methodStart || b[i] !== SP) return null;
  if (i + 1 === b.length) return 'need-more';
  return mayOpenTarget(b, methodStart, i, b[i + 1] as number) ? 'http' : null;
}

function sniffUwsgi(b: Buffer): SniffedProtocol | null {
  if (b.length < 4) return 'need-more';
  const modifier1 = b[0] as number;
  const datasize = (b[1] as number) | ((b[2] as number) << 8);
  if (datasize === 0) return EMPTY_BLOCK_MODIFIERS.has(modifier1) ? 'uwsgi' : null;
  // The smallest var: key length, a 1-byte key, value length.
  if (datasize < 5) return null;
  if (b.length < 6) return 'need-more';
  const keyLen = (b[4] as number) | ((b[5] as number) << 8);
  // The first var needs its key-length field, the key, and a value-length field.
  if (keyLen === 0 || 2 + keyLen + 2 > datasize) return null;
  const checked = Math.min(keyLen, KEY_BYTES_CHECKED);
  for (let i = 0; i < checked; i++) {
    if (6 + i >= b.length) return 'need-more';
    if (!isKeyChar(b[6 + i] as number)) return null;
  }
  return 'uwsgi';
}

/**
 * Decides from the first bytes of a connection. Pass everything received so far; call
 * again with more while it says 'need-more' (SNIFF_BYTES suffice unless the bytes are still
 * an HTTP opening, see above).
 */
export function sniffProtocol(firstBytes: Buffer): SniffedProtocol {
  if (firstBytes.length === 0) return 'need-more';
  const tls = sniffTls(firstBytes);
  if (tls !== null) return tls;
  const http = sniffHttp(firstBytes);
  if (http !== null) return http;
  return sniffUwsgi(firstBytes) ?? 'unknown';
}
