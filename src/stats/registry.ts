/**
 * The master's running totals for stats and metrics, fed only by the core's diagnostics channels.
 *
 * Theory of operation: every request the master answers (src/router/front.ts) and every record
 * a worker reports for its uwsgi-direct requests arrives here once, synchronously; the handler
 * adds to plain numbers and arrays indexed by worker slot, so the cost per request is a few
 * additions. Worker exits, recycling and new generations come on their own channels. Readers
 * (the stats document, /metrics) only read these numbers: a scrape never asks a worker.
 */
import diagnostics from 'node:diagnostics_channel';
import type { Exchange } from '../server/exchange.js';
import type { AppFailed, DirectDone, GenerationServing, WorkerGone, WorkerRecycled } from '../server/observe.js';
import type { ServedBy } from '../server/exchange.js';

/** Upper bounds (ms) of the latency histogram; +Inf is implied. */
export const LATENCY_BOUNDS_MS: readonly number[] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export const METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other'];

export const RESPAWN_CAUSES = ['crash', 'harakiri', 'max-requests', 'rss', 'lifetime', 'reload'] as const;
export type RespawnCause = (typeof RESPAWN_CAUSES)[number];

/** One 5xx answer or app exception, for berth.recent_errors. */
export interface RecentError {
  readonly time: number;
  readonly worker: number;
  readonly method: string;
  readonly uri: string;
  readonly status: number;
  traceback: string;
}

/** Per worker slot (uWSGI's worker id): what survives the slot's respawns. */
export interface SlotTotals {
  requests: number;
  exceptions: number;
  harakiri: number;
  respawns: number;
  tx: number;
  rtMicros: number;
  staticRequests: number;
}

const MAX_RECENT_ERRORS = 20;
/** How often, and how many times, a worker's output is searched for the traceback of a 500. */
const TRACEBACK_LOOK_MS = 200;
const TRACEBACK_LOOKS = 10;

/** The worker's recent output, where the traceback of a 500 was printed (WorkerHandle has it). */
interface WithOutput extends ServedBy { recentOutput?(): string }

function methodIndex(m: string): number {
  switch (m) {
    case 'GET': return 0;
    case 'HEAD': return 1;
    case 'POST': return 2;
    case 'PUT': return 3;
    case 'PATCH': return 4;
    case 'DELETE': return 5;
    case 'OPTIONS': return 6;
    default: return 7;
  }
}

/** The last Python traceback in a worker's output tail, or ''. */
export function lastTraceback(output: string): string {
  const at = output.lastIndexOf('Traceback (most recent call last):');
  if (at === -1) return '';
  const lines = output.slice(at).split('\n');
  const end = lines.findIndex((l, i) => i > 0 && l !== '' && !l.startsWith(' '));
  return lines.slice(0, end === -1 ? lines.length : end + 1).join('\n').slice(0, 8192);
}

export class StatsRegistry {
  /** By status class: index 1..5 (1xx..5xx), 0 = no status (the client went away). */
  readonly byClass = [0, 0, 0, 0, 0, 0];
  readonly byMethod = METHODS.map(() => 0);
  /** Non-cumulative counts per LATENCY_BOUNDS_MS bucket, last = +Inf. */
  readonly latencyCounts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  latencySumMs = 0;
  requests = 0;
  directRequests = 0;
  bytesOut = 0;
  bytesIn = 0;
  staticRequests = 0;
  static304 = 0;
  notModified = 0;
  readonly respawns = new Map<RespawnCause, number>(RESPAWN_CAUSES.map((c) => [c, 0]));
  readonly slots: SlotTotals[] = [];
  readonly recentErrors: RecentError[] = [];
  reloads = 0;
  #static = new WeakSet<Exchange>();
  /** The traceback of a request the app raised for, until its 500 is counted. */
  #tracebacks = new WeakMap<Exchange, string>();
  readonly #unsubscribe: (() => void)[] = [];

