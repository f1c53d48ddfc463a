/**
 * Backpressure both ways with real workers: a 1 GiB streamed response passes in constant
 * memory, and a client that stops reading throttles the app instead of growing the master.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { openSocket } from '../helpers/raw-http.js';

let berth: RunningBerth;

before(async () => {
  // The master's backpressure and buffering: --http-direct=false keeps every response crossing
  // the master (on the direct path the worker writes into the kernel's buffers itself, and the
  // whole 512 MiB had arrived within 300 ms, before the client paused).
  berth = await startBerth(['--http', '127.0.0.1:0', '--http-direct=false', '--chdir', APPS, '--module', 'echo', '--processes', '1', '--threads', '2', '--python', debianPython(), '--disable-logging']);
});
after(async () => {
  await berth?.stop();
});

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

test('a 1 GiB streamed response passes in constant memory', async () => {
  const pid = berth.proc.pid!;
  const baseline = rssMiB(pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 50);
  const res = await fetch(berth.url('/big?mb=1024'));
  assert.equal(res.status, 200);
  let bytes = 0;
  for await (const chunk of res.body!) bytes += (chunk as Uint8Array).length;
  clearInterval(sampler);
  assert.equal(bytes, 1024 * 1024 * 1024);
  assert.ok(peak - baseline < 100, `master RSS grew by ${(peak - baseline).toFixed(0)} MiB (baseline ${baseline.toFixed(0)} MiB)`);
});

test('a client that stops reading throttles the app; the master does not buffer the response', async () => {
  const pid = berth.proc.pid!;
  const baseline = rssMiB(pid);
  const s = await openSocket(berth.port);
  let received = 0;
  s.on('data', (c: Buffer) => (received += c.length));
  s.write('GET /big?mb=512 HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 300));
  s.pause();
  const atPause = received;
  await new Promise((r) => setTimeout(r, 1500));
  const grown = rssMiB(pid) - baseline;
  assert.ok(atPause < 512 * 1024 * 1024, 'the response was still in progress when the client paused');
  assert.ok(grown < 64, `master RSS grew by ${grown.toFixed(0)} MiB while the client was not reading`);
  s.resume();
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (received >= 512 * 1024 * 1024) {
        clearInterval(check);
        resolve();
      }
    }, 50);
  });
  s.destroy();
  assert.ok(received >= 512 * 1024 * 1024);
  assert.equal((await fetch(berth.url('/pid'))).status, 200, 'the worker is free again');
});
