/** The stats reader against real servers on port 0: uWSGI-style plain, stats-http style, and an HTTP server that waits for a request. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchStatsDocument, httpBody, parseStatsAddress } from '../../src/stats/stats-client.js';
import { freePort } from '../helpers/nginx.js';

const DOC = { version: '2.0.21', workers: [{ id: 1, pid: 42 }] };

function listen(server: Server | ReturnType<typeof createHttpServer>, where: number | string): Promise<number> {
  return new Promise((resolve) => {
    const done = (): void => {
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : 0);
    };
    if (typeof where === 'string') server.listen(where, done);
    else server.listen(where, '127.0.0.1', done);
  });
}

test('parseStatsAddress: the forms the stats option takes', () => {
  assert.deepEqual(parseStatsAddress(':9191'), { kind: 'tcp', host: '127.0.0.1', port: 9191, http: false, path: '/', text: ':9191' });
  assert.equal(parseStatsAddress('[::1]:9191')?.kind, 'tcp');
  assert.equal((parseStatsAddress('[::1]:9191') as { host: string }).host, '::1');
  assert.deepEqual(parseStatsAddress('/run/stats.sock'), { kind: 'unix', path: '/run/stats.sock', http: false, text: '/run/stats.sock' });
  assert.equal(parseStatsAddress('http://127.0.0.1:9191/')?.http, true);
  assert.equal(parseStatsAddress('9191'), null);
  assert.equal(parseStatsAddress('host:99999'), null);
});

test('a plain stats server (writes on accept, closes): TCP and unix', async (t) => {
  const server = createServer((s) => s.end(JSON.stringify(DOC, null, '\t')));
  t.after(() => server.close());
  const port = await listen(server, 0);
  assert.deepEqual(await fetchStatsDocument(parseStatsAddress(`127.0.0.1:${port}`)!, { timeoutMs: 5000 }), DOC);
  const dir = mkdtempSync(join(tmpdir(), 'berth-stats-'));
  const unix = createServer((s) => s.end(JSON.stringify(DOC)));
  t.after(() => {
    unix.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await listen(unix, join(dir, 'stats.sock'));
  assert.deepEqual(await fetchStatsDocument(parseStatsAddress(join(dir, 'stats.sock'))!, { timeoutMs: 5000 }), DOC);
});

test("uWSGI's stats-http style: an HTTP head written on accept, without a request", async (t) => {
  const server = createServer((s) => s.end(`HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(DOC)}`));
  t.after(() => server.close());
  const port = await listen(server, 0);
  assert.deepEqual(await fetchStatsDocument(parseStatsAddress(`127.0.0.1:${port}`)!, { timeoutMs: 5000 }), DOC);
});

test('an HTTP server that waits for a request gets GET / (chunked answers included)', async (t) => {
  const paths: string[] = [];
  const server = createHttpServer((req, res) => {
    paths.push(req.url ?? '');
    res.setHeader('Content-Type', 'application/json');
    res.write(JSON.stringify(DOC).slice(0, 5));
    res.end(JSON.stringify(DOC).slice(5));
  });
  t.after(() => server.close());
  const port = await listen(server, 0);
  assert.deepEqual(await fetchStatsDocument(parseStatsAddress(`127.0.0.1:${port}`)!, { timeoutMs: 5000, probeMs: 50 }), DOC);
  assert.deepEqual(await fetchStatsDocument(parseStatsAddress(`http://127.0.0.1:${port}/`)!, { timeoutMs: 5000 }), DOC);
  assert.deepEqual(paths, ['/', '/']);
});

test('failures say what is wrong: refused, not JSON, not 200, silent', async (t) => {
  const free = await freePort();
  await assert.rejects(fetchStatsDocument(parseStatsAddress(`127.0.0.1:${free}`)!, { timeoutMs: 5000 }), /cannot read stats from 127\.0\.0\.1:\d+: connection refused/);
  const junk = createServer((s) => s.end('hello'));
  const silent = createServer(() => undefined);
  t.after(() => {
    junk.close();
    silent.close();
  });
  const junkPort = await listen(junk, 0);
  await assert.rejects(fetchStatsDocument(parseStatsAddress(`127.0.0.1:${junkPort}`)!, { timeoutMs: 5000 }), /did not answer with stats: not a JSON document/);
  assert.throws(() => httpBody(Buffer.from('HTTP/1.1 404 Not Found\r\n\r\n')), /HTTP 404/);
  const silentPort = await listen(silent, 0);
  // It gets a GET after the probe, ignores it, and the deadline ends the wait.
  await assert.rejects(fetchStatsDocument(parseStatsAddress(`127.0.0.1:${silentPort}`)!, { timeoutMs: 300, probeMs: 50 }), /no complete answer within 300 ms/);
});
