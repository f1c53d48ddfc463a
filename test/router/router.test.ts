import test from 'node:test';
import assert from 'node:assert/strict';
import { Router, type Route } from '../../src/router/router.js';
import type { Exchange } from '../../src/server/exchange.js';

function fakeExchange(target: string): Exchange {
  return { request: { target }, aborted: false } as unknown as Exchange;
}

test('routes run in order; a route that passes on reaches the next, then the app', async () => {
  const seen: string[] = [];
  const passes: Route = { serve: (ex, next) => (seen.push(`static? ${ex.request.target}`), setImmediate(next)) };
  const takesAdmin: Route = { serve: (ex, next) => (ex.request.target.startsWith('/admin') ? seen.push('proxy') : next()) };
  const r = new Router([passes, takesAdmin], (ex) => seen.push(`app ${ex.request.target}`));
  r.route(fakeExchange('/x'));
  r.route(fakeExchange('/admin'));
  await new Promise((res) => setImmediate(res));
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(seen, ['static? /x', 'static? /admin', 'app /x', 'proxy']);
});

test('an exchange whose client left is not passed on', async () => {
  const seen: string[] = [];
  const ex = fakeExchange('/gone');
  const r = new Router([{ serve: (_e, next) => setImmediate(next) }], () => seen.push('app'));
  r.route(ex);
  (ex as { aborted: boolean }).aborted = true;
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(seen, []);
});
