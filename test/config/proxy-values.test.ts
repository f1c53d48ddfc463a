import test from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { ok, problems } from './results.js';
import { makeTree } from './tmp-dir.js';

const load = (lines: readonly string[]) => {
  const tree = makeTree({ 'site.ini': `${lines.join('\n')}\n` });
  try {
    return loadConfig({ argv: ['site.ini'], env: {}, cwd: tree.dir });
  } finally {
    tree.remove();
  }
};

test('[upstream:NAME] sections and proxy-pass routes become groups and routes; no module makes a pure front', () => {
  const c = ok(load([
    '[upstream:api]',
    'server = http://127.0.0.1:9001 weight=5 max_fails=3 fail_timeout=10s',
    'server = uwsgi://127.0.0.1:9002',
    'server = uwsgi:///run/app.sock backup',
    'server = http://127.0.0.1:9003 down',
    'balance = round-robin',
    'proxy-next-upstream = error timeout http_502 http_503 http_504',
    'connect-timeout = 2s',
    'read-timeout = 30s',
    '[uwsgi]',
    'http = :0',
    'proxy-pass = /api=api',
    'proxy-pass = Admin.Example.com/=api',
  ]));
  assert.equal(c.module, null);
  const [api] = c.upstreams;
  assert.equal(api?.name, 'api');
  assert.deepEqual(api?.backends.map((b) => [b.protocol, b.target, b.weight, b.maxFails, b.failTimeoutMs, b.backup, b.down]), [
    ['http', { kind: 'tcp', host: '127.0.0.1', port: 9001 }, 5, 3, 10_000, false, false],
    ['uwsgi', { kind: 'tcp', host: '127.0.0.1', port: 9002 }, 1, 1, 10_000, false, false],
    ['uwsgi', { kind: 'unix', path: '/run/app.sock' }, 1, 1, 10_000, true, false],
    ['http', { kind: 'tcp', host: '127.0.0.1', port: 9003 }, 1, 1, 10_000, false, true],
  ]);
  assert.deepEqual(api?.nextUpstream, { error: true, timeout: true, statuses: [502, 503, 504], nonIdempotent: false, off: false });
  assert.deepEqual([api?.connectTimeoutMs, api?.readTimeoutMs], [2000, 30_000]);
  assert.deepEqual(c.proxyRoutes.map((r) => [r.host, r.prefix, r.group]), [[null, '/api', 'api'], ['admin.example.com', '/', 'api']]);
});

test('upstream keys, server parameters and policies are checked with the line and a did-you-mean', () => {
  const out = problems(load([
    '[upstream:api]',
    'server = http://127.0.0.1:9001 weigth=5',
    'balanse = round-robin',
    'balance = least-con',
    'server = ftp://127.0.0.1:21',
    'proxy-next-upstream = error http_404',
    '[uwsgi]',
    'http = :0',
    'proxy-pass = /api=apj',
  ]));
  const text = out.join('\n');
  assert.match(text, /unknown parameter 'weigth=5' \(line 2 of .*site\.ini\) — did you mean 'weight'\?/);
  assert.match(text, /unknown key 'balanse' in \[upstream:api\] \(line 3 .*did you mean 'balance'\?/);
  assert.match(text, /balance 'least-con' is not a balancing policy \(line 4 .*did you mean 'least-conn'\?/);
  assert.match(text, /server 'ftp:\/\/127\.0\.0\.1:21' is not http:\/\/HOST:PORT.*\(line 5 /);
  assert.match(text, /unknown condition 'http_404' \(line 6 .*403 and 404 never count/);
  assert.match(text, /names the upstream group 'apj', which is not defined \(line 9 .*did you mean 'api'\?/);
});

test('a proxy route and a static mapping on one prefix are refused; a group with no server too', () => {
  const text = problems(load([
    '[upstream:empty]',
    '[upstream:files]',
    'server = http://127.0.0.1:9001',
    '[uwsgi]',
    'http = :0',
    'static-map = /static=/tmp',
    'proxy-pass = /static/=files',
  ])).join('\n');
  assert.match(text, /proxy-pass: \/static is also a static-map mountpoint \(line 7 /);
  assert.match(text, /\[upstream:empty\] has no server \(line 1 /);
});

test('without module, wsgi-file or proxy-pass the app is still required', () => {
  assert.match(problems(load(['[uwsgi]', 'http = :0'])).join('\n'), /no WSGI app is configured/);
});

test('proxy-pass reads exact routes (=/path) and a URI part after the group (nginx proxy_pass http://b/v1/)', () => {
  const c = ok(load([
    '[upstream:api]',
    'server = http://127.0.0.1:9001',
    '[uwsgi]',
    'http = :0',
    'proxy-pass = /api/=api/v1/',
    'proxy-pass = =/login=api',
    'proxy-pass = admin.example.com=/health=api/status',
    'proxy-pass = /a=b=api',
  ]));
  assert.deepEqual(c.proxyRoutes.map((r) => [r.host, r.exact, r.prefix, r.writtenPrefix, r.group, r.uri]), [
    [null, false, '/api', '/api/', 'api', '/v1/'],
    [null, true, '/login', '/login', 'api', null],
    ['admin.example.com', true, '/health', '/health', 'api', '/status'],
    [null, false, '/a=b', '/a=b', 'api', null],
  ]);
});

test('an exact route and a prefix route on the same path are two routes; the same exact route twice is refused', () => {
  const c = ok(load(['[upstream:api]', 'server = http://127.0.0.1:9001', '[uwsgi]', 'http = :0', 'proxy-pass = =/x=api', 'proxy-pass = /x=api']));
  assert.equal(c.proxyRoutes.length, 2);
  const text = problems(load(['[upstream:api]', 'server = http://127.0.0.1:9001', '[uwsgi]', 'http = :0', 'proxy-pass = =/x=api', 'proxy-pass = =/x=api/y'])).join('\n');
  assert.match(text, /proxy-pass: =\/x is already routed to 'api' \(line 5\)/);
});

test('via = off turns the Via field off for a group; on is the default; another value is refused with the line', () => {
  const c = ok(load(['[upstream:quiet]', 'server = http://127.0.0.1:9001', 'via = off', '[upstream:loud]', 'server = http://127.0.0.1:9002', '[uwsgi]', 'http = :0', 'proxy-pass = /q=quiet', 'proxy-pass = /l=loud']));
  assert.deepEqual(c.upstreams.map((u) => [u.name, u.via]), [['quiet', false], ['loud', true]]);
  const text = problems(load(['[upstream:api]', 'server = http://127.0.0.1:9001', 'via = no', '[uwsgi]', 'http = :0', 'proxy-pass = /api=api'])).join('\n');
  assert.match(text, /via 'no' in \[upstream:api\] is neither on nor off \(line 3 .*write via = off/);
});
