/**
 * Which protocol a new connection speaks, from its first bytes: so that a uwsgi socket
 * hit by a browser (or an HTTP socket hit by nginx's uwsgi_pass, or by TLS) can be
 * answered with a useful message instead of garbage.
 *
 * Theory of operation: each protocol has a recognisable opening, checked in this order.
 *   tls   — a TLS record header of type handshake: 0x16, then version 0x03 0x00–0x04
 *           (RFC 8446 §5.1; SSL 3.0 to TLS 1.3 all open this way).
 *   http  — a method of 3+ letters, digits, '-' or '_' (a letter first), then SP (RFC 9112
 *           §3: method SP request-target …). Digits because the workers' parser (http-direct)
 *           takes any token as a method: "GE9007199254740993T /a" served by a worker must
 *           not read as a uwsgi packet once handed to the master. Letters of either case: methods are case-sensitive tokens
 *           (RFC 9110 §9.1), so `get` is a valid method the app answers like any unknown
 *           one, not garbage. The HTTP/2 preface "PRI * HTTP/2.0" opens the same way
 *           (RFC 9113 §3.4), and the front answers it as unsupported.
 *   uwsgi — modifier1, u16 LE datasize, modifier2 (uWSGI docs, "The uwsgi protocol"),
 *           then a vars block whose first var has a key length that fits in the block
 *           and a key of A–Z a–z 0–9 _ characters (nginx's uwsgi_params keys are all
 *           uppercase). A block of 0 bytes is accepted only with modifier1 0, 30 or 100
 *           (uWSGI's ping), since any four bytes would otherwise match.
 * The uwsgi shape is judged as a whole, not by its first byte: an HTTP method's first
 * letter is also a valid modifier1 ('G' = 71). HTTP is tried first; a uwsgi packet that
 * also read as 3+ method characters then SP would need a letter for modifier1, a datasize
 * made of two method characters (11,585 bytes or more) and a modifier2 of SP or a method
 * character, which no uwsgi peer sends (nginx sends modifier2 0). The answer needs at most
 * 12 bytes; until then, while the bytes seen still fit some opening, it is 'need-more'.
 */
import { SP } from '../http1/tables.js';

export type SniffedProtocol = 'uwsgi' | 'http' | 'tls' | 'unknown' | 'need-more';

/** Enough bytes to decide: a 4-byte header, a 2-byte key length and 6 key bytes. */
export const SNIFF_BYTES = 12;
/** Key bytes checked for the uwsgi shape: "PATH_I", "QUERY_", "REQUES" … */
const KEY_BYTES_CHECKED = 6;
/** modifier1 values that may come with an empty vars block: WSGI, WSGI without SCRIPT_NAME, ping. */
const EMPTY_BLOCK_MODIFIERS = new Set([0, 30, 100]);

const TLS_HANDSHAKE = 0x16;

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isMethodChar(c: number): boolean {
  return isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
}

function isKeyChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

/** 'tls' | 'unknown' | 'need-more' for input opening with 0x16. */
function sniffTls(b: Buffer): SniffedProtocol | null {
  if (b[0] !== TLS_HANDSHAKE) return null;
  if (b.length < 2) return 'need-more';
  if (b[1] !== 0x03) return null;
  if (b.length < 3) return 'need-more';
  return (b[2] as number) <= 0x04 ? 'tls' : null;
}

function sniffHttp(b: Buffer): SniffedProtocol | null {
  const n = Math.min(b.length, SNIFF_BYTES);
  for (let i = 0; i < n; i++) {
    const c = b[i] as number;
    // Three letters at least (GET, PUT): then modifier1 and datasize are all letters, see above.
    if (c === SP) return i >= 3 ? 'http' : null;
    // A method starts with a letter; '-' and '_' only inside ("M-SEARCH", "BASELINE-CONTROL").
    if (i === 0 ? !isLetter(c) : !isMethodChar(c)) return null;
  }
  // Twelve method characters and no SP yet: a long extension method. The HTTP parser judges.
  return n === SNIFF_BYTES ? 'http' : 'need-more';
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
 * again with more while it says 'need-more' (it never needs more than SNIFF_BYTES).
 */
export function sniffProtocol(firstBytes: Buffer): SniffedProtocol {
  if (firstBytes.length === 0) return 'need-more';
  const tls = sniffTls(firstBytes);
  if (tls !== null) return tls;
  const http = sniffHttp(firstBytes);
  if (http !== null) return http;
  return sniffUwsgi(firstBytes) ?? 'unknown';
}
