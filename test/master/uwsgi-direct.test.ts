/**
 * uwsgi-direct (the default for uwsgi sockets): the Python workers accept on the socket and
 * answer the peer themselves, as uWSGI's workers do. Real Berth, real workers, raw uwsgi
 * packets as nginx sends them. Proven here: the master is out of the path (a stopped master
 * does not stop the answers — and with uwsgi-direct = false it does), served requests still
 * reach the access log (soon, and in order), harakiri and max-requests, a reload drops nothing, a graceful stop
 * finishes what runs, and whatever a worker must not serve itself goes to the master.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { eventually } from '../helpers/nginx.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';

const OPS = ['--chdir', APPS, '--module', 'ops', '--python', debianPython()];
const running: RunningBerth[] = [];
after(async () => {
  for (const b of running) {
    try {
      process.kill(b.proc.pid!, 'SIGCONT');
    } catch {
      /* gone */
    }
    await b.stop(); // SIGTERM: a clean stop removes what it created (SIGKILL after 15 s)
  }
});

async function berth(args: readonly string[]): Promise<RunningBerth> {
  const b = await startBerth(['--socket', '127.0.0.1:0', ...OPS, ...args]);
  running.push(b);
  return b;
}

function packet(path: string, extra: readonly string[] = []): Buffer {
  const [p, q = ''] = path.split('?') as [string, string?];
  return encodeUwsgiRequest([
    'REQUEST_METHOD', 'GET', 'REQUEST_URI', path, 'PATH_INFO', p, 'QUERY_STRING', q,
    'SERVER_PROTOCOL', 'HTTP/1.1', 'REMOTE_ADDR', '10.1.2.3', 'REMOTE_PORT', '5555', 'SERVER_NAME', 'site', 'SERVER_PORT', '80',
    'HTTP_HOST', 'site', 'HTTP_USER_AGENT', 'direct-test', ...extra,
  ]);
}

/** Sends bytes to a loopback port or a unix socket; returns everything the peer wrote until it closed (or until the timeout). */
function exchange(to: number | string, data: Buffer, timeoutMs = 10_000, halfClose = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = typeof to === 'number' ? connect(to, '127.0.0.1') : connect(to);
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve(out);
    }, timeoutMs);
    s.on('connect', () => (halfClose ? s.end(data) : s.write(data)));
    s.on('data', (c: Buffer) => (out += c.toString('latin1')));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function status(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

test('the workers answer uwsgi requests themselves: a stopped master does not stop them, unlike uwsgi-direct = false', async () => {
  const direct = await berth(['--processes', '2']);
  assert.match(direct.logs(), /listening on uwsgi:\/\/127\.0\.0\.1:\d+ \(the workers accept: uwsgi-direct\)/);
  const viaMaster = await berth(['--processes', '1', '--uwsgi-direct=false']);
  assert.doesNotMatch(viaMaster.logs(), /the workers accept/);
  for (const b of [direct, viaMaster]) assert.equal(status(await exchange(b.port, packet('/'))), 200);

  process.kill(direct.proc.pid!, 'SIGSTOP');
  process.kill(viaMaster.proc.pid!, 'SIGSTOP');
  try {
    const answers = await Promise.all([1, 2, 3].map(() => exchange(direct.port, packet('/'), 5_000)));
    for (const a of answers) {
      assert.equal(status(a), 200, a);
      assert.match(a, /v1 pid \d+/);
      assert.match(a, /\r\nConnection: close\r\n/);
      assert.match(a, /\r\nDate: /);
    }
    assert.equal(await exchange(viaMaster.port, packet('/'), 1_500), '', 'a stopped master answers nothing without uwsgi-direct');
  } finally {
    process.kill(direct.proc.pid!, 'SIGCONT');
    process.kill(viaMaster.proc.pid!, 'SIGCONT');
  }
  await viaMaster.stop();
});

test('requests the workers served reach the access log (log-format), with the serving pid', async () => {
  const b = await berth(['--processes', '1', '--log-format', 'DIRECT %(method) %(uri) %(status) %(size) %(addr) %(uagent) %(pid)']);
  const answer = await exchange(b.port, packet('/whoami?x=1'));
  const pid = Number(/pid (\d+)/.exec(answer)?.[1]);
  const size = answer.length - answer.indexOf('\r\n\r\n') - 4;
  const log = await eventually(b.logs, /DIRECT GET \/whoami\?x=1 200/);
  assert.match(log, new RegExp(`DIRECT GET /whoami\\?x=1 200 ${size} 10\\.1\\.2\\.3 direct-test ${pid}`));
});

test('a request the workers served is in the access log soon: before the 0.3 s request sent after it is answered, and in order', async () => {
  const b = await berth(['--processes', '1', '--log-format', 'SOON %(uri) %(status)']);
  for (let round = 0; round < 3; round++) {
    assert.equal(status(await exchange(b.port, packet(`/whoami?first=${round}`))), 200);
    assert.equal(status(await exchange(b.port, packet(`/sleep?s=0.3&then=${round}`))), 200);
    assert.match(b.logs(), new RegExp(`SOON /whoami\\?first=${round} 200`), `round ${round}: the first request is logged before the next one is answered`);
  }
  await eventually(b.logs, /SOON \/sleep\?s=0\.3&then=2 200/);
  const order = b.logs().match(/SOON \S+/g)!.map((line) => line.slice(5));
  assert.deepEqual(order, ['/whoami?first=0', '/sleep?s=0.3&then=0', '/whoami?first=1', '/sleep?s=0.3&then=1', '/whoami?first=2', '/sleep?s=0.3&then=2']);
});

/** The scheduling policy of each thread of a process (/proc stat field 41): 0 normal, 3 batch. */
function threadPolicies(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]));
  }
  return out;
}

