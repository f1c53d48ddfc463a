/**
 * The stats document against real uWSGI: the same app, processes and threads, both read with
 * the same client; every key uWSGI emits must be in Berth's with the same JSON type, recursively.
 * Then Berth's counters must move with the requests sent, uwsgi-direct ones included.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { connect } from 'node:net';
import { APPS, startBerth, type RunningBerth } from '../helpers/berth.js';
import { berthPort, freePort } from '../helpers/nginx.js';
import { readStatsDocument } from '../../src/stats/stats-client.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';
import type { Json } from '../../src/stats/document.js';

const APP = join(APPS, 'stats_app.py');
const stops: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const s of stops) await s();
});

type Shape = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';
function shapeOf(v: Json): Shape {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v as Shape;
}

/** Every key of `ref` present in `got` with the same shape; arrays element by element (the last of `got` stands in for extra ones). */
export function compareShape(ref: Json, got: Json, path: string, out: string[]): void {
  const a = shapeOf(ref);
  const b = shapeOf(got);
  if (a !== b) {
    out.push(`${path}: uWSGI has ${a}, Berth ${b}`);
    return;
  }
  if (Array.isArray(ref) && Array.isArray(got)) {
    if (ref.length > 0 && got.length === 0) out.push(`${path}: uWSGI has ${ref.length} element(s), Berth none`);
    ref.forEach((r, i) => {
      if (got.length > 0) compareShape(r, got[Math.min(i, got.length - 1)]!, `${path}[${i}]`, out);
    });
    return;
  }
  if (a === 'object') {
    const r = ref as { [k: string]: Json };
    const g = got as { [k: string]: Json };
    for (const key of Object.keys(r)) {
      if (!(key in g)) out.push(`${path}.${key}: missing in Berth`);
      else compareShape(r[key]!, g[key]!, `${path}.${key}`, out);
    }
  }
}

function numbersAreIntegers(v: Json, path: string, out: string[]): void {
  if (typeof v === 'number' && !Number.isInteger(v)) out.push(`${path} = ${v}`);
  else if (Array.isArray(v)) v.forEach((x, i) => numbersAreIntegers(x, `${path}[${i}]`, out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) numbersAreIntegers(x, `${path}.${k}`, out);
}

function startUwsgi(args: readonly string[]): Promise<ChildProcess> {
  const proc = spawn('uwsgi', ['--plugin', 'python3', '--master', '--die-on-term', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  stops.push(() => new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  }));
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      if (/spawned uWSGI worker 2/.test(log)) {
        clearInterval(check);
        resolve(proc);
      }
    }, 50);
    proc.once('exit', (code) => {
      clearInterval(check);
      reject(new Error(`uwsgi exited (${code}) before it was ready:\n${log}`));
    });
  });
}

async function get(port: number, path: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  await res.arrayBuffer();
  return res.status;
}

function uwsgiGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const [p, q = ''] = path.split('?') as [string, string?];
    s.on('connect', () => s.write(encodeUwsgiRequest(['REQUEST_METHOD', 'GET', 'REQUEST_URI', path, 'PATH_INFO', p, 'QUERY_STRING', q, 'SERVER_PROTOCOL', 'HTTP/1.1', 'REMOTE_ADDR', '127.0.0.1', 'REMOTE_PORT', '5555', 'SERVER_NAME', 'site', 'SERVER_PORT', '80', 'HTTP_HOST', 'site'])));
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

