/**
 * Active checks against real servers: node:http backends on free ports flipped between healthy
 * and failing, a closed port, a connect-only check, a backend that never answers, and a real
 * Berth app probed over the uwsgi protocol.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { HealthBoard, type HealthChange } from '../../../src/proxy/health/health-board.js';
import { HEALTH_DEFAULTS, type HealthSpec } from '../../../src/config/health-spec.js';
import { startActiveChecks } from '../../../src/proxy/health/active-checks.js';
import { probeBackend, probeTarget, type ProbeTarget } from '../../../src/proxy/health/probes.js';
import { APPS, debianPython, startBerth } from '../../helpers/berth.js';

// Checks every 40 ms; a timeout long enough that a loaded machine never turns an answer into one
// (only the silent server below is meant to time out, with its own 30 ms).
const FAST: HealthSpec = { mode: 'request', path: '/health/', ...HEALTH_DEFAULTS, intervalMs: 40, timeoutMs: 2000, rise: 2, fall: 2 };

async function flippable(): Promise<{ server: Server; target: ProbeTarget; setStatus(s: number): void; paths: string[] }> {
  let status = 200;
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end('x');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, target: probeTarget(`http://127.0.0.1:${port}`)!, setStatus: (s) => { status = s; }, paths };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

/** Waits for the change `to` of backend `index`, which only the running checks can make. */
function changeTo(changes: HealthChange[], waiters: Array<() => void>, index: number, to: string): Promise<HealthChange> {
  return new Promise((resolve) => {
    const look = (): boolean => {
      const c = changes.find((x) => x.index === index && x.to === to);
      if (c !== undefined) resolve(c);
      return c !== undefined;
    };
    if (!look()) waiters.push(() => void look());
  });
}

test('probeTarget reads backend URLs', () => {
  assert.deepEqual(probeTarget('http://10.0.0.5:9001'), { protocol: 'http', host: '10.0.0.5', port: 9001, path: '' });
  assert.deepEqual(probeTarget('uwsgi://[::1]:3031'), { protocol: 'uwsgi', host: '::1', port: 3031, path: '' });
  assert.deepEqual(probeTarget('uwsgi:///run/app.sock'), { protocol: 'uwsgi', host: '', port: 0, path: '/run/app.sock' });
  assert.equal(probeTarget('ftp://x:1'), null);
  assert.equal(probeTarget('http://x:99999'), null);
});

test('a backend flipped failing goes down after fall checks and comes back after rise', async () => {
  const a = await flippable();
  const b = await flippable();
  const board = new HealthBoard(FAST, 2);
  const changes: HealthChange[] = [];
  const waiters: Array<() => void> = [];
  const checks = startActiveChecks(board, [a.target, b.target], { onChange: (c) => { changes.push(c); for (const w of waiters.splice(0)) w(); } });
  try {
    assert.equal(board.isTrusted(0), false, 'untrusted before the first check ends');
    await changeTo(changes, waiters, 0, 'up');
    await changeTo(changes, waiters, 1, 'up');
    assert.ok(a.paths.every((p) => p === '/health/'));
    b.setStatus(503);
    assert.equal((await changeTo(changes, waiters, 1, 'down')).detail, 'status 503');
    assert.equal(board.isTrusted(1), false);
    assert.equal(board.isTrusted(0), true);
    b.setStatus(200);
    changes.length = 0;
    await changeTo(changes, waiters, 1, 'up');
    assert.equal(board.isTrusted(1), true);
  } finally {
    checks.stop();
    await close(a.server);
    await close(b.server);
  }
});

test('a backend not yet listening stays untrusted, and is trusted once it answers', async () => {
  const holder = createTcpServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  const { port } = holder.address() as AddressInfo;
  await new Promise((r) => holder.close(r));
  const refused = await probeBackend(probeTarget(`http://127.0.0.1:${port}`)!, FAST);
  assert.deepEqual(refused, { ok: false, detail: 'connect ECONNREFUSED' });
  const board = new HealthBoard(FAST, 1);
  const changes: HealthChange[] = [];
  const waiters: Array<() => void> = [];
  let probes = 0;
  const checks = startActiveChecks(board, [probeTarget(`http://127.0.0.1:${port}`)!], {
    onChange: (c) => { changes.push(c); for (const w of waiters.splice(0)) w(); },
    probe: async (t, s) => {
      const r = await probeBackend(t, s);
      if (++probes === 3) late.listen(port, '127.0.0.1');
      return r;
    },
  });
  const late = createServer((_req, res) => res.end('ok'));
  try {
    await changeTo(changes, waiters, 0, 'up');
    assert.ok(probes >= 4, 'it failed while nothing listened, and passed after');
    assert.equal(board.isTrusted(0), true);
  } finally {
    checks.stop();
    await close(late);
  }
});

test('status range, timeouts and connect-only checks', async () => {
  const a = await flippable();
  try {
    a.setStatus(404);
    assert.deepEqual(await probeBackend(a.target, FAST), { ok: false, detail: 'status 404' });
    assert.deepEqual(await probeBackend(a.target, { ...FAST, statusMin: 200, statusMax: 404 }), { ok: true, detail: 'status 404' });
    assert.deepEqual(await probeBackend(a.target, { ...FAST, mode: 'connect', path: '' }), { ok: true, detail: 'connected' });
  } finally {
    await close(a.server);
  }
  const silent = createTcpServer((s) => s.on('error', () => undefined).resume());
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const { port } = silent.address() as AddressInfo;
  try {
    assert.deepEqual(await probeBackend(probeTarget(`http://127.0.0.1:${port}`)!, { ...FAST, timeoutMs: 30 }), { ok: false, detail: 'timeout after 30ms' });
  } finally {
    await new Promise((r) => silent.close(r));
  }
});

test('a uwsgi backend (a real Berth socket) is checked over the uwsgi protocol', async () => {
  const berth = await startBerth(['--socket', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--python', debianPython(), '--processes', '1']);
  try {
    const target = probeTarget(`uwsgi://127.0.0.1:${berth.port}`)!;
    const spec: HealthSpec = { ...FAST, timeoutMs: 5000, intervalMs: 5000 };
    assert.deepEqual(await probeBackend(target, { ...spec, path: '/pid' }), { ok: true, detail: 'status 200' });
    assert.deepEqual(await probeBackend(target, { ...spec, path: '/no-such-page' }), { ok: false, detail: 'status 404' });
  } finally {
    await berth.stop();
  }
});
