import test from 'node:test';
import assert from 'node:assert/strict';
import { describeConfig, formatProblem, loadConfig } from '../../src/config/load.js';
import { ok, problems } from './results.js';
import { makeTree } from './tmp-dir.js';

test('the smallest command line: defaults fill the rest', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const c = ok(loadConfig({ argv: ['--http', ':8000', '--module', 'mysite.wsgi'], env: {}, cwd: tree.dir }));
  assert.deepEqual(c.http, [{ kind: 'tcp', host: '', port: 8000, text: ':8000', via: 'http' }]);
  assert.equal(c.module, 'mysite.wsgi');
  assert.equal(c.callable, 'application');
  assert.equal(c.processes, 1);
  assert.equal(c.threads, 1);
  assert.equal(c.bufferSizeBytes, 65536);
  assert.equal(c.limitPostBytes, 100 * 1024 * 1024);
  assert.equal(c.listen, 100);
  assert.equal(c.httpTimeoutMs, 60_000);
  assert.equal(c.socketTimeoutMs, 4000);
  assert.equal(c.master, true);
  assert.equal(c.disableLogging, false);
  assert.deepEqual([c.wsgiFile, c.chdir, c.home, c.python, c.logto], [null, null, null, null, null]);
  assert.deepEqual(c.sources['processes'], { kind: 'default' });
  assert.deepEqual(c.sources['http'], { kind: 'argv' });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.http) && Object.isFrozen(c.sources));
});

test('every supported option from an ini file, with aliases and units', (t) => {
  const tree = makeTree({
    'site/': '', 'venv/bin/python3': '', 'site/lib/': '', 'logs/': '',
    'app.ini': [
      '[uwsgi]', 'http = 127.0.0.1:0', 'http-socket = %dberth.sock', 'wsgi = proj.wsgi:app', 'chdir = %dsite',
      'virtualenv = %dvenv', 'python-path = lib', 'pp = extra', 'env = DJANGO_SETTINGS_MODULE=proj.settings', 'env = EMPTY=',
      'master = false', 'workers = 3', 'threads = 4', 'buffer-size = 32k', 'limit-post = 10m', 'listen = 7',
      'http-timeout = 30', 'socket-timeout = 2.5', 'logto = %dlogs/app.log', 'disable-logging', 'enable-threads = true',
      'vacuum', 'plugins = python3', 'die-on-term = true', 'lazy-apps = true', 'strict', 'need-app', 'single-interpreter', 'no-orphans', 'thunder-lock', 'post-buffering = 8192', '',
    ].join('\n'),
  });
  t.after(tree.remove);
  const r = loadConfig({ argv: [`${tree.dir}/app.ini`], env: {}, cwd: '/' });
  const c = ok(r);
  assert.deepEqual(r.ok && r.warnings.map(formatProblem), [`${tree.dir}/site/extra does not exist (line 8 of ${tree.dir}/app.ini) — relative paths are resolved from chdir (${tree.dir}/site)`.replace(/^/, 'pp ')]);
  assert.deepEqual(c.http.map((a) => a.text), ['127.0.0.1:0', `${tree.dir}/berth.sock`]);
  assert.deepEqual(c.http.map((a) => a.via), ['http', 'http-socket']);
  assert.equal(c.module, 'proj.wsgi');
  assert.equal(c.callable, 'app');
  assert.equal(c.chdir, `${tree.dir}/site`);
  assert.equal(c.home, `${tree.dir}/venv`);
  assert.deepEqual(c.pythonpath, [`${tree.dir}/site/lib`, `${tree.dir}/site/extra`]);
  assert.deepEqual(c.env, [['DJANGO_SETTINGS_MODULE', 'proj.settings'], ['EMPTY', '']]);
  assert.deepEqual([c.master, c.processes, c.threads, c.bufferSizeBytes, c.limitPostBytes, c.listen], [false, 3, 4, 32768, 10 * 1024 * 1024, 7]);
  assert.deepEqual([c.httpTimeoutMs, c.socketTimeoutMs, c.logto, c.disableLogging], [30_000, 2500, `${tree.dir}/logs/app.log`, true]);
  assert.deepEqual(c.sources['processes'], { kind: 'ini', file: `${tree.dir}/app.ini`, line: 12 });
  assert.deepEqual(c.sources['callable'], { kind: 'ini', file: `${tree.dir}/app.ini`, line: 4 });
});

