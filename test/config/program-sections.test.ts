import assert from 'node:assert/strict';
import test from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { readProgramSections, parseEnvironment } from '../../src/config/program-sections.js';
import { makeTree } from './tmp-dir.js';

const section = (name: string, lines: Record<string, string>, file = '/srv/site.ini') => ({
  name: `program:${name}`, file, line: 10,
  entries: Object.entries(lines).map(([key, value], i) => ({ key, value, line: 11 + i })),
});

test("a [program:x] section with no other key gets supervisor's defaults, except stopasgroup/killasgroup on", () => {
  const r = readProgramSections([section('celery', { command: 'celery -A site worker' })], {});
  assert.deepEqual(r.problems, []);
  const p = r.programs[0]!;
  assert.equal(p.name, 'celery');
  assert.equal(p.autostart, true);
  assert.equal(p.autorestart, 'unexpected');
  assert.equal(p.startsecsMs, 1000);
  assert.equal(p.startretries, 3);
  assert.deepEqual(p.exitcodes, [0]);
  assert.equal(p.stopsignal, 'SIGTERM');
  assert.equal(p.stopwaitMs, 10_000);
  assert.equal(p.stopasgroup, true);
  assert.equal(p.killasgroup, true);
  assert.equal(p.priority, 999);
  assert.deepEqual(p.stdout, { kind: 'log' });
  assert.equal(p.reloadWithWeb, false);
});

test("supervisor's keys as supervisor spells them, numprocs with process_name expansion", () => {
  const r = readProgramSections([section('worker', {
    command: 'run --n %(process_num)d', process_name: '%(program_name)s_%(process_num)02d', numprocs: '3', numprocs_start: '1',
    autorestart: 'true', startsecs: '5', exitcodes: '0,2', stopsignal: 'QUIT', stopwaitsecs: '30', stopasgroup: 'false', killasgroup: 'false',
    redirect_stderr: 'true', stdout_logfile: '/var/log/w-%(process_num)s.log', stdout_logfile_maxbytes: '1MB', stdout_logfile_backups: '2',
    environment: 'A="1,2",B=x', directory: '%(here)s/app', umask: '022', priority: '5', user: 'www-data',
  })], {});
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.programs.map((p) => p.name), ['worker_01', 'worker_02', 'worker_03']);
  const p = r.programs[1]!;
  assert.equal(p.command, 'run --n 2');
  assert.equal(p.stopsignal, 'SIGQUIT');
  assert.deepEqual(p.exitcodes, [0, 2]);
  assert.deepEqual(p.stdout, { kind: 'file', path: '/var/log/w-2.log', maxBytes: 1024 * 1024, backups: 2 });
  assert.deepEqual(p.environment, [['A', '1,2'], ['B', 'x']]);
  assert.equal(p.directory, '/srv/app');
  assert.equal(p.umask, 0o22);
  assert.equal(p.stopasgroup, false);
});

test("killasgroup follows stopasgroup unless written (supervisor's options.py); a lone killasgroup = false turns stopasgroup off, with a warning; stopasgroup = true without killasgroup is refused", () => {
  const off = readProgramSections([section('a', { command: 'true', stopasgroup: 'false' })], {});
  assert.deepEqual(off.problems, []);
  assert.equal(off.programs[0]!.killasgroup, false, 'stopasgroup = false alone: SIGKILL goes to the process only, as in supervisor');
  const on = readProgramSections([section('b', { command: 'true', stopasgroup: 'false', killasgroup: 'true' })], {});
  assert.deepEqual([on.programs[0]!.stopasgroup, on.programs[0]!.killasgroup], [false, true]);
  const lone = readProgramSections([section('c', { command: 'true', killasgroup: 'false' })], {});
  assert.deepEqual(lone.problems, [], 'a config supervisor ran must not be refused');
  assert.deepEqual([lone.programs[0]!.stopasgroup, lone.programs[0]!.killasgroup], [false, false]);
  assert.equal(lone.warnings.length, 1);
  assert.equal(lone.warnings[0]!.line, 12);
  assert.match(lone.warnings[0]!.message, /killasgroup = false also turns off Berth's default stopasgroup = true/);
  const refused = readProgramSections([section('d', { command: 'true', stopasgroup: 'true', killasgroup: 'false' })], {});
  assert.equal(refused.problems.length, 1);
  assert.match(refused.problems[0]!.message, /killasgroup = false with stopasgroup = true/);
  assert.match(refused.problems[0]!.fix ?? '', /stopasgroup = false/);
});

test("the section's environment is expanded per process and its keys are %(ENV_KEY)s in the other keys, as in supervisor", () => {
  const r = readProgramSections([section('w', {
    command: 'run --queue %(ENV_QUEUE)s', environment: 'QUEUE="q%(process_num)d",HOME="%(ENV_HOME)s"', numprocs: '2', process_name: '%(program_name)s_%(process_num)d',
    directory: '/srv/%(ENV_QUEUE)s',
  })], { HOME: '/home/site' });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.programs.map((p) => [p.name, p.command, p.directory, p.environment]), [
    ['w_0', 'run --queue q0', '/srv/q0', [['QUEUE', 'q0'], ['HOME', '/home/site']]],
    ['w_1', 'run --queue q1', '/srv/q1', [['QUEUE', 'q1'], ['HOME', '/home/site']]],
  ]);
  const missing = readProgramSections([section('m', { command: 'run %(ENV_NOPE)s', numprocs: '3', process_name: '%(program_name)s_%(process_num)d' })], {});
  assert.equal(missing.problems.length, 1, 'one mistake shared by three processes is said once');
});

