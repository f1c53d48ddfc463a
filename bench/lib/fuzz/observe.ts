/**
 * What the fuzz oracles observe of a running Berth besides the answers: the calls the
 * recording app logged, the log lines, and the process tree (master and workers).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';

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

/** The last window in `windows` (ascending t0) opened before `ms`. */
function openedBefore(windows: readonly SentWindow[], ms: number): SentWindow | undefined {
  let best: SentWindow | undefined;
  for (const w of windows) if (w.t0 <= ms) best = w;
  return best;
}

/**
 * Which input each call belongs to. With `byPort` (an HTTP front: REMOTE_PORT is the real
 * client port) the connection says it: the last one from that port opened before the call
 * (ports are reused over a long run). Otherwise the call's id when intact, else the input
 * that was on the wire when the app ran (inputs go one at a time per server).
 */
export function attributeCalls(calls: readonly AppCall[], windows: readonly SentWindow[], byPort: boolean): Map<number, AppCall[]> {
  const known = new Set(windows.map((w) => w.id));
  const ofPort = new Map<string, SentWindow[]>();
  for (const w of windows) {
    const list = ofPort.get(String(w.port)) ?? [];
    list.push(w);
    ofPort.set(String(w.port), list);
  }
  const byId = new Map<number, AppCall[]>();
  for (const call of calls) {
    let id = byPort ? openedBefore(ofPort.get(call.port) ?? [], call.ms)?.id ?? null : callId(call);
    if (id === null || !known.has(id)) id = openedBefore(windows, call.ms)?.id ?? -1;
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

/** The pids of `pid` and all its descendants, from /proc (Linux). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number): void => {
    out.push(p);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.split(' ')) if (c.trim() !== '') walk(Number(c));
    }
  };
  walk(pid);
  return out.sort((a, b) => a - b);
}
