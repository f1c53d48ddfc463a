// Worker start-up: how long from spawn() to READY, run the way src/master/spawn.ts and
// src/master/zygote.ts run the real python/berth_worker.py (fd 3 a socketpair, detached, its
// own process group, BERTH_WORKER_CONFIG as workerConfigJson writes it). Three figures per app:
//   worker   lazy-apps: spawn -> READY
//   zygote   preload: spawn -> the zygote's READY
//   fork     preload: FORK -> the forked worker's READY on its own connection (after HELLO)
// and, with mode lazy-zygote, the same two for lazy-apps: a zygote without the app, whose
// forked worker imports it (what a lazy-apps respawn costs).
// Median and p90 of --runs samples each; every process is stopped (SHUTDOWN, then SIGKILL to
// its group if it lingers). Several --runtime flags compare launchers (say, an old single-file
// runtime and this one): their samples alternate, so a load that comes and goes hits both alike.
//
//   node dist/bench/worker-start.js [--runtime python/berth_worker.py ...] [--python /usr/bin/python3]
//        [--runs 20] [--apps hello,django] [--modes worker,zygote,lazy-zygote] [--no-django-check]
//
// Not a test: no assertions.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

import { FrameDecoder, type Frame } from '../src/protocol/worker/decode.js';
import { encodeFork, encodeShutdown } from '../src/protocol/worker/encode.js';
import { FromWorker } from '../src/protocol/worker/frames.js';
import { workerConfigJson, type LaunchConfig } from '../src/master/spawn.js';
import { eachFlag, findRoot, fmt, log, mdTable, nameList, positive, prepareDjango, runMain } from './lib/cli-common.js';

interface App { name: string; chdir: string; module: string; env: NodeJS.ProcessEnv; cleanup: () => void }
interface Args { runtimes: string[]; python: string; runs: number; apps: string[]; modes: string[]; djangoCheck: boolean }

const APPS = ['hello', 'django'];
const MODES = ['worker', 'zygote', 'lazy-zygote'];
type ZygoteMode = 'zygote' | 'lazy-zygote';
const FRAME_TIMEOUT_MS = 60_000;
const EXIT_WAIT_MS = 5_000;

const USAGE = `usage: node dist/bench/worker-start.js [options]
  --runtime PATH   a worker launcher to start; repeat it to compare (default <repo>/python/berth_worker.py)
  --python PATH    interpreter (default /usr/bin/python3)
  --runs N         samples per figure (default 20)
  --apps LIST      ${APPS.join(',')} (default both)
  --modes LIST     ${MODES.join(',')} (default all)
  --no-django-check  reload-check-django = false (default: on, as in Berth)`;

