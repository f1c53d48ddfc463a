/**
 * Reloading a real Django project (django-admin startproject + a small app, Debian
 * python3-django) whose views.py breaks: Django imports views lazily, so only its system check
 * and URLconf (reload-check-django, on by default) catch it. A broken views.py fails the first
 * start with the traceback, and a reload to it is refused while the old code serves and
 * `berth --reload` exits 1 naming the error; a good change switches and exits 0.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianPython, runBerth, startBerth } from '../helpers/berth.js';

function makeProject(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-django-reload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  try {
    execFileSync('/usr/bin/django-admin', ['startproject', 'mysite', dir], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`django-admin startproject failed (python3-django is needed: run scripts/install-test-deps.sh): ${(err as { stderr?: Buffer }).stderr?.toString() ?? err}`);
  }
  mkdirSync(join(dir, 'hello'));
  writeFileSync(join(dir, 'hello', '__init__.py'), '');
  writeFileSync(join(dir, 'hello', 'urls.py'), "from django.urls import path\nfrom . import views\nurlpatterns = [path('', views.index)]\n");
  writeViews(dir, 'v1');
  const urls = join(dir, 'mysite', 'urls.py');
  writeFileSync(urls, readFileSync(urls, 'utf8').replace('from django.urls import path', 'from django.urls import include, path')
    .replace("path('admin/', admin.site.urls),", "path('admin/', admin.site.urls),\n    path('', include('hello.urls')),"));
  return dir;
}

function writeViews(dir: string, version: string): void {
  writeFileSync(join(dir, 'hello', 'views.py'), `from django.http import HttpResponse\n\ndef index(request):\n    return HttpResponse('hello ${version}')\n`);
}

const BROKEN_VIEWS = 'from django.http import HttpResponse\n\ndef index(request)\n    return HttpResponse("never")\n';

const args = (dir: string, pidfile: string): string[] => ['--http', '127.0.0.1:0', '--chdir', dir, '--module', 'mysite.wsgi', '--python', debianPython(), '--pidfile', pidfile];
const ENV = { PYTHONDONTWRITEBYTECODE: '1' };

test('Django: a broken views.py fails the first start with the traceback', async (t) => {
  const dir = makeProject(t);
  writeFileSync(join(dir, 'hello', 'views.py'), BROKEN_VIEWS);
  const r = await runBerth(args(dir, join(dir, 'site.pid')), { env: ENV });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /reason: +Django's system check \(reload-check-django\) failed: SyntaxError/);
  assert.match(r.stderr, /hello\/views\.py", line 3/);
});

for (const mode of ['preload', 'lazy-apps'] as const) {
  test(`Django (${mode}): a reload to a broken views.py is refused and v1 keeps serving (berth --reload exits 1, touch-reload too); a good change switches (exit 0)`, async (t) => {
    const dir = makeProject(t);
    const pidfile = join(dir, 'site.pid');
    const trigger = join(dir, 'reload.trigger');
    const berth = await startBerth([...args(dir, pidfile), '--touch-reload', trigger, ...(mode === 'lazy-apps' ? ['--lazy-apps'] : [])], { env: ENV });
    t.after(() => berth.stop());
    assert.equal(await (await fetch(berth.url('/'))).text(), 'hello v1');

    writeFileSync(join(dir, 'hello', 'views.py'), BROKEN_VIEWS);
    const refused = await runBerth(['--reload', pidfile]);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, mode === 'preload' ? /reload refused: the WSGI app could not be loaded/ : /reload refused: new worker 1 did not become ready/);
    assert.match(refused.stderr, /Django's system check \(reload-check-django\) failed: SyntaxError/);
    assert.match(refused.stderr, /hello\/views\.py", line 3/);
    assert.match(refused.stderr, /generation 1 serves/);
    assert.equal(await (await fetch(berth.url('/'))).text(), 'hello v1');

    writeFileSync(trigger, 'now');
    await berth.waitForLog(/touch-reload \([^)]*reload\.trigger\): reload of generation 1 requested[\s\S]*reload failed: [\s\S]*reload-check-django/);
    assert.equal(await (await fetch(berth.url('/'))).text(), 'hello v1');

    writeViews(dir, 'v2');
    const good = runBerth(['--reload', pidfile]);
    await berth.waitForLog(/reload done in \d+ ms: generation 2 serves/);
    assert.equal(await (await fetch(berth.url('/'))).text(), 'hello v2');
    const ok = await good;
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /reload done: generation 2 serves/);
  });
}
