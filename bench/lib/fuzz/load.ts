/**
 * Valid traffic for the soak: closed-loop clients that send unmutated requests and count the
 * ones not answered 200 (the "failed valid requests"), and a slowloris crowd that holds
 * connections open by trickling a request head one byte at a time.
 */
import { connect, type Socket } from 'node:net';
import { encodeUwsgi } from './corpus.js';
import { checkResponses } from './response-check.js';
import { sendInput } from './send.js';

export interface LoadTarget {
  readonly name: string;
  readonly port: number;
  readonly protocol: 'http' | 'uwsgi';
}

export interface LoadStats {
  sent: number;
  failed: number;
  /** First few failures, for the report. */
  examples: string[];
  latenciesMs: number[];
}

const VALID_HTTP = Buffer.from('GET /load HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
const VALID_UWSGI = encodeUwsgi([
  ['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/load'], ['PATH_INFO', '/load'], ['QUERY_STRING', ''],
  ['SERVER_PROTOCOL', 'HTTP/1.1'], ['REMOTE_ADDR', '127.0.0.1'], ['REMOTE_PORT', '1'],
  ['SERVER_NAME', 'x'], ['SERVER_PORT', '80'], ['HTTP_HOST', 'x'],
], '');

/** Runs `clients` closed loops per target until stop() resolves; returns the tally. */
export async function runValidLoad(targets: readonly LoadTarget[], clients: number, until: Promise<void>, deadlineMs: number): Promise<LoadStats> {
  const stats: LoadStats = { sent: 0, failed: 0, examples: [], latenciesMs: [] };
  let stopped = false;
  void until.then(() => (stopped = true));
  const loop = async (t: LoadTarget): Promise<void> => {
    while (!stopped) {
      const reply = await sendInput(t.port, t.protocol === 'http' ? VALID_HTTP : VALID_UWSGI, [], deadlineMs);
      stats.sent++;
      stats.latenciesMs.push(reply.ms);
      const check = checkResponses(reply.data, reply.closed);
      if (check.problem !== null || check.statuses.length !== 1 || check.statuses[0] !== 200) {
        stats.failed++;
        if (stats.examples.length < 5) stats.examples.push(`${t.name} → ${check.problem ?? JSON.stringify(check.statuses)}${reply.closed ? '' : ' (no close)'}`);
      }
    }
  };
  await Promise.all(targets.flatMap((t) => Array.from({ length: clients }, () => loop(t))));
  return stats;
}

export interface SlowCrowd {
  /** Connections each server closed while they trickled, by target name. */
  closedByServer(): Record<string, number>;
  stop(): void;
}

/**
 * Opens `count` connections spread over the targets; every `tickMs` each sends the next byte of
 * a request head that never ends (so the server's head timeout, not completion, ends it).
 */
export function startSlowCrowd(targets: readonly LoadTarget[], count: number, tickMs: number): SlowCrowd {
  const closed: Record<string, number> = Object.fromEntries(targets.map((t) => [t.name, 0]));
  const heads = {
    http: Buffer.from(`GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(4000)}`),
    uwsgi: encodeUwsgi([['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/slow'], ['HTTP_X_SLOW', 'a'.repeat(4000)]], ''),
  };
  /** Each open connection: the head it trickles and how many bytes of it went out. */
  const open = new Map<Socket, { head: Buffer; sent: number }>();
  for (let i = 0; i < count; i++) {
    const t = targets[i % targets.length]!;
    const s = connect({ host: '127.0.0.1', port: t.port });
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.on('close', () => {
      if (open.delete(s)) closed[t.name] = (closed[t.name] ?? 0) + 1;
    });
    open.set(s, { head: heads[t.protocol], sent: 0 });
  }
  // One timer for the whole crowd keeps the generator cheap.
  const timer = setInterval(() => {
    for (const [s, state] of open) {
      if (state.sent < state.head.length && s.writable) {
        s.write(state.head.subarray(state.sent, state.sent + 1));
        state.sent++;
      }
    }
  }, tickMs);
  return {
    closedByServer: () => ({ ...closed }),
    stop: () => {
      clearInterval(timer);
      const sockets = [...open.keys()];
      open.clear();
      for (const s of sockets) s.destroy();
    },
  };
}
