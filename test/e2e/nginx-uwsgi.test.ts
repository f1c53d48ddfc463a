/**
 * Real nginx → `uwsgi_pass` → Berth's uwsgi-protocol listener → the echo app. Proves that
 * what nginx's stock `uwsgi_params` sends becomes the WSGI environ a uWSGI user expects (over
 * TCP and over a unix socket), that the usual extras work (HTTPS / UWSGI_SCHEME,
 * SCRIPT_NAME with modifier1 30, mountpoints), that big cookies fit, and that the seed
 * article's nginx config (upstream block, static/media aliases) works unchanged; an app written
 * for uWSGI that returns bytes, and a client field sent on several lines, as nginx-tests' uwsgi.t
 * and uwsgi_body.t send them.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync, existsSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { sendUntilClose } from '../helpers/raw-http.js';
import { requireNginx, sharedTempDir, startNginx, type RunningNginx } from '../helpers/nginx.js';

type Environ = Record<string, unknown>;

const ECHO = ['--chdir', APPS, '--module', 'echo', '--processes', '1', '--threads', '2'];
/** A non-existent root: nginx only reports it as DOCUMENT_ROOT. */
const ROOT = '/srv/berth-e2e-root';

let berth: RunningBerth;
const cleanups: (() => Promise<void> | void)[] = [];

before(async () => {
  requireNginx();
  berth = await startBerth(['--socket', '127.0.0.1:0', ...ECHO, '--python', debianPython()]);
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await berth?.stop();
});

/** Starts nginx and stops it when the file's tests are done. */
async function nginx(server: string, http?: string): Promise<RunningNginx> {
  const n = await startNginx(server, http === undefined ? {} : { http });
  cleanups.push(() => n.stop());
  return n;
}

function location(pass: string, extra = ''): string {
  return `server {
    server_name localhost;
    root ${ROOT};
    location / {
      include uwsgi_params;
      ${extra}
      uwsgi_pass ${pass};
    }
  }`;
}

async function environ(n: RunningNginx, path: string, headers: Record<string, string> = {}): Promise<Environ> {
  const res = await fetch(n.url(path), { headers });
  const text = await res.text();
  assert.equal(res.status, 200, `${path} through nginx answered ${res.status}: ${text}\nnginx error log:\n${n.errorLog()}`);
  return JSON.parse(text) as Environ;
}

/** PEP 3333: PATH_INFO holds the URL-decoded bytes, each as one latin-1 character. */
const latin1OfUtf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

function assertCgiEnviron(env: Environ, n: RunningNginx): void {
  assert.equal(env.REQUEST_METHOD, 'GET');
  assert.equal(env.QUERY_STRING, 'a=1&b=two%20words');
  assert.equal(env.REQUEST_URI, '/environ/caf%C3%A9?a=1&b=two%20words');
  assert.equal(env.PATH_INFO, latin1OfUtf8('/environ/café'));
  assert.equal(env.SCRIPT_NAME, '');
  assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.1');
  assert.equal(env.REMOTE_ADDR, '127.0.0.1');
  assert.match(String(env.REMOTE_PORT), /^\d+$/);
  assert.equal(env.SERVER_PORT, String(n.port));
  assert.equal(env.SERVER_NAME, 'localhost');
  // Debian's uwsgi_params sends $host (no port); older ones let the Host header through.
  assert.match(String(env.HTTP_HOST), /^127\.0\.0\.1(:\d+)?$/);
  assert.equal(env.HTTP_X_BERTH_PROBE, 'probe value');
  assert.equal(env.DOCUMENT_ROOT, ROOT);
  assert.equal(env.REQUEST_SCHEME, 'http');
  assert.equal(env['wsgi.url_scheme'], 'http');
}

const PROBE = '/environ/caf%C3%A9?a=1&b=two%20words';

test('uwsgi_pass over TCP: the environ carries what uwsgi_params sends', async () => {
  const n = await nginx(location(`127.0.0.1:${berth.port}`));
  assertCgiEnviron(await environ(n, PROBE, { 'x-berth-probe': 'probe value' }), n);
});

