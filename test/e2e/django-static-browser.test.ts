/**
 * static-from-django in a real browser: the djsite project (Django 3.2, DEBUG = False, so
 * Django itself serves no static files) behind Berth with `--static-from-django` and no
 * static-map. Headless Chromium (Debian's `chromium`, driven by playwright-core) opens the
 * admin login page: its stylesheets must be 200 text/css and their rules must apply; the
 * admin logs in; a file uploaded through the browser is served back under MEDIA_URL. A second
 * Berth, on a project whose STATIC_ROOT collectstatic never filled, must say so at start.
 *
 * Set BERTH_E2E_ARTIFACTS=<dir> to keep the login page's screenshot.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Django 3.2 admin: base.css sets #header's background to --header-bg (#417690). */
const HEADER_BG = 'rgb(65, 118, 144)';

function chromiumPath(): string {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's \`chromium\` package (run \`sudo bash scripts/install-test-deps.sh\`)`);
  }
  return CHROMIUM;
}

/** A fresh djsite instance in `dir`: migrated, with an admin, and collected static files when asked. */
function prepareDjsite(dir: string, collectstatic: boolean): Record<string, string> {
  const env = { DJSITE_DB: join(dir, 'db.sqlite3'), DJSITE_STATIC_ROOT: join(dir, 'static'), DJSITE_MEDIA_ROOT: join(dir, 'media') };
  const args = [join(APPS, 'djsite', 'prepare.py'), '--admin', ...(collectstatic ? ['--static'] : [])];
  try {
    execFileSync(debianPython(), args, { env: { ...process.env, ...env }, stdio: 'pipe' });
  } catch (err) {
    throw new Error(`preparing the Django project failed (is python3-django installed? run scripts/install-test-deps.sh): ${(err as { stderr?: Buffer }).stderr?.toString() ?? err}`);
  }
  return env;
}

function berthArgs(env: Record<string, string>): string[] {
  return [
    '--http', '127.0.0.1:0', '--chdir', join(APPS, 'djsite'), '--module', 'djsite.wsgi', '--python', debianPython(),
    '--static-from-django', ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
  ];
}

describe('static-from-django, collected static files, in Chromium', () => {
  let dir: string;
  let berth: RunningBerth;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    const executablePath = chromiumPath();
    dir = mkdtempSync(join(tmpdir(), 'berth-djstatic-'));
    berth = await startBerth(berthArgs(prepareDjsite(dir, true)));
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    await berth?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the start-up log names the mappings and has no collectstatic warning', () => {
    assert.match(berth.logs(), /static-from-django: \/static → .*static \(STATIC_ROOT\)/);
    assert.match(berth.logs(), /static-from-django: \/media → .*media \(MEDIA_ROOT\)/);
    assert.doesNotMatch(berth.logs(), /collectstatic/);
  });

  test("the admin login page loads its CSS and the CSS's rules apply", async () => {
    const stylesheets: Response[] = [];
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.request().resourceType() === 'stylesheet') stylesheets.push(r);
    });
    page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    const res = await page.goto(berth.url('/admin/login/'), { waitUntil: 'load' });
    assert.equal(res?.status(), 200);
    assert.deepEqual(failed, []);
    const byName = new Map(stylesheets.map((r) => [new URL(r.url()).pathname, r]));
    for (const css of ['/static/admin/css/base.css', '/static/admin/css/login.css']) {
      const r = byName.get(css);
      assert.ok(r, `${css} was not requested; stylesheets: ${[...byName.keys()].join(', ')}`);
      assert.equal(r.status(), 200, css);
      assert.match(r.headers()['content-type'] ?? '', /^text\/css\b/, css);
      // Berth's static stage answered (Django with DEBUG = False serves no static files).
      assert.ok(r.headers().etag, `${css} has no ETag`);
    }
    for (const r of stylesheets) assert.equal(r.status(), 200, r.url());
    const style = await page.evaluate(() => {
      const header = getComputedStyle(document.querySelector('#header')!);
      const container = getComputedStyle(document.querySelector('.login #container')!);
      return { headerBg: header.backgroundColor, containerMarginTop: container.marginTop, containerRadius: container.borderTopLeftRadius };
    });
    assert.equal(style.headerBg, HEADER_BG, 'base.css: #header background');
    assert.equal(style.containerMarginTop, '100px', 'login.css: .login #container margin');
    assert.equal(style.containerRadius, '4px', 'login.css: .login #container border-radius');
    const shot = join(dir, 'admin-login.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual([...readFileSync(shot).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const keep = process.env.BERTH_E2E_ARTIFACTS;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(shot, join(keep, 'admin-login.png'));
    }
  });

  test('the admin logs in and the dashboard is styled too', async () => {
    await page.goto(berth.url('/admin/login/?next=/admin/'));
    await page.fill('#id_username', 'admin');
    await page.fill('#id_password', 'admin-password');
    const dashboardCss = page.waitForResponse((r) => new URL(r.url()).pathname === '/static/admin/css/dashboard.css');
    await Promise.all([page.waitForURL(berth.url('/admin/')), page.click('input[type="submit"]')]);
    assert.match(await page.textContent('body') ?? '', /Site administration/);
    const css = await dashboardCss;
    assert.equal(css.status(), 200);
    assert.match(css.headers()['content-type'] ?? '', /^text\/css\b/);
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('#header')!).backgroundColor), HEADER_BG);
  });

  test('a file uploaded through the browser is served back under MEDIA_URL', async () => {
    const data = Buffer.from(`berth media check ${randomBytes(16).toString('hex')}\n`);
    await page.goto(berth.url('/upload/'));
    await page.setInputFiles('input[name="file"]', { name: 'manifest.txt', mimeType: 'text/plain', buffer: data });
    const [answer] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/upload/' && r.request().method() === 'POST'),
      page.click('button[type="submit"]'),
    ]);
    assert.equal(answer.status(), 200);
    const saved = ((await answer.json()) as { saved_as: string; size: number }).saved_as;
    assert.match(saved, /^manifest.*\.txt$/);
    const res = await fetch(berth.url(`/media/${encodeURIComponent(saved)}`));
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('etag'), 'served by Berth (Django serves no media with DEBUG = False)');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
  });
});

describe('static-from-django warns when collectstatic has not run', () => {
  let dir: string;
  let berth: RunningBerth;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-djstatic-empty-'));
    const env = prepareDjsite(dir, false);
    mkdirSync(env.DJSITE_STATIC_ROOT!);
    berth = await startBerth(berthArgs(env));
  });
  after(async () => {
    await berth?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the log says to run collectstatic, that the admin CSS would 404, and that MEDIA_ROOT is missing', async () => {
    await berth.waitForLog(/MEDIA_ROOT .* does not exist/, 5_000);
    const log = berth.logs();
    assert.match(log, /static-from-django: STATIC_ROOT .*static is empty: run `python manage.py collectstatic`; until then the admin's CSS will 404/);
    assert.match(log, /static-from-django: MEDIA_ROOT .*media does not exist: uploads will 404 until it exists/);
    const css = await fetch(berth.url('/static/admin/css/base.css'));
    assert.equal(css.status, 404);
    await css.arrayBuffer();
  });
});
