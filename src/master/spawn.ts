/**
 * Starts one Python worker process: fd 3 is its channel to the master (a socketpair), stdout
 * and stderr are read by the master for the log, and its configuration travels as JSON in the
 * environment, so nothing in the app's argv or stdin is disturbed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.js';
import type { Interpreter } from './interpreter.js';

/** python/berth_worker.py, found by walking up from this module (works from src/ and dist/). */
export function workerScriptPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'python', 'berth_worker.py');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return join(process.cwd(), 'python', 'berth_worker.py');
}

export interface SpawnOptions {
  readonly config: Config;
  readonly interpreter: Interpreter;
  readonly slot: number;
  readonly check: boolean;
}

export function spawnWorkerProcess(opts: SpawnOptions): ChildProcess {
  const { config } = opts;
  const workerConfig = {
    module: config.module,
    wsgi_file: config.wsgiFile,
    callable: config.callable,
    chdir: config.chdir,
    pythonpath: config.pythonpath,
    threads: config.threads,
    processes: config.processes,
    worker_id: opts.slot,
    check: opts.check,
    django_static: config.staticFromDjango,
  };
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [k, v] of config.env) env[k] = v;
  env.BERTH_CHANNEL_FD = '3';
  env.BERTH_WORKER_CONFIG = JSON.stringify(workerConfig);
  env.PYTHONUNBUFFERED = '1';
  return spawn(opts.interpreter.path, [workerScriptPath()], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env,
    cwd: config.chdir ?? process.cwd(),
  });
}
