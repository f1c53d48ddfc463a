/**
 * The emperor's stats document in uWSGI's emperor format (core/emperor.c, emperor_send_stats):
 * version, pid, uid, gid, cwd, emperor (the scanned directories), emperor_tyrant,
 * throttle_level, vassals (id, pid, born, last_mod, last_heartbeat, loyal, ready, accepting,
 * last_loyal, last_ready, last_accepting, first_run, last_run, cursed, zerg, on_demand,
 * suspended, adopted, uid, gid, monitor, attrs, respawns) and blacklist (the throttled
 * vassals: id, throttle_level, attempt, first_attempt, last_attempt). Numbers are numbers,
 * as uWSGI writes them; Berth adds `state` to each vassal.
 */
import { createServer, type Server } from 'node:net';
import { lstatSync, rmSync } from 'node:fs';
import type { VassalFacts } from './vassal.js';

export interface EmperorStatsSource {
  readonly version: string;
  readonly monitor: string;
  readonly vassals: () => readonly VassalFacts[];
}

export function emperorDocument(source: EmperorStatsSource): Record<string, unknown> {
  const vassals = source.vassals();
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const throttled = vassals.filter((v) => v.state === 'throttled');
  return {
    version: source.version, pid: process.pid, uid, gid, cwd: process.cwd(),
    emperor: [source.monitor],
    emperor_tyrant: 0,
    throttle_level: Math.max(0, ...throttled.map((v) => v.throttleMs)),
    vassals: vassals.map((v) => ({
      id: v.id, pid: v.pid, born: v.born, last_mod: v.lastMod, last_heartbeat: 0,
      loyal: v.loyal, ready: v.ready, accepting: v.accepting,
      last_loyal: v.lastLoyal, last_ready: v.lastReady, last_accepting: v.lastAccepting,
      first_run: v.firstRun, last_run: v.lastRun, cursed: 0, zerg: 0, on_demand: '',
      suspended: 0, adopted: 0, uid, gid, monitor: source.monitor, attrs: [], respawns: v.respawns,
      state: v.state,
    })),
    blacklist: throttled.map((v) => ({ id: v.id, throttle_level: v.throttleMs, attempt: v.attempts, first_attempt: v.firstRun, last_attempt: v.lastRun })),
  };
}

export type StatsAddress = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

function isSocket(file: string): boolean {
  try { return lstatSync(file).isSocket(); } catch { return false; }
}

/** One document per connection, then EOF, as uWSGI's stats servers do. */
export function serveEmperorStats(address: StatsAddress, source: EmperorStatsSource): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(`${JSON.stringify(emperorDocument(source), null, 1)}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (address.kind === 'unix') {
      // A stale socket from a killed emperor is replaced; any other file is left alone (listen fails).
      if (isSocket(address.path)) rmSync(address.path);
      server.listen(address.path, () => resolve(server));
    } else {
      server.listen(address.port, address.host === '' ? undefined : address.host, () => resolve(server));
    }
  });
}
