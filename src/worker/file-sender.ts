/**
 * Sends a byte range of a file the app returned as wsgi.file_wrapper, from the master itself
 * (the FILE frame, ../protocol/worker/frames.ts), so the bytes never pass through Python.
 *
 * Theory of operation: `openWorkerFile` opens /proc/<worker pid>/fd/<fd> read-only. On Linux
 * that opens the very file the worker holds — a fresh open file description with its own
 * offset, so the worker may close its copy at once, and it works even when the file was
 * unlinked or its path replaced. Anything but a regular file is refused (the worker checked,
 * but the pid or fd could have been recycled meanwhile). `FileSender` then streams the range
 * with backpressure like the static-file server does: one 64 KiB positioned read, handed to
 * the Responder, and the next read only once `flushed` says that piece left Berth, so memory
 * stays constant however slow the client. It ends the response after the last byte; it closes
 * the descriptor at the end, on a read error (cutting the connection), on cancel() and when
 * the client goes away — always after any read still in flight.
 */
import fs from 'node:fs';
import type { Exchange } from '../server/exchange.js';

const CHUNK = 64 * 1024;

/**
 * The worker's descriptor, opened again by the master; null when that is impossible
 * (not Linux, the process is gone, no access, not a regular file).
 */
export async function openWorkerFile(pid: number, fd: number): Promise<fs.promises.FileHandle | null> {
  if (process.platform !== 'linux' || pid <= 0) return null;
  let fh: fs.promises.FileHandle | null = null;
  try {
    fh = await fs.promises.open(`/proc/${pid}/fd/${fd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    if (!(await fh.stat()).isFile()) throw new Error('not a regular file');
    return fh;
  } catch {
    if (fh !== null) await fh.close().catch(() => undefined);
    return null;
  }
}

export type FileSenderLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export class FileSender {
  readonly #ex: Exchange;
  readonly #fh: fs.promises.FileHandle;
  readonly #end: number;
  readonly #log: FileSenderLog;
  #pos: number;
  #reading = false;
  #stopped = false;
  #released = false;
  readonly #onAbort = (): void => this.#stop();
  /** The whole range was handed to the Responder and the response ended. */
  finished = false;

  constructor(ex: Exchange, fh: fs.promises.FileHandle, offset: number, length: number, log: FileSenderLog) {
    this.#ex = ex;
    this.#fh = fh;
    this.#pos = offset;
    this.#end = offset + length;
    this.#log = log;
  }

  /** True until the descriptor is released (finished, cancelled, failed or the client left). */
  get active(): boolean {
    return !this.#stopped;
  }

  start(): void {
    this.#ex.onAbort = this.#onAbort;
    this.#next();
  }

  /** Stop without ending the response (the caller answers); the descriptor is closed. */
  cancel(): void {
    if (this.#ex.onAbort === this.#onAbort) this.#ex.onAbort = null;
    this.#stop();
  }

  #next = (): void => {
    if (this.#stopped) return;
    if (this.#ex.aborted) return this.#stop();
    if (this.#pos >= this.#end) {
      this.finished = true;
      this.#ex.onAbort = null;
      this.#stop();
      this.#ex.responder.sendEnd();
      return;
    }
    const len = Math.min(CHUNK, this.#end - this.#pos);
    const buf = Buffer.allocUnsafe(len);
    this.#reading = true;
    this.#fh.read(buf, 0, len, this.#pos).then(({ bytesRead }) => {
      this.#reading = false;
      if (this.#stopped || this.#ex.aborted) return this.#stop();
      if (bytesRead === 0) return this.#fail(new Error(`the file ended at byte ${this.#pos}, before the ${this.#end} the response needs`));
      this.#pos += bytesRead;
      this.#ex.responder.sendBody(bytesRead === len ? buf : buf.subarray(0, bytesRead), this.#next);
    }, (err: Error) => {
      this.#reading = false;
      this.#fail(err);
    });
  };

  #fail(err: Error): void {
    if (this.#stopped) return this.#stop();
    const req = this.#ex.request;
    this.#log('error', `${req.method} ${req.target}: reading the app's file_wrapper file failed: ${err.message}; the response was cut`);
    this.#ex.onAbort = null;
    this.#stop();
    this.#ex.responder.sendError(500, 'file read failed');
  }

  /** Closes the descriptor once no read is in flight (the read's completion comes back here). */
  #stop(): void {
    this.#stopped = true;
    if (this.#reading || this.#released) return;
    this.#released = true;
    this.#fh.close().catch(() => undefined);
  }
}
