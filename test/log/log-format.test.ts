/**
 * log-format: every variable against exchanges built as the fronts build them, uWSGI's parsing
 * of "%(" and literal "%", "-" for empty values, and the unknown-variable list config
 * validation reports.
 */
process.env.TZ = 'UTC';

import test from 'node:test';
import assert from 'node:assert/strict';
import { findOption } from '../../src/config/options.js';
import { AccessLog } from '../../src/log/access-log.js';
import { compileLogFormat, knownLogVariables, LOG_VARIABLES, unknownLogVariableMessage } from '../../src/log/log-format.js';
import type { Exchange } from '../../src/server/exchange.js';
import { httpExchange, uwsgiExchange } from './fake-exchange.js';

/** Sat Nov 21 2026 21:40:00 UTC */
const X = 1795297200000;
/** The request started at X + 100.5 ms and took 2.5 ms (exact in binary floating point). */
const START_MONO = 1000;
const END_MONO = 1002.5;
const END_WALL = X + 103;

function render(format: string, ex: Exchange, pid = 4242, requests = 7): string {
  const log = new AccessLog({ format, json: false, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 });
  return log.line(ex, pid, requests, END_MONO, END_WALL)!;
}

const browser = (): Exchange =>
  httpExchange(
    {
      method: 'GET',
      target: '/a%20b?x=1',
      headers: ['Host', 'example.org:8000', 'USER-AGENT', 'curl/8.5.0', 'Referer', 'http://example.org/'],
      remoteAddress: '10.1.2.3',
    },
    { status: 404, bytesSent: 13, workerId: 2, startedAt: START_MONO },
  );

test('each variable renders the fact it names', () => {
  const ex = browser();
  const vars = ex.cgiBlock.split('\0').length / 2;
  const expected: Record<string, string> = {
    addr: '10.1.2.3',
    user: '-',
    method: 'GET',
    uri: '/a%20b?x=1',
    proto: 'HTTP/1.1',
    scheme: 'http',
    host: 'example.org:8000',
    uagent: 'curl/8.5.0',
    referer: 'http://example.org/',
    status: '404',
    size: '13',
    rsize: '13',
    cl: '0',
    micros: '2500',
    msecs: '2',
    secs: '0.002500',
    time: String(X / 1000),
    tmsecs: String(X + 100),
    tmicros: String((X + 100.5) * 1000),
    epoch: String(X / 1000),
    ltime: '21/Nov/2026:21:40:00 +0000',
    ftime: '21/Nov/2026:21:40:00 +0000',
    ctime: 'Sat Nov 21 21:40:00 2026',
    pid: '4242',
    wid: '2',
    vars: String(vars),
    pktsize: String(ex.cgiBlock.length),
    switches: '0',
    core: '0',
    rerr: '0',
    werr: '0',
    ioerr: '0',
    upstream_addr: '-',
    upstream_msecs: '0',
  };
  assert.deepEqual(Object.keys(expected).sort(), Object.keys(LOG_VARIABLES).sort(), 'every variable has an expectation');
  for (const [name, value] of Object.entries(expected)) {
    assert.equal(render(`<%(${name})>`, ex), `<${value}>`, `%(${name})`);
  }
});

test('var.NAME reads any CGI variable; an empty one prints "-"', () => {
  const ex = browser();
  assert.equal(render('%(var.PATH_INFO)|%(var.QUERY_STRING)|%(var.SERVER_PORT)|%(var.HTTP_X_NOPE)', ex), '/a b|x=1|8000|-');
});

test('a header value that spells a variable name is not read as a key', () => {
  const ex = httpExchange({ headers: ['X-Trick', 'REMOTE_USER', 'Host', 'h'] }, { startedAt: START_MONO });
  assert.equal(render('%(user)', ex), '-');
});

test('uwsgi requests: user, proto and host come from the variables nginx sent', () => {
  const ex = uwsgiExchange(
    ['REQUEST_METHOD', 'POST', 'REQUEST_URI', '/up?a=1', 'QUERY_STRING', 'a=1', 'PATH_INFO', '/up', 'SERVER_PROTOCOL', 'HTTP/2.0',
      'REMOTE_ADDR', '192.0.2.7', 'REMOTE_USER', 'alice', 'HTTP_HOST', 'shop.example', 'HTTP_USER_AGENT', 'Mozilla/5.0'],
    { status: 201, bytesSent: 2, workerId: 3, startedAt: START_MONO },
  );
  assert.equal(render('%(addr) %(user) %(method) %(uri) %(proto) %(host) %(uagent) %(referer) %(status)', ex), '192.0.2.7 alice POST /up?a=1 HTTP/2.0 shop.example Mozilla/5.0 - 201');
});

