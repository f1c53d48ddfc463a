/**
 * Sends one resolved file through an Exchange's Responder, as nginx would (RFC 9110 §13, §14).
 *
 * Theory of operation: the answer is decided from the file's stat before any byte is read —
 * preconditions (412, 304), then Range (416, 206 single or multipart, or 200) — so HEAD, 304
 * and 416 never open the file. When a body is needed the file is opened (O_NOFOLLOW: the
 * real path has no symlink left, so a final component swapped for one is refused) and the
 * descriptor's fstat is compared with the stat the decision used: the same inode with a new
 * size or mtime (rewritten in place) is decided again from fstat; another inode means the path
 * was replaced since resolveInside checked it, and the caller resolves again ('changed').
 * Files up to static-cache-max-file (1 MiB) are read whole and cached; larger ones are streamed
 * in 256 KiB pieces, at most PIECES_AHEAD of them not yet flushed out of Berth's buffers, so
 * memory stays bounded whatever the file size and however slow the client. The descriptor is closed at the
 * end, on error, and when the client goes away.
 */
import fs from 'node:fs';
import type { Exchange } from '../server/exchange.js';
import { evaluatePreconditions, ifRangeAllows, type HeaderReader, type Validators, type ValidatorsMemo } from './conditional.js';
import type { SmallFileCache } from './file-cache.js';
import { contentRange, multipart, parseRange, type BodyPiece, type ByteRange } from './range.js';

export type StaticLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface FileResponse {
  /** Real path of the file whose bytes are sent (the .br/.gz sibling when precompressed). */
  readonly path: string;
  /** Its stat from resolveInside. */
  readonly stat: fs.Stats;
  /** Content-Type of the requested name (not of the .gz sibling). */
  readonly contentType: string;
  readonly contentEncoding: 'gzip' | 'br' | null;
  /** A precompressed sibling exists, so the answer depends on Accept-Encoding. */
  readonly vary: boolean;
  /** Flat Expires / Cache-Control pairs from the expiry rules. */
  readonly cacheHeaders: readonly string[];
}

/** Told about each whole 200 sent from cached bytes (hot-responses.ts keeps them). */
export interface AnswerKeeper {
  remember(ex: Exchange, file: FileResponse, st: fs.Stats, status: string, headers: readonly string[]): void;
}

export interface ServeContext {
  readonly cache: SmallFileCache;
  readonly validators: ValidatorsMemo;
  readonly log: StaticLog;
  /** The next multipart boundary number (nginx counts them per process). */
  nextBoundary(): number;
}

const CHUNK = 256 * 1024;
/**
 * Pieces sent but not yet flushed. Waiting for each piece to flush before reading the next
 * left the socket idle between pieces (1 MiB files at 0.4x nginx); a few pieces ahead keep it
 * busy while memory stays bounded (1 MiB per response).
 */
const PIECES_AHEAD = 4;
const EMPTY = Buffer.alloc(0);
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/** Case-insensitive lookup in flat request headers; repeated fields are joined with ", ". */
export function headerReader(headers: readonly string[]): HeaderReader {
  return (lower) => {
    let out: string | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      const n = headers[i]!;
      if (n.length === lower.length && n.toLowerCase() === lower) out = out === undefined ? headers[i + 1]! : `${out}, ${headers[i + 1]!}`;
    }
    return out;
  };
}

/** A short HTML body for the statuses Berth answers itself (301, 404, 412, 416). */
function errorPage(status: string): Buffer {
  return Buffer.from(`<html>\r\n<head><title>${status}</title></head>\r\n<body>\r\n<center><h1>${status}</h1></center>\r\n<hr><center>berth</center>\r\n</body>\r\n</html>\r\n`, 'latin1');
}

/** Answers `status` with its HTML page; `headers` follow Content-Type. */
export function sendPage(ex: Exchange, status: string, headers: readonly string[] = []): void {
  ex.responder.sendFull(status, ['Content-Type', 'text/html; charset=utf-8', ...headers], errorPage(status));
}

type Plan =
  | { readonly kind: 'answered' }
  | { readonly kind: 'body'; readonly status: string; readonly headers: string[]; readonly pieces: readonly BodyPiece[] };

