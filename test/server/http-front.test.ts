/**
 * The HTTP/1.1 front with real Python workers (echo.py under Debian's python3): keep-alive,
 * pipelining, chunked bodies, 100-continue, HEAD, HTTP/1.0, Connection: close.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { exchangeRaw, openSocket, statuses } from '../helpers/raw-http.js';

let berth: RunningBerth;

before(async () => {
  berth = await startBerth(['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--processes', '2', '--threads', '2', '--python', debianPython()]);
});
after(async () => {
  await berth?.stop();
});

test('GET returns the app response with Date and Content-Length', async () => {
  const res = await fetch(berth.url('/environ?a=1&b=%20'));
  assert.equal(res.status, 200);
  assert.ok(res.headers.get('date'));
  const env = (await res.json()) as Record<string, unknown>;
  assert.equal(env.REQUEST_METHOD, 'GET');
  assert.equal(env.PATH_INFO, '/environ');
  assert.equal(env.QUERY_STRING, 'a=1&b=%20');
  assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.1');
  assert.equal(env['wsgi.url_scheme'], 'http');
  assert.equal(env['wsgi.multithread'], true);
  assert.equal(env['wsgi.multiprocess'], true);
  assert.equal(env.REMOTE_ADDR, '127.0.0.1');
  assert.equal(env.SERVER_PORT, String(berth.port));
  assert.equal(env.HTTP_HOST, `127.0.0.1:${berth.port}`);
});

test('PATH_INFO is percent-decoded latin-1 of the raw bytes; REQUEST_URI stays raw', async () => {
  const { text } = await exchangeRaw(berth.port, 'GET /environ/caf%C3%A9%2Fx HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, string>;
  assert.equal(body.PATH_INFO, '/environ/caf\u00c3\u00a9/x');
  assert.equal(body.REQUEST_URI, '/environ/caf%C3%A9%2Fx');
  assert.equal(body.SERVER_NAME, 'h');
});

test('headers with underscores are dropped; repeated headers are joined', async () => {
  const { text } = await exchangeRaw(
    berth.port,
    'GET /environ HTTP/1.1\r\nHost: h\r\nX_Spoof: 1\r\nX-Multi: a\r\nX-Multi: b\r\nCookie: c=1\r\nCookie: d=2\r\nConnection: close\r\n\r\n',
  );
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, string>;
  assert.equal(body.HTTP_X_SPOOF, undefined);
  assert.equal(body.HTTP_X_MULTI, 'a, b');
  assert.equal(body.HTTP_COOKIE, 'c=1; d=2');
});

test('keep-alive: several requests on one connection', async () => {
  const s = await openSocket(berth.port);
  let text = '';
  s.setEncoding('latin1');
  s.on('data', (t: string) => (text += t));
  for (let i = 0; i < 3; i++) {
    s.write('GET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 150));
  }
  s.destroy();
  assert.deepEqual(statuses(text), [200, 200, 200]);
  assert.ok(!/connection: close/i.test(text));
});

test('pipelining: responses come back in request order, even when the first is slow', async () => {
  const req = (p: string): string => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`;
  const { text } = await exchangeRaw(berth.port, req('/sleep?s=0.3') + req('/environ?second') + req('/pid') + 'GET /environ?last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.deepEqual(statuses(text), [200, 200, 200, 200]);
  const order = ['slept', '"QUERY_STRING": "second"', '"pid"', '"QUERY_STRING": "last"'].map((s) => text.indexOf(s));
  assert.ok(order.every((at) => at >= 0), text);
  assert.deepEqual([...order].sort((a, b) => a - b), order, 'responses are in request order');
});

test('chunked request body is de-chunked and CONTENT_LENGTH is exact', async () => {
  const { text } = await exchangeRaw(
    berth.port,
    'POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n',
  );
  assert.deepEqual(statuses(text), [200]);
  assert.ok(text.endsWith('hello world'));
});

test('chunked response for a generator without Content-Length', async () => {
  const { text } = await exchangeRaw(berth.port, 'GET /stream?n=3&size=4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(text, /transfer-encoding: chunked/i);
  assert.ok(text.endsWith('4\r\naaaa\r\n4\r\nbbbb\r\n4\r\ncccc\r\n0\r\n\r\n'), text);
});

test('HTTP/1.0: the streamed body is close-delimited and the connection closes', async () => {
  const { text, closed } = await exchangeRaw(berth.port, 'GET /stream?n=2&size=3 HTTP/1.0\r\n\r\n');
  assert.ok(text.startsWith('HTTP/1.1 200'));
  assert.ok(!/transfer-encoding/i.test(text));
  assert.match(text, /connection: close/i);
  assert.ok(text.endsWith('aaabbb'));
  assert.equal(closed, true);
});

test('HTTP/1.0 keep-alive is honoured when asked for', async () => {
  const { text } = await exchangeRaw(berth.port, 'GET /pid HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /pid HTTP/1.0\r\n\r\n');
  assert.deepEqual(statuses(text), [200, 200]);
  assert.match(text, /connection: keep-alive/i);
});

test('HEAD never carries a body but keeps Content-Length', async () => {
  const { text } = await exchangeRaw(berth.port, 'HEAD /pid HTTP/1.1\r\nHost: x\r\n\r\nGET /pid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const [headResp, getResp] = text.split(/(?=HTTP\/1\.1 200)/);
  assert.ok(headResp!.endsWith('\r\n\r\n'), 'HEAD response has no body');
  assert.match(headResp!, /content-length: \d+/i);
  assert.ok(getResp!.includes('"pid"'));
});

test('Expect: 100-continue gets an interim response before the body is sent', async () => {
  const s = await openSocket(berth.port);
  s.setEncoding('latin1');
  let text = '';
  s.on('data', (t: string) => (text += t));
  s.write('POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(text, 'HTTP/1.1 100 Continue\r\n\r\n');
  s.write('ping');
  await new Promise((r) => s.on('end', r));
  assert.deepEqual(statuses(text), [100, 200]);
  assert.ok(text.endsWith('ping'));
});

test('Connection: close is honoured and announced', async () => {
  const { text, closed } = await exchangeRaw(berth.port, 'GET /pid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.deepEqual(statuses(text), [200], 'the request after Connection: close is not served');
  assert.match(text, /connection: close/i);
  assert.equal(closed, true);
});

test('wsgi.input: read, readline and iteration see the same body', async () => {
  const payload = 'line one\nline two\n\nlast';
  const lines = (await (await fetch(berth.url('/body-lines'), { method: 'POST', body: payload })).json()) as number[];
  assert.deepEqual(lines, [9, 9, 1, 4]);
  const iter = await fetch(berth.url('/body-iter'), { method: 'POST', body: payload });
  assert.equal(await iter.text(), payload);
});

test('a 20 MB body reaches the app intact (spooled to disk, streamed to the worker)', async () => {
  const { createHash, randomBytes } = await import('node:crypto');
  const body = randomBytes(20 * 1024 * 1024);
  const res = await fetch(berth.url('/body-sha256'), { method: 'POST', body });
  const json = (await res.json()) as { size: number; sha256: string };
  assert.equal(json.size, body.length);
  assert.equal(json.sha256, createHash('sha256').update(body).digest('hex'));
});

test('write() callable output is sent', async () => {
  const res = await fetch(berth.url('/write'));
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'written-1\nwritten-2\nreturned\n');
});

test('a client that half-closes after its request still gets the response', async () => {
  const s = await openSocket(berth.port);
  s.setEncoding('latin1');
  let text = '';
  s.on('data', (t: string) => (text += t));
  s.end('GET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => s.on('close', r));
  assert.deepEqual(statuses(text), [200]);
  assert.match(text, /"pid"/);
});
