/**
 * The client side of the uwsgi protocol, for proxying to real uWSGI backends: encode a
 * request packet, and parse the raw HTTP response that comes back (response-parser.ts).
 *
 * Theory of operation: the packet is one allocation sized exactly from the vars (latin1:
 * one byte per char), written front to back with the lengths in little endian (uWSGI
 * docs, "The uwsgi protocol"). The body is not part of the packet buffer:
 * the caller writes it after, unchanged, so it is never copied. Anything the server side
 * would refuse (an empty key, a block over 65535 bytes) is refused here with a typed
 * error instead of producing a packet that a backend would misread.
 */
import { MAX_VARS_BYTES, UwsgiEncodeError } from './types.js';

export { RawHttpResponseParser } from './response-parser.js';
export { responseKeepsAlive } from './response-head.js';

/** Any char a latin1 byte cannot hold: Buffer#write would silently mangle it. */
const NOT_LATIN1 = /[^\u0000-\u00ff]/;

/**
 * Header + vars block for `vars` (flat [k, v, …]). The caller then writes CONTENT_LENGTH
 * body bytes, which it must have put among the vars (nginx always does, via uwsgi_params).
 */
export function encodeUwsgiRequest(vars: readonly string[], modifier1 = 0, modifier2 = 0): Buffer {
  if (vars.length % 2 !== 0) throw new UwsgiEncodeError('odd-vars', `vars must be [key, value, …] pairs, got ${vars.length} strings`);
  if (!isU8(modifier1) || !isU8(modifier2)) {
    throw new UwsgiEncodeError('bad-modifier', `modifiers must be integers 0–255, got ${modifier1} and ${modifier2}`);
  }
  let size = 0;
  for (let i = 0; i < vars.length; i += 2) {
    const key = vars[i] as string;
    const value = vars[i + 1] as string;
    if (key.length === 0) throw new UwsgiEncodeError('empty-key', 'a uwsgi var key cannot be empty');
    if (key.length > MAX_VARS_BYTES || value.length > MAX_VARS_BYTES) {
      throw new UwsgiEncodeError('var-too-long', `var ${key.slice(0, 64)} is longer than the 65535 bytes a u16 length can say`);
    }
    size += 4 + key.length + value.length;
  }
  if (size > MAX_VARS_BYTES) {
    throw new UwsgiEncodeError('vars-too-large', `vars block of ${size} bytes exceeds the 65535 bytes a u16 datasize can say`);
  }
  const packet = Buffer.allocUnsafe(4 + size);
  packet[0] = modifier1;
  packet[1] = size & 0xff;
  packet[2] = size >>> 8;
  packet[3] = modifier2;
  // One pass copies the chars and ORs them together: a result above 0xFF means some char
  // has no latin1 byte. Measured faster than a Buffer#write per string, or a regex test.
  let pos = 4;
  let bits = 0;
  for (let i = 0; i < vars.length; i++) {
    const s = vars[i] as string;
    const n = s.length;
    packet[pos++] = n & 0xff;
    packet[pos++] = n >>> 8;
    for (let j = 0; j < n; j++) {
      const c = s.charCodeAt(j);
      bits |= c;
      packet[pos++] = c;
    }
  }
  if (bits > 0xff) {
    const i = vars.findIndex((v) => NOT_LATIN1.test(v));
    throw new UwsgiEncodeError('not-latin1', `var ${(vars[i - (i % 2)] as string).slice(0, 64)} has a character above U+00FF; vars travel as latin1 bytes`);
  }
  return packet;
}

function isU8(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 255;
}
