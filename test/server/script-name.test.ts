import test from 'node:test';
import assert from 'node:assert/strict';
import { ScriptNameRule } from '../../src/server/script-name.js';

test('the longest whole-segment prefix becomes SCRIPT_NAME', () => {
  const r = new ScriptNameRule([{ prefix: '/blog', app: 'a' }, { prefix: '/blog/admin', app: 'a' }]);
  assert.deepEqual(r.split('/blog/post/1'), ['/blog', '/post/1']);
  assert.deepEqual(r.split('/blog'), ['/blog', '']);
  assert.deepEqual(r.split('/blog/admin/x'), ['/blog/admin', '/x']);
  assert.deepEqual(r.split('/blogger'), ['', '/blogger'], 'not a segment boundary');
  assert.deepEqual(r.split('/other'), ['', '/other']);
});

test('no mounts: inactive', () => {
  assert.equal(new ScriptNameRule([]).active, false);
});
