/**
 * "Address already in use" — by whom? The kernel knows: /proc/net/tcp and tcp6 list every
 * listening TCP socket with its inode, /proc/net/unix every unix socket with its path, and each
 * process's /proc/<pid>/fd links name the sockets it holds (`socket:[inode]`). From the pid we
 * read the command line, so the error can say "pid 4242 (berth --ini site.ini)" and how to
 * stop it, instead of sending people to `ss -ltnp`. Everything here is best effort: when /proc
 * hides the owner (another user's process without root, another network namespace) the message
 * falls back to the command that would find it.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import type { ListenAddress } from '../config/schema.js';
import { BerthError } from '../errors/berth-error.js';
import { argValue, formatCommand, isBerthCommand, readCmdline, readStat } from './proc.js';

/** TCP state 0x0A in /proc/net/tcp (include/net/tcp_states.h). */
const TCP_LISTEN = '0A';
/** __SO_ACCEPTCON in /proc/net/unix Flags: the socket is listening. */
const UNIX_ACCEPTCON = 0x10000;

export interface AddressOwner {
  /** What the kernel lists as bound, e.g. "0.0.0.0:8000" or "/run/site.sock". */
  readonly bound: string;
  readonly inode: number;
  /** The process holding the socket (the parent of a forking server), or null if hidden. */
  readonly pid: number | null;
  readonly argv: readonly string[] | null;
}

interface TcpEntry {
  readonly host: string;
  readonly port: number;
  readonly inode: number;
}

/** "0100007F" (little-endian words) → "127.0.0.1"; 32 hex digits → a compressed IPv6 text. */
export function decodeProcAddress(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8);
    for (let b = 6; b >= 0; b -= 2) bytes.push(parseInt(word.slice(b, b + 2), 16));
  }
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // Compress the longest run of two or more zero groups (RFC 5952 §4.2.2-4.2.3).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let n = 0;
    while (i + n < 8 && groups[i + n] === '0') n++;
    if (n > bestLen) {
      best = i;
      bestLen = n;
    }
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function parseProcNetTcp(text: string): TcpEntry[] {
  const out: TcpEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== TCP_LISTEN) continue;
    const [hostHex, portHex] = f[1]!.split(':') as [string, string];
    out.push({ host: decodeProcAddress(hostHex), port: parseInt(portHex, 16), inode: Number(f[9]) });
  }
  return out;
}

export function parseProcNetUnix(text: string): { path: string; inode: number }[] {
  const out: { path: string; inode: number }[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || (parseInt(f[3]!, 16) & UNIX_ACCEPTCON) === 0) continue;
    out.push({ inode: Number(f[6]), path: f.slice(7).join(' ') });
  }
  return out;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** IPv4-mapped IPv6 (::ffff:7f00:1, ::ffff:127.0.0.1) → the IPv4 text, so both spellings compare equal. */
