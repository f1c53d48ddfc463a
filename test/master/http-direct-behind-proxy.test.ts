/**
 * http-direct behind a keep-alive HTTP proxy (issue 16 × 14): real nginx (`proxy_pass` to an
 * upstream with `keepalive`, X-Forwarded-For and X-Forwarded-Proto set as a tuned nginx sets
 * them) in front of real Berth with two workers. Every proxied request must be served by a
 * worker's direct loop (the app says which path ran it), also after the proxy's kept
 * connections sat idle between bursts, and must name the client exactly as the master path
 * does for the same request (forwarded-allow-ips trusted and not).
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { startNginx, type RunningNginx } from '../helpers/nginx.js';

const APP = ['--chdir', APPS, '--module', 'http_direct_app', '--python', debianPython(), '--processes', '2'];
const stops: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function berth(args: readonly string[]): Promise<RunningBerth> {
  const b = await startBerth(['--http', '127.0.0.1:0', ...APP, ...args]);
  stops.push(() => b.stop());
  return b;
}

async function proxyTo(b: RunningBerth): Promise<RunningNginx> {
  const n = await startNginx(`server { location / {
    proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto https;
  } }`, { http: `upstream app { server 127.0.0.1:${b.port}; keepalive 16; }` });
  stops.push(() => n.stop());
  return n;
}

async function who(n: RunningNginx): Promise<string> {
  const res = await fetch(n.url('/who'), { headers: { 'X-Forwarded-For': '203.0.113.9' } });
  assert.equal(res.status, 200);
  return (await res.text()).trim();
}

/** Bursts of `width` concurrent requests, with the proxy's kept connections idle `gapMs` between them. */
async function bursts(n: RunningNginx, count: number, width: number, gapMs: number): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < count; i++) {
    bodies.push(...(await Promise.all(Array.from({ length: width }, () => who(n)))));
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return bodies;
}

const client = (body: string): string => body.replace(/^via=\w+ pid=\d+ /, '');

test('behind nginx keepalive with forwarded-allow-ips: the workers serve every request, naming the client as the master does', async () => {
  const direct = await proxyTo(await berth(['--forwarded-allow-ips', '127.0.0.1']));
  const master = await proxyTo(await berth(['--forwarded-allow-ips', '127.0.0.1', '--http-direct=false']));
  const bodies = await bursts(direct, 6, 8, 300);
  for (const body of bodies) assert.match(body, /^via=direct /, 'served by the worker, not handed to the master');
  const expected = client(await who(master));
  assert.match(expected, /^addr=203\.0\.113\.9 port=0 scheme=https xff=203\.0\.113\.9, 127\.0\.0\.1$/);
  for (const body of bodies) assert.equal(client(body), expected);
});

test('behind nginx keepalive, peer not trusted: the fields reach the app untouched, served by the workers', async () => {
  const direct = await proxyTo(await berth([]));
  const master = await proxyTo(await berth(['--http-direct=false']));
  const bodies = await bursts(direct, 3, 4, 300);
  for (const body of bodies) assert.match(body, /^via=direct /);
  const expected = client(await who(master));
  assert.match(expected, /^addr=127\.0\.0\.1 port=\d+ scheme=http xff=203\.0\.113\.9, 127\.0\.0\.1$/);
  for (const body of bodies) assert.equal(client(body).replace(/port=\d+/, 'port=P'), expected.replace(/port=\d+/, 'port=P'));
});
