import assert from 'node:assert/strict';
import test from 'node:test';
import { keepAliveGranted, withoutKeepAliveField } from '../../../src/protocol/uwsgi/keepalive-marker.js';
import { parseResponseHead } from '../../../src/protocol/uwsgi/response-head.js';
import { UpstreamResponseError, type RawHttpResponseHead } from '../../../src/protocol/uwsgi/types.js';

const TOKEN = 'tok3n-AbC';

function head(text: string, headRequest = false): RawHttpResponseHead {
  const buf = Buffer.from(text, 'latin1');
  const parsed = parseResponseHead(buf, 0, buf.length, headRequest);
  assert.ok(!(parsed instanceof UpstreamResponseError), String(parsed));
  return parsed;
}

test('keep-alive marker: granted for a length-framed, chunked or bodiless response carrying the token', () => {
  assert.equal(keepAliveGranted(head(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBerth-Keep-Alive: ${TOKEN}\r\n`), TOKEN), true);
  assert.equal(keepAliveGranted(head(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nberth-keep-alive: ${TOKEN}\r\n`), TOKEN), true);
  assert.equal(keepAliveGranted(head(`HTTP/1.1 204 No Content\r\nBERTH-KEEP-ALIVE: ${TOKEN}\r\n`), TOKEN), true);
});

test('keep-alive marker: refused without the token, with a wrong or repeated one, or when the end is the close', () => {
  assert.equal(keepAliveGranted(head('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n'), TOKEN), false);
  // An app behind a real uWSGI that sets the field itself does not know the token.
  assert.equal(keepAliveGranted(head('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBerth-Keep-Alive: 1\r\n'), TOKEN), false);
  assert.equal(keepAliveGranted(head(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBerth-Keep-Alive: 1\r\nBerth-Keep-Alive: ${TOKEN}\r\n`), TOKEN), false);
  assert.equal(keepAliveGranted(head(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBerth-Keep-Alive: ${TOKEN}\r\nBerth-Keep-Alive: ${TOKEN}\r\n`), TOKEN), false);
  assert.equal(keepAliveGranted(head(`HTTP/1.1 200 OK\r\nBerth-Keep-Alive: ${TOKEN}\r\n`), TOKEN), false);
  assert.equal(keepAliveGranted(head(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\nBerth-Keep-Alive: ${TOKEN}\r\n`), TOKEN), false);
  assert.equal(keepAliveGranted(head(`HTTP/1.0 200 OK\r\nContent-Length: 2\r\nBerth-Keep-Alive: ${TOKEN}\r\n`), TOKEN), false);
});

test('keep-alive marker: the field is removed in any case, the rest kept in order; none means the same array', () => {
  const plain = ['Content-Type', 'text/plain', 'Content-Length', '2'];
  assert.equal(withoutKeepAliveField(plain), plain);
  assert.deepEqual(withoutKeepAliveField(['A', '1', 'Berth-Keep-Alive', TOKEN, 'B', '2', 'berth-keep-alive', 'x', 'C', '3']), ['A', '1', 'B', '2', 'C', '3']);
  assert.deepEqual(withoutKeepAliveField(['BERTH-KEEP-ALIVE', 'x']), []);
});
