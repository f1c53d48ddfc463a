/**
 * Item 8 of issue 13: the seed deployments (../shared/seeds/) that put `stats = host:port` in
 * their uwsgi.ini now start. Their ini files are copied with only the addresses and paths
 * adapted (loopback, port 0, a temporary project directory); the inline comments of the second
 * one are kept as written. The stats document then shows their 4 workers × 2 threads.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, startBerth, type RunningBerth } from '../helpers/berth.js';
import { readStatsDocument } from '../../src/stats/stats-client.js';

const dirs: string[] = [];
const running: RunningBerth[] = [];
after(async () => {
  for (const b of running) await b.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-seed-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'myweb', 'static'), { recursive: true });
  copyFileSync(join(APPS, 'hello.py'), join(dir, 'myweb', 'wsgi.py'));
  return dir;
}

async function startsWithStats(ini: string, dir: string): Promise<void> {
  writeFileSync(join(dir, 'uwsgi.ini'), ini);
  const b = await startBerth(['--ini', join(dir, 'uwsgi.ini')], { cwd: dir });
  running.push(b);
  const stats = /stats \S.*? on (127\.0\.0\.1:\d+)/.exec(b.logs())?.[1];
  assert.ok(stats !== undefined, b.logs());
  const doc = await readStatsDocument(stats, { timeoutMs: 5000 });
  const workers = doc['workers'] as { id: number; cores: unknown[] }[];
  assert.deepEqual(workers.map((w) => [w.id, w.cores.length]), [[1, 2], [2, 2], [3, 2], [4, 2]]);
}

test('seed 000 (a uWSGI template: socket, chdir, wsgi-file, 4 × 2, buffer-size, stats, vacuum) starts and serves its stats', async () => {
  const dir = project();
  await startsWithStats([
    '[uwsgi]',
    'socket = 127.0.0.1:0',
    '# the base directory (full path)',
    `chdir = ${join(dir, 'myweb')}`,
    `wsgi-file = ${join(dir, 'myweb', 'wsgi.py')}`,
    'processes = 4',
    'threads = 2',
    'buffer-size=32768',
    'stats = 127.0.0.1:0',
    '# clear environment on exit',
    'vacuum = true',
    '',
  ].join('\n'), dir);
});

test('seed 004 (http + socket + stats, inline comments, pidfile, static-map) starts and serves its stats', async () => {
  const dir = project();
  await startsWithStats([
    '[uwsgi]',
    'http = 127.0.0.1:0 # uWSGI服务器访问地址  保证ip地址正确',
    'socket = 127.0.0.1:0',
    `chdir = ${join(dir, 'myweb')} #项目所在目录  保证项目路径正确`,
    'wsgi-file = wsgi.py #基于项目目录的相对路径',
    'processes = 4',
    'threads = 2',
    'stats = 127.0.0.1:0',
    'vacuum = true',
    `pidfile = ${join(dir, 'uwsgi.pid')} #进程ID存放于此文件，位置可以自定义   路径要正确`,
    `static-map =/static=${join(dir, 'myweb', 'static')}  # 只在你写的static-map中找静态资源    路径要正确`,
    '',
  ].join('\n'), dir);
});
