/**
 * Starts a real uWSGI (Debian's `uwsgi` + `uwsgi-plugin-python3`) with a stats server, for the
 * tests that read uWSGI's own stats document. Every instance is stopped by the test that started it.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './nginx.js';
import { spawnPeer } from './peer-process.js';

export const UWSGI_BIN = '/usr/bin/uwsgi';
const PLUGIN = '/usr/lib/uwsgi/plugins/python3_plugin.so';

export interface RunningUwsgi {
  readonly proc: ChildProcess;
  readonly httpPort: number;
  /** host:port of its stats server. */
  readonly stats: string;
  logs(): string;
  /** Sends `count` GET requests one after another; resolves when all were answered 200. */
  traffic(count: number, path?: string): Promise<void>;
  stop(): Promise<void>;
}

export function requireUwsgi(): void {
  if (!existsSync(UWSGI_BIN) || !existsSync(PLUGIN)) {
    throw new Error(`${UWSGI_BIN} or ${PLUGIN} is missing: install Debian's uwsgi and uwsgi-plugin-python3 (sudo bash scripts/install-test-deps.sh)`);
  }
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}


/** uWSGI serving test/fixtures/apps/`app` with `processes` workers over --http-socket, stats on TCP. */
export async function startUwsgi(app: string, processes: number, opts: { statsPort?: number } = {}): Promise<RunningUwsgi> {
  requireUwsgi();
  const dir = mkdtempSync(join(tmpdir(), 'berth-uwsgi-'));
  const httpPort = await freePort();
  const statsPort = opts.statsPort ?? await freePort();
  // --die-on-term: SIGTERM stops (Debian's uWSGI 2.0 would otherwise reload on SIGTERM).
  const peer = spawnPeer(UWSGI_BIN, [
    '--plugin', 'python3', '--master', '--die-on-term', '--processes', String(processes),
    '--http-socket', `127.0.0.1:${httpPort}`, '--stats', `127.0.0.1:${statsPort}`,
    '--wsgi-file', app, '--need-app', '--disable-logging',
  ], dir);
  const { proc, log } = peer;
  const stop = async (): Promise<void> => {
    await peer.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await acceptingUwsgi(statsPort, proc, log);
    // The workers answer once the app is loaded: the first request proves it.
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = await get(httpPort, '/').catch(() => 0);
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    if (status !== 200) throw new Error(`uwsgi did not serve the app:\n${log()}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    proc,
    httpPort,
    stats: `127.0.0.1:${statsPort}`,
    logs: log,
    traffic: async (count, path = '/') => {
      for (let i = 0; i < count; i++) {
        const status = await get(httpPort, path);
        if (status !== 200) throw new Error(`uwsgi answered ${status} to GET ${path}`);
      }
    },
    stop,
  };
}

/** uWSGI binds before it logs anything useful, so readiness is an accepted connection. */
function acceptingUwsgi(port: number, proc: ChildProcess, logs: () => string): Promise<void> {
  return accepting(port, proc, logs, 'uwsgi', 10_000);
}

/** Resolves once `port` on 127.0.0.1 accepts a connection; `what` names the process in errors. */
export async function accepting(port: number, proc: ChildProcess, logs: () => string, what = 'backend', timeoutMs = 15_000): Promise<void> {
  for (let i = 0; i < timeoutMs / 50; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode}) before listening:\n${logs()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs / 1000} s:\n${logs()}`);
}
