/**
 * Starts a real nginx (Debian nginx-light) in front of Berth for the e2e tests.
 *
 * Each nginx gets a fresh temp dir holding its whole world — nginx.conf, a copy of
 * `uwsgi_params`, pid file, error and access logs, and every *_temp_path — so nothing touches
 * /etc/nginx or /var except reading `mime.types` and `uwsgi_params`. It listens on a free loopback port found by binding port 0
 * in Node; another process could take that port between our close and nginx's bind, so a start
 * that fails with "Address already in use" is retried with a new port.
 *
 * Run as root, nginx's worker runs as `nobody` (the master drops privileges), exactly as on a
 * server. That is deliberate: it is what makes `chmod-socket` matter. So the temp dir is made
 * world-searchable, and so must be any dir a test hands to nginx (static aliases, sockets).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningBerth } from './berth.js';

export const NGINX_BIN = '/usr/sbin/nginx';
export const UWSGI_PARAMS = '/etc/nginx/uwsgi_params';

export interface NginxOptions {
  /** Extra directives for the `http {}` block (outside the server blocks). */
  readonly http?: string;
  /** Milliseconds to wait for nginx to answer on its port (default 10 s). */
  readonly startTimeoutMs?: number;
}

export interface RunningNginx {
  readonly port: number;
  /** The temp dir (conf, logs, temp paths); removed by stop(). */
  readonly dir: string;
  readonly conf: string;
  url(path: string): string;
  errorLog(): string;
  accessLog(): string;
  stop(): Promise<void>;
}

/** Fails loudly, naming the package, when nginx is not installed (never a skip). */
export function requireNginx(): void {
  for (const f of [NGINX_BIN, UWSGI_PARAMS, '/etc/nginx/mime.types']) {
    if (!existsSync(f)) throw new Error(`${f} is missing: install nginx-light: sudo bash scripts/install-test-deps.sh`);
  }
}

/** A temp dir nginx's unprivileged worker can traverse (mkdtemp makes 0700 dirs). */
export function sharedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * A port that was free a moment ago (the caller retries if it is taken meanwhile). It is picked
 * below the kernel's ephemeral range (ip_local_port_range), not by binding port 0: every outgoing
 * connection of the suite's parallel load tests takes a local port from that range, and one that
 * lands on a port picked here makes the server's later bind fail (CI saw a vassal exit that way).
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  const top = Math.min(low, 65536) - 1;
  const bottom = Math.max(10_000, top - 12_000);
  for (let attempt = 0; attempt < 20 && top > bottom; attempt++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom + 1));
    if (await bindable(port)) return port;
  }
  return bindPort(0);
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch { /* not Linux: the usual default */ }
  return [32768, 60999];
}

function bindable(port: number): Promise<boolean> {
  return bindPort(port).then(() => true, () => false);
}

function bindPort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const bound = (srv.address() as { port: number }).port;
      srv.close(() => resolve(bound));
    });
  });
}

