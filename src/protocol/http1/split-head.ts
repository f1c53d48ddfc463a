/**
 * The buffer for a message head split across chunks, shared by the request parser and the
 * upstream response parser (only a split head is copied; a head inside one chunk is parsed
 * in place). It starts small, since a split head is usually short, and doubles up to the
 * head limit, so splitting a head never costs a maxHeadBytes-sized allocation up front.
 */

/** First allocation for a head split across chunks. */
const INITIAL_HEAD_BUFFER = 1024;

/** A new buffer holding src[from, to), with room to grow up to `cap` bytes (to − from < cap). */
export function startSplitHead(src: Buffer, from: number, to: number, cap: number): Buffer {
  const buf = Buffer.allocUnsafe(Math.min(cap, Math.max(INITIAL_HEAD_BUFFER, 2 * (to - from))));
  src.copy(buf, 0, from, to);
  return buf;
}

/**
 * Appends src[from, to) after the first `used` bytes of `buf` (used + to − from ≤ cap).
 * Returns `buf`, or a larger copy of it (at most `cap` bytes) when it was full.
 */
export function appendSplitHead(buf: Buffer, used: number, src: Buffer, from: number, to: number, cap: number): Buffer {
  const needed = used + (to - from);
  if (needed > buf.length) {
    const grown = Buffer.allocUnsafe(Math.min(cap, Math.max(needed, 2 * buf.length)));
    buf.copy(grown, 0, 0, used);
    buf = grown;
  }
  src.copy(buf, used, from, to);
  return buf;
}
