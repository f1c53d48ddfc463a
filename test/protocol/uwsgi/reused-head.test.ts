import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawHttpResponseParser } from '../../../src/protocol/uwsgi/client.js';
import type { RawHttpResponseHead } from '../../../src/protocol/uwsgi/types.js';

/** A reusing parser and what it reported: heads, body bytes, ends, errors. */
function reusing() {
  const heads: RawHttpResponseHead[] = [];
  const body: string[] = [];
  let ends = 0;
  const errors: string[] = [];
  const p = new RawHttpResponseParser({
    onHead: (h) => heads.push(h),
    onBody: (b) => body.push(b.toString('latin1')),
    onMessageEnd: () => ends++,
    onError: (e) => errors.push(e.reason),
  }, { maxHeadBytes: 1024, reuseRepeatedHead: true });
  return { p, heads, body, errors, ends: () => ends };
}

const HEAD = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n';

test('a repeated head is the same frozen object; body bytes in the same read are still delivered', () => {
  const r = reusing();
  r.p.execute(Buffer.from(`${HEAD}hi`));
  r.p.reset(false);
  r.p.execute(Buffer.from(`${HEAD}yo`));
  assert.equal(r.heads.length, 2);
  assert.equal(r.heads[0], r.heads[1]);
  assert.ok(Object.isFrozen(r.heads[0]) && Object.isFrozen(r.heads[0]!.headers));
  assert.deepEqual(r.body, ['hi', 'yo']);
  assert.equal(r.ends(), 2);
  assert.deepEqual(r.errors, []);
});

test('a head of the same length but other bytes is parsed anew, not handed the kept one', () => {
  const r = reusing();
  r.p.execute(Buffer.from(`${HEAD}hi`));
  r.p.reset(false);
  r.p.execute(Buffer.from(`${HEAD.replace('200', '201')}yo`));
  assert.notEqual(r.heads[1], r.heads[0]);
  assert.equal(r.heads[1]!.statusCode, 201);
  assert.deepEqual(r.body, ['hi', 'yo']);
});

test('the same bytes after a HEAD request are parsed again: no body is expected', () => {
  const r = reusing();
  r.p.execute(Buffer.from(`${HEAD}hi`));
  r.p.reset(true);
  r.p.execute(Buffer.from(HEAD));
  assert.notEqual(r.heads[1], r.heads[0]);
  assert.equal(r.ends(), 2, 'the HEAD response ends at its head');
  r.p.reset(false);
  r.p.execute(Buffer.from(`${HEAD}ab`));
  assert.deepEqual(r.body, ['hi', 'ab']);
  assert.equal(r.ends(), 3);
});

test('a head split over two reads, and a 1xx before the final head, are parsed, not confused with the kept one', () => {
  const r = reusing();
  r.p.execute(Buffer.from(`${HEAD}hi`));
  r.p.reset(false);
  r.p.execute(Buffer.from(HEAD.slice(0, 20)));
  r.p.execute(Buffer.from(`${HEAD.slice(20)}yo`));
  assert.equal(r.heads.length, 2);
  assert.equal(r.heads[1]!.statusCode, 200);
  r.p.reset(false);
  r.p.execute(Buffer.from(`HTTP/1.1 100 Continue\r\n\r\n${HEAD}ok`));
  assert.deepEqual(r.body, ['hi', 'yo', 'ok']);
  assert.equal(r.ends(), 3);
  assert.deepEqual(r.errors, []);
});

test('a terminator in the buffer past `end` (stale bytes of a shared read buffer) is not taken for the head end', () => {
  const r = reusing();
  const shared = Buffer.from(`${HEAD}hi`);
  r.p.execute(shared, 20);
  assert.equal(r.heads.length, 0, 'the head is not complete within the read');
  r.p.execute(Buffer.from(`${HEAD.slice(20)}hi`));
  assert.equal(r.heads.length, 1);
  assert.deepEqual(r.body, ['hi']);
});
