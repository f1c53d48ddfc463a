import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRejected, rawPacket, u16, varsBlock } from './feed.js';

const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
const s = (text: string): Buffer => Buffer.from(text, 'latin1');

const cases: ReadonlyArray<readonly [string, Buffer, string]> = [
  ['key length runs past the block', cat(u16(10), s('ABC')), 'bad-length'],
  ['key fits but no room for the value length', cat(u16(3), s('ABC')), 'bad-length'],
  ['key fits and one byte of value length', cat(u16(3), s('ABC'), Buffer.from([1])), 'bad-length'],
  ['value length runs past the block', cat(u16(3), s('ABC'), u16(5), s('abcd')), 'bad-length'],
  ['value length 65535 in a short block', cat(u16(1), s('A'), u16(65535), s('x')), 'bad-length'],
  ['one stray byte after a good var', cat(varsBlock(['A', 'b']), Buffer.from([0x41])), 'bad-length'],
  ['a lone byte block', Buffer.from([0x41]), 'bad-length'],
  ['empty key first', cat(u16(0), u16(1), s('v')), 'empty-key'],
  ['empty key after a good var', cat(varsBlock(['A', 'b']), u16(0), u16(0)), 'empty-key'],
  ['two zero bytes (uWSGI: "key cannot be null")', Buffer.from([0, 0]), 'empty-key'],
];

for (const [name, block, reason] of cases) {
  test(`bad lengths: ${name} → ${reason} (400)`, () => {
    const error = assertRejected(rawPacket(block, 'trailing body bytes'), reason);
    assert.equal(error.type === 'error' && error.status, 400);
  });
}

test('bad lengths: a datasize that cuts a var in two is caught in the block, not in the body', () => {
  // The block says 5 bytes, the var needs 7: the last 2 bytes would be read as the body.
  const block = varsBlock(['A', 'bc']);
  assertRejected(rawPacket(block, '', 0, 0, 5), 'bad-length');
});
