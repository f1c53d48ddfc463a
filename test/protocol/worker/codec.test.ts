// Encoder/decoder round trips: whole, byte by byte, many frames per chunk, trailing bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FrameDecoder, type Frame } from '../../../src/protocol/worker/decode.js';
import {
  encodeAbort, encodeAck, encodeBody, encodeBodyEnd, encodeFrame, encodeRequest, encodeShutdown,
  environBlock, frameHeader,
} from '../../../src/protocol/worker/encode.js';
import { EnvironEncodingError } from '../../../src/protocol/worker/errors.js';
import { FromWorker, ToWorker } from '../../../src/protocol/worker/frames.js';
import { drain } from './drain.js';

const plain = (frames: Frame[]) => frames.map((f) => ({ id: f.id, type: f.type, payload: Buffer.from(f.payload) }));

function masterStream(): { bytes: Buffer; expected: ReturnType<typeof plain> } {
  const env = environBlock(['REQUEST_METHOD', 'POST', 'PATH_INFO', '/caf\u00e9', 'HTTP_X', '']);
  const body = Buffer.from('hello body');
  const parts = [encodeRequest(7, env, true), ...encodeBody(7, body), encodeBodyEnd(7), encodeAck(0xffffffff, 123456),
    encodeAbort(8), encodeShutdown()];
  const ack = Buffer.alloc(4);
  ack.writeUInt32LE(123456);
  return {
    bytes: Buffer.concat(parts),
    expected: [
      { id: 7, type: ToWorker.REQUEST, payload: Buffer.concat([Buffer.from([1]), Buffer.from(env, 'latin1')]) },
      { id: 7, type: ToWorker.BODY, payload: body },
      { id: 7, type: ToWorker.BODY_END, payload: Buffer.alloc(0) },
      { id: 0xffffffff, type: ToWorker.ACK, payload: ack },
      { id: 8, type: ToWorker.ABORT, payload: Buffer.alloc(0) },
      { id: 0, type: ToWorker.SHUTDOWN, payload: Buffer.alloc(0) },
    ],
  };
}

test('all master frames round-trip in one chunk', () => {
  const { bytes, expected } = masterStream();
  const decoder = new FrameDecoder('to-worker');
  decoder.push(bytes);
  assert.deepEqual(plain(drain(decoder)), expected);
  assert.equal(decoder.bufferedBytes, 0);
});

test('frames split byte by byte decode the same', () => {
  const { bytes, expected } = masterStream();
  const decoder = new FrameDecoder('to-worker');
  const frames: Frame[] = [];
  for (let i = 0; i < bytes.length; i++) {
    decoder.push(bytes.subarray(i, i + 1));
    frames.push(...drain(decoder));
  }
  assert.deepEqual(plain(frames), expected);
});

test('every split point of the stream decodes the same', () => {
  const { bytes, expected } = masterStream();
  for (let cut = 0; cut <= bytes.length; cut++) {
    const decoder = new FrameDecoder('to-worker');
    decoder.push(bytes.subarray(0, cut));
    const frames = drain(decoder);
    decoder.push(bytes.subarray(cut));
    frames.push(...drain(decoder));
    assert.deepEqual(plain(frames), expected, `cut at ${cut}`);
  }
});

test('a trailing partial frame waits for its bytes', () => {
  const full = encodeFrame(3, FromWorker.BODY, Buffer.from('abcdef'));
  const decoder = new FrameDecoder();
  decoder.push(Buffer.concat([encodeFrame(2, FromWorker.END), full.subarray(0, 12)]));
  assert.deepEqual(plain(drain(decoder)), [{ id: 2, type: FromWorker.END, payload: Buffer.alloc(0) }]);
  assert.equal(decoder.bufferedBytes, 12);
  decoder.push(full.subarray(12));
  assert.equal(drain(decoder)[0]!.payload.toString(), 'abcdef');
});

test('a frame inside one chunk is a view of it, not a copy', () => {
  const chunk = Buffer.concat([encodeFrame(1, FromWorker.BODY, Buffer.from('xyz')), encodeFrame(1, FromWorker.END)]);
  const decoder = new FrameDecoder();
  decoder.push(chunk);
  const frame = decoder.next()!;
  assert.equal(frame.payload.buffer, chunk.buffer);
});

test('many frames in one chunk', () => {
  const decoder = new FrameDecoder();
  decoder.push(Buffer.concat(Array.from({ length: 1000 }, (_, i) => encodeFrame(i, FromWorker.BODY, Buffer.from(String(i))))));
  const frames = drain(decoder);
  assert.equal(frames.length, 1000);
  assert.equal(frames[999]!.payload.toString(), '999');
});

test('a large frame arriving in many chunks is assembled once', () => {
  const payload = Buffer.alloc(1 << 20, 7);
  const bytes = encodeFrame(5, FromWorker.BODY, payload);
  const decoder = new FrameDecoder();
  for (let i = 0; i < bytes.length; i += 65536) {
    decoder.push(bytes.subarray(i, i + 65536));
    if (i + 65536 < bytes.length) assert.equal(decoder.next(), null);
  }
  assert.ok(decoder.next()!.payload.equals(payload));
});

test('frameHeader + encodeBody write the documented layout', () => {
  assert.deepEqual([...frameHeader(0x01020304, 0x84, 0x0a0b0c0d)], [0x0d, 0x0c, 0x0b, 0x0a, 4, 3, 2, 1, 0x84]);
  const chunk = Buffer.from('data');
  const [header, same] = encodeBody(9, chunk);
  assert.equal(same, chunk);
  assert.equal(header.readUInt32LE(0), 4);
});

test('environBlock joins pairs and refuses NUL, non-latin1 and odd counts', () => {
  assert.equal(environBlock(['A', '1', 'B', '']), 'A\x001\x00B\x00');
  assert.equal(environBlock([]), '');
  for (const [pairs, key, text] of [
    [['PATH_INFO', '/a\0b'], 'PATH_INFO', /value of "PATH_INFO" contains NUL/],
    [['HTTP_X', '\u20ac'], 'HTTP_X', /U\+20AC/],
    [['K\0', 'v'], 'K\0', /key/],
    [['lonely'], '', /pairs/],
  ] as const) {
    assert.throws(() => environBlock(pairs), (e: unknown) => {
      assert.ok(e instanceof EnvironEncodingError);
      assert.equal(e.code, 'BERTH_HTTP_PROTOCOL');
      assert.equal(e.status, 400);
      assert.equal(e.key, key);
      assert.match(e.message, text);
      return true;
    });
  }
});
