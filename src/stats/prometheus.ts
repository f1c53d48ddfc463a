/**
 * /metrics: the registry's totals in Prometheus' text exposition format, written by prom-client.
 *
 * Each metric is a small collector that reads the stats document's numbers when scraped (the
 * document is built once per scrape), so requests never touch prom-client: its per-observation
 * label hashing would sit on the hot path, and the totals already exist in the registry.
 * prom-client is loaded on the first scrape: a Berth without metrics never reads it.
 */
import type { Metric } from 'prom-client';
import type { Json, StatsDocument } from './document.js';
import { LATENCY_BOUNDS_MS } from './registry.js';

type Labels = Record<string, string | number>;
interface Sample { readonly value: number; readonly labels?: Labels; readonly metricName?: string }
type Kind = 'counter' | 'gauge' | 'histogram';

const obj = (v: Json | undefined): { [key: string]: Json } => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {});
const arr = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
const num = (v: Json | undefined): number => (typeof v === 'number' ? v : 0);

/** A prom-client metric whose samples come from the current document. */
function collector(name: string, help: string, type: Kind, samples: (doc: StatsDocument) => Sample[], current: () => StatsDocument) {
  return {
    name, help, type, aggregator: 'sum' as const,
    get: () => ({ name, help, type, aggregator: 'sum' as const, values: samples(current()) }),
    reset: () => undefined,
  };
}

