/**
 * The front in memory, on a loopback port 0, with no worker at all: what it serves changes
 * only at commit(). appDown() makes whatever falls through to the app visible (503 at once).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Front, type AccessLogger } from '../../src/router/front.js';
import { WorkerPool } from '../../src/worker/pool.js';
import type { Config } from '../../src/config/schema.js';
import type { WorkerHandle } from '../../src/worker/handle.js';
import type { DirectRecord } from '../../src/protocol/worker/payloads.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';
import { configFrom, request } from '../static/harness.js';
import { startFront } from './front-on-port.js';
import { NO_STAGES } from '../../src/router/stage-modules.js';

function startTestFront(t: test.TestContext, config: Config, lines: string[]): ReturnType<typeof startFront> {
  const accessLog = (c: Config): AccessLogger => ({
    keep: () => true,
    keepAnswer: () => true,
    render: (ex) => `${c.staticMaps.map((m) => m.mountpoint).join(',')} ${ex.request.target} ${ex.status}`,
  });
  return startFront(t, config, lines, accessLog);
}

test('static mappings and access-log settings change at commit() and only there', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-front-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const name of ['old', 'new']) {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, 'f.txt'), `${name} file`);
  }
  const first = configFrom(['--static-map', `/old=${path.join(dir, 'old')}`]);
  const second = configFrom(['--static-map', `/new=${path.join(dir, 'new')}`]);
  const lines: string[] = [];
  const { front, port } = await startTestFront(t, first, lines);
  front.appDown();

  assert.equal((await request(port, '/old/f.txt')).body.toString(), 'old file');
  assert.equal((await request(port, '/new/f.txt')).status, 503, 'not mapped: falls through to the app');
  assert.equal(front.serving.config, first);

  await front.prepare(second);
  front.commit({ config: second, django: null });
  assert.equal(front.serving.config, second);
  front.appDown(); // a commit ends app-down (next test); again here so a fall-through is answered at once
  const fell = await request(port, '/old/f.txt');
  assert.equal(fell.status, 503, 'the old mapping is gone: the path falls through to the app');
  assert.equal((await request(port, '/new/f.txt')).body.toString(), 'new file');
  assert.ok(lines.some((l) => l.startsWith('/old /old/f.txt 200')), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('/new /new/f.txt 200')), 'the access log of the committed config writes the lines after commit');
});

test('a commit ends app-down: fall-through requests wait for a worker again instead of 503', async (t) => {
  const config = configFrom(['--listen', '4']);
  const { front, port } = await startTestFront(t, config, []);
  front.appDown();
  assert.equal((await request(port, '/x')).status, 503);
  front.commit({ config, django: null });
  const pending = request(port, '/y');
  // No worker exists, so the request waits in the dispatcher's queue (or is answered at once, which fails below).
  let answered = false;
  void pending.then(() => (answered = true));
  while (front.dispatcher.queued === 0 && !answered) await new Promise((r) => setTimeout(r, 10));
  assert.equal(front.dispatcher.queued, 1, 'queued for a worker, not refused');
  front.failAll(503, 'Service Unavailable: test over');
  assert.equal((await pending).status, 503);
});

test('a watch that ends itself mid-report (a probation verdict) stops there, and the records are still logged', (t) => {
  const lines: string[] = [];
  const accessLog = (): AccessLogger => ({ keep: () => true, keepAnswer: () => true, render: (ex) => `${ex.request.target} ${ex.status}` });
  const front = new Front({ config: configFrom([]), pool: new WorkerPool(), accessLog, line: (text) => lines.push(text), log: () => undefined, stages: NO_STAGES });
  t.after(() => front.closeListeners());
  const seen: number[] = [];
  front.watchAnswers((_generation, status) => {
    seen.push(status);
    front.watchAnswers(null); // what Standby does once Probation has its verdict
  });
  const record = (status: number): DirectRecord => ({
    status, bytesSent: 2, micros: 100, endWallMs: Date.now(), modifier1: 0,
    // The vars block alone: encodeUwsgiRequest's 4-byte header stripped.
    vars: encodeUwsgiRequest(['REQUEST_METHOD', 'GET', 'REQUEST_URI', `/r${status}`, 'PATH_INFO', `/r${status}`, 'SERVER_PROTOCOL', 'HTTP/1.1']).subarray(4),
  });
  const worker = { generation: 2, slot: 1, pid: 4242, requestsServed: 3 } as unknown as WorkerHandle;
  front.directReport(worker, { served: 3, running: [], records: [record(500), record(200), record(503)] });
  assert.deepEqual(seen, [500], 'the watch heard the first answer only');
  assert.deepEqual(lines, ['/r500 500', '/r200 200', '/r503 503']);
});
