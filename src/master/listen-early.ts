/**
 * listen(2) on the sockets the workers accept on (uwsgi-direct, http-direct) as soon as they are
 * bound, so a client that connects while the app loads waits in the kernel's queue, as with
 * uWSGI, instead of being refused until a worker listens.
 */
import { spawnSync } from 'node:child_process';

// Node cannot listen(2) on a socket without also accepting on it (libuv polls every listener),
// so a short-lived Python, given the descriptors as 3, 4, …, does it: the listening state
// belongs to the socket, which the master keeps. The workers' own listen() later only restates
// the backlog.
const LISTEN = 'import socket, sys\nfor fd in range(3, 3 + int(sys.argv[1])):\n    socket.socket(fileno=fd).listen(int(sys.argv[2]))\n';
const LISTEN_TIMEOUT_MS = 10_000;

/** Puts `fds` in the listening state with `backlog`; the reason it could not, or null. */
export function listenEarly(python: string, fds: readonly number[], backlog: number): string | null {
  if (fds.length === 0) return null;
  const r = spawnSync(python, ['-I', '-S', '-c', LISTEN, String(fds.length), String(backlog)], {
    stdio: ['ignore', 'ignore', 'pipe', ...fds],
    timeout: LISTEN_TIMEOUT_MS,
    encoding: 'utf8',
  });
  if (r.error !== undefined) return r.error.message;
  if (r.status !== 0) return helperExited(python, r.status ?? r.signal, r.stderr);
  return null;
}

/** Why a short-lived Python helper (here, ./fallback-accept.ts) failed: its exit and last line of stderr. */
export function helperExited(python: string, status: number | string | null, stderr: string): string {
  return `${python} exited with ${status}: ${stderr.trim().split('\n').at(-1) ?? ''}`;
}
