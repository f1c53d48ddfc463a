/**
 * From a WSGI app's status and headers to a safe HTTP/1.1 response head (RFC 9112 §4, §6;
 * RFC 9110 §6.4.1, §7.6.1, §8.6; PEP 3333 "The start_response() Callable").
 *
 * Theory of operation: everything the app hands over is untrusted text that will be written
 * to a socket as latin1. planResponse validates it byte by byte with the lookup tables —
 * including char codes above 0xFF, which latin1 encoding would silently truncate (U+010A
 * would become LF) — strips the hop-by-hop fields that only the server may set, decides the
 * body framing, and builds the head with string concatenation. It either returns a plan
 * the front can write as is, or a rejection with a reason for the log (the front then
 * answers 500 itself). It never throws on app input.
 */
import { CR, FIELD_VALUE, HTAB, LF, REASON, SP, TOKEN } from './tables.js';
import { parseContentLength } from './head.js';
import type { ResponseFraming, ResponsePlan, ResponseRejection } from './types.js';

export interface PlanRequest {
  readonly method: string;
  readonly versionMinor: 0 | 1;
  readonly keepAlive: boolean;
}

export interface PlanOptions {
  /** Preformatted IMF-fixdate (see date.ts). */
  readonly date: string;
  /** Close after this response whatever the request said (shutdown, max-requests, errors). */
  readonly forceClose?: boolean;
}

class Plan implements ResponsePlan {
  constructor(
    readonly head: string,
    readonly statusCode: number,
    readonly framing: ResponseFraming,
    readonly contentLength: number,
    readonly keepAlive: boolean,
  ) {}
}

function reject(reason: string): ResponseRejection {
  return { ok: false, reason };
}

/** Narrows planResponse's result (ResponsePlan has no `ok` field). */
export function isRejection<T extends object>(result: T | ResponseRejection): result is ResponseRejection {
  return (result as { ok?: unknown }).ok === false;
}

/** Case-insensitive equality of a header name with a lowercase literal, no allocation. */
function nameIs(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function isListEdge(c: number): boolean {
  return c === 0x2c || c === SP || c === HTAB;
}

/** Whether a Connection value lists the `close` option (RFC 9110 §7.6.1). */
function listsClose(value: string): boolean {
  const lower = value.toLowerCase();
  for (let i = lower.indexOf('close'); i !== -1; i = lower.indexOf('close', i + 1)) {
    const before = i === 0 ? 0x2c : lower.charCodeAt(i - 1);
    const after = i + 5 === lower.length ? 0x2c : lower.charCodeAt(i + 5);
    if (isListEdge(before) && isListEdge(after)) return true;
  }
  return false;
}

/** Hop-by-hop fields a WSGI app must not set (PEP 3333; RFC 9110 §7.6.1). Returns 2 for Connection. */
function hopByHop(name: string): number {
  switch (name.length) {
    case 2:
      return nameIs(name, 'te') ? 1 : 0;
    case 7:
      return nameIs(name, 'upgrade') || nameIs(name, 'trailer') ? 1 : 0;
    case 10:
      if (nameIs(name, 'connection')) return 2;
      return nameIs(name, 'keep-alive') ? 1 : 0;
    case 16:
      return nameIs(name, 'proxy-connection') ? 1 : 0;
    case 17:
      return nameIs(name, 'transfer-encoding') ? 1 : 0;
    default:
      return 0;
  }
}

function printable(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s).slice(1, -1);
}

/** Validates a status line from the app; returns the code, or a rejection reason. */
function checkStatus(status: string): number | string {
  // PEP 3333: "a Status-Code and a Reason-Phrase, in that order and separated by a single
  // space, with no surrounding whitespace". RFC 9112 §4 allows an empty reason, so "200 "
  // passes (wsgiref.validate accepts it too); "200" does not.
  const c0 = status.charCodeAt(0) - 0x30;
  const c1 = status.charCodeAt(1) - 0x30;
  const c2 = status.charCodeAt(2) - 0x30;
  if (
    status.length < 4 ||
    !(c0 >= 1 && c0 <= 5) ||
    !(c1 >= 0 && c1 <= 9) ||
    !(c2 >= 0 && c2 <= 9) ||
    status.charCodeAt(3) !== SP
  ) {
    return `status '${printable(status)}' is not 'NNN reason'`;
  }
  for (let i = 4; i < status.length; i++) {
    const c = status.charCodeAt(i);
    if (c > 0xff || REASON[c] !== 1) {
      return c === CR || c === LF
        ? `status '${printable(status)}' contains CR/LF (response splitting)`
        : `status '${printable(status)}' contains a control or non-latin1 character`;
    }
  }
  const code = c0 * 100 + c1 * 10 + c2;
  if (code < 200) return `status '${printable(status)}': a WSGI app cannot send 1xx interim responses`;
  return code;
}

/** Validates one header from the app; returns null or a rejection reason. */
function checkHeader(name: string, value: string): string | null {
  if (name.length === 0) return 'header with an empty name';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0xff || TOKEN[c] !== 1) return `header name '${printable(name)}' is not a token (RFC 9110 §5.1)`;
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] !== 1) {
      if (c === CR || c === LF) return `header '${name}' value contains CR/LF (response splitting)`;
      if (c > 0xff) return `header '${name}' value contains a non-latin1 character U+${c.toString(16).toUpperCase()}`;
      return `header '${name}' value contains control character 0x${c.toString(16).padStart(2, '0')}`;
    }
  }
  return null;
}