function parseArgs(argv: string[], root: string): Args {
  const args: Args = { runtimes: [], python: '/usr/bin/python3', runs: 20, apps: APPS, modes: MODES, djangoCheck: true };
  eachFlag(argv, (flag, take) => {
    switch (flag) {
      case '--runtime': args.runtimes.push(resolve(take())); break;
      case '--python': args.python = take(); break;
      case '--runs': args.runs = Math.round(positive(take(), flag)); break;
      case '--apps': args.apps = nameList(take(), APPS, 'app'); break;
      case '--modes': args.modes = nameList(take(), MODES, 'mode'); break;
      case '--no-django-check': args.djangoCheck = false; break;
      case '-h': case '--help': console.log(USAGE); process.exit(0);
      default: throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  });
  if (args.runtimes.length === 0) args.runtimes.push(join(root, 'python', 'berth_worker.py'));
  return args;
}

/** Frames from one socket, awaited one at a time. */
class FrameQueue {
  #decoder = new FrameDecoder();
  #frames: Frame[] = [];
  #wake: (() => void) | null = null;
  #closed = false;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#decoder.push(chunk);
      for (let f = this.#decoder.next(); f !== null; f = this.#decoder.next()) this.#frames.push(f);
      this.#notify();
    });
    socket.on('close', () => { this.#closed = true; this.#notify(); });
    socket.on('error', () => { this.#closed = true; this.#notify(); });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** The next frame of this type (others are skipped, e.g. MODULES); throws on EOF or timeout. */
  async next(type: number, what: string): Promise<Frame> {
    const deadline = Date.now() + FRAME_TIMEOUT_MS;
    for (;;) {
      const f = this.#frames.shift();
      if (f !== undefined) {
        if (f.type === type) return f;
        if (f.type === FromWorker.BOOT_FAIL) throw new Error(`${what}: BOOT_FAIL ${f.payload.toString('utf8').slice(0, 500)}`);
        continue;
      }
      if (this.#closed) throw new Error(`${what}: the channel closed before frame 0x${type.toString(16)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: no frame 0x${type.toString(16)} within ${FRAME_TIMEOUT_MS} ms`);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, left);
        this.#wake = () => { clearTimeout(timer); done(); };
      });
    }
  }
}

/** The config the master would send (src/master/spawn.ts writes it, so the two cannot drift). */
function configJson(app: App, mode: 'worker' | ZygoteMode, channelPath: string | null, token: string, djangoCheck: boolean): string {
  const config: LaunchConfig = {
    module: app.module, wsgiFile: null, callable: 'application', chdir: app.chdir, pythonpath: [], threads: 1, processes: 1,
    staticFromDjango: false, env: [], uid: null, gid: null, umask: null, pyAutoreloadMs: 0, lazyApps: mode === 'worker', reloadOnRssBytes: 0, reloadCheckDjango: djangoCheck,
  };
  return workerConfigJson(config, { mode, workerId: mode === 'zygote' ? 0 : 1, check: false, channelPath, token });
}

function spawnRuntime(args: Args, runtime: string, app: App, config: string): { child: ChildProcess; frames: FrameQueue; stderr: () => string } {
  const child = spawn(args.python, [runtime], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...app.env, BERTH_CHANNEL_FD: '3', BERTH_WORKER_CONFIG: config, PYTHONUNBUFFERED: '1' },
    cwd: app.chdir,
    detached: true,
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => { if (stderr.length < 65536) stderr += text; });
  return { child, frames: new FrameQueue(child.stdio[3] as Socket), stderr: () => stderr };
}

/** SHUTDOWN on the channel, then up to EXIT_WAIT_MS for the exit; SIGKILL to the group after that. */
async function stop(child: ChildProcess, channel: Socket | null): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((done) => child.once('exit', () => done()));
  if (channel !== null && !channel.destroyed) channel.write(encodeShutdown());
  const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone already */ } }, EXIT_WAIT_MS);
  await exited;
  clearTimeout(timer);
  channel?.destroy();
}

async function lazyWorker(args: Args, runtime: string, app: App): Promise<number> {
  const t0 = performance.now();
  const { child, frames, stderr } = spawnRuntime(args, runtime, app, configJson(app, 'worker', null, '', args.djangoCheck));
  const channel = child.stdio[3] as Socket;
  try {
    await frames.next(FromWorker.READY, 'worker').catch((err: Error) => { throw new Error(`${err.message}\n${stderr()}`); });
    return performance.now() - t0;
  } finally {
    await stop(child, channel);
  }
}

/** One zygote: [spawn -> READY, FORK -> forked worker's READY] in ms. */
let zygotes = 0;

