/**
 * Chunked transfer coding for response bodies (RFC 9112 §7.1).
 *
 * Theory of operation: the front writes, per non-empty body piece, encodeChunkHeader(n),
 * the n bytes, CHUNK_TRAILER; and LAST_CHUNK once at the end (no trailer fields: WSGI has
 * no way to produce them).
 */

/** Ends the data of one chunk. */
export const CHUNK_TRAILER = '\r\n';

/** last-chunk with an empty trailer section: ends a chunked body. */
export const LAST_CHUNK = '0\r\n\r\n';

/**
 * chunk-size in hex + CRLF for a chunk of `length` bytes. Zero is refused: "0\r\n" is the
 * last-chunk, so an empty piece written as a chunk would end the body early and turn what
 * follows into a smuggled response.
 */
export function encodeChunkHeader(length: number): string {
  if (!Number.isSafeInteger(length) || length <= 0) {
    throw new RangeError(`chunk length must be a positive integer, got ${length}`);
  }
  return length.toString(16) + '\r\n';
}
