// Slow-client load: N connections that each trickle a request head (and, for
// every other client, a small POST body) one byte per tick, so one request
// takes ~2 s to arrive; then they read the answer, close and start over.
// A server that ties a worker to a connection while the head arrives (gunicorn
// sync, uWSGI --http-socket) loses its workers to them; one that buffers the
// head in an event loop does not. One shared timer drives every client, so the
// generator itself stays cheap. Bounded: fixed client count, runs until stop().

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
        socket: undefined, request: i % 2 === 0 ? GET_REQUEST : POST_REQUEST,
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
    socket.on('connect', () => { client.connected = true; });
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
        socket.write(client.request.subarray(client.sent, client.sent + 1));
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

  /** Clients connected now, and so written to on the next tick (the pacing test waits for them). */
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
