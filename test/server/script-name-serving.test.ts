/**
 * Mountpoints on a real Berth with real Python workers: uWSGI's split of SCRIPT_NAME and
 * PATH_INFO, trailing-slash mountpoints included, on every path a request can take — HTTP
 * served by the workers (http-direct) and by the master, uwsgi packets served by the workers
 * (uwsgi-direct) and by the master. The cases are the conformance table's
 * (test/fixtures/conformance/script-name.json) for these mountpoints.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';

const MOUNTS = ['/foo', '/foobis/', '/footris/'];
const APP = ['--chdir', APPS, '--wsgi-file', 'script_name.py', '--manage-script-name', '--python', debianPython(), ...MOUNTS.flatMap((m) => ['--mount', `${m}=script_name.py`])];

/** path → [SCRIPT_NAME, PATH_INFO], as uWSGI 2.0.21 answers (PATH_INFO of /footris aside: docs/uwsgi-compat.md). */
const CASES: readonly (readonly [string, string, string])[] = [
  ['/foo', '/foo', ''],
  ['/foo/', '/foo', '/'],
  ['/foo/resource', '/foo', '/resource'],
  ['/foobis/', '/foobis/', ''],
  ['/foobis', '/foobis/', ''],
  ['/foobis/resource', '/foobis/', 'resource'],
  ['/footris/', '/footris/', ''],
  ['/footris', '/footris/', ''],
  ['/footris/a/b', '/footris/', 'a/b'],
  ['/fooanything', '', '/fooanything'],
  ['/foobisis/', '', '/foobisis/'],
  ['/foofighters', '', '/foofighters'],
];

const running: RunningBerth[] = [];
after(async () => {
  for (const b of running) await b.stop();
});

async function berth(args: readonly string[]): Promise<RunningBerth> {
  const b = await startBerth([...args, ...APP]);
  running.push(b);
  return b;
}

async function overHttp(b: RunningBerth, path: string): Promise<unknown> {
  const r = await fetch(b.url(path));
  assert.equal(r.status, 200, path);
  return r.json();
}

/** One uwsgi packet as nginx sends it (SCRIPT_NAME '', PATH_INFO the path); the JSON body of the answer. */
function overUwsgi(port: number, path: string): Promise<unknown> {
  const packet = encodeUwsgiRequest([
    'REQUEST_METHOD', 'GET', 'REQUEST_URI', path, 'PATH_INFO', path, 'QUERY_STRING', '', 'SCRIPT_NAME', '',
    'SERVER_PROTOCOL', 'HTTP/1.1', 'REMOTE_ADDR', '127.0.0.1', 'REMOTE_PORT', '5555', 'SERVER_NAME', 'site', 'SERVER_PORT', '80', 'HTTP_HOST', 'site',
  ]);
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(packet));
    let out = '';
    s.on('data', (c: Buffer) => (out += c.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => {
      const at = out.indexOf('\r\n\r\n');
      if (!/^HTTP\/1\.[01] 200 /.test(out) || at < 0) reject(new Error(`${path}: ${out}`));
      else resolve(JSON.parse(out.slice(at + 4)));
    });
  });
}

const PATHS = [
  ['http, served by the workers (http-direct)', ['--http', '127.0.0.1:0'], /the workers accept: http-direct/],
  ['http, served by the master', ['--http', '127.0.0.1:0', '--http-direct=false'], null],
  ['a uwsgi socket, served by the workers (uwsgi-direct)', ['--socket', '127.0.0.1:0'], /the workers accept: uwsgi-direct/],
  ['a uwsgi socket, served by the master', ['--socket', '127.0.0.1:0', '--uwsgi-direct=false'], null],
] as const;

for (const [name, args, pattern] of PATHS) {
  test(`mountpoints over ${name}: SCRIPT_NAME and PATH_INFO as uWSGI splits them`, async () => {
    const b = await berth(args);
    if (pattern !== null) assert.match(b.logs(), pattern);
    else assert.doesNotMatch(b.logs(), /the workers accept/);
    const ask = args[0] === '--http' ? (path: string) => overHttp(b, path) : (path: string) => overUwsgi(b.port, path);
    for (const [path, script, rest] of CASES) assert.deepEqual(await ask(path), [script, rest], path);
  });
}
