/** The static-file options as read from ini files and the command line, with their problems and warnings. */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describeConfig, formatProblem, loadConfig } from '../../src/config/load.js';
import { makeTree } from './harness.js';

const dir = makeTree({ 'site/static/a.css': 'a{}', 'site/media/': '', 'site/manage.py': '', 'mime.types': 'text/x-a aa\n' }, 'berth-static-config-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function load(ini: string, extra: string[] = []) {
  const file = path.join(dir, `t${Math.random().toString(36).slice(2)}.ini`);
  fs.writeFileSync(file, `[uwsgi]\nhttp = :0\nmodule = mysite.wsgi\n${ini}`);
  return loadConfig({ argv: ['--ini', file, ...extra], env: {}, cwd: dir });
}

test('a full Django static/media setup loads into typed fields', () => {
  const r = load([
    `chdir = ${dir}/site`,
    'static-map = /static=static',
    'static-map = /media/=media',
    `static-map2 = /assets=${dir}/site`,
    'check-static = static',
    'static-index = index.html',
    'static-skip-ext = py',
    'static-skip-ext = .pyc',
    'static-expires-type = text/css=86400',
    'static-expires = \\.(css|js)$ 3600',
    'static-expires-uri = ^/media/=60',
    'static-gzip-all = true',
    'static-safe = /usr/share',
    `mime-file = ${dir}/mime.types`,
    'static-404 = true',
  ].join('\n'));
  assert.ok(r.ok, r.ok ? '' : r.problems.map(formatProblem).join('\n'));
  const c = r.config;
  assert.deepEqual(c.staticMaps, [
    { mountpoint: '/static', root: `${dir}/site/static`, keepMountpoint: false },
    { mountpoint: '/media', root: `${dir}/site/media`, keepMountpoint: false },
    { mountpoint: '/assets', root: `${dir}/site`, keepMountpoint: true },
  ]);
  assert.deepEqual(c.checkStatic, [`${dir}/site/static`]);
  assert.deepEqual(c.staticIndex, ['index.html']);
  assert.deepEqual(c.staticSkipExt, ['.py', '.pyc']);
  assert.deepEqual(c.staticExpiresType, [{ match: 'text/css', seconds: 86400 }]);
  assert.deepEqual(c.staticExpires, [{ match: '\\.(css|js)$', seconds: 3600 }]);
  assert.deepEqual(c.staticExpiresUri, [{ match: '^/media/', seconds: 60 }]);
  assert.equal(c.staticGzipAll, true);
  assert.deepEqual(c.staticSafe, ['/usr/share']);
  assert.deepEqual(c.mimefiles, [`${dir}/mime.types`]);
  assert.equal(c.static404, true);
  assert.deepEqual(r.warnings, []);
  assert.match(describeConfig(c), /static-map\s+\/static=.*\/site\/static, \/media=.*\/site\/media, \/assets=.*\(map2\)/);
  assert.ok(Object.isFrozen(c.staticMaps));
});

test('defaults: nothing mapped, nothing served, missing files go to the app', () => {
  const r = load('');
  assert.ok(r.ok);
  assert.deepEqual(r.config.staticMaps, []);
  assert.equal(r.config.staticGzipAll, false);
  assert.equal(r.config.static404, false);
  assert.deepEqual(r.config.mimefiles, []);
});

test('command line and environment spell them the uWSGI way', () => {
  const r = loadConfig({ argv: ['--http', ':0', '--module', 'm', '--static-map', `/s=${dir}/site/static`, '--static-map2', `/t=${dir}`, '--static-gzip-all'], env: { BERTH_STATIC_INDEX: 'index.htm' }, cwd: dir });
  assert.ok(r.ok, r.ok ? '' : r.problems.map(formatProblem).join('\n'));
  assert.equal(r.config.staticMaps.length, 2);
  assert.deepEqual(r.config.staticIndex, ['index.htm']);
  assert.equal(r.config.staticGzipAll, true);
});

test('bad values are errors at their file and line, with the fix', () => {
  const r = load([
    'static-map = /static',
    'static-map = static=/srv/x',
    'static-map2 = /a=',
    'static-expires = ([a-z 60',
    'static-expires-uri = ^/media/ soon',
    'static-expires-type = css=60',
    'static-expires-type = text/css=-5',
    'static-index = ../index.html',
    'static-skip-ext = /',
    'static-gzip-all = maybe',
  ].join('\n'));
  assert.equal(r.ok, false);
  const lines = r.ok ? [] : r.problems.map(formatProblem);
  const expect: [number, RegExp][] = [
    [4, /static-map: '\/static' has no '=' between the mountpoint and the directory.*line 4 of .*— write static-map = \/static=\/srv\/site\/static/],
    [5, /static-map: mountpoint 'static' must start with \//],
    [6, /static-map2: no directory after '\/a='/],
    [7, /static-expires: '\(\[a-z' is not a valid regular expression/],
    [8, /static-expires-uri: 'soon' is not a whole number of seconds/],
    [9, /static-expires-type: 'css' is not a MIME type/],
    [10, /static-expires-type: .*-5/],
    [11, /static-index: '\.\.\/index\.html' is not a file name/],
    [12, /static-skip-ext: '\/' is not a file extension/],
    [13, /'static-gzip-all': 'maybe' is not a boolean/],
  ];
  for (const [line, re] of expect) {
    assert.ok(lines.some((l) => re.test(l) && l.includes(`line ${line} of`)), `line ${line}: ${re}\n${lines.join('\n')}`);
  }
  assert.equal(lines.length, expect.length, lines.join('\n'));
});

test('a static root that does not exist yet is a warning that says to run collectstatic', () => {
  const r = load('static-map = /static=/srv/nowhere/static\nstatic-map = /media=/srv/nowhere/media\ncheck-static = /srv/nowhere/public\nmimefile = /srv/nowhere/mime.types');
  assert.ok(r.ok, 'missing directories do not stop Berth');
  const w = r.warnings.map(formatProblem);
  assert.match(w[0]!, /^static-map \/static → \/srv\/nowhere\/static: the directory does not exist; until it does, requests below \/static go to the app \(line 4 of .*\) — run `python manage.py collectstatic`/);
  assert.match(w[1]!, /static-map \/media → \/srv\/nowhere\/media: the directory does not exist.*line 5 of .*MEDIA_ROOT/);
  assert.match(w[2]!, /check-static \/srv\/nowhere\/public does not exist \(line 6 of/);
  assert.match(w[3]!, /mimefile \/srv\/nowhere\/mime.types does not exist \(line 7 of .*built-in table/);
});

test('relative roots are resolved from chdir, else from the start directory', () => {
  const withChdir = load(`chdir = ${dir}/site\nstatic-map = /static=static`);
  assert.ok(withChdir.ok);
  assert.equal(withChdir.config.staticMaps[0]!.root, `${dir}/site/static`);
  const without = load('static-map = /static=site/static');
  assert.ok(without.ok);
  assert.equal(without.config.staticMaps[0]!.root, `${dir}/site/static`);
});
