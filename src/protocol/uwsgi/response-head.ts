/**
 * Response-head validation and framing (RFC 9112 §4–§6, RFC 9110 §5, §15), for the raw
 * HTTP responses that uWSGI backends send back over a uwsgi connection.
 *
 * Theory of operation: the response parser finds the end of a head (the first CRLF CRLF)
 * and hands its range here, ending after the last field line's CRLF. The bytes are walked
 * once with the byte-class tables of the HTTP/1.1 codec; names and values are sliced from
 * one latin1 decoding of the head. The range ends with CRLF, so every scanning loop stops
 * at a CR before running off the end. The rules are the request side's: token names, no
 * obs-fold, no bare CR or LF, no duplicate or invalid Content-Length — a proxy that guessed
 * here could be made to splice one upstream response into another (response splitting).
 * Both Content-Length and Transfer-Encoding: chunked wins and the length is dropped, as RFC
 * 9112 §6.3 rule 3 asks of an intermediary that forwards such a message; the head is marked
 * `faultyFraming`, so its connection carries nothing more.
 */
import { charName, equalsLower, isOws, parseContentLength } from '../http1/head.js';
import { COLON, CR, DIGIT_0, DIGIT_9, FIELD_VALUE, LF, REASON, SP, TOKEN } from '../http1/tables.js';
import { UpstreamResponseError, type RawHttpResponseHead, type ResponseBodyFraming } from './types.js';

class ParsedResponseHead implements RawHttpResponseHead {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    readonly versionMinor: 0 | 1,
    readonly headers: readonly string[],
    readonly framing: ResponseBodyFraming,
    readonly contentLength: number,
    readonly faultyFraming: boolean,
  ) {}
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= DIGIT_0 && c <= DIGIT_9;
}

/**
 * Transfer-Encoding (RFC 9112 §6.1): Berth relays only bodies it can frame, so the list
 * must be exactly one `chunked` (empty list elements are skipped, RFC 9110 §5.6.1).
 */
function isOnlyChunked(value: string): boolean {
  let codings = 0;
  let chunked = false;
  for (const element of value.split(',')) {
    const coding = element.trim();
    if (coding.length === 0) continue;
    codings++;
    chunked = coding.toLowerCase() === 'chunked';
  }
  return codings === 1 && chunked;
}

/**
 * Parses buf[start, end) — status-line CRLF *( field-line CRLF ) — into a head with its
 * body framing decided, or returns the error that makes the response unusable.
 */
