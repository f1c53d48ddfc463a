/**
 * StaticFiles behind Berth's HTTP front: which requests are served from which file, and which
 * fall through to the app (uWSGI's rule: anything not found, skipped or not GET/HEAD).
 */
import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { acceptsEncoding } from '../../src/static/static-files.js';
import { makeTree, request, startStatic, type StaticServer } from './harness.js';

const CSS = 'body { color: red; }\n'.repeat(20);
const base = makeTree({
  'static/css/site.css': CSS,
  'static/css/site.css.gz': zlib.gzipSync(CSS),
  'static/css/site.css.br': zlib.brotliCompressSync(CSS),
  'static/js/app.js': 'console.log(1);\n',
  'static/js/app.js.gz': zlib.gzipSync('console.log(1);\n'),
  'static/admin/base.css': 'admin',
  'static/docs/index.html': '<h1>docs</h1>',
  'static/empty-dir/': '',
  'static/settings.py': 'SECRET_KEY = "x"',
  'static/a b/ü.txt': 'unicode',
  'extra/only-here.txt': 'from the second root',
  'extra/css/site.css': 'shadowed',
  'admin-override/base.css': 'override',
  'media/uploads/photo.jpg': 'JPEG',
  'site/site-static/map2.txt': 'kept mountpoint',
  'public/robots.txt': 'User-agent: *',
  'public/favicon.ico': 'ICO',
  'secret.txt': 'SECRET',
});
fs.symlinkSync(path.join(base, 'secret.txt'), path.join(base, 'static', 'leak.txt'));

let s: StaticServer;
before(async () => {
  s = await startStatic([
    '--static-map', `/static=${base}/static`,
    '--static-map', `/static=${base}/extra`,
    '--static-map', `/static/admin=${base}/admin-override`,
    '--static-map', `/media=${base}/media`,
    '--static-map2', `/site-static=${base}/site`,
    '--static-map', `/robots.txt=${base}/public/robots.txt`,
    '--check-static', `${base}/public`,
    '--static-index', 'index.html',
    '--static-skip-ext', '.py',
    '--static-gzip-all',
    '--static-expires-type', 'text/css=3600',
    '--static-expires', `${base}/static/js/.*\\.js$ 600`,
    '--static-expires-uri', '^/media/ 60',
  ]);
});
after(async () => {
  await s.stop();
  fs.rmSync(base, { recursive: true, force: true });
});

describe('mapping', () => {
  test('static-map strips the mountpoint', async () => {
    const r = await request(s.port, '/static/js/app.js');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'console.log(1);\n');
    assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
  });

  test('several roots for one mountpoint are tried in order', async () => {
    assert.equal((await request(s.port, '/static/only-here.txt')).body.toString(), 'from the second root');
    assert.equal((await request(s.port, '/static/css/site.css', { 'Accept-Encoding': 'identity' })).body.toString(), CSS);
  });

  test('the longest mountpoint is tried first, whatever the order given', async () => {
    assert.equal((await request(s.port, '/static/admin/base.css')).body.toString(), 'override');
  });

  test('static-map2 keeps the mountpoint in the file path', async () => {
    assert.equal((await request(s.port, '/site-static/map2.txt')).body.toString(), 'kept mountpoint');
  });

  test('a mapping may name one file', async () => {
    const r = await request(s.port, '/robots.txt');
    assert.equal(r.body.toString(), 'User-agent: *');
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal((await request(s.port, '/robots.txt/x')).body.toString(), 'app /robots.txt/x');
  });

  test('check-static roots are tried for every path', async () => {
    assert.equal((await request(s.port, '/favicon.ico')).body.toString(), 'ICO');
    assert.equal((await request(s.port, '/favicon.ico')).headers['content-type'], 'image/x-icon');
  });

  test('percent-encoded names are decoded once', async () => {
    assert.equal((await request(s.port, '/static/a%20b/%C3%BC.txt')).body.toString(), 'unicode');
    assert.equal((await request(s.port, '/st%61tic/js/app.js')).status, 200);
  });

  test('mountpoints match whole segments', async () => {
    assert.equal((await request(s.port, '/staticfoo/js/app.js')).body.toString(), 'app /staticfoo/js/app.js');
  });

  test('a query string does not change the file', async () => {
    assert.equal((await request(s.port, '/static/js/app.js?v=123')).body.toString(), 'console.log(1);\n');
  });
});

