/**
 * Smuggling, limits, timeouts and unsafe responses, as raw-socket tests against a real Berth
 * with real workers. A rejected request must be answered 4xx, the connection closed, and the
 * app never called (checked in the request log, which names every request that reached it).
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { exchangeRaw, openSocket, statuses } from '../helpers/raw-http.js';

let berth: RunningBerth;

before(async () => {
  berth = await startBerth([
    '--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--processes', '1', '--threads', '2',
    '--python', debianPython(), '--buffer-size', '4096', '--limit-post', '1000', '--http-timeout', '1',
  ]);
});
after(async () => {
  await berth?.stop();
});

const SMUGGLED = 'GET /environ?smuggled HTTP/1.1\r\nHost: x\r\n\r\n';

const badRequests: [string, string, number][] = [
  ['Content-Length with Transfer-Encoding', `POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['two Content-Length headers', `POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`, 400],
  ['Content-Length list', `POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc${SMUGGLED}`, 400],
  ['space before the colon', `POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['obsolete line folding', `GET /environ HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n${SMUGGLED}`, 400],
  ['bad chunk size', `POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['chunk data without CRLF', `POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n${SMUGGLED}`, 400],
  ['bare CR in a header', `GET /environ HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n${SMUGGLED}`, 400],
  ['NUL in a header value', `GET /environ HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n${SMUGGLED}`, 400],
  ['invalid header name', `GET /environ HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n${SMUGGLED}`, 400],
  ['invalid method', `G(T /environ HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, 400],
  ['missing Host on HTTP/1.1', `GET /environ HTTP/1.1\r\n\r\n${SMUGGLED}`, 400],
  ['unknown transfer coding', `POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, 501],
  ['HTTP/2.0 in an HTTP/1 request line', `GET /environ HTTP/2.0\r\nHost: x\r\n\r\n`, 505],
  ['encoded NUL in the path', `GET /environ%00x HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, 400],
];

for (const [name, raw, status] of badRequests) {
  test(`rejects ${name} with ${status}, closes, and never calls the app`, async () => {
    const { text, closed } = await exchangeRaw(berth.port, raw);
    assert.deepEqual(statuses(text), [status], text);
    assert.match(text, /connection: close/i);
    assert.equal(closed, true);
  });
}

test('none of the smuggled requests reached the app', async () => {
  await new Promise((r) => setTimeout(r, 200));
  assert.doesNotMatch(berth.logs(), /smuggled/);
});

test('a header block over buffer-size is answered 431', async () => {
  const { text, closed } = await exchangeRaw(berth.port, `GET /environ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`);
  assert.deepEqual(statuses(text), [431]);
  assert.equal(closed, true);
});

test('a body over limit-post is answered 413 (Content-Length and chunked)', async () => {
  const a = await exchangeRaw(berth.port, `POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n`);
  assert.deepEqual(statuses(a.text), [413]);
  const chunk = 'x'.repeat(600);
  const b = await exchangeRaw(berth.port, `POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`);
  assert.deepEqual(statuses(b.text), [413]);
});

test('a stalled request head is answered 408 after http-timeout', async () => {
  const { text, closed } = await exchangeRaw(berth.port, 'GET /environ HTTP/1.1\r\nHost: x\r\n', 3000);
  assert.deepEqual(statuses(text), [408]);
  assert.equal(closed, true);
});

test('a stalled request body is answered 408 after http-timeout', async () => {
  const { text } = await exchangeRaw(berth.port, 'POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc', 3000);
  assert.deepEqual(statuses(text), [408]);
});

test('an idle keep-alive connection is closed after http-timeout', async () => {
  const s = await openSocket(berth.port);
  const closedAt = await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), 4000);
    s.on('close', () => (clearTimeout(t), resolve(true)));
  });
  assert.equal(closedAt, true);
});

const badResponses: [string, RegExp][] = [
  ['/bad-header', /X-Evil.*CR|CR.*X-Evil|response splitting/i],
  ['/bad-status', /20 OK/],
  ['/str-body', /str/],
];
for (const [path, logPattern] of badResponses) {
  test(`an invalid response (${path}) becomes a 500 and a precise log line`, async () => {
    const { text } = await exchangeRaw(berth.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.deepEqual(statuses(text), [500]);
    assert.doesNotMatch(text, /X-Injected/i);
    await new Promise((r) => setTimeout(r, 100));
    assert.match(berth.logs(), logPattern);
  });
}

test('a body longer than its Content-Length is cut there and the connection closed', async () => {
  const { text, closed } = await exchangeRaw(berth.port, 'GET /long-body HTTP/1.1\r\nHost: x\r\n\r\nGET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(text.endsWith('\r\n\r\n01234'), text);
  assert.deepEqual(statuses(text), [200]);
  assert.equal(closed, true);
});

test('a body shorter than its Content-Length closes the connection', async () => {
  const { text, closed } = await exchangeRaw(berth.port, 'GET /short-body HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(text.endsWith('\r\n\r\n01234'));
  assert.equal(closed, true);
});

test('an exception before start_response is a 500 with the traceback in the log; the worker keeps serving', async () => {
  const res = await fetch(berth.url('/raise'));
  assert.equal(res.status, 500);
  await res.arrayBuffer();
  await new Promise((r) => setTimeout(r, 100));
  assert.match(berth.logs(), /Traceback[\s\S]*RuntimeError: echo app: \/raise raised before start_response/);
  assert.equal((await fetch(berth.url('/pid'))).status, 200);
});

test('an exception after the first chunk cuts the chunked response (no false end)', async () => {
  const { text, closed } = await exchangeRaw(berth.port, 'GET /raise-after HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(text, /first chunk/);
  assert.ok(!text.endsWith('0\r\n\r\n'), 'no last-chunk: the client must see the response is incomplete');
  assert.equal(closed, true);
});
