/**
 * A real Berth behind proxies: X-Forwarded-For from a trusted peer (127.0.0.1) sets REMOTE_ADDR,
 * from an untrusted one (127.0.0.2, the client socket bound there) it does not; with
 * proxy-protocol a trusted peer's PROXY v1/v2 header names the client, and a trusted peer that
 * sends none is closed.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { APPS, debianPython, startBerth, type RunningBerth } from '../helpers/berth.js';

const APP = ['--chdir', APPS, '--module', 'echo', '--python', debianPython(), '--processes', '1'];

function exchange(port: number, localAddress: string, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    const got: Buffer[] = [];
    s.on('data', (c: Buffer) => got.push(c));
    s.on('end', () => resolve(Buffer.concat(got).toString('latin1')));
    s.on('error', reject);
    s.write(bytes);
  });
}

function get(extra = ''): Buffer {
  return Buffer.from(`GET /environ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n${extra}\r\n`, 'latin1');
}

function environ(response: string): Record<string, string> {
  assert.match(response, /^HTTP\/1\.1 200/);
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Record<string, string>;
}

const started: RunningBerth[] = [];
after(async () => {
  for (const b of started) await b.stop();
});

test('by default no TCP peer is trusted: X-Forwarded-For from loopback stays a header (a same-host TCP relay cannot set REMOTE_ADDR)', async () => {
  const b = await startBerth(['--http', '127.0.0.1:0', ...APP]);
  started.push(b);
  const plain = environ(await exchange(b.port, '127.0.0.1', get('X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n')));
  assert.equal(plain['REMOTE_ADDR'], '127.0.0.1');
  assert.equal(plain['wsgi.url_scheme'], 'http');
  assert.equal(plain['HTTP_X_FORWARDED_FOR'], '203.0.113.7');
});

test('X-Forwarded-For counts only from peers in forwarded-allow-ips', async () => {
  const b = await startBerth(['--http', '127.0.0.1:0', '--forwarded-allow-ips', '127.0.0.1,::1', ...APP]);
  started.push(b);
  const trusted = environ(await exchange(b.port, '127.0.0.1', get('X-Forwarded-For: 6.6.6.6, 203.0.113.7\r\nX-Forwarded-Proto: https\r\n')));
  assert.equal(trusted['REMOTE_ADDR'], '203.0.113.7');
  assert.equal(trusted['wsgi.url_scheme'], 'https');
  const untrusted = environ(await exchange(b.port, '127.0.0.2', get('X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n')));
  assert.equal(untrusted['REMOTE_ADDR'], '127.0.0.2');
  assert.equal(untrusted['wsgi.url_scheme'], 'http');
  assert.equal(untrusted['HTTP_X_FORWARDED_FOR'], '203.0.113.7', 'the header still reaches the app as a header');
  await b.waitForLog(/203\.0\.113\.7/);
});

test('proxy-protocol: a trusted peer sends PROXY v1 or v2; without one it is closed; others are served plainly', async () => {
  const b = await startBerth(['--http', '127.0.0.1:0', '--proxy-protocol', '--forwarded-allow-ips', '127.0.0.1', ...APP]);
  started.push(b);
  const v1 = environ(await exchange(b.port, '127.0.0.1', Buffer.concat([Buffer.from('PROXY TCP4 198.51.100.4 127.0.0.1 40000 80\r\n'), get()])));
  assert.equal(v1['REMOTE_ADDR'], '198.51.100.4');
  assert.equal(v1['REMOTE_PORT'], '40000');
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x21, 0x00, 36]);
  const addrs = Buffer.alloc(36);
  addrs.writeUInt16BE(0x2001, 0);
  addrs.writeUInt16BE(0x0db8, 2);
  addrs[15] = 7;
  addrs.writeUInt16BE(5555, 32);
  const v2 = environ(await exchange(b.port, '127.0.0.1', Buffer.concat([sig, addrs, get('X-Forwarded-For: 1.2.3.4\r\n')])));
  assert.equal(v2['REMOTE_ADDR'], '2001:db8::7', 'the PROXY client, whose own X-Forwarded-For is not trusted');
  assert.equal(await exchange(b.port, '127.0.0.1', get()), '', 'closed without an answer');
  await b.waitForLog(/closed a connection from 127\.0\.0\.1: proxy-protocol expects a PROXY header/);
  const plain = environ(await exchange(b.port, '127.0.0.2', get()));
  assert.equal(plain['REMOTE_ADDR'], '127.0.0.2');
});
