/**
 * A 200 MB file through the streaming path: constant memory while it is sent, a stalled
 * client stalls the reads (backpressure), and a client that leaves closes the descriptor.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeTree, request, startStatic, type StaticServer } from './harness.js';

const SIZE = 200 * 1024 * 1024;
/** Marker bytes at known offsets (the rest of the sparse file reads as zeros). */
const MARKS: readonly (readonly [number, number])[] = [[0, 0x41], [65535, 0x42], [65536, 0x43], [100_000_000, 0x44], [SIZE - 1, 0x45]];

let dir: string;
let s: StaticServer;
before(async () => {
  dir = makeTree({});
  const fd = fs.openSync(path.join(dir, 'big.iso'), 'w', 0o644);
  fs.ftruncateSync(fd, SIZE);
  for (const [off, byte] of MARKS) fs.writeSync(fd, Buffer.from([byte]), 0, 1, off);
  fs.closeSync(fd);
  s = await startStatic(['--static-map', `/media=${dir}`]);
});
after(async () => {
  await s.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const heap = (): number => {
  const m = process.memoryUsage();
  return m.arrayBuffers + m.heapUsed;
};

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;

interface Streamed { status: number; head: string; bytes: number; marks: Map<number, number>; peak: number }

/** GETs `target`, checks marker offsets as bytes pass, keeps nothing; optionally pauses reading. */
function stream(target: string, headers: Record<string, string>, opts: { pauseMs?: number; bodyStart?: number } = {}): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const base = heap();
    let peak = 0;
    let head = '';
    let headDone = false;
    let bytes = 0;
    const marks = new Map<number, number>();
    const start = opts.bodyStart ?? 0;
    const sampler = setInterval(() => (peak = Math.max(peak, heap() - base)), 20);
    const sock = net.connect({ host: '127.0.0.1', port: s.port }, () => {
      sock.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      if (opts.pauseMs !== undefined) {
        sock.pause();
        setTimeout(() => {
          peak = Math.max(peak, heap() - base);
          sock.resume();
        }, opts.pauseMs);
      }
    });
    sock.on('data', (c: Buffer) => {
      let body = c;
      if (!headDone) {
        head += c.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        headDone = true;
        body = c.subarray(c.length - (head.length - end - 4));
        head = head.slice(0, end);
      }
      for (const [off] of MARKS) {
        const at = off - start - bytes;
        if (at >= 0 && at < body.length) marks.set(off, body[at]!);
      }
      bytes += body.length;
    });
    sock.once('error', reject);
    sock.once('close', () => {
      clearInterval(sampler);
      resolve({ status: Number(head.split(' ')[1]), head, bytes, marks, peak });
    });
  });
}

test('200 MB are streamed whole, in constant memory', async () => {
  global.gc?.();
  const r = await stream('/media/big.iso', {});
  assert.equal(r.status, 200);
  assert.match(r.head, new RegExp(`Content-Length: ${SIZE}\r\n`));
  assert.equal(r.bytes, SIZE);
  for (const [off, byte] of MARKS) assert.equal(r.marks.get(off), byte, `byte at ${off}`);
  assert.ok(r.peak < 64 * 1024 * 1024, `memory grew by ${(r.peak / 1048576).toFixed(1)} MiB while sending 200 MiB`);
});

test('a client that stops reading stops the file reads (backpressure)', async () => {
  const r = await stream('/media/big.iso', {}, { pauseMs: 700 });
  assert.equal(r.bytes, SIZE);
  assert.ok(r.peak < 64 * 1024 * 1024, `memory grew by ${(r.peak / 1048576).toFixed(1)} MiB while the client was paused`);
});

test('a range deep inside the big file', async () => {
  const from = 100_000_000 - 10;
  const r = await stream('/media/big.iso', { Range: `bytes=${from}-${from + 999_999}` }, { bodyStart: from });
  assert.equal(r.status, 206);
  assert.match(r.head, new RegExp(`Content-Range: bytes ${from}-${from + 999_999}/${SIZE}\r\n`));
  assert.equal(r.bytes, 1_000_000);
  assert.equal(r.marks.get(100_000_000), 0x44);
});

test('a client that leaves mid-way closes the file descriptor', async () => {
  const before = openFds();
  await new Promise<void>((resolve, reject) => {
    let got = 0;
    const sock = net.connect({ host: '127.0.0.1', port: s.port }, () => sock.write('GET /media/big.iso HTTP/1.1\r\nHost: x\r\n\r\n'));
    sock.on('data', (c: Buffer) => {
      got += c.length;
      if (got > 5 * 1024 * 1024) sock.destroy();
    });
    sock.once('close', () => resolve());
    sock.once('error', reject);
  });
  const until = Date.now() + 3000;
  while (openFds() > before && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.ok(openFds() <= before, `open descriptors: ${before} before, ${openFds()} after`);
  // And the server still serves.
  assert.equal((await request(s.port, '/media/big.iso', { Range: 'bytes=0-0' })).body[0], 0x41);
});
