/**
 * Idle, slow and short peers against a real Berth (issue 11, items 1 and 5): with 1,000 idle
 * and 1,000 one-byte connections open, valid requests are still answered at once and the
 * workers keep their thread count — on a uwsgi `socket` (uwsgi-direct, the default: the
 * workers' waiter holds those peers) and on an `http` port (the master holds them). A body
 * shorter than its CONTENT_LENGTH never reaches the app. Loopback only; every socket and
 * process is closed at the end. The p99 latency is printed, not asserted (shared machine).
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';

const running: RunningBerth[] = [];
const opened: Socket[] = [];
after(async () => {
  for (const s of opened) s.destroy();
  for (const b of running) await b.stop();
});

async function berth(args: readonly string[]): Promise<RunningBerth> {
  const b = await startBerth(['--chdir', APPS, '--module', 'ops', '--python', debianPython(), '--processes', '2', ...args]);
  running.push(b);
  return b;
}

/** Each kind of peer's count: 1,000, or fewer when this process's descriptor limit is low. */
function peersPerKind(): number {
  const soft = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 1024);
  return Math.max(50, Math.min(1000, Math.floor((soft - 256) / 2)));
}

/** The Python workers below the master (process tree through /proc): the berth_worker
 * processes that forked no other (preload's zygote forks the workers). */
function workerPids(master: number): number[] {
  const out: number[] = [];
  const walk = (pid: number): boolean => {
    let forkedWorkers = false;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      for (const child of children === '' ? [] : children.split(' ').map(Number)) {
        const isWorker = readFileSync(`/proc/${child}/cmdline`, 'latin1').includes('berth_worker');
        if (!walk(child) && isWorker) out.push(child);
        forkedWorkers ||= isWorker;
      }
    }
    return forkedWorkers;
  };
  walk(master);
  return out.sort((a, b) => a - b);
}

function threadCounts(pids: readonly number[]): number[] {
  return pids.map((pid) => readdirSync(`/proc/${pid}/task`).length);
}

/** Opens one connection that sends `first` (or nothing) and then stays silent. A unix socket
 * refuses a connect at once (EAGAIN) while its listen queue is full: tried again shortly, a
 * bounded number of times, since the workers empty the queue as fast as they can accept. */
function openPeer(to: number | string, first: Buffer | null, tries = 100): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const s = typeof to === 'number' ? connect(to, '127.0.0.1') : connect(to);
    s.once('connect', () => {
      opened.push(s);
      s.on('error', () => undefined); // closed by the server after socket-timeout: expected
      if (first !== null) s.write(first);
      resolve();
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EAGAIN' || tries <= 1) return reject(e);
      setTimeout(() => openPeer(to, first, tries - 1).then(resolve, reject), 10);
    });
  });
}

/** Opens `n` connections that send `first` (or nothing) and then stay silent. */
async function openPeers(to: number | string, n: number, first: Buffer | null): Promise<void> {
  const batch = 25;
  for (let i = 0; i < n; i += batch) await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => openPeer(to, first)));
}

