/** The CLI hands log-format's variable table to the config loader: an unknown variable is a config problem. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { reloadConfig } from '../../src/cli/commands/load.js';
import { makeTree } from '../config/tmp-dir.js';

test('an unknown log-format variable is reported with where it was written; known ones load', (t) => {
  const tree = makeTree();
  t.after(tree.remove);
  const bad = reloadConfig(['--http', ':0', '-w', 'a', '--log-format', '%(status) %(metod)'], tree.dir);
  assert.ok(Array.isArray(bad), 'problems, not a config');
  assert.equal(bad.length, 1);
  assert.match(bad[0]!, /^unknown log-format variable %\(metod\) — known: addr, .* \(command line\)$/);
  const good = reloadConfig(['--http', ':0', '-w', 'a', '--log-format', '%(status) %(method)'], tree.dir);
  assert.ok(!Array.isArray(good));
  assert.equal((good as { logFormat: string }).logFormat, '%(status) %(method)');
});
