/** Hot static responses within one event-loop turn: one stat and one lookup serve the turn, and nothing is held past it. */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Exchange } from '../../src/server/exchange.js';
import { SmallFileCache } from '../../src/static/file-cache.js';
import { HotResponses } from '../../src/static/hot-responses.js';
import type { FileResponse } from '../../src/static/serve.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function hotFile(cache: SmallFileCache, hot: HotResponses, file: string, target: string): void {
  const st = fs.statSync(file);
  cache.set(file, st, fs.readFileSync(file));
  const ex = { request: { method: 'GET', target, headers: ['Host', 'h'] } } as unknown as Exchange;
  const response: FileResponse = { path: file, stat: st, contentType: 'text/plain', contentEncoding: null, vary: false, cacheHeaders: [] };
  hot.remember(ex, response, st, '200 OK', ['Content-Type', 'text/plain', 'Content-Length', String(st.size)]);
}

test('a body the cache let go is not answered after the turn that checked it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-hot-turn-'));
  try {
    const a = path.join(dir, 'a.txt');
    const b = path.join(dir, 'b.txt');
    fs.writeFileSync(a, 'a'.repeat(600));
    fs.writeFileSync(b, 'b'.repeat(600));
    const cache = new SmallFileCache({ maxBytes: 1000 });
    const hot = new HotResponses(cache);
    hotFile(cache, hot, a, '/s/a.txt');
    await nextTurn();
    const first = hot.keptFor('/s/a.txt', ['Host', 'h']);
    assert.notEqual(first, null);
    assert.equal(first!.body.toString(), 'a'.repeat(600));
    // b's bytes push a's out of the cache (1000 bytes at most).
    cache.set(b, fs.statSync(b), fs.readFileSync(b));
    assert.equal(cache.size, 1);
    // In the turn whose stat found a's version, its answer stands (the same bytes of that version)...
    assert.equal(hot.keptFor('/s/a.txt', ['Host', 'h']), first);
    // ...but a conditional request still goes to the full stage.
    assert.equal(hot.keptFor('/s/a.txt', ['Host', 'h', 'If-None-Match', '"x"']), null);
    await nextTurn();
    // The next turn finds the bytes gone from the cache: no answer, and the entry is dropped.
    assert.equal(hot.keptFor('/s/a.txt', ['Host', 'h']), null);
    assert.equal(hot.size, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a rewrite is seen by the first request of the next turn, not later', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-hot-turn-'));
  try {
    const a = path.join(dir, 'a.txt');
    fs.writeFileSync(a, 'one');
    const cache = new SmallFileCache();
    const hot = new HotResponses(cache);
    hotFile(cache, hot, a, '/s/a.txt');
    await nextTurn();
    assert.equal(hot.keptFor('/s/a.txt', [])!.body.toString(), 'one');
    fs.writeFileSync(a, 'two!');
    await nextTurn();
    assert.equal(hot.keptFor('/s/a.txt', []), null);
    assert.equal(hot.size, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
