/**
 * The classic nginx + uWSGI mix-ups, with real nginx: `proxy_pass` to a uwsgi `socket` and
 * `uwsgi_pass` to an `http` port. Berth serves both (protocol detection) and says once which
 * directive fits; with detect-protocol = false it refuses and says why. Also: who may send
 * uwsgi vars (loopback always, others only through uwsgi-allow), and hostile raw packets that
 * must close their connection without hurting anyone else.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';
import { berthPort, count, eventually, requireNginx, startNginx, type RunningNginx } from '../helpers/nginx.js';

const ECHO = ['--chdir', APPS, '--module', 'echo', '--processes', '1', '--threads', '2'];

const berths: RunningBerth[] = [];
const cleanups: (() => Promise<void>)[] = [];
/** Default Berth: a uwsgi socket and an HTTP port, detect-protocol on. */
let both: RunningBerth;

before(async () => {
  requireNginx();
  both = await berth(['--http', '127.0.0.1:0', '--socket', '127.0.0.1:0']);
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const b of berths) await b.stop();
});

async function berth(args: readonly string[]): Promise<RunningBerth> {
  const b = await startBerth([...args, ...ECHO, '--python', debianPython()]);
  berths.push(b);
  return b;
}

async function nginx(location: string): Promise<RunningNginx> {
  const n = await startNginx(`server { location / { ${location} } }`);
  cleanups.push(() => n.stop());
  return n;
}

async function get(n: RunningNginx, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(n.url(path));
  return { status: res.status, text: await res.text() };
}

const HTTP_ON_UWSGI = /speaks the uwsgi protocol but received plain HTTP[^\n]*uwsgi_pass/g;
const UWSGI_ON_HTTP = /speaks HTTP but received a uwsgi packet[^\n]*proxy_pass/g;

test('proxy_pass to a uwsgi socket is served, and the log says once to use uwsgi_pass', async () => {
  const n = await nginx(`proxy_pass http://127.0.0.1:${berthPort(both, 'uwsgi')};`);
  for (let i = 0; i < 4; i++) {
    const r = await get(n, '/environ/proxied');
    assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.text}\n${both.logs()}`);
    assert.equal((JSON.parse(r.text) as Record<string, string>).PATH_INFO, '/environ/proxied');
  }
  const log = await eventually(() => both.logs(), HTTP_ON_UWSGI);
  assert.equal(count(log, HTTP_ON_UWSGI), 1, `expected one warning:\n${log}`);
});

test('uwsgi_pass to an http port is served, and the log says once to use proxy_pass', async () => {
  const n = await nginx(`include uwsgi_params; uwsgi_pass 127.0.0.1:${berthPort(both, 'http')};`);
  for (let i = 0; i < 4; i++) {
    const r = await get(n, '/environ/passed?i=1');
    assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.text}\n${both.logs()}`);
    const env = JSON.parse(r.text) as Record<string, string>;
    assert.equal(env.PATH_INFO, '/environ/passed');
    assert.equal(env.QUERY_STRING, 'i=1');
  }
  const log = await eventually(() => both.logs(), UWSGI_ON_HTTP);
  assert.equal(count(log, UWSGI_ON_HTTP), 1, `expected one warning:\n${log}`);
});

test('--detect-protocol=false: each mismatch gets an error and the log says why', async () => {
  const strict = await berth(['--http', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--detect-protocol=false']);
  const viaProxy = await nginx(`proxy_pass http://127.0.0.1:${berthPort(strict, 'uwsgi')};`);
  const r1 = await get(viaProxy, '/pid');
  assert.ok(r1.status === 400 || r1.status === 502, `proxy_pass to the uwsgi socket answered ${r1.status}`);
  await eventually(() => strict.logs(), /speaks the uwsgi protocol but received plain HTTP[^\n]*uwsgi_pass[^\n]*detect-protocol = false: refused/);
  const viaUwsgi = await nginx(`include uwsgi_params; uwsgi_pass 127.0.0.1:${berthPort(strict, 'http')};`);
  const r2 = await get(viaUwsgi, '/pid');
  assert.ok(r2.status === 400 || r2.status === 502, `uwsgi_pass to the http port answered ${r2.status}`);
  await eventually(() => strict.logs(), /speaks HTTP but received a uwsgi packet[^\n]*proxy_pass[^\n]*detect-protocol = false: refused/);
  // The right directive still works on the same Berth.
  const right = await nginx(`include uwsgi_params; uwsgi_pass 127.0.0.1:${berthPort(strict, 'uwsgi')};`);
  assert.equal((await get(right, '/pid')).status, 200);
});

test('--uwsgi-allow 10.0.0.0/8 still serves loopback nginx', async () => {
  const b = await berth(['--socket', '127.0.0.1:0', '--uwsgi-allow', '10.0.0.0/8']);
  const n = await nginx(`include uwsgi_params; uwsgi_pass 127.0.0.1:${b.port};`);
  const r = await get(n, '/environ');
  assert.equal(r.status, 200);
  assert.equal((JSON.parse(r.text) as Record<string, string>).REMOTE_ADDR, '127.0.0.1');
});

/** This machine's own non-loopback IPv4 address, if it has one. */
function ownAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;
}

test('a uwsgi peer outside loopback and uwsgi-allow is refused; allowing it admits it', async (t) => {
  const own = ownAddress();
  assert.ok(own !== undefined, 'this test needs a non-loopback IPv4 address on this machine to connect from');
  // Berth still listens on loopback only; `uwsgi_bind` makes nginx connect *from* the
  // machine's own address, so Berth sees a non-loopback peer without any port being exposed.
  const refusing = await berth(['--socket', '127.0.0.1:0', '--uwsgi-allow', '10.0.0.0/8']);
  const n1 = await nginx(`include uwsgi_params; uwsgi_bind ${own}; uwsgi_pass 127.0.0.1:${refusing.port};`);
  assert.equal((await get(n1, '/pid')).status, 502);
  const log = await eventually(() => refusing.logs(), new RegExp(`refused a uwsgi-protocol connection from ${own.replace(/\./g, '\\.')}[^\n]*uwsgi-allow`));
  assert.doesNotMatch(log, /\] POST|\] GET/, 'the app was not called');
  const allowing = await berth(['--socket', '127.0.0.1:0', '--uwsgi-allow', '10.0.0.0/8', '--uwsgi-allow', `${own}/32`]);
  const n2 = await nginx(`include uwsgi_params; uwsgi_bind ${own}; uwsgi_pass 127.0.0.1:${allowing.port};`);
  assert.equal((await get(n2, '/pid')).status, 200);
});