test('wsgi-file is resolved from chdir; python may be a command name', (t) => {
  const tree = makeTree({ 'proj/app/wsgi.py': '' });
  t.after(tree.remove);
  const c = ok(loadConfig({ argv: ['--http=:1', '--chdir', 'proj', '--file', 'app/wsgi.py', '--python', 'python3.12'], env: {}, cwd: tree.dir }));
  assert.equal(c.wsgiFile, `${tree.dir}/proj/app/wsgi.py`);
  assert.equal(c.module, null);
  assert.equal(c.python, 'python3.12');
});

test('precedence: defaults < environment < ini < later command line; earlier command line < ini', (t) => {
  const tree = makeTree({ 'a.ini': '[uwsgi]\nprocesses = 2\nthreads = 3\nhttp = :2\n' });
  t.after(tree.remove);
  const env = { BERTH_PROCESSES: '9', BERTH_LISTEN: '5', BERTH_MODULE: 'app', BERTH_HTTP: ':9' };
  const c = ok(loadConfig({ argv: ['--threads', '7', '--ini', 'a.ini', '-p', '4'], env, cwd: tree.dir }));
  assert.equal(c.processes, 4);
  assert.equal(c.threads, 3);
  assert.equal(c.listen, 5);
  assert.equal(c.module, 'app');
  // Repeatable: the command-line layer replaces the environment's listeners and appends within itself.
  assert.deepEqual(c.http.map((a) => a.text), [':2']);
  assert.deepEqual(c.sources['processes'], { kind: 'argv' });
  assert.deepEqual(c.sources['listen'], { kind: 'env', envName: 'BERTH_LISTEN' });
  const both = ok(loadConfig({ argv: ['a.ini', '--http', ':3'], env, cwd: tree.dir }));
  assert.deepEqual(both.http.map((a) => a.text), [':2', ':3']);
});

test('[berth] overrides [uwsgi] in the same file', (t) => {
  const tree = makeTree({ 'a.ini': '[berth]\nprocesses = 6\n[uwsgi]\nprocesses = 2\nhttp = :0\nmodule = app\n' });
  t.after(tree.remove);
  assert.equal(ok(loadConfig({ argv: ['a.ini'], env: {}, cwd: tree.dir })).processes, 6);
});

test('a scalar set twice in one file warns; the last wins', (t) => {
  const tree = makeTree({ 'a.ini': '[uwsgi]\nprocesses = 2\nhttp = :0\nmodule = app\nprocesses = 3\n' });
  t.after(tree.remove);
  const r = loadConfig({ argv: ['a.ini'], env: {}, cwd: tree.dir });
  assert.equal(ok(r).processes, 3);
  assert.deepEqual(r.warnings.map((w) => [w.code, w.line]), [['set-twice', 5]]);
});

