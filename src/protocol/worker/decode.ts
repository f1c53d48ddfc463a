/**
 * Worker -> master frame decoding (wire format: ./frames.ts).
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
import { DIRECT_RECORD_HEAD_BYTES, FILE_PAYLOAD_BYTES, FRAME_HEADER_BYTES, FromWorker, MAX_FRAME_PAYLOAD_BYTES, ToWorker } from './frames.js';

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
  [FromWorker.RECYCLE, undefined],
]);
const TO_WORKER_SIZES = new Map<number, number | undefined>([
  [ToWorker.REQUEST, -1], [ToWorker.BODY, undefined], [ToWorker.BODY_END, 0], [ToWorker.ABORT, 0],
  [ToWorker.ACK, 4], [ToWorker.SHUTDOWN, 0], [ToWorker.FILE_OPENED, 0], [ToWorker.FILE_FAILED, 0],
  [ToWorker.FORK, undefined],
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

/**
 * Django's static/media settings as the worker read them for static-from-django (absolute
 * paths or null), or why it could not. Declared here, beside READY, because both worker/ (which
 * receives it) and static/ (which maps it) read it, and those layers may not import each other.
 */
export type DjangoStaticInfo =
  | {
    readonly static_url: string | null;
    readonly static_root: string | null;
    readonly media_url: string | null;
    readonly media_root: string | null;
    readonly installed_apps_has_admin: boolean;
    readonly debug: boolean;
  }
  | { readonly error: string };

export interface ReadyInfo {
  readonly pid: number;
  readonly executable: string;
  readonly version: string;
  readonly threads: number;
  readonly sys_path: string[];
  /** Present only when the master asked for Django's static settings; its shape is checked by the user. */
  readonly django?: unknown;
}

export type BootFailKind = 'import' | 'callable' | 'chdir' | 'config';

export interface BootFailInfo {
  readonly kind: BootFailKind;
  readonly message: string;
  readonly traceback: string;
  readonly executable: string;
  readonly sys_path: string[];
}

function parseJson(payload: Buffer, what: string): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch (cause) {
    throw new WorkerProtocolError(`${what} payload is not JSON: ${(cause as Error).message}`);
  }
}

