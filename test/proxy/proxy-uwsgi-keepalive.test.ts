// Keep-alive between a Berth front and Berth uwsgi backends (docs/proxy.md "Keep-alive to Berth
// uwsgi backends"): real processes — a front, two Berth backends on `socket`, Debian's uWSGI —
// with a counting TCP relay before each backend, so the connections the front opens are counted
// where the backend would accept them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { APPS, startBerth, type RunningBerth } from '../helpers/berth.js';
import { startBerthApp, startUwsgiSocket, type RunningPeer } from '../helpers/backends.js';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

function call(port: number, path: string, opts: { method?: string; body?: Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A TCP relay on loopback to `target` (changeable): counts the connections made through it. */
interface Relay { readonly port: number; accepted: number; target: number; close(): Promise<void> }
async function relay(target: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const r = { port: 0, accepted: 0, target, close: async () => undefined } as Relay;
  const server: Server = createServer((inbound) => {
    r.accepted++;
    const outbound = connect(r.target, '127.0.0.1');
    for (const [s, other] of [[inbound, outbound], [outbound, inbound]] as const) {
      sockets.add(s);
      // An end is passed on by pipe() after the bytes before it; only a reset is passed on as one.
      s.on('error', () => other.destroy());
      s.on('close', () => sockets.delete(s));
      s.pipe(other);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (r as { port: number }).port = (server.address() as { port: number }).port;
  r.close = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return r;
}

function socketPort(b: RunningBerth): number {
  return Number(/uwsgi:\/\/[^\s,]+:(\d+)/.exec(b.logs())![1]);
}

/** Both ways a worker keeps connections: with 8 threads the waiter holds them, with 1 its accept loop does. */
const berthBackend = (threads = 8): Promise<RunningBerth> => threads === 8
  ? startBerthApp('keepalive_probe.py', ['--socket', '127.0.0.1:0', '--processes', '2', '--limit-post', '100m'])
  : startBerth(['--http', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--wsgi-file', `${APPS}/keepalive_probe.py`, '--processes', '2', '--threads', '1', '--python', '/usr/bin/python3', '--disable-logging']);

describe('keep-alive from a Berth front to Berth uwsgi backends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-uwsgi-ka-'));
  let a: RunningBerth;
  let b: RunningBerth;
  let uwsgi: RunningPeer;
  let relayA: Relay;
  let relayB: Relay;
  let relayU: Relay;
  let front: RunningBerth;
  const berthAccepts = (): number => relayA.accepted + relayB.accepted;

  before(async () => {
    [a, b, uwsgi] = await Promise.all([berthBackend(1), berthBackend(8), startUwsgiSocket('keepalive_probe.py')]);
    [relayA, relayB, relayU] = await Promise.all([relay(socketPort(a)), relay(socketPort(b)), relay(uwsgi.port)]);
    writeFileSync(join(dir, 'front.ini'), [
      '[upstream:berth]',
      `server = uwsgi://127.0.0.1:${relayA.port}`,
      `server = uwsgi://127.0.0.1:${relayB.port}`,
      '',
      '[upstream:legacy]',
      `server = uwsgi://127.0.0.1:${relayU.port}`,
      '',
      '[uwsgi]',
      'http = 127.0.0.1:0',
      'proxy-pass = /b=berth',
      'proxy-pass = /u=legacy',
      '',
    ].join('\n'));
    front = await startBerth(['--ini', join(dir, 'front.ini')], { waitReady: false });
  });

  after(async () => {
    await Promise.all([front?.stop(), a?.stop(), b?.stop(), uwsgi?.stop()]);
    await Promise.all([relayA?.close(), relayB?.close(), relayU?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves many requests over few connections, and the marker never reaches the client', async (t) => {
    const before = berthAccepts();
    for (let i = 0; i < 40; i++) {
      const r = await call(front.port, '/b/environ');
      assert.equal(r.status, 200, r.body.toString());
      assert.equal(r.headers['berth-keep-alive'], undefined);
      assert.equal((JSON.parse(r.body.toString()) as { offer: boolean }).offer, false, 'the offer var is not passed to a Berth backend\'s app');
    }
    const opened = berthAccepts() - before;
    t.diagnostic(`40 sequential requests opened ${opened} connection(s) to the two Berth backends`);
    // One per backend when each next request comes within the front's idle timeout; each request its own without keep-alive.
    assert.ok(opened <= 10, `40 requests opened ${opened} connections to Berth backends`);
  });

  it('carries bodies both ways: a posted body, a chunked and a streamed big response, on kept connections', async (t) => {
    const before = berthAccepts();
    // Below the 1 MiB a direct worker buffers itself (a bigger one goes to the master, which answers one-shot).
    const posted = Buffer.alloc(512 << 10, 'p');
    for (let i = 0; i < 4; i++) {
      const echo = await call(front.port, '/b/body', { method: 'POST', body: posted });
      assert.equal(echo.status, 200);
      assert.ok(echo.body.equals(posted), `POST body came back with ${echo.body.length} bytes`);
      const chunked = await call(front.port, '/b/stream?n=50');
      assert.equal(chunked.status, 200);
      assert.equal(chunked.body.length, 50_000);
      assert.equal(chunked.body.subarray(49_000).toString(), 'x'.repeat(1000));
      const big = await call(front.port, '/b/big?mb=16');
      assert.equal(big.status, 200);
      assert.equal(big.body.length, 16 << 20);
      assert.equal(createHash('sha256').update(big.body).digest('hex'), createHash('sha256').update(Buffer.alloc(16 << 20, 'k')).digest('hex'));
    }
    const opened = berthAccepts() - before;
    t.diagnostic(`12 requests with bodies opened ${opened} connection(s)`);
    assert.ok(opened <= 6, `12 requests with bodies opened ${opened} connections`);
  });

  it("an app's own Berth-Keep-Alive field neither reaches the client nor makes the front keep a real uWSGI connection", async () => {
    const beforeU = relayU.accepted;
    for (let i = 0; i < 6; i++) {
      const viaUwsgi = await call(front.port, '/u/forge');
      assert.equal(viaUwsgi.status, 200);
      assert.equal(viaUwsgi.body.toString(), 'forged');
      assert.equal(viaUwsgi.headers['berth-keep-alive'], undefined);
      const viaBerth = await call(front.port, '/b/forge');
      assert.equal(viaBerth.status, 200);
      assert.equal(viaBerth.body.toString(), 'forged');
      assert.equal(viaBerth.headers['berth-keep-alive'], undefined);
    }
    assert.equal(relayU.accepted - beforeU, 6, 'each request to real uWSGI has its own connection');
  });

  it('a real uWSGI backend behind the same front still works, one connection per request', async () => {
    const beforeU = relayU.accepted;
    for (let i = 0; i < 10; i++) {
      const r = await call(front.port, '/u/environ');
      assert.equal(r.status, 200, r.body.toString());
      assert.equal((JSON.parse(r.body.toString()) as { offer: boolean }).offer, true, 'uWSGI passes the offer on as one more environ key');
    }
    const big = await call(front.port, '/u/big?mb=4');
    assert.equal(big.body.length, 4 << 20);
    assert.equal(relayU.accepted - beforeU, 11);
    assert.equal(uwsgi.proc.exitCode, null);
  });

  it('a backend reloaded, then one restarted, while connections are idle: no idempotent request fails', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await call(front.port, '/b/environ')).status, 200);
    // A graceful reload (SIGHUP): the workers holding the kept connections go, the master takes them.
    a.proc.kill('SIGHUP');
    for (let i = 0; i < 30; i++) {
      const r = await call(front.port, '/b/environ');
      assert.equal(r.status, 200, `request ${i} after the reload: ${r.status} ${r.body.toString()}`);
    }
    // A restart: the old backend stops (its connections close), a new one takes its place behind the relay.
    for (let i = 0; i < 6; i++) assert.equal((await call(front.port, '/b/environ')).status, 200);
    await b.stop();
    b = await berthBackend(8);
    relayB.target = socketPort(b);
    for (let i = 0; i < 30; i++) {
      const r = await call(front.port, '/b/environ');
      assert.equal(r.status, 200, `request ${i} after the restart: ${r.status} ${r.body.toString()}`);
    }
  });
});
