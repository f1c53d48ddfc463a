/** One attempt of a program's ready-check: a TCP connect, an HTTP GET answered below 400, or a command exiting 0, each bounded. */
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { ReadyCheck } from '../config/program-spec.js';

const ATTEMPT_MS = 2000;

export function probeOnce(check: ReadyCheck): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => { cancel(); done(false); }, ATTEMPT_MS);
    let cancel = (): void => undefined;
    if (check.kind === 'tcp') {
      const socket = net.connect({ host: check.host, port: check.port });
      cancel = () => socket.destroy();
      socket.once('connect', () => { socket.destroy(); done(true); });
      socket.once('error', () => done(false));
    } else if (check.kind === 'http') {
      const get = check.url.startsWith('https:') ? https.get : http.get;
      const req = get(check.url, { agent: false }, (res) => {
        res.resume();
        done((res.statusCode ?? 500) < 400);
      });
      cancel = () => req.destroy();
      req.once('error', () => done(false));
    } else {
      const child = spawn('/bin/sh', ['-c', check.command], { stdio: 'ignore', detached: true });
      cancel = () => { try { process.kill(-(child.pid ?? 0), 'SIGKILL'); } catch { /* gone */ } };
      child.once('error', () => done(false));
      child.once('exit', (code) => done(code === 0));
    }
  });
}
