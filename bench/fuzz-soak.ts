/**
 * The long soak/fuzz run (issue 11): the in-suite differential fuzz (test/fuzz/) scaled up,
 * then SIGHUP reloads under valid load, then a slowloris crowd against valid load. Prints
 * inputs sent, crashes, hangs, app calls on invalid input, paths disagreeing, malformed
 * answers and failed valid requests; exits 1 on any finding, crash, forged log line or failed valid request.
 *
 *   node dist/bench/fuzz-soak.js [--seed N] [--count N] [--duration S] [--concurrency N]
 *        [--slow N] [--reloads N] [--python PATH]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchSession, eachFlag, log, positive, runMain } from './lib/cli-common.js';
import { trySignal } from './lib/proc.js';
import { runCampaign, type CampaignResult } from './lib/fuzz/campaign.js';
import { describeFinding, judgeCampaign } from './lib/fuzz/judge.js';
import { runValidLoad, startSlowCrowd, type LoadStats, type LoadTarget } from './lib/fuzz/load.js';
import { forgedLines, readAppCalls } from './lib/fuzz/observe.js';
import { randomSeed } from './lib/fuzz/prng.js';
import { startFuzzServer, stopFuzzServer, type FuzzServer } from './lib/fuzz/servers.js';

interface Settings {
  seed: number;
  /** Fuzz inputs per protocol (the uwsgi ones go to both paths). */
  count: number;
  /** Upper bound on the fuzz phase, in seconds. */
  durationS: number;
  /** Valid-load clients per server in the reload and slowloris phases. */
  concurrency: number;
  slow: number;
  reloads: number;
  python: string;
}

function parseArgs(argv: string[]): Settings {
  const s: Settings = { seed: randomSeed(), count: 20_000, durationS: 180, concurrency: 4, slow: 1000, reloads: 5, python: '/usr/bin/python3' };
  eachFlag(argv, (flag, take) => {
    switch (flag) {
      case '--seed': s.seed = Number(take()); break;
      case '--count': s.count = positive(take(), flag); break;
      case '--duration': s.durationS = positive(take(), flag); break;
      case '--concurrency': s.concurrency = positive(take(), flag); break;
      case '--slow': s.slow = positive(take(), flag); break;
      case '--reloads': s.reloads = positive(take(), flag); break;
      case '--python': s.python = take(); break;
      default: throw new Error(`unknown flag ${flag} (see the top of bench/fuzz-soak.ts)`);
    }
  });
  return s;
}

const LIMITS = { headBytes: 8192, bodyBytes: 100_000 };
const TIMEOUT_S = 2;
const DEADLINE_MS = TIMEOUT_S * 1000 + 4000;
const ROUND = 500;

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

function loadLine(name: string, stats: LoadStats): string {
  return `${name}: ${stats.sent} valid requests, ${stats.failed} failed, p99 ${p99(stats.latenciesMs).toFixed(1)} ms${stats.examples.length > 0 ? ` (e.g. ${stats.examples.join('; ')})` : ''}`;
}

