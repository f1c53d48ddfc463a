/**
 * reload-on-rss holds with a worker that leaks 5 MB per request: the worker checks its RSS
 * after every request, so its peak stays within 125 % of the limit on both serving paths
 * (framed through the master's HTTP port, uwsgi-direct on a uwsgi socket the worker accepts on).
 * Before, only the master's once-a-second watchdog looked, and a worker reached ~10 × the limit.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { APPS, debianPython, startBerth } from '../helpers/berth.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';
import { peakRssMb } from '../../bench/lib/tree-memory.js';
import { alive, pidOf, waitUntil } from './ops-helpers.js';

const LIMIT_MB = 100;
const LEAK_MB = 5;
/** 300 MB of leaks in all: well past the limit, and past 1.25 × it without a recycle. */
const REQUESTS = 60;

function uwsgiGet(port: number, path: string): Promise<string> {
  const [p, q = ''] = path.split('?') as [string, string?];
  const packet = encodeUwsgiRequest([
    'REQUEST_METHOD', 'GET', 'REQUEST_URI', path, 'PATH_INFO', p, 'QUERY_STRING', q, 'SERVER_PROTOCOL', 'HTTP/1.1',
    'REMOTE_ADDR', '127.0.0.1', 'REMOTE_PORT', '5555', 'SERVER_NAME', 'site', 'SERVER_PORT', '80', 'HTTP_HOST', 'site',
  ]);
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.setTimeout(30_000, () => s.destroy(new Error(`no answer to ${path} within 30 s`)));
    s.on('connect', () => s.write(packet));
    s.on('data', (c: Buffer) => (out += c.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

async function httpGet(port: number, path: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return `HTTP/1.1 ${r.status}\r\n\r\n${await r.text()}`;
}

for (const path of ['framed', 'uwsgi-direct'] as const) {
  test(`${path}: reload-on-rss = ${LIMIT_MB} keeps a worker leaking ${LEAK_MB} MB per request under ${1.25 * LIMIT_MB} MB`, async (t) => {
    const listen = path === 'framed' ? ['--http', '127.0.0.1:0'] : ['--socket', '127.0.0.1:0'];
    const berth = await startBerth([...listen, '--chdir', APPS, '--module', 'ops', '--python', debianPython(), '--processes', '1',
      '--reload-on-rss', String(LIMIT_MB), '--min-worker-lifetime', '0']);
    t.after(() => berth.stop());
    const request = path === 'framed' ? httpGet : uwsgiGet;
    const peaks = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const answer = await request(berth.port, `/leak?mb=${LEAK_MB}`);
      assert.match(answer, /^HTTP\/1\.1 200/, `request ${i + 1}: ${answer.slice(0, 200)}`);
      const pid = pidOf(answer);
      const peak = peakRssMb(pid);
      if (peak !== null) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, peak));
    }
    const worst = Math.max(...peaks.values());
    assert.ok(worst <= 1.25 * LIMIT_MB, `peak RSS ${worst.toFixed(1)} MB stayed within 125 % of reload-on-rss = ${LIMIT_MB} MB (per pid: ${[...peaks].map(([p, mb]) => `${p}: ${mb.toFixed(0)} MB`).join(', ')})`);
    const replaced = [...peaks.keys()];
    assert.ok(replaced.length >= 2, `the leaking worker was replaced (pids that answered: ${replaced.join(', ')})`);
    // What the workers reported when they asked to be replaced agrees.
    for (const m of berth.logs().matchAll(/recycling worker 1 \(pid \d+\): RSS (\d+(?:\.\d+)?) MB over reload-on-rss/g)) {
      assert.ok(Number(m[1]) <= 1.25 * LIMIT_MB, `reported RSS ${m[1]} MB`);
    }
    await waitUntil(() => replaced.slice(0, -1).every((pid) => !alive(pid)), 'the replaced workers exited');
  });
}
