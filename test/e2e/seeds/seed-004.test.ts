/**
 * Seed 004 (../shared/seeds/004_*.txt, a Django "ems" project on two uWSGI hosts behind one
 * nginx): its config.ini as written on each of two hosts (127.0.0.2 and 127.0.0.3 stand for
 * 192.168.134.128 and its clone), paths adapted; inline `#` comments, `http` and `socket`
 * together, stats, pidfile, daemonize and static-map. nginx balances over both sockets as
 * its `upstream ems` says, and serves /static itself; Berth's own http port serves the
 * static-map.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { debianPython, runBerth } from '../../helpers/berth.js';
import { freePort, startNginx, UWSGI_PARAMS, type RunningNginx } from '../../helpers/nginx.js';
import { adaptedSeed, djangoProject, isAlive, readToEnd, shellEnv, until, writeAdapted } from '../../helpers/seeds.js';
import { checkDjangoSite } from '../../helpers/seed-site.js';

interface Host { readonly ip: string; readonly home: string; pid: number }
interface Stats { pid: number; workers: { requests: number; cores: unknown[] }[] }

const HOSTS: Host[] = [{ ip: '127.0.0.2', home: '', pid: 0 }, { ip: '127.0.0.3', home: '', pid: 0 }];
let dir: string;
let httpPort: number;
let socketPort: number;
let statsPort: number;
let nginx: RunningNginx;

const stats = async (h: Host): Promise<Stats> => JSON.parse(await readToEnd(statsPort, h.ip)) as Stats;
const served = async (h: Host): Promise<number> => (await stats(h)).workers.reduce((n, w) => n + w.requests, 0);
const logOf = (h: Host): string => {
  try {
    return readFileSync(join(h.home, 'uwsgi.log'), 'utf8');
  } catch {
    return '(no uwsgi.log)';
  }
};

before(async () => {
  dir = djangoProject('ems_project');
  // One free port number serves on both addresses (different IPs, same port, as on two hosts).
  [httpPort, socketPort, statsPort] = [await freePort(), await freePort(), await freePort()];
  for (const h of HOSTS) {
    (h as { home: string }).home = join(dir, `host-${h.ip}`);
    mkdirSync(h.home);
    const ini = writeAdapted(h.home, 'config.ini', adaptedSeed('004/config.ini', [
      ['192.168.134.128:9000', `${h.ip}:${httpPort}`],
      ['192.168.134.128:9001', `${h.ip}:${socketPort}`],
      ['192.168.134.128:9002', `${h.ip}:${statsPort}`],
      ['/usr/local/django_projects/ems_project', dir],
      ['/usr/local/django_projects/ems', h.home],
      ['/usr/local/项目目录/static', join(dir, 'static')],
    ]));
    const r = await runBerth(['--ini', ini, '--python', debianPython()], { cwd: h.home, env: shellEnv() });
    assert.equal(r.code, 0, `berth --ini config.ini on ${h.ip} failed:\n${r.stdout}${r.stderr}\n${logOf(h)}`);
    h.pid = Number(await until(`${h.ip}'s pidfile`, async () => {
      const text = readFileSync(join(h.home, 'uwsgi.pid'), 'utf8').trim();
      if (text === '') throw new Error('empty');
      return text;
    }));
    await until(`${h.ip}'s stats server`, () => stats(h));
  }
  nginx = await startNginx(adaptedSeed('004/nginx.conf', [
    ['192.168.157.141:9001', `127.0.0.2:${socketPort}`],
    ['192.168.157.142:9001', `127.0.0.3:${socketPort}`],
    ['listen 80;', ''],
    ['/usr/local/nginx/conf/uwsgi_params', UWSGI_PARAMS],
    ['/usr/local/static', join(dir, 'static')],
  ]));
});
after(async () => {
  await nginx?.stop();
  for (const h of HOSTS) {
    if (h.pid > 0) await runBerth(['--stop', join(h.home, 'uwsgi.pid')]);
    if (h.pid > 0 && isAlive(h.pid)) process.kill(h.pid, 'SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('seed 004: both hosts run 4 × 2 with their pidfile and daemonize log, inline comments read as comments', async () => {
  for (const h of HOSTS) {
    assert.ok(isAlive(h.pid), `${h.ip}: pid ${h.pid} from uwsgi.pid is not running`);
    assert.match(logOf(h), /all 4 worker\(s\) ready/);
    const doc = await stats(h);
    assert.equal(doc.pid, h.pid, 'the stats document names the pidfile\'s master');
    assert.equal(doc.workers.length, 4);
    assert.equal(doc.workers[0]!.cores.length, 2);
  }
});

test('seed 004: the site on each host\'s http port, admin CSS from static-map', async () => {
  for (const h of HOSTS) {
    const base = `http://${h.ip}:${httpPort}`;
    const page = await fetch(`${base}/admin/login/`);
    assert.equal(page.status, 200, logOf(h).slice(-1500));
    const css = await fetch(`${base}/static/admin/css/base.css`);
    assert.equal(css.status, 200, `static-map on ${h.ip}: ${css.status}\n${logOf(h).slice(-1500)}`);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
  }
});

test('seed 004: nginx balances uwsgi_pass over both hosts\' sockets and serves /static itself (uploads stored, /media not served: the note configures none)', async () => {
  const before = await Promise.all(HOSTS.map(served));
  // The note's nginx has no /media location and its ini no /media static-map: uploads are stored
  // but not shown (add `location /media { alias …; }` or `static-map = /media=…`).
  await checkDjangoSite(`http://127.0.0.1:${nginx.port}`, 'nginx (upstream ems)', () => nginx.errorLog().slice(-1500), { media: false });
  for (let i = 0; i < 8; i++) assert.equal((await fetch(`http://127.0.0.1:${nginx.port}/`)).status, 200);
  await until('both hosts counting requests from nginx', async () => {
    const now = await Promise.all(HOSTS.map(served));
    const moved = now.map((n, i) => n - before[i]!);
    if (moved.some((m) => m === 0)) throw new Error(`requests per host: ${moved.join(', ')}`);
  });
});

test('seed 004: `berth --stop uwsgi.pid` stops each host; the pidfile goes with vacuum', async () => {
  for (const h of HOSTS) {
    const r = await runBerth(['--stop', join(h.home, 'uwsgi.pid')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(isAlive(h.pid), false, `${h.ip}: --stop returned with pid ${h.pid} alive`);
    assert.throws(() => readFileSync(join(h.home, 'uwsgi.pid')), /ENOENT/, 'vacuum = true removes the pidfile');
    h.pid = 0;
  }
});
