/**
 * Keep-alive between a Berth front and Berth uwsgi backends: the var the front offers it
 * with, and the response marker that says the backend took the offer. Pure functions.
 *
 * Why a token: a uwsgi response has no framing of its own (its end is the close), so a front
 * may keep a connection only when the backend says it framed the response and will read the
 * next packet. The front sends `BERTH_KEEPALIVE = <token>`, random per front process; a Berth
 * backend answers with `Berth-Keep-Alive: <token>`, a real uWSGI sees one more environ key and
 * closes as always. An app cannot produce the marker by accident (it does not know the token,
 * and a Berth backend drops an app's own `Berth-Keep-Alive` field), and the front never passes
 * the field on to the client.
 */
import { responseKeepsAlive } from './response-head.js';
import type { RawHttpResponseHead } from './types.js';

/** The uwsgi var a front offers keep-alive with. */
export const KEEPALIVE_VAR = 'BERTH_KEEPALIVE';
/** The response field a Berth backend answers it with (compared case-insensitively). */
export const KEEPALIVE_FIELD = 'berth-keep-alive';

function isMarker(name: string): boolean {
  return name.length === KEEPALIVE_FIELD.length && name.toLowerCase() === KEEPALIVE_FIELD;
}

/**
 * Whether the connection may carry another request after this response: exactly one marker
 * field holding `token`, a body framed by length or chunks (or none), and no `Connection: close`.
 */
export function keepAliveGranted(head: RawHttpResponseHead, token: string): boolean {
  if (head.framing === 'close') return false;
  const h = head.headers;
  let granted = false;
  for (let i = 0; i < h.length; i += 2) {
    if (!isMarker(h[i] as string)) continue;
    if (granted || h[i + 1] !== token) return false;
    granted = true;
  }
  return granted && responseKeepsAlive(head);
}

/** `headers` (flat [name, value, …]) without any marker field: the same array when it has none. */
export function withoutKeepAliveField(headers: readonly string[]): readonly string[] {
  let i = 0;
  while (i < headers.length && !isMarker(headers[i] as string)) i += 2;
  if (i >= headers.length) return headers;
  const out = headers.slice(0, i);
  for (i += 2; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!isMarker(name)) out.push(name, headers[i + 1] as string);
  }
  return out;
}
