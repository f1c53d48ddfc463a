/** JoinedResponses: head + shared body joined once, reused while the head stays the same. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { JoinedResponses, joinHeadAndBody } from '../../src/server/joined-responses.js';

test('joinHeadAndBody: the latin1 head then the body, byte for byte', () => {
  const out = joinHeadAndBody('HTTP/1.1 200 OK\r\nX: \u00e9\r\n\r\n', Buffer.from([0, 1, 2]));
  assert.deepEqual(out, Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nX: \u00e9\r\n\r\n', 'latin1'), Buffer.from([0, 1, 2])]));
});

test('JoinedResponses: the same bytes while body and head are unchanged; a new head or body joins afresh', () => {
  const joined = new JoinedResponses();
  const body = Buffer.from('hello');
  const headA = `HTTP/1.1 200 OK\r\nDate: ${'A'}\r\n\r\n`;
  const first = joined.join(headA, body);
  assert.equal(first.toString('latin1'), `${headA}hello`);
  // An equal head built as another string object still finds the kept bytes.
  assert.equal(joined.join(['HTTP/1.1 200 OK\r\nDate: ', 'A', '\r\n\r\n'].join(''), body), first);
  const headB = 'HTTP/1.1 200 OK\r\nDate: B\r\n\r\n';
  const second = joined.join(headB, body);
  assert.notEqual(second, first);
  assert.equal(second.toString('latin1'), `${headB}hello`);
  assert.equal(first.toString('latin1'), `${headA}hello`, 'bytes already handed out are never rewritten');
  const other = Buffer.from('hello');
  assert.notEqual(joined.join(headB, other), second, 'another body buffer is another entry');
});
