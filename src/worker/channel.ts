/**
 * The master's end of one worker's socket. Outgoing frames are gathered and written once per
 * event-loop turn (setImmediate), so requests that arrive together reach a worker in a single
 * write; incoming bytes go through the pure FrameDecoder.
 *
 * The socket may arrive after the channel is made: a worker forked by the zygote connects to
 * the master on its own (HELLO). Frames sent before that wait in the queue and leave with the
 * first write once `connect` is called.
 */
import type { Socket } from 'node:net';
import { FrameDecoder, type Frame } from '../protocol/worker/decode.js';

export class WorkerChannel {
  #socket: Socket | null = null;
  readonly #decoder = new FrameDecoder();
  readonly #onFrame: (frame: Frame) => void;
  readonly #onError: (err: Error) => void;
  readonly #onClose: () => void;
  #out: Buffer[] = [];
  #scheduled = false;
  #closed = false;

  constructor(socket: Socket | null, onFrame: (frame: Frame) => void, onError: (err: Error) => void, onClose: () => void) {
    this.#onFrame = onFrame;
    this.#onError = onError;
    this.#onClose = onClose;
    if (socket !== null) this.connect(socket);
  }

  get connected(): boolean {
    return this.#socket !== null && !this.#closed;
  }

  /** Attaches the worker's socket; `initial` holds bytes already read from it (after HELLO). */
  connect(socket: Socket, initial: Buffer | null = null): void {
    if (this.#closed || this.#socket !== null) {
      socket.destroy();
      return;
    }
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (err) => this.#onError(err));
    socket.on('close', () => {
      this.#closed = true;
      this.#onClose();
    });
    if (initial !== null && initial.length > 0) this.#receive(initial);
    socket.resume(); // a socket paused while its HELLO was checked does not resume on 'data' alone
    if (this.#out.length > 0 && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  #receive(chunk: Buffer): void {
    try {
      this.#decoder.push(chunk);
      for (let f = this.#decoder.next(); f !== null; f = this.#decoder.next()) this.#onFrame(f);
    } catch (err) {
      this.#onError(err as Error);
    }
  }

  /** Queue bytes for this turn's single write. */
  send(...buffers: Buffer[]): void {
    if (this.#closed) return;
    for (const b of buffers) this.#out.push(b);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.#scheduled = false;
    const out = this.#out;
    const socket = this.#socket;
    if (out.length === 0 || this.#closed || socket === null) return;
    this.#out = [];
    if (out.length === 1) socket.write(out[0]!);
    else {
      socket.cork();
      for (const b of out) socket.write(b);
      socket.uncork();
    }
  }

  close(): void {
    this.#closed = true;
    this.#out = [];
    this.#socket?.destroy();
  }
}