async function zygoteAndFork(args: Args, runtime: string, app: App, dir: string, mode: ZygoteMode): Promise<[number, number]> {
  const channelPath = join(dir, `zygote-${zygotes++}.sock`);
  const token = randomBytes(8).toString('hex');
  const forked: Socket[] = [];
  let onConnection: ((s: Socket) => void) | null = null;
  const server: Server = createServer((s) => { forked.push(s); onConnection?.(s); });
  await new Promise<void>((done) => server.listen(channelPath, done));
  const t0 = performance.now();
  const { child, frames, stderr } = spawnRuntime(args, runtime, app, configJson(app, mode, channelPath, token, args.djangoCheck));
  const channel = child.stdio[3] as Socket;
  try {
    await frames.next(FromWorker.READY, 'zygote').catch((err: Error) => { throw new Error(`${err.message}\n${stderr()}`); });
    const zygoteMs = performance.now() - t0;
    const connected = new Promise<Socket>((done) => { onConnection = done; });
    const t1 = performance.now();
    channel.write(encodeFork(1));
    const worker = await connected;
    const workerFrames = new FrameQueue(worker);
    await workerFrames.next(FromWorker.HELLO, 'forked worker');
    await workerFrames.next(FromWorker.READY, 'forked worker');
    const forkMs = performance.now() - t1;
    worker.write(encodeShutdown());
    await frames.next(FromWorker.EXITED, 'zygote (EXITED of the forked worker)');
    return [zygoteMs, forkMs];
  } finally {
    await stop(child, channel);
    for (const s of forked) s.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function summary(samples: number[]): [string, string, string] {
  const sorted = [...samples].sort((a, b) => a - b);
  return [fmt(quantile(sorted, 0.5), 1), fmt(quantile(sorted, 0.9), 1), fmt(sorted[0], 1)];
}

function prepareApp(name: string, root: string, python: string): App {
  if (name === 'hello') {
    return { name, chdir: join(root, 'test/fixtures/apps'), module: 'hello', env: {}, cleanup: () => {} };
  }
  const django = prepareDjango(root, python);
  return {
    name, chdir: django.appDir, module: django.module, env: django.prepared.env,
    cleanup: () => rmSync(django.prepared.tempDir, { recursive: true, force: true }),
  };
}

async function main(): Promise<void> {
  const root = findRoot();
  const args = parseArgs(process.argv.slice(2), root);
  const dir = mkdtempSync(join(tmpdir(), 'berth-worker-start-'));
  const rows: string[][] = [];
  try {
    for (const name of args.apps) {
      const app = prepareApp(name, root, args.python);
      try {
        if (args.modes.includes('worker')) {
          const samples = args.runtimes.map((): number[] => []);
          for (const runtime of args.runtimes) await lazyWorker(args, runtime, app); // warm-up: the page cache
          for (let i = 0; i < args.runs; i++) {
            for (const [r, runtime] of args.runtimes.entries()) samples[r]!.push(await lazyWorker(args, runtime, app));
          }
          for (const [r, runtime] of args.runtimes.entries()) rows.push([name, runtime, 'worker: spawn → READY', ...summary(samples[r]!)]);
          log(`${name} worker done`);
        }
        for (const mode of ['zygote', 'lazy-zygote'] as const) {
          if (!args.modes.includes(mode)) continue;
          const zygote = args.runtimes.map((): number[] => []);
          const fork = args.runtimes.map((): number[] => []);
          for (const runtime of args.runtimes) await zygoteAndFork(args, runtime, app, dir, mode);
          for (let i = 0; i < args.runs; i++) {
            for (const [r, runtime] of args.runtimes.entries()) {
              const [z, f] = await zygoteAndFork(args, runtime, app, dir, mode);
              zygote[r]!.push(z);
              fork[r]!.push(f);
            }
          }
          const prefix = mode === 'zygote' ? '' : 'lazy ';
          for (const [r, runtime] of args.runtimes.entries()) {
            rows.push([name, runtime, `${prefix}zygote: spawn → READY`, ...summary(zygote[r]!)]);
            rows.push([name, runtime, `${prefix}fork: FORK → worker READY`, ...summary(fork[r]!)]);
          }
          log(`${name} ${mode} done`);
        }
      } finally {
        app.cleanup();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`python ${args.python}, ${args.runs} runs each (ms)\n`);
  console.log(mdTable(['app', 'runtime', 'figure', 'median', 'p90', 'min'], rows));
}

runMain('worker-start', main);
