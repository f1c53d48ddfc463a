/** summarizeConfig: the one-screen summary of listeners, app, interpreter, workers, static mappings and the stats addresses. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { describeConfig, loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { summarizeConfig } from '../../src/config/summary.js';
import { ok } from './results.js';
import { APPS } from '../helpers/berth.js';

const PYTHON = { path: '/usr/bin/python3', chosenBy: 'python = /usr/bin/python3', version: '3.11.2' };

function load(argv: string[]): Config {
  return ok(loadConfig({ argv, env: {}, cwd: APPS }));
}

test('every listener with its protocol and transport; the app, the interpreter, workers × threads, static maps', () => {
  const c = load(['--http', ':8000', '--http-socket', '127.0.0.1:8001', '--socket', '127.0.0.1:3031', '--socket', 'run/app.sock',
    '--module', 'site.wsgi', '--callable', 'app', '--chdir', APPS, '-p', '4', '--threads', '2', '--static-map', `/static=${APPS}`, '--uwsgi-direct']);
  const text = summarizeConfig(c, { python: PYTHON }).join('\n');
  assert.match(text, /^listeners {2}http:\/\/:8000 {2}\(http = HTTP\/1\.1, TCP\)$/m);
  assert.match(text, /^ {11}http:\/\/127\.0\.0\.1:8001 {2}\(http-socket = HTTP\/1\.1, TCP\)$/m);
  assert.match(text, /^ {11}uwsgi:\/\/127\.0\.0\.1:3031 {2}\(socket = uwsgi protocol, TCP, the workers accept \(uwsgi-direct\)\)$/m);
  assert.match(text, /^ {11}\/.*\/apps\/run\/app\.sock {2}\(socket = uwsgi protocol, unix socket, the workers accept \(uwsgi-direct\)\)$/m);
  assert.ok(text.includes(`\napp        module site.wsgi (callable app); chdir ${APPS}\n`), text);
  assert.match(text, /^python {5}\/usr\/bin\/python3 \(Python 3\.11\.2\), python = \/usr\/bin\/python3$/m);
  assert.match(text, /^workers {4}4 × 2 threads, preload$/m);
  assert.ok(text.includes(`\nstatic     /static → ${APPS}\n`), text);
  assert.match(text, /^stats {6}off \(stats = 127\.0\.0\.1:9191/m);
  assert.doesNotMatch(text, /\[object Object\]/);
});

test('bound listeners replace the configured ones (port 0 shows the real port)', () => {
  const c = load(['--http', '127.0.0.1:0', '--wsgi-file', 'hello.py']);
  const [address] = c.http;
  const text = summarizeConfig(c, { python: null, listeners: [{ address: address!, display: '127.0.0.1:40123', direct: false }] }).join('\n');
  assert.match(text, /http:\/\/127\.0\.0\.1:40123 /);
  assert.match(text, /^app {8}wsgi-file \/.*\/apps\/hello\.py$/m);
  assert.match(text, /^python {5}\(not resolved\)$/m);
});

test('mounts, and no listener at all, are said plainly', () => {
  const c = load(['--http', ':8000', '--mount', '/api=echo.py', '--mount', '/site=echo.py', '--manage-script-name']);
  const text = summarizeConfig({ ...c, http: [] }, { python: PYTHON }).join('\n');
  assert.match(text, /^listeners {2}\(none: add http = :8000/m);
  assert.match(text, /mount \/api = echo\.py; mount \/site = echo\.py/);
});

test('the stats, metrics and dashboard addresses', () => {
  const plain = summarizeConfig(load(['--http', ':8000', '--module', 'site.wsgi', '--stats', '127.0.0.1:9191']), { python: PYTHON }).join('\n');
  assert.match(plain, /^stats {6}127\.0\.0\.1:9191 \(uWSGI stats JSON, read to EOF: uwsgitop, berth top\)$/m);
  assert.doesNotMatch(plain, /dashboard/);
  const http = summarizeConfig(load(['--http', ':8000', '--module', 'site.wsgi', '--stats', ':9191', '--stats-http']), { python: PYTHON }).join('\n');
  assert.match(http, /^metrics {4}http:\/\/127\.0\.0\.1:9191\/metrics$/m);
  assert.match(http, /^dashboard {2}http:\/\/127\.0\.0\.1:9191\/dashboard$/m);
  const own = summarizeConfig(load(['--http', ':8000', '--module', 'site.wsgi', '--stats', ':9191', '--stats-http', '--metrics', '127.0.0.1:9300']), { python: PYTHON }).join('\n');
  assert.match(own, /^metrics {4}http:\/\/127\.0\.0\.1:9300\/metrics$/m);
});

test('berth check\'s table shows uwsgi sockets as addresses, not [object Object]', () => {
  const c = load(['--socket', '127.0.0.1:3031', '--socket', '/run/app.sock', '--module', 'site.wsgi']);
  const table = describeConfig(c);
  assert.match(table, /^ {2}socket +127\.0\.0\.1:3031, \/run\/app\.sock +command line$/m);
  assert.doesNotMatch(table, /\[object Object\]/);
});
