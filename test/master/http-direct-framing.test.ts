/**
 * http-direct's response framing against the master's, byte for byte: the same request on a
 * Berth whose workers serve HTTP themselves (the default) and on one with `http-direct = false`
 * (set; its default is off for now) must get the same bytes (Date and the X-Via header aside). Covers a streamed response of
 * unknown length (chunked to HTTP/1.1, close-delimited to HTTP/1.0), an empty stream, HEAD,
 * and HTTP/1.0 keep-alive (`Connection: keep-alive` asked and answered, the connection kept).
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { exchangeRaw } from '../helpers/raw-http.js';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';

const APP = ['--chdir', APPS, '--module', 'http_direct_app', '--python', debianPython(), '--processes', '1'];
let direct: RunningBerth;
let viaMaster: RunningBerth;

before(async () => {
  direct = await startBerth(['--http', '127.0.0.1:0', ...APP, '--http-direct']);
  viaMaster = await startBerth(['--http', '127.0.0.1:0', ...APP, '--http-direct=false']);
});
after(async () => {
  await direct?.stop();
  await viaMaster?.stop();
});

/** Writes `request` and collects what comes back until the server closes, `done(text)` holds, or 15 s pass without bytes. */
const exchange = (port: number, request: string, done: (text: string) => boolean): Promise<{ text: string; closed: boolean }> =>
  exchangeRaw(port, request, 15_000, done);

const never = (): boolean => false;
const normalise = (text: string): string => text.replace(/^Date: .*\r\n/m, 'Date: D\r\n').replace(/^X-Via: \w+\r\n/m, '');
const via = (text: string): string => /^X-Via: (\w+)\r\n/m.exec(text)?.[1] ?? '(none)';

/** The request on both servers: the bytes must be equal, and each path must be the one expected. */
async function same(request: string, done: (text: string) => boolean): Promise<{ text: string; closed: boolean }> {
  const d = await exchange(direct.port, request, done);
  const m = await exchange(viaMaster.port, request, done);
  assert.equal(via(d.text), 'direct', d.text);
  assert.equal(via(m.text), 'master', m.text);
  assert.equal(normalise(d.text), normalise(m.text));
  assert.equal(d.closed, m.closed, `closed after the response: direct ${d.closed}, master ${m.closed}`);
  return d;
}

const chunkedEnd = (text: string): boolean => text.endsWith('\r\n0\r\n\r\n');

test('a streamed response of unknown length goes chunked to an HTTP/1.1 client, as the master sends it, and the connection stays', async () => {
  const r = await same('GET /stream HTTP/1.1\r\nHost: site\r\n\r\n', chunkedEnd);
  assert.match(r.text, /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain\r\nX-Via: direct\r\nTransfer-Encoding: chunked\r\nDate: .*\r\n\r\n4\r\none,\r\n4\r\ntwo,\r\ne\r\nthree:\/stream\n\r\n0\r\n\r\n$/);
  assert.equal(r.closed, false);
});

test('chunked with Connection: close from the client, and an empty stream (the last chunk alone)', async () => {
  const closing = await same('GET /stream HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n', never);
  assert.match(closing.text, /Transfer-Encoding: chunked\r\n.*\r\nConnection: close\r\n\r\n4\r\none,/s);
  assert.equal(closing.closed, true);
  const empty = await same('GET /stream-empty HTTP/1.1\r\nHost: site\r\n\r\n', (t) => t.endsWith('\r\n\r\n0\r\n\r\n'));
  assert.match(empty.text, /Transfer-Encoding: chunked\r\nDate: .*\r\n\r\n0\r\n\r\n$/);
});

test('the same response to HTTP/1.0 is close-delimited, even when the client asked for keep-alive', async () => {
  const r = await same('GET /stream HTTP/1.0\r\nHost: site\r\nConnection: keep-alive\r\n\r\n', never);
  assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n.*Connection: close\r\n\r\none,two,three:\/stream\n$/s);
  assert.equal(r.closed, true);
});

test('HTTP/1.0 keep-alive: Connection: keep-alive is answered in kind and the next request is served on the connection', async () => {
  const request = (path: string): string => `GET ${path} HTTP/1.0\r\nHost: site\r\nConnection: keep-alive\r\n\r\n`;
  const two = (t: string): boolean => (t.match(/via=\S+ pid=\d+ path=\S+ body=.*\n/g) ?? []).length === 2;
  const d = await exchange(direct.port, request('/a') + request('/b'), two);
  const m = await exchange(viaMaster.port, request('/a') + request('/b'), two);
  for (const [name, r] of [['direct', d], ['master', m]] as const) {
    assert.equal(r.closed, false, `${name}: the connection stays open`);
    const heads = r.text.match(/^HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\n/gm) ?? [];
    assert.equal(heads.length, 2, r.text);
    for (const h of heads) assert.match(h, /\r\nConnection: keep-alive\r\n\r\n$/, `${name}: ${h}`);
    assert.match(r.text, new RegExp(`via=${name} pid=\\d+ path=/a [\\s\\S]*via=${name} pid=\\d+ path=/b `));
  }
  const plain = await exchange(direct.port, 'GET /c HTTP/1.0\r\nHost: site\r\n\r\n', never);
  assert.equal(plain.closed, true, 'without keep-alive an HTTP/1.0 connection closes');
  assert.match(plain.text, /Connection: close\r\n\r\nvia=direct /);
});

test('HEAD of a streamed response: no body, no framing, the connection kept, as on the master', async () => {
  const r = await same('HEAD /stream HTTP/1.1\r\nHost: site\r\n\r\n', (t) => t.endsWith('\r\n\r\n'));
  assert.doesNotMatch(r.text, /Transfer-Encoding|Connection: close/);
  assert.equal(r.closed, false);
});