/** Decides the response from `st`; answers the bodiless ones (304, 412, 416, HEAD) at once. */
function plan(ex: Exchange, file: FileResponse, st: fs.Stats, ctx: ServeContext): Plan {
  const header = headerReader(ex.request.headers);
  const v: Validators = ctx.validators.of(st);
  const common = ['Last-Modified', v.lastModified, 'ETag', v.etag];
  const tail: string[] = [];
  if (file.vary) tail.push('Vary', 'Accept-Encoding');
  tail.push(...file.cacheHeaders);

  const pre = evaluatePreconditions(header, v);
  if (pre === 'failed') {
    sendPage(ex, '412 Precondition Failed');
    return { kind: 'answered' };
  }
  if (pre === 'not-modified') {
    // RFC 9110 §15.4.5: the validators and the cache headers a 200 would carry, no content
    // headers. sendHead+sendEnd rather than sendFull, which would add Content-Length: 0 (§8.6:
    // a 304's Content-Length must be the 200's length, so nginx sends none).
    if (ex.responder.sendHead('304 Not Modified', [...common, ...tail])) ex.responder.sendEnd();
    return { kind: 'answered' };
  }

  const size = st.size;
  const rangeHeader = header('range');
  const decision = rangeHeader !== undefined && ifRangeAllows(header, v) ? parseRange(rangeHeader, size) : { kind: 'full' as const };
  if (decision.kind === 'unsatisfiable') {
    sendPage(ex, '416 Requested Range Not Satisfiable', ['Content-Range', `bytes */${size}`]);
    return { kind: 'answered' };
  }
  const encoding = file.contentEncoding !== null ? ['Content-Encoding', file.contentEncoding] : [];
  let status: string;
  let headers: string[];
  let pieces: BodyPiece[];
  if (decision.kind === 'full') {
    status = '200 OK';
    headers = ['Content-Type', file.contentType, 'Content-Length', String(size), ...common, 'Accept-Ranges', 'bytes', ...encoding, ...tail];
    pieces = size > 0 ? [{ range: { start: 0, end: size } }] : [];
  } else if (decision.ranges.length === 1) {
    const r = decision.ranges[0]!;
    status = '206 Partial Content';
    headers = ['Content-Type', file.contentType, 'Content-Length', String(r.end - r.start), ...common, 'Content-Range', contentRange(r, size), ...encoding, ...tail];
    pieces = [{ range: r }];
  } else {
    const mp = multipart(decision.ranges, size, file.contentType, ctx.nextBoundary());
    status = '206 Partial Content';
    headers = ['Content-Type', mp.contentType, 'Content-Length', String(mp.length), ...common, ...encoding, ...tail];
    pieces = [...mp.pieces];
  }
  if (ex.request.method === 'HEAD') {
    ex.responder.sendFull(status, headers, EMPTY);
    return { kind: 'answered' };
  }
  return { kind: 'body', status, headers, pieces };
}

function sameVersion(a: fs.Stats, b: fs.Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}