test('all problems at once, each with where and a fix', (t) => {
  const tree = makeTree({ 'a.ini': '[uwsgi]\nprocess = 4\nmaster-fifo = /tmp/berth.fifo\nbuffer-size = 64x\nthreads = 0\nchdir = /no/such/dir\nneed-plugins = python3,gevent\n' });
  t.after(tree.remove);
  const file = `${tree.dir}/a.ini`;
  const got = problems(loadConfig({ argv: ['--moduel', 'x', 'a.ini', '-Y'], env: {}, cwd: tree.dir }));
  assert.deepEqual(got, [
    "unknown option '-Y' (command line) — run berth --help for the options Berth reads",
    "unknown option '--moduel' (command line) — did you mean '--module'?",
    `unknown option 'process' (line 2 of ${file}) — did you mean 'processes'?`,
    `option 'master-fifo' is not supported yet (line 3 of ${file}) — remove it and use signals (SIGTERM stops, SIGHUP reloads) or berth --stop/--reload <pidfile>`,
    `option 'buffer-size': '64x' is not a size (line 4 of ${file}) — write bytes (65536) or a number with k, m or g (64k, 1m)`,
    `option 'threads': 0 is out of range (line 5 of ${file}) — use a value from 1 to 1024`,
    `plugin 'gevent' not available in Berth (need-plugin requires them) (line 7 of ${file}) — Berth has Python and the HTTP front built in and loads no other plugins; remove the plugin (python/python3 may stay)`,
    'no listener is configured — add http = :8000 (browsers, proxy_pass) or socket = 127.0.0.1:8001 (nginx uwsgi_pass) under [uwsgi]',
    'no WSGI app is configured — set module = mysite.wsgi (Django: the package holding wsgi.py) or wsgi-file = app.py (or need-app = false to serve only static-map and proxy-pass routes)',
    `chdir directory /no/such/dir does not exist (line 6 of ${file}) — create it or correct the path (usually the project directory, the one with manage.py)`,
  ]);
});

test('app cross-checks', (t) => {
  const tree = makeTree({ 'app.py': '', 'venv/': '' });
  t.after(tree.remove);
  const run = (...argv: string[]) => problems(loadConfig({ argv: ['--http', ':0', ...argv], env: {}, cwd: tree.dir }));
  assert.deepEqual(run('--module', 'a', '--wsgi-file', 'app.py'), ["'--wsgi-file' and '--module' are both set; Berth loads one app (command line) — keep either the module (a dotted import path) or the wsgi-file (a file), not both"]);
  assert.deepEqual(run('--module', 'app.py'), ["option '--module': 'app.py' is a file path, not a module (command line) — use --wsgi-file app.py"]);
  assert.deepEqual(run('-w', 'my-site.wsgi'), ["option '-w': 'my-site.wsgi' is not a Python module name (command line) — write a dotted import path such as mysite.wsgi"]);
  assert.deepEqual(run('-w', 'a:app', '--callable', 'other'), ["'--callable' is 'other' but '-w' names the callable 'app' (command line) — keep one of the two"]);
  assert.deepEqual(run('--wsgi-file', 'missing.py'), [`--wsgi-file ${tree.dir}/missing.py does not exist (command line) — check the path; relative paths are resolved from the current directory (${tree.dir})`]);
  assert.deepEqual(run('-w', 'a', '-H', 'venv'), [`-H ${tree.dir}/venv has no bin/python or bin/python3 (command line) — point it at a virtualenv directory (the one containing bin/python), not at the project or its bin/`]);
  assert.deepEqual(run('-w', 'a', '--home', 'nope'), [`--home directory ${tree.dir}/nope does not exist (command line) — create the virtualenv (python3 -m venv ${tree.dir}/nope) or correct the path`]);
  assert.deepEqual(run('-w', 'a', '--chdir', 'app.py'), [`--chdir ${tree.dir}/app.py is not a directory (command line) — point it at the project directory`]);
  assert.deepEqual(run('-w', 'a', '--python', './bin/py'), [`--python ${tree.dir}/bin/py does not exist (command line) — give the path of a Python interpreter, or a command name such as python3.11`]);
  assert.deepEqual(run('-w', 'a', '--logto', 'no/dir/x.log'), [`the directory of --logto ${tree.dir}/no/dir/x.log does not exist (command line) — create ${tree.dir}/no/dir or log somewhere else`]);
  assert.deepEqual(run('-w', 'a', '-p', '513'), ["option '-p': 513 is out of range (command line) — use a value from 1 to 512"]);
  assert.deepEqual(run('-w', 'a', '--http', '8000'), ["option '--http': '8000' has no ':port' (command line) — write ':8000' for every interface or '127.0.0.1:8000' for this machine only"]);
});

