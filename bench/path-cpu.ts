/**
 * CPU per request on each path a request can take through Berth (issue 16, item 4), and the
 * ceiling it implies: every request that crosses the single Node master costs it `master µs`,
 * so one full master core bounds that path at 1e6 / master µs requests per second however
 * many cores the host has. For each path: wrk for a fixed time, then utime+stime from
 * /proc/<pid>/stat of the master, of every process below it (the zygote and the Python
 * workers) and of nginx where it is in front, divided by the requests served. CPU from /proc
 * is far less disturbed by other load on the machine than req/s.
 *
 * Paths (hello app, 2 workers × 1 thread; static: one 10 KiB file through static-map):
 *   master-http   `http =` with http-direct = false: the master parses HTTP and relays each request to a worker
 *   uwsgi-direct  nginx → `socket =`: the workers accept on the uwsgi socket themselves
 *   static        `http =` + static-map: the master answers from its file cache
 *   direct-http   `http =` with the direct HTTP path (option `http-direct`): reported as not
 *                 available in a build whose option table lacks it
 *   uwsgi-http-socket  uWSGI --http-socket, for reference (its master is idle: workers accept)
 *   master-https  `https =` (TLS in the master, session s16T), wrk over kept TLS connections
 *   nginx-tls     nginx `listen … ssl` → uwsgi_pass → `socket =` (uwsgi-direct): TLS in nginx instead
 * The 16-core ceiling is min(1e6 / master µs, 16e6 / µs of the whole tree): the master's core,
 * or all cores busy.
 * Run: bash scripts/build.sh && node dist/bench/path-cpu.js [rounds] [seconds] [--only a,b]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOption } from '../src/config/options.js';
import { cpuSeconds, processTree } from './lib/proc.js';
import { freePort, untilAnswered } from './lib/http-probe.js';

const ROOT = process.cwd();
const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const ONLY = onlyAt >= 0 ? new Set(args.splice(onlyAt, 2)[1]!.split(',')) : null;
const ROUNDS = Number(args[0] ?? 3);
const SECONDS = Number(args[1] ?? 5);
const CORES = 16;
const HELLO = join(ROOT, 'test', 'fixtures', 'apps');

interface Started {
  readonly proc: ChildProcess;
  readonly url: string;
  /** The process that pays per request on the master's side: Berth's master (null: there is none on this path). */
  readonly masterPid: () => number | null;
}

interface PathSpec {
  readonly name: string;
  /** Why this path cannot be measured with this build, or null. */
  readonly unavailable: () => string | null;
  start(port: number, dir: string): Promise<Started>;
}

const berthArgs = (port: number): string[] => [join(ROOT, 'bin', 'berth.js'), '--http', `127.0.0.1:${port}`, '--chdir', HELLO, '--module', 'hello',
  '--processes', '2', '--threads', '1', '--python', '/usr/bin/python3', '--disable-logging'];

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Berth alone, its master the process that pays per request on the master's side. */
async function berthAlone(args: readonly string[], url: string): Promise<Started> {
  const proc = spawn(process.execPath, [...args], { stdio: 'ignore' });
  await untilAnswered(url, proc);
  return { proc, url, masterPid: () => proc.pid! };
}

/** nginx in front of Berth (bench/lib/behind-nginx.ts): the launcher's children are Berth's master (node) and nginx. */
async function behindNginx(backend: string, url: string, port: number): Promise<Started> {
  const proc = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'lib', 'behind-nginx.js'), backend, String(port), HELLO, 'hello', '/usr/bin/python3', join(ROOT, 'bin', 'berth.js'), '', '1'], { stdio: 'ignore' });
  await untilAnswered(url, proc);
  return { proc, url, masterPid: () => processTree(proc.pid!).find((p) => p !== proc.pid && commOf(p) === 'node') ?? null };
}

const PATHS: readonly PathSpec[] = [
  {
    name: 'master-http',
    unavailable: () => null,
    // Named, whatever the default; a build without the option has only this path.
    start: (port) => berthAlone([...berthArgs(port), ...(findOption('http-direct') === undefined ? [] : ['--http-direct=false'])], `http://127.0.0.1:${port}/`),
  },
  {
    name: 'direct-http',
    unavailable: () => (findOption('http-direct') === undefined ? 'option http-direct is not in this build' : null),
    start: (port) => berthAlone([...berthArgs(port), '--http-direct'], `http://127.0.0.1:${port}/`),
  },
  {
    name: 'uwsgi-direct',
    unavailable: () => null,
    start: (port) => behindNginx('berth', `http://127.0.0.1:${port}/`, port),
  },
  {
    name: 'static',
    unavailable: () => null,
    start: (port, dir) => berthAlone([...berthArgs(port), '--static-map', `/static=${dir}`], `http://127.0.0.1:${port}/static/10k.bin`),
  },
  {
    name: 'master-https',
    unavailable: () => (findOption('https')?.status !== 'supported' ? 'option https is not supported in this build' : null),
    async start(port, dir) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' });
      const args = berthArgs(port).filter((a) => a !== '--http' && a !== `127.0.0.1:${port}`);
      return berthAlone([...args, '--https', `127.0.0.1:${port},${join(dir, 'tls.crt')},${join(dir, 'tls.key')}`], `https://127.0.0.1:${port}/`);
    },
  },
  {
    name: 'nginx-tls',
    unavailable: () => null,
    start: (port) => behindNginx('berth-tls', `https://127.0.0.1:${port}/`, port),
  },
  {
    name: 'uwsgi-http-socket',
    unavailable: () => null,
    async start(port) {
      const proc = spawn('uwsgi', ['--plugin', 'python3', '--http-socket', `127.0.0.1:${port}`, '--master', '--processes', '2', '--threads', '1', '--chdir', HELLO, '--module', 'hello', '--disable-logging', '--die-on-term'], { stdio: ['ignore', 'ignore', 'ignore'] });
      const url = `http://127.0.0.1:${port}/`;
      await untilAnswered(url, proc);
      return { proc, url, masterPid: () => proc.pid! };
    },
  },
];

