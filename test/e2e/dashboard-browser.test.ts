/**
 * The dashboard in headless Chromium (Debian's `chromium`, driven by playwright-core). A small
 * harness HTTP server calls handleDashboard with a snapshot read from a real uWSGI's stats
 * server (Debian uwsgi, 2 processes), so the numbers are real: after traffic, the workers table
 * must show them. For the Berth-only parts (recent errors, config), the harness serves the same
 * uWSGI document plus a `berth` key it builds itself, with a traceback holding `<script>` and
 * markup: it must show as text and never run.
 *
 * Then the same page on a real Berth's stats-http address: its workers, its counts, a real
 * app error with its Python traceback.
 *
 * Set BERTH_E2E_ARTIFACTS=<dir> to keep the screenshots (docs/figs/dashboard.png is Berth's).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { handleDashboard, type StatsDocument } from '../../src/stats/dashboard-route.js';
import { APPS, debianPython, startBerth } from '../helpers/berth.js';
import { freePort } from '../helpers/nginx.js';
import { startUwsgi, type RunningUwsgi } from '../helpers/uwsgi.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const HOSTILE = `Traceback (most recent call last):\n  File "/srv/app/views.py", line 12, in search\n    raise ValueError(q)\nValueError: <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">`;

/** uWSGI's stats document, read raw (connect, read to EOF). */
function readUwsgi(address: string): Promise<StatsDocument> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), host!);
    let text = '';
    s.setEncoding('utf8').on('data', (t: string) => void (text += t));
    s.on('end', () => {
      try {
        resolve(JSON.parse(text) as StatsDocument);
      } catch (err) {
        reject(err);
      }
    });
    s.on('error', reject);
  });
}

/** The harness: /dashboard* goes to handleDashboard; the snapshot is the latest uWSGI document, refreshed every 200 ms. */
async function harness(uwsgi: RunningUwsgi, decorate: (doc: StatsDocument) => StatsDocument): Promise<{ url: string; close: () => Promise<void> }> {
  let latest = decorate(await readUwsgi(uwsgi.stats));
  let polling = true;
  const poll = async (): Promise<void> => {
    while (polling) {
      latest = decorate(await readUwsgi(uwsgi.stats).catch(() => latest));
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const loop = poll();
  const server: Server = createServer((req, res) => handleDashboard(req, res, () => latest));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/dashboard`,
    close: async () => {
      polling = false;
      await loop;
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** When the harness's Berth "started" and its error happened: fixed, as a real server's are. */
const STARTED = Math.floor(Date.now() / 1000) - 3600;
const FAILED_AT = Math.floor(Date.now() / 1000) - 5;

function withBerthKey(doc: StatsDocument): StatsDocument {
  return {
    ...doc,
    berth: {
      generation: 2, reloads: 1, started_at: STARTED, python: '3.11.2',
      recent_errors: [{ time: FAILED_AT, worker: 1, method: 'GET', uri: '/search?q=<b>bold</b>', status: 500, traceback: HOSTILE }],
      config: { processes: 2, module: 'site.wsgi', 'stats-http': true, env: 'SECRET_KEY=********' },
    },
  };
}

/** The requests column of the worker rows, by pid. */
async function requestsByPid(page: Page): Promise<Map<number, number>> {
  const rows = await page.$$eval('#workers tbody tr', (trs) => trs.map((tr) => [Number((tr as HTMLElement).dataset['pid']), Number(tr.children[3]!.textContent)]));
  return new Map(rows as [number, number][]);
}

describe('the dashboard in Chromium, fed by a real uWSGI', () => {
  let uwsgi: RunningUwsgi;
  let browser: Browser;
  let dir: string;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's \`chromium\` package (run \`sudo bash scripts/install-test-deps.sh\`)`);
    dir = mkdtempSync(join(tmpdir(), 'berth-dashboard-'));
    uwsgi = await startUwsgi(join(APPS, 'hello.py'), 2);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await uwsgi?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the workers table shows the live request counts of both workers', async (t) => {
    const h = await harness(uwsgi, (d) => d);
    t.after(() => h.close());
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(h.url);
    await page.waitForFunction(() => document.querySelectorAll('#workers tbody tr').length === 2);
    const pids = ((await readUwsgi(uwsgi.stats))['workers'] as { pid: number }[]).map((w) => w.pid);
    const first = await requestsByPid(page);
    assert.deepEqual([...first.keys()].sort(), [...pids].sort(), 'one row per uWSGI worker, by pid');
    const before = [...first.values()].reduce((a, b) => a + b, 0);
    await uwsgi.traffic(60);
    // uWSGI counts a request when it is done; the page polls every second.
    await page.waitForFunction((want) => [...document.querySelectorAll('#workers tbody tr')].reduce((a, tr) => a + Number(tr.children[3]!.textContent), 0) >= want, before + 60, { timeout: 15_000 });
    const now = await requestsByPid(page);
    assert.ok([...now.values()].reduce((a, b) => a + b, 0) >= before + 60);
    assert.match(await page.textContent('#summary') ?? '', /version 2\.0\.\d+.*2 workers/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a hostile traceback and URI show as text and never run; the config table shows', async (t) => {
    const h = await harness(uwsgi, withBerthKey);
    t.after(() => h.close());
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(h.url);
    await page.waitForSelector('#errors details');
    await page.click('#errors summary');
    assert.equal(await page.textContent('#errors pre'), HOSTILE);
    assert.match(await page.textContent('#errors summary') ?? '', /GET \/search\?q=<b>bold<\/b> → 500/);
    assert.equal(await page.$$eval('#errors script, #errors img, #errors b', (n) => n.length), 0, 'no element was made from the data');
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.match(await page.textContent('#config') ?? '', /SECRET_KEY=\*{8}/);
    assert.match(await page.textContent('#summary') ?? '', /generation 2 · reloads 1 · python 3\.11\.2/);
    // Traffic over a few refreshes, so the screenshot's charts have a line.
    for (let i = 0; i < 8; i++) {
      await uwsgi.traffic(20 + 10 * i);
      await page.waitForTimeout(700);
    }
    const shot = join(dir, 'dashboard.png');
    assert.equal(await page.$eval('#errors details', (d) => (d as HTMLDetailsElement).open), true, 'an opened traceback stays open across refreshes');
    await page.screenshot({ path: shot, fullPage: true });
    keepArtifact(shot, 'dashboard-uwsgi.png');
    await page.close();
  });
});

