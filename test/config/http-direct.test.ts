// http-direct in the configuration: unset, it follows HTTP_DIRECT_BY_DEFAULT (and is off beside
// check-static, proxy-protocol or proxy-pass); set to true with one of those it is refused with
// the option, the line and the fix.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { ok, problems } from './results.js';
import { makeTree } from './tmp-dir.js';
import { OPTIONS } from '../../src/config/options.js';
import { HTTP_DIRECT_BY_DEFAULT } from '../../src/config/validate.js';

test('unset, http-direct follows HTTP_DIRECT_BY_DEFAULT (the options row says the same); it is on or off when asked', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const row = OPTIONS.find((o) => o.name === 'http-direct')!;
  assert.equal(row.default, String(HTTP_DIRECT_BY_DEFAULT));
  assert.equal(ok(loadConfig({ argv: ['--http', ':0', '-w', 'a'], env: {}, cwd: tree.dir })).httpDirect, HTTP_DIRECT_BY_DEFAULT);
  assert.equal(ok(loadConfig({ argv: ['--http', ':0', '-w', 'a', '--http-direct'], env: {}, cwd: tree.dir })).httpDirect, true);
  assert.equal(ok(loadConfig({ argv: ['--http', ':0', '-w', 'a', '--http-direct=false'], env: {}, cwd: tree.dir })).httpDirect, false);
});

test('left unset, http-direct is off with check-static, proxy-protocol or proxy-pass, with no problem reported', (t) => {
  for (const extra of ['check-static = static', 'proxy-protocol = true', '[upstream:api]\nserver = http://127.0.0.1:9\n[uwsgi]\nproxy-pass = /api=api']) {
    const tree = makeTree({ 'static/': '', 'site.ini': `[uwsgi]\nhttp = :0\nmodule = a\n${extra}\n` });
    t.after(tree.remove);
    assert.equal(ok(loadConfig({ argv: ['site.ini'], env: {}, cwd: tree.dir })).httpDirect, false, extra);
  }
});

test('http-direct = true with check-static, proxy-protocol or proxy-pass is refused, naming both, the line and the fix', (t) => {
  const cases = [
    ['check-static = static', /http-direct = true lets workers answer HTTP requests past check-static/, /remove http-direct, or use static-map/],
    ['proxy-protocol = true', /the workers cannot read the PROXY header proxy-protocol expects/, /remove http-direct or proxy-protocol/],
    ['[upstream:api]\nserver = http://127.0.0.1:9\n[uwsgi]\nproxy-pass = /api=api', /the workers would answer requests that proxy-pass/, /remove http-direct, or serve the proxied paths/],
  ] as const;
  for (const [extra, message, fix] of cases) {
    const tree = makeTree({ 'static/': '', 'site.ini': `[uwsgi]\nhttp = :0\nmodule = a\nhttp-direct = true\n${extra}\n` });
    t.after(tree.remove);
    const p = problems(loadConfig({ argv: ['site.ini'], env: {}, cwd: tree.dir }));
    assert.equal(p.length, 1, p.join('\n'));
    assert.match(p[0]!, message);
    assert.match(p[0]!, /line 4 of .*site\.ini/);
    assert.match(p[0]!, fix);
  }
});