function sameFile(a: fs.Stats, b: fs.Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Joins the pieces' bytes from a whole-file buffer: `data` itself for the whole file. */
function assemble(data: Buffer, pieces: readonly BodyPiece[]): Buffer {
  if (pieces.length === 1 && 'range' in pieces[0]!) {
    const r = pieces[0].range;
    return r.start === 0 && r.end === data.length ? data : data.subarray(r.start, r.end);
  }
  return Buffer.concat(pieces.map((p) => ('literal' in p ? p.literal : data.subarray(p.range.start, p.range.end))));
}

function readWhole(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const bytesRead = fs.readSync(fd, buf, off, size - off, off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off === size ? buf : buf.subarray(0, off);
}

/**
 * Serves `file` on `ex`. Returns 'changed' (having sent nothing) when the path no longer
 * leads to the file that was resolved, so the caller resolves again; otherwise 'served'.
 * Never throws: an I/O error before the head is a 500, after it a cut connection.
 */
export function serveFile(ex: Exchange, file: FileResponse, ctx: ServeContext, hot: AnswerKeeper | null = null): 'served' | 'changed' {
  // open, fstat, read and close are synchronous like resolveInside's calls: page-cache hits
  // that cost microseconds, where each trip through libuv's thread pool costs tens of them.
  let fd: number | null = null;
  try {
    if (ex.aborted) return 'served';
    let st = file.stat;
    const small = st.size <= ctx.cache.maxEntryBytes;
    const cached = small ? ctx.cache.get(file.path, st) : undefined;
    let p = plan(ex, file, st, ctx);
    if (p.kind === 'answered') return 'served';
    if (cached !== undefined) {
      // The cached bytes never change (a new file version is a new entry): shared.
      ex.responder.sendFull(p.status, p.headers, assemble(cached, p.pieces), true);
      hot?.remember(ex, file, st, p.status, p.headers);
      return 'served';
    }
    try {
      fd = fs.openSync(file.path, OPEN_FLAGS);
    } catch (err) {
      // Gone (or swapped for a symlink: O_NOFOLLOW) since it was resolved: resolve again.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return 'changed';
      throw err;
    }
    const fst = fs.fstatSync(fd);
    if (!fst.isFile() || !sameFile(fst, st)) return 'changed';
    if (!sameVersion(fst, st)) {
      // Rewritten in place between stat and open: decide again from what the descriptor holds.
      st = fst;
      p = plan(ex, file, st, ctx);
      if (p.kind === 'answered') return 'served';
    }
    if (ex.aborted) return 'served';
    if (st.size <= ctx.cache.maxEntryBytes) {
      const data = readWhole(fd, st.size);
      if (data.length !== st.size) throw new Error(`${file.path} shrank while it was read`);
      ctx.cache.set(file.path, st, data);
      ex.responder.sendFull(p.status, p.headers, assemble(data, p.pieces), true);
      hot?.remember(ex, file, st, p.status, p.headers);
      return 'served';
    }
    if (!ex.responder.sendHead(p.status, p.headers)) return 'served';
    new FileStream(ex, fd, p.pieces, file.path, ctx.log).start();
    fd = null; // the stream owns it now
    return 'served';
  } catch (err) {
    ctx.log('error', `static file ${file.path}: ${(err as Error).message}`);
    ex.responder.sendError(500, 'Internal Server Error: a static file could not be read; see the server log.');
    return 'served';
  } finally {
    if (fd !== null) closeQuietly(fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* EINTR/EIO on close of a read-only descriptor: nothing left to do */
  }
}

/** Streams file ranges and literal framing in 256 KiB pieces, at most PIECES_AHEAD unflushed. */
class FileStream {
  readonly #ex: Exchange;
  readonly #fd: number;
  readonly #pieces: readonly BodyPiece[];
  readonly #path: string;
  readonly #log: StaticLog;
  #index = 0;
  /** Next byte to read within the current range piece. */
  #pos = -1;
  #inFlight = 0;
  #stepping = false;
  #again = false;
  #closed = false;

  constructor(ex: Exchange, fd: number, pieces: readonly BodyPiece[], path: string, log: StaticLog) {
    this.#ex = ex;
    this.#fd = fd;
    this.#pieces = pieces;
    this.#path = path;
    this.#log = log;
  }

  start(): void {
    this.#ex.onAbort = () => this.#stop();
    this.#next();
  }

  /**
   * Asks for the next piece. `flushed` may fire synchronously (the kernel took the bytes at
   * once), so re-entrant calls are turned into another turn of this loop instead of recursion
   * (a 1 GB file would otherwise nest thousands of frames deep).
   */
  #next = (): void => {
    if (this.#stepping) {
      this.#again = true;
      return;
    }
    this.#stepping = true;
    do {
      this.#again = false;
      this.#step();
    } while ((this.#again || this.#inFlight < PIECES_AHEAD) && !this.#closed);
    this.#stepping = false;
  };

  #flushedOne = (): void => {
    this.#inFlight--;
    this.#next();
  };

  #step(): void {
    if (this.#closed) return;
    if (this.#ex.aborted) return this.#stop();
    const piece = this.#pieces[this.#index];
    if (piece === undefined) {
      this.#ex.onAbort = null;
      this.#ex.responder.sendEnd();
      this.#stop();
      return;
    }
    if ('literal' in piece) {
      this.#index++;
      this.#inFlight++;
      this.#ex.responder.sendBody(piece.literal, this.#flushedOne);
      return;
    }
    this.#read(piece.range);
  }

  #read(r: ByteRange): void {
    if (this.#pos < 0) this.#pos = r.start;
    const len = Math.min(CHUNK, r.end - this.#pos);
    const buf = Buffer.allocUnsafe(len);
    // A synchronous read from the page cache costs less than a trip through libuv's thread
    // pool; pieces past PIECES_AHEAD wait until earlier ones have been flushed.
    let bytesRead: number;
    try {
      bytesRead = fs.readSync(this.#fd, buf, 0, len, this.#pos);
    } catch (err) {
      this.#fail(err as Error);
      return;
    }
    if (bytesRead === 0) return this.#fail(new Error(`file shrank to ${this.#pos} bytes while it was sent`));
    this.#pos += bytesRead;
    if (this.#pos >= r.end) {
      this.#index++;
      this.#pos = -1;
    }
    this.#inFlight++;
    this.#ex.responder.sendBody(bytesRead === len ? buf : buf.subarray(0, bytesRead), this.#flushedOne);
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#log('error', `static file ${this.#path}: ${err.message}; the response was cut`);
    this.#ex.onAbort = null;
    this.#ex.responder.sendError(500, 'static file read failed');
    this.#stop();
  }

  /** Closes the descriptor, once (reads are synchronous, so none can be in flight). */
  #stop(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ex.onAbort = null;
    closeQuietly(this.#fd);
  }
}
