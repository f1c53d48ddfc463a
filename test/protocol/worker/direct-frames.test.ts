// The uwsgi-direct frames: RELAY (a worker hands a connection to the master) and DIRECT (what a
// worker served on a uwsgi socket itself), decoded from payloads laid out as frames.ts documents
// and as python/berth_worker.py writes them (test/python/test_direct.py checks that side).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FrameDecoder } from '../../../src/protocol/worker/decode.js';
import { parseDirect, parseRelay } from '../../../src/protocol/worker/payloads.js';
import { encodeFrame, encodeJsonFrame } from '../../../src/protocol/worker/encode.js';
import { WorkerProtocolError } from '../../../src/protocol/worker/errors.js';
import { DIRECT_RECORD_HEAD_BYTES, FromWorker } from '../../../src/protocol/worker/frames.js';

function record(status: number, bytes: number, micros: number, endMs: number, modifier1: number, vars: Buffer): Buffer {
  const head = Buffer.alloc(DIRECT_RECORD_HEAD_BYTES);
  head.writeUInt16LE(status, 0);
  head.writeBigUInt64LE(BigInt(bytes), 2);
  head.writeUInt32LE(micros, 10);
  head.writeDoubleLE(endMs, 14);
  head[22] = modifier1;
  head.writeUInt32LE(vars.length, 23);
  return Buffer.concat([head, vars]);
}

function directPayload(meta: unknown, ...records: Buffer[]): Buffer {
  const json = Buffer.from(JSON.stringify(meta));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  return Buffer.concat([len, json, ...records]);
}

test('DIRECT: the served count, the running requests and every record', () => {
  const vars = Buffer.from([4, 0, 0x50, 0x41, 0x54, 0x48, 1, 0, 0x2f]); // PATH_INFO-ish: "PATH" = "/"
  const payload = directPayload({ served: 7, running: [[1.5, 'GET', '/slow']] },
    record(200, 13, 250, 1_700_000_000_123.5, 0, vars), record(404, 0, 99, 1_700_000_000_200, 30, Buffer.alloc(0)));
  const d = new FrameDecoder();
  d.push(encodeFrame(0, FromWorker.DIRECT, payload));
  const f = d.next()!;
  const r = parseDirect(f.payload);
  assert.equal(r.served, 7);
  assert.deepEqual(r.running, [[1.5, 'GET', '/slow']]);
  assert.equal(r.records.length, 2);
  assert.deepEqual({ ...r.records[0]!, vars: [...r.records[0]!.vars] }, { status: 200, bytesSent: 13, micros: 250, endWallMs: 1_700_000_000_123.5, modifier1: 0, vars: [...vars] });
  assert.equal(r.records[1]!.status, 404);
  assert.equal(r.records[1]!.modifier1, 30);
  assert.equal(r.records[1]!.vars.length, 0);
});

test('DIRECT: truncated or inconsistent payloads are protocol errors, not crashes', () => {
  const good = directPayload({ served: 1, running: [] }, record(200, 1, 1, 1, 0, Buffer.from('abcd')));
  for (const cut of [good.length - 1, good.length - 4, 4 + 10]) {
    assert.throws(() => parseDirect(good.subarray(0, cut)), WorkerProtocolError, `cut at ${cut}`);
  }
  const lying = Buffer.from(good);
  lying.writeUInt32LE(9999, 0);
  assert.throws(() => parseDirect(lying), /JSON announced/);
  assert.throws(() => parseDirect(directPayload({ served: -1, running: [] })), WorkerProtocolError);
  assert.throws(() => parseDirect(directPayload({ served: 1, running: [['x', 'GET', '/']] })), WorkerProtocolError);
  const d = new FrameDecoder();
  d.push(encodeFrame(0, FromWorker.DIRECT, Buffer.alloc(3)));
  assert.throws(() => d.next(), /at least 4 bytes/);
});

test('RELAY: which socket, which peer, and the token', () => {
  const d = new FrameDecoder();
  d.push(Buffer.concat([encodeJsonFrame(0, FromWorker.RELAY, { token: 't0k', listener: 1, peer: '192.0.2.1', port: 4321, local: '192.0.2.9', local_port: 8001 }), Buffer.from('GET / HTTP/1.1\r\n')]));
  const f = d.next()!;
  assert.equal(f.type, FromWorker.RELAY);
  assert.deepEqual(parseRelay(f.payload), { token: 't0k', listener: 1, peer: '192.0.2.1', port: 4321, local: '192.0.2.9', localPort: 8001 });
  assert.equal(d.takeBuffered().toString(), 'GET / HTTP/1.1\r\n', 'the bytes the worker had read follow the frame');
  assert.throws(() => parseRelay(Buffer.from(JSON.stringify({ token: 't', listener: -1, peer: '', port: 0 }))), WorkerProtocolError);
  assert.throws(() => parseRelay(Buffer.from('{')), WorkerProtocolError);
});
