/**
 * A Berth whose stderr reader is gone (an emperor or a `| tee` killed with SIGKILL) keeps
 * serving, and a SIGTERM still stops it gracefully: exit code 0, its listener closed when it exits.
 * Before, the first log line after the reader died raised an unhandled EPIPE and the master died
 * at once with code 1, leaving its worker holding the port.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BERTH_BIN, APPS, debianPython } from '../helpers/berth.js';
import { canConnect, freePort } from '../helpers/nginx.js';
import { until } from '../helpers/wait.js';

test('stdout and stderr readers gone: Berth serves on, and SIGTERM stops it with exit code 0 and its port closed', async () => {
  const port = await freePort();
  const proc = spawn(process.execPath, [BERTH_BIN, '--http', `127.0.0.1:${port}`, '--wsgi-file', `${APPS}/hello.py`, '--processes', '1', '--python', debianPython()], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let log = '';
    proc.stderr!.on('data', (d) => { log += String(d); });
    const get = (): Promise<string> => fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => '');
    await until(`Berth serves\n${log}`, async () => (await get()) === 'Hello, World!');
    proc.stdout!.destroy();
    proc.stderr!.destroy();
    // Request lines are logged: the master now writes into a pipe nobody reads.
    for (let i = 0; i < 5; i++) assert.equal(await get(), 'Hello, World!');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(proc.exitCode, null, 'the master is still running after its log lines met a closed pipe');
    assert.equal(await get(), 'Hello, World!');
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    assert.equal(await exited, 0, 'a graceful stop, not a crash');
    assert.ok(!(await canConnect(port)), 'no worker holds the port once the master exited');
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
});
