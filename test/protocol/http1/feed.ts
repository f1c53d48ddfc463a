/**
 * Test helper (h11 style): feed an input to a RequestParser whole, byte by byte, split at
 * every offset, and followed by trailing bytes or a second pipelined request, and check
 * that every way of slicing it yields the same events.
 */
import assert from 'node:assert/strict';
import { RequestParser } from '../../../src/protocol/http1/request-parser.js';
import type { RequestHead, RequestParserLimits } from '../../../src/protocol/http1/types.js';
import { pushBody, sameInEverySlicing, toBuffer } from '../slicing.js';

export type Event =
  | { type: 'head'; head: RequestHead }
  | { type: 'body'; data: string }
  | { type: 'end' }
  | { type: 'error'; status: number; message: string };

export const LIMITS: RequestParserLimits = { maxHeadBytes: 8192, maxBodyBytes: 1 << 20 };

export const NEXT_REQUEST = 'GET /next HTTP/1.1\r\nHost: next\r\n\r\n';

/** Runs the parser over `chunks` (then finish() when asked); body events are merged. */
export function run(chunks: readonly Buffer[], limits: RequestParserLimits = LIMITS, finish = false): Event[] {
  const events: Event[] = [];
  const parser = new RequestParser(
    {
      onHead: (head) => events.push({ type: 'head', head: { ...head, headers: [...head.headers] } }),
      onBody: (chunk) => pushBody(events, chunk),
      onMessageEnd: () => events.push({ type: 'end' }),
      onError: (error) => events.push({ type: 'error', status: error.status, message: error.message }),
    },
    limits,
  );
  for (const chunk of chunks) parser.execute(chunk);
  if (finish) parser.finish();
  return events;
}

/** Events for `input` fed in every slicing; asserts they all agree and returns them. */
export function parseEveryWay(input: string | Buffer, limits: RequestParserLimits = LIMITS): Event[] {
  return sameInEverySlicing(toBuffer(input), (chunks) => run(chunks, limits), strip);
}

/** Error messages may differ between slicings (found earlier or later); statuses may not. */
function strip(events: readonly Event[]): unknown[] {
  return events.map((e) => (e.type === 'error' ? { type: 'error', status: e.status } : e));
}

/** The heads of the messages, in order. */
export function heads(events: Event[]): RequestHead[] {
  return events.flatMap((e) => (e.type === 'head' ? [e.head] : []));
}

/**
 * Asserts `input` is refused with `status` in every slicing, that nothing after it
 * (garbage or a valid request) produces more events, and that no head is emitted unless
 * `headFirst` (errors found in a body come after the head).
 */
export function assertRejected(input: string | Buffer, status: number, limits: RequestParserLimits = LIMITS, headFirst = false): void {
  const bytes = toBuffer(input);
  const events = parseEveryWay(bytes, limits);
  const last = events[events.length - 1];
  assert.equal(last?.type, 'error', `expected an error, got ${JSON.stringify(events.map((e) => e.type))}`);
  assert.equal(last.type === 'error' && last.status, status, last.type === 'error' ? last.message : '');
  assert.equal(events.some((e) => e.type === 'head'), headFirst, 'head emitted before the error?');
  for (const tail of ['\r\n\r\n', NEXT_REQUEST, 'x']) {
    const more = run([Buffer.concat([bytes, Buffer.from(tail)])], limits);
    assert.deepEqual(strip(more), strip(events), `with trailing ${JSON.stringify(tail)}`);
  }
}

/**
 * Asserts `input` (one or more complete requests) parses cleanly in every slicing, and that
 * a request pipelined behind it is parsed too when the connection stays open, or ignored
 * when it does not. Returns the events of `input` alone.
 */
export function assertAccepted(input: string | Buffer, limits: RequestParserLimits = LIMITS): Event[] {
  const bytes = toBuffer(input);
  const events = parseEveryWay(bytes, limits);
  assert.ok(!events.some((e) => e.type === 'error'), JSON.stringify(events));
  assert.equal(events[events.length - 1]?.type, 'end');
  const all = heads(events);
  const keepAlive = all[all.length - 1]?.keepAlive === true;
  const withNext = parseEveryWay(Buffer.concat([bytes, Buffer.from(NEXT_REQUEST)]), limits);
  if (keepAlive) {
    assert.deepEqual(withNext.slice(0, events.length), events);
    assert.equal(withNext.length, events.length + 2);
    const next = withNext[events.length];
    assert.equal(next?.type === 'head' && next.head.target, '/next');
  } else {
    assert.deepEqual(withNext, events, 'bytes after a non-keep-alive request must be ignored');
  }
  assert.deepEqual(run([bytes], limits, true), events, 'finish() after a complete request adds nothing');
  return events;
}
