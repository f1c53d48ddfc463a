// A request a worker served itself (uwsgi-direct) becomes, for the access log, the same
// Exchange the master's uwsgi front would have built from the same packet.
import test from 'node:test';
import assert from 'node:assert/strict';
import { exchangeFromRecord } from '../../src/server/direct-record.js';
import { ScriptNameRule } from '../../src/server/script-name.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';

const vars = (pairs: string[]): Buffer => encodeUwsgiRequest(pairs).subarray(4);
const record = (v: Buffer, modifier1 = 0) => ({ status: 404, bytesSent: 9, micros: 1500, endWallMs: 1, modifier1, vars: v });
const plain = { manageScriptName: false, scriptNames: new ScriptNameRule([]) };

test('the record becomes a finished exchange with the request line, peer, headers and CGI block', () => {
  const ex = exchangeFromRecord(record(vars(['REQUEST_METHOD', 'POST', 'REQUEST_URI', '/a?b=1', 'PATH_INFO', '/a', 'QUERY_STRING', 'b=1',
    'REMOTE_ADDR', '10.0.0.1', 'REMOTE_PORT', '99', 'HTTP_USER_AGENT', 'ua', 'CONTENT_LENGTH', '3'])), plain)!;
  assert.deepEqual([ex.request.method, ex.request.target, ex.request.remoteAddress, ex.request.remotePort], ['POST', '/a?b=1', '10.0.0.1', 99]);
  assert.deepEqual(ex.request.headers, ['user-agent', 'ua']);
  assert.deepEqual([ex.status, ex.bytesSent, ex.finished, ex.startedAt], [404, 9, true, 0]);
  assert.match(ex.cgiBlock, /\0CONTENT_LENGTH\x003\0/);
});

test('modifier1 30 and mountpoints shape SCRIPT_NAME as the front does; an empty block still parses; a bad one is null', () => {
  const v = vars(['SCRIPT_NAME', '/app', 'PATH_INFO', '/app/x']);
  assert.match(exchangeFromRecord(record(v, 30), plain)!.cgiBlock, /^SCRIPT_NAME\0\/app\0PATH_INFO\0\/x\0/);
  assert.match(exchangeFromRecord(record(v, 0), plain)!.cgiBlock, /^SCRIPT_NAME\0\/app\0PATH_INFO\0\/app\/x\0/);
  const mounted = { manageScriptName: false, scriptNames: new ScriptNameRule([{ prefix: '/app', app: 'a' }]) };
  assert.match(exchangeFromRecord(record(vars(['PATH_INFO', '/app/y'])), mounted)!.cgiBlock, /^SCRIPT_NAME\0\/app\0PATH_INFO\0\/y\0/);
  assert.equal(exchangeFromRecord(record(Buffer.alloc(0)), plain)!.request.method, 'GET');
  assert.equal(exchangeFromRecord(record(Buffer.from([5, 0, 65])), plain), null);
});
