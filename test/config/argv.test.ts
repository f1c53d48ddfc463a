import test from 'node:test';
import assert from 'node:assert/strict';
import { readArgv } from '../../src/config/argv.js';

const read = (...argv: string[]) => {
  const r = readArgv(argv);
  return { got: r.settings.map((s) => [s.written, s.name, s.value]), problems: r.problems.map((p) => `${p.code}: ${p.message}`) };
};

test('--name value and --name=value', () => {
  assert.deepEqual(read('--http', ':8000', '--module=mysite.wsgi', '--env=A=b').got, [
    ['--http', 'http', ':8000'], ['--module', 'module', 'mysite.wsgi'], ['--env', 'env', 'A=b'],
  ]);
});

test('short options: -p 4, -p4, -p=4 and clustered bool flags', () => {
  assert.deepEqual(read('-p', '4', '-p4', '-p=4', '-ML', '-w', 'app').got, [
    ['-p', 'processes', '4'], ['-p', 'processes', '4'], ['-p', 'processes', '4'],
    ['-M', 'master', null], ['-L', 'disable-logging', null], ['-w', 'module', 'app'],
  ]);
});

test('bool flags never take the next word', () => {
  assert.deepEqual(read('--master', 'app.ini', '--master=false').got, [['--master', 'master', null], ['app.ini', 'ini', 'app.ini'], ['--master', 'master', 'false']]);
  const r = read('--master', 'false');
  assert.deepEqual(r.problems, ["unexpected-argument: unexpected argument 'false' after '--master'"]);
});

test('--ini, --ini file:section and bare ini files, in order', () => {
  assert.deepEqual(read('a.ini', '--ini', 'b.ini:dev', '--processes', '2', 'c.ini:prod').got, [
    ['a.ini', 'ini', 'a.ini'], ['--ini', 'ini', 'b.ini:dev'], ['--processes', 'processes', '2'], ['c.ini:prod', 'ini', 'c.ini:prod'],
  ]);
});

test('a missing value is a problem, not the next flag', () => {
  assert.deepEqual(read('--http', '--master').problems, ["missing-value: option '--http' needs a value"]);
  assert.deepEqual(read('--chdir').problems, ["missing-value: option '--chdir' needs a value"]);
  assert.deepEqual(read('-p').problems, ["missing-value: option '-p' needs a value"]);
});

test('unknown long flags pass through (the mapper suggests), unknown short flags are refused here', () => {
  assert.deepEqual(read('--procesess', '4').got, [['--procesess', 'procesess', '4']]);
  assert.deepEqual(read('--mastr', 'x.ini').got, [['--mastr', 'mastr', null], ['x.ini', 'ini', 'x.ini']]);
  assert.deepEqual(read('-Y').problems, ["unknown-option: unknown option '-Y'"]);
});

test('positional arguments must be ini files', () => {
  assert.deepEqual(read('app.yaml').problems, ["unsupported-config-format: 'app.yaml' is not an ini file"]);
  assert.deepEqual(read('serve').problems, ["unexpected-argument: unexpected argument 'serve'"]);
});

test('negative numbers are values, not flags', () => {
  assert.deepEqual(read('--listen', '-1').got, [['--listen', 'listen', '-1']]);
});

test('every setting is marked as coming from the command line', () => {
  const r = readArgv(['--http', ':1']);
  assert.deepEqual(r.settings[0]?.source, { kind: 'argv' });
});
