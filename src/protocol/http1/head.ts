/**
 * Request-head validation and interpretation (RFC 9112 §2–§3, §5–§6; RFC 9110 §5, §7.2).
 *
 * Theory of operation: the parser finds the end of a head (the first CRLF CRLF) in the raw
 * bytes and hands the head's range here. `parseHead` decodes it to one latin1 string, then
 * walks the bytes once with the byte-class tables: request-line, then one field line at a
 * time, slicing name and value out of that one string. The range always ends with CRLF, so
 * every scanning loop stops at a CR before running off the end. While walking it
 * notes the few fields that decide framing and connection reuse (Content-Length,
 * Transfer-Encoding, Connection, Host, Expect) and applies the smuggling rules at the end,
 * once every field has been seen. Errors are returned, not thrown, with their status code.
 */
import { HttpParseError, type RequestHead } from './types.js';
import { COLON, COMMA, CR, DIGIT_0, DIGIT_9, FIELD_VALUE, HTAB, LF, SP, TARGET, TOKEN } from './tables.js';
import { authorityHostEnd, targetFormError } from './target.js';

/** Content-Length digits allowed: 2^53 − 1 has 16 digits; more can only overflow. */
const MAX_LENGTH_DIGITS = 16;

const CONNECTION_CLOSE = 1;
const CONNECTION_KEEP_ALIVE = 2;

/** The head's fields, in the shape the front consumes. One class keeps one hidden class. */
class ParsedHead implements RequestHead {
  constructor(
    readonly method: string,
    readonly target: string,
    readonly versionMinor: 0 | 1,
    readonly headers: readonly string[],
    readonly contentLength: number,
    readonly chunked: boolean,
    readonly keepAlive: boolean,
    readonly expectContinue: boolean,
  ) {}
}

/**
 * Where a head's field names and values lie, as text offsets (four per field: name start and
 * end, value start and end). Integers, so recording them allocates nothing and, unlike a
 * long-lived list of strings, costs no write barrier; one per connection, grown as needed.
 */
export class FieldBounds {
  ints: Int32Array = new Int32Array(64);

  grow(): Int32Array {
    const bigger = new Int32Array(this.ints.length * 2);
    bigger.set(this.ints);
    return (this.ints = bigger);
  }
}

/** The flat [name, value, …] list of `count` fields, sliced from `text` at their bounds. */
function fieldsOf(text: string, ints: Int32Array, count: number): string[] {
  const fields = new Array<string>(count * 2);
  for (let k = 0; k < count; k++) {
    const at = k * 4;
    fields[2 * k] = text.slice(ints[at]!, ints[at + 1]!);
    fields[2 * k + 1] = text.slice(ints[at + 2]!, ints[at + 3]!);
  }
  return fields;
}

