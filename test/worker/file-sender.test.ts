/**
 * wsgi.file_wrapper over a real file is sent by the master from its own descriptor (FILE frame):
 * a real Berth and real workers (Debian python3) serving test/fixtures/worker-apps/file_app.py.
 * Checked: the bytes (sha256), the worker's CPU time (the file does not pass through Python),
 * HEAD, a BytesIO and a fileno-less file (streamed by the worker as before), a file positioned
 * by seek(), a Content-Length shorter than the file, Django's FileResponse, close() called
 * exactly once, and a client leaving mid-file (the master's descriptor is closed; the worker
 * goes on serving). One inline worker (threads 1) and one threaded (threads 2).
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianPython, REPO, startBerth, type RunningBerth } from '../helpers/berth.js';
import { openSocket } from '../helpers/raw-http.js';

const WORKER_APPS = join(REPO, 'test', 'fixtures', 'worker-apps');
const SIZE = 50 * 1024 * 1024;
/**
 * Worker CPU allowed for one 50 MB file sent by FILE. Measured on 2 cores: about 0.0005 s by
 * FILE against 0.016-0.023 s when the worker reads and frames the same file itself.
 */
const FILE_CPU_BOUND_S = 0.005;

let dir: string;
let bigPath: string;
let data: Buffer;
let inline: RunningBerth;
let threaded: RunningBerth;

const sha = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex');
const q = (p: string): string => encodeURIComponent(p);

/** CPU time of all the process's threads, from schedstat (ns; /proc/<pid>/stat counts 10 ms ticks). */
function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended
    }
  }
  return ns / 1e9;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** How many of the process's descriptors are open on `path`. */
function fdsOn(pid: number, path: string): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

