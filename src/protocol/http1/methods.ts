/** Request-method facts the front needs: which methods are safe (RFC 9110 §9.2.1). */

/**
 * Safe methods are read-only by definition, so pipelined ones may be handled in parallel
 * (RFC 9112 §9.3.2). Methods are case-sensitive tokens (RFC 9110 §9.1): `get` is not GET.
 */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'TRACE';
}
