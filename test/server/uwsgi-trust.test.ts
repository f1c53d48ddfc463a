/**
 * Trust is explicit (issue 11, item 2): uwsgi vars are believed only from the peers the rule
 * in src/server/uwsgi-trust.ts names. Real Berth and workers for the served cases; the front
 * door alone, in memory, for a peer outside loopback (a test may only use loopback).
 */
import { sendUntilClose } from '../helpers/raw-http.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { echoBerths } from '../helpers/berth.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';
import { FrontDoor } from '../../src/server/front-door.js';
import type { HttpFront } from '../../src/server/http-front.js';
import type { UwsgiFront } from '../../src/server/uwsgi-front.js';
import { requestOnlyVars, uwsgiTrust } from '../../src/server/uwsgi-trust.js';

const berth = echoBerths();

/** What nginx would send, plus everything a relayed client would like to set. */
const SPOOFING = encodeUwsgiRequest([
  'REQUEST_METHOD', 'GET', 'REQUEST_URI', '/environ?x=1', 'PATH_INFO', '/environ', 'QUERY_STRING', 'x=1',
  'SERVER_PROTOCOL', 'HTTP/1.1', 'REMOTE_ADDR', '10.9.9.9', 'REMOTE_PORT', '4444', 'REMOTE_USER', 'admin',
  'AUTH_TYPE', 'Basic', 'HTTPS', 'on', 'UWSGI_SCHEME', 'https', 'REQUEST_SCHEME', 'https', 'SSL_CLIENT_VERIFY', 'SUCCESS',
  'SCRIPT_NAME', '//evil.example', 'SERVER_NAME', 'bank.example', 'SERVER_PORT', '443', 'HTTP_HOST', 'site.test:8080',
  'HTTP_X_FORWARDED_FOR', '10.8.8.8',
]);

const send = (port: number, data: Buffer): Promise<string> => sendUntilClose(port, data);

function environOf(response: string): Record<string, unknown> {
  assert.match(response, /^HTTP\/1\.[01] 200 /, response);
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
}

test('on an http port a loopback peer\'s uwsgi packet is served request-only: its identity vars are not believed', async () => {
  const b = await berth(['--http', '127.0.0.1:0']);
  const env = environOf(await send(b.port, SPOOFING));
  assert.equal(env['REMOTE_ADDR'], '127.0.0.1');
  assert.notEqual(env['REMOTE_PORT'], '4444');
  assert.equal(env['wsgi.url_scheme'], 'http');
  for (const k of ['REMOTE_USER', 'AUTH_TYPE', 'HTTPS', 'UWSGI_SCHEME', 'REQUEST_SCHEME', 'SSL_CLIENT_VERIFY']) assert.equal(env[k], undefined, k);
  assert.equal(env['SCRIPT_NAME'], '');
  assert.equal(env['SERVER_NAME'], 'site.test');
  assert.equal(env['SERVER_PORT'], String(b.port));
  // The request itself, and headers any HTTP client of this port may send, are kept.
  assert.equal(env['PATH_INFO'], '/environ');
  assert.equal(env['QUERY_STRING'], 'x=1');
  assert.equal(env['HTTP_X_FORWARDED_FOR'], '10.8.8.8');
  await b.waitForLog(/served a uwsgi packet from the loopback peer 127\.0\.0\.1 without trusting its identity[^\n]*socket = [^\n]*uwsgi-allow = 127\.0\.0\.1\/32/);
  await send(b.port, SPOOFING);
  assert.equal(b.logs().match(/without trusting its identity/g)?.length, 1, 'said once per listener');
});

test('uwsgi-allow = 127.0.0.1/32 trusts loopback on an http port', async () => {
  const b = await berth(['--http', '127.0.0.1:0', '--uwsgi-allow', '127.0.0.1/32']);
  const env = environOf(await send(b.port, SPOOFING));
  assert.equal(env['REMOTE_ADDR'], '10.9.9.9');
  assert.equal(env['REMOTE_USER'], 'admin');
  assert.equal(env['wsgi.url_scheme'], 'https');
  assert.doesNotMatch(b.logs(), /without trusting its identity/);
});

