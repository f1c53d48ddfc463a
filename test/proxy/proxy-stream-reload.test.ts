// The proxy under load of another kind: 200 MB each way in bounded memory, a backend killed
// mid-run (no idempotent request fails), and a reload (SIGHUP) with requests in flight.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth, type RunningBerth } from '../helpers/berth.js';
import { pumpBytes } from '../helpers/raw-http.js';
import { startBerthApp } from '../helpers/backends.js';

const MB = 1024 * 1024;

/** Peak resident memory of a process (VmHWM), in bytes. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

interface Reply { status: number; size: number; sha256: string; text: string }

function send(port: number, path: string, opts: { method?: string; upload?: { bytes: number } } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: 'app.test' };
    if (opts.upload !== undefined) headers['Content-Length'] = String(opts.upload.bytes);
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      let text = '';
      res.on('data', (c: Buffer) => {
        size += c.length;
        hash.update(c);
        if (text.length < 4096) text += c.toString('latin1');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, size, sha256: hash.digest('hex'), text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.upload === undefined) {
      req.end();
      return;
    }
    pumpBytes(req, opts.upload.bytes);
  });
}

describe('proxy streaming, a killed backend and a reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-proxy-'));
  const ini = join(dir, 'front.ini');
  let a: RunningBerth;
  let b: RunningBerth;
  let front: RunningBerth;

  const writeIni = (servers: readonly number[]): void => writeFileSync(ini, [
    '[upstream:app]',
    ...servers.map((p) => `server = http://127.0.0.1:${p} max_fails=1 fail_timeout=30s`),
    'read-timeout = 60s',
    '',
    '[uwsgi]',
    'http = 127.0.0.1:0',
    'proxy-pass = /=app',
    'disable-logging = true',
    'limit-post = 300m',
    '',
  ].join('\n'));

  before(async () => {
    [a, b] = await Promise.all([startBerthApp('echo.py', ['--limit-post', '300m']), startBerthApp('echo.py', ['--limit-post', '300m'])]);
    writeIni([a.port, b.port]);
    front = await startBerth(['--ini', ini], { waitReady: false });
  });

  after(async () => {
    await Promise.all([front?.stop(), a?.stop(), b?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams a 200 MB response and a 200 MB upload through the front in bounded memory', async (t) => {
    const down = await send(front.port, '/big?mb=200');
    assert.equal(down.status, 200);
    assert.equal(down.size, 200 * MB);
    const up = await send(front.port, '/body-sha256', { method: 'POST', upload: { bytes: 200 * MB } });
    assert.equal(up.status, 200, up.text);
    const answer = JSON.parse(up.text) as { size: number; sha256: string };
    assert.equal(answer.size, 200 * MB);
    assert.equal(answer.sha256, createHash('sha256').update(Buffer.alloc(200 * MB, 0x61)).digest('hex'));
    const peak = peakRss(front.proc.pid!);
    t.diagnostic(`front peak RSS ${Math.round(peak / MB)} MB after 200 MB each way`);
    assert.ok(peak < 160 * MB, `the front's peak RSS was ${Math.round(peak / MB)} MB while 200 MB passed each way`);
  });

  it('re-reads groups on SIGHUP: requests in flight finish on the old group, new ones go to the new', async () => {
    const aPid = (JSON.parse((await send(a.port, '/pid')).text) as { pid: number }).pid;
    writeIni([b.port]);
    const inFlight = Array.from({ length: 4 }, () => send(front.port, '/sleep?s=1.5'));
    // Let them reach the old group before the reload.
    await new Promise((r) => setTimeout(r, 300));
    front.proc.kill('SIGHUP');
    await front.waitForLog(/reload done: routes and upstream groups re-read/);
    const after = await send(front.port, '/environ');
    assert.equal(JSON.parse(after.text)['SERVER_PORT'], String(b.port));
    const finished = await Promise.all(inFlight);
    for (const r of finished) assert.equal(r.status, 200);
    // Only the old group has a: a reply from it shows the request was in flight across the reload.
    assert.ok(finished.some((r) => r.text.includes(`pid ${aPid} `)), finished.map((r) => r.text).join(''));
    writeIni([a.port, b.port]);
    front.proc.kill('SIGHUP');
    await front.waitForLog(/reload done[^\n]*\n(?:.*\n)*.*reload done/);
  });

  it('loses no idempotent request when a backend is killed mid-run, and marks it out', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      if (i === 10) await a.stop('SIGKILL');
      statuses.push((await send(front.port, '/environ')).status);
    }
    assert.deepEqual(statuses.filter((s) => s !== 200), []);
    await front.waitForLog(new RegExp(`upstream app: backend http://127.0.0.1:${a.port} (could not be reached|failed).*out for fail_timeout`));
  });

  it('a graceful stop (SIGTERM) lets proxied requests in flight finish', async () => {
    const pending = send(front.port, '/sleep?s=1');
    await new Promise((r) => setTimeout(r, 300));
    const stopped = front.stop('SIGTERM');
    assert.equal((await pending).status, 200);
    assert.equal((await stopped).code, 0);
  });
});
