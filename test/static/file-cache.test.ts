/** The small-file cache: keyed by the exact file version, bounded, least recently used out first. */
import test from 'node:test';
import assert from 'node:assert/strict';
import type fs from 'node:fs';
import { SmallFileCache } from '../../src/static/file-cache.js';

const stat = (size: number, over: Partial<fs.Stats> = {}): fs.Stats =>
  ({ dev: 1, ino: 2, size, mtimeMs: 1000, ctimeMs: 1000, ...over }) as fs.Stats;

test('a hit needs the same device, inode, size, mtime and ctime', () => {
  const c = new SmallFileCache();
  const data = Buffer.from('abcd');
  c.set('/a', stat(4), data);
  assert.equal(c.get('/a', stat(4)), data);
  for (const changed of [{ ino: 3 }, { dev: 9 }, { mtimeMs: 1001 }, { ctimeMs: 1001 }]) {
    c.set('/a', stat(4), data);
    assert.equal(c.get('/a', stat(4, changed)), undefined, JSON.stringify(changed));
    assert.equal(c.size, 0, 'a stale entry is dropped');
  }
  assert.equal(c.get('/a', stat(5)), undefined);
});

test('entries over the per-file limit, or not matching their stat, are not kept', () => {
  const c = new SmallFileCache({ maxEntryBytes: 8 });
  c.set('/big', stat(9), Buffer.alloc(9));
  c.set('/short', stat(5), Buffer.alloc(4));
  assert.equal(c.size, 0);
});

test('the total is bounded, evicting the least recently used', () => {
  const c = new SmallFileCache({ maxBytes: 30, maxEntryBytes: 10 });
  for (const name of ['/a', '/b', '/c']) c.set(name, stat(10), Buffer.alloc(10));
  assert.ok(c.get('/a', stat(10)));
  c.set('/d', stat(10), Buffer.alloc(10));
  assert.equal(c.bytes, 30);
  assert.equal(c.get('/b', stat(10)), undefined, '/b was least recently used');
  assert.ok(c.get('/a', stat(10)));
  assert.ok(c.get('/c', stat(10)));
  assert.ok(c.get('/d', stat(10)));
});
