import test from 'node:test';
import assert from 'node:assert/strict';
import { expandValue, type ExpandContext } from '../../src/config/ini/expand.js';

const ctx = (over: Partial<ExpandContext> = {}): ExpandContext => ({
  file: '/srv/mysite/deploy/app.prod.ini',
  lookup: (name) => ({ base: '/srv/base', chdir: '/srv/mysite' } as Record<string, string>)[name],
  env: { HOME: '/home/me', EMPTY: '' },
  ...over,
});

function expand(raw: string): string {
  const r = expandValue(raw, ctx());
  assert.ok(r.ok, raw);
  return r.value;
}

test('file variables', () => {
  assert.equal(expand('%d'), '/srv/mysite/deploy/');
  assert.equal(expand('%dwsgi.py'), '/srv/mysite/deploy/wsgi.py');
  assert.equal(expand('%p'), '/srv/mysite/deploy/app.prod.ini');
  assert.equal(expand('%s'), 'app.prod.ini');
  assert.equal(expand('%n'), 'app.prod');
  assert.equal(expand('%c'), 'deploy');
  assert.equal(expand('100%%'), '100%');
  assert.equal(expand('%n.sock'), 'app.prod.sock');
});

test('placeholders, earlier options and environment variables', () => {
  assert.equal(expand('%(base)/static'), '/srv/base/static');
  assert.equal(expand('%(chdir)/venv'), '/srv/mysite/venv');
  assert.equal(expand('$(HOME)/.venv'), '/home/me/.venv');
  assert.equal(expand('x$(EMPTY)y'), 'xy');
  assert.equal(expand('%(base)%(chdir)'), '/srv/base/srv/mysite');
});

test('results are not expanded again', () => {
  const r = expandValue('%(p)', ctx({ lookup: () => '%d' }));
  assert.deepEqual(r, { ok: true, value: '%d', unknown: [] });
});

test('undefined placeholders and environment variables are errors with a fix', () => {
  const a = expandValue('%(nope)/x', ctx());
  assert.equal(a.ok, false);
  if (!a.ok) {
    assert.equal(a.message, 'placeholder %(nope) is not defined');
    assert.match(a.fix, /set-placeholder = nope=/);
  }
  const b = expandValue('$(NOPE_NOT_SET)', ctx());
  assert.equal(b.ok, false);
  if (!b.ok) assert.equal(b.message, 'environment variable $(NOPE_NOT_SET) is not set');
  assert.equal(expandValue('%(open', ctx()).ok, false);
});

test('unknown %x are kept and listed', () => {
  assert.deepEqual(expandValue('%t-%k', ctx()), { ok: true, value: '%t-%k', unknown: ['%t', '%k'] });
  assert.deepEqual(expandValue('50%', ctx()), { ok: true, value: '50%', unknown: [] });
});
