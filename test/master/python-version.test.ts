/** The workers' Python version: `berth --python-version`, and the warning for a plugin naming another Python. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { loadConfig } from '../../src/config/load.js';
import { resolveInterpreter } from '../../src/master/interpreter.js';
import { interpreterVersion, pluginPythonVersion, pluginVersionWarnings } from '../../src/master/python-version.js';
import { APPS, BERTH_BIN, REPO, debianPython, startBerth } from '../helpers/berth.js';

test('plugin names map to the Python versions they stand for', () => {
  const table: [string, string | undefined][] = [
    ['python27', '2.7'], ['python38', '3.8'], ['python311', '3.11'], ['python3.9', '3.9'], ['python3', '3'], ['python', undefined], ['http', undefined],
  ];
  for (const [plugin, version] of table) assert.equal(pluginPythonVersion(plugin), version, plugin);
});

function configWith(plugins: string) {
  const r = loadConfig({ argv: ['--http', '127.0.0.1:0', '--module', 'hello', '--python', debianPython(), '--plugins', plugins], env: {}, cwd: APPS });
  assert.ok(r.ok);
  return r.config;
}

test('a plugin naming another major.minor than the real interpreter is a warning naming both; the same one is silent', () => {
  const config = configWith('python27,http');
  const interpreter = resolveInterpreter(config, process.env.PATH);
  const version = interpreterVersion(interpreter);
  assert.match(version, /^3\.\d+\.\d+/);
  const running = /^(\d+\.\d+)/.exec(version)![1]!;
  const [warning, ...more] = pluginVersionWarnings(config, interpreter, version);
  assert.equal(more.length, 0);
  assert.match(warning!, new RegExp(`python27 names Python 2\\.7, but the workers run Python ${running.replace('.', '\\.')} \\(${debianPython()}, chosen by python = `));
  assert.match(warning!, /set home = \/path\/to\/a\/venv or python = \/usr\/bin\/python2\.7/);
  for (const same of [`python${running.replace('.', '')}`, `python${running}`, 'python3', 'python']) {
    assert.deepEqual(pluginVersionWarnings(configWith(same), interpreter, version), [], same);
  }
});

function berth(args: readonly string[]) {
  const r = spawnSync(process.execPath, [BERTH_BIN, ...args], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('berth check warns about plugins = python27 and still checks the app', () => {
  const r = berth(['check', '--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'hello', '--python', debianPython(), '--plugins', 'python27']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[berth\] WARNING: option 'plugin' \(command line\): python27 names Python 2\.7, but the workers run Python 3\.\d+/);
  assert.match(r.stdout, /app: imported OK/);
  const same = berth(['check', '--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'hello', '--python', debianPython(), '--plugins', 'python3']);
  assert.equal(same.code, 0, same.stderr);
  assert.doesNotMatch(same.stderr, /names Python/);
});

test('berth --python-version prints the version of the interpreter the options choose, and exits', () => {
  const r = berth(['--python-version', '--python', debianPython()]);
  assert.equal(r.code, 0, r.stderr);
  const expected = spawnSync(debianPython(), ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' }).stdout.trim();
  assert.match(r.stdout, new RegExp(`^Python version: ${expected.replace(/\./g, '\\.')} `));
  const missing = berth(['--python-version', '--python', '/nonexistent/python3']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /\/nonexistent\/python3 does not exist/);
});

test('serving with plugins = python27 logs the warning at start-up and serves', async (t) => {
  const b = await startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'hello', '--python', debianPython(), '--plugins', 'python27']);
  t.after(() => b.stop());
  assert.match(b.logs(), /option 'plugin' \(command line\): python27 names Python 2\.7, but the workers run Python 3\.\d+/);
  const res = await fetch(b.url('/'));
  assert.equal(res.status, 200);
  await res.arrayBuffer();
});
