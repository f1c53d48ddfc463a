/**
 * uWSGI's default request line stays byte for byte what Berth printed before log-format existed:
 * AccessLog without a format prints it.
 */
process.env.TZ = 'UTC';

import test from 'node:test';
import assert from 'node:assert/strict';
import { AccessLog } from '../../src/log/access-log.js';
import type { Exchange } from '../../src/server/exchange.js';
import { httpExchange, uwsgiExchange, earlyErrorExchange } from './fake-exchange.js';

const WALL = Date.UTC(2026, 10, 21, 21, 40, 0, 999);

const defaultLog = (): AccessLog => new AccessLog({ format: null, json: false, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 });
/** "{N vars in M bytes}" counted from the block itself, so the fronts' environ may grow. */
const varsOf = (ex: Exchange): string => `{${ex.cgiBlock.split('\0').length / 2} vars in ${ex.cgiBlock.length} bytes}`;

test('the default line, literally', () => {
  const ex = httpExchange({ target: '/x?y=1', headers: ['Host', 'localhost:8000'] }, { status: 200, bytesSent: 13, workerId: 1, startedAt: 1000 });
  const line = defaultLog().line(ex, 4242, 7, 1002.4, WALL);
  assert.equal(line, `[pid: 4242|worker: 1|req: 7/1] 127.0.0.1 () ${varsOf(ex)} [Sat Nov 21 21:40:00 2026] GET /x?y=1 => generated 13 bytes in 2 msecs (HTTP/1.1 200)`);
});

test('milliseconds round to nearest; the day of month is not padded; HTTP/1.0 and early errors', () => {
  const ex = httpExchange({ versionMinor: 0 }, { status: 304, startedAt: 1000 });
  const log = defaultLog();
  assert.match(log.line(ex, 1, 1, 1002.5, Date.UTC(2026, 10, 1, 9, 5, 7))!, /\[Sun Nov 1 09:05:07 2026\] GET \/ => generated 0 bytes in 3 msecs \(HTTP\/1\.0 304\)$/);
  assert.match(log.line(earlyErrorExchange(400), 0, 0, 1000, WALL)!, /^\[pid: 0\|worker: 0\|req: 0\/2\] 127\.0\.0\.1 \(\) \{0 vars in 0 bytes\} \[.*\] - - => generated 0 bytes in 0 msecs \(HTTP\/1\.1 400\)$/);
});

test('AccessLog without a format prints the default line for HTTP, uwsgi and early-error exchanges', () => {
  const post = httpExchange({ method: 'POST', target: '/form', body: Buffer.from('a=1') }, { status: 302, bytesSent: 0, workerId: 2, startedAt: 500 });
  const uwsgi = uwsgiExchange(['REQUEST_METHOD', 'GET', 'REQUEST_URI', '/u', 'PATH_INFO', '/u', 'REMOTE_ADDR', '10.0.0.1'], { status: 200, bytesSent: 5, workerId: 1, startedAt: 900 });
  const expected: [Exchange, string][] = [
    [post, `[pid: 100|worker: 2|req: 0/1] 127.0.0.1 () ${varsOf(post)} [Sat Nov 21 21:40:00 2026] POST /form => generated 0 bytes in 735 msecs (HTTP/1.1 302)`],
    [uwsgi, `[pid: 101|worker: 1|req: 1/2] 10.0.0.1 () ${varsOf(uwsgi)} [Sat Nov 21 21:40:01 2026] GET /u => generated 5 bytes in 335 msecs (HTTP/1.1 200)`],
    [earlyErrorExchange(408), '[pid: 102|worker: 0|req: 2/3] 127.0.0.1 () {0 vars in 0 bytes} [Sat Nov 21 21:40:02 2026] - - => generated 0 bytes in 235 msecs (HTTP/1.1 408)'],
  ];
  const log = defaultLog();
  for (const [i, [ex, line]] of expected.entries()) assert.equal(log.line(ex, 100 + i, i, 1234.56, WALL + i * 1000), line);
});