  constructor() {
    this.#on('berth:request-done', (m) => this.#request(m as Exchange, -1, 0));
    this.#on('berth:direct-done', (m) => {
      const d = m as DirectDone;
      this.directRequests++;
      this.#request(d.ex, d.micros, d.slot);
    });
    this.#on('berth:static', (m) => this.#static.add(m as Exchange));
    this.#on('berth:app-error', (m) => {
      const f = m as AppFailed;
      this.#tracebacks.set(f.ex, f.traceback);
    });
    this.#on('berth:worker-exit', (m) => this.#gone(m as WorkerGone));
    this.#on('berth:worker-recycle', (m) => this.#recycled(m as WorkerRecycled));
    this.#on('berth:generation', (m) => {
      const g = m as GenerationServing;
      if (g.generation > 1) {
        this.reloads++;
        this.#add('reload', g.processes);
        for (let slot = 1; slot <= g.processes; slot++) this.slot(slot).respawns++;
      } else {
        for (let slot = 1; slot <= g.processes; slot++) this.slot(slot).respawns = Math.max(1, this.slot(slot).respawns);
      }
    });
  }

  /** Stop listening (the stats server closed). */
  close(): void {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe.length = 0;
  }

  slot(id: number): SlotTotals {
    let s = this.slots[id];
    if (s === undefined) {
      s = { requests: 0, exceptions: 0, harakiri: 0, respawns: 0, tx: 0, rtMicros: 0, staticRequests: 0 };
      this.slots[id] = s;
    }
    return s;
  }

  #on(name: string, handler: (message: unknown) => void): void {
    diagnostics.subscribe(name, handler);
    this.#unsubscribe.push(() => diagnostics.unsubscribe(name, handler));
  }

  /** `micros` < 0: served through the master, timed from the Exchange's start until now. */
  #request(ex: Exchange, micros: number, directSlot: number): void {
    const us = micros >= 0 ? micros : (performance.now() - ex.startedAt) * 1000;
    const ms = us / 1000;
    const status = ex.status;
    this.requests++;
    this.byClass[status >= 100 && status < 600 ? (status / 100) | 0 : 0]!++;
    this.byMethod[methodIndex(ex.request.method)]!++;
    let b = 0;
    while (b < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[b]!) b++;
    this.latencyCounts[b]!++;
    this.latencySumMs += ms;
    this.bytesOut += ex.bytesSent;
    if (ex.body !== null) this.bytesIn += ex.body.totalBytes;
    if (status === 304) this.notModified++;
    const isStatic = micros < 0 && this.#static.has(ex);
    if (isStatic) {
      this.staticRequests++;
      if (status === 304) this.static304++;
    }
    const slot = directSlot > 0 ? directSlot : ex.workerId;
    if (slot > 0 && !isStatic) {
      const s = this.slot(slot);
      s.requests++;
      s.tx += ex.bytesSent;
      s.rtMicros += us;
      if (status >= 500) s.exceptions++;
    }
    if (status >= 500 && !isStatic) this.#error(ex, slot);
  }

  #error(ex: Exchange, slot: number): void {
    const reported = this.#tracebacks.get(ex);
    const entry: RecentError = { time: Math.floor(Date.now() / 1000), worker: slot, method: ex.request.method, uri: ex.request.target, status: ex.status, traceback: reported ?? '' };
    this.recentErrors.push(entry);
    if (this.recentErrors.length > MAX_RECENT_ERRORS) this.recentErrors.shift();
    if (reported !== undefined) return;
    // uwsgi-direct: the worker logged the traceback itself; it is in its recent output.
    const by = ex.servedBy as WithOutput | null;
    if (by === null || typeof by.recentOutput !== 'function') return;
    // Its output and its report travel on different pipes, and on a loaded machine the output can
    // come seconds later: look again until a traceback other than the one already there shows.
    const output = by.recentOutput.bind(by);
    const before = lastTraceback(output());
    let looks = 0;
    const look = (): void => {
      if (!this.recentErrors.includes(entry)) return; // pushed out of the list: nobody will read it
      const found = lastTraceback(output());
      if ((found !== '' && found !== before) || ++looks >= TRACEBACK_LOOKS) entry.traceback = found;
      else setTimeout(look, TRACEBACK_LOOK_MS).unref();
    };
    setTimeout(look, TRACEBACK_LOOK_MS).unref();
  }

  #gone(g: WorkerGone): void {
    const s = this.slot(g.slot);
    if (g.kind === 'harakiri') {
      s.harakiri++;
      this.#add('harakiri', 1);
    } else if (g.kind === 'crashed' || g.kind === 'crashed-before-ready' || g.kind === 'zygote-gone') {
      this.#add('crash', 1);
    } else {
      return;
    }
    s.respawns++;
  }

  #recycled(r: WorkerRecycled): void {
    const cause: RespawnCause = r.reason.startsWith('RSS') ? 'rss' : r.reason.startsWith('served') ? 'max-requests' : 'lifetime';
    this.#add(cause, 1);
    this.slot(r.slot).respawns++;
  }

  #add(cause: RespawnCause, n: number): void {
    this.respawns.set(cause, (this.respawns.get(cause) ?? 0) + n);
  }
}
