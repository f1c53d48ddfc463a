/**
 * README's install step works: `npm pack` makes a tarball that installs offline into a fresh
 * prefix (no runtime dependencies to download), and the installed `berth` runs from PATH —
 * `--version`, and `check` on the bundled example, which imports the app in a real worker from
 * the installed copy of the Python runtime. The temporary prefix is removed afterwards.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { REPO } from '../helpers/berth.js';

/** npm ships beside node; the tests must not fall back to another one on PATH. */
function npmCli(): string {
  const candidates = [join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'), join(dirname(process.execPath), 'npm')];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) throw new Error(`npm is missing beside ${process.execPath}: install Node.js 20 with npm (README, "The two commands")`);
  return found;
}

test('npm pack + npm install -g --prefix gives a berth on PATH that runs', (t) => {
  const work = mkdtempSync(join(tmpdir(), 'berth-install-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const npm = (args: string[], cwd: string): string => {
    const cli = npmCli();
    const [cmd, pre] = cli.endsWith('.js') ? [process.execPath, [cli]] : [cli, []];
    // A private cache: nothing from the machine's npm cache, and an offline install proves no download is needed.
    return execFileSync(cmd, [...pre, ...args, '--cache', join(work, 'cache'), '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', timeout: 240_000 });
  };
  const packed = npm(['pack', '--pack-destination', work], REPO).trim().split('\n').at(-1) as string;
  const tarball = join(work, packed);
  assert.ok(existsSync(tarball), `npm pack made ${tarball}`);
  const prefix = join(work, 'prefix');
  npm(['install', '-g', '--offline', '--prefix', prefix, tarball], work);
  const installed = join(prefix, 'lib', 'node_modules', 'berth');
  for (const part of ['dist/src/cli/main.js', 'python/berth_worker.py', 'python/berth_runtime/__init__.py', 'examples/hello/berth.ini', 'README.md']) {
    assert.ok(existsSync(join(installed, part)), `the package holds ${part}`);
  }
  assert.ok(!existsSync(join(installed, 'dist', 'test')), 'tests are not shipped');
  const env = { ...process.env, PATH: `${join(prefix, 'bin')}${delimiter}${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const version = spawnSync('berth', ['--version'], { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout, `berth ${pkg.version}\n`);
  const example = join(installed, 'examples', 'hello', 'berth.ini');
  const check = spawnSync('berth', ['check', '--ini', example], { cwd: work, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /app: imported OK by Python 3\./);
  assert.ok(check.stdout.includes(installed), 'the resolved config names the installed example');
});
