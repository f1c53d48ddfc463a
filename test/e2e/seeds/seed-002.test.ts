/**
 * Seed 002 (../shared/seeds/002_*.txt, nginx + uwsgi + Django + virtualenv + supervisord):
 * the note's supervisord `[program:my_crm]` (whose command uses `--uwsgi`, a getopt prefix of
 * uWSGI's `--uwsgi-socket`, and `--home` for the virtualenv), its uwsgi_nginx.ini behind
 * the note's nginx server block, and its `--py-autoreload=1` command — paths and addresses
 * adapted. Real supervisord starts and stops Berth; nothing may outlive `supervisorctl stop`.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH_BIN, debianPython, startBerth } from '../../helpers/berth.js';
import { freePort, startNginx, UWSGI_PARAMS } from '../../helpers/nginx.js';
import { adaptedSeed, adaptedText, djangoProject, SEEDS, isAlive, shellEnv, until, writeAdapted } from '../../helpers/seeds.js';
import { checkDjangoSite } from '../../helpers/seed-site.js';

const SUPERVISORD = '/usr/bin/supervisord';
const SUPERVISORCTL = '/usr/bin/supervisorctl';

let dir: string;
let venv: string;

before(() => {
  for (const bin of [SUPERVISORD, SUPERVISORCTL]) {
    try {
      readFileSync(bin);
    } catch {
      throw new Error(`${bin} is missing: install supervisor: sudo bash scripts/install-test-deps.sh`);
    }
  }
  dir = djangoProject('mysite');
  venv = join(dir, 'venv');
  // A virtualenv as the note makes one; system site packages give it Debian's Django.
  execFileSync(debianPython(), ['-m', 'venv', '--system-site-packages', '--without-pip', venv]);
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every descendant of `pid` (from /proc), for the orphan check. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

test('seed 002: supervisord runs the note\'s [program:my_crm] (`--uwsgi`, `--home` venv) behind nginx; supervisorctl stop leaves nothing behind', async () => {
  const port = await freePort();
  const program = adaptedSeed('002/supervisord-program.conf', [
    ['/opt/all_venv/venv2/bin/uwsgi', `${process.execPath} ${BERTH_BIN}`],
    ['0.0.0.0:9000', `127.0.0.1:${port}`],
    ['/opt/all_venv/venv2/', `${venv}/`],
    ['/opt/s13crm', dir],
    ['s13crm.wsgi', 'mysite.wsgi'],
  ]);
  const conf = writeAdapted(dir, 'supervisord.conf', `[unix_http_server]
file=${dir}/supervisor.sock
[supervisord]
nodaemon=true
logfile=${dir}/supervisord.log
pidfile=${dir}/supervisord.pid
childlogdir=${dir}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://${dir}/supervisor.sock
${program}
`);
  const ctl = (...args: string[]): string => {
    try {
      return execFileSync(SUPERVISORCTL, ['-c', conf, ...args], { encoding: 'utf8' });
    } catch (err) {
      return String((err as { stdout?: string }).stdout ?? err);
    }
  };
  const env = shellEnv();
  const supervisord: ChildProcess = spawn(SUPERVISORD, ['-c', conf], { env, stdio: 'ignore' });
  const nginx = await startNginx(`server { location / { include ${UWSGI_PARAMS}; uwsgi_pass 127.0.0.1:${port}; } location /static { alias ${dir}/static; } location /media { alias ${dir}/media; } }`);
  try {
    const status = await until('my_crm RUNNING', async () => {
      const s = ctl('status', 'my_crm');
      if (!/RUNNING/.test(s)) throw new Error(s);
      return s;
    });
    const master = Number(/pid (\d+)/.exec(status)![1]);
    const childLog = (): string => ctl('tail', 'my_crm', 'stderr');
    await until('Berth serving through nginx', async () => {
      const r = await fetch(`http://127.0.0.1:${nginx.port}/`);
      if (r.status !== 200) throw new Error(`${r.status}\n${childLog()}`);
    });
    assert.match(childLog(), new RegExp(`python: ${venv.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/bin/python`), 'home= is the virtualenv');
    await checkDjangoSite(`http://127.0.0.1:${nginx.port}`, 'nginx (uwsgi_pass to --uwsgi)', () => nginx.errorLog().slice(-1500) + childLog());
    const tree = [master, ...descendants(master)];
    assert.ok(tree.length >= 2, `the master ${master} has no workers`);
    const stopped = ctl('stop', 'my_crm');
    assert.match(stopped, /stopped/);
    await until('no Berth process left', async () => {
      const alive = tree.filter(isAlive);
      if (alive.length > 0) throw new Error(`still alive after supervisorctl stop: ${alive.join(', ')}`);
    });
  } finally {
    await nginx.stop();
    supervisord.kill('SIGTERM');
    await new Promise((r) => (supervisord.exitCode !== null ? r(null) : supervisord.once('exit', r)));
  }
});

test('seed 002: uwsgi_nginx.ini (home = virtualenv, socket) behind the note\'s nginx server block', async () => {
  const port = await freePort();
  const ini = writeAdapted(dir, 'uwsgi_nginx.ini', adaptedSeed('002/uwsgi_nginx.ini', [
    ['/opt/mysite', dir],
    ['/opt/venv', venv],
    ['0.0.0.0:8000', `127.0.0.1:${port}`],
  ]));
  const berth = await startBerth(['--ini', ini], { cwd: dir, env: shellEnv() });
  // The note's server block; its indentation has full-width spaces (U+3000), which nginx
  // itself rejects, so they become plain spaces.
  const server = /^ {4}server \{[\s\S]*^ {4}\}$/m.exec(readFileSync(join(SEEDS, '002', 'nginx.conf'), 'utf8'))![0];
  const nginx = await startNginx(adaptedText('the server block of 002/nginx.conf', server, [
    ['\u3000', ' '],
    ['listen       80;', ''],
    ['/opt/nginx1-12/conf/uwsgi_params', UWSGI_PARAMS],
    ['0.0.0.0:8000', `127.0.0.1:${port}`],
    ['/opt/nginx1-12/static', join(dir, 'static')],
    ['/opt/nginx1-12/media', join(dir, 'media')],
  ]));
  try {
    assert.match(berth.logs(), new RegExp(`${venv.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/bin/python`));
    await checkDjangoSite(`http://127.0.0.1:${nginx.port}`, 'nginx (the note\'s server block)', () => nginx.errorLog().slice(-1500) + berth.logs().slice(-1500));
  } finally {
    await nginx.stop();
    assert.equal((await berth.stop()).code, 0);
  }
});

test('seed 002: `--http :8088 --module mysite.wsgi --py-autoreload=1` picks up an edit made right after start', async () => {
  const port = await freePort();
  const berth = await startBerth(['--http', `127.0.0.1:${port}`, '--module', 'mysite.wsgi', '--py-autoreload=1', '--python', debianPython()], { cwd: dir, env: shellEnv() });
  try {
    const views = join(dir, 'hello', 'views.py');
    writeFileSync(views, readFileSync(views, 'utf8').replace('hello from the seed project', 'edited right after start'));
    await until('the edited view served', async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      if (!/edited right after start/.test(text)) throw new Error(text.slice(0, 100));
    }, 15_000);
  } finally {
    assert.equal((await berth.stop()).code, 0);
  }
});