/** What the fields alone decide: the same for every response that hands over the same frozen list. */
interface FieldsPlan {
  readonly lines: string;
  readonly contentLength: number;
  readonly appClose: boolean;
  readonly hasDate: boolean;
}

/**
 * A frozen field list planned once (a proxied backend's repeated head is handed over as one
 * frozen list, response-parser.ts): its checked fields, and the last plan made from it with
 * what that plan depended on. Why: checking and joining the same fields per response was the
 * largest self cost of the proxy front's response side (issue 14). Frozen means no one can
 * change the list after it was checked; the WeakMap lets it go with the list.
 */
interface FrozenFields {
  readonly fields: FieldsPlan | ResponseRejection;
  plan: Plan | null;
  status: string;
  isHead: boolean;
  mayKeepAlive: boolean;
  versionMinor: 0 | 1;
  date: string;
}
const frozenFields = new WeakMap<readonly string[], FrozenFields>();

/** Checks the fields, drops the hop-by-hop ones, and joins the rest as lines. */
function planFields(headers: readonly string[], code: number): FieldsPlan | ResponseRejection {
  if ((headers.length & 1) !== 0) return reject('headers list has an odd length (name without value)');
  let lines = '';
  let contentLength = -1;
  let appClose = false;
  let hasDate = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    const problem = checkHeader(name, value);
    if (problem !== null) return reject(problem);
    const hop = hopByHop(name);
    if (hop !== 0) {
      if (hop === 2 && listsClose(value)) appClose = true;
      continue;
    }
    if (name.length === 14 && nameIs(name, 'content-length')) {
      if (contentLength !== -1) return reject('more than one Content-Length header');
      contentLength = parseContentLength(value);
      if (contentLength === -1) return reject(`Content-Length '${printable(value)}' is not a non-negative integer`);
      if (code === 204) continue;
    } else if (name.length === 4 && nameIs(name, 'date')) {
      hasDate = true;
    }
    lines += name + ': ' + value + '\r\n';
  }
  return { lines, contentLength, appClose, hasDate };
}

/**
 * Plans the response head for `req` from the app's `status` and flat `headers`.
 * Returns a ResponsePlan, or a ResponseRejection when the app's response must not be sent.
 */
export function planResponse(
  req: PlanRequest,
  status: string,
  headers: readonly string[],
  opts: PlanOptions,
): ResponsePlan | ResponseRejection {
  const code = checkStatus(status);
  if (typeof code === 'string') return reject(code);
  // A 204 drops Content-Length from the lines: not memoized (rare, and the lines would differ).
  if (code === 204 || !Object.isFrozen(headers)) return planWith(req, status, code, planFields(headers, code), opts);
  let memo = frozenFields.get(headers);
  if (memo === undefined) {
    memo = { fields: planFields(headers, code), plan: null, status: '', isHead: false, mayKeepAlive: false, versionMinor: 1, date: '' };
    frozenFields.set(headers, memo);
  }
  const fields = memo.fields;
  if (isRejection(fields)) return fields;
  const isHead = req.method === 'HEAD';
  const mayKeepAlive = req.keepAlive && opts.forceClose !== true;
  const last = memo.plan;
  if (last !== null && memo.status === status && memo.isHead === isHead && memo.mayKeepAlive === mayKeepAlive && memo.versionMinor === req.versionMinor && (fields.hasDate || memo.date === opts.date)) return last;
  const plan = planWith(req, status, code, fields, opts);
  if (isRejection(plan)) return plan;
  memo.plan = plan;
  memo.status = status;
  memo.isHead = isHead;
  memo.mayKeepAlive = mayKeepAlive;
  memo.versionMinor = req.versionMinor;
  memo.date = opts.date;
  return plan;
}

/** The framing, Date and Connection for checked fields. */
function planWith(req: PlanRequest, status: string, code: number, fields: FieldsPlan | ResponseRejection, opts: PlanOptions): Plan | ResponseRejection {
  if (isRejection(fields)) return fields;
  const isHead = req.method === 'HEAD';
  // RFC 9110 §6.4.1: 204 and 304 never have content; §8.6: no Content-Length in a 204.
  const noContent = code === 204 || code === 304;
  let lines = fields.lines;
  let contentLength = fields.contentLength;
  let framing: ResponseFraming;
  let keepAlive = req.keepAlive && opts.forceClose !== true && !fields.appClose;
  if (isHead || noContent) {
    framing = 'none';
    if (!isHead) contentLength = -1;
  } else if (contentLength !== -1) {
    framing = 'length';
  } else if (req.versionMinor === 1) {
    framing = 'chunked';
    lines += 'Transfer-Encoding: chunked\r\n';
  } else {
    // RFC 9112 §6.3 rule 8: without a length, an HTTP/1.0 client reads until close.
    framing = 'close';
    keepAlive = false;
  }
  if (!fields.hasDate) lines += 'Date: ' + opts.date + '\r\n';
  if (!keepAlive) lines += 'Connection: close\r\n';
  else if (req.versionMinor === 0) lines += 'Connection: keep-alive\r\n';
  return new Plan('HTTP/1.1 ' + status + '\r\n' + lines + '\r\n', code, framing, contentLength, keepAlive);
}
