/** `http = :PORT` listens on every interface; IPv4 clients still see a plain IPv4 REMOTE_ADDR. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { APPS, debianPython, startBerth } from '../helpers/berth.js';

test('REMOTE_ADDR is 127.0.0.1, not ::ffff:127.0.0.1, on a dual-stack listener', async (t) => {
  const berth = await startBerth(['--http', ':0', '--chdir', APPS, '--module', 'echo', '--processes', '1', '--python', debianPython()]);
  t.after(() => berth.stop());
  const env = (await (await fetch(berth.url('/environ'))).json()) as Record<string, string>;
  assert.equal(env.REMOTE_ADDR, '127.0.0.1');
});
