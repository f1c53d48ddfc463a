/** handleDashboard over a real HTTP server on port 0: the page and its assets, the data, HEAD, 404, 405, and the security headers. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { handleDashboard } from '../../src/stats/dashboard-route.js';

const DOC = { version: '2.0.21', workers: [{ id: 1, pid: 42, requests: 3 }] };

test('the dashboard serves its page, assets and data, and nothing else', async (t) => {
  let reads = 0;
  const server = createServer((req, res) => handleDashboard(req, res, () => (reads++, DOC)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const page = await fetch(`${base}/dashboard`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  const html = await page.text();
  assert.match(html, /<script src="\/dashboard\/dashboard\.js" defer><\/script>/);
  assert.doesNotMatch(html, /https?:\/\//, 'no CDN: the machines are offline');

  let total = html.length;
  for (const [path, type] of [['/dashboard/dashboard.js', 'text/javascript; charset=utf-8'], ['/dashboard/dashboard.css', 'text/css; charset=utf-8']] as const) {
    const r = await fetch(base + path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('content-type'), type);
    total += (await r.text()).length;
  }
  assert.ok(total < 16_384, `the page stays small (${total} bytes)`);

  const data = await fetch(`${base}/dashboard/data?t=1`);
  assert.equal(data.headers.get('content-type'), 'application/json');
  assert.equal(data.headers.get('cache-control'), 'no-store');
  assert.deepEqual(await data.json(), DOC);
  assert.equal(reads, 1, 'the snapshot is taken per data request only');

  const head = await fetch(`${base}/dashboard`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(html));
  assert.equal(await head.text(), '');

  const missing = await fetch(`${base}/dashboard/../etc/passwd`.replace('/../', '/%2e%2e/'));
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /the dashboard is at \/dashboard/);
  const post = await fetch(`${base}/dashboard/data`, { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});
