/**
 * The client side of the uwsgi protocol, for proxying to real uWSGI backends: encode a
 * request packet, and parse the raw HTTP response that comes back (response-parser.ts).
 *
 * Theory of operation: the vars block is assembled as one latin1 string (one char per
 * byte, lengths as two chars in little endian; uWSGI docs, "The uwsgi protocol") and
 * written into one allocation sized exactly for it. The body is not part of the packet buffer:
 * the caller writes it after, unchanged, so it is never copied. Anything the server side
 * would refuse (an empty key, a block over 65535 bytes) is refused here with a typed
 * error instead of producing a packet that a backend would misread.
 */
import { MAX_VARS_BYTES, UwsgiEncodeError } from './types.js';

export { RawHttpResponseParser } from './response-parser.js';

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
  // The block is built as one latin1 string — each length as two chars, low byte first —
  // and written with one native call: a write per var costs 5x more (measured).
  let block = '';
  for (let i = 0; i < vars.length; i += 2) {
    const key = vars[i] as string;
    const value = vars[i + 1] as string;
    if (key.length === 0) throw new UwsgiEncodeError('empty-key', 'a uwsgi var key cannot be empty');
    if (key.length > MAX_VARS_BYTES || value.length > MAX_VARS_BYTES) {
      throw new UwsgiEncodeError('var-too-long', `var ${key.slice(0, 64)} is longer than the 65535 bytes a u16 length can say`);
    }
    block += String.fromCharCode(key.length & 0xff, key.length >>> 8) + key + String.fromCharCode(value.length & 0xff, value.length >>> 8) + value;
  }
  if (block.length > MAX_VARS_BYTES) {
    throw new UwsgiEncodeError('vars-too-large', `vars block of ${block.length} bytes exceeds the 65535 bytes a u16 datasize can say`);
  }
  if (NOT_LATIN1.test(block)) {
    const i = vars.findIndex((s) => NOT_LATIN1.test(s));
    const key = vars[i - (i % 2)] as string;
    throw new UwsgiEncodeError('not-latin1', `var ${key.slice(0, 64)} has a character above U+00FF; vars travel as latin1 bytes`);
  }
  const packet = Buffer.allocUnsafe(4 + block.length);
  packet[0] = modifier1;
  packet[1] = block.length & 0xff;
  packet[2] = block.length >>> 8;
  packet[3] = modifier2;
  packet.write(block, 4, 'latin1');
  return packet;
}

function isU8(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 255;
}
