/** Request-method facts the front needs: which methods are safe (RFC 9110 §9.2.1), which heads are HEAD's. */

/**
 * Safe methods are read-only by definition, so pipelined ones may be handled in parallel
 * (RFC 9112 §9.3.2). Methods are case-sensitive tokens (RFC 9110 §9.1): `get` is not GET.
 */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'TRACE';
}

/**
 * Whether the head bytes buf[start, end) open with the HEAD method: an error answer to a
 * head that failed to parse must then still carry no body (RFC 9110 §9.3.2).
 */
export function opensWithHeadMethod(buf: Buffer, start: number, end: number): boolean {
  return end - start >= 5 && buf[start] === 0x48 && buf[start + 1] === 0x45 && buf[start + 2] === 0x41 && buf[start + 3] === 0x44 && buf[start + 4] === 0x20;
}
