/**
 * The one traversal-safe join of a request path onto a static root.
 *
 * Theory of operation: resolveInside is THE one place where a request path becomes a file
 * path; nothing else in Berth joins untrusted text onto a directory.
 *
 * 1. Syntax, on the raw (still percent-encoded) path, segment by segment: each segment is
 *    percent-decoded exactly once (RFC 3986 §2.1; a second decoding would turn `%252e` into
 *    `.`), must be valid UTF-8, and is refused if it then is `.` or `..` (RFC 3986 §3.3 dot
 *    segments, also when spelt `%2e%2E`), contains `/` (an encoded `%2f` would smuggle a
 *    separator past the split), a backslash, NUL or another control character, or looks like
 *    a Windows drive (`C:`). Empty segments (`//etc/passwd`, `a//b`) are refused except a final
 *    one (the trailing `/` of a directory). So the lexical join cannot leave the root.
 * 2. Symlinks, on the file system: the joined path is realpath'ed and must equal, or lie
 *    below, realpath(root) — or below the realpath of one of the `static-safe` directories.
 *    Comparison is by whole path segments, so /srv/static2 is not inside /srv/static.
 * 3. Kind: only regular files are served. A directory is reported as such (the caller may try
 *    an index file); FIFOs, sockets and devices are "not found" (opening a FIFO would block).
 *
 * What remains is the window between this check and open(): the caller opens the returned
 * real path and compares the descriptor's inode with `stat` to notice a swap.
 *
 * A `VerifiedPaths` memo spares hot files steps 1 and 2 (a realpath costs an lstat per path
 * component, measured at a fifth of the master's time serving a 10 KiB file): once a request
 * path has been proven to lead inside, a later request for the same raw path below the same
 * root only stats the lexical path root/segments, and the memo
 * answers when that stat reaches the same inode that was proven: same device, inode number and
 * ctime (file systems hand a freed inode number to the next new file at once; a new file has a
 * new ctime). Any swap on the way — a directory replaced by a symlink, a new release behind a
 * `current` link, the file itself replaced — leads to another inode, which is resolved from
 * scratch. Reaching the same inode by another way serves the very bytes already allowed.
 */
import fs from 'node:fs';
import path from 'node:path';

export type ResolveResult =
  | { readonly ok: true; readonly path: string; readonly stat: fs.Stats }
  | { readonly ok: false; readonly reason: 'outside' | 'not-found' | 'directory' | 'bad-path' };

export interface ResolveOptions {
  /** Real directories that symlinks may lead into (static-safe). */
  readonly allowSymlinksInto: readonly string[];
  /** Resolutions already proven, for one fixed `allowSymlinksInto`. */
  readonly verified?: VerifiedPaths;
}

interface Verified {
  /** root joined with the decoded segments: the path that is stat'ed on a hit. */
  readonly lexical: string;
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly ctimeMs: number;
}

/**
 * Request path below a root → the real file it was proven to reach (see the theory of
 * operation). Keyed by the root and the raw request path as received, so a hit skips the
 * decoding and the join as well as the realpath: one Map lookup and one stat.
 */
export class VerifiedPaths {
  readonly #entries = new Map<string, Verified>();

  constructor(readonly maxEntries = 4096) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The proven real path and the fresh stat, when the path still reaches the proven inode. */
  check(root: string, requestPath: string): { path: string; stat: fs.Stats } | null {
    const key = root + '\0' + requestPath;
    const e = this.#entries.get(key);
    if (e === undefined) return null;
    const st = fs.statSync(e.lexical, { throwIfNoEntry: false });
    if (st === undefined || st.ino !== e.ino || st.ctimeMs !== e.ctimeMs || st.dev !== e.dev || !st.isFile()) {
      this.#entries.delete(key);
      return null;
    }
    return { path: e.path, stat: st };
  }

