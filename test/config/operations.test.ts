import test from 'node:test';
import assert from 'node:assert/strict';
import { formatProblem, loadConfig } from '../../src/config/load.js';
import { ok, problems } from './results.js';
import { makeTree } from './tmp-dir.js';

test('operations defaults: preload, no recycling, 30 s mercy, logs kept as they are', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const c = ok(loadConfig({ argv: ['--http', ':0', '-w', 'a'], env: {}, cwd: tree.dir }));
  assert.equal(c.lazyApps, false);
  assert.equal(c.chainReload, false);
  assert.deepEqual([c.reloadMercyMs, c.workerReloadMercyMs, c.minWorkerLifetimeMs], [30_000, 30_000, 10_000]);
  assert.deepEqual([c.maxRequests, c.maxRequestsDelta, c.maxWorkerLifetimeMs, c.reloadOnRssBytes, c.harakiriMs, c.pyAutoreloadMs], [0, 0, 0, 0, 0, 0]);
  assert.deepEqual([c.pidfile, c.pidfile2, c.daemonize, c.daemonize2, c.uid, c.gid, c.umask, c.logFormat, c.logBackupname], [null, null, null, null, null, null, null, null, null]);
  assert.equal(c.logBackups, 7);
});

test('operations options from an ini file, with units and paths resolved', (t) => {
  const tree = makeTree({
    'run/': '', 'logs/': '',
    'site.ini': [
      '[uwsgi]', 'http = :0', 'module = a', 'pidfile = run/site.pid', 'daemonize = logs/site.log', 'umask = 027',
      'harakiri = 30', 'max-requests = 1000', 'max-requests-delta = 50', 'reload-on-rss = 300', 'lazy = true',
      'touch-reload = run/reload', 'touch-reload = run/reload2', 'py-autoreload = 2', 'log-maxsize = 10m',
      'log-backupname = logs/old.log', 'logformat = %(addr) %(status)', 'reload-mercy = 5', 'worker-reload-mercy = 2',
      '',
    ].join('\n'),
  });
  t.after(tree.remove);
  const c = ok(loadConfig({ argv: ['site.ini'], env: {}, cwd: tree.dir }));
  assert.equal(c.pidfile, `${tree.dir}/run/site.pid`);
  assert.equal(c.daemonize, `${tree.dir}/logs/site.log`);
  assert.equal(c.umask, 0o027);
  assert.equal(c.harakiriMs, 30_000);
  assert.deepEqual([c.maxRequests, c.maxRequestsDelta], [1000, 50]);
  assert.equal(c.reloadOnRssBytes, 300 * 1024 * 1024);
  assert.equal(c.lazyApps, true);
  assert.deepEqual(c.touchReload, [`${tree.dir}/run/reload`, `${tree.dir}/run/reload2`]);
  assert.equal(c.pyAutoreloadMs, 2000);
  assert.equal(c.logMaxsizeBytes, 10 * 1024 * 1024);
  assert.equal(c.logBackupname, `${tree.dir}/logs/old.log`);
  assert.equal(c.logFormat, '%(addr) %(status)');
  assert.deepEqual([c.reloadMercyMs, c.workerReloadMercyMs], [5000, 2000]);
});

test('operations problems name the option, the line and the fix', (t) => {
  const tree = makeTree({
    'site.ini': [
      '[uwsgi]', 'http = :0', 'module = a', 'pidfile = /no/such/dir/site.pid', 'daemonize = a.log', 'daemonize2 = b.log',
      'umask = 0x22', 'log-format = %(status)', 'log-json = true', '',
    ].join('\n'),
  });
  t.after(tree.remove);
  const file = `${tree.dir}/site.ini`;
  assert.deepEqual(problems(loadConfig({ argv: ['site.ini'], env: {}, cwd: tree.dir })), [
    `umask: '0x22' is not an octal mask (line 7 of ${file}) — write three octal digits such as 022 or 027`,
    `the directory of pidfile /no/such/dir/site.pid does not exist (line 4 of ${file}) — create /no/such/dir or put the pidfile somewhere else`,
    `'daemonize2' and 'daemonize' are both set (line 6 of ${file}) — keep one: daemonize returns once Berth listens, daemonize2 once the app is ready`,
    `'log-format' and 'log-json' are both set (line 8 of ${file}) — keep one: log-json writes fixed JSON fields, log-format a line of your own`,
  ]);
});

test('options that only matter with others warn instead of doing nothing silently', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const r = loadConfig({ argv: ['--http', ':0', '-w', 'a', '--log-maxsize', '1m', '--log-4xx', '--harakiri', '500ms'], env: {}, cwd: tree.dir });
  ok(r);
  assert.deepEqual(r.warnings.map((w) => w.code), ['no-effect', 'no-effect', 'short-harakiri']);
  assert.match(r.warnings.map(formatProblem)[0]!, /log-maxsize has no effect: the log goes to stderr.*set logto/);
});

test('log-format variables are checked by the function the caller passes, at the line, with every other problem', (t) => {
  const tree = makeTree({ 'site.ini': ['[uwsgi]', 'http = :0', 'module = a', 'umask = 0x22', 'log-format = %(status) %(metod)', ''].join('\n') });
  t.after(tree.remove);
  const file = `${tree.dir}/site.ini`;
  const seen: string[] = [];
  const checkLogFormat = (format: string): string[] => {
    seen.push(format);
    return ['first problem', 'second problem'];
  };
  assert.deepEqual(problems(loadConfig({ argv: ['site.ini'], env: {}, cwd: tree.dir, checkLogFormat })), [
    `umask: '0x22' is not an octal mask (line 4 of ${file}) — write three octal digits such as 022 or 027`,
    `first problem (line 5 of ${file})`,
    `second problem (line 5 of ${file})`,
  ]);
  assert.deepEqual(seen, ['%(status) %(metod)']);
  assert.equal(ok(loadConfig({ argv: ['--http', ':0', '-w', 'a', '--log-format', '%(status)'], env: {}, cwd: tree.dir, checkLogFormat: () => [] })).logFormat, '%(status)');
});
