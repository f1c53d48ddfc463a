// One reload measurement: start a server, wait until the Django view answers,
// warm up, then run wrk for a fixed time while N reloads are asked for at even
// intervals; the last one comes `tailS` seconds before wrk stops, so its drain
// happens inside the measured window. Afterwards: wrk's counts, the reload log
// lines seen, and a stop that proves no process of the tree was left behind.

import { utimesSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LogCapture } from './log-capture.js';
import { OutageProbe, type ProbeStats } from './outage-probe.js';
import { freePort, waitReady } from './http-probe.js';
import { TreeWatcher, spawnServer, stopServer, trySignal, type Tracker } from './proc.js';
import type { ReloadServer } from './reload-servers.js';
import { runWrk, type WrkResult } from './wrk.js';

export interface ReloadSettings {
  appDir: string;
  module: string;
  path: string;
  python: string;
  berthBin: string;
  touchFile: string;
  env: NodeJS.ProcessEnv;
  durationS: number;
  reloads: number;
  tailS: number;
  warmupS: number;
  connections: number;
  threads: number;
  readyTimeoutMs: number;
}

export interface ReloadResult {
  server: string;
  how: string;
  ok: boolean;
  error?: string;
  wrk?: WrkResult;
  /** The side client's view (one request at a time, every 50 ms, during wrk). */
  probe?: ProbeStats;
  sent: number;
  /** Counted from the server's log since it became ready; null = not observable. */
  started: number | null;
  done: number | null;
  ignored: number;
  /** Matching log lines, for checking the patterns (first few of each). */
  samples: string[];
  /** The server's master was gone when wrk finished. */
  died: boolean;
  stop?: string;
  leftovers: number[];
}

/** The line that says why (Berth prints a multi-line boot report), else the last lines. */
export function whyFailed(text: string, lines = 6): string {
  const all = text.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  const why = all.find((l) => /\b(?:reason|error|not supported|unknown option|invalid)\b/i.test(l));
  return why ?? all.slice(-lines).join(' | ');
}

/** Offsets in ms from wrk's start: N requests spread evenly over the first durationS - tailS seconds. */
export function reloadSchedule(durationS: number, tailS: number, reloads: number): number[] {
  const window = Math.max(durationS - tailS, 1) * 1000;
  const step = window / reloads;
  return Array.from({ length: reloads }, (_, i) => Math.round(step * (i + 0.5)));
}

export async function runReload(tracker: Tracker, s: ReloadSettings, server: ReloadServer): Promise<ReloadResult> {
  const port = await freePort();
  const result: ReloadResult = {
    server: server.name, how: server.how, ok: false, sent: 0, started: null, done: null, ignored: 0,
    samples: [], died: false, leftovers: [],
  };
  const { command, args } = server.command({
    port, appDir: s.appDir, module: s.module, python: s.python, berthBin: s.berthBin, touchFile: s.touchFile,
  });
  const proc = spawnServer(tracker, command, args, s.appDir, { ...process.env, ...s.env });
  const log = new LogCapture(proc);
  // Records every pid of the tree, so the stop can check that the workers of
  // every generation are gone.
  const watcher = new TreeWatcher(proc.pid, 250);
  watcher.start(tracker);
  const timers: NodeJS.Timeout[] = [];
  try {
    const ready = await waitReady(proc, port, s.path, s.readyTimeoutMs);
    if (!ready.ok) {
      result.error = `failed to start: ${ready.reason}: ${whyFailed(log.text)}`;
      return result;
    }
    const url = `http://127.0.0.1:${port}${s.path}`;
    const wrkOpts = { url, connections: s.connections, threads: s.threads };
    if (s.warmupS > 0) await runWrk(tracker, { ...wrkOpts, durationS: s.warmupS });
    const base = {
      started: server.log.started ? log.count(server.log.started) : 0,
      done: server.log.done ? log.count(server.log.done) : 0,
      ignored: server.log.ignored ? log.count(server.log.ignored) : 0,
    };
    const reload = () => {
      if (server.trigger.kind === 'signal') {
        if (trySignal(proc.pid, server.trigger.signal)) result.sent++;
      } else {
        const now = new Date();
        utimesSync(s.touchFile, now, now);
        result.sent++;
      }
    };
    const probe = new OutageProbe(port, s.path);
    for (const at of reloadSchedule(s.durationS, s.tailS, s.reloads)) timers.push(setTimeout(reload, at));
    probe.start();
    try {
      result.wrk = await runWrk(tracker, { ...wrkOpts, durationS: s.durationS });
    } finally {
      result.probe = await probe.stop();
    }
    // A moment for log lines written at the very end to arrive.
    await sleep(300);
    const perReload = server.log.perReload ?? 1;
    if (server.log.started) result.started = log.count(server.log.started) - base.started;
    if (server.log.done) result.done = Math.floor((log.count(server.log.done) - base.done) / perReload);
    if (server.log.ignored) result.ignored = log.count(server.log.ignored) - base.ignored;
    for (const re of [server.log.started, server.log.done, server.log.ignored]) {
      if (re) result.samples.push(...log.lines(re).slice(0, 2));
    }
    result.died = proc.hasExited();
    if (result.died) throw new Error(`server exited during the run (${await proc.exited}): ${whyFailed(log.text)}`);
    result.ok = true;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    for (const t of timers) clearTimeout(t);
    // uWSGI may still be finishing a graceful reload: give it more than the default 5 s.
    result.stop = await stopServer(tracker, proc, watcher, result, 10_000);
  }
  return result;
}
