import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RequestBody, SPOOL_THRESHOLD_BYTES } from '../../src/server/request-body.js';
import { SpoolBudget } from '../../src/server/spool-budget.js';

async function readAll(body: RequestBody, piece: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let c = await body.readChunk(piece); c !== null; c = await body.readChunk(piece)) parts.push(c);
  return Buffer.concat(parts);
}

test('a small body stays in memory and reads back whole', async () => {
  const b = new RequestBody();
  b.append(Buffer.from('hello '));
  b.append(Buffer.from('world'));
  await b.finish();
  assert.ok(b.memoryChunks() !== null);
  assert.equal(b.totalBytes, 11);
  assert.equal((await readAll(b, 4)).toString(), 'hello world');
});

test('a large body spools to an unlinked file and reads back byte for byte', async () => {
  const data = randomBytes(SPOOL_THRESHOLD_BYTES * 3 + 123);
  const b = new RequestBody();
  for (let i = 0; i < data.length; i += 65536) b.append(data.subarray(i, i + 65536));
  await b.finish();
  assert.equal(b.memoryChunks(), null, 'spooled to disk');
  assert.ok((await readAll(b, 200_000)).equals(data));
  b.dispose();
});

test('appended views are copied (the parser reuses its buffers)', async () => {
  const src = Buffer.from('abc');
  const b = new RequestBody();
  b.append(src);
  src.fill(0x7a);
  await b.finish();
  assert.equal((await readAll(b, 10)).toString(), 'abc');
});

test('spool-limit: a declared body takes its length at once; one that does not fit is refused; dispose gives it back', async () => {
  const budget = new SpoolBudget(3 * SPOOL_THRESHOLD_BYTES);
  const first = new RequestBody(budget);
  assert.equal(first.reserve(2 * SPOOL_THRESHOLD_BYTES), true);
  assert.equal(budget.usedBytes, 2 * SPOOL_THRESHOLD_BYTES);
  const second = new RequestBody(budget);
  assert.equal(second.reserve(2 * SPOOL_THRESHOLD_BYTES), false);
  assert.equal(second.refused, true);
  assert.equal(budget.usedBytes, 2 * SPOOL_THRESHOLD_BYTES, 'a refused body takes nothing');
  const small = new RequestBody(budget);
  assert.equal(small.reserve(SPOOL_THRESHOLD_BYTES), true, 'a body that stays in memory needs no spool space');
  assert.equal(budget.usedBytes, 2 * SPOOL_THRESHOLD_BYTES);
  first.dispose();
  first.dispose();
  assert.equal(budget.usedBytes, 0, 'given back once');
  assert.equal(new RequestBody(budget).reserve(2 * SPOOL_THRESHOLD_BYTES), true);
});

test('spool-limit: a chunked body takes spool space as it grows and is refused at the cap, keeping nothing', async () => {
  const budget = new SpoolBudget(2 * SPOOL_THRESHOLD_BYTES);
  const b = new RequestBody(budget);
  assert.equal(b.reserve(-1), true);
  const piece = Buffer.alloc(65536, 1);
  let appended = 0;
  while (!b.refused && appended < 4 * SPOOL_THRESHOLD_BYTES) {
    b.append(piece);
    appended += piece.length;
  }
  assert.equal(b.refused, true);
  assert.equal(appended, 2 * SPOOL_THRESHOLD_BYTES + piece.length, 'refused at the first byte past the cap');
  assert.equal(budget.usedBytes, 0, 'a refused body gives its space back at once');
  b.append(piece);
  assert.equal(budget.usedBytes, 0, 'and takes nothing more');
});

test('spool-limit 0: no cap', () => {
  const budget = new SpoolBudget(0);
  assert.equal(new RequestBody(budget).reserve(Number.MAX_SAFE_INTEGER), true);
});
