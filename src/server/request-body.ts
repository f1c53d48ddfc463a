/**
 * Request bodies read whole (memory, then a spool file) before a worker thread sees the request.
 *
 * Theory of operation: Berth reads a request body completely before a Python thread sees the
 * request, so a client that trickles its upload never holds a worker thread (nginx's
 * proxy_request_buffering idea). Small bodies stay in memory; past SPOOL_THRESHOLD_BYTES the
 * body goes to an already-unlinked temporary file, so a 75 MB upload costs no more memory than
 * a 1 MB one. The worker side then pulls the body in window-sized pieces (see worker/channel).
 * What all spool files may hold together is bounded by a SpoolBudget (spool-limit): a body
 * that does not fit is `refused`, keeps nothing more, and its connection answers 503.
 */
import { openSync, unlinkSync, write, read, close } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { SpoolBudget } from './spool-budget.js';
import { collectYoungGarbage, YOUNG_COLLECTION_BYTES } from './young-collection.js';

export const SPOOL_THRESHOLD_BYTES = 1 << 20;
/** Unwritten spool bytes past which the client is asked to wait. */
export const SPOOL_BACKLOG_BYTES = 4 << 20;
/**
 * Size of the slabs a spooled body is staged in on its way to the disk. The slabs are reused
 * once written: copying each socket read into a fresh Buffer left one body's worth of garbage
 * for V8 to find (external memory is collected late, under load tens of MiB late).
 */
const SPOOL_SLAB_BYTES = 256 * 1024;

export class RequestBody {
  #chunks: Buffer[] = [];
  #memoryBytes = 0;
  #fd = -1;
  #fileBytes = 0;
  #writing: Promise<void> = Promise.resolve();
  #writeError: Error | null = null;
  #readOffset = 0;
  #complete = false;
  /** Bytes handed to the spool file whose write has not finished yet. */
  #unwritten = 0;
  #onWritten: (() => void) | null = null;
  readonly #budget: SpoolBudget | null;
  /** Bytes taken from the budget (given back by dispose). */
  #reserved = 0;
  #refused = false;
  /** The slab being filled, how much of it is, and written slabs ready for reuse. */
  #slab: Buffer | null = null;
  #slabUsed = 0;
  #spareSlabs: Buffer[] = [];
  /** Spooled bytes since the last young collection (see young-collection.ts). */
  #sinceCollection = 0;
  totalBytes = 0;

  constructor(budget: SpoolBudget | null = null) {
    this.#budget = budget;
  }

  /** True once the body did not fit the spool budget: the caller answers 503. */
  get refused(): boolean {
    return this.#refused;
  }

