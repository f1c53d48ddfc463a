/**
 * Two builds of Berth's proxy front, A and B, side by side on the same two backends (issue 14):
 * the A/B of a change to the front, measured as the front's own CPU per request, user space and
 * kernel apart (utime and stime of /proc/PID/stat ÷ requests).
 * Why a pair and not two runs of proxy-front.js: on a shared machine the load moves between two
 * runs by more than a change's few per cent; here each pair measures A and B seconds apart
 * (order swapped every pair), and the claim is the median of the per-pair ratios B ÷ A. Run it
 * both ways round (the change as A, then as B) and once A/A: the harness's own bias.
 * Run: bash scripts/build.sh && node dist/bench/proxy-front-pair.js A_TREE B_TREE [pairs=10] [seconds=3] [connections=64]
 * (a tree is a built checkout: its bin/berth.js runs the front; the backends run this build;
 * PROXY_FRONT_KIND=uwsgi: uwsgi backends instead of HTTP ones)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, getStatus } from './lib/http-probe.js';
import { treeCpuSplit, Tracker, trySignal } from './lib/proc.js';
import { median } from './lib/report.js';
import { runWrk } from './lib/wrk.js';

const [A_TREE, B_TREE] = process.argv.slice(2, 4);
if (A_TREE === undefined || B_TREE === undefined) {
  console.error('usage: node dist/bench/proxy-front-pair.js A_TREE B_TREE [pairs=10] [seconds=3] [connections=64]');
  process.exit(2);
}
const PAIRS = Number(process.argv[4] ?? 10);
const SECONDS = Number(process.argv[5] ?? 3);
const CONNECTIONS = Number(process.argv[6] ?? 64);
const KIND = process.env.PROXY_FRONT_KIND === 'uwsgi' ? 'uwsgi' : 'http';
const ROOT = process.cwd();
const APP = join(ROOT, 'test', 'fixtures', 'apps', 'hello.py');

const tracker = new Tracker();
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-pair-'));
const children: ChildProcess[] = [];

function start(tree: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [join(tree, 'bin', 'berth.js'), ...args], { cwd: tree, detached: true, stdio: 'ignore' });
  tracker.add(child.pid!);
  children.push(child);
  return child;
}

async function ready(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${child.spawnargs.join(' ')} exited before it answered`);
    if ((await getStatus(port, '/', 2000)) === 200) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`nothing answered 200 on port ${port}`);
}


interface Front { readonly label: string; readonly tree: string; readonly port: number; readonly child: ChildProcess }
interface Sample { userUs: number; systemUs: number; rps: number }

async function measure(f: Front): Promise<Sample> {
  const before = treeCpuSplit(f.child.pid!);
  const w = await runWrk(tracker, { url: `http://127.0.0.1:${f.port}/`, connections: CONNECTIONS, durationS: SECONDS });
  const after = treeCpuSplit(f.child.pid!);
  const per = (seconds: number): number => (seconds / Math.max(1, w.requests)) * 1e6;
  return { userUs: per(after.user - before.user), systemUs: per(after.system - before.system), rps: w.rps };
}


async function stopAll(): Promise<void> {
  for (const c of children) trySignal(-c.pid!, 'SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? null
    : new Promise((res) => { const t = setTimeout(() => trySignal(-c.pid!, 'SIGKILL'), 10_000); c.once('exit', () => res(clearTimeout(t))); }))));
  for (const c of children) tracker.remove(c.pid!);
  rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => { tracker.killAll(); process.exit(130); });

try {
  const backendPorts: number[] = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const probe = KIND === 'http' ? port : await freePort();
    const listen = KIND === 'http' ? ['--http', `127.0.0.1:${port}`] : ['--socket', `127.0.0.1:${port}`, '--http', `127.0.0.1:${probe}`];
    const child = start(ROOT, [...listen, '--wsgi-file', APP, '--processes', '2', '--threads', '1', '--python', '/usr/bin/python3', '--disable-logging']);
    await ready(probe, child);
    backendPorts.push(port);
  }
  const fronts: Front[] = [];
  for (const [label, tree] of [['A', A_TREE], ['B', B_TREE]] as const) {
    const port = await freePort();
    const ini = join(dir, `front-${label}.ini`);
    writeFileSync(ini, ['[upstream:app]', ...backendPorts.map((p) => `server = ${KIND}://127.0.0.1:${p}`), '',
      '[uwsgi]', `http = 127.0.0.1:${port}`, 'proxy-pass = /=app', 'disable-logging = true', ''].join('\n'));
    const child = start(tree, ['--ini', ini]);
    await ready(port, child);
    fronts.push({ label, tree, port, child });
  }
  console.log(`proxy-front-pair: ${PAIRS} pairs × ${SECONDS} s, wrk -c${CONNECTIONS}, ${KIND} backends (2 Berth apps, 2 processes × 1 thread); A = ${A_TREE}, B = ${B_TREE}`);
  for (const f of fronts) await runWrk(tracker, { url: `http://127.0.0.1:${f.port}/`, connections: CONNECTIONS, durationS: 1 });
  const rows: Sample[][] = [[], []];
  for (let pair = 0; pair < PAIRS; pair++) {
    const order = pair % 2 === 0 ? [0, 1] : [1, 0];
    const parts: string[] = [];
    for (const i of order) {
      const s = await measure(fronts[i]!);
      rows[i]!.push(s);
      parts.push(`${fronts[i]!.label} user ${s.userUs.toFixed(1)} sys ${s.systemUs.toFixed(1)} µs (${Math.round(s.rps)} req/s)`);
    }
    console.log(`pair ${pair + 1}: ${parts.join(' | ')}`);
  }
  fronts.forEach((f, i) => {
    const r = rows[i]!;
    console.log(`${f.label} median µs/request: user ${median(r.map((s) => s.userUs))!.toFixed(2)}, sys ${median(r.map((s) => s.systemUs))!.toFixed(2)}, total ${median(r.map((s) => s.userUs + s.systemUs))!.toFixed(2)}`);
  });
  const [a, b] = rows as [Sample[], Sample[]];
  const userRatios = a.map((s, i) => b[i]!.userUs / s.userUs);
  const totalRatios = a.map((s, i) => (b[i]!.userUs + b[i]!.systemUs) / (s.userUs + s.systemUs));
  console.log(`B ÷ A per pair, median: user ${median(userRatios)!.toFixed(3)} (B lower in ${userRatios.filter((r) => r < 1).length} of ${PAIRS}), total ${median(totalRatios)!.toFixed(3)}`);
} finally {
  await stopAll();
}
