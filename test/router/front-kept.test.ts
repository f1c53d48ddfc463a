// Hot static GETs the HTTP front answers itself still reach the real access log exactly as the
// static stage's answers do: one line per request, the same fields, the request counter moving
// even when disable-logging drops the line, and stats subscribers given a whole Exchange.
import test from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AccessLog } from '../../src/log/access-log.js';
import type { Config } from '../../src/config/schema.js';
import type { Exchange } from '../../src/server/exchange.js';
import { configFrom, request } from '../static/harness.js';
import { startFront } from './front-on-port.js';

function accessLogOf(c: Config): AccessLog {
  return new AccessLog({ format: c.logFormat, json: c.logJson, disableLogging: c.disableLogging, log4xx: c.log4xx, log5xx: c.log5xx, slowMs: c.logSlowMs });
}


/** `count` keep-alive GETs of `target` on one connection, one after another; resolves with each status line. */
function keptAliveGets(port: number, target: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const statuses: string[] = [];
    let pending = Buffer.alloc(0);
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: kept-test\r\n\r\n`));
    s.once('error', reject);
    s.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = pending.subarray(0, end).toString('latin1');
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        pending = pending.subarray(end + 4 + length);
        statuses.push(head.slice(0, head.indexOf('\r\n')));
        if (statuses.length === count) {
          s.destroy();
          resolve(statuses);
          return;
        }
        s.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: kept-test\r\n\r\n`);
      }
    });
  });
}

function staticDir(t: test.TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-front-kept-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'f.txt'), 'x'.repeat(1000));
  return dir;
}

const FORMAT = '%(method) %(uri) %(proto) %(status) %(rsize) %(addr) %(host) %(uagent) %(vars) %(pid) %(wid)';

test('with logging on, every hot answer is logged with the same fields as the first (full-stage) answer', async (t) => {
  const lines: string[] = [];
  const { port } = await startFront(t, configFrom(['--static-map', `/s=${staticDir(t)}`, '--log-format', FORMAT]), lines, accessLogOf);
  const statuses = await keptAliveGets(port, '/s/f.txt', 5);
  assert.deepEqual(statuses, Array(5).fill('HTTP/1.1 200 OK'));
  assert.equal(lines.length, 5, lines.join('\n'));
  assert.match(lines[0]!, /^GET \/s\/f\.txt HTTP\/1\.1 200 1000 127\.0\.0\.1 localhost kept-test \d+ 0 0$/);
  for (const line of lines) assert.equal(line, lines[0]);
});

test('uWSGI\'s default line counts each hot answer (req: 0/N)', async (t) => {
  const lines: string[] = [];
  const { port } = await startFront(t, configFrom(['--static-map', `/s=${staticDir(t)}`]), lines, accessLogOf);
  await keptAliveGets(port, '/s/f.txt', 4);
  assert.deepEqual(lines.map((l) => /\|req: (\d+\/\d+)\]/.exec(l)?.[1]), ['0/1', '0/2', '0/3', '0/4'], lines.join('\n'));
  for (const line of lines) assert.match(line, /GET \/s\/f\.txt => generated 1000 bytes .* \(HTTP\/1\.1 200\)/);
});

test('disable-logging drops hot 200s but still counts them, so the next logged line says how many came before', async (t) => {
  const lines: string[] = [];
  const { front, port } = await startFront(t, configFrom(['--static-map', `/s=${staticDir(t)}`, '--disable-logging']), lines, accessLogOf);
  await keptAliveGets(port, '/s/f.txt', 4);
  assert.deepEqual(lines, []);
  front.appDown();
  assert.equal((await request(port, '/app')).status, 503);
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /\|req: 0\/5\].*GET \/app .*\(HTTP\/1\.1 503\)/);
});

test('a stats subscriber is given a whole, finished Exchange for each hot answer', async (t) => {
  const seen: string[] = [];
  const onDone = (message: unknown): void => {
    const ex = message as Exchange;
    seen.push(`${ex.request.method} ${ex.request.target} ${ex.status} ${ex.bytesSent} ${ex.finished} ${ex.request.headers.includes('kept-test')}`);
  };
  diagnostics.subscribe('berth:request-done', onDone);
  t.after(() => diagnostics.unsubscribe('berth:request-done', onDone));
  const lines: string[] = [];
  const { port } = await startFront(t, configFrom(['--static-map', `/s=${staticDir(t)}`, '--disable-logging']), lines, accessLogOf);
  await keptAliveGets(port, '/s/f.txt', 3);
  assert.deepEqual(seen, Array(3).fill('GET /s/f.txt 200 1000 true true'));
  assert.deepEqual(lines, []);
});
