// RECYCLE (reload-on-rss: a worker found its RSS over the limit after a request), decoded as
// frames.ts documents it and as python/berth_runtime/main.py writes it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FrameDecoder } from '../../../src/protocol/worker/decode.js';
import { parseRecycle } from '../../../src/protocol/worker/payloads.js';
import { encodeJsonFrame } from '../../../src/protocol/worker/encode.js';
import { WorkerProtocolError } from '../../../src/protocol/worker/errors.js';
import { FromWorker } from '../../../src/protocol/worker/frames.js';

test('RECYCLE: the RSS and the limit, in bytes', () => {
  const d = new FrameDecoder();
  d.push(encodeJsonFrame(0, FromWorker.RECYCLE, { rss: 110 * 1048576, limit: 100 * 1048576 }));
  const f = d.next();
  assert.ok(f !== null);
  assert.equal(f.type, FromWorker.RECYCLE);
  assert.deepEqual(parseRecycle(f.payload), { rss: 110 * 1048576, limit: 100 * 1048576 });
});

test('RECYCLE: a missing, negative or fractional figure is a protocol error', () => {
  for (const bad of [{ rss: 1 }, { limit: 1 }, { rss: -1, limit: 1 }, { rss: 1.5, limit: 1 }, { rss: '1', limit: 1 }]) {
    assert.throws(() => parseRecycle(Buffer.from(JSON.stringify(bad))), WorkerProtocolError, JSON.stringify(bad));
  }
  assert.throws(() => parseRecycle(Buffer.from('not json')), WorkerProtocolError);
});
