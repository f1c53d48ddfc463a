/**
 * Bytes from the wire made safe to write into a log line: no line break, control character or
 * terminal escape from a peer reaches the log, so a peer cannot forge or hide a line.
 *
 * Input strings hold one char per byte (latin-1), as the parsers produce them. Plain printable
 * ASCII without a backslash, the usual case, is returned as it is after one scan; anything else
 * is decoded as UTF-8 (the client's own characters reach the log, invalid sequences become
 * U+FFFD) and then escaped:
 *   C0 controls and DEL → \xHH;   C1 controls, U+2028, U+2029 → \uHHHH;   "\" → "\\"
 *   bidi controls (U+200E/F, U+202A–U+202E, U+2066–U+2069) → \uHHHH: a terminal or viewer
 *   that honours them would show the rest of the line reordered (Trojan Source, CVE-2021-42574)
 * so an escape in the log always means the peer sent that byte (a literal "\x0a" shows as
 * "\\x0a"). The set is shared with the worker (test/fixtures/conformance/log-escapes.json).
 * Pure; used by the log renderers and by warnings that quote a peer.
 */

/** `value` (wire bytes, one char per byte) escaped for a log line. */
export function logSafe(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x5c) return escapeText(bytesToText(value));
  }
  return value;
}

/** logSafe for a warning: at most `max` chars of the value are quoted, then "…". */
export function quotePeer(value: string, max = 80): string {
  return value.length > max ? `${logSafe(value.slice(0, max))}…` : logSafe(value);
}

/**
 * `text` (already Unicode) with its control characters escaped as logSafe does, except that
 * line breaks are kept when `keepNewlines` (Berth's own multi-line messages); backslashes are
 * left alone — this is for text that quotes a peer, not for the peer's bytes themselves.
 */
export function escapeControls(text: string, keepNewlines: boolean): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isControl(c) && !(keepNewlines && c === 0x0a)) return escapeFrom(text, i, keepNewlines, false);
  }
  return text;
}

/**
 * Wire bytes (one char per byte) decoded as UTF-8, so the client's own characters reach the log
 * as uWSGI writes them (invalid sequences become U+FFFD). ASCII, the usual case, is returned as is.
 */
export function bytesToText(value: string): string {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) return Buffer.from(value, 'latin1').toString('utf8');
  }
  return value;
}

function isControl(c: number): boolean {
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  if (c < 0x200e || c > 0x2069) return false;
  return c <= 0x200f || c === 0x2028 || c === 0x2029 || (c >= 0x202a && c <= 0x202e) || c >= 0x2066;
}

function escapeText(text: string): string {
  return escapeFrom(text, 0, false, true);
}

function escapeFrom(text: string, start: number, keepNewlines: boolean, backslash: boolean): string {
  let out = text.slice(0, start);
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c && backslash) out += '\\\\';
    else if (!isControl(c) || (keepNewlines && c === 0x0a)) out += text[i];
    else if (c <= 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += '\\u' + c.toString(16).padStart(4, '0');
  }
  return out;
}
