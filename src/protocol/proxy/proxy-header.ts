/**
 * Sans-IO decoder of the PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and
 * 2) that a load balancer writes at the start of a connection to say who the client is.
 *
 * Theory of operation. Feed the connection's first bytes; the answer is `need-more`, an
 * error, or the header with the number of bytes it took (the rest is the client's protocol).
 *
 *   v1  "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"  text, at most 107 bytes (§2.1);
 *       "PROXY UNKNOWN …\r\n" says nothing about the client.
 *   v2  12-byte signature \r\n\r\n\0\r\nQUIT\n, then version/command (0x20 LOCAL,
 *       0x21 PROXY), family/transport (0x11 TCP4, 0x21 TCP6, 0x00 UNSPEC …), a big-endian
 *       length, the addresses, then TLVs (skipped) (§2.2).
 *
 * LOCAL (a health check from the balancer itself) and UNKNOWN/UNSPEC carry no client: the
 * connection's own ends stand. The decision whether a peer may send a header is the caller's.
 */
export interface ProxyClient {
  readonly address: string;
  readonly port: number;
}

export type ProxyHeaderResult =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'header'; readonly version: 1 | 2; readonly consumed: number; readonly client: ProxyClient | null };

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** §2.1: the longest v1 line, CRLF included. */
export const V1_MAX = 107;
/** Largest v2 header this decoder accepts (16-byte head + addresses + TLVs); larger is refused as implausible. */
export const V2_MAX = 16 + 2048;

const NEED_MORE: ProxyHeaderResult = { kind: 'need-more' };
const invalid = (reason: string): ProxyHeaderResult => ({ kind: 'invalid', reason });

export function decodeProxyHeader(buf: Uint8Array): ProxyHeaderResult {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length === 0) return NEED_MORE;
  if (startsLike(b, V2_SIGNATURE)) return b.length < V2_SIGNATURE.length ? NEED_MORE : decodeV2(b);
  if (startsLike(b, V1_PREFIX)) return b.length < V1_PREFIX.length ? NEED_MORE : decodeV1(b);
  return invalid('the connection does not start with a PROXY protocol header (v1 "PROXY " or the v2 signature)');
}

/** Whether `b` is a prefix of `sig` or starts with it. */
function startsLike(b: Buffer, sig: Buffer): boolean {
  const n = Math.min(b.length, sig.length);
  return b.length > 0 && b.subarray(0, n).equals(sig.subarray(0, n));
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const PORT = /^(0|[1-9]\d{0,4})$/;

function decodeV1(b: Buffer): ProxyHeaderResult {
  const end = b.indexOf('\r\n', 0, 'latin1');
  if (end === -1) return b.length >= V1_MAX ? invalid(`PROXY v1 line longer than ${V1_MAX} bytes`) : NEED_MORE;
  if (end + 2 > V1_MAX) return invalid(`PROXY v1 line longer than ${V1_MAX} bytes`);
  const parts = b.toString('latin1', 0, end).split(' ');
  if (parts[1] === 'UNKNOWN') return { kind: 'header', version: 1, consumed: end + 2, client: null };
  if (parts.length !== 6) return invalid('PROXY v1 line needs 6 fields: PROXY TCP4|TCP6 SRC DST SRCPORT DSTPORT');
  const [, family, src, dst, srcPort, dstPort] = parts as [string, string, string, string, string, string];
  if (family !== 'TCP4' && family !== 'TCP6') return invalid(`PROXY v1 family '${family}' is not TCP4, TCP6 or UNKNOWN`);
  const valid = family === 'TCP4' ? (a: string) => IPV4.test(a) : (a: string) => isIPv6Text(a);
  if (!valid(src) || !valid(dst)) return invalid(`PROXY v1 addresses '${src}' '${dst}' are not ${family} addresses`);
  if (!PORT.test(srcPort) || !PORT.test(dstPort) || Number(srcPort) > 65535 || Number(dstPort) > 65535) return invalid(`PROXY v1 ports '${srcPort}' '${dstPort}' are not 0-65535`);
  return { kind: 'header', version: 1, consumed: end + 2, client: { address: src, port: Number(srcPort) } };
}

function isIPv6Text(a: string): boolean {
  return /^[0-9a-fA-F:.]+$/.test(a) && a.includes(':') && a.length <= 45;
}

function decodeV2(b: Buffer): ProxyHeaderResult {
  if (b.length < 16) return NEED_MORE;
  const verCmd = b[12]!;
  if (verCmd >> 4 !== 2) return invalid(`PROXY v2 version ${verCmd >> 4} is not 2`);
  const command = verCmd & 0x0f;
  if (command > 1) return invalid(`PROXY v2 command ${command} is not LOCAL (0) or PROXY (1)`);
  const length = b.readUInt16BE(14);
  if (16 + length > V2_MAX) return invalid(`PROXY v2 header of ${16 + length} bytes is larger than ${V2_MAX}`);
  if (b.length < 16 + length) return NEED_MORE;
  const consumed = 16 + length;
  if (command === 0) return { kind: 'header', version: 2, consumed, client: null };
  const fam = b[13]!;
  if (fam === 0x11 || fam === 0x12) {
    if (length < 12) return invalid(`PROXY v2 IPv4 addresses need 12 bytes, the header has ${length}`);
    return { kind: 'header', version: 2, consumed, client: { address: `${b[16]}.${b[17]}.${b[18]}.${b[19]}`, port: b.readUInt16BE(24) } };
  }
  if (fam === 0x21 || fam === 0x22) {
    if (length < 36) return invalid(`PROXY v2 IPv6 addresses need 36 bytes, the header has ${length}`);
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(16 + i * 2).toString(16));
    return { kind: 'header', version: 2, consumed, client: { address: compressIPv6(groups), port: b.readUInt16BE(48) } };
  }
  if (fam === 0x00 || fam === 0x31 || fam === 0x32) return { kind: 'header', version: 2, consumed, client: null };
  return invalid(`PROXY v2 address family byte 0x${fam.toString(16).padStart(2, '0')} is not one of TCP4, UDP4, TCP6, UDP6, UNIX or UNSPEC`);
}

/** RFC 5952 text: the longest run (2 or more) of zero groups becomes '::'; IPv4-mapped shown as ::ffff:a.b.c.d. */
function compressIPv6(groups: string[]): string {
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const hi = parseInt(groups[6]!, 16);
    const lo = parseInt(groups[7]!, 16);
    return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestStart === -1) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

/** Encodes a v1 line (for tests and for a Berth that forwards to a PROXY-protocol backend). */
export function encodeProxyV1(client: ProxyClient | null, server: ProxyClient | null): Buffer {
  if (client === null || server === null) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  const family = client.address.includes(':') ? 'TCP6' : 'TCP4';
  return Buffer.from(`PROXY ${family} ${client.address} ${server.address} ${client.port} ${server.port}\r\n`, 'latin1');
}
