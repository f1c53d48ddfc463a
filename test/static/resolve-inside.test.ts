/**
 * resolveInside against a table of hostile request paths, on a real tree that has a secret
 * file next to the root, symlinks leading out of it (to a file, to a directory, absolute) and
 * in it, a FIFO, and a sibling directory whose name starts like the root's.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { decodePath, isInside, resolveInside, VerifiedPaths } from '../../src/static/resolve-inside.js';
import { makeTree } from './harness.js';

const base = makeTree({
  'secret.txt': 'TOP SECRET',
  'root/ok.txt': 'ok',
  'root/sub/inner.txt': 'inner',
  'root/a b.txt': 'space',
  'root/ü.txt': 'umlaut',
  'root/dir/': '',
  'root2/x.txt': 'sibling',
  'safe/s.txt': 'safe',
});
const root = path.join(base, 'root');
fs.symlinkSync('../secret.txt', path.join(root, 'link-out'));
fs.symlinkSync('..', path.join(root, 'link-dir-out'));
fs.symlinkSync('/etc/passwd', path.join(root, 'link-abs-out'));
fs.symlinkSync('sub/inner.txt', path.join(root, 'link-in'));
fs.symlinkSync('../safe/s.txt', path.join(root, 'link-safe'));
fs.symlinkSync('../root2', path.join(root, 'link-sibling'));
fs.symlinkSync('loop', path.join(root, 'loop'));
fs.symlinkSync(root, path.join(base, 'root-link'));
execFileSync('mkfifo', [path.join(root, 'fifo')]);
after(() => fs.rmSync(base, { recursive: true, force: true }));

type Expect = 'ok' | 'outside' | 'not-found' | 'directory' | 'bad-path';

/** [request path, expected result, (for ok) the file it must be, relative to root]. */
const TABLE: readonly (readonly [string, Expect, string?])[] = [
  ['/ok.txt', 'ok', 'ok.txt'],
  ['/sub/inner.txt', 'ok', 'sub/inner.txt'],
  ['/a%20b.txt', 'ok', 'a b.txt'],
  ['/%C3%BC.txt', 'ok', 'ü.txt'],
  ['/\u00c3\u00bc.txt', 'ok', 'ü.txt'], // raw UTF-8 bytes as the front hands them over (latin1)
  ['/link-in', 'ok', 'sub/inner.txt'],
  ['', 'directory'],
  ['/', 'directory'],
  ['/dir', 'directory'],
  ['/dir/', 'directory'],
  ['/missing.txt', 'not-found'],
  ['/ok.txt/', 'not-found'],
  ['/ok.txt/x', 'not-found'],
  ['/fifo', 'not-found'],
  ['/loop', 'not-found'],
  // dot segments, plain and encoded
  ['/../secret.txt', 'bad-path'],
  ['/..', 'bad-path'],
  ['/.', 'bad-path'],
  ['/./ok.txt', 'bad-path'],
  ['/sub/./inner.txt', 'bad-path'],
  ['/sub/../../secret.txt', 'bad-path'],
  ['/%2e%2e/secret.txt', 'bad-path'],
  ['/%2E%2e/secret.txt', 'bad-path'],
  ['/.%2e/secret.txt', 'bad-path'],
  ['/%2e./secret.txt', 'bad-path'],
  ['/sub/%2e%2e/%2e%2e/secret.txt', 'bad-path'],
  ['/../root2/x.txt', 'bad-path'],
  // encoded separators
  ['/..%2fsecret.txt', 'bad-path'],
  ['/%2e%2e%2fsecret.txt', 'bad-path'],
  ['/%2fetc%2fpasswd', 'bad-path'],
  ['/sub/inner.txt%2f..%2f..%2fsecret.txt', 'bad-path'],
  ['/sub%2finner.txt', 'bad-path'],
  // backslashes, raw and encoded
  ['/..\\secret.txt', 'bad-path'],
  ['/sub\\..\\..\\secret.txt', 'bad-path'],
  ['/..%5csecret.txt', 'bad-path'],
  ['/%5c..%5csecret.txt', 'bad-path'],
  // absolute-looking and empty segments
  ['//etc/passwd', 'bad-path'],
  ['///etc/passwd', 'bad-path'],
  ['/sub//../../secret.txt', 'bad-path'],
  ['/sub//inner.txt', 'bad-path'],
  ['secret.txt', 'bad-path'],
  ['../secret.txt', 'bad-path'],
  [' /ok.txt', 'bad-path'],
  // Windows drives
  ['/C:/Windows/win.ini', 'bad-path'],
  ['/c:%5cwindows', 'bad-path'],
  ['/C%3a/x', 'bad-path'],
  // NUL and control characters
  ['/ok.txt%00.png', 'bad-path'],
  ['/ok.txt\u0000', 'bad-path'],
  ['/%0a', 'bad-path'],
  ['/ok%7f.txt', 'bad-path'],
  // broken encodings and overlong UTF-8 dots
  ['/%', 'bad-path'],
  ['/%2', 'bad-path'],
  ['/%zz', 'bad-path'],
  ['/%c0%ae%c0%ae/secret.txt', 'bad-path'],
  ['/%e0%80%ae%e0%80%ae/secret.txt', 'bad-path'],
  ['/%ff', 'bad-path'],
  // decoded once only: %252e stays the literal name "%2e"
  ['/%252e%252e/secret.txt', 'not-found'],
  ['/%252e%252e%252fsecret.txt', 'not-found'],
  // look-alike dots are just names
  ['/%ef%bc%8e%ef%bc%8e/secret.txt', 'not-found'],
  ['/\u2025/secret.txt', 'not-found'],
  // symlinks leading out
  ['/link-out', 'outside'],
  ['/link-dir-out', 'outside'],
  ['/link-dir-out/secret.txt', 'outside'],
  ['/link-dir-out/root2/x.txt', 'outside'],
  ['/link-abs-out', 'outside'],
  ['/link-safe', 'outside'],
  ['/link-sibling/x.txt', 'outside'],
];