describe('fallthrough to the app', () => {
  test('a missing file goes to the app (uWSGI)', async () => {
    const r = await request(s.port, '/static/missing.css?x=1');
    assert.equal(r.body.toString(), 'app /static/missing.css?x=1');
  });

  test('paths outside every mapping go to the app', async () => {
    assert.equal((await request(s.port, '/admin/login/')).body.toString(), 'app /admin/login/');
  });

  test('only GET and HEAD are served statically', async () => {
    const r = await request(s.port, '/static/js/app.js', { 'Content-Length': '0' }, 'POST');
    assert.equal(r.body.toString(), 'app /static/js/app.js');
    assert.equal((await request(s.port, '/static/js/app.js', {}, 'HEAD')).status, 200);
  });

  test('static-skip-ext files are never served', async () => {
    assert.equal((await request(s.port, '/static/settings.py')).body.toString(), 'app /static/settings.py');
    assert.equal((await request(s.port, '/static/settings.PY')).body.toString(), 'app /static/settings.PY');
  });

  test('traversal attempts are not served', async () => {
    for (const t of ['/static/../secret.txt', '/static/%2e%2e/secret.txt', '/static/..%2fsecret.txt', '/static//etc/passwd', '/static/leak.txt']) {
      const r = await request(s.port, t);
      assert.notEqual(r.body.toString(), 'SECRET', t);
      assert.equal(r.body.toString(), `app ${t}`, t);
    }
    assert.ok(s.logs.some((l) => /leak\.txt leads outside/.test(l)), s.logs.join('\n'));
  });

  test('directories are never listed: without an index they fall through', async () => {
    assert.equal((await request(s.port, '/static/empty-dir/')).body.toString(), 'app /static/empty-dir/');
    assert.equal((await request(s.port, '/static/css/')).body.toString(), 'app /static/css/');
  });
});

describe('index files', () => {
  test('a directory is served through its static-index file', async () => {
    const r = await request(s.port, '/static/docs/');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '<h1>docs</h1>');
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  });

  test("a directory without its '/' is redirected first, keeping the query", async () => {
    const r = await request(s.port, '/static/docs?lang=fr');
    assert.equal(r.status, 301);
    assert.equal(r.headers['location'], '/static/docs/?lang=fr');
  });
});

