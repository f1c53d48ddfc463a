/** The proxy route table as nginx matches locations: exact paths first, then the longest prefix; and proxy_pass's URI part. */
import test from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyRouteSpec, UpstreamGroupSpec } from '../../src/config/schema.js';
import type { Exchange } from '../../src/server/exchange.js';
import { ProxyStage, rewritePath } from '../../src/proxy/proxy-stage.js';
import { Upstream } from '../../src/proxy/upstream.js';

const group = (name: string): UpstreamGroupSpec => ({
  name, backends: [{ url: 'http://127.0.0.1:9', protocol: 'http', target: { kind: 'tcp', host: '127.0.0.1', port: 9 }, weight: 1, maxFails: 1, failTimeoutMs: 10_000, backup: false, down: false }],
  balance: { kind: 'round-robin' }, nextUpstream: { error: true, timeout: true, statuses: [], nonIdempotent: false, off: false }, connectTimeoutMs: 1000, readTimeoutMs: 1000, healthCheck: null, via: true, source: { kind: 'default' },
});
const route = (where: string, g: string, host: string | null = null): ProxyRouteSpec => {
  const exact = where.startsWith('=');
  const written = exact ? where.slice(1) : where;
  return { host, exact, prefix: exact || written === '/' ? written : written.replace(/\/+$/, ''), writtenPrefix: written, uri: null, group: g, source: { kind: 'default' } };
};
const exchange = (target: string, host = 'site.test'): Exchange => ({ request: { target, headers: ['Host', host] } }) as unknown as Exchange;

test('exact paths win over every prefix; then the longest prefix; a longer static-map passes the request on', async () => {
  const names = ['root', 'api', 'v1', 'apiExact', 'exact', 'hostApi'];
  const stage = new ProxyStage(new Map(names.map((n) => [n, new Upstream(group(n))])), [
    route('/', 'root'), route('/api', 'api'), route('/api/v1', 'v1'), route('=/api', 'apiExact'), route('=/exact', 'exact'), route('/api', 'hostApi', 'x.test'),
  ], ['/api/v1/static'], () => undefined);
  try {
    const table: [string, string, string | null][] = [
      ['/api', 'site.test', 'apiExact'],
      ['/api?q=1', 'site.test', 'apiExact'],
      ['/api/', 'site.test', 'api'],
      ['/api/x', 'site.test', 'api'],
      ['/apix', 'site.test', 'root'],
      ['/api/v1/x', 'site.test', 'v1'],
      ['/api/v1/static/app.css', 'site.test', null],
      ['/exact', 'site.test', 'exact'],
      ['/exact/', 'site.test', 'root'],
      ['/exactly', 'site.test', 'root'],
      ['/api/q', 'x.test', 'hostApi'],
      ['/api', 'x.test', 'apiExact'],
      ['/', 'site.test', 'root'],
    ];
    for (const [target, host, want] of table) assert.equal(stage.match(exchange(target, host))?.upstream.name ?? null, want, `${host}${target}`);
    assert.deepEqual(stage.describe().slice(0, 3).map((l) => l.split(' (')[0]), ['*=/exact → exact', '*=/api → apiExact', '*/api/v1 → v1']);
  } finally {
    await stage.close();
  }
});

test('the URI part replaces the prefix as written (nginx proxy_pass http://b/v1/)', () => {
  const table: [string, string | null, string, string][] = [
    ['/api/', '/v1/', '/api/x/y', '/v1/x/y'],
    ['/api/', '/v1/', '/api/', '/v1/'],
    ['/api/', '/v1/', '/api', '/v1/'],
    ['/api', '/v1', '/api/x', '/v1/x'],
    ['/api', '/v1/', '/api/x', '/v1//x'],
    ['/', '/app/', '/x', '/app/x'],
    ['/api/', '/', '/api/x', '/x'],
    ['/login', '/auth/login', '/login', '/auth/login'],
    ['/api', null, '/api/x', '/api/x'],
  ];
  for (const [writtenPrefix, uri, path, want] of table) assert.equal(rewritePath(path, { writtenPrefix, uri }), want, `${writtenPrefix} → ${uri}: ${path}`);
});
