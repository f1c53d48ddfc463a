/**
 * The master's client connection (src/server/http-connection.ts) and its one http-timeout: a
 * request restarts it, so a connection in use outlives the first deadline, and an idle one is
 * closed. `--http-direct=false` keeps the connection in the master, where that timer lives.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { openSocket, statuses } from '../helpers/raw-http.js';

let berth: RunningBerth;

before(async () => {
  berth = await startBerth([
    '--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--processes', '1', '--threads', '1',
    '--python', debianPython(), '--http-timeout', '2', '--http-direct=false',
  ]);
});
after(async () => {
  await berth?.stop();
});

/** Resolves once `received()` holds `count` status lines, or the socket closed. */
function answers(s: Socket, received: () => string, count: number): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    const done = (): void => {
      s.off('data', answered);
      s.off('close', done);
      resolve();
    };
    const answered = (): void => void (statuses(received()).length >= count && done());
    s.on('data', answered);
    s.on('close', done);
  });
}

test('a kept connection used past its first http-timeout stays open until it idles that long', async () => {
  // Requests 500 ms apart for ~3.5 s on one connection: each restarts the 2 s timeout (a 4× margin
  // for a loaded machine's stalls).
  const s = await openSocket(berth.port);
  let closed = false;
  let received = '';
  s.on('data', (d: Buffer) => (received += d.toString('latin1')));
  s.on('close', () => (closed = true));
  for (let i = 1; i <= 7; i++) {
    s.write('GET /environ HTTP/1.1\r\nHost: x\r\n\r\n');
    await answers(s, () => received, i);
    assert.equal(closed, false, `closed before answer ${i}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.deepEqual(statuses(received), [200, 200, 200, 200, 200, 200, 200]);
  const closedAfterIdle = closed || (await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), 8000);
    s.on('close', () => (clearTimeout(t), resolve(true)));
  }));
  assert.equal(closedAfterIdle, true);
});
