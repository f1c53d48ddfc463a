import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ReloadTriggers } from '../../src/master/reload-triggers.js';
import { ok } from '../config/results.js';
import { makeTree } from '../config/tmp-dir.js';

test('reload triggers: each touch file asks for its action, with chain-reload as the armed config says', async (t) => {
  const tree = makeTree({ 'app.py': '' });
  t.after(() => tree.remove());
  const [full, chain, reopen] = ['full.trigger', 'chain.trigger', 'reopen.trigger'].map((f) => join(tree.dir, f)) as [string, string, string];
  const config = ok(loadConfig({
    argv: ['--http', ':0', '--wsgi-file', 'app.py', '--chain-reload', '--touch-reload', full, '--touch-chain-reload', chain, '--touch-logreopen', reopen],
    env: {},
    cwd: tree.dir,
  }));
  const asked: string[] = [];
  let next: (() => void) | null = null;
  const note = (what: string): void => {
    asked.push(what);
    next?.();
  };
  const triggers = new ReloadTriggers({
    reload: (request) => note(`reload chain=${request.chain} ${request.why.split(' ')[0]}`),
    reopenLog: (why) => note(`reopen ${why.split(' ')[0]}`),
    notice: () => undefined,
  });
  t.after(() => triggers.close());
  // The watches do not keep Node alive (the arbiter's listeners do): this stands in for them.
  const alive = setInterval(() => undefined, 1000);
  t.after(() => clearInterval(alive));
  triggers.arm(config, Date.now());
  const touch = async (path: string): Promise<void> => {
    const fired = new Promise<void>((resolve) => (next = resolve));
    writeFileSync(path, 'x');
    await fired;
  };
  await touch(full);
  await touch(chain);
  await touch(reopen);
  assert.deepEqual(asked, ['reload chain=true touch-reload', 'reload chain=true touch-chain-reload', 'reopen touch-logreopen']);
});
