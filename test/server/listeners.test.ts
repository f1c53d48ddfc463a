/** Listener options: dual-stack addresses, and which timeout applies to which listener. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { APPS, debianPython, startBerth } from '../helpers/berth.js';

test('REMOTE_ADDR is 127.0.0.1, not ::ffff:127.0.0.1, on a dual-stack listener', async (t) => {
  const berth = await startBerth(['--http', ':0', '--chdir', APPS, '--module', 'echo', '--processes', '1', '--python', debianPython()]);
  t.after(() => berth.stop());
  const env = (await (await fetch(berth.url('/environ'))).json()) as Record<string, string>;
  assert.equal(env.REMOTE_ADDR, '127.0.0.1');
});

test('clients of an http-socket listener get socket-timeout; of an http listener, http-timeout', async (t) => {
  const berth = await startBerth([
    '--http-socket', '127.0.0.1:0', '--chdir', APPS, '--module', 'echo', '--processes', '1', '--python', debianPython(),
    '--socket-timeout', '1', '--http-timeout', '60',
  ]);
  t.after(() => berth.stop());
  const { exchangeRaw, statuses } = await import('../helpers/raw-http.js');
  const { text } = await exchangeRaw(berth.port, 'GET /environ HTTP/1.1\r\nHost: x\r\n', 4000);
  assert.deepEqual(statuses(text), [408]);
  // Idle keep-alive too: after a complete exchange, the silent connection is closed well
  // before http-timeout (60 s) would close it.
  const { openSocket } = await import('../helpers/raw-http.js');
  const s = await openSocket(berth.port);
  const closed = new Promise<string>((resolve) => {
    let got = '';
    s.setEncoding('latin1').on('data', (d: string) => (got += d));
    const timer = setTimeout(() => (s.destroy(), resolve(`still open; got ${got}`)), 4000);
    s.on('close', () => (clearTimeout(timer), resolve(got)));
  });
  s.write('GET /environ HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.deepEqual(statuses(await closed), [200]);
});

test('a handed uwsgi socket (uwsgi-direct) is bound, not listening, and explains a taken port', async (t) => {
  const { createServer, connect } = await import('node:net');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { bindHandedListener } = await import('../../src/server/listeners.js');
  const { parseAddress } = await import('../../src/config/address.js');
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.after(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const inUse = parseAddress(`127.0.0.1:${port}`, process.cwd());
  assert.ok(inUse.ok);
  await assert.rejects(bindHandedListener({ ...inUse.value, via: 'socket' }), /cannot listen on 127\.0\.0\.1:\d+: the address is already in use/);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-handed-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sockPath = path.join(dir, 'app.sock');
  const unix = parseAddress(sockPath, process.cwd());
  assert.ok(unix.ok);
  const handed = await bindHandedListener({ ...unix.value, via: 'socket' }, { chmod: 0o666, chown: null });
  assert.ok(handed.fd > 2);
  assert.equal(fs.statSync(sockPath).mode & 0o777, 0o666);
  // Bound but not listening: nobody accepts until a worker calls listen() on its copy.
  const refused = await new Promise<string>((resolve) => {
    const c = connect(sockPath);
    c.on('connect', () => (c.destroy(), resolve('connected')));
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  assert.equal(refused, 'ECONNREFUSED');
  handed.close();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(fs.existsSync(sockPath), false, 'closing removes the socket file');
});
