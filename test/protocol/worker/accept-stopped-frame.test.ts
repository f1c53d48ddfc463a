// ACCEPT_STOPPED (a stopping direct worker takes no connection on the shared listeners any
// more), decoded as frames.ts documents it and as python/berth_runtime/main.py writes it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FrameDecoder } from '../../../src/protocol/worker/decode.js';
import { frameHeader } from '../../../src/protocol/worker/encode.js';
import { WorkerProtocolError } from '../../../src/protocol/worker/errors.js';
import { FromWorker } from '../../../src/protocol/worker/frames.js';

test('ACCEPT_STOPPED: id 0, empty; the bytes the Python side writes', () => {
  const bytes = frameHeader(0, FromWorker.ACCEPT_STOPPED, 0);
  // wire.py frame(0, ACCEPT_STOPPED): HEADER.pack(0, 0, 0x92)
  assert.deepEqual([...bytes], [0, 0, 0, 0, 0, 0, 0, 0, 0x92]);
  const d = new FrameDecoder();
  d.push(bytes);
  const f = d.next();
  assert.ok(f !== null);
  assert.equal(f.type, FromWorker.ACCEPT_STOPPED);
  assert.equal(f.payload.length, 0);
});

test('ACCEPT_STOPPED with a payload is a protocol error', () => {
  const d = new FrameDecoder();
  d.push(Buffer.concat([frameHeader(0, FromWorker.ACCEPT_STOPPED, 1), Buffer.from('x')]));
  assert.throws(() => d.next(), WorkerProtocolError);
});
