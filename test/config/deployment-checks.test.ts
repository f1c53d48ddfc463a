// Checks of a loaded config against where it runs: daemonize under supervisord or systemd is
// refused, a uwsgi socket other hosts can reach says which peers it refuses and the line to add,
// chmod-socket without o+w and root without uid warn with the fix; supervisord sections in an
// ini are refused with the section, file and line.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, formatProblem } from '../../src/config/load.js';
import { checkDeployment, exposedSockets, supervisorOf } from '../../src/config/deployment-checks.js';
import { describeConfig } from '../../src/config/describe.js';
import type { Config } from '../../src/config/schema.js';
import { ok, problems } from './results.js';
import { makeTree } from './tmp-dir.js';

function config(t: { after: (fn: () => void) => void }, argv: string[]): Config {
  const tree = makeTree();
  t.after(tree.remove);
  return ok(loadConfig({ argv: [...argv, '-w', 'app'], env: {}, cwd: tree.dir }));
}

const NOBODY = { env: {}, uid: 1000 };

test('supervisord and systemd are told by the variables they set in their children', () => {
  assert.equal(supervisorOf({}), null);
  assert.equal(supervisorOf({ PATH: '/bin' }), null);
  assert.deepEqual(supervisorOf({ SUPERVISOR_ENABLED: '1' }), { name: 'supervisord', variable: 'SUPERVISOR_ENABLED' });
  assert.deepEqual(supervisorOf({ INVOCATION_ID: 'a1b2' }), { name: 'systemd', variable: 'INVOCATION_ID' });
  assert.deepEqual(supervisorOf({ NOTIFY_SOCKET: '/run/systemd/notify' }), { name: 'systemd', variable: 'NOTIFY_SOCKET' });
});

test('daemonize and daemonize2 under a supervisor are refused with the line and the fix; without one they pass', (t) => {
  const tree = makeTree({ 'site.ini': '[uwsgi]\nhttp = 127.0.0.1:0\nmodule = app\ndaemonize = /tmp/site.log\n' });
  t.after(tree.remove);
  const c = ok(loadConfig({ argv: ['--ini', `${tree.dir}/site.ini`], env: {}, cwd: tree.dir }));
  assert.deepEqual(checkDeployment(c, NOBODY).problems, []);
  for (const env of [{ SUPERVISOR_ENABLED: '1' }, { INVOCATION_ID: 'x' }, { NOTIFY_SOCKET: '/run/n' }]) {
    const [p, ...rest] = checkDeployment(c, { env, uid: 1000 }).problems;
    assert.deepEqual(rest, []);
    assert.equal(p?.code, 'daemonize-under-supervisor');
    const text = formatProblem(p!);
    assert.match(text, new RegExp(`daemonize = /tmp/site.log under (supervisord|systemd) \\(${Object.keys(env)[0]} is set\\)`));
    assert.match(text, /\(line 4 of .*site\.ini\)/);
    assert.match(text, /replace daemonize = \/tmp\/site\.log with logto = \/tmp\/site\.log/);
  }
  assert.match(formatProblem(checkDeployment(c, { env: { INVOCATION_ID: 'x' }, uid: 1000 }).problems[0]!), /Type=simple/);
  const two = config(t, ['--http', '127.0.0.1:0', '--daemonize2', '/tmp/x.log']);
  assert.equal(checkDeployment(two, { env: { SUPERVISOR_ENABLED: '1' }, uid: 1000 }).problems[0]?.option, 'daemonize2');
  const plain = config(t, ['--http', '127.0.0.1:0', '--logto', '/tmp/x.log']);
  assert.deepEqual(checkDeployment(plain, { env: { SUPERVISOR_ENABLED: '1' }, uid: 1000 }).problems, [], 'logto is what to use under a supervisor');
});

