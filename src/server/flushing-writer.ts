/**
 * Writes to a client socket and reports when each piece has left Berth's buffers ("flushed"):
 * at once when the socket took it, else at the next 'drain'. Producers (workers, file streams)
 * send their next piece only then, which is how a slow reader's backpressure reaches the app.
 * Once the socket is gone, writes are dropped and every waiter is released, so no producer
 * waits forever. Shared by the HTTP and uwsgi connections.
 */
import type { Socket } from 'node:net';
import { writeDirect } from './direct-writes.js';

export class FlushingWriter {
  readonly #socket: Socket;
  #waiters: (() => void)[] = [];
  #closed = false;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  write(data: Buffer | string, flushed?: () => void): void {
    if (this.#closed) {
      if (flushed) flushed();
      return;
    }
    const ok = writeDirect(this.#socket, data);
    if (flushed) {
      if (ok) flushed();
      else this.#waiters.push(flushed);
    }
  }

  /**
   * A head and a long body corked together, so libuv sends them with one writev: two writes
   * cost two system calls and, with Nagle off, a lone segment for the head.
   */
  writePair(head: string, body: Buffer): void {
    if (this.#closed) return;
    this.#socket.cork();
    this.#socket.write(head, 'latin1');
    this.#socket.write(body);
    this.#socket.uncork();
  }

  /** Call on the socket's 'drain'. */
  drained(): void {
    this.#release();
  }

  /** Call when the socket closed: later writes are dropped. */
  close(): void {
    this.#closed = true;
    this.#release();
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
