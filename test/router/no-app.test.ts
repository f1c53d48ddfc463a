/**
 * need-app = false with no app: Berth starts without Python (no worker process at all), serves
 * its static-map files with static-expires-uri's Expires and Cache-Control, and answers every
 * other request 500 with a log line, as uWSGI does when no Python app is loaded. A plugin Berth
 * does not have is a warning naming the file and line, as uWSGI only warns about it too.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBerth, startBerth, type RunningBerth } from '../helpers/berth.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-no-app-'));
writeFileSync(join(dir, 'page.txt'), 'a static page\n');
const ini = join(dir, 'site.ini');
writeFileSync(ini, ['[uwsgi]', 'plugin = notfound', 'need-app = False', `static-map = /files=${dir}`, 'static-expires-uri = ^/files/ 315360000', ''].join('\n'));

const running: RunningBerth[] = [];
after(async () => {
  for (const b of running) await b.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Pids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test('berth check: the unknown plugin is a warning with its line, and the run has no app and says what other requests get', async () => {
  const r = await runBerth(['check', '--http', '127.0.0.1:0', ini]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`WARNING: plugin 'notfound' not available in Berth: ignored, as uWSGI ignores a plugin it cannot load \\(line 2 of ${ini.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) — `));
  assert.match(r.stdout, /need-app +false +line 3 of /);
  assert.match(r.stdout, /\*\/ +500 \(need-app = false: no app\)/);
  assert.match(r.stdout, /app: none \(need-app = false: Berth starts no Python; static-map and proxy-pass routes are served, every other request is answered 500/);
});

test('without need-app = false, no app is still refused', async () => {
  const plain = join(dir, 'plain.ini');
  writeFileSync(plain, `[uwsgi]\nstatic-map = /files=${dir}\n`);
  const r = await runBerth(['check', '--http', '127.0.0.1:0', plain]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no WSGI app is configured — .*or need-app = false to serve only static-map and proxy-pass routes/);
});

test('a real start: no Python process, files with Expires, 500 elsewhere with a log line', async () => {
  const b = await startBerth(['--http', '127.0.0.1:0', ini], { waitReady: false });
  running.push(b);
  await b.waitForLog(/pure front \(no module or wsgi-file\): no Python workers/);
  assert.match(b.logs(), /WARNING: plugin 'notfound' not available in Berth: ignored/);
  assert.doesNotMatch(b.logs(), /the workers accept/, 'no worker: the master accepts');
  assert.deepEqual(childrenOf(b.proc.pid!), [], 'the master started no process');

  const file = await fetch(b.url('/files/page.txt'));
  assert.equal(file.status, 200);
  assert.equal(await file.text(), 'a static page\n');
  const expires = Date.parse(file.headers.get('expires') ?? '');
  assert.ok(expires > Date.now() + 300_000_000_000, `Expires ${file.headers.get('expires')} is about ten years ahead`);
  assert.equal(file.headers.get('cache-control'), 'max-age=315360000');

  const other = await fetch(b.url('/app/page'));
  assert.equal(other.status, 500);
  assert.equal(await other.text(), 'Internal Server Error\n');
  await b.waitForLog(/GET \/app\/page: no python application found \(need-app = false/);
  assert.deepEqual(childrenOf(b.proc.pid!), [], 'still no process after a request for the app');
});
