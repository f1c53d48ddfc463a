// The real python/berth_worker.py under /usr/bin/python3: boot, READY/BOOT_FAIL, exit codes,
// threads, shutdown, and the master vanishing. Requests in detail: worker-requests.test.ts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';

import { parseBootFail } from '../../../src/protocol/worker/payloads.js';
import { encodeShutdown } from '../../../src/protocol/worker/encode.js';
import { EXIT_CODES, FromWorker } from '../../../src/protocol/worker/frames.js';
import { APPS, PYTHON, WorkerProcess, killAll } from './worker-harness.js';

after(killAll);

test('READY carries pid, interpreter and sys.path, then hello is one FULL frame', async () => {
  const w = new WorkerProcess({ module: 'hello', threads: 1 });
  const ready = await w.ready();
  assert.equal(ready.pid, w.child.pid);
  assert.equal(ready.executable, PYTHON);
  assert.match(ready.version, /^3\.\d+\.\d+/);
  assert.equal(ready.threads, 1);
  assert.equal(ready.sys_path[0], APPS);
  w.request(1, '/');
  const r = await w.response(1);
  assert.deepEqual([r.kind, r.status, r.headers, r.body.toString()],
    ['full', '200 OK', ['Content-Type', 'text/plain', 'Content-Length', '13'], 'Hello, World!']);
  w.send(encodeShutdown());
  assert.deepEqual(await w.exited, { code: EXIT_CODES.OK, signal: null });
});

test('an import error sends BOOT_FAIL with the traceback and exits 4', async () => {
  const w = new WorkerProcess({ module: 'import_error' });
  const f = await w.frame();
  assert.equal(f?.type, FromWorker.BOOT_FAIL);
  const info = parseBootFail(f!.payload);
  assert.equal(info.kind, 'import');
  assert.match(info.message, /this_module_does_not_exist_berth/);
  assert.match(info.traceback, /Traceback \(most recent call last\)[\s\S]*import_error\.py/);
  assert.equal(info.executable, PYTHON);
  assert.equal((await w.exited).code, EXIT_CODES.APP_IMPORT_FAILURE);
  assert.match(w.stderr, /cannot start the app \(import\)[\s\S]*Traceback/);
});

test('a missing callable names the callables found and exits 4', async () => {
  const w = new WorkerProcess({ module: 'no_attr' });
  const info = parseBootFail((await w.frame())!.payload);
  assert.equal(info.kind, 'callable');
  assert.match(info.message, /no callable 'application'; its callables: app/);
  assert.equal((await w.exited).code, EXIT_CODES.APP_IMPORT_FAILURE);
  const w2 = new WorkerProcess({ module: 'no_callable:application' });
  assert.match(parseBootFail((await w2.frame())!.payload).message, /is a str, not callable/);
  assert.equal((await w2.exited).code, EXIT_CODES.APP_IMPORT_FAILURE);
});

test('chdir and config failures exit 3', async () => {
  const w = new WorkerProcess({ chdir: '/nonexistent/berth' });
  assert.equal(parseBootFail((await w.frame())!.payload).kind, 'chdir');
  assert.equal((await w.exited).code, EXIT_CODES.BOOT_FAILURE);
  const w2 = new WorkerProcess({ module: null });
  assert.match(parseBootFail((await w2.frame())!.payload).message, /exactly one of module and wsgi_file/);
  assert.equal((await w2.exited).code, EXIT_CODES.BOOT_FAILURE);
});

test('check mode exits 0 right after READY', async () => {
  const w = new WorkerProcess({ check: true });
  await w.ready();
  assert.equal((await w.exited).code, EXIT_CODES.OK);
});

test('a wsgi-file is executed as a module named after the file', async () => {
  const file = path.join(APPS, 'hello.wsgi');
  const w = new WorkerProcess({ module: null, wsgi_file: file, chdir: null });
  await w.ready();
  w.request(1, '/');
  assert.deepEqual(JSON.parse((await w.response(1)).body.toString()), { file, name: 'hello' });
});

test('closing the channel makes the worker exit 5, even inside a sleeping app', async () => {
  for (const threads of [1, 4]) {
    const w = new WorkerProcess({ threads });
    await w.ready();
    w.request(1, '/sleep', { query: 's=30' });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    w.channel.destroy();
    assert.equal((await w.exited).code, EXIT_CODES.MASTER_GONE, `threads=${threads}`);
    assert.ok(Date.now() - t0 < 2000);
  }
});

test('os._exit in the middle of a request ends the process and the channel', async () => {
  const w = new WorkerProcess({});
  await w.ready();
  w.request(1, '/exit');
  assert.equal(await w.frame(), null);
  assert.equal((await w.exited).code, 7);
});

test('threads=4 runs 4 sleeping requests at once', async () => {
  const w = new WorkerProcess({ threads: 4 });
  assert.equal((await w.ready()).threads, 4);
  const t0 = Date.now();
  for (let id = 1; id <= 4; id++) w.request(id, '/sleep', { query: 's=0.5' });
  const ids = [];
  for (let i = 0; i < 4; i++) {
    const f = await w.frame();
    assert.equal(f?.type, FromWorker.FULL);
    ids.push(f!.id);
  }
  const elapsed = Date.now() - t0;
  assert.deepEqual(ids.sort(), [1, 2, 3, 4]);
  assert.ok(elapsed < 1200, `took ${elapsed} ms`);
  w.request(5, '/environ');
  const env = JSON.parse((await w.response(5)).body.toString());
  assert.equal(env['wsgi.multithread'], true);
});

test('SHUTDOWN lets in-flight requests finish, then exits 0 (both strategies)', async () => {
  for (const threads of [1, 3]) {
    const w = new WorkerProcess({ threads });
    await w.ready();
    w.request(1, '/sleep', { query: 's=0.3' });
    w.send(encodeShutdown());
    assert.equal((await w.response(1)).body.toString(), 'slept');
    assert.equal((await w.exited).code, EXIT_CODES.OK);
  }
});

test('SIGTERM is a graceful stop; SIGINT is ignored', async () => {
  const w = new WorkerProcess({});
  await w.ready();
  w.child.kill('SIGINT');
  w.request(1, '/sleep', { query: 's=0.3' });
  await new Promise((r) => setTimeout(r, 100));
  w.child.kill('SIGTERM');
  assert.equal((await w.response(1)).body.toString(), 'slept');
  assert.equal((await w.exited).code, EXIT_CODES.OK);
});

test('SIGTERM while idle exits 0 at once (both strategies)', async () => {
  for (const threads of [1, 2]) {
    const w = new WorkerProcess({ threads });
    await w.ready();
    w.request(1, '/hello');
    await w.response(1);
    const t0 = Date.now();
    w.child.kill('SIGTERM');
    assert.equal((await w.exited).code, EXIT_CODES.OK, `threads=${threads}`);
    assert.ok(Date.now() - t0 < 1000);
  }
});
