import test from 'node:test';
import assert from 'node:assert/strict';
import { buildUwsgiEnviron } from '../../src/server/uwsgi-environ.js';
import { ScriptNameRule } from '../../src/server/script-name.js';

const NONE = new ScriptNameRule([]);

function parse(block: string): Record<string, string> {
  const parts = block.split('\0');
  const out: Record<string, string> = {};
  for (let i = 0; i < parts.length; i += 2) out[parts[i]!] = parts[i + 1]!;
  return out;
}

const NGINX = [
  'QUERY_STRING', 'a=1', 'REQUEST_METHOD', 'POST', 'CONTENT_TYPE', 'text/plain', 'CONTENT_LENGTH', '5',
  'REQUEST_URI', '/app/x?a=1', 'PATH_INFO', '/app/x', 'DOCUMENT_ROOT', '/srv', 'SERVER_PROTOCOL', 'HTTP/1.1',
  'REQUEST_SCHEME', 'http', 'REMOTE_ADDR', '10.1.2.3', 'REMOTE_PORT', '5555', 'SERVER_PORT', '80', 'SERVER_NAME', 'example.com',
  'HTTP_HOST', 'example.com', 'HTTP_X_TRACE', 't1',
];

test('nginx uwsgi_params pass through; CONTENT_LENGTH is what arrived', () => {
  const env = buildUwsgiEnviron(NGINX, 5, { stripScriptName: false, scriptNames: NONE })!;
  const e = parse(env.block);
  assert.equal(e.REQUEST_METHOD, 'POST');
  assert.equal(e.PATH_INFO, '/app/x');
  assert.equal(e.SCRIPT_NAME, '');
  assert.equal(e.CONTENT_LENGTH, '5');
  assert.equal(e.HTTP_X_TRACE, 't1');
  assert.equal(e.DOCUMENT_ROOT, '/srv');
  assert.equal(e['wsgi.url_scheme'], 'http');
  assert.deepEqual([env.method, env.target, env.remoteAddress, env.remotePort, env.versionMinor], ['POST', '/app/x?a=1', '10.1.2.3', 5555, 1]);
  assert.deepEqual(env.headers, ['host', 'example.com', 'x-trace', 't1']);
});

test('HTTPS=on, UWSGI_SCHEME and REQUEST_SCHEME set wsgi.url_scheme', () => {
  const scheme = (vars: string[]): string => parse(buildUwsgiEnviron(vars, 0, { stripScriptName: false, scriptNames: NONE })!.block)['wsgi.url_scheme']!;
  assert.equal(scheme(['HTTPS', 'on']), 'https');
  assert.equal(scheme(['HTTPS', '1']), 'https');
  assert.equal(scheme(['HTTPS', 'off']), 'http');
  assert.equal(scheme(['UWSGI_SCHEME', 'https']), 'https');
  assert.equal(scheme(['REQUEST_SCHEME', 'https']), 'https');
  assert.equal(scheme([]), 'http');
});

test('modifier1 30 / manage-script-name strip SCRIPT_NAME from PATH_INFO; mounts decide when set', () => {
  const vars = ['SCRIPT_NAME', '/app', 'PATH_INFO', '/app/x', 'REQUEST_METHOD', 'GET'];
  const kept = parse(buildUwsgiEnviron(vars, 0, { stripScriptName: false, scriptNames: NONE })!.block);
  assert.deepEqual([kept.SCRIPT_NAME, kept.PATH_INFO], ['/app', '/app/x']);
  const stripped = parse(buildUwsgiEnviron(vars, 0, { stripScriptName: true, scriptNames: NONE })!.block);
  assert.deepEqual([stripped.SCRIPT_NAME, stripped.PATH_INFO], ['/app', '/x']);
  const uwsgiName = parse(buildUwsgiEnviron(['UWSGI_SCRIPT_NAME', '/u', 'PATH_INFO', '/u/y'], 0, { stripScriptName: true, scriptNames: NONE })!.block);
  assert.deepEqual([uwsgiName.SCRIPT_NAME, uwsgiName.PATH_INFO], ['/u', '/y']);
  const mounted = parse(buildUwsgiEnviron(['PATH_INFO', '/blog/p/1'], 0, { stripScriptName: false, scriptNames: new ScriptNameRule([{ prefix: '/blog', app: 'x' }]) })!.block);
  assert.deepEqual([mounted.SCRIPT_NAME, mounted.PATH_INFO], ['/blog', '/p/1']);
});

test('a peer cannot set wsgi.* keys, and a NUL inside a var refuses the packet', () => {
  const e = parse(buildUwsgiEnviron(['wsgi.url_scheme', 'https', 'wsgi.input', 'x', 'PATH_INFO', '/'], 0, { stripScriptName: false, scriptNames: NONE })!.block);
  assert.equal(e['wsgi.url_scheme'], 'http');
  assert.equal(e['wsgi.input'], undefined);
  assert.equal(buildUwsgiEnviron(['PATH_INFO', '/a\0b'], 0, { stripScriptName: false, scriptNames: NONE }), null);
});

test("a Berth front's keep-alive offer (BERTH_KEEPALIVE) is the server's, not passed to the app", () => {
  const e = parse(buildUwsgiEnviron([...NGINX, 'BERTH_KEEPALIVE', 'tok'], 5, { stripScriptName: false, scriptNames: NONE })!.block);
  assert.equal(e.BERTH_KEEPALIVE, undefined);
  assert.equal(e.HTTP_X_TRACE, 't1');
});
