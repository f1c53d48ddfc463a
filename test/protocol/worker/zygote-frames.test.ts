// The preload-mode frames (FORK, FORKED, EXITED, HELLO) and MODULES: round trips, every split
// point, bad payloads, and FrameDecoder.takeBuffered (the bytes after HELLO).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FrameDecoder, type Frame } from '../../../src/protocol/worker/decode.js';
import { parseExited, parseFork, parseForked, parseHello, parseModules, parseReady } from '../../../src/protocol/worker/payloads.js';
import { encodeFork, encodeFrame, encodeJsonFrame, encodeShutdown } from '../../../src/protocol/worker/encode.js';
import { WorkerProtocolError } from '../../../src/protocol/worker/errors.js';
import { FromWorker, ToWorker } from '../../../src/protocol/worker/frames.js';
import { drain } from './drain.js';

const zygoteStream = Buffer.concat([
  encodeJsonFrame(0, FromWorker.READY, { pid: 10, executable: '/usr/bin/python3', version: '3.11.2', threads: 2, sys_path: ['/app'], zygote: true }),
  encodeJsonFrame(3, FromWorker.FORKED, { pid: 11 }),
  encodeJsonFrame(3, FromWorker.EXITED, { pid: 11, code: null, signal: 'SIGKILL' }),
  encodeJsonFrame(4, FromWorker.EXITED, { pid: 12, code: 0, signal: null }),
  encodeJsonFrame(5, FromWorker.EXITED, { pid: null, code: null, signal: null, error: 'OSError: [Errno 11] Resource temporarily unavailable' }),
  encodeJsonFrame(0, FromWorker.MODULES, ['/app/a.py', '/app/b.py']),
  encodeJsonFrame(2, FromWorker.HELLO, { pid: 13, token: 'secret' }),
]);

function check(frames: Frame[]): void {
  assert.deepEqual(frames.map((f) => [f.id, f.type]), [
    [0, FromWorker.READY], [3, FromWorker.FORKED], [3, FromWorker.EXITED], [4, FromWorker.EXITED],
    [5, FromWorker.EXITED], [0, FromWorker.MODULES], [2, FromWorker.HELLO],
  ]);
  assert.equal(parseReady(frames[0]!.payload).pid, 10);
  assert.deepEqual(parseForked(frames[1]!.payload), { pid: 11 });
  assert.deepEqual(parseExited(frames[2]!.payload), { pid: 11, code: null, signal: 'SIGKILL' });
  assert.deepEqual(parseExited(frames[3]!.payload), { pid: 12, code: 0, signal: null });
  assert.deepEqual(parseExited(frames[4]!.payload), { pid: null, code: null, signal: null, error: 'OSError: [Errno 11] Resource temporarily unavailable' });
  assert.deepEqual(parseModules(frames[5]!.payload), ['/app/a.py', '/app/b.py']);
  assert.deepEqual(parseHello(frames[6]!.payload), { pid: 13, token: 'secret' });
}

test('zygote and forked-worker frames decode whole', () => {
  const d = new FrameDecoder();
  d.push(zygoteStream);
  check(drain(d));
  assert.equal(d.bufferedBytes, 0);
});

test('zygote frames decode the same at every split point', () => {
  for (let cut = 1; cut < zygoteStream.length; cut++) {
    const d = new FrameDecoder();
    d.push(zygoteStream.subarray(0, cut));
    const frames = drain(d);
    d.push(zygoteStream.subarray(cut));
    frames.push(...drain(d));
    check(frames);
  }
});

test('FORK carries the slot as id and as JSON', () => {
  const d = new FrameDecoder('to-worker');
  d.push(Buffer.concat([encodeFork(7), encodeShutdown()]));
  const [fork, shutdown] = drain(d);
  assert.equal(fork!.id, 7);
  assert.equal(fork!.type, ToWorker.FORK);
  assert.deepEqual(parseFork(fork!.payload), { slot: 7 });
  assert.equal(shutdown!.type, ToWorker.SHUTDOWN);
});

test('bad zygote payloads are protocol errors naming the frame and field', () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => parseForked(Buffer.from('{"pid": 0}')), /FORKED payload has a missing or bad "pid"/],
    [() => parseForked(Buffer.from('[]')), /FORKED payload is not a JSON object/],
    [() => parseExited(Buffer.from('{"pid": 5, "code": 1.5, "signal": null}')), /EXITED payload has a missing or bad "code"/],
    [() => parseExited(Buffer.from('{"pid": 5, "code": null, "signal": "kill"}')), /EXITED payload has a missing or bad "signal"/],
    [() => parseExited(Buffer.from('{"pid": null, "code": null, "signal": null}')), /EXITED payload without a pid must carry an "error"/],
    [() => parseExited(Buffer.from('{"pid": -3, "code": null, "signal": null}')), /EXITED payload has a missing or bad "pid"/],
    [() => parseHello(Buffer.from('{"pid": 5}')), /HELLO payload has a missing or bad "token"/],
    [() => parseHello(Buffer.from('not json')), /HELLO payload is not JSON/],
    [() => parseModules(Buffer.from('{"a": 1}')), /MODULES payload is not a JSON list of strings/],
    [() => parseModules(Buffer.from('["/a", 3]')), /MODULES payload is not a JSON list of strings/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, (err: unknown) => err instanceof WorkerProtocolError && message.test((err as Error).message));
});

test('takeBuffered returns the bytes after the frames already taken, then the decoder is empty', () => {
  const hello = encodeJsonFrame(2, FromWorker.HELLO, { pid: 13, token: 't' });
  const ready = encodeJsonFrame(0, FromWorker.READY, { pid: 13 });
  for (let end = 3; end < ready.length; end++) {
    const d = new FrameDecoder();
    d.push(Buffer.concat([hello, ready.subarray(0, 3)]));
    d.push(ready.subarray(3, end));
    assert.equal(d.next()!.type, FromWorker.HELLO);
    const rest = d.takeBuffered();
    assert.deepEqual(rest, ready.subarray(0, end));
    assert.equal(d.bufferedBytes, 0);
    assert.equal(d.next(), null);
  }
});

test('the worker-direction decoder still refuses an unknown type after the new ones', () => {
  const d = new FrameDecoder();
  d.push(encodeFrame(0, 0x93)); // 0x92 is ACCEPT_STOPPED now
  assert.throws(() => d.next(), /unknown frame type 0x93/);
});