function keepArtifact(path: string, name: string): void {
  const keep = process.env['BERTH_E2E_ARTIFACTS'];
  if (keep !== undefined && keep !== '') {
    mkdirSync(keep, { recursive: true });
    copyFileSync(path, join(keep, name));
  }
}

describe('the dashboard of a real Berth (stats-http)', () => {
  test('its workers with live counts, an app error with its traceback, its config', async (t) => {
    const statsPort = await freePort();
    const berth = await startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--python', debianPython(), '--processes', '2', '--threads', '2', '--stats', `127.0.0.1:${statsPort}`, '--stats-http']);
    t.after(() => berth.stop());
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    t.after(() => browser.close());
    const dir = mkdtempSync(join(tmpdir(), 'berth-dashboard-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${statsPort}/dashboard`);
    await page.waitForFunction(() => document.querySelectorAll('#workers tbody tr').length === 2);
    const doc = (await (await fetch(`http://127.0.0.1:${statsPort}/`)).json()) as { workers: { pid: number }[] };
    assert.deepEqual([...(await requestsByPid(page)).keys()].sort(), doc.workers.map((w) => w.pid).sort(), 'one row per Berth worker, by pid');
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 20 + 10 * round; i++) assert.equal((await fetch(berth.url('/pid'))).status, 200);
      await page.waitForTimeout(600);
    }
    assert.equal((await fetch(berth.url('/raise'))).status, 500);
    await page.waitForFunction(() => [...document.querySelectorAll('#workers tbody tr')].reduce((a, tr) => a + Number(tr.children[3]!.textContent), 0) >= 120, undefined, { timeout: 15_000 });
    await page.waitForSelector('#errors details', { timeout: 15_000 });
    // The master finds the traceback in the worker's output, which can come later than the 500.
    await page.waitForFunction(() => /RuntimeError/.test(document.querySelector('#errors pre')?.textContent ?? ''), undefined, { timeout: 15_000 });
    await page.click('#errors summary');
    assert.match(await page.textContent('#errors pre') ?? '', /RuntimeError: echo app: \/raise raised before start_response/);
    assert.match(await page.textContent('#config') ?? '', /processes/);
    assert.deepEqual(errors, []);
    const shot = join(dir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    keepArtifact(shot, 'dashboard.png');
  });
});
