/**
 * Test helper (h11 style): build uwsgi packets by hand, feed them to a UwsgiRequestParser
 * whole, byte by byte, split at every offset, and followed by trailing bytes, and check
 * that every way of slicing the input yields the same events.
 */
import assert from 'node:assert/strict';
import { UwsgiRequestParser } from '../../../src/protocol/uwsgi/request-parser.js';
import type { UwsgiParserLimits, UwsgiRequestHead } from '../../../src/protocol/uwsgi/types.js';
import { pushBody, sameInEverySlicing } from '../slicing.js';

export type Event =
  | { type: 'head'; head: UwsgiRequestHead }
  | { type: 'body'; data: string }
  | { type: 'end' }
  | { type: 'error'; reason: string; status: number; message: string };

export const LIMITS: UwsgiParserLimits = { maxVarsBytes: 4096, maxBodyBytes: 1 << 20 };

/** u16 little-endian, as every length in the protocol. */
export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

/** A vars block from [k, v, …], written independently of the encoder under test. */
export function varsBlock(vars: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of vars) {
    const bytes = Buffer.from(s, 'latin1');
    parts.push(u16(bytes.length), bytes);
  }
  return Buffer.concat(parts);
}

/** header(modifier1, datasize, modifier2) + block + body; datasize defaults to block.length. */
export function rawPacket(block: Buffer, body: string | Buffer = '', modifier1 = 0, modifier2 = 0, datasize = block.length): Buffer {
  const header = Buffer.from([modifier1, datasize & 0xff, datasize >> 8, modifier2]);
  return Buffer.concat([header, block, typeof body === 'string' ? Buffer.from(body, 'latin1') : body]);
}

export function packet(vars: readonly string[], body: string | Buffer = '', modifier1 = 0, modifier2 = 0): Buffer {
  return rawPacket(varsBlock(vars), body, modifier1, modifier2);
}

/** Runs the parser over `chunks` (then finish() when asked); body events are merged. */
export function run(chunks: readonly Buffer[], limits: UwsgiParserLimits = LIMITS, finish = false): Event[] {
  const events: Event[] = [];
  const parser = new UwsgiRequestParser(
    {
      onHead: (head) => events.push({ type: 'head', head: { ...head, vars: [...head.vars] } }),
      onBody: (chunk) => pushBody(events, chunk),
      onMessageEnd: () => events.push({ type: 'end' }),
      onError: (error) => events.push({ type: 'error', reason: error.reason, status: error.status, message: error.message }),
    },
    limits,
  );
  for (const chunk of chunks) parser.execute(chunk);
  if (finish) parser.finish();
  return events;
}

/** Messages may name offsets found earlier or later; reasons and statuses may not differ. */
export function strip(events: readonly Event[]): unknown[] {
  return events.map((e) => (e.type === 'error' ? { type: 'error', reason: e.reason, status: e.status } : e));
}

/** Events for `input` in every slicing (and with finish() when asked); asserts they agree. */
export function parseEveryWay(input: Buffer, limits: UwsgiParserLimits = LIMITS, finish = false): Event[] {
  return sameInEverySlicing(input, (chunks) => run(chunks, limits, finish), strip);
}

export function heads(events: readonly Event[]): UwsgiRequestHead[] {
  return events.flatMap((e) => (e.type === 'head' ? [e.head] : []));
}

export function body(events: readonly Event[]): string {
  return events.flatMap((e) => (e.type === 'body' ? [e.data] : [])).join('');
}

/**
 * Asserts one complete packet parses cleanly in every slicing; that finish() after it adds
 * nothing; and that bytes after it are refused as 'trailing-bytes' after the end event.
 * Returns the events.
 */
export function assertAccepted(input: Buffer, limits: UwsgiParserLimits = LIMITS): Event[] {
  const events = parseEveryWay(input, limits);
  assert.ok(!events.some((e) => e.type === 'error'), JSON.stringify(events));
  assert.equal(events[events.length - 1]?.type, 'end');
  assert.equal(heads(events).length, 1);
  assert.deepEqual(strip(run([input], limits, true)), strip(events), 'finish() after a complete packet adds nothing');
  for (const tail of ['x', '\0\0\0\0', 'GET / HTTP/1.1\r\n\r\n']) {
    const withTail = parseEveryWay(Buffer.concat([input, Buffer.from(tail, 'latin1')]), limits);
    assert.deepEqual(strip(withTail), [...strip(events), { type: 'error', reason: 'trailing-bytes', status: 400 }], `trailing ${JSON.stringify(tail)}`);
  }
  return events;
}

/**
 * Asserts `input` is refused with `reason` in every slicing (with finish() when asked), that
 * no head came first unless `headFirst`, and that more bytes after it change nothing.
 */
export function assertRejected(input: Buffer, reason: string, limits: UwsgiParserLimits = LIMITS, opts: { headFirst?: boolean; finish?: boolean } = {}): Event {
  const events = parseEveryWay(input, limits, opts.finish === true);
  const last = events[events.length - 1];
  assert.equal(last?.type, 'error', `expected an error, got ${JSON.stringify(strip(events))}`);
  assert.equal(last.type === 'error' && last.reason, reason, last.type === 'error' ? last.message : '');
  assert.equal(events.filter((e) => e.type === 'error').length, 1, 'exactly one error');
  assert.equal(events.some((e) => e.type === 'head'), opts.headFirst === true, 'head emitted before the error?');
  // A truncated packet is only an error once the peer has closed: more bytes could complete it.
  if (opts.finish !== true) {
    const more = run([input, Buffer.from('more bytes after the error'), packet(['A', 'b'])], limits, true);
    assert.deepEqual(strip(more), strip(events), 'input after an error is ignored');
  }
  return last;
}
