/**
 * Socket activation (sd_listen_fds(3)): the listening sockets systemd passes as descriptors 3…,
 * each matched to the `http` / `socket` address of the config that names it.
 *
 * Theory of operation: LISTEN_PID must be ours (otherwise the variables were inherited by
 * mistake and are ignored); LISTEN_FDS counts the descriptors; LISTEN_FDNAMES names them. The
 * variables leave process.env at once so no worker or side program sees them. Node cannot
 * getsockname() a bare descriptor, so the address comes from the kernel's tables:
 * /proc/self/fd/N names the socket's inode, /proc/net/{tcp,tcp6,unix} give its local address.
 * The config still names every address: a descriptor no address matches is an error (it would
 * be a port systemd holds open that nothing serves).
 */
import { readFileSync, readlinkSync } from 'node:fs';
import type { ListenAddress } from '../config/schema.js';
import { BerthError } from '../errors/berth-error.js';

const SD_LISTEN_FDS_START = 3;

export type InheritedAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

export interface InheritedSocket {
  readonly fd: number;
  /** Its name in LISTEN_FDNAMES (systemd's FileDescriptorName=, by default the .socket unit's name). */
  readonly name: string;
  readonly address: InheritedAddress | null;
}

/** Reads and removes LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES; the sockets passed to `pid`, with their addresses. */
export function takeListenFds(env: NodeJS.ProcessEnv, pid: number): InheritedSocket[] {
  const forPid = Number(env.LISTEN_PID ?? '');
  const count = Number(env.LISTEN_FDS ?? '');
  const names = (env.LISTEN_FDNAMES ?? '').split(':');
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  if (forPid !== pid || !Number.isInteger(count) || count <= 0) return [];
  return Array.from({ length: count }, (_, i) => {
    const fd = SD_LISTEN_FDS_START + i;
    return { fd, name: names[i] ?? '', address: inheritedAddress(fd) };
  });
}

function inheritedAddress(fd: number): InheritedAddress | null {
  let link: string;
  try {
    link = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
  const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
  if (inode === undefined) return null;
  const table = (file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const unixPath = unixPathOf(table('/proc/net/unix'), inode);
  if (unixPath !== null) return { kind: 'unix', path: unixPath };
  return tcpAddressOf(table('/proc/net/tcp'), inode, 4) ?? tcpAddressOf(table('/proc/net/tcp6'), inode, 6);
}

/** The path of the unix socket with this inode in /proc/net/unix ("Num RefCount Protocol Flags Type St Inode Path"). */
export function unixPathOf(procNetUnix: string, inode: string): string | null {
  for (const line of procNetUnix.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[6] === inode) return cols[7] ?? null;
  }
  return null;
}

/** The local address of the TCP socket with this inode in /proc/net/tcp or tcp6 (addresses in hex, host byte order per 32-bit word). */
export function tcpAddressOf(procNetTcp: string, inode: string, family: 4 | 6): InheritedAddress | null {
  for (const line of procNetTcp.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[9] !== inode) continue;
    const [hexHost, hexPort] = (cols[1] ?? '').split(':');
    if (hexHost === undefined || hexPort === undefined) return null;
    return { kind: 'tcp', host: family === 4 ? ipv4(hexHost) : ipv6(hexHost), port: parseInt(hexPort, 16) };
  }
  return null;
}

/** /proc writes each 32-bit word as the kernel holds it: little-endian on the machines Berth runs on. */
function wordBytes(hex8: string): number[] {
  const n = parseInt(hex8, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function ipv4(hex: string): string {
  return wordBytes(hex).join('.');
}

function ipv6(hex: string): string {
  const bytes = [0, 8, 16, 24].flatMap((i) => wordBytes(hex.slice(i, i + 8)));
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

function sameHost(configured: string, inherited: string): boolean {
  const any = (h: string): boolean => h === '' || h === '0.0.0.0' || h === '::' || h === '[::]';
  if (any(configured) || any(inherited)) return any(configured) && any(inherited);
  const bare = (h: string): string => h.replace(/^\[|\]$/g, '').toLowerCase();
  return bare(configured) === bare(inherited) || (bare(configured) === 'localhost' && (inherited === '127.0.0.1' || inherited === '::1'));
}

export function matches(address: ListenAddress, inherited: InheritedAddress): boolean {
  if (address.kind === 'unix') return inherited.kind === 'unix' && inherited.path === address.path;
  return inherited.kind === 'tcp' && inherited.port === address.port && sameHost(address.host, inherited.host);
}

function describe(s: InheritedSocket): string {
  const where = s.address === null ? 'not a socket Berth can read' : s.address.kind === 'unix' ? s.address.path : `${s.address.host.includes(':') ? `[${s.address.host}]` : s.address.host}:${s.address.port}`;
  return `descriptor ${s.fd}${s.name !== '' ? ` (LISTEN_FDNAMES: ${s.name})` : ''}, ${where}`;
}

/**
 * Each configured address with the descriptor that serves it (undefined: Berth binds it itself).
 * Throws when a descriptor matches no address: systemd would hold that port open for nothing.
 */
export function assignInherited(addresses: readonly ListenAddress[], inherited: readonly InheritedSocket[]): Map<ListenAddress, InheritedSocket> {
  const assigned = new Map<ListenAddress, InheritedSocket>();
  const unmatched: InheritedSocket[] = [];
  for (const s of inherited) {
    const address = s.address !== null ? addresses.find((a) => !assigned.has(a) && matches(a, s.address!)) : undefined;
    if (address === undefined) unmatched.push(s);
    else assigned.set(address, s);
  }
  if (unmatched.length > 0) {
    const configured = addresses.map((a) => a.text).join(', ') || 'none';
    throw new BerthError('BERTH_BIND_FAILED', `socket activation: systemd passed ${unmatched.map(describe).join('; ')}, which no 'http', 'http-socket' or 'socket' option names (configured: ${configured}); add the address to the config (e.g. http = ADDRESS), or remove its ListenStream= from the .socket unit`);
  }
  return assigned;
}
