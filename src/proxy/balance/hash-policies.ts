/**
 * nginx's two hashing policies that map a key straight onto weighted slots: `ip_hash` (the
 * client's /24 for IPv4, the whole IPv6 address) and `hash KEY` (crc32, Cache::Memcached's
 * rehash). When the slot's backend is not usable they rehash, up to 20 more times as nginx
 * does, and then return null so the caller falls back to round robin.
 */
import { parseCidr } from '../../config/cidr.js';
import { crc32Final, crc32Update, CRC32_INIT } from './crc32.js';
import type { BackendView, Usable } from './types.js';
import { totalWeight, weightedSlot } from './weighted-walk.js';

/** nginx gives up rehashing after its 21st look (`++tries > 20`). */
const LOOKS = 21;

/** nginx hashes a unix-socket client (no address) as three zero bytes. */
const NO_ADDRESS: Uint8Array = new Uint8Array(3);

/** The bytes ip_hash mixes: the first three octets of IPv4 (also when IPv4-mapped), all 16 of IPv6. */
export function ipHashBytes(remoteAddress: string | null): Uint8Array {
  if (remoteAddress === null) return NO_ADDRESS;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  const net = parseCidr(mapped ? mapped[1]! : remoteAddress);
  if (net === null) return NO_ADDRESS;
  return net.bytes.length === 4 ? net.bytes.subarray(0, 3) : net.bytes;
}

export function ipHashPolicy(tier: readonly BackendView[], usable: Usable, key: string | null): number | null {
  const total = totalWeight(tier);
  if (total === 0) return null;
  const bytes = ipHashBytes(key);
  let hash = 89;
  for (let look = 0; look < LOOKS; look++) {
    for (const byte of bytes) hash = (hash * 113 + byte) % 6271;
    const b = weightedSlot(tier, hash, total);
    if (usable(b)) return b.index;
  }
  return null;
}

const encoder = new TextEncoder();

/**
 * nginx `hash KEY` (not consistent): ((crc32([REHASH] KEY) >> 16) & 0x7fff) added to the
 * previous value, REHASH being the attempt number in decimal, omitted on the first. An empty
 * or missing key, or a single backend, goes to round robin as in nginx.
 */
export function keyHashPolicy(tier: readonly BackendView[], usable: Usable, key: string | null): number | null {
  const total = totalWeight(tier);
  if (key === null || key === '' || tier.length < 2 || total === 0) return null;
  const keyBytes = encoder.encode(key);
  let hash = 0;
  for (let look = 0; look < LOOKS; look++) {
    let state = CRC32_INIT;
    if (look > 0) state = crc32Update(state, encoder.encode(String(look)));
    hash += (crc32Final(crc32Update(state, keyBytes)) >>> 16) & 0x7fff;
    const b = weightedSlot(tier, hash, total);
    if (usable(b)) return b.index;
  }
  return null;
}
