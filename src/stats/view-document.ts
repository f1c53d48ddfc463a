/** The stats document as `berth top` and the dashboard read it: uWSGI 2.0's stats JSON, plus Berth's optional `berth` key, read defensively. */
import type { RecentError } from './registry.js';

/** One worker as uWSGI's stats server reports it (times in µs, sizes in bytes). */
export interface WorkerView {
  readonly id: number;
  readonly pid: number;
  readonly status: string;
  readonly requests: number;
  readonly exceptions: number;
  readonly harakiriCount: number;
  readonly rss: number;
  readonly vsz: number;
  readonly respawnCount: number;
  readonly tx: number;
  /** Average response time in µs, as uWSGI computes it. */
  readonly avgRt: number;
  readonly runningTime: number;
  readonly lastSpawn: number;
}

export interface SocketView {
  readonly name: string;
  readonly proto: string;
  readonly queue: number;
  readonly maxQueue: number;
}

/** The same shape as the registry keeps (berth.recent_errors). */
export type { RecentError } from './registry.js';

/** Berth-only facts: every one may be missing (real uWSGI has no `berth` key at all). */
export interface BerthView {
  readonly generation: number | null;
  readonly reloads: number | null;
  readonly startedAt: number | null;
  readonly python: string | null;
  readonly recentErrors: readonly RecentError[];
}

export interface StatsView {
  readonly version: string;
  readonly pid: number;
  readonly listenQueue: number;
  readonly listenQueueErrors: number;
  readonly load: number;
  readonly sockets: readonly SocketView[];
  readonly workers: readonly WorkerView[];
  readonly berth: BerthView | null;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A count: any finite number, else 0 (a consumer must not crash on a peer's odd value). */
function num(o: Json, key: string): number {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function str(o: Json, key: string, fallback = ''): string {
  const v = o[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback;
}

function numOrNull(o: Json, key: string): number | null {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function objects(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function readBerth(v: unknown): BerthView | null {
  if (!isObject(v)) return null;
  const python = v['python'];
  return {
    generation: numOrNull(v, 'generation'),
    reloads: numOrNull(v, 'reloads'),
    startedAt: numOrNull(v, 'started_at'),
    python: typeof python === 'string' ? python : isObject(python) ? str(python, 'version', '') || null : null,
    recentErrors: objects(v['recent_errors']).map((e) => ({
      time: num(e, 'time'),
      worker: num(e, 'worker'),
      method: str(e, 'method'),
      uri: str(e, 'uri'),
      status: num(e, 'status'),
      traceback: str(e, 'traceback'),
    })),
  };
}

/** Reads a parsed stats document; throws a TypeError when it is not a JSON object with a `workers` array. */
export function readStatsView(doc: unknown): StatsView {
  if (!isObject(doc) || !Array.isArray(doc['workers'])) throw new TypeError('not a uWSGI stats document (no "workers" array)');
  return {
    version: str(doc, 'version', '?'),
    pid: num(doc, 'pid'),
    listenQueue: num(doc, 'listen_queue'),
    listenQueueErrors: num(doc, 'listen_queue_errors'),
    load: num(doc, 'load'),
    sockets: objects(doc['sockets']).map((s) => ({ name: str(s, 'name'), proto: str(s, 'proto'), queue: num(s, 'queue'), maxQueue: num(s, 'max_queue') })),
    workers: objects(doc['workers']).map((w) => ({
      id: num(w, 'id'),
      pid: num(w, 'pid'),
      status: str(w, 'status', '?'),
      requests: num(w, 'requests'),
      exceptions: num(w, 'exceptions'),
      harakiriCount: num(w, 'harakiri_count'),
      rss: num(w, 'rss'),
      vsz: num(w, 'vsz'),
      respawnCount: num(w, 'respawn_count'),
      tx: num(w, 'tx'),
      avgRt: num(w, 'avg_rt'),
      runningTime: num(w, 'running_time'),
      lastSpawn: num(w, 'last_spawn'),
    })),
    berth: readBerth(doc['berth']),
  };
}
