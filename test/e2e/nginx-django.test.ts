/**
 * The deployment the seed article describes, for real: nginx (static and media aliases,
 * client_max_body_size) → `uwsgi_pass unix:…` → Berth → a Django 3.2 project. Proves the
 * admin login with CSRF, a CSRF-protected form POST, a multipart upload that nginx then serves
 * back from MEDIA_ROOT, the ORM on SQLite, and the admin's collected static files from nginx.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { requireNginx, sharedTempDir, startNginx, type RunningNginx } from '../helpers/nginx.js';

let berth: RunningBerth;
let nginx: RunningNginx;
let dir: string;

before(async () => {
  requireNginx();
  const python = debianPython();
  // World-searchable: nginx's unprivileged worker reads static/ and media/ and connects to the socket.
  dir = sharedTempDir('berth-nginx-django-');
  const env = { DJSITE_DB: join(dir, 'db.sqlite3'), DJSITE_MEDIA_ROOT: join(dir, 'media'), DJSITE_STATIC_ROOT: join(dir, 'static') };
  try {
    execFileSync(python, [join(APPS, 'djsite', 'prepare.py'), '--static', '--admin'], { env: { ...process.env, ...env }, stdio: 'pipe' });
  } catch (err) {
    throw new Error(`preparing the Django project failed (is python3-django installed? run sudo bash scripts/install-test-deps.sh): ${(err as { stderr?: Buffer }).stderr?.toString() ?? err}`);
  }
  const sock = join(dir, 'djsite.sock');
  // The HTTP listener only lets startBerth learn that Berth is up; nginx uses the socket.
  berth = await startBerth([
    '--http', '127.0.0.1:0', '--socket', sock, '--chmod-socket', '--vacuum',
    '--chdir', join(APPS, 'djsite'), '--module', 'djsite.wsgi', '--processes', '2', '--threads', '2', '--python', python,
    ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
  ]);
  nginx = await startNginx(
    `server {
    server_name localhost;
    charset utf-8;
    client_max_body_size 75M;
    large_client_header_buffers 4 16k;
    location /media { alias ${env.DJSITE_MEDIA_ROOT}; }
    location /static { alias ${env.DJSITE_STATIC_ROOT}; }
    location / { uwsgi_pass djangostream; include uwsgi_params; }
  }`,
    { http: `upstream djangostream { server unix:${sock}; }` },
  );
});
after(async () => {
  await nginx?.stop();
  await berth?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A tiny cookie jar: Django's CSRF protection needs the csrftoken cookie back. */
class Session {
  readonly cookies = new Map<string, string>();
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(nginx.url(path), { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0]!;
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }
  async csrfFrom(path: string): Promise<string> {
    const res = await this.fetch(path);
    const html = await res.text();
    assert.equal(res.status, 200, `GET ${path} through nginx: ${res.status}\n${html.slice(0, 500)}\n${nginx.errorLog().slice(-1500)}`);
    const m = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html);
    assert.ok(m, `no CSRF token in ${path}`);
    return m[1]!;
  }
  post(path: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: nginx.url(path) },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

test('admin login with CSRF through nginx: 302 to /admin/, then Site administration', async () => {
  const s = new Session();
  const token = await s.csrfFrom('/admin/login/?next=/admin/');
  const res = await s.post('/admin/login/?next=/admin/', { csrfmiddlewaretoken: token, username: 'admin', password: 'admin-password', next: '/admin/' });
  assert.equal(res.status, 302, await res.text());
  assert.equal(res.headers.get('location'), '/admin/');
  assert.ok(s.cookies.has('sessionid'), 'logged in: a session cookie came back through nginx');
  const home = await s.fetch('/admin/');
  assert.equal(home.status, 200);
  const html = await home.text();
  assert.match(html, /Site administration/);
  // The page's stylesheet is a collected static file: nginx serves it, Berth never sees it.
  const css = /href="(\/static\/admin\/css\/base\.css)"/.exec(html);
  assert.ok(css, 'the admin links its base.css under /static/');
  const sheet = await fetch(nginx.url(css[1]!));
  assert.equal(sheet.status, 200);
  assert.match(sheet.headers.get('content-type') ?? '', /text\/css/);
  assert.doesNotMatch(berth.logs(), /GET \/static\//, 'static files came from nginx, not from Berth');
});

test('a form POST with the CSRF token is accepted; without it, 403', async () => {
  const s = new Session();
  const token = await s.csrfFrom('/form/');
  const ok = await s.post('/form/', { csrfmiddlewaretoken: token, name: 'rope', quantity: '3' });
  assert.equal(ok.status, 200);
  assert.deepEqual(((await ok.json()) as { data: unknown }).data, { name: 'rope', quantity: 3, email: '' });
  const forbidden = await new Session().post('/form/', { name: 'x', quantity: '1' });
  assert.equal(forbidden.status, 403);
});

test('a ~5 MB multipart upload arrives intact, and nginx serves it back from MEDIA_ROOT', async () => {
  const s = new Session();
  const token = await s.csrfFrom('/upload/');
  const data = randomBytes(5 * 1024 * 1024 + 123);
  const form = new FormData();
  form.set('csrfmiddlewaretoken', token);
  form.set('file', new Blob([data]), 'cargo.bin');
  const res = await s.fetch('/upload/', { method: 'POST', body: form, headers: { referer: nginx.url('/upload/') } });
  const text = await res.text();
  assert.equal(res.status, 200, `${text.slice(0, 500)}\n${nginx.errorLog().slice(-1500)}`);
  const json = JSON.parse(text) as { size: number; sha256: string; name: string; saved_as: string };
  const sha256 = createHash('sha256').update(data).digest('hex');
  assert.equal(json.size, data.length);
  assert.equal(json.sha256, sha256);
  const back = await fetch(nginx.url(`/media/${json.saved_as}`));
  assert.equal(back.status, 200);
  assert.equal(createHash('sha256').update(Buffer.from(await back.arrayBuffer())).digest('hex'), sha256);
});

test('the ORM view writes and reads SQLite through nginx', async () => {
  const created = await fetch(nginx.url('/items/?create=anchor&price=2.50'));
  assert.equal(created.status, 200);
  await created.arrayBuffer();
  const data = (await (await fetch(nginx.url('/items/'))).json()) as { items: { name: string; price: string }[] };
  assert.ok(data.items.some((i) => i.name === 'anchor' && i.price === '2.50'), JSON.stringify(data));
  const page = await fetch(nginx.url('/'));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Berth shop/);
});
