// A pure front before real Berth backends (HTTP and uwsgi): proxy_pass's URI part and exact
// routes as nginx applies them, and passive health carried across a SIGHUP.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';

const named = (name: string, listen: string[]): Promise<RunningBerth> =>
  startBerth([...listen, '--wsgi-file', join(APPS, 'named_path.py'), '--processes', '1', '--python', debianPython(), '--disable-logging'], { env: { BACKEND_NAME: name } });

const get = async (front: RunningBerth, path: string): Promise<string> => {
  const r = await fetch(front.url(path));
  const text = await r.text();
  assert.equal(r.status, 200, `${path}: ${text}`);
  return text;
};

describe('proxy-pass URI parts, exact routes, and health across a reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-proxy-uri-'));
  const ini = join(dir, 'front.ini');
  const started: RunningBerth[] = [];
  let web: RunningBerth;
  let legacy: RunningBerth;
  let a: RunningBerth;
  let b: RunningBerth;
  let front: RunningBerth;

  before(async () => {
    [web, legacy, a, b] = await Promise.all([
      named('web', ['--http', '127.0.0.1:0']), named('legacy', ['--socket', '127.0.0.1:0']), named('a', ['--http', '127.0.0.1:0']), named('b', ['--http', '127.0.0.1:0']),
    ]);
    started.push(web, legacy, a, b);
    writeFileSync(ini, [
      '[upstream:web]', `server = http://127.0.0.1:${web.port}`,
      '[upstream:legacy]', `server = uwsgi://127.0.0.1:${legacy.port}`,
      '[upstream:pair]', `server = http://127.0.0.1:${a.port} max_fails=1 fail_timeout=300s`, `server = http://127.0.0.1:${b.port} max_fails=1 fail_timeout=300s`,
      '[uwsgi]', 'http = 127.0.0.1:0',
      'proxy-pass = /api/=web/v1/', 'proxy-pass = /plain=web', 'proxy-pass = /old/=legacy/new/', 'proxy-pass = /bare=legacy',
      'proxy-pass = =/exact=legacy/exact-target', 'proxy-pass = =/plain/x=legacy', 'proxy-pass = /pair=pair', 'proxy-pass = /=web', '',
    ].join('\n'));
    front = await startBerth(['--ini', ini], { waitReady: false });
    started.push(front);
  });

  after(async () => {
    for (const p of started) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the path with the prefix replaced by the URI part, or as sent without one; exact routes first', async () => {
    const table: [string, string][] = [
      ['/api/x/y?q=1', 'backend web path=/v1/x/y uri=/v1/x/y?q=1'],
      ['/api/', 'backend web path=/v1/ uri=/v1/'],
      ['/plain/z?q=1', 'backend web path=/plain/z uri=/plain/z?q=1'],
      ['/plain/x?q=1', 'backend legacy path=/plain/x uri=/plain/x?q=1'],
      ['/old/x?q=1', 'backend legacy path=/new/x uri=/new/x?q=1'],
      ['/bare/x?q=1', 'backend legacy path=/bare/x uri=/bare/x?q=1'],
      ['/exact', 'backend legacy path=/exact-target uri=/exact-target'],
      ['/exact?q=1', 'backend legacy path=/exact-target uri=/exact-target?q=1'],
      ['/exact/sub', 'backend web path=/exact/sub uri=/exact/sub'],
      ['/other', 'backend web path=/other uri=/other'],
    ];
    for (const [path, want] of table) assert.equal(await get(front, path), want, path);
  });

  it('a backend put out by max_fails stays out across a SIGHUP, even once it answers again', async () => {
    const port = a.port;
    await a.stop();
    // Round robin over two: one of these two reaches the stopped a, which is then out for 300 s.
    for (let i = 0; i < 2; i++) assert.equal(await get(front, '/pair/x'), 'backend b path=/pair/x uri=/pair/x');
    await front.waitForLog(new RegExp(`backend http://127\\.0\\.0\\.1:${port} could not be reached.*out for fail_timeout = 300 s`));
    const back = await named('a-again', ['--http', `127.0.0.1:${port}`]);
    started.push(back);
    assert.equal(await (await fetch(back.url('/direct'))).text(), 'backend a-again path=/direct uri=/direct');
    front.proc.kill('SIGHUP');
    await front.waitForLog(/reload done: routes and upstream groups re-read/);
    for (let i = 0; i < 6; i++) assert.equal(await get(front, '/pair/x'), 'backend b path=/pair/x uri=/pair/x', `request ${i} after the reload`);
  });
});