async function main(): Promise<void> {
  const s = parseArgs(process.argv.slice(2));
  const session = benchSession();
  const dir = mkdtempSync(join(tmpdir(), 'berth-fuzz-soak-'));
  session.tempDirs.push(dir);
  log(`fuzz-soak: seed ${s.seed}, up to ${s.count} inputs per protocol in ${s.durationS} s, ${s.slow} slow connections, ${s.reloads} reloads, ${s.concurrency} load clients per server`);
  const settings = { root: session.root, python: s.python, dir, processes: 2, threads: 2, ...LIMITS, timeoutS: TIMEOUT_S };
  const servers = await Promise.all((['http', 'uwsgi-master', 'uwsgi-direct'] as const).map((n) => startFuzzServer(session.tracker, settings, n)));
  const [http, master, direct] = servers as [FuzzServer, FuzzServer, FuzzServer];
  const treesBefore = servers.map((x) => x.tree().join(','));

  // Phase 1: the differential fuzz, in rounds until the count or the duration is reached.
  const result: CampaignResult = { http: [], uwsgiMaster: [], uwsgiDirect: [] };
  const fuzzEnd = Date.now() + s.durationS * 1000;
  for (let first = 0; first < s.count && Date.now() < fuzzEnd; first += ROUND) {
    const round = await runCampaign({ http: http.port, uwsgiMaster: master.port, uwsgiDirect: direct.port }, { seed: s.seed, firstId: first, count: Math.min(ROUND, s.count - first), deadlineMs: DEADLINE_MS });
    result.http.push(...round.http);
    result.uwsgiMaster.push(...round.uwsgiMaster);
    result.uwsgiDirect.push(...round.uwsgiDirect);
  }
  const crashes = servers.filter((x, i) => x.tree().join(',') !== treesBefore[i]).map((x) => `${x.name}: pids ${treesBefore[servers.indexOf(x)]} → ${x.tree().join(',')}`);
  const fuzzEndedAt = performance.timeOrigin + performance.now();
  log(`fuzz phase done: ${result.http.length + result.uwsgiMaster.length * 2} inputs`);

  // Phase 2: slowloris crowd (idle/slow peers) while valid clients keep asking.
  const targets: LoadTarget[] = [
    { name: 'http', port: http.port, protocol: 'http' },
    { name: 'uwsgi-master', port: master.port, protocol: 'uwsgi' },
    { name: 'uwsgi-direct', port: direct.port, protocol: 'uwsgi' },
  ];
  const crowd = startSlowCrowd(targets, s.slow, 500);
  const slowStats = await runValidLoad(targets, s.concurrency, sleep(15_000), DEADLINE_MS);
  const closedByServer = crowd.closedByServer();
  crowd.stop();

  // Phase 3: SIGHUP reloads under valid load (workers are replaced on purpose here).
  const reloadsDone = (async () => {
    for (let i = 0; i < s.reloads; i++) {
      await sleep(2000);
      for (const x of servers) trySignal(x.process.pid, 'SIGHUP');
    }
    await sleep(3000);
  })();
  const reloadStats = await runValidLoad(targets, s.concurrency, reloadsDone, DEADLINE_MS);
  const mastersAlive = servers.filter((x) => !x.process.hasExited()).length;

  for (const x of servers) await stopFuzzServer(session.tracker, x);
  // Calls after the fuzz phase are the valid load's, not the fuzz inputs'.
  const fuzzCalls = (x: FuzzServer) => readAppCalls(x.record).filter((c) => c.ms <= fuzzEndedAt);
  const judged = judgeCampaign(result, { http: fuzzCalls(http), uwsgiMaster: fuzzCalls(master), uwsgiDirect: fuzzCalls(direct) }, LIMITS);
  const count = (c: string): number => judged.findings.filter((f) => f.category === c).length;
  const forgedHttp = forgedLines(http.log());
  const forgedUwsgi = [...forgedLines(master.log()), ...forgedLines(direct.log())];

  const lines = [
    `seed ${s.seed}`,
    `inputs sent: ${judged.inputs} (${judged.invalidInputs} invalid by the TS codecs; uwsgi inputs count once per path)`,
    `crashes (process tree changed during the fuzz, or a master gone): ${crashes.length + (servers.length - mastersAlive)}${crashes.length > 0 ? ` — ${crashes.join('; ')}` : ''}`,
    `hangs: ${count('hang')}`,
    `app calls on invalid input: ${count('app-called-on-invalid')}`,
    `master/direct paths disagreeing on calling the app: ${count('paths-disagree')}, on the answer: ${count('paths-answer-differently')}`,
    `malformed responses: ${count('malformed-response')}`,
    `unmutated fuzz inputs failed: ${count('valid-input-failed')}`,
    `direct path called the app with a truncated body: ${count('direct-truncated-body')}`,
    `direct path ran the app and closed without an answer: ${count('direct-app-ran-unanswered')}`,
    `forged log lines: http front ${forgedHttp.length}, uwsgi fronts ${forgedUwsgi.length}`,
    `slowloris: ${s.slow} slow connections (1 byte / 500 ms each), closed by the servers within 15 s: ${JSON.stringify(closedByServer)}; ${loadLine('valid load meanwhile', slowStats)}`,
    `reloads: ${s.reloads} SIGHUPs to each server; ${loadLine('valid load meanwhile', reloadStats)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const f of judged.findings.slice(0, 20)) process.stdout.write(`${describeFinding(s.seed, f)}\n`);
  session.cleanup();
  const failed = judged.findings.length + crashes.length + (servers.length - mastersAlive) + forgedHttp.length + forgedUwsgi.length + slowStats.failed + reloadStats.failed;
  if (failed > 0) process.exitCode = 1;
}

runMain('fuzz-soak', main);
