/**
 * Seed 001 (../shared/seeds/001_*.txt, the uWSGI "Django and nginx" tutorial): its
 * mysite_uwsgi.ini and mysite_nginx.conf as written, paths and addresses adapted. Ten
 * workers on a unix socket with chmod-socket 666, nginx in front with static and media
 * aliases; vacuum removes the socket at the stop.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { debianPython, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { startNginx, UWSGI_PARAMS, type RunningNginx } from '../../helpers/nginx.js';
import { adaptedSeed, djangoProject, shellEnv, writeAdapted } from '../../helpers/seeds.js';
import { checkDjangoSite } from '../../helpers/seed-site.js';

let dir: string;
let sock: string;
let berth: RunningBerth;
let nginx: RunningNginx;

before(async () => {
  dir = djangoProject('mysite');
  sock = join(dir, 'mysite.sock');
  const ini = writeAdapted(dir, 'mysite_uwsgi.ini', adaptedSeed('001/mysite_uwsgi.ini', [['/root/mysite', dir]]));
  // The interpreter is this machine's: Debian's python3 sees python3-django.
  berth = await startBerth(['--ini', ini, '--python', debianPython()], { cwd: dir, env: shellEnv(), portless: true });
  nginx = await startNginx(adaptedSeed('001/mysite_nginx.conf', [
    ['server 127.0.0.1:8001;', `server unix:${sock};`],
    ['listen      8000;', ''],
    ['/root/mysite/uwsgi_params', UWSGI_PARAMS],
    ['/root/mysite/media', join(dir, 'media')],
    ['/root/mysite/static', join(dir, 'static')],
  ]));
});
after(async () => {
  await nginx?.stop();
  await berth?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('seed 001: processes = 10 starts ten workers, master = true is accepted without a word', () => {
  assert.match(berth.logs(), /all 10 worker\(s\) ready/);
  assert.doesNotMatch(berth.logs(), /\bmaster\b[^\n]*(unknown|not supported|ignored)/i);
});

test('seed 001: chmod-socket = 666 makes the unix socket writable by nginx\'s user', () => {
  assert.equal(statSync(sock).mode & 0o777, 0o666);
});

test('seed 001: the site through nginx: pages, admin CSS, uploads from /media', async () => {
  await checkDjangoSite(`http://127.0.0.1:${nginx.port}`, 'nginx (uwsgi_pass unix:)', () => nginx.errorLog().slice(-1500) + berth.logs().slice(-1500));
});

test('seed 001: vacuum = true removes the socket on a graceful stop', async () => {
  await nginx.stop();
  const { code } = await berth.stop('SIGTERM');
  assert.equal(code, 0, berth.logs());
  assert.equal(existsSync(sock), false, `${sock} is still there after the stop`);
});
