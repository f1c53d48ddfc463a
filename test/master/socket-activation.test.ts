/**
 * Socket activation with Debian's systemd-socket-activate (the listening sockets systemd would
 * pass): the first request starts Berth and is served on the inherited descriptor; an http port
 * and a uwsgi unix socket (which the workers accept on, uwsgi-direct) inherited together; a
 * descriptor no config address names is an error naming it. The /proc address readers on
 * known lines.
 */
import { sendUntilClose } from '../helpers/raw-http.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH_BIN, debianPython } from '../helpers/berth.js';
import { freePort } from '../helpers/nginx.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';
import { tcpAddressOf, unixPathOf } from '../../src/master/socket-activation.js';

function activator(): string {
  const found = spawnSync('systemd-socket-activate', ['--version'], { encoding: 'utf8' });
  const code = (found.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') throw new Error('systemd-socket-activate is missing: run `sudo bash scripts/install-test-deps.sh` (Debian package systemd)');
  if (found.error !== undefined || found.status !== 0) throw new Error(`systemd-socket-activate --version did not run: ${found.error?.message ?? `exit ${found.status}: ${found.stderr}`}`);
  return 'systemd-socket-activate';
}

interface Activated {
  readonly proc: ChildProcess;
  log(): string;
  /** Resolves once `re` is in the output (activator's and Berth's: Berth replaces the activator by exec). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<number | null>;
}

function activate(listen: readonly string[], berthArgs: readonly string[], cwd: string): Activated {
  const args = [...listen.flatMap((l) => ['-l', l]), '--fdname=web:api', '-E', 'PATH', '-E', 'TMPDIR', process.execPath, BERTH_BIN, ...berthArgs];
  const proc = spawn(activator(), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: cwd } });
  let out = '';
  const waiters: { re: RegExp; done: () => void }[] = [];
  const onText = (t: string): void => {
    out += t;
    for (const w of [...waiters]) if (w.re.test(out)) w.done();
  };
  proc.stdout!.setEncoding('utf8').on('data', onText);
  proc.stderr!.setEncoding('utf8').on('data', onText);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    log: () => out,
    waitFor: (re, timeoutMs = 20_000) => new Promise((resolve, reject) => {
      if (re.test(out)) return resolve();
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}:\n${out}`)), timeoutMs);
      waiters.push({ re, done: () => (clearTimeout(timer), resolve()) });
      void exited.then(() => (re.test(out) ? resolve() : reject(new Error(`exited before ${re}:\n${out}`))));
    }),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function siteDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-activate-'));
  writeFileSync(join(dir, 'app.py'), 'def application(environ, start_response):\n    start_response("200 OK", [("Content-Type", "text/plain")])\n    return [("activated %s" % environ["PATH_INFO"]).encode()]\n');
  return dir;
}

function uwsgiGet(path: string, to: string): Promise<string> {
  const data = encodeUwsgiRequest(['REQUEST_METHOD', 'GET', 'REQUEST_URI', path, 'PATH_INFO', path, 'QUERY_STRING', '', 'SERVER_PROTOCOL', 'HTTP/1.1', 'SERVER_NAME', 'site', 'SERVER_PORT', '80', 'HTTP_HOST', 'site']);
  return sendUntilClose(to, data);
}

test('the first request starts Berth, which serves it on the descriptor systemd passed; a uwsgi unix socket the workers accept on is inherited too', async (t) => {
  const dir = siteDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const sock = join(dir, 'app.sock');
  const run = activate([`127.0.0.1:${port}`, sock], ['--http', `127.0.0.1:${port}`, '--socket', sock, '--module', 'app', '--python', debianPython(), '--chdir', dir], dir);
  t.after(() => void run.stop());
  await run.waitFor(/Listening on .*as 4/);
  // Nothing runs Berth yet: this request is what starts it, and it waits in the inherited socket's queue.
  const r = await fetch(`http://127.0.0.1:${port}/first`);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'activated /first');
  assert.match(run.log(), new RegExp(`127\\.0\\.0\\.1:${port}: the socket systemd passed \\(descriptor 3, web\\)`));
  assert.match(run.log(), new RegExp(`${sock.replace(/[.]/g, '\\.')}: the socket systemd passed \\(descriptor 4, api\\)`));
  assert.match(run.log(), /the workers accept: uwsgi-direct/);
  const answer = await uwsgiGet('/via-uwsgi', sock);
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.match(answer, /activated \/via-uwsgi$/);
  assert.equal(await run.stop(), 0);
});

test('a descriptor that no http/socket option names stops Berth with an error naming it and the fix', async (t) => {
  const dir = siteDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [port, other] = [await freePort(), await freePort()];
  const run = activate([`127.0.0.1:${port}`, `127.0.0.1:${other}`], ['--http', `127.0.0.1:${port}`, '--module', 'app', '--python', debianPython()], dir);
  t.after(() => void run.stop());
  await run.waitFor(/Listening on .*as 4/);
  await fetch(`http://127.0.0.1:${port}/`).catch(() => null);
  await run.waitFor(/did not start/);
  assert.match(run.log(), new RegExp(`socket activation: systemd passed descriptor 4 \\(LISTEN_FDNAMES: api\\), 127\\.0\\.0\\.1:${other}, which no 'http', 'http-socket' or 'socket' option names \\(configured: 127\\.0\\.0\\.1:${port}\\); add the address to the config`));
  assert.equal(await run.stop(), 1);
});

test('the /proc readers: a TCP socket by inode (IPv4, IPv6, v4-mapped) and a unix socket path', () => {
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0',
  ].join('\n');
  assert.deepEqual(tcpAddressOf(tcp, '4242', 4), { kind: 'tcp', host: '127.0.0.1', port: 8080 });
  assert.equal(tcpAddressOf(tcp, '4243', 4), null);
  const tcp6 = [
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0',
    '   1: 00000000000000000000000000000000:0051 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 78 1 0000000000000000 100 0 0 10 0',
    '   2: 0000000000000000FFFF00000100007F:0052 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 79 1 0000000000000000 100 0 0 10 0',
  ].join('\n');
  assert.deepEqual(tcpAddressOf(tcp6, '77', 6), { kind: 'tcp', host: '::1', port: 80 });
  assert.deepEqual(tcpAddressOf(tcp6, '78', 6), { kind: 'tcp', host: '::', port: 81 });
  assert.deepEqual(tcpAddressOf(tcp6, '79', 6), { kind: 'tcp', host: '127.0.0.1', port: 82 });
  const unix = [
    'Num       RefCount Protocol Flags    Type St Inode Path',
    '0000000000000000: 00000002 00000000 00010000 0001 01 555 /run/app.sock',
    '0000000000000000: 00000002 00000000 00010000 0001 01 556 @abstract-name',
  ].join('\n');
  assert.equal(unixPathOf(unix, '555'), '/run/app.sock');
  assert.equal(unixPathOf(unix, '556'), '@abstract-name');
  assert.equal(unixPathOf(unix, '557'), null);
});
