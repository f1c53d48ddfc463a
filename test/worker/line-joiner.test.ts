// LineJoiner keeps a worker's output lines whole: pieces of a line are joined, complete lines pass
// at once, and a partial line goes out after its hold time or when the stream ends.
import test from 'node:test';
import assert from 'node:assert/strict';
import { LineJoiner } from '../../src/worker/line-joiner.js';

function joiner(holdMs = 60_000): { out: string[]; lines: LineJoiner } {
  const out: string[] = [];
  return { out, lines: new LineJoiner((t) => out.push(t), holdMs) };
}

test("an unbuffered print() arrives as 'text' then '\\n': one line", () => {
  const { out, lines } = joiner();
  lines.push('hello from the app');
  assert.deepEqual(out, []);
  lines.push('\n');
  assert.deepEqual(out, ['hello from the app\n']);
});

test('whole lines pass at once, the tail waits; the same text whole, piece by piece and byte by byte gives the same output', () => {
  const text = 'one\ntwo\nthree\n';
  for (const pieces of [[text], ['one\ntw', 'o\nthree\n'], [...text]]) {
    const { out, lines } = joiner();
    for (const p of pieces) lines.push(p);
    assert.equal(out.join(''), text);
    assert.ok(out.every((chunk) => chunk.endsWith('\n')), JSON.stringify(out));
  }
  const { out, lines } = joiner();
  lines.push('a\nb');
  assert.deepEqual(out, ['a\n']);
  lines.flush();
  assert.deepEqual(out, ['a\n', 'b']);
  lines.flush();
  assert.deepEqual(out, ['a\n', 'b'], 'nothing twice');
});

test('a partial line is not held forever: it goes out after the hold time', async () => {
  const { out, lines } = joiner(30);
  lines.push('Enter your name: ');
  assert.deepEqual(out, []);
  const end = Date.now() + 5000;
  while (out.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(out, ['Enter your name: ']);
});