/** Whether something accepts on 127.0.0.1:`port` now (false: refused). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Every `server {` gets `listen 127.0.0.1:PORT;` as its first directive. */
function withListen(serverBlock: string, port: number): string {
  let n = 0;
  const out = serverBlock.replace(/\bserver\s*\{/g, (m) => {
    n++;
    return `${m}\n    listen 127.0.0.1:${port};`;
  });
  if (n === 0) throw new Error(`startNginx needs at least one 'server { … }' block, got:\n${serverBlock}`);
  return out;
}

/** nginx's main config for a test: one worker, everything under `dir`, `http` holding `inner`. */
export function nginxMainConf(dir: string, inner: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body_temp;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;
${inner}
}
`;
}

function renderConf(dir: string, serverBlock: string, port: number, opts: NginxOptions): string {
  return nginxMainConf(dir, `${opts.http ?? ''}\n${withListen(serverBlock, port)}`);
}

interface Attempt {
  readonly proc: ChildProcess;
  readonly exited: Promise<void>;
  readonly output: () => string;
}

function launch(dir: string, conf: string): Attempt {
  // -e stderr: errors before error_log is opened (bad config, bind failures) reach our pipe
  // instead of the compiled-in /var/log/nginx/error.log.
  const proc = spawn(NGINX_BIN, ['-e', 'stderr', '-c', conf, '-p', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (t: string) => (out += t));
  proc.stderr!.setEncoding('utf8').on('data', (t: string) => (out += t));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.once('error', (err) => (out += `spawn failed: ${err.message}\n`));
  return { proc, exited, output: () => out };
}

async function stopProcess(a: Attempt): Promise<void> {
  if (a.proc.exitCode !== null || a.proc.signalCode !== null) return;
  a.proc.kill('SIGQUIT'); // graceful shutdown: workers finish their requests
  const timer = setTimeout(() => a.proc.kill('SIGKILL'), 5_000);
  await a.exited;
  clearTimeout(timer);
}

export async function startNginx(serverBlock: string, opts: NginxOptions = {}): Promise<RunningNginx> {
  requireNginx();
  const dir = sharedTempDir('berth-nginx-');
  const conf = join(dir, 'nginx.conf');
  // Relative includes resolve against the conf's dir: the seed config's `include uwsgi_params;`.
  copyFileSync(UWSGI_PARAMS, join(dir, 'uwsgi_params'));
  const deadline = opts.startTimeoutMs ?? 10_000;
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      writeFileSync(conf, renderConf(dir, serverBlock, port, opts));
      const a = launch(dir, conf);
      let dead = false;
      void a.exited.then(() => (dead = true));
      const started = Date.now();
      while (!dead && Date.now() - started < deadline && !(await canConnect(port))) {
        await new Promise((r) => setTimeout(r, 25));
      }
      if (!dead && (await canConnect(port))) return running(dir, conf, port, a);
      await stopProcess(a);
      const why = a.output() + readOr(join(dir, 'error.log'));
      if (/Address already in use/.test(why) && attempt < 5) continue;
      throw new Error(`nginx did not start (${dead ? `exited with ${a.proc.exitCode ?? a.proc.signalCode}` : `no answer on port ${port} after ${deadline} ms`}):\n${why}\nconfig:\n${readOr(conf)}`);
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function running(dir: string, conf: string, port: number, a: Attempt): RunningNginx {
  let stopped: Promise<void> | null = null;
  return {
    port,
    dir,
    conf,
    url: (p: string) => `http://127.0.0.1:${port}${p}`,
    errorLog: () => readOr(join(dir, 'error.log')) + a.output(),
    accessLog: () => readOr(join(dir, 'access.log')),
    stop: () =>
      (stopped ??= stopProcess(a).then(() => rmSync(dir, { recursive: true, force: true }))),
  };
}

/** The port of Berth's first listener of one kind, from its "listening on …" line. */
export function berthPort(berth: RunningBerth, kind: 'uwsgi' | 'http'): number {
  const m = new RegExp(`listening on [^\\n]*?\\b${kind}://127\\.0\\.0\\.1:(\\d+)`).exec(berth.logs());
  if (m === null) throw new Error(`no ${kind}://127.0.0.1:PORT listener in Berth's log:\n${berth.logs()}`);
  return Number(m[1]);
}

/** Resolves once `read()` matches `re` (logs are written asynchronously by other processes). */
export async function eventually(read: () => string, pattern: RegExp, timeoutMs = 5_000): Promise<string> {
  const re = new RegExp(pattern.source, pattern.flags.replace('g', '')); // no lastIndex state
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = read();
    if (re.test(text)) return text;
    if (Date.now() > until) throw new Error(`timed out waiting for ${pattern} in:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Counts the non-overlapping matches of `pattern` in `text` (from the start, whatever its lastIndex). */
export function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`))].length;
}
