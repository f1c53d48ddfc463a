/** Listener options: dual-stack addresses, and which timeout applies to which listener. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { APPS, debianPython, startBerth } from '../helpers/berth.js';

test('REMOTE_ADDR is 127.0.0.1, not ::ffff:127.0.0.1, on a dual-stack listener', async (t) => {
  const berth = await startBerth(['--http', ':0', '--chdir', APPS, '--module', 'echo', '--processes', '1', '--python', debianPython()]);
  t.after(() => berth.stop());
  const env = (await (await fetch(berth.url('/environ'))).json()) as Record<string, string>;
  assert.equal(env.REMOTE_ADDR, '127.0.0.1');
});

test('clients of an http-socket listener get socket-timeout; of an http listener, http-timeout', async (t) => {
  const berth = await startBerth([
    '--http-socket', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--processes', '1', '--python', debianPython(),
    '--socket-timeout', '1', '--http-timeout', '60',
  ]);
  t.after(() => berth.stop());
  const { exchangeRaw, statuses } = await import('../helpers/raw-http.js');
  const { text } = await exchangeRaw(berth.port, 'GET /environ HTTP/1.1\r\nHost: x\r\n', 4000);
  assert.deepEqual(statuses(text), [408]);
});
