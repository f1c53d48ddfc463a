/** Content-Type for the common web types, with no /etc/mime.types at all, and mimefile overrides. */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_TYPE, MimeTypes, parseMimeTypes } from '../../src/static/mime.js';
import { makeTree } from './harness.js';

const EXPECTED: Readonly<Record<string, string>> = {
  'a.css': 'text/css; charset=utf-8',
  'a.js': 'text/javascript; charset=utf-8',
  'a.mjs': 'text/javascript; charset=utf-8',
  'a.json': 'application/json; charset=utf-8',
  'a.js.map': 'application/json; charset=utf-8',
  'a.html': 'text/html; charset=utf-8',
  'a.htm': 'text/html; charset=utf-8',
  'a.txt': 'text/plain; charset=utf-8',
  'a.xml': 'text/xml; charset=utf-8',
  'a.svg': 'image/svg+xml; charset=utf-8',
  'a.png': 'image/png',
  'a.jpg': 'image/jpeg',
  'a.jpeg': 'image/jpeg',
  'a.gif': 'image/gif',
  'a.webp': 'image/webp',
  'a.avif': 'image/avif',
  'a.ico': 'image/x-icon',
  'a.woff': 'font/woff',
  'a.woff2': 'font/woff2',
  'a.ttf': 'font/ttf',
  'a.otf': 'font/otf',
  'a.eot': 'application/vnd.ms-fontobject',
  'a.pdf': 'application/pdf',
  'a.zip': 'application/zip',
  'a.gz': 'application/gzip',
  'a.wasm': 'application/wasm',
  'a.mp4': 'video/mp4',
  'a.webm': 'video/webm',
  'a.mp3': 'audio/mpeg',
  'a.ogg': 'audio/ogg',
  'a.wav': 'audio/wav',
  'a.csv': 'text/csv; charset=utf-8',
  'a.md': 'text/markdown; charset=utf-8',
  'a.yaml': 'application/yaml; charset=utf-8',
  'a.yml': 'application/yaml; charset=utf-8',
  'site.webmanifest': 'application/manifest+json; charset=utf-8',
  'A.CSS': 'text/css; charset=utf-8',
  '/srv/static/admin/css/base.css': 'text/css; charset=utf-8',
};

test('the built-in table covers the common web types (no mimefile, no /etc/mime.types)', () => {
  const m = new MimeTypes([]);
  for (const [name, type] of Object.entries(EXPECTED)) assert.equal(m.lookup(name), type, name);
});

test('unknown, missing and dot-file extensions are application/octet-stream', () => {
  const m = new MimeTypes();
  for (const name of ['a.unknownext', 'Makefile', '.htaccess', '/srv/x.d/file', 'a.']) assert.equal(m.lookup(name), DEFAULT_TYPE, name);
});

const dir = makeTree({
  'broken.types': [
    '# a mime.types that gets the web wrong',
    'text/plain css js svg woff2 mjs',
    'application/x-custom   cst  CST2',
    'image/x-mine png',
    'text/x-python py',
    'types { application/x-ngx ngx; }',
    'not-a-type foo',
  ].join('\n'),
}, 'berth-mime-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('mimefile adds and overrides types, but never makes CSS/JS/SVG/fonts text/plain', () => {
  const m = new MimeTypes([path.join(dir, 'broken.types')]);
  assert.equal(m.lookup('a.css'), 'text/css; charset=utf-8');
  assert.equal(m.lookup('a.js'), 'text/javascript; charset=utf-8');
  assert.equal(m.lookup('a.mjs'), 'text/javascript; charset=utf-8');
  assert.equal(m.lookup('a.svg'), 'image/svg+xml; charset=utf-8');
  assert.equal(m.lookup('a.woff2'), 'font/woff2');
  assert.equal(m.lookup('a.cst'), 'application/x-custom');
  assert.equal(m.lookup('a.cst2'), 'application/x-custom');
  assert.equal(m.lookup('a.png'), 'image/x-mine');
  assert.equal(m.lookup('a.py'), 'text/x-python; charset=utf-8');
  assert.equal(m.lookup('a.foo'), DEFAULT_TYPE);
});

test('an unreadable mimefile is reported and the built-in table is used', () => {
  const errors: string[] = [];
  const m = new MimeTypes([path.join(dir, 'missing.types')], (file) => errors.push(file));
  assert.deepEqual(errors, [path.join(dir, 'missing.types')]);
  assert.equal(m.lookup('a.css'), 'text/css; charset=utf-8');
});

test('parseMimeTypes reads the /etc/mime.types format (and nginx-style trailing semicolons)', () => {
  const t = parseMimeTypes('# comment\napplication/x-a\ta b\n\ntext/x-b c; # trailing\nbad\n');
  assert.deepEqual([...t], [['a', 'application/x-a'], ['b', 'application/x-a'], ['c', 'text/x-b']]);
});

test("Debian's /etc/mime.types does not change the pinned web types", () => {
  assert.ok(fs.existsSync('/etc/mime.types'), "/etc/mime.types is missing: install Debian's media-types (scripts/install-test-deps.sh does)");
  const m = new MimeTypes(['/etc/mime.types']);
  for (const name of ['a.css', 'a.js', 'a.svg', 'a.woff2', 'a.json', 'a.html']) assert.equal(m.lookup(name), new MimeTypes().lookup(name), name);
});
