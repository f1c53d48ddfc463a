import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { APPS, BERTH_BIN, startBerth } from '../helpers/berth.js';
import { freePort } from '../helpers/nginx.js';

function ctl(args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BERTH_BIN, 'ctl', ...args], { timeout: 20_000 }, (err, stdout) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout });
    });
  });
}

const pidOf = async (file: string, name: string): Promise<number> =>
  (JSON.parse((await ctl(['--ini', file, 'status', name, '--json'])).stdout) as { programs: { pid: number }[] }).programs[0]!.pid;

test('a reload of the web workers restarts attach-daemon programs and leaves [program:x] ones running', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-reload-'));
  const file = join(dir, 'site.ini');
  writeFileSync(file, ['[uwsgi]', 'http = 127.0.0.1:0', `wsgi-file = ${join(APPS, 'hello.py')}`, `ctl-socket = ${dir}/ctl.sock`,
    'attach-daemon = sleep 301', '[program:keep]', 'command = sleep 302', 'startsecs = 0'].join('\n'));
  const berth = await startBerth(['--ini', file]);
  try {
    await berth.waitForLog(/program keep: RUNNING/);
    await berth.waitForLog(/program sleep: RUNNING/);
    const keep = await pidOf(file, 'keep');
    const daemon = await pidOf(file, 'sleep');
    assert.equal((await ctl(['--ini', file, 'reload'])).code, 0);
    await berth.waitForLog(/program sleep: restarting with the web workers \(attach-daemon, as in uWSGI\)[\s\S]*program sleep: stopped[\s\S]*program sleep: RUNNING/);
    await berth.waitForLog(/reload done in \d+ ms: generation 2/);
    assert.notEqual(await pidOf(file, 'sleep'), daemon);
    assert.equal(await pidOf(file, 'keep'), keep, '[program:x] keeps running across a reload (reload-with-web = false)');
  } finally {
    assert.equal((await berth.stop()).code, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('web-depends-on: the web workers start only once the program answers its ready-check', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-webdeps-'));
  const port = await freePort();
  const file = join(dir, 'site.ini');
  const server = `import socket,time; time.sleep(1.5); s=socket.socket(); s.bind(('127.0.0.1',${port})); s.listen(); print('bound', flush=True); time.sleep(300)`;
  writeFileSync(file, ['[uwsgi]', 'http = 127.0.0.1:0', `wsgi-file = ${join(APPS, 'hello.py')}`, 'web-depends-on = db',
    '[program:db]', `command = python3 -c "${server}"`, `ready-check = tcp:127.0.0.1:${port}`, 'startsecs = 0'].join('\n'));
  const berth = await startBerth(['--ini', file]);
  try {
    const log = berth.logs();
    const at = (text: string): number => { const i = log.indexOf(text); assert.ok(i >= 0, `${text} in:\n${log}`); return i; };
    assert.ok(at('[db] bound') < at('program db: ready (tcp:'));
    assert.ok(at('program db: ready (tcp:') < at('web workers: db ready (web-depends-on)'));
    assert.ok(at('web workers: db ready (web-depends-on)') < at('app ready'));
  } finally {
    assert.equal((await berth.stop()).code, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
