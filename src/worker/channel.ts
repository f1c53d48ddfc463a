/**
 * The master's end of one worker's socket. Outgoing frames are gathered and written once per
 * event-loop turn (setImmediate), so requests that arrive together reach a worker in a single
 * write; incoming bytes go through the pure FrameDecoder.
 */
import type { Socket } from 'node:net';
import { FrameDecoder, type Frame } from '../protocol/worker/decode.js';

export class WorkerChannel {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder();
  #out: Buffer[] = [];
  #scheduled = false;
  #closed = false;

  constructor(socket: Socket, onFrame: (frame: Frame) => void, onError: (err: Error) => void, onClose: () => void) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#decoder.push(chunk);
        for (let f = this.#decoder.next(); f !== null; f = this.#decoder.next()) onFrame(f);
      } catch (err) {
        onError(err as Error);
      }
    });
    socket.on('error', (err) => onError(err));
    socket.on('close', () => {
      this.#closed = true;
      onClose();
    });
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
    if (out.length === 0 || this.#closed) return;
    this.#out = [];
    if (out.length === 1) this.#socket.write(out[0]!);
    else {
      this.#socket.cork();
      for (const b of out) this.#socket.write(b);
      this.#socket.uncork();
    }
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }
}
