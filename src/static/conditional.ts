/**
 * Validators and conditional requests for static files (RFC 9110 §8.8, §13).
 *
 * Theory of operation: a file's validators are its Last-Modified (mtime, whole seconds) and
 * an ETag in nginx's format, `"<mtime seconds hex>-<size hex>"`, so a file served by Berth
 * and by nginx carries the same validators and caches survive a switch. evaluate() applies
 * the preconditions in the order of RFC 9110 §13.2.2 and says whether to answer 412, 304 or
 * to go on; a header that cannot be parsed is ignored (§13.1.3: an invalid date), as nginx
 * does. If-Range (§13.1.5) is decided separately because it only gates the Range header.
 */
import { imfFixdate } from '../protocol/http1/date.js';

export interface Validators {
  readonly etag: string;
  readonly lastModified: string;
  /** mtime in whole seconds since the epoch. */
  readonly mtimeSec: number;
}

export function validatorsFor(mtimeMs: number, size: number): Validators {
  const mtimeSec = Math.floor(mtimeMs / 1000);
  return { etag: `"${mtimeSec.toString(16)}-${size.toString(16)}"`, lastModified: imfFixdate(mtimeSec * 1000), mtimeSec };
}

/**
 * validatorsFor, remembered per file version: formatting Last-Modified (a Date) and the ETag
 * on every request of a hot file was measurable work for the same two strings each time.
 * Keyed by inode and checked against device, mtime and size; bounded by clearing when full.
 */
export class ValidatorsMemo {
  readonly #entries = new Map<number, { readonly dev: number; readonly mtimeMs: number; readonly size: number; readonly v: Validators }>();

  constructor(readonly maxEntries = 4096) {}

  get size(): number {
    return this.#entries.size;
  }

  of(st: { readonly dev: number; readonly ino: number; readonly mtimeMs: number; readonly size: number }): Validators {
    const e = this.#entries.get(st.ino);
    if (e !== undefined && e.dev === st.dev && e.mtimeMs === st.mtimeMs && e.size === st.size) return e.v;
    const v = validatorsFor(st.mtimeMs, st.size);
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    this.#entries.set(st.ino, { dev: st.dev, mtimeMs: st.mtimeMs, size: st.size, v });
    return v;
  }
}

const MONTHS: Readonly<Record<string, number>> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const IMF = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/;
const RFC850 = /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d\d)-([A-Z][a-z]{2})-(\d\d) (\d\d):(\d\d):(\d\d) GMT$/;
const ASCTIME = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4})$/;

/** An HTTP-date (RFC 9110 §5.6.7: IMF-fixdate, or the obsolete RFC 850 and asctime forms) in seconds, or null. */
export function parseHttpDate(text: string): number | null {
  const t = text.trim();
  let y: number, mon: string, d: number, h: number, mi: number, s: number;
  let m = IMF.exec(t);
  if (m !== null) {
    [d, mon, y, h, mi, s] = [Number(m[1]), m[2]!, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  } else if ((m = RFC850.exec(t)) !== null) {
    // §5.6.7: a two-digit year more than 50 years in the future is in the past century.
    const yy = Number(m[3]);
    const nowYear = new Date().getUTCFullYear();
    y = 2000 + yy > nowYear + 50 ? 1900 + yy : 2000 + yy;
    [d, mon, h, mi, s] = [Number(m[1]), m[2]!, Number(m[4]), Number(m[5]), Number(m[6])];
  } else if ((m = ASCTIME.exec(t)) !== null) {
    [mon, d, h, mi, s, y] = [m[1]!, Number(m[2]!.trim()), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  } else {
    return null;
  }
  const month = MONTHS[mon];
  if (month === undefined || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  return Math.floor(Date.UTC(y, month, d, h, mi, s) / 1000);
}

/**
 * Whether an If-Match / If-None-Match list matches `etag` (RFC 9110 §8.8.3.2). `weak`: weak
 * comparison (If-None-Match), where W/"x" matches "x"; strong (If-Match) never matches a W/ tag.
 */
export function etagListMatches(list: string, etag: string, weak: boolean): boolean {
  const value = list.trim();
  if (value === '*') return true;
  let i = 0;
  while (i < value.length) {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t' || value[i] === ',')) i++;
    if (i >= value.length) break;
    let isWeak = false;
    if (value.startsWith('W/', i)) {
      isWeak = true;
      i += 2;
    }
    if (value[i] !== '"') {
      // Not an entity-tag: skip to the next list member.
      while (i < value.length && value[i] !== ',') i++;
      continue;
    }
    const end = value.indexOf('"', i + 1);
    if (end === -1) return false;
    const tag = value.slice(i, end + 1);
    i = end + 1;
    if (tag === etag && (weak || !isWeak)) return true;
  }
  return false;
}

export type Precondition = 'proceed' | 'not-modified' | 'failed';

/** Reads a request header (case-insensitive name; repeated fields joined with ", "). */
export type HeaderReader = (lowerName: string) => string | undefined;

/** RFC 9110 §13.2.2 steps 1–4 for GET and HEAD. */
export function evaluatePreconditions(header: HeaderReader, v: Validators): Precondition {
  const ifMatch = header('if-match');
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, v.etag, false)) return 'failed';
  } else {
    const ius = header('if-unmodified-since');
    const date = ius === undefined ? null : parseHttpDate(ius);
    if (date !== null && v.mtimeSec > date) return 'failed';
  }
  const inm = header('if-none-match');
  if (inm !== undefined) return etagListMatches(inm, v.etag, true) ? 'not-modified' : 'proceed';
  const ims = header('if-modified-since');
  const date = ims === undefined ? null : parseHttpDate(ims);
  if (date !== null && v.mtimeSec <= date) return 'not-modified';
  return 'proceed';
}

/**
 * Whether the Range header may be honoured (RFC 9110 §13.1.5). An entity-tag must match by
 * strong comparison; a date must equal Last-Modified exactly (as nginx checks it).
 */
export function ifRangeAllows(header: HeaderReader, v: Validators): boolean {
  const value = header('if-range');
  if (value === undefined) return true;
  const t = value.trim();
  if (t.endsWith('"')) return t === v.etag;
  return parseHttpDate(t) === v.mtimeSec;
}
