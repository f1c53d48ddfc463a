/**
 * Starts the Python processes: the zygote that forks the workers (preload: it imports the app
 * once first; lazy-apps: each worker imports it after the fork), or a lone worker (berth check). fd 3 is the channel to the master (a socketpair), stdout and
 * stderr are read by the master for the log, and the configuration travels as JSON in the
 * environment (BERTH_WORKER_CONFIG), so nothing in the app's argv or stdin is disturbed.
 * Both are detached: each leads its own process group (SIGKILL of the group takes whatever the
 * app started along), and a terminal's Ctrl-C reaches only the master, which stops them in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Endpoints } from '../server/endpoints.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.js';
import type { Interpreter } from './interpreter.js';
import type { WorkerMode } from '../protocol/worker/worker-config.js';

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

/** The part of the configuration the Python side needs (and the launcher's choice of mode). */
export type LaunchConfig = Pick<Config, 'module' | 'wsgiFile' | 'callable' | 'chdir' | 'pythonpath' | 'threads' | 'processes' | 'staticFromDjango' | 'env' | 'uid' | 'gid' | 'umask' | 'pyAutoreloadMs' | 'lazyApps' | 'reloadOnRssBytes' | 'reloadCheckDjango'>;

/** The settings the workers apply themselves when they serve the uwsgi sockets (uwsgi-direct). */
export type DirectConfig = Pick<Config, 'listen' | 'bufferSizeBytes' | 'limitPostBytes' | 'socketTimeoutMs' | 'uwsgiDirectBatch' | 'staticMaps' | 'manageScriptName' | 'mounts' | 'disableLogging' | 'log4xx' | 'logSlowMs' | 'forwardedAllowIps'>;

/**
 * uwsgi-direct: the bound uwsgi sockets the workers accept on, and where they relay the
 * connections the master must handle. The sockets become the child's fds 4, 5, … in order.
 */
export interface DirectSockets {
  readonly listeners: readonly { readonly fd: number; readonly unix: boolean; readonly index: number }[];
  readonly relayPath: string;
  readonly token: string;
  readonly config: DirectConfig;
  /** http-direct: the TCP HTTP listeners the workers accept on (child fds after the uwsgi ones). */
  readonly http?: HttpDirectSockets | null;
}

/** http-direct: the HTTP listeners, and where the connections the workers hand over go. */
export interface HttpDirectSockets {
  /** `timeoutMs`: the listener's http-timeout (socket-timeout for http-socket), which bounds how long a worker keeps a connection idle. */
  readonly listeners: readonly { readonly fd: number; readonly index: number; readonly timeoutMs: number }[];
  /** A connection a worker handed over on the zygote's IPC channel, with the worker's note. */
  readonly onHandOff: (note: HandOffNote, socket: Socket) => void;
}

/** What a worker says with a connection it hands over (python/berth_runtime/http_handoff.py). */
export interface HandOffNote {
  readonly listener: number;
  readonly pid: number;
  readonly reason: string;
  readonly served: number;
  /** The connection's ends as the worker learnt them at accept, when it could say them. */
  readonly ends?: Endpoints;
}

/** How long a worker's idle keep-alive connections wait while all its threads are in the app, before going to the master (an attended loop keeps them up to the listener's timeout: python/berth_runtime/http_kept.py). */
const HTTP_IDLE_MS = 100;

/** BERTH_WORKER_CONFIG's `http_direct`, as python/berth_runtime/http_direct.py reads it. */
function httpDirectJson(d: DirectSockets, h: HttpDirectSockets): object {
  const c = d.config;
  return {
    listeners: h.listeners.map((l, i) => ({ fd: FIRST_DIRECT_FD + d.listeners.length + i, index: l.index, timeout_ms: l.timeoutMs })),
    backlog: c.listen,
    buffer_size: c.bufferSizeBytes,
    limit_post: c.limitPostBytes,
    timeout_ms: c.socketTimeoutMs,
    idle_ms: HTTP_IDLE_MS,
    static_prefixes: c.staticMaps.map((m) => m.mountpoint),
    mounts: c.mounts.map((m) => m.prefix),
    log_all: !c.disableLogging,
    log_4xx: c.log4xx,
    slow_ms: c.logSlowMs,
    // The worker applies the master's forwarded-allow-ips rule itself (python/berth_runtime/forwarded.py).
    forwarded_allow: c.forwardedAllowIps.split(',').map((s) => s.trim()).filter((s) => s !== ''),
  };
}

/** The first inherited uwsgi socket's descriptor number in the child (0-2 stdio, 3 the channel). */
const FIRST_DIRECT_FD = 4;

