/**
 * The master with real worker processes: concurrency across threads × processes, the bounded
 * wait queue, a crash mid-request and the respawn, graceful stop with requests in flight,
 * no orphan after SIGKILL of the master, and an app that cannot be imported.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { APPS, debianPython, runBerth, startBerth } from '../helpers/berth.js';
import { descendants, pythonDescendants } from './ops-helpers.js';
import { exchangeRaw } from '../helpers/raw-http.js';

const echoArgs = (extra: string[]): string[] => ['--http', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--python', debianPython(), ...extra];

async function waitUntil(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('threads × processes: 4 concurrent requests run on 4 distinct (process, thread) pairs', async (t) => {
  const berth = await startBerth(echoArgs(['--processes', '2', '--threads', '2']));
  t.after(() => berth.stop());
  const sleepers = Array.from({ length: 4 }, () => fetch(berth.url('/sleep?s=0.6')).then((r) => r.text()));
  await new Promise((r) => setTimeout(r, 200));
  const texts = await Promise.all(sleepers);
  const pids = new Set(texts.map((x) => /pid (\d+)/.exec(x)![1]));
  const pairs = new Set(texts.map((x) => /pid (\d+) thread (\d+)/.exec(x)!.slice(1).join('/')));
  assert.equal(pids.size, 2, 'both processes served');
  assert.equal(pairs.size, 4, `each request had a thread of its own: ${[...pairs].join(', ')}`);
  assert.equal(pythonDescendants(berth.proc.pid!).length, 3, 'preload: the Python parent and its 2 workers');
});

test('when every thread is busy requests wait in the listen queue; past it, 503 with Retry-After', async (t) => {
  // The master's queue and its 503: with http-direct the workers accept themselves and a waiting
  // connection stays in the kernel's backlog, so this is the master path's behaviour.
  const berth = await startBerth(echoArgs(['--processes', '1', '--threads', '1', '--listen', '2', '--http-direct=false']));
  t.after(() => berth.stop());
  const busy = fetch(berth.url('/sleep?s=1'));
  await new Promise((r) => setTimeout(r, 200));
  const queued = [fetch(berth.url('/pid')), fetch(berth.url('/pid'))];
  await new Promise((r) => setTimeout(r, 200));
  const refused = await fetch(berth.url('/pid'));
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal((await busy).status, 200);
  for (const q of await Promise.all(queued)) assert.equal(q.status, 200, 'queued requests are served, not dropped');
});

test('a worker that dies mid-request costs only that request (502); it is respawned', async (t) => {
  // The master answers 502 for a request it routed; a worker serving a connection itself
  // (http-direct) takes that connection with it when it dies, as a uwsgi worker behind nginx does.
  const berth = await startBerth(echoArgs(['--processes', '1', '--threads', '2', '--http-direct=false']));
  t.after(() => berth.stop());
  const before = (await (await fetch(berth.url('/pid'))).json()) as { pid: number };
  const crashed = await fetch(berth.url('/crash'));
  assert.equal(crashed.status, 502);
  await berth.waitForLog(/died[\s\S]*answered 502/);
  await berth.waitForLog(/worker 1 \(pid \d+\) exited \([^)]*\); starting a new one/, 15_000);
  let after: { pid: number } | null = null;
  for (let i = 0; i < 50 && after === null; i++) {
    const r = await fetch(berth.url('/pid'));
    if (r.status === 200) after = (await r.json()) as { pid: number };
    else await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(after !== null, 'served again after the crash');
  assert.notEqual(after.pid, before.pid, 'by a new process');
});

test('a request sent ahead to a worker that then crashes is served by its successor, not lost', async (t) => {
  // Requests the master sent ahead to a worker: the master path only (http-direct off).
  const berth = await startBerth(echoArgs(['--processes', '1', '--threads', '1', '--http-direct=false']));
  t.after(() => berth.stop());
  // A few 0.2 s requests teach the pool the app's pace, so the next request is sent ahead
  // (prefetched) to the busy worker instead of waiting in the master's queue.
  for (let i = 0; i < 3; i++) assert.equal((await fetch(berth.url('/sleep?s=0.2'))).status, 200);
  const crashed = fetch(berth.url('/crash?s=0.6'));
  await new Promise((r) => setTimeout(r, 100));
  const behind = fetch(berth.url('/pid'));
  assert.equal((await crashed).status, 502, 'the request that crashed its worker');
  const res = await behind;
  assert.equal(res.status, 200, 'the request behind it was not running: it is dispatched again');
  await berth.waitForLog(/before starting 1 request\(s\) sent ahead to it: GET \/pid — dispatching them again/);
});

test('a request an idle worker never read before a stop made it exit 0 is dispatched again, not answered 502', async (t) => {
  // SIGSTOP holds the one worker idle in recv() while the master sends it a request; SIGTERM
  // then SIGCONT makes it leave at once (exit 0, the request still unread in its socket). Exit 0
  // means it finished all it started, so the request was never started and goes to the
  // replacement. The worker's pid is the one it reports: with lazy-apps a zygote runs beside it.
  // Requests the master sent ahead to a worker: the master path only (http-direct off).
  const berth = await startBerth(echoArgs(['--processes', '1', '--threads', '1', '--lazy-apps', '--http-direct=false']));
  t.after(() => berth.stop());
  const first = await fetch(berth.url('/pid'));
  assert.equal(first.status, 200);
  const worker = ((await first.json()) as { pid: number }).pid;
  assert.ok(pythonDescendants(berth.proc.pid!).includes(worker), 'the worker process');
  process.kill(worker, 'SIGSTOP');
  const unread = fetch(berth.url('/pid'));
  await new Promise((r) => setTimeout(r, 300));
  process.kill(worker, 'SIGTERM');
  process.kill(worker, 'SIGCONT');
  const res = await unread;
  assert.equal(res.status, 200, 'served by the replacement');
  assert.notEqual(((await res.json()) as { pid: number }).pid, worker, 'by another process');
  // Without this the test passes too when the request was still in the master's queue at SIGTERM.
  await berth.waitForLog(new RegExp(`pid ${worker}\\) died \\(exit code 0\\) before starting 1 request\\(s\\) sent ahead to it: GET /pid — dispatching them again`));
});

test('SIGTERM lets in-flight requests finish, then exits 0', async () => {
  const berth = await startBerth(echoArgs(['--processes', '1', '--threads', '2']));
  const inflight = fetch(berth.url('/sleep?s=1')).then(async (r) => ({ status: r.status, text: await r.text() }));
  await new Promise((r) => setTimeout(r, 300));
  const stopped = berth.stop('SIGTERM');
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.match(res.text, /slept/);
  const { code } = await stopped;
  assert.equal(code, 0);
});

test('SIGKILL of the master leaves no Python worker behind', async (t) => {
  const berth = await startBerth(echoArgs(['--processes', '2', '--threads', '1']));
  const workers = descendants(berth.proc.pid!);
  t.after(() => berth.stop('SIGKILL'));
  assert.equal(pythonDescendants(berth.proc.pid!).length, 3, 'preload: the Python parent and its 2 workers');
  await berth.stop('SIGKILL');
  await waitUntil(() => workers.every((p) => !existsSync(`/proc/${p}`) || /\(Z|zombie/.test(safeStat(p))), 'the workers exit');
});

function safeStat(pid: number): string {
  try {
    return execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' });
  } catch {
    return 'zombie';
  }
}

test('an app that fails to import stops Berth with the traceback, interpreter and sys.path (no respawn loop)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-import-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'broken.py'), 'import not_a_real_module_xyz\napplication = None\n');
  const r = await runBerth(['--http', '127.0.0.1:0', '--chdir', dir, '--module', 'broken', '--python', debianPython(), '--processes', '2']);
  assert.equal(r.code, 1);
  // It never says "listening on": the bound listeners are announced as loading.
  assert.match(r.stderr, /bound http:\/\/127\.0\.0\.1:\d+ \(the workers accept: http-direct\); loading the app \(connections wait until it is ready\)/);
  assert.doesNotMatch(r.stderr, /listening on/);
  assert.match(r.stderr, /could not be loaded/);
  assert.match(r.stderr, /ModuleNotFoundError: No module named 'not_a_real_module_xyz'/);
  assert.match(r.stderr, /\/usr\/bin\/python3/);
  assert.match(r.stderr, /sys\.path/);
  assert.ok((r.stderr.match(/Traceback/g) ?? []).length <= 2, 'shown once per worker at most, not in a loop');
});

test('a missing callable is reported by name', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-callable-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'nocall.py'), 'app = None\n');
  const r = await runBerth(['--http', '127.0.0.1:0', '--chdir', dir, '--module', 'nocall', '--python', debianPython()]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /application/);
});

test('berth check imports the app and prints the resolved config', async () => {
  const r = await runBerth(['check', '--http', ':8000', '--chdir', APPS, '--module', 'echo', '--python', debianPython()]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /imported OK by Python 3\.\d+/);
  assert.match(r.stdout, /echo/);
});

test('berth check reports every config problem at once with file:line and did-you-mean', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ini-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ini = join(dir, 'uwsgi.ini');
  writeFileSync(ini, '[uwsgi]\nhttp = :8000\nmodule = app\nprocess = 4\nthreds = 2\n');
  const r = await runBerth(['check', '--ini', ini]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown option 'process' \(line 4 of [^)]*uwsgi\.ini\).*did you mean 'processes'/);
  assert.match(r.stderr, /'threds' \(line 5 of [^)]*uwsgi\.ini\).*did you mean 'threads'/);
});

test('a port already in use is refused with the address and a fix', async (t) => {
  const berth = await startBerth(echoArgs(['--processes', '1']));
  t.after(() => berth.stop());
  const r = await runBerth(['--http', `127.0.0.1:${berth.port}`, '--chdir', APPS, '--module', 'echo', '--python', debianPython()]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${berth.port}.*already in use`));
});

test('requests never wait behind a slow request while another worker is free', async (t) => {
  const berth = await startBerth(echoArgs(['--processes', '2', '--threads', '1']));
  t.after(() => berth.stop());
  const order: string[] = [];
  const slow = fetch(berth.url('/sleep?s=1.5')).then(async (r) => {
    await r.text();
    order.push('slow');
  });
  await new Promise((r) => setTimeout(r, 150));
  const fast = Array.from({ length: 12 }, (_, i) =>
    fetch(berth.url(`/pid?${i}`)).then(async (r) => {
      assert.equal(r.status, 200);
      await r.text();
      order.push('fast');
    }),
  );
  await Promise.all([slow, ...fast]);
  assert.equal(order.at(-1), 'slow', `every fast request finished before the slow one: ${order.join(',')}`);
});

test('a crash in one worker does not disturb requests running in another', async (t) => {
  // The 502 for the crashed request is the master's (see above): the master path (http-direct off).
  const berth = await startBerth(echoArgs(['--processes', '2', '--threads', '1', '--http-direct=false']));
  t.after(() => berth.stop());
  const long = fetch(berth.url('/sleep?s=0.8')).then(async (r) => ({ status: r.status, text: await r.text() }));
  await new Promise((r) => setTimeout(r, 150));
  const crashed = await fetch(berth.url('/crash'));
  assert.equal(crashed.status, 502);
  const res = await long;
  assert.equal(res.status, 200);
  assert.match(res.text, /slept/);
});

test('logto writes the request log to a file; disable-logging keeps only errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const logged = join(dir, 'berth.log');
  const quiet = join(dir, 'quiet.log');
  const a = await startBerth(echoArgs(['--processes', '1', '--logto', logged]), { logFile: logged });
  t.after(() => a.stop());
  const b = await startBerth(echoArgs(['--processes', '1', '--logto', quiet, '--disable-logging']), { logFile: quiet });
  t.after(() => b.stop());
  const { readFileSync } = await import('node:fs');
  for (const s of [a, b]) {
    await (await fetch(s.url('/pid?ok'))).text();
    await (await fetch(s.url('/raise'))).text();
  }
  await new Promise((r) => setTimeout(r, 200));
  const full = readFileSync(logged, 'utf8');
  assert.match(full, /\[pid: \d+\|worker: 1\|req: \d+\/\d+\] 127\.0\.0\.1 .* GET \/pid\?ok => generated \d+ bytes in \d+ msecs \(HTTP\/1\.1 200\)/);
  assert.match(full, /GET \/raise => .*\(HTTP\/1\.1 500\)/);
  const q = readFileSync(quiet, 'utf8');
  assert.doesNotMatch(q, /GET \/pid\?ok/);
  assert.match(q, /GET \/raise => .*\(HTTP\/1\.1 500\)/);
  assert.match(q, /Traceback/);
});

test('without limit-post a body over the 100M default is refused with 413 before anything is spooled', async (t) => {
  const berth = await startBerth(echoArgs(['--processes', '1']));
  t.after(() => berth.stop());
  const { text } = await exchangeRaw(berth.port, `POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: ${100 * 1024 * 1024 + 1}\r\n\r\n`);
  assert.match(text, /^HTTP\/1\.1 413 /);
  const { text: ok } = await exchangeRaw(berth.port, `POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`);
  assert.match(ok, /^HTTP\/1\.1 200 /);
});

test('"listening on" is said only once the app is ready (an app that fails to import never says it: above)', async (t) => {
  const ok = await startBerth(echoArgs(['--processes', '1']));
  t.after(() => ok.stop());
  assert.match(ok.logs(), /app ready in \d+ ms[^\n]*\n[^\n]*listening on http:\/\/127\.0\.0\.1:\d+/);
});
