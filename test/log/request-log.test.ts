/**
 * uWSGI's default request line stays byte for byte what Berth printed before log-format existed,
 * whether it comes from RequestLog or from AccessLog without a format.
 */
process.env.TZ = 'UTC';

import test from 'node:test';
import assert from 'node:assert/strict';
import { RequestLog } from '../../src/log/request-log.js';
import { AccessLog } from '../../src/log/access-log.js';
import { httpExchange, uwsgiExchange, earlyErrorExchange } from './fake-exchange.js';

const WALL = Date.UTC(2026, 10, 21, 21, 40, 0, 999);

test('the default line, literally', () => {
  const ex = httpExchange({ target: '/x?y=1', headers: ['Host', 'localhost:8000'] }, { status: 200, bytesSent: 13, workerId: 1, startedAt: 1000 });
  const pairs = ex.cgiBlock.split('\0').length / 2;
  const line = new RequestLog().format(ex, 4242, 7, 1002.4, WALL);
  assert.equal(line, `[pid: 4242|worker: 1|req: 7/1] 127.0.0.1 () {${pairs} vars in ${ex.cgiBlock.length} bytes} [Sat Nov 21 21:40:00 2026] GET /x?y=1 => generated 13 bytes in 2 msecs (HTTP/1.1 200)`);
});

test('milliseconds round to nearest; the day of month is not padded; HTTP/1.0 and early errors', () => {
  const ex = httpExchange({ versionMinor: 0 }, { status: 304, startedAt: 1000 });
  const log = new RequestLog();
  assert.match(log.format(ex, 1, 1, 1002.5, Date.UTC(2026, 10, 1, 9, 5, 7)), /\[Sun Nov 1 09:05:07 2026\] GET \/ => generated 0 bytes in 3 msecs \(HTTP\/1\.0 304\)$/);
  assert.match(log.format(earlyErrorExchange(400), 0, 0, 1000, WALL), /^\[pid: 0\|worker: 0\|req: 0\/2\] 127\.0\.0\.1 \(\) \{0 vars in 0 bytes\} \[.*\] - - => generated 0 bytes in 0 msecs \(HTTP\/1\.1 400\)$/);
});

test('AccessLog without a format prints exactly what RequestLog prints', () => {
  const exchanges = [
    httpExchange({ method: 'POST', target: '/form', body: Buffer.from('a=1') }, { status: 302, bytesSent: 0, workerId: 2, startedAt: 500 }),
    uwsgiExchange(['REQUEST_METHOD', 'GET', 'REQUEST_URI', '/u', 'PATH_INFO', '/u', 'REMOTE_ADDR', '10.0.0.1'], { status: 200, bytesSent: 5, workerId: 1, startedAt: 900 }),
    earlyErrorExchange(408),
  ];
  const old = new RequestLog();
  const now = new AccessLog({ format: null, json: false, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 });
  for (const [i, ex] of exchanges.entries()) {
    assert.equal(now.line(ex, 100 + i, i, 1234.56, WALL + i * 1000), old.format(ex, 100 + i, i, 1234.56, WALL + i * 1000));
  }
});