test('on an http port a uwsgi packet from a peer outside loopback is refused; the log names the port, the peer, socket = and uwsgi-allow', async () => {
  const own = ownAddress();
  assert.ok(own !== undefined, 'this test needs a non-loopback IPv4 address on this machine to connect from');
  const b = await berth(['--http', '127.0.0.1:0']);
  const n = await nginx(`include uwsgi_params; uwsgi_bind ${own}; uwsgi_pass 127.0.0.1:${b.port};`);
  assert.equal((await get(n, '/pid')).status, 502);
  const ownRe = own.replace(/\./g, '\\.');
  const log = await eventually(() => b.logs(), new RegExp(`refused a uwsgi packet \\(nginx uwsgi_pass\\) from ${ownRe} on http 127\\.0\\.0\\.1:${b.port}[^\n]*socket = [^\n]*uwsgi-allow = ${ownRe}/32`));
  assert.doesNotMatch(log, /served anyway|\] GET/, 'neither served nor announced as served');
});

/** A uwsgi packet by hand (uWSGI docs, "The uwsgi protocol"), independent of Berth's encoder. */
function packet(vars: Record<string, string>, modifier1 = 0): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(vars)) {
    for (const s of [k, v]) {
      const b = Buffer.from(s, 'latin1');
      const len = Buffer.alloc(2);
      len.writeUInt16LE(b.length);
      parts.push(len, b);
    }
  }
  const block = Buffer.concat(parts);
  const head = Buffer.from([modifier1, block.length & 0xff, block.length >> 8, 0]);
  return Buffer.concat([head, block]);
}

const VARS = { REQUEST_METHOD: 'GET', PATH_INFO: '/pid', QUERY_STRING: '', SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1', HTTP_HOST: 'raw' };

/**
 * Sends bytes (then half-closes if `end`); returns what came back and whether Berth closed its
 * side (FIN or reset) within 2 s. Our side stays open meanwhile (allowHalfOpen), so a server
 * that merely waits for us is not mistaken for one that closed.
 */
function raw(port: number, bytes: Buffer, end: boolean): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let text = '';
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => finish(false), 2_000);
    s.setEncoding('latin1');
    s.on('data', (t: string) => (text += t));
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? finish(true) : reject(err)));
    s.write(bytes, () => (end ? s.end() : undefined));
  });
}

test('raw packets: modifier1 5 and a truncated packet are closed and logged; Berth keeps serving', async () => {
  const port = berthPort(both, 'uwsgi');
  // A well-formed packet first: the raw path itself works.
  const ok = await raw(port, packet(VARS), false);
  assert.match(ok.text, /^HTTP\/1\.[01] 200 /);
  assert.equal(ok.closed, true, 'the uwsgi protocol ends a response by closing');
  const bad = await raw(port, packet(VARS, 5), false);
  assert.equal(bad.closed, true);
  assert.equal(bad.text, '', 'nothing is answered to a non-WSGI modifier');
  await eventually(() => both.logs(), /modifier1 5\b[^\n]*closing the connection/);
  const whole = packet(VARS);
  const cut = await raw(port, whole.subarray(0, 30), true);
  assert.equal(cut.closed, true);
  await eventually(() => both.logs(), /bad uwsgi packet from 127\.0\.0\.1:\d+: [^\n]*truncated/);
  const n = await nginx(`include uwsgi_params; uwsgi_pass 127.0.0.1:${port};`);
  assert.equal((await get(n, '/pid')).status, 200);
});

test('a packet shorter than the protocol sniffer needs, then EOF, is closed at once', async () => {
  // 5 bytes then FIN: nothing more can come, so waiting for http-timeout only holds a socket.
  const tiny = await raw(berthPort(both, 'uwsgi'), packet(VARS).subarray(0, 5), true);
  assert.equal(tiny.closed, true, 'a 5-byte packet then EOF is still open after 2 s');
});
