/**
 * http-direct: a kept connection a worker handed to the master for a passing reason ('busy': its
 * only thread held in the app past the idle grace) is answered by the master and then closed
 * with `Connection: close`, so the client's next connection is a worker's again; one handed over
 * for a lasting reason ('static') stays with the master. Real Berth, real workers; who holds the
 * server end is read with `ss -tnp`.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { Client, serverEndHolders } from '../helpers/direct-client.js';
import { eventually } from '../helpers/nginx.js';

const APP = ['--chdir', APPS, '--module', 'http_direct_app', '--python', debianPython()];
const running: RunningBerth[] = [];
after(async () => {
  for (const b of running) await b.stop();
});

async function berth(args: readonly string[]): Promise<RunningBerth> {
  const b = await startBerth(['--http', '127.0.0.1:0', ...APP, '--http-direct', '--processes', '1', '--threads', '1', ...args]);
  running.push(b);
  return b;
}

const GET = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: site\r\n${extra}\r\n`;

/** The response heads in `text`, in order. */
function heads(text: string): string[] {
  return text.split(/\r\n\r\n/).filter((part) => part.includes('HTTP/1.1 ')).map((part) => part.slice(part.indexOf('HTTP/1.1 ')));
}

/**
 * A kept connection served by the worker, then handed to the master as 'busy' while a second
 * client's request holds the worker's only thread in the app (`sleep` seconds).
 */
async function handedAsBusy(b: RunningBerth, sleep: number): Promise<{ kept: Client; sleeper: Client }> {
  const kept = new Client(b.port);
  await kept.write(GET('/first'));
  assert.match((await kept.until(1))[0]!, /^via=direct /);
  const sleeper = new Client(b.port);
  await sleeper.write(GET(`/sleep?s=${sleep}`, 'Connection: close\r\n'));
  await eventually(() => serverEndHolders(b.port, kept.socket).join(','), /^node$/);
  return { kept, sleeper };
}

test('a kept connection handed over while the worker is busy is answered by the master with Connection: close, and the next connection is the worker\'s', async () => {
  const b = await berth([]);
  const { kept, sleeper } = await handedAsBusy(b, 1);
  await kept.write(GET('/second'));
  const bodies = await kept.until(3); // returns at the close: only two bodies come
  assert.equal(bodies.length, 2, kept.text);
  assert.match(bodies[1]!, /^via=master .*path=\/second /);
  assert.match(heads(kept.text)[1]!, /\r\nConnection: close/i, 'the master\'s answer closes the connection');
  assert.equal(kept.closed, true, 'closed by the master after its answer');
  assert.match((await sleeper.until(1))[0]!, /^via=direct .*path=\/sleep /);
  const next = new Client(b.port);
  await next.write(GET('/third'));
  assert.match((await next.until(1))[0]!, /^via=direct .*path=\/third /, 'the reconnecting client is served by the worker');
  assert.deepEqual(serverEndHolders(b.port, next.socket), ['python3']);
  for (const c of [kept, sleeper, next]) c.end();
});

test('pipelined requests on a connection handed over as busy are all answered before it closes', async () => {
  const b = await berth([]);
  const { kept, sleeper } = await handedAsBusy(b, 0.5);
  await kept.write(GET('/p1') + GET('/p2') + GET('/p3'));
  const bodies = await kept.until(5);
  assert.equal(bodies.length, 4, kept.text);
  assert.deepEqual(bodies.slice(1).map((t) => /path=(\S+)/.exec(t)![1]), ['/p1', '/p2', '/p3']);
  const answers = heads(kept.text).slice(1);
  assert.deepEqual(answers.map((h) => /\r\nConnection: close/i.test(h)), [false, false, true], 'only the last answer closes');
  assert.equal(kept.closed, true);
  for (const c of [kept, sleeper]) c.end();
});

test('a connection handed over for a static file stays with the master: its answers keep it open', async () => {
  const b = await berth(['--static-map', `/fixtures=${APPS}`]);
  const c = new Client(b.port);
  await c.write(GET('/fixtures/http_direct_app.py'));
  await eventually(() => c.text, /Test app for http-direct/);
  await c.write(GET('/after'));
  assert.match((await c.until(1))[0]!, /^via=master .*path=\/after /);
  assert.equal(heads(c.text).filter((h) => /\r\nConnection: close/i.test(h)).length, 0, c.text);
  assert.equal(c.closed, false);
  assert.deepEqual(serverEndHolders(b.port, c.socket), ['node']);
  c.end();
});
