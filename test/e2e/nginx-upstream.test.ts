/**
 * nginx `upstream` blocks in front of Berth: round-robin over two Berth instances, a 75 MB
 * upload (client_max_body_size 75M, as in the seed config) that must arrive intact while
 * Berth's master memory stays flat (the body is spooled to a temp file, not held), a chunked
 * upload that nginx turns into a CONTENT_LENGTH one, and Berth's limits (limit-post,
 * buffer-size) answered with their status codes through nginx rather than as a 502.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { requireNginx, startNginx, type RunningNginx } from '../helpers/nginx.js';

const ECHO = ['--chdir', APPS, '--module', 'echo', '--threads', '2'];
const MiB = 1024 * 1024;

const berths: RunningBerth[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

before(() => requireNginx());
after(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const b of berths) await b.stop();
});

async function berth(args: readonly string[]): Promise<RunningBerth> {
  const b = await startBerth([...args, '--python', debianPython()]);
  berths.push(b);
  return b;
}

async function nginx(server: string, http?: string): Promise<RunningNginx> {
  const n = await startNginx(server, http === undefined ? {} : { http });
  cleanups.push(() => n.stop());
  return n;
}

function procStatus(pid: number, field: 'PPid' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

test('an upstream of two Berth instances: round-robin reaches both masters’ workers', async () => {
  const a = await berth(['--socket', '127.0.0.1:0', ...ECHO, '--processes', '2']);
  const b = await berth(['--socket', '127.0.0.1:0', ...ECHO, '--processes', '2']);
  const n = await nginx(
    `server { location / { include uwsgi_params; uwsgi_pass pair; } }`,
    `upstream pair { server 127.0.0.1:${a.port}; server 127.0.0.1:${b.port}; }`,
  );
  const masters: number[] = [];
  for (let i = 0; i < 12; i++) {
    const res = await fetch(n.url('/pid'));
    assert.equal(res.status, 200);
    const { pid } = (await res.json()) as { pid: number };
    // A worker is a grandchild of its Berth master in preload mode: master → Python parent → worker.
    masters.push(procStatus(procStatus(pid, 'PPid'), 'PPid'));
  }
  const served = new Set(masters);
  assert.deepEqual([...served].sort(), [a.proc.pid!, b.proc.pid!].sort(), `requests were served by the children of ${[...served]}`);
  // One nginx worker, plain round-robin, no failures: the two instances strictly alternate.
  for (let i = 1; i < masters.length; i++) assert.notEqual(masters[i], masters[i - 1], `requests ${i - 1} and ${i} went to the same instance: ${masters}`);
});

/** POSTs `total` bytes made on the fly in 1 MiB chunks (never the whole body in memory). */
function upload(url: string, total: number): Promise<{ status: number; body: string; sha256: string }> {
  const seed = randomBytes(MiB);
  const digest = createHash('sha256');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (t: string) => (body += t));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sha256: digest.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        // Each chunk differs (its index is stamped in), so a repeated or lost chunk changes the hash.
        const chunk = Buffer.from(seed.subarray(0, Math.min(MiB, total - sent)));
        chunk.writeUInt32BE(sent / MiB, 0);
        digest.update(chunk);
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

test('a 75 MB upload through nginx arrives intact and Berth’s master RSS stays bounded', async () => {
  const b = await berth(['--socket', '127.0.0.1:0', ...ECHO, '--processes', '1']);
  const n = await nginx(`server {
    client_max_body_size 75M;
    location / { include uwsgi_params; uwsgi_pass 127.0.0.1:${b.port}; }
  }`);
  const master = b.proc.pid!;
  // Warm up both legs first, so lazily allocated buffers do not count as growth.
  assert.equal((await fetch(n.url('/body'), { method: 'POST', body: 'warm-up' })).status, 200);
  const baseline = procStatus(master, 'VmRSS');
  let peak = baseline;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, procStatus(master, 'VmRSS'));
    } catch {
      // Berth died: the upload's own assertion says so more clearly than a throw in a timer.
    }
  }, 20);
  const total = 75 * 1000 * 1000; // 75 MB: nginx's 75M is 75 MiB, so this fits under it.
  let res;
  try {
    res = await upload(n.url('/body-sha256'), total);
  } finally {
    clearInterval(sampler);
  }
  assert.equal(res.status, 200, `upload answered ${res.status}: ${res.body}\nnginx:\n${n.errorLog().slice(-2000)}`);
  assert.deepEqual(JSON.parse(res.body), { size: total, sha256: res.sha256 });
  const growthMiB = (peak - baseline) / 1024;
  assert.ok(growthMiB < 40, `Berth's master grew by ${growthMiB.toFixed(1)} MiB during a 75 MB upload (baseline ${(baseline / 1024).toFixed(1)} MiB)`);
});

