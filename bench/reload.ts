// Reload under load: does a reload lose requests? Each server serves the Django
// view with 2 workers while wrk (2 threads × 16 connections, fixed duration) keeps
// it busy and the bench asks for N reloads spread evenly over the run (a signal
// to the master, or touching the server's touch-reload file). The table shows what
// wrk saw (completed requests, non-2xx/3xx answers, socket errors one by one), what
// a light side client saw (failed requests, longest time without a successful
// answer; bench/lib/outage-probe.ts) and how many reloads the server's log says
// started and finished.
//
//   node dist/bench/reload.js [--duration 25] [--reloads 10] [--servers a,b,...]
//        [--tail 5] [--warmup 1] [--python /usr/bin/python3] [--berth bin/berth.js]
//
// Not a test: no assertions. Every process it starts is stopped (process groups).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eachFlag, fmt, benchSession, log, mdTable, nameList, positive, prepareDjango, resultsBase, runMain } from './lib/cli-common.js';
import { runReload, reloadSchedule, type ReloadResult } from './lib/reload-run.js';
import { RELOAD_SERVERS } from './lib/reload-servers.js';

interface Args {
  servers: string[];
  durationS: number;
  reloads: number;
  tailS: number;
  warmupS: number;
  python: string;
  berth?: string;
}

/** The wrk load on every server (the table's notes name it). */
const CONNECTIONS = 16;
const THREADS = 2;

const USAGE = `usage: node dist/bench/reload.js [options]
  --servers LIST   (${RELOAD_SERVERS.map((s) => s.name + (s.optIn ? '*' : '')).join(',')}; * = only when named)
  --duration S     seconds of wrk per server (default 25)
  --reloads N      reloads per server, spread evenly (default 10)
  --tail S         seconds between the last reload and the end of wrk (default 5)
  --warmup S       seconds of wrk before the measured run (default 1; 0 = none)
  --python PATH    interpreter for the app (default /usr/bin/python3)
  --berth PATH     Berth launcher (default <repo>/bin/berth.js)`;