function directJson(d: DirectSockets): object {
  const c = d.config;
  return {
    listeners: d.listeners.map((l, i) => ({ fd: FIRST_DIRECT_FD + i, unix: l.unix, index: l.index })),
    backlog: c.listen,
    buffer_size: c.bufferSizeBytes,
    limit_post: c.limitPostBytes,
    timeout_ms: c.socketTimeoutMs,
    batch: c.uwsgiDirectBatch,
    // GET/HEAD below these go to the master's static stage (and STATIC_URL/MEDIA_URL with static-from-django).
    static_prefixes: c.staticMaps.map((m) => m.mountpoint),
    manage_script_name: c.manageScriptName,
    mounts: c.mounts.map((m) => m.prefix),
    log_all: !c.disableLogging,
    log_4xx: c.log4xx,
    slow_ms: c.logSlowMs,
    relay_path: d.relayPath,
    token: d.token,
  };
}

export interface SpawnOptions {
  readonly config: LaunchConfig;
  readonly interpreter: Interpreter;
  readonly slot: number;
  readonly check: boolean;
  readonly direct?: DirectSockets | null;
}

export interface ZygoteSpawnOptions {
  readonly config: LaunchConfig;
  readonly interpreter: Interpreter;
  /** The master's unix socket the forked workers connect to (HELLO). */
  readonly channelPath: string;
  /** The secret each forked worker repeats in its HELLO. */
  readonly token: string;
  readonly direct?: DirectSockets | null;
  /** lazy-apps: the zygote imports nothing of the app; each worker does, after the fork. */
  readonly lazy: boolean;
}

/** BERTH_WORKER_CONFIG as python/berth_worker.py reads it. */
export function workerConfigJson(config: LaunchConfig, fields: { mode: WorkerMode; workerId: number; check: boolean; channelPath: string | null; token: string | null; direct?: DirectSockets | null }): string {
  return JSON.stringify({
    mode: fields.mode,
    module: config.module,
    wsgi_file: config.wsgiFile,
    callable: config.callable,
    chdir: config.chdir,
    pythonpath: config.pythonpath,
    threads: config.threads,
    processes: config.processes,
    worker_id: fields.workerId,
    check: fields.check,
    django_static: config.staticFromDjango,
    django_check: config.reloadCheckDjango,
    channel_path: fields.channelPath,
    token: fields.token ?? '', // the Python side wants a string even when no HELLO is sent
    uid: config.uid,
    gid: config.gid,
    umask: config.umask,
    py_autoreload: config.pyAutoreloadMs / 1000,
    // Both are spawned detached, so Berth made each the leader of a new group: on "master gone" it may kill its group.
    own_group: true,
    // The worker checks its RSS after each request (the master's watchdog looks once a second).
    reload_on_rss: config.reloadOnRssBytes,
    direct: fields.direct && fields.direct.listeners.length > 0 ? directJson(fields.direct) : null,
    http_direct: fields.direct?.http ? httpDirectJson(fields.direct, fields.direct.http) : null,
  });
}

function spawnPython(config: LaunchConfig, interpreter: Interpreter, workerConfig: string, direct: DirectSockets | null | undefined): ChildProcess {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [k, v] of config.env) env[k] = v;
  env.BERTH_CHANNEL_FD = '3';
  env.BERTH_WORKER_CONFIG = workerConfig;
  env.PYTHONUNBUFFERED = '1';
  const http = direct?.http ?? null;
  const handed = [...(direct?.listeners.map((l) => l.fd) ?? []), ...(http?.listeners.map((l) => l.fd) ?? [])];
  // http-direct: Node's IPC channel last, so no inherited descriptor moves; the workers hand connections over on it.
  return spawn(interpreter.path, [workerScriptPath()], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', ...handed, ...(http ? ['ipc' as const] : [])],
    env,
    cwd: config.chdir ?? process.cwd(),
    detached: true,
  });
}

/** One worker spawned alone, which imports the app itself (berth check). */
export function spawnWorkerProcess(opts: SpawnOptions): ChildProcess {
  const direct = opts.check ? null : opts.direct && { ...opts.direct, http: null };
  const json = workerConfigJson(opts.config, { mode: 'worker', workerId: opts.slot, check: opts.check, channelPath: null, token: null, direct });
  return spawnPython(opts.config, opts.interpreter, json, direct);
}

/**
 * The zygote: forks a worker per FORK, after importing the app once (preload) or not at all
 * (lazy-apps); its workers stay in its process group and below it, their subreaper.
 */
export function spawnZygoteProcess(opts: ZygoteSpawnOptions): ChildProcess {
  const json = workerConfigJson(opts.config, { mode: opts.lazy ? 'lazy-zygote' : 'zygote', workerId: 0, check: false, channelPath: opts.channelPath, token: opts.token, direct: opts.direct });
  return spawnPython(opts.config, opts.interpreter, json, opts.direct);
}
