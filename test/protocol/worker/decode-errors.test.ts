// Decoder and payload parsers: every malformed input is a WorkerProtocolError, nothing else.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FrameDecoder, parseFull, parseHeadBlock, parseU32 } from '../../../src/protocol/worker/decode.js';
import { parseBootFail, parseReady } from '../../../src/protocol/worker/payloads.js';
import { encodeFrame, frameHeader } from '../../../src/protocol/worker/encode.js';
import { WorkerProtocolError } from '../../../src/protocol/worker/errors.js';
import { FromWorker, MAX_FRAME_PAYLOAD_BYTES } from '../../../src/protocol/worker/frames.js';

const isProtocolError = (e: unknown): boolean => e instanceof WorkerProtocolError && e.code === 'BERTH_WORKER_PROTOCOL';

test('an oversize frame fails as soon as its header arrives', () => {
  const decoder = new FrameDecoder();
  decoder.push(frameHeader(1, FromWorker.BODY, MAX_FRAME_PAYLOAD_BYTES + 1));
  assert.throws(() => decoder.next(), isProtocolError);
  assert.throws(() => decoder.next(), isProtocolError, 'the decoder stays failed');
});

test('a frame of exactly the limit is accepted (header only checked)', () => {
  const decoder = new FrameDecoder();
  decoder.push(frameHeader(1, FromWorker.BODY, MAX_FRAME_PAYLOAD_BYTES));
  assert.equal(decoder.next(), null);
});

test('unknown types and wrong fixed sizes are protocol errors', () => {
  for (const bad of [encodeFrame(1, 0x42), encodeFrame(1, 0x01), encodeFrame(1, FromWorker.END, Buffer.from('x')),
    encodeFrame(1, FromWorker.CREDIT, Buffer.alloc(3)), encodeFrame(1, FromWorker.FULL, Buffer.alloc(2))]) {
    const decoder = new FrameDecoder();
    decoder.push(bad);
    assert.throws(() => decoder.next(), isProtocolError, bad.toString('hex'));
  }
});

test('random bytes never throw anything but WorkerProtocolError', () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let round = 0; round < 2000; round++) {
    const decoder = new FrameDecoder(round % 2 === 0 ? 'from-worker' : 'to-worker');
    const bytes = Buffer.alloc(random() % 200);
    for (let i = 0; i < bytes.length; i++) bytes[i] = random() & 0xff;
    if (round % 3 === 0 && bytes.length > 9) bytes.writeUInt32LE(random() % 64, 0);
    try {
      for (let i = 0; i < bytes.length; i += 1 + (random() % 17)) {
        decoder.push(bytes.subarray(i, i + 1 + (random() % 17)));
        for (let f = decoder.next(); f !== null; f = decoder.next()) {
          for (const parse of [parseHeadBlock, parseFull, parseU32, parseReady, parseBootFail]) {
            try {
              parse(f.payload);
            } catch (e) {
              assert.ok(isProtocolError(e), `${parse.name}: ${String(e)}`);
            }
          }
        }
      }
    } catch (e) {
      assert.ok(isProtocolError(e), String(e));
    }
  }
});

test('parseHeadBlock splits status and flat header pairs', () => {
  assert.deepEqual(parseHeadBlock(Buffer.from('200 OK\0Content-Type\0text/plain\0X-A\0\xe9', 'latin1')),
    { status: '200 OK', headers: ['Content-Type', 'text/plain', 'X-A', '\u00e9'] });
  assert.deepEqual(parseHeadBlock(Buffer.from('204 No Content')), { status: '204 No Content', headers: [] });
  assert.throws(() => parseHeadBlock(Buffer.from('200 OK\0Lonely')), isProtocolError);
});

test('parseFull separates head and body and checks the head length', () => {
  const head = Buffer.from('200 OK\0A\0b', 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  const full = parseFull(Buffer.concat([len, head, Buffer.from('body')]));
  assert.deepEqual(full.head, { status: '200 OK', headers: ['A', 'b'] });
  assert.equal(full.body.toString(), 'body');
  len.writeUInt32LE(999);
  assert.throws(() => parseFull(Buffer.concat([len, head])), isProtocolError);
});

test('READY and BOOT_FAIL payloads are checked', () => {
  const ready = { pid: 1, executable: '/usr/bin/python3', version: '3.11.2', threads: 2, sys_path: ['/a'] };
  assert.deepEqual(parseReady(Buffer.from(JSON.stringify(ready))), ready);
  assert.throws(() => parseReady(Buffer.from(JSON.stringify({ ...ready, pid: 'x' }))), isProtocolError);
  assert.throws(() => parseReady(Buffer.from('not json')), isProtocolError);
  const fail = { kind: 'import', message: 'm', traceback: 't', executable: 'e', sys_path: [] };
  assert.deepEqual(parseBootFail(Buffer.from(JSON.stringify(fail))), fail);
  assert.throws(() => parseBootFail(Buffer.from(JSON.stringify({ ...fail, kind: 'other' }))), isProtocolError);
  assert.equal(parseU32(Buffer.from([1, 0, 0, 0])), 1);
});