interface Sample {
  readonly rps: number;
  readonly masterUs: number;
  readonly workersUs: number;
  readonly nginxUs: number;
}

/** CPU seconds so far of the master, of everything below it, and of nginx (if any) in the tree of `root`. */
function treeCpu(root: number, master: number | null): { master: number; workers: number; nginx: number } {
  const below = master === null ? [] : processTree(master).filter((p) => p !== master);
  const nginx = processTree(root).filter((p) => commOf(p) === 'nginx');
  const sum = (pids: number[]): number => pids.reduce((s, p) => {
    try {
      return s + cpuSeconds(p);
    } catch {
      return s;
    }
  }, 0);
  return { master: master === null ? 0 : cpuSeconds(master), workers: sum(below), nginx: sum(nginx) };
}

async function measure(spec: PathSpec, dir: string): Promise<Sample> {
  const { proc, url, masterPid } = await spec.start(await freePort(), dir);
  try {
    execFileSync('wrk', ['-t2', '-c64', '-d1s', url]); // warm-up: JIT, caches, workers forked
    const master = masterPid();
    // Sampled per process: a worker that is replaced during the run is not counted, so the
    // run is short and recycling is off by default.
    const before = treeCpu(proc.pid!, master);
    const out = execFileSync('wrk', ['-t2', '-c64', `-d${SECONDS}s`, url], { encoding: 'utf8' });
    const after = treeCpu(proc.pid!, master);
    const requests = Number(/(\d+) requests in/.exec(out)![1]);
    // Counted, not fatal: nginx answers 502 when a unix socket's backlog overflows under -c64.
    const failed = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    if (failed > 0) console.log(`  ${spec.name}: ${failed} of ${requests} answers were not 2xx (counted in the requests)`);
    const us = (s: number): number => (s / requests) * 1e6;
    return { rps: requests / SECONDS, masterUs: us(after.master - before.master), workersUs: us(after.workers - before.workers), nginxUs: us(after.nginx - before.nginx) };
  } finally {
    proc.kill('SIGTERM');
    if (proc.exitCode === null) await new Promise((r) => proc.once('exit', r));
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), 'berth-path-cpu-'));
writeFileSync(join(dir, '10k.bin'), randomBytes(10 * 1024));
const results = new Map<string, Sample[]>();
const chosen = PATHS.filter((p) => ONLY === null || ONLY.has(p.name));
try {
  for (let r = 1; r <= ROUNDS; r++) {
    for (const spec of chosen) {
      if (spec.unavailable() !== null) continue;
      const s = await measure(spec, dir);
      results.set(spec.name, [...(results.get(spec.name) ?? []), s]);
      console.log(`round ${r} ${spec.name}: ${Math.round(s.rps)} req/s, master ${s.masterUs.toFixed(1)} µs, workers ${s.workersUs.toFixed(1)} µs, nginx ${s.nginxUs.toFixed(1)} µs per request`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\n| path | req/s | master µs/req | workers µs/req | nginx µs/req | one master core (req/s) | ${CORES}-core ceiling (req/s) |`);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const spec of chosen) {
  const why = spec.unavailable();
  if (why !== null) {
    console.log(`| ${spec.name} | not available: ${why} | | | | | |`);
    continue;
  }
  const xs = results.get(spec.name)!;
  const m = median(xs.map((s) => s.masterUs));
  const w = median(xs.map((s) => s.workersUs));
  const n = median(xs.map((s) => s.nginxUs));
  const masterCeiling = m > 0.5 ? 1e6 / m : Infinity;
  const ceiling = Math.min(masterCeiling, (CORES * 1e6) / (m + w + n));
  const fmt = (x: number): string => (Number.isFinite(x) ? `${Math.round(x / 1000)}k` : 'unbounded');
  console.log(`| ${spec.name} | ${Math.round(median(xs.map((s) => s.rps)))} | ${m.toFixed(1)} | ${w.toFixed(1)} | ${n.toFixed(1)} | ${fmt(masterCeiling)} | ${fmt(ceiling)} |`);
}
