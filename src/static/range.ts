/**
 * Range requests (RFC 9110 §14) the way nginx answers them, so a client sees the same bytes
 * whichever of the two serves a file.
 *
 * Theory of operation: parseRange reads `bytes=` ranges (the unit case-insensitive, no space
 * before '='; another unit or a value shorter than 7 characters is ignored → 200). Each
 * `first-last`, `first-` or `-suffix` is clamped to the file; one whose first byte lies past
 * the end is dropped, and if none remains the answer is 416 carrying the unsatisfied-range
 * form of Content-Range, `bytes *` then `/` and the size (§14.4, §15.5.17). A syntax error anywhere is 416, as in nginx. Ranges whose lengths add up to more
 * than the file (overlaps, repeats) are not worth serving piecewise: the whole file (200),
 * which §14.2 allows. One range → 206 with Content-Range; several → 206 multipart/byteranges
 * (§14.6), in the order asked, with nginx's framing and its 20-digit boundary.
 */

export interface ByteRange {
  /** First byte. */
  readonly start: number;
  /** One past the last byte. */
  readonly end: number;
}

export type RangeDecision =
  | { readonly kind: 'full' }
  | { readonly kind: 'unsatisfiable' }
  | { readonly kind: 'partial'; readonly ranges: readonly ByteRange[] };

const FULL = { kind: 'full' } as const;
const UNSATISFIABLE = { kind: 'unsatisfiable' } as const;
/** nginx's off_t limit: a number with more digits than this is a syntax error there too. */
const MAX_OFF_T = '9223372036854775807';

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Reads digits from `s` at `i`: [value, next index], or null on overflow of nginx's off_t. */
function readNumber(s: string, i: number): [number, number] | null {
  let j = i;
  while (j < s.length && isDigit(s.charCodeAt(j))) j++;
  const digits = s.slice(i, j).replace(/^0+(?=\d)/, '');
  if (digits.length > MAX_OFF_T.length || (digits.length === MAX_OFF_T.length && digits > MAX_OFF_T)) return null;
  return [Number(digits), j];
}

function skipSpaces(s: string, i: number): number {
  while (s.charCodeAt(i) === 0x20) i++;
  return i;
}

/** The Range header value against a representation of `size` bytes. */
export function parseRange(value: string, size: number): RangeDecision {
  if (value.length < 7 || value.slice(0, 6).toLowerCase() !== 'bytes=') return FULL;
  const ranges: ByteRange[] = [];
  let total = 0;
  let i = 6;
  for (;;) {
    let start = 0;
    let end = 0;
    let suffix = false;
    let open = false;
    i = skipSpaces(value, i);
    if (value.charCodeAt(i) !== 0x2d /* - */) {
      if (!isDigit(value.charCodeAt(i))) return UNSATISFIABLE;
      const n = readNumber(value, i);
      if (n === null) return UNSATISFIABLE;
      [start, i] = n;
      i = skipSpaces(value, i);
      if (value.charCodeAt(i++) !== 0x2d) return UNSATISFIABLE;
      i = skipSpaces(value, i);
      if (i >= value.length || value.charCodeAt(i) === 0x2c /* , */) {
        end = size;
        open = true;
      }
    } else {
      suffix = true;
      i++;
    }
    if (!open) {
      if (!isDigit(value.charCodeAt(i))) return UNSATISFIABLE;
      const n = readNumber(value, i);
      if (n === null) return UNSATISFIABLE;
      [end, i] = n;
      i = skipSpaces(value, i);
      if (i < value.length && value.charCodeAt(i) !== 0x2c) return UNSATISFIABLE;
      if (suffix) {
        start = end < size ? size - end : 0;
        end = size - 1;
      }
      end = end >= size ? size : end + 1;
    }
    if (start < end) {
      ranges.push({ start, end });
      total += end - start;
    } else if (start === 0) {
      // An empty file (or `-0` of one): nothing to cut, serve it whole.
      return FULL;
    }
    if (i >= value.length) break;
    i++; // the ','
  }
  if (ranges.length === 0) return UNSATISFIABLE;
  if (total > size) return FULL;
  return { kind: 'partial', ranges };
}

/** `bytes 0-99/1000` for one range (RFC 9110 §14.4). */
export function contentRange(r: ByteRange, size: number): string {
  return `bytes ${r.start}-${r.end - 1}/${size}`;
}

/** The pieces of a multipart/byteranges body: literal framing around file ranges. */
export type BodyPiece = { readonly literal: Buffer } | { readonly range: ByteRange };

export interface Multipart {
  readonly contentType: string;
  readonly pieces: readonly BodyPiece[];
  readonly length: number;
}

/** nginx's layout: `\r\n--B\r\nContent-Type: T\r\nContent-Range: bytes a-b/n\r\n\r\n<data>` …, then `\r\n--B--\r\n`. */
export function multipart(ranges: readonly ByteRange[], size: number, partType: string, boundaryNumber: number): Multipart {
  const boundary = String(boundaryNumber).padStart(20, '0');
  const pieces: BodyPiece[] = [];
  let length = 0;
  for (const r of ranges) {
    const head = Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${partType}\r\nContent-Range: ${contentRange(r, size)}\r\n\r\n`, 'latin1');
    pieces.push({ literal: head }, { range: r });
    length += head.length + (r.end - r.start);
  }
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  pieces.push({ literal: tail });
  length += tail.length;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, pieces, length };
}
