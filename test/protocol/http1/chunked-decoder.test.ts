/** The shared chunked decoder: whole vs byte by byte, stopping point, failures, the lenient mode. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedDecoder, type ChunkedLimits } from '../../../src/protocol/http1/chunked-decoder.js';

const LIMITS: ChunkedLimits = { maxBodyBytes: 0, maxExtensionBytes: 1024, trailerBudget: 1024 };

function run(input: string, limits: ChunkedLimits = LIMITS, step = 0): { body: string; done: boolean; stop: number; failure: string | null } {
  const d = new ChunkedDecoder();
  d.start(limits);
  const buf = Buffer.from(input, 'latin1');
  let body = '';
  const sink = { onBody: (b: Buffer) => void (body += b.toString('latin1')) };
  let pos = 0;
  while (pos < buf.length && !d.done && d.failure === null) {
    const end = step === 0 ? buf.length : Math.min(buf.length, pos + step);
    const next = d.decode(buf, pos, end, sink);
    if (next === pos && next < end) break;
    pos = next;
  }
  return { body, done: d.done, stop: pos, failure: d.failure === null ? null : d.failure.kind };
}

test('decodes chunks, drops extensions and trailers, and stops right after the final CRLF', () => {
  const msg = '5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n';
  for (const step of [0, 1, 3]) {
    const r = run(msg + 'NEXT', LIMITS, step);
    assert.deepEqual([r.body, r.done, r.failure], ['hello world', true, null], `step ${step}`);
    assert.equal(r.stop, msg.length, 'the following bytes are left to the owner');
  }
});

test('failures carry their kind', () => {
  assert.equal(run('0x5\r\n').failure, 'bad');
  assert.equal(run('5\r\nhelloX\r\n').failure, 'bad');
  assert.equal(run('5 x\r\nhello\r\n0\r\n\r\n').failure, 'bad');
  assert.equal(run('10\r\n', { ...LIMITS, maxBodyBytes: 8 }).failure, 'body-too-large');
  assert.equal(run(`0\r\nX: ${'a'.repeat(50)}\r\n\r\n`, { ...LIMITS, trailerBudget: 20 }).failure, 'trailers-too-large');
  assert.equal(run(`1;${'e'.repeat(40)}\r\nx\r\n0\r\n\r\n`, { ...LIMITS, maxExtensionBytes: 10 }).failure, 'bad');
  assert.equal(run('0\r\nX : a\r\n\r\n').failure, 'bad');
});

test('lenient extensions accept padding after chunk-size, still refusing control characters', () => {
  const lenient = { ...LIMITS, lenientExtensions: true };
  assert.deepEqual(run('A \r\n0123456789\r\n0\r\n\r\n', lenient).body, '0123456789');
  assert.equal(run('A \r\n0123456789\r\n0\r\n\r\n').failure, 'bad', 'strict by default');
  assert.equal(run('1 \u0001\r\nx\r\n0\r\n\r\n', lenient).failure, 'bad');
});
