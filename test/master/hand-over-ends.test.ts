// The ends a worker's hand-over line carries, as the master reads them (src/master/zygote.ts noteEnds):
// the integration test cannot tell them from the socket's own, so their reading is checked here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noteEnds } from '../../src/master/zygote.js';

test('a hand-over line\'s ends become the connection\'s endpoints, IPv4-mapped addresses unmapped', () => {
  assert.deepEqual(noteEnds(['127.0.0.1', 8000, '192.0.2.7', 40123]),
    { remoteAddress: '192.0.2.7', remotePort: 40123, localAddress: '127.0.0.1', localPort: 8000 });
  assert.deepEqual(noteEnds(['::ffff:10.0.0.1', 80, '::ffff:10.0.0.2', 5000]),
    { remoteAddress: '10.0.0.2', remotePort: 5000, localAddress: '10.0.0.1', localPort: 80 });
  assert.deepEqual(noteEnds(['::1', 80, '::1', 5000]), { remoteAddress: '::1', remotePort: 5000, localAddress: '::1', localPort: 80 });
});

test('ends missing or of another shape are undefined: the front asks the socket instead', () => {
  for (const bad of [undefined, null, 'x', [], ['127.0.0.1', 80, '127.0.0.1'], ['127.0.0.1', '80', '127.0.0.1', 5000], [1, 80, '127.0.0.1', 5000], ['127.0.0.1', 80, '127.0.0.1', 5000, 1]]) {
    assert.equal(noteEnds(bad), undefined, JSON.stringify(bad));
  }
});