test('uwsgi-direct-batch: the thread that accepts runs under SCHED_BATCH, the others keep the normal policy; = false changes nothing', async () => {
  const SCHED_OTHER = 0;
  const SCHED_BATCH = 3;
  for (const [args, expected] of [[[], SCHED_BATCH], [['--uwsgi-direct-batch=false'], SCHED_OTHER]] as const) {
    const b = await berth(['--processes', '1', ...args]);
    const pid = Number(/pid (\d+)/.exec(await exchange(b.port, packet('/whoami')))?.[1]);
    const policies = threadPolicies(pid);
    assert.equal(policies.get(pid), expected, `the accepting (main) thread of worker ${pid}, with ${args.join(' ') || 'the default'}`);
    const helpers = [...policies].filter(([tid]) => tid !== pid);
    assert.ok(helpers.length > 0, 'a worker has helper threads (report, watchdog)');
    for (const [tid, policy] of helpers) assert.equal(policy, SCHED_OTHER, `helper thread ${tid}`);
    assert.equal(status(await exchange(b.port, packet('/'))), 200);
  }
});

test('harakiri: the worker answers 504, the log has the request and its stack, and a new worker takes over', async () => {
  const b = await berth(['--processes', '1', '--harakiri', '1']);
  const before = Number(/pid (\d+)/.exec(await exchange(b.port, packet('/')))?.[1]);
  const answer = await exchange(b.port, packet('/sleep?s=30'), 15_000);
  assert.equal(status(answer), 504, answer);
  const log = await eventually(b.logs, /harakiri: GET \/sleep\?s=30 ran longer than 1 s/);
  assert.match(log, /running GET \/sleep\?s=30/);
  assert.match(log, /time\.sleep/);
  let after = NaN;
  for (let i = 0; i < 100 && !(after > 0 && after !== before); i++) {
    after = Number(/pid (\d+)/.exec(await exchange(b.port, packet('/'), 2_000))?.[1]);
    if (!(after > 0 && after !== before)) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(after > 0 && after !== before, `a new worker serves (before ${before}, after ${after})`);
});

test('max-requests recycles a worker that serves uwsgi requests itself', async () => {
  const b = await berth(['--processes', '1', '--max-requests', '5', '--min-worker-lifetime', '0']);
  const first = Number(/pid (\d+)/.exec(await exchange(b.port, packet('/')))?.[1]);
  const pids = new Set<number>([first]);
  for (let i = 0; i < 60 && pids.size < 2; i++) {
    pids.add(Number(/pid (\d+)/.exec(await exchange(b.port, packet('/')))?.[1]));
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(pids.size >= 2, `served by ${[...pids].join(', ')}`);
  assert.match(b.logs(), /served \d+ requests \(max-requests = 5\)/);
});

test('SIGHUP under a steady stream of uwsgi requests: every request is answered 200', async () => {
  const b = await berth(['--processes', '2']);
  let stop = false;
  const failures: string[] = [];
  let ok = 0;
  const loop = async (): Promise<void> => {
    while (!stop) {
      const a = await exchange(b.port, packet('/'), 10_000).catch((e: Error) => `error ${e.message}`);
      if (status(a) === 200) ok++;
      else failures.push(a.slice(0, 200));
    }
  };
  const loops = [loop(), loop(), loop()];
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 300));
    process.kill(b.proc.pid!, 'SIGHUP');
    await b.waitForLog(new RegExp(`reload done in \\d+ ms: generation ${i + 2} serves`), 20_000);
  }
  await new Promise((r) => setTimeout(r, 1_000));
  stop = true;
  await Promise.all(loops);
  assert.deepEqual(failures, []);
  assert.ok(ok > 30, `${ok} requests answered`);
});