/** One request on its own connection, as nginx sends it; the answer and how long it took. */
function ask(to: number | string, data: Buffer, timeoutMs = 10_000): Promise<{ answer: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const s = typeof to === 'number' ? connect(to, '127.0.0.1') : connect(to);
    let answer = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms (got ${JSON.stringify(answer.slice(0, 100))})`));
    }, timeoutMs);
    s.once('connect', () => s.write(data));
    s.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ answer, ms: performance.now() - started });
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function p99(ms: readonly number[]): number {
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.99) - 1]!;
}

function uwsgiGet(path: string, query = ''): Buffer {
  return encodeUwsgiRequest(['REQUEST_METHOD', 'GET', 'REQUEST_URI', query === '' ? path : `${path}?${query}`, 'PATH_INFO', path, 'QUERY_STRING', query,
    'SERVER_PROTOCOL', 'HTTP/1.1', 'REMOTE_ADDR', '10.1.2.3', 'REMOTE_PORT', '5555', 'SERVER_NAME', 'site', 'SERVER_PORT', '80', 'HTTP_HOST', 'site']);
}
const UWSGI_GET = uwsgiGet('/');
const UWSGI_SLEEP = uwsgiGet('/sleep', 's=0.2');
const HTTP_GET = Buffer.from('GET / HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n');
const HTTP_SLEEP = Buffer.from('GET /sleep?s=0.2 HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n');

/** `listen`: the listener the peers and requests go to; a unix socket path, or a loopback TCP one. */
async function underSlowPeers(listen: '--socket' | '--http', request: Buffer, sleepy: Buffer, firstByte: Buffer, unixPath = ''): Promise<void> {
  // With a unix socket, the HTTP listener only gives the test helper a port to find.
  const b = await berth(unixPath === '' ? [listen, '127.0.0.1:0'] : ['--http', '127.0.0.1:0', listen, unixPath]);
  const to = unixPath === '' ? b.port : unixPath;
  const workers = workerPids(b.proc.pid!);
  assert.equal(workers.length, 2, `two workers under master ${b.proc.pid}`);
  // Both workers have served (so each has started every thread it runs) before counting:
  // two requests at once, each held 0.2 s, go to different workers.
  const served = new Set<number>();
  for (let i = 0; i < 10 && served.size < 2; i++) {
    const answers = await Promise.all([0, 1].map(() => ask(to, sleepy)));
    for (const a of answers) served.add(Number(/pid (\d+)$/.exec(a.answer)?.[1]));
  }
  assert.deepEqual([...served].sort((x, y) => x - y), workers, 'both workers answer');
  const before = threadCounts(workers);
  const n = peersPerKind();
  await openPeers(to, n, null);
  await openPeers(to, n, firstByte);
  const ms: number[] = [];
  for (let i = 0; i < 100; i++) {
    const { answer, ms: took } = await ask(to, request);
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nv1 pid \d+$/, `request ${i}`);
    ms.push(took);
  }
  assert.deepEqual(threadCounts(workerPids(b.proc.pid!)), before, 'the workers\' thread counts');
  console.log(`# ${listen.slice(2)} ${unixPath === '' ? 'TCP port' : 'unix socket'}, ${n} idle + ${n} one-byte peers open, --processes 2: 100 requests, p99 ${p99(ms).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms, median ${[...ms].sort((a, c) => a - c)[50]!.toFixed(1)} ms; threads per worker ${before.join(', ')}`);
  for (const s of opened.splice(0)) s.destroy();
  await b.stop();
}

test('uwsgi socket (uwsgi-direct): idle and one-byte peers hold no worker thread; valid requests are answered at once', async () => {
  await underSlowPeers('--socket', UWSGI_GET, UWSGI_SLEEP, Buffer.from([0]));
});

test('uwsgi unix socket (uwsgi-direct): idle and one-byte peers hold no worker thread either', async (t) => {
  const sock = join(tmpdir(), `berth-slow-peers-${process.pid}.sock`);
  t.after(() => rmSync(sock, { force: true }));
  await underSlowPeers('--socket', UWSGI_GET, UWSGI_SLEEP, Buffer.from([0]), sock);
});

test('http port (the master holds the peers): idle and one-byte peers delay nothing either', async () => {
  await underSlowPeers('--http', HTTP_GET, HTTP_SLEEP, Buffer.from('G'));
});

test('uwsgi socket (uwsgi-direct): a body shorter than its CONTENT_LENGTH never reaches the app; the answer is the master\'s 400', async () => {
  const b = await startBerth(['--socket', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--python', debianPython(), '--processes', '1']);
  running.push(b);
  const post = encodeUwsgiRequest(['REQUEST_METHOD', 'POST', 'PATH_INFO', '/body-sha256', 'REQUEST_URI', '/body-sha256', 'CONTENT_LENGTH', '100']);
  const { answer } = await new Promise<{ answer: string }>((resolve, reject) => {
    const s = connect(b.port, '127.0.0.1');
    let out = '';
    s.once('connect', () => s.end(Buffer.concat([post, Buffer.alloc(10, 97)]))); // 10 bytes, then FIN
    s.on('data', (c: Buffer) => (out += c.toString('latin1')));
    s.on('close', () => resolve({ answer: out }));
    s.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 400 /, answer);
  assert.match(answer, /90 body bytes missing/);
  assert.doesNotMatch(answer, /sha256/, 'the app never ran');
  // And a whole body is still served by the worker.
  const whole = await ask(b.port, Buffer.concat([post, Buffer.alloc(100, 97)]));
  assert.match(whole.answer, /^HTTP\/1\.1 200 OK[^]*"size": 100/);
});
