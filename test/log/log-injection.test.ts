/**
 * Nothing from the peer reaches the log raw (issue 11, item 4), in memory: the escaping rule,
 * each log shape (uWSGI-style line, log-format, log-json) fed a hostile uwsgi exchange, and the
 * logger's own messages. The same through real Berth, per path: log-injection-paths.test.ts.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { AccessLog } from '../../src/log/access-log.js';
import { Logger, neutralise, type LogSink } from '../../src/log/logger.js';
import { escapeControls, logSafe, quotePeer } from '../../src/protocol/peer-text.js';
import { uwsgiExchange } from './fake-exchange.js';

const FORGED = '[pid: 1|worker: 1|req: 1/1] 6.6.6.6 () {1 vars in 1 bytes} [x] GET /admin => generated 1 bytes in 1 msecs (HTTP/1.1 200)';
const JSON_FORGED = '{"time":"x","addr":"6.6.6.6","method":"GET","uri":"/admin","status":200}';

/** Every var a log shape reads, each carrying CR/LF and a forged line; bytes as the parser gives them (latin-1). */
function hostileExchange(): ReturnType<typeof uwsgiExchange> {
  const evil = (s: string): string => `${s}\r\n${FORGED}\n${JSON_FORGED}\x1b[2J\xc2\x85\xe2\x80\xa8`;
  return uwsgiExchange([
    'REQUEST_METHOD', evil('GET'), 'REQUEST_URI', evil('/x'), 'PATH_INFO', '/x', 'REMOTE_ADDR', evil('1.2.3.4'),
    'SERVER_PROTOCOL', evil('HTTP/1.1'), 'REMOTE_USER', evil('bob'), 'HTTP_HOST', evil('h'), 'HTTP_USER_AGENT', evil('ua'),
    'HTTP_REFERER', evil('r'), 'CUSTOM_VAR', evil('c'),
  ]);
}

function assertOneSafeLine(line: string | null): void {
  assert.ok(line !== null);
  assert.doesNotMatch(line, /[\x00-\x1f\x7f-\x9f\u2028\u2029]/, JSON.stringify(line));
}

test('logSafe: printable ASCII unchanged; controls, C1, line separators escaped; backslash doubled; UTF-8 decoded', () => {
  assert.equal(logSafe('/a/b?c=d e'), '/a/b?c=d e');
  assert.equal(logSafe('/a\r\nb\x1b\x7f'), '/a\\x0d\\x0ab\\x1b\\x7f');
  assert.equal(logSafe('/\xc2\x85\xe2\x80\xa8\xc3\xa9'), '/\\u0085\\u2028é');
  assert.equal(logSafe('/a\\x0a'), '/a\\\\x0a');
  assert.equal(quotePeer('x'.repeat(100), 10), `${'x'.repeat(10)}…`);
  assert.equal(escapeControls('a\nb\rc\u2028', true), 'a\nb\\x0dc\\u2028');
  assert.equal(escapeControls('a\nb', false), 'a\\x0ab');
});

test('the uWSGI-style line escapes every value from a uwsgi packet', () => {
  const log = new AccessLog({ format: null, json: false, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 });
  const line = log.line(hostileExchange(), 1, 1, 1001, Date.now());
  assertOneSafeLine(line);
  assert.match(line!, /\] 1\.2\.3\.4\\x0d\\x0a\[pid: 1/);
  assert.match(line!, / GET\\x0d\\x0a\[pid: 1\|.* \/x\\x0d\\x0a\[pid/);
});

test('every log-format variable that reads the wire escapes it', () => {
  const format = '%(addr) %(user) %(method) %(uri) %(proto) %(host) %(uagent) %(referer) %(var.CUSTOM_VAR)';
  const log = new AccessLog({ format, json: false, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 });
  const line = log.line(hostileExchange(), 1, 1, 1001, Date.now());
  assertOneSafeLine(line);
  assert.equal(line!.split('\\x0d\\x0a[pid: 1|').length, 10, line!);
});

test('log-json escapes the wire too, including the characters JSON.stringify leaves raw (NEL, U+2028)', () => {
  const log = new AccessLog({ format: null, json: true, disableLogging: false, log4xx: false, log5xx: false, slowMs: 0 });
  const line = log.line(hostileExchange(), 1, 1, 1001, Date.now());
  assertOneSafeLine(line);
  const o = JSON.parse(line!) as Record<string, string>;
  assert.equal(o['uri'], `/x\r\n${FORGED}\n${JSON_FORGED}\x1b[2J\x85\u2028`);
  assert.equal(o['uagent'], `ua\r\n${FORGED}\n${JSON_FORGED}\x1b[2J\x85\u2028`);
});

test('the logger neutralises its own messages: controls escaped, later lines marked as continuations', () => {
  let written = '';
  const sink: LogSink = { write: (t) => void (written += t), reopen: () => undefined, close: () => undefined };
  const logger = new Logger(sink);
  logger.warn(`bad request GET /x\r\n${JSON_FORGED}`);
  logger.error('worker failed:\nTraceback (most recent call last):\n  File "app.py"');
  logger.flush();
  const lines = written.trimEnd().split('\n');
  assert.deepEqual(lines, [
    `[berth] WARNING: bad request GET /x\\x0d`,
    `  | ${JSON_FORGED}`,
    '[berth] ERROR: worker failed:',
    '  | Traceback (most recent call last):',
    '  |   File "app.py"',
  ]);
  assert.equal(neutralise('one line'), 'one line');
});