test('proto follows the request version; cl counts the request body; werr/ioerr mark a client that left', () => {
  const ex = httpExchange({ method: 'POST', versionMinor: 0, body: Buffer.from('hello') }, { aborted: true, startedAt: START_MONO });
  assert.equal(render('%(proto) %(cl) %(werr) %(ioerr)', ex), 'HTTP/1.0 5 1 1');
});

test('bytes sent by the client as UTF-8 are written back as UTF-8, not encoded twice', () => {
  const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
  const ex = httpExchange({ target: latin1('/café'), headers: ['Host', 'h', 'User-Agent', latin1('Møller/1')] }, { startedAt: START_MONO });
  assert.equal(render('%(uri) %(uagent) %(var.PATH_INFO)', ex), '/café Møller/1 /café');
});

test('local times follow TZ, with the zone offset and ctime\'s padded day', () => {
  const ex = browser();
  try {
    process.env.TZ = 'Asia/Kolkata';
    assert.equal(render('%(ltime)', ex), '22/Nov/2026:03:10:00 +0530');
    process.env.TZ = 'America/New_York';
    assert.equal(render('%(ltime)', ex), '21/Nov/2026:16:40:00 -0500');
    process.env.TZ = 'UTC';
    const early = Date.UTC(2026, 10, 1, 9, 5, 7);
    const log = new AccessLog({ format: '%(ctime)', json: false, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 });
    assert.equal(log.line(ex, 1, 1, END_MONO, early + 3), 'Sun Nov  1 09:05:07 2026');
  } finally {
    process.env.TZ = 'UTC';
  }
});

test('time stamps change with the second even though they are cached', () => {
  const log = new AccessLog({ format: '%(ltime) %(time)', json: false, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 });
  const ex = browser();
  assert.equal(log.line(ex, 1, 1, END_MONO, END_WALL), `21/Nov/2026:21:40:00 +0000 ${X / 1000}`);
  assert.equal(log.line(ex, 1, 1, END_MONO, END_WALL + 1000), `21/Nov/2026:21:40:01 +0000 ${X / 1000 + 1}`);
  assert.equal(log.line(ex, 1, 1, END_MONO, END_WALL + 60_000), `21/Nov/2026:21:41:00 +0000 ${X / 1000 + 60}`);
});

test('parsing: literal "%", unclosed "%(" and "%()" stay text; adjacent variables', () => {
  const ex = browser();
  assert.equal(render('100% %(method)%(status) %() %(uri', ex), '100% GET404 %() %(uri');
  assert.equal(render('', ex), '');
  assert.equal(render('no variables', ex), 'no variables');
});

test('unknown variables are listed, with a message naming the known ones', () => {
  assert.deepEqual(compileLogFormat('%(method) %(metod) %(metric.x) %(var.) %(var.HTTP_HOST)').unknown, ['metod', 'metric.x', 'var.']);
  assert.deepEqual(compileLogFormat('%(addr) - %(user) [%(ltime)] "%(method) %(uri) %(proto)" %(status) %(size)').unknown, []);
  const msg = unknownLogVariableMessage('metod');
  assert.match(msg, /^unknown log-format variable %\(metod\) — known: addr, user, method,/);
  assert.ok(knownLogVariables().includes('var.NAME'));
  assert.throws(
    () => new AccessLog({ format: '%(metod)', json: false, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 }),
    (err: Error & { code?: string }) => err.code === 'BERTH_CONFIG_INVALID' && err.message.includes('%(metod)'),
  );
});

test('inherited object keys are not variables', () => {
  assert.deepEqual(compileLogFormat('%(toString) %(constructor) %(__proto__)').unknown, ['toString', 'constructor', '__proto__']);
});

test('the log-format option help names every variable (config cannot import this table)', () => {
  const help = findOption('log-format')!.help;
  for (const name of knownLogVariables()) assert.match(help, new RegExp(`\\b${name.replace('.', '\\.')}\\b`), name);
});
