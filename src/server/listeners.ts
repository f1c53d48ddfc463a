/**
 * Binds listener sockets. The master binds every address once, before any worker starts, so
 * "address in use" is reported at once with the address and a fix, and the sockets survive
 * reloads (later work).
 */
import { createServer, type Server, type Socket } from 'node:net';
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
    const done = (): void => {
      const a = server.address();
      const port = a !== null && typeof a === 'object' ? a.port : 0;
      const display = address.kind === 'unix' ? address.path : `${a !== null && typeof a === 'object' ? formatHost(a.address) : address.host}:${port}`;
      server.removeAllListeners('error');
      server.on('error', () => undefined);
      resolve({ address, server, port, display });
    };
    if (address.kind === 'unix') server.listen({ path: address.path, backlog }, done);
    else server.listen({ host: address.host === '' ? undefined : address.host, port: address.port, backlog, exclusive: true }, done);
  });
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