export function parseResponseHead(buf: Buffer, start: number, end: number, headRequest: boolean): RawHttpResponseHead | UpstreamResponseError {
  const text = buf.toString('latin1', start, end);
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
  const minor = buf[start + 7];
  if (!text.startsWith('HTTP/1.') || (minor !== DIGIT_0 && minor !== 0x31) || buf[start + 8] !== SP) {
    return new UpstreamResponseError('bad-status-line', `status line does not start with HTTP/1.0 or HTTP/1.1 (RFC 9112 §4): ${JSON.stringify(text.slice(0, 40))}`);
  }
  if (!isDigit(buf[start + 9]) || !isDigit(buf[start + 10]) || !isDigit(buf[start + 11])) {
    return new UpstreamResponseError('bad-status-line', 'status-code is not 3 digits (RFC 9112 §4)');
  }
  const statusCode = ((buf[start + 9] as number) - DIGIT_0) * 100 + ((buf[start + 10] as number) - DIGIT_0) * 10 + ((buf[start + 11] as number) - DIGIT_0);
  if (statusCode < 100 || statusCode > 599) {
    return new UpstreamResponseError('bad-status-line', `status-code ${statusCode} is outside 100–599 (RFC 9110 §15)`);
  }
  let i = start + 12;
  let reasonStart = i;
  // The SP before an empty reason is required by RFC 9112 §4, but "HTTP/1.1 200\r\n" is
  // what a WSGI app's `start_response('200', …)` becomes in uWSGI: accepted, reason ''.
  if (buf[i] === SP) {
    reasonStart = ++i;
    while (REASON[buf[i] as number] === 1) i++;
  }
  if (buf[i] !== CR || buf[i + 1] !== LF) {
    return new UpstreamResponseError('bad-status-line', `${charName(buf[i] as number)} in the status line (RFC 9112 §4)`);
  }
  const reason = text.slice(reasonStart - start, i - start);
  i += 2;

  const headers: string[] = [];
  let contentLength = -1;
  let transferEncoding: string | null = null;
  while (i < end) {
    // field-line = field-name ":" OWS field-value OWS (RFC 9112 §5)
    const nameStart = i;
    if (isOws(buf[i] as number)) return new UpstreamResponseError('bad-header', 'obs-fold (line folding) is not accepted (RFC 9112 §5.2)');
    while (TOKEN[buf[i] as number] === 1) i++;
    const nameEnd = i;
    if (buf[i] !== COLON || nameEnd === nameStart) {
      return new UpstreamResponseError('bad-header', `${charName(buf[i] as number)} in a field name (RFC 9110 §5.1, RFC 9112 §5.1)`);
    }
    i++;
    while (isOws(buf[i] as number)) i++;
    const valueStart = i;
    while (FIELD_VALUE[buf[i] as number] === 1) i++;
    if (buf[i] !== CR || buf[i + 1] !== LF) {
      return new UpstreamResponseError('bad-header', `${charName(buf[i] as number)} in the value of ${text.slice(nameStart - start, nameEnd - start)} (RFC 9110 §5.5)`);
    }
    let valueEnd = i;
    while (valueEnd > valueStart && isOws(buf[valueEnd - 1] as number)) valueEnd--;
    i += 2;
    const name = text.slice(nameStart - start, nameEnd - start);
    const value = text.slice(valueStart - start, valueEnd - start);
    headers.push(name, value);
    if (equalsLower(text, nameStart - start, nameEnd - start, 'content-length')) {
      // RFC 9112 §6.3 rule 5: an invalid length makes the response unrecoverable; two of
      // them, even equal, are two framing claims.
      if (contentLength !== -1) return new UpstreamResponseError('bad-content-length', 'more than one Content-Length (RFC 9112 §6.3)');
      contentLength = parseContentLength(value);
      if (contentLength === -1) return new UpstreamResponseError('bad-content-length', `invalid Content-Length '${value}' (RFC 9110 §8.6)`);
    } else if (equalsLower(text, nameStart - start, nameEnd - start, 'transfer-encoding')) {
      transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
    }
  }

  const versionMinor: 0 | 1 = minor === DIGIT_0 ? 0 : 1;
  let framing: ResponseBodyFraming;
  const faultyFraming = transferEncoding !== null && contentLength !== -1;
  // RFC 9112 §6.3 rule 3: Transfer-Encoding overrides Content-Length, which a forwarding intermediary must remove.
  if (faultyFraming) {
    dropContentLength(headers);
    contentLength = -1;
  }
  // RFC 9112 §6.3 rule 1: no body after HEAD, 1xx, 204 or 304, whatever the fields say.
  if (headRequest || statusCode < 200 || statusCode === 204 || statusCode === 304) {
    framing = 'none';
  } else if (transferEncoding !== null) {
    if (versionMinor === 0) return new UpstreamResponseError('conflicting-framing', 'Transfer-Encoding in an HTTP/1.0 response (RFC 9112 §6.1)');
    if (!isOnlyChunked(transferEncoding)) {
      return new UpstreamResponseError('unsupported-transfer-coding', `Transfer-Encoding '${transferEncoding}': only chunked is relayed`);
    }
    framing = 'chunked';
  } else if (contentLength !== -1) {
    framing = contentLength === 0 ? 'none' : 'length';
  } else {
    framing = 'close'; // RFC 9112 §6.3 rule 8
  }
  return new ParsedResponseHead(statusCode, reason, versionMinor, headers, framing, contentLength, faultyFraming);
}

/** Removes the Content-Length field from `headers` in place. */
function dropContentLength(headers: string[]): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if ((headers[i] as string).toLowerCase() === 'content-length') headers.splice(i, 2);
  }
}

/**
 * Whether the connection may carry another request after this response (RFC 9112 §9.3):
 * HTTP/1.1 unless Connection lists `close`, HTTP/1.0 only with `keep-alive`; never after a
 * body delimited by the close itself, nor after a head whose framing was faulty.
 */
export function responseKeepsAlive(head: RawHttpResponseHead): boolean {
  if (head.framing === 'close' || head.faultyFraming === true) return false;
  let close = false;
  let keepAlive = false;
  const h = head.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i] as string;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    for (const token of (h[i + 1] as string).split(',')) {
      const t = token.trim().toLowerCase();
      if (t === 'close') close = true;
      else if (t === 'keep-alive') keepAlive = true;
    }
  }
  return !close && (head.versionMinor === 1 || keepAlive);
}