/** Case-insensitive compare of text[start, start+lower.length) with a lowercase literal. */
export function equalsLower(text: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    // OR 0x20 folds ASCII letters only: no tchar or OWS byte folds onto a letter or '-'.
    if ((text.charCodeAt(start + i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** OWS bytes (RFC 9110 §5.6.3). */
export function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/** A byte as error messages name it. */
export function charName(c: number): string {
  if (c === CR) return 'bare CR';
  if (c === LF) return 'bare LF';
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}

function bad(message: string): HttpParseError {
  return new HttpParseError(400, message);
}

/**
 * Content-Length = 1*DIGIT (RFC 9110 §8.6). No sign, no list ("1,1"), no whitespace
 * inside; the value must stay an exact JS integer. Returns -1 when invalid.
 */
export function parseContentLength(value: string): number {
  const len = value.length;
  if (len === 0 || len > MAX_LENGTH_DIGITS) return -1;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = value.charCodeAt(i);
    if (c < DIGIT_0 || c > DIGIT_9) return -1;
    n = n * 10 + (c - DIGIT_0);
  }
  return n <= Number.MAX_SAFE_INTEGER ? n : -1;
}

/**
 * Connection = #connection-option (RFC 9110 §7.6.1): a comma list of case-insensitive
 * tokens. Returns a bit set of the two options that matter to us.
 */
function connectionOptions(value: string): number {
  let flags = 0;
  let i = 0;
  const len = value.length;
  while (i <= len) {
    while (i < len && isOws(value.charCodeAt(i))) i++;
    let j = i;
    while (j < len && value.charCodeAt(j) !== COMMA) j++;
    let k = j;
    while (k > i && isOws(value.charCodeAt(k - 1))) k--;
    if (equalsLower(value, i, k, 'close')) flags |= CONNECTION_CLOSE;
    else if (equalsLower(value, i, k, 'keep-alive')) flags |= CONNECTION_KEEP_ALIVE;
    i = j + 1;
  }
  return flags;
}

/**
 * Transfer-Encoding in a request (RFC 9112 §6.1, §6.3 rule 4): chunked must be the final
 * coding and appear once; it is the only coding Berth decodes. Empty list elements are
 * skipped (RFC 9110 §5.6.1). Returns null when the value is exactly "chunked".
 */
function checkTransferEncoding(value: string): HttpParseError | null {
  let codings = 0;
  let chunkedCount = 0;
  let lastIsChunked = false;
  let i = 0;
  const len = value.length;
  while (i <= len) {
    while (i < len && isOws(value.charCodeAt(i))) i++;
    let j = i;
    while (j < len && value.charCodeAt(j) !== COMMA) j++;
    let k = j;
    while (k > i && isOws(value.charCodeAt(k - 1))) k--;
    if (k > i) {
      codings++;
      lastIsChunked = equalsLower(value, i, k, 'chunked');
      if (lastIsChunked) chunkedCount++;
    }
    i = j + 1;
  }
  if (codings === 0) return bad('empty Transfer-Encoding');
  if (!lastIsChunked) return bad('Transfer-Encoding whose final coding is not chunked (RFC 9112 §6.3)');
  if (chunkedCount > 1) return bad('chunked applied more than once (RFC 9112 §6.1)');
  if (codings > 1) return new HttpParseError(501, `unsupported transfer coding in '${value}'`);
  return null;
}

/** Why a request-line's version is not HTTP/1.0–1.9: 505 for another HTTP/x.y, else 400. */
function versionError(text: string, start: number): HttpParseError {
  const d = (i: number): boolean => {
    const c = text.charCodeAt(start + i);
    return c >= DIGIT_0 && c <= DIGIT_9;
  };
  const lineEnd = text.indexOf('\r\n', start);
  if (text.startsWith('HTTP/', start) && lineEnd - start === 8 && d(5) && text.charCodeAt(start + 6) === 0x2e && d(7)) {
    return new HttpParseError(505, `HTTP version ${text.slice(start, lineEnd)} is not supported`);
  }
  return bad('malformed HTTP-version in request-line (RFC 9112 §2.3)');
}

/**
 * Parses the head in buf[start, end) — request-line CRLF *( field-line CRLF ), without the
 * final empty line — into a RequestHead, or returns the error to answer with. Bytes are
 * validated straight from the buffer (a typed-array read is cheaper than charCodeAt);
 * strings are sliced from one latin1 decoding of the whole head, whose indexes are the
 * buffer's minus `start` (latin1 maps one byte to one char). `bounds` is kept by the caller
 * for its next heads (one per connection).
 */
export function parseHead(buf: Buffer, start: number, end: number, maxBodyBytes: number, bounds: FieldBounds): RequestHead | HttpParseError {
  const text = buf.toString('latin1', start, end);
  // request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
  let i = start;
  while (TOKEN[buf[i] as number] === 1) i++;
  if (i === start || buf[i] !== SP) return bad('malformed method in request-line (RFC 9112 §3.1)');
  // GET, by far the most common method, as one shared string rather than a new one per request.
  const method = i - start === 3 && buf[start] === 0x47 && buf[start + 1] === 0x45 && buf[start + 2] === 0x54 ? 'GET' : text.slice(0, i - start);
  const targetStart = ++i;
  while (TARGET[buf[i] as number] === 1) i++;
  if (i === targetStart) return bad('empty request-target or extra whitespace in request-line (RFC 9112 §3)');
  if (buf[i] !== SP) return bad(`${charName(buf[i] as number)} in request-target or missing HTTP-version (RFC 9112 §3.2)`);
  const target = text.slice(targetStart - start, i - start);
  const formError = targetFormError(method, buf, targetStart, i);
  if (formError !== null) return bad(formError);
  const versionStart = ++i;
  let versionMinor: 0 | 1 = 1;
  // A request-line with an unsupported version still has its fields checked first, so that
  // the status does not depend on how the bytes were split (a bare LF later in the head can
  // be caught before the head is complete).
  let deferred: HttpParseError | null = null;
  const minor = buf[versionStart + 7];
  if (
    buf[versionStart] === 0x48 && // "HTTP/1." byte by byte: cheaper than a slice and compare
    buf[versionStart + 1] === 0x54 &&
    buf[versionStart + 2] === 0x54 &&
    buf[versionStart + 3] === 0x50 &&
    buf[versionStart + 4] === 0x2f &&
    buf[versionStart + 5] === 0x31 &&
    buf[versionStart + 6] === 0x2e &&
    minor !== undefined &&
    minor >= DIGIT_0 &&
    minor <= DIGIT_9 &&
    buf[versionStart + 8] === CR &&
    buf[versionStart + 9] === LF
  ) {
    // RFC 9112 §2.6: a higher minor version is answered as the highest one supported, 1.1.
    versionMinor = minor === DIGIT_0 ? 0 : 1;
  } else {
    deferred = versionError(text, versionStart - start);
    if (deferred.status === 400) return deferred;
  }
  i = versionStart + 10;

  // Where each name and value lies (text offsets, in the caller's reused FieldBounds): the
  // strings are sliced once every field is valid, into a list of exactly their number.
  let ints: Int32Array = bounds.ints;
  let fieldCount = 0;
  let contentLength = -1;
  let transferEncoding: string | null = null;
  let hosts = 0;
  let connection = 0;
  let expectContinue = false;
  while (i < end) {
    // field-line = field-name ":" OWS field-value OWS (RFC 9112 §5)
    const nameStart = i;
    let c = buf[i] as number;
    if (isOws(c)) return bad('obs-fold (line folding) is not accepted (RFC 9112 §5.2)');
    while (TOKEN[buf[i] as number] === 1) i++;
    const nameEnd = i;
    c = buf[i] as number;
    if (c !== COLON || nameEnd === nameStart) {
      if (nameEnd > nameStart && isOws(c)) return bad('whitespace between field name and colon (RFC 9112 §5.1)');
      return bad(`${charName(c)} in field name (RFC 9110 §5.1)`);
    }
    i++;
    while (isOws(buf[i] as number)) i++;
    const valueStart = i;
    while (FIELD_VALUE[buf[i] as number] === 1) i++;
    if (buf[i] !== CR || buf[i + 1] !== LF) {
      return bad(`${charName(buf[i] as number)} in value of field '${text.slice(nameStart - start, nameEnd - start)}' (RFC 9110 §5.5)`);
    }
    let valueEnd = i;
    while (valueEnd > valueStart && isOws(buf[valueEnd - 1] as number)) valueEnd--;
    i += 2;
    const at = fieldCount * 4;
    if (at === ints.length) ints = bounds.grow();
    ints[at] = nameStart - start;
    ints[at + 1] = nameEnd - start;
    ints[at + 2] = valueStart - start;
    ints[at + 3] = valueEnd - start;
    fieldCount++;
    const n0 = nameStart - start;
    switch (nameEnd - nameStart) {
      case 4:
        if (equalsLower(text, n0, n0 + 4, 'host')) {
          hosts++;
          if (authorityHostEnd(buf, valueStart, valueEnd) === -1) return bad('invalid Host field value (RFC 9110 §7.2: uri-host [ ":" port ])');
        }
        break;
      case 6:
        if (equalsLower(text, n0, n0 + 6, 'expect') && equalsLower(text, valueStart - start, valueEnd - start, '100-continue')) {
          expectContinue = true;
        }
        break;
      case 10:
        if (equalsLower(text, n0, n0 + 10, 'connection')) connection |= connectionOptions(text.slice(valueStart - start, valueEnd - start));
        break;
      case 14:
        if (equalsLower(text, n0, n0 + 14, 'content-length')) {
          const value = text.slice(valueStart - start, valueEnd - start);
          // Duplicates are refused even when equal: two framing claims is a smuggling probe.
          if (contentLength !== -1) return bad('more than one Content-Length (RFC 9112 §6.3)');
          contentLength = parseContentLength(value);
          if (contentLength === -1) return bad(`invalid Content-Length '${value}' (RFC 9110 §8.6)`);
        }
        break;
      case 17:
        if (equalsLower(text, n0, n0 + 17, 'transfer-encoding')) {
          const value = text.slice(valueStart - start, valueEnd - start);
          transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
        }
        break;
    }
  }
  if (deferred !== null) return deferred;

  // RFC 9112 §3.2: exactly one Host in HTTP/1.1; never more than one.
  if (hosts > 1) return bad('more than one Host field (RFC 9112 §3.2)');
  if (hosts === 0 && versionMinor === 1) return bad('HTTP/1.1 request without Host (RFC 9112 §3.2)');

  let chunked = false;
  if (transferEncoding !== null) {
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
    if (versionMinor === 0) return bad('Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)');
    // RFC 9112 §6.3 rule 3: both present is a smuggling attempt; refuse instead of preferring TE.
    if (contentLength !== -1) return bad('both Transfer-Encoding and Content-Length (RFC 9112 §6.3)');
    const teError = checkTransferEncoding(transferEncoding);
    if (teError !== null) return teError;
    chunked = true;
  }
  if (maxBodyBytes > 0 && contentLength > maxBodyBytes) {
    return new HttpParseError(413, `Content-Length ${contentLength} exceeds the body limit of ${maxBodyBytes} bytes (limit-post)`);
  }
  const keepAlive =
    (connection & CONNECTION_CLOSE) === 0 && (versionMinor === 1 || (connection & CONNECTION_KEEP_ALIVE) !== 0);
  return new ParsedHead(
    method,
    target,
    versionMinor,
    fieldsOf(text, ints, fieldCount),
    chunked ? -1 : contentLength === -1 ? 0 : contentLength,
    chunked,
    keepAlive,
    expectContinue && versionMinor === 1,
  );
}