function parseJsonObject(payload: Buffer, what: string): Record<string, unknown> {
  const value = parseJson(payload, what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WorkerProtocolError(`${what} payload is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function field<T>(obj: Record<string, unknown>, key: string, what: string, ok: (v: unknown) => boolean): T {
  if (!ok(obj[key])) throw new WorkerProtocolError(`${what} payload has a missing or bad "${key}"`);
  return obj[key] as T;
}

const isString = (v: unknown): boolean => typeof v === 'string';
const isStringArray = (v: unknown): boolean => Array.isArray(v) && v.every(isString);
const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;

export function parseReady(payload: Buffer): ReadyInfo {
  const o = parseJsonObject(payload, 'READY');
  return {
    pid: field(o, 'pid', 'READY', isCount),
    executable: field(o, 'executable', 'READY', isString),
    version: field(o, 'version', 'READY', isString),
    threads: field(o, 'threads', 'READY', isCount),
    sys_path: field(o, 'sys_path', 'READY', isStringArray),
    ...(o.django !== undefined ? { django: o.django } : {}),
  };
}

const BOOT_FAIL_KINDS: readonly unknown[] = ['import', 'callable', 'chdir', 'config'];

export function parseBootFail(payload: Buffer): BootFailInfo {
  const o = parseJsonObject(payload, 'BOOT_FAIL');
  return {
    kind: field(o, 'kind', 'BOOT_FAIL', (v) => BOOT_FAIL_KINDS.includes(v)),
    message: field(o, 'message', 'BOOT_FAIL', isString),
    traceback: field(o, 'traceback', 'BOOT_FAIL', isString),
    executable: field(o, 'executable', 'BOOT_FAIL', isString),
    sys_path: field(o, 'sys_path', 'BOOT_FAIL', isStringArray),
  };
}

/** MODULES: JSON list of the absolute paths of the app's loaded module files. */
export function parseModules(payload: Buffer): string[] {
  const value = parseJson(payload, 'MODULES');
  if (!isStringArray(value)) throw new WorkerProtocolError('MODULES payload is not a JSON list of strings');
  return value as string[];
}

export interface RecycleInfo {
  /** The worker's resident memory (bytes) when it looked, after a request. */
  readonly rss: number;
  /** reload-on-rss in bytes. */
  readonly limit: number;
}

const isByteCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/** RECYCLE: the worker's RSS passed reload-on-rss after a request. */
export function parseRecycle(payload: Buffer): RecycleInfo {
  const o = parseJsonObject(payload, 'RECYCLE');
  return { rss: field(o, 'rss', 'RECYCLE', isByteCount), limit: field(o, 'limit', 'RECYCLE', isByteCount) };
}

const isPid = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;

/** FORKED (zygote): the pid of the worker it forked for the frame's slot. */
export function parseForked(payload: Buffer): { readonly pid: number } {
  const o = parseJsonObject(payload, 'FORKED');
  return { pid: field(o, 'pid', 'FORKED', isPid) };
}

export interface ExitedInfo {
  /** null when fork() itself failed (then `error` says why). */
  readonly pid: number | null;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error?: string;
}

/** EXITED (zygote): how a forked worker ended, or {pid: null, error} when it could not be forked. */
export function parseExited(payload: Buffer): ExitedInfo {
  const o = parseJsonObject(payload, 'EXITED');
  const info: ExitedInfo = {
    pid: field(o, 'pid', 'EXITED', (v) => v === null || isPid(v)),
    code: field(o, 'code', 'EXITED', (v) => v === null || v === undefined || Number.isInteger(v)) ?? null,
    signal: field(o, 'signal', 'EXITED', (v) => v === null || v === undefined || (typeof v === 'string' && /^SIG[A-Z0-9]+$/.test(v))) ?? null,
  };
  if (o.error !== undefined) return { ...info, error: field(o, 'error', 'EXITED', isString) };
  if (info.pid === null) throw new WorkerProtocolError('EXITED payload without a pid must carry an "error"');
  return info;
}

/** HELLO (forked worker, first frame of its connection): who it claims to be. */
export function parseHello(payload: Buffer): { readonly pid: number; readonly token: string } {
  const o = parseJsonObject(payload, 'HELLO');
  return { pid: field(o, 'pid', 'HELLO', isPid), token: field(o, 'token', 'HELLO', isString) };
}

/** RELAY (uwsgi-direct): which socket the relayed connection reached, and from whom. */
export interface RelayInfo {
  readonly token: string;
  readonly listener: number;
  readonly peer: string;
  readonly port: number;
  /** The address and port the peer had reached ('' and 0 on a unix socket). */
  readonly local: string;
  readonly localPort: number;
}

export function parseRelay(payload: Buffer): RelayInfo {
  const o = parseJsonObject(payload, 'RELAY');
  return {
    token: field(o, 'token', 'RELAY', isString),
    listener: field(o, 'listener', 'RELAY', isCount),
    peer: field(o, 'peer', 'RELAY', isString),
    port: field(o, 'port', 'RELAY', isCount),
    local: field(o, 'local', 'RELAY', isString),
    localPort: field(o, 'local_port', 'RELAY', isCount),
  };
}

/** One request a worker served on a uwsgi socket itself (uwsgi-direct), for the access log. */
export interface DirectRecord {
  readonly status: number;
  readonly bytesSent: number;
  readonly micros: number;
  /** When it ended, wall clock (Date.now() scale). */
  readonly endWallMs: number;
  readonly modifier1: number;
  /** The packet's vars block as the peer sent it (pairs of u16-length-prefixed strings). */
  readonly vars: Buffer;
}

export interface DirectReport {
  /** Requests this worker served directly since it started. */
  readonly served: number;
  /** The requests running now: [seconds so far, method, uri]. */
  readonly running: readonly (readonly [number, string, string])[];
  readonly records: readonly DirectRecord[];
}

const isRunning = (v: unknown): boolean =>
  Array.isArray(v) && v.every((r) => Array.isArray(r) && r.length === 3 && typeof r[0] === 'number' && r[0] >= 0 && typeof r[1] === 'string' && typeof r[2] === 'string');

export function parseDirect(payload: Buffer): DirectReport {
  const metaLength = payload.readUInt32LE(0);
  if (metaLength > payload.length - 4) throw new WorkerProtocolError(`DIRECT frame: ${metaLength} bytes of JSON announced, ${payload.length - 4} present`);
  const o = parseJsonObject(payload.subarray(4, 4 + metaLength), 'DIRECT');
  const records: DirectRecord[] = [];
  let pos = 4 + metaLength;
  while (pos < payload.length) {
    if (payload.length - pos < DIRECT_RECORD_HEAD_BYTES) throw new WorkerProtocolError(`DIRECT frame: ${payload.length - pos} stray bytes after record ${records.length}`);
    const varsLength = payload.readUInt32LE(pos + 23);
    const end = pos + DIRECT_RECORD_HEAD_BYTES + varsLength;
    if (end > payload.length) throw new WorkerProtocolError(`DIRECT frame: record ${records.length} announces ${varsLength} bytes of vars, ${payload.length - pos - DIRECT_RECORD_HEAD_BYTES} present`);
    records.push({
      status: payload.readUInt16LE(pos),
      bytesSent: Number(payload.readBigUInt64LE(pos + 2)),
      micros: payload.readUInt32LE(pos + 10),
      endWallMs: payload.readDoubleLE(pos + 14),
      modifier1: payload[pos + 22]!,
      vars: payload.subarray(pos + DIRECT_RECORD_HEAD_BYTES, end),
    });
    pos = end;
  }
  return {
    served: field(o, 'served', 'DIRECT', isCount),
    running: field(o, 'running', 'DIRECT', isRunning),
    records,
  };
}

/** FORK (master -> zygote; for tests and tools). */
export function parseFork(payload: Buffer): { readonly slot: number } {
  const o = parseJsonObject(payload, 'FORK');
  return { slot: field(o, 'slot', 'FORK', isCount) };
}
