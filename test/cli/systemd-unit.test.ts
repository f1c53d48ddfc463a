/**
 * `berth systemd-unit`: the unit it prints for a real ini is accepted by systemd-analyze verify
 * (Debian's systemd package, offline: no running systemd needed) without a single warning, runs
 * the given config by absolute path, and says which Type it chose and why; daemonize is refused.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBerth } from '../helpers/berth.js';
import { loadConfig } from '../../src/config/load.js';
import { absoluteArgs, execWord, installedSystemdVersion, renderUnit } from '../../src/cli/commands/systemd-unit.js';

function systemdAnalyze(): string {
  const found = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  const code = (found.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') throw new Error('systemd-analyze is missing: run `sudo bash scripts/install-test-deps.sh` (Debian package systemd)');
  if (found.error !== undefined || found.status !== 0) throw new Error(`systemd-analyze --version did not run: ${found.error?.message ?? `exit ${found.status}: ${found.stderr}`}`);
  return 'systemd-analyze';
}

function site(lines: readonly string[]): { dir: string; ini: string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-unit-'));
  const ini = join(dir, 'site.ini');
  writeFileSync(join(dir, 'app.py'), 'def application(e, s):\n    s("200 OK", [])\n    return [b"ok"]\n');
  writeFileSync(ini, ['[uwsgi]', 'http = 127.0.0.1:8080', 'module = app', `chdir = ${dir}`, ...lines, ''].join('\n'));
  return { dir, ini };
}

test('the unit for an ini: absolute config path, KillMode=mixed, stop bound from reload-mercy, watchdog, user; systemd-analyze verify accepts it with no warning', async (t) => {
  const analyze = systemdAnalyze();
  const s = site(['uid = www-data', 'gid = www-data', 'reload-mercy = 20']);
  t.after(() => rmSync(s.dir, { recursive: true, force: true }));
  const r = await runBerth(['systemd-unit', '--watchdog', '30', '--ini', 'site.ini'], { cwd: s.dir });
  assert.equal(r.code, 0, r.stderr);
  const unit = r.stdout;
  const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!;
  assert.ok(execStart.startsWith(`${process.execPath} `), execStart);
  assert.ok(execStart.endsWith(` --ini ${s.ini}`), `the ini by its absolute path: ${execStart}`);
  const version = installedSystemdVersion();
  if (version !== null && version >= 253) assert.match(unit, /^Type=notify-reload$/m);
  else {
    assert.match(unit, /^Type=notify$/m);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    assert.match(unit, /^# Type=notify, not notify-reload: .*needs 253 or later/m);
  }
  for (const line of ['NotifyAccess=all', 'KillMode=mixed', 'TimeoutStopSec=30', 'Restart=on-failure', 'WatchdogSec=30', 'User=www-data', 'Group=www-data', `WorkingDirectory=${s.dir}`]) {
    assert.ok(unit.split('\n').includes(line), `${line} in:\n${unit}`);
  }
  assert.doesNotMatch(unit, /daemonize/);
  const file = join(s.dir, 'berth-site.service');
  writeFileSync(file, unit);
  const verified = spawnSync(analyze, ['verify', '--man=no', file], { encoding: 'utf8' });
  assert.equal(verified.status, 0, verified.stderr);
  assert.equal(verified.stderr.trim(), '', 'no warning either (systemd-analyze prints "ignoring" lines and still exits 0)');
});

test('systemd-analyze verify is a real check: it flags a unit line systemd would ignore', () => {
  const analyze = systemdAnalyze();
  const dir = mkdtempSync(join(tmpdir(), 'berth-unit-'));
  try {
    const file = join(dir, 'broken.service');
    writeFileSync(file, `[Service]\nType=notify\nKillMod=mixed\nExecStart=${process.execPath} -e 0\n`);
    const verified = spawnSync(analyze, ['verify', '--man=no', file], { encoding: 'utf8' });
    assert.match(verified.stderr, /Unknown key 'KillMod'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('daemonize is refused, naming the option, where it is set and the fix', async (t) => {
  const s = site(['daemonize = /tmp/berth-unit-never.log']);
  t.after(() => rmSync(s.dir, { recursive: true, force: true }));
  const r = await runBerth(['systemd-unit', '--ini', s.ini], { cwd: s.dir });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`option 'daemonize' \\(line 5 of ${s.ini}\\): systemd runs Berth in the foreground.*remove 'daemonize'`));
});

test('systemd 253 or later gets Type=notify-reload and no ExecReload; 252 gets notify with ExecReload', () => {
  const loaded = loadConfig({ argv: ['--http', '127.0.0.1:8080', '--module', 'app'], env: {}, cwd: '/' });
  assert.ok(loaded.ok);
  const facts = { execStart: ['/usr/bin/node', '/opt/berth/bin/berth.js', '--http', '127.0.0.1:8080'], watchdogSec: null, workingDirectory: '/srv' };
  const newer = renderUnit(loaded.config, { ...facts, systemdVersion: 254 });
  assert.match(newer, /^Type=notify-reload$/m);
  assert.doesNotMatch(newer, /ExecReload|WatchdogSec/);
  const older = renderUnit(loaded.config, { ...facts, systemdVersion: 252 });
  assert.match(older, /^Type=notify$/m);
  assert.match(older, /^ExecReload=/m);
});

test('Exec words: spaces quoted, % and $ doubled; ini paths made absolute with their section', () => {
  assert.equal(execWord('/srv/my site/app.ini'), '"/srv/my site/app.ini"');
  assert.equal(execWord('100%'), '100%%');
  assert.equal(execWord('$HOME'), '$$HOME');
  assert.deepEqual(absoluteArgs(['--ini', 'a.ini:prod', '--ini=/etc/b.ini', '-p', '4'], '/srv'), ['--ini', '/srv/a.ini:prod', '--ini=/etc/b.ini', '-p', '4']);
});
