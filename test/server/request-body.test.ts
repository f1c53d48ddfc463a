import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RequestBody, SPOOL_THRESHOLD_BYTES } from '../../src/server/request-body.js';

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
