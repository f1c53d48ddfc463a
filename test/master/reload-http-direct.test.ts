/**
 * Graceful reloads with http-direct: keep-alive clients under load across several SIGHUPs see
 * every request answered, while each retiring generation hands its held connections (idle, or
 * with a request just arrived) to the master over Node's IPC channel and exits.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { startBerth } from '../helpers/berth.js';
import { get, makeOpsSite, steadyLoad } from './ops-helpers.js';

test('http-direct: keep-alive clients across six SIGHUPs under load, every request answered', async (t) => {
  // Explicit, so this stays about the direct path whatever the default is.
  const site = makeOpsSite(['processes = 2', 'http-direct = true']);
  t.after(site.remove);
  const berth = await startBerth(['--ini', site.ini]);
  t.after(() => berth.stop());
  assert.match(berth.logs(), /the workers accept: http-direct/);
  // fetch keeps its connections alive: each reload finds some idle in the retiring workers.
  const load = steadyLoad(berth.url('/'), 16);
  for (let i = 2; i <= 7; i++) {
    site.setVersion(`v${i}`);
    berth.proc.kill('SIGHUP');
    await berth.waitForLog(new RegExp(`generation ${i} serves`), 30_000);
  }
  const result = await load.stop();
  assert.deepEqual(result.failed, [], 'no request failed across the reloads');
  assert.ok(result.ok > 0);
  assert.match((await get(berth.url('/'))).text, /^v7 /);
});
