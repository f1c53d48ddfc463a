/**
 * log-json: every line parses as JSON with the fixed keys, and hostile request bytes (quotes,
 * backslashes, newlines, control bytes, invalid UTF-8) can neither break a line nor forge one.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { AccessLog } from '../../src/log/access-log.js';
import { httpExchange, uwsgiExchange, earlyErrorExchange } from './fake-exchange.js';
import type { Exchange } from '../../src/server/exchange.js';

const WALL = Date.UTC(2026, 10, 21, 21, 40, 0, 123);
const KEYS = ['time', 'addr', 'method', 'uri', 'proto', 'scheme', 'status', 'size', 'msecs', 'micros', 'pid', 'wid', 'uagent', 'referer', 'host'];

function jsonOf(ex: Exchange, pid = 4242, endMono = 1002.5, wall = WALL): Record<string, unknown> {
  const log = new AccessLog({ format: null, json: true, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 });
  const line = log.line(ex, pid, 1, endMono, wall)!;
  assert.ok(!line.includes('\n'), 'one line');
  return JSON.parse(line) as Record<string, unknown>;
}

test('a request becomes one object with the fixed keys, in order', () => {
  const ex = httpExchange(
    { method: 'PUT', target: '/items/7?v=2', headers: ['Host', 'api.example', 'User-Agent', 'curl/8.5.0', 'Referer', 'https://a.example/'], remoteAddress: '203.0.113.9' },
    { status: 201, bytesSent: 42, workerId: 3, startedAt: 1000 },
  );
  const o = jsonOf(ex);
  assert.deepEqual(Object.keys(o), KEYS);
  assert.deepEqual(o, {
    time: '2026-11-21T21:40:00.120Z',
    addr: '203.0.113.9',
    method: 'PUT',
    uri: '/items/7?v=2',
    proto: 'HTTP/1.1',
    scheme: 'http',
    status: 201,
    size: 42,
    msecs: 2,
    micros: 2500,
    pid: 4242,
    wid: 3,
    uagent: 'curl/8.5.0',
    referer: 'https://a.example/',
    host: 'api.example',
  });
});

test('time is the request start in UTC with milliseconds', () => {
  const ex = httpExchange({}, { startedAt: 1000 });
  assert.equal(jsonOf(ex, 1, 1000, Date.UTC(2026, 0, 2, 3, 4, 5, 6)).time, '2026-01-02T03:04:05.006Z');
  assert.equal(jsonOf(ex, 1, 1250, Date.UTC(2026, 0, 2, 3, 4, 5, 6)).time, '2026-01-02T03:04:04.756Z');
});

test('missing headers are null; an exchange answered before parsing completed still logs', () => {
  const o = jsonOf(httpExchange({ headers: [] }, { startedAt: 1000 }));
  assert.equal(o.uagent, null);
  assert.equal(o.referer, null);
  assert.equal(o.host, null);
  const early = jsonOf(earlyErrorExchange(400), 0, 1000);
  assert.equal(early.status, 400);
  assert.equal(early.method, '-');
  assert.equal(early.pid, 0);
  assert.equal(early.wid, 0);
});

test('hostile bytes cannot break or forge a line', () => {
  const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
  const evil = 'a"b\\c\u0001\u007f' + latin1('é') + '\xff\xfe';
  const ex = uwsgiExchange(
    ['REQUEST_METHOD', 'GET', 'REQUEST_URI', '/"}\n{"forged":1', 'PATH_INFO', '/', 'REMOTE_ADDR', '::1', 'HTTP_USER_AGENT', evil, 'HTTP_REFERER', '\r\n'],
    { status: 200, startedAt: 1000 },
  );
  const o = jsonOf(ex);
  assert.deepEqual(Object.keys(o), KEYS);
  assert.equal(o.uri, '/"}\n{"forged":1');
  assert.equal(o.uagent, 'a"b\\c\u0001\u007fé\ufffd\ufffd');
  assert.equal(o.referer, '\r\n');
  assert.equal(o.addr, '::1');
});

test('every byte value in uri and User-Agent: every line is valid JSON', () => {
  const log = new AccessLog({ format: null, json: true, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 });
  for (let i = 0; i < 256; i++) {
    const ch = String.fromCharCode(i);
    const ex = httpExchange({ target: `/p${i}?q=${encodeURIComponent(ch)}`, headers: ['Host', 'h', 'User-Agent', `ua${ch}${ch}`] }, { status: 200 + (i % 400), bytesSent: i, startedAt: 1000 });
    const o = JSON.parse(log.line(ex, i, i, 1000 + i / 7, WALL + i * 10)!) as Record<string, unknown>;
    assert.equal(o.size, i);
    assert.equal(o.pid, i);
  }
});
