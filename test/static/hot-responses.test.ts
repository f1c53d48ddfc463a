/** Hot static responses: a kept 200 is sent only for the exact file version a stat finds, never for a conditional request. */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeTree, request, startStatic, type StaticServer } from './harness.js';

const servers: StaticServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function serve(files: Readonly<Record<string, string>>, extra: readonly string[] = []): Promise<{ s: StaticServer; root: string }> {
  const root = makeTree(files);
  const s = await startStatic(['--static-map', `/s=${root}`, ...extra]);
  servers.push(s);
  return { s, root };
}

test('a second plain GET is answered from the kept 200, byte for byte as the first', async () => {
  const { s } = await serve({ 'a.css': 'body{}' });
  const first = await request(s.port, '/s/a.css');
  assert.equal(s.files.hotTargets, 1);
  const second = await request(s.port, '/s/a.css');
  assert.equal(second.status, 200);
  assert.deepEqual(second.body, first.body);
  const withoutDate = (lines: readonly string[]): string[] => lines.filter((l) => !/^date:/i.test(l));
  assert.deepEqual(withoutDate(second.headerLines), withoutDate(first.headerLines));
});

test('hot answers reach the request log like any other: one finished exchange each, with status and bytes', async () => {
  const { s } = await serve({ 'a.css': 'body{}' });
  for (let i = 0; i < 3; i++) assert.equal((await request(s.port, '/s/a.css')).status, 200);
  assert.equal(s.files.hotTargets, 1);
  assert.deepEqual(s.done, ['GET /s/a.css 200 6', 'GET /s/a.css 200 6', 'GET /s/a.css 200 6']);
});

test('a file rewritten in place, or replaced by rename, is sent as it is now', async () => {
  const { s, root } = await serve({ 'a.txt': 'one' });
  await request(s.port, '/s/a.txt');
  fs.writeFileSync(path.join(root, 'a.txt'), 'two!');
  assert.equal((await request(s.port, '/s/a.txt')).body.toString(), 'two!');
  // Same size, and mtime put back: ctime and the inode still tell.
  const before = fs.statSync(path.join(root, 'a.txt'));
  await request(s.port, '/s/a.txt');
  fs.writeFileSync(path.join(root, 'b.tmp'), 'TWO!');
  fs.utimesSync(path.join(root, 'b.tmp'), before.atime, before.mtime);
  fs.renameSync(path.join(root, 'b.tmp'), path.join(root, 'a.txt'));
  assert.equal((await request(s.port, '/s/a.txt')).body.toString(), 'TWO!');
});

test('a deleted file falls through to the app', async () => {
  const { s, root } = await serve({ 'gone.txt': 'here' });
  await request(s.port, '/s/gone.txt');
  fs.unlinkSync(path.join(root, 'gone.txt'));
  const r = await request(s.port, '/s/gone.txt');
  assert.equal(r.body.toString(), 'app /s/gone.txt');
  assert.equal(s.files.hotTargets, 0);
});

test('Range and validators still get 206 and 304 after the 200 was kept', async () => {
  const { s } = await serve({ 'r.txt': '0123456789' });
  const full = await request(s.port, '/s/r.txt');
  const range = await request(s.port, '/s/r.txt', { Range: 'bytes=2-4' });
  assert.equal(range.status, 206);
  assert.equal(range.body.toString(), '234');
  const notModified = await request(s.port, '/s/r.txt', { 'If-None-Match': full.headers['etag']! });
  assert.equal(notModified.status, 304);
  const head = await request(s.port, '/s/r.txt', {}, 'HEAD');
  assert.equal(head.body.length, 0);
});

test('answers that depend on more than the file are not kept: precompressed siblings, expiry rules', async () => {
  const { s } = await serve({ 'g.js': 'x', 'g.js.gz': 'gz' }, ['--static-gzip-all']);
  await request(s.port, '/s/g.js');
  assert.equal(s.files.hotTargets, 0);
  const { s: e } = await serve({ 'e.css': 'y' }, ['--static-expires-type', 'text/css=60']);
  await request(e.port, '/s/e.css');
  assert.equal(e.files.hotTargets, 0);
});

test('a directory index is not kept: an index file created later must win', async () => {
  const { s, root } = await serve({ 'd/index.htm': 'htm' }, ['--static-index', 'index.html', '--static-index', 'index.htm']);
  assert.equal((await request(s.port, '/s/d/')).body.toString(), 'htm');
  assert.equal(s.files.hotTargets, 0);
  fs.writeFileSync(path.join(root, 'd', 'index.html'), 'html');
  assert.equal((await request(s.port, '/s/d/')).body.toString(), 'html');
});

test('pipelined GETs read in one turn share one stat, and a rewrite after them is seen by the next request', async () => {
  const { s, root } = await serve({ 'p.txt': 'old' });
  await request(s.port, '/s/p.txt');
  assert.equal(s.files.hotTargets, 1);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(s.port, '127.0.0.1');
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      got += d;
      if ((got.match(/\r\n\r\nold/g) ?? []).length === 3) {
        socket.end();
        resolve(got);
      }
    });
    socket.on('error', reject);
    socket.write('GET /s/p.txt HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3));
  });
  assert.equal((raw.match(/HTTP\/1\.1 200 OK/g) ?? []).length, 3);
  fs.writeFileSync(path.join(root, 'p.txt'), 'new!');
  assert.equal((await request(s.port, '/s/p.txt')).body.toString(), 'new!');
});