test('a chunked upload (no Content-Length) is buffered by nginx and reaches the app with its length', async () => {
  const b = await berth(['--socket', '127.0.0.1:0', ...ECHO, '--processes', '1']);
  const n = await nginx(`server {
    client_max_body_size 75M;
    location / { include uwsgi_params; uwsgi_pass 127.0.0.1:${b.port}; }
  }`);
  const seed = randomBytes(256 * 1024);
  const digest = createHash('sha256');
  let i = 0;
  // A ReadableStream body makes fetch send Transfer-Encoding: chunked; nginx reads it whole
  // (uwsgi_request_buffering) and sends Berth CONTENT_LENGTH, as the uwsgi protocol needs.
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === 12) return controller.close();
      const chunk = Buffer.from(seed);
      chunk.writeUInt32BE(i++, 0);
      digest.update(chunk);
      controller.enqueue(chunk);
    },
  });
  const res = await fetch(n.url('/body-sha256'), { method: 'POST', body, duplex: 'half' } as RequestInit);
  const text = await res.text();
  assert.equal(res.status, 200, `${text}\n${n.errorLog().slice(-1500)}`);
  assert.deepEqual(JSON.parse(text), { size: 12 * seed.length, sha256: digest.digest('hex') });
});

test('limit-post applies through nginx: a 2000-byte body to --limit-post 1000 gets 413', async () => {
  const b = await berth(['--socket', '127.0.0.1:0', ...ECHO, '--processes', '1', '--limit-post', '1000']);
  const n = await nginx(`server { location / { include uwsgi_params; uwsgi_pass 127.0.0.1:${b.port}; } }`);
  const small = await fetch(n.url('/body'), { method: 'POST', body: 'x'.repeat(1000) });
  assert.equal(small.status, 200);
  assert.equal((await small.text()).length, 1000);
  const big = await fetch(n.url('/body'), { method: 'POST', body: 'x'.repeat(2000) });
  const text = await big.text();
  // Berth sees the limit (it logs it) …
  await b.waitForLog(/CONTENT_LENGTH 2000 exceeds the body limit of 1000/, 5_000);
  // … and must say so to nginx with a 413, not by dropping the connection (nginx: 502).
  assert.equal(big.status, 413, `nginx answered ${big.status} (${text.slice(0, 200)}); Berth's log:\n${b.logs().slice(-1500)}\nnginx:\n${n.errorLog().slice(-1500)}`);
  // Berth keeps serving after refusing.
  assert.equal((await fetch(n.url('/pid'))).status, 200);
});

test('buffer-size applies through nginx: a vars block over it gets 431 (docs/uwsgi-compat.md), not 502', async () => {
  const b = await berth(['--socket', '127.0.0.1:0', ...ECHO, '--processes', '1', '--buffer-size', '4096']);
  const n = await nginx(`server { location / { include uwsgi_params; uwsgi_pass 127.0.0.1:${b.port}; } }`);
  assert.equal((await fetch(n.url('/pid'), { headers: { cookie: 'a='.padEnd(1000, 'x') } })).status, 200);
  const res = await fetch(n.url('/pid'), { headers: { cookie: 'a='.padEnd(6000, 'x') } });
  await res.arrayBuffer();
  await b.waitForLog(/vars block of \d+ bytes exceeds the 4096-byte buffer-size/, 5_000);
  // uWSGI answers this with a dropped connection (nginx: 502); Berth promises 431.
  assert.equal(res.status, 431, `nginx answered ${res.status}; nginx log:\n${n.errorLog().slice(-800)}`);
});
