// FILE / FILE_OPENED / FILE_FAILED codec: round trips whole, byte by byte and with trailing
// bytes; wrong sizes and impossible ranges are protocol errors; the worker's own encoding
// (python/berth_runtime/wire.py FILE_FRAME) decodes to the same range.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

import { FrameDecoder, parseFile, type Frame } from '../../../src/protocol/worker/decode.js';
import { encodeFileFailed, encodeFileOpened, encodeFrame } from '../../../src/protocol/worker/encode.js';
import { WorkerProtocolError } from '../../../src/protocol/worker/errors.js';
import { FILE_PAYLOAD_BYTES, FromWorker, ToWorker } from '../../../src/protocol/worker/frames.js';
import { drain } from './drain.js';

function filePayload(fd: number, offset: bigint, length: bigint): Buffer {
  const p = Buffer.alloc(FILE_PAYLOAD_BYTES);
  p.writeUInt32LE(fd, 0);
  p.writeBigUInt64LE(offset, 4);
  p.writeBigUInt64LE(length, 12);
  return p;
}

const isProtocolError = (e: unknown): boolean => e instanceof WorkerProtocolError && e.code === 'BERTH_WORKER_PROTOCOL';

test('FILE round-trips whole, byte by byte and followed by a partial frame', () => {
  const big = 5n * 1024n ** 4n; // 5 TiB: beyond u32, well inside 2^53
  const bytes = Buffer.concat([encodeFrame(7, FromWorker.HEAD, Buffer.from('200 OK')), encodeFrame(7, FromWorker.FILE, filePayload(12, big, 50n * 1024n * 1024n))]);
  const check = (frames: Frame[]): void => {
    assert.deepEqual(frames.map((f) => [f.id, f.type]), [[7, FromWorker.HEAD], [7, FromWorker.FILE]]);
    assert.deepEqual(parseFile(frames[1]!.payload), { fd: 12, offset: Number(big), length: 50 * 1024 * 1024 });
  };
  const whole = new FrameDecoder();
  whole.push(bytes);
  check(drain(whole));

  const bytewise = new FrameDecoder();
  const frames: Frame[] = [];
  for (let i = 0; i < bytes.length; i++) {
    bytewise.push(bytes.subarray(i, i + 1));
    frames.push(...drain(bytewise).map((f) => ({ ...f, payload: Buffer.from(f.payload) })));
  }
  check(frames);

  const trailing = new FrameDecoder();
  trailing.push(Buffer.concat([bytes, encodeFrame(8, FromWorker.END).subarray(0, 5)]));
  check(drain(trailing));
  assert.equal(trailing.bufferedBytes, 5);
});

test('FILE_OPENED and FILE_FAILED are empty master frames', () => {
  const bytes = Buffer.concat([encodeFileOpened(3), encodeFileFailed(0xffffffff)]);
  assert.equal(bytes.length, 18);
  for (const cut of [0, 1, 9, 10, 17, 18]) {
    const decoder = new FrameDecoder('to-worker');
    decoder.push(bytes.subarray(0, cut));
    const frames = drain(decoder);
    decoder.push(bytes.subarray(cut));
    frames.push(...drain(decoder));
    assert.deepEqual(frames.map((f) => [f.id, f.type, f.payload.length]), [[3, ToWorker.FILE_OPENED, 0], [0xffffffff, ToWorker.FILE_FAILED, 0]], `cut at ${cut}`);
  }
});

test('wrong sizes and impossible ranges are protocol errors', () => {
  for (const bad of [encodeFrame(1, FromWorker.FILE, Buffer.alloc(19)), encodeFrame(1, FromWorker.FILE, Buffer.alloc(21))]) {
    const decoder = new FrameDecoder();
    decoder.push(bad);
    assert.throws(() => decoder.next(), isProtocolError);
  }
  for (const bad of [encodeFrame(1, ToWorker.FILE_OPENED, Buffer.from('x')), encodeFrame(1, ToWorker.FILE_FAILED, Buffer.alloc(4))]) {
    const decoder = new FrameDecoder('to-worker');
    decoder.push(bad);
    assert.throws(() => decoder.next(), isProtocolError);
  }
  assert.throws(() => parseFile(Buffer.alloc(12)), isProtocolError);
  assert.throws(() => parseFile(filePayload(3, 2n ** 63n, 1n)), isProtocolError);
  assert.throws(() => parseFile(filePayload(3, BigInt(Number.MAX_SAFE_INTEGER), 1n)), isProtocolError);
});

test('the worker encodes FILE the way the master decodes it', () => {
  const script = [
    'import sys', `sys.path.insert(0, ${JSON.stringify(path.join(process.cwd(), 'python'))})`, 'from berth_runtime import wire',
    'sys.stdout.buffer.write(wire.FILE_FRAME.pack(20, 9, wire.FILE, 4, 1000, 3 << 40))',
  ].join('\n');
  const bytes = execFileSync('/usr/bin/python3', ['-c', script]);
  const decoder = new FrameDecoder();
  decoder.push(bytes);
  const [f] = drain(decoder);
  assert.equal(f!.type, FromWorker.FILE);
  assert.equal(f!.id, 9);
  assert.deepEqual(parseFile(f!.payload), { fd: 4, offset: 1000, length: 3 * 2 ** 40 });
  const constants = execFileSync('/usr/bin/python3', ['-c', script.split('\n').slice(0, 3).join('\n') + '\nprint(wire.FILE, wire.FILE_OPENED, wire.FILE_FAILED)']).toString().trim();
  assert.equal(constants, `${FromWorker.FILE} ${ToWorker.FILE_OPENED} ${ToWorker.FILE_FAILED}`);
});
