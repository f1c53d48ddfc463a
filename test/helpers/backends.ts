/** Real backends for the proxy tests: uWSGI on a uwsgi --socket, gunicorn over HTTP, a Berth app, and a port that never answers. */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { APPS, startBerth, type RunningBerth } from './berth.js';
import { freePort } from './nginx.js';
import { spawnPeer } from './peer-process.js';
import { accepting, requireUwsgi, UWSGI_BIN } from './uwsgi.js';

export interface RunningPeer {
  readonly port: number;
  readonly proc: ChildProcess;
  logs(): string;
  stop(): Promise<void>;
}

async function startPeer(bin: string, args: (port: number) => string[]): Promise<RunningPeer> {
  const port = await freePort();
  const { proc, log, stop } = spawnPeer(bin, args(port), APPS);
  try {
    await accepting(port, proc, log);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, proc, logs: log, stop };
}

/** Debian's uWSGI serving test/fixtures/apps/`app` on a uwsgi `--socket`. */
export function startUwsgiSocket(app: string): Promise<RunningPeer> {
  requireUwsgi();
  return startPeer(UWSGI_BIN, (port) => ['--plugin', 'python3', '--master', '--die-on-term', '--processes', '2', '--socket', `127.0.0.1:${port}`, '--wsgi-file', app, '--need-app', '--disable-logging']);
}

/** Debian's gunicorn serving test/fixtures/apps/`module`:application over HTTP. */
export function startGunicorn(module: string): Promise<RunningPeer> {
  if (!existsSync('/usr/bin/gunicorn')) throw new Error('/usr/bin/gunicorn is missing: install Debian gunicorn (sudo bash scripts/install-test-deps.sh)');
  return startPeer('/usr/bin/gunicorn', (port) => ['--bind', `127.0.0.1:${port}`, '--workers', '2', '--threads', '4', `${module}:application`]);
}

/** A Berth app server (HTTP) serving test/fixtures/apps/`app`. */
export function startBerthApp(app: string, extra: readonly string[] = []): Promise<RunningBerth> {
  return startBerth(['--http', '127.0.0.1:0', '--wsgi-file', `${APPS}/${app}`, '--processes', '1', '--threads', '8', '--python', '/usr/bin/python3', '--disable-logging', ...extra]);
}

/** A TCP port that accepts connections and never answers (a hung backend). */
export async function startSilent(): Promise<{ port: number; close(): Promise<void> }> {
  const held: Socket[] = [];
  const srv: Server = createServer((s) => {
    held.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of held) s.destroy();
      srv.close(() => resolve());
    }),
  };
}
