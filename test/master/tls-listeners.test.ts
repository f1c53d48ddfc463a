/**
 * TLS in the master with real workers and real clients (Node's https, raw sockets): https GET,
 * POST and keep-alive with the environ a uWSGI user expects (wsgi.url_scheme https, HTTPS on,
 * SERVER_PORT), the access log's scheme, plain HTTP on the TLS port (400), stalled handshakes
 * closed, client certificates by uWSGI's CLIENT_CA rule, and the certificate renewed by a reload
 * (a bad new one keeps the old serving); https2's key=value form, and HTTPS_DN in OpenSSL's one-line form.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:https';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { APPS, startBerth, type RunningBerth } from '../helpers/berth.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';

const ECHO = ['--chdir', APPS, '--module', 'echo', '--processes', '1', '--threads', '2'];

let pki: TestPki;
let berth: RunningBerth;
const started: RunningBerth[] = [];

before(async () => {
  pki = makeTestPki();
  berth = await startBerth(['--https', `127.0.0.1:0,${pki.serverCert},${pki.serverKey}`, '--http-timeout', '2', '--log-format', 'scheme=%(scheme) %(method) %(uri) %(status)', ...ECHO]);
});
after(async () => {
  for (const b of [berth, ...started]) await b?.stop();
  pki?.remove();
});

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly socket: TLSSocket;
  readonly reused: boolean;
}

function fetchTls(port: number, path: string, opts: RequestOptions & { body?: string; ALPNProtocols?: string[] } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca: readPem(pki.caCert), servername: 'localhost', agent: false, ...opts }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket: res.socket as TLSSocket, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const pems = new Map<string, string>();
function readPem(file: string): string {
  let p = pems.get(file);
  if (p === undefined) {
    p = readFileSync(file, 'utf8');
    pems.set(file, p);
  }
  return p;
}

/** Every listener's port, in the order of the "listening on" line. */
function ports(b: RunningBerth): number[] {
  const line = /listening on ([^\n]*)/.exec(b.logs())?.[1] ?? '';
  return [...line.matchAll(/:\/\/[^\s,]+:(\d+)/g)].map((m) => Number(m[1]));
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', () => resolve());
  });
}

test('https GET and POST: wsgi.url_scheme https, HTTPS on, the listener\'s SERVER_PORT, ALPN http/1.1; the access log says https', async () => {
  const got = await fetchTls(berth.port, '/environ');
  assert.equal(got.status, 200, got.body);
  const env = JSON.parse(got.body) as Record<string, unknown>;
  assert.equal(env['wsgi.url_scheme'], 'https');
  assert.equal(env['HTTPS'], 'on');
  assert.equal(env['SERVER_PORT'], String(berth.port));
  assert.equal(env['HTTPS_DN'], undefined, 'no client certificate, no HTTPS_DN');
  assert.equal(got.socket.alpnProtocol, false, 'a client that offers no ALPN gets none');
  const alpn = await fetchTls(berth.port, '/environ', { ALPNProtocols: ['h2', 'http/1.1'] });
  assert.equal(alpn.socket.alpnProtocol, 'http/1.1');
  const post = await fetchTls(berth.port, '/body', { method: 'POST', body: 'x'.repeat(100_000), headers: { 'content-length': '100000' } });
  assert.equal(post.status, 200);
  assert.equal(post.body, 'x'.repeat(100_000));
  await berth.waitForLog(/scheme=https GET \/environ 200/);
  await berth.waitForLog(/scheme=https POST \/body 200/);
});

test('https keep-alive: the second request travels on the first one\'s TLS connection', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readPem(pki.caCert) });
  try {
    const first = await fetchTls(berth.port, '/environ', { agent });
    const second = await fetchTls(berth.port, '/environ', { agent });
    assert.deepEqual([first.status, second.status], [200, 200]);
    assert.equal(second.reused, true, 'the kept TLS connection was reused');
  } finally {
    agent.destroy();
  }
});

test('plain HTTP to the https port is answered 400 in clear text, as nginx does', async () => {
  const s = connect(berth.port, '127.0.0.1');
  let text = '';
  s.setEncoding('utf8').on('data', (c: string) => (text += c));
  s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await closed(s);
  assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(text, /The plain HTTP request was sent to HTTPS port/);
  await berth.waitForLog(/spoke plain HTTP to this TLS port \(answered 400; logged once\)/);
});

test('a TLS handshake that stalls, or a connection that never speaks, is closed (http-timeout)', async () => {
  const silent = connect(berth.port, '127.0.0.1');
  const stalled = connect(berth.port, '127.0.0.1');
  // A handshake record header promising 80 bytes, then nothing.
  stalled.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x50, 0x01]));
  await Promise.all([closed(silent), closed(stalled)]);
  await berth.waitForLog(/TLS handshake with 127\.0\.0\.1 failed/);
  // The listener still serves.
  assert.equal((await fetchTls(berth.port, '/environ')).status, 200);
});

