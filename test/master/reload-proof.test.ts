/**
 * Reloads that prove the new code (issue 12): a plain WSGI app whose new code fails
 * reload-check is refused, one whose first answers are all 5xx is rolled back, a good change
 * switches — each through `berth --reload`, whose exit code and output carry the outcome.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianPython, runBerth, startBerth, type RunningBerth } from '../helpers/berth.js';

/** The app: its version, and the status it answers on /health/ and on every other path. */
function writeApp(dir: string, version: string, health: number, pages: number): void {
  writeFileSync(join(dir, 'site_app.py'), [
    `VERSION, HEALTH, PAGES = ${JSON.stringify(version)}, ${health}, ${pages}`,
    'def application(environ, start_response):',
    "    status = HEALTH if environ['PATH_INFO'] == '/health/' else PAGES",
    "    start_response('%d Status' % status, [('Content-Type', 'text/plain')])",
    "    return [('%s %s %s' % (VERSION, environ['PATH_INFO'], environ.get('HTTP_HOST'))).encode()]",
    '',
  ].join('\n'));
}

async function start(t: { after: (fn: () => Promise<unknown> | void) => void }, extra: string[] = []): Promise<{ berth: RunningBerth; dir: string; pidfile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-reload-proof-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeApp(dir, 'v1', 200, 200);
  const pidfile = join(dir, 'site.pid');
  const berth = await startBerth(['--http', '127.0.0.1:0', '--chdir', dir, '--module', 'site_app', '--python', debianPython(), '--pidfile', pidfile, '--processes', '2', ...extra],
    { env: { PYTHONDONTWRITEBYTECODE: '1' } });
  t.after(() => berth.stop());
  return { berth, dir, pidfile };
}

const body = async (b: RunningBerth, path: string): Promise<string> => (await fetch(b.url(path))).text();

test('reload-check: new code answering 500 on the check path is refused; the old code keeps serving; --reload exits 1 naming why', async (t) => {
  const { berth, dir, pidfile } = await start(t, ['--reload-check', '/health/']);
  writeApp(dir, 'v2', 500, 200);
  const r = await runBerth(['--reload', pidfile]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /reload refused: reload-check = \/health\/ \(command line\S*\): new worker \d \(pid \d+\) answered 500 Status to GET \/health\/ \(Host: localhost\)/);
  assert.match(r.stderr, /generation 1 serves/);
  assert.equal(await body(berth, '/page'), 'v1 /page 127.0.0.1:' + berth.port);
  assert.match(berth.logs(), /reload failed: reload-check = \/health\/.*answered 500/);
  // The check is not a client request: the request log has no line for it.
  assert.doesNotMatch(berth.logs(), /GET \/health\/ =>/);

  writeApp(dir, 'v3', 200, 200);
  const good = runBerth(['--reload', pidfile]);
  await berth.waitForLog(/reload done in \d+ ms: generation 2 serves/);
  assert.equal(await body(berth, '/page'), 'v3 /page 127.0.0.1:' + berth.port);
  const ok = await good;
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /reload done: generation 2 serves \(its first answer below 500 was 200\)/);
  assert.match(berth.logs(), /reload-check: 2 new worker\(s\) answered 200 to GET \/health\//);
});

test('rollback: the check passes but the first answers are all 5xx, so the previous generation serves again; --reload exits 1', async (t) => {
  const { berth, dir, pidfile } = await start(t, ['--reload-check', 'http://example.test/health/', '--reload-rollback-after', '3']);
  writeApp(dir, 'v2', 200, 503);
  const reload = runBerth(['--reload', pidfile]);
  await berth.waitForLog(/reload done in \d+ ms: generation 2 serves/);
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await fetch(berth.url(`/bad/${i}`))).status);
  assert.deepEqual(statuses, [503, 503, 503]);
  const r = await reload;
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /reload rolled back: generation 2 answered its first 3 requests all with 5xx \(503, 503, 503\); reload-rollback-after = 3 \(command line\S*\); generation 1 \(the previous code\) serves again/);
  assert.equal(await body(berth, '/page'), 'v1 /page 127.0.0.1:' + berth.port);
  assert.match(berth.logs(), /rolling back: generation 2 → 1/);
});

test('reload-rollback-after = 0 and no reload-check: a reload switches at once, --reload exits 0 without waiting for answers', async (t) => {
  const { berth, dir, pidfile } = await start(t, ['--reload-rollback-after', '0']);
  writeApp(dir, 'v2', 200, 200);
  const r = await runBerth(['--reload', pidfile]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /reload done: generation 2 serves\n/);
  assert.equal(await body(berth, '/x'), 'v2 /x 127.0.0.1:' + berth.port);
});