test(`the hostile-path table has at least 30 hostile entries (${TABLE.filter(([, e]) => e !== 'ok').length})`, () => {
  assert.ok(TABLE.filter(([, e]) => e !== 'ok').length >= 30);
});

test('every path resolves as the table says, and nothing resolves outside the root', async () => {
  const realRoot = fs.realpathSync(root);
  const secret = fs.realpathSync(path.join(base, 'secret.txt'));
  for (const [req, expected, file] of TABLE) {
    const r = resolveInside(root, req, { allowSymlinksInto: [] });
    const got = r.ok ? 'ok' : r.reason;
    assert.equal(got, expected, `${JSON.stringify(req)}: expected ${expected}, got ${got}`);
    if (r.ok) {
      assert.ok(isInside(realRoot, r.path), `${JSON.stringify(req)} → ${r.path} is outside ${realRoot}`);
      assert.notEqual(r.path, secret);
      assert.equal(r.path, fs.realpathSync(path.join(root, file!)), JSON.stringify(req));
      assert.ok(r.stat.isFile());
    }
  }
});

test('with a memo of proven paths every answer is the same, on the first and on the second pass', async () => {
  const verified = new VerifiedPaths();
  for (const pass of [1, 2]) {
    for (const [req, expected, file] of TABLE) {
      const r = resolveInside(root, req, { allowSymlinksInto: [], verified });
      assert.equal(r.ok ? 'ok' : r.reason, expected, `pass ${pass}: ${JSON.stringify(req)}`);
      if (r.ok) assert.equal(r.path, fs.realpathSync(path.join(root, file!)), `pass ${pass}: ${JSON.stringify(req)}`);
    }
  }
  // Only request paths that led to a file are remembered, one entry per spelling: /ok.txt,
  // /sub/inner.txt, /a%20b.txt, ü.txt encoded and raw, /link-in.
  assert.equal(verified.size, TABLE.filter(([, e]) => e === 'ok').length);
  assert.equal(verified.size, 6);
});