  /** Drops every proof that leads to `real` (it could not be opened as proven). */
  forget(real: string): void {
    for (const [key, e] of this.#entries) if (e.path === real) this.#entries.delete(key);
  }

  remember(root: string, requestPath: string, lexical: string, real: string, st: fs.Stats): void {
    // Bounded without bookkeeping: when full, the oldest proof goes (a Map iterates in insertion order).
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(root + '\0' + requestPath, { lexical, path: real, dev: st.dev, ino: st.ino, ctimeMs: st.ctimeMs });
  }
}

const BAD = { ok: false, reason: 'bad-path' } as const;
const NOT_FOUND = { ok: false, reason: 'not-found' } as const;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * Percent-decodes one segment exactly once; null when the encoding or the UTF-8 is invalid.
 * The fronts hand over the request-target as latin1 (one char per byte), so chars up to 0xFF
 * are bytes; anything above (only from callers inside Berth) is taken as text.
 */
function decodeSegment(raw: string): string | null {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(raw)) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return null;
      bytes.push(hi * 16 + lo);
      i += 2;
    } else if (c < 0x100) {
      bytes.push(c);
    } else {
      const cp = raw.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

function segmentIsSafe(seg: string): boolean {
  if (seg === '.' || seg === '..') return false;
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x2f || c === 0x5c) return false;
  }
  // "C:", "c:foo": a drive-relative path on Windows; never a name Berth serves.
  return !/^[A-Za-z]:/.test(seg);
}

/**
 * The decoded segments of a raw path ('' or starting with '/'), or null when it is refused.
 * A trailing '/' yields a final '' segment.
 */
export function decodePath(rawPath: string): string[] | null {
  if (rawPath === '') return [];
  if (rawPath.charCodeAt(0) !== 0x2f || rawPath.indexOf('\\') !== -1) return null;
  const raw = rawPath.slice(1).split('/');
  const out: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i]!;
    if (r === '') {
      if (i === raw.length - 1) {
        out.push('');
        continue;
      }
      return null;
    }
    const seg = decodeSegment(r);
    if (seg === null || seg === '' || !segmentIsSafe(seg)) return null;
    out.push(seg);
  }
  return out;
}

/** Whether `p` is `dir` or below it, comparing whole segments. */
export function isInside(dir: string, p: string): boolean {
  if (p === dir) return true;
  const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
  return p.startsWith(prefix);
}

/**
 * Synchronous on purpose: realpath and stat of local files answer from the kernel's caches
 * in microseconds, while each trip through libuv's thread pool costs tens of them on every
 * static request (nginx blocks on these calls the same way).
 */
function realpathOrNull(p: string): string | null {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return null;
  }
}

/**
 * Resolves `requestPath` (raw, percent-encoded, '' or starting with '/') below `root`.
 * Never throws: every failure is one of the four reasons.
 */
export function resolveInside(root: string, requestPath: string, opts: ResolveOptions): ResolveResult {
  const verified = opts.verified;
  if (verified !== undefined) {
    // Only files are remembered, and only for a path without a trailing '/'.
    const hit = verified.check(root, requestPath);
    if (hit !== null) return { ok: true, path: hit.path, stat: hit.stat };
  }
  const segments = decodePath(requestPath);
  if (segments === null) return BAD;
  const names = segments.filter((s) => s !== '');
  const trailingSlash = segments.length > 0 && segments[segments.length - 1] === '';
  const lexical = verified !== undefined && names.length > 0 ? path.join(root, ...names) : null;
  if (lexical !== null) {
    // A missing file (a .gz sibling that was never made) costs one stat, not two realpaths.
    try {
      if (fs.statSync(lexical, { throwIfNoEntry: false }) === undefined) return NOT_FOUND;
    } catch {
      return NOT_FOUND;
    }
  }
  const realRoot = realpathOrNull(root);
  if (realRoot === null) return NOT_FOUND;
  const joined = names.length === 0 ? realRoot : path.join(realRoot, ...names);
  const real = realpathOrNull(joined);
  if (real === null) return NOT_FOUND;
  if (!isInside(realRoot, real)) {
    let safe = false;
    for (const dir of opts.allowSymlinksInto) {
      const realSafe = realpathOrNull(dir);
      if (realSafe !== null && isInside(realSafe, real)) {
        safe = true;
        break;
      }
    }
    if (!safe) return { ok: false, reason: 'outside' };
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(real);
  } catch {
    return NOT_FOUND;
  }
  if (stat.isDirectory()) return { ok: false, reason: 'directory' };
  if (!stat.isFile()) return NOT_FOUND;
  // "/static/a.css/" names a directory; a file there is not what was asked for.
  if (trailingSlash) return NOT_FOUND;
  if (lexical !== null) verified!.remember(root, requestPath, lexical, real, stat);
  return { ok: true, path: real, stat };
}
