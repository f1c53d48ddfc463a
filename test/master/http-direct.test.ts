/**
 * http-direct: the Python workers accept on the HTTP listener and serve whole, plain requests
 * themselves (keep-alive, pipelining), handing every other connection — its descriptor, its
 * unread bytes still in the kernel — to the master. Real Berth, real workers, raw HTTP. The app
 * says which path ran it (`via=direct`: the worker's HTTP loop; `via=master`: the framed server
 * the master feeds), so each test proves the path taken, not only the answer.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { eventually } from '../helpers/nginx.js';
import { readStatsDocument } from '../../src/stats/stats-client.js';
import { Client, serverEndHolders } from '../helpers/direct-client.js';

const APP = ['--chdir', APPS, '--module', 'http_direct_app', '--python', debianPython()];
const running: RunningBerth[] = [];
after(async () => {
  for (const b of running) await b.stop();
});

async function berth(args: readonly string[]): Promise<RunningBerth> {
  const b = await startBerth(['--http', '127.0.0.1:0', ...APP, ...args]);
  running.push(b);
  return b;
}

const GET = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: site\r\n${extra}\r\n`;

async function one(port: number, request: string): Promise<{ text: string; bodies: string[] }> {
  const c = new Client(port);
  await c.write(request);
  const bodies = await c.until(1);
  c.end();
  return { text: c.text, bodies };
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('the workers serve whole requests themselves, unset (on by default) or true; false keeps the master path', async () => {
  for (const on of [[], ['--http-direct']]) {
    const direct = await berth(['--processes', '2', ...on]);
    assert.match(direct.logs(), /listening on http:\/\/127\.0\.0\.1:\d+ \(the workers accept: http-direct\)/);
    assert.match((await one(direct.port, GET('/a', 'Connection: close\r\n'))).bodies[0]!, /^via=direct /);
  }
  const viaMaster = await berth(['--processes', '1', '--http-direct=false']);
  assert.doesNotMatch(viaMaster.logs(), /the workers accept/);
  assert.match((await one(viaMaster.port, GET('/a', 'Connection: close\r\n'))).bodies[0]!, /^via=master /);
});

test('pipelining: three requests in one write get three responses in order, all from the worker, on one connection', async () => {
  const b = await berth(['--processes', '1', '--http-direct']);
  const c = new Client(b.port);
  await c.write(GET('/1') + GET('/2') + GET('/3'));
  const bodies = await c.until(3);
  assert.deepEqual(bodies.map((x) => /path=(\S+)/.exec(x)![1]), ['/1', '/2', '/3']);
  for (const x of bodies) assert.match(x, /^via=direct /);
  assert.equal(c.closed, false, 'keep-alive: the connection stays open');
  c.end();
});

test('a slow client (the head sent byte by byte) is answered by the master', async () => {
  const b = await berth(['--processes', '1', '--http-direct']);
  const c = new Client(b.port);
  for (const ch of GET('/slow', 'Connection: close\r\n')) {
    await c.write(ch);
    await pause(5);
  }
  const bodies = await c.until(1);
  assert.match(bodies[0]!, /^via=master .*path=\/slow/);
  c.end();
});

test('a body in two writes is collected by the master; a whole one is served by the worker', async () => {
  const b = await berth(['--processes', '1', '--http-direct']);
  const c = new Client(b.port);
  await c.write('POST /split HTTP/1.1\r\nHost: site\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhello');
  await pause(200);
  await c.write('world');
  assert.match((await c.until(1))[0]!, /^via=master .*path=\/split body=helloworld/);
  c.end();
  const whole = await one(b.port, 'POST /whole HTTP/1.1\r\nHost: site\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
  assert.match(whole.bodies[0]!, /^via=direct .*path=\/whole body=hello/);
});

test('a malformed request gets the master\'s 400, and the app never sees it', async () => {
  const b = await berth(['--processes', '1', '--http-direct']);
  const c = new Client(b.port);
  await c.write('GET /bad HTTP/1.1\r\nHost: site\r\nBad Header: y\r\n\r\n');
  await c.until(1);
  assert.match(c.text, /^HTTP\/1\.1 400 /);
  assert.match(c.text, /whitespace between field name and colon/);
  assert.equal(c.bodies.length, 0);
  await eventually(b.logs, /bad request from 127\.0\.0\.1:\d+: whitespace between field name and colon/);
  c.end();
});

test('a path under a static mountpoint is served by the master\'s static stage', async () => {
  const b = await berth(['--processes', '1', '--http-direct', '--static-map', `/fixtures=${APPS}`]);
  const file = await one(b.port, GET('/fixtures/http_direct_app.py', 'Connection: close\r\n'));
  assert.match(file.text, /^HTTP\/1\.1 200 /);
  assert.match(file.text, /Test app for http-direct/);
  assert.match((await one(b.port, GET('/page', 'Connection: close\r\n'))).bodies[0]!, /^via=direct /);
});

test('requests served by the worker reach the access log (with the serving pid) and the stats counters', async () => {
  const b = await berth(['--processes', '1', '--http-direct', '--stats', '127.0.0.1:0', '--log-format', 'HD %(method) %(uri) %(status) %(size) %(addr) %(pid)']);
  const stats = /stats \S.*? on (127\.0\.0\.1:\d+)/.exec(b.logs())![1]!;
  const c = new Client(b.port);
  await c.write(GET('/logged?x=1') + GET('/logged?x=2'));
  const bodies = await c.until(2);
  c.end();
  const pid = Number(/pid=(\d+)/.exec(bodies[0]!)![1]);
  const log = await eventually(b.logs, /HD GET \/logged\?x=2 200/);
  const size = bodies[0]!.length + 1;
  assert.match(log, new RegExp(`HD GET /logged\\?x=1 200 ${size} 127\\.0\\.0\\.1 ${pid}`));
  let doc: Record<string, unknown> = {};
  for (let i = 0; i < 50; i++) {
    doc = await readStatsDocument(stats, { timeoutMs: 5000 });
    if (((doc['berth'] as Record<string, number>)['direct_requests'] ?? 0) >= 2) break;
    await pause(100);
  }
  assert.equal((doc['berth'] as Record<string, number>)['direct_requests'], 2);
});

test('harakiri kills a worker stuck in a direct request (504), and a new worker takes over', async () => {
  const b = await berth(['--processes', '1', '--http-direct', '--harakiri', '1']);
  const before = Number(/pid=(\d+)/.exec((await one(b.port, GET('/', 'Connection: close\r\n'))).bodies[0]!)![1]);
  const stuck = new Client(b.port);
  await stuck.write(GET('/sleep?s=30', 'Connection: close\r\n'));
  await stuck.until(1, 15_000);
  assert.match(stuck.text, /^HTTP\/1\.1 504 /);
  await eventually(b.logs, /harakiri: GET \/sleep\?s=30 ran longer than 1 s/);
  let after = NaN;
  for (let i = 0; i < 100 && !(after > 0 && after !== before); i++) {
    after = Number(/pid=(\d+)/.exec((await one(b.port, GET('/', 'Connection: close\r\n'))).bodies[0] ?? '')?.[1]);
    if (!(after > 0 && after !== before)) await pause(100);
  }
  assert.ok(after > 0 && after !== before, `a new worker serves (before ${before}, after ${after})`);
});

test('max-requests recycles a worker that serves HTTP itself', async () => {
  const b = await berth(['--processes', '1', '--http-direct', '--max-requests', '5', '--min-worker-lifetime', '0']);
  const pids = new Set<number>();
  for (let i = 0; i < 60 && pids.size < 2; i++) {
    const r = await one(b.port, GET('/', 'Connection: close\r\n'));
    if (r.bodies[0] !== undefined) pids.add(Number(/pid=(\d+)/.exec(r.bodies[0])![1]));
    await pause(50);
  }
  assert.ok(pids.size >= 2, `served by ${[...pids].join(', ')}`);
  assert.match(b.logs(), /served \d+ requests \(max-requests = 5\)/);
});

test('SIGHUP with requests in flight and idle keep-alive connections held by the workers: none fails', async () => {
  const b = await berth(['--processes', '2', '--http-direct']);
  const failures: string[] = [];
  let ok = 0;
  let stop = false;
  // Keep-alive clients that pause 50 ms between requests: each pause finds the connection idle in a worker.
  const loop = async (): Promise<void> => {
    while (!stop) {
      let c = new Client(b.port);
      let answered = 0;
      for (let i = 0; i < 10 && !stop; i++) {
        await c.write(GET(`/k${i}`));
        const bodies = await c.until(answered + 1);
        if (bodies.length === answered + 1) ok++;
        else {
          failures.push(`request ${i}: ${c.text.slice(-200)}`);
          break;
        }
        answered++;
        // A retiring worker's connection goes back to the workers: the master's answer says
        // Connection: close, and a client reconnects (RFC 9112 §9.6).
        if (/\r\nConnection: close\r\n/i.test(c.text.slice(c.text.lastIndexOf('HTTP/1.1 ')))) {
          c.end();
          c = new Client(b.port);
          answered = 0;
        }
        await pause(50);
      }
      c.end();
    }
  };
  const inFlight = one(b.port, GET('/sleep?s=1', 'Connection: close\r\n'));
  const loops = [loop(), loop(), loop()];
  for (let i = 0; i < 2; i++) {
    await pause(300);
    process.kill(b.proc.pid!, 'SIGHUP');
    await b.waitForLog(new RegExp(`reload done in \\d+ ms: generation ${i + 2} serves`), 20_000);
  }
  await pause(500);
  stop = true;
  await Promise.all(loops);
  assert.match((await inFlight).bodies[0] ?? '', /path=\/sleep/);
  assert.deepEqual(failures, []);
  assert.ok(ok > 20, `${ok} requests answered`);
});

test('a graceful stop (SIGTERM) lets a running direct request finish and answers an idle keep-alive connection\'s next request', async () => {
  const b = await berth(['--processes', '1', '--http-direct']);
  const idle = new Client(b.port);
  await idle.write(GET('/before'));
  await idle.until(1);
  const slow = one(b.port, GET('/sleep?s=1', 'Connection: close\r\n'));
  await pause(300);
  const stopped = b.stop('SIGTERM');
  await idle.write(GET('/during', 'Connection: close\r\n'));
  const answer = await slow;
  assert.match(answer.bodies[0] ?? answer.text, /^via=direct .*path=\/sleep/);
  const bodies = await idle.until(2);
  idle.end();
  assert.ok(bodies.length === 2 || idle.closed, `the idle connection was answered or closed cleanly: ${idle.text.slice(-200)}`);
  assert.deepEqual(await stopped, { code: 0, signal: null });
});

test('the idle keep-alive connections of a thread busy in the app move to the master: one outlives the worker\'s harakiri', async () => {
  const b = await berth(['--processes', '1', '--threads', '1', '--harakiri', '1', '--http-direct']);
  const idle = new Client(b.port);
  await idle.write(GET('/first'));
  assert.match((await idle.until(1))[0]!, /^via=direct /);
  assert.deepEqual(serverEndHolders(b.port, idle.socket), ['python3'], 'held by the worker while its thread is free');
  // The one thread takes this and stays in the app; `idle` waits in its selector meanwhile.
  const stuck = one(b.port, GET('/sleep?s=30', 'Connection: close\r\n'));
  await pause(600); // past the keeper's grace (idle_ms, 100 ms), before harakiri's 1 s
  assert.deepEqual(serverEndHolders(b.port, idle.socket), ['node'], 'handed to the master while the only thread is in the app');
  assert.match((await stuck).text, /^HTTP\/1\.1 504 /);
  await eventually(b.logs, /worker 1 \(pid \d+\) exited \(killed by SIGKILL\)/);
  await idle.write(GET('/second', 'Connection: close\r\n'));
  const bodies = await idle.until(2);
  idle.end();
  assert.equal(bodies.length, 2, `the connection survived the worker: ${idle.text.slice(-200)}`);
  assert.match(bodies[1]!, /path=\/second/);
});

test('two threads: one loop serves the worker, and while its thread is in a blocking app the parked thread takes the next connection', async () => {
  const b = await berth(['--processes', '1', '--threads', '2', '--http-direct']);
  const blocked = new Client(b.port);
  await blocked.write(GET('/sleep', 'Connection: close\r\n').replace('/sleep', '/sleep?s=3'));
  // Connected and sent first, so it is first in the accept queue: the loop's thread takes it into the app.
  const next = new Client(b.port);
  await next.write(GET('/next', 'Connection: close\r\n'));
  const [answer] = await next.until(1);
  assert.match(answer!, /^via=direct .*path=\/next/);
  assert.equal(blocked.bodies.length, 0, 'answered while the first request was still in the app');
  assert.match((await blocked.until(1))[0]!, /^via=direct .*path=\/sleep/);
  next.end();
  blocked.end();
});
