/** berth migrate supervisor: the converter on a config with several programs, includes and expansions, and the seed's program run for real. */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateSupervisor } from '../../../src/config/adapters/supervisor-migrate.js';
import { splitCommand } from '../../../src/config/adapters/supervisor-command.js';
import { APPS, BERTH_BIN, debianPython, startBerth } from '../../helpers/berth.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-migrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('splitCommand reads quotes and backslashes as sh does', () => {
  assert.deepEqual(splitCommand(`uwsgi --env 'A=b c' --x="y z" a\\ b`), ['uwsgi', '--env', 'A=b c', '--x=y z', 'a b']);
});

test('several programs, an include and expansions', () => {
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(join(dir, 'supervisord.conf'), [
    '; main file', '[unix_http_server]', 'file=/tmp/s.sock', '', '[supervisord]', 'logfile=%(here)s/supervisord.log', '',
    '[supervisorctl]', 'serverurl=unix:///tmp/s.sock', '', '[rpcinterface:supervisor]', 'supervisor.rpcinterface_factory = x', '',
    '[include]', 'files = conf.d/*.conf', '',
  ].join('\n'));
  writeFileSync(join(dir, 'conf.d', 'web.conf'), [
    '[program:web]', 'command=/venv/bin/uwsgi --uwsgi 127.0.0.1:9000 --chdir=%(here)s --module=site.wsgi -p 2 --spooler /x', 'user=www-data',
    'environment=DJANGO_SETTINGS_MODULE="site.settings",HOME="%(ENV_BERTH_MIGRATE_HOME)s"', 'stopwaitsecs=0',
    '', '[program:celery]', 'command=/venv/bin/celery -A site worker  ; a comment', 'directory=%(here)s', 'stopasgroup=true',
    '', '[group:all]', 'programs=web,celery', '',
  ].join('\n'));
  const { text, warnings } = migrateSupervisor(join(dir, 'supervisord.conf'), { BERTH_MIGRATE_HOME: '/home/site' });
  assert.deepEqual(warnings, []);
  const confd = join(dir, 'conf.d');
  assert.match(text, /^\[uwsgi\]$/m);
  assert.match(text, /^socket = 127\.0\.0\.1:9000$/m, '--uwsgi is a getopt prefix of uwsgi-socket');
  assert.ok(text.includes(`chdir = ${confd}\n`), '%(here)s is the including file\'s directory');
  assert.match(text, /^module = site\.wsgi$/m);
  assert.match(text, /^processes = 2$/m);
  assert.match(text, /^uid = www-data$/m);
  assert.match(text, /^env = DJANGO_SETTINGS_MODULE=site\.settings$/m);
  assert.match(text, /^env = HOME=\/home\/site$/m, '%(ENV_X)s');
  assert.match(text, /^;.*not converted: --spooler/m);
  assert.match(text, /^;.*stopwaitsecs=0/m);
  assert.match(text, /^;.*stopsignal TERM.*graceful/m);
  assert.match(text, /^\[program:celery\]\ncommand = \/venv\/bin\/celery -A site worker\n/m, 'the inline comment is gone');
  assert.match(text, /^; dropped \[unix_http_server\].*berth ctl/m);
  assert.match(text, /^; dropped \[supervisorctl\].*berth ctl/m);
  assert.match(text, /^; dropped \[rpcinterface:supervisor\]/m);
  assert.match(text, /^; dropped \[group:all\].*web,celery/m);
  assert.doesNotMatch(text, /^\[supervisord\]/m);
});

test("the seed's [program:my_crm], in a full supervisord.conf, converts to an ini Berth checks and serves", async () => {
  const seed = readFileSync(join(process.cwd(), 'test', 'fixtures', 'seeds', '002', 'supervisord-program.conf'), 'utf8');
  // The seed's paths point at its server; here the same program runs the bundled hello app.
  const program = seed.replace('--uwsgi 0.0.0.0:9000', '--http 127.0.0.1:0').replace(/--chdir=\S+/, `--chdir=${APPS}`).replace(/--home=\S+/, `--python=${debianPython()}`).replace('--module=s13crm.wsgi', '--module=hello').replace('directory=/opt/s13crm', `directory=${APPS}`);
  writeFileSync(join(dir, 'seed.conf'), `[supervisord]\nlogfile=/tmp/x.log\n\n[supervisorctl]\n\n${program}`);
  const converted = execFileSync(process.execPath, [BERTH_BIN, 'migrate', 'supervisor', join(dir, 'seed.conf')], { encoding: 'utf8' });
  assert.match(converted, /^\[uwsgi\]$/m);
  assert.doesNotMatch(converted, /^\[program:/m, 'the only program was the web one');
  const ini = join(dir, 'seed.ini');
  writeFileSync(ini, converted);
  const check = spawnSync(process.execPath, [BERTH_BIN, 'check', '--ini', ini], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr + check.stdout);
  const berth = await startBerth(['--ini', ini]);
  try {
    assert.equal(await (await fetch(berth.url('/'))).text(), 'Hello, World!');
  } finally {
    await berth.stop();
  }
});

test('killasgroup written without stopasgroup: stopasgroup = false is written out, so the result runs and means what it meant', () => {
  const conf = join(dir, 'kill.conf');
  writeFileSync(conf, ['[supervisord]', '', '[program:a]', 'command=sleep 1', 'killasgroup=false', '', '[program:b]', 'command=sleep 1', 'killasgroup=true', ''].join('\n'));
  const { text } = migrateSupervisor(conf, {});
  assert.match(text, /^\[program:a\]\ncommand = sleep 1\nkillasgroup = false\nstopasgroup = false\n/m);
  assert.match(text, /^\[program:b\]\ncommand = sleep 1\nkillasgroup = true\nstopasgroup = false\n/m);
  const ini = join(dir, 'kill.ini');
  writeFileSync(ini, `[uwsgi]\nhttp = 127.0.0.1:0\nwsgi-file = ${join(APPS, 'hello.py')}\n\n${text}`);
  const check = spawnSync(process.execPath, [BERTH_BIN, 'check', '--ini', ini], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr + check.stdout);
});

test('berth --ini supervisord.conf points to berth migrate supervisor', () => {
  const r = spawnSync(process.execPath, [BERTH_BIN, 'check', '--ini', join(dir, 'seed.conf')], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr + r.stdout, /berth migrate supervisor seed\.conf/);
});