test('uwsgi_pass over a unix socket with bare --chmod-socket: mode 0666, served, removed on SIGTERM', async (t) => {
  const dir = sharedTempDir('berth-sock-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'berth.sock');
  // startBerth finds its port in the log, so an HTTP listener comes along; nginx uses the socket.
  const b = await startBerth(['--http', '127.0.0.1:0', '--socket', sock, '--chmod-socket', '--vacuum', ...ECHO, '--python', debianPython()]);
  t.after(() => b.stop('SIGKILL'));
  const st = statSync(sock);
  assert.ok(st.isSocket());
  // 0666 is what lets nginx's unprivileged worker (nobody / www-data) connect.
  assert.equal(st.mode & 0o777, 0o666);
  const n = await nginx(location(`unix:${sock}`));
  assertCgiEnviron(await environ(n, PROBE, { 'x-berth-probe': 'probe value' }), n);
  const { code } = await b.stop('SIGTERM');
  assert.equal(code, 0);
  assert.equal(existsSync(sock), false, 'the unix socket is still there after a graceful stop with vacuum');
});

test("as root: nginx's worker (nobody) needs chmod-socket or chown-socket to connect", async (t) => {
  // Only root can chown, and only a root nginx drops its workers to nobody.
  assert.equal(process.getuid?.(), 0, 'needs root (nginx workers only change user when started as root): run the suite as root, as scripts/test.sh expects');
  const dir = sharedTempDir('berth-sock-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const plain = join(dir, 'plain.sock');
  const shared = join(dir, 'shared.sock');
  const b1 = await startBerth(['--http', '127.0.0.1:0', '--socket', plain, ...ECHO, '--python', debianPython()]);
  t.after(() => b1.stop());
  const b2 = await startBerth(['--http', '127.0.0.1:0', '--socket', shared, '--chmod-socket=660', '--chown-socket', 'nobody:nogroup', ...ECHO, '--python', debianPython()]);
  t.after(() => b2.stop());
  // Without either option the socket is root's 0755 (umask 022): nginx's worker may not write to it.
  const n1 = await nginx(location(`unix:${plain}`));
  assert.equal((await fetch(n1.url('/pid'))).status, 502);
  assert.match(n1.errorLog(), /connect\(\) to unix:[^ ]*plain\.sock failed \(13: Permission denied\)/);
  const st = statSync(shared);
  assert.equal(st.mode & 0o777, 0o660);
  assert.equal(st.uid, Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim()));
  const n2 = await nginx(location(`unix:${shared}`));
  assert.equal((await fetch(n2.url('/pid'))).status, 200);
});

test('uwsgi_param HTTPS on → wsgi.url_scheme https', async () => {
  const n = await nginx(location(`127.0.0.1:${berth.port}`, 'uwsgi_param HTTPS on;'));
  const env = await environ(n, '/environ');
  assert.equal(env['wsgi.url_scheme'], 'https');
  assert.equal(env.HTTPS, 'on');
});

test('uwsgi_param UWSGI_SCHEME https → wsgi.url_scheme https', async () => {
  const n = await nginx(location(`127.0.0.1:${berth.port}`, 'uwsgi_param UWSGI_SCHEME https;'));
  const env = await environ(n, '/environ');
  assert.equal(env['wsgi.url_scheme'], 'https');
  assert.equal(env.REQUEST_SCHEME, 'http', 'REQUEST_SCHEME is passed through as nginx sent it');
});

test('SCRIPT_NAME /app with uwsgi_modifier1 30: PATH_INFO loses the prefix', async () => {
  const n = await nginx(location(`127.0.0.1:${berth.port}`, 'uwsgi_param SCRIPT_NAME /app;\n      uwsgi_modifier1 30;'));
  const env = await environ(n, '/app/environ/x?q=1');
  assert.equal(env.SCRIPT_NAME, '/app');
  assert.equal(env.PATH_INFO, '/environ/x');
  assert.equal(env.QUERY_STRING, 'q=1');
  assert.equal(env.REQUEST_URI, '/app/environ/x?q=1');
});

test('--mount /app=echo --manage-script-name with plain uwsgi_params: the same split', async (t) => {
  const b = await startBerth(['--socket', '127.0.0.1:0', '--chdir', APPS, '--mount', '/app=echo', '--manage-script-name', '--processes', '1', '--python', debianPython()]);
  t.after(() => b.stop());
  const n = await nginx(location(`127.0.0.1:${b.port}`));
  const env = await environ(n, '/app/environ/x?q=1');
  assert.equal(env.SCRIPT_NAME, '/app');
  assert.equal(env.PATH_INFO, '/environ/x');
  // A path outside the mountpoint goes to the app with SCRIPT_NAME '' (uWSGI's fallback).
  const outside = await environ(n, '/environ/y');
  assert.equal(outside.SCRIPT_NAME, '');
  assert.equal(outside.PATH_INFO, '/environ/y');
});

test('a ~15,000-byte Cookie header reaches the app intact', async () => {
  // large_client_header_buffers 4 16k, as in the seed config: nginx accepts a 16 KiB line;
  // the cookie then travels inside the uwsgi vars block (Berth's buffer-size: 64 KiB).
  const n = await nginx(`server {
    large_client_header_buffers 4 16k;
    location / { include uwsgi_params; uwsgi_pass 127.0.0.1:${berth.port}; }
  }`);
  const cookie = Array.from({ length: 150 }, (_, i) => `c${String(i).padStart(3, '0')}=${'v'.repeat(93)}`).join('; ');
  assert.ok(cookie.length > 14_500 && cookie.length < 16_000, `cookie of ${cookie.length} bytes`);
  const env = await environ(n, '/environ', { cookie });
  assert.equal(env.HTTP_COOKIE, cookie);
});

test("the seed article's config: upstream, 75M, big header buffers, static and media aliases", async (t) => {
  const staticDir = sharedTempDir('berth-static-');
  const mediaDir = sharedTempDir('berth-media-');
  t.after(() => {
    rmSync(staticDir, { recursive: true, force: true });
    rmSync(mediaDir, { recursive: true, force: true });
  });
  mkdirSync(join(staticDir, 'css'), { mode: 0o755 });
  writeFileSync(join(staticDir, 'css', 'site.css'), 'body { color: navy }\n', { mode: 0o644 });
  writeFileSync(join(mediaDir, 'photo.txt'), 'not really a photo\n', { mode: 0o644 });
  const n = await nginx(
    `server {
    server_name localhost;
    charset utf-8;
    client_max_body_size 75M;
    large_client_header_buffers 4 16k;
    location /media { alias ${mediaDir}; }
    location /static { alias ${staticDir}; }
    location / {
      uwsgi_pass djangostream;
      include uwsgi_params;
    }
  }`,
    `upstream djangostream { server 127.0.0.1:${berth.port}; }`,
  );
  const css = await fetch(n.url('/static/css/site.css'));
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type') ?? '', /text\/css/);
  assert.equal(await css.text(), 'body { color: navy }\n');
  const media = await fetch(n.url('/media/photo.txt'));
  assert.equal(media.status, 200);
  assert.equal(await media.text(), 'not really a photo\n');
  // Everything else goes to Berth.
  const env = await environ(n, '/environ/seed?x=1');
  assert.equal(env.PATH_INFO, '/environ/seed');
  const missing = await fetch(n.url('/nothing-here'));
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), 'not found\n', 'the 404 comes from the app, not from nginx');
  const post = await fetch(n.url('/body'), { method: 'POST', body: 'hello through the upstream' });
  assert.equal(post.status, 200);
  assert.equal(await post.text(), 'hello through the upstream');
});