test('environment problems name the variable', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const got = problems(loadConfig({ argv: ['--http', ':0', '-w', 'a'], env: { BERTH_PROCESSES: 'four', BERTH_MASTER_FIFO: '/tmp/berth.fifo' }, cwd: tree.dir }));
  assert.deepEqual(got, [
    "option 'BERTH_MASTER_FIFO' is not supported yet (environment variable BERTH_MASTER_FIFO) — remove it and use signals (SIGTERM stops, SIGHUP reloads) or berth --stop/--reload <pidfile>",
    "option 'BERTH_PROCESSES': 'four' is not a whole number (environment variable BERTH_PROCESSES) — write digits only, for example 4",
  ]);
});

test('a plugin Berth lacks is ignored with a warning, as uWSGI does; need-plugin refuses it; an option that changes nothing here is a warning', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const r = loadConfig({ argv: ['--http', ':0', '-w', 'a', '--plugin=python3,router_cache', '--http-keepalive', '--log-slow=200'], env: {}, cwd: tree.dir });
  ok(r);
  assert.deepEqual(r.warnings.map((w) => w.code), ['no-effect', 'no-effect']);
  const plugin = r.warnings.find((w) => w.message.includes('router_cache'));
  assert.equal(plugin?.message, "plugin 'router_cache' not available in Berth: ignored, as uWSGI ignores a plugin it cannot load");
  assert.equal(plugin?.option, '--plugin');
  const needed = loadConfig({ argv: ['--http', ':0', '-w', 'a', '--need-plugin=router_cache'], env: {}, cwd: tree.dir });
  assert.deepEqual(problems(needed), ["plugin 'router_cache' not available in Berth (need-plugin requires them) (command line) — Berth has Python and the HTTP front built in and loads no other plugins; remove the plugin (python/python3 may stay)"]);
});

test('describeConfig shows each value and where it came from', (t) => {
  const tree = makeTree({ 'a.ini': '[uwsgi]\nhttp = :8000\nmodule = mysite.wsgi\n' });
  t.after(tree.remove);
  const text = describeConfig(ok(loadConfig({ argv: ['a.ini', '-p', '4'], env: { BERTH_THREADS: '2' }, cwd: tree.dir })));
  assert.match(text, new RegExp(`http +:8000 +line 2 of ${tree.dir}/a\\.ini`));
  assert.match(text, /processes +4 +command line/);
  assert.match(text, /threads +2 +environment variable BERTH_THREADS/);
  assert.match(text, /buffer-size +64k \(65536 bytes\) +default/);
  assert.match(text, /limit-post +100m \(104857600 bytes\) +default/);
});

test('BERTH_INI reads an ini file at environment precedence', (t) => {
  const tree = makeTree({ 'env.ini': '[uwsgi]\nhttp = :0\nmodule = app\nprocesses = 2\nthreads = 2\n' });
  t.after(tree.remove);
  const c = ok(loadConfig({ argv: ['--threads', '5'], env: { BERTH_INI: 'env.ini', BERTH_PROCESSES: '7' }, cwd: tree.dir }));
  // BERTH_INI sorts before BERTH_PROCESSES, so the variable wins over the file it loaded; the command line wins over both.
  assert.deepEqual([c.processes, c.threads, c.module], [7, 5, 'app']);
  assert.deepEqual(c.sources['module'], { kind: 'ini', file: `${tree.dir}/env.ini`, line: 3 });
});

test('loadConfig never throws on unreadable input', (t) => {
  const tree = makeTree({ 'sub/': '' });
  t.after(tree.remove);
  const got = problems(loadConfig({ argv: ['--ini', 'sub', '--http', ':0', '-w', 'a'], env: {}, cwd: tree.dir }));
  assert.equal(got.length, 1);
  assert.match(got[0]!, /^ini file .*\/sub cannot be read/);
});

