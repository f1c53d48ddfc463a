// One measurement: start one server for one scenario, wait until it answers,
// warm up, run wrk (twice for slow-clients: without, then with the slow load),
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
  /** slow-clients only: the same server's fast-client figures without slow clients, before them. */
  baseline?: WrkResult;
  /** slow-clients only: the same again after the slow clients stopped. The share compares the
   * run with slow clients to the mean of the two, so a machine getting busier or quieter over the
   * round does not show up as slow-client cost (or gain). */
  baselineAfter?: WrkResult;
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
      result.baseline = await runWrk(tracker, { ...wrkOpts, durationS: settings.durationS });
      const slow = new SlowClients({ port, clients: SLOW_CLIENTS, requestMs: SLOW_REQUEST_MS });
      slow.start();
      try {
        // Let every slow client connect and start trickling before measuring.
        await sleep(SLOW_REQUEST_MS / 2);
        result.wrk = await runWrk(tracker, { ...wrkOpts, durationS: settings.durationS });
      } finally {
        result.slow = slow.stop();
      }
      result.baselineAfter = await runWrk(tracker, { ...wrkOpts, durationS: settings.durationS });
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
