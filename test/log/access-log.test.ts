/**
 * AccessLog: which requests are logged (disable-logging, log-4xx, log-5xx, log-slow), which
 * shape is chosen, and the request counter uWSGI prints as "req: a/b".
 */
process.env.TZ = 'UTC';

import test from 'node:test';
import assert from 'node:assert/strict';
import { AccessLog, type AccessLogOptions } from '../../src/log/access-log.js';
import { httpExchange } from './fake-exchange.js';

const BASE: AccessLogOptions = { format: '%(status)', json: false, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 };
const WALL = 1795297200000;

/** Logged? for a status and a duration in ms. */
function logged(opts: Partial<AccessLogOptions>, status: number, ms: number): boolean {
  const log = new AccessLog({ ...BASE, ...opts });
  const ex = httpExchange({}, { status, startedAt: 1000 });
  return log.line(ex, 1, 1, 1000 + ms, WALL) !== null;
}

test('filter matrix', () => {
  const rows: [Partial<AccessLogOptions>, number, number, boolean][] = [
    // logging on: everything, whatever the other options say
    [{}, 200, 1, true],
    [{}, 404, 1, true],
    [{}, 503, 1, true],
    [{ log4xx: true, slowMs: 100 }, 200, 1, true],
    // disable-logging: only 5xx (Berth never hides errors)
    [{ disableLogging: true }, 200, 1, false],
    [{ disableLogging: true }, 302, 1, false],
    [{ disableLogging: true }, 404, 1, false],
    [{ disableLogging: true }, 500, 1, true],
    [{ disableLogging: true }, 599, 1, true],
    [{ disableLogging: true }, 0, 1, false],
    // + log-4xx
    [{ disableLogging: true, log4xx: true }, 400, 1, true],
    [{ disableLogging: true, log4xx: true }, 499, 1, true],
    [{ disableLogging: true, log4xx: true }, 399, 1, false],
    [{ disableLogging: true, log4xx: true }, 502, 1, true],
    [{ disableLogging: true, log4xx: true }, 200, 1, false],
    // + log-5xx: same as the default, accepted for uWSGI configs
    [{ disableLogging: true, log5xx: true }, 500, 1, true],
    [{ disableLogging: true, log5xx: true }, 404, 1, false],
    // + log-slow (whole milliseconds, ≥, as uWSGI)
    [{ disableLogging: true, slowMs: 100 }, 200, 99.9, false],
    [{ disableLogging: true, slowMs: 100 }, 200, 100, true],
    [{ disableLogging: true, slowMs: 100 }, 200, 2500, true],
    [{ disableLogging: true, slowMs: 100 }, 404, 5, false],
    [{ disableLogging: true, slowMs: 100, log4xx: true }, 404, 5, true],
    [{ disableLogging: true, slowMs: 0 }, 200, 1e6, false],
  ];
  for (const [opts, status, ms, want] of rows) {
    assert.equal(logged(opts, status, ms), want, `${JSON.stringify(opts)} status ${status} after ${ms} ms`);
  }
});

test('the request counter counts every request, logged or not', () => {
  const log = new AccessLog({ ...BASE, format: null, disableLogging: true });
  const ok = httpExchange({}, { status: 200, startedAt: 1000 });
  const bad = httpExchange({}, { status: 502, startedAt: 1000 });
  assert.equal(log.line(ok, 10, 1, 1001, WALL), null);
  assert.equal(log.line(ok, 10, 2, 1001, WALL), null);
  assert.match(log.line(bad, 10, 3, 1001, WALL)!, /^\[pid: 10\|worker: 1\|req: 3\/3\] /);
});

test('shape: default line, log-format, log-json (json wins over a format)', () => {
  const ex = httpExchange({ target: '/x' }, { status: 200, bytesSent: 13, startedAt: 1000 });
  const plain = new AccessLog({ ...BASE, format: null }).line(ex, 1, 1, 1002, WALL)!;
  assert.match(plain, /^\[pid: 1\|worker: 1\|req: 1\/1\] 127\.0\.0\.1 \(\) \{\d+ vars in \d+ bytes\} \[Sat Nov 21 21:40:00 2026\] GET \/x => generated 13 bytes in 2 msecs \(HTTP\/1\.1 200\)$/);
  assert.equal(new AccessLog({ ...BASE, format: '%(method) %(uri)' }).line(ex, 1, 1, 1002, WALL), 'GET /x');
  const json = new AccessLog({ ...BASE, format: '%(method)', json: true }).line(ex, 1, 1, 1002, WALL)!;
  assert.equal(JSON.parse(json).uri, '/x');
});

test('consecutive requests render their own facts (one facts object is refilled per request)', () => {
  const log = new AccessLog({ ...BASE, format: '%(uri)' });
  assert.equal(log.line(httpExchange({ target: '/a' }, { startedAt: 1000 }), 1, 1, 1001, WALL), '/a');
  assert.equal(log.line(httpExchange({ target: '/b' }, { startedAt: 1000 }), 1, 1, 1001, WALL), '/b');
});
