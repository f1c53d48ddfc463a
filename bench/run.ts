// Side-by-side benchmark: Berth vs uWSGI vs gunicorn on the same apps with the
// same worker count. Servers run one at a time, interleaved over rounds
// (round 1: every server, round 2: every server, ...) so drift on the machine
// hits all of them alike; the table shows medians over rounds.
//
//   node dist/bench/run.js [--only hello,django,slow-clients]
//        [--servers berth,uwsgi-http,...] [--duration 8] [--rounds 3]
//        [--warmup 2] [--quick] [--python /usr/bin/python3] [--berth bin/berth.js]
//        [--base other-build/bin/berth.js]   (A/B: the *-base servers run that build)
//
// Not a test: no assertions. Every process it starts is killed on the way out,
// including on Ctrl-C.

import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { eachFlag, benchSession, log, nameList, positive, resultsBase, runMain } from './lib/cli-common.js';
import { measure, SLOW_PASSES, type Measurement, type RunSettings } from './lib/measure.js';
import { keptPct, machineInfo, markdownReport, summarize, textTable } from './lib/report.js';
import type { WrkResult } from './lib/wrk.js';
import { SCENARIOS, SLOW_CLIENTS, type Prepared } from './lib/scenarios.js';
import { SERVERS } from './lib/servers.js';

interface Args {
  only: string[];
  servers: string[];
  durationS: number;
  rounds: number;
  warmupS: number;
  python: string;
  berth?: string;
  base?: string;
}

const USAGE = `usage: node dist/bench/run.js [options]
  --only LIST       scenarios (${SCENARIOS.map((s) => s.name).join(',')})
  --servers LIST    servers (${SERVERS.map((s) => s.name).join(',')})
  --duration S      seconds per measured wrk run (default 8)
  --rounds N        interleaved rounds (default 3)
  --warmup S        seconds of wrk warm-up per server start (default 2)
  --quick           --duration 3 --rounds 1 --warmup 1
  --python PATH     interpreter for the apps (default /usr/bin/python3)
  --berth PATH      Berth launcher (default <repo>/bin/berth.js)
  --base PATH       another build's bin/berth.js, run by the *-base servers (A/B in one run)`;

function parseArgs(argv: string[]): Args {
  const args: Args = {
    only: SCENARIOS.filter((s) => s.optIn !== true).map((s) => s.name), servers: SERVERS.filter((s) => s.optIn !== true).map((s) => s.name),
    durationS: 8, rounds: 3, warmupS: 2, python: '/usr/bin/python3',
  };
  eachFlag(argv, (flag, take) => {
    switch (flag) {
      case '--only': args.only = nameList(take(), SCENARIOS.map((s) => s.name), 'scenario'); break;
      case '--servers': args.servers = nameList(take(), SERVERS.map((s) => s.name), 'server'); break;
      case '--duration': args.durationS = Math.round(positive(take(), flag)); break;
      case '--rounds': args.rounds = Math.round(positive(take(), flag)); break;
      case '--warmup': args.warmupS = Math.round(positive(take(), flag)); break;
      case '--quick': args.durationS = 3; args.rounds = 1; args.warmupS = 1; break;
      case '--python': args.python = take(); break;
      case '--berth': args.berth = resolve(take()); break;
      case '--base': args.base = resolve(take()); break;
      case '-h': case '--help': console.log(USAGE); process.exit(0);
      default: throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  });
  return args;
}

const NOTES = `req/s, p50, p99 and peak RSS are medians over rounds; errors and read errs are summed.
Berth÷peer req/s > 1 and p99 < 1 favour Berth; each peer is compared with the Berth config of equal threads.
"read errs" are wrk read errors: a server without keep-alive (uWSGI --http-socket) closes every connection.
"kept w/ slow": fast-client req/s while ${SLOW_CLIENTS} slow clients trickle requests, as % of the same server without them: ${SLOW_PASSES} runs with them, each between two without
and divided by their mean; the two shares averaged.`;

function describe(m: Measurement): string {
  if (!m.ok || !m.wrk) return `FAILED ${m.error ?? ''}`.slice(0, 300);
  const rps = (runs: WrkResult[]): string => runs.map((r) => Math.round(r.rps)).join(' / ');
  const base = m.fastOnly && m.withSlow ? ` (alone ${rps(m.fastOnly)}, with slow clients ${rps(m.withSlow)} req/s: ` +
    `kept ${keptPct(m).toFixed(1)} %; slow clients got ${m.slow?.responses} answers, ${m.slow?.errors} errors)` : '';
  const errs = m.wrk.errors;
  return `${Math.round(m.wrk.rps)} req/s${base}, p50 ${m.wrk.p50Ms.toFixed(2)} ms, p99 ${m.wrk.p99Ms.toFixed(2)} ms, ` +
    `peak RSS ${(m.peakRssKb / 1024).toFixed(1)} MiB (PSS ${(m.peakPssKb / 1024).toFixed(1)})${errs ? `, ${errs} errors` : ''}` +
    `${m.leftovers.length ? `, LEFTOVERS ${m.leftovers.join(' ')}` : ''}, load ${m.load1?.toFixed(2)}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { root, tracker, tempDirs, cleanup } = benchSession();

  const settings: RunSettings = {
    root, python: args.python, berthBin: args.berth ?? join(root, 'bin/berth.js'),
    ...(args.base !== undefined ? { baseBerthBin: args.base } : {}),
    durationS: args.durationS, warmupS: args.warmupS, readyTimeoutMs: 30_000,
  };
  const servers = SERVERS.filter((s) => args.servers.includes(s.name));
  const scenarios = SCENARIOS.filter((s) => args.only.includes(s.name));
  const command = `node ${process.argv.slice(1).map((a) => a.replace(root + '/', '')).join(' ')}`;
  log(`bench: root ${root}; ${scenarios.length} scenarios × ${servers.length} servers × ${args.rounds} rounds, ` +
    `${args.durationS} s per run (+${args.warmupS} s warm-up)`);

  const measurements: Measurement[] = [];
  try {
    for (const scenario of scenarios) {
      let prepared: Prepared | undefined;
      try {
        prepared = scenario.prepare?.(root, args.python);
      } catch (err) {
        log(`${scenario.name}: skipped, ${(err as Error).message}`);
        continue;
      }
      if (prepared) tempDirs.push(prepared.tempDir);
      for (let round = 1; round <= args.rounds; round++) {
        for (const server of servers) {
          log(`[${scenario.name} round ${round}/${args.rounds}] ${server.name} ...`);
          const m = await measure(tracker, settings, scenario, server, round, prepared?.env ?? {});
          measurements.push(m);
          log(`  ${describe(m)}`);
        }
      }
    }
  } finally {
    cleanup();
  }

  const rows = summarize(measurements, servers, scenarios.map((s) => s.name));
  const table = textTable(rows);
  console.log(`\n${table}\n`);
  console.log(NOTES);

  const machine = machineInfo(args.python);
  const base = resultsBase(root);
  const json = { date: new Date().toISOString(), command, machine, settings: args, rows, measurements };
  writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdownReport(rows, machine, command, args, NOTES));
  log(`results: ${base}.{json,md}`);
}

runMain('bench', main);
