/**
 * static-from-django, the Node side: StaticFiles.addDjangoMappings() turns the settings a
 * worker reported into static-map entries, never over an explicit static-map, and warns in
 * plain words about what would make the admin lose its CSS.
 */
import test, { after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DjangoStaticInfo } from '../../src/protocol/worker/payloads.js';
import { makeTree, request, startStatic, type StaticServer } from './harness.js';

const base = makeTree({
  'collected/admin/css/base.css': '#header { color: red; }',
  'collected/site.css': 'body {}',
  'no-admin/site.css': 'body {}',
  'empty/': '',
  'media/photo.jpg': 'JPEG',
  'explicit/site.css': 'explicit',
});
after(() => fs.rmSync(base, { recursive: true, force: true }));

function settings(over: Partial<Exclude<DjangoStaticInfo, { error: string }>> = {}): DjangoStaticInfo {
  return {
    static_url: '/static/', static_root: path.join(base, 'collected'),
    media_url: '/media/', media_root: path.join(base, 'media'),
    installed_apps_has_admin: true, debug: false, ...over,
  };
}

async function withServer(args: readonly string[], info: DjangoStaticInfo | undefined, body: (s: StaticServer) => Promise<void>): Promise<void> {
  const s = await startStatic([...args, '--static-from-django']);
  try {
    s.files.addDjangoMappings(info);
    await body(s);
  } finally {
    await s.stop();
  }
}

const warnings = (s: StaticServer): string[] => s.logs.filter((l) => l.startsWith('warn: '));

describe('addDjangoMappings', () => {
  test('maps STATIC_URL and MEDIA_URL, with no warning when all is in place', async () => {
    await withServer([], settings(), async (s) => {
      assert.equal(s.files.active, true);
      assert.equal((await request(s.port, '/static/admin/css/base.css')).headers['content-type'], 'text/css; charset=utf-8');
      assert.equal((await request(s.port, '/media/photo.jpg')).body.toString(), 'JPEG');
      assert.equal((await request(s.port, '/other')).body.toString(), 'app /other');
      assert.deepEqual(warnings(s), []);
      assert.ok(s.logs.includes(`info: static-from-django: /static → ${path.join(base, 'collected')} (STATIC_ROOT)`));
    });
  });

  test('an explicit static-map for the same mountpoint wins', async () => {
    await withServer(['--static-map', `/static=${base}/explicit`], settings(), async (s) => {
      assert.equal((await request(s.port, '/static/site.css')).body.toString(), 'explicit');
      assert.equal((await request(s.port, '/static/admin/css/base.css')).body.toString(), 'app /static/admin/css/base.css');
      assert.ok(s.logs.some((l) => /\/static is already mapped by static-map/.test(l)));
    });
  });

  test('a URL on another host is left alone', async () => {
    await withServer([], settings({ static_url: 'https://cdn.example.com/static/' }), async (s) => {
      assert.equal((await request(s.port, '/static/site.css')).body.toString(), 'app /static/site.css');
      assert.ok(s.logs.some((l) => /STATIC_URL https:\/\/cdn\.example\.com\/static\/ is not a local path/.test(l)));
    });
  });

  test('STATIC_ROOT unset, empty or missing: run collectstatic', async () => {
    await withServer([], settings({ static_root: null }), async (s) => {
      assert.match(warnings(s).join('\n'), /STATIC_ROOT is not set.*set STATIC_ROOT in settings\.py and run `python manage\.py collectstatic`/);
    });
    await withServer([], settings({ static_root: path.join(base, 'empty') }), async (s) => {
      assert.match(warnings(s).join('\n'), /STATIC_ROOT .*empty is empty: run `python manage\.py collectstatic`; until then the admin's CSS will 404/);
    });
    await withServer([], settings({ static_root: path.join(base, 'nowhere'), installed_apps_has_admin: false }), async (s) => {
      assert.deepEqual(warnings(s), [`warn: static-from-django: STATIC_ROOT ${path.join(base, 'nowhere')} does not exist: run \`python manage.py collectstatic\``]);
    });
  });

  test("the admin installed but its CSS not collected: the admin's CSS would 404", async () => {
    await withServer([], settings({ static_root: path.join(base, 'no-admin') }), async (s) => {
      assert.match(warnings(s).join('\n'), /admin\/css\/base\.css is missing, so the admin's CSS would 404: run `python manage\.py collectstatic`/);
    });
    await withServer([], settings({ static_root: path.join(base, 'no-admin'), installed_apps_has_admin: false }), async (s) => {
      assert.deepEqual(warnings(s), []);
    });
  });

  test('MEDIA_ROOT missing: uploads will 404 until it exists, and a root created later is picked up', async () => {
    const media = path.join(base, 'later-media');
    await withServer([], settings({ media_root: media }), async (s) => {
      assert.match(warnings(s).join('\n'), /MEDIA_ROOT .*later-media does not exist: uploads will 404 until it exists/);
      assert.equal((await request(s.port, '/media/a.txt')).body.toString(), 'app /media/a.txt');
      fs.mkdirSync(media);
      fs.writeFileSync(path.join(media, 'a.txt'), 'uploaded');
      assert.equal((await request(s.port, '/media/a.txt')).body.toString(), 'uploaded');
    });
  });

  test('no Django, or settings that could not be read: one warning, no mapping', async () => {
    await withServer([], undefined, async (s) => {
      assert.equal(s.files.active, false);
      assert.match(warnings(s).join('\n'), /did not load Django's settings/);
    });
    await withServer([], { error: 'ImproperlyConfigured: boom' }, async (s) => {
      assert.equal(s.files.active, false);
      assert.match(warnings(s).join('\n'), /reading Django's settings failed \(ImproperlyConfigured: boom\)/);
    });
  });

  test("an empty MEDIA_URL (Django's default) adds nothing", async () => {
    await withServer([], settings({ media_url: null }), async (s) => {
      assert.equal((await request(s.port, '/media/photo.jpg')).body.toString(), 'app /media/photo.jpg');
      assert.deepEqual(warnings(s), []);
    });
  });
});
