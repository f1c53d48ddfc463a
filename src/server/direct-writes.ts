/**
 * Writes to a plain TCP or pipe socket through its handle when nothing is queued on the stream.
 *
 * Why: socket.write runs Node's Writable machinery per call (writeOrBuffer, a WriteWrap with its
 * state, afterWrite on a nextTick), though a small write on the hot paths is taken by the kernel
 * at once. Here that write is one handle call (Node 20's own stream_wrap binding) and needs no
 * callback. A write the kernel did not take whole stays queued in libuv, in order with any later
 * write (libuv queues them); until it completes the socket reports itself not drained
 * (writableNeedDrain, a false return here, unsentBytes) and emits 'drain' after it, as a stream
 * write would. Anything else — TLS, a socket still connecting, corked, ending, with bytes on the
 * stream, or a Node without the binding — goes through socket.write.
 */
import { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

interface WriteReq {
  handle: unknown;
  oncomplete: (this: WriteReq, status: number) => void;
  buffer: Buffer | null;
  socket: DirectSocket;
  bytes: number;
}

interface StreamHandle {
  writeBuffer(req: WriteReq, data: Buffer): number;
  writeLatin1String(req: WriteReq, data: string): number;
  constructor: { name: string };
}

interface WritableInternals {
  length: number;
  corked: number;
  ending: boolean;
  destroyed: boolean;
  errored: unknown;
  needDrain: boolean;
}

const PENDING = Symbol('berth.directWritesPending');

interface DirectSocket extends Socket {
  _handle: StreamHandle | null;
  _writableState: WritableInternals;
  _unrefTimer(): void;
  timeout?: number;
  [PENDING]?: number;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

const binding = loadBinding();

function loadBinding(): StreamWrapBinding | null {
  try {
    const b = (process as unknown as { binding(name: string): Partial<StreamWrapBinding> }).binding('stream_wrap');
    if (typeof b.WriteWrap !== 'function' || !(b.streamBaseState instanceof Int32Array) || typeof b.kLastWriteWasAsync !== 'number') return null;
    return b as StreamWrapBinding;
  } catch {
    return null;
  }
}

/**
 * Writes `data` (a string as latin1) to `socket`. Returns as socket.write does: false when it is
 * not all with the kernel yet, and 'drain' follows.
 */
export function writeDirect(socket: Socket, data: Buffer | string): boolean {
  const s = socket as DirectSocket;
  if (binding === null || !takesDirect(s)) return writeThroughStream(s, data);
  const handle = s._handle!;
  const req = new binding.WriteWrap();
  req.handle = handle;
  req.oncomplete = onComplete;
  req.socket = s;
  req.buffer = null;
  req.bytes = 0;
  const err = typeof data === 'string' ? handle.writeLatin1String(req, data) : handle.writeBuffer(req, data);
  if (s.timeout) s._unrefTimer();
  if (err !== 0) {
    // As Node's own write error: the socket is destroyed with it, after this call returns.
    process.nextTick(destroyWith, s, writeError(err));
    return false;
  }
  if (binding.streamBaseState[binding.kLastWriteWasAsync] === 0) return true;
  // libuv holds a pointer to a Buffer's memory until the write completes.
  if (typeof data !== 'string') req.buffer = data;
  req.bytes = data.length;
  s[PENDING] = (s[PENDING] ?? 0) + req.bytes;
  s._writableState.needDrain = true;
  return false;
}

/** Bytes written to `socket` and not yet taken by the kernel: the stream's and the direct writes'. */
export function unsentBytes(socket: Socket): number {
  return socket.writableLength + ((socket as DirectSocket)[PENDING] ?? 0);
}

function takesDirect(s: DirectSocket): boolean {
  if (Object.getPrototypeOf(s) !== Socket.prototype || s.connecting || (s[PENDING] ?? 0) > 0) return false;
  const handle = s._handle;
  if (handle === null || handle === undefined) return false;
  const kind = handle.constructor.name;
  if (kind !== 'TCP' && kind !== 'Pipe') return false;
  const ws = s._writableState;
  return ws !== undefined && ws.length === 0 && ws.corked === 0 && !ws.ending && !ws.destroyed && !ws.errored;
}

/** While a direct write is pending the socket stays "not drained", whatever the stream says. */
function writeThroughStream(s: DirectSocket, data: Buffer | string): boolean {
  const ok = typeof data === 'string' ? s.write(data, 'latin1') : s.write(data);
  if ((s[PENDING] ?? 0) === 0) return ok;
  s._writableState.needDrain = true;
  return false;
}

function onComplete(this: WriteReq, status: number): void {
  const s = this.socket;
  s[PENDING] = (s[PENDING] ?? this.bytes) - this.bytes;
  this.buffer = null;
  if (s.destroyed) return;
  if (status < 0) {
    s.destroy(writeError(status));
    return;
  }
  if (s.timeout) s._unrefTimer();
  const ws = s._writableState;
  // The stream emits its own 'drain' when its bytes (written after this one) complete.
  if (s[PENDING] === 0 && ws.length === 0 && ws.needDrain && !ws.ending) {
    ws.needDrain = false;
    s.emit('drain');
  }
}

function destroyWith(s: DirectSocket, err: Error): void {
  if (!s.destroyed) s.destroy(err);
}

/** The error Node's own write reports: `write EPIPE`, with code, errno and syscall. */
function writeError(status: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(status);
  const err: NodeJS.ErrnoException = new Error(`write ${code}`);
  err.code = code;
  err.errno = status;
  err.syscall = 'write';
  return err;
}
