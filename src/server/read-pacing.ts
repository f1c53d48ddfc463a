/**
 * Read pacing: a request that trickles in a few bytes per read is read every PACE_MS, not per read.
 *
 * Why: a slow-loris client (or a person typing a request) costs the master one read, one parse
 * step and its share of a wake-up per byte — ~26 µs of master CPU a byte (docs/benchmarks.md,
 * s12B, s14P). Once a request has shown it trickles (PACE_AFTER_READS reads of fewer than
 * SMALL_READ_BYTES each, the first of them at least PACE_AFTER_MS ago, and it is still not
 * complete), its socket stops reading after each read and one shared timer starts it again every
 * PACE_MS: the kernel holds what arrived meanwhile, and one read takes it all. A head that
 * arrives in a few segments, or fast, or in full-sized segments (an upload) is never paced, and a
 * paced one that reads a full-sized piece again is read at speed from then on. The
 * cost: a paced request's last bytes wait up to PACE_MS before they are read. Timeouts are the
 * connection's own and run on as before; the head's deadline is counted from its first byte.
 * Only sockets that read into the shared buffer are paced (the onread callback's `false`
 * stops the handle's reads without touching the stream's paused state, which stays the owner's).
 * One pacer per socket (readPacerOf), so the reads the front door's protocol sniff makes count
 * with the connection's own; a connection a worker handed over because its head was incomplete
 * (http-direct's 'partial': it has already arrived in pieces) is paced after fewer small reads,
 * PACE_HANDED_AFTER_READS — still never within PACE_AFTER_MS of its first.
 */
import type { Socket } from 'node:net';
import { readsShared } from './shared-reads.js';

/** Reads this small count as trickling: a real client's segments are ~1.4 KB, its heads a few hundred bytes in one. */
export const SMALL_READ_BYTES = 64;
/** Small reads in one request before it may be paced: a head in a handful of segments is not. */
export const PACE_AFTER_READS = 8;
/** …for a connection a worker handed over with its head incomplete: a head in three quick pieces still is not. */
export const PACE_HANDED_AFTER_READS = 3;
/** …and time since the first of them: a client writing its head in many tiny writes at once is not paced. */
export const PACE_AFTER_MS = 100;
/** How often a paced socket is read: the most a paced request's completion can wait. */
export const PACE_MS = 250;

const PACER = Symbol('berth.readPacer');
const waiting = new Set<Socket>();
let sweep: NodeJS.Timeout | null = null;
let stops = 0;

/** Times a socket was stopped to be read on the next sweep (tests and the bench). */
export function pacedStops(): number {
  return stops;
}

function resumeWaiting(): void {
  if (waiting.size === 0) {
    clearInterval(sweep!);
    sweep = null;
    return;
  }
  // A socket its owner paused (backpressure, an error answer) stays paused: the owner resumes it.
  for (const socket of waiting) if (!socket.destroyed && !socket.isPaused()) socket.resume();
  waiting.clear();
}

/** The socket's one pacer: the sniff's reads and the connection's count together. */
export function readPacerOf(socket: Socket): ReadPacer {
  const holder = socket as Socket & { [PACER]?: ReadPacer };
  return (holder[PACER] ??= new ReadPacer(socket));
}

/** One per connection: counts the current request's reads and says when to stop reading. */
export class ReadPacer {
  readonly #socket: Socket;
  readonly #shared: boolean;
  #afterReads = PACE_AFTER_READS;
  #smallReads = 0;
  #firstAt = 0;
  #paced = false;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.#shared = readsShared(socket);
  }

  /** http-direct: a worker handed the connection over because its head was not complete at once. */
  headCameInPieces(): void {
    this.#afterReads = PACE_HANDED_AFTER_READS;
  }

  /**
   * After a read of `bytes`; `arriving`: a request is still incomplete. False: the socket is to
   * stop reading (return it from the onread callback) until the next sweep.
   */
  keepReading(bytes: number, arriving: boolean): boolean {
    if (!arriving) {
      this.#smallReads = 0;
      this.#paced = false;
      return true;
    }
    if (bytes >= SMALL_READ_BYTES || !this.#shared) {
      // A full read means the bytes flow again (an upload past a slow patch): read it at speed,
      // or a 64 KiB read every PACE_MS would stall a big body.
      this.#smallReads = 0;
      this.#paced = false;
      return true;
    }
    if (!this.#paced) {
      if (this.#smallReads++ === 0) this.#firstAt = performance.now();
      if (this.#smallReads < this.#afterReads || performance.now() - this.#firstAt < PACE_AFTER_MS) return true;
      this.#paced = true;
    }
    stops++;
    waiting.add(this.#socket);
    if (sweep === null) {
      sweep = setInterval(resumeWaiting, PACE_MS);
    }
    return false;
  }
}