test("client certificates by uWSGI's CLIENT_CA rule: '!CA' requires one, 'CA' verifies one if sent", async () => {
  const b = await startBerth([
    '--https', `127.0.0.1:0,${pki.serverCert},${pki.serverKey},,!${pki.caCert}`,
    '--https', `127.0.0.1:0,${pki.serverCert},${pki.serverKey},,${pki.caCert}`,
    '--https-export-cert', '--ssl-verbose', ...ECHO,
  ]);
  started.push(b);
  const [required, optional] = ports(b);
  assert.ok(required !== undefined && optional !== undefined, b.logs());
  const client = { cert: readPem(pki.clientCert), key: readPem(pki.clientKey) };
  const stranger = { cert: readPem(pki.strangerCert), key: readPem(pki.strangerKey) };

  const withCert = await fetchTls(required, '/environ', client);
  const env = JSON.parse(withCert.body) as Record<string, string>;
  assert.equal(env['HTTPS_DN'], '/O=Berth tests/CN=berth-client');
  assert.match(env['HTTPS_CC'] ?? '', /^-----BEGIN CERTIFICATE-----/);
  await assert.rejects(fetchTls(required, '/environ'), 'no certificate: refused on the required port');
  await assert.rejects(fetchTls(required, '/environ', stranger), 'a certificate of another CA: refused');

  const without = await fetchTls(optional, '/environ');
  assert.equal(without.status, 200);
  assert.equal((JSON.parse(without.body) as Record<string, string>)['HTTPS_DN'], undefined);
  assert.equal((await fetchTls(optional, '/environ', client)).status, 200);
  await assert.rejects(fetchTls(optional, '/environ', stranger), 'a certificate sent must verify even when none is required');
  await b.waitForLog(/TLS handshake with 127\.0\.0\.1 failed/);
});

test('a reload re-reads the certificate; a bad new one keeps the old serving, and the log says why', async () => {
  const cert = join(pki.dir, 'live.crt');
  copyFileSync(pki.serverCert, cert);
  const b = await startBerth(['--https', `127.0.0.1:0,${cert},${pki.serverKey}`, ...ECHO]);
  started.push(b);
  const cn = async (): Promise<unknown> => (await fetchTls(b.port, '/environ')).socket.getPeerCertificate().subject.CN;
  assert.equal(await cn(), 'localhost');
  pki.renewServer(cert, 'renewed.localhost');
  b.proc.kill('SIGHUP');
  await b.waitForLog(/reload done in \d+ ms: generation 2 serves/);
  assert.equal(await cn(), 'renewed.localhost', 'new handshakes use the renewed certificate');

  writeFileSync(cert, 'not a certificate\n');
  b.proc.kill('SIGHUP');
  await b.waitForLog(/reload refused: the configuration has problems; generation 2 keeps serving:\n.*https.*live\.crt.*not PEM/);
  assert.equal(await cn(), 'renewed.localhost', 'the certificate it had keeps serving');
});

test('a reload that changes the client-certificate rule warns that it needs a restart, and the bound rule stays', async () => {
  const ini = join(pki.dir, 'ca-rule.ini');
  const write = (ca: string): void => writeFileSync(ini, `[uwsgi]\nhttps = 127.0.0.1:0,${pki.serverCert},${pki.serverKey},,${ca}\n`);
  write(`!${pki.caCert}`);
  const b = await startBerth(['--ini', ini, ...ECHO]);
  started.push(b);
  await assert.rejects(fetchTls(b.port, '/environ'), 'no certificate: refused');
  write('');
  b.proc.kill('SIGHUP');
  await b.waitForLog(/http changed; these take effect only after a restart/);
  await b.waitForLog(/reload done in \d+ ms: generation 2 serves/);
  await assert.rejects(fetchTls(b.port, '/environ'), 'still refused without a certificate: the rule it was bound with');
  const client = { cert: readPem(pki.clientCert), key: readPem(pki.clientKey) };
  assert.equal((await fetchTls(b.port, '/environ', client)).status, 200, 'and still served with one');
});

test("https2 (key=value) serves as https; HTTPS_DN is OpenSSL's one-line subject, as uWSGI passes it", async () => {
  const b = await startBerth(['--https2', `addr=127.0.0.1:0,crt=${pki.serverCert},key=${pki.serverKey},clientca=${pki.caCert}`, ...ECHO]);
  started.push(b);
  const [port] = ports(b);
  assert.ok(port !== undefined, b.logs());
  const odd = pki.clientWithSubject('odd', '/C=IT/O=Example\\, Inc. a\\/b\\+c/CN=José+UID=j1');
  const answer = await fetchTls(port, '/environ', { cert: readPem(odd.cert), key: readPem(odd.key) });
  const env = JSON.parse(answer.body) as Record<string, string>;
  assert.equal(env['wsgi.url_scheme'], 'https');
  assert.equal(env['HTTPS_DN'], pki.oneLineSubject(odd.cert));
  assert.equal(env['HTTPS_DN'], '/C=IT/O=Example, Inc. a\\/b\\+c/CN=Jos\\xC3\\xA9+UID=j1');
});
