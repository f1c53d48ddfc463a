// A pure Berth front (no module) proxying to real backends: two Berth app servers, Debian's
// uWSGI on a uwsgi socket, gunicorn over HTTP, a port that never answers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth, type RunningBerth } from '../helpers/berth.js';
import { startBerthApp, startGunicorn, startSilent, startUwsgiSocket, type RunningPeer } from '../helpers/backends.js';
import { freePort } from '../helpers/nginx.js';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** `/GROUP/rest` is sent as `/rest` with `Host: GROUP.test` (unless the caller sets Host). */
function get(port: number, groupPath: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Reply> {
  const m = /^\/([^/]+)(\/.*)$/.exec(groupPath)!;
  const path = m[2]!;
  const headers = { Host: `${m[1]!}.test`, ...opts.headers };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const environ = async (port: number, path: string, headers: Record<string, string> = {}): Promise<Record<string, string>> => {
  const r = await get(port, path, { headers });
  assert.equal(r.status, 200, r.body.toString());
  return JSON.parse(r.body.toString()) as Record<string, string>;
};

describe('a pure front proxying to real backends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-proxy-'));
  let a: RunningBerth;
  let b: RunningBerth;
  let uwsgi: RunningPeer;
  let gunicorn: RunningPeer;
  let silent: { port: number; close(): Promise<void> };
  let deadPort: number;
  let statsPort: number;
  let front: RunningBerth;

  before(async () => {
    [a, b, uwsgi, gunicorn, silent, deadPort, statsPort] = await Promise.all([
      startBerthApp('echo.py'), startBerthApp('echo.py'), startUwsgiSocket('echo.py'), startGunicorn('echo'), startSilent(), freePort(), freePort(),
    ]);
    writeFileSync(join(dir, 'front.ini'), [
      '[upstream:api]',
      `server = http://127.0.0.1:${a.port} weight=5`,
      `server = http://127.0.0.1:${b.port}`,
      `server = http://127.0.0.1:${gunicorn.port}`,
      '',
      '[upstream:legacy]',
      `server = uwsgi://127.0.0.1:${uwsgi.port}`,
      '',
      '[upstream:failover]',
      `server = http://127.0.0.1:${deadPort} max_fails=1 fail_timeout=30s`,
      `server = http://127.0.0.1:${b.port}`,
      '',
      '[upstream:hung]',
      `server = http://127.0.0.1:${silent.port}`,
      'read-timeout = 1s',
      '',
      '[upstream:hashed]',
      `server = http://127.0.0.1:${a.port}`,
      `server = http://127.0.0.1:${b.port}`,
      'balance = hash $request_uri consistent',
      '',
      '[upstream:sticky]',
      `server = http://127.0.0.1:${a.port}`,
      `server = http://127.0.0.1:${b.port}`,
      'balance = ip-hash',
      '',
      '[upstream:checked]',
      `server = http://127.0.0.1:${deadPort}`,
      `server = http://127.0.0.1:${a.port}`,
      'health-check = /pid interval=300ms timeout=300ms rise=1 fall=1',
      '',
      '[upstream:gone]',
      `server = uwsgi://127.0.0.1:${deadPort} max_fails=1 fail_timeout=60s`,
      '',
      '[uwsgi]',
      'http = 127.0.0.1:0',
      `stats = 127.0.0.1:${statsPort}`,
      'stats-http = true',
      // The backends see the path as sent (nginx's proxy_pass without a URI): groups by host.
      'proxy-pass = api.test/=api',
      'proxy-pass = legacy.test/=legacy',
      'proxy-pass = failover.test/=failover',
      'proxy-pass = hung.test/=hung',
      'proxy-pass = *.gone.test/=gone',
      'proxy-pass = hashed.test/=hashed',
      'proxy-pass = checked.test/=checked',
      'proxy-pass = sticky.test/=sticky',
      '',
    ].join('\n'));
    front = await startBerth(['--ini', join(dir, 'front.ini')], { waitReady: false });
  });

  after(async () => {
    await Promise.all([front?.stop(), a?.stop(), b?.stop(), uwsgi?.stop(), gunicorn?.stop(), silent?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts no Python and answers 404 with a page for paths no route serves', async () => {
    assert.doesNotMatch(front.logs(), /python:/);
    const r = await get(front.port, '/nowhere/elsewhere');
    assert.equal(r.status, 404);
    assert.match(r.body.toString(), /no route serves this path/);
  });

  it('health-check: a backend is trusted only once its check passes; one that fails its checks never gets a request', async () => {
    await front.waitForLog(new RegExp(`upstream checked: backend http://127\\.0\\.0\\.1:${a.port} is healthy`), 10_000);
    for (let i = 0; i < 10; i++) assert.equal((await environ(front.port, '/checked/environ'))['SERVER_PORT'], String(a.port));
    assert.doesNotMatch(front.logs(), new RegExp(`upstream checked: backend http://127\\.0\\.0\\.1:${deadPort} (?!is failing its checks)`), 'the failing backend was never tried');
    const doc = (await (await fetch(`http://127.0.0.1:${statsPort}/`)).json()) as { berth: { upstreams: { name: string; backends: { requests: number }[] }[] } };
    const checked = doc.berth.upstreams.find((u) => u.name === 'checked')!;
    assert.deepEqual(checked.backends.map((b) => b.requests), [0, 10]);
  });

  it('hash $request_uri consistent sends each URI to one backend, and the URIs to both; ip-hash keeps a client on one', async () => {
    const byUri = new Map<string, Set<string>>();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 16; i++) {
        const env = await environ(front.port, `/hashed/environ?item=${i}`);
        byUri.set(String(i), (byUri.get(String(i)) ?? new Set()).add(env['SERVER_PORT'] as string));
      }
    }
    for (const [uri, ports] of byUri) assert.equal(ports.size, 1, `item ${uri} went to ${[...ports].join(' and ')}`);
    assert.equal(new Set([...byUri.values()].map((s) => [...s][0])).size, 2, 'sixteen URIs land on both backends');
    const sticky = new Set<string>();
    for (let i = 0; i < 10; i++) sticky.add((await environ(front.port, `/sticky/environ?n=${i}`))['SERVER_PORT'] as string);
    assert.equal(sticky.size, 1, 'one client address, one backend');
  });

  it('spreads requests 5/1/1 by smooth weighted round robin (nginx: a a b a c a a)', async () => {
    const counts = new Map<string, number>();
    const order: string[] = [];
    for (let i = 0; i < 70; i++) {
      const env = await environ(front.port, '/api/environ');
      const port = env['SERVER_PORT'] as string;
      counts.set(port, (counts.get(port) ?? 0) + 1);
      if (i < 7) order.push(port === String(a.port) ? 'a' : port === String(b.port) ? 'b' : 'c');
    }
    assert.equal(counts.get(String(a.port)), 50);
    assert.equal(counts.get(String(b.port)), 10);
    assert.equal(counts.get(String(gunicorn.port)), 10);
    assert.deepEqual(order, ['a', 'a', 'b', 'a', 'c', 'a', 'a']);
  });

  it('sets X-Forwarded-For (appended), -Proto, -Host and Forwarded, and strips hop-by-hop headers', async () => {
    const env = await environ(front.port, '/api/environ?x=1', { 'X-Forwarded-For': '203.0.113.9', 'Connection': 'X-Secret', 'X-Secret': 'hop', 'Proxy-Authorization': 'Basic eA==' });
    assert.equal(env['HTTP_X_FORWARDED_FOR'], '203.0.113.9, 127.0.0.1');
    assert.equal(env['HTTP_X_FORWARDED_PROTO'], 'http');
    assert.equal(env['HTTP_X_FORWARDED_HOST'], 'api.test');
    assert.equal(env['HTTP_FORWARDED'], 'for=127.0.0.1;proto=http;host=api.test');
    assert.equal(env['HTTP_HOST'], 'api.test');
    assert.equal(env['HTTP_X_SECRET'], undefined);
    assert.equal(env['HTTP_PROXY_AUTHORIZATION'], undefined);
    assert.equal(env['QUERY_STRING'], 'x=1');
  });

  it('speaks uwsgi to a real uWSGI with nginx’s uwsgi_params', async () => {
    const env = await environ(front.port, '/legacy/environ?q=%20', { 'X-Forwarded-For': '198.51.100.1' });
    assert.equal(env['REQUEST_METHOD'], 'GET');
    assert.equal(env['REQUEST_URI'], '/environ?q=%20');
    assert.equal(env['PATH_INFO'], '/environ');
    assert.equal(env['QUERY_STRING'], 'q=%20');
    assert.equal(env['SERVER_PROTOCOL'], 'HTTP/1.1');
    assert.equal(env['REQUEST_SCHEME'], 'http');
    assert.equal(env['REMOTE_ADDR'], '127.0.0.1');
    assert.equal(env['SERVER_NAME'], 'legacy.test');
    assert.equal(env['HTTP_X_FORWARDED_HOST'], 'legacy.test');
    assert.equal(env['SERVER_PORT'], String(front.port));
    assert.equal(env['HTTP_X_FORWARDED_FOR'], '198.51.100.1, 127.0.0.1');
    for (const key of ['CONTENT_TYPE', 'CONTENT_LENGTH', 'DOCUMENT_ROOT', 'REMOTE_PORT']) assert.ok(key in env, `${key} is sent`);
    const posted = await get(front.port, '/legacy/body-sha256', { method: 'POST', body: Buffer.alloc(300_000, 7), headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(posted.status, 200);
    assert.equal(JSON.parse(posted.body.toString()).size, 300_000);
  });

  it('retries a refused connect on the next backend and marks the dead one out', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await get(front.port, '/failover/environ', { method: 'POST', body: Buffer.from('x') });
      assert.equal(r.status, 200, `request ${i}: ${r.body.toString()}`);
    }
    await front.waitForLog(new RegExp(`upstream failover: backend http://127.0.0.1:${deadPort} could not be reached .*out for fail_timeout = 30 s`));
    assert.equal(front.logs().match(/upstream failover: backend/g)?.length, 1, 'once out, the dead backend is not tried again');
  });

  it('answers 504 after read-timeout when a backend never answers, naming group and backend', async () => {
    const r = await get(front.port, '/hung/x');
    assert.equal(r.status, 504);
    await front.waitForLog(new RegExp(`upstream hung: backend http://127.0.0.1:${silent.port} timed out`));
  });

  it('answers 502 at once with a page when every backend is out', async () => {
    const first = await get(front.port, '/a.gone/x');
    assert.equal(first.status, 502);
    const second = await get(front.port, '/a.gone/x');
    assert.equal(second.status, 502);
    assert.match(second.body.toString(), /no backend of upstream gone is available/);
    await front.waitForLog(/upstream gone: no backend available/);
  });

  it('logs proxied requests with the upstream address', async () => {
    await get(front.port, '/legacy/environ');
    await front.waitForLog(new RegExp(`GET /environ => .*upstream 127\\.0\\.0\\.1:${uwsgi.port}`));
  });

  it('counts every group and backend in the stats document and the metrics', async () => {
    const doc = JSON.parse((await get(statsPort, '/x/')).body.toString()) as { berth: { upstreams: { name: string; requests: number; backends: { address: string; state: string; requests: number; failures: number; in_flight: number }[] }[] } };
    const groups = new Map(doc.berth.upstreams.map((u) => [u.name, u]));
    const api = groups.get('api')!;
    assert.ok(api.requests >= 71, `api requests: ${api.requests}`);
    assert.equal(api.backends[0]!.address, `127.0.0.1:${a.port}`);
    assert.ok(api.backends[0]!.requests >= 50);
    const failover = groups.get('failover')!;
    assert.deepEqual(failover.backends.map((x) => [x.state, x.failures]), [['out', 1], ['up', 0]]);
    assert.deepEqual(groups.get('gone')!.backends.map((x) => x.state), ['out']);
    const metrics = (await get(statsPort, '/x/metrics')).body.toString();
    assert.match(metrics, new RegExp(`berth_upstream_backend_up\\{upstream="failover",backend="127\\.0\\.0\\.1:${deadPort}",state="out"\\} 0`));
    assert.match(metrics, /berth_upstream_backend_requests_total\{upstream="api",/);
  });
});