function parseArgs(argv: string[]): Args {
  const args: Args = {
    servers: RELOAD_SERVERS.filter((s) => s.optIn !== true).map((s) => s.name),
    durationS: 25, reloads: 10, tailS: 5, warmupS: 1, python: '/usr/bin/python3',
  };
  eachFlag(argv, (flag, take) => {
    switch (flag) {
      case '--servers': args.servers = nameList(take(), RELOAD_SERVERS.map((s) => s.name), 'server'); break;
      case '--duration': args.durationS = Math.round(positive(take(), flag)); break;
      case '--reloads': args.reloads = Math.round(positive(take(), flag)); break;
      case '--tail': args.tailS = positive(take(), flag); break;
      case '--warmup': { const v = Number(take()); if (!(v >= 0)) throw new Error('--warmup needs a number ≥ 0'); args.warmupS = Math.round(v); break; }
      case '--python': args.python = take(); break;
      case '--berth': args.berth = resolve(take()); break;
      case '-h': case '--help': console.log(USAGE); process.exit(0);
      default: throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  });
  if (args.tailS >= args.durationS) throw new Error(`--tail (${args.tailS}) must be shorter than --duration (${args.durationS})`);
  return args;
}

function reloadsCell(r: ReloadResult): string {
  const part = (n: number | null) => (n === null ? 'n/a' : String(n));
  return `${r.sent} / ${part(r.started)} / ${part(r.done)}${r.ignored > 0 ? ` (${r.ignored} ignored)` : ''}`;
}

function probeCell(r: ReloadResult): string {
  const p = r.probe;
  if (!p) return '—';
  const kinds = Object.entries(p.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
  return `${p.failed} / ${p.sent}${kinds ? ` (${kinds})` : ''}`;
}

function describe(r: ReloadResult): string {
  if (!r.ok || !r.wrk) return `FAILED ${r.error ?? ''}`.slice(0, 400);
  const w = r.wrk;
  return `${w.requests} requests (${Math.round(w.rps)}/s), non-2xx ${w.non2xx}, socket errors connect ${w.socket.connect} ` +
    `read ${w.socket.read} write ${w.socket.write} timeout ${w.socket.timeout}; probe failed ${probeCell(r)}, ` +
    `longest gap ${fmt(r.probe?.longestGapMs)} ms; reloads sent/started/done ${reloadsCell(r)}` +
    `${r.leftovers.length ? `; LEFTOVERS ${r.leftovers.join(' ')}` : ''}; load ${loadavg()[0]!.toFixed(2)}` +
    (r.samples.length ? `\n    log: ${r.samples.map((l) => l.trim()).join('\n         ')}` : '');
}

function table(results: ReloadResult[]): string {
  const head = ['server', 'reload', 'requests', 'req/s', 'p99 ms', 'max ms', 'non-2xx/3xx', 'connect', 'read', 'write', 'timeout',
    'probe failed', 'probe gap ms', 'reloads sent / started / done'];
  const rows = results.map((r) => {
    if (!r.ok || !r.wrk) {
      return [r.server, r.how, `failed: ${(r.error ?? '').replace(/\|/g, '/').slice(0, 160)}`, '', '', '', '', '', '', '', '', '', '', reloadsCell(r)];
    }
    const w = r.wrk;
    return [r.server, r.how, fmt(w.requests), fmt(w.rps), fmt(w.p99Ms, 1), fmt(w.maxMs, 0), fmt(w.non2xx),
      fmt(w.socket.connect), fmt(w.socket.read), fmt(w.socket.write), fmt(w.socket.timeout), probeCell(r), fmt(r.probe?.longestGapMs), reloadsCell(r)];
  });
  return mdTable(head, rows);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { root, tracker, tempDirs, cleanup } = benchSession();
  const servers = RELOAD_SERVERS.filter((s) => args.servers.includes(s.name));
  const schedule = reloadSchedule(args.durationS, args.tailS, args.reloads);
  log(`reload bench: ${servers.length} servers × ${args.durationS} s of wrk -t${THREADS} -c${CONNECTIONS}, ${args.reloads} reloads at ` +
    `${schedule.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s`);
  const results: ReloadResult[] = [];
  try {
    const django = prepareDjango(root, args.python);
    tempDirs.push(django.prepared.tempDir);
    const touchDir = mkdtempSync(join(tmpdir(), 'berth-bench-reload-'));
    tempDirs.push(touchDir);
    for (const server of servers) {
      // A fresh touch file per server, created before it starts (uWSGI otherwise
      // fires the first event when the file appears).
      const touchFile = join(touchDir, `${server.name}.touch`);
      writeFileSync(touchFile, '');
      log(`[${server.name}] ${server.how} ...`);
      const r = await runReload(tracker, {
        appDir: django.appDir, module: django.module, path: django.path, python: args.python,
        berthBin: args.berth ?? join(root, 'bin/berth.js'), touchFile, env: django.prepared.env,
        durationS: args.durationS, reloads: args.reloads, tailS: args.tailS, warmupS: args.warmupS,
        connections: CONNECTIONS, threads: THREADS, readyTimeoutMs: 30_000,
      }, server);
      results.push(r);
      log(`  ${describe(r)}`);
    }
  } finally {
    cleanup();
  }
  const out = table(results);
  console.log(`\n${out}\n`);
  console.log(`wrk -t${THREADS} -c${CONNECTIONS} -d${args.durationS}s on the Django view, 2 workers per server; ${args.reloads} reloads, the last ${args.tailS} s before wrk ends.
"reloads sent / started / done": asked for / log lines saying a reload started / finished (n/a = the server logs no such line).
connect/read/write/timeout are wrk's socket errors. wrk counts a refused connection as a WRITE error (it does not check the
non-blocking connect; the first write fails), once per attempt in a tight reconnect loop; read = the connection was closed
or reset with a request outstanding; timeout = no answer within 2 s.
probe: a side client sending one GET at a time (new connection, every 50 ms) during wrk: failed / sent (by kind), and the
longest time between two of its successful answers (includes its normal ~50 ms interval and queueing behind wrk).`);
  const file = `${resultsBase(root, 'reload-')}.json`;
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), args, schedule, results }, null, 2)}\n`);
  log(`results: ${file}`);
}

runMain('reload bench', main);
