// The tail of a worker's output kept for crash-loop reports: last lines, bounded bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { OutputTail, TAIL_MAX_CHARS, TAIL_MAX_LINES } from '../../src/worker/output-tail.js';

test('short output comes back whole, however it was chunked', () => {
  const tail = new OutputTail();
  for (const piece of ['Trace', 'back (most recent call last):\n  File "a.py"', ', line 1\nValueError: x\n']) tail.append(piece);
  assert.equal(tail.text(), 'Traceback (most recent call last):\n  File "a.py", line 1\nValueError: x\n');
  assert.equal(new OutputTail().text(), '');
});

test(`only the last ${TAIL_MAX_LINES} lines are kept`, () => {
  const tail = new OutputTail();
  for (let i = 0; i < 100; i++) tail.append(`line ${i}\n`);
  const lines = tail.text().split('\n');
  assert.equal(lines.at(-1), '');
  assert.deepEqual(lines.slice(0, -1), Array.from({ length: TAIL_MAX_LINES }, (_, i) => `line ${100 - TAIL_MAX_LINES + i}`));
  tail.append('partial');
  assert.equal(tail.text().split('\n').at(-1), 'partial', 'an unfinished last line counts as a line');
  assert.equal(tail.text().split('\n').length, TAIL_MAX_LINES);
});

test(`at most ${TAIL_MAX_CHARS} characters, starting at a line boundary`, () => {
  const tail = new OutputTail();
  const long = `${'x'.repeat(999)}\n`;
  for (let i = 0; i < 100; i++) tail.append(long);
  tail.append('the end\n');
  const text = tail.text();
  assert.ok(text.length <= TAIL_MAX_CHARS, `${text.length}`);
  assert.ok(text.startsWith('x'.repeat(999)), 'no partial first line');
  assert.ok(text.endsWith('the end\n'));
});
