/**
 * A switch is exact on the direct path too: once the master logs "generation N serves", no
 * request sent afterwards is answered by a retiring worker — the old workers confirmed
 * (ACCEPT_STOPPED) that they take no connection on the shared listeners before the switch
 * reported the new generation. Whole and chain reloads, HTTP (http-direct) and uwsgi
 * (uwsgi-direct) listeners, under a tight loop of new connections.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';
import { waitUntil } from './ops-helpers.js';

/**
 * The app answers its version. Each worker also runs a thread that holds the GIL for 50 ms at a
 * time (a C call through ctypes.PyDLL, which keeps the GIL; it sleeps, so no CPU is burnt):
 * a retiring worker then takes a few hundred milliseconds to act on its stop, as on a loaded
 * machine, so a switch that does not wait for it lets it answer after the "serves" line.
 */
function writeApp(dir: string, version: number): void {
  writeFileSync(join(dir, 'switch_app.py'), [
    'import ctypes, os, threading, time',
    `VERSION = 'v${version}'`,
    '_holder = []',
    'def _hold_gil():',
    '    usleep = ctypes.PyDLL(None).usleep',
    '    while True:',
    '        usleep(50000)',
    '        time.sleep(0.001)',
    'def application(environ, start_response):',
    "    if environ['PATH_INFO'] == '/hold':  # runs until the test removes the file made here",
    "        flag = environ['QUERY_STRING']",
    "        open(flag, 'w').close()",
    '        while os.path.exists(flag):',
    '            time.sleep(0.02)',
    '    if _holder != [os.getpid()]:  # once per worker (a thread started before the fork would not be there)',
    '        _holder[:] = [os.getpid()]',
    '        threading.Thread(target=_hold_gil, daemon=True).start()',
    "    start_response('200 OK', [('Content-Type', 'text/plain')])",
    "    return [('%s pid %d' % (VERSION, os.getpid())).encode()]",
    '',
  ].join('\n'));
}

/** One HTTP request on a connection of its own (so each is accepted anew): the app's version. */
function versionOverHttp(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { Connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(text.split(' ')[0] ?? ''));
    });
    req.on('error', reject);
    req.end();
  });
}

const uwsgiPacket = (path: string, query = ''): Buffer => encodeUwsgiRequest([
  'REQUEST_METHOD', 'GET', 'REQUEST_URI', query === '' ? path : `${path}?${query}`, 'PATH_INFO', path, 'QUERY_STRING', query,
  'SERVER_PROTOCOL', 'HTTP/1.1', 'REMOTE_ADDR', '127.0.0.1', 'REMOTE_PORT', '5555', 'SERVER_NAME', 'site', 'SERVER_PORT', '80', 'HTTP_HOST', 'site',
]);
const UWSGI_PACKET = uwsgiPacket('/');

/** One uwsgi request on a connection of its own: the app's version (the worker closes after its answer). */
function versionOverUwsgi(port: number, packet = UWSGI_PACKET): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('connect', () => s.write(packet));
    s.on('data', (c: Buffer) => (out += c.toString('latin1')));
    s.on('close', () => resolve(out.slice(out.indexOf('\r\n\r\n') + 4).split(' ')[0] ?? ''));
    s.on('error', reject);
  });
}

/**
 * `loops` clients sending one request after another until stop(); each answer is kept with
 * whether it was sent after the switch to `expected` had been logged.
 */
interface TightLoad {
  /** Generation `version` (vN) was logged serving: a request sent from now on must not get an older one's answer. */
  sentAfter(version: number): void;
  /** Resolves once `n` more answers came. */
  answers(n: number): Promise<void>;
  stop(): Promise<{ late: string[]; count: number }>;
}

function tightLoad(versionOf: () => Promise<string>, loops: number): TightLoad {
  let running = true;
  let expected: number | null = null;
  let count = 0;
  const late: string[] = [];
  const waiters: { at: number; resolve: () => void }[] = [];
  const bursts: Promise<void>[] = [];
  const once = async (): Promise<void> => {
    const want = expected;
    const got = await versionOf();
    count++;
    // Newer is fine (the next reload may have begun); older is a retiring worker's answer.
    if (want !== null && Number(got.slice(1)) < want) late.push(`${got} answered a request sent after "v${want}" was logged serving`);
    for (const w of waiters.filter((x) => count >= x.at)) w.resolve();
  };
  const loop = async (): Promise<void> => {
    while (running) await once();
  };
  const all = Promise.all(Array.from({ length: loops }, loop));
  return {
    sentAfter: (version) => {
      expected = version;
      // The loops are mostly waiting for answers: a burst of new connections at once as well.
      bursts.push(...Array.from({ length: 2 * loops }, once));
    },
    answers: (n) => new Promise((resolve) => waiters.push({ at: count + n, resolve })),
    stop: async () => {
      running = false;
      await Promise.all([all, ...bursts]);
      return { late, count };
    },
  };
}

