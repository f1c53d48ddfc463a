/**
 * Complete small responses that Berth itself sends (errors, overload, 100 Continue).
 *
 * Theory of operation: these answer requests the app never saw — broken or oversized
 * requests, timeouts, overload — so they are built here whole: status line, a fixed set of
 * safe headers, and a short plain-text body. Nothing from the request is echoed into the
 * head; the optional message only goes into the body.
 */

/** Interim response sent before reading a body the client is waiting to send (RFC 9110 §10.1.1). */
export const CONTINUE_100 = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export interface CannedOptions {
  /** Preformatted IMF-fixdate. */
  readonly date: string;
  /** Body text (one line is best); defaults to the reason phrase. */
  readonly message?: string;
  /** Adds Retry-After (RFC 9110 §10.2.3); meant for 503. */
  readonly retryAfterSeconds?: number;
  /** Adds Connection: close; the front must then close after writing. */
  readonly close: boolean;
  /** Answering a HEAD request: same head, no body (RFC 9110 §9.3.2). */
  readonly headRequest?: boolean;
}

/** The reason phrase Berth uses for a status code it sends itself. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Error';
}

/** A complete response for `status` (400–599), ready to write. */
export function cannedResponse(status: number, opts: CannedOptions): Buffer {
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(`canned response status must be 200–599, got ${status}`);
  }
  const reason = reasonPhrase(status);
  const body = `${opts.message ?? reason}\n`;
  const bodyLength = Buffer.byteLength(body, 'utf8');
  let head =
    `HTTP/1.1 ${status} ${reason}\r\n` +
    `Date: ${opts.date}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${bodyLength}\r\n`;
  const retry = opts.retryAfterSeconds;
  if (retry !== undefined) {
    if (!Number.isSafeInteger(retry) || retry < 0) throw new RangeError(`Retry-After must be a whole number of seconds, got ${retry}`);
    head += `Retry-After: ${retry}\r\n`;
  }
  if (opts.close) head += 'Connection: close\r\n';
  head += '\r\n';
  if (opts.headRequest === true) return Buffer.from(head, 'latin1');
  const out = Buffer.allocUnsafe(head.length + bodyLength);
  out.write(head, 0, 'latin1');
  out.write(body, head.length, 'utf8');
  return out;
}