async function get(b: RunningBerth, path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(b.url(path), init);
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

async function workerPid(b: RunningBerth): Promise<number> {
  return Number((await get(b, '/pid')).body.toString());
}

async function closes(b: RunningBerth): Promise<[number, number]> {
  const [count, twice] = (await get(b, '/closes')).body.toString().split(' ').map(Number);
  return [count!, twice!];
}

async function eventually(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

before(async () => {
  const python = debianPython();
  dir = mkdtempSync(join(tmpdir(), 'berth-file-'));
  data = randomFillSync(Buffer.allocUnsafe(SIZE));
  bigPath = join(dir, 'big.bin');
  writeFileSync(bigPath, data);
  // The FILE frame is the master path's: with http-direct the worker sends the file itself
  // (sendfile, test/master/http-direct-framing.test.ts), so this file runs with it off.
  const args = ['--http', '127.0.0.1:0', '--chdir', WORKER_APPS, '--module', 'file_app', '--processes', '1', '--python', python, '--http-direct=false'];
  [inline, threaded] = await Promise.all([startBerth([...args, '--threads', '1']), startBerth([...args, '--threads', '2'])]);
});

after(async () => {
  await Promise.all([inline?.stop(), threaded?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('50 MB through file_wrapper arrive byte for byte, sent by the master, not by Python', async (t) => {
  for (const b of [inline, threaded]) {
    const pid = await workerPid(b);
    const before = cpuSeconds(pid);
    const res = await get(b, `/file?path=${q(bigPath)}`);
    const used = cpuSeconds(pid) - before;
    assert.equal(res.status, 200);
    assert.equal(res.body.length, SIZE);
    assert.equal(sha(res.body), sha(data));
    t.diagnostic(`worker CPU for 50 MB by FILE: ${used.toFixed(4)} s`);
    assert.ok(used < FILE_CPU_BOUND_S, `the worker spent ${used} s of CPU on a 50 MB file`);
  }
  const pid = await workerPid(inline);
  const before = cpuSeconds(pid);
  const res = await get(inline, `/file?path=${q(bigPath)}&nofileno=1`);
  assert.equal(sha(res.body), sha(data));
  t.diagnostic(`worker CPU for 50 MB streamed through Python (no fileno): ${(cpuSeconds(pid) - before).toFixed(4)} s`);
});

test('a declared Content-Length is honoured; HEAD sends no body', async () => {
  const res = await get(inline, `/file?path=${q(bigPath)}&cl=${SIZE}`);
  assert.equal(res.headers.get('content-length'), String(SIZE));
  assert.equal(sha(res.body), sha(data));
  const head = await get(threaded, `/file?path=${q(bigPath)}&cl=${SIZE}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(SIZE));
  assert.equal(head.body.length, 0);
  const short = await get(inline, `/file?path=${q(bigPath)}&cl=100000`);
  assert.ok(short.body.equals(data.subarray(0, 100000)));
  assert.equal((await get(inline, '/pid')).status, 200, 'the connection and the worker go on');
});

test('a file positioned by seek() is sent from there', async () => {
  for (const b of [inline, threaded]) {
    const res = await get(b, `/file?path=${q(bigPath)}&seek=1000`);
    assert.equal(res.body.length, SIZE - 1000);
    assert.equal(sha(res.body), sha(data.subarray(1000)));
  }
  const tail = await get(inline, `/file?path=${q(bigPath)}&seek=${SIZE - 70000}&cl=70000`);
  assert.ok(tail.body.equals(data.subarray(SIZE - 70000)));
});

test('BytesIO and file-likes without fileno() are still streamed by the worker', async () => {
  const size = 300_000;
  const block = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const expected = Buffer.concat([...Array.from({ length: Math.floor(size / 256) }, () => block), Buffer.alloc(size % 256, 'x')]);
  for (const b of [inline, threaded]) {
    const res = await get(b, `/bytesio?size=${size}`);
    assert.ok(res.body.equals(expected));
    const nofileno = await get(b, `/file?path=${q(bigPath)}&seek=5&nofileno=1`);
    assert.equal(sha(nofileno.body), sha(data.subarray(5)));
  }
});

test("Django's FileResponse goes the FILE way", async () => {
  // A small file first (read by the worker: under 64 KiB), which also imports and sets up Django.
  const smallPath = join(dir, 'small.txt');
  writeFileSync(smallPath, 'small file\n');
  const small = await get(threaded, `/django?path=${q(smallPath)}`);
  assert.equal(small.body.toString(), 'small file\n');
  const pid = await workerPid(threaded);
  const before = cpuSeconds(pid);
  const res = await get(threaded, `/django?path=${q(bigPath)}`);
  const used = cpuSeconds(pid) - before;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(SIZE));
  assert.equal(sha(res.body), sha(data));
  assert.ok(used < FILE_CPU_BOUND_S, `the worker spent ${used} s of CPU on a 50 MB FileResponse`);
});

test('a client leaving mid-file: the master closes its descriptor, the worker serves on', async () => {
  const berthPid = inline.proc.pid!;
  await get(inline, '/pid');
  const baseline = fdCount(berthPid);
  const pid = await workerPid(inline);
  const s = await openSocket(inline.port);
  let got = 0;
  await new Promise<void>((resolve) => {
    s.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got > 2 * 1024 * 1024) {
        s.pause();
        resolve();
      }
    });
    s.on('close', () => resolve());
    s.write(`GET /file?path=${q(bigPath)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  });
  assert.ok(got > 2 * 1024 * 1024);
  // Mid-download: the master reads the file through its own descriptor; the worker has closed its.
  assert.equal(fdsOn(berthPid, bigPath), 1);
  await eventually('the worker has closed the file', () => fdsOn(pid, bigPath) === 0);
  s.destroy();
  await eventually(`Berth's fd count is back to ${baseline}`, () => fdCount(berthPid) <= baseline);
  assert.equal(fdsOn(berthPid, bigPath), 0);
  const res = await get(inline, `/file?path=${q(bigPath)}&seek=${SIZE - 100000}`);
  assert.ok(res.body.equals(data.subarray(SIZE - 100000)));
});

test('close() is called exactly once on every wrapped file', async () => {
  for (const b of [inline, threaded]) {
    const [count, twice] = await closes(b);
    assert.ok(count > 0);
    assert.equal(twice, 0);
  }
});
