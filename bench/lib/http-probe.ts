// Readiness: a server is ready when the scenario's own URL answers 200. A
// server that is up but cannot load the app (uWSGI answers 500 in that case)
// therefore counts as "failed to start" instead of producing fast error pages.

import { execFileSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import type { ServerProcess } from './proc.js';

/**
 * One GET on a new connection (no keep-alive agent: nothing stays connected to the server
 * afterwards); resolves with the status, or 0 on a connection error or timeout.
 */
export function getStatus(port: number, path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

export async function waitReady(
  server: ServerProcess, port: number, path: string, timeoutMs: number,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    if (server.hasExited()) return { ok: false, reason: `exited (${await server.exited})` };
    last = await getStatus(port, path, 2000);
    if (last === 200) return { ok: true };
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ok: false, reason: `no 200 on ${path} within ${timeoutMs / 1000} s (last status ${last || 'none'})` };
}

/** A port the kernel just handed out; it is released before the server binds it. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `url` with curl until it answers 2xx (https: any certificate); fails at once if `proc` exits first. */
export async function untilAnswered(url: string, proc: ChildProcess): Promise<void> {
  for (;;) {
    try {
      execFileSync('curl', ['-sfk', '-o', '/dev/null', url]);
      return;
    } catch {
      if (proc.exitCode !== null) throw new Error(`${proc.spawnargs.join(' ')} exited with ${proc.exitCode}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