/** One raw HTTP/1.0 exchange with nginx, LF written as CRLF (fetch would join repeated fields itself). */
const rawExchange = (port: number, request: string): Promise<string> => sendUntilClose(port, Buffer.from(request.replace(/\n/g, '\r\n'), 'latin1'));

test("an app returning bytes (uWSGI's habit), and a field on several lines, behind nginx", async (t) => {
  const b = await startBerth(['--socket', '127.0.0.1:0', '--chdir', APPS, '--wsgi-file', 'returns_bytes.py', '--processes', '1', '--python', debianPython()]);
  t.after(() => b.stop());
  // Without uwsgi_params, as nginx-tests' uwsgi.t: only what nginx sends by itself.
  const n = await nginx(`server {
    server_name localhost;
    location / { uwsgi_pass 127.0.0.1:${b.port}; uwsgi_param SERVER_PROTOCOL $server_protocol; uwsgi_param HTTP_X_BLAH "blah"; }
    location /body { include uwsgi_params; uwsgi_pass 127.0.0.1:${b.port}; }
  }`);
  const plain = await rawExchange(n.port, 'GET / HTTP/1.0\nHost: localhost\n\n');
  assert.match(plain, /^HTTP\/1\.1 200 /, plain);
  assert.match(plain, /\r\n\r\nSEE-THIS$/, plain);
  // nginx 1.22 (Debian 12) passes each line as its own var; nginx 1.23+ joins them itself.
  const repeated = await rawExchange(n.port, 'GET / HTTP/1.0\nHost: localhost\nX-Forwarded-For: foo\nX-Forwarded-For: bar\n'
    + 'X-Forwarded-For: bazz\nCookie: foo\nCookie: bar\nCookie: bazz\nFoo: foo\nFoo: bar\nFoo: bazz\n\n');
  assert.match(repeated, /\r\nX-Forwarded-For: foo, bar, bazz\r\n/, repeated);
  assert.match(repeated, /\r\nX-Cookie: foo; bar; bazz\r\n/, repeated);
  assert.match(repeated, /\r\nX-Foo: foo, bar, bazz\r\n/, repeated);
  const body = await rawExchange(n.port, 'POST /body HTTP/1.0\nHost: localhost\nContent-Length: 6\n\nfoobar');
  assert.match(body, /\r\n\r\ncl=6 'foobar'$/, body);
});
