/**
 * Test helper for RawHttpResponseParser: feed a response whole, byte by byte and split at
 * every offset (then finish(), as the upstream closes), and check every slicing agrees.
 */
import assert from 'node:assert/strict';
import { RawHttpResponseParser } from '../../../src/protocol/uwsgi/client.js';
import type { RawHttpResponseHead, RawHttpResponseOptions } from '../../../src/protocol/uwsgi/types.js';
import { pushBody, sameInEverySlicing, toBuffer } from '../slicing.js';

export type ResponseEvent =
  | { type: 'head'; head: RawHttpResponseHead }
  | { type: 'body'; data: string }
  | { type: 'end' }
  | { type: 'error'; reason: string; status: number; message: string };

export const OPTIONS: RawHttpResponseOptions = { maxHeadBytes: 1024 };

export function runResponse(chunks: readonly Buffer[], options: RawHttpResponseOptions = OPTIONS, finish = true): ResponseEvent[] {
  const events: ResponseEvent[] = [];
  const parser = new RawHttpResponseParser(
    {
      onHead: (head) => events.push({ type: 'head', head: { ...head, headers: [...head.headers] } }),
      onBody: (chunk) => pushBody(events, chunk),
      onMessageEnd: () => events.push({ type: 'end' }),
      onError: (error) => events.push({ type: 'error', reason: error.reason, status: error.status, message: error.message }),
    },
    options,
  );
  for (const chunk of chunks) parser.execute(chunk);
  if (finish) parser.finish();
  return events;
}

function strip(events: readonly ResponseEvent[]): unknown[] {
  return events.map((e) => (e.type === 'error' ? { type: 'error', reason: e.reason } : e));
}

/** Events of `input` fed in every slicing, each followed by finish() when asked. */
export function parseResponseEveryWay(input: string | Buffer, options: RawHttpResponseOptions = OPTIONS, finish = true): ResponseEvent[] {
  return sameInEverySlicing(toBuffer(input), (chunks) => runResponse(chunks, options, finish), strip);
}

/** Asserts a complete response: head, body, end, no error. Returns head and body. */
export function assertResponse(input: string | Buffer, options: RawHttpResponseOptions = OPTIONS): { head: RawHttpResponseHead; body: string } {
  const events = parseResponseEveryWay(input, options);
  assert.ok(!events.some((e) => e.type === 'error'), JSON.stringify(events));
  assert.equal(events[0]?.type, 'head');
  assert.equal(events[events.length - 1]?.type, 'end');
  assert.equal(events.filter((e) => e.type === 'head').length, 1);
  const head = (events[0] as { head: RawHttpResponseHead }).head;
  return { head, body: events.flatMap((e) => (e.type === 'body' ? [e.data] : [])).join('') };
}

/** Asserts the response is refused with `reason` (502) in every slicing. */
export function assertBadResponse(input: string | Buffer, reason: string, options: RawHttpResponseOptions = OPTIONS): ResponseEvent {
  const events = parseResponseEveryWay(input, options);
  const last = events[events.length - 1];
  assert.equal(last?.type, 'error', `expected an error, got ${JSON.stringify(strip(events))}`);
  assert.equal(last.type === 'error' && last.reason, reason, last.type === 'error' ? last.message : '');
  assert.equal(last.type === 'error' && last.status, 502);
  assert.equal(events.filter((e) => e.type === 'error').length, 1);
  return last;
}
