/**
 * The sockets the workers accept on listen from the moment they are bound (as uWSGI's do): a
 * client that connects while the app is still loading is queued by the kernel and answered
 * once a worker accepts, not refused. The app waits at import for a file the test writes only
 * after its client has connected, so "before the app is ready" holds without any timing.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH_BIN, REPO, debianPython } from '../helpers/berth.js';

const GATED_APP = (gate: string): string => [
  'import os, time',
  `while not os.path.exists(${JSON.stringify(gate)}):`,
  '    time.sleep(0.02)',
  'def application(environ, start_response):',
  "    start_response('200 OK', [('Content-Type', 'text/plain')])",
  "    return [b'loaded']",
  '',
].join('\n');

for (const mode of ['preload', 'lazy-apps'] as const) {
  test(`${mode}, http-direct: a client connecting while the app loads is answered once it is ready, not refused`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-listen-early-'));
    const gate = join(dir, 'go');
    writeFileSync(join(dir, 'gated_app.py'), GATED_APP(gate));
    // Not startBerth: it waits for "listening on", which comes only once the gate is open.
    const proc = spawn(process.execPath, [BERTH_BIN, '--http', '127.0.0.1:0', '--http-direct=true', '--chdir', dir, '--module', 'gated_app', '--python', debianPython(),
      '--processes', '2', ...(mode === 'lazy-apps' ? ['--lazy-apps'] : [])], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    t.after(async () => {
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    });
    let log = '';
    const bound = new Promise<number>((resolve, reject) => {
      const onText = (text: string): void => {
        log += text;
        const m = /bound http:\/\/127\.0\.0\.1:(\d+) \(the workers accept: http-direct\); loading the app \(connections wait until it is ready\)/.exec(log);
        if (m !== null) resolve(Number(m[1]));
      };
      proc.stdout.setEncoding('utf8').on('data', onText);
      proc.stderr.setEncoding('utf8').on('data', onText);
      proc.once('exit', () => reject(new Error(`Berth exited before binding; log:\n${log}`)));
    });
    const port = await bound;
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (reply += d));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    assert.doesNotMatch(log, /listening on/, 'the app cannot be ready: its gate is not open yet');
    socket.end('GET / HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n');
    writeFileSync(gate, '');
    await closed;
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nloaded$/);
  });
}
