/**
 * CIDR networks for allow-lists (`uwsgi-allow = 10.0.0.0/8`), and the membership test the
 * uwsgi front runs on each new TCP peer. IPv4-mapped IPv6 peers (::ffff:10.1.2.3) match IPv4
 * networks, since dual-stack listeners report IPv4 clients that way.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  readonly bytes: Uint8Array;
  readonly prefix: number;
  readonly text: string;
}

function ipv4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

function ipv6Bytes(text: string): Uint8Array {
  let t = text;
  const out = new Uint8Array(16);
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  let tail: number[] = [];
  if (v4) {
    tail = [...ipv4Bytes(v4[1]!)];
    t = t.slice(0, -v4[1]!.length) + '0:0';
  }
  const [head, rest] = t.split('::') as [string, string | undefined];
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

/** Parses "10.0.0.0/8", "fd00::/8" or a single address (a /32 or /128); null if invalid. */
export function parseCidr(text: string): Cidr | null {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash === -1 ? t : t.slice(0, slash);
  const v4 = isIPv4(addr);
  if (!v4 && !isIPv6(addr)) return null;
  const max = v4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : t.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return null;
  return { bytes: v4 ? ipv4Bytes(addr) : ipv6Bytes(addr), prefix: Number(prefixText), text: t };
}

function matches(addr: Uint8Array, net: Cidr): boolean {
  if (addr.length !== net.bytes.length) return false;
  let bits = net.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i]! & mask) !== (net.bytes[i]! & mask)) return false;
  }
  return true;
}

/** Whether `address` (as a socket reports it) lies in one of `nets`. */
export function inNetworks(address: string, nets: readonly Cidr[]): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = mapped ? mapped[1]! : address;
  const bytes = isIPv4(plain) ? ipv4Bytes(plain) : isIPv6(plain) ? ipv6Bytes(plain) : null;
  return bytes !== null && nets.some((n) => matches(bytes, n));
}

export const LOOPBACK: readonly Cidr[] = [parseCidr('127.0.0.0/8')!, parseCidr('::1/128')!];

/** Whether every address of `net` is a loopback address (127.0.0.1/32 is; 0.0.0.0/0 is not). */
export function withinLoopback(net: Cidr): boolean {
  return LOOPBACK.some((lo) => net.bytes.length === lo.bytes.length && net.prefix >= lo.prefix && matches(net.bytes, lo));
}
