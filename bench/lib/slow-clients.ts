// Slow-client load: N connections that each trickle a request head (and, for
// every other client, a small POST body) one byte per tick, so one request
// takes ~2 s to arrive; then they read the answer, close and start over.
// A server that ties a worker to a connection while the head arrives (gunicorn
// sync, uWSGI --http-socket) loses its workers to them; one that buffers the
// head in an event loop does not. One shared timer drives every client, so the
// generator itself stays cheap. Bounded: fixed client count, runs until stop().
//
// Why the bytes go out with writeSync on the socket's descriptor, not socket.write: the
// generator shares the machine's cores with the server it measures, and a real slow client
// (on another machine) costs the server nothing. One byte through a net stream pays the
// Writable's bookkeeping, a write request and its completion callback (~12.7 µs a byte,
// docs/benchmarks.md s15C); the descriptor takes the same one-byte write(2) the stream's
// handle would have made, so the server sees the same segments at the same ticks. The socket
// still connects, reads the answer and closes through net.

import { writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

export interface SlowClientOptions {
  port: number;
  clients: number;
  /** Time to deliver one whole request, byte by byte. */
  requestMs: number;
}

export interface SlowClientStats {
  clients: number;
  requestsSent: number;
  responses: number;
  errors: number;
  /** One-byte writes made: on loopback with no delay, about one server read each. */
  bytesSent: number;
}

const GET_REQUEST = Buffer.from('GET /?slow=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
const POST_REQUEST = Buffer.from(
  'POST /?slow=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 8\r\n\r\nslowbody');
const RESPONSE_TIMEOUT_MS = 10_000;

interface Client {
  socket: Socket | undefined;
  /** The connected socket's descriptor, written to directly. */
  fd: number;
  request: Buffer;
  sent: number;
  connected: boolean;
  waitingSince: number;
}

export class SlowClients {
  #opts: SlowClientOptions;
  #clients: Client[] = [];
  #timer: NodeJS.Timeout | undefined;
  #starts: NodeJS.Timeout[] = [];
  #stopped = false;
  #stats: SlowClientStats;

  constructor(opts: SlowClientOptions) {
    this.#opts = opts;
    this.#stats = { clients: opts.clients, requestsSent: 0, responses: 0, errors: 0, bytesSent: 0 };
  }

  start(): void {
    const tickMs = Math.max(5, Math.floor(this.#opts.requestMs / GET_REQUEST.length));
    for (let i = 0; i < this.#opts.clients; i++) {
      const client: Client = {
        socket: undefined, fd: -1, request: i % 2 === 0 ? GET_REQUEST : POST_REQUEST,
        sent: 0, connected: false, waitingSince: 0,
      };
      this.#clients.push(client);
      // Stagger the first connections so they do not arrive as one burst.
      this.#starts.push(setTimeout(() => this.#open(client), (i * this.#opts.requestMs) / this.#opts.clients));
    }
    this.#timer = setInterval(() => this.#tick(), tickMs);
  }

  #open(client: Client): void {
    if (this.#stopped) return;
    const socket = connect({ host: '127.0.0.1', port: this.#opts.port });
    client.socket = socket;
    client.sent = 0;
    client.connected = false;
    client.waitingSince = 0;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      client.fd = descriptorOf(socket);
      client.connected = true;
    });
    // An answer may come before the body is complete (the app need not read
    // it); that still counts as served.
    socket.on('data', (chunk: Buffer) => {
      if (chunk.includes('HTTP/1.')) {
        this.#stats.responses++;
        this.#recycle(client, socket, false);
      }
    });
    // Only the client's current socket may recycle it: a late 'close' from an
    // already-replaced socket must not tear down its successor.
    socket.on('error', () => this.#recycle(client, socket, true));
    socket.on('close', () => this.#recycle(client, socket, true));
  }

  #recycle(client: Client, socket: Socket, failed: boolean): void {
    if (client.socket !== socket) return;
    client.socket = undefined;
    client.connected = false;
    client.fd = -1;
    socket.destroy();
    if (failed) this.#stats.errors++;
    if (!this.#stopped) setTimeout(() => this.#open(client), failed ? 100 : 0);
  }

  #tick(): void {
    const now = Date.now();
    for (const client of this.#clients) {
      const socket = client.socket;
      if (socket === undefined || !client.connected) continue;
      if (client.sent < client.request.length) {
        if (!this.#writeByte(client, socket)) continue;
        client.sent++;
        this.#stats.bytesSent++;
        if (client.sent === client.request.length) {
          this.#stats.requestsSent++;
          client.waitingSince = now;
        }
      } else if (now - client.waitingSince > RESPONSE_TIMEOUT_MS) {
        this.#recycle(client, socket, true);
      }
    }
  }

  /** One byte to the client's socket; false: not written (a failed socket is recycled). */
  #writeByte(client: Client, socket: Socket): boolean {
    // An ended or destroyed socket's descriptor may already be closed (and its number reused by
    // a new connection): leave it to its 'close', which recycles the client as before.
    if (socket.destroyed || !socket.writable) return false;
    try {
      return writeSync(client.fd, client.request, client.sent, 1) === 1;
    } catch (err) {
      // A full send buffer (never, one byte a tick) retries next tick; anything else (the
      // server reset the connection) fails the client as a stream's 'error' would have.
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return false;
      this.#recycle(client, socket, true);
      return false;
    }
  }

  /** Clients connected now, and so written to on the next tick. */
  connectedClients(): number {
    return this.#clients.filter((c) => c.connected).length;
  }

  /** What happened so far, while the load runs. */
  peek(): SlowClientStats {
    return { ...this.#stats };
  }

  /** Stops the load and closes every connection; returns what happened. */
  stop(): SlowClientStats {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const t of this.#starts) clearTimeout(t);
    for (const client of this.#clients) {
      client.socket?.destroy();
      client.socket = undefined;
    }
    return { ...this.#stats };
  }
}

/** A connected socket's descriptor (net keeps it on the handle; not part of its public API). */
function descriptorOf(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new Error('bench/lib/slow-clients.ts: a connected socket has no descriptor on its handle (this Node keeps it elsewhere); the generator writes through it, so it cannot run here');
  }
  return fd;
}