test('a uwsgi socket other hosts can reach, without uwsgi-allow, names the refused peers and the line to add', (t) => {
  const lan = config(t, ['--socket', '192.168.10.7:8001']);
  const [w] = checkDeployment(lan, NOBODY).warnings;
  assert.equal(w?.code, 'socket-beyond-loopback');
  const text = formatProblem(w!);
  assert.match(text, /socket 192\.168\.10\.7:8001 .* only from loopback peers \(127\.0\.0\.0\/8, ::1\) and refuses every other peer/);
  assert.match(text, /add uwsgi-allow = 192\.168\.10\.0\/24 under \[uwsgi\]/);
  for (const address of ['0.0.0.0:8001', ':8001', '[::]:8001']) {
    const [e] = exposedSockets(config(t, ['--socket', address]));
    assert.equal(e?.allowLine, 'uwsgi-allow = 10.0.0.0/24', address);
    assert.equal(e?.concrete, false);
    assert.match(formatProblem(checkDeployment(config(t, ['--socket', address]), NOBODY).warnings[0]!), /add uwsgi-allow = <your nginx host's network> under \[uwsgi\], for example uwsgi-allow = 10\.0\.0\.0\/24/);
  }
  for (const quiet of [['--socket', '127.0.0.1:8001'], ['--socket', 'localhost:8001'], ['--socket', '[::1]:8001'], ['--socket', '/run/site.sock'],
    ['--socket', '0.0.0.0:8001', '--uwsgi-allow', '10.1.0.0/16'], ['--http', '0.0.0.0:8001']]) {
    assert.deepEqual(checkDeployment(config(t, quiet), NOBODY).warnings, [], quiet.join(' '));
  }
});

test('chmod-socket without o+w on a unix socket warns that nginx cannot connect, with 666 and chown-socket as fixes', (t) => {
  const c = config(t, ['--socket', '/run/site.sock', '--chmod-socket=664']);
  const [w, ...rest] = checkDeployment(c, NOBODY).warnings;
  assert.deepEqual(rest, []);
  assert.equal(w?.code, 'socket-mode-excludes-nginx');
  assert.match(formatProblem(w!), /chmod-socket = 664 lets only the owner and group of \/run\/site\.sock connect: nginx runs as another user \(www-data or nobody\)/);
  assert.match(formatProblem(w!), /use chmod-socket = 666, or keep 664 and give the socket nginx's group with chown-socket = <user>:www-data/);
  for (const quiet of [['--chmod-socket=666'], ['--chmod-socket'], ['--chmod-socket=660', '--chown-socket', 'app:www-data'], []]) {
    assert.deepEqual(checkDeployment(config(t, ['--socket', '/run/site.sock', ...quiet]), NOBODY).warnings, [], quiet.join(' '));
  }
  assert.deepEqual(checkDeployment(config(t, ['--socket', '127.0.0.1:8001', '--chmod-socket=664']), NOBODY).warnings, [], 'no unix socket, nothing to say');
});

test('root without uid warns with the fix; a uid, or another user, does not', (t) => {
  const c = config(t, ['--http', '127.0.0.1:0']);
  const [w] = checkDeployment(c, { env: {}, uid: 0 }).warnings;
  assert.equal(w?.code, 'root-without-uid');
  assert.match(formatProblem(w!), /runs as root and no uid is set.*add uid = www-data and gid = www-data/);
  assert.deepEqual(checkDeployment(config(t, ['--http', '127.0.0.1:0', '--uid', 'www-data']), { env: {}, uid: 0 }).warnings, []);
  assert.deepEqual(checkDeployment(c, NOBODY).warnings, []);
});

test('a [program:x] section in an ini is a side program; [fcgi-program:x] and [group:x] are refused with their line and what to do', (t) => {
  const tree = makeTree({
    'site.ini': '[uwsgi]\nhttp = 127.0.0.1:0\nmodule = app\n\n[program:site]\ncommand = celery worker\n\n[fcgi-program:php]\ncommand = php-cgi\n[group:all]\nprograms = site\n',
    'plain.ini': '[uwsgi]\nhttp = 127.0.0.1:0\nmodule = app\n\n[program:site]\ncommand = celery worker\n',
  });
  t.after(tree.remove);
  const found = problems(loadConfig({ argv: ['--ini', `${tree.dir}/site.ini`], env: {}, cwd: tree.dir }));
  assert.equal(found.length, 2, found.join('\n'));
  assert.match(found[0]!, /section \[fcgi-program:php\] is a supervisord section Berth does not run \(line 8 of .*site\.ini\)/);
  assert.match(found[1]!, /section \[group:all\] .*\(line 10 of .*site\.ini\)/);
  const whole = loadConfig({ argv: ['--ini', `${tree.dir}/plain.ini`], env: {}, cwd: tree.dir });
  assert.ok(whole.ok);
  assert.deepEqual(whole.config.programs.map((p) => [p.name, p.command]), [['site', 'celery worker']]);
  const part = loadConfig({ argv: ['--ini', `${tree.dir}/plain.ini:uwsgi`], env: {}, cwd: tree.dir });
  assert.ok(part.ok);
  assert.deepEqual(part.config.programs, [], 'a file read for its [uwsgi] section alone contributes no programs');
});

test('a supervisord.conf given to --ini is named as one, with its [supervisord] line and the command that converts it', (t) => {
  const tree = makeTree({ 'supervisord.conf': '; made by hand\n[unix_http_server]\nfile = /tmp/s.sock\n\n[supervisord]\nlogfile = /tmp/s.log\n\n[program:web]\ncommand = uwsgi --ini /srv/site.ini\n' });
  t.after(tree.remove);
  const found = problems(loadConfig({ argv: ['--ini', `${tree.dir}/supervisord.conf`], env: {}, cwd: tree.dir }));
  assert.equal(found.length, 1, found.join('\n'));
  assert.match(found[0]!, /supervisord\.conf is a supervisord configuration \(\[supervisord\] on line 5\), not a uWSGI ini: it has no \[uwsgi\] section \(line 5 of /);
  assert.match(found[0]!, /berth migrate supervisor supervisord\.conf > site\.ini/);
  assert.ok(!found.some((p) => p.includes('has no [uwsgi] or [berth] section')), 'said once, as what it is');
});

test('berth check shows durations in the unit their options are documented in (seconds)', (t) => {
  const shown = describeConfig(config(t, ['--http', '127.0.0.1:0', '--harakiri', '20', '--reload-mercy', '8', '--http-timeout', '90']));
  const row = (name: string): string => shown.split('\n').find((l) => l.trim().startsWith(`${name} `)) ?? '';
  assert.match(row('harakiri'), /^\s+harakiri\s+20s\s/);
  assert.match(row('reload-mercy'), /^\s+reload-mercy\s+8s\s/);
  assert.match(row('worker-reload-mercy'), /^\s+worker-reload-mercy\s+30s\s/);
  assert.match(row('http-timeout'), /^\s+http-timeout\s+90s\s/);
  assert.match(row('py-autoreload'), /^\s+py-autoreload\s+0s\s/);
  assert.doesNotMatch(shown, /\b(20000|8000|30000)\b/);
});

test('listen above net.core.somaxconn warns with the cap, the sysctl and the line; at or below it, or unknown, nothing', (t) => {
  const tree = makeTree({ 'site.ini': '[uwsgi]\nsocket = /run/site.sock\nmodule = app\nlisten = 1024\n' });
  t.after(tree.remove);
  const c = ok(loadConfig({ argv: ['--ini', `${tree.dir}/site.ini`], env: {}, cwd: tree.dir }));
  const [w, ...rest] = checkDeployment(c, { ...NOBODY, somaxconn: 128 }).warnings;
  assert.deepEqual(rest, []);
  assert.equal(w?.code, 'listen-above-somaxconn');
  const text = formatProblem(w!);
  assert.match(text, /line 4 of \S+site\.ini/);
  assert.match(text, /listen = 1024, but the kernel caps every listen backlog at net\.core\.somaxconn = 128/);
  assert.match(text, /Resource temporarily unavailable/);
  assert.match(text, /sysctl -w net\.core\.somaxconn=1024/);
  assert.match(text, /lower listen to 128/);
  for (const somaxconn of [1024, 4096, null]) assert.deepEqual(checkDeployment(c, { ...NOBODY, somaxconn }).warnings, []);
  assert.deepEqual(checkDeployment(c, NOBODY).warnings, []);
});
