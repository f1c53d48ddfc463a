/**
 * http-direct: a kept connection that goes quiet stays with its worker up to the listener's
 * timeout (python/berth_runtime/http_kept.py), so a pooled client that pauses keeps the direct
 * path; past the bound of idle connections per worker the least recently used go to the master
 * and are still served. Real Berth, real workers; who holds the server end is read with `ss -tnp`.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { Client, serverEndHolders } from '../helpers/direct-client.js';

const APP = ['--chdir', APPS, '--module', 'http_direct_app', '--python', debianPython()];
// python/berth_runtime/http_kept.py's HTTP_IDLE_MAX.
const IDLE_MAX = 64;
const running: RunningBerth[] = [];
after(async () => {
  for (const b of running) await b.stop();
});

async function berth(args: readonly string[]): Promise<RunningBerth> {
  const b = await startBerth(['--http', '127.0.0.1:0', ...APP, '--http-direct', ...args]);
  running.push(b);
  return b;
}

const GET = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: site\r\n${extra}\r\n`;
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a keep-alive connection idle for 3.5 s is still held by its worker and its next request served there', async () => {
  const b = await berth(['--processes', '1']);
  const c = new Client(b.port);
  await c.write(GET('/first'));
  assert.match((await c.until(1))[0]!, /^via=direct .*path=\/first/);
  await pause(3500); // past the old 2 s hand-over, under http-timeout's 60 s
  assert.deepEqual(serverEndHolders(b.port, c.socket), ['python3']);
  await c.write(GET('/second'));
  const bodies = await c.until(2);
  assert.match(bodies[1]!, /^via=direct .*path=\/second/);
  assert.equal(c.closed, false);
  c.end();
});

test('at the listener\'s timeout the worker closes an idle connection, as the master would', async () => {
  const b = await berth(['--processes', '1', '--http-timeout', '1']);
  const c = new Client(b.port);
  await c.write(GET('/first'));
  assert.match((await c.until(1))[0]!, /^via=direct /);
  await pause(300);
  assert.deepEqual(serverEndHolders(b.port, c.socket), ['python3'], 'idle with its worker until the timeout');
  await c.until(2, 4000); // returns once the server closes (no second body is asked for)
  assert.equal(c.closed, true, 'closed by the worker at http-timeout');
  assert.equal(c.text.match(/HTTP\/1\.1 /g)?.length, 1, 'silently: no 408 on an idle connection');
  assert.doesNotMatch(b.logs(), /direct HTTP connection failed/);
  c.end();
});

test('past the bound of idle connections per worker the least recently used move to the master, and every one is still served', async () => {
  // Two threads: a thread descheduled in the app for the idle grace wakes the other, where with one
  // the keeper would hand every idle connection over (a loaded machine), which is not this rule.
  const b = await berth(['--processes', '1', '--threads', '2']);
  const extra = 5;
  const clients: Client[] = [];
  for (let i = 0; i < IDLE_MAX + extra; i++) {
    const c = new Client(b.port);
    clients.push(c);
    await c.write(GET(`/a${i}`));
    assert.match((await c.until(1))[0]!, /^via=direct /, `connection ${i}'s first request`);
  }
  const holders = clients.map((c) => serverEndHolders(b.port, c.socket).join(','));
  assert.deepEqual(holders.slice(0, extra), Array(extra).fill('node'), 'the oldest went to the master');
  assert.deepEqual(holders.slice(extra), Array(IDLE_MAX).fill('python3'), 'the newest stayed with the worker');
  await Promise.all(clients.map((c, i) => c.write(GET(`/b${i}`, 'Connection: close\r\n'))));
  for (const [i, c] of clients.entries()) {
    const bodies = await c.until(2);
    assert.equal(bodies.length, 2, `connection ${i}: ${c.text.slice(-200)}`);
    assert.match(bodies[1]!, i < extra ? new RegExp(`^via=master .*path=/b${i} `) : new RegExp(`^via=direct .*path=/b${i} `));
    c.end();
  }
});
