/** renderTop: a stats document in, the lines of berth top's screen out — no terminal involved. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, renderTop, type Frame, type Sample } from '../../../src/stats/top/render.js';
import { readStatsView } from '../../../src/stats/view-document.js';

function worker(id: number, pid: number, requests: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, pid, requests, status: 'idle', exceptions: 0, harakiri_count: 0, rss: 0, vsz: 0, respawn_count: 1, tx: 0, avg_rt: 0, ...extra };
}

function doc(workers: Record<string, unknown>[], extra: Record<string, unknown> = {}): Sample['view'] {
  return readStatsView({ version: '2.0.21', pid: 100, listen_queue: 3, listen_queue_errors: 1, load: 2, sockets: [{ name: '127.0.0.1:8000', proto: 'http', queue: 3, max_queue: 100 }], workers, ...extra });
}

function frame(current: Sample | null, previous: Sample | null, over: Partial<Frame> = {}): Frame {
  return { address: '127.0.0.1:9191', current, previous, problem: null, now: new Date(0), width: 80, height: 24, refreshMs: 1000, ...over };
}

test('one row per worker with pid, status, requests, avg ms, RSS, respawns, harakiri count', () => {
  const view = doc([worker(1, 4001, 10, { avg_rt: 2500, rss: 50 * 1024 * 1024, harakiri_count: 2, respawn_count: 3 }), worker(2, 4002, 5, { status: 'busy' })]);
  const { lines, titleRow } = renderTop(frame({ view, atMs: 0 }, null));
  assert.match(lines[titleRow]!, /^WID +PID STATUS +REQ +REQ\/S +AVG ms +RSS +RESP HARA +EXC +TX$/);
  assert.match(lines[titleRow + 1]!, /^ +1 +4001 idle +10 +- +2\.5 +50M +3 +2 +0 +0$/);
  assert.match(lines[titleRow + 2]!, /^ +2 +4002 busy +5 +- +0\.0 +- +1 +0 +0 +0$/);
  assert.match(lines.join('\n'), /workers 2 \(1 busy\)/);
  assert.match(lines.join('\n'), /queue 3\/100 \(1 overflowed\)/);
});

test('req/s comes from the change in requests between two reads; a respawned worker shows -', () => {
  const before = { view: doc([worker(1, 4001, 10), worker(2, 4002, 7)]), atMs: 1000 };
  const now = { view: doc([worker(1, 4001, 30), worker(2, 4999, 1)]), atMs: 3000 };
  const { lines, titleRow } = renderTop(frame(now, before));
  assert.match(lines[titleRow + 1]!, /^ +1 +4001 idle +30 +10\.0 /);
  assert.match(lines[titleRow + 2]!, /^ +2 +4999 idle +1 +- /);
  assert.match(lines.find((l) => l.startsWith('all'))!, /^all +31 +10\.0 /);
});

test('every line fits 79 columns, even with long values', () => {
  const view = doc([worker(12345, 4194304, 123456789012, { status: 'sig-handling', rss: 2 ** 40, tx: 2 ** 50, avg_rt: 1e12 })], { version: 'x'.repeat(200) });
  for (const line of renderTop(frame({ view, atMs: 0 }, null)).lines) assert.ok(line.length <= 79, `${line.length}: ${line}`);
});

test('workers that do not fit the height are counted, not cut silently', () => {
  const view = doc(Array.from({ length: 40 }, (_, i) => worker(i + 1, 5000 + i, 0)));
  const { lines } = renderTop(frame({ view, atMs: 0 }, null));
  assert.ok(lines.length <= 24);
  assert.match(lines.join('\n'), /… and \d+ more workers/);
});

test("Berth's extra key adds generation, reloads, python and uptime; uWSGI's document has none", () => {
  const berth = { generation: 3, reloads: 2, started_at: -125, python: '3.11.2', recent_errors: [{ time: 0, worker: 1, method: 'GET', uri: '/x', status: 500, traceback: 'T' }] };
  const text = renderTop(frame({ view: doc([worker(1, 1, 0)], { berth }), atMs: 0 }, null)).lines.join('\n');
  assert.match(text, /generation 3 {2}reloads 2 {2}python 3\.11\.2 {2}up 2m 5s {2}recent errors 1/);
  const plain = renderTop(frame({ view: doc([worker(1, 1, 0)]), atMs: 0 }, null)).lines.join('\n');
  assert.doesNotMatch(plain, /generation/);
});

test('no document yet: the problem and that it retries', () => {
  const { lines, titleRow } = renderTop(frame(null, null, { problem: 'cannot read stats from 127.0.0.1:9191: connection refused' }));
  assert.equal(titleRow, -1);
  assert.match(lines.join('\n'), /connection refused[\s\S]*retrying every 1 s/);
});

test('a read that fails after a good one keeps the last numbers and says so', () => {
  const view = doc([worker(1, 4001, 10)]);
  const text = renderTop(frame({ view, atMs: 0 }, null, { problem: 'timed out' })).lines.join('\n');
  assert.match(text, /! timed out \(showing the last good read; retrying\)/);
  assert.match(text, /4001/);
});

test('readStatsView refuses what is not a stats document, and tolerates odd values', () => {
  assert.throws(() => readStatsView({ hello: 1 }), /no "workers" array/);
  assert.throws(() => readStatsView([]), /no "workers" array/);
  const view = readStatsView({ workers: [{ id: 1, pid: 'x', requests: null }, 7] });
  assert.equal(view.workers.length, 1);
  assert.equal(view.workers[0]!.pid, 0);
  assert.equal(formatBytes(1536), '1.5K');
  assert.equal(formatBytes(512), '512');
});
