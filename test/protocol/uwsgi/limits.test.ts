import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccepted, assertRejected, packet, run } from './feed.js';

const LONG_COOKIE = ['HTTP_COOKIE', 'c'.repeat(5000)];

test('limits: a vars block over maxVarsBytes is refused with 431', () => {
  const error = assertRejected(packet(LONG_COOKIE), 'vars-too-large');
  assert.equal(error.type === 'error' && error.status, 431);
});

test('limits: vars-too-large is decided from the 4-byte header alone', () => {
  // Only the header arrives: the block is never waited for.
  const header = packet(LONG_COOKIE).subarray(0, 4);
  const events = run([header], { maxVarsBytes: 4096, maxBodyBytes: 0 });
  assert.equal(events.length, 1);
  assert.equal(events[0]?.type === 'error' && events[0].reason, 'vars-too-large');
  // Byte by byte too: nothing before the fourth byte, the error at it.
  const byByte = run([header.subarray(0, 3)]);
  assert.deepEqual(byByte, []);
  const atFourth = run([header.subarray(0, 3), header.subarray(3)]);
  assert.deepEqual(atFourth.map((e) => e.type === 'error' && e.reason), ['vars-too-large']);
});

test('limits: a block of exactly maxVarsBytes is accepted; one more byte is not', () => {
  const vars = ['K', 'v'.repeat(100 - 5)]; // 2 + 1 + 2 + 95 bytes
  const limits = { maxVarsBytes: 100, maxBodyBytes: 0 };
  assertAccepted(packet(vars), limits);
  assertRejected(packet(['K', 'v'.repeat(100 - 4)]), 'vars-too-large', limits);
});

test('limits: maxVarsBytes is capped at 65535, the largest datasize', () => {
  const vars = ['K', 'v'.repeat(65535 - 5)];
  const [head] = run([packet(vars)], { maxVarsBytes: 1 << 20, maxBodyBytes: 0 });
  assert.equal(head?.type === 'head' && head.head.varsBytes, 65535);
});

test('limits: CONTENT_LENGTH over maxBodyBytes is refused with 413 at the head', () => {
  const limits = { maxVarsBytes: 4096, maxBodyBytes: 10 };
  const error = assertRejected(packet(['CONTENT_LENGTH', '11'], 'hello world'), 'body-too-large', limits);
  assert.equal(error.type === 'error' && error.status, 413);
  // Decided before any body byte arrives.
  const events = run([packet(['CONTENT_LENGTH', '11'])], limits);
  assert.equal(events[0]?.type === 'error' && events[0].reason, 'body-too-large');
  assertAccepted(packet(['CONTENT_LENGTH', '10'], '0123456789'), limits);
});

test('limits: maxBodyBytes 0 means unlimited', () => {
  const events = run([packet(['CONTENT_LENGTH', '9007199254740991'])], { maxVarsBytes: 4096, maxBodyBytes: 0 });
  assert.deepEqual(events.map((e) => e.type), ['head']);
});
