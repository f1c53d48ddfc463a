/**
 * The stats document: uWSGI 2.0's JSON shape (every key it emits, same types and units), built
 * from the registry's totals and the master's live facts, plus Berth's own facts under "berth".
 *
 * Units as in uWSGI: rss/vsz bytes, running_time and avg_rt µs, last_spawn and times unix
 * seconds; integers only (uwsgi_exporter fails a whole scrape on a float). In-flight request
 * vars never carry Cookie, Authorization, Proxy-Authorization or stats-redact headers unless
 * stats-show-secrets; config values whose option names a secret are masked likewise.
 */
import type { Config } from '../config/schema.js';
import type { Exchange } from '../server/exchange.js';
import type { ListenAddress } from '../config/schema.js';
import type { WorkerHandle } from '../worker/handle.js';
import type { UpstreamFacts } from '../proxy/proxy-stage.js';
import { readListenQueues, readProcMemory } from './proc-facts.js';
import { LATENCY_BOUNDS_MS, METHODS, RESPAWN_CAUSES, type RecentError, type StatsRegistry } from './registry.js';

/** The master's live facts (Arbiter.observed). */
export interface StatsSource {
  readonly workers: readonly WorkerHandle[];
  readonly generation: number;
  readonly queued: number;
  readonly refused: number;
  readonly inFlight: number;
  readonly config: Config;
  readonly python: string;
  readonly startedAt: number;
  /** Every listening socket: the master's and those the workers accept on (uwsgi-direct). */
  readonly listeners: readonly { readonly address: ListenAddress; readonly port: number; readonly display: string }[];
  /** The side programs now (src/supervise/ Program.status(), given by cli), none when there are none. */
  readonly programs?: readonly ProgramFacts[];
  /** The proxy's upstream groups and backends (state up/out/down, requests, failures, in flight); absent: none. */
  readonly upstreams?: readonly UpstreamFacts[];
}

/** One side program as the stats document shows it under berth.programs. */
export interface ProgramFacts {
  readonly name: string;
  readonly program: string;
  readonly state: string;
  readonly pid: number | null;
  readonly ready: boolean;
  readonly restarts: number;
  readonly uptimeMs: number;
  readonly exitCode: number | null;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type StatsDocument = { [key: string]: Json };

const ALWAYS_HIDDEN = ['cookie', 'authorization', 'proxy-authorization'];
const SECRET_OPTION = /pass|secret|key|token/i;
export const MASK = '********';
/** uWSGI's lock names; Berth takes none of these locks, so each is 0. */
const LOCKS = ['user 0', 'signal', 'filemon', 'timer', 'rbtimer', 'cron', 'rpc', 'snmp'];

const int = (n: number): number => (Number.isFinite(n) ? Math.max(0, Math.round(n)) : 0);

export interface DocumentOptions {
  readonly version: string;
  readonly noCores: boolean;
  readonly redact: readonly string[];
  readonly showSecrets: boolean;
}

/** uWSGI's state words: busy while a request runs, idle when ready, cheap when not accepting. */
function statusOf(w: WorkerHandle | null): string {
  if (w === null || w.state !== 'READY') return w !== null && w.load > 0 ? 'busy' : 'cheap';
  return w.load > 0 ? 'busy' : 'idle';
}

function varsOf(ex: Exchange, hidden: ReadonlySet<string>): string[] {
  const r = ex.request;
  const q = r.target.indexOf('?');
  const vars = [
    `REQUEST_METHOD=${r.method}`, `REQUEST_URI=${r.target}`, `PATH_INFO=${q === -1 ? r.target : r.target.slice(0, q)}`,
    `QUERY_STRING=${q === -1 ? '' : r.target.slice(q + 1)}`, `SERVER_PROTOCOL=HTTP/1.${r.versionMinor}`,
    `REMOTE_ADDR=${r.remoteAddress}`, `REMOTE_PORT=${r.remotePort}`,
  ];
  const h = r.headers;
  for (let i = 0; i + 1 < h.length; i += 2) {
    const name = h[i]!.toLowerCase();
    const key = `HTTP_${name.toUpperCase().replace(/-/g, '_')}`;
    vars.push(hidden.has(name) ? `${key}=${MASK}` : `${key}=${h[i + 1]!}`);
  }
  return vars;
}

/** The options as written, with secrets masked: option names with pass/secret/key/token, and env values. */
export function maskedConfig(written: Config['written'], showSecrets: boolean): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [name, value] of Object.entries(written)) {
    const mask = (v: string): string => {
      if (showSecrets) return v;
      if (SECRET_OPTION.test(name)) return MASK;
      if (name === 'env') return v.includes('=') ? `${v.slice(0, v.indexOf('='))}=${MASK}` : MASK;
      return v;
    };
    out[name] = typeof value === 'string' ? mask(value) : value.map(mask);
  }
  return out;
}

