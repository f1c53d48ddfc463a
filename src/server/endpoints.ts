/**
 * Who is on each end of a client connection, as the fronts report it (REMOTE_ADDR,
 * SERVER_PORT, the allow-list, the logs). Usually read from the socket; a connection a worker
 * relayed (uwsgi-direct) arrives on the master's private unix socket, so its real ends travel
 * in the RELAY frame instead, and the fronts take them from here either way.
 */
import type { Socket } from 'node:net';

export interface Endpoints {
  /** '' for a unix-socket peer. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}

/** An IPv4 client on a dual-stack listener shows as ::ffff:a.b.c.d; CGI wants a.b.c.d. */
export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function endpointsOf(socket: Socket): Endpoints {
  return {
    remoteAddress: unmapIPv4(socket.remoteAddress ?? ''),
    remotePort: socket.remotePort ?? 0,
    localAddress: unmapIPv4(socket.localAddress ?? ''),
    localPort: socket.localPort ?? 0,
  };
}
