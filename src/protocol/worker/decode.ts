/**
 * Worker -> master frame decoding: frames cut from the byte stream, and HEAD/FULL/FILE payloads.
 *
 * The control frames' JSON payloads (READY, DIRECT, EXITED…) are parsed in ./payloads.ts.
 *
 * Theory of operation: `FrameDecoder.push(chunk)` files each socket chunk; `next()` returns
 * one complete frame or null. A frame inside one chunk is returned as a `subarray` of that
 * chunk (no copy); only a frame that spans chunks is assembled, once, when enough bytes have
 * arrived (so a 64 MiB frame arriving in 64 KiB pieces costs one copy, not 1,000). Header
 * checks run before any payload is waited for: a length over MAX_FRAME_PAYLOAD_BYTES, an
 * unknown type or a wrong fixed-size payload is a WorkerProtocolError, and the decoder then
 * stays failed (the channel is no longer in sync and must be closed).
 */
import { WorkerProtocolError } from './errors.js';
import { FILE_PAYLOAD_BYTES, FRAME_HEADER_BYTES, FromWorker, MAX_FRAME_PAYLOAD_BYTES, ToWorker } from './frames.js';

export interface Frame {
  readonly id: number;
  readonly type: number;
  readonly payload: Buffer;
}

export interface HeadBlock {
  /** "200 OK" exactly as the app gave it. */
  readonly status: string;
  /** Flat [name, value, name, value, …] in the app's order. */
  readonly headers: string[];
}

export type Direction = 'from-worker' | 'to-worker';

// Payload size per type: exact (number), at least (negative: -min), or any (undefined).
const FROM_WORKER_SIZES = new Map<number, number | undefined>([
  [FromWorker.READY, undefined], [FromWorker.BOOT_FAIL, undefined], [FromWorker.HEAD, undefined],
  [FromWorker.BODY, undefined], [FromWorker.END, 0], [FromWorker.FULL, -4], [FromWorker.ERROR, undefined],
  [FromWorker.CREDIT, 4], [FromWorker.LOG, undefined], [FromWorker.FILE, FILE_PAYLOAD_BYTES],
  [FromWorker.MODULES, undefined], [FromWorker.FORKED, undefined], [FromWorker.EXITED, undefined],
  [FromWorker.HELLO, undefined], [FromWorker.RELAY, undefined], [FromWorker.DIRECT, -4],
  [FromWorker.RECYCLE, undefined], [FromWorker.ACCEPT_STOPPED, 0],
]);
const TO_WORKER_SIZES = new Map<number, number | undefined>([
  [ToWorker.REQUEST, -1], [ToWorker.BODY, undefined], [ToWorker.BODY_END, 0], [ToWorker.ABORT, 0],
  [ToWorker.ACK, 4], [ToWorker.SHUTDOWN, 0], [ToWorker.FILE_OPENED, 0], [ToWorker.FILE_FAILED, 0],
  [ToWorker.FORK, undefined], [ToWorker.REPORT, 0],
]);

const EMPTY = Buffer.alloc(0);

export class FrameDecoder {
  readonly #sizes: Map<number, number | undefined>;
  #buf: Buffer = EMPTY;
  #pos = 0;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #error: WorkerProtocolError | null = null;

