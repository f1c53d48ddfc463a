/** Validators, preconditions (RFC 9110 §13) and Range parsing (§14), in memory. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { etagListMatches, evaluatePreconditions, ifRangeAllows, parseHttpDate, validatorsFor, ValidatorsMemo } from '../../src/static/conditional.js';
import { multipart, parseRange } from '../../src/static/range.js';

const MTIME_MS = Date.UTC(2024, 2, 5, 6, 7, 8, 999);
const v = validatorsFor(MTIME_MS, 1000);
const reader = (h: Record<string, string>) => (name: string): string | undefined => h[name];

test("validators use nginx's ETag format and whole seconds", () => {
  assert.equal(v.etag, `"${Math.floor(MTIME_MS / 1000).toString(16)}-3e8"`);
  assert.equal(v.lastModified, 'Tue, 05 Mar 2024 06:07:08 GMT');
  assert.equal(v.mtimeSec, Math.floor(MTIME_MS / 1000));
});

test('HTTP dates in all three forms, and nothing else', () => {
  const t = Date.UTC(1994, 10, 6, 8, 49, 37) / 1000;
  assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), t);
  assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), t);
  assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), t);
  for (const bad of ['', 'yesterday', '06 Nov 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 UTC', 'Sun, 06 Foo 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:00:00 GMT']) {
    assert.equal(parseHttpDate(bad), null, bad);
  }
});

test('entity-tag lists: weak and strong comparison', () => {
  assert.equal(etagListMatches('"a"', '"a"', false), true);
  assert.equal(etagListMatches('W/"a"', '"a"', true), true);
  assert.equal(etagListMatches('W/"a"', '"a"', false), false);
  assert.equal(etagListMatches('"x", W/"a"', '"a"', true), true);
  assert.equal(etagListMatches('"x","y"', '"a"', true), false);
  assert.equal(etagListMatches(' * ', '"a"', false), true);
  assert.equal(etagListMatches('"a', '"a"', true), false);
  assert.equal(etagListMatches('a, "a"', '"a"', true), true);
  assert.equal(etagListMatches('"a,b", "c"', '"c"', true), true);
});

test('preconditions in the order of RFC 9110 §13.2.2', () => {
  const later = 'Wed, 06 Mar 2024 00:00:00 GMT';
  const earlier = 'Mon, 04 Mar 2024 00:00:00 GMT';
  assert.equal(evaluatePreconditions(reader({}), v), 'proceed');
  assert.equal(evaluatePreconditions(reader({ 'if-match': '"nope"' }), v), 'failed');
  assert.equal(evaluatePreconditions(reader({ 'if-match': v.etag, 'if-unmodified-since': earlier }), v), 'proceed'); // IUS ignored with If-Match
  assert.equal(evaluatePreconditions(reader({ 'if-unmodified-since': earlier }), v), 'failed');
  assert.equal(evaluatePreconditions(reader({ 'if-unmodified-since': 'garbage' }), v), 'proceed');
  assert.equal(evaluatePreconditions(reader({ 'if-none-match': v.etag }), v), 'not-modified');
  assert.equal(evaluatePreconditions(reader({ 'if-none-match': v.etag, 'if-modified-since': earlier }), v), 'not-modified'); // IMS ignored with INM
  assert.equal(evaluatePreconditions(reader({ 'if-none-match': '"other"', 'if-modified-since': later }), v), 'proceed');
  assert.equal(evaluatePreconditions(reader({ 'if-modified-since': v.lastModified }), v), 'not-modified');
  assert.equal(evaluatePreconditions(reader({ 'if-modified-since': later }), v), 'not-modified');
  assert.equal(evaluatePreconditions(reader({ 'if-modified-since': earlier }), v), 'proceed');
});

test('If-Range: a strong ETag or the exact Last-Modified', () => {
  assert.equal(ifRangeAllows(reader({}), v), true);
  assert.equal(ifRangeAllows(reader({ 'if-range': v.etag }), v), true);
  assert.equal(ifRangeAllows(reader({ 'if-range': `W/${v.etag}` }), v), false);
  assert.equal(ifRangeAllows(reader({ 'if-range': v.lastModified }), v), true);
  assert.equal(ifRangeAllows(reader({ 'if-range': 'Wed, 06 Mar 2024 00:00:00 GMT' }), v), false);
});

test('Range parsing as nginx does it', () => {
  const p = (h: string, size = 1000) => parseRange(h, size);
  assert.deepEqual(p('bytes=0-4'), { kind: 'partial', ranges: [{ start: 0, end: 5 }] });
  assert.deepEqual(p('bytes=-5'), { kind: 'partial', ranges: [{ start: 995, end: 1000 }] });
  assert.deepEqual(p('bytes=990-'), { kind: 'partial', ranges: [{ start: 990, end: 1000 }] });
  assert.deepEqual(p('bytes=10-20,0-5'), { kind: 'partial', ranges: [{ start: 10, end: 21 }, { start: 0, end: 6 }] });
  assert.deepEqual(p('bytes=0-1,1000-1001'), { kind: 'partial', ranges: [{ start: 0, end: 2 }] });
  assert.deepEqual(p('bytes=0-999,0-999'), { kind: 'full' });
  assert.deepEqual(p('items=0-5'), { kind: 'full' });
  assert.deepEqual(p('bytes='), { kind: 'full' });
  assert.deepEqual(p('bytes=0-', 0), { kind: 'full' });
  for (const bad of ['bytes=1000-', 'bytes=5-2', 'bytes=-0', 'bytes=abc', 'bytes=0-5,', 'bytes=,0-5', 'bytes=-', 'bytes=0-99999999999999999999']) {
    assert.deepEqual(p(bad), { kind: 'unsatisfiable' }, bad);
  }
});

test("multipart/byteranges framing matches nginx's layout", () => {
  const mp = multipart([{ start: 0, end: 2 }, { start: 5, end: 6 }], 10, 'text/plain; charset=utf-8', 7);
  assert.equal(mp.contentType, 'multipart/byteranges; boundary=00000000000000000007');
  const framing = mp.pieces.map((piece) => ('literal' in piece ? piece.literal.toString('latin1') : `<${piece.range.start}-${piece.range.end}>`)).join('');
  assert.equal(framing, '\r\n--00000000000000000007\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-1/10\r\n\r\n<0-2>'
    + '\r\n--00000000000000000007\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 5-5/10\r\n\r\n<5-6>'
    + '\r\n--00000000000000000007--\r\n');
  assert.equal(mp.length, framing.length - '<0-2><5-6>'.length + 3);
});

test('ValidatorsMemo: one computation per file version; a new mtime, size or device computes again', () => {
  const memo = new ValidatorsMemo(2);
  const st = { dev: 1, ino: 7, mtimeMs: MTIME_MS, size: 1000 };
  const first = memo.of(st);
  assert.deepEqual(first, v);
  assert.equal(memo.of({ ...st }), first, 'the same version: the remembered object');
  assert.deepEqual(memo.of({ ...st, mtimeMs: MTIME_MS + 5000 }), validatorsFor(MTIME_MS + 5000, 1000));
  assert.deepEqual(memo.of({ ...st, size: 5 }), validatorsFor(MTIME_MS, 5));
  const otherDevice = memo.of({ ...st, dev: 2, mtimeMs: 0 });
  assert.deepEqual(otherDevice, validatorsFor(0, 1000), 'an equal inode number on another device is another file');
  // Bounded: past maxEntries the memo starts over instead of growing.
  for (let ino = 100; ino < 110; ino++) {
    assert.deepEqual(memo.of({ ...st, ino }), v);
    assert.ok(memo.size <= 2, `${memo.size} entries`);
  }
});