  /**
   * A body of a declared length: takes the spool space it will need at once (nothing for one
   * that stays in memory). False, and `refused`, when it does not fit.
   */
  reserve(declaredBytes: number): boolean {
    if (declaredBytes <= SPOOL_THRESHOLD_BYTES || this.#budget === null) return true;
    if (this.#budget.take(declaredBytes)) this.#reserved = declaredBytes;
    else this.#refused = true;
    return !this.#refused;
  }

  get complete(): boolean {
    return this.#complete;
  }

  /** Keep a copy of `chunk` (parsers hand out views into their input). */
  append(chunk: Buffer): void {
    if (this.#refused) return;
    this.totalBytes += chunk.length;
    if (this.#fd < 0 && this.#memoryBytes + chunk.length <= SPOOL_THRESHOLD_BYTES) {
      this.#chunks.push(Buffer.from(chunk));
      this.#memoryBytes += chunk.length;
      return;
    }
    if (!this.#fits(this.totalBytes)) return;
    if (this.#fd < 0) this.#openSpool();
    this.#stage(chunk);
    this.#sinceCollection += chunk.length;
    if (this.#sinceCollection >= YOUNG_COLLECTION_BYTES) {
      this.#sinceCollection = 0;
      collectYoungGarbage();
    }
  }

  /** Copies `chunk` into slabs, queueing each full one for the disk. */
  #stage(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#slab === null) {
        this.#slab = this.#spareSlabs.pop() ?? Buffer.allocUnsafeSlow(SPOOL_SLAB_BYTES);
        this.#slabUsed = 0;
      }
      const n = chunk.copy(this.#slab, this.#slabUsed, offset);
      offset += n;
      this.#slabUsed += n;
      if (this.#slabUsed === SPOOL_SLAB_BYTES) this.#writeSlab();
    }
  }

  #writeSlab(): void {
    const slab = this.#slab;
    if (slab === null || this.#slabUsed === 0) return;
    this.#slab = null;
    this.#queueWrite(slab.subarray(0, this.#slabUsed), slab);
  }

  /** Whether `bytes` in the spool file fit what was reserved, taking more if needed (chunked bodies). */
  #fits(bytes: number): boolean {
    const more = bytes - this.#reserved;
    if (more <= 0 || this.#budget === null) return true;
    if (!this.#budget.take(more)) {
      this.#refused = true;
      this.dispose();
      return false;
    }
    this.#reserved += more;
    return true;
  }

  /**
   * True while more than SPOOL_BACKLOG_BYTES wait to reach the disk: the connection should stop
   * reading from its client until `onDrained` fires, or a fast upload to a slow disk would pile
   * up in memory.
   */
  get backlogged(): boolean {
    return this.#unwritten > SPOOL_BACKLOG_BYTES;
  }

  /** Calls `cb` once the backlog is written (at once if there is none). */
  onDrained(cb: () => void): void {
    if (!this.backlogged) cb();
    else this.#onWritten = cb;
  }

  /** Resolves when every byte is stored (in memory or on disk). */
  async finish(): Promise<void> {
    this.#complete = true;
    this.#writeSlab();
    await this.#writing;
    this.#spareSlabs = [];
    if (this.#writeError) throw this.#writeError;
  }

  /**
   * Next piece of at most `max` bytes, or null at the end. A piece read from the spool file
   * lands in `into` when given (at least `max` bytes long), so a caller that knows when the
   * previous piece is consumed can reuse one buffer instead of making garbage per piece.
   */
  async readChunk(max: number, into?: Buffer): Promise<Buffer | null> {
    if (this.#chunks.length > 0) {
      const first = this.#chunks[0]!;
      if (first.length <= max) {
        this.#chunks.shift();
        return first;
      }
      this.#chunks[0] = first.subarray(max);
      return first.subarray(0, max);
    }
    if (this.#fd < 0 || this.#readOffset >= this.#fileBytes) return null;
    const size = Math.min(max, this.#fileBytes - this.#readOffset);
    const buf = into === undefined ? Buffer.allocUnsafe(size) : into.subarray(0, size);
    const n = await new Promise<number>((resolve, reject) =>
      read(this.#fd, buf, 0, size, this.#readOffset, (err, bytes) => (err ? reject(err) : resolve(bytes))),
    );
    this.#readOffset += n;
    return n === size ? buf : buf.subarray(0, n);
  }

  /**
   * A fresh pass over the whole stored body that consumes nothing, so a proxied request can be
   * sent again to another backend. Only for a complete body.
   */
  async *replay(max: number): AsyncGenerator<Buffer> {
    if (this.#fd < 0) {
      yield* this.#chunks.slice();
      return;
    }
    const fd = this.#fd;
    for (let offset = 0; offset < this.#fileBytes;) {
      const size = Math.min(max, this.#fileBytes - offset);
      const buf = Buffer.allocUnsafe(size);
      const n = await new Promise<number>((resolve, reject) => read(fd, buf, 0, size, offset, (err, bytes) => (err ? reject(err) : resolve(bytes))));
      if (n === 0) return;
      offset += n;
      yield n === size ? buf : buf.subarray(0, n);
    }
  }

  /** All bytes, when the body is small enough to be in memory (the common case). */
  memoryChunks(): Buffer[] | null {
    return this.#fd < 0 ? this.#chunks : null;
  }

  dispose(): void {
    this.#budget?.give(this.#reserved);
    this.#reserved = 0;
    this.#chunks = [];
    this.#slab = null;
    this.#spareSlabs = [];
    if (this.#fd >= 0) {
      const fd = this.#fd;
      this.#fd = -1;
      this.#writing.finally(() => close(fd, () => undefined));
    }
  }

  #openSpool(): void {
    const path = join(tmpdir(), `berth-body-${process.pid}-${randomBytes(6).toString('hex')}`);
    this.#fd = openSync(path, 'w+', 0o600);
    // Unlinked at once: the file vanishes with the descriptor, even if Berth is killed.
    unlinkSync(path);
    const spilled = this.#chunks;
    this.#chunks = [];
    this.#memoryBytes = 0;
    for (const c of spilled) this.#queueWrite(c);
  }

  #queueWrite(buf: Buffer, slab?: Buffer): void {
    this.#unwritten += buf.length;
    this.#writing = this.#writing.then(async () => {
      await this.#writeAll(buf);
      this.#unwritten -= buf.length;
      if (slab !== undefined && !this.#complete) this.#spareSlabs.push(slab);
      if (this.#onWritten !== null && !this.backlogged) {
        const cb = this.#onWritten;
        this.#onWritten = null;
        cb();
      }
    });
  }

  #writeAll(buf: Buffer): Promise<void> {
    if (this.#fd < 0 || this.#writeError) return Promise.resolve();
    const fd = this.#fd;
    const position = this.#fileBytes;
    this.#fileBytes += buf.length;
    return new Promise((resolve) => {
      const step = (offset: number): void => {
        write(fd, buf, offset, buf.length - offset, position + offset, (err, n) => {
          if (err) {
            this.#writeError = err;
            resolve();
          } else if (offset + n < buf.length) step(offset + n);
          else resolve();
        });
      };
      step(0);
    });
  }
}