  /** Decodes frames the worker sends (default), or, for tests and tools, frames the master sends. */
  constructor(direction: Direction = 'from-worker') {
    this.#sizes = direction === 'from-worker' ? FROM_WORKER_SIZES : TO_WORKER_SIZES;
  }

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.#buf.length - this.#pos + this.#pendingBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#pos === this.#buf.length && this.#pending.length === 0) {
      this.#buf = chunk;
      this.#pos = 0;
    } else {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
    }
  }

  /**
   * Hands back every byte received but not yet returned as a frame, and empties the decoder:
   * after HELLO the rest of the first chunk belongs to the worker's channel, not to us.
   */
  takeBuffered(): Buffer {
    if (this.#pending.length > 0) this.#merge();
    const rest = this.#buf.subarray(this.#pos);
    this.#buf = EMPTY;
    this.#pos = 0;
    return rest;
  }

  /** The next complete frame, or null until more bytes are pushed. Throws WorkerProtocolError. */
  next(): Frame | null {
    if (this.#error !== null) throw this.#error;
    let available = this.#buf.length - this.#pos;
    if (available < FRAME_HEADER_BYTES) {
      if (available + this.#pendingBytes < FRAME_HEADER_BYTES) return null;
      available = this.#merge();
    }
    const buf = this.#buf;
    const pos = this.#pos;
    const length = buf.readUInt32LE(pos);
    const type = buf[pos + 8]!;
    this.#check(length, type, buf.readUInt32LE(pos + 4));
    const end = FRAME_HEADER_BYTES + length;
    if (available < end) {
      if (available + this.#pendingBytes < end) return null;
      this.#merge();
      return this.next();
    }
    this.#pos = pos + end;
    if (this.#pos === buf.length) {
      this.#buf = EMPTY;
      this.#pos = 0;
    }
    return { id: buf.readUInt32LE(pos + 4), type, payload: buf.subarray(pos + FRAME_HEADER_BYTES, pos + end) };
  }

  #check(length: number, type: number, id: number): void {
    let problem: string | null = null;
    if (length > MAX_FRAME_PAYLOAD_BYTES) {
      problem = `frame of ${length} bytes is over the ${MAX_FRAME_PAYLOAD_BYTES}-byte limit`;
    } else if (!this.#sizes.has(type)) {
      problem = `unknown frame type 0x${type.toString(16).padStart(2, '0')}`;
    } else {
      const size = this.#sizes.get(type);
      if (size !== undefined && (size >= 0 ? length !== size : length < -size)) {
        problem = `frame type 0x${type.toString(16)} must carry ${size >= 0 ? 'exactly' : 'at least'} ${Math.abs(size)} bytes, got ${length}`;
      }
    }
    if (problem !== null) {
      this.#error = new WorkerProtocolError(`${problem} (request id ${id})`);
      throw this.#error;
    }
  }

  /** Joins the unread rest of the current buffer with every pending chunk; returns its length. */
  #merge(): number {
    if (this.#pos === this.#buf.length && this.#pending.length === 1) {
      this.#buf = this.#pending[0]!;
    } else {
      const parts = [this.#buf.subarray(this.#pos), ...this.#pending];
      this.#buf = Buffer.concat(parts, this.#buf.length - this.#pos + this.#pendingBytes);
    }
    this.#pos = 0;
    this.#pending = [];
    this.#pendingBytes = 0;
    return this.#buf.length;
  }
}

/** HEAD block: latin1 "200 OK\0Name\0Value\0…". */
export function parseHeadBlock(payload: Buffer): HeadBlock {
  const parts = payload.toString('latin1').split('\0');
  if (parts.length % 2 !== 1) {
    throw new WorkerProtocolError(`head block has a header name without a value (${parts.length - 1} fields)`);
  }
  const status = parts[0]!;
  parts.shift();
  return { status, headers: parts };
}

/** FULL: headLen u32, head block, body (a subarray, not a copy). */
export function parseFull(payload: Buffer): { head: HeadBlock; body: Buffer } {
  if (payload.length < 4) throw new WorkerProtocolError(`FULL frame of ${payload.length} bytes has no head length`);
  const headLength = payload.readUInt32LE(0);
  if (headLength > payload.length - 4) {
    throw new WorkerProtocolError(`FULL frame head length ${headLength} exceeds its ${payload.length - 4} bytes`);
  }
  return { head: parseHeadBlock(payload.subarray(4, 4 + headLength)), body: payload.subarray(4 + headLength) };
}

export interface FileRange {
  /** The descriptor's number in the worker process (opened by the master as /proc/<pid>/fd/<fd>). */
  readonly fd: number;
  readonly offset: number;
  readonly length: number;
}

/** FILE: fd u32, offset u64, length u64; offsets beyond 2^53 cannot be a real file's. */
export function parseFile(payload: Buffer): FileRange {
  if (payload.length !== FILE_PAYLOAD_BYTES) {
    throw new WorkerProtocolError(`FILE frame must carry ${FILE_PAYLOAD_BYTES} bytes, got ${payload.length}`);
  }
  const offset = payload.readBigUInt64LE(4);
  const length = payload.readBigUInt64LE(12);
  if (offset + length > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new WorkerProtocolError(`FILE frame range ${offset}+${length} is beyond any file`);
  }
  return { fd: payload.readUInt32LE(0), offset: Number(offset), length: Number(length) };
}

/** CREDIT / ACK payload. */
export function parseU32(payload: Buffer): number {
  if (payload.length !== 4) throw new WorkerProtocolError(`expected a 4-byte count, got ${payload.length} bytes`);
  return payload.readUInt32LE(0);
}
