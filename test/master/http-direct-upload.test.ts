/**
 * http-direct: uploads whose body is still coming when a worker looks are handed to the master
 * as their descriptor. The master must get a non-blocking descriptor: libuv reads a stream until
 * EAGAIN and never sets O_NONBLOCK on one it receives, so on a blocking descriptor its read after
 * a body that ended on a full 64 KiB buffer waited for the client — which was waiting for the
 * answer — and the master's whole event loop hung (a 12 MiB upload without Expect: about one in
 * five before the fix).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { startBerthApp } from '../helpers/backends.js';
import { pumpBytes } from '../helpers/raw-http.js';
import type { RunningBerth } from '../helpers/berth.js';

const MB = 1024 * 1024;
const O_NONBLOCK = 0o4000;

/** POSTs `bytes` (written with backpressure, no Expect) to /body-sha256; the status and the size the app read. */
function upload(port: number, bytes: number, agent: Agent | false): Promise<{ status: number; size: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/body-sha256', method: 'POST', headers: { 'Content-Length': String(bytes) }, agent }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (t: string) => (text += t));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, size: res.statusCode === 200 ? (JSON.parse(text) as { size: number }).size : -1 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    pumpBytes(req, bytes);
  });
}

/** The master's socket descriptors past stdio (a pipe Node writes synchronously by design) whose open file is blocking. */
function blockingSockets(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync(`/proc/${pid}/fd`)) {
    if (Number(name) <= 2) continue;
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${name}`);
    } catch {
      continue; // closed since the listing
    }
    if (!target.startsWith('socket:')) continue;
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${name}`, 'utf8'));
    if (flags !== null && (parseInt(flags[1]!, 8) & O_NONBLOCK) === 0) out.push(Number(name));
  }
  return out;
}

describe('http-direct: uploads handed to the master', () => {
  let berth: RunningBerth;

  before(async () => {
    berth = await startBerthApp('echo.py', ['--http-direct=true', '--limit-post', '100m']);
  });

  after(async () => {
    await berth?.stop();
  });

  it('the master holds a handed-over connection as a non-blocking socket', { timeout: 60_000 }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // 12 MiB is never whole when the worker peeks: the connection is handed over, and the
      // keep-alive agent leaves it open in the master while its descriptors are looked at.
      const r = await upload(berth.port, 12 * MB, agent);
      assert.deepEqual(r, { status: 200, size: 12 * MB });
      assert.deepEqual(blockingSockets(berth.proc.pid!), [], 'the master holds blocking sockets: a read or write on one stops its event loop');
    } finally {
      agent.destroy();
    }
  });

  it('24 uploads of 12 MiB without Expect are all answered', { timeout: 300_000 }, async () => {
    for (let i = 0; i < 24; i++) {
      const r = await upload(berth.port, 12 * MB, false);
      assert.deepEqual(r, { status: 200, size: 12 * MB }, `upload ${i + 1}`);
    }
  });
});
