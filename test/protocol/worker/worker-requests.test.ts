// PEP 3333 behaviour of the real worker, one request per behaviour, through the TS codec.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { FromWorker, RESPONSE_WINDOW_BYTES } from '../../../src/protocol/worker/frames.js';
import { encodeAbort, encodeAck } from '../../../src/protocol/worker/encode.js';
import { WorkerProcess, killAll } from './worker-harness.js';

after(killAll);

const BODY = [Buffer.from('first line\nsec'), Buffer.from('ond line\n'), Buffer.from('no newline')];

// The same suite runs against both serving strategies: inline (threads=1) and threaded.
for (const threads of [1, 4]) {
  describe(`threads=${threads}`, () => {
    let w: WorkerProcess;
    let nextId = 1;
    const id = () => nextId++;
    const get = async (pathInfo: string, options: Parameters<WorkerProcess['request']>[2] = {}) => {
      const rid = id();
      w.request(rid, pathInfo, options);
      return w.response(rid);
    };

    before(async () => {
      w = new WorkerProcess({ threads, processes: 2 });
      await w.ready();
    });


    test('environ: CGI keys from the block, wsgi.* from the worker', async () => {
      const r = await get('/environ', { query: 'a=1', extra: ['HTTP_X_LATIN', 'caf\u00e9', 'wsgi.url_scheme', 'https'] });
      const env = JSON.parse(r.body.toString());
      assert.equal(env.PATH_INFO, '/environ');
      assert.equal(env.QUERY_STRING, 'a=1');
      assert.equal(env.HTTP_X_LATIN, 'caf\u00e9');
      assert.equal(env['wsgi.url_scheme'], 'https');
      assert.deepEqual(env['wsgi.version'], [1, 0]);
      assert.equal(env['wsgi.multithread'], threads > 1);
      assert.equal(env['wsgi.multiprocess'], true);
      assert.equal(env['wsgi.run_once'], false);
      assert.equal(env['wsgi.input_terminated'], true);
      assert.equal(env['wsgi.input'], 'EmptyInput');
      assert.equal(env['wsgi.errors'], 'ErrorStream');
      assert.equal(env['wsgi.file_wrapper'], 'type');
      assert.equal(env.SERVER_SOFTWARE, 'Berth');
    });

    test('wsgi.input: read(), read(n), iteration, readline(), readline(5), readlines()', async () => {
      const joined = Buffer.concat(BODY).toString();
      assert.equal((await get('/read', { method: 'POST', body: BODY })).body.toString(), joined);
      assert.equal((await get('/read-n', { query: 'n=3', body: BODY })).body.toString(), joined);
      assert.equal((await get('/iter', { body: BODY })).body.toString(), joined);
      const lines = ['first line\n', 'second line\n', 'no newline'];
      assert.deepEqual(JSON.parse((await get('/readline', { body: BODY })).body.toString()), lines);
      assert.deepEqual(JSON.parse((await get('/readlines', { body: BODY })).body.toString()), lines);
      assert.deepEqual(JSON.parse((await get('/readline-limit', { body: BODY })).body.toString()),
        ['first', ' line', '\n', 'secon', 'd lin', 'e\n', 'no ne', 'wline']);
    });

    test('a big body is credited back in batches', async () => {
      const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(10_000, 65 + (i % 26)));
      const r = await get('/read-n', { query: 'n=65536', body: chunks });
      assert.equal(r.body.length, 400_000);
      // Batched: at least one CREDIT, far fewer than the 40 BODY frames (how many depends on how
      // the frames happen to arrive, so no exact count).
      const credits = r.types.filter((t) => t === FromWorker.CREDIT).length;
      assert.ok(credits >= 1 && credits < 40, String(r.types));
    });

    test('a generator streams HEAD, BODY frames, END and is closed', async () => {
      const r = await get('/generator', { query: 'n=3&size=4' });
      assert.deepEqual(r.types, [FromWorker.HEAD, FromWorker.BODY, FromWorker.BODY, FromWorker.BODY, FromWorker.END]);
      assert.equal(r.body.toString(), 'aaaabbbbcccc');
      const empty = await get('/empty-generator');
      assert.deepEqual([empty.types, empty.status], [[FromWorker.HEAD, FromWorker.END], '204 No Content']);
      const closed = JSON.parse((await get('/closed')).body.toString());
      assert.equal(closed['/generator'], 1);
      assert.equal(closed['/empty-generator'], 1);
    });

    test('write() sends HEAD before the first write, then the returned list streams too', async () => {
      const r = await get('/write');
      assert.equal(r.kind, 'stream');
      assert.equal(r.body.toString(), 'one,two,three');
    });

    test('wsgi.file_wrapper streams the file-like', async () => {
      const r = await get('/file');
      assert.equal(r.body.length, 200_000);
    });

    test('exceptions become ERROR frames and the worker keeps serving', async () => {
      const before = await get('/raise');
      assert.deepEqual(before.types, [FromWorker.ERROR]);
      assert.match(before.error!, /Traceback[\s\S]*RuntimeError: apps.py: \/raise raised before start_response/);
      const afterHead = await get('/raise-after');
      assert.deepEqual(afterHead.types, [FromWorker.HEAD, FromWorker.BODY, FromWorker.ERROR]);
      assert.match(afterHead.error!, /raised after the first chunk/);
      assert.equal((await get('/hello')).body.toString(), 'Hello, World!');
    });

    test('invalid responses are ERROR frames with a precise reason', async () => {
      const cases: [string, RegExp][] = [
        ['/str-body', /^response body item 0 is str, not bytes$/],
        ['/bad-header-nul', /response header 'X-Bad' contains NUL/],
        ['/bad-header-crlf', /response header 'X-Bad' contains CR/],
        ['/bad-header-type', /TypeError: start_response\(\) header 0 value must be str, not int/],
        ['/twice', /start_response\(\) called twice without exc_info/],
      ];
      for (const [pathInfo, reason] of cases) {
        const r = await get(pathInfo);
        assert.deepEqual(r.types, [FromWorker.ERROR], pathInfo);
        assert.match(r.error!, reason, pathInfo);
      }
      assert.match(w.stderr, /request \d+ GET \/str-body: response body item 0 is str, not bytes/);
    });

    test('exc_info replaces headers before the body, re-raises after it', async () => {
      const early = await get('/exc-info');
      assert.deepEqual([early.kind, early.status, early.headers, early.body.toString()],
        ['full', '500 Oops', ['X-Second', '1'], 'replaced']);
      const late = await get('/exc-info-late');
      assert.deepEqual(late.types, [FromWorker.HEAD, FromWorker.BODY, FromWorker.ERROR]);
      assert.match(late.error!, /ValueError: late boom/);
    });

    test('ABORT stops the stream, closes the iterable and ends with END', async () => {
      const rid = id();
      w.request(rid, '/forever');
      assert.equal((await w.frame())!.type, FromWorker.HEAD);
      assert.equal((await w.frame())!.type, FromWorker.BODY);
      w.send(encodeAbort(rid));
      for (;;) {
        const f = (await w.frame())!;
        assert.equal(f.id, rid);
        if (f.type === FromWorker.END) break;
        assert.equal(f.type, FromWorker.BODY);
      }
      assert.equal(JSON.parse((await get('/closed')).body.toString())['/forever'], 1);
    });

    test('a 50 MB stream waits for ACKs and flows in a bounded window', async () => {
      const rid = id();
      w.request(rid, '/big', { query: 'mb=50' });
      const early = await w.framesUntilQuiet(300);
      assert.equal(early[0]!.type, FromWorker.HEAD);
      const sent = early.slice(1).reduce((n, f) => n + f.payload.length, 0);
      assert.ok(sent > 0 && sent <= RESPONSE_WINDOW_BYTES + 65536, `worker sent ${sent} bytes unacknowledged`);
      w.send(encodeAck(rid, sent));
      let total = sent;
      for (;;) {
        const f = (await w.frame())!;
        if (f.type === FromWorker.END) break;
        assert.equal(f.type, FromWorker.BODY);
        total += f.payload.length;
        w.send(encodeAck(rid, f.payload.length));
      }
      assert.equal(total, 50 * 1024 * 1024);
    });

    test('a list body too big for one FULL frame streams in window-sized BODY frames', async () => {
      const r = await get('/big-list', { query: 'mb=10' });
      assert.equal(r.kind, 'stream');
      assert.equal(r.body.length, 10 * 1024 * 1024);
      assert.equal(r.types.filter((t) => t === FromWorker.BODY).length, 10);
    });
  });
}

test('the wsgiref validator finds no server-side violation', async () => {
  const v = new WorkerProcess({ module: 'validated' });
  await v.ready();
  const cases: [string, Parameters<WorkerProcess['request']>[2]][] = [
    ['/hello', {}], ['/environ', {}], ['/read-n', { body: BODY }], ['/readline', { body: BODY }],
    ['/readlines', { body: BODY }], ['/iter', { body: BODY }], ['/generator', {}], ['/write', {}], ['/file', {}],
  ];
  for (const [i, [pathInfo, options]] of cases.entries()) {
    v.request(i + 1, pathInfo, options);
    const r = await v.response(i + 1);
    assert.equal(r.error, null, `${pathInfo}: ${r.error}`);
    assert.equal(r.status, '200 OK', pathInfo);
  }
  assert.doesNotMatch(v.stderr, /Warning|AssertionError/);
});