test('the memo never serves across a swap: a directory turned into a symlink out, a file replaced, a release switched', async () => {
  const dir = makeTree({ 'outside/sub/inner.txt': 'SECRET', 'r/sub/inner.txt': 'inner', 'r/f.txt': 'one', 'rel1/a.css': 'one', 'rel2/a.css': 'two' });
  try {
    const r = path.join(dir, 'r');
    const verified = new VerifiedPaths();
    const opts = { allowSymlinksInto: [], verified };
    assert.ok((resolveInside(r, '/sub/inner.txt', opts)).ok);
    // The directory on the way is swapped for a symlink to a tree with the same names outside.
    fs.renameSync(path.join(r, 'sub'), path.join(dir, 'old-sub'));
    fs.symlinkSync(path.join(dir, 'outside', 'sub'), path.join(r, 'sub'));
    assert.deepEqual(resolveInside(r, '/sub/inner.txt', opts), { ok: false, reason: 'outside' });

    // A freed inode number is handed to the next new file: delete a proven file, create one
    // outside (it tends to get the same number), and lead the proven path to it.
    fs.mkdirSync(path.join(r, 'd'));
    fs.writeFileSync(path.join(r, 'd', 'x.txt'), 'inside');
    assert.ok((resolveInside(r, '/d/x.txt', opts)).ok);
    fs.rmSync(path.join(r, 'd'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'outside', 'd'));
    fs.writeFileSync(path.join(dir, 'outside', 'd', 'x.txt'), 'SECRET');
    fs.symlinkSync(path.join(dir, 'outside', 'd'), path.join(r, 'd'));
    assert.deepEqual(resolveInside(r, '/d/x.txt', opts), { ok: false, reason: 'outside' });

    const first = resolveInside(r, '/f.txt', opts);
    assert.ok(first.ok);
    fs.rmSync(path.join(r, 'f.txt'));
    fs.writeFileSync(path.join(r, 'f.txt'), 'two!');
    const second = resolveInside(r, '/f.txt', opts);
    assert.ok(second.ok && second.stat.size === 4, 'the new file is resolved afresh');
    assert.deepEqual(resolveInside(r, '/f.txt/', opts), { ok: false, reason: 'not-found' });
    fs.rmSync(path.join(r, 'f.txt'));
    assert.deepEqual(resolveInside(r, '/f.txt', opts), { ok: false, reason: 'not-found' });

    // A deploy that switches a `current` symlink root to a new release serves the new release.
    const current = path.join(dir, 'current');
    fs.symlinkSync(path.join(dir, 'rel1'), current);
    const one = resolveInside(current, '/a.css', opts);
    assert.equal(one.ok && one.path, fs.realpathSync(path.join(dir, 'rel1', 'a.css')));
    fs.symlinkSync(path.join(dir, 'rel2'), `${current}.new`);
    fs.renameSync(`${current}.new`, current);
    const two = resolveInside(current, '/a.css', opts);
    assert.equal(two.ok && two.path, fs.realpathSync(path.join(dir, 'rel2', 'a.css')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the memo is bounded', async () => {
  const verified = new VerifiedPaths(2);
  for (const req of ['/ok.txt', '/sub/inner.txt', '/a%20b.txt']) assert.ok((resolveInside(root, req, { allowSymlinksInto: [], verified })).ok);
  assert.equal(verified.size, 2);
});

test('a static-safe directory admits symlinks into it, and only into it', async () => {
  const safe = [path.join(base, 'safe')];
  const inSafe = resolveInside(root, '/link-safe', { allowSymlinksInto: safe });
  assert.ok(inSafe.ok);
  assert.equal(inSafe.ok && inSafe.path, fs.realpathSync(path.join(base, 'safe', 's.txt')));
  for (const req of ['/link-out', '/link-dir-out/secret.txt', '/link-abs-out', '/../safe/s.txt', '/link-sibling/x.txt']) {
    const r = resolveInside(root, req, { allowSymlinksInto: safe });
    assert.equal(r.ok, false, req);
  }
});

test('a root that is itself a symlink is followed once, then the same rules apply', async () => {
  const viaLink = path.join(base, 'root-link');
  const r = resolveInside(viaLink, '/ok.txt', { allowSymlinksInto: [] });
  assert.ok(r.ok);
  assert.equal(r.ok && r.path, fs.realpathSync(path.join(root, 'ok.txt')));
  assert.deepEqual(resolveInside(viaLink, '/link-out', { allowSymlinksInto: [] }), { ok: false, reason: 'outside' });
  assert.deepEqual(resolveInside(viaLink, '/../secret.txt', { allowSymlinksInto: [] }), { ok: false, reason: 'bad-path' });
});

test('a root that does not exist finds nothing; a root that is a file serves exactly that file', async () => {
  assert.deepEqual(resolveInside(path.join(base, 'nope'), '/ok.txt', { allowSymlinksInto: [] }), { ok: false, reason: 'not-found' });
  const file = path.join(root, 'ok.txt');
  const whole = resolveInside(file, '', { allowSymlinksInto: [] });
  assert.ok(whole.ok);
  assert.equal((resolveInside(file, '/x', { allowSymlinksInto: [] })).ok, false);
  assert.equal((resolveInside(file, '/../secret.txt', { allowSymlinksInto: [] })).ok, false);
});

test('isInside compares whole segments', () => {
  assert.equal(isInside('/srv/static', '/srv/static'), true);
  assert.equal(isInside('/srv/static', '/srv/static/a.css'), true);
  assert.equal(isInside('/srv/static', '/srv/static2/a.css'), false);
  assert.equal(isInside('/srv/static', '/srv'), false);
  assert.equal(isInside('/', '/etc/passwd'), true);
});

test('decodePath decodes each segment exactly once', () => {
  assert.deepEqual(decodePath('/a%20b/c%25d/'), ['a b', 'c%d', '']);
  assert.deepEqual(decodePath('/%252e'), ['%2e']);
  assert.equal(decodePath('/a/%2e%2e'), null);
  assert.deepEqual(decodePath(''), []);
});
