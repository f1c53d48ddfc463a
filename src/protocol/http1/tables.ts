/**
 * Byte-class lookup tables shared by the HTTP/1.1 parser and the response planner.
 *
 * Each table is a 256-entry Uint8Array indexed by a byte (or a latin1 char code): 1 means
 * "allowed in this production". A table lookup per byte is what keeps validation cheap on
 * the hot path; callers holding a JS string must first reject char codes above 0xFF.
 * The tables are built once at module load and never written afterwards.
 */

function table(allow: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = allow(c) ? 1 : 0;
  return t;
}

const TCHAR_PUNCT = "!#$%&'*+-.^_`|~";
function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Byte values the HTTP and uwsgi codecs compare against (one definition for every codec). */
export const HTAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SP = 0x20;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;
export const DIGIT_0 = 0x30;
export const DIGIT_9 = 0x39;
export const COMMA = 0x2c;

/** token = 1*tchar (RFC 9110 §5.6.2): method names, header names, transfer-codings. */
export const TOKEN = table((c) => isAlnum(c) || TCHAR_PUNCT.includes(String.fromCharCode(c)));

/**
 * field-value bytes (RFC 9110 §5.5): HTAB, SP, VCHAR and obs-text. CR, LF, NUL and the
 * other CTLs (including DEL) are excluded: a server MUST reject them (§5.5) rather than
 * pass them to the app or back to a client.
 */
export const FIELD_VALUE = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/**
 * request-target bytes (RFC 9112 §3.2): no whitespace, no CTLs. Bytes 0x80–0xFF are
 * tolerated because clients such as curl send raw UTF-8 paths and nginx/uWSGI accept
 * them; the app sees them latin1-decoded in PATH_INFO exactly as PEP 3333 prescribes.
 */
export const TARGET = table((c) => c > 0x20 && c !== 0x7f);

/**
 * Host field-value bytes (RFC 9112 §3.2, RFC 3986 §3.2.2): uri-host [ ":" port ] uses
 * unreserved, pct-encoded, sub-delims, ":" and the IP-literal brackets — nothing else.
 */
export const HOST = table((c) => isAlnum(c) || "-._~%!$&'()*+,;=:[]".includes(String.fromCharCode(c)));

/** Hex digit value + 1 (0 = not a hex digit), for chunk-size (RFC 9112 §7.1). */
export const HEX_VALUE = ((): Uint8Array => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    if (c >= 0x30 && c <= 0x39) t[c] = c - 0x30 + 1;
    else if (c >= 0x41 && c <= 0x46) t[c] = c - 0x41 + 11;
    else if (c >= 0x61 && c <= 0x66) t[c] = c - 0x61 + 11;
  }
  return t;
})();

/** Reason-phrase bytes (RFC 9112 §4): HTAB, SP, VCHAR, obs-text — the same set as field values. */
export const REASON = FIELD_VALUE;
