/**
 * Client sockets that read into one shared buffer (net's `onread`), and one reader per socket.
 *
 * Why: a stream socket's read costs a fresh 64 KiB allocation cut down to a copy, a Readable
 * push, a 'data' emit and a nextTick — most of the master's ~20 µs per slow client's one-byte
 * read (docs/benchmarks.md, session s12B). net.Server and the IPC hand-over build their sockets
 * without `onread`, so a fresh one is rebuilt on the same handle with it (Node 20's own
 * constructor path for `{ handle }`); a socket that cannot be (read from already, or a handle of
 * another shape) keeps its stream, read through a single 'data' listener. Either way its bytes
 * go to the reader set last with readWith(), and are valid only during that call: whatever
 * must outlive it is copied (the parsers copy a split head, RequestBody its chunks).
 */
import { Socket } from 'node:net';

/** A shared-read socket whose reader returns false stops reading (read-pacing.ts); a stream socket ignores it. */
export type Reader = (bytes: Buffer) => boolean | void;

const READ_BUFFER_BYTES = 64 * 1024;
/** Reads run one at a time on the loop, and each is handled before the next: one buffer serves all. */
const sharedBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
/** Views of the buffer's first n bytes, made once each: a slow client's read is a byte or a few. */
const SMALL_VIEWS = 256;
const views: (Buffer | undefined)[] = new Array<Buffer | undefined>(SMALL_VIEWS + 1);
const READER = Symbol('berth.reader');
const SHARED = Symbol('berth.sharedReads');
const VIA_DATA = Symbol('berth.readerViaData');

interface ReadingSocket extends Socket {
  [READER]?: Reader | null;
  [SHARED]?: true;
  [VIA_DATA]?: (chunk: Buffer) => void;
}

/** The parts of net.Socket the rebuild moves over (Node 20's lib/net.js). */
interface SocketInternals {
  _handle: { reading?: boolean; useUserBuffer?: unknown } | null;
  _server?: unknown;
  server?: unknown;
}

/**
 * The socket to use from now on: `socket` rebuilt to read into the shared buffer, or `socket`
 * itself when it has been read from or listened to, or its handle is not a stream handle.
 */
export function withSharedReads(socket: Socket): Socket {
  if ((socket as ReadingSocket)[SHARED] === true) return socket;
  const old = socket as Socket & SocketInternals;
  const handle = old._handle;
  if (handle === null || typeof handle !== 'object' || typeof handle.useUserBuffer !== 'function') return socket;
  if (old.destroyed || old.bytesRead > 0 || old.readableLength > 0 || old.listenerCount('data') > 0 || old.listenerCount('readable') > 0) return socket;
  const rebuilt = socketOfHandle(handle, socket.allowHalfOpen);
  const fresh = rebuilt as unknown as SocketInternals;
  // A socket from net.Server counts in its connections until it closes (server.close waits).
  if (old._server !== undefined && old._server !== null) {
    fresh._server = old._server;
    fresh.server = old.server;
    old._server = null;
  }
  // The old object must not touch the handle again: it now belongs to the rebuilt socket.
  old._handle = null;
  return rebuilt;
}

/**
 * A socket reading into the shared buffer, made straight from a stream handle no socket holds
 * yet (a hand-over's, sent as 'net.Native': one socket built per connection, not two).
 */
export function socketOfHandle(handle: object, allowHalfOpen: boolean): Socket {
  let made: ReadingSocket | null = null;
  const onread = { buffer: sharedBuffer, callback: (n: number): boolean | void => made![READER]?.(viewOf(n)) };
  const options = { handle, allowHalfOpen, readable: true, writable: true, onread };
  made = new Socket(options as unknown as ConstructorParameters<typeof Socket>[0]) as ReadingSocket;
  made[SHARED] = true;
  return made;
}

function viewOf(n: number): Buffer {
  if (n > SMALL_VIEWS) return sharedBuffer.subarray(0, n);
  return (views[n] ??= sharedBuffer.subarray(0, n));
}

/** From now on `socket`'s bytes go to `reader` (replacing the previous one, within a read too). */
export function readWith(socket: Socket, reader: Reader): void {
  const s = socket as ReadingSocket;
  s[READER] = reader;
  if (s[SHARED] === true || s[VIA_DATA] !== undefined) return;
  const viaData = (chunk: Buffer): void => { s[READER]?.(chunk); };
  s[VIA_DATA] = viaData;
  socket.on('data', viaData);
}

/**
 * For a consumer that listens for 'data' itself (the uwsgi front, the PROXY header reader): its
 * bytes come as 'data' events again, each a Buffer of its own.
 */
export function readAsStream(socket: Socket): void {
  const s = socket as ReadingSocket;
  if (s[SHARED] === true) {
    s[READER] = (bytes) => { socket.emit('data', Buffer.from(bytes)); };
    return;
  }
  s[READER] = null;
  if (s[VIA_DATA] !== undefined) socket.off('data', s[VIA_DATA]);
  delete s[VIA_DATA];
}

/** True when `socket` reads into the shared buffer (for tests and the bench). */
export function readsShared(socket: Socket): boolean {
  return (socket as ReadingSocket)[SHARED] === true;
}
