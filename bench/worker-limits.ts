// The worker side of the operations limits, measured against a real Berth:
//   rss:     reload-on-rss = 100 with an app leaking 5 MB per request; the highest peak RSS
//            (VmHWM, sampled after each answer) of any worker, and how many were replaced,
//            framed (HTTP port) and uwsgi-direct (uwsgi socket);
//   orphans: `setsid sleep` and double-forked children of the app, then SIGKILL the master;
//            how many are gone within 5 s, preload and lazy-apps.
//
//   node dist/bench/worker-limits.js [--berth bin/berth.js] [--requests 60] [--runs 5]
//        [--python /usr/bin/python3] [--only rss,orphans]
//
// Not a test: no assertions. Every process it starts is stopped.

import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isAlive as alive } from '../src/master/proc.js';
import { encodeUwsgiRequest } from '../src/protocol/uwsgi/client.js';
import { sendInput } from './lib/fuzz/send.js';
import { peakRssMb } from './lib/tree-memory.js';

const REPO = process.cwd();
const flag = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
};
const BERTH = resolve(flag('berth', join(REPO, 'bin', 'berth.js')));
const PYTHON = flag('python', '/usr/bin/python3');
const REQUESTS = Number(flag('requests', '60'));
const RUNS = Number(flag('runs', '5'));
const ONLY = flag('only', 'rss,orphans').split(',');
const LIMIT_MB = 100;
const LEAK_MB = 5;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function start(args: string[]): Promise<{ proc: ChildProcess; port: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-limits-'));
  copyFileSync(join(REPO, 'test', 'fixtures', 'apps', 'ops.py'), join(dir, 'ops.py'));
  const proc = spawn(process.execPath, [BERTH, ...args, '--chdir', dir, '--module', 'ops', '--python', PYTHON], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir },
  });
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  proc.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  for (let i = 0; i < 300; i++) {
    const port = /listening on \w+:\/\/127\.0\.0\.1:(\d+)/.exec(log)?.[1];
    if (port !== undefined && /all \d+ worker\(s\) ready/.test(log)) return { proc, port: Number(port), dir };
    await sleep(50);
  }
  proc.kill('SIGKILL');
  throw new Error(`Berth did not start:\n${log}`);
}

async function stop(b: { proc: ChildProcess; dir: string }, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (b.proc.exitCode === null && b.proc.signalCode === null) {
    const exited = new Promise((r) => b.proc.once('exit', r));
    b.proc.kill(signal);
    await exited;
  }
  rmSync(b.dir, { recursive: true, force: true });
}

function uwsgiGet(port: number, path: string): Promise<string> {
  const [p, q = ''] = path.split('?') as [string, string?];
  const packet = encodeUwsgiRequest(['REQUEST_METHOD', 'GET', 'REQUEST_URI', path, 'PATH_INFO', p, 'QUERY_STRING', q,
    'SERVER_PROTOCOL', 'HTTP/1.1', 'REMOTE_ADDR', '127.0.0.1', 'REMOTE_PORT', '1', 'SERVER_NAME', 's', 'SERVER_PORT', '80']);
  return sendInput(port, packet, [], 30_000).then((r) => r.data.toString('latin1'));
}

async function rss(path: 'framed' | 'uwsgi-direct'): Promise<void> {
  const listen = path === 'framed' ? ['--http', '127.0.0.1:0'] : ['--socket', '127.0.0.1:0'];
  const b = await start([...listen, '--processes', '1', '--reload-on-rss', String(LIMIT_MB), '--min-worker-lifetime', '0']);
  const peaks = new Map<number, number>();
  try {
    for (let i = 0; i < REQUESTS; i++) {
      const url = `/leak?mb=${LEAK_MB}`;
      const text = path === 'framed' ? await (await fetch(`http://127.0.0.1:${b.port}${url}`)).text() : await uwsgiGet(b.port, url);
      const pid = Number(/pid (\d+)/.exec(text)?.[1]);
      const mb = peakRssMb(pid);
      if (mb !== null) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, mb));
    }
  } finally {
    await stop(b);
  }
  console.log(`rss ${path}: ${REQUESTS} × ${LEAK_MB} MB, reload-on-rss = ${LIMIT_MB} MB: highest peak ${Math.max(...peaks.values()).toFixed(1)} MB, ${peaks.size} worker pid(s) answered`);
}

async function orphans(mode: 'preload' | 'lazy-apps'): Promise<void> {
  let started = 0;
  let gone = 0;
  for (let run = 0; run < RUNS; run++) {
    const b = await start(['--http', '127.0.0.1:0', '--processes', '2', ...(mode === 'lazy-apps' ? ['--lazy-apps'] : [])]);
    const pids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const text = await (await fetch(`http://127.0.0.1:${b.port}/setsid`)).text();
      pids.push(...(/escaped ([\d ]+) from/.exec(text)?.[1] ?? '').split(' ').map(Number));
    }
    await stop(b, 'SIGKILL');
    for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(50);
    started += pids.length;
    gone += pids.filter((p) => !alive(p)).length;
    for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
  }
  console.log(`orphans ${mode}: ${gone} of ${started} setsid/double-forked children gone within 5 s of a master SIGKILL (${RUNS} runs)`);
}

if (ONLY.includes('rss')) for (const p of ['framed', 'uwsgi-direct'] as const) await rss(p);
if (ONLY.includes('orphans')) for (const m of ['preload', 'lazy-apps'] as const) await orphans(m);
