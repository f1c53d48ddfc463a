/**
 * Seed 003 (../shared/seeds/003_*.txt): its uwsgi.ini as written, paths and addresses
 * adapted. It has `process=4`, which uWSGI silently ignores (one worker); Berth refuses it,
 * naming the line and the fix. With the fix the note's reader makes, the rest runs as the
 * note says: http on its own, pidfile and daemonize relative to the project folder, and
 * `--stop uwsgi.pid` to stop it.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { debianPython, runBerth } from '../../helpers/berth.js';
import { freePort } from '../../helpers/nginx.js';
import { adaptedSeed, djangoProject, isAlive, shellEnv, stopPid, until, withFreshPorts, writeAdapted } from '../../helpers/seeds.js';

let dir: string;
let port: number;
let seedText: string;
let pid = 0;

before(async () => {
  dir = djangoProject('my_project');
  port = await freePort();
  seedText = seedFor(port);
});
after(async () => {
  if (pid > 0) await stopPid(pid);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const seedFor = (p: number): string => adaptedSeed('003/uwsgi.ini', [
  ['127.0.0.1:8000', `127.0.0.1:${p}`],
  ['/home/.../.../my_projectname 这里需要换为项目文件夹的绝对路径', dir],
]);

const berthIn = (args: string[]) => runBerth([...args, '--python', debianPython()], { cwd: dir, env: shellEnv() });

test('seed 003: `process=4` (a typo uWSGI ignores) is refused with its line and the fix; nothing starts', async () => {
  const ini = writeAdapted(dir, 'uwsgi.ini', seedText);
  const line = seedText.split('\n').indexOf('process=4') + 1;
  const r = await berthIn(['--ini', ini]);
  assert.notEqual(r.code, 0, r.stdout + r.stderr);
  const out = r.stdout + r.stderr;
  assert.match(out, new RegExp(`line ${line} of [^\\n]*uwsgi\\.ini|uwsgi\\.ini:${line}\\b`), out);
  assert.match(out, /process\b/);
  assert.match(out, /processes/, 'the fix names the real option');
  assert.equal(existsSync(join(dir, 'uwsgi.pid')), false, 'a refused config wrote a pidfile');
});

test('seed 003 with the typo fixed: daemonizes with pidfile and log in the project folder, serves, and --stop uwsgi.pid stops it', async () => {
  await withFreshPorts(async () => {
    port = await freePort();
    writeAdapted(dir, 'uwsgi.ini', seedFor(port).replace('process=4', 'processes=4'));
    const r = await berthIn(['--ini', 'uwsgi.ini']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
  pid = await until('the pidfile', async () => {
    const n = Number(readFileSync(join(dir, 'uwsgi.pid'), 'utf8').trim());
    if (!(n > 0)) throw new Error('empty pidfile');
    return n;
  });
  assert.ok(isAlive(pid), `pid ${pid} from uwsgi.pid is not running`);
  const page = await until('the page', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    return res.text();
  });
  assert.match(page, /hello from the seed project/);
  await until('four workers ready in uwsgi.log', async () => {
    if (!/all 4 worker\(s\) ready/.test(readFileSync(join(dir, 'uwsgi.log'), 'utf8'))) throw new Error('not yet');
  });
  const stop = await runBerth(['--stop', 'uwsgi.pid'], { cwd: dir, env: shellEnv() });
  assert.equal(stop.code, 0, stop.stdout + stop.stderr);
  assert.equal(isAlive(pid), false, `--stop returned but pid ${pid} is still alive`);
  pid = 0;
});
