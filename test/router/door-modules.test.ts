/**
 * The front door and the HTTP/uwsgi fronts are imported at the first connection the master
 * serves itself: a master whose workers accept (http-direct, the default) does not load them
 * until a worker hands it a connection, and then serves it — a slow client, a static file, and
 * the same after a reload.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, REPO, debianPython, startBerth } from '../helpers/berth.js';

const PRELOAD = join(REPO, 'dist', 'test', 'helpers', 'module-log.js');
const DOOR = ['server/front-door.js', 'server/http-front.js', 'server/http-connection.js'];

function scratch(t: test.TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-door-modules-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Which of the door's modules the module log saw. */
function doorLoaded(log: string): string[] {
  const text = readFileSync(log, 'utf8');
  return DOOR.filter((m) => text.includes(`/dist/src/${m}\n`));
}

/**
 * A client whose head comes in two parts 300 ms apart, so the worker hands it to the master; with
 * `halfClose` it ends its side with the second part. Resolves with all it read.
 */
function slowClient(port: number, path: string, halfClose = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (t: string) => void (text += t));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\n`);
      const rest = 'Host: site\r\nConnection: close\r\n\r\n';
      setTimeout(() => (halfClose ? socket.end(rest) : socket.write(rest)), 300);
    });
  });
}

test('with http-direct the door loads at the first hand-over, not before, and serves it; again after a reload', async (t) => {
  const dir = scratch(t);
  const log = join(dir, 'modules.log');
  const berth = await startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'http_direct_app', '--python', debianPython(), '--processes', '2'],
    { env: { NODE_OPTIONS: `--import=${PRELOAD}`, BERTH_TEST_MODULE_LOG: log } });
  t.after(() => berth.stop());
  const direct = await (await fetch(berth.url('/fast'))).text();
  assert.match(direct, /via=direct /, 'a plain request is served by a worker');
  assert.deepEqual(doorLoaded(log), [], 'the door was loaded before any connection reached the master');
  assert.match(await slowClient(berth.port, '/slow1', true), /^HTTP\/1\.1 200[\s\S]*via=master pid=\d+ path=\/slow1 /);
  assert.deepEqual(doorLoaded(log), DOOR);
  berth.proc.kill('SIGHUP');
  await berth.waitForLog(/reload done/);
  assert.match(await slowClient(berth.port, '/slow2'), /^HTTP\/1\.1 200[\s\S]*via=master pid=\d+ path=\/slow2 /);
  // TLS (node:tls) loads at the first TLS listener only: this master has none.
  const loaded = readFileSync(log, 'utf8');
  assert.match(loaded, /^node:net$/m, 'the module log records builtins');
  assert.doesNotMatch(loaded, /\/dist\/src\/server\/tls-listener\.js\n|^node:tls\n/m);
});

test('with http-direct a static file is served at its first request', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'f.txt'), 'first static answer');
  const berth = await startBerth(['--http', '127.0.0.1:0', '--wsgi-file', join(APPS, 'hello.py'), '--python', debianPython(), '--static-map', `/s=${dir}`]);
  t.after(() => berth.stop());
  const res = await fetch(berth.url('/s/f.txt'));
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'first static answer');
});

test('without http-direct the master accepts itself, and its first request is served', async (t) => {
  const berth = await startBerth(['--http', '127.0.0.1:0', '--wsgi-file', join(APPS, 'hello.py'), '--python', debianPython(), '--http-direct=false']);
  t.after(() => berth.stop());
  assert.equal(await (await fetch(berth.url('/'))).text(), 'Hello, World!');
});