describe('precompressed siblings', () => {
  test('br is preferred, then gzip, with Vary and Content-Encoding', async () => {
    const br = await request(s.port, '/static/css/site.css', { 'Accept-Encoding': 'gzip, deflate, br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers['vary'], 'Accept-Encoding');
    assert.equal(br.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(zlib.brotliDecompressSync(br.body).toString(), CSS);
    const gz = await request(s.port, '/static/css/site.css', { 'Accept-Encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(zlib.gunzipSync(gz.body).toString(), CSS);
    assert.notEqual(gz.headers['etag'], br.headers['etag']);
  });

  test('a client that does not accept them gets the file itself, still with Vary', async () => {
    for (const ae of [undefined, 'identity', 'gzip;q=0, br;q=0', 'deflate']) {
      const r = await request(s.port, '/static/css/site.css', ae === undefined ? {} : { 'Accept-Encoding': ae });
      assert.equal(r.headers['content-encoding'], undefined, String(ae));
      assert.equal(r.headers['vary'], 'Accept-Encoding');
      assert.equal(r.body.toString(), CSS);
    }
  });

  test('without a sibling there is no Vary', async () => {
    const r = await request(s.port, '/static/admin/base.css', { 'Accept-Encoding': 'gzip, br' });
    assert.equal(r.headers['vary'], undefined);
    assert.equal(r.headers['content-encoding'], undefined);
  });

  test('gzip only when only gzip exists', async () => {
    const r = await request(s.port, '/static/js/app.js', { 'Accept-Encoding': 'br, gzip' });
    assert.equal(r.headers['content-encoding'], 'gzip');
  });

  test('Accept-Encoding is read by RFC 9110 §12.5.3', () => {
    assert.equal(acceptsEncoding('gzip, br', 'br'), true);
    assert.equal(acceptsEncoding('GZIP;q=0.5', 'gzip'), true);
    assert.equal(acceptsEncoding('gzip;q=0', 'gzip'), false);
    assert.equal(acceptsEncoding('*', 'br'), true);
    assert.equal(acceptsEncoding('*, br;q=0', 'br'), false);
    assert.equal(acceptsEncoding('identity', 'gzip'), false);
    assert.equal(acceptsEncoding(undefined, 'gzip'), false);
  });
});

describe('expiry headers', () => {
  const maxAge = (h: Record<string, string>): number => Number(/max-age=(\d+)/.exec(h['cache-control'] ?? '')?.[1]);
  const expiresIn = (h: Record<string, string>): number => (Date.parse(h['expires']!) - Date.now()) / 1000;

  test('static-expires-type by MIME type', async () => {
    const r = await request(s.port, '/static/admin/base.css');
    assert.equal(maxAge(r.headers), 3600);
    assert.ok(Math.abs(expiresIn(r.headers) - 3600) < 5, r.headers['expires']);
  });

  test('static-expires by the file path wins over the type', async () => {
    assert.equal(maxAge((await request(s.port, '/static/js/app.js')).headers), 600);
  });

  test('static-expires-uri by the request URI', async () => {
    const r = await request(s.port, '/media/uploads/photo.jpg');
    assert.equal(maxAge(r.headers), 60);
    assert.equal(r.headers['content-type'], 'image/jpeg');
  });

  test('304 answers keep the cache headers', async () => {
    const first = await request(s.port, '/static/admin/base.css');
    const r = await request(s.port, '/static/admin/base.css', { 'If-None-Match': first.headers['etag']! });
    assert.equal(r.status, 304);
    assert.equal(maxAge(r.headers), 3600);
    assert.equal(r.body.length, 0);
    assert.equal(r.headers['content-length'], undefined);
  });

  test('no rule, no header', async () => {
    const r = await request(s.port, '/static/only-here.txt');
    assert.equal(r.headers['cache-control'], undefined);
    assert.equal(r.headers['expires'], undefined);
  });
});

describe('static-404 and inactive configurations', () => {
  let strict: StaticServer;
  before(async () => {
    strict = await startStatic(['--static-map', `/static=${base}/static`, '--static-404']);
  });
  after(() => strict.stop());

  test('a missing file below a mountpoint is 404, not the app', async () => {
    const r = await request(strict.port, '/static/missing.css');
    assert.equal(r.status, 404);
    assert.equal((await request(strict.port, '/static/../secret.txt')).status, 404);
    assert.equal((await request(strict.port, '/static/empty-dir/')).status, 404);
    assert.deepEqual(strict.appHits, []);
  });

  test('other paths still go to the app', async () => {
    assert.equal((await request(strict.port, '/other')).body.toString(), 'app /other');
    assert.equal((await request(strict.port, '/static/css/site.css', { 'Content-Length': '0' }, 'PUT')).body.toString(), 'app /static/css/site.css');
  });

  test('without static options StaticFiles is inactive and passes everything on', async () => {
    const none = await startStatic([]);
    try {
      assert.equal(none.files.active, false);
      assert.equal((await request(none.port, '/static/css/site.css')).body.toString(), 'app /static/css/site.css');
    } finally {
      await none.stop();
    }
  });
});

describe('files that change', () => {
  test('a rewritten small file is served fresh (the memory cache notices)', async () => {
    const dir = makeTree({ 'f.txt': 'one' });
    const srv = await startStatic(['--static-map', `/f=${dir}`]);
    try {
      assert.equal((await request(srv.port, '/f/f.txt')).body.toString(), 'one');
      fs.writeFileSync(path.join(dir, 'f.txt'), 'two!');
      assert.equal((await request(srv.port, '/f/f.txt')).body.toString(), 'two!');
      fs.rmSync(path.join(dir, 'f.txt'));
      fs.writeFileSync(path.join(dir, 'f.txt'), 'six');
      assert.equal((await request(srv.port, '/f/f.txt')).body.toString(), 'six');
      fs.rmSync(path.join(dir, 'f.txt'));
      assert.equal((await request(srv.port, '/f/f.txt')).body.toString(), 'app /f/f.txt');
    } finally {
      await srv.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a root created after start (collectstatic) is picked up', async () => {
    const dir = makeTree({});
    const srv = await startStatic(['--static-map', `/static=${dir}/collected`]);
    try {
      assert.equal((await request(srv.port, '/static/a.css')).body.toString(), 'app /static/a.css');
      fs.mkdirSync(path.join(dir, 'collected'));
      fs.writeFileSync(path.join(dir, 'collected', 'a.css'), 'a{}');
      const r = await request(srv.port, '/static/a.css');
      assert.equal(r.body.toString(), 'a{}');
      assert.equal(r.headers['content-type'], 'text/css; charset=utf-8');
    } finally {
      await srv.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