test('uwsgi listeners, socket options, allow-list and mountpoints', (t) => {
  const tree = makeTree({ 'run/': '', 'a.ini': '[uwsgi]\nsocket = %drun/site.sock\nuwsgi-socket = 127.0.0.1:0\nchmod-socket\nchown-socket = www-data:www-data\nvacuum = true\nuwsgi-allow = 10.0.0.0/8\nmount = /blog=mysite.wsgi\nmanage-script-name\ndetect-protocol = false\n' });
  t.after(tree.remove);
  const c = ok(loadConfig({ argv: ['--ini', `${tree.dir}/a.ini`], env: {}, cwd: tree.dir }));
  assert.deepEqual(c.uwsgi.map((a) => [a.text, a.via]), [[`${tree.dir}/run/site.sock`, 'socket'], ['127.0.0.1:0', 'socket']]);
  assert.deepEqual(c.http, []);
  assert.equal(c.chmodSocket, 0o666);
  assert.equal(c.chownSocket, 'www-data:www-data');
  assert.deepEqual([c.vacuum, c.detectProtocol, c.manageScriptName], [true, false, true]);
  assert.deepEqual(c.uwsgiAllow, ['10.0.0.0/8']);
  assert.deepEqual(c.mounts, [{ prefix: '/blog', app: 'mysite.wsgi' }]);
  assert.equal(c.module, 'mysite.wsgi', 'the mounted app is the app');
});

test('bad socket options are problems naming the option', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const got = problems(loadConfig({ argv: ['--socket', ':9001', '--http', ':9001', '-w', 'a', '--chmod-socket=77x', '--uwsgi-allow', 'nonsense', '--mount', 'blog=a'], env: {}, cwd: tree.dir }));
  assert.deepEqual(got, [
    "chmod-socket: '77x' is not an octal file mode (command line) — write an octal mode such as 660, or chmod-socket alone for 666",
    "uwsgi-allow: 'nonsense' is not a network in CIDR form (command line) — write an address with a prefix length, such as 10.0.0.0/8, 192.168.1.7/32 or fd00::/8",
    "--socket :9001 is also given to '--http' (command line) — list each address once: with detect-protocol one port serves HTTP and uwsgi alike",
    "--mount: mountpoint 'blog' must start with / and not be / itself (command line) — write mount = /blog=mysite.wsgi (serve at / without mount)",
  ]);
});

test('stats on a LAN address (the seeds bind it so) starts with a warning saying who can read it; loopback and unix sockets do not warn', (t) => {
  const tree = makeTree({ 'a.ini': '[uwsgi]\nhttp = 127.0.0.1:0\nmodule = app\nstats = 192.168.134.128:9002\nmetrics = :9100\n', 'b.ini': '[uwsgi]\nhttp = 127.0.0.1:0\nmodule = app\nstats = 127.0.0.1:9191\nmetrics = run/metrics.sock\n' });
  t.after(tree.remove);
  const lan = loadConfig({ argv: ['a.ini'], env: {}, cwd: tree.dir });
  assert.equal(ok(lan).stats?.text, '192.168.134.128:9002');
  assert.deepEqual(lan.warnings.map((w) => [w.code, w.line, w.option]), [['stats-exposed', 4, 'stats'], ['stats-exposed', 5, 'metrics']]);
  assert.match(lan.warnings[0]!.message, /anyone who can reach 192\.168\.134\.128 can read the stats document/);
  assert.match(lan.warnings[1]!.message, /anyone who can reach this machine on any of its networks can read the Prometheus metrics/);
  assert.match(lan.warnings[0]!.fix ?? '', /127\.0\.0\.1:9002 or a unix socket path/);
  const local = loadConfig({ argv: ['b.ini'], env: {}, cwd: tree.dir });
  assert.deepEqual(local.warnings, []);
  assert.equal(ok(local).metrics?.kind, 'unix');
  assert.deepEqual(ok(local).written['stats'], '127.0.0.1:9191', 'the options as written, for the document');
});