async function berthWithStats(extra: readonly string[] = []): Promise<{ b: RunningBerth; stats: string }> {
  const b = await startBerth(['--http-socket', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--wsgi-file', APP, '--processes', '2', '--threads', '2', '--stats', '127.0.0.1:0', ...extra]);
  stops.push(() => b.stop());
  const stats = /stats \S.*? on (127\.0\.0\.1:\d+)/.exec(b.logs())?.[1];
  assert.ok(stats !== undefined, `no stats address in the log:\n${b.logs()}`);
  return { b, stats };
}

test('every key and type of real uWSGI\'s stats document is in Berth\'s (same app, 2 processes × 2 threads, an http-socket and a uwsgi socket)', async () => {
  const [httpPort, uwsgiPort, statsPort] = [await freePort(), await freePort(), await freePort()];
  await startUwsgi(['--http-socket', `127.0.0.1:${httpPort}`, '--socket', `127.0.0.1:${uwsgiPort}`, '--wsgi-file', APP, '--processes', '2', '--threads', '2', '--stats', `127.0.0.1:${statsPort}`]);
  const { b, stats } = await berthWithStats();
  for (let i = 0; i < 3; i++) {
    assert.equal(await get(httpPort, '/'), 200);
    assert.equal(await get(b.port, '/'), 200);
  }
  const reference = await readStatsDocument(`127.0.0.1:${statsPort}`, { timeoutMs: 5000 });
  const ours = await readStatsDocument(stats, { timeoutMs: 5000 });
  assert.match(String(reference['version']), /^2\.0/, 'the reference is uWSGI 2.0');
  const refCores = ((reference['workers'] as { cores: { vars: unknown[] }[] }[])[0]!).cores;
  assert.ok(refCores.length === 2 && Array.isArray(refCores[0]!.vars), 'the reference has cores with vars to compare');
  const differences: string[] = [];
  compareShape(reference, ours, '$', differences);
  assert.deepEqual(differences, []);
  const floats: string[] = [];
  numbersAreIntegers(ours, '$', floats);
  assert.deepEqual(floats, [], 'integers only: uwsgi_exporter fails a scrape on a float');
  const workers = ours['workers'] as { id: number }[];
  assert.deepEqual(workers.map((w) => w.id), [1, 2], 'worker ids 1..N, unique');
  const sockets = ours['sockets'] as { name: string; proto: string }[];
  assert.deepEqual(sockets.map((s) => s.proto).sort(), ['http', 'uwsgi'], 'both listeners are listed, the one the workers accept on too');
});

for (const httpDirect of [false, true]) test(`counters move with the requests served, those the workers serve themselves on the uwsgi socket (uwsgi-direct) included; http-direct = ${httpDirect}`, async () => {
  // direct_requests counts every request a worker served itself: the 4 uwsgi-direct ones, and
  // with http-direct the 5 HTTP ones too (once each; the stats probes are not requests).
  const { b, stats } = await berthWithStats([`--http-direct=${httpDirect}`]);
  const uwsgiPort = berthPort(b, 'uwsgi');
  const sum = async (): Promise<{ requests: number; direct: number; classes: Record<string, number> }> => {
    const doc = await readStatsDocument(stats, { timeoutMs: 5000 });
    const workers = doc['workers'] as { requests: number }[];
    const berth = doc['berth'] as { direct_requests: number; status_classes: Record<string, number> };
    return { requests: workers.reduce((n, w) => n + w.requests, 0), direct: berth.direct_requests, classes: berth.status_classes };
  };
  const before = await sum();
  assert.equal(before.requests, 0);
  for (let i = 0; i < 5; i++) assert.equal(await get(b.port, '/'), 200);
  for (let i = 0; i < 4; i++) assert.match(await uwsgiGet(uwsgiPort, '/'), /^HTTP\/1\.1 200/);
  // The workers report what they served on the uwsgi socket once a second (DIRECT frames).
  let now = await sum();
  for (let tries = 0; now.requests < 9 && tries < 100; tries++) {
    await new Promise((r) => setTimeout(r, 100));
    now = await sum();
  }
  assert.equal(now.requests, 9, httpDirect ? '5 http-direct + 4 uwsgi-direct' : '5 through the master + 4 uwsgi-direct');
  assert.equal(now.direct, httpDirect ? 9 : 4);
  assert.equal(now.classes['2xx'], 9);
});

test('a request running on the uwsgi socket (uwsgi-direct) shows in its worker\'s cores once the worker reports it', async () => {
  const { b, stats } = await berthWithStats();
  const uwsgiPort = berthPort(b, 'uwsgi');
  const held = uwsgiGet(uwsgiPort, '/sleep?s=3');
  let vars: string[] = [];
  for (let tries = 0; tries < 50 && vars.length === 0; tries++) {
    const doc = await readStatsDocument(stats, { timeoutMs: 5000 });
    const cores = (doc['workers'] as { cores: { in_request: number; vars: string[] }[] }[]).flatMap((w) => w.cores);
    vars = cores.find((c) => c.in_request === 1)?.vars ?? [];
    if (vars.length === 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(vars, ['REQUEST_METHOD=GET', 'REQUEST_URI=/sleep?s=3']);
  assert.match(await held, /^HTTP\/1\.1 200/);
});
