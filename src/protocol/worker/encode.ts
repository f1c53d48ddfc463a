/**
 * Master -> worker frame encoders (wire format: ./frames.ts).
 *
 * Theory of operation: every frame is a 9-byte header plus payload. Small frames are built
 * in one Buffer.allocUnsafe (pooled by Node below 4 KiB); request bodies are never copied:
 * `encodeBody` returns [header, chunk] so the caller writes (or writev's) both. The environ
 * travels as one latin1 string "K\0V\0K\0V" which the worker turns into a dict with a single
 * C-level split, so `environBlock` refuses anything that would corrupt that split.
 */
import { EnvironEncodingError } from './errors.js';
import { FRAME_HEADER_BYTES, REQUEST_FLAG_HAS_BODY, ToWorker } from './frames.js';

/** A 9-byte frame header: u32 payload length LE, u32 request id LE, u8 type. */
export function frameHeader(id: number, type: number, payloadLength: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(payloadLength, 0);
  header.writeUInt32LE(id, 4);
  header[8] = type;
  return header;
}

/** A whole frame in one buffer (copies the payload; for small frames and tests). */
export function encodeFrame(id: number, type: number, payload?: Buffer): Buffer {
  const length = payload === undefined ? 0 : payload.length;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  frame.writeUInt32LE(length, 0);
  frame.writeUInt32LE(id, 4);
  frame[8] = type;
  if (payload !== undefined) payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** REQUEST: flags byte, then the latin1 environ block (from `environBlock`). */
export function encodeRequest(id: number, environ: string, hasBody: boolean): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + environ.length);
  frame.writeUInt32LE(1 + environ.length, 0);
  frame.writeUInt32LE(id, 4);
  frame[8] = ToWorker.REQUEST;
  frame[9] = hasBody ? REQUEST_FLAG_HAS_BODY : 0;
  frame.write(environ, FRAME_HEADER_BYTES + 1, 'latin1');
  return frame;
}

/** BODY without copying the chunk: write both buffers in order (or pass them to writev). */
export function encodeBody(id: number, chunk: Buffer): [Buffer, Buffer] {
  return [frameHeader(id, ToWorker.BODY, chunk.length), chunk];
}

export function encodeBodyEnd(id: number): Buffer {
  return frameHeader(id, ToWorker.BODY_END, 0);
}

export function encodeAbort(id: number): Buffer {
  return frameHeader(id, ToWorker.ABORT, 0);
}

/** ACK: `bytes` of streamed response body (BODY frames) have left the master. */
export function encodeAck(id: number, bytes: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  frame.writeUInt32LE(4, 0);
  frame.writeUInt32LE(id, 4);
  frame[8] = ToWorker.ACK;
  frame.writeUInt32LE(bytes, FRAME_HEADER_BYTES);
  return frame;
}

/** FILE_OPENED: the master has the file body in hand; the worker closes and ends. */
export function encodeFileOpened(id: number): Buffer {
  return frameHeader(id, ToWorker.FILE_OPENED, 0);
}

/** FILE_FAILED: the master cannot open the file; the worker streams it as BODY frames. */
export function encodeFileFailed(id: number): Buffer {
  return frameHeader(id, ToWorker.FILE_FAILED, 0);
}

export function encodeShutdown(): Buffer {
  return frameHeader(0, ToWorker.SHUTDOWN, 0);
}

/** REPORT (id 0): a direct worker sends its DIRECT frame (served, running) now. */
export function encodeReport(): Buffer {
  return frameHeader(0, ToWorker.REPORT, 0);
}

/** FORK (to the zygote): fork the worker for `slot`. */
export function encodeFork(slot: number): Buffer {
  return encodeJsonFrame(slot, ToWorker.FORK, { slot });
}

/** A frame whose payload is JSON (the zygote's and forked workers' control frames; tests). */
export function encodeJsonFrame(id: number, type: number, value: unknown): Buffer {
  return encodeFrame(id, type, Buffer.from(JSON.stringify(value)));
}

// NUL would shift every later key/value in the worker's split; above U+00FF cannot be latin1.
const UNSENDABLE = /[\0\u0100-\uffff]/;
const NON_LATIN1 = /[\u0100-\uffff]/;

/**
 * Joins flat [key, value, key, value, …] pairs into the REQUEST environ block.
 * Cheap on the common path: one indexOf per item and one regex scan of the joined block;
 * only on failure do we look for the offending key to name it.
 */
export function environBlock(pairs: readonly string[]): string {
  if (pairs.length % 2 !== 0) {
    throw new EnvironEncodingError('', `environ pairs must come in key/value pairs, got ${pairs.length} items`);
  }
  for (let i = 0; i < pairs.length; i++) {
    if (pairs[i]!.indexOf('\0') !== -1) throw unsendable(pairs);
  }
  const block = pairs.join('\0');
  if (NON_LATIN1.test(block)) throw unsendable(pairs);
  return block;
}

function unsendable(pairs: readonly string[]): EnvironEncodingError {
  for (let i = 0; i < pairs.length; i += 2) {
    const key = pairs[i]!;
    for (const [what, text] of [['key', key], ['value', pairs[i + 1]!]] as const) {
      const match = UNSENDABLE.exec(text);
      if (match !== null) {
        const ch = match[0] === '\0' ? 'NUL' : `U+${match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
        return new EnvironEncodingError(key, `environ ${what} of ${JSON.stringify(key)} contains ${ch}, which cannot be sent to the worker`);
      }
    }
  }
  return new EnvironEncodingError('', 'environ block cannot be sent to the worker');
}
