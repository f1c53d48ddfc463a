/**
 * A real Django 3.2 project (Debian python3-django) served by Berth: template page, ORM on
 * SQLite, a form POST with its CSRF token (and the 403 without it), the admin login, and a
 * 20 MB multipart upload.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';

let berth: RunningBerth;
let dir: string;

before(async () => {
  const python = debianPython();
  dir = mkdtempSync(join(tmpdir(), 'berth-django-'));
  const env = { DJSITE_DB: join(dir, 'db.sqlite3'), DJSITE_MEDIA_ROOT: join(dir, 'media'), DJSITE_STATIC_ROOT: join(dir, 'static') };
  try {
    execFileSync(python, [join(APPS, 'djsite', 'prepare.py'), '--admin'], { env: { ...process.env, ...env }, stdio: 'pipe' });
  } catch (err) {
    throw new Error(`preparing the Django project failed (is python3-django installed? run scripts/install-test-deps.sh): ${(err as { stderr?: Buffer }).stderr?.toString() ?? err}`);
  }
  berth = await startBerth([
    '--http', '127.0.0.1:0', '--chdir', join(APPS, 'djsite'), '--module', 'djsite.wsgi', '--processes', '2', '--threads', '2', '--python', python,
    ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
  ]);
});
after(async () => {
  await berth?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A tiny cookie jar: Django's CSRF protection needs the csrftoken cookie back. */
class Session {
  cookies = new Map<string, string>();
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(berth.url(path), { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  }
  async csrfFrom(path: string): Promise<string> {
    const html = await (await this.fetch(path)).text();
    const m = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html);
    assert.ok(m, `no CSRF token in ${path}`);
    return m[1]!;
  }
}

test('the template view renders', async () => {
  const res = await fetch(berth.url('/'));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const html = await res.text();
  assert.match(html, /Berth shop/);
  assert.match(html, /ITEM 19/);
});

test('an ORM view reads and writes SQLite', async () => {
  await (await fetch(berth.url('/items/?create=anchor&price=2.50'))).arrayBuffer();
  const data = (await (await fetch(berth.url('/items/'))).json()) as { items: { name: string; price: string }[] };
  assert.ok(data.items.some((i) => i.name === 'anchor' && i.price === '2.50'));
});

test('a form POST with the CSRF token is accepted; without it, 403', async () => {
  const s = new Session();
  const token = await s.csrfFrom('/form/');
  const ok = await s.fetch('/form/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', referer: berth.url('/form/') },
    body: new URLSearchParams({ csrfmiddlewaretoken: token, name: 'rope', quantity: '3' }).toString(),
  });
  assert.equal(ok.status, 200);
  assert.deepEqual(((await ok.json()) as { data: unknown }).data, { name: 'rope', quantity: 3, email: '' });
  const forbidden = await fetch(berth.url('/form/'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=x&quantity=1' });
  assert.equal(forbidden.status, 403);
});

test('the admin login page loads and a superuser can log in', async () => {
  const s = new Session();
  const token = await s.csrfFrom('/admin/login/');
  const res = await s.fetch('/admin/login/?next=/admin/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', referer: berth.url('/admin/login/') },
    body: new URLSearchParams({ csrfmiddlewaretoken: token, username: 'admin', password: 'admin-password', next: '/admin/' }).toString(),
  });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), '/admin/');
  const home = await s.fetch('/admin/');
  assert.equal(home.status, 200);
  assert.match(await home.text(), /Site administration/);
});

test('a 20 MB multipart upload arrives intact', async () => {
  const s = new Session();
  const token = await s.csrfFrom('/upload/');
  const data = randomBytes(20 * 1024 * 1024);
  const form = new FormData();
  form.set('csrfmiddlewaretoken', token);
  form.set('file', new Blob([data]), 'cargo.bin');
  const res = await s.fetch('/upload/', { method: 'POST', body: form, headers: { referer: berth.url('/upload/') } });
  assert.equal(res.status, 200);
  const json = (await res.json()) as { size: number; sha256: string; name: string };
  assert.equal(json.size, data.length);
  assert.equal(json.sha256, createHash('sha256').update(data).digest('hex'));
});
