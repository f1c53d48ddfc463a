/**
 * Hot static files answered without resolving their path again: the 200 a plain GET got last
 * time, kept per request-target with the file's identity, and checked with one stat.
 *
 * Theory of operation: after the full static stage answered a plain GET (no Range, no If-*
 * field) with a whole small file from the SmallFileCache — no precompressed sibling (Vary), no
 * expiry rule (Expires moves with the clock) — the target's entry keeps the real path, the
 * file's identity and the 200's header fields. The next plain GET of that target stats the
 * real path (one statx, as the full stage does) and, when device, inode, size, mtime and ctime
 * are unchanged and the bytes are still cached, sends the kept header fields and the cached
 * bytes: what the full stage would send, since both depend only on that file version. Anything
 * else — another file there, a request with Range or a validator, a file gone — takes the
 * full stage, which also drops or refreshes the entry. One stat serves every request of the
 * same event-loop turn (cleared by setImmediate once the turn's I/O callbacks have run): those
 * requests were all received before the turn began, so each answer still follows a stat made
 * after its request arrived, and staleness is not widened; the answer that stat found is kept on
 * the entry for the rest of the turn too, so later requests skip the comparisons and lookups
 * (dropped with the turn, it never holds a body the cache let go). The saving is the path walk
 * (resolveInside), the MIME lookup and the header plan, about a third of the master's CPU per
 * 10 KiB request (docs/benchmarks.md). The answer itself is a KeptResponse (one per cached body,
 * in a WeakMap keyed by that body, so it is dropped with it): its head and joined bytes are made
 * once per Date second, and the HTTP front sends them for a plain keep-alive GET without routing
 * the request (keptFor, HttpFrontContext.hotStatic).
 */
import fs from 'node:fs';
import type { Exchange } from '../server/exchange.js';
import { KeptResponse } from '../server/kept-response.js';
import type { SmallFileCache } from './file-cache.js';
import type { AnswerKeeper, FileResponse } from './serve.js';

interface HotResponse {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly headers: readonly string[];
  /**
   * The answer this turn's stat found for this version (null before it): set with the stat and
   * cleared with it, so it never holds a body past the turn the cache still held it in.
   */
  kept: KeptResponse | null;
}

const MAX_ENTRIES = 4096;

/** True when the request carries Range or any If-* field: its answer may not be the plain 200. */
function conditional(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!;
    const c = n.charCodeAt(0) | 0x20;
    if (c === 0x69 /* i */ && n.length > 3 && (n.charCodeAt(1) | 0x20) === 0x66 && n.charCodeAt(2) === 0x2d) return true;
    if (c === 0x72 /* r */ && n.length === 5 && n.toLowerCase() === 'range') return true;
  }
  return false;
}

function sameFields(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class HotResponses implements AnswerKeeper {
  readonly #entries = new Map<string, HotResponse>();
  readonly #cache: SmallFileCache;
  /**
   * The ready response of each cached body (kept-response.ts): keyed by the body, so it lives
   * exactly as long as the cache keeps those bytes; targets of the same file version share it.
   */
  readonly #kept = new WeakMap<Buffer, KeptResponse>();
  /** Stats made in this event-loop turn, by path (null: no such file). */
  readonly #turnStats = new Map<string, fs.Stats | null>();
  /** Entries given their answer in this turn (their `kept` is dropped with the turn's stats). */
  readonly #checked: HotResponse[] = [];
  readonly #endTurn = (): void => {
    this.#turnStats.clear();
    for (const e of this.#checked) e.kept = null;
    this.#checked.length = 0;
  };

  constructor(cache: SmallFileCache) {
    this.#cache = cache;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Answers a plain GET from its entry; false (nothing sent) when the full stage must decide. */
  serve(ex: Exchange): boolean {
    if (ex.request.method !== 'GET') return false;
    const kept = this.keptFor(ex.request.target, ex.request.headers);
    if (kept === null) return false;
    const responder = ex.responder;
    // The cached bytes never change (a new file version is a new entry): shared.
    if (responder.sendKept !== undefined) responder.sendKept(kept);
    else responder.sendFull(kept.status, kept.headers, kept.body, true);
    return true;
  }

  /**
   * The kept 200 for a plain GET of `target` with these request fields, after this turn's stat
   * found the same file version; null when the full stage must decide.
   */
  keptFor(target: string, requestHeaders: readonly string[]): KeptResponse | null {
    if (this.#entries.size === 0) return null;
    const e = this.#entries.get(target);
    if (e === undefined || conditional(requestHeaders)) return null;
    // Checked already in this turn: the turn's one stat would find the same version again.
    if (e.kept !== null) return e.kept;
    const st = this.#stat(e.path);
    if (st === null || st.dev !== e.dev || st.ino !== e.ino || st.size !== e.size || st.mtimeMs !== e.mtimeMs || st.ctimeMs !== e.ctimeMs) {
      this.#entries.delete(target);
      return null;
    }
    const body = this.#cache.get(e.path, st);
    if (body === undefined) {
      this.#entries.delete(target);
      return null;
    }
    let kept = this.#kept.get(body);
    if (kept === undefined || kept.headers !== e.headers) {
      kept = new KeptResponse('200 OK', e.headers, body);
      this.#kept.set(body, kept);
    }
    // #stat scheduled #endTurn when it made this turn's first stat, so this is cleared with it.
    e.kept = kept;
    this.#checked.push(e);
    return kept;
  }

  #stat(path: string): fs.Stats | null {
    const known = this.#turnStats.get(path);
    if (known !== undefined) return known;
    const st = fs.statSync(path, { throwIfNoEntry: false }) ?? null;
    if (this.#turnStats.size === 0) setImmediate(this.#endTurn);
    this.#turnStats.set(path, st);
    return st;
  }

  /**
   * Called after the full stage answered `ex` with `file` (version `st`) and `headers`: keeps the
   * answer when it is the plain 200 of a whole cached file that the next plain GET would get
   * again. The caller offers only targets with one candidate file and no directory index, so
   * no file created later can take precedence over the one kept.
   */
  remember(ex: Exchange, file: FileResponse, st: fs.Stats, status: string, headers: readonly string[]): void {
    if (ex.request.method !== 'GET' || status !== '200 OK' || file.vary || file.contentEncoding !== null || file.cacheHeaders.length > 0) return;
    const body = conditional(ex.request.headers) ? undefined : this.#cache.get(file.path, st);
    if (body === undefined) return;
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    // Targets of one file version (a query string, another name) share its kept response.
    const known = this.#kept.get(body)?.headers;
    const fields = known !== undefined && sameFields(known, headers) ? known : headers;
    this.#entries.set(ex.request.target, { path: file.path, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, headers: fields, kept: null });
  }
}