test('a graceful stop lets a request the worker is running finish', async () => {
  const b = await berth(['--processes', '1']);
  const slow = exchange(b.port, packet('/sleep?s=1'));
  await new Promise((r) => setTimeout(r, 300));
  const stopped = b.stop('SIGTERM');
  const answer = await slow;
  assert.equal(status(answer), 200, answer);
  assert.match(answer, /slept in pid/);
  assert.deepEqual(await stopped, { code: 0, signal: null });
});

test('what a worker does not serve itself goes to the master: plain HTTP, a bad packet, a body over limit-post, another modifier', async () => {
  const b = await berth(['--processes', '1', '--limit-post', '10']);
  const http = await exchange(b.port, Buffer.from('GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  assert.equal(status(http), 200, http);
  await eventually(b.logs, /speaks the uwsgi protocol but received plain HTTP[^\n]*served anyway/);

  const broken = Buffer.from([0, 6, 0, 0, 9, 0, 65, 65, 65, 65]); // a key length past the block
  assert.equal(status(await exchange(b.port, broken)), 400);
  await eventually(b.logs, /bad uwsgi packet from [^\n]*runs past/);

  const big = encodeUwsgiRequest(['REQUEST_METHOD', 'POST', 'PATH_INFO', '/', 'REQUEST_URI', '/', 'CONTENT_LENGTH', '100']);
  const tooBig = await exchange(b.port, Buffer.concat([big, Buffer.alloc(100, 120)]));
  assert.equal(status(tooBig), 413, tooBig);

  const other = encodeUwsgiRequest(['PATH_INFO', '/'], 5);
  assert.equal(await exchange(b.port, other), '');
  await eventually(b.logs, /modifier1 5/);

  // And the worker still serves the ordinary ones.
  assert.equal(status(await exchange(b.port, packet('/'))), 200);
});

test('a relayed client that half-closes after its request still gets the answer, as on the master path', async () => {
  // Bytes after the packet make the worker relay it (the master answers and warns); the client
  // sends FIN right after, as a fuzz input and some uwsgi clients do. Found by test/fuzz.
  const b = await berth(['--processes', '1']);
  const trailing = Buffer.concat([packet('/whoami'), Buffer.from('X')]);
  const answer = await exchange(b.port, trailing, 10_000, true);
  assert.equal(status(answer), 200, JSON.stringify(answer));
  await eventually(b.logs, /sent bytes after a complete request/);
  assert.equal(status(await exchange(b.port, packet('/whoami'), 10_000, true)), 200, 'served by the worker itself');
});

test('static-map keeps the socket with the master and the log says how to choose otherwise; with uwsgi-direct = true files below the mountpoint come from the master, the rest from the worker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-direct-static-'));
  writeFileSync(join(dir, 'site.css'), 'body { color: teal }\n');
  try {
    const byDefault = await berth(['--processes', '1', '--static-map', `/static=${dir}`]);
    assert.match(byDefault.logs(), /listening on uwsgi:\/\/127\.0\.0\.1:\d+ \(through the master, for static-map; if nginx serves those files itself, uwsgi-direct = true lets the workers answer the pages/);
    assert.equal(status(await exchange(byDefault.port, packet('/static/site.css'))), 200);
    await byDefault.stop();

    const b = await berth(['--processes', '1', '--static-map', `/static=${dir}`, '--uwsgi-direct']);
    assert.match(b.logs(), /the workers accept: uwsgi-direct/);
    const css = await exchange(b.port, packet('/static/site.css'));
    assert.equal(status(css), 200, css);
    assert.match(css, /\r\nETag: "/i, 'served by the master\'s static stage');
    assert.ok(css.endsWith('\r\n\r\nbody { color: teal }\n'), css);
    // No such file: the master falls through to the app, as without uwsgi-direct.
    assert.match(await exchange(b.port, packet('/static/missing.css')), /^HTTP\/1\.1 200[^]*\r\n\r\n\S+ pid \d+$/);

    process.kill(b.proc.pid!, 'SIGSTOP');
    try {
      assert.match(await exchange(b.port, packet('/whoami')), /^HTTP\/1\.1 200[^]*pid \d+$/, 'a dynamic request does not need the master');
      assert.equal(await exchange(b.port, packet('/static/site.css'), 1500), '', 'a static one waits for the master');
    } finally {
      process.kill(b.proc.pid!, 'SIGCONT');
    }
    assert.equal(status(await exchange(b.port, packet('/static/site.css'))), 200);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('static-from-django with uwsgi-direct = true: each worker hands STATIC_URL to the master, the admin CSS comes from STATIC_ROOT, the pages from the worker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-direct-django-'));
  const env = { DJSITE_DB: join(dir, 'db.sqlite3'), DJSITE_MEDIA_ROOT: join(dir, 'media'), DJSITE_STATIC_ROOT: join(dir, 'static') };
  try {
    execFileSync(debianPython(), [join(APPS, 'djsite', 'prepare.py'), '--static'], { env: { ...process.env, ...env }, stdio: 'pipe' });
    const b = await berth(['--processes', '1', '--chdir', join(APPS, 'djsite'), '--module', 'djsite.wsgi', '--static-from-django', '--uwsgi-direct',
      ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`])]);
    assert.match(b.logs(), /the workers accept: uwsgi-direct/);
    const expected = readFileSync(join(env.DJSITE_STATIC_ROOT, 'admin', 'css', 'base.css'), 'latin1');
    await eventually(b.logs, /static-from-django: \/static → /);
    const css = await exchange(b.port, packet('/static/admin/css/base.css'));
    assert.equal(status(css), 200, css.slice(0, 300));
    assert.match(css, /\r\nETag: "/i, 'served by the master\'s static stage, not by Django (DEBUG is off: it would 404)');
    assert.ok(css.endsWith(`\r\n\r\n${expected}`), 'the collected file, whole');

    process.kill(b.proc.pid!, 'SIGSTOP');
    try {
      assert.equal(status(await exchange(b.port, packet('/'))), 200, 'a page does not need the master');
      assert.equal(await exchange(b.port, packet('/static/admin/css/base.css'), 1500), '', 'a static file waits for it');
    } finally {
      process.kill(b.proc.pid!, 'SIGCONT');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the worker streams the body to the app and checks the app\'s response as the master does', async () => {
  const b = await startBerth(['--socket', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--python', debianPython(), '--processes', '1']);
  running.push(b);
  const body = Buffer.alloc(3_000_000, 97);
  const post = encodeUwsgiRequest(['REQUEST_METHOD', 'POST', 'PATH_INFO', '/body-sha256', 'REQUEST_URI', '/body-sha256', 'CONTENT_LENGTH', String(body.length)]);
  const answer = await exchange(b.port, Buffer.concat([post, body]));
  assert.equal(status(answer), 200, answer.slice(0, 300));
  assert.deepEqual(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), { size: body.length, sha256: createHash('sha256').update(body).digest('hex') });

  const get = (path: string): Promise<string> => {
    const [p, q = ''] = path.split('?') as [string, string?];
    return exchange(b.port, encodeUwsgiRequest(['REQUEST_METHOD', 'GET', 'PATH_INFO', p, 'QUERY_STRING', q, 'REQUEST_URI', path]));
  };
  const injected = await get('/bad-header');
  assert.equal(status(injected), 500, injected);
  assert.doesNotMatch(injected, /X-Injected/);
  assert.equal(status(await get('/raise')), 500);
  await eventually(b.logs, /GET \/raise failed:[^]*Traceback/);
  const long = await get('/long-body');
  assert.equal(long.slice(long.indexOf('\r\n\r\n') + 4).length, 5, 'cut at its Content-Length');
  const streamed = await get('/stream?n=3&size=4');
  assert.equal(status(streamed), 200);
  assert.equal(streamed.slice(streamed.indexOf('\r\n\r\n') + 4), 'aaaabbbbcccc');
  assert.doesNotMatch(streamed, /Transfer-Encoding/i, 'a uwsgi response ends with the connection, never chunked');
  // Plain HTTP on the socket is relayed to the master, which must still see the real ends.
  const relayed = await exchange(b.port, Buffer.from('GET /environ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  assert.equal(status(relayed), 200, relayed.slice(0, 300));
  const seen = JSON.parse(relayed.slice(relayed.indexOf('\r\n\r\n') + 4)) as Record<string, string>;
  assert.deepEqual([seen['REMOTE_ADDR'], seen['SERVER_PORT']], ['127.0.0.1', String(b.port)]);
  const head = await exchange(b.port, encodeUwsgiRequest(['REQUEST_METHOD', 'HEAD', 'PATH_INFO', '/pid', 'REQUEST_URI', '/pid']));
  assert.equal(status(head), 200);
  assert.equal(head.slice(head.indexOf('\r\n\r\n') + 4), '', 'HEAD has no body');
});

test('a peer that connects to the unix socket and stalls frees the worker after socket-timeout', async (t) => {
  const sock = `/tmp/berth-direct-${process.pid}.sock`;
  t.after(() => rmSync(sock, { force: true }));
  // The HTTP listener only gives the test helper a port to find.
  const b = await startBerth(['--http', '127.0.0.1:0', '--socket', sock, ...OPS, '--processes', '1', '--socket-timeout', '1']);
  running.push(b);
  const stalled = connect(sock);
  await new Promise((r) => stalled.once('connect', r));
  try {
    const answer = await exchange(sock, packet('/'), 8_000);
    assert.equal(status(answer), 200, `no answer within 8 s: the stalled peer still holds the only thread (${answer})`);
  } finally {
    stalled.destroy();
  }
});

