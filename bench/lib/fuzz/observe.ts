/**
 * What the fuzz oracles observe of a running Berth besides the answers: the calls the
 * recording app logged, the log lines, and the process tree (master and workers).
 */
import { existsSync, readFileSync } from 'node:fs';

export interface AppCall {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly fuzz: string;
  readonly content_length: string;
  readonly body: number;
  readonly ms: number;
  /** REMOTE_PORT: the real client port on an HTTP front, a var as sent on a uwsgi one. */
  readonly port: string;
}

export function readAppCalls(file: string): AppCall[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AppCall);
}

/**
 * The input id a call carries: from its query (fz=) and X-Fuzz, when the ones that are
 * still numbers agree (a mutated digit in one of them then shows as a disagreement).
 */
export function callId(call: AppCall): number | null {
  const fromQuery = /(?:^|&)fz=(\d+)$/.exec(call.query)?.[1];
  const fromHeader = /^\d+$/.test(call.fuzz) ? call.fuzz : undefined;
  if (fromQuery !== undefined && fromHeader !== undefined) return fromQuery === fromHeader ? Number(fromQuery) : null;
  const only = fromQuery ?? fromHeader;
  return only === undefined ? null : Number(only);
}

export interface SentWindow {
  readonly id: number;
  /** Wall-clock ms (sub-ms precision) when the connection was opened and when it ended. */
  readonly t0: number;
  readonly t1: number;
  /** The client port of the connection. */
  readonly port: number;
}

/** How long after its connection ended an app call is still tied to the id it carries. */
const LATE_CALL_MS = 10_000;

/** The last window in `windows` (ascending t0) opened at or before `ms` (binary search). */
function openedBefore(windows: readonly SentWindow[], ms: number): SentWindow | undefined {
  let lo = 0;
  let hi = windows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (windows[mid]!.t0 <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : windows[lo - 1];
}

/**
 * Which input each call belongs to. With `byPort` (an HTTP front: REMOTE_PORT is the real
 * client port) the connection says it: the last one from that port opened before the call
 * (ports are reused over a long run). Otherwise the id the call carries, if that input was
 * on the wire shortly before (a server may run the app after closing the connection; a
 * mutated id may name an old input); else the input on the wire when the app ran (inputs go
 * one at a time per server).
 */
export function attributeCalls(calls: readonly AppCall[], windows: readonly SentWindow[], byPort: boolean): Map<number, AppCall[]> {
  const byIdWindow = new Map(windows.map((w) => [w.id, w]));
  const ofPort = new Map<string, SentWindow[]>();
  for (const w of windows) {
    const list = ofPort.get(String(w.port)) ?? [];
    list.push(w);
    ofPort.set(String(w.port), list);
  }
  const byId = new Map<number, AppCall[]>();
  for (const call of calls) {
    let id: number;
    if (byPort) {
      id = (openedBefore(ofPort.get(call.port) ?? [], call.ms) ?? openedBefore(windows, call.ms))?.id ?? -1;
    } else {
      const open = openedBefore(windows, call.ms);
      const carried = callId(call);
      const carriedWindow = carried === null ? undefined : byIdWindow.get(carried);
      const recent = carriedWindow !== undefined && carriedWindow.t0 <= call.ms && call.ms <= carriedWindow.t1 + LATE_CALL_MS;
      id = recent ? carriedWindow.id : open?.id ?? -1;
    }
    const list = byId.get(id) ?? [];
    list.push(call);
    byId.set(id, list);
  }
  return byId;
}

/** Lines Berth itself writes: its own messages, its workers' messages and the uWSGI-style request log. */
const OWN_LINE = [/^\[berth\] /, /^berth worker \d+: /, /^\[pid: \d+\|worker: \d+\|req: \d+\/\d+\] /];

/** Log lines that no legitimate writer starts: peer bytes that began a line of their own. */
export function forgedLines(log: string): string[] {
  return log.split('\n').filter((line) => line !== '' && !OWN_LINE.some((re) => re.test(line)));
}