/** The Prometheus text for a document (Content-Type: PROMETHEUS_CONTENT_TYPE). */
export async function renderMetrics(doc: StatsDocument): Promise<string> {
  const client = (await import('prom-client')).default;
  const registry = new client.Registry();
  const current = (): StatsDocument => doc;
  const b = (): { [key: string]: Json } => obj(doc['berth']);
  const add = (name: string, help: string, type: Kind, samples: (d: StatsDocument) => Sample[]): void =>
    registry.registerMetric(collector(name, help, type, samples, current) as unknown as Metric);
  const one = (value: number): Sample[] => [{ value }];

  add('berth_requests_total', 'Requests answered, by status class (uwsgi-direct ones included).', 'counter', () =>
    Object.entries(obj(b()['status_classes'])).map(([cls, v]) => ({ value: num(v), labels: { class: cls } })));
  add('berth_requests_by_method_total', 'Requests answered, by method.', 'counter', () =>
    Object.entries(obj(b()['methods'])).map(([method, v]) => ({ value: num(v), labels: { method } })));
  add('berth_request_duration_seconds', 'Time from the request to its last byte.', 'histogram', () => {
    const buckets = obj(b()['latency_ms_buckets']);
    const out: Sample[] = LATENCY_BOUNDS_MS.map((ms) => ({ metricName: 'berth_request_duration_seconds_bucket', labels: { le: ms / 1000 }, value: num(buckets[String(ms)]) }));
    const count = num(buckets['+Inf']);
    out.push({ metricName: 'berth_request_duration_seconds_bucket', labels: { le: '+Inf' }, value: count });
    out.push({ metricName: 'berth_request_duration_seconds_sum', value: num(b()['latency_ms_sum']) / 1000 });
    out.push({ metricName: 'berth_request_duration_seconds_count', value: count });
    return out;
  });
  add('berth_requests_in_flight', 'Requests a worker is running for the master now.', 'gauge', () => one(num(b()['in_flight'])));
  add('berth_queue_depth', 'Requests waiting: the kernel accept queues of the TCP listeners plus the master\'s dispatch queue.', 'gauge', (d) => one(num(d['listen_queue'])));
  add('berth_overload_rejections_total', 'Requests answered 503 because every worker was busy and the queue full.', 'counter', (d) => one(num(d['listen_queue_errors'])));
  add('berth_workers', 'Worker slots by state.', 'gauge', () => {
    const counts: Record<string, number> = { STARTING: 0, READY: 0, RETIRING: 0, EXITED: 0 };
    for (const w of arr(b()['workers'])) { const s = String(obj(w)['state']); counts[s] = (counts[s] ?? 0) + 1; }
    return Object.entries(counts).map(([state, value]) => ({ value, labels: { state } }));
  });
  add('berth_workers_busy', 'Workers running at least one request.', 'gauge', (d) => one(arr(d['workers']).filter((w) => obj(w)['status'] === 'busy').length));
  add('berth_worker_respawns_total', 'Workers replaced, by cause.', 'counter', () =>
    Object.entries(obj(b()['respawns'])).map(([cause, v]) => ({ value: num(v), labels: { cause } })));
  add('berth_worker_rss_bytes', 'Resident memory of each worker (from /proc).', 'gauge', (d) =>
    arr(d['workers']).map((w) => ({ value: num(obj(w)['rss']), labels: { worker: num(obj(w)['id']) } })));
  add('berth_worker_requests_total', 'Requests served by each worker slot.', 'counter', (d) =>
    arr(d['workers']).map((w) => ({ value: num(obj(w)['requests']), labels: { worker: num(obj(w)['id']) } })));
  add('berth_received_bytes_total', 'Request body bytes received.', 'counter', () => one(num(b()['bytes_in'])));
  add('berth_sent_bytes_total', 'Response bytes sent.', 'counter', () => one(num(b()['bytes_out'])));
  add('berth_static_requests_total', 'Requests the static stage answered.', 'counter', () => one(num(b()['static_requests'])));
  add('berth_static_not_modified_total', 'Static requests answered 304 Not Modified.', 'counter', () => one(num(b()['static_not_modified'])));
  add('berth_direct_requests_total', 'Requests the workers served themselves on uwsgi sockets (uwsgi-direct).', 'counter', () => one(num(b()['direct_requests'])));
  add('berth_reloads_total', 'Successful reloads.', 'counter', () => one(num(b()['reloads'])));
  add('berth_generation', 'The generation of workers serving (1 at start, +1 per reload).', 'gauge', () => one(num(b()['generation'])));
  const programs = (): { [key: string]: Json }[] => arr(b()['programs']).map(obj);
  const PROGRAM_STATES = ['STOPPED', 'STARTING', 'RUNNING', 'BACKOFF', 'STOPPING', 'EXITED', 'FATAL'];
  add('berth_program_state', 'Side programs: 1 for the state each is in (supervisor\'s states), 0 for the others.', 'gauge', () =>
    programs().flatMap((p) => PROGRAM_STATES.map((state) => ({ value: p['state'] === state ? 1 : 0, labels: { program: String(p['name']), state } }))));
  add('berth_program_restarts_total', 'Side programs: times each was started again after an exit.', 'counter', () =>
    programs().map((p) => ({ value: num(p['restarts']), labels: { program: String(p['name']) } })));
  add('berth_program_uptime_seconds', 'Side programs: seconds since each entered RUNNING (0 when not running).', 'gauge', () =>
    programs().map((p) => ({ value: num(p['uptime_s']), labels: { program: String(p['name']) } })));
  const backends = (): { group: string; b: { [key: string]: Json } }[] =>
    arr(b()['upstreams']).flatMap((u) => arr(obj(u)['backends']).map((x) => ({ group: String(obj(u)['name']), b: obj(x) })));
  add('berth_upstream_backend_up', 'Whether a backend of a proxy upstream may be picked (1), or is out after failures or down (0).', 'gauge', () =>
    backends().map(({ group, b: x }) => ({ value: x['state'] === 'up' ? 1 : 0, labels: { upstream: group, backend: String(x['address']), state: String(x['state']) } })));
  add('berth_upstream_backend_requests_total', 'Attempts sent to each backend of a proxy upstream.', 'counter', () =>
    backends().map(({ group, b: x }) => ({ value: num(x['requests']), labels: { upstream: group, backend: String(x['address']) } })));
  add('berth_upstream_backend_failures_total', 'Failed attempts per backend (connect errors, timeouts, and the statuses proxy-next-upstream lists).', 'counter', () =>
    backends().map(({ group, b: x }) => ({ value: num(x['failures']), labels: { upstream: group, backend: String(x['address']) } })));
  add('berth_upstream_backend_in_flight', 'Requests on their way to or from each backend now.', 'gauge', () =>
    backends().map(({ group, b: x }) => ({ value: num(x['in_flight']), labels: { upstream: group, backend: String(x['address']) } })));
  return registry.metrics();
}

/** The text exposition format 0.0.4, as prom-client's Registry.PROMETHEUS_CONTENT_TYPE. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
