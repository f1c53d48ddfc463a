/**
 * Berth as a front vs nginx as a front, to the same two backends with the same wrk load
 * (issue 14): HTTP backends (two Berth apps on `http`; nginx with `proxy_pass` to an upstream
 * with `keepalive`, as a tuned nginx is set up) and uwsgi backends (two Berth apps on `socket`;
 * nginx with `uwsgi_pass`). One nginx worker against Berth's one master, both started once per
 * kind and measured in interleaved rounds. Prints req/s, p99 and CPU per request — the front's
 * (user space and kernel apart, and their sum) and the backends' (utime+stime of their
 * processes ÷ requests: far less disturbed by a busy machine than req/s) and the whole machine's (busy time in /proc/stat ÷ requests: wrk and
 * other load included) — each round's Berth ÷ nginx ratios, and their medians.
 * nginx's HTTP location sets the forwarding fields Berth's front sends (X-Forwarded-For,
 * -Proto, -Host, Forwarded), so both fronts hand the backends the same fields;
 * nginx's upstream keeps an idle connection 4 s (`keepalive_timeout`, 60 s by default; undici's
 * 4 s): a Berth backend's worker hands a kept connection idle for 2 s to its master, where it
 * stays on the slower master path, and with 60 s nginx's pool, idle while Berth's front is
 * measured, would come back on the master path (Berth's pool closes its idle ones at 1.25–1.5 s).
 * PROXY_FRONT_NGINX=minimal is the bench before session s14H: nginx sets only Host and
 * X-Forwarded-For and keeps idle connections 60 s.
 * PROXY_FRONT_DETAIL=1 also prints, per run, each backend process's CPU per request and which
 * backend processes hold the front's connections (ss -tnp) when wrk stops, and the front's
 * connections to the backends during the run (ss every 100 ms): the most at once, and how many
 * distinct ones were seen (each beyond those open at the start was opened during the run).
 * Run: bash scripts/build.sh && node dist/bench/proxy-front.js [rounds=3] [seconds=5] [connections=64]
 * (PROXY_FRONT_APP=varied: backends whose every response head differs, test/fixtures/apps/varied.py;
 * PROXY_FRONT_KIND=http|uwsgi: one kind only; run from another build's directory, it measures
 * that build: `cd /tmp/berth-base && node /path/to/dist/bench/proxy-front.js`)
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, getStatus } from './lib/http-probe.js';
import { cpuSeconds, treeCpuSplit, machineBusySeconds, processTree, Tracker, trySignal } from './lib/proc.js';
import { median } from './lib/report.js';
import { runWrk, type WrkResult } from './lib/wrk.js';

const ROOT = process.cwd();
const ROUNDS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 5);
const CONNECTIONS = Number(process.argv[4] ?? 64);
const PYTHON = '/usr/bin/python3';
// PROXY_FRONT_APP=varied: every response head differs (test/fixtures/apps/varied.py), so nothing
// that reuses a repeated head applies; the default hello.py repeats its head byte for byte.
const APP = join(ROOT, 'test', 'fixtures', 'apps', `${process.env.PROXY_FRONT_APP ?? 'hello'}.py`);
const NGINX_FIELDS = process.env.PROXY_FRONT_NGINX === 'minimal' ? 'minimal' : 'forwarding';
const DETAIL = process.env.PROXY_FRONT_DETAIL === '1';
const KINDS = ['http', 'uwsgi'] as const;
type Kind = (typeof KINDS)[number];
// PROXY_FRONT_KIND=http or uwsgi: only that kind of backend.
const RUN_KINDS = KINDS.filter((k) => (process.env.PROXY_FRONT_KIND ?? k) === k);
const FRONTS = ['berth', 'nginx'] as const;
type Front = (typeof FRONTS)[number];

/** `probePort`: where it answers HTTP GET / (a uwsgi backend also listens on `http` for that). */
interface Running { readonly name: string; readonly proc: ChildProcess; readonly port: number; readonly probePort: number }

const tracker = new Tracker();
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-proxy-'));
chmodSync(dir, 0o755);
const started: Running[] = [];

function launch(name: string, command: string, args: string[], port: number, probePort = port): Running {
  const proc = spawn(command, args, { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-2000)));
  proc.on('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited (${signal ?? code}) during the bench: ${err}`);
  });
  tracker.add(proc.pid!);
  const r = { name, proc, port, probePort };
  started.push(r);
  return r;
}

