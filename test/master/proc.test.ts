/** The /proc readers: Berth command lines recognised (and others not), this process's own facts. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { argValue, formatCommand, formatDuration, isAlive, isBerthCommand, readCmdline, readStat, startedAt } from '../../src/master/proc.js';

test('isBerthCommand: node running bin/berth.js or the npm bin link; not other node programs', () => {
  assert.ok(isBerthCommand(['node', 'bin/berth.js', '--ini', 'site.ini']));
  assert.ok(isBerthCommand(['/usr/bin/node', '--max-old-space-size=512', '/usr/local/bin/berth', 'site.ini']));
  assert.ok(isBerthCommand(['/usr/local/bin/node', '/srv/app/node_modules/berth/bin/berth.js']));
  assert.ok(isBerthCommand(['berth']));
  assert.ok(!isBerthCommand(['node', '--test', 'dist/test/master/proc.test.js']));
  assert.ok(!isBerthCommand(['node', 'server.js', 'berth.js']));
  assert.ok(!isBerthCommand(['python3', 'berth.js']));
  assert.ok(!isBerthCommand(['sleep', '30']));
  assert.ok(!isBerthCommand([]));
});

test('formatCommand shortens node + script to berth and quotes odd words', () => {
  assert.equal(formatCommand(['/usr/bin/node', '/work/bin/berth.js', '--ini', 'site.ini']), 'berth --ini site.ini');
  assert.equal(formatCommand(['sh', '-c', 'echo hi']), "sh -c 'echo hi'");
  assert.ok(formatCommand(['x', 'y'.repeat(300)]).length <= 120);
});

test('argValue reads --name X and --name=X', () => {
  assert.equal(argValue(['berth', '--pidfile', '/run/a.pid'], 'pidfile'), '/run/a.pid');
  assert.equal(argValue(['berth', '--pidfile=/run/b.pid'], 'pidfile'), '/run/b.pid');
  assert.equal(argValue(['berth', '--pidfile2', '/x'], 'pidfile'), null);
});

test('this process: alive, its command line and stat, a start time in the past', () => {
  assert.ok(isAlive(process.pid));
  assert.ok((readCmdline(process.pid) ?? []).some((w) => w.endsWith('proc.test.js')), 'the command line names this test file');
  assert.equal(readStat(process.pid)?.ppid, process.ppid);
  const at = startedAt(process.pid);
  assert.ok(at !== null && at.getTime() <= Date.now() + 1000 && at.getTime() > Date.now() - 3_600_000 * 24 * 365);
});

test('an exited, reaped pid is not alive and has no command line', () => {
  const pid = Number(spawnSync('/bin/sh', ['-c', 'echo $$']).stdout.toString().trim());
  assert.equal(isAlive(pid), false);
  assert.equal(readCmdline(pid), null);
});

test('formatDuration', () => {
  assert.equal(formatDuration(12_400), '12s');
  assert.equal(formatDuration(245_000), '4m 05s');
  assert.equal(formatDuration(3 * 3600_000 + 12 * 60_000), '3h 12m');
  assert.equal(formatDuration(2 * 86400_000 + 3600_000), '2d 1h');
});