async function startSite(t: { after: (fn: () => unknown) => void }, listener: 'http' | 'uwsgi', extra: readonly string[]): Promise<{ berth: RunningBerth; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-switch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeApp(dir, 1);
  const listen = listener === 'http' ? ['--http', '127.0.0.1:0', '--http-direct=true'] : ['--socket', '127.0.0.1:0', '--uwsgi-direct=true'];
  const berth = await startBerth([...listen, '--chdir', dir, '--module', 'switch_app', '--python', debianPython(), ...extra],
    { env: { PYTHONDONTWRITEBYTECODE: '1' } });
  t.after(() => berth.stop());
  assert.match(berth.logs(), new RegExp(`the workers accept: ${listener}-direct`));
  return { berth, dir };
}

async function reloadsUnderLoad(t: { after: (fn: () => unknown) => void }, listener: 'http' | 'uwsgi', extra: readonly string[]): Promise<void> {
  const { berth, dir } = await startSite(t, listener, ['--processes', '2', '--threads', '2', ...extra]);
  const load = tightLoad(listener === 'http' ? () => versionOverHttp(berth.url('/')) : () => versionOverUwsgi(berth.port), 8);
  for (let i = 2; i <= 6; i++) {
    writeApp(dir, i);
    berth.proc.kill('SIGHUP');
    await berth.waitForLog(new RegExp(`generation ${i} serves`), 30_000);
    load.sentAfter(i);
    await load.answers(20);
  }
  const { late, count } = await load.stop();
  assert.ok(count > 0);
  assert.deepEqual(late, [], 'no request sent after the "serves" line is answered by a retiring generation');
  // The switches waited for the confirmations, not for their bound.
  assert.doesNotMatch(berth.logs(), /did not confirm/);
}

for (const listener of ['http', 'uwsgi'] as const) {
  test(`${listener}-direct, whole reload: after "generation N serves" no request is answered by the previous generation`, async (t) => {
    await reloadsUnderLoad(t, listener, []);
  });

  test(`${listener}-direct, chain reload: after "generation N serves" no request is answered by the previous generation`, async (t) => {
    await reloadsUnderLoad(t, listener, ['--chain-reload=true']);
  });
}

test('uwsgi-direct: a retiring worker whose accepting thread is in a request confirms only after it; the switch waits 2 s at most, says so, and goes on', async (t) => {
  const { berth, dir } = await startSite(t, 'uwsgi', ['--processes', '1']);
  const flag = join(dir, 'holding');
  const held = versionOverUwsgi(berth.port, uwsgiPacket('/hold', flag));
  await waitUntil(() => existsSync(flag), 'the app holds the request');
  writeApp(dir, 2);
  berth.proc.kill('SIGHUP');
  await berth.waitForLog(/generation 2 serves/, 30_000);
  assert.match(berth.logs(), /retiring worker 1 \(pid \d+\) of generation 1 did not confirm within 2 s that it stopped accepting on the direct listeners \(still in a request, or stuck\); the switch goes on/);
  rmSync(flag);
  assert.equal(await held, 'v1');
  assert.equal(await versionOverUwsgi(berth.port), 'v2');
});

test('http-direct: a retiring worker in a request does not hold the switch (no thread is between its stop check and an accept: it closes the listeners at once)', async (t) => {
  const { berth, dir } = await startSite(t, 'http', ['--processes', '1']);
  const flag = join(dir, 'holding');
  const held = versionOverHttp(berth.url(`/hold?${flag}`));
  await waitUntil(() => existsSync(flag), 'the app holds the request');
  writeApp(dir, 2);
  berth.proc.kill('SIGHUP');
  await berth.waitForLog(/generation 2 serves/, 30_000);
  assert.doesNotMatch(berth.logs(), /did not confirm/);
  assert.equal(await versionOverHttp(berth.url('/')), 'v2');
  rmSync(flag);
  assert.equal(await held, 'v1');
});