export function buildStatsDocument(source: StatsSource, reg: StatsRegistry, opts: DocumentOptions): StatsDocument {
  const c = source.config;
  const hidden = new Set(opts.showSecrets ? opts.redact : [...ALWAYS_HIDDEN, ...opts.redact]);
  const now = Date.now();
  const kernelQueues = readListenQueues();
  const sockets = source.listeners.map((l) => {
    const queue = l.address.kind === 'tcp' ? kernelQueues.get(l.port) ?? 0 : 0;
    return { name: l.display, proto: l.address.via === 'socket' ? 'uwsgi' : 'http', queue, max_queue: c.listen, shared: 0, can_offload: 0 };
  });
  const listenQueue = sockets.reduce((n, s) => n + s.queue, 0) + source.queued;

  // One entry per slot (uWSGI's worker id): the newest generation's process in that slot.
  const bySlot = new Map<number, WorkerHandle>();
  for (const w of source.workers) {
    const had = bySlot.get(w.slot);
    if (had === undefined || w.generation > had.generation) bySlot.set(w.slot, w);
  }
  const slotCount = Math.max(c.processes, ...bySlot.keys());
  const workers: Json[] = [];
  const berthWorkers: Json[] = [];
  for (let id = 1; id <= slotCount; id++) {
    const w = bySlot.get(id) ?? null;
    const t = reg.slot(id);
    const pid = w?.ready?.pid ?? w?.pid ?? 0;
    const mem = readProcMemory(w !== null ? w.pid : 0);
    // What the threads run: requests sent by the master (with their headers), then the
    // uwsgi-direct ones of the worker's last report (method and URI only).
    const running: { vars: string[]; startMs: number }[] = (w?.inFlight() ?? []).map((r) => ({ vars: varsOf(r.ex, hidden), startMs: now - (performance.now() - r.sentAt) }));
    if (w !== null) {
      const d = w.directRunning;
      for (const [seconds, method, uri] of d.running) running.push({ vars: [`REQUEST_METHOD=${method}`, `REQUEST_URI=${uri}`], startMs: now - (performance.now() - d.at) - seconds * 1000 });
    }
    const cores: Json[] = [];
    for (let core = 0; core < (w?.capacity ?? c.threads); core++) {
      const r = running[core];
      cores.push({
        id: core, requests: core === 0 ? t.requests : 0, static_requests: 0, routed_requests: 0, offloaded_requests: 0,
        write_errors: 0, read_errors: 0, in_request: r !== undefined ? 1 : 0,
        vars: r !== undefined ? r.vars : [],
        req_info: r !== undefined ? { request_start: int(r.startMs / 1000) } : {},
      });
    }
    const entry: { [key: string]: Json } = {
      id, pid, accepting: w !== null && w.state === 'READY' ? 1 : 0, requests: t.requests, delta_requests: w?.requestsServed ?? 0,
      exceptions: t.exceptions, harakiri_count: t.harakiri, signals: 0, signal_queue: 0, status: statusOf(w),
      rss: mem.rss, vsz: mem.vsz, running_time: int(t.rtMicros), last_spawn: int((w?.spawnedAt ?? 0) / 1000),
      respawn_count: Math.max(t.respawns, w !== null ? 1 : 0), tx: t.tx, avg_rt: t.requests > 0 ? int(t.rtMicros / t.requests) : 0,
      apps: [{ id: 0, modifier1: 0, mountpoint: c.mounts[0]?.prefix ?? '', startup_time: 0, requests: t.requests, exceptions: t.exceptions, chdir: c.chdir ?? '' }],
    };
    if (!opts.noCores) entry['cores'] = cores;
    workers.push(entry);
    berthWorkers.push({ id, pid, state: w?.state ?? 'EXITED', generation: w?.generation ?? 0, in_flight: w?.load ?? 0 });
  }

  let cumulative = 0;
  const buckets: { [key: string]: Json } = {};
  LATENCY_BOUNDS_MS.forEach((bound, i) => {
    cumulative += reg.latencyCounts[i]!;
    buckets[String(bound)] = cumulative;
  });
  buckets['+Inf'] = cumulative + reg.latencyCounts[LATENCY_BOUNDS_MS.length]!;
  const respawns: { [key: string]: Json } = {};
  for (const cause of RESPAWN_CAUSES) respawns[cause] = reg.respawns.get(cause) ?? 0;
  const version = source.workers.find((w) => w.ready !== null)?.ready?.version ?? '';

  return {
    version: opts.version, listen_queue: listenQueue, listen_queue_errors: source.refused, signal_queue: 0,
    load: source.inFlight + source.queued, pid: process.pid,
    uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, cwd: process.cwd(),
    locks: LOCKS.map((name) => ({ [name]: 0 })),
    sockets,
    workers,
    berth: {
      generation: source.generation, reloads: reg.reloads, started_at: int(source.startedAt / 1000),
      python: { path: source.python, version },
      requests: reg.requests, direct_requests: reg.directRequests, in_flight: source.inFlight, queued: source.queued,
      overload_503: source.refused, static_requests: reg.staticRequests, static_not_modified: reg.static304, not_modified: reg.notModified,
      bytes_in: reg.bytesIn, bytes_out: reg.bytesOut,
      methods: Object.fromEntries(METHODS.map((m, i) => [m, reg.byMethod[i]!])),
      status_classes: { '1xx': reg.byClass[1]!, '2xx': reg.byClass[2]!, '3xx': reg.byClass[3]!, '4xx': reg.byClass[4]!, '5xx': reg.byClass[5]! },
      respawns, workers: berthWorkers,
      latency_ms_buckets: buckets, latency_ms_sum: int(reg.latencySumMs),
      recent_errors: reg.recentErrors.map((e: RecentError) => ({ ...e })),
      config: maskedConfig(c.written, opts.showSecrets),
      programs: (source.programs ?? []).map((p) => ({ name: p.name, program: p.program, state: p.state, pid: p.pid ?? 0, ready: p.ready, restarts: p.restarts, uptime_s: int(p.uptimeMs / 1000), exit_code: p.exitCode })),
      upstreams: (source.upstreams ?? []).map((u) => ({ name: u.name, requests: u.requests, failures: u.failures, backends: u.backends.map((b) => ({ ...b })) })),
    },
  };
}

/** uWSGI writes one key per line (netdata reads line by line); stats-minified writes one line. */
export function renderStatsDocument(doc: StatsDocument, minified: boolean): string {
  return minified ? JSON.stringify(doc) : `${JSON.stringify(doc, null, '\t')}\n`;
}
