// The front streams in constant memory (issue 14): a 1 GB response and a 75 MB upload, to an
// HTTP and to a uwsgi backend, grow the front's peak RSS by no more than a 10 MB transfer does,
// give or take a small constant.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerthApp } from '../helpers/backends.js';
import { startBerth, type RunningBerth } from '../helpers/berth.js';
import { pumpBytes } from '../helpers/raw-http.js';

const MB = 1024 * 1024;
/** What a big transfer may add to the peak RSS over a 10 MB one. */
const SLACK = 32 * MB;

/** Peak resident memory of a process so far (VmHWM), in bytes. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** Sends a request (an upload of `uploadBytes` written with backpressure from one reused piece) and counts the answer's bytes. */
function transfer(port: number, path: string, uploadBytes: number | null): Promise<{ status: number; size: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = uploadBytes === null ? {} : { 'Content-Length': String(uploadBytes) };
    const req = request({ host: '127.0.0.1', port, path, method: uploadBytes === null ? 'GET' : 'POST', headers, agent: false }, (res) => {
      let size = 0;
      let text = '';
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (text.length < 4096) text += c.toString('latin1');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, size, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (uploadBytes === null) {
      req.end();
      return;
    }
    pumpBytes(req, uploadBytes);
  });
}

async function download(port: number, mb: number): Promise<void> {
  const r = await transfer(port, `/big?mb=${mb}`, null);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.size, mb * MB);
}

async function upload(port: number, mb: number): Promise<void> {
  const r = await transfer(port, '/body-sha256', mb * MB);
  assert.equal(r.status, 200, r.text);
  assert.equal((JSON.parse(r.text) as { size: number }).size, mb * MB);
}

/** Starts a front proxying everything to `url`; limit-post lets the 75 MB upload in. */
async function startFront(dir: string, url: string): Promise<RunningBerth> {
  const ini = join(dir, 'front.ini');
  writeFileSync(ini, [
    '[upstream:app]', `server = ${url}`, 'read-timeout = 60s', '',
    '[uwsgi]', 'http = 127.0.0.1:0', 'proxy-pass = /=app', 'disable-logging = true', 'limit-post = 100m', '',
  ].join('\n'));
  return startBerth(['--ini', ini], { waitReady: false });
}

/**
 * Peak RSS growth of a fresh front over its warm peak after a small transfer, then after a big
 * one (each direction gets its own front: the peak of one would hide the other's).
 */
async function growth(dir: string, url: string, move: (port: number, mb: number) => Promise<void>, smallMb: number, bigMb: number): Promise<{ base: number; small: number; big: number }> {
  const front = await startFront(dir, url);
  try {
    const pid = front.proc.pid!;
    // Warm: the first proxied requests load the proxy's modules and grow the heap once.
    await move(front.port, 2);
    const base = peakRss(pid);
    await move(front.port, smallMb);
    const small = peakRss(pid) - base;
    await move(front.port, bigMb);
    return { base, small, big: peakRss(pid) - base };
  } finally {
    await front.stop();
  }
}

function mb(bytes: number): number {
  return Math.round(bytes / MB);
}

for (const protocol of ['http', 'uwsgi'] as const) {
  describe(`the front in constant memory, ${protocol} backend`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-proxy-mem-'));
    let backend: RunningBerth;
    let url: string;

    before(async () => {
      backend = await startBerthApp('echo.py', ['--limit-post', '100m', ...(protocol === 'uwsgi' ? ['--socket', '127.0.0.1:0'] : [])]);
      const port = protocol === 'http' ? backend.port : Number(/uwsgi:\/\/[^\s,]+:(\d+)/.exec(backend.logs())![1]);
      url = `${protocol}://127.0.0.1:${port}`;
    });

    after(async () => {
      await backend?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a 1 GB response grows the peak RSS no more than a 10 MB one, within 32 MB', async (t) => {
      const g = await growth(dir, url, download, 10, 1024);
      t.diagnostic(`front peak RSS ${mb(g.base)} MB warm; +${mb(g.small)} MB after 10 MB down, +${mb(g.big)} MB after 1 GB down`);
      assert.ok(g.big - g.small < SLACK, `a 1 GB response raised the front's peak RSS by ${mb(g.big - g.small)} MB more than a 10 MB one did (allowed: ${SLACK / MB} MB)`);
    });

    it('a 75 MB upload grows the peak RSS no more than a 10 MB one, within 32 MB', async (t) => {
      const g = await growth(dir, url, upload, 10, 75);
      t.diagnostic(`front peak RSS ${mb(g.base)} MB warm; +${mb(g.small)} MB after 10 MB up, +${mb(g.big)} MB after 75 MB up`);
      assert.ok(g.big - g.small < SLACK, `a 75 MB upload raised the front's peak RSS by ${mb(g.big - g.small)} MB more than a 10 MB one did (allowed: ${SLACK / MB} MB)`);
    });
  });
}