test('redirect_stderr with a stderr_logfile warns that the file is ignored, as supervisor does', () => {
  const r = readProgramSections([section('r', { command: 'true', redirect_stderr: 'true', stderr_logfile: '/var/log/r.err' })], {});
  assert.deepEqual(r.problems, []);
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0]!.line, 13);
  assert.match(r.warnings[0]!.message, /stderr_logfile = \/var\/log\/r\.err is ignored: redirect_stderr = true/);
  assert.deepEqual(r.programs[0]!.stderr, { kind: 'file', path: '/var/log/r.err', maxBytes: 50 * 1024 * 1024, backups: 10 });
  assert.deepEqual(readProgramSections([section('s', { command: 'true', redirect_stderr: 'true' })], {}).warnings, []);
});

test('an unknown key is an error naming the file, the line and the closest key', () => {
  const r = readProgramSections([section('x', { command: 'true', autorestrat: 'true' })], {});
  assert.equal(r.problems.length, 1);
  const p = r.problems[0]!;
  assert.equal(p.code, 'unknown-program-key');
  assert.equal(p.file, '/srv/site.ini');
  assert.equal(p.line, 12);
  assert.match(p.message, /did you mean 'autorestart'/);
});

test('numprocs > 1 without %(process_num) in process_name is refused', () => {
  const r = readProgramSections([section('x', { command: 'true', numprocs: '2' })], {});
  assert.match(r.problems[0]!.message, /process_num/);
});

test('environment: quoted values keep commas; a bad one is refused', () => {
  assert.deepEqual(parseEnvironment('A="x,y",B=\'z\',C=plain'), [['A', 'x,y'], ['B', 'z'], ['C', 'plain']]);
  assert.equal(typeof parseEnvironment('not an assignment'), 'string');
});

test('loadConfig: programs from the ini, attach-daemon forms, depends-on checked, the ctl socket beside the pidfile', () => {
  const tree = makeTree({
    'app.py': 'def application(e, s):\n    s("200 OK", [])\n    return [b"x"]\n',
    'site.ini': [
      '[uwsgi]', 'http = 127.0.0.1:0', 'wsgi-file = app.py', 'pidfile = site.pid',
      'attach-daemon = memcached -p 11311', 'smart-attach-daemon = /tmp/r.pid redis-server', 'attach-daemon2 = cmd=sleep 5,name=sleeper,stopsignal=2',
      'web-depends-on = db',
      '[program:db]', 'command = sleep 100', 'ready-check = tcp:127.0.0.1:5432',
      '[program:celery]', 'command = sleep 100', 'depends-on = db',
    ].join('\n'),
  });
  try {
    const r = loadConfig({ argv: ['--ini', `${tree.dir}/site.ini`], env: {}, cwd: tree.dir });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    const c = r.config;
    assert.deepEqual(c.programs.map((p) => [p.name, p.origin]), [['db', 'program'], ['celery', 'program'], ['memcached', 'attach-daemon'], ['redis-server', 'smart-attach-daemon'], ['sleeper', 'attach-daemon']]);
    assert.equal(c.programs[2]!.reloadWithWeb, true);
    assert.equal(c.programs[3]!.pidfile, '/tmp/r.pid');
    assert.equal(c.programs[4]!.stopsignal, 'SIGINT');
    assert.deepEqual(c.webDependsOn, ['db']);
    assert.equal(c.ctlSocket, `${tree.dir}/site.pid.ctl`);
  } finally {
    tree.remove();
  }
});

test('loadConfig: an unknown dependency, a cycle, a refused attach-daemon2 key and [group:x] are all reported at once', () => {
  const tree = makeTree({
    'app.py': 'application = None\n',
    'site.ini': [
      '[uwsgi]', 'http = 127.0.0.1:0', 'wsgi-file = app.py', 'attach-daemon2 = cmd=x,control=true',
      '[program:a]', 'command = true', 'depends-on = b',
      '[program:b]', 'command = true', 'depends-on = a, celry',
      '[program:celery]', 'command = true',
      '[group:all]', 'programs = a,b',
    ].join('\n'),
  });
  try {
    const r = loadConfig({ argv: ['--ini', `${tree.dir}/site.ini`], env: {}, cwd: tree.dir });
    assert.ok(!r.ok);
    const text = r.problems.map((p) => `${p.line ?? ''} ${p.message} | ${p.fix ?? ''}`).join('\n');
    assert.match(text, /control= is not supported/);
    assert.match(text, /'celry'.*did you mean 'celery'/);
    assert.match(text, /circle: a → b → a/);
    assert.match(text, /^13 section \[group:all\]/m);
  } finally {
    tree.remove();
  }
});

test("a supervisord.conf given to Berth points to berth migrate supervisor", () => {
  const tree = makeTree({ 'supervisord.conf': '[supervisord]\nlogfile=/tmp/x\n[program:a]\ncommand=true\n' });
  try {
    const r = loadConfig({ argv: ['--ini', `${tree.dir}/supervisord.conf`], env: {}, cwd: tree.dir });
    assert.ok(!r.ok);
    assert.match(r.problems.map((p) => p.fix).join('\n'), /berth migrate supervisor supervisord\.conf/);
  } finally {
    tree.remove();
  }
});