async function ready(r: Running): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (r.proc.exitCode !== null || r.proc.signalCode !== null) throw new Error(`${r.name} did not start`);
    if ((await getStatus(r.probePort, '/', 2000)) === 200) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${r.name} never answered 200 on /`);
}

/** A Berth app server: 2 processes × 1 thread, on `http` or on a uwsgi `socket`. */
async function backend(kind: Kind, i: number): Promise<Running> {
  const port = await freePort();
  const probePort = kind === 'http' ? port : await freePort();
  const listen = kind === 'http' ? ['--http', `127.0.0.1:${port}`] : ['--socket', `127.0.0.1:${port}`, '--http', `127.0.0.1:${probePort}`];
  return launch(`backend ${kind} ${i}`, process.execPath, [join(ROOT, 'bin', 'berth.js'), ...listen, '--wsgi-file', APP, '--processes', '2', '--threads', '1',
    '--python', PYTHON, '--disable-logging'], port, probePort);
}

async function berthFront(kind: Kind, backends: readonly Running[]): Promise<Running> {
  const port = await freePort();
  const ini = join(dir, `berth-${kind}.ini`);
  writeFileSync(ini, ['[upstream:app]', ...backends.map((b) => `server = ${kind}://127.0.0.1:${b.port}`), '',
    '[uwsgi]', `http = 127.0.0.1:${port}`, 'proxy-pass = /=app', 'disable-logging = true', ''].join('\n'));
  return launch(`berth front (${kind})`, process.execPath, [join(ROOT, 'bin', 'berth.js'), '--ini', ini], port);
}

/**
 * A production nginx's forwarding fields, as Berth's front sets them (src/proxy/forward-headers.ts):
 * X-Forwarded-Proto and -Host replaced, Forwarded appended to with this hop's element (an
 * IPv6 node quoted in brackets, RFC 7239 §6). The `map`s go in the http block.
 */
const NGINX_FORWARDING_MAPS = `
  map $remote_addr $forwarded_node { ~: "\\"[$remote_addr]\\""; default $remote_addr; }
  map $http_forwarded $forwarded_with_hop {
    "" "for=$forwarded_node;proto=$scheme;host=$http_host";
    default "$http_forwarded, for=$forwarded_node;proto=$scheme;host=$http_host";
  }`;
const NGINX_FORWARDING_FIELDS = 'proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Forwarded-Host $host; proxy_set_header Forwarded $forwarded_with_hop;';

/** nginx with one worker; keep-alive connections to HTTP backends (uwsgi_pass has none). */
async function nginxFront(kind: Kind, backends: readonly Running[]): Promise<Running> {
  const port = await freePort();
  const prefix = join(dir, `nginx-${kind}`);
  const servers = backends.map((b) => `server 127.0.0.1:${b.port};`).join(' ');
  const forwarding = NGINX_FIELDS === 'forwarding';
  const location = kind === 'http'
    ? `proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;${forwarding ? ` ${NGINX_FORWARDING_FIELDS}` : ''}`
    : 'uwsgi_pass app; include /etc/nginx/uwsgi_params;';
  writeFileSync(`${prefix}.conf`, `
worker_processes 1;
daemon off;
pid ${prefix}.pid;
error_log ${prefix}.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;${kind === 'http' && forwarding ? NGINX_FORWARDING_MAPS : ''}
  upstream app { ${servers} ${kind === 'http' ? `keepalive 64;${forwarding ? ' keepalive_timeout 4s;' : ''}` : ''} }
  server { listen 127.0.0.1:${port}; location / { ${location} } }
}
`);
  return launch(`nginx front (${kind})`, 'nginx', ['-c', `${prefix}.conf`, '-p', dir], port);
}

/** CPU seconds used so far by every process of `rs` (masters, zygotes, workers). */
function treeCpu(rs: readonly Running[]): number {
  return rs.reduce((sum, r) => sum + processTree(r.proc.pid!).reduce((s, pid) => s + cpuSeconds(pid), 0), 0);
}


/**
 * Per request, in µs: `cpuUs` the front's CPU (`userUs` of it in user space, `systemUs` in the
 * kernel), `backendUs` both backends', `machineUs` the machine's busy time.
 */
interface Sample { rps: number; p99Ms: number; cpuUs: number; userUs: number; systemUs: number; backendUs: number; machineUs: number; errors: number }

/** CPU seconds so far of each process of each backend, by pid (the tree's first pid is its master). */
function processCpu(backends: readonly Running[]): Map<number, number>[] {
  return backends.map((b) => new Map(processTree(b.proc.pid!).map((pid) => [pid, cpuSeconds(pid)])));
}

