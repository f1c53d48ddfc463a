/**
 * The static-file stage of the router: Django's collected static files (STATIC_ROOT) and user
 * uploads (MEDIA_ROOT) served by Berth itself, with uWSGI's options.
 *
 * Theory of operation: only GET and HEAD are considered. The request path is matched against
 * the static-map/static-map2 mountpoints by whole decoded segments, longest mountpoint first
 * (equal ones in the order given, so several directories can back one prefix), then against
 * every check-static root. Each candidate goes through resolveInside, the only traversal-safe
 * join. A directory is served through its static-index file (redirected to its '/' form first,
 * as nginx does) and never listed. The first file found is served unless its extension is in
 * static-skip-ext; with static-gzip-all a precompressed .br/.gz sibling may be sent instead.
 * Nothing found → fallthrough() (the WSGI app), as uWSGI does — or 404 below a static-map
 * mountpoint with static-404. serve() never throws; it either answers or calls fallthrough()
 * exactly once.
 *
 * With static-from-django, addDjangoMappings() adds Django's STATIC and MEDIA settings as
 * static-map entries at run time (django-static.ts); Expires/Cache-Control rules and
 * Accept-Encoding are in expiry.ts.
 */
import type fs from 'node:fs';
import type { Config } from '../config/schema.js';
import type { Exchange } from '../server/exchange.js';
import type { KeptResponse } from '../server/kept-response.js';
import { SmallFileCache } from './file-cache.js';
import { HotResponses } from './hot-responses.js';
import { ValidatorsMemo } from './conditional.js';
import { MimeTypes } from './mime.js';
import { decodePath, resolveInside, VerifiedPaths, type ResolveOptions } from './resolve-inside.js';
import type { DjangoStaticInfo } from '../protocol/worker/payloads.js';
import { staticServed } from '../server/observe.js';
import { addDjangoMappings } from './django-static.js';
import { acceptsEncoding, ExpiryRules } from './expiry.js';
import { headerReader, sendPage, serveFile, type FileResponse, type ServeContext, type StaticLog } from './serve.js';

export { djangoMountpoint } from './django-static.js';
export { acceptsEncoding } from './expiry.js';

const MAX_REMEMBERED_MATCHES = 4096;

interface Mapping {
  readonly mountpoint: string;
  /** Decoded segments of the mountpoint ([] for '/'). */
  readonly segments: readonly string[];
  readonly root: string;
  readonly keepMountpoint: boolean;
}

interface Candidate {
  readonly root: string;
  /** Raw (percent-encoded) path below root: '' or starting with '/'. */
  readonly raw: string;
}

interface Match {
  readonly candidates: readonly Candidate[];
  /** Below some static-map mountpoint (decides static-404). */
  readonly mapped: boolean;
  readonly rawPath: string;
  /** '' or '?…'. */
  readonly query: string;
  /** Last decoded path segment: its extension decides the Content-Type. */
  readonly lastName: string;
}

interface Found {
  readonly root: string;
  readonly raw: string;
  readonly path: string;
  readonly stat: fs.Stats;
  /** Name whose extension decides the Content-Type. */
  readonly name: string;
}

export class StaticFiles {
  #maps: Mapping[];
  readonly #checkStatic: readonly string[];
  readonly #index: readonly string[];
  readonly #skipExt: readonly string[];
  readonly #expiry: ExpiryRules;
  readonly #gzip: boolean;
  readonly #safe: readonly string[];
  readonly #resolveOptions: ResolveOptions;
  readonly #static404: boolean;
  readonly #mime: MimeTypes;
  readonly #log: StaticLog;
  readonly #ctx: ServeContext;
  readonly #hot: HotResponses;
  /**
   * #match per request-target: hot files are asked for by the same few targets, and the
   * answer depends only on the target and the mappings. Bounded by starting over when full.
   */
  readonly #matches = new Map<string, Match>();
  #boundary = 0;
  #lastOutsideWarning = 0;
  #suppressed = 0;

  constructor(config: Config, log: StaticLog) {
    this.#log = log;
    const maps = config.staticMaps.map((m) => ({
      mountpoint: m.mountpoint,
      segments: m.mountpoint === '/' ? [] : m.mountpoint.slice(1).split('/'),
      root: m.root,
      keepMountpoint: m.keepMountpoint,
    }));
    // Longest mountpoint first; Array#sort is stable, so equal ones keep their order.
    this.#maps = maps.sort((a, b) => b.segments.length - a.segments.length);
    this.#checkStatic = config.checkStatic;
    this.#index = config.staticIndex;
    this.#skipExt = config.staticSkipExt.map((e) => e.toLowerCase());
    this.#expiry = new ExpiryRules(config);
    this.#gzip = config.staticGzipAll;
    this.#safe = config.staticSafe;
    this.#resolveOptions = { allowSymlinksInto: this.#safe, verified: new VerifiedPaths() };
    this.#static404 = config.static404;
    this.#mime = new MimeTypes(config.mimefiles, (file, err) => log('warn', `mimefile ${file} could not be read (${err.message}); using the built-in MIME types`));
    this.#ctx = { cache: new SmallFileCache({ maxBytes: config.staticCacheBytes, maxEntryBytes: Math.min(config.staticCacheMaxFileBytes, config.staticCacheBytes) }), validators: new ValidatorsMemo(), log, nextBoundary: () => ++this.#boundary };
    this.#hot = new HotResponses(this.#ctx.cache);
  }

