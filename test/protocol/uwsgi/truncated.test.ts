import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRejected, packet, run } from './feed.js';

const FULL = packet(['REQUEST_METHOD', 'POST', 'CONTENT_LENGTH', '4'], 'body');

test('truncated: finish() at every offset inside the packet reports truncated (400)', () => {
  for (let cut = 1; cut < FULL.length; cut++) {
    const headFirst = cut >= FULL.length - 4;
    const error = assertRejected(FULL.subarray(0, cut), 'truncated', undefined, { finish: true, headFirst });
    assert.equal(error.type === 'error' && error.status, 400);
  }
});

test('truncated: without finish() a partial packet just waits', () => {
  for (let cut = 1; cut < FULL.length - 4; cut++) assert.deepEqual(run([FULL.subarray(0, cut)]), []);
  assert.deepEqual(run([FULL.subarray(0, FULL.length - 2)]).map((e) => e.type), ['head', 'body']);
});

test('truncated: the message says what was missing', () => {
  const inHead = run([FULL.subarray(0, 3)], undefined, true).pop();
  assert.match(inHead?.type === 'error' ? inHead.message : '', /head/);
  const inBody = run([FULL.subarray(0, FULL.length - 3)], undefined, true).pop();
  assert.match(inBody?.type === 'error' ? inBody.message : '', /3 body bytes missing/);
});