/** Established TCP connections to `port` on loopback (the front's to a backend), by the process holding the server end: "node 101: 3, python3 102: 30, python3 103: 31". */
function connectionsTo(port: number): string {
  const lines = execFileSync('ss', ['-tnpH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() !== '');
  const byProcess = new Map<string, number>();
  for (const line of lines) {
    const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(line);
    const name = m === null ? '?' : `${m[1]} ${m[2]}:`;
    byProcess.set(name, (byProcess.get(name) ?? 0) + 1);
  }
  return [...byProcess].map(([name, n]) => `${name} ${n}`).join(', ') || 'none';
}

function printDetail(label: string, backends: readonly Running[], before: Map<number, number>[], after: Map<number, number>[], requests: number): void {
  backends.forEach((b, i) => {
    const perProcess = [...after[i]!].map(([pid, cpu]) => (((cpu - (before[i]!.get(pid) ?? 0)) / Math.max(1, requests)) * 1e6).toFixed(1));
    console.log(`  ${label} ${b.name}: connections from the front held by ${connectionsTo(b.port)}; µs/request per process (master first): ${perProcess.join(' ')}`);
  });
}

/** The established connections of `front`'s processes to the backends, by local address (ss filtered on the backends' ports; the other front's are left out). */
function frontConnections(front: Running, backends: readonly Running[]): Promise<Set<string>> {
  const pids = new Set(processTree(front.proc.pid!).map(String));
  const filter = `( ${backends.map((b) => `dport = :${b.port}`).join(' or ')} )`;
  return new Promise((res) => execFile('ss', ['-tnpH', 'state', 'established', filter], { encoding: 'utf8' }, (err, out) => {
    const mine = err ? [] : out.split('\n').filter((l) => [...l.matchAll(/pid=(\d+)/g)].some((m) => pids.has(m[1]!)));
    res(new Set(mine.map((l) => l.trim().split(/\s+/)[2] ?? '')));
  }));
}

/** Samples the front's backend connections every 100 ms until `done` resolves: the most at once, and all seen. */
async function sampleConnections(front: Running, backends: readonly Running[], done: Promise<unknown>): Promise<{ atStart: number; most: number; seen: number }> {
  let finished = false;
  const stop = (): void => void (finished = true);
  done.then(stop, stop); // a failed wrk is reported by measure(), not here as an unhandled rejection
  const first = await frontConnections(front, backends);
  const seen = new Set(first);
  let most = first.size;
  while (!finished) {
    await new Promise((res) => setTimeout(res, 100));
    const now = await frontConnections(front, backends);
    most = Math.max(most, now.size);
    for (const a of now) seen.add(a);
  }
  return { atStart: first.size, most, seen: seen.size };
}

async function measure(r: Running, backends: readonly Running[]): Promise<Sample> {
  const detailBefore = DETAIL ? processCpu(backends) : [];
  const before = { front: treeCpuSplit(r.proc.pid!), backends: treeCpu(backends), machine: machineBusySeconds() };
  const running = runWrk(tracker, { url: `http://127.0.0.1:${r.port}/`, connections: CONNECTIONS, durationS: SECONDS });
  const sampling = DETAIL ? sampleConnections(r, backends, running) : null;
  const w: WrkResult = await running;
  const after = { front: treeCpuSplit(r.proc.pid!), backends: treeCpu(backends), machine: machineBusySeconds() };
  if (DETAIL) {
    printDetail(r.name, backends, detailBefore, processCpu(backends), w.requests);
    const c = (await sampling)!;
    console.log(`  ${r.name}: connections to the backends during the run (ss every 100 ms): ${c.atStart} at the start, at most ${c.most} at once, ${c.seen} distinct (at least ${c.seen - c.atStart} opened, ${((c.seen - c.atStart) / SECONDS).toFixed(1)}/s, ${(((c.seen - c.atStart) / Math.max(1, w.requests)) * 1e3).toFixed(2)} per 1,000 requests)`);
  }
  const perRequestUs = (seconds: number): number => (seconds / Math.max(1, w.requests)) * 1e6;
  return {
    rps: w.rps, p99Ms: w.p99Ms, errors: w.errors + w.readErrors,
    userUs: perRequestUs(after.front.user - before.front.user), systemUs: perRequestUs(after.front.system - before.front.system),
    cpuUs: perRequestUs(after.front.user + after.front.system - before.front.user - before.front.system),
    backendUs: perRequestUs(after.backends - before.backends), machineUs: perRequestUs(after.machine - before.machine),
  };
}

function cpuLine(s: Sample): string {
  return `CPU/request µs: front ${s.cpuUs.toFixed(1)} (user ${s.userUs.toFixed(1)}, sys ${s.systemUs.toFixed(1)}), backends ${s.backendUs.toFixed(1)}, machine ${s.machineUs.toFixed(1)}`;
}


function spread(xs: number[], digits = 2): string {
  return `${median(xs)!.toFixed(digits)} (range ${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
}

let stopping = false;
async function stopAll(): Promise<void> {
  stopping = true;
  for (const r of started) trySignal(r.proc.pid!, r.name.startsWith('nginx') ? 'SIGQUIT' : 'SIGTERM');
  await Promise.all(started.map((r) => (r.proc.exitCode !== null || r.proc.signalCode !== null ? null
    : new Promise((res) => { const t = setTimeout(() => trySignal(-r.proc.pid!, 'SIGKILL'), 10_000); r.proc.once('exit', () => res(clearTimeout(t))); }))));
  for (const r of started) tracker.remove(r.proc.pid!);
  rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => { tracker.killAll(); process.exit(130); });

try {
  console.log(`proxy-front: ${ROUNDS} interleaved rounds × ${SECONDS} s, wrk -c${CONNECTIONS}, backends: 2 Berth apps (2 processes × 1 thread, ${APP}); nginx's HTTP upstream: ${NGINX_FIELDS === 'minimal' ? 'Host, X-Forwarded-For, idle connections kept 60 s (PROXY_FRONT_NGINX=minimal)' : 'Host, X-Forwarded-For, -Proto, -Host, Forwarded, idle connections kept 4 s'}`);
  for (const kind of RUN_KINDS) {
    const backends = [await backend(kind, 1), await backend(kind, 2)];
    for (const b of backends) await ready(b);
    const fronts: Record<Front, Running> = { berth: await berthFront(kind, backends), nginx: await nginxFront(kind, backends) };
    for (const r of Object.values(fronts)) await ready(r);
    for (const r of Object.values(fronts)) await runWrk(tracker, { url: `http://127.0.0.1:${r.port}/`, connections: CONNECTIONS, durationS: 1 });
    const rows: Record<Front, Sample[]> = { berth: [], nginx: [] };
    const ratios = { rps: [] as number[], p99: [] as number[], cpu: [] as number[], user: [] as number[], backend: [] as number[], machine: [] as number[] };
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate which front goes first, so neither always meets the machine in the same state.
      const order: Front[] = round % 2 === 1 ? ['berth', 'nginx'] : ['nginx', 'berth'];
      const got = {} as Record<Front, Sample>;
      for (const f of order) {
        got[f] = await measure(fronts[f], backends);
        rows[f].push(got[f]);
        console.log(`${kind} round ${round} ${f}: ${Math.round(got[f].rps)} req/s, p99 ${got[f].p99Ms.toFixed(2)} ms, ${cpuLine(got[f])}${got[f].errors > 0 ? `, ${got[f].errors} errors` : ''}`);
      }
      ratios.rps.push(got.berth.rps / got.nginx.rps);
      ratios.p99.push(got.berth.p99Ms / got.nginx.p99Ms);
      ratios.cpu.push(got.berth.cpuUs / got.nginx.cpuUs);
      ratios.user.push(got.berth.userUs / got.nginx.userUs);
      ratios.backend.push(got.berth.backendUs / got.nginx.backendUs);
      ratios.machine.push(got.berth.machineUs / got.nginx.machineUs);
    }
    for (const f of FRONTS) {
      const us = (pick: (s: Sample) => number): string => spread(rows[f].map(pick), 1);
      console.log(`${kind} median ${f}: ${spread(rows[f].map((s) => s.rps), 0)} req/s, p99 ${spread(rows[f].map((s) => s.p99Ms))} ms, CPU/request µs: front ${us((s) => s.cpuUs)} (user ${us((s) => s.userUs)}, sys ${us((s) => s.systemUs)}), backends ${us((s) => s.backendUs)}, machine ${us((s) => s.machineUs)}`);
    }
    const verdict = median(ratios.rps)! >= 0.8 && median(ratios.p99)! <= 1.5 ? 'meets' : 'MISSES';
    console.log(`${kind} Berth ÷ nginx: req/s ${spread(ratios.rps)}, p99 ${spread(ratios.p99)}, CPU/request front ${spread(ratios.cpu)} (user ${spread(ratios.user)}), backends ${spread(ratios.backend)}, machine ${spread(ratios.machine)} — ${verdict} the target (req/s ≥ 0.8, p99 ≤ 1.5)`);
  }
} finally {
  await stopAll();
}