test('a socket port keeps trusting its loopback peer (an operator put any relay there)', async () => {
  const b = await berth(['--socket', '127.0.0.1:0', '--uwsgi-direct=false']);
  const env = environOf(await send(b.port, SPOOFING));
  assert.equal(env['REMOTE_ADDR'], '10.9.9.9');
  assert.equal(env['REMOTE_USER'], 'admin');
  assert.equal(env['wsgi.url_scheme'], 'https');
});

test('the rule, case by case', () => {
  const rule = (declaredUwsgi: boolean, unix: boolean, loopback: boolean, allowed: boolean): string => uwsgiTrust({ declaredUwsgi, unix, loopback, allowed });
  assert.equal(rule(true, true, false, false), 'trusted');
  assert.equal(rule(false, true, false, false), 'trusted');
  assert.equal(rule(true, false, true, false), 'trusted');
  assert.equal(rule(false, false, true, false), 'request-only');
  assert.equal(rule(false, false, true, true), 'trusted');
  assert.equal(rule(false, false, false, true), 'trusted');
  assert.equal(rule(true, false, false, false), 'refused');
  assert.equal(rule(false, false, false, false), 'refused');
  const kept = requestOnlyVars(['REQUEST_METHOD', 'GET', 'REMOTE_ADDR', '10.9.9.9', 'HTTP_HOST', '[::1]:80', 'X_CUSTOM', 'y'],
    { remoteAddress: '127.0.0.1', remotePort: 5, localAddress: '127.0.0.1', localPort: 80 });
  assert.deepEqual(kept, ['REQUEST_METHOD', 'GET', 'HTTP_HOST', '[::1]:80', 'REMOTE_ADDR', '127.0.0.1', 'REMOTE_PORT', '5', 'SERVER_NAME', '[::1]', 'SERVER_PORT', '80']);
});

/** A front door whose fronts only record what they were given. */
function frontDoor(logs: string[], accepted: unknown[]): FrontDoor {
  const uwsgi = { accept: (_s: Socket, _i: Buffer | null, _e: unknown, trusted: boolean) => accepted.push(['uwsgi', trusted]) } as unknown as UwsgiFront;
  const http = { accept: () => accepted.push(['http']), date: () => '' } as unknown as HttpFront;
  return new FrontDoor({ http, uwsgi, detectProtocol: true, uwsgiAllow: [], timeoutMs: 5_000, log: (_l, m) => logs.push(m) });
}

/** One connected socket pair on loopback: [the server's end, the client's end]. */
async function socketPair(): Promise<{ server: Server; accepted: Socket; client: Socket }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const acceptedP = new Promise<Socket>((r) => server.once('connection', r));
  const client = connect(port, '127.0.0.1');
  return { server, accepted: await acceptedP, client };
}

test('on an http port a uwsgi packet from a peer outside loopback is refused, and the log says why and what to do', async () => {
  for (const via of ['http', 'socket'] as const) {
    const logs: string[] = [];
    const accepted: unknown[] = [];
    const { server, accepted: sock, client } = await socketPair();
    const closed = new Promise((r) => client.on('close', r));
    client.on('error', () => undefined);
    frontDoor(logs, accepted).accept(sock, { via, display: '0.0.0.0:8000', unix: false }, SPOOFING,
      { remoteAddress: '192.0.2.7', remotePort: 40000, localAddress: '192.0.2.1', localPort: 8000 });
    await closed;
    server.close();
    assert.deepEqual(accepted, [], `${via}: not served`);
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.match(logs[0]!, new RegExp(`refused a uwsgi[^\\n]* from 192\\.0\\.2\\.7 on ${via} 0\\.0\\.0\\.0:8000`));
    assert.match(logs[0]!, /uwsgi-allow = 192\.0\.2\.7\/32/);
    if (via === 'http') {
      assert.match(logs[0]!, /socket = /);
      assert.doesNotMatch(logs[0]!, /served anyway/);
    }
  }
});
