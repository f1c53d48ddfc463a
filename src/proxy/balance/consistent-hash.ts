/**
 * nginx `hash KEY consistent` (ketama): each backend puts 160 points per unit of weight on a
 * 32-bit ring, a key goes to the first point at or after crc32(KEY). Adding or removing one
 * backend moves only the keys whose points it owned.
 *
 * The points are nginx's (ngx_http_upstream_update_chash, Cache::Memcached::Fast's formula):
 * the server name split into HOST and PORT (`unix:` names have no port), then point j is
 * crc32(HOST \0 PORT PREV), PREV being point j-1 as four little-endian bytes (zero for the
 * first). Equal points are kept once, the first after sorting. So with the same `server`
 * names and weights, a key lands on the same backend as under nginx. When the point's backend
 * is not usable the next point is tried, 20 more times, then round robin (null here).
 */
import { crc32, crc32Final, crc32Update, CRC32_INIT } from './crc32.js';
import { SmoothWeighted } from './smooth-weighted.js';
import type { BackendView, Usable } from './types.js';

interface Ring {
  readonly signature: string;
  readonly hashes: Uint32Array;
  readonly names: readonly string[];
}

const LOOKS = 21;
const POINTS_PER_WEIGHT = 160;
const encoder = new TextEncoder();

/** The name ketama hashes: the view's `name` when it has one, else its index. */
export function serverName(b: BackendView): string {
  const named = (b as { readonly name?: unknown }).name;
  return typeof named === 'string' ? named : String(b.index);
}

/** An nginx `server` name for a Berth backend URL: `http://10.0.0.5:9001` → `10.0.0.5:9001`, `uwsgi:///run/a.sock` → `unix:/run/a.sock`. */
export function nginxServerName(url: string): string {
  const m = /^[a-z]+:\/\/(.*)$/i.exec(url);
  const rest = m ? m[1]! : url;
  return rest.startsWith('/') ? `unix:${rest}` : rest.replace(/\/$/, '');
}

/** HOST and PORT as nginx splits a server name: trailing digits after the last ':' are the port. */
export function splitServerName(name: string): [host: string, port: string] {
  if (name.length >= 5 && name.slice(0, 5).toLowerCase() === 'unix:') return [name.slice(5), ''];
  const m = /^(.*):(\d*)$/s.exec(name);
  return m ? [m[1]!, m[2]!] : [name, ''];
}

/** The sorted, de-duplicated points of a tier. */
export function buildRing(tier: readonly BackendView[]): { hashes: Uint32Array; names: string[] } {
  const points: Array<[number, string]> = [];
  const prev = new Uint8Array(4);
  const prevView = new DataView(prev.buffer);
  for (const b of tier) {
    const name = serverName(b);
    const [host, port] = splitServerName(name);
    const base = crc32Update(crc32Update(crc32Update(CRC32_INIT, encoder.encode(host)), new Uint8Array(1)), encoder.encode(port));
    prevView.setUint32(0, 0, true);
    for (let j = 0; j < b.weight * POINTS_PER_WEIGHT; j++) {
      const hash = crc32Final(crc32Update(base, prev));
      points.push([hash, name]);
      prevView.setUint32(0, hash, true);
    }
  }
  points.sort((x, y) => x[0] - y[0]);
  const hashes: number[] = [];
  const names: string[] = [];
  for (const [hash, name] of points) {
    if (hashes.length > 0 && hashes[hashes.length - 1] === hash) continue;
    hashes.push(hash);
    names.push(name);
  }
  return { hashes: Uint32Array.from(hashes), names };
}

/** Index of the first point >= hash (may equal the length: the caller wraps). */
export function firstPointAtOrAfter(hashes: Uint32Array, hash: number): number {
  let lo = 0;
  let hi = hashes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hashes[mid]! < hash) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class ConsistentHashPolicy {
  /** One ring per tier seen (primaries, backups), so switching tiers does not rebuild. */
  readonly #rings = new Map<string, Ring>();
  /** Backends sharing one server name (nginx: a name that resolved to several addresses) share by smooth round robin. */
  readonly #rr = new SmoothWeighted();

  pick(tier: readonly BackendView[], usable: Usable, key: string | null): number | null {
    if (key === null || key === '' || tier.length < 2) return null;
    const ring = this.#ringFor(tier);
    if (ring.hashes.length === 0) return null;
    const start = firstPointAtOrAfter(ring.hashes, crc32(encoder.encode(key)));
    for (let look = 0; look < LOOKS; look++) {
      const name = ring.names[(start + look) % ring.hashes.length]!;
      const picked = this.#rr.pick(tier, (b) => usable(b) && serverName(b) === name);
      if (picked !== null) return picked;
    }
    return null;
  }

  /** The ring is rebuilt only when the tier's names or weights change (a reload, the other tier). */
  #ringFor(tier: readonly BackendView[]): Ring {
    let signature = '';
    for (const b of tier) signature += `${serverName(b)}\u0000${b.weight}\u0000`;
    let ring = this.#rings.get(signature);
    if (ring === undefined) {
      if (this.#rings.size >= 4) this.#rings.clear();
      ring = { signature, ...buildRing(tier) };
      this.#rings.set(signature, ring);
    }
    return ring;
  }
}