function normalizeHost(host: string): string {
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(host);
  if (hex !== null) {
    const [a, b] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  return host.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

/** How well a listening socket explains our bind failure: 3 same address, 2 it holds every address, 1 we asked for every address (or a name), 0 no conflict. */
function matchScore(want: string, held: string): number {
  const w = normalizeHost(want);
  const h = normalizeHost(held);
  if (w === h) return 3;
  if (WILDCARDS.has(h)) return 2;
  if (w === '' || WILDCARDS.has(w) || (!isIPv4(w) && !isIPv6(w))) return 1;
  return 0;
}

/** Pids whose open files include `socket:[inode]`. */
function pidsHolding(inode: number): number[] {
  const link = `socket:[${inode}]`;
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${name}/fd/${fd}`) === link) {
          pids.push(Number(name));
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return pids;
}

/** Of the processes sharing a socket (a forking server and its workers), the one that leads them. */
function leader(pids: readonly number[]): number | null {
  if (pids.length === 0) return null;
  const set = new Set(pids);
  return pids.find((p) => !set.has(readStat(p)?.ppid ?? -1)) ?? Math.min(...pids);
}

/** Finds the listening socket that keeps `address` busy, and who holds it. */
export function findAddressOwner(address: ListenAddress): AddressOwner | null {
  let bound: string;
  let inode: number;
  if (address.kind === 'unix') {
    const entry = parseProcNetUnix(readOr('/proc/net/unix')).find((e) => e.path === address.path);
    if (entry === undefined) return null;
    bound = entry.path;
    inode = entry.inode;
  } else {
    const entries = [...parseProcNetTcp(readOr('/proc/net/tcp')), ...parseProcNetTcp(readOr('/proc/net/tcp6'))].filter((e) => e.port === address.port);
    const best = entries.map((e) => ({ e, score: matchScore(address.host, e.host) })).filter((x) => x.score > 0).sort((a, b) => b.score - a.score)[0];
    if (best === undefined) return null;
    bound = `${best.e.host.includes(':') ? `[${best.e.host}]` : best.e.host}:${best.e.port}`;
    inode = best.e.inode;
  }
  const pid = leader(pidsHolding(inode));
  return { bound, inode, pid, argv: pid === null ? null : readCmdline(pid) };
}

/**
 * A message for a bind that failed because the address is taken, naming the holder and the
 * fix. `selfPid` is the pid to recognise as "this Berth" (an address configured twice).
 */
export function describeAddressInUse(address: ListenAddress, selfPid: number = process.pid): string {
  const where = address.kind === 'unix' ? `unix socket ${address.path}` : `address ${address.text}`;
  const other = address.kind === 'unix' ? 'pick another path' : 'pick another port';
  const owner = findAddressOwner(address);
  if (owner === null) {
    const find = address.kind === 'unix' ? `ss -lxp | grep ${address.path}` : `ss -ltnp 'sport = :${address.port}'`;
    return `${where} is already in use — find the program with '${find}', stop it, or ${other}`;
  }
  if (owner.pid === null) {
    const find = address.kind === 'unix' ? `sudo ss -lxp | grep ${address.path}` : `sudo ss -ltnp 'sport = :${address.port}'`;
    return `${where} is already in use (${owner.bound}, socket inode ${owner.inode}) by a process this user cannot see — find it with '${find}', stop it, or ${other}`;
  }
  if (owner.pid === selfPid) {
    return `${where} is configured twice: this Berth (pid ${selfPid}) already listens on ${owner.bound} — remove the duplicate listener option`;
  }
  const command = owner.argv === null ? '' : ` (${formatCommand(owner.argv)})`;
  const held = owner.bound === (address.kind === 'unix' ? address.path : address.text) ? '' : ` on ${owner.bound}`;
  if (owner.argv !== null && isBerthCommand(owner.argv)) {
    const pidfile = argValue(owner.argv, 'pidfile') ?? '<its pidfile>';
    return `${where} is already in use by pid ${owner.pid}${command}${held} — stop it with 'berth --stop ${pidfile}' or 'kill -TERM ${owner.pid}', or ${other}`;
  }
  return `${where} is already in use by pid ${owner.pid}${command}${held} — stop it ('kill -TERM ${owner.pid}' or its service manager), or ${other}`;
}

/**
 * Wraps a listener bind error: an "in use" failure becomes describeAddressInUse's message;
 * anything else is returned unchanged. For unix sockets the in-use case is found by the
 * path being listed as listening (listeners.ts refuses a live socket before binding).
 */
export function explainBindError(err: unknown, address: ListenAddress, selfPid: number = process.pid): unknown {
  if (!(err instanceof BerthError) || err.code !== 'BERTH_BIND_FAILED') return err;
  const inUse = address.kind === 'unix'
    ? findAddressOwner(address) !== null
    : (err.cause as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
  if (!inUse) return err;
  return new BerthError('BERTH_BIND_FAILED', `cannot listen: ${describeAddressInUse(address, selfPid)}`, { cause: err });
}
