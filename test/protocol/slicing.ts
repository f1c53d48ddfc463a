/**
 * Shared by the codec test helpers (http1/feed.ts, uwsgi/feed.ts, uwsgi/response-feed.ts),
 * h11 style: feed an input whole, byte by byte and split in two at every offset, and check
 * that every way of slicing it yields the same events.
 */
import assert from 'node:assert/strict';

/** Every slicing of `input` we test: whole, byte by byte, and two pieces split at each offset. */
export function slicings(input: Buffer): Buffer[][] {
  const out: Buffer[][] = [[input]];
  if (input.length > 1) out.push([...input].map((b) => Buffer.from([b])));
  for (let i = 1; i < input.length; i++) out.push([input.subarray(0, i), input.subarray(i)]);
  return out;
}

/**
 * Events of `input` fed whole, then asserted equal (after `strip`, which drops what may
 * differ, such as error messages) in every slicing. Returns the events of the whole input.
 */
export function sameInEverySlicing<E>(input: Buffer, run: (chunks: readonly Buffer[]) => E[], strip: (events: readonly E[]) => unknown[]): E[] {
  const expected = run([input]);
  for (const chunks of slicings(input)) {
    assert.deepEqual(strip(run(chunks)), strip(expected), `slicing into ${chunks.map((c) => c.length).join('+')} bytes`);
  }
  return expected;
}

export interface BodyEvent {
  type: 'body';
  data: string;
}

/** Records a body piece, merged into a body event just before it: how a body is cut depends on the slicing. */
export function pushBody<E extends { readonly type: string }>(events: Array<E | BodyEvent>, chunk: Buffer): void {
  const last = events[events.length - 1];
  // Copy now: the buffer may be a view into an input chunk.
  if (last?.type === 'body') (last as BodyEvent).data += chunk.toString('latin1');
  else events.push({ type: 'body', data: chunk.toString('latin1') });
}

export function toBuffer(input: string | Buffer): Buffer {
  return typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
}