  /** Targets answered from a kept 200 after one stat (hot-responses.ts). */
  get hotTargets(): number {
    return this.#hot.size;
  }

  /**
   * The kept 200 this stage would answer a plain keep-alive GET of `target` with (a hot file,
   * unchanged since: hot-responses.ts), or null when it must go through serve().
   */
  keptFor(target: string, requestHeaders: readonly string[]): KeptResponse | null {
    return this.#maps.length > 0 || this.#checkStatic.length > 0 ? this.#hot.keptFor(target, requestHeaders) : null;
  }

  /** Whether any static option is configured (otherwise the router can skip this stage). */
  get active(): boolean {
    return this.#maps.length > 0 || this.#checkStatic.length > 0;
  }

  /**
   * static-from-django: maps STATIC_URL→STATIC_ROOT and MEDIA_URL→MEDIA_ROOT as the worker
   * reported them (django-static.ts).
   */
  addDjangoMappings(info: DjangoStaticInfo | undefined): void {
    addDjangoMappings(info, this.#log, (mountpoint) => this.#maps.some((m) => m.mountpoint === mountpoint), (mountpoint, root) => {
      this.#maps.push({ mountpoint, segments: mountpoint.slice(1).split('/'), root, keepMountpoint: false });
      this.#maps.sort((a, b) => b.segments.length - a.segments.length);
      this.#matches.clear();
    });
  }

  serve(ex: Exchange, fallthrough: () => void): void {
    const method = ex.request.method;
    if ((method !== 'GET' && method !== 'HEAD') || !this.active) {
      fallthrough();
      return;
    }
    if (this.#hot.serve(ex)) {
      if (staticServed.hasSubscribers) staticServed.publish(ex);
      return;
    }
    const target = ex.request.target;
    let m = this.#matches.get(target);
    if (m === undefined) {
      m = this.#match(target);
      if (this.#matches.size >= MAX_REMEMBERED_MATCHES) this.#matches.clear();
      this.#matches.set(target, m);
    }
    if (m.candidates.length === 0) {
      // The common case for app requests: decided without touching the file system.
      if (this.#static404 && m.mapped) this.#notFound(ex);
      else fallthrough();
      return;
    }
    let passed = false;
    const pass = (): void => {
      if (passed) return;
      passed = true;
      fallthrough();
    };
    // Synchronous from here to the first byte written: every file-system call answers from
    // the kernel's caches, and each await would cost a promise and a microtask per request.
    try {
      this.#serve(ex, m, pass, 0);
      if (!passed && staticServed.hasSubscribers) staticServed.publish(ex);
    } catch (err) {
      this.#log('error', `static files: ${ex.request.method} ${ex.request.target}: ${(err as Error).message}`);
      if (!passed) ex.responder.sendError(500, 'Internal Server Error: see the server log.');
    }
  }

  /** Whether serve() would look for this file or static-404 it: what uwsgi-direct workers must relay. */
  claims(method: string, target: string): boolean {
    if ((method !== 'GET' && method !== 'HEAD') || !this.active) return false;
    const m = this.#matches.get(target) ?? this.#match(target);
    return m.mapped || m.candidates.length > 0;
  }

  /** Where a request-target may be found: mapped roots (longest mountpoint first), then check-static roots. */
  #match(target: string): Match {
    const q = target.indexOf('?');
    const query = q === -1 ? '' : target.slice(q);
    let rawPath = q === -1 ? target : target.slice(0, q);
    if (!rawPath.startsWith('/')) {
      // absolute-form (RFC 9112 §3.2.2): http://host/path
      const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(rawPath);
      if (m === null) return { candidates: [], mapped: false, rawPath, query, lastName: '' };
      rawPath = rawPath.slice(m[0].length) || '/';
    }
    const segments = decodePath(rawPath);
    const rawSegments = rawPath.slice(1).split('/');
    const candidates: Candidate[] = [];
    let mapped = false;
    for (const map of this.#maps) {
      if (segments === null) {
        // A refused path (traversal, NUL…) is looked up nowhere; it only decides static-404.
        if (map.mountpoint === '/' || rawPath === map.mountpoint || rawPath.startsWith(`${map.mountpoint}/`)) mapped = true;
        continue;
      }
      const n = map.segments.length;
      if (segments.length < n || map.segments.some((seg, i) => segments[i] !== seg)) continue;
      mapped = true;
      const rest = rawSegments.slice(n);
      candidates.push({ root: map.root, raw: map.keepMountpoint ? rawPath : rest.length === 0 ? '' : `/${rest.join('/')}` });
    }
    if (segments !== null) for (const root of this.#checkStatic) candidates.push({ root, raw: rawPath });
    let lastName = '';
    if (segments !== null) for (const seg of segments) if (seg !== '') lastName = seg;
    return { candidates, mapped, rawPath, query, lastName };
  }

  #serve(ex: Exchange, m: Match, fallthrough: () => void, attempt: number): void {
    for (const c of m.candidates) {
      const found = this.#find(ex, c, m);
      if (found === 'answered') return;
      if (found === null) continue;
      if (this.#skipped(found)) return fallthrough();
      const file = this.#representation(ex, found);
      if (ex.aborted) return;
      // Only a target with one possible file, not a directory's index, may skip the walk next time.
      const hot = m.candidates.length === 1 && found.raw === c.raw ? this.#hot : null;
      const result = serveFile(ex, file, this.#ctx, hot);
      if (result === 'changed') {
        // The path was replaced between the check and open(): check the new file once more,
        // from scratch (a remembered proof of the old path is dropped).
        this.#resolveOptions.verified?.forget(file.path);
        if (attempt === 0) return this.#serve(ex, m, fallthrough, 1);
        ex.responder.sendError(503, 'Service Unavailable: the file is being replaced; retry shortly.', 1);
      }
      return;
    }
    if (this.#static404 && m.mapped) this.#notFound(ex);
    else fallthrough();
  }

  #notFound(ex: Exchange): void {
    sendPage(ex, '404 Not Found');
  }

  /** The file for one candidate: itself, or a directory's index; 'answered' after a redirect. */
  #find(ex: Exchange, c: Candidate, m: Match): Found | 'answered' | null {
    const r = resolveInside(c.root, c.raw, this.#resolveOptions);
    if (r.ok) return { root: c.root, raw: c.raw, path: r.path, stat: r.stat, name: m.lastName !== '' ? m.lastName : r.path };
    if (r.reason === 'outside') {
      this.#warnOutside(ex.request.target, c.root);
      return null;
    }
    if (r.reason !== 'directory') return null;
    const dir = c.raw.endsWith('/') ? c.raw : `${c.raw}/`;
    for (const index of this.#index) {
      const raw = dir + encodeURIComponent(index);
      const ir = resolveInside(c.root, raw, this.#resolveOptions);
      if (!ir.ok) continue;
      if (!m.rawPath.endsWith('/')) {
        // nginx: a directory without its '/' is redirected, so relative links in the index work.
        sendPage(ex, '301 Moved Permanently', ['Location', `${m.rawPath}/${m.query}`]);
        return 'answered';
      }
      return { root: c.root, raw, path: ir.path, stat: ir.stat, name: index };
    }
    return null;
  }

  /** A symlink leading out of its root is a security event, but a client must not flood the log with it. */
  #warnOutside(target: string, root: string): void {
    const now = Date.now();
    if (now - this.#lastOutsideWarning < 10_000) {
      this.#suppressed++;
      return;
    }
    const more = this.#suppressed > 0 ? ` (${this.#suppressed} more since the last report)` : '';
    this.#lastOutsideWarning = now;
    this.#suppressed = 0;
    this.#log('warn', `static files: ${target} leads outside ${root} (a symlink?); refused${more} — add static-safe = <dir> if that directory may be served`);
  }

  #skipped(f: Found): boolean {
    if (this.#skipExt.length === 0) return false;
    const names = [f.path.toLowerCase(), f.name.toLowerCase()];
    return this.#skipExt.some((ext) => names.some((n) => n.endsWith(ext)));
  }

  #representation(ex: Exchange, f: Found): FileResponse {
    const contentType = this.#mime.lookup(f.name);
    const cacheHeaders = this.#expiry.headers(ex.request.target, f.path, contentType);
    let chosen: { path: string; stat: fs.Stats; encoding: 'gzip' | 'br' | null } = { path: f.path, stat: f.stat, encoding: null };
    let vary = false;
    if (this.#gzip) {
      const accept = headerReader(ex.request.headers)('accept-encoding');
      for (const [ext, coding] of [['.br', 'br'], ['.gz', 'gzip']] as const) {
        const sib = resolveInside(f.root, f.raw + ext, this.#resolveOptions);
        if (!sib.ok) continue;
        vary = true;
        if (chosen.encoding === null && acceptsEncoding(accept, coding)) chosen = { path: sib.path, stat: sib.stat, encoding: coding };
      }
    }
    return { path: chosen.path, stat: chosen.stat, contentType, contentEncoding: chosen.encoding, vary, cacheHeaders };
  }
}
