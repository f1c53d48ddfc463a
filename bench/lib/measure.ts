// One measurement: start one server for one scenario, wait until it answers,
// warm up, run wrk (for slow-clients: alternately without and with the slow load),
// record peak tree RSS, stop it and check that nothing is left behind.
// Failures become a row with the reason; they never abort the whole run.

import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitReady, freePort } from './http-probe.js';
import { RssSampler, spawnServer, stopServer, type Tracker } from './proc.js';
import { SLOW_CLIENTS, SLOW_REQUEST_MS, type Scenario } from './scenarios.js';
import type { ServerSpec } from './servers.js';
import { SlowClients, type SlowClientStats } from './slow-clients.js';
import { runWrk, type WrkResult } from './wrk.js';

export interface RunSettings {
  root: string;
  python: string;
  berthBin: string;
  baseBerthBin?: string;
  durationS: number;
  warmupS: number;
  readyTimeoutMs: number;
}

export interface Measurement {
  scenario: string;
  server: string;
  round: number;
  ok: boolean;
  error?: string;
  wrk?: WrkResult;
  /** slow-clients only: the fast-client runs without slow clients, before, between and after the
   * runs with them (SLOW_PASSES + 1). Each run with slow clients is compared to the mean of its two
   * neighbours, so a machine getting busier or quieter over the round does not show up as
   * slow-client cost (or gain); `wrk` pools the runs with them. */
  fastOnly?: WrkResult[];
  /** slow-clients only: each run with slow clients on, in order. */
  withSlow?: WrkResult[];
  /** slow-clients only: the slow clients' figures, summed over the passes. */
  slow?: SlowClientStats;
  peakRssKb: number;
  peakPssKb: number;
  /** 1-minute load average when the measurement ended: spots a busy machine. */
  load1?: number;
  stop?: string;
  leftovers: number[];
}

function tail(text: string, lines = 6): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}

export async function measure(
  tracker: Tracker, settings: RunSettings, scenario: Scenario, server: ServerSpec,
  round: number, env: NodeJS.ProcessEnv,
): Promise<Measurement> {
  const port = await freePort();
  const appDir = join(settings.root, scenario.appDir);
  const { command, args } = server.command({
    port, appDir, module: scenario.module, python: settings.python, berthBin: settings.berthBin,
    ...(settings.baseBerthBin !== undefined ? { baseBerthBin: settings.baseBerthBin } : {}),
    ...(env.BENCH_STATIC_DIR !== undefined ? { staticDir: env.BENCH_STATIC_DIR } : {}),
  });
  const result: Measurement = { scenario: scenario.name, server: server.name, round, ok: false, peakRssKb: 0, peakPssKb: 0, leftovers: [] };
  const proc = spawnServer(tracker, command, args, appDir, { ...process.env, ...env });
  const sampler = new RssSampler(proc.pid, 100);
  sampler.start(tracker);
  try {
    const ready = await waitReady(proc, port, scenario.path, settings.readyTimeoutMs);
    if (!ready.ok) {
      result.error = `failed to start: ${ready.reason}: ${tail(proc.outputTail())}`;
      return result;
    }
    const url = `http://127.0.0.1:${port}${scenario.path}`;
    const wrkOpts = { url, connections: scenario.connections };
    await runWrk(tracker, { ...wrkOpts, durationS: settings.warmupS });
    if (scenario.slowClients) {
      const slow = await measureSlowPasses(tracker, wrkOpts, settings.durationS, port);
      Object.assign(result, slow);
    } else {
      result.wrk = await runWrk(tracker, { ...wrkOpts, durationS: settings.durationS });
    }
    if (proc.hasExited()) throw new Error(`server exited during the run (${await proc.exited}): ${tail(proc.outputTail())}`);
    result.ok = true;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    sampler.stop();
    result.peakRssKb = sampler.peakRssKb;
    result.peakPssKb = sampler.peakPssKb;
    result.load1 = loadavg()[0];
    result.stop = await stopServer(tracker, proc, sampler, result);
  }
  return result;
}

/**
 * Runs with slow clients, each between two without (one run of evidence per side was ±10 %
 * noise: the fast-only runs just before and just after differed by up to 18 % on a quiet machine).
 * Two passes: the share is the mean of two ratios, each to its own neighbours.
 */
export const SLOW_PASSES = 2;

type SlowPasses = Required<Pick<Measurement, 'fastOnly' | 'withSlow' | 'slow' | 'wrk'>>;

async function measureSlowPasses(tracker: Tracker, wrkOpts: { url: string; connections: number }, durationS: number, port: number): Promise<SlowPasses> {
  const fastOnly = [await runWrk(tracker, { ...wrkOpts, durationS })];
  const withSlow: WrkResult[] = [];
  const stats: SlowClientStats[] = [];
  for (let pass = 0; pass < SLOW_PASSES; pass++) {
    const slow = new SlowClients({ port, clients: SLOW_CLIENTS, requestMs: SLOW_REQUEST_MS });
    slow.start();
    try {
      // Let every slow client connect and start trickling before measuring.
      await sleep(SLOW_REQUEST_MS / 2);
      withSlow.push(await runWrk(tracker, { ...wrkOpts, durationS }));
    } finally {
      stats.push(slow.stop());
    }
    fastOnly.push(await runWrk(tracker, { ...wrkOpts, durationS }));
  }
  return { fastOnly, withSlow, slow: sumSlowStats(stats), wrk: pooledRuns(withSlow) };
}

function sumSlowStats(all: SlowClientStats[]): SlowClientStats {
  const sum = (key: keyof SlowClientStats): number => all.reduce((n, s) => n + s[key], 0);
  return { clients: all[0]!.clients, requestsSent: sum('requestsSent'), responses: sum('responses'), errors: sum('errors'), bytesSent: sum('bytesSent') };
}

/** Equal-length wrk runs as one: req/s and p50 averaged, the worst p99 and max, counts summed. */
function pooledRuns(runs: WrkResult[]): WrkResult {
  const sum = (f: (r: WrkResult) => number): number => runs.reduce((n, r) => n + f(r), 0);
  const max = (f: (r: WrkResult) => number): number => Math.max(...runs.map(f));
  return {
    rps: sum((r) => r.rps) / runs.length, p50Ms: sum((r) => r.p50Ms) / runs.length, p99Ms: max((r) => r.p99Ms), maxMs: max((r) => r.maxMs),
    requests: sum((r) => r.requests), errors: sum((r) => r.errors), readErrors: sum((r) => r.readErrors), non2xx: sum((r) => r.non2xx),
    socket: {
      connect: sum((r) => r.socket.connect), read: sum((r) => r.socket.read),
      write: sum((r) => r.socket.write), timeout: sum((r) => r.socket.timeout),
    },
  };
}
