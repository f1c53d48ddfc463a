/**
 * Binds listener sockets. The master binds every address once, before any worker starts, so
 * "address in use" is reported at once with the address and a fix, and the sockets survive
 * reloads (later work).
 */
import { lookup } from 'node:dns/promises';
import { closeSync } from 'node:fs';
import net, { createServer, isIP, type Server, type Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { ListenAddress } from '../config/schema.js';
import { BerthError } from '../errors/berth-error.js';
import { applySocketOwnership, prepareUnixPath } from './unix-socket.js';

export interface BoundListener {
  readonly address: ListenAddress;
  readonly server: Server;
  /** The actual port (useful with port 0), or 0 for unix sockets. */
  readonly port: number;
  readonly display: string;
}

export interface UnixSocketOptions {
  readonly chmod: number | null;
  readonly chown: string | null;
}

export async function bindListener(
  address: ListenAddress,
  backlog: number,
  onConnection: (s: Socket) => void,
  unix: UnixSocketOptions = { chmod: null, chown: null },
): Promise<BoundListener> {
  if (address.kind === 'unix') await prepareUnixPath(address.path);
  const bound = await listen(address, backlog, onConnection);
  if (address.kind === 'unix') {
    try {
      applySocketOwnership(address.path, unix.chmod, unix.chown);
    } catch (err) {
      bound.server.close();
      throw err;
    }
  }
  return bound;
}

function listen(address: ListenAddress, backlog: number, onConnection: (s: Socket) => void): Promise<BoundListener> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: a client may send its request and half-close (FIN); it still gets the answer.
    const server = createServer({ noDelay: true, allowHalfOpen: true }, onConnection);
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new BerthError('BERTH_BIND_FAILED', bindFailure(address, err), { cause: err }));
    });
    const done = (): void => resolve(listening(server, address));
    if (address.kind === 'unix') server.listen({ path: address.path, backlog }, done);
    else server.listen({ host: address.host === '' ? undefined : address.host, port: address.port, backlog, exclusive: true }, done);
  });
}

/**
 * A uwsgi socket handed to the workers (uwsgi-direct): bound here, so a bind error is reported
 * like any other, but never listened on or accepted from in Node — the Python workers call
 * listen() on the descriptor they inherit and accept from it themselves.
 */
export interface HandedListener {
  readonly address: ListenAddress;
  /** The master's descriptor; children get a copy of it. */
  readonly fd: number;
  readonly port: number;
  readonly display: string;
  close(): void;
}

interface BoundHandle {
  readonly fd: number;
  getsockname(out: { address?: string; port?: number }): number;
  close(): void;
}

/** Node's own "bind without listening" (the cluster module's): a handle, or a negative errno. */
const createServerHandle = (net as unknown as {
  _createServerHandle(address: string | null, port: number, addressType: number, fd?: number, flags?: number): BoundHandle | number;
})._createServerHandle;

export async function bindHandedListener(address: ListenAddress, unix: UnixSocketOptions = { chmod: null, chown: null }): Promise<HandedListener> {
  const fail = (errno: number): never => {
    const code = getSystemErrorName(errno);
    const err: NodeJS.ErrnoException = Object.assign(new Error(`bind ${code} ${address.text}`), { code, errno, syscall: 'bind' });
    throw new BerthError('BERTH_BIND_FAILED', bindFailure(address, err), { cause: err });
  };
  let handle: BoundHandle | number;
  if (address.kind === 'unix') {
    await prepareUnixPath(address.path);
    handle = createServerHandle(address.path, -1, -1);
  } else {
    let host: string | null = address.host === '' ? null : address.host;
    if (host !== null && isIP(host) === 0) {
      try {
        host = (await lookup(host)).address;
      } catch (err) {
        throw new BerthError('BERTH_BIND_FAILED', bindFailure(address, err as NodeJS.ErrnoException), { cause: err });
      }
    }
    handle = createServerHandle(host, address.port, host === null ? 4 : isIP(host));
  }
  if (typeof handle === 'number') return fail(handle);
  const h = handle;
  const name: { address?: string; port?: number } = {};
  // A TCP bind that found the port taken reports it only now (libuv delays EADDRINUSE).
  const err = address.kind === 'unix' ? 0 : h.getsockname(name);
  if (err !== 0) {
    h.close();
    return fail(err);
  }
  if (address.kind === 'unix') {
    try {
      applySocketOwnership(address.path, unix.chmod, unix.chown);
    } catch (e) {
      h.close();
      throw e;
    }
  }
  const port = name.port ?? 0;
  const display = address.kind === 'unix' ? address.path : `${formatHost(name.address ?? address.host)}:${port}`;
  return { address, fd: h.fd, port, display, close: () => h.close() };
}

/** A server that has started listening, as a BoundListener; later errors are the connections' own. */
function listening(server: Server, address: ListenAddress): BoundListener {
  const a = server.address();
  const port = a !== null && typeof a === 'object' ? a.port : 0;
  const display = address.kind === 'unix' ? address.path : `${a !== null && typeof a === 'object' ? formatHost(a.address) : address.host}:${port}`;
  server.removeAllListeners('error');
  server.on('error', () => undefined);
  return { address, server, port, display };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function bindFailure(address: ListenAddress, err: NodeJS.ErrnoException): string {
  const where = address.text;
  switch (err.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the address is already in use — another server (or another Berth) holds it; stop it (e.g. find it with 'ss -ltnp') or choose another port`;
    case 'EACCES':
      if (address.kind === 'unix') return `cannot listen on ${where}: permission denied — Berth's user must be able to write to ${where.slice(0, where.lastIndexOf('/')) || '/'}`;
      return `cannot listen on ${where}: permission denied — ports below 1024 need root (or CAP_NET_BIND_SERVICE); use a port ≥ 1024 behind a proxy`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: this machine has no such address — use 0.0.0.0 (all interfaces) or an address shown by 'ip addr'`;
    case 'ENOTFOUND':
      return `cannot listen on ${where}: the host name does not resolve — use an IP address`;
    default:
      return `cannot listen on ${where}: ${err.message}`;
  }
}

/** A listening socket inherited from systemd (socket activation): the master accepts on descriptor `fd`. */
export function adoptListener(address: ListenAddress, fd: number, onConnection: (s: Socket) => void): Promise<BoundListener> {
  return new Promise((resolve, reject) => {
    const server = createServer({ noDelay: true, allowHalfOpen: true }, onConnection);
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new BerthError('BERTH_BIND_FAILED', `${address.text}: cannot listen on the socket systemd passed as descriptor ${fd}: ${err.message}`, { cause: err }));
    });
    server.listen({ fd }, () => resolve(listening(server, address)));
  });
}

/** A uwsgi socket inherited from systemd that the workers accept on (uwsgi-direct). */
export function adoptHandedListener(address: ListenAddress, fd: number, port: number): HandedListener {
  const display = address.kind === 'unix' ? address.path : `${formatHost(address.host === '' ? '0.0.0.0' : address.host)}:${port}`;
  return { address, fd, port, display, close: () => closeQuietly(fd) };
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
