/**
 * Seed 000 (../shared/seeds/000_*.txt, "problems met deploying Django with nginx + uwsgi"):
 * its uwsgi.ini and nginx server block as written, paths and addresses adapted. A TCP
 * `socket` behind nginx's `uwsgi_pass` to an upstream, 4 processes × 2 threads, a 32 KiB
 * buffer, the stats server, and `daemonize` to a log file — with no pidfile, so the stats
 * document's `pid` is how the reader finds the master to stop it.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { debianPython, runBerth } from '../../helpers/berth.js';
import { freePort, startNginx, UWSGI_PARAMS, type RunningNginx } from '../../helpers/nginx.js';
import { adaptedSeed, djangoProject, isAlive, readToEnd, shellEnv, stopPid, until, withFreshPorts, writeAdapted } from '../../helpers/seeds.js';
import { checkDjangoSite } from '../../helpers/seed-site.js';

interface StatsWorker { pid: number; requests: number; cores: unknown[] }
interface Stats { pid: number; workers: StatsWorker[] }

let dir: string;
let statsPort: number;
let nginx: RunningNginx;
let pid = 0;
let started: { code: number | null; stdout: string; stderr: string };

const stats = async (): Promise<Stats> => JSON.parse(await readToEnd(statsPort)) as Stats;
const log = (): string => {
  try {
    return readFileSync(join(dir, 'web.log'), 'utf8');
  } catch {
    return '(no web.log)';
  }
};

before(async () => {
  dir = djangoProject('myweb');
  let socketPort = 0;
  await withFreshPorts(async () => {
    socketPort = await freePort();
    statsPort = await freePort();
    const ini = writeAdapted(dir, 'uwsgi.ini', adaptedSeed('000/uwsgi.ini', [
      ['0.0.0.0:8002', `127.0.0.1:${socketPort}`],
      ['127.0.0.1:9191', `127.0.0.1:${statsPort}`],
      ['/opt/myweb/wsgi.py', join(dir, 'myweb', 'wsgi.py')],
      ['/opt/myweb', dir],
    ]));
    started = await runBerth(['--ini', ini, '--python', debianPython()], { cwd: dir, env: shellEnv() });
    assert.equal(started.code, 0, `berth --ini uwsgi.ini (daemonize) failed:\n${started.stdout}${started.stderr}\n${log()}`);
  });
  pid = (await until('the stats server', stats)).pid;
  nginx = await startNginx(adaptedSeed('000/nginx.conf', [
    ['server 127.0.0.1:8001;', `server 127.0.0.1:${socketPort};`],
    ['listen      80;', ''],
    ['/usr/local/nginx/conf/uwsgi_params', UWSGI_PARAMS],
    ['/you/path/media', join(dir, 'media')],
    ['/you/path/staticfiles', join(dir, 'static')],
  ]));
});
after(async () => {
  await nginx?.stop();
  if (pid > 0) await stopPid(pid);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('seed 000: daemonize returns at once and the log goes to web.log', () => {
  assert.ok(isAlive(pid), `the master (pid ${pid} in the stats) is not running`);
  assert.notEqual(pid, undefined);
  assert.match(log(), /all 4 worker\(s\) ready/);
});

test('seed 000: stats = 127.0.0.1:PORT answers uWSGI\'s document: 4 workers × 2 cores, the master pid', async () => {
  const doc = await stats();
  assert.equal(doc.workers.length, 4, JSON.stringify(doc).slice(0, 500));
  for (const w of doc.workers) {
    assert.equal(w.cores.length, 2, 'threads = 2 gives two cores per worker');
    assert.ok(isAlive(w.pid), `worker pid ${w.pid} is not running`);
  }
});

test('seed 000: the site through nginx (uwsgi_pass to the upstream): pages, admin CSS, uploads from /media; the stats count them', async () => {
  const before = (await stats()).workers.reduce((n, w) => n + w.requests, 0);
  await checkDjangoSite(`http://127.0.0.1:${nginx.port}`, 'nginx (uwsgi_pass upstream)', () => nginx.errorLog().slice(-1500) + log().slice(-1500));
  // Pages, the login page and the upload reached Django (CSS and /media came from nginx).
  await until('the stats counting the requests', async () => {
    const now = (await stats()).workers.reduce((n, w) => n + w.requests, 0);
    if (now - before < 3) throw new Error(`${now - before} requests counted`);
  });
});

test('seed 000: buffer-size = 32768 admits a 20 KiB header set (uWSGI\'s 4 KiB default would not) and refuses 40 KiB, naming buffer-size', async () => {
  // Ten 2 KB headers: each fits nginx's large_client_header_buffers 4 16k, together 20 KiB.
  const headers = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`x-pad-${i}`, 'x'.repeat(2_000)]));
  const res = await fetch(`http://127.0.0.1:${nginx.port}/`, { headers });
  assert.equal(res.status, 200, nginx.errorLog().slice(-1000) + log().slice(-1000));
  // And the limit is the seed's, not Berth's 64k default: 40 KiB of headers is refused, by name.
  const big = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-pad-${i}`, 'x'.repeat(2_000)]));
  const refused = await fetch(`http://127.0.0.1:${nginx.port}/`, { headers: big });
  assert.notEqual(refused.status, 200);
  await until('the refusal in web.log naming buffer-size', async () => {
    if (!/buffer-size/.test(log())) throw new Error(log().slice(-500));
  });
});

test('seed 000: SIGTERM to the pid from the stats stops the master and every worker', async () => {
  const workers = (await stats()).workers.map((w) => w.pid);
  await stopPid(pid);
  pid = 0;
  await until('the workers gone', async () => {
    const alive = workers.filter(isAlive);
    if (alive.length > 0) throw new Error(`workers ${alive.join(', ')} still alive`);
  });
  assert.match(log(), /stop/i);
});
